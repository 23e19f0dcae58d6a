import STNCore

/// Keeps a collapsed window out of the smoothing: a raw θ whose scale drops below
/// `collapseRatio` × the median scale of the last `history` accepted frames is an outlier, and
/// the last accepted θ is used in its place — for at most `maximumRun` frames in a row. A scale
/// that stays that small longer is a real zoom: it is accepted and becomes the new reference.
///
/// The scale is `|s|` for attention θ and √|det A| of the linear part for affine and projective
/// θ (the window's side relative to the canvas); TPS θ passes unchanged. A cut starts afresh
/// (`reset`), so the first frames of a shot are never outliers. Non-finite θ passes unchanged
/// (the smoother holds its last estimate for those).
struct CollapseGuard {
    let kind: TransformKind
    /// Frames whose median scale is the reference.
    static let history = 5
    /// Fewest accepted frames before anything is judged an outlier.
    static let minimumHistory = 3
    /// A scale below this fraction of the reference median is an outlier.
    static let collapseRatio = 0.5
    /// The longest run of outliers replaced; the next such frame is accepted.
    static let maximumRun = 2

    private var scales: [Double]
    private var sortScratch: [Double]
    private var stored = 0, next = 0
    private var lastAccepted: ThetaValues?
    private var run = 0
    /// Outliers replaced since the start (for tests and diagnostics).
    private(set) var replacedCount = 0

    init(kind: TransformKind) {
        self.kind = kind
        scales = [Double](repeating: 0, count: Self.history)
        sortScratch = scales
    }

    /// Forgets the past (a cut).
    mutating func reset() {
        stored = 0
        next = 0
        run = 0
        lastAccepted = nil
    }

    /// The θ to smooth for raw θ `raw`.
    mutating func filter(_ raw: ThetaValues) -> ThetaValues {
        guard let scale = Self.scale(raw, kind: kind) else { return raw }
        if stored >= Self.minimumHistory, let lastAccepted, scale < Self.collapseRatio * median() {
            if run < Self.maximumRun {
                run += 1
                replacedCount += 1
                return lastAccepted
            }
            // Small for longer than an outlier lasts: a real zoom. Start the reference afresh.
            stored = 0
            next = 0
        }
        run = 0
        scales[next] = scale
        next = (next + 1) % Self.history
        stored = min(stored + 1, Self.history)
        lastAccepted = raw
        return raw
    }

    /// The window's scale, or nil where the guard does not apply.
    static func scale(_ theta: ThetaValues, kind: TransformKind) -> Double? {
        let value: Double
        switch kind {
        case .attention where theta.count == 3: value = abs(theta[0])
        case .affine where theta.count == 6, .projective where theta.count == 8:
            value = abs(theta[0] * theta[4] - theta[1] * theta[3]).squareRoot()
        default: return nil
        }
        return value.isFinite ? value : nil
    }

    private mutating func median() -> Double {
        for i in 0..<stored { sortScratch[i] = scales[i] }
        // Insertion sort of at most `history` values: no allocation.
        for i in 1..<max(stored, 1) {
            let v = sortScratch[i]
            var j = i - 1
            while j >= 0 && sortScratch[j] > v {
                sortScratch[j + 1] = sortScratch[j]
                j -= 1
            }
            sortScratch[j + 1] = v
        }
        return stored % 2 == 1 ? sortScratch[stored / 2] : (sortScratch[stored / 2 - 1] + sortScratch[stored / 2]) / 2
    }
}
