import XCTest
@testable import STNCore

/// Central finite differences for layers.
///
/// The scalar probed is L = Σ r ⊙ layer(x) for a fixed random r, accumulated in Double;
/// ∂L/∂x and ∂L/∂θ from `backward(r)` are compared with (L(v+ε) − L(v−ε)) / 2ε.
/// Float32 forward passes limit the agreement: with ε = 1e-2 and O(1) values the
/// rounding noise in the quotient is about 1e-4, and for the piecewise-linear layers
/// (conv, linear, ReLU, pool, dropout) the quotient is exact away from kinks, which the
/// inputs avoid. Tolerance: |analytic − numeric| ≤ 2e-3 + 1e-2·|numeric| (tighter
/// absolute tolerances where the caller passes one).
///
/// Kinks: ReLU, max-pool and the bilinear kernel are only piecewise smooth. Each coordinate
/// is probed with ε and ε/2; if the two quotients disagree, a kink lies within ±ε and the
/// coordinate is skipped (a wrong gradient gives two quotients that agree with each other
/// and not with it). At most `maximumSkippedFraction` of the coordinates may be skipped.
enum FiniteDifference {
    static let maximumSkippedFraction = 0.2

    static let epsilon: Float = 1e-2

    static func agree(_ analytic: Float, _ numeric: Float, absolute: Float = 2e-3) -> Bool {
        abs(analytic - numeric) <= absolute + 1e-2 * abs(numeric)
    }

    static func weightedSum(_ y: UnsafePointer<Float>, _ r: [Float]) -> Double {
        var s = 0.0
        for i in 0..<r.count { s += Double(y[i]) * Double(r[i]) }
        return s
    }

    /// Checks input and parameter gradients of `layer` at `input` (batch × inputCount values).
    static func check(
        _ layer: any Layer, input: [Float], batch: Int, training: Bool = false, absolute: Float = 2e-3,
        resetRandomState: (() -> Void)? = nil, file: StaticString = #filePath, line: UInt = #line
    ) {
        var random = RandomSource(seed: 99)
        let outCount = batch * layer.outputCount
        let r = (0..<outCount).map { _ in random.uniform(-1, 1) }
        var x = input
        let params = layer.namedParameters(prefix: "")
        for p in params { p.parameter.zeroGradient() }

        func loss() -> Double {
            resetRandomState?()
            return x.withUnsafeBufferPointer {
                weightedSum(layer.forward($0.baseAddress!, batch: batch, training: training), r)
            }
        }

        resetRandomState?()
        let analyticInput: [Float] = x.withUnsafeBufferPointer { xb in
            _ = layer.forward(xb.baseAddress!, batch: batch, training: training)
            return r.withUnsafeBufferPointer { rb in
                let dx = layer.backward(rb.baseAddress!, batch: batch, inputGradient: true)!
                return Array(UnsafeBufferPointer(start: dx, count: input.count))
            }
        }
        var probed = 0, skipped = 0
        /// The central quotient at ε and ε/2 for coordinate `i` of `values` (restored after).
        func quotients(_ set: (Float) -> Void, _ saved: Float) -> (Float, Float) {
            var result: [Float] = []
            for step in [epsilon, epsilon / 2] {
                set(saved + step); let plus = loss()
                set(saved - step); let minus = loss()
                result.append(Float((plus - minus) / Double(2 * step)))
            }
            set(saved)
            return (result[0], result[1])
        }
        func compare(_ analytic: Float, _ numeric: (Float, Float), _ label: String) {
            probed += 1
            guard agree(numeric.0, numeric.1, absolute: absolute) else { skipped += 1; return }
            XCTAssertTrue(
                agree(analytic, numeric.1, absolute: absolute), "\(label): analytic \(analytic) numeric \(numeric.1)",
                file: file, line: line)
        }
        for i in 0..<x.count {
            compare(analyticInput[i], quotients({ x[i] = $0 }, x[i]), "∂/∂x[\(i)]")
        }
        for (name, parameter) in params {
            let analytic = parameter.gradient.values
            let v = parameter.value
            for i in 0..<v.count {
                compare(analytic[i], quotients({ v[i] = $0 }, v[i]), "∂/∂\(name)[\(i)]")
            }
        }
        XCTAssertLessThanOrEqual(
            Double(skipped), maximumSkippedFraction * Double(probed),
            "\(skipped) of \(probed) coordinates straddle a kink", file: file, line: line)
    }

    /// Values away from 0 and pairwise separated by ≥ 0.05, so ReLU and max-pool kinks
    /// are never crossed by ±ε.
    static func separatedValues(count: Int, seed: UInt64) -> [Float] {
        var random = RandomSource(seed: seed)
        var values: [Float] = []
        for i in 0..<count {
            let magnitude = Float(i + 1) * 0.05
            values.append(i % 2 == 0 ? magnitude : -magnitude)
        }
        for i in stride(from: count - 1, to: 0, by: -1) { values.swapAt(i, random.int(below: i + 1)) }
        return values
    }

    static func randomValues(count: Int, seed: UInt64) -> [Float] {
        var random = RandomSource(seed: seed)
        return (0..<count).map { _ in random.uniform(-1, 1) }
    }
}
