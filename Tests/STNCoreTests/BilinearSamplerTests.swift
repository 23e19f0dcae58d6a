import FrameSampling
import XCTest
@testable import STNCore

/// Bilinear sampler: hand-checkable cases, the paper's kernel in Double, finite differences,
/// PyTorch reference vectors (Fixtures/sampler_*.json).
final class BilinearSamplerTests: XCTestCase {
    struct Shape {
        var batch = 2, channels = 3, inputHeight = 5, inputWidth = 7, outputHeight = 4, outputWidth = 6
        var inputCount: Int { batch * channels * inputHeight * inputWidth }
        var outputCount: Int { batch * channels * outputHeight * outputWidth }
        var gridCount: Int { batch * outputHeight * outputWidth * 2 }
    }

    static func forward(_ input: [Float], _ grid: [Float], _ s: Shape, _ padding: PaddingMode) -> [Float] {
        var output = [Float](repeating: .nan, count: s.outputCount)
        input.withUnsafeBufferPointer { i in
            grid.withUnsafeBufferPointer { g in
                output.withUnsafeMutableBufferPointer { o in
                    BilinearSampler.forward(
                        input: i.baseAddress!, batch: s.batch, channels: s.channels,
                        inputHeight: s.inputHeight, inputWidth: s.inputWidth, grid: g.baseAddress!,
                        outputHeight: s.outputHeight, outputWidth: s.outputWidth, padding: padding,
                        output: o.baseAddress!)
                }
            }
        }
        return output
    }

    /// (gradInput, gradGrid), each nil when not requested, accumulated onto the given initial values.
    static func backward(
        _ input: [Float], _ grid: [Float], _ s: Shape, _ padding: PaddingMode, gradOutput: [Float],
        gradInput initialInput: [Float]?, gradGrid initialGrid: [Float]?
    ) -> (input: [Float]?, grid: [Float]?) {
        var gradInput = initialInput, gradGrid = initialGrid
        func withOptional(_ array: inout [Float]?, _ body: (UnsafeMutablePointer<Float>?) -> Void) {
            if array == nil { return body(nil) }
            array!.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        }
        input.withUnsafeBufferPointer { i in
            grid.withUnsafeBufferPointer { g in
                gradOutput.withUnsafeBufferPointer { go in
                    withOptional(&gradInput) { gi in
                        withOptional(&gradGrid) { gg in
                            BilinearSampler.backward(
                                input: i.baseAddress!, batch: s.batch, channels: s.channels,
                                inputHeight: s.inputHeight, inputWidth: s.inputWidth, grid: g.baseAddress!,
                                outputHeight: s.outputHeight, outputWidth: s.outputWidth, padding: padding,
                                gradOutput: go.baseAddress!, gradInput: gi, gradGrid: gg)
                        }
                    }
                }
            }
        }
        return (gradInput, gradGrid)
    }

    static func identityGrid(_ s: Shape) -> [Float] {
        let theta = (0..<s.batch).flatMap { _ -> [Float] in [1, 0, 0, 0, 1, 0] }
        return GridGeneratorTests.run(
            AffineGridGenerator(), theta: theta, batch: s.batch, height: s.outputHeight, width: s.outputWidth)
    }

    /// Random normalised source points whose pixel coordinates are ≥ 0.1 away from every integer
    /// (the kinks of max(0, 1 − |·|) and, for border padding, the clamp limits 0 and size − 1),
    /// spread over [−2, size + 1] pixels: inside, partly outside, wholly outside, clamped.
    static func randomGrid(_ s: Shape, random: inout SamplerTestRandom) -> [Float] {
        (0..<(s.gridCount / 2)).flatMap { _ -> [Float] in
            let px = Double(random.integer(-2...s.inputWidth)) + Double(random.uniform(0.1, 0.9))
            let py = Double(random.integer(-2...s.inputHeight)) + Double(random.uniform(0.1, 0.9))
            return [Float((2 * px + 1) / Double(s.inputWidth) - 1), Float((2 * py + 1) / Double(s.inputHeight) - 1)]
        }
    }

    // MARK: Hand-checkable

    /// Identity grid at output size = input size: at power-of-two sizes every step is exact in
    /// Float, so the input comes back bit for bit.
    func testIdentityReproducesInputExactlyAtPowerOfTwoSizes() {
        var random = SamplerTestRandom(seed: 21)
        let s = Shape(batch: 2, channels: 2, inputHeight: 8, inputWidth: 16, outputHeight: 8, outputWidth: 16)
        let input = random.values(s.inputCount, 0, 1)
        for padding in PaddingMode.allCases {
            XCTAssertEqual(Self.forward(input, Self.identityGrid(s), s, padding), input, "\(padding)")
        }
    }

    /// At other sizes the Float centre (2j + 1)/W − 1 is rounded, so the unnormalised coordinate is
    /// j ± ~W·2⁻²⁶ (PyTorch's float32 grid has the same error): the neighbour gets a weight of about
    /// 2e-6 at W = 60 (3e-6 measured, with the rounding of the weights). Tolerance 1e-5 for values in [0, 1].
    func testIdentityReproducesInputAtOtherSizes() {
        var random = SamplerTestRandom(seed: 22)
        for (height, width) in [(5, 7), (28, 28), (60, 60)] {
            let s = Shape(
                batch: 1, channels: 3, inputHeight: height, inputWidth: width, outputHeight: height, outputWidth: width)
            let input = random.values(s.inputCount, 0, 1)
            for padding in PaddingMode.allCases {
                assertClose(
                    Self.forward(input, Self.identityGrid(s), s, padding), input.map(Double.init),
                    absolute: 1e-5, "\(padding) \(height)x\(width)")
            }
        }
    }

    /// A shift by half a pixel (tx = 1/W) reads (U_j + U_{j+1})/2; the last column reads half of the
    /// edge pixel with zeros padding and the edge pixel itself with border padding. Likewise in y.
    func testHalfPixelShiftAveragesNeighbours() {
        let s = Shape(batch: 1, channels: 1, inputHeight: 2, inputWidth: 4, outputHeight: 2, outputWidth: 4)
        let input: [Float] = [1, 2, 4, 8, 16, 32, 64, 128]
        let shiftX = GridGeneratorTests.run(
            AttentionGridGenerator(), theta: [1, 0.25, 0], batch: 1, height: 2, width: 4)
        XCTAssertEqual(Self.forward(input, shiftX, s, .black), [1.5, 3, 6, 4, 24, 48, 96, 64])
        XCTAssertEqual(Self.forward(input, shiftX, s, .border), [1.5, 3, 6, 8, 24, 48, 96, 128])
        let shiftY = GridGeneratorTests.run(AttentionGridGenerator(), theta: [1, 0, 0.5], batch: 1, height: 2, width: 4)
        XCTAssertEqual(Self.forward(input, shiftY, s, .black), [8.5, 17, 34, 68, 8, 16, 32, 64])
        XCTAssertEqual(Self.forward(input, shiftY, s, .border), [8.5, 17, 34, 68, 16, 32, 64, 128])
    }

    /// Border padding: a point beyond the right edge reads the edge pixel of its row.
    func testBorderReadsTheEdgePixel() {
        let s = Shape(batch: 1, channels: 1, inputHeight: 2, inputWidth: 3, outputHeight: 1, outputWidth: 2)
        let input: [Float] = [1, 2, 3, 4, 5, 6]
        let grid: [Float] = [5, -0.5, -7, 0.5]  // right of row 0, left of row 1
        XCTAssertEqual(Self.forward(input, grid, s, .border), [3, 4])
        XCTAssertEqual(Self.forward(input, grid, s, .black), [0, 0])
    }

    // MARK: Against the Double reference

    /// Forward against the paper's kernel in Double. Tolerance 1e-5 for values in [0, 1].
    func testForwardMatchesPaperKernel() {
        var random = SamplerTestRandom(seed: 23)
        let s = Shape()
        let input = random.values(s.inputCount, 0, 1)
        let grid = Self.randomGrid(s, random: &random)
        for padding in PaddingMode.allCases {
            let expected = SamplerReference.sample(
                input: input.map(Double.init), batch: s.batch, channels: s.channels, inputHeight: s.inputHeight,
                inputWidth: s.inputWidth, grid: grid.map(Double.init), outputHeight: s.outputHeight,
                outputWidth: s.outputWidth, padding: padding)
            assertClose(Self.forward(input, grid, s, padding), expected, absolute: 1e-5, "\(padding)")
        }
    }

    /// Backward against central differences of L = Σ G·V on the Double reference, for every input
    /// element and every grid coordinate, both paddings. Grid points are ≥ 0.1 pixel from a kink and
    /// ε = 1e-6 (normalised) moves them by < 1e-5 pixel, so each difference sees one smooth piece.
    /// Tolerance 1e-4·max(1, |∂|): ∂/∂grid is of size W/2·|U| ≈ 3.5.
    func testBackwardMatchesFiniteDifferences() {
        var random = SamplerTestRandom(seed: 24)
        let s = Shape(), epsilon = 1e-6
        let input = random.values(s.inputCount, -1, 1)
        let grid = Self.randomGrid(s, random: &random)
        let gradOutput = random.values(s.outputCount, -1, 1)
        for padding in PaddingMode.allCases {
            func loss(_ u: [Double], _ g: [Double]) -> Double {
                let v = SamplerReference.sample(
                    input: u, batch: s.batch, channels: s.channels, inputHeight: s.inputHeight,
                    inputWidth: s.inputWidth,
                    grid: g, outputHeight: s.outputHeight, outputWidth: s.outputWidth, padding: padding)
                return zip(v, gradOutput).reduce(0) { $0 + $1.0 * Double($1.1) }
            }
            let (gradInput, gradGrid) = Self.backward(
                input, grid, s, padding, gradOutput: gradOutput,
                gradInput: [Float](repeating: 0, count: s.inputCount),
                gradGrid: [Float](repeating: 0, count: s.gridCount))
            let u = input.map(Double.init), g = grid.map(Double.init)
            for index in 0..<s.inputCount {
                var plus = u, minus = u
                plus[index] += epsilon
                minus[index] -= epsilon
                let numeric = (loss(plus, g) - loss(minus, g)) / (2 * epsilon)
                XCTAssertEqual(
                    Double(gradInput![index]), numeric, accuracy: 1e-4 * max(1, abs(numeric)),
                    "\(padding) ∂input[\(index)]")
            }
            var clampedOrOutside = 0
            for index in 0..<s.gridCount {
                var plus = g, minus = g
                plus[index] += epsilon
                minus[index] -= epsilon
                let numeric = (loss(u, plus) - loss(u, minus)) / (2 * epsilon)
                if numeric == 0 { clampedOrOutside += 1 }
                XCTAssertEqual(
                    Double(gradGrid![index]), numeric, accuracy: 1e-4 * max(1, abs(numeric)),
                    "\(padding) ∂grid[\(index)]")
            }
            // The random points really exercise the zero-gradient cases (outside / clamped).
            XCTAssertGreaterThan(clampedOrOutside, 5, "\(padding)")
        }
    }

    /// Both gradients accumulate; nil skips one without changing the other.
    func testBackwardAccumulatesAndSkipsNil() {
        var random = SamplerTestRandom(seed: 25)
        let s = Shape()
        let input = random.values(s.inputCount, 0, 1)
        let grid = Self.randomGrid(s, random: &random)
        let gradOutput = random.values(s.outputCount, -1, 1)
        let zeroInput = [Float](repeating: 0, count: s.inputCount), zeroGrid = [Float](repeating: 0, count: s.gridCount)
        for padding in PaddingMode.allCases {
            let both = Self.backward(
                input, grid, s, padding, gradOutput: gradOutput, gradInput: zeroInput, gradGrid: zeroGrid)
            let inputOnly = Self.backward(
                input, grid, s, padding, gradOutput: gradOutput, gradInput: zeroInput, gradGrid: nil)
            let gridOnly = Self.backward(
                input, grid, s, padding, gradOutput: gradOutput, gradInput: nil, gradGrid: zeroGrid)
            XCTAssertNil(inputOnly.grid)
            XCTAssertNil(gridOnly.input)
            XCTAssertEqual(inputOnly.input, both.input)
            XCTAssertEqual(gridOnly.grid, both.grid)
            let startInput = random.values(s.inputCount, -1, 1), startGrid = random.values(s.gridCount, -1, 1)
            let onTop = Self.backward(
                input, grid, s, padding, gradOutput: gradOutput, gradInput: startInput, gradGrid: startGrid)
            for index in 0..<s.inputCount {
                XCTAssertEqual(onTop.input![index], startInput[index] + both.input![index], accuracy: 1e-6)
            }
            for index in 0..<s.gridCount {
                XCTAssertEqual(onTop.grid![index], startGrid[index] + both.grid![index], accuracy: 1e-5)
            }
        }
    }

    /// NaN, ±∞ and huge coordinates never trap. Zeros: read 0, no gradient. Border: clamped to an
    /// edge (NaN to the first pixel), no gradient through the clamped coordinate.
    func testNonFiniteAndHugeCoordinatesAreSafe() {
        let s = Shape(batch: 1, channels: 1, inputHeight: 2, inputWidth: 3, outputHeight: 1, outputWidth: 4)
        let input: [Float] = [1, 2, 3, 4, 5, 6]
        let grid: [Float] = [.nan, -0.5, .infinity, -0.5, -.infinity, 0.5, 1e30, .nan]
        XCTAssertEqual(Self.forward(input, grid, s, .black), [0, 0, 0, 0])
        XCTAssertEqual(Self.forward(input, grid, s, .border), [1, 3, 4, 3])
        for padding in PaddingMode.allCases {
            let (gradInput, gradGrid) = Self.backward(
                input, grid, s, padding, gradOutput: [1, 1, 1, 1],
                gradInput: [Float](repeating: 0, count: 6), gradGrid: [Float](repeating: 0, count: 8))
            XCTAssertEqual(gradGrid, [Float](repeating: 0, count: 8), "\(padding)")
            XCTAssertEqual(gradInput, padding == .black ? [0, 0, 0, 0, 0, 0] : [1, 0, 2, 1, 0, 0], "\(padding)")
        }
    }

    /// A training-sized batch (batch 64, 1×60×60, parallel path) is bit-identical to one item at a time.
    func testParallelBatchMatchesSingleItems() {
        var random = SamplerTestRandom(seed: 26)
        let s = Shape(batch: 64, channels: 1, inputHeight: 60, inputWidth: 60, outputHeight: 60, outputWidth: 60)
        var single = s
        single.batch = 1
        let input = random.values(s.inputCount, 0, 1)
        let theta = (0..<s.batch).flatMap { _ in
            [random.uniform(0.5, 1.2), random.uniform(-0.3, 0.3), random.uniform(-0.3, 0.3)]
        }
        let grid = GridGeneratorTests.run(AttentionGridGenerator(), theta: theta, batch: s.batch, height: 60, width: 60)
        let gradOutput = random.values(s.outputCount, -1, 1)
        for padding in PaddingMode.allCases {
            let output = Self.forward(input, grid, s, padding)
            let (gradInput, gradGrid) = Self.backward(
                input, grid, s, padding, gradOutput: gradOutput,
                gradInput: [Float](repeating: 0, count: s.inputCount),
                gradGrid: [Float](repeating: 0, count: s.gridCount))
            for item in [0, 5, 63] {
                func slice(_ a: [Float], _ n: Int) -> [Float] { Array(a[(item * n)..<((item + 1) * n)]) }
                let itemInput = slice(input, single.inputCount), itemGrid = slice(grid, single.gridCount)
                XCTAssertEqual(slice(output, single.outputCount), Self.forward(itemInput, itemGrid, single, padding))
                let expected = Self.backward(
                    itemInput, itemGrid, single, padding, gradOutput: slice(gradOutput, single.outputCount),
                    gradInput: [Float](repeating: 0, count: single.inputCount),
                    gradGrid: [Float](repeating: 0, count: single.gridCount))
                XCTAssertEqual(slice(gradInput!, single.inputCount), expected.input)
                XCTAssertEqual(slice(gradGrid!, single.gridCount), expected.grid)
            }
        }
    }

    // MARK: PyTorch reference vectors

    /// Generator + sampler forward and backward against PyTorch (float64) on the cases of
    /// pipelines/reference/sampler_reference.py: affine, attention, zoom-out (points beyond ±1),
    /// projective, zeros and border. Tolerances: 1e-5 on the grid, output and ∂input (values
    /// of size ≤ 1); 1e-5·max(1, |x|) on ∂grid and ∂θ (sizes up to ~10, Float sums over 72 terms).
    func testMatchesPyTorchReferenceVectors() throws {
        for name in SamplerFixture.names {
            let f = try SamplerFixture.load(name)
            let kind = try XCTUnwrap(TransformKind(rawValue: f.kind))
            let padding = try XCTUnwrap(PaddingMode(pytorchName: f.padding))
            let s = Shape(
                batch: f.batch, channels: f.channels, inputHeight: f.inputHeight, inputWidth: f.inputWidth,
                outputHeight: f.outputHeight, outputWidth: f.outputWidth)
            let generator = makeGridGenerator(kind: kind)
            let theta = f.theta.map(Float.init), input = f.input.map(Float.init), weights = f.weights.map(Float.init)

            let grid = GridGeneratorTests.run(
                generator, theta: theta, batch: s.batch, height: s.outputHeight, width: s.outputWidth)
            assertClose(grid, f.grid, absolute: 1e-5, "\(name) grid")
            assertClose(Self.forward(input, grid, s, padding), f.output, absolute: 1e-5, "\(name) output")

            let (gradInput, gradGrid) = Self.backward(
                input, grid, s, padding, gradOutput: weights,
                gradInput: [Float](repeating: 0, count: s.inputCount),
                gradGrid: [Float](repeating: 0, count: s.gridCount))
            assertClose(gradInput!, f.gradInput, absolute: 1e-5, "\(name) ∂input")
            assertClose(gradGrid!, f.gradGrid, absolute: 1e-5, relative: 1e-5, "\(name) ∂grid")
            let gradTheta = GridGeneratorTests.gradient(
                generator, theta: theta, gradGrid: gradGrid!, batch: s.batch, height: s.outputHeight,
                width: s.outputWidth)
            assertClose(gradTheta, f.gradTheta, absolute: 1e-5, relative: 1e-5, "\(name) ∂θ")
        }
    }
}

extension BilinearSamplerTests {
    /// Degenerate sizes do nothing harmful: an empty input samples as zeros (either padding),
    /// an empty output or batch touches nothing.
    func testEmptySizes() {
        let empty = Shape(batch: 1, channels: 2, inputHeight: 0, inputWidth: 3, outputHeight: 2, outputWidth: 2)
        let grid: [Float] = [0, 0, 0.5, 0.5, -1, 1, 2, 2]
        for padding in PaddingMode.allCases {
            XCTAssertEqual(Self.forward([], grid, empty, padding), [Float](repeating: 0, count: 8))
            let (gradInput, gradGrid) = Self.backward(
                [], grid, empty, padding, gradOutput: [Float](repeating: 1, count: 8), gradInput: [],
                gradGrid: [Float](repeating: 0, count: 8))
            XCTAssertEqual(gradInput, [])
            XCTAssertEqual(gradGrid, [Float](repeating: 0, count: 8))
        }
        let noOutput = Shape(batch: 2, channels: 1, inputHeight: 2, inputWidth: 2, outputHeight: 0, outputWidth: 5)
        XCTAssertEqual(Self.forward([1, 2, 3, 4, 5, 6, 7, 8], [], noOutput, .black), [])
        for generator in GridGeneratorTests.allGenerators {
            XCTAssertEqual(
                GridGeneratorTests.run(generator, theta: generator.identityParameters, batch: 1, height: 0, width: 4),
                [])
            XCTAssertEqual(GridGeneratorTests.run(generator, theta: [], batch: 0, height: 3, width: 4), [])
        }
    }
}
