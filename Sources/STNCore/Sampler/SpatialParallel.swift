import Dispatch

/// A raw pointer that may cross into `concurrentPerform` workers.
///
/// Sound only because every worker writes a disjoint slice (one batch item each) and the
/// caller's buffer outlives the synchronous `concurrentPerform` call.
struct SpatialSendablePointer<Pointee>: @unchecked Sendable {
    let pointer: UnsafePointer<Pointee>
    init(_ pointer: UnsafePointer<Pointee>) { self.pointer = pointer }
}

/// The mutable counterpart of `SpatialSendablePointer`.
struct SpatialSendableMutablePointer<Pointee>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Pointee>
    init(_ pointer: UnsafeMutablePointer<Pointee>) { self.pointer = pointer }
}

/// Runs `body(item)` for every batch item, in parallel when the work is large enough to pay
/// for the dispatch (grid generators and the sampler of one batch item are independent).
enum SpatialParallel {
    /// Below this many scalar operations in total, threads cost more than they save.
    static let minimumParallelWork = 1 << 15

    static func forEachItem(batch: Int, workPerItem: Int, _ body: @Sendable (Int) -> Void) {
        if batch > 1 && batch * workPerItem >= minimumParallelWork {
            DispatchQueue.concurrentPerform(iterations: batch, execute: body)
        } else {
            for item in 0..<batch { body(item) }
        }
    }
}
