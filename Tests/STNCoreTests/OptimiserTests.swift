import Foundation
import XCTest
@testable import STNCore

/// Optimisers against hand-computed PyTorch updates, schedules, and the small layers.
final class OptimiserTests: XCTestCase {
    private func parameter(_ values: [Float], gradient: [Float], group: ParameterGroup = .classifier) -> Parameter {
        let p = Parameter(shape: [values.count], group: group)
        p.value.copy(from: Tensor(shape: [values.count], values: values))
        p.gradient.copy(from: Tensor(shape: [gradient.count], values: gradient))
        return p
    }

    func testSGDWithMomentumAndWeightDecayFollowsPyTorch() {
        // torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01), gradient 1 each step, p₀ = 1:
        // step 1: g = 1 + 0.01·1 = 1.01, v = 1.01, p = 1 − 0.101 = 0.899
        // step 2: g = 1 + 0.00899 = 1.00899, v = 0.9·1.01 + 1.00899 = 1.91799, p = 0.899 − 0.191799 = 0.707201
        let p = parameter([1], gradient: [1])
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        sgd.step([p])
        XCTAssertEqual(p.value[0], 0.899, accuracy: 1e-6)
        sgd.step([p])
        XCTAssertEqual(p.value[0], 0.707201, accuracy: 1e-6)
        // Plain SGD.
        let q = parameter([2, -1], gradient: [0.5, -4])
        SGD(learningRate: 0.1).step([q])
        XCTAssertEqual(q.value.values, [1.95, -0.6])
    }

    func testAdamFollowsPyTorch() {
        // torch.optim.Adam(lr=0.1): the first step moves every parameter by lr·sign(g)
        // (m̂ = g, v̂ = g²); with gradients 2 then −1 from p₀ = 0:
        // step 2: m = 0.9·0.2 + 0.1·(−1) = 0.08, v = 0.999·0.004 + 0.001·1 = 0.004996,
        //         m̂ = 0.08/0.19, v̂ = 0.004996/0.001999, p = −0.1 − 0.1·m̂/(√v̂ + 1e-8)
        let p = parameter([0], gradient: [2])
        let adam = Adam(learningRate: 0.1)
        adam.step([p])
        XCTAssertEqual(p.value[0], -0.1, accuracy: 1e-6)
        p.gradient[0] = -1
        adam.step([p])
        let mHat = 0.08 / 0.19, vHat = 0.004996 / 0.001999
        XCTAssertEqual(Double(p.value[0]), -0.1 - 0.1 * mHat / (vHat.squareRoot() + 1e-8), accuracy: 1e-5)
    }

    func testGroupScaleSlowsTheLocalisationNetwork() {
        let loc = parameter([1], gradient: [1], group: .localisation), head = parameter([1], gradient: [1])
        SGD(learningRate: 0.5, groupScale: [.localisation: 0.1]).step([loc, head])
        XCTAssertEqual(loc.value[0], 0.95, accuracy: 1e-7)
        XCTAssertEqual(head.value[0], 0.5, accuracy: 1e-7)
    }

    func testSchedules() {
        XCTAssertEqual(LearningRateSchedule.constant.learningRate(base: 0.1, step: 999), 0.1)
        let step = LearningRateSchedule.step(every: 10, gamma: 0.5)
        XCTAssertEqual(step.learningRate(base: 0.1, step: 9), 0.1)
        XCTAssertEqual(step.learningRate(base: 0.1, step: 10), 0.05)
        XCTAssertEqual(step.learningRate(base: 0.1, step: 25), 0.025, accuracy: 1e-9)
        let cosine = LearningRateSchedule.cosine(totalSteps: 100, minimum: 0.01)
        XCTAssertEqual(cosine.learningRate(base: 0.1, step: 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(base: 0.1, step: 50), 0.055, accuracy: 1e-6)
        XCTAssertEqual(cosine.learningRate(base: 0.1, step: 100), 0.01, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(base: 0.1, step: 500), 0.01, accuracy: 1e-7)
    }

    func testNormaliseGradients() {
        let layer = Normalise(inputShape: [2, 2, 3], mean: [0.5, -1], std: [0.25, 2])
        let x: [Float] = (0..<12).map { Float($0) / 10 }
        let y = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: layer.forward($0.baseAddress!, batch: 1, training: false), count: 12))
        }
        XCTAssertEqual(y[0], (0 - 0.5) / 0.25, accuracy: 1e-6)
        XCTAssertEqual(y[11], (1.1 + 1) / 2, accuracy: 1e-6)
        FiniteDifference.check(layer, input: FiniteDifference.randomValues(count: 24, seed: 3), batch: 2)
    }

    func testMeanSquaredErrorGradient() {
        let loss = MeanSquaredError()
        var y: [Float] = [1, 2, 3, 4]
        let t: [Float] = [0, 2, 5, 3]
        XCTAssertEqual(loss.forward(prediction: y, target: t, count: 4), (1 + 0 + 4 + 1) / 4)
        let g = Array(UnsafeBufferPointer(start: loss.backward(count: 4), count: 4))
        XCTAssertEqual(g, [0.5, 0, -1, 0.5])
        for i in 0..<4 {
            y[i] += 1e-2; let plus = loss.forward(prediction: y, target: t, count: 4)
            y[i] -= 2e-2; let minus = loss.forward(prediction: y, target: t, count: 4)
            y[i] += 1e-2
            XCTAssertEqual((plus - minus) / 2e-2, g[i], accuracy: 1e-3)
        }
    }

    func testSafetensorsRoundTripKeepsShapesValuesAndMetadata() throws {
        let a = Tensor(shape: [2, 3], values: [1, -2, 3.5, .infinity, 0, -0.0])
        let empty = Tensor(shape: [0, 4])
        let scalar = Tensor(shape: [], values: [42])
        let data = try Safetensors.encode(
            tensors: [("b.weight", a), ("a.empty", empty), ("c", scalar)], metadata: ["note": "ünïcode \"quoted\""])
        XCTAssertEqual(data.count % 4, 0)
        let file = try Safetensors.readHeader(bytes: data, path: "mem")
        XCTAssertEqual(file.metadata, ["note": "ünïcode \"quoted\""])
        let tensors = file.tensors()
        XCTAssertEqual(tensors["b.weight"]?.shape, [2, 3])
        XCTAssertEqual(tensors["b.weight"]?.values.map(\.bitPattern), a.values.map(\.bitPattern))
        XCTAssertEqual(tensors["a.empty"]?.shape, [0, 4])
        XCTAssertEqual(tensors["c"]?.shape, [])
        XCTAssertEqual(tensors["c"]?.values, [42])
    }
}
