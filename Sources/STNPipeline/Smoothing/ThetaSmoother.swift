import STNCore

/// Smooths a stream of θ vectors frame by frame.
///
/// **Domain.** For attention θ (s, tx, ty) the filter runs on (log |s|, tx, ty) — scale is
/// multiplicative, so a zoom from 0.25 to 0.5 is as large as one from 0.5 to 1 — and the
/// result is mapped back with exp, so the smoothed window is never mirrored. (|s| is clamped
/// to 1e-6 before the log.) Affine,
/// projective and TPS parameters are smoothed each linearly. Each parameter has its own
/// scalar filter (a `ThetaFilter` of the `SmoothingMethod`); the time step is 1/frameRate.
///
/// **Segments.** The frames are split into segments at scene cuts: frame 0 and every frame
/// pushed with `sceneCut: true` start a new segment, with fresh filter state. Nothing
/// crosses a segment boundary in either direction: a frame's smoothed θ depends only on
/// the raw θ of its own segment.
///
/// **Definition** (exactly what `offline(...)` computes, and what the stream reproduces bit
/// for bit). Within a segment [a, b], with `F` the method's causal filter and N the lookahead:
///
///     f[i] = F run forward over raw[a…i]                     (the causal output)
///     e    = min(i + N, b)
///     y[i] = F run backward, fresh, over f[e], f[e−1], …, f[i]     (one-euro, EMA)
///     y[i] = Rauch–Tung–Striebel smoother of the forward Kalman pass from e back to i
///            = E[θ_i | raw[a…e]] under the constant-velocity model  (Kalman)
///
/// So N = 0 gives the plain causal filter (y[i] = f[i]). For one-euro and EMA, N > 0 is a
/// forward–backward (zero-phase) filter whose backward pass is truncated to the N future
/// frames available within the segment: the forward pass's lag is cancelled by the backward
/// pass's lead and the noise is filtered twice. For Kalman it is the fixed-lag smoother.
/// The latency is N frames. At the end of a segment (a cut or the
/// stream's end) the backward window is shorter. At a cut frame k with N = 0 the smoothed θ
/// equals the raw θ exactly; with N > 0 it is the fresh segment's own smoothing of frames
/// k…k+N (never of frames before k).
///
/// `.none` passes raw θ through with no latency whatever `lookahead` says (`latency` is 0).
/// Non-finite raw values are replaced by the filter's current estimate (hold), or by the
/// identity transform's value at the start of a segment.
///
/// Not thread-safe: use one instance from one stage at a time.
public final class ThetaSmoother {
    public typealias Result = (raw: ThetaValues, smoothed: ThetaValues, sceneCut: Bool)

    public let kind: TransformKind
    public let parameterCount: Int
    public let settings: SmoothingSettings
    /// The frame rate the filters use (the given one, or 30 when it is not a positive number).
    public let frameRate: Double
    /// How many frames `push` holds back: `settings.lookahead`, or 0 for `.none`.
    public let latency: Int

    private let domain: ThetaDomain
    private var forward: any ThetaFilter
    private var backward: any ThetaFilter
    // Frames of the current segment not yet returned, oldest first: a ring of latency + 1
    // slots (raw θ, forward record, cut flag), so that streaming allocates nothing per frame.
    private let slots: Int
    private let recordStride: Int
    private var pendingRaw: [ThetaValues]
    private var pendingForward: [Double]
    private var pendingCut: [Bool]
    private var first = 0
    private var pendingCount = 0
    private var domainInput: [Double]
    private var filterOutput: [Double]

    public init(kind: TransformKind, parameterCount: Int, settings: SmoothingSettings, frameRate: Double) {
        precondition(parameterCount > 0, "ThetaSmoother: parameterCount must be positive")
        if let problem = settings.validationError { preconditionFailure("ThetaSmoother: \(problem)") }
        self.kind = kind
        self.parameterCount = parameterCount
        self.settings = settings
        let rate = frameRate.isFinite && frameRate > 0 ? frameRate : 30
        self.frameRate = rate
        latency = settings.method == .none ? 0 : settings.lookahead
        domain = ThetaDomain(kind: kind, count: parameterCount)
        forward = settings.method.makeFilter(count: parameterCount, settings: settings, frameRate: rate)
        backward = forward
        slots = latency + 1
        recordStride = parameterCount * forward.recordWidth
        pendingRaw = Array(repeating: ThetaValues(count: parameterCount), count: slots)
        pendingForward = [Double](repeating: 0, count: slots * recordStride)
        pendingCut = Array(repeating: false, count: slots)
        domainInput = [Double](repeating: 0, count: parameterCount)
        filterOutput = domainInput
    }

    /// Feeds the next frame's raw θ (`parameterCount` numbers) and whether a cut starts at it,
    /// and hands `emit` the frames that are now final, oldest first: with latency N, frame i
    /// comes out of the push of frame i + N, or earlier when a cut ends its segment; `flush`
    /// hands out the rest. Every pushed frame comes out exactly once, in order.
    public func push(raw: ThetaValues, sceneCut: Bool, _ emit: (Result) throws -> Void) rethrows {
        precondition(
            raw.count == parameterCount,
            "ThetaSmoother: expected \(parameterCount) parameters, got \(raw.count)")
        if settings.method == .none { return try emit((raw, raw, sceneCut)) }
        if sceneCut {
            try emitAll(emit)
            forward.reset()
        }
        let slot = (first + pendingCount) % slots, stride = recordStride
        domainInput.withUnsafeMutableBufferPointer { input in
            domain.toDomain(raw, filter: forward, input.baseAddress!)
            filterOutput.withUnsafeMutableBufferPointer { output in
                pendingForward.withUnsafeMutableBufferPointer { records in
                    forward.step(input.baseAddress!, output.baseAddress!, record: records.baseAddress! + slot * stride)
                }
            }
        }
        pendingRaw[slot] = raw
        pendingCut[slot] = sceneCut
        pendingCount += 1
        if pendingCount > latency {
            let oldest = result(index: 0, windowEnd: pendingCount - 1)
            first = (first + 1) % slots
            pendingCount -= 1
            try emit(oldest)
        }
    }

    /// Hands out the frames still held back (at most `latency`), oldest first, and ends the
    /// segment: a later `push` starts a fresh one as if a cut started there.
    public func flush(_ emit: (Result) throws -> Void) rethrows {
        try emitAll(emit)
        forward.reset()
    }

    private func emitAll(_ emit: (Result) throws -> Void) rethrows {
        let count = pendingCount
        // Emptied before the frames are handed out: an `emit` that throws leaves the smoother
        // empty (its later frames dropped with the stopping run), never half-drained.
        pendingCount = 0
        for index in 0..<count { try emit(result(index: index, windowEnd: count - 1)) }
        first = 0
    }

    /// The backward pass from pending frame `windowEnd` down to pending frame `index`.
    private func result(index: Int, windowEnd: Int) -> Result {
        let slots = self.slots, first = self.first, stride = recordStride
        let slot = (first + index) % slots
        let smoothed = filterOutput.withUnsafeMutableBufferPointer { output -> ThetaValues in
            pendingForward.withUnsafeBufferPointer { records in
                let base = records.baseAddress!
                backward.backwardPass(
                    { base + ((first + $0) % slots) * stride }, index: index, windowEnd: windowEnd, output.baseAddress!)
            }
            return domain.fromDomain(output.baseAddress!, raw: pendingRaw[slot])
        }
        return (pendingRaw[slot], smoothed, pendingCut[slot])
    }

    /// The offline reference of the streaming output: the smoothed θ of every frame of a whole
    /// clip, computed directly from the definition above (segments at `cuts`; frame 0 always
    /// starts one). `ThetaSmoother.push`/`flush` over the same frames return the same values.
    public static func offline(
        kind: TransformKind, parameterCount: Int, settings: SmoothingSettings,
        frameRate: Double, raws: [[Double]], cuts: [Bool]
    ) -> [[Double]] {
        precondition(raws.count == cuts.count)
        if settings.method == .none { return raws }
        let rate = frameRate.isFinite && frameRate > 0 ? frameRate : 30
        let n = settings.lookahead
        let domain = ThetaDomain(kind: kind, count: parameterCount)
        var filter = settings.method.makeFilter(count: parameterCount, settings: settings, frameRate: rate)
        var input = [Double](repeating: 0, count: parameterCount)
        var output = input
        var record = [Double](repeating: 0, count: parameterCount * filter.recordWidth)
        var result: [[Double]] = []
        result.reserveCapacity(raws.count)
        var a = 0
        while a < raws.count {
            var b = a
            while b + 1 < raws.count && !cuts[b + 1] { b += 1 }
            // Forward pass over the whole segment.
            let segment = raws[a...b].map { ThetaValues($0) }
            var f: [Double] = []  // one record per frame, `record.count` apart
            filter.reset()
            for theta in segment {
                domain.toDomain(theta, filter: filter, &input)
                filter.step(input, &output, record: &record)
                f += record
            }
            let stride = record.count
            // A backward pass per frame, from min(i + N, b) down to i.
            for i in a...b {
                f.withUnsafeBufferPointer { records in
                    filter.backwardPass(
                        { records.baseAddress! + $0 * stride }, index: i - a, windowEnd: min(i + n, b) - a, &output)
                }
                result.append(Array(domain.fromDomain(output, raw: segment[i - a])))
            }
            a = b + 1
        }
        return result
    }
}
