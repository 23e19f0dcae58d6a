/// A target→source map in normalised coordinates: [xs, ys, w]ᵀ = M · [xt, yt, 1]ᵀ, source = (xs/w, ys/w).
///
/// Stored inline (no heap allocation), so one can be made per frame for free.
public struct SourceTransform: Sendable, Equatable {
    /// The 3 × 3 matrix M, row-major: (m00, m01, m02, m10, m11, m12, m20, m21, m22).
    public var matrix: (Double, Double, Double, Double, Double, Double, Double, Double, Double)

    /// Attention (DESIGN.md §2): [[s, 0, tx], [0, s, ty], [0, 0, 1]]; s = 1, t = 0 is the identity.
    public init(attention s: Double, tx: Double, ty: Double) {
        matrix = (s, 0, tx, 0, s, ty, 0, 0, 1)
    }

    /// Affine: six values, row-major 2 × 3 (a00, a01, a02, a10, a11, a12), as PyTorch's `affine_grid` θ.
    public init(affine a: [Double]) {
        precondition(a.count == 6, "an affine transform has 6 parameters, got \(a.count)")
        matrix = (a[0], a[1], a[2], a[3], a[4], a[5], 0, 0, 1)
    }

    /// Projective: eight values, row-major 3 × 3 with h22 = 1 (h00, h01, h02, h10, h11, h12, h20, h21).
    public init(projective h: [Double]) {
        precondition(h.count == 8, "a projective transform has 8 parameters, got \(h.count)")
        matrix = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1)
    }

    /// Any 3 × 3 matrix, nine values row-major.
    public init(matrix m: [Double]) {
        precondition(m.count == 9, "a 3 × 3 matrix has 9 entries, got \(m.count)")
        matrix = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8])
    }

    /// The identity (the whole canvas).
    public static let identity = SourceTransform(attention: 1, tx: 0, ty: 0)

    /// The nine entries, row-major.
    public var elements: [Double] {
        let m = matrix
        return [m.0, m.1, m.2, m.3, m.4, m.5, m.6, m.7, m.8]
    }

    /// Entry (row, column) of M, both 0…2.
    public subscript(row: Int, column: Int) -> Double {
        precondition((0..<3).contains(row) && (0..<3).contains(column), "matrix index out of range")
        return withUnsafeBytes(of: matrix) { $0.load(fromByteOffset: (row * 3 + column) * 8, as: Double.self) }
    }

    /// True when the last row is [0, 0, 1], so no homogeneous division is needed.
    public var isAffine: Bool { matrix.6 == 0 && matrix.7 == 0 && matrix.8 == 1 }

    /// True when every entry is finite.
    public var isFinite: Bool {
        let m = matrix
        return m.0.isFinite && m.1.isFinite && m.2.isFinite && m.3.isFinite && m.4.isFinite
            && m.5.isFinite && m.6.isFinite && m.7.isFinite && m.8.isFinite
    }

    public static func == (lhs: SourceTransform, rhs: SourceTransform) -> Bool {
        let a = lhs.matrix, b = rhs.matrix
        return a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3 && a.4 == b.4
            && a.5 == b.5 && a.6 == b.6 && a.7 == b.7 && a.8 == b.8
    }
}
