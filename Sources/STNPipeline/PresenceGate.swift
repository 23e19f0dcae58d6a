import STNCore

/// What the model's glimpse classifier does to the window: where it looks (`--search`), and how the
/// window behaves while it sees nothing (`--min-presence`, `--release-after`).
public struct PresenceSettings: Sendable, Equatable {
    /// Below this presence (1 − P(no item)) a frame's θ is not followed.
    public var minPresence: Double = 0.5
    /// Seconds the last confident window is held before the window eases to the whole picture.
    public var releaseAfter: Double = 2
    /// Seconds the ease to the whole picture takes.
    public var easeDuration: Double = 1
    /// When set, each frame's window is searched for with the classifier (`--search`): the raw θ
    /// is the network's window or the grid window found more item-like.
    public var search: WindowSearch?

    public init(minPresence: Double = 0.5, releaseAfter: Double = 2, search: WindowSearch? = nil) {
        self.minPresence = minPresence; self.releaseAfter = releaseAfter; self.search = search
    }
}

/// The window the smoother should follow, given what the classifier says is there: the model's
/// θ while an item is present; the last confident θ while it is not, for `releaseAfter` seconds;
/// then a linear ease to the identity (the whole picture). A scene cut forgets the held window.
struct PresenceGate {
    let settings: PresenceSettings
    let identity: ThetaValues
    private var confident: ThetaValues?
    private var absentSince: Double?

    init(settings: PresenceSettings, identity: ThetaValues) {
        self.settings = settings; self.identity = identity
    }

    mutating func target(raw: ThetaValues, presence: Double, time: Double, sceneCut: Bool) -> ThetaValues {
        if sceneCut { confident = nil; absentSince = nil }
        if presence >= settings.minPresence {
            confident = raw
            absentSince = nil
            return raw
        }
        let since = absentSince ?? time
        absentSince = since
        let held = confident ?? identity
        let elapsed = time - since - settings.releaseAfter
        guard elapsed > 0 else { return confident == nil ? identity : held }
        let weight = min(1, elapsed / max(settings.easeDuration, 1e-9))
        var result = ThetaValues(count: raw.count)
        for i in result.indices { result[i] = held[i] + weight * (identity[i] - held[i]) }
        return result
    }
}
