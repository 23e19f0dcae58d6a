/// Affine grid: `[x_s, y_s]ᵀ = A_θ · [x_t, y_t, 1]ᵀ` with θ the row-major 2×3 matrix A_θ.
///
/// Equals `torch.nn.functional.affine_grid(theta.view(N, 2, 3), (N, C, H, W), align_corners=False)`.
public struct AffineGridGenerator: GridGenerator {
    public init() {}

    public var kind: TransformKind { .affine }
    public var parameterCount: Int { 6 }
    public var identityParameters: [Float] { [1, 0, 0, 0, 1, 0] }

    // theta: [batch, 6]; grid: [batch, height, width, 2]
    public func forward(
        theta: UnsafePointer<Float>, batch: Int, height: Int, width: Int, grid: UnsafeMutablePointer<Float>
    ) {
        let theta = SpatialSendablePointer(theta), grid = SpatialSendableMutablePointer(grid)
        SpatialParallel.forEachItem(batch: batch, workPerItem: 4 * height * width) { item in
            let a = theta.pointer + 6 * item
            AffineGridGenerator.writeGrid(
                a00: a[0], a01: a[1], a02: a[2], a10: a[3], a11: a[4], a12: a[5],
                height: height, width: width, grid: grid.pointer + 2 * height * width * item)
        }
    }

    // gradGrid: [batch, height, width, 2]; gradTheta: [batch, 6] (+=)
    public func backward(
        theta: UnsafePointer<Float>, gradGrid: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        gradTheta: UnsafeMutablePointer<Float>
    ) {
        let gradGrid = SpatialSendablePointer(gradGrid), gradTheta = SpatialSendableMutablePointer(gradTheta)
        SpatialParallel.forEachItem(batch: batch, workPerItem: 6 * height * width) { item in
            let m = AffineGridGenerator.gradientMoments(
                height: height, width: width, gradGrid: gradGrid.pointer + 2 * height * width * item)
            let g = gradTheta.pointer + 6 * item
            g[0] += Float(m.xGradX); g[1] += Float(m.yGradX); g[2] += Float(m.gradX)
            g[3] += Float(m.xGradY); g[4] += Float(m.yGradY); g[5] += Float(m.gradY)
        }
    }

    /// Writes one item's grid of `A · [x_t, y_t, 1]ᵀ` (shared with the attention generator).
    @inline(__always)
    static func writeGrid(
        a00: Float, a01: Float, a02: Float, a10: Float, a11: Float, a12: Float,
        height: Int, width: Int, grid: UnsafeMutablePointer<Float>
    ) {
        var out = grid
        for i in 0..<height {
            let y = normalisedPixelCentre(i, height)
            // The y and constant terms are fixed along a row.
            let rowX = a01 * y + a02, rowY = a11 * y + a12
            for j in 0..<width {
                let x = normalisedPixelCentre(j, width)
                out[0] = a00 * x + rowX
                out[1] = a10 * x + rowY
                out += 2
            }
        }
    }

    /// Sums of the grid gradient weighted by the target coordinates, accumulated in Double
    /// (the sums run over every pixel of the image).
    struct GradientMoments {
        var xGradX = 0.0, yGradX = 0.0, gradX = 0.0
        var xGradY = 0.0, yGradY = 0.0, gradY = 0.0
    }

    @inline(__always)
    static func gradientMoments(height: Int, width: Int, gradGrid: UnsafePointer<Float>) -> GradientMoments {
        var m = GradientMoments()
        var g = gradGrid
        for i in 0..<height {
            let y = Double(normalisedPixelCentre(i, height))
            var rowXGradX: Float = 0, rowXGradY: Float = 0, rowGradX: Float = 0, rowGradY: Float = 0
            for j in 0..<width {
                let x = normalisedPixelCentre(j, width)
                rowXGradX += x * g[0]; rowGradX += g[0]
                rowXGradY += x * g[1]; rowGradY += g[1]
                g += 2
            }
            m.xGradX += Double(rowXGradX); m.gradX += Double(rowGradX); m.yGradX += y * Double(rowGradX)
            m.xGradY += Double(rowXGradY); m.gradY += Double(rowGradY); m.yGradY += y * Double(rowGradY)
        }
        return m
    }
}
