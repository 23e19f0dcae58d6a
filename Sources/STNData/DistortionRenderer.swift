import Foundation
import STNCore

/// Renders distorted samples: the drawing of parameters and the pixel work, kept apart so
/// that tests can render hand-chosen parameters.
public enum DistortionRenderer {
    /// Writes the distorted item `index` of `dataset` into `output` (`side × side` floats in [0, 1]),
    /// `side` = the canvas of the parameters' distortion.
    public static func render(
        _ parameters: DistortionParameters, index: Int, of dataset: IDXDataset,
        into output: UnsafeMutablePointer<Float>, side: Int
    ) {
        let image = dataset.image(index)
        switch parameters {
        case .none:
            warp(image, height: dataset.height, width: dataset.width, side: side, into: output) { ($0, $1) }
        case let .rotation(degrees):
            let (c, s) = (cos(degrees * .pi / 180), sin(degrees * .pi / 180))
            warp(image, height: dataset.height, width: dataset.width, side: side, into: output) { u, v in
                (c * u - s * v, s * u + c * v)
            }
        case let .rotationTranslationScale(degrees, scale, dx, dy):
            let (c, s) = (cos(degrees * .pi / 180) / scale, sin(degrees * .pi / 180) / scale)
            warp(image, height: dataset.height, width: dataset.width, side: side, into: output) { u, v in
                let (p, q) = (u - dx, v - dy)
                return (c * p - s * q, s * p + c * q)
            }
        case let .projective(scale, offsets):
            let hx = Double(dataset.width) / 2, hy = Double(dataset.height) / 2
            let source = [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
            let target = source.enumerated().map { k, p in
                (scale * p.0 + offsets[2 * k], scale * p.1 + offsets[2 * k + 1])
            }
            // A degenerate draw (collinear corners) leaves the image blank.
            guard let h = homography(from: target, to: source) else {
                output.update(repeating: 0, count: side * side); return
            }
            warp(image, height: dataset.height, width: dataset.width, side: side, into: output) { u, v in
                let w = h[6] * u + h[7] * v + 1
                guard abs(w) > 1e-9 else { return (.infinity, .infinity) }
                return ((h[0] * u + h[1] * v + h[2]) / w, (h[3] * u + h[4] * v + h[5]) / w)
            }
        case let .elastic(scale, offsets):
            let n = Distortion.elasticControlGridSize
            var source: [(Double, Double)] = []
            for row in 0..<n {
                for column in 0..<n {
                    source.append(
                        (
                            Double(dataset.width) * (Double(column) / Double(n - 1) - 0.5),
                            Double(dataset.height) * (Double(row) / Double(n - 1) - 0.5)
                        ))
                }
            }
            let target = source.enumerated().map { k, p in
                (scale * p.0 + offsets[2 * k], scale * p.1 + offsets[2 * k + 1])
            }
            guard let spline = ThinPlateSpline(from: target, to: source) else {
                output.update(repeating: 0, count: side * side); return
            }
            warp(image, height: dataset.height, width: dataset.width, side: side, into: output) { spline.map($0, $1) }
        case let .translatedCluttered(x, y, patches):
            output.update(repeating: 0, count: side * side)
            let patch = Distortion.clutterPatchSide
            for piece in patches {
                let other = dataset.image(piece.item), base = other.startIndex
                for i in 0..<patch {
                    for j in 0..<patch {
                        let value = Float(other[base + (piece.sourceY + i) * dataset.width + piece.sourceX + j]) / 255
                        let o = (piece.y + i) * side + piece.x + j
                        output[o] = max(output[o], value)
                    }
                }
            }
            let base = image.startIndex
            for i in 0..<dataset.height {
                for j in 0..<dataset.width {
                    let o = (y + i) * side + x + j
                    output[o] = max(output[o], Float(image[base + i * dataset.width + j]) / 255)
                }
            }
        }
    }

    /// Inverse-mapping warp: output pixel centres in centred pixel coordinates (u, v) of the
    /// `side × side` canvas go through `map` to centred source coordinates, read bilinearly
    /// (the paper's kernel max(0, 1−|x−m|)·max(0, 1−|y−n|)) with zeros outside.
    @inline(__always)
    static func warp(
        _ image: ArraySlice<UInt8>, height: Int, width: Int, side: Int, into output: UnsafeMutablePointer<Float>,
        map: (Double, Double) -> (Double, Double)
    ) {
        let base = image.startIndex, half = Double(side) / 2
        let offsetX = Double(width) / 2 - 0.5, offsetY = Double(height) / 2 - 0.5
        for i in 0..<side {
            for j in 0..<side {
                let (x, y) = map(Double(j) + 0.5 - half, Double(i) + 0.5 - half)
                let column = x + offsetX, row = y + offsetY
                guard column > -1, column < Double(width), row > -1, row < Double(height) else {
                    output[i * side + j] = 0; continue
                }
                let j0 = Int(column.rounded(.down)), i0 = Int(row.rounded(.down))
                let fx = column - Double(j0), fy = row - Double(i0)
                func pixel(_ r: Int, _ c: Int) -> Double {
                    guard r >= 0, r < height, c >= 0, c < width else { return 0 }
                    return Double(image[base + r * width + c])
                }
                let top = pixel(i0, j0) * (1 - fx) + pixel(i0, j0 + 1) * fx
                let bottom = pixel(i0 + 1, j0) * (1 - fx) + pixel(i0 + 1, j0 + 1) * fx
                output[i * side + j] = Float((top * (1 - fy) + bottom * fy) / 255)
            }
        }
    }

    /// The 3×3 homography (h₂₂ = 1, row-major, 8 numbers) taking each `from` point to its `to` point.
    static func homography(from: [(Double, Double)], to: [(Double, Double)]) -> [Double]? {
        var matrix: [Double] = [], rhs: [Double] = []
        for ((x, y), (u, v)) in zip(from, to) {
            matrix += [x, y, 1, 0, 0, 0, -u * x, -u * y]; rhs.append(u)
            matrix += [0, 0, 0, x, y, 1, -v * x, -v * y]; rhs.append(v)
        }
        return solve(matrix, size: 8, [rhs])?.first
    }

    /// Solves A·x = b for each right-hand side (Gaussian elimination, partial pivoting, Double);
    /// nil when A is singular.
    static func solve(_ matrix: [Double], size n: Int, _ rightHandSides: [[Double]]) -> [[Double]]? {
        var a = matrix, b = rightHandSides
        for column in 0..<n {
            var pivot = column
            for row in (column + 1)..<max(n, column + 1) where abs(a[row * n + column]) > abs(a[pivot * n + column]) {
                pivot = row
            }
            guard abs(a[pivot * n + column]) > 1e-12 else { return nil }
            if pivot != column {
                for k in 0..<n { a.swapAt(column * n + k, pivot * n + k) }
                for r in b.indices { b[r].swapAt(column, pivot) }
            }
            for row in (column + 1)..<max(n, column + 1) {
                let factor = a[row * n + column] / a[column * n + column]
                guard factor != 0 else { continue }
                for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
                for r in b.indices { b[r][row] -= factor * b[r][column] }
            }
        }
        for r in b.indices {
            for row in stride(from: n - 1, through: 0, by: -1) {
                var sum = b[r][row]
                for k in (row + 1)..<max(n, row + 1) { sum -= a[row * n + k] * b[r][k] }
                b[r][row] = sum / a[row * n + row]
            }
        }
        return b
    }
}

/// A thin-plate spline (Bookstein 1989) f(p) = a₀ + a₁x + a₂y + Σ wₖ U(|p − Pₖ|), U(r) = r² log r²,
/// through f(Pₖ) = P′ₖ for each coordinate, with Σ wₖ = Σ wₖPₖ = 0.
struct ThinPlateSpline {
    let points: [(Double, Double)]
    let x: [Double]  // K weights, then a₀, a₁, a₂
    let y: [Double]

    init?(from points: [(Double, Double)], to values: [(Double, Double)]) {
        let k = points.count, n = k + 3
        var matrix = [Double](repeating: 0, count: n * n)
        for i in 0..<k {
            for j in 0..<k { matrix[i * n + j] = Self.kernel(points[i].0 - points[j].0, points[i].1 - points[j].1) }
            let affine = [1, points[i].0, points[i].1]
            for c in 0..<3 { matrix[i * n + k + c] = affine[c]; matrix[(k + c) * n + i] = affine[c] }
        }
        let zeros = [Double](repeating: 0, count: 3)
        guard
            let solution = DistortionRenderer.solve(matrix, size: n, [values.map(\.0) + zeros, values.map(\.1) + zeros])
        else { return nil }
        self.points = points; x = solution[0]; y = solution[1]
    }

    @inline(__always)
    static func kernel(_ dx: Double, _ dy: Double) -> Double {
        let r2 = dx * dx + dy * dy
        return r2 > 0 ? r2 * log(r2) : 0
    }

    func map(_ u: Double, _ v: Double) -> (Double, Double) {
        let k = points.count
        var sx = x[k] + x[k + 1] * u + x[k + 2] * v, sy = y[k] + y[k + 1] * u + y[k + 2] * v
        for i in 0..<k {
            let weight = Self.kernel(u - points[i].0, v - points[i].1)
            sx += x[i] * weight; sy += y[i] * weight
        }
        return (sx, sy)
    }
}
