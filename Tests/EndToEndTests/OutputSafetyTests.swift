import Foundation
import XCTest

/// DESIGN.md §5's "never overwrites its own input", however the input is named, and the other
/// ways a run could lose a user's files or fail late; out-of-range option values are usage errors, not crashes.
final class OutputSafetyTests: ClipTestCase {
    private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    private func assertRefused(
        _ arguments: [String], stdin: String? = nil, _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let r = try Tools.run(Tools.stnVideo, arguments, stdinPath: stdin)
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr, "stn-video: error: \(message)\n", file: file, line: line)
    }

    func testTheInputIsNeverOverwrittenHoweverItIsNamed() throws {
        let before = try bytes(clip)
        // FFmpeg's file: protocol spelling of the same path.
        try assertRefused(
            ["--theta", "0.5,0,0", clip, "file:" + clip],
            "file:\(clip!): the output is the same file as the input; refusing to overwrite it")
        // The input on standard input, redirected from the output file.
        let mkv = directory.path("clip.mkv")
        try Tools.ffmpeg("-i '\(clip!)' -c copy '\(mkv)'")
        let mkvBefore = try bytes(mkv)
        try assertRefused(
            ["--theta", "0.5,0,0", "-", mkv], stdin: mkv,
            "\(mkv): the output is the same file as the input; refusing to overwrite it")
        XCTAssertEqual(try bytes(clip), before)
        XCTAssertEqual(try bytes(mkv), mkvBefore)
    }

    func testNeitherTheModelNorAReplayedLogIsOverwritten() throws {
        let model = directory.path("m.safetensors")
        let bundled = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("samples/model/attention-fashion.safetensors")
        try FileManager.default.copyItem(at: bundled, to: URL(fileURLWithPath: model))
        try assertRefused(
            ["--model", model, clip, model],
            "\(model): the output is the same file as the input \(model); refusing to overwrite it")
        XCTAssertEqual(try bytes(model), try bytes(bundled.path))

        let first = directory.path("first.mp4"), log = directory.path("first.params.csv")
        XCTAssertEqual(try Tools.run(Tools.stnVideo, ["--theta", "0.5,0,0", clip, first]).status, 0)
        let logBefore = try bytes(log)
        try assertRefused(
            ["--transforms", log, "--log", log, clip, directory.path("again.mp4")],
            "\(log): the parameter log is the same file as the input \(log); refusing to overwrite it")
        XCTAssertEqual(try bytes(log), logBefore)
    }

    func testTwoOutputsOnOneFileAreRefused() throws {
        let same = directory.path("same.mp4")
        try assertRefused(
            ["--theta", "0.5,0,0", "--log", same, "--overlay", same, clip, directory.path("o.mkv")],
            "\(same): the overlay video and the parameter log would be the same file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: same))
    }

    func testAFailureWhileSettingUpLeavesEarlierFilesIntact() throws {
        let output = directory.path("keep.mp4"), log = directory.path("keep.params.csv")
        XCTAssertEqual(try Tools.run(Tools.stnVideo, ["--theta", "0.5,0,0", clip, output]).status, 0)
        let before = try bytes(output), logBefore = try bytes(log)
        // A log that cannot be created: the output is not touched, nor the directory in the way.
        let logDirectory = directory.path("logs")
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        try "precious\n".write(toFile: logDirectory + "/a.txt", atomically: true, encoding: .utf8)
        try assertRefused(
            ["--theta", "0.5,0,0", "--log", logDirectory, clip, output],
            "\(logDirectory): is a directory; the parameter log must be a file")
        XCTAssertEqual(try bytes(output), before, "the output of the earlier run is untouched")
        XCTAssertEqual(try String(contentsOfFile: logDirectory + "/a.txt", encoding: .utf8), "precious\n")
        // An output that cannot be opened after the log was made ready: the earlier log keeps its
        // rows, and a log this run created is removed again.
        let r = try Tools.run(Tools.stnVideo, ["--theta", "0.5,0,0", "--codec", "ffv1", clip, output])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(try bytes(log), logBefore, "the earlier log is untouched")
        let fresh = directory.path("fresh.csv")
        XCTAssertEqual(
            try Tools.run(Tools.stnVideo, ["--theta", "0.5,0,0", "--codec", "ffv1", "--log", fresh, clip, output])
                .status, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh), "no empty log left behind")
    }

    func testStandardOutputRedirectedOntoAnotherOutputIsRefused() throws {
        let log = directory.path("same.csv")
        let r = try Tools.shell("'\(Tools.stnVideo)' --theta 0.5,0,0 --log '\(log)' '\(clip!)' - > '\(log)'")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "stn-video: error: \(log): the parameter log and the output would be the same file\n")
    }

    func testAFileURLLogIsWrittenToItsPath() throws {
        let log = directory.path("url.csv")
        XCTAssertEqual(
            try Tools.run(Tools.stnVideo, ["--theta", "0.5,0,0", "--log", "file:" + log, clip, directory.path("o.mp4")])
                .status, 0)
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count, 11)
    }

    func testADeviceOutputGetsNoDefaultLogBesideIt() throws {
        try? FileManager.default.removeItem(atPath: "/dev/null.params.csv")
        let r = try Tools.run(Tools.stnVideo, ["--theta", "0.5,0,0", "--format", "nut", clip, "/dev/null"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/null.params.csv"))
    }

    func testNonFiniteInputsAreRefusedBeforeAnyOutput() throws {
        // A model whose last weight is NaN, as a diverged training run would save it.
        let bundled = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("samples/model/attention-fashion.safetensors")
        var model = try Data(contentsOf: bundled)
        model.replaceSubrange((model.count - 4)..<model.count, with: [0x00, 0x00, 0xC0, 0x7F])
        let nanModel = directory.path("nan.safetensors"), output = directory.path("o.mp4")
        try model.write(to: URL(fileURLWithPath: nanModel))
        let r = try Tools.run(Tools.stnVideo, ["--model", nanModel, clip, output])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(
            r.stderr.hasPrefix("stn-video: error: \(nanModel): ") && r.stderr.contains("is nan, not a finite number"),
            r.stderr)

        // A replayed log with a NaN in a smoothed column: named by file and line.
        let log = directory.path("nan.params.csv")
        try "frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut\n0,0,0.5,0,0,0.5,0,0,0\n1,0.04,0.5,0,0,nan,0,0,0\n"
            .write(toFile: log, atomically: true, encoding: .utf8)
        try assertRefused(["--transforms", log, clip, output], "\(log): line 3: a smoothed parameter is not finite")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testOutOfRangeNumbersAreUsageErrors() throws {
        for (arguments, fragment) in [
            (["--threads", "3000000000"], "--threads must be in 0…1024"),
            (["--bitrate", "1e30M"], "'1e30M' is invalid for '--bitrate"),
            (["--bitrate", "inf"], "'inf' is invalid for '--bitrate"),
            (["--min-cutoff", "1e308"], "--min-cutoff must be in [0, 1e6]")
        ] {
            let r = try Tools.run(Tools.stnVideo, ["--theta", "0.5,0,0"] + arguments + [clip, directory.path("o.mp4")])
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(
                r.stderr.hasPrefix("stn-video: error: ") && r.stderr.contains(fragment), "\(arguments): \(r.stderr)")
        }
    }

    func testTheOverlayOfAnOddSizedInputHoldsEveryFrame() throws {
        let odd = directory.path("odd.mkv"), overlay = directory.path("overlay.mp4")
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=161x121:rate=25 -frames:v 10 -c:v ffv1 '\(odd)'")
        let r = try Tools.run(
            Tools.stnVideo, ["--theta", "0.5,0,0", "--overlay", overlay, odd, directory.path("o.mp4")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tools.probeStreams(overlay).first?.frames, 10)
        let size = try Tools.shell("ffprobe -v error -show_entries stream=width,height -of csv=p=0 '\(overlay)'")
        XCTAssertEqual(
            size.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "160,120",
            "x264 takes even sizes: the last column and row go")
    }
}
