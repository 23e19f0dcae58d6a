import Foundation
import XCTest

/// `stn-make-video`'s contract with its users: a video and a ground-truth row per frame, the
/// exit statuses of DESIGN.md §5, no input overwritten, and a finalised video on SIGTERM.
final class MakeVideoTests: XCTestCase {
    func testTruthRowsMatchTheFramesAndBadArgumentsAreUsageErrors() throws {
        let directory = try TemporaryDirectory()
        let clip = directory.path("clip.mp4")
        let r = try Tools.run(
            Tools.stnMakeVideo, ["--seconds", "0.6", "--fps", "10", "--size", "64x48", "--preset", "ultrafast", clip])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tools.probeStreams(clip).first?.frames, 6)
        let truth = try String(contentsOfFile: directory.path("clip.truth.csv"), encoding: .utf8)
        XCTAssertEqual(truth.split(separator: "\n").count, 1 + 6, "a header and a row per frame")

        for (arguments, reason) in [
            (["--seconds", "0.01", directory.path("a.mp4")], "--seconds 0.01 at 25 fps is no frame at all"),
            (["--seconds", "1e300", directory.path("a.mp4")], "--seconds must be positive and at most 86400"),
            (["--truth", clip, clip], "the ground truth \(clip) and the video must be different files")
        ] {
            let r = try Tools.run(Tools.stnMakeVideo, arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("stn-make-video: error: \(reason)"), r.stderr)
        }
        XCTAssertEqual(try Tools.probeStreams(clip).first?.frames, 6, "the refused run left the video alone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path("a.mp4")))
    }

    func testRunTimeFailuresLeaveNothingBehindAndNeverReplaceTheData() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        let labels = data + "/t10k-labels-idx1-ubyte"
        let before = try Data(contentsOf: URL(fileURLWithPath: labels))
        var r = try Tools.run(
            Tools.stnMakeVideo,
            ["--data", data, "--truth", labels, "--seconds", "0.2", "--size", "64x48", directory.path("v.mp4")])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(
            r.stderr, "stn-make-video: error: \(labels): is the data file \(labels); refusing to overwrite it\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: labels)), before)

        let video = directory.path("w.mp4")
        r = try Tools.run(
            Tools.stnMakeVideo,
            [
                "--data", data, "--truth", directory.path("no/such/dir/t.csv"), "--seconds", "0.2", "--size", "64x48",
                video
            ])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("stn-make-video: error: \(directory.path("no/such/dir/t.csv")): "), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: video), "no empty video left behind")
    }

    func testSIGTERMFinalisesTheVideoWithTheTruthOfItsFrames() throws {
        let directory = try TemporaryDirectory()
        let clip = directory.path("long.mp4"), truth = directory.path("long.truth.csv")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.stnMakeVideo)
        process.arguments = ["--seconds", "120", "--size", "320x240", "--preset", "ultrafast", clip]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let rows = (try? String(contentsOfFile: truth, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if rows > 10 { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143)
        let frames = try Tools.probeStreams(clip).first?.frames ?? 0
        XCTAssertGreaterThan(frames, 9)
        XCTAssertLessThan(frames, 3000)
        XCTAssertEqual(
            try String(contentsOfFile: truth, encoding: .utf8).split(separator: "\n").count - 1, frames,
            "a truth row for every frame in the video, and none more")
    }
}
