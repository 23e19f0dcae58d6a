import CStopSignal
#if canImport(Glibc)
    import Glibc
#endif

/// Asks a run to stop: set by SIGINT/SIGTERM inside `handlingSignals`, or by `cancel`.
///
/// One token is made per run and passed down to whatever loops or blocks: the media reader
/// (FFmpeg's interrupt callback polls it, so even a read blocked on a stalled pipe ends), the
/// writer of a pipe, the pipeline's stages, the training loops. A loop that sees it set
/// finishes its unit of work, saves what resumes the run and reports `signal`.
public final class CancellationToken: @unchecked Sendable {
    let state: UnsafeMutablePointer<stn_stop_state>

    public init() {
        state = .allocate(capacity: 1)
        state.initialize(to: stn_stop_state())
    }

    deinit {
        if Self.handling == state { stn_stop_uninstall() }
        state.deallocate()
    }

    /// The signal that asked to stop (SIGINT = 2, SIGTERM = 15; `cancel`'s), or nil.
    public var signal: Int32? {
        let value = stn_stop_get(state)
        return value == 0 ? nil : value
    }

    public var isCancelled: Bool { signal != nil }

    /// Asks to stop as if `signal` had arrived (tests, and callers that stop a run themselves).
    public func cancel(signal: Int32 = SIGINT) { stn_stop_set(state, signal) }

    /// Clears a request, so that one token can serve several runs (tests).
    public func reset() { stn_stop_reset(state) }

    /// True once `abandonBlockedWrite` gave up a write: the output ends where it stands (a valid
    /// prefix) rather than waiting for a reader that never reads.
    public var outputAbandoned: Bool { stn_stop_output_abandoned(state) != 0 }

    /// Gives up the write to a pipe in progress, if one is (see `duringBlockingWrite`): a run
    /// asked to stop calls this when its output has stayed blocked for a moment. Returns true
    /// if a write was given up.
    @discardableResult
    public func abandonBlockedWrite() -> Bool { stn_stop_abandon_blocked_write(state) != 0 }

    /// The C int FFmpeg's interrupt callback polls for reads: non-zero once a stop is asked.
    public var readInterruptFlag: UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(state).assumingMemoryBound(to: Int32.self)  // `signal` is the first field
    }

    /// The C int FFmpeg's interrupt callback polls for writes to a pipe: non-zero once abandoned.
    public var writeInterruptFlag: UnsafeMutablePointer<Int32> {
        withUnsafeMutablePointer(to: &state.pointee.abandon_output) { $0 }
    }

    nonisolated(unsafe) private static var handling: UnsafeMutablePointer<stn_stop_state>?

    /// Runs `body` with SIGINT and SIGTERM setting this token (see `startHandlingSignals`).
    public func handlingSignals<T>(_ body: () throws -> T) rethrows -> T {
        startHandlingSignals()
        defer { stopHandlingSignals() }
        return try body()
    }

    /// From now on SIGINT and SIGTERM set this token: the first asks to stop, a second ends the
    /// process at once (128 + signal). Outside `startHandlingSignals`…`stopHandlingSignals`
    /// both keep their default action, so work that never polls a token stops when told to.
    public func startHandlingSignals() {
        Self.handling = state
        stn_stop_install(state)
    }

    /// SIGINT and SIGTERM take their default action again.
    public func stopHandlingSignals() {
        stn_stop_uninstall()
        Self.handling = nil
    }

    /// Runs `body`, a read that may block (open, probe, read a packet), as the thread a stop
    /// signal wakes.
    public func duringBlockingRead<T>(_ body: () throws -> T) rethrows -> T {
        stn_stop_enter_read(state)
        defer { stn_stop_leave_read(state) }
        return try body()
    }

    /// Runs `body`, a write to a pipe that may block, as the thread `abandonBlockedWrite` wakes;
    /// the write then fails with FFmpeg's "exit" status (see `outputAbandoned`).
    public func duringBlockingWrite<T>(_ body: () throws -> T) rethrows -> T {
        stn_stop_enter_write(state)
        defer { stn_stop_leave_write(state) }
        return try body()
    }

    /// Ignores SIGPIPE, so that a reader closing an output pipe becomes an EPIPE error to report.
    public static func ignoreBrokenPipes() { stn_stop_ignore_sigpipe() }
}
