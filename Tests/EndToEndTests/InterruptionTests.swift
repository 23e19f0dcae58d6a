import Foundation
import XCTest

/// SIGINT/SIGTERM mid-run: the output is finalised and playable, the log matches it, the status is 128+signal.
final class InterruptionTests: XCTestCase {
    private func interruptMidRun(signal: Int32, expectedStatus: Int32) throws {
        let directory = try TemporaryDirectory()
        let input = directory.path("long.mp4"), output = directory.path("out.mp4"), log = directory.path("out.params.csv")
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=640x480:rate=30 -f lavfi -i sine -frames:v 900 -t 30 -c:v libx264 -preset ultrafast -c:a aac '\(input)'")
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
}
