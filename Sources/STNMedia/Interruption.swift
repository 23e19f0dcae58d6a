@preconcurrency import CFFmpeg
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide "stop now" flag, set by SIGINT/SIGTERM and polled by
/// FFmpeg's interrupt callback so that even a read blocked on a pipe ends.
public enum Interruption {
    /// Holds 0, or the number of the signal that asked us to stop.
    /// A plain C int: written from a signal handler, read by FFmpeg's C callback.
    nonisolated(unsafe) static let flag: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// The signal received (SIGINT = 2, SIGTERM = 15), or nil.
    public static var signal: Int32? {
        let value = cff_flag_get(flag)
        return value == 0 ? nil : value
    }

    public static var isRequested: Bool { signal != nil }

    /// Requests a stop as if `signal` had arrived (used by tests and on fatal stage errors).
    public static func request(signal: Int32) { cff_flag_set(flag, signal) }

    /// Clears a request, so that one process can run several pipelines (tests).
    public static func reset() { cff_flag_set(flag, 0) }

    /// The thread that last entered a blocking input read (0: none yet). The kernel hands a
    /// process-directed signal to any thread, so the stop signal may not interrupt the read
    /// that is waiting on a stalled pipe; the handler then wakes that thread itself.
    nonisolated(unsafe) static let readerThread: UnsafeMutablePointer<pthread_t> = {
        let p = UnsafeMutablePointer<pthread_t>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// The last thread that unblocked `wakeSignal` (only reader threads write it).
    nonisolated(unsafe) static let unblockedThread: UnsafeMutablePointer<pthread_t> = {
        let p = UnsafeMutablePointer<pthread_t>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// Signal sent to the reader thread only to make its blocking read return EINTR.
    static let wakeSignal = SIGUSR2

    /// Installs SIGINT/SIGTERM handlers that set the flag (a second signal exits at once)
    /// and ignores SIGPIPE so a closed output pipe becomes an EPIPE error, not a kill.
    public static func installSignalHandlers() {
        _ = flag
        _ = readerThread
        cff_ignore_sigpipe()
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handleStopSignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: a blocked read returns EINTR and FFmpeg polls the flag
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        var wake = sigaction()
        wake.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&wake.sa_mask)
        wake.sa_flags = 0
        sigaction(wakeSignal, &wake, nil)
    }

    /// Runs `body`, a blocking input read (open, probe, read), as the thread to wake.
    static func asReader<T>(_ body: () throws -> T) rethrows -> T {
        // Dispatch's worker threads block signals; this one must take the wake-up. Once per
        // thread, not per packet: the reading stage mostly stays on one thread.
        let current = pthread_self()
        if pthread_equal(unblockedThread.pointee, current) == 0 {
            var wake = sigset_t()
            sigemptyset(&wake)
            sigaddset(&wake, wakeSignal)
            pthread_sigmask(SIG_UNBLOCK, &wake, nil)
            unblockedThread.pointee = current
        }
        readerThread.pointee = current
        defer { readerThread.pointee = 0 }
        return try body()
    }

    static func install(on context: UnsafeMutablePointer<AVFormatContext>) {
        cff_install_interrupt(context, flag)
    }
}

private func handleStopSignal(_ signal: Int32) {
    if cff_flag_get(Interruption.flag) != 0 {
        _exit(128 + signal)
    }
    cff_flag_set(Interruption.flag, signal)
    let reader = Interruption.readerThread.pointee
    if reader != 0 && pthread_equal(reader, pthread_self()) == 0 {
        pthread_kill(reader, Interruption.wakeSignal)
    }
}
