import Foundation
import XCTest

/// Every error a user can provoke: one line `stn-video: error: …` naming the file, and the right exit status.
final class ErrorTests: ClipTestCase {
    private func stnVideo(_ arguments: [String]) throws -> RunResult {
        try Tools.run(Tools.stnVideo, arguments)
    }

    private func assertRuntimeError(
        _ arguments: [String], _ expectedPrefix: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let r = try stnVideo(arguments)
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(
            r.stderr.hasPrefix("stn-video: error: " + expectedPrefix), "got: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)", file: file, line: line)
    }

    private func assertUsageError(
        _ arguments: [String], _ fragments: String..., file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let r = try stnVideo(arguments)
        XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("stn-video: error: "), r.stderr, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(r.stderr.contains(fragment), "\(fragment) not in: \(r.stderr)", file: file, line: line)
        }
    }

    func testMissingInput() throws {
        let missing = directory.path("nope.mp4")
        try assertRuntimeError(["--theta", "1,0,0", missing, directory.path("o.mp4")], "\(missing): no such file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path("o.mp4")), "no output is created")
    }

    func testInputIsADirectory() throws {
        try assertRuntimeError(
            ["--theta", "1,0,0", directory.url.path, directory.path("o.mp4")], "\(directory.url.path): ")
    }

    func testNotAMediaFile() throws {
        let text = directory.path("notes.mp4")
        try "hello, this is not a video\n".write(toFile: text, atomically: true, encoding: .utf8)
        try assertRuntimeError(["--theta", "1,0,0", text, directory.path("o.mp4")], "\(text): ")
    }

    func testNoVideoStream() throws {
        let audio = directory.path("tone.m4a")
        try Tools.ffmpeg("-f lavfi -i sine -t 0.5 -c:a aac '\(audio)'")
        try assertRuntimeError(["--theta", "1,0,0", audio, directory.path("o.mp4")], "\(audio): no video stream")
    }

    func testMissingOutputDirectory() throws {
        let output = directory.path("no/such/dir/o.mp4")
        try assertRuntimeError(["--theta", "1,0,0", clip, output], "\(output): directory")
    }

    func testOutputEqualToInputIsRefusedAndTheInputIsUntouched() throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: clip))
        try assertRuntimeError(["--theta", "1,0,0", clip, clip], "\(clip!): the output is the same file as the input")
        let viaOtherPath = directory.url.appendingPathComponent("./clip.mp4").path
        try assertRuntimeError(["--theta", "1,0,0", clip, viaOtherPath], "")
        let link = directory.path("link.mp4")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: clip)
        try assertRuntimeError(["--theta", "1,0,0", clip, link], "\(link): the output is the same file as the input")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: clip)), before)
    }

    func testBadTheta() throws {
        for (theta, reason) in [
            ("1,2", "got 2"), ("a,b,c", "'a' is not a finite number"), ("0,0,0", "s must not be 0"),
            ("1,0,0,0", "got 4"), ("nan,0,0", "'nan' is not a finite number"), ("1,,0,0", "'' is not a finite number")
        ] {
            try assertUsageError(["--theta", theta, clip, directory.path("o.mp4")], "--theta <numbers>': ", reason)
        }
    }

    func testBadSize() throws {
        for (size, reason) in [
            ("255x256", "must be even"), ("0x0", "must be even"), ("256", "expected WxH"), ("wxh", "expected WxH"),
            ("-2x4", "must be even")
        ] {
            try assertUsageError(
                ["--theta", "1,0,0", "--size=\(size)", clip, directory.path("o.mp4")], "--size <WxH>': ", reason)
        }
    }

    func testConflictingTransformSourcesAndMissingArguments() throws {
        try assertUsageError(
            ["--theta", "1,0,0", "--model", "m.safetensors", clip, directory.path("o.mp4")], "Use only one of")
        try assertUsageError(["--theta", "1,0,0"], "Missing expected argument")
        try assertUsageError(["--theta", "1,0,0", "--lookahead", "-1", clip, directory.path("o.mp4")], "--lookahead")
        try assertUsageError(
            ["--search", "0", clip, directory.path("o.mp4")], "--search must be from 0.25 to 8 half-sides")
    }

    func testMalformedModelFile() throws {
        let model = directory.path("bad.safetensors")
        try Data("definitely not a model".utf8).write(to: URL(fileURLWithPath: model))
        try assertRuntimeError(["--model", model, clip, directory.path("o.mp4")], "\(model): ")
        try assertRuntimeError(
            ["--model", directory.path("none.safetensors"), clip, directory.path("o.mp4")],
            "\(directory.path("none.safetensors")): ")
    }

    func testBadCodec() throws {
        try assertRuntimeError(
            ["--theta", "1,0,0", "--codec", "nosuchcodec", clip, directory.path("o.mp4")],
            "\(directory.path("o.mp4")): unknown video encoder 'nosuchcodec'")
        try assertRuntimeError(
            ["--theta", "1,0,0", "--codec", "ffv1", clip, directory.path("o.mp4")],
            "\(directory.path("o.mp4")): container 'mp4' cannot hold codec 'ffv1'")
    }

    func testUnknownContainer() throws {
        try assertRuntimeError(
            ["--theta", "1,0,0", clip, directory.path("o.weird")],
            "\(directory.path("o.weird")): cannot choose a container")
    }

    func testMalformedTransformsLog() throws {
        let log = directory.path("bad.csv")
        try "frame,pts_time,foo\n1,2,3\n".write(toFile: log, atomically: true, encoding: .utf8)
        try assertRuntimeError(["--transforms", log, clip, directory.path("o.mp4")], "\(log): not a parameter log")
    }

    func testDamagedPacketsAreSkippedWithACount() throws {
        let ts = directory.path("clip.ts"), damaged = directory.path("damaged.ts"), output = directory.path("o.mkv")
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 100 -c:v libx264 -preset ultrafast -g 10 '\(ts)'")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ts)))
        // Overwrite the payload (not the 4-byte headers) of 40 transport packets in the middle with
        // the same pseudo-random bytes every run (xorshift64), so the damage does not vary: with
        // the system's generator, an occasional draw decoded without an error and the test failed.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for packet in stride(from: bytes.count / 3 / 188, to: bytes.count / 3 / 188 + 40, by: 1) {
            for i in (packet * 188 + 4)..<(packet * 188 + 188) {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                bytes[i] = UInt8(truncatingIfNeeded: state >> 56)
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let r = try stnVideo(["--theta", "1,0,0", "--size", "64x64", damaged, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stderr.hasPrefix("stn-video: warning: \(damaged): ")
                && r.stderr.contains("damaged packet(s) skipped or concealed"), r.stderr)
        let frames = try Tools.probeStreams(output).first?.frames ?? 0
        XCTAssertGreaterThan(frames, 50, "decoding goes on past the damage")
    }
}
