import FrameSampling
import XCTest
@testable import STNCore

/// Grid generators: identities, hand-checkable transforms, Double references, finite differences.
final class GridGeneratorTests: XCTestCase {
    static let allGenerators: [any GridGenerator] = TransformKind.allCases.map { makeGridGenerator(kind: $0) }

    static func run(_ generator: any GridGenerator, theta: [Float], batch: Int, height: Int, width: Int) -> [Float] {
        var grid = [Float](repeating: .nan, count: batch * height * width * 2)
        theta.withUnsafeBufferPointer { t in
            grid.withUnsafeMutableBufferPointer { g in
                generator.forward(
                    theta: t.baseAddress!, batch: batch, height: height, width: width, grid: g.baseAddress!)
            }
        }
        return grid
    }

    static func gradient(
        _ generator: any GridGenerator, theta: [Float], gradGrid: [Float], batch: Int, height: Int, width: Int,
        initial: [Float]? = nil
    ) -> [Float] {
        var gradTheta = initial ?? [Float](repeating: 0, count: theta.count)
        theta.withUnsafeBufferPointer { t in
            gradGrid.withUnsafeBufferPointer { g in
                gradTheta.withUnsafeMutableBufferPointer { out in
                    generator.backward(
                        theta: t.baseAddress!, gradGrid: g.baseAddress!, batch: batch, height: height, width: width,
                        gradTheta: out.baseAddress!)
                }
            }
        }
        return gradTheta
    }

    /// θ = identity + noise, small enough that the projective denominator stays near 1.
    static func randomTheta(_ generator: any GridGenerator, batch: Int, random: inout SamplerTestRandom) -> [Float] {
        (0..<batch).flatMap { _ in generator.identityParameters.map { $0 + random.uniform(-0.2, 0.2) } }
    }

    // MARK: Shapes and identities

    func testFactoryKindsAndParameterCounts() {
        // The raw values are the names used in model metadata and on the command line.
        XCTAssertEqual(TransformKind.allCases.map(\.rawValue), ["attention", "affine", "projective", "tps"])
        XCTAssertEqual(PaddingMode.allCases.map(\.pytorchName), ["zeros", "border"])
        XCTAssertEqual(Self.allGenerators.map(\.kind), TransformKind.allCases)
        XCTAssertEqual(Self.allGenerators.map(\.parameterCount), [3, 6, 8, 32])
        XCTAssertEqual(makeGridGenerator(kind: .tps, tpsControlGridSize: 3).parameterCount, 18)
        for generator in Self.allGenerators {
            XCTAssertEqual(generator.identityParameters.count, generator.parameterCount, "\(generator.kind)")
        }
        XCTAssertEqual(AttentionGridGenerator().identityParameters, [1, 0, 0])
        XCTAssertEqual(AffineGridGenerator().identityParameters, [1, 0, 0, 0, 1, 0])
        XCTAssertEqual(ProjectiveGridGenerator().identityParameters, [1, 0, 0, 0, 1, 0, 0, 0])
    }

    /// Identity θ gives the pixel centres (2j + 1)/W − 1, (2i + 1)/H − 1. Tolerance 1e-6: the
    /// Float centres may differ from the rounded Double ones by an ulp.
    func testIdentityParametersGiveThePixelCentres() {
        let height = 5, width = 7
        var expected: [Double] = []
        for i in 0..<height {
            for j in 0..<width { expected += [SamplerReference.centre(j, width), SamplerReference.centre(i, height)] }
        }
        for generator in Self.allGenerators {
            let grid = Self.run(
                generator, theta: generator.identityParameters + generator.identityParameters,
                batch: 2, height: height, width: width)
            assertClose(grid, expected + expected, absolute: 1e-6, "\(generator.kind) identity")
        }
    }

    /// Projective with H = I and TPS with zero offsets are the affine identity bit for bit.
    func testProjectiveAndThinPlateSplineIdentitiesEqualAffineIdentityExactly() {
        for (height, width) in [(4, 6), (60, 60), (28, 28), (3, 11)] {
            let affine = Self.run(
                AffineGridGenerator(), theta: [1, 0, 0, 0, 1, 0], batch: 1, height: height, width: width)
            let projective = ProjectiveGridGenerator()
            XCTAssertEqual(
                Self.run(projective, theta: projective.identityParameters, batch: 1, height: height, width: width),
                affine)
            for n in [2, 3, 4, 5] {
                let tps = ThinPlateSplineGridGenerator(controlGridSize: n)
                XCTAssertEqual(
                    Self.run(tps, theta: tps.identityParameters, batch: 1, height: height, width: width), affine,
                    "tps n=\(n) \(height)x\(width)")
            }
        }
    }

    /// Offsets equal to one translation t move every pixel by t: a TPS reproduces affine maps.
    /// Tolerance 1e-5: Σ_k m_k(p) = 1 holds in Double; rounding the K weights to Float leaves ~K ulps.
    func testThinPlateSplineGlobalTranslation() {
        let tps = ThinPlateSplineGridGenerator(controlGridSize: 4)
        let translation: (Float, Float) = (0.3, -0.15)
        let theta = (0..<tps.controlPointCount).flatMap { _ in [translation.0, translation.1] }
        let height = 9, width = 13
        let grid = Self.run(tps, theta: theta, batch: 1, height: height, width: width)
        var expected: [Double] = []
        for i in 0..<height {
            for j in 0..<width {
                expected += [SamplerReference.centre(j, width) + 0.3, SamplerReference.centre(i, height) - 0.15]
            }
        }
        assertClose(grid, expected, absolute: 1e-5, "tps translation")
    }

    /// The spline interpolates: at control point j the weights are the unit vector e_j (1e-9, Double).
    func testThinPlateSplineInterpolatesControlPoints() {
        for n in [2, 3, 4, 6] {
            let tps = ThinPlateSplineGridGenerator(controlGridSize: n)
            XCTAssertEqual(tps.controlPoints.count, 2 * n * n)
            XCTAssertEqual(tps.controlPoints.prefix(2), [-1, -1])
            XCTAssertEqual(tps.controlPoints.suffix(2), [1, 1])
            for j in 0..<(n * n) {
                let weights = tps.offsetWeights(x: tps.exactControlPoints[2 * j], y: tps.exactControlPoints[2 * j + 1])
                for (k, weight) in weights.enumerated() {
                    XCTAssertEqual(weight, k == j ? 1 : 0, accuracy: 1e-9, "n=\(n) point \(j) weight \(k)")
                }
            }
        }
    }

    /// Attention θ = (s, tx, ty) is the affine θ (s, 0, tx, 0, s, ty).
    func testAttentionEqualsItsAffineMatrix() {
        let attention = Self.run(AttentionGridGenerator(), theta: [0.6, 0.2, -0.3], batch: 1, height: 5, width: 7)
        let affine = Self.run(AffineGridGenerator(), theta: [0.6, 0, 0.2, 0, 0.6, -0.3], batch: 1, height: 5, width: 7)
        XCTAssertEqual(attention, affine)
    }

    // MARK: Against the Double reference

    /// Forward of every kind against the Double formulas (TPS: a spline solved afresh for this θ).
    /// Tolerance 1e-5 on values of size ~1: Float rounding of θ·(x, y, 1) and of the TPS weights.
    func testForwardMatchesDoubleReference() {
        var random = SamplerTestRandom(seed: 11)
        let batch = 3, height = 5, width = 7
        for generator in Self.allGenerators {
            let theta = Self.randomTheta(generator, batch: batch, random: &random)
            let grid = Self.run(generator, theta: theta, batch: batch, height: height, width: width)
            let count = generator.parameterCount
            let expected = (0..<batch).flatMap { item in
                SamplerReference.grid(
                    kind: generator.kind, theta: theta[(item * count)..<((item + 1) * count)].map(Double.init),
                    height: height, width: width)
            }
            assertClose(grid, expected, absolute: 1e-5, "\(generator.kind) forward")
        }
    }

    /// Backward (θ) against central differences of L(θ) = Σ G·grid(θ) on the Double reference
    /// (ε = 1e-6; the truncation error O(ε²) is negligible, the attention/affine/TPS grids are
    /// linear in θ anyway). Tolerance 1e-4·max(1, |∂L/∂θ|): the Float sums run over 35 pixels.
    func testBackwardMatchesFiniteDifferences() {
        var random = SamplerTestRandom(seed: 12)
        let batch = 2, height = 5, width = 7, epsilon = 1e-6
        for generator in Self.allGenerators {
            let theta = Self.randomTheta(generator, batch: batch, random: &random)
            let gradGrid = random.values(batch * height * width * 2, -1, 1)
            let analytic = Self.gradient(
                generator, theta: theta, gradGrid: gradGrid, batch: batch, height: height, width: width)
            let count = generator.parameterCount
            for item in 0..<batch {
                let g = gradGrid[(item * height * width * 2)..<((item + 1) * height * width * 2)].map(Double.init)
                let base = theta[(item * count)..<((item + 1) * count)].map(Double.init)
                func loss(_ t: [Double]) -> Double {
                    zip(SamplerReference.grid(kind: generator.kind, theta: t, height: height, width: width), g)
                        .reduce(0) { $0 + $1.0 * $1.1 }
                }
                for p in 0..<count {
                    var plus = base, minus = base
                    plus[p] += epsilon
                    minus[p] -= epsilon
                    let numeric = (loss(plus) - loss(minus)) / (2 * epsilon)
                    XCTAssertEqual(
                        Double(analytic[item * count + p]), numeric, accuracy: 1e-4 * max(1, abs(numeric)),
                        "\(generator.kind) item \(item) ∂θ[\(p)]")
                }
            }
        }
    }

    /// gradTheta is accumulated: a second backward adds the same amount on top of what is there.
    func testBackwardAccumulates() {
        var random = SamplerTestRandom(seed: 13)
        for generator in Self.allGenerators {
            let theta = Self.randomTheta(generator, batch: 2, random: &random)
            let gradGrid = random.values(2 * 4 * 6 * 2, -1, 1)
            let once = Self.gradient(generator, theta: theta, gradGrid: gradGrid, batch: 2, height: 4, width: 6)
            let initial = random.values(theta.count, -1, 1)
            let onTop = Self.gradient(
                generator, theta: theta, gradGrid: gradGrid, batch: 2, height: 4, width: 6, initial: initial)
            for p in 0..<theta.count {
                XCTAssertEqual(onTop[p], initial[p] + once[p], accuracy: 1e-6, "\(generator.kind) θ[\(p)]")
            }
        }
    }

    /// A training-sized batch (parallel path) gives bit-identical results to one item at a time.
    func testParallelBatchMatchesSingleItems() {
        var random = SamplerTestRandom(seed: 14)
        let batch = 64, height = 60, width = 60, plane = 2 * height * width
        for generator in Self.allGenerators {
            let count = generator.parameterCount
            let theta = Self.randomTheta(generator, batch: batch, random: &random)
            let gradGrid = random.values(batch * plane, -1, 1)
            let grid = Self.run(generator, theta: theta, batch: batch, height: height, width: width)
            let gradTheta = Self.gradient(
                generator, theta: theta, gradGrid: gradGrid, batch: batch, height: height, width: width)
            for item in [0, 1, 37, 63] {
                let itemTheta = Array(theta[(item * count)..<((item + 1) * count)])
                let single = Self.run(generator, theta: itemTheta, batch: 1, height: height, width: width)
                XCTAssertEqual(
                    Array(grid[(item * plane)..<((item + 1) * plane)]), single, "\(generator.kind) item \(item)")
                let singleGradient = Self.gradient(
                    generator, theta: itemTheta, gradGrid: Array(gradGrid[(item * plane)..<((item + 1) * plane)]),
                    batch: 1, height: height, width: width)
                XCTAssertEqual(Array(gradTheta[(item * count)..<((item + 1) * count)]), singleGradient)
            }
        }
    }

    /// w′ = 0 exactly at the first column (h20 = 2, x = −0.5 on a 2-pixel-wide grid): the guard keeps
    /// the grid and its gradient finite, sends the point far outside, and gives h20, h21 no gradient there.
    func testProjectiveGuardsVanishingDenominator() {
        let generator = ProjectiveGridGenerator()
        let theta: [Float] = [1, 0, 0.25, 0, 1, 0, 2, 0]
        let grid = Self.run(generator, theta: theta, batch: 1, height: 1, width: 2)
        XCTAssertTrue(grid.allSatisfy(\.isFinite), "\(grid)")
        // x′ = −0.5 + 0.25 = −0.25 over w′ clamped to +1e-5.
        XCTAssertEqual(grid[0], -0.25 / ProjectiveGridGenerator.minimumDenominator, accuracy: 1)
        // The second column is ordinary: w′ = 2, x_s = 0.75 / 2.
        XCTAssertEqual(grid[2], 0.375, accuracy: 1e-7)
        let gradient = Self.gradient(generator, theta: theta, gradGrid: [1, 1, 0, 0], batch: 1, height: 1, width: 2)
        XCTAssertTrue(gradient.allSatisfy(\.isFinite), "\(gradient)")
        XCTAssertEqual(Array(gradient[6...]), [0, 0])
    }
}
