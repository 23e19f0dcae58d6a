/// The 1€ filter (Casiez, Roussel, Vogel, "1€ Filter", CHI 2012) per parameter: a first-order
/// low-pass whose cutoff rises with the filtered speed, `minCutoff + beta·|dx̂|`.
struct OneEuroFilter: ThetaFilter {
    let count: Int
    let dt: Double
    let rate: Double
    let minCutoff: Double, beta: Double
    let derivativeAlpha: Double

    private(set) var started = false
    private var value: [Double]  // x̂
    private var speed: [Double]  // dx̂
    private var lastInput: [Double]  // the previous sample

    init(count: Int, settings: SmoothingSettings, frameRate: Double) {
        self.count = count
        rate = frameRate
        dt = 1 / frameRate
        minCutoff = settings.minCutoff
        beta = settings.beta
        derivativeAlpha = OneEuroFilter.smoothingFactor(cutoff: settings.derivativeCutoff, dt: 1 / frameRate)
        value = [Double](repeating: 0, count: count)
        speed = value
        lastInput = value
    }

    /// Smoothing factor of a first-order low-pass with cutoff `cutoff` Hz sampled every `dt` s:
    /// α = 1 / (1 + τ/dt), τ = 1/(2π·cutoff) (Casiez et al. 2012, eq. 2).
    @inline(__always)
    static func smoothingFactor(cutoff: Double, dt: Double) -> Double {
        let r = 2 * Double.pi * cutoff * dt
        return r / (r + 1)
    }

    func current(_ c: Int) -> Double { value[c] }
    mutating func reset() { started = false }

    mutating func step(
        _ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>,
        record: UnsafeMutablePointer<Double>?
    ) {
        if !started {
            started = true
            for c in 0..<count {
                value[c] = input[c]
                speed[c] = 0
                lastInput[c] = input[c]
                output[c] = input[c]
            }
        } else {
            for c in 0..<count {
                // Speed from consecutive samples, as in the authors' reference implementation
                // (OneEuroFilter.cc): on a ramp it is the true speed at any frame rate, so `beta`
                // means the same thing — and the lag is the same in seconds — at 24 or 60 fps.
                let dx = (input[c] - lastInput[c]) * rate
                lastInput[c] = input[c]
                let dxHat = speed[c] + derivativeAlpha * (dx - speed[c])
                let cutoff = minCutoff + beta * abs(dxHat)
                let a = OneEuroFilter.smoothingFactor(cutoff: cutoff, dt: dt)
                let xHat = value[c] + a * (input[c] - value[c])
                value[c] = xHat
                speed[c] = dxHat
                output[c] = xHat
            }
        }
        if let record { for c in 0..<count { record[c] = output[c] } }
    }
}
