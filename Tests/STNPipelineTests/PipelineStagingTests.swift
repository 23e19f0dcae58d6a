import Foundation
import XCTest
import STNMedia
@testable import STNPipeline
import STNRuntime

/// The staged pipeline under controlled interleavings: order, completeness, back-pressure,
/// a failing stage, and a stop request. Stages are stepped with gates, never with sleeps.
final class PipelineStagingTests: XCTestCase {
    private var directory: URL!
    private let frameCount = 160

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stn-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A small lossless input whose frame i has every luma sample equal to i (mod 256).
    private func makeInput() throws -> String {
        let path = directory.appendingPathComponent("in.nut").path
        let writer = try MediaWriter(
            path: path, format: nil,
            video: OutputVideoFormat(width: 48, height: 32, frameRate: Rational(25, 1), timeBase: Rational(1, 25)),
            settings: EncoderSettings(codec: "rawvideo"), audioSource: nil)
        for i in 0..<frameCount {
            let frame = VideoFrame(width: 48, height: 32)
            for plane in 0..<3 {
                let (w, h) = frame.planeSize(plane)
                for y in 0..<h {
                    (frame.mutableBaseAddress(plane) + y * frame.stride(plane)).update(
                        repeating: plane == 0 ? UInt8(i % 256) : 128, count: w)
                }
            }
            frame.setTimestamp(pts: Int64(i), seconds: Double(i) / 25)
            try writer.write(frame)
        }
        try writer.finish()
        return path
    }

    private func options(input: String, observer: any PipelineObserver) -> RectifyOptions {
        var options = RectifyOptions(
            input: input, output: directory.appendingPathComponent("out.nut").path,
            transforms: .fixed(kind: .attention, parameters: [1, 0, 0]))
        options.outputWidth = 48
        options.outputHeight = 32
        options.canvas = .frame
        options.encoder = EncoderSettings(codec: "rawvideo")
        options.observer = observer
        return options
    }

    /// Luma of each output frame (all samples of a frame are equal by construction).
    private func outputLuma(_ path: String) throws -> [UInt8] {
        let reader = try MediaReader(path: path)
        var values: [UInt8] = []
        while let item = try reader.next() {
            if case .video(let frame) = item { values.append(frame.baseAddress(0)[0]) }
        }
        return values
    }

    private func logFrames(_ options: RectifyOptions) throws -> [Int] {
        try ParameterLog(contentsOf: options.logPath!).rows.map(\.frame)
    }

    func testOrderCompletenessAndBackPressureUnderRandomInterleavings() throws {
        let input = try makeInput()
        let observer = SteppingObserver(seed: 7)
        let options = options(input: input, observer: observer)
        let pipeline = RectifyPipeline(options: options)
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Thread {
            result.summary = try? pipeline.run()
            done.signal()
        }.start()
        // Release the encoder one frame at a time, each time only once the decoder has got
        // 4 frames ahead (or finished): the decoder runs as far ahead as the queues let it.
        for i in 0..<frameCount {
            observer.waitForDecoded(atLeast: min(i + 4, frameCount - 1))
            observer.releaseEncode()
        }
        done.wait()
        XCTAssertEqual(result.summary?.framesWritten, frameCount)
        XCTAssertEqual(observer.encodeOrder, Array(0..<frameCount), "the encoder sees frames in order")
        XCTAssertEqual(try logFrames(options), Array(0..<frameCount), "one log row per frame, in order")
        XCTAssertEqual(
            try outputLuma(options.output), (0..<frameCount).map { UInt8($0 % 256) }, "each frame's own pixels")
        // decoded − encoded is bounded by the queues (3 × 8), the output frame pool (10) and one frame in hand per stage.
        XCTAssertLessThanOrEqual(
            observer.maximumLead, 3 * RectifyPipeline.queueCapacity + 10 + 4, "back-pressure bounds the decoder")
        XCTAssertGreaterThanOrEqual(observer.maximumLead, 4)
    }

    func testAFailingStageStopsEveryStageAndFinalisesTheOutput() throws {
        let input = try makeInput()
        let options = options(input: input, observer: FailingObserver(stage: .sample, frame: 50))
        XCTAssertThrowsError(try RectifyPipeline(options: options).run()) { error in
            XCTAssertEqual("\(error)", "sample stage failed at frame 50")
        }
        // Frames already past the failing stage may be dropped with the cancelled queues; what
        // was encoded is a readable prefix of the input, and the log matches it row for row.
        let luma = try outputLuma(options.output)
        XCTAssertLessThanOrEqual(luma.count, 50)
        XCTAssertEqual(luma, (0..<luma.count).map { UInt8($0) }, "a prefix of the frames, in a readable output")
        XCTAssertEqual(try logFrames(options), Array(0..<luma.count), "and exactly those in the log")
    }

    func testAStopRequestFinalisesOutputAndLog() throws {
        let input = try makeInput()
        let cancellation = CancellationToken()
        let options = options(input: input, observer: StoppingObserver(frame: 30, cancellation: cancellation))
        let summary = try RectifyPipeline(options: options).run(cancellation: cancellation)
        XCTAssertEqual(summary.interruptedBy, SIGINT)
        XCTAssertGreaterThanOrEqual(summary.framesWritten, 30)
        XCTAssertLessThan(summary.framesWritten, frameCount)
        let luma = try outputLuma(options.output)
        XCTAssertEqual(luma.count, summary.framesWritten)
        XCTAssertEqual(try logFrames(options), Array(0..<summary.framesWritten))
    }
}

private final class ResultBox: @unchecked Sendable {
    var summary: RectifySummary?
}

/// Holds the encode stage at a gate per frame; localise and sample yield the CPU a random
/// number of times per frame, so every run interleaves the stages differently.
private final class SteppingObserver: PipelineObserver, @unchecked Sendable {
    private let condition = NSCondition()
    private var decoded = -1
    private var released = 0
    private var encoded = 0
    private(set) var encodeOrder: [Int] = []
    private(set) var maximumLead = 0
    private var random: SystemRandomNumberGeneratorSeeded

    init(seed: UInt64) { random = SystemRandomNumberGeneratorSeeded(seed: seed) }

    func willProcess(stage: PipelineStage, frame index: Int) throws {
        switch stage {
        case .decode:
            condition.lock()
            decoded = index
            maximumLead = max(maximumLead, decoded - encoded)
            condition.broadcast()
            condition.unlock()
        case .localise, .sample:
            condition.lock()
            let spins = Int(random.next() % 50)
            condition.unlock()
            for _ in 0..<spins { sched_yield() }
        case .encode:
            condition.lock()
            while released <= encoded { condition.wait() }
            encoded += 1
            encodeOrder.append(index)
            condition.broadcast()
            condition.unlock()
        }
    }

    func waitForDecoded(atLeast index: Int) {
        condition.lock()
        while decoded < index { condition.wait() }
        condition.unlock()
    }

    func releaseEncode() {
        condition.lock()
        released += 1
        condition.broadcast()
        condition.unlock()
    }
}

private struct StageFailure: Error, CustomStringConvertible {
    let stage: PipelineStage, frame: Int
    var description: String { "\(stage.rawValue) stage failed at frame \(frame)" }
}

private struct FailingObserver: PipelineObserver {
    let stage: PipelineStage, frame: Int
    func willProcess(stage: PipelineStage, frame index: Int) throws {
        if stage == self.stage && index == frame { throw StageFailure(stage: stage, frame: frame) }
    }
}

private struct StoppingObserver: PipelineObserver {
    let frame: Int
    let cancellation: CancellationToken
    func willProcess(stage: PipelineStage, frame index: Int) throws {
        if stage == .encode && index == frame { cancellation.cancel(signal: SIGINT) }
    }
}

/// A small deterministic generator (SplitMix64).
private struct SystemRandomNumberGeneratorSeeded {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
