/// Projective grid (a homography): `[x′, y′, w′]ᵀ = H · [x_t, y_t, 1]ᵀ`, source = (x′/w′, y′/w′),
/// with θ = (h00, h01, h02, h10, h11, h12, h20, h21) the row-major 3×3 H without h22 = 1.
///
/// Near the horizon (w′ → 0) the source point goes to infinity. The divisor is kept away from
/// zero: |w′| is raised to `minimumDenominator` keeping its sign (w′ = 0 counts as positive).
/// Such points land far outside the input, so the sampler reads padding there; where the
/// clamp is active w′ is a constant, so no gradient flows into h20, h21 through it (θ entries
/// of the numerator still get the gradient of x′/w′ with the clamped w′). Points behind the
/// horizon (w′ < 0) are divided as they are, as in OpenCV's `warpPerspective`.
public struct ProjectiveGridGenerator: GridGenerator {
    /// About a hundred Float ulps of 1: above the rounding noise of w′ = h20·x + h21·y + 1.
    public static let minimumDenominator: Float = 1e-5

    public init() {}

    public var kind: TransformKind { .projective }
    public var parameterCount: Int { 8 }
    public var identityParameters: [Float] { [1, 0, 0, 0, 1, 0, 0, 0] }

    /// The guarded divisor and whether the guard changed it.
    @inline(__always)
    static func guardedDenominator(_ w: Float) -> (value: Float, clamped: Bool) {
        if w >= minimumDenominator || w <= -minimumDenominator { return (w, false) }
        if w.isNaN { return (w, false) }
        return (w < 0 ? -minimumDenominator : minimumDenominator, true)
    }

    // theta: [batch, 8]; grid: [batch, height, width, 2]
    public func forward(
        theta: UnsafePointer<Float>, batch: Int, height: Int, width: Int, grid: UnsafeMutablePointer<Float>
    ) {
        let theta = SpatialSendablePointer(theta), grid = SpatialSendableMutablePointer(grid)
        SpatialParallel.forEachItem(batch: batch, workPerItem: 10 * height * width) { item in
            let h = theta.pointer + 8 * item
            let h00 = h[0], h01 = h[1], h02 = h[2], h10 = h[3], h11 = h[4], h12 = h[5], h20 = h[6], h21 = h[7]
            var out = grid.pointer + 2 * height * width * item
            for i in 0..<height {
                let y = normalisedPixelCentre(i, height)
                let rowX = h01 * y + h02, rowY = h11 * y + h12, rowW = h21 * y + 1
                for j in 0..<width {
                    let x = normalisedPixelCentre(j, width)
                    let w = ProjectiveGridGenerator.guardedDenominator(h20 * x + rowW).value
                    out[0] = (h00 * x + rowX) / w
                    out[1] = (h10 * x + rowY) / w
                    out += 2
                }
            }
        }
    }

    // gradGrid: [batch, height, width, 2]; gradTheta: [batch, 8] (+=)
    //   ∂x_s/∂(h00, h01, h02) = (x, y, 1)/w′,  ∂y_s/∂(h10, h11, h12) = (x, y, 1)/w′,
    //   ∂(x_s, y_s)/∂(h20, h21) = −(x_s, y_s)·(x, y)/w′.
    public func backward(
        theta: UnsafePointer<Float>, gradGrid: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        gradTheta: UnsafeMutablePointer<Float>
    ) {
        let theta = SpatialSendablePointer(theta), gradGrid = SpatialSendablePointer(gradGrid)
        let gradTheta = SpatialSendableMutablePointer(gradTheta)
        SpatialParallel.forEachItem(batch: batch, workPerItem: 24 * height * width) { item in
            let h = theta.pointer + 8 * item
            let h00 = h[0], h01 = h[1], h02 = h[2], h10 = h[3], h11 = h[4], h12 = h[5], h20 = h[6], h21 = h[7]
            var g = gradGrid.pointer + 2 * height * width * item
            // Per-pixel terms are summed along a row in Float, rows are summed in Double.
            var sums = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
            for i in 0..<height {
                let y = normalisedPixelCentre(i, height)
                let rowX = h01 * y + h02, rowY = h11 * y + h12, rowW = h21 * y + 1
                var xa: Float = 0, sa: Float = 0, xb: Float = 0, sb: Float = 0, xc: Float = 0, sc: Float = 0
                for j in 0..<width {
                    let x = normalisedPixelCentre(j, width)
                    let (w, clamped) = ProjectiveGridGenerator.guardedDenominator(h20 * x + rowW)
                    let inverseW = 1 / w
                    let a = g[0] * inverseW, b = g[1] * inverseW
                    xa += x * a; sa += a
                    xb += x * b; sb += b
                    if !clamped {
                        let c = -(a * (h00 * x + rowX) + b * (h10 * x + rowY)) * inverseW
                        xc += x * c; sc += c
                    }
                    g += 2
                }
                let yd = Double(y)
                sums.0 += Double(xa); sums.1 += yd * Double(sa); sums.2 += Double(sa)
                sums.3 += Double(xb); sums.4 += yd * Double(sb); sums.5 += Double(sb)
                sums.6 += Double(xc); sums.7 += yd * Double(sc)
            }
            let out = gradTheta.pointer + 8 * item
            out[0] += Float(sums.0); out[1] += Float(sums.1); out[2] += Float(sums.2)
            out[3] += Float(sums.3); out[4] += Float(sums.4); out[5] += Float(sums.5)
            out[6] += Float(sums.6); out[7] += Float(sums.7)
        }
    }
}
