import Foundation
import STNRuntime
import XCTest

final class CancellationTokenTests: XCTestCase {
    func testCancelAndReset() {
        let token = CancellationToken()
        XCTAssertNil(token.signal)
        token.cancel(signal: SIGTERM)
        XCTAssertEqual(token.signal, SIGTERM)
        XCTAssertEqual(token.readInterruptFlag.pointee, SIGTERM, "what FFmpeg's callback polls")
        XCTAssertFalse(token.outputAbandoned)
        token.reset()
        XCTAssertFalse(token.isCancelled)
    }

    /// Inside handlingSignals a SIGINT sets the token instead of ending the process.
    func testASignalInsideHandlingSignalsSetsTheToken() {
        let token = CancellationToken()
        token.handlingSignals {
            raise(SIGINT)
            XCTAssertEqual(token.signal, SIGINT)
        }
    }

    /// No write in progress: nothing to give up.
    func testAbandoningWithoutABlockedWriteDoesNothing() {
        let token = CancellationToken()
        XCTAssertFalse(token.abandonBlockedWrite())
        XCTAssertFalse(token.outputAbandoned)
        XCTAssertEqual(token.writeInterruptFlag.pointee, 0)
    }

    /// A write blocked on a pipe nobody reads returns once it is given up.
    func testABlockedWriteIsGivenUp() throws {
        let token = CancellationToken()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        let writeEnd = fds[1]
        let done = DispatchSemaphore(value: 0)
        signal(SIGPIPE, SIG_IGN)  // should the test fail, the pipe closes under a blocked writer
        nonisolated(unsafe) var gaveUp = false
        let writer = Thread {
            let chunk = [UInt8](repeating: 0, count: 1 << 20)  // more than a pipe holds
            token.duringBlockingWrite {
                chunk.withUnsafeBytes { bytes in
                    // As FFmpeg's retry loop does: the flag is polled before every write, since a
                    // woken write returns EINTR, or the bytes it wrote before blocking.
                    var offset = 0
                    while offset < bytes.count {
                        if token.outputAbandoned { gaveUp = true; break }
                        let n = write(writeEnd, bytes.baseAddress! + offset, bytes.count - offset)
                        if n < 0 && errno != EINTR { break }
                        offset += max(n, 0)
                    }
                }
            }
            done.signal()
        }
        writer.start()
        usleep(200_000)
        XCTAssertEqual(done.wait(timeout: .now()), .timedOut, "the write blocks")
        XCTAssertTrue(token.abandonBlockedWrite())
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "the write returned")
        XCTAssertTrue(gaveUp)
        XCTAssertEqual(token.writeInterruptFlag.pointee, 1)
    }
}
