import Foundation
import XCTest

/// pipelines/slurm-submit.sh and slurm-array.sh on a real one-node Slurm cluster started by the
/// test (sbatch runs a spooled copy of the job script, which a direct call cannot show), and
/// their checks that need no cluster.
final class SlurmArrayTests: XCTestCase {
    private static let pipelines = PyTorchExportTests.repository.appendingPathComponent("pipelines").path
    private static let submit = pipelines + "/slurm-submit.sh"
    private static let array = pipelines + "/slurm-array.sh"

    /// A fresh directory's physical path (the scripts report resolved paths).
    private func physicalPath(_ directory: TemporaryDirectory, _ name: String) throws -> String {
        try Tools.shell("realpath -m '\(directory.path(name))'").stdoutText.trimmingCharacters(in: .newlines)
    }

    /// Two clips with the same file name in different folders (their outputs must keep the
    /// folders) and a broken one, listed in that order in `root/list.txt`.
    private func makeInputs(in root: String) throws {
        for (folder, frames) in [("a", 10), ("b", 12)] {
            try FileManager.default.createDirectory(atPath: "\(root)/in/\(folder)", withIntermediateDirectories: true)
            try Tools.ffmpeg(
                "-f lavfi -i testsrc=size=96x64:rate=10 -frames:v \(frames) -c:v libx264 -preset ultrafast '\(root)/in/\(folder)/x.mp4'"
            )
        }
        try "not a video".write(toFile: root + "/in/broken.mp4", atomically: true, encoding: .utf8)
        try "a/x.mp4\nb/x.mp4\nbroken.mp4\n".write(toFile: root + "/in/list.txt", atomically: true, encoding: .utf8)
    }

    /// slurm-submit.sh --wait runs the array and prints batch.sh's summary; the outputs keep the
    /// input tree's layout; the broken clip's task fails with exit status 1 and stn-video's error
    /// in its Slurm output file; a plain sbatch of slurm-array.sh from the repository (its spooled
    /// copy finds batch.sh and stn-video through $SLURM_SUBMIT_DIR) skips what is done; a
    /// submission with other options is refused before anything is queued.
    func testArrayOfThreeClipsOneBroken() throws {
        let cluster = try LocalSlurmCluster()
        defer { cluster.stop() }
        let directory = try TemporaryDirectory()
        let root = try physicalPath(directory, "")
        try makeInputs(in: root)
        let options = "--theta 0.5,0,0 --size 64x64"

        var r = try Tools.shell(
            "cd '\(root)' && \(cluster.environment) timeout 300 '\(Self.submit)' --wait -j 2 --stn '\(Tools.stnVideo)' --logs logs in/list.txt out -- \(options)"
        )
        XCTAssertEqual(r.status, 1, "one input failed: \(r.stdoutText)\(r.stderr)")
        let submitted = try XCTUnwrap(
            r.stdoutText.firstMatch(of: /submitted job (\d+): 3 task\(s\) \(--array=1-3%2\)/), r.stdoutText)
        let job = String(submitted.1)
        XCTAssertTrue(r.stdoutText.contains("follow it:  squeue -j \(job)"), r.stdoutText)
        XCTAssertTrue(r.stdoutText.contains("2 ok, 1 failed, 0 skipped"), r.stdoutText)
        XCTAssertTrue(
            r.stdoutText.contains("failed          -        -  \(root)/in/broken.mp4  (stn-video: error: "),
            r.stdoutText)
        XCTAssertEqual(try Tools.probeStreams(root + "/out/a/x.mp4").first?.frames, 10)
        XCTAssertEqual(try Tools.probeStreams(root + "/out/b/x.mp4").first?.frames, 12)
        XCTAssertEqual(
            try String(contentsOfFile: root + "/out/b/x.params.csv", encoding: .utf8).split(separator: "\n").count, 13)
        XCTAssertEqual(try String(contentsOfFile: root + "/out/a/x.options", encoding: .utf8), options + "\n")
        XCTAssertTrue(
            try String(contentsOfFile: root + "/out/broken.log", encoding: .utf8).hasPrefix("stn-video: error: "))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out/broken.mp4"))
        XCTAssertEqual(
            try FileManager.default.subpathsOfDirectory(atPath: root + "/out").filter { $0.contains(".partial-") }, [])
        let brokenTask = try String(contentsOfFile: "\(root)/logs/slurm-\(job)_3.out", encoding: .utf8)
        XCTAssertTrue(
            brokenTask.hasPrefix("failed\t\(root)/in/broken.mp4\t-\t-\tstn-video: error: \(root)/in/broken.mp4: "),
            brokenTask)
        r = try Tools.shell(
            "\(cluster.environment) scontrol show job \(job)_3; \(cluster.environment) scontrol show job \(job)_1")
        let states = r.stdoutText.matches(of: /JobState=(\w+)/).map { String($0.1) }
        let exitCodes = r.stdoutText.matches(of: /ExitCode=(\d+:\d+)/).map { String($0.1) }
        XCTAssertEqual(states, ["FAILED", "COMPLETED"], r.stdoutText)
        XCTAssertEqual(exitCodes, ["1:0", "0:0"], r.stdoutText)

        // Resubmitted as the README's plain sbatch from the repository: done inputs are skipped.
        let finished =
            try FileManager.default.attributesOfItem(atPath: root + "/out/a/x.mp4")[.modificationDate] as? Date
        r = try Tools.shell(
            "cd '\(PyTorchExportTests.repository.path)' && \(cluster.environment) sbatch --parsable --array=1-3 --output='\(root)/logs/again-%A_%a.out' pipelines/slurm-array.sh '\(root)/in/list.txt' '\(root)/out' -- \(options)"
        )
        XCTAssertEqual(r.status, 0, r.stderr)
        let again = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        try cluster.waitForJob(again)
        let rows = try (1...3).map {
            try String(contentsOfFile: "\(root)/logs/again-\(again)_\($0).out", encoding: .utf8)
        }
        XCTAssertEqual(rows[0], "skipped\t\(root)/in/a/x.mp4\t10\t-\n")
        XCTAssertEqual(rows[1], "skipped\t\(root)/in/b/x.mp4\t12\t-\n")
        XCTAssertTrue(rows[2].hasPrefix("failed\t\(root)/in/broken.mp4\t-\t-\tstn-video: error: "), rows[2])
        XCTAssertEqual(
            try FileManager.default.attributesOfItem(atPath: root + "/out/a/x.mp4")[.modificationDate] as? Date,
            finished, "not remade")

        // Other options: refused before anything is submitted.
        r = try Tools.shell(
            "cd '\(root)' && \(cluster.environment) '\(Self.submit)' --stn '\(Tools.stnVideo)' --logs logs in/list.txt out -- --theta 0.4,0,0 --size 64x64"
        )
        XCTAssertEqual(r.status, 2, r.stdoutText + r.stderr)
        XCTAssertTrue(
            r.stderr.contains(
                "batch.sh: refused: \(root)/out/a/x.mp4 was made with other stn-video options (\(options); this run: --theta 0.4,0,0 --size 64x64)"
            ), r.stderr)
        XCTAssertFalse(r.stdoutText.contains("submitted"), r.stdoutText)
    }

    /// Without a cluster: --help, collisions refused before submitting, and a task run directly
    /// (SLURM_ARRAY_TASK_ID set, stn-video not on PATH) finds batch.sh and the built stn-video.
    func testChecksWithoutACluster() throws {
        for script in [Self.submit, Self.array] {
            let r = try Tools.shell("'\(script)' --help")
            XCTAssertEqual(r.status, 0, script + r.stderr)
            XCTAssertTrue(r.stdoutText.contains("INPUT OUTPUT_DIR"), r.stdoutText)
            XCTAssertFalse(r.stdoutText.contains("SBATCH --"), "not the job directives: \(r.stdoutText)")
        }
        let directory = try TemporaryDirectory()
        let root = try physicalPath(directory, "")
        try makeInputs(in: root)
        try Tools.ffmpeg("-f lavfi -i testsrc=size=96x64:rate=10 -frames:v 5 -c:v ffv1 '\(root)/in/a/x.mkv'")
        try "a/x.mp4\na/x.mkv\n".write(toFile: root + "/in/collide.txt", atomically: true, encoding: .utf8)
        var r = try Tools.shell("cd '\(root)' && '\(Self.submit)' --stn '\(Tools.stnVideo)' in/collide.txt out")
        XCTAssertEqual(r.status, 2, r.stdoutText + r.stderr)
        XCTAssertTrue(
            r.stderr.contains(
                "batch.sh: \(root)/in/a/x.mp4 and \(root)/in/a/x.mkv would both be written to \(root)/out/a/x.mp4;"),
            r.stderr)
        XCTAssertEqual(r.stdoutText, "")
        r = try Tools.shell("cd '\(root)' && SLURM_ARRAY_TASK_ID=2 '\(Self.array)' in/collide.txt out")
        XCTAssertEqual(r.status, 2, "every task refuses a list with collisions: \(r.stdoutText)\(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out/a"), "nothing processed")

        let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        r = try Tools.shell(
            "cd '\(root)' && PATH=\(path) SLURM_ARRAY_TASK_ID=2 '\(Self.array)' in/list.txt out -- --theta 0.5,0,0 --size 32x32"
        )
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stdoutText.hasPrefix("ok\t\(root)/in/b/x.mp4\t12\t"), r.stdoutText)
        XCTAssertEqual(try Tools.probeStreams(root + "/out/b/x.mp4").first?.frames, 12)
        r = try Tools.shell("cd '\(root)' && PATH=\(path) SLURM_ARRAY_TASK_ID=4 '\(Self.array)' in/list.txt out")
        XCTAssertEqual(r.status, 2, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stderr.contains("there is no input 4"), r.stderr)
    }
}
