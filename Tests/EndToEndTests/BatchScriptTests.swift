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
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 20 -c:v libx264 -preset ultrafast '\(input)/a.mp4'")
        try Tools.ffmpeg("-f lavfi -i testsrc2=size=200x100:rate=25 -frames:v 15 -c:v ffv1 '\(input)/sub dir/b.mkv'")
        try "not a video".write(toFile: input + "/broken.mp4", atomically: true, encoding: .utf8)
        let script = PyTorchExportTests.repository.appendingPathComponent("pipelines/batch.sh").path
        let command =
            "'\(script)' -j 2 --stn '\(Tools.stnVideo)' '\(input)' '\(output)' -- --theta 0.5,0,0 --size 64x64"

        var r = try Tools.shell(command)
        XCTAssertEqual(r.status, 1, "one input failed: \(r.stdoutText)\(r.stderr)")
        XCTAssertTrue(r.stdoutText.contains("2 ok, 1 failed, 0 skipped"), r.stdoutText)
        XCTAssertEqual(try Tools.probeStreams(output + "/a.mp4").first?.frames, 20)
        XCTAssertEqual(try Tools.probeStreams(output + "/sub dir/b.mp4").first?.frames, 15)
        XCTAssertEqual(
            try String(contentsOfFile: output + "/a.params.csv", encoding: .utf8).split(separator: "\n").count, 21)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/broken.mp4"), "no output for a failed input")
        let brokenLog = try String(contentsOfFile: output + "/broken.log", encoding: .utf8)
        XCTAssertTrue(brokenLog.hasPrefix("stn-video: error: "), brokenLog)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: output).filter { $0.contains(".partial-") }
        XCTAssertEqual(leftovers, [], "no temporary files remain")

        r = try Tools.shell(command)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdoutText.contains("0 ok, 1 failed, 2 skipped"), r.stdoutText)
    }

    // MARK: - Inputs are never overwritten, collisions and errors are reported clearly

    private static let script = PyTorchExportTests.repository.appendingPathComponent("pipelines/batch.sh").path

    private func requireParallel() throws {
        guard try Tools.shell("command -v parallel").status == 0 else {
            throw XCTSkip("GNU parallel is not installed (scripts/setup.sh installs it)")
        }
    }

    /// A tiny video (5 frames of 64×48); the codec suits the container of `path`.
    private func makeVideo(_ path: String, codec: String = "libx264 -preset ultrafast") throws {
        try Tools.ffmpeg("-f lavfi -i testsrc=size=64x48:rate=10 -t 0.5 -c:v \(codec) '\(path)'")
    }

    /// A fresh directory's physical path (batch.sh reports resolved paths).
    private func physicalPath(_ directory: TemporaryDirectory, _ name: String) throws -> String {
        let r = try Tools.shell("realpath -m '\(directory.path(name))'")
        return r.stdoutText.trimmingCharacters(in: .newlines)
    }

    private func batch(_ arguments: String) throws -> RunResult {
        try Tools.shell("'\(Self.script)' --stn '\(Tools.stnVideo)' \(arguments)")
    }

    /// A list file whose output folder is its own folder: a.mp4 would be rectified onto itself
    /// (stn-video writes a temporary name, so only batch.sh can see it). It is refused, the input
    /// keeps its bytes, nothing is written beside it, and the other input is still processed.
    /// An output path that is a hard link to the input is refused the same way.
    func testListFileIntoItsOwnFolderNeverOverwritesAnInput() throws {
        try requireParallel()
        let directory = try TemporaryDirectory()
        let folder = try physicalPath(directory, "in")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try makeVideo(folder + "/a.mp4")
        try makeVideo(folder + "/b.mov")
        let original = try Data(contentsOf: URL(fileURLWithPath: folder + "/a.mp4"))
        try "a.mp4\nb.mov\n".write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)

        var r = try batch("'\(folder)/list.txt' '\(folder)' -- --theta 0.5,0,0 --size 64x64")
        XCTAssertEqual(r.status, 1, "a refused input is a failed input: \(r.stdoutText)\(r.stderr)")
        XCTAssertTrue(r.stdoutText.contains("1 ok, 1 failed, 0 skipped"), r.stdoutText)
        XCTAssertTrue(
            r.stdoutText.contains(
                "failed          -        -  \(folder)/a.mp4  (refused: its output \(folder)/a.mp4 would overwrite the input; choose another OUTPUT_DIR)\n"
                    + "ok              5 "), r.stdoutText)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: folder + "/a.mp4")), original, "the input keeps its bytes")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/a.log"), "nothing written for a refused input")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/a.params.csv"))
        XCTAssertEqual(try Tools.probeStreams(folder + "/b.mp4").first?.frames, 5, "b.mov's output beside it")

        let output = try physicalPath(directory, "out")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try FileManager.default.linkItem(atPath: folder + "/a.mp4", toPath: output + "/a.mp4")
        try "a.mp4\n".write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
        r = try batch("'\(folder)/list.txt' '\(output)' -- --theta 0.5,0,0 --size 64x64")
        XCTAssertEqual(r.status, 1, r.stdoutText + r.stderr)
        XCTAssertTrue(
            r.stdoutText.contains(
                "(refused: its output \(output)/a.mp4 would overwrite the input; choose another OUTPUT_DIR)"),
            r.stdoutText)
        XCTAssertTrue(r.stdoutText.contains("0 ok, 1 failed, 0 skipped"), r.stdoutText)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: folder + "/a.mp4")), original,
            "the hard-linked input keeps its bytes")
    }

    /// x.mp4 and x.mkv would both be written to OUTPUT_DIR/x.mp4 (and share x.log): the batch is
    /// refused before anything runs, naming both inputs and the output, with exit status 2.
    func testInputsWithTheSameOutputNameAreRefused() throws {
        try requireParallel()
        let directory = try TemporaryDirectory()
        let input = try physicalPath(directory, "in"), output = try physicalPath(directory, "out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try makeVideo(input + "/x.mp4")
        try makeVideo(input + "/x.mkv", codec: "ffv1")
        try makeVideo(input + "/y.mp4")

        let r = try batch("'\(input)' '\(output)' -- --theta 0.5,0,0 --size 64x64")
        XCTAssertEqual(r.status, 2, r.stdoutText + r.stderr)
        XCTAssertTrue(
            r.stderr.contains("batch.sh: \(input)/x.mkv and \(input)/x.mp4 would both be written to \(output)/x.mp4;"),
            r.stderr)
        XCTAssertTrue(r.stderr.contains("nothing was processed"), r.stderr)
        XCTAssertEqual(r.stdoutText, "", "no summary: nothing ran")
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? [], [], "no output at all")
    }

    /// stn-video rejects an option: the summary quotes its error line, not the "See --help" line after it.
    func testStnVideoUsageErrorIsQuotedInTheSummary() throws {
        try requireParallel()
        let directory = try TemporaryDirectory()
        let input = try physicalPath(directory, "in"), output = try physicalPath(directory, "out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try makeVideo(input + "/a.mp4")

        let r = try batch("'\(input)' '\(output)' -- --no-such-option")
        XCTAssertEqual(r.status, 1, r.stdoutText + r.stderr)
        XCTAssertTrue(
            r.stdoutText.contains(
                "failed          -        -  \(input)/a.mp4  (stn-video: error: Unknown option '--no-such-option'"),
            r.stdoutText)
        XCTAssertFalse(r.stdoutText.contains("--help"), r.stdoutText)
        XCTAssertTrue(r.stdoutText.contains("0 ok, 1 failed, 0 skipped"), r.stdoutText)
    }

    /// Usage errors are one clear line and exit status 2: a missing or bad option value, and an
    /// output folder that is the input folder (or contains it), which would otherwise find its own outputs as inputs.
    func testUsageErrors() throws {
        try requireParallel()
        let directory = try TemporaryDirectory()
        let input = try physicalPath(directory, "in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try makeVideo(input + "/a.mp4")
        let cases = [
            ("'\(Self.script)' -j", "batch.sh: -j needs a value"),
            (
                "'\(Self.script)' -j x2 '\(input)' '\(input)/out'",
                "batch.sh: -j takes a number of jobs as GNU parallel does (4, 0, 50%, +1, -1), not 'x2'"
            ),
            ("'\(Self.script)' '\(input)'", "batch.sh: needs INPUT and OUTPUT_DIR"),
            ("'\(Self.script)' --ext", "batch.sh: --ext needs a value"),
            ("'\(Self.script)' --sshloginfile", "batch.sh: --sshloginfile needs a value"),
            ("'\(Self.script)' --stn -j 2 '\(input)' '\(input)/out'", "batch.sh: --stn needs a value"),
            (
                "'\(Self.script)' --stn '\(Tools.stnVideo)' '\(input)' '\(input)'",
                "batch.sh: the output folder \(input) must not be the input folder \(input) or contain it"
            ),
            (
                "'\(Self.script)' --stn '\(Tools.stnVideo)' '\(input)' '\(input)/..'",
                "batch.sh: the output folder \(input)/.. must not be the input folder \(input) or contain it"
            )
        ]
        for (command, message) in cases {
            let r = try Tools.shell(command)
            XCTAssertEqual(r.status, 2, command + ": " + r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix(message + " (see 'pipelines/batch.sh --help')"), command + ": " + r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, command + ": " + r.stderr)
            XCTAssertEqual(r.stdoutText, "", command)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: input), ["a.mp4"], "nothing written")
    }

    /// A list file reached through a symbolic link: its entries keep their folders under the
    /// output, not one flattened name (which two entries would share, a refused collision).
    func testListFileUnderASymlinkedFolderKeepsItsLayout() throws {
        try requireParallel()
        let directory = try TemporaryDirectory()
        let real = try physicalPath(directory, "real")
        for sub in ["sub1", "sub2"] {
            try FileManager.default.createDirectory(atPath: real + "/videos/" + sub, withIntermediateDirectories: true)
            try makeVideo(real + "/videos/\(sub)/a.mp4")
        }
        let link = try physicalPath(directory, "link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        try "\(link)/videos/sub1/a.mp4\nsub2/a.mp4\n".write(
            toFile: real + "/videos/list.txt", atomically: true, encoding: .utf8)
        let output = try physicalPath(directory, "out")
        let r = try batch("'\(link)/videos/list.txt' '\(output)' -- --theta 0.5,0,0 --size 32x32")
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stdoutText.contains("2 ok, 0 failed, 0 skipped"), r.stdoutText)
        for sub in ["sub1", "sub2"] {
            XCTAssertEqual(try Tools.probeStreams(output + "/\(sub)/a.mp4").first?.frames, 5)
        }
    }

    /// The stn-video options are recorded beside each output; a rerun with other options is
    /// refused before anything runs (the old outputs stay), --threads/--quiet/--verbose do not
    /// count, and --force remakes the outputs with the new options.
    func testRerunWithOtherOptionsIsRefusedUnlessForced() throws {
        try requireParallel()
        let directory = try TemporaryDirectory()
        let input = try physicalPath(directory, "in"), output = try physicalPath(directory, "out")
        try FileManager.default.createDirectory(atPath: input + "/sub", withIntermediateDirectories: true)
        try makeVideo(input + "/a.mp4")
        try makeVideo(input + "/sub/b.mp4")

        var r = try batch("'\(input)' '\(output)' -- --theta 0.5,0,0 --size 32x32")
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        XCTAssertEqual(
            try String(contentsOfFile: output + "/sub/b.options", encoding: .utf8), "--theta 0.5,0,0 --size 32x32\n")
        let made = try Data(contentsOf: URL(fileURLWithPath: output + "/a.params.csv"))

        r = try batch("'\(input)' '\(output)' -- --threads 1 --theta 0.5,0,0 --size 32x32 --quiet")
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stdoutText.contains("0 ok, 0 failed, 2 skipped"), r.stdoutText)

        r = try batch("'\(input)' '\(output)' -- --theta 0.25,0,0 --size 32x32")
        XCTAssertEqual(r.status, 2, r.stdoutText + r.stderr)
        XCTAssertTrue(
            r.stderr.contains(
                "batch.sh: refused: \(output)/a.mp4 was made with other stn-video options (--theta 0.5,0,0 --size 32x32; this run: --theta 0.25,0,0 --size 32x32)\n"
            ), r.stderr)
        XCTAssertTrue(
            r.stderr.contains("batch.sh: refused: \(output)/sub/b.mp4 was made with other stn-video options"), r.stderr)
        XCTAssertTrue(
            r.stderr.contains(
                "2 finished output(s) were made with other stn-video options; nothing was processed. Rerun with --force"
            ), r.stderr)
        XCTAssertEqual(r.stdoutText, "", "no summary: nothing ran")
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: output + "/a.params.csv")), made, "the old output stays")

        r = try batch("--force '\(input)' '\(output)' -- --theta 0.25,0,0 --size 32x32")
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stdoutText.contains("2 ok, 0 failed, 0 skipped"), r.stdoutText)
        XCTAssertEqual(
            try String(contentsOfFile: output + "/a.options", encoding: .utf8), "--theta 0.25,0,0 --size 32x32\n")
        XCTAssertTrue(
            try String(contentsOfFile: output + "/a.params.csv", encoding: .utf8).contains(",0.25,0.0,0.0,"),
            "remade with the new θ")
    }
}
