import FrameSampling
import XCTest
@testable import STNCore

/// The spatial transformer as a layer: gradients through sampler, grid generator, regressor
/// and localisation net, alone and composed.
///
/// The sampler's bilinear kernel has kinks wherever a sample crosses a pixel centre, which a
/// finite difference must not straddle. So θ is pinned near a transform that puts every
/// sample halfway between pixel centres (regressor bias = θ₀, small random final weights):
/// for a 6→4 glimpse, attention (2/3, ±1/6, ±1/6) samples at pixel coordinates 1.5…4.5 (or
/// 0.5…3.5); for 8→6, (3/4, 1/8, 1/8) samples at 1.5…6.5. Perturbations move samples by
/// < 0.3 px, so the checks see a smooth function. Tolerance: 2e-4 + 1e-2·|numeric|.
final class SpatialTransformerTests: XCTestCase {
    static let locLayers: [LayerSpec] = [
        .conv2d(outChannels: 2, kernelSize: 3), .maxPool2d(kernelSize: 2, stride: 2), .relu
    ]

    static func transformer(
        kind: TransformKind, input: [Int], glimpse: Int, theta0: [Float], padding: PaddingMode = .black,
        seed: UInt64
    ) -> SpatialTransformer {
        let config = SpatialTransformerConfig(
            transform: kind, localisation: locLayers, regressorHidden: [4],
            glimpseHeight: glimpse, glimpseWidth: glimpse, padding: padding)
        XCTAssertNoThrow(try config.infer(inputShape: input))
        var random = RandomSource(seed: seed)
        let st = SpatialTransformer(config: config, inputShape: input, random: &random)
        let last = st.regressor.layers.last as! Linear
        for i in 0..<last.weight.value.count { last.weight.value[i] = random.uniform(-0.02, 0.02) }
        last.bias.value.copy(from: Tensor(shape: [theta0.count], values: theta0))
        return st
    }

    static func attention(_ s: Float, _ tx: Float, _ ty: Float, kind: TransformKind) -> [Float] {
        kind == .attention ? [s, tx, ty] : [s, 0, tx, 0, s, ty]
    }

    func testRegressorStartsAtIdentity() {
        for kind in TransformKind.allCases {
            let config = SpatialTransformerConfig(
                transform: kind, localisation: Self.locLayers, regressorHidden: [8],
                glimpseHeight: 6, glimpseWidth: 6)
            var random = RandomSource(seed: 3)
            let st = SpatialTransformer(config: config, inputShape: [1, 6, 6], random: &random)
            let last = st.regressor.layers.last as! Linear
            XCTAssertEqual(last.weight.value.values, [Float](repeating: 0, count: last.weight.value.count), "\(kind)")
            XCTAssertEqual(last.bias.value.values, st.generator.identityParameters, "\(kind)")
            XCTAssertEqual(
                st.namedParameters(prefix: "").map(\.name),
                ["loc.0.weight", "loc.0.bias", "fc_loc.0.weight", "fc_loc.0.bias", "fc_loc.2.weight", "fc_loc.2.bias"])
            // Identity θ with an equal-sized glimpse reproduces the input (samples at pixel centres).
            let x = FiniteDifference.randomValues(count: 2 * 36, seed: 4)
            let y = x.withUnsafeBufferPointer {
                Array(UnsafeBufferPointer(start: st.forward($0.baseAddress!, batch: 2, training: false), count: 72))
            }
            for i in 0..<72 { XCTAssertEqual(y[i], x[i], accuracy: 1e-5, "\(kind) [\(i)]") }
        }
    }

    func testGradientsThroughTheWholeTransformer() {
        for kind in [TransformKind.attention, .affine] {
            for padding in PaddingMode.allCases {
                let st = Self.transformer(
                    kind: kind, input: [2, 6, 6], glimpse: 4,
                    theta0: Self.attention(2.0 / 3, 1.0 / 6, 1.0 / 6, kind: kind), padding: padding, seed: 7)
                FiniteDifference.check(
                    st, input: FiniteDifference.randomValues(count: 2 * 72, seed: 8), batch: 2, absolute: 2e-4)
            }
        }
    }

    func testGradientsThroughTransformersInSequence() {
        let first = Self.transformer(
            kind: .affine, input: [1, 8, 8], glimpse: 6, theta0: Self.attention(0.75, 0.125, 0.125, kind: .affine),
            seed: 9)
        let second = Self.transformer(
            kind: .attention, input: [1, 6, 6], glimpse: 4, theta0: [2.0 / 3, 1.0 / 6, 1.0 / 6], seed: 10)
        let chain = Sequential([first, second], inputShape: [1, 8, 8])
        XCTAssertEqual(chain.outputShape, [1, 4, 4])
        XCTAssertEqual(chain.namedParameters(prefix: "st").first?.name, "st.0.loc.0.weight")
        FiniteDifference.check(
            chain, input: FiniteDifference.randomValues(count: 2 * 64, seed: 11), batch: 2, absolute: 2e-4)
    }

    func testGradientsThroughTransformersInParallel() {
        let a = Self.transformer(
            kind: .attention, input: [1, 6, 6], glimpse: 4, theta0: [2.0 / 3, 1.0 / 6, 1.0 / 6], seed: 12)
        let b = Self.transformer(
            kind: .attention, input: [1, 6, 6], glimpse: 4, theta0: [2.0 / 3, -1.0 / 6, -1.0 / 6], seed: 13)
        let parallel = ParallelSpatialTransformers([a, b])
        XCTAssertEqual(parallel.outputShape, [2, 4, 4])
        XCTAssertEqual(
            parallel.namedParameters(prefix: "st").map(\.name).filter { $0.hasSuffix("fc_loc.2.bias") },
            ["st.0.fc_loc.2.bias", "st.1.fc_loc.2.bias"])
        FiniteDifference.check(
            parallel, input: FiniteDifference.randomValues(count: 2 * 36, seed: 14), batch: 2, absolute: 2e-4)
    }

    func testHalfPixelShiftThroughAnAttentionTransformer() {
        // tx = 1/W shifts the source by half a pixel: each output is the mean of two neighbours.
        let config = SpatialTransformerConfig(
            transform: .attention, localisation: [], regressorHidden: [],
            glimpseHeight: 1, glimpseWidth: 4, padding: .border)
        var random = RandomSource(seed: 0)
        let row = SpatialTransformer(config: config, inputShape: [1, 1, 4], random: &random)
        (row.regressor.layers.last as! Linear).bias.value.copy(from: Tensor(shape: [3], values: [1, 0.25, 0]))
        let x: [Float] = [0, 10, 20, 30]
        let y = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: row.forward($0.baseAddress!, batch: 1, training: false), count: 4))
        }
        XCTAssertEqual(y, [5, 15, 25, 30])
    }
}
