import Foundation
import STNCore

/// A bank of identical scalar filters, one per θ parameter, all advanced together by one sample
/// per frame at a fixed time step. `reset()` forgets the past; the next `step` then outputs its
/// input unchanged (every method starts from its first sample).
struct ChannelFilterBank {
    let method: SmoothingMethod
    let count: Int
    let dt: Double
    let rate: Double
    // one-euro
    let minCutoff: Double, beta: Double
    let derivativeAlpha: Double
    // ema
    let alpha: Double
    // kalman (constant velocity, white acceleration of spectral density q; measurement variance r)
    let r: Double
    let q00: Double, q01: Double, q11: Double

    /// Kalman: variance of the initial velocity, (units/s)². A fresh segment is assumed to be
    /// roughly at rest (σ_v = 0.5 units/s, a quarter frame per second).
    static let initialVelocityVariance = 0.25

    private(set) var started = false
    private var x: [Double]      // one-euro x̂ / ema y / kalman position
    private var d: [Double]      // one-euro dx̂ / kalman velocity
    private var lastInput: [Double]  // one-euro: the previous sample
    private var p00: [Double], p01: [Double], p11: [Double]   // kalman covariance (symmetric)

    init(method: SmoothingMethod, count: Int, settings: SmoothingSettings, frameRate: Double) {
        self.method = method
        self.count = count
        rate = frameRate
        dt = 1 / frameRate
        minCutoff = settings.minCutoff
        beta = settings.beta
        derivativeAlpha = ChannelFilterBank.smoothingFactor(cutoff: settings.derivativeCutoff, dt: 1 / frameRate)
        alpha = settings.alpha
        r = settings.measurementNoise
        let q = settings.processNoise, t = 1 / frameRate
        q00 = q * t * t * t / 3
        q01 = q * t * t / 2
        q11 = q * t
        x = [Double](repeating: 0, count: count)
        d = x
        lastInput = x
        p00 = x
        p01 = x
        p11 = x
    }

    /// One-euro smoothing factor of a first-order low-pass with cutoff `cutoff` Hz sampled every
    /// `dt` s: α = 1 / (1 + τ/dt), τ = 1/(2π·cutoff) (Casiez et al. 2012, eq. 2).
    @inline(__always)
    static func smoothingFactor(cutoff: Double, dt: Double) -> Double {
        let r = 2 * Double.pi * cutoff * dt
        return r / (r + 1)
    }

    mutating func reset() { started = false }

    /// The filter's current output for channel `c` (valid once started).
    func current(_ c: Int) -> Double { x[c] }

    /// Numbers per channel of a frame's record (what a backward pass needs of the forward pass):
    /// the output for the one-euro filter and EMA; for Kalman the filtered state and covariance
    /// and the prediction into the frame: [p, v, P00, P01, P11, p̂, v̂, P̂00, P̂01, P̂11].
    var recordWidth: Int { method == .kalman ? 10 : 1 }

    /// Advances every channel by one sample; writes the outputs to `output` (count elements) and,
    /// when given, the frame's record to `record` (`count × recordWidth`, channel-major).
    mutating func step(_ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>,
                       record: UnsafeMutablePointer<Double>? = nil) {
        if !started {
            started = true
            for c in 0..<count {
                x[c] = input[c]
                d[c] = 0
                lastInput[c] = input[c]
                p00[c] = r
                p01[c] = 0
                p11[c] = ChannelFilterBank.initialVelocityVariance
                output[c] = input[c]
                if let record {
                    if method == .kalman {
                        let k = record + 10 * c
                        k[0] = x[c]; k[1] = 0; k[2] = p00[c]; k[3] = 0; k[4] = p11[c]
                        k[5] = x[c]; k[6] = 0; k[7] = p00[c]; k[8] = 0; k[9] = p11[c]
                    } else {
                        record[c] = input[c]
                    }
                }
            }
            return
        }
        switch method {
        case .oneEuro:
            for c in 0..<count {
                // Speed from consecutive samples, as in the authors' reference implementation
                // (OneEuroFilter.cc): on a ramp it is the true speed at any frame rate, so `beta`
                // means the same thing — and the lag is the same in seconds — at 24 or 60 fps.
                let dx = (input[c] - lastInput[c]) * rate
                lastInput[c] = input[c]
                let dxHat = d[c] + derivativeAlpha * (dx - d[c])
                let cutoff = minCutoff + beta * abs(dxHat)
                let a = ChannelFilterBank.smoothingFactor(cutoff: cutoff, dt: dt)
                let xHat = x[c] + a * (input[c] - x[c])
                x[c] = xHat
                d[c] = dxHat
                output[c] = xHat
            }
        case .ema:
            for c in 0..<count {
                let y = x[c] + alpha * (input[c] - x[c])
                x[c] = y
                output[c] = y
            }
        case .kalman:
            for c in 0..<count {
                // Predict with F = [[1, dt], [0, 1]].
                let pos = x[c] + dt * d[c], vel = d[c]
                let a00 = p00[c] + 2 * dt * p01[c] + dt * dt * p11[c] + q00
                let a01 = p01[c] + dt * p11[c] + q01
                let a11 = p11[c] + q11
                // Update with H = [1, 0].
                let s = a00 + r
                // s = 0 only when both noises are 0 and the state is certain: take the sample.
                let k0 = s > 0 ? a00 / s : 1, k1 = s > 0 ? a01 / s : 0
                let e = input[c] - pos
                x[c] = pos + k0 * e
                d[c] = vel + k1 * e
                p00[c] = (1 - k0) * a00
                p01[c] = (1 - k0) * a01
                p11[c] = a11 - k1 * a01
                output[c] = x[c]
                if let record {
                    let k = record + 10 * c
                    k[0] = x[c]; k[1] = d[c]; k[2] = p00[c]; k[3] = p01[c]; k[4] = p11[c]
                    k[5] = pos; k[6] = vel; k[7] = a00; k[8] = a01; k[9] = a11
                }
            }
            return
        case .none:
            for c in 0..<count {
                x[c] = input[c]
                output[c] = input[c]
            }
        }
        if let record { for c in 0..<count { record[c] = output[c] } }
    }

    /// The backward pass for frame `index` over the forward records `records[index…windowEnd]`,
    /// written to `output`. Kalman: the Rauch–Tung–Striebel smoother (the posterior mean of
    /// frame `index` given every sample up to `windowEnd`). Other methods: the same filter run
    /// backward, fresh, over the forward outputs from `windowEnd` down to `index`.
    /// `self` is used as scratch state (it is reset).
    mutating func backwardPass(_ records: (Int) -> UnsafePointer<Double>, index: Int, windowEnd: Int,
                               _ output: UnsafeMutablePointer<Double>) {
        if method == .kalman {
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
            return
        }
        reset()
        for j in stride(from: windowEnd, through: index, by: -1) { step(records(j), output) }
    }
}

/// Maps θ to the space it is smoothed in and back: attention `s` ↦ log s (scale is
/// multiplicative), everything else linear. Non-finite raw values are replaced, before
/// filtering, by the filter's current estimate of that parameter (hold), or by the identity
/// transform's value on the first frame of a segment.
struct ThetaDomain {
    let kind: TransformKind
    let count: Int
    let logScale: Bool
    /// The identity θ in the smoothing domain (substitute for non-finite values).
    let identity: [Double]
    /// The smallest scale mapped to log space; s ≤ 0 is clamped to it.
    static let minimumScale = 1e-6

    init(kind: TransformKind, count: Int) {
        self.kind = kind
        self.count = count
        logScale = kind == .attention && count >= 1
        var id = [Double](repeating: 0, count: count)
        switch kind {
        case .attention:
            break  // log 1 = 0, tx = ty = 0
        case .affine, .projective:
            if count >= 6 { id[0] = 1; id[4] = 1 }
        case .tps:
            let n = Int((Double(count / 2)).squareRoot().rounded())
            if n >= 2, 2 * n * n == count {
                id = makeGridGenerator(kind: .tps, tpsControlGridSize: n).identityParameters.map(Double.init)
            }
        }
        identity = id
    }

    /// Writes the domain values of `raw` to `out`; `filter` supplies the hold value for non-finite input.
    func toDomain(_ raw: ThetaValues, filter: ChannelFilterBank, _ out: UnsafeMutablePointer<Double>) {
        for c in 0..<count {
            var v = raw[c]
            if logScale && c == 0 && v.isFinite { v = log(max(v, ThetaDomain.minimumScale)) }
            if !v.isFinite { v = filter.started ? filter.current(c) : identity[c] }
            out[c] = v
        }
    }

    /// θ of domain values `value`. Where a value equals the domain image of the raw value
    /// (the filter passed it through), the raw value is returned bit for bit.
    func fromDomain(_ value: UnsafePointer<Double>, raw: ThetaValues) -> ThetaValues {
        var theta = ThetaValues(count: count)
        for c in 0..<count {
            let v = value[c]
            if logScale && c == 0 {
                let r = raw[0]
                if r.isFinite && log(max(r, ThetaDomain.minimumScale)) == v && r >= ThetaDomain.minimumScale {
                    theta[0] = r
                } else {
                    theta[0] = exp(v)
                }
            } else {
                theta[c] = v
            }
        }
        return theta
    }
}
