import Foundation
import XCTest

/// What a user meets on the command line besides the job itself: versions, the summary line,
/// option values and combinations, outputs that are not files, and messages that say what is
/// wrong in the user's terms.
final class CommandLineTests: ClipTestCase {
    private func stnVideo(_ arguments: [String]) throws -> RunResult {
        try Tools.run(Tools.stnVideo, arguments)
    }

    func testEveryToolPrintsItsVersion() throws {
        for tool in [Tools.stnVideo, Tools.stnTrain, Tools.stnMakeVideo] {
            let r = try Tools.run(tool, ["--version"])
            XCTAssertEqual(r.status, 0, "\(tool): \(r.stderr)")
            XCTAssertTrue(
                r.stdoutText.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil,
                "\(tool): \(r.stdoutText)")
        }
    }

    /// Standard error is not a terminal here: one summary line ends the run, none with --quiet.
    func testASummaryLineEndsARunUnlessQuiet() throws {
        let output = directory.path("out.mp4")
        var r = try stnVideo(["--theta", "0.5,0,0", clip, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stderr.range(
                of: #"^stn-video: 10 frames in [0-9.]+ s \([0-9.]+ fps\) to "# + output + "\n$",
                options: .regularExpression) != nil, r.stderr)
        r = try stnVideo(["--quiet", "--theta", "0.5,0,0", clip, output])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
    }

    /// A value of --theta may start with '-': a mirror, a window left of centre.
    func testThetaTakesNegativeNumbers() throws {
        for theta in ["-1,0,0,0,1,0", "-0.5,0,0"] {
            let r = try stnVideo(["--quiet", "--theta", theta, clip, directory.path("mirror.mp4")])
            XCTAssertEqual(r.status, 0, "\(theta): \(r.stderr)")
            XCTAssertEqual(try Tools.probeStreams(directory.path("mirror.mp4")).first?.frames, 10)
        }
    }

    /// A log-only run: /dev/null (a character device, no extension) as the output.
    func testDevNullOutputGivesALogOnlyRun() throws {
        let log = directory.path("only.csv")
        let r = try stnVideo(["--quiet", "--theta", "0.5,0,0", "--log", log, clip, "/dev/null"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(
            try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count, 11, "a header and ten rows")
    }

    func testMessagesSayWhatIsWrong() throws {
        func assertError(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line)
            throws
        {
            let r = try stnVideo(arguments)
            XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
            XCTAssertTrue(r.stderr.hasPrefix("stn-video: error: " + expected), r.stderr, file: file, line: line)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        }
        let folder = directory.path("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try assertError(["--theta", "1,0,0", clip, folder], "\(folder): is a directory")

        // An MP4 cut short before its index (moov at the end, as ffmpeg writes by default).
        let long = directory.path("long.mp4"), cut = directory.path("cut.mp4")
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 50 -c:v libx264 -preset ultrafast '\(long)'")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: long))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        try assertError(["--theta", "1,0,0", cut, directory.path("o.mp4")], "\(cut): moov atom not found")

        try assertError(
            ["--theta", "1,0,0", "--input-format", "yuv4mpegpipe", clip, directory.path("o.mp4")],
            "\(clip!): cannot be read as 'yuv4mpegpipe' (--input-format)")
        try assertError(
            ["--theta", "1,0,0", "--crf", "60", clip, directory.path("o.mp4")],
            "\(directory.path("o.mp4")): --crf 60 is out of range for libx264 (it takes 0–51)")
    }

    func testOptionsTheRunWouldIgnoreAreWarnedAbout() throws {
        let output = directory.path("o.mp4")
        for (arguments, warning) in [
            (["--theta", "0.5,0,0", "--alpha", "0.3"], "--alpha ignored with --theta (a fixed transform)"),
            (["--theta", "0.5,0,0", "--lookahead", "4", "--beta", "1"], "--beta, --lookahead ignored with --theta"),
            (["--smoothing", "kalman", "--alpha", "0.3"], "--alpha ignored: it applies to --smoothing ema, not kalman"),
            (["--theta", "0.5,0,0", "--search", "1"], "--search ignored with --theta: it searches with a model"),
            (
                ["--smoothing", "none", "--camera", "follow", "--lookahead", "2"],
                "--lookahead ignored with --smoothing none --camera follow"
            )
        ] {
            let r = try stnVideo(arguments + [clip, output])
            XCTAssertEqual(r.status, 0, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("stn-video: warning: " + warning), "\(arguments): \(r.stderr)")
        }
        // The hold camera (the default) reads the look-ahead even without a noise filter.
        let held = try stnVideo(["--smoothing", "none", "--lookahead", "2", clip, output])
        XCTAssertEqual(held.status, 0, held.stderr)
        XCTAssertFalse(held.stderr.contains("--lookahead ignored"), held.stderr)
        // A fixed window wholly outside the picture samples only padding; one that overlaps it does not warn.
        let outside = try stnVideo(["--theta", "0.2,-1.5,0", clip, output])
        XCTAssertEqual(outside.status, 0, outside.stderr)
        XCTAssertTrue(
            outside.stderr.contains("stn-video: warning: --theta 0.2,-1.5,0.0: the window lies wholly outside the "),
            outside.stderr)
        let overlapping = try stnVideo(["--theta", "0.2,-0.9,0", clip, output])
        XCTAssertFalse(overlapping.stderr.contains("wholly outside"), overlapping.stderr)
        let r = try stnVideo(["--quiet", "--verbose", "--theta", "1,0,0", clip, output])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("stn-video: error: --quiet and --verbose contradict each other"), r.stderr)
    }

    /// A replayed log shorter than the video: the output is finalised with the log's frames and
    /// the error says so; a longer one is used as far as the video goes, with a warning.
    func testAReplayedLogOfAnotherLength() throws {
        var r = try stnVideo(["--quiet", "--theta", "0.5,0,0", clip, directory.path("a.mp4")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try String(contentsOfFile: directory.path("a.params.csv"), encoding: .utf8).split(separator: "\n")
        let short = directory.path("short.csv")
        try (rows.prefix(7).joined(separator: "\n") + "\n").write(toFile: short, atomically: true, encoding: .utf8)
        let output = directory.path("b.mp4")
        r = try stnVideo(["--transforms", short, clip, output])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(
            r.stderr,
            "stn-video: error: \(short): the log has 6 rows but the video has 10 frames (\(output) holds the first 6 frames)\n"
        )
        XCTAssertEqual(try Tools.probeStreams(output).first?.frames, 6, "a finalised output of the log's frames")
        XCTAssertEqual(
            try String(contentsOfFile: directory.path("b.params.csv"), encoding: .utf8).split(separator: "\n").count, 7)

        let five = directory.path("five.mp4")
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 5 -c:v libx264 -preset ultrafast '\(five)'")
        r = try stnVideo(["--transforms", directory.path("a.params.csv"), five, directory.path("c.mp4")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stderr.hasPrefix(
                "stn-video: warning: \(directory.path("a.params.csv")): the log has 10 rows but the video 5 frames; "
                    + "the last 5 rows were not used\n"), r.stderr)
    }

    /// At 80 columns (what --help uses when standard output is not a terminal) no example
    /// command wraps: every line of an Examples block is indented.
    func testHelpExamplesDoNotWrapAt80Columns() throws {
        let helps: [(String, [String])] =
            [(Tools.stnVideo, []), (Tools.stnMakeVideo, []), (Tools.stnTrain, [])]
            + ["classify", "table", "preview", "video", "video-eval"].map { (Tools.stnTrain, [$0]) }
        for (tool, subcommand) in helps {
            let r = try Tools.run(tool, subcommand + ["--help"])
            XCTAssertEqual(r.status, 0, r.stderr)
            var inExamples = false
            for line in r.stdoutText.split(separator: "\n", omittingEmptySubsequences: false) {
                if line == "Examples:" { inExamples = true; continue }
                if line.isEmpty { inExamples = false; continue }
                if inExamples {
                    XCTAssertTrue(line.hasPrefix("  "), "\(tool) \(subcommand): a wrapped example line: '\(line)'")
                }
            }
        }
    }
}
