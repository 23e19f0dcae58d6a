import Foundation
import XCTest

@testable import STNCore

/// The localisation input's local contrast normalisation (`LocalContrast`): values worked by
/// hand, a direct 2-D evaluation of its definition, what it is for, and its place in a model file.
final class LocalContrastTests: XCTestCase {
    private func normalise(
        _ x: [Float], height: Int, width: Int, _ contrast: LocalContrast, mean: Float = 0, std: Float = 1
    ) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        var scratch = [Float](repeating: .nan, count: LocalContrast.scratchCount(height: height, width: width))
        contrast.apply(x, height: height, width: width, into: &y, scratch: &scratch, mean: mean, std: std)
        return y
    }

    /// One lit pixel in a dark 3×3 image, radius 1: with edges replicated every window holds the
    /// lit pixel once, so μ = 1/9 and box((x − μ)²) = (8 · 1/81 + 64/81)/9 = 8/81 everywhere.
    func testOneLitPixelByHand() {
        var x = [Float](repeating: 0, count: 9)
        x[4] = 1
        let y = normalise(x, height: 3, width: 3, LocalContrast(radius: 1, floor: 0.1))
        let denominator = (8.0 / 81 + 0.01).squareRoot()
        for i in 0..<9 {
            XCTAssertEqual(Double(y[i]), (i == 4 ? 8.0 / 9 : -1.0 / 9) / denominator, accuracy: 1e-6, "pixel \(i)")
        }
        // mix adds the plain normalisation (x − mean)/std back.
        let mixed = normalise(
            x, height: 3, width: 3, LocalContrast(radius: 1, floor: 0.1, mix: 0.5), mean: 0.2, std: 0.25)
        for i in 0..<9 {
            let plain = ((i == 4 ? 1 : 0) - 0.2) / 0.25
            XCTAssertEqual(Double(mixed[i]), Double(y[i]) + 0.5 * plain, accuracy: 1e-6, "pixel \(i)")
        }
        XCTAssertEqual(
            normalise([Float](repeating: 0.7, count: 12), height: 3, width: 4, LocalContrast(radius: 2, floor: 0.1)),
            [Float](repeating: 0, count: 12))
    }

    /// The separable running windows equal the definition evaluated directly over each clamped 2-D window.
    func testEqualsTheDefinition() {
        var random = RandomSource(seed: 5)
        let height = 7, width = 9, radius = 2, floor: Float = 0.05
        let x = (0..<(height * width)).map { _ in random.uniform(0, 1) }
        let y = normalise(x, height: height, width: width, LocalContrast(radius: radius, floor: floor))
        func box(_ v: [Double], _ row: Int, _ column: Int) -> Double {
            var sum = 0.0
            for dy in -radius...radius {
                for dx in -radius...radius {
                    sum += v[min(max(row + dy, 0), height - 1) * width + min(max(column + dx, 0), width - 1)]
                }
            }
            return sum / Double((2 * radius + 1) * (2 * radius + 1))
        }
        let xd = x.map(Double.init)
        var deviation = [Double](repeating: 0, count: x.count)
        for r in 0..<height { for c in 0..<width { deviation[r * width + c] = xd[r * width + c] - box(xd, r, c) } }
        let squared = deviation.map { $0 * $0 }
        for r in 0..<height {
            for c in 0..<width {
                let expected = deviation[r * width + c] / (box(squared, r, c) + Double(floor * floor)).squareRoot()
                XCTAssertEqual(Double(y[r * width + c]), expected, accuracy: 1e-5, "(\(r), \(c))")
            }
        }
    }

    /// What it is for: a shape drawn at 40 % contrast on 30 % grey (a step of 0.28) comes out at
    /// over 60 % of the strength of the same shape at full contrast on black (a step of 1).
    func testDimAndBrightShapesComeOutAlike() {
        let side = 24
        func image(background: Float, contrast: Float) -> [Float] {
            (0..<(side * side)).map { i in
                let r = i / side, c = i % side
                let inside = (8..<16).contains(r) && (6..<18).contains(c) && !((10..<14).contains(r) && c < 10)
                return background + (inside ? contrast * (1 - background) : 0)
            }
        }
        let contrast = LocalContrast(radius: 6, floor: 0.1)
        let bright = normalise(image(background: 0, contrast: 1), height: side, width: side, contrast)
        let dim = normalise(image(background: 0.3, contrast: 0.4), height: side, width: side, contrast)
        let peakBright = bright.map(abs).max()!, peakDim = dim.map(abs).max()!
        XCTAssertGreaterThan(peakDim / peakBright, 0.6)
        XCTAssertLessThanOrEqual(peakDim / peakBright, 1)
    }

    /// `net`'s weights under `metadata`, loaded as stn-video loads a model file.
    private func loaded(_ net: TwoResolutionSTCNN, _ metadata: [String: String]) throws -> STNModel {
        let data = try Safetensors.encode(
            tensors: net.namedParameters.map { ($0.name, $0.parameter.value) }, metadata: metadata)
        return try STNModel.load(bytes: data, path: "contrast.safetensors")
    }

    /// `localisation_input.local_contrast` survives the metadata round trip, the predictor applies
    /// it to 8-bit frames as training applies it to float images, and a bad one is refused.
    func testModelFileCarriesIt() throws {
        let contrast = LocalContrast(radius: 3, floor: 0.1, mix: 0.5)
        let config = ModelConfig.videoAttention(
            localisationSide: 16, glimpse: 8, classes: 3, localisationNet: .keypoints, localContrast: contrast)
        XCTAssertTrue(
            config.metadata["localisation_input"]!.contains(#""local_contrast":{"floor":0.1,"mix":0.5,"radius":3}"#))
        XCTAssertEqual(try ModelConfig(metadata: config.metadata), config)
        let net = try TwoResolutionSTCNN(config: config, seed: 3)
        var random = RandomSource(seed: 4)
        for p in net.parameters { for i in 0..<p.value.count { p.value[i] = random.uniform(-0.3, 0.3) } }
        let model = try loaded(net, config.metadata)
        let pixels = (0..<(2 * 256)).map { _ in UInt8(random.int(below: 256)) }
        var theta = [Float](repeating: 0, count: 6)
        model.makePredictor(maxBatch: 2).predict(luma: pixels, batch: 2, theta: &theta)
        let x = pixels.map { Float($0) * (1 / 255) }
        let expected = Array(UnsafeBufferPointer(start: net.predictTheta(localisationInput: x, batch: 2), count: 6))
        for i in 0..<6 { XCTAssertEqual(theta[i], expected[i], accuracy: 1e-6) }
        // Without the normalisation the same weights give another θ: the predictor did apply it.
        var plain = config
        plain.input.localContrast = nil
        let plainModel = try loaded(net, plain.metadata)
        var plainTheta = [Float](repeating: 0, count: 6)
        plainModel.makePredictor(maxBatch: 2).predict(luma: pixels, batch: 2, theta: &plainTheta)
        XCTAssertGreaterThan(zip(theta, plainTheta).map { abs($0 - $1) }.max()!, 1e-3)

        var metadata = config.metadata
        metadata["localisation_input"] = metadata["localisation_input"]!.replacingOccurrences(
            of: #""radius":3"#, with: #""radius":0"#)
        XCTAssertThrowsError(try loaded(net, metadata)) { error in
            XCTAssertTrue("\(error)".contains("local_contrast"), "\(error)")
        }
    }
}
