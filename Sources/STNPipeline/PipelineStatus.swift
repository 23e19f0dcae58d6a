import Foundation

/// The flow status every stage shares: the first error stops all of them.
final class PipelineStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?
    private var cancellables: [() -> Void] = []

    /// Registers a queue (or anything) to be cancelled when a stage fails.
    func onFailure(_ cancel: @escaping () -> Void) {
        lock.lock()
        cancellables.append(cancel)
        lock.unlock()
    }

    /// Records `error` if it is the first, and wakes every stage.
    func fail(_ error: Error) {
        lock.lock()
        let first = self.error == nil
        if first { self.error = error }
        let toCancel = cancellables
        lock.unlock()
        if first { toCancel.forEach { $0() } }
    }

    var firstError: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}

/// A counter one stage writes and the progress line reads.
final class FrameCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() {
        lock.lock()
        value += 1
        lock.unlock()
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
