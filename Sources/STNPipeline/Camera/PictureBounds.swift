import FrameSampling
import STNCore

/// The input picture in normalised coordinates (DESIGN.md §2): x ∈ [−halfWidth, halfWidth],
/// y ∈ [−halfHeight, halfHeight]. On the square canvas a W×H frame spans W/max(W, H) and
/// H/max(W, H) either side of the centre; on the frame canvas it spans [−1, 1] on both axes.
public struct PictureBounds: Sendable, Equatable {
    public var halfWidth: Double
    public var halfHeight: Double

    public init(halfWidth: Double, halfHeight: Double) {
        self.halfWidth = halfWidth
        self.halfHeight = halfHeight
    }

    public init(width: Int, height: Int, canvas: Canvas) {
        switch canvas {
        case .square:
            let side = Double(max(width, height, 1))
            self.init(halfWidth: Double(width) / side, halfHeight: Double(height) / side)
        case .frame:
            self.init(halfWidth: 1, halfHeight: 1)
        }
    }

    /// The bounding box (x0, x1, y0, y1) of the window of `theta`: the images of the output's
    /// corners (±1, ±1), or nil for a kind without a matrix, a non-finite θ, or a projective
    /// window that reaches the horizon (w ≤ 0 at a corner, so not a bounded quadrilateral).
    public static func windowBox(_ theta: ThetaValues, kind: TransformKind) -> (
        x0: Double, x1: Double, y0: Double, y1: Double
    )? {
        guard let m = WindowMatrix(theta, kind: kind) else { return nil }
        var x0 = Double.infinity, x1 = -Double.infinity, y0 = Double.infinity, y1 = -Double.infinity
        for corner in 0..<4 {
            let u: Double = corner & 1 == 0 ? -1 : 1, v: Double = corner & 2 == 0 ? -1 : 1
            let w = m.m20 * u + m.m21 * v + m.m22
            guard w > 0 else { return nil }
            let x = (m.m00 * u + m.m01 * v + m.m02) / w, y = (m.m10 * u + m.m11 * v + m.m12) / w
            guard x.isFinite && y.isFinite else { return nil }
            x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
        }
        return (x0, x1, y0, y1)
    }

    /// Whether the window of `theta` lies inside the picture, up to `tolerance` (normalised units).
    public func contains(_ theta: ThetaValues, kind: TransformKind, tolerance: Double = 1e-9) -> Bool {
        guard let b = Self.windowBox(theta, kind: kind) else { return false }
        return b.x0 >= -halfWidth - tolerance && b.x1 <= halfWidth + tolerance
            && b.y0 >= -halfHeight - tolerance && b.y1 <= halfHeight + tolerance
    }

    /// `theta` with its window moved inside the picture: shrunk about its centre (keeping its
    /// shape) where its box is wider or taller than the picture, then shifted by the least
    /// amount that brings every corner inside. An attention θ stays an attention θ (s is
    /// shrunk to at most the shorter half-side, the centre shifted); affine and projective
    /// windows are corrected by a scale-and-shift applied after θ, so their corners land
    /// inside exactly. A window already inside, a TPS θ, and a projective window that reaches
    /// the horizon are returned unchanged.
    public func keepInside(_ theta: ThetaValues, kind: TransformKind) -> ThetaValues {
        guard let b = Self.windowBox(theta, kind: kind) else { return theta }
        let width = b.x1 - b.x0, height = b.y1 - b.y0
        let k = min(
            1, width > 2 * halfWidth ? 2 * halfWidth / width : 1, height > 2 * halfHeight ? 2 * halfHeight / height : 1)
        let cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2
        let hx = k * width / 2, hy = k * height / 2
        let dx = Self.shift(centre: cx, half: hx, limit: halfWidth)
        let dy = Self.shift(centre: cy, half: hy, limit: halfHeight)
        if k == 1 && dx == 0 && dy == 0 { return theta }
        // Source points p ↦ k·(p − c) + c + d: rows 0 and 1 of θ's matrix become
        // k·row + ((1 − k)·c + d)·row2.
        let ex = (1 - k) * cx + dx, ey = (1 - k) * cy + dy
        var out = theta
        switch kind {
        case .attention:
            out[0] = k * theta[0]
            out[1] = k * theta[1] + ex
            out[2] = k * theta[2] + ey
        case .affine:
            for c in 0..<3 { out[c] = k * theta[c] }
            for c in 3..<6 { out[c] = k * theta[c] }
            out[2] += ex
            out[5] += ey
        case .projective:
            for c in 0..<3 {
                let bottom = c < 2 ? theta[6 + c] : 1
                out[c] = k * theta[c] + ex * bottom
                out[3 + c] = k * theta[3 + c] + ey * bottom
            }
        case .tps:
            return theta
        }
        return out
    }

    /// The shift that brings the interval [centre − half, centre + half] inside [−limit, limit]
    /// (0 when it is inside; half ≤ limit).
    private static func shift(centre: Double, half: Double, limit: Double) -> Double {
        if centre - half < -limit { return -limit + half - centre }
        if centre + half > limit { return limit - half - centre }
        return 0
    }
}

/// θ as a 3 × 3 matrix (attention, affine, projective), by value.
private struct WindowMatrix {
    var m00 = 0.0, m01 = 0.0, m02 = 0.0, m10 = 0.0, m11 = 0.0, m12 = 0.0, m20 = 0.0, m21 = 0.0, m22 = 1.0
    init?(_ t: ThetaValues, kind: TransformKind) {
        switch kind {
        case .attention where t.count == 3:
            (m00, m02, m11, m12) = (t[0], t[1], t[0], t[2])
        case .affine where t.count == 6:
            (m00, m01, m02, m10, m11, m12) = (t[0], t[1], t[2], t[3], t[4], t[5])
        case .projective where t.count == 8:
            (m00, m01, m02, m10, m11, m12, m20, m21) = (t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])
        default:
            return nil
        }
        guard t.allSatisfy(\.isFinite) else { return nil }
    }
}
