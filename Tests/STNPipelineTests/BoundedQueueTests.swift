import Dispatch
import XCTest
@testable import STNPipeline

final class BoundedQueueTests: XCTestCase {
    func testStateMachineIsFIFOAndBounded() {
        var state = BoundedQueueState<Int>(capacity: 2)
        guard case .accepted = state.push(1), case .accepted = state.push(2) else { return XCTFail("room for two") }
        guard case .full = state.push(3) else { return XCTFail("third push must wait") }
        guard case .element(1) = state.pop(), case .accepted = state.push(3) else { return XCTFail("FIFO") }
        guard case .element(2) = state.pop(), case .element(3) = state.pop() else { return XCTFail("FIFO") }
        guard case .empty = state.pop() else { return XCTFail("empty") }
    }

    func testCloseDrainsThenFinishes() {
        var state = BoundedQueueState<Int>(capacity: 4)
        _ = state.push(7)
        state.close()
        guard case .rejected = state.push(8) else { return XCTFail("no push after close") }
        guard case .element(7) = state.pop(), case .finished = state.pop() else { return XCTFail("drain, then finish") }
    }

    func testCancelDropsEverything() {
        var state = BoundedQueueState<Int>(capacity: 4)
        _ = state.push(1)
        _ = state.push(2)
        state.cancel()
        XCTAssertEqual(state.count, 0)
        guard case .finished = state.pop(), case .rejected = state.push(3) else { return XCTFail("cancelled") }
    }

    /// A producer far faster than its consumer never gets more than `capacity` items ahead,
    /// and every item arrives once, in order.
    func testBackPressureAndOrderAcrossThreads() {
        let queue = BoundedQueue<Int>(capacity: 3)
        let produced = Counter()
        let group = DispatchGroup()
        DispatchQueue(label: "producer").async(group: group) {
            for i in 0..<500 {
                queue.push(i)
                produced.increment()
            }
            queue.close()
        }
        var received: [Int] = []
        var maxAhead = 0
        while let item = queue.pop() {
            received.append(item)
            maxAhead = max(maxAhead, produced.value - received.count)
        }
        group.wait()
        XCTAssertEqual(received, Array(0..<500))
        // The producer may finish one push after the consumer's count was read: capacity + 1.
        XCTAssertLessThanOrEqual(maxAhead, 4)
    }

    /// Cancelling wakes a consumer blocked on an empty queue and a producer blocked on a full one.
    func testCancelWakesBlockedWaiters() {
        let empty = BoundedQueue<Int>(capacity: 1)
        let full = BoundedQueue<Int>(capacity: 1)
        full.push(0)
        let group = DispatchGroup()
        let results = Results()
        DispatchQueue(label: "consumer").async(group: group) { results.popped = empty.pop() }
        DispatchQueue(label: "producer").async(group: group) { results.pushed = full.push(1) }
        // Both are blocked (nothing can complete them); cancel must release them.
        empty.cancel()
        full.cancel()
        XCTAssertEqual(group.wait(timeout: .now() + 5), .success, "cancel woke both waiters")
        XCTAssertNil(results.popped)
        XCTAssertEqual(results.pushed, false)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

private final class Results: @unchecked Sendable {
    var popped: Int? = -1
    var pushed: Bool?
}
