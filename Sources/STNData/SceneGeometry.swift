/// The square canvas of DESIGN.md §2 for a `width × height` frame: the frame centred in a
/// square of side max(W, H), normalised coordinates x, y ∈ [−1, 1] over that square.
/// Frame pixel coordinates are continuous, origin at the frame's top-left corner, so pixel
/// (i, j) covers [i, i+1] × [j, j+1].
public struct SquareCanvas: Equatable, Sendable {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0)
        self.width = width; self.height = height
    }

    /// Side of the square in frame pixels.
    public var side: Double { Double(max(width, height)) }
    /// Where the frame's left and top edges sit inside the square, in pixels.
    public var frameOffsetX: Double { (side - Double(width)) / 2 }
    public var frameOffsetY: Double { (side - Double(height)) / 2 }

    /// Frame pixel point → normalised canvas point.
    public func normalised(x: Double, y: Double) -> (x: Double, y: Double) {
        (2 * (x + frameOffsetX) / side - 1, 2 * (y + frameOffsetY) / side - 1)
    }

    /// Normalised canvas point → frame pixel point.
    public func pixels(x: Double, y: Double) -> (x: Double, y: Double) {
        ((x + 1) * side / 2 - frameOffsetX, (y + 1) * side / 2 - frameOffsetY)
    }

    /// A square of `side` pixels has half-side `side / max(W, H)` in normalised units.
    public func normalisedHalfSide(pixels side: Double) -> Double { side / self.side }
}

/// An axis-aligned square: centre and half-side, in any one unit (pixels or normalised).
public struct SceneSquare: Equatable, Sendable {
    public var centreX: Double
    public var centreY: Double
    public var halfSide: Double

    public init(centreX: Double, centreY: Double, halfSide: Double) {
        self.centreX = centreX; self.centreY = centreY; self.halfSide = halfSide
    }

    /// The attention window of θ = (s, tx, ty): the square [tx−s, tx+s] × [ty−s, ty+s] (|s| as its half-side).
    public init(attention theta: (s: Double, tx: Double, ty: Double)) {
        self.init(centreX: theta.tx, centreY: theta.ty, halfSide: abs(theta.s))
    }

    public func contains(x: Double, y: Double) -> Bool {
        abs(x - centreX) <= halfSide && abs(y - centreY) <= halfSide
    }

    /// Intersection over union of the two squares' areas (0 when either is empty).
    public func intersectionOverUnion(_ other: SceneSquare) -> Double {
        func overlap(_ a: Double, _ ha: Double, _ b: Double, _ hb: Double) -> Double {
            max(0, min(a + ha, b + hb) - max(a - ha, b - hb))
        }
        let intersection =
            overlap(centreX, halfSide, other.centreX, other.halfSide)
            * overlap(centreY, halfSide, other.centreY, other.halfSide)
        let union = 4 * halfSide * halfSide + 4 * other.halfSide * other.halfSide - intersection
        return union > 0 ? intersection / union : 0
    }
}
