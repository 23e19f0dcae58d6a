import XCTest

@testable import STNCore

/// Data-parallel training (STCNN+DataParallel.swift): the same seed gives bit-identical
/// weights whether a batch's two shards run on one thread or two, and a sharded step is the
/// unsharded step up to rounding.
final class DataParallelTests: XCTestCase {
    static let config = ModelConfig(
        input: InputSpec(height: 16, width: 16, channels: 1, mean: [0.1], std: [0.3]),
        transformer: SpatialTransformerConfig(
            transform: .attention,
            localisation: [.conv2d(outChannels: 4, kernelSize: 5), .maxPool2d(kernelSize: 2, stride: 2), .relu],
            regressorHidden: [16], glimpseHeight: 12, glimpseWidth: 12),
        classifier: [
            .conv2d(outChannels: 6, kernelSize: 3, padding: 1), .maxPool2d(kernelSize: 2, stride: 2), .relu,
            .flatten, .linear(outFeatures: 24), .relu, .dropout(probability: 0.2), .linear(outFeatures: 3)
        ])

    /// Weights after `steps` SGD-with-momentum steps on fixed random batches (an odd batch, so
    /// the shards differ in size).
    func train(threads: Int, steps: Int = 4, batch: Int = 13) throws -> [[Float]] {
        let net = try STCNN(config: Self.config, seed: 11)
        net.threads = threads
        let optimiser = SGD(learningRate: 0.05, momentum: 0.9, groupScale: [.localisation: 0.3])
        var random = RandomSource(seed: 4)
        for _ in 0..<steps {
            let images = (0..<(batch * 256)).map { _ in random.uniform() }
            let labels = (0..<batch).map { _ in Int32(random.int(below: 3)) }
            net.trainStep(images: images, labels: labels, batch: batch, optimiser: optimiser)
        }
        return net.parameters.map(\.value.values)
    }

    func testTwoThreadsGiveTheWeightsOfOne() throws {
        let one = try train(threads: 1), two = try train(threads: 2)
        XCTAssertEqual(one.count, two.count)
        for (index, (a, b)) in zip(one, two).enumerated() {
            XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "parameter \(index) differs")
        }
        // And the weights moved: the test would pass vacuously on a step that did nothing.
        let start = try STCNN(config: Self.config, seed: 11).parameters.map(\.value.values)
        XCTAssertNotEqual(start, one)
    }

    /// The gradient of a sharded step is the whole batch's (mean loss), up to float rounding.
    func testShardedGradientsMatchTheWholeBatch() throws {
        let batch = 9
        var random = RandomSource(seed: 5)
        let images = (0..<(batch * 256)).map { _ in random.uniform() }
        let labels = (0..<batch).map { _ in Int32(random.int(below: 3)) }
        let sharded = try STCNN(config: Self.config.withoutDropout, seed: 2)
        let whole = try STCNN(config: Self.config.withoutDropout, seed: 2)
        let zero = SGD(learningRate: 0)
        let shardedLoss = sharded.trainStep(images: images, labels: labels, batch: batch, optimiser: zero).loss
        whole.zeroGradients()
        let result = whole.accumulateGradients(images: images, labels: labels, batch: batch, meanOver: batch)
        XCTAssertEqual(shardedLoss, Float(result.lossSum / Double(batch)), accuracy: 1e-6)
        for (a, b) in zip(sharded.parameters, whole.parameters) {
            for i in 0..<a.gradient.count {
                XCTAssertEqual(a.gradient[i], b.gradient[i], accuracy: 1e-6 + 1e-4 * abs(b.gradient[i]))
            }
        }
    }
}

/// The same for the two-resolution ST-CNN (`stn-train video`), with its penalties and frozen label on.
final class TwoResolutionDataParallelTests: XCTestCase {
    func train(threads: Int, steps: Int = 3, batch: Int = 7) throws -> (weights: [[Float]], theta: [Float]) {
        let net = try TwoResolutionSTCNN(
            config: .videoAttention(localisationSide: 32, glimpse: 8, classes: 3, localisationNet: .keypoints), seed: 9)
        net.threads = threads
        net.scalePrior = 0.5
        net.thetaFrozenLabel = 2
        let optimiser = Adam(learningRate: 1e-2)
        var random = RandomSource(seed: 6)
        var theta: [Float] = []
        for _ in 0..<steps {
            let localisation = (0..<(batch * 32 * 32)).map { _ in random.uniform() }
            let level = (0..<(batch * 48 * 48)).map { _ in random.uniform() }
            let labels = (0..<batch).map { _ in Int32(random.int(below: 3)) }
            level.withUnsafeBufferPointer { levelPointer in
                let levels = [TwoResolutionSTCNN.SamplingLevel(images: levelPointer.baseAddress!, side: 48)]
                _ = net.trainStep(
                    localisationInput: localisation, levels: levels, labels: labels, batch: batch, optimiser: optimiser)
            }
            theta = Array(UnsafeBufferPointer(start: net.lastTheta!, count: batch * 3))
        }
        return (net.parameters.map(\.value.values), theta)
    }

    func testTwoThreadsGiveTheWeightsOfOne() throws {
        let one = try train(threads: 1), two = try train(threads: 2)
        for (index, (a, b)) in zip(one.weights, two.weights).enumerated() {
            XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "parameter \(index) differs")
        }
        XCTAssertEqual(one.theta.map(\.bitPattern), two.theta.map(\.bitPattern))
        XCTAssertEqual(one.theta.count, 21)
    }
}

extension ModelConfig {
    fileprivate var withoutDropout: ModelConfig {
        var config = self
        config.classifier = config.classifier?.filter {
            if case .dropout = $0 { return false }
            return true
        }
        return config
    }
}
