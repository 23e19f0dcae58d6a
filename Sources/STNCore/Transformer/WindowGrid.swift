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

/// A frame searched with the glimpse classifier: the network's window θ and `WindowGrid`s of
/// windows of θ's scale and of 0.625 times it (the network's window is more often too large
/// than too small), each classified; the `keep` windows whose class the classifier is surest
/// of, and θ, are then refined: each moves to whichever of its neighbours (shifted by half the
/// grid's spacing, then a quarter; or 25 %, then 12.5 % larger or smaller) the classifier is surer
/// of, while one is. The frame follows the surest window, except that when it lies near θ
/// (centres within `agreement` half-sides) θ's own refinement is kept: the network places a window
/// more precisely than a grid does.
///
/// The score is the confidence, the most likely item class's probability, not the presence
/// (1 − P(no item)): a glimpse of clutter or of part of an item can look like "some item", but
/// rarely like one class. A frame whose θ glimpse is already `confident` is not searched, and a
/// frame whose surest window is still below `least` keeps θ: a glimpse the classifier can hardly
/// name is no better evidence than the network's window (scenes without clutter, where the grid
/// only finds background, lose 3.6 points of centre in box without this rule).
public struct WindowSearch: Sendable, Equatable {
    /// Grid spacing, in half-sides of θ's window.
    public var step: Double
    public var agreement: Double
    public var maxPerSide: Int
    /// θ's confidence from which the frame is not searched.
    public var confident: Float
    /// The confidence below which the search's window is not followed.
    public var least: Float
    /// Rounds of refinement (0: the grid's windows as they are).
    public var refinements: Int
    /// How many grid windows are refined besides θ.
    public var keep: Int
    /// The grids' scales, as factors of θ's |s|, each grid `step` of its own half-sides apart.
    public var scales: [Double]

    public init(
        step: Double = 1, agreement: Double = 1, maxPerSide: Int = 16, confident: Float = 0.5, least: Float = 0.2,
        refinements: Int = 2, keep: Int = 6, scales: [Double] = [1, 0.625]
    ) {
        self.step = step; self.agreement = agreement; self.maxPerSide = maxPerSide; self.confident = confident
        self.least = least
        self.refinements = refinements; self.keep = keep; self.scales = scales
    }

    /// Whether a frame whose θ glimpse has this confidence is searched.
    public func searches(confidence: Float) -> Bool { confidence < confident }

    /// Windows `[K, 3]` (s, tx, ty), θ first, then each scale's grid, for a `width × height` picture.
    public func candidates(theta: (s: Float, tx: Float, ty: Float), width: Int, height: Int) -> [Float] {
        var windows = [theta.s, theta.tx, theta.ty]
        for factor in scales {
            let grid = WindowGrid.windows(
                scale: Double(abs(theta.s)) * factor, width: width, height: height, step: step, maxPerSide: maxPerSide)
            for w in grid { windows += [Float(w.s), Float(w.tx), Float(w.ty)] }
        }
        return windows
    }

    /// The index of the window to follow among `candidates` (θ at 0), given each one's score.
    public func choose(candidates: [Float], scores: [Float]) -> Int {
        precondition(candidates.count == 3 * scores.count && !scores.isEmpty)
        var best = 0
        for k in scores.indices where scores[k] > scores[best] { best = k }
        let dx = Double(candidates[3 * best + 1] - candidates[1]), dy = Double(candidates[3 * best + 2] - candidates[2])
        return (dx * dx + dy * dy).squareRoot() <= agreement * Double(abs(candidates[0])) ? 0 : best
    }

    /// The six neighbours `[6, 3]` of `window` in refinement round `round` (0-based): right, left,
    /// down, up, larger, smaller. Centres stay where the window fits inside a `width × height`
    /// picture, as the grid's do.
    public func neighbours(of window: (s: Float, tx: Float, ty: Float), round: Int, width: Int, height: Int)
        -> [Float]
    {
        let halving = Float(1 << round)
        let shift = Float(step) / (2 * halving) * abs(window.s), zoom = 1 + 0.25 / halving
        let side = Float(max(width, height))
        func inside(_ centre: Float, extent: Float, half: Float) -> Float {
            let room = extent - half
            return room > 0 ? min(max(centre, -room), room) : centre
        }
        let (s, x, y) = window
        return [
            (s, x + shift, y), (s, x - shift, y), (s, x, y + shift), (s, x, y - shift), (s * zoom, x, y),
            (s / zoom, x, y)
        ].flatMap { w in
            [
                w.0, inside(w.1, extent: Float(width) / side, half: abs(w.0)),
                inside(w.2, extent: Float(height) / side, half: abs(w.0))
            ]
        }
    }

    /// Searches a frame. `atTheta` is what the classifier made of θ's glimpse, `score` an
    /// observation's confidence, and `classify` classifies windows `[K, 3]` in one batch. Returns
    /// the window to follow and its observation: θ and `atTheta` when θ is confident, or when no
    /// window reaches `least`.
    public func run<Observation>(
        theta: (s: Float, tx: Float, ty: Float), atTheta: Observation, width: Int, height: Int,
        score: (Observation) -> Float, classify: ([Float]) -> [Observation]
    ) -> (window: (s: Float, tx: Float, ty: Float), observation: Observation) {
        guard searches(confidence: score(atTheta)) else { return (theta, atTheta) }
        let grid = candidates(theta: theta, width: width, height: height)
        let observations = [atTheta] + classify(Array(grid.dropFirst(3)))
        func window(_ k: Int) -> (s: Float, tx: Float, ty: Float) { (grid[3 * k], grid[3 * k + 1], grid[3 * k + 2]) }
        let surest = observations.indices.dropFirst().sorted { score(observations[$0]) > score(observations[$1]) }
        // θ stays first, so that `choose` measures the agreement from θ's refinement.
        var kept = ([0] + surest.prefix(keep)).map { (window: window($0), observation: observations[$0]) }
        for round in 0..<refinements {
            let moves = kept.flatMap { neighbours(of: $0.window, round: round, width: width, height: height) }
            let seen = classify(moves)
            for i in kept.indices {
                for j in (6 * i)..<(6 * i + 6) where score(seen[j]) > score(kept[i].observation) {
                    kept[i] = ((moves[3 * j], moves[3 * j + 1], moves[3 * j + 2]), seen[j])
                }
            }
        }
        let chosen = choose(
            candidates: kept.flatMap { [$0.window.s, $0.window.tx, $0.window.ty] },
            scores: kept.map { score($0.observation) })
        return score(kept[chosen].observation) >= least ? kept[chosen] : (theta, atTheta)
    }
}
