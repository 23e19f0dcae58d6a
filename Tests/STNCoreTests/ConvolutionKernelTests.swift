import Foundation
import XCTest

@testable import STNCore

/// The inference kernels (`ConvolutionKernel`) against im2col + GEMM, the training path's
/// forward: every convolution shape of the bundled model (and odd batch sizes), random
/// weights and inputs, max |Δ| ≤ 1e-5; and θ of the bundled model's predictor with every
/// layer on its chosen kernel against every layer on GEMM, within 1e-6.
final class ConvolutionKernelTests: XCTestCase {
    /// (input [C, H, W], output channels, kernel, padding) of the bundled 96×96 model's
    /// localisation net and glimpse classifier.
    static let bundledShapes: [([Int], Int, Int, Int)] = [
        ([1, 96, 96], 16, 5, 2), ([16, 48, 48], 32, 3, 1), ([32, 24, 24], 32, 3, 1),
        ([1, 32, 32], 16, 3, 1), ([16, 16, 16], 32, 3, 1), ([32, 8, 8], 32, 3, 1)
    ]

    static var bundledModelURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/model/attention-fashion.safetensors")
    }

    func testEveryKernelMatchesGEMMOnTheBundledShapes() {
        var random = RandomSource(seed: 7)
        for (shape, outputChannels, kernel, padding) in Self.bundledShapes {
            let conv = Conv2d(
                inputShape: shape, outputChannels: outputChannels, kernelSize: kernel, padding: padding,
                group: .localisation, random: &random)
            for i in 0..<conv.bias.value.count { conv.bias.value[i] = random.uniform(-1, 1) }
            for batch in [1, 3, 8] {
                let input = (0..<(batch * conv.inputCount)).map { _ in random.uniform(-2, 2) }
                let count = batch * conv.outputCount
                for candidate in ConvolutionKernel.allCases
                where candidate.supports(
                    inputHeight: shape[1], inputWidth: shape[2], kernelSize: kernel, stride: 1, padding: padding)
                {
                    conv.inferenceKernel = .gemm
                    let reference = input.withUnsafeBufferPointer {
                        Array(
                            UnsafeBufferPointer(
                                start: conv.forward($0.baseAddress!, batch: batch, training: false), count: count))
                    }
                    conv.inferenceKernel = candidate
                    let actual = input.withUnsafeBufferPointer {
                        Array(
                            UnsafeBufferPointer(
                                start: conv.forward($0.baseAddress!, batch: batch, training: false), count: count))
                    }
                    let worst = zip(reference, actual).map { abs($0 - $1) }.max()!
                    if batch == 8 {
                        print("\(candidate) on \(shape) → \(outputChannels), k\(kernel): max |Δ| \(worst)")
                    }
                    XCTAssertLessThanOrEqual(
                        worst, 1e-5, "\(candidate) on \(shape) → \(outputChannels), k\(kernel), batch \(batch)")
                }
            }
        }
    }

    /// The transformed weights follow the weights: a changed weight (a training step between
    /// evaluations) is seen by the next inference pass.
    func testWinogradSeesChangedWeights() {
        var random = RandomSource(seed: 3)
        let conv = Conv2d(
            inputShape: [4, 16, 16], outputChannels: 4, kernelSize: 3, padding: 1, group: .localisation,
            random: &random)
        conv.inferenceKernel = .winograd
        let input = (0..<conv.inputCount).map { _ in random.uniform(-1, 1) }
        let count = conv.outputCount
        func run(_ kernel: ConvolutionKernel) -> [Float] {
            conv.inferenceKernel = kernel
            return input.withUnsafeBufferPointer {
                Array(
                    UnsafeBufferPointer(start: conv.forward($0.baseAddress!, batch: 1, training: false), count: count))
            }
        }
        _ = run(.winograd)
        conv.weight.value[5] += 0.5
        let reference = run(.gemm), actual = run(.winograd)
        XCTAssertLessThanOrEqual(zip(reference, actual).map { abs($0 - $1) }.max()!, 1e-5)
    }

    func testBundledModelThetaMatchesTheGEMMPath() throws {
        let model = try STNModel.load(contentsOf: Self.bundledModelURL)
        let batch = 40, frame = model.inputHeight * model.inputWidth
        var pixels = [UInt8](repeating: 0, count: batch * frame)
        for n in 0..<batch {
            // Synthetic frames: a bright square at a different place each, on a textured ground.
            let (left, top) = ((8 + 15 * n) % 66, (60 + 55 * n) % 66)
            for y in 0..<model.inputHeight {
                for x in 0..<model.inputWidth {
                    let inside = (left..<(left + 30)).contains(x) && (top..<(top + 30)).contains(y)
                    let ground = UInt8(truncatingIfNeeded: ((x &* 73) ^ (y &* 151) ^ (n &* 37)) & 63)
                    pixels[n * frame + y * model.inputWidth + x] = inside ? 200 + ground / 4 : ground
                }
            }
        }
        let chosen = model.makePredictor(maxBatch: batch), reference = model.makePredictor(maxBatch: batch)
        for (_, layer) in reference.layers { (layer as? Conv2d)?.inferenceKernel = .gemm }
        XCTAssertTrue(chosen.layers.contains { ($0.layer as? Conv2d)?.inferenceKernel != .gemm })
        var expected = [Float](repeating: 0, count: batch * model.parameterCount), actual = expected
        reference.predict(luma: pixels, batch: batch, theta: &expected)
        chosen.predict(luma: pixels, batch: batch, theta: &actual)
        let worst = zip(expected, actual).map { abs($0 - $1) }.max()!
        print("bundled model θ, chosen kernels against GEMM: max |Δ| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-6, "\(expected) vs \(actual)")
        // Batch 1 gives the same θ as the batch.
        var single = [Float](repeating: 0, count: model.parameterCount)
        chosen.predict(luma: pixels, batch: 1, theta: &single)
        XCTAssertLessThanOrEqual(zip(expected.prefix(3), single).map { abs($0 - $1) }.max()!, 1e-6)
    }
}
