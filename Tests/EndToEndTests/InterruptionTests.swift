import Foundation
import XCTest

/// SIGINT/SIGTERM mid-run: the output is finalised and playable, the log matches it, the status is 128+signal.
final class InterruptionTests: XCTestCase {
    private func interruptMidRun(signal: Int32, expectedStatus: Int32) throws {
        let directory = try TemporaryDirectory()
        let input = directory.path("long.mp4"), output = directory.path("out.mp4"),
            log = directory.path("out.params.csv")
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=640x480:rate=30 -f lavfi -i sine -frames:v 900 -t 30 -c:v libx264 -preset ultrafast -c:a aac '\(input)'"
        )
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.stnVideo)
        process.arguments = ["--theta", "0.5,0,0", "--size", "512x512", "--preset", "veryslow", input, output]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until some frames are encoded (the log grows row by row), then interrupt.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let rows = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if rows > 10 { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, expectedStatus, stderr)
        let streams = try Tools.probeStreams(output)
        let frames = streams.first?.frames ?? 0
        XCTAssertGreaterThan(frames, 9, "frames processed before the signal are kept")
        XCTAssertLessThan(frames, 900, "the run stopped early")
        XCTAssertTrue(streams.contains { $0.codec == "aac" })
        let rows = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count - 1
        XCTAssertEqual(rows, frames, "one log row per frame in the output")
        let decodeErrors = try Tools.shell("ffmpeg -v error -i '\(output)' -f null - 2>&1")
        XCTAssertEqual(decodeErrors.stdoutText, "", "the output plays without errors")
    }

    func testSIGINTFinalisesTheOutput() throws {
        try interruptMidRun(signal: SIGINT, expectedStatus: 130)
    }

    func testSIGTERMFinalisesTheOutput() throws {
        try interruptMidRun(signal: SIGTERM, expectedStatus: 143)
    }

    /// A producer that stalls (a live source, a paused pipe): the reader thread sits in a
    /// blocking read, and the signal must still stop the run at once, not when data comes.
    func testSIGTERMStopsARunWaitingOnAStalledPipe() throws {
        let directory = try TemporaryDirectory()
        let clip = directory.path("clip.nut"), output = directory.path("out.mkv")
        // Enough data for FFmpeg's stream probing, which would otherwise wait for more.
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 100 -c:v libx264 -preset ultrafast -g 10 '\(clip)'")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.stnVideo)
        process.arguments = ["--theta", "0.5,0,0", "-", output]
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(try Data(contentsOf: URL(fileURLWithPath: clip)))  // and the pipe stays open
        let log = directory.path("out.params.csv")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline,
            ((try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 11
        {
            usleep(20_000)
        }
        try terminateWhileThePipeStalls(process, input: input)
        let frames = try Tools.probeStreams(output).first?.frames ?? 0
        XCTAssertGreaterThanOrEqual(frames, 10, "the frames processed before the signal are kept")
        let rows = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count - 1
        XCTAssertEqual(rows, frames, "one log row per frame in the output")
    }

    /// The reader of standard output stops reading (a stalled consumer): the writer sits in a
    /// blocking write, and SIGINT/SIGTERM must still end the run within a second or two, with
    /// the usual message and status, what was written being a readable prefix.
    func testSignalStopsARunWhoseOutputPipeStalls() throws {
        let directory = try TemporaryDirectory()
        let clip = directory.path("clip.mp4"), written = directory.path("written.nut")
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 200 -c:v libx264 -preset ultrafast '\(clip)'")
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tools.stnVideo)
            // Uncompressed 256×256 frames (98 KB each) fill a pipe's 64 KB buffer at the first frame.
            process.arguments = ["--theta", "0.5,0,0", "--codec", "rawvideo", clip, "-"]
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            var firstBytes = Data()  // three frames or so are read, then nobody reads
            while firstBytes.count < 300_000 {
                let chunk = output.fileHandleForReading.readData(ofLength: 300_000 - firstBytes.count)
                if chunk.isEmpty { break }
                firstBytes += chunk
            }
            usleep(1_500_000)
            XCTAssertTrue(process.isRunning, "blocked on the stalled pipe")
            kill(process.processIdentifier, signal)
            let signalled = Date()
            while process.isRunning && Date().timeIntervalSince(signalled) < 10 { usleep(10_000) }
            XCTAssertFalse(process.isRunning, "still waiting for the output pipe 10 s after the signal")
            XCTAssertLessThan(Date().timeIntervalSince(signalled), 2.5, "stopped promptly")
            let rest = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, status)
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertTrue(
                message.hasPrefix("stn-video: interrupted; standard output was not being read; it holds at most "),
                message)
            XCTAssertEqual(message.split(separator: "\n").count, 1, message)
            try (firstBytes + rest).write(to: URL(fileURLWithPath: written))
            let frames = try Tools.probeStreams(written).first?.frames ?? 0
            XCTAssertGreaterThanOrEqual(frames, 1, "what was written is a readable prefix")
        }
    }

    /// The same while FFmpeg still probes the pipe: nothing is created, the status says why.
    func testSIGTERMWhileTheInputIsStillOpeningCreatesNoOutput() throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out.mkv")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.stnVideo)
        process.arguments = ["--theta", "0.5,0,0", "-", output]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        try process.run()
        usleep(2_000_000)  // time to start and install the handlers, even on a loaded machine
        try terminateWhileThePipeStalls(process, input: input)
        XCTAssertEqual(
            String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            "stn-video: interrupted before the first frame\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    /// SIGTERM to `process`, whose standard input `input` is open but silent: it must end
    /// within 10 s with status 143 (the pipe is closed only afterwards).
    private func terminateWhileThePipeStalls(
        _ process: Process, input: Pipe, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        kill(process.processIdentifier, SIGTERM)
        let signalled = Date()
        while process.isRunning && Date().timeIntervalSince(signalled) < 10 { usleep(10_000) }
        XCTAssertFalse(process.isRunning, "still waiting for the pipe 10 s after SIGTERM", file: file, line: line)
        input.fileHandleForWriting.closeFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143, file: file, line: line)
    }
}
