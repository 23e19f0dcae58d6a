import Foundation
import XCTest
@testable import STNCore

/// OpenBLAS is loaded single-threaded before its constructor could start idle worker threads
/// (which spin for ~0.1 s of CPU in every process), and the GEMM it provides is used.
final class OpenBLASLoadingTests: XCTestCase {
    func testOpenBLASRunsOneThreadAndNoWorkers() throws {
        XCTAssertEqual(BLASConfiguration.threads, 1)
        XCTAssertEqual(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"], "1")
        // A 1×1 convolution is exactly one GEMM: y[o] = Σ_c w[o, c] · x[c] + b[o].
        var random = RandomSource(seed: 1)
        let conv = Conv2d(
            inputShape: [3, 2, 2], outputChannels: 2, kernelSize: 1, group: .localisation, random: &random)
        let w: [Float] = [1, 2, 3, -1, 0.5, 0.25], b: [Float] = [0.5, -2]
        for i in w.indices { conv.weight.value[i] = w[i] }
        for i in b.indices { conv.bias.value[i] = b[i] }
        let x: [Float] = [1, 2, 3, 4, 0, 1, 0, 1, -1, 2, 4, 8]  // [C=3, 2×2]
        let y = x.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: conv.forward($0.baseAddress!, batch: 1, training: false), count: 8))
        }
        var expected = [Float](repeating: 0, count: 8)
        for o in 0..<2 {
            for p in 0..<4 { expected[o * 4 + p] = b[o] + (0..<3).reduce(0) { $0 + w[o * 3 + $1] * x[$1 * 4 + p] } }
        }
        XCTAssertEqual(y, expected)
    }

    /// OpenBLAS 0.3.21 falls back to its SSE3 kernels on CPUs newer than it (2.2× slower here);
    /// the loader names the right ones then.
    func testOpenBLASRunsVectorKernelsTheCPUSupports() throws {
        guard BLASConfiguration.cpuRunsAVX2 else { throw XCTSkip("this CPU has no AVX2: the SSE kernels are right") }
        XCTAssertNotEqual(BLASConfiguration.core.lowercased(), "prescott")
        XCTAssertFalse(BLASConfiguration.core.isEmpty, "OpenBLAS not loaded")
    }
}
