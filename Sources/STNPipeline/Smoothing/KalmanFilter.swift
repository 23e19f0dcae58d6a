/// A Kalman filter per parameter with a constant-velocity model: state (position, velocity),
/// white acceleration of spectral density q, measurement variance r. Its backward pass is the
/// Rauch–Tung–Striebel smoother, so with lookahead it is the fixed-lag smoother.
struct KalmanFilter: ThetaFilter {
    let count: Int
    let dt: Double
    let r: Double
    let q00: Double, q01: Double, q11: Double

    /// Variance of the initial velocity, (units/s)². A fresh segment is assumed to be roughly at
    /// rest (σ_v = 0.5 units/s, a quarter frame per second).
    static let initialVelocityVariance = 0.25

    /// Per parameter, the filtered state and covariance and the prediction into the frame:
    /// [p, v, P00, P01, P11, p̂, v̂, P̂00, P̂01, P̂11].
    var recordWidth: Int { 10 }

    private(set) var started = false
    private var position: [Double]
    private var velocity: [Double]
    private var p00: [Double], p01: [Double], p11: [Double]  // covariance (symmetric)

    init(count: Int, settings: SmoothingSettings, frameRate: Double) {
        self.count = count
        dt = 1 / frameRate
        r = settings.measurementNoise
        let q = settings.processNoise, t = 1 / frameRate
        q00 = q * t * t * t / 3
        q01 = q * t * t / 2
        q11 = q * t
        position = [Double](repeating: 0, count: count)
        velocity = position
        p00 = position
        p01 = position
        p11 = position
    }

    func current(_ c: Int) -> Double { position[c] }
    mutating func reset() { started = false }

    mutating func step(
        _ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>,
        record: UnsafeMutablePointer<Double>?
    ) {
        if !started {
            started = true
            for c in 0..<count {
                position[c] = input[c]
                velocity[c] = 0
                p00[c] = r
                p01[c] = 0
                p11[c] = KalmanFilter.initialVelocityVariance
                output[c] = input[c]
                if let record {
                    let k = record + 10 * c
                    k[0] = input[c]; k[1] = 0; k[2] = p00[c]; k[3] = 0; k[4] = p11[c]
                    k[5] = input[c]; k[6] = 0; k[7] = p00[c]; k[8] = 0; k[9] = p11[c]
                }
            }
            return
        }
        for c in 0..<count {
            // Predict with F = [[1, dt], [0, 1]].
            let pos = position[c] + dt * velocity[c], vel = velocity[c]
            let a00 = p00[c] + 2 * dt * p01[c] + dt * dt * p11[c] + q00
            let a01 = p01[c] + dt * p11[c] + q01
            let a11 = p11[c] + q11
            // Update with H = [1, 0].
            let s = a00 + r
            // s = 0 only when both noises are 0 and the state is certain: take the sample.
            let k0 = s > 0 ? a00 / s : 1, k1 = s > 0 ? a01 / s : 0
            let e = input[c] - pos
            position[c] = pos + k0 * e
            velocity[c] = vel + k1 * e
            p00[c] = (1 - k0) * a00
            p01[c] = (1 - k0) * a01
            p11[c] = a11 - k1 * a01
            output[c] = position[c]
            if let record {
                let k = record + 10 * c
                k[0] = position[c]; k[1] = velocity[c]; k[2] = p00[c]; k[3] = p01[c]; k[4] = p11[c]
                k[5] = pos; k[6] = vel; k[7] = a00; k[8] = a01; k[9] = a11
            }
        }
    }

    /// The Rauch–Tung–Striebel smoother: the posterior mean of frame `index` given every sample
    /// up to `windowEnd`.
    mutating func backwardPass(
        _ records: (Int) -> UnsafePointer<Double>, index: Int, windowEnd: Int,
        _ output: UnsafeMutablePointer<Double>
    ) {
        for c in 0..<count {
            let last = records(windowEnd) + 10 * c
            var ps = last[0], vs = last[1]
            var k = windowEnd - 1
            while k >= index {
                let f = records(k) + 10 * c, n = records(k + 1) + 10 * c
                // C = P_k Fᵀ P̂_{k+1}⁻¹
                let b00 = f[2] + dt * f[3], b01 = f[3]
                let b10 = f[3] + dt * f[4], b11 = f[4]
                let a00 = n[7], a01 = n[8], a11 = n[9]
                let det = a00 * a11 - a01 * a01
                // A singular prediction (zero process noise, fully converged) carries
                // no information from the future: keep the filtered state.
                let inv = det > 0 && det.isFinite ? 1 / det : 0
                let i00 = a11 * inv, i01 = -a01 * inv, i11 = a00 * inv
                let c00 = b00 * i00 + b01 * i01, c01 = b00 * i01 + b01 * i11
                let c10 = b10 * i00 + b11 * i01, c11 = b10 * i01 + b11 * i11
                let dp = ps - n[5], dv = vs - n[6]
                ps = f[0] + c00 * dp + c01 * dv
                vs = f[1] + c10 * dp + c11 * dv
                k -= 1
            }
            output[c] = ps
        }
    }
}
