import Foundation
import XCTest

/// pipelines/batch.sh over a folder with good and bad inputs: every good input is processed,
/// a bad one fails alone, nothing half-written remains, and a rerun skips finished work.
final class BatchScriptTests: XCTestCase {
    func testFolderWithGoodAndBadInputs() throws {
        guard try Tools.shell("command -v parallel").status == 0 else {
            throw XCTSkip("GNU parallel is not installed (scripts/setup.sh installs it)")
        }
        let directory = try TemporaryDirectory()
        let input = directory.path("in"), output = directory.path("out")
        try FileManager.default.createDirectory(atPath: input + "/sub dir", withIntermediateDirectories: true)
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 20 -c:v libx264 -preset ultrafast '\(input)/a.mp4'")
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=200x100:rate=25 -frames:v 15 -c:v ffv1 '\(input)/sub dir/b.mkv'")
        try "not a video".write(toFile: input + "/broken.mp4", atomically: true, encoding: .utf8)
        let script = PyTorchExportTests.repository.appendingPathComponent("pipelines/batch.sh").path
        let command = "'\(script)' -j 2 --stn '\(Tools.stnVideo)' '\(input)' '\(output)' -- --theta 0.5,0,0 --size 64x64"

        var r = try Tools.shell(command)
        XCTAssertEqual(r.status, 1, "one input failed: \(r.stdoutText)\(r.stderr)")
        XCTAssertTrue(r.stdoutText.contains("2 ok, 1 failed, 0 skipped"), r.stdoutText)
        XCTAssertEqual(try Tools.probeStreams(output + "/a.mp4").first?.frames, 20)
        XCTAssertEqual(try Tools.probeStreams(output + "/sub dir/b.mp4").first?.frames, 15)
        XCTAssertEqual(try String(contentsOfFile: output + "/a.params.csv", encoding: .utf8).split(separator: "\n").count, 21)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/broken.mp4"), "no output for a failed input")
        let brokenLog = try String(contentsOfFile: output + "/broken.log", encoding: .utf8)
        XCTAssertTrue(brokenLog.hasPrefix("stn-video: error: "), brokenLog)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: output).filter { $0.contains(".partial-") }
        XCTAssertEqual(leftovers, [], "no temporary files remain")

        r = try Tools.shell(command)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdoutText.contains("0 ok, 1 failed, 2 skipped"), r.stdoutText)
    }
}
