/// A causal filter over θ: one scalar filter per parameter, all advanced together by one sample
/// per frame at a fixed time step (`ThetaSmoother` runs it, in the smoothing domain of
/// `ThetaDomain`). `reset()` forgets the past; the next `step` then outputs its input unchanged
/// (every filter starts from its first sample).
///
/// A filter also supplies the backward pass of `ThetaSmoother`'s lookahead: by default the same
/// filter run backward, fresh, over the forward outputs; a filter with a better-founded smoother
/// (Kalman's Rauch–Tung–Striebel) provides its own.
protocol ThetaFilter {
    /// Parameters per frame.
    var count: Int { get }
    /// Whether a sample has been taken since the last reset.
    var started: Bool { get }
    /// Numbers per parameter of a frame's record (what a backward pass needs of the forward pass).
    var recordWidth: Int { get }
    /// The current output for parameter `c` (valid once started).
    func current(_ c: Int) -> Double
    mutating func reset()
    /// Advances every parameter by one sample; writes the outputs to `output` (`count` elements)
    /// and, when given, the frame's record to `record` (`count × recordWidth`, parameter-major).
    mutating func step(
        _ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>,
        record: UnsafeMutablePointer<Double>?)
    /// The backward pass for frame `index` over the forward records `records[index…windowEnd]`,
    /// written to `output`. `self` is used as scratch state (it may be reset).
    mutating func backwardPass(
        _ records: (Int) -> UnsafePointer<Double>, index: Int, windowEnd: Int,
        _ output: UnsafeMutablePointer<Double>)
}

extension ThetaFilter {
    /// The record of filters whose record is their output (`recordWidth` 1).
    var recordWidth: Int { 1 }

    /// The same filter run backward, fresh, over the forward outputs from `windowEnd` down to
    /// `index` (a zero-phase forward–backward filter truncated to the window).
    mutating func backwardPass(
        _ records: (Int) -> UnsafePointer<Double>, index: Int, windowEnd: Int,
        _ output: UnsafeMutablePointer<Double>
    ) {
        reset()
        for j in stride(from: windowEnd, through: index, by: -1) { step(records(j), output, record: nil) }
    }
}

extension SmoothingMethod {
    /// A fresh filter of this method for `count` parameters sampled at `frameRate`.
    func makeFilter(count: Int, settings: SmoothingSettings, frameRate: Double) -> any ThetaFilter {
        switch self {
        case .oneEuro: return OneEuroFilter(count: count, settings: settings, frameRate: frameRate)
        case .ema: return ExponentialMovingAverage(count: count, alpha: settings.alpha)
        case .kalman: return KalmanFilter(count: count, settings: settings, frameRate: frameRate)
        case .none: return PassThroughFilter(count: count)
        }
    }
}

/// The identity filter (`--smoothing none`): the output is the input.
struct PassThroughFilter: ThetaFilter {
    let count: Int
    private(set) var started = false
    private var last: [Double]

    init(count: Int) {
        self.count = count
        last = [Double](repeating: 0, count: count)
    }

    func current(_ c: Int) -> Double { last[c] }
    mutating func reset() { started = false }

    mutating func step(
        _ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>,
        record: UnsafeMutablePointer<Double>?
    ) {
        started = true
        for c in 0..<count {
            last[c] = input[c]
            output[c] = input[c]
            record?[c] = input[c]
        }
    }
}
