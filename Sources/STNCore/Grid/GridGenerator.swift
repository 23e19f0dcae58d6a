/// The grid generator of a spatial transformer (Jaderberg et al. 2015, Section 3.2).
///
/// θ maps target (output) coordinates to source (input) coordinates, both normalised to
/// [−1, 1] with `align_corners = false` (DESIGN.md §2): output pixel (i, j) of an
/// `height × width` grid has its centre at x_t = (2j + 1)/width − 1, y_t = (2i + 1)/height − 1.

/// The family of transforms a localisation network regresses.
public enum TransformKind: String, CaseIterable, Sendable {
    case attention, affine, projective, tps
}

/// Maps θ to a sampling grid of normalised source coordinates (x, y), align_corners = false.
public protocol GridGenerator: Sendable {
    var kind: TransformKind { get }
    /// attention 3 (s, tx, ty), affine 6 (row-major 2×3), projective 8 (3×3 row-major with h22 = 1), tps 2·K.
    var parameterCount: Int { get }
    /// θ of the identity transform (used to initialise the regression layer's bias).
    var identityParameters: [Float] { get }
    /// theta: [batch, parameterCount]; grid: [batch, height, width, 2] written (not accumulated).
    func forward(theta: UnsafePointer<Float>, batch: Int, height: Int, width: Int, grid: UnsafeMutablePointer<Float>)
    /// gradGrid: [batch, height, width, 2]; gradTheta: [batch, parameterCount] ACCUMULATED (+=).
    func backward(
        theta: UnsafePointer<Float>, gradGrid: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        gradTheta: UnsafeMutablePointer<Float>)
}

/// The grid generator for `kind`; `tpsControlGridSize` (n ≥ 2, K = n²) is used only by `.tps`.
public func makeGridGenerator(kind: TransformKind, tpsControlGridSize: Int = 4) -> any GridGenerator {
    switch kind {
    case .attention: return AttentionGridGenerator()
    case .affine: return AffineGridGenerator()
    case .projective: return ProjectiveGridGenerator()
    case .tps: return ThinPlateSplineGridGenerator(controlGridSize: tpsControlGridSize)
    }
}

/// Normalised centre of pixel `index` in a row of `count` pixels (align_corners = false).
@inline(__always)
func normalisedPixelCentre(_ index: Int, _ count: Int) -> Float {
    Float(2 * index + 1) / Float(count) - 1
}
