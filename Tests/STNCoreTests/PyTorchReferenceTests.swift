import Foundation
import XCTest
@testable import STNCore

/// Layers against PyTorch (float64 computed, stored float32) from
/// Fixtures/layers_reference.safetensors, written by pipelines/reference/layers_reference.py
/// with the Python `safetensors` package. Tolerance 1e-4 relative + 1e-4 absolute: the
/// Swift side is float32 throughout.
final class PyTorchReferenceTests: XCTestCase {
    static func fixtureURL(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    private var metadata: [String: String] = [:]
    private var tensors: [String: Tensor] = [:]

    override func setUpWithError() throws {
        (metadata, tensors) = try Safetensors.load(contentsOf: Self.fixtureURL("layers_reference.safetensors"))
    }

    private func config(_ name: String) throws -> [String: Any] {
        let json = try XCTUnwrap(metadata[name], "metadata for \(name)")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    private func tensor(_ name: String) throws -> Tensor { try XCTUnwrap(tensors[name], name) }

    private func assertClose(
        _ actual: UnsafePointer<Float>, _ expected: Tensor, _ label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var worst: Float = 0
        for i in 0..<expected.count {
            let error = abs(actual[i] - expected[i]) / (1e-4 + 1e-4 * abs(expected[i]))
            worst = max(worst, error)
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(label): worst error \(worst)× tolerance", file: file, line: line)
    }

    func testFixtureWrittenByPythonLoads() {
        XCTAssertEqual(tensors.count, 68)
        XCTAssertEqual(tensors["conv_plain.weight"]?.shape, [4, 3, 3, 3])
    }

    func testConv2dMatchesPyTorch() throws {
        for name in ["conv_plain", "conv_stride2_pad1", "conv_k5_pad2", "conv_k7_tutorial"] {
            let c = try config(name)
            let x = try tensor("\(name).input"), w = try tensor("\(name).weight"), b = try tensor("\(name).bias")
            var random = RandomSource(seed: 0)
            let conv = Conv2d(
                inputShape: Array(x.shape.dropFirst()), outputChannels: w.shape[0], kernelSize: w.shape[2],
                stride: c["stride"] as! Int, padding: c["padding"] as! Int, group: .classifier, random: &random)
            conv.weight.value.copy(from: w); conv.bias.value.copy(from: b)
            let batch = x.shape[0]
            let y = conv.forward(x.data, batch: batch, training: true)
            XCTAssertEqual(conv.outputShape, Array(try tensor("\(name).output").shape.dropFirst()))
            assertClose(y, try tensor("\(name).output"), "\(name) forward")
            let dx = conv.backward(try tensor("\(name).grad_output").data, batch: batch, inputGradient: true)!
            assertClose(dx, try tensor("\(name).grad_input"), "\(name) grad_input")
            assertClose(conv.weight.gradient.data, try tensor("\(name).grad_weight"), "\(name) grad_weight")
            assertClose(conv.bias.gradient.data, try tensor("\(name).grad_bias"), "\(name) grad_bias")
        }
    }

    func testLinearMatchesPyTorch() throws {
        for name in ["linear_small", "linear_wide"] {
            let x = try tensor("\(name).input"), w = try tensor("\(name).weight"), b = try tensor("\(name).bias")
            var random = RandomSource(seed: 0)
            let linear = Linear(
                inputShape: [x.shape[1]], outputFeatures: w.shape[0], group: .classifier, random: &random)
            linear.weight.value.copy(from: w); linear.bias.value.copy(from: b)
            let y = linear.forward(x.data, batch: x.shape[0], training: true)
            assertClose(y, try tensor("\(name).output"), "\(name) forward")
            let dx = linear.backward(try tensor("\(name).grad_output").data, batch: x.shape[0], inputGradient: true)!
            assertClose(dx, try tensor("\(name).grad_input"), "\(name) grad_input")
            assertClose(linear.weight.gradient.data, try tensor("\(name).grad_weight"), "\(name) grad_weight")
            assertClose(linear.bias.gradient.data, try tensor("\(name).grad_bias"), "\(name) grad_bias")
        }
    }

    func testMaxPoolMatchesPyTorch() throws {
        for name in ["pool_2x2", "pool_odd_floor", "pool_3s2_overlap"] {
            let c = try config(name)
            let x = try tensor("\(name).input")
            let pool = MaxPool2d(
                inputShape: Array(x.shape.dropFirst()), kernelSize: c["kernel_size"] as! Int,
                stride: c["stride"] as? Int)
            let y = pool.forward(x.data, batch: x.shape[0], training: true)
            XCTAssertEqual(pool.outputShape, Array(try tensor("\(name).output").shape.dropFirst()))
            assertClose(y, try tensor("\(name).output"), "\(name) forward")
            let dx = pool.backward(try tensor("\(name).grad_output").data, batch: x.shape[0], inputGradient: true)!
            assertClose(dx, try tensor("\(name).grad_input"), "\(name) grad_input")
        }
    }

    func testSpatialSoftArgmaxMatchesPyTorch() throws {
        for name in ["soft_argmax_square", "soft_argmax_wide"] {
            XCTAssertEqual(try config(name)["kind"] as? String, "spatial_soft_argmax")
            let x = try tensor("\(name).input")
            let layer = SpatialSoftArgmax(inputShape: Array(x.shape.dropFirst()))
            let y = layer.forward(x.data, batch: x.shape[0], training: true)
            XCTAssertEqual(layer.outputShape, Array(try tensor("\(name).output").shape.dropFirst()))
            assertClose(y, try tensor("\(name).output"), "\(name) forward")
            let dx = layer.backward(try tensor("\(name).grad_output").data, batch: x.shape[0], inputGradient: true)!
            assertClose(dx, try tensor("\(name).grad_input"), "\(name) grad_input")
        }
    }
}

/// Small cases whose answers can be checked by hand.
final class HandCheckedLayerTests: XCTestCase {
    func testRampThroughTwoByTwoMaxPool() {
        // 0  1  2  3
        // 4  5  6  7      2×2 max-pool, stride 2  →   5  7
        // 8  9 10 11                                 13 15
        // 12 13 14 15
        let pool = MaxPool2d(inputShape: [1, 4, 4], kernelSize: 2, stride: 2)
        let ramp = (0..<16).map(Float.init)
        let y = ramp.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: pool.forward($0.baseAddress!, batch: 1, training: false), count: 4))
        }
        XCTAssertEqual(y, [5, 7, 13, 15])
        let dy: [Float] = [1, 2, 3, 4]
        let dx = dy.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: pool.backward($0.baseAddress!, batch: 1, inputGradient: true)!, count: 16))
        }
        XCTAssertEqual(dx, [0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4])
    }

    func testOneByOneConvolutionIsAChannelMix() {
        var random = RandomSource(seed: 0)
        let conv = Conv2d(inputShape: [2, 1, 2], outputChannels: 1, kernelSize: 1, group: .classifier, random: &random)
        conv.weight.value.copy(from: Tensor(shape: [1, 2, 1, 1], values: [2, -1]))
        conv.bias.value[0] = 0.5
        let x: [Float] = [1, 2, 10, 20]  // channel 0: 1 2, channel 1: 10 20
        let y = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: conv.forward($0.baseAddress!, batch: 1, training: false), count: 2))
        }
        XCTAssertEqual(y, [2 - 10 + 0.5, 4 - 20 + 0.5])
    }

    func testPaddedThreeByThreeBoxFilterCountsNeighbours() {
        var random = RandomSource(seed: 0)
        let conv = Conv2d(
            inputShape: [1, 3, 3], outputChannels: 1, kernelSize: 3, padding: 1, group: .classifier, random: &random)
        conv.weight.value.fill(1); conv.bias.value.fill(0)
        let ones = [Float](repeating: 1, count: 9)
        let y = ones.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: conv.forward($0.baseAddress!, batch: 1, training: false), count: 9))
        }
        XCTAssertEqual(y, [4, 6, 4, 6, 9, 6, 4, 6, 4])
    }

    func testLinearByHand() {
        var random = RandomSource(seed: 0)
        let linear = Linear(inputShape: [2], outputFeatures: 2, group: .classifier, random: &random)
        linear.weight.value.copy(from: Tensor(shape: [2, 2], values: [1, 2, 3, 4]))
        linear.bias.value.copy(from: Tensor(shape: [2], values: [10, 20]))
        let x: [Float] = [1, 1, 0, 1]
        let y = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: linear.forward($0.baseAddress!, batch: 2, training: false), count: 4))
        }
        XCTAssertEqual(y, [13, 27, 12, 24])
    }

    func testPyTorchDefaultInitialisationBounds() {
        var random = RandomSource(seed: 4)
        let conv = Conv2d(
            inputShape: [4, 10, 10], outputChannels: 8, kernelSize: 3, group: .classifier, random: &random)
        let bound = 1 / Float(36).squareRoot()
        XCTAssertTrue(conv.weight.value.values.allSatisfy { abs($0) <= bound })
        XCTAssertTrue(conv.bias.value.values.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(conv.weight.value.values.map(abs).max()!, 0.8 * bound)
        let he = Linear(
            inputShape: [200], outputFeatures: 100, group: .classifier, initialisation: .heNormal, random: &random)
        let w = he.weight.value.values
        let variance = w.map { $0 * $0 }.reduce(0, +) / Float(w.count)
        XCTAssertEqual(variance, 2 / 200, accuracy: 0.001)
        XCTAssertEqual(he.bias.value.values, [Float](repeating: 0, count: 100))
    }
}
