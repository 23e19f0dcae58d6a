/// Exponential moving average per parameter: `y = α·x + (1 − α)·y_prev` per frame.
struct ExponentialMovingAverage: ThetaFilter {
    let count: Int
    let alpha: Double
    private(set) var started = false
    private var value: [Double]

    init(count: Int, alpha: Double) {
        self.count = count
        self.alpha = alpha
        value = [Double](repeating: 0, count: count)
    }

    func current(_ c: Int) -> Double { value[c] }
    mutating func reset() { started = false }

    mutating func step(
        _ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>,
        record: UnsafeMutablePointer<Double>?
    ) {
        for c in 0..<count {
            value[c] = started ? value[c] + alpha * (input[c] - value[c]) : input[c]
            output[c] = value[c]
            record?[c] = value[c]
        }
        started = true
    }
}
