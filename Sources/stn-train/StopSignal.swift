import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM during a training loop: the loop finishes its step, saves what resumes the
/// run, and the process exits 128 + signal (`Interrupted`). A second signal exits at once.
/// Installed only around the loops; elsewhere the signals keep their default action.
enum StopSignal {
    /// 0, or the signal that asked us to stop; written only by the handler.
    nonisolated(unsafe) static let flag: UnsafeMutablePointer<sig_atomic_t> = {
        let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    static func install() {
        _ = flag
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            if StopSignal.flag.pointee != 0 { _exit(128 + signal) }
            StopSignal.flag.pointee = signal
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
    }

    /// Back to the default action (the process ends at once) outside the training loops, so that
    /// evaluation, tables and previews stop when told to.
    static func restoreDefaults() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    static var received: Int32? {
        let value = flag.pointee
        return value == 0 ? nil : value
    }
}

/// Training stopped by a signal once its state was saved: exit status 128 + `signal`.
struct Interrupted: Error, CustomStringConvertible {
    let signal: Int32
    let description: String
}
