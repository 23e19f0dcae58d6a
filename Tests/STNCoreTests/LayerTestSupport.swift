import XCTest
@testable import STNCore

/// Central finite differences for layers.
///
/// The scalar probed is L = Σ r ⊙ layer(x) for a fixed random r, accumulated in Double;
/// ∂L/∂x and ∂L/∂θ from `backward(r)` are compared with (L(v+ε) − L(v−ε)) / 2ε.
/// Float32 forward passes limit the agreement: with ε = 1e-2 and O(1) values the
/// rounding noise in the quotient is about 1e-4, and for the piecewise-linear layers
/// (conv, linear, ReLU, pool, dropout) the quotient is exact away from kinks, which the
/// inputs avoid. Tolerance: |analytic − numeric| ≤ 2e-3 + 1e-2·|numeric|.
enum FiniteDifference {
    static let epsilon: Float = 1e-2

    static func agree(_ analytic: Float, _ numeric: Float) -> Bool {
        abs(analytic - numeric) <= 2e-3 + 1e-2 * abs(numeric)
    }

    static func weightedSum(_ y: UnsafePointer<Float>, _ r: [Float]) -> Double {
        var s = 0.0
        for i in 0..<r.count { s += Double(y[i]) * Double(r[i]) }
        return s
    }

    /// Checks input and parameter gradients of `layer` at `input` (batch × inputCount values).
    static func check(_ layer: any Layer, input: [Float], batch: Int, training: Bool = false,
                      resetRandomState: (() -> Void)? = nil, file: StaticString = #filePath, line: UInt = #line) {
        var random = RandomSource(seed: 99)
        let outCount = batch * layer.outputCount
        let r = (0..<outCount).map { _ in random.uniform(-1, 1) }
        var x = input
        let params = layer.namedParameters(prefix: "")
        for p in params { p.parameter.zeroGradient() }

        func loss() -> Double {
            resetRandomState?()
            return x.withUnsafeBufferPointer { weightedSum(layer.forward($0.baseAddress!, batch: batch, training: training), r) }
        }

        resetRandomState?()
        let analyticInput: [Float] = x.withUnsafeBufferPointer { xb in
            _ = layer.forward(xb.baseAddress!, batch: batch, training: training)
            return r.withUnsafeBufferPointer { rb in
                let dx = layer.backward(rb.baseAddress!, batch: batch, inputGradient: true)!
                return Array(UnsafeBufferPointer(start: dx, count: input.count))
            }
        }
        for i in 0..<x.count {
            let saved = x[i]
            x[i] = saved + epsilon; let plus = loss()
            x[i] = saved - epsilon; let minus = loss()
            x[i] = saved
            let numeric = Float((plus - minus) / Double(2 * epsilon))
            XCTAssertTrue(agree(analyticInput[i], numeric), "∂/∂x[\(i)]: analytic \(analyticInput[i]) numeric \(numeric)", file: file, line: line)
        }
        for (name, parameter) in params {
            let analytic = parameter.gradient.values
            let v = parameter.value
            for i in 0..<v.count {
                let saved = v[i]
                v[i] = saved + epsilon; let plus = loss()
                v[i] = saved - epsilon; let minus = loss()
                v[i] = saved
                let numeric = Float((plus - minus) / Double(2 * epsilon))
                XCTAssertTrue(agree(analytic[i], numeric), "∂/∂\(name)[\(i)]: analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
            }
        }
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
