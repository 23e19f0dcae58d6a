import XCTest
@testable import STNCore

/// Finite-difference checks for every layer (tolerances: see `FiniteDifference`).
final class LayerGradientTests: XCTestCase {
    func testConv2dGradients() {
        for (stride, padding, kernel) in [(1, 0, 3), (2, 1, 3), (1, 2, 2), (3, 1, 4)] {
            var random = RandomSource(seed: 1)
            let conv = Conv2d(
                inputShape: [2, 6, 7], outputChannels: 3, kernelSize: kernel, stride: stride,
                padding: padding, group: .classifier, random: &random)
            FiniteDifference.check(conv, input: FiniteDifference.randomValues(count: 2 * 2 * 6 * 7, seed: 2), batch: 2)
        }
    }

    func testLinearGradients() {
        var random = RandomSource(seed: 3)
        let linear = Linear(inputShape: [2, 2, 2], outputFeatures: 5, group: .classifier, random: &random)
        FiniteDifference.check(linear, input: FiniteDifference.randomValues(count: 3 * 8, seed: 4), batch: 3)
    }

    func testMaxPoolGradients() {
        for (kernel, stride) in [(2, 2), (3, 2), (2, 1)] {
            let pool = MaxPool2d(inputShape: [2, 5, 6], kernelSize: kernel, stride: stride)
            FiniteDifference.check(pool, input: FiniteDifference.separatedValues(count: 2 * 2 * 30, seed: 5), batch: 2)
        }
    }

    func testReLUGradients() {
        let relu = ReLU(inputShape: [3, 4])
        FiniteDifference.check(relu, input: FiniteDifference.separatedValues(count: 2 * 12, seed: 6), batch: 2)
    }

    func testFlattenGradients() {
        let flatten = Flatten(inputShape: [2, 3, 2])
        XCTAssertEqual(flatten.outputShape, [12])
        FiniteDifference.check(flatten, input: FiniteDifference.randomValues(count: 24, seed: 7), batch: 2)
    }

    func testDropoutGradients() {
        for channelwise in [false, true] {
            let dropout = Dropout(inputShape: [4, 3, 3], probability: 0.5, channelwise: channelwise, seed: 11)
            // The mask is redrawn every forward; reset the generator so every probe sees the same mask.
            let reset = { dropout.reseed(11) }
            FiniteDifference.check(
                dropout, input: FiniteDifference.randomValues(count: 2 * 36, seed: 8), batch: 2,
                training: true, resetRandomState: reset)
        }
    }

    func testDropoutMasksAndScales() {
        let dropout = Dropout(inputShape: [1000], probability: 0.25, seed: 1)
        let x = [Float](repeating: 1, count: 1000)
        let y = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: dropout.forward($0.baseAddress!, batch: 1, training: true), count: 1000))
        }
        let kept = y.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        let evalOut = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: dropout.forward($0.baseAddress!, batch: 1, training: false), count: 1000))
        }
        XCTAssertEqual(evalOut, x)
        // Channelwise: a whole 3×3 channel shares one draw.
        let d2 = Dropout(inputShape: [50, 3, 3], probability: 0.5, channelwise: true, seed: 2)
        let x2 = [Float](repeating: 1, count: 450)
        let y2 = x2.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: d2.forward($0.baseAddress!, batch: 1, training: true), count: 450))
        }
        for c in 0..<50 { XCTAssertEqual(Set(y2[(c * 9)..<(c * 9 + 9)]).count, 1) }
    }

    func testSoftmaxCrossEntropyGradients() {
        let classes = 4, batch = 3
        var logits = FiniteDifference.randomValues(count: batch * classes, seed: 9).map { $0 * 3 }
        let labels: [Int32] = [2, 0, 3]
        let loss = SoftmaxCrossEntropy(classes: classes)
        func value() -> Float {
            logits.withUnsafeBufferPointer { l in
                labels.withUnsafeBufferPointer {
                    loss.forward(logits: l.baseAddress!, labels: $0.baseAddress!, batch: batch)
                }
            }
        }
        _ = value()
        let analytic = labels.withUnsafeBufferPointer {
            Array(
                UnsafeBufferPointer(start: loss.backward(labels: $0.baseAddress!, batch: batch), count: batch * classes)
            )
        }
        let eps: Float = 1e-2
        for i in 0..<logits.count {
            let saved = logits[i]
            logits[i] = saved + eps; let plus = value()
            logits[i] = saved - eps; let minus = value()
            logits[i] = saved
            let numeric = (plus - minus) / (2 * eps)
            XCTAssertTrue(FiniteDifference.agree(analytic[i], numeric), "logit \(i): \(analytic[i]) vs \(numeric)")
        }
        // Hand check: uniform logits give log(classes).
        logits = [Float](repeating: 0.5, count: batch * classes)
        XCTAssertEqual(value(), logf(4), accuracy: 1e-6)
    }

    func testSpatialSoftArgmaxGradients() {
        let layer = SpatialSoftArgmax(inputShape: [3, 4, 5])
        FiniteDifference.check(layer, input: FiniteDifference.randomValues(count: 2 * 60, seed: 8), batch: 2)
    }

    func testInstanceNormGradients() {
        let layer = InstanceNorm2d(inputShape: [2, 3, 4], eps: 0.01)
        FiniteDifference.check(layer, input: FiniteDifference.randomValues(count: 2 * 24, seed: 9), batch: 2)
    }

    /// A plane (1, 2, 3, 4): mean 2.5, biased variance 1.25, so y = (x − 2.5)/sqrt(1.25 + eps); a
    /// constant plane gives 0; the same plane at a tenth of the contrast on a grey offset gives the
    /// same y up to eps (what a dim item on a grey ground looks like to the classifier).
    func testInstanceNormValues() {
        let layer = InstanceNorm2d(inputShape: [3, 2, 2], eps: 0.01)
        let input: [Float] = [1, 2, 3, 4, 7, 7, 7, 7, 5.1, 5.2, 5.3, 5.4]
        let y = Array(UnsafeBufferPointer(start: layer.forward(input, batch: 1, training: false), count: 12))
        let scale = 1 / Float(1.26).squareRoot()
        for i in 0..<4 { XCTAssertEqual(y[i], (Float(i + 1) - 2.5) * scale, accuracy: 1e-6) }
        for i in 4..<8 { XCTAssertEqual(y[i], 0, accuracy: 1e-6) }
        let dim = 1 / Float(0.0125 + 0.01).squareRoot()
        for i in 0..<4 { XCTAssertEqual(y[8 + i], (Float(i + 1) - 2.5) * 0.1 * dim, accuracy: 1e-5) }
        XCTAssertEqual(LayerSpec.instanceNorm2d(eps: 0.01).jsonObject["eps"] as? Double, 0.01)
        XCTAssertEqual(try LayerSpec(jsonObject: ["type": "instance_norm2d", "eps": 0.01]), .instanceNorm2d(eps: 0.01))
        XCTAssertThrowsError(try LayerSpec(jsonObject: ["type": "instance_norm2d", "eps": 0]))
    }

    /// Hand-checkable values: a uniform plane sits at the centre; logits (0, ln 3, 0, 0) on a
    /// 2×2 plane give p = (1, 3, 1, 1)/6 over pixel centres x, y ∈ {−½, ½}: x̄ = 1/6, ȳ = −1/6;
    /// a dominant logit lands on its pixel's centre, (2i + 1)/N − 1.
    func testSpatialSoftArgmaxValues() {
        let square = SpatialSoftArgmax(inputShape: [2, 2, 2])
        XCTAssertEqual(square.outputShape, [4])
        let input: [Float] = [0, logf(3), 0, 0, 7, 7, 7, 7]
        let y = Array(UnsafeBufferPointer(start: square.forward(input, batch: 1, training: false), count: 4))
        XCTAssertEqual(y[0], 1 / 6, accuracy: 1e-7); XCTAssertEqual(y[1], -1 / 6, accuracy: 1e-7)
        XCTAssertEqual(y[2], 0, accuracy: 1e-7); XCTAssertEqual(y[3], 0, accuracy: 1e-7)

        let wide = SpatialSoftArgmax(inputShape: [1, 4, 8])
        var peaked = [Float](repeating: -40, count: 32)
        peaked[2 * 8 + 5] = 40  // row 2, column 5
        let z = wide.forward(peaked, batch: 1, training: false)
        XCTAssertEqual(z[0], Float(2 * 5 + 1) / 8 - 1, accuracy: 1e-6)
        XCTAssertEqual(z[1], Float(2 * 2 + 1) / 4 - 1, accuracy: 1e-6)
    }

    /// The layer's vectorised exponential against libm's over every input it can see (x − peak ≤ 0).
    func testSpatialSoftArgmaxExponentialAgreesWithLibm() {
        var worst: Float = 0
        var v: Float = -87
        while v <= 0 {
            let lanes = SIMD8<Float>((0..<8).map { v + Float($0) * 1.3e-4 })
            let e = SpatialSoftArgmax.exp(lanes)
            for i in 0..<8 { worst = max(worst, abs(e[i] - expf(lanes[i])) / expf(lanes[i])) }
            v += 1.0e-3
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(SpatialSoftArgmax.exp(SIMD8(repeating: 0))[0], 1)
        XCTAssertEqual(SpatialSoftArgmax.exp(SIMD8(repeating: -1000))[0], expf(-87), accuracy: expf(-87) * 1e-6)
    }

    func testSequentialChainsAndNamesLikeStateDict() {
        var random = RandomSource(seed: 12)
        let conv = Conv2d(
            inputShape: [1, 8, 8], outputChannels: 2, kernelSize: 3, group: .localisation, random: &random)
        let pool = MaxPool2d(inputShape: conv.outputShape, kernelSize: 2)
        let relu = ReLU(inputShape: pool.outputShape)
        let flat = Flatten(inputShape: relu.outputShape)
        let fc = Linear(inputShape: flat.outputShape, outputFeatures: 3, group: .localisation, random: &random)
        let net = Sequential([conv, pool, relu, flat, fc], inputShape: [1, 8, 8])
        XCTAssertEqual(
            net.namedParameters(prefix: "loc").map(\.name), ["loc.0.weight", "loc.0.bias", "loc.4.weight", "loc.4.bias"]
        )
        XCTAssertEqual(net.outputShape, [3])
        FiniteDifference.check(net, input: FiniteDifference.separatedValues(count: 2 * 64, seed: 13), batch: 2)
    }
}
