import Foundation
import Synchronization

/// Thin-plate-spline grid (Bookstein 1989; the paper's Section 4 TPS transformer).
///
/// K = n² target control points P_k lie on a uniform n × n grid over [−1, 1]² with the corners
/// included, in row-major order (k = row·n + column, x grows along a row, y down the rows).
/// θ holds an offset (dx_k, dy_k) per control point, interleaved: θ = (dx_0, dy_0, dx_1, dy_1, …);
/// the source control points are P′_k = P_k + θ_k, and θ = 0 is the identity.
///
/// The spline is f(p) = a_0 + a_1·x + a_2·y + Σ_k w_k·U(|p − P_k|) with U(r) = r² log r²
/// (U(0) = 0), fitted so that f(P_k) = P′_k with Σ w_k = Σ w_k·P_k = 0. Its coefficients are
/// linear in the data, so with L the (K+3)×(K+3) system matrix [[U(|P_i − P_j|), [1 P]], [[1 P]ᵀ, 0]]
/// and S the first K columns of L⁻¹ (solved once at init, in Double), every pixel has K weights
/// m_k(p) = [U(|p − P_1|) … U(|p − P_K|), 1, x, y] · S. Because a TPS reproduces affine maps
/// exactly, the identity part is taken out analytically:
///
///     source(p) = p + Σ_k m_k(p)·θ_k
///
/// so θ = 0 gives the pixel centres bit-exactly, and forward and backward are one
/// (H·W × K)·(K × 2) product per batch item (written as K passes over the pixels). The weights of each output size are built once,
/// on first use, and cached (a few sizes at a time).
public struct ThinPlateSplineGridGenerator: GridGenerator {
    /// n: the control points form an n × n grid (n ≥ 2).
    public let controlGridSize: Int
    /// Target control points P_k, [K, 2] interleaved (x, y).
    public let controlPoints: [Float]
    /// P_k in Double (what the system was solved with), [K, 2] interleaved.
    let exactControlPoints: [Double]
    /// S = (L⁻¹)[:, 0..<K], row-major [(K + 3), K].
    let solution: [Double]
    let weightCache: ThinPlateSplineWeightCache

    /// K = n·n target control points on a uniform grid over [−1, 1]² (inclusive corners).
    public init(controlGridSize: Int) {
        precondition(controlGridSize >= 2, "a thin-plate spline needs a control grid of at least 2 × 2 points")
        let n = controlGridSize, k = n * n
        var points = [Double](repeating: 0, count: 2 * k)
        for row in 0..<n {
            for column in 0..<n {
                points[2 * (row * n + column)] = -1 + 2 * Double(column) / Double(n - 1)
                points[2 * (row * n + column) + 1] = -1 + 2 * Double(row) / Double(n - 1)
            }
        }
        self.controlGridSize = n
        self.controlPoints = points.map { Float($0) }
        self.exactControlPoints = points
        self.solution = ThinPlateSplineGridGenerator.solveSystem(controlPoints: points, count: k)
        self.weightCache = ThinPlateSplineWeightCache()
    }

    public var kind: TransformKind { .tps }
    public var controlPointCount: Int { controlGridSize * controlGridSize }
    public var parameterCount: Int { 2 * controlPointCount }
    public var identityParameters: [Float] { [Float](repeating: 0, count: parameterCount) }

    // theta: [batch, 2K]; grid: [batch, height, width, 2]
    public func forward(
        theta: UnsafePointer<Float>, batch: Int, height: Int, width: Int, grid: UnsafeMutablePointer<Float>
    ) {
        let k = controlPointCount, plane = height * width
        if batch <= 0 || plane <= 0 { return }
        let weights = pixelWeights(height: height, width: width)
        let theta = SpatialSendablePointer(theta), grid = SpatialSendableMutablePointer(grid)
        weights.withUnsafeBufferPointer { buffer in
            let weights = SpatialSendablePointer(buffer.baseAddress!)
            SpatialParallel.forEachItem(batch: batch, workPerItem: 4 * k * plane) { item in
                let offsets = theta.pointer + 2 * k * item
                let out = grid.pointer + 2 * plane * item
                // The identity part, then one pass per control point: out += m_k ⊗ θ_k
                // (contiguous in the pixel index, so the compiler vectorises it).
                var pixel = out
                for i in 0..<height {
                    let y = normalisedPixelCentre(i, height)
                    for j in 0..<width {
                        pixel[0] = normalisedPixelCentre(j, width)
                        pixel[1] = y
                        pixel += 2
                    }
                }
                for c in 0..<k {
                    let dx = offsets[2 * c], dy = offsets[2 * c + 1]
                    if dx == 0 && dy == 0 { continue }
                    let m = weights.pointer + c * plane
                    for p in 0..<plane {
                        out[2 &* p] += m[p] * dx
                        out[2 &* p &+ 1] += m[p] * dy
                    }
                }
            }
        }
    }

    // gradGrid: [batch, height, width, 2]; gradTheta: [batch, 2K] (+=): ∂L/∂θ_k = Σ_p m_k(p)·∂L/∂source(p)
    public func backward(
        theta: UnsafePointer<Float>, gradGrid: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        gradTheta: UnsafeMutablePointer<Float>
    ) {
        let k = controlPointCount, plane = height * width
        if batch <= 0 || plane <= 0 { return }
        let weights = pixelWeights(height: height, width: width)
        let gradGrid = SpatialSendablePointer(gradGrid), gradTheta = SpatialSendableMutablePointer(gradTheta)
        weights.withUnsafeBufferPointer { buffer in
            let weights = SpatialSendablePointer(buffer.baseAddress!)
            SpatialParallel.forEachItem(batch: batch, workPerItem: 4 * k * plane) { item in
                let g = gradGrid.pointer + 2 * plane * item
                let out = gradTheta.pointer + 2 * k * item
                for c in 0..<k {
                    let (x, y) = ThinPlateSplineGridGenerator.weightedSums(weights.pointer + c * plane, g, count: plane)
                    out[2 * c] += Float(x)
                    out[2 * c + 1] += Float(y)
                }
            }
        }
    }

    /// (Σ_p m[p]·g[2p], Σ_p m[p]·g[2p + 1]): eight lanes in Float over blocks of 512 pixels,
    /// the blocks summed in Double.
    @inline(__always)
    static func weightedSums(_ m: UnsafePointer<Float>, _ g: UnsafePointer<Float>, count: Int) -> (Double, Double) {
        var totalX = 0.0, totalY = 0.0
        var start = 0
        while start < count {
            let end = min(start + 512, count)
            var laneX = SIMD8<Float>(), laneY = SIMD8<Float>()
            var p = start
            while p &+ 8 <= end {
                let weights = UnsafeRawPointer(m + p).loadUnaligned(as: SIMD8<Float>.self)
                let pairs = UnsafeRawPointer(g + 2 &* p).loadUnaligned(as: SIMD16<Float>.self)
                laneX += weights * pairs.evenHalf
                laneY += weights * pairs.oddHalf
                p &+= 8
            }
            var x = laneX.sum(), y = laneY.sum()
            while p < end {
                x += m[p] * g[2 &* p]
                y += m[p] * g[2 &* p &+ 1]
                p &+= 1
            }
            totalX += Double(x)
            totalY += Double(y)
            start = end
        }
        return (totalX, totalY)
    }

    // MARK: Weights

    /// m_k(p) for every pixel centre of a height × width grid, [K, height·width] (a plane per
    /// control point, so both passes run along contiguous memory).
    func pixelWeights(height: Int, width: Int) -> [Float] {
        weightCache.weights(height: height, width: width) {
            let plane = height * width
            var weights = [Float](repeating: 0, count: plane * controlPointCount)
            for i in 0..<height {
                for j in 0..<width {
                    let row = offsetWeights(
                        x: Double(normalisedPixelCentre(j, width)), y: Double(normalisedPixelCentre(i, height)))
                    for (c, value) in row.enumerated() { weights[c * plane + i * width + j] = Float(value) }
                }
            }
            return weights
        }
    }

    /// m(p): the K weights of the control-point offsets at the point (x, y), in Double.
    func offsetWeights(x: Double, y: Double) -> [Double] {
        let k = controlPointCount
        var features = [Double](repeating: 0, count: k + 3)
        for c in 0..<k {
            let dx = x - exactControlPoints[2 * c], dy = y - exactControlPoints[2 * c + 1]
            features[c] = ThinPlateSplineGridGenerator.radialBasis(squaredDistance: dx * dx + dy * dy)
        }
        features[k] = 1
        features[k + 1] = x
        features[k + 2] = y
        var weights = [Double](repeating: 0, count: k)
        for r in 0..<(k + 3) where features[r] != 0 {
            for c in 0..<k { weights[c] += features[r] * solution[r * k + c] }
        }
        return weights
    }

    /// U(r) = r² log r², continuous at 0 with U(0) = 0.
    static func radialBasis(squaredDistance r2: Double) -> Double {
        r2 > 0 ? r2 * log(r2) : 0
    }

    /// S = first K columns of L⁻¹, by Gaussian elimination with partial pivoting
    /// (L is symmetric but indefinite, so no Cholesky).
    static func solveSystem(controlPoints p: [Double], count k: Int) -> [Double] {
        let size = k + 3
        var a = [Double](repeating: 0, count: size * size)  // L, row-major
        var b = [Double](repeating: 0, count: size * k)  // [I_K; 0], row-major
        for i in 0..<k {
            for j in 0..<k {
                let dx = p[2 * i] - p[2 * j], dy = p[2 * i + 1] - p[2 * j + 1]
                a[i * size + j] = radialBasis(squaredDistance: dx * dx + dy * dy)
            }
            let affine = [1, p[2 * i], p[2 * i + 1]]
            for c in 0..<3 {
                a[i * size + k + c] = affine[c]
                a[(k + c) * size + i] = affine[c]
            }
            b[i * k + i] = 1
        }
        for column in 0..<size {
            var pivot = column
            for r in (column + 1)..<size where abs(a[r * size + column]) > abs(a[pivot * size + column]) { pivot = r }
            precondition(abs(a[pivot * size + column]) > 1e-12, "thin-plate spline system is singular")
            if pivot != column {
                for c in 0..<size { a.swapAt(pivot * size + c, column * size + c) }
                for c in 0..<k { b.swapAt(pivot * k + c, column * k + c) }
            }
            let inverse = 1 / a[column * size + column]
            for r in 0..<size where r != column {
                let factor = a[r * size + column] * inverse
                if factor == 0 { continue }
                for c in column..<size { a[r * size + c] -= factor * a[column * size + c] }
                for c in 0..<k { b[r * k + c] -= factor * b[column * k + c] }
            }
        }
        for r in 0..<size {
            let inverse = 1 / a[r * size + r]
            for c in 0..<k { b[r * k + c] *= inverse }
        }
        return b
    }
}

/// Per-output-size pixel weights of a thin-plate spline, shared by copies of the generator.
final class ThinPlateSplineWeightCache: Sendable {
    /// Enough for the glimpse sizes of training and inference; older sizes are dropped first.
    static let capacity = 8

    private struct Entry {
        let height: Int, width: Int
        let weights: [Float]
    }
    private let entries = Mutex<[Entry]>([])

    func weights(height: Int, width: Int, make: () -> [Float]) -> [Float] {
        entries.withLock { entries in
            if let entry = entries.first(where: { $0.height == height && $0.width == width }) { return entry.weights }
            let weights = make()
            if entries.count == ThinPlateSplineWeightCache.capacity { entries.removeFirst() }
            entries.append(Entry(height: height, width: width, weights: weights))
            return weights
        }
    }
}
