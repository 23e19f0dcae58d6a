import Foundation
import FrameSampling
import XCTest
@testable import STNCore

/// Deterministic random numbers for the grid and sampler tests (SplitMix64).
struct SamplerTestRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high), rounded to Float so the Float and Double code see the same value.
    mutating func uniform(_ low: Double, _ high: Double) -> Float {
        Float(low + (high - low) * Double(next() >> 11) / Double(1 << 53))
    }

    mutating func values(_ count: Int, _ low: Double, _ high: Double) -> [Float] {
        (0..<count).map { _ in uniform(low, high) }
    }

    mutating func integer(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}

/// Straightforward Double re-implementations: the paper's formulas written out, no shared code
/// with the module, used as the ground truth for forward values and finite differences.
enum SamplerReference {
    static func centre(_ index: Int, _ count: Int) -> Double { Double(2 * index + 1) / Double(count) - 1 }

    /// V = Σ_nm U_nm · max(0, 1 − |x − m|) · max(0, 1 − |y − n|) (paper, eq. 5), align_corners = false.
    static func sample(
        input: [Double], batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
        grid: [Double], outputHeight: Int, outputWidth: Int, padding: PaddingMode
    ) -> [Double] {
        var output = [Double](repeating: 0, count: batch * channels * outputHeight * outputWidth)
        for n in 0..<batch {
            for i in 0..<outputHeight {
                for j in 0..<outputWidth {
                    let g = 2 * ((n * outputHeight + i) * outputWidth + j)
                    var x = ((grid[g] + 1) * Double(inputWidth) - 1) / 2
                    var y = ((grid[g + 1] + 1) * Double(inputHeight) - 1) / 2
                    if padding == .border {
                        x = min(max(x, 0), Double(inputWidth - 1))
                        y = min(max(y, 0), Double(inputHeight - 1))
                    }
                    let m0 = Int(x.rounded(.down)), n0 = Int(y.rounded(.down))
                    for c in 0..<channels {
                        var value = 0.0
                        for row in n0...(n0 + 1) where row >= 0 && row < inputHeight {
                            for column in m0...(m0 + 1) where column >= 0 && column < inputWidth {
                                let weight = max(0, 1 - abs(x - Double(column))) * max(0, 1 - abs(y - Double(row)))
                                value += weight * input[((n * channels + c) * inputHeight + row) * inputWidth + column]
                            }
                        }
                        output[((n * channels + c) * outputHeight + i) * outputWidth + j] = value
                    }
                }
            }
        }
        return output
    }

    /// The grid of one batch item for `kind`, θ in Double.
    static func grid(kind: TransformKind, theta: [Double], height: Int, width: Int, tpsControlGridSize: Int = 4)
        -> [Double]
    {
        var grid = [Double](repeating: 0, count: 2 * height * width)
        let tps = kind == .tps ? ThinPlateSplineReference(controlGridSize: tpsControlGridSize, offsets: theta) : nil
        for i in 0..<height {
            for j in 0..<width {
                let x = centre(j, width), y = centre(i, height)
                let source: (Double, Double)
                switch kind {
                case .attention: source = (theta[0] * x + theta[1], theta[0] * y + theta[2])
                case .affine:
                    source = (theta[0] * x + theta[1] * y + theta[2], theta[3] * x + theta[4] * y + theta[5])
                case .projective:
                    let w = theta[6] * x + theta[7] * y + 1
                    source = (
                        (theta[0] * x + theta[1] * y + theta[2]) / w, (theta[3] * x + theta[4] * y + theta[5]) / w
                    )
                case .tps: source = tps!.evaluate(x: x, y: y)
                }
                grid[2 * (i * width + j)] = source.0
                grid[2 * (i * width + j) + 1] = source.1
            }
        }
        return grid
    }
}

/// A thin-plate spline fitted directly to (P_k → P_k + θ_k) by solving its (K+3) system in Double
/// for this θ (the module instead precomputes L⁻¹ once and adds the identity analytically).
struct ThinPlateSplineReference {
    let points: [(Double, Double)]
    let coefficients: [(Double, Double)]  // w_1…w_K, a_0, a_x, a_y

    init(controlGridSize n: Int, offsets: [Double]) {
        var points: [(Double, Double)] = []
        for row in 0..<n {
            for column in 0..<n {
                points.append((-1 + 2 * Double(column) / Double(n - 1), -1 + 2 * Double(row) / Double(n - 1)))
            }
        }
        let k = points.count, size = k + 3
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        var rhs = [[Double]](repeating: [0, 0], count: size)
        for i in 0..<k {
            for j in 0..<k { matrix[i][j] = Self.u(points[i], points[j]) }
            matrix[i][k] = 1; matrix[i][k + 1] = points[i].0; matrix[i][k + 2] = points[i].1
            matrix[k][i] = 1; matrix[k + 1][i] = points[i].0; matrix[k + 2][i] = points[i].1
            rhs[i] = [points[i].0 + offsets[2 * i], points[i].1 + offsets[2 * i + 1]]
        }
        // Gauss–Jordan with partial pivoting.
        for column in 0..<size {
            let pivot = (column..<size).max { abs(matrix[$0][column]) < abs(matrix[$1][column]) }!
            matrix.swapAt(pivot, column)
            rhs.swapAt(pivot, column)
            for row in 0..<size where row != column {
                let factor = matrix[row][column] / matrix[column][column]
                for c in 0..<size { matrix[row][c] -= factor * matrix[column][c] }
                rhs[row][0] -= factor * rhs[column][0]
                rhs[row][1] -= factor * rhs[column][1]
            }
        }
        self.points = points
        var coefficients: [(Double, Double)] = []
        for row in 0..<size {
            let diagonal: Double = matrix[row][row]
            coefficients.append((rhs[row][0] / diagonal, rhs[row][1] / diagonal))
        }
        self.coefficients = coefficients
    }

    static func u(_ p: (Double, Double), _ q: (Double, Double)) -> Double {
        let dx: Double = p.0 - q.0, dy: Double = p.1 - q.1
        let r2: Double = dx * dx + dy * dy
        return r2 > 0 ? r2 * log(r2) : 0
    }

    func evaluate(x: Double, y: Double) -> (Double, Double) {
        let k = points.count
        var sx = coefficients[k].0 + coefficients[k + 1].0 * x + coefficients[k + 2].0 * y
        var sy = coefficients[k].1 + coefficients[k + 1].1 * x + coefficients[k + 2].1 * y
        for c in 0..<k {
            let weight = Self.u((x, y), points[c])
            sx += coefficients[c].0 * weight
            sy += coefficients[c].1 * weight
        }
        return (sx, sy)
    }
}

/// One PyTorch reference case written by pipelines/reference/sampler_reference.py.
struct SamplerFixture: Decodable {
    let name: String, kind: String, padding: String
    let batch: Int, channels: Int, inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int
    let theta: [Double], input: [Double], weights: [Double], grid: [Double], output: [Double]
    let gradInput: [Double], gradGrid: [Double], gradTheta: [Double]

    static let names = [
        "affine_zeros", "affine_border", "attention_zeros", "attention_border",
        "zoomout_zeros", "zoomout_border", "projective_zeros", "projective_border"
    ]

    static func load(_ name: String) throws -> SamplerFixture {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("sampler_\(name).json")
        return try JSONDecoder().decode(SamplerFixture.self, from: Data(contentsOf: url))
    }
}

/// Asserts |actual − expected| ≤ absolute + relative·|expected| element-wise, naming the first offender.
/// With STN_REPORT_ERRORS set in the environment it prints the largest error (to review tolerances).
func assertClose(
    _ actual: [Float], _ expected: [Double], absolute: Double, relative: Double = 0, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    var worst = 0.0
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        let error = abs(Double(a) - e)
        worst = max(worst, error)
        if !(error <= absolute + relative * abs(e)) {
            XCTFail("\(what)[\(index)]: \(a) vs \(e) (error \(error))", file: file, line: line)
            return
        }
    }
    if ProcessInfo.processInfo.environment["STN_REPORT_ERRORS"] != nil { print("max error \(what): \(worst)") }
}
