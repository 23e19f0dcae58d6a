import Foundation

/// A fixed-capacity FIFO joining two pipeline stages.
///
/// `push` blocks while the queue is full (back-pressure: a slow encoder slows the decoder);
/// `pop` blocks while it is empty. `close()` ends the stream after the queued items;
/// `cancel()` drops them and wakes every waiter at once (an error or a stop elsewhere).
public final class BoundedQueue<Element>: @unchecked Sendable {
    private var state: BoundedQueueState<Element>
    private let condition = NSCondition()

    public init(capacity: Int) {
        state = BoundedQueueState(capacity: capacity)
    }

    /// Appends `element`, waiting for room. Returns false (dropping it) if the queue was cancelled or closed.
    @discardableResult
    public func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch state.push(element) {
            case .accepted:
                condition.broadcast()
                return true
            case .rejected:
                return false
            case .full:
                condition.wait()
            }
        }
    }

    /// The next element, waiting for one; nil once the queue is closed and drained, or cancelled.
    public func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch state.pop() {
            case .element(let e):
                condition.broadcast()
                return e
            case .finished:
                return nil
            case .empty:
                condition.wait()
            }
        }
    }

    /// No more pushes; consumers drain what is queued, then get nil.
    public func close() {
        condition.lock()
        state.close()
        condition.broadcast()
        condition.unlock()
    }

    /// Drops everything queued and ends the stream for producers and consumers alike.
    public func cancel() {
        condition.lock()
        state.cancel()
        condition.broadcast()
        condition.unlock()
    }

    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.count
    }
}

/// The queue's logic as a plain value, so it can be tested without threads.
struct BoundedQueueState<Element> {
    enum PushResult { case accepted, full, rejected }
    enum PopResult { case element(Element), empty, finished }

    let capacity: Int
    private var items: [Element?]
    private var head = 0
    private(set) var count = 0
    private(set) var isClosed = false
    private(set) var isCancelled = false

    init(capacity: Int) {
        precondition(capacity > 0, "a bounded queue needs room for at least one element")
        self.capacity = capacity
        items = Array(repeating: nil, count: capacity)
    }

    mutating func push(_ element: Element) -> PushResult {
        if isCancelled || isClosed { return .rejected }
        if count == capacity { return .full }
        items[(head + count) % capacity] = element
        count += 1
        return .accepted
    }

    mutating func pop() -> PopResult {
        if isCancelled { return .finished }
        if count == 0 { return isClosed ? .finished : .empty }
        let element = items[head]!
        items[head] = nil
        head = (head + 1) % capacity
        count -= 1
        return .element(element)
    }

    mutating func close() { isClosed = true }

    mutating func cancel() {
        isCancelled = true
        for i in items.indices { items[i] = nil }
        count = 0
    }
}
