/// Square windows of one scale laid over the picture, for searching a frame with the glimpse
/// classifier: centres on a regular grid spaced `step` half-sides apart (at most `maxPerSide`
/// along a side), each window inside the picture where it fits, in normalised canvas
/// coordinates (DESIGN.md §2: the picture centred in the square canvas).
public enum WindowGrid {
    public static func windows(scale s: Double, width: Int, height: Int, step: Double, maxPerSide: Int = 16)
        -> [(s: Double, tx: Double, ty: Double)]
    {
        let side = Double(max(width, height))
        func centres(_ extent: Double) -> [Double] {
            let room = extent - s
            guard room > 0, step > 0 else { return [0] }
            let count = min(Int((2 * room / (step * s)).rounded(.up)) + 1, maxPerSide)
            return (0..<count).map { -room + 2 * room * Double($0) / Double(count - 1) }
        }
        let xs = centres(Double(width) / side), ys = centres(Double(height) / side)
        return ys.flatMap { y in xs.map { x in (s, x, y) } }
    }
}

/// A frame searched with the glimpse classifier: the network's window θ and a `WindowGrid` of
/// windows of θ's scale, each classified; the frame follows the window the classifier finds most
/// item-like (highest presence). The network places a window more precisely than a grid does, so
/// when the best window lies near θ (centres within `agreement` half-sides) θ itself is kept.
/// A frame whose θ glimpse is already `confident` (presence) is not searched: the grid rarely
/// beats it, and skipping it halves the search's cost.
public struct WindowSearch: Sendable, Equatable {
    /// Grid spacing, in half-sides of θ's window.
    public var step: Double
    public var agreement: Double
    public var maxPerSide: Int
    /// θ's presence from which the grid is not searched.
    public var confident: Float

    public init(step: Double = 1, agreement: Double = 1, maxPerSide: Int = 16, confident: Float = 0.9) {
        self.step = step; self.agreement = agreement; self.maxPerSide = maxPerSide; self.confident = confident
    }

    /// Whether a frame whose θ glimpse has this presence is searched.
    public func searches(presence: Float) -> Bool { presence < confident }

    /// Windows `[K, 3]` (s, tx, ty), θ first, for a `width × height` picture.
    public func candidates(theta: (s: Float, tx: Float, ty: Float), width: Int, height: Int) -> [Float] {
        var windows = [theta.s, theta.tx, theta.ty]
        let grid = WindowGrid.windows(
            scale: Double(abs(theta.s)), width: width, height: height, step: step, maxPerSide: maxPerSide)
        for w in grid { windows += [Float(w.s), Float(w.tx), Float(w.ty)] }
        return windows
    }

    /// The index of the window to follow among `candidates` (θ at 0), given each one's presence.
    public func choose(candidates: [Float], presence: [Float]) -> Int {
        precondition(candidates.count == 3 * presence.count && !presence.isEmpty)
        var best = 0
        for k in presence.indices where presence[k] > presence[best] { best = k }
        let dx = Double(candidates[3 * best + 1] - candidates[1]), dy = Double(candidates[3 * best + 2] - candidates[2])
        return (dx * dx + dy * dy).squareRoot() <= agreement * Double(abs(candidates[0])) ? 0 : best
    }
}
