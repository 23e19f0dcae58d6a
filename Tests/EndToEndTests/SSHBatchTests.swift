import Foundation
import XCTest

/// pipelines/batch.sh --sshloginfile against an sshd on loopback ports started by the test:
/// two ssh "hosts" sharing this file system, and --transfer for hosts that share none.
final class SSHBatchTests: XCTestCase {
    private static let script = PyTorchExportTests.repository.appendingPathComponent("pipelines/batch.sh").path

    private func requireParallel() throws {
        guard try Tools.shell("command -v parallel").status == 0 else {
            throw XCTSkip("GNU parallel is not installed (scripts/setup.sh installs it)")
        }
    }

    /// A fresh directory's physical path (batch.sh reports resolved paths).
    private func physicalPath(_ directory: TemporaryDirectory, _ name: String = "") throws -> String {
        try Tools.shell("realpath -m '\(directory.path(name))'").stdoutText.trimmingCharacters(in: .newlines)
    }

    /// An stn-video stand-in that appends "<ssh server address or local> <working folder>
    /// <arguments>" to `log` and runs the real one; while `slowFlag` exists it first waits
    /// 30 s on inputs whose name contains "slow".
    private func writeRecordingStn(_ path: String, log: String, slowFlag: String = "/nonexistent") throws {
        try """
        #!/bin/sh
        server=$(echo "${SSH_CONNECTION:-local - local}" | cut -d' ' -f3)
        echo "$server $PWD $*" >> '\(log)'
        for a in "$@"; do case "$a" in *slow*) [ -e '\(slowFlag)' ] && exec sleep 30 ;; esac; done
        exec '\(Tools.stnVideo)' "$@"

        """.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    /// Two ssh "hosts" (one sshd on 127.0.0.1 and 127.0.0.2) process a folder; a batch killed
    /// while a clip is still running is resumed by a rerun, which skips the finished outputs
    /// and leaves no temporary file behind.
    func testTwoHostsProcessAFolderAndAKilledRunResumes() throws {
        try requireParallel()
        let server = try LoopbackSSHServer(addresses: ["127.0.0.1", "127.0.0.2"])
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let root = try physicalPath(directory)
        let names = ["c1", "c2", "c3", "c4", "d/c5", "d/slow"]
        try FileManager.default.createDirectory(atPath: root + "/in/d", withIntermediateDirectories: true)
        for (index, name) in names.enumerated() {
            try Tools.ffmpeg(
                "-f lavfi -i testsrc=size=64x48:rate=10 -frames:v \(5 + index) -c:v libx264 -preset ultrafast '\(root)/in/\(name).mp4'"
            )
        }
        try server.writeLoginFile(root + "/hosts")
        let stn = root + "/stn", calls = root + "/calls.txt", slow = root + "/slow-flag"
        try writeRecordingStn(stn, log: calls, slowFlag: slow)
        XCTAssertTrue(FileManager.default.createFile(atPath: slow, contents: nil))
        let command =
            "'\(Self.script)' --sshloginfile '\(root)/hosts' --stn '\(stn)' '\(root)/in' '\(root)/out' -- --theta 0.5,0,0 --size 32x32"

        // Killed (SIGTERM to the whole batch) once the slow clip has started.
        var r = try Tools.shell(
            """
            cd '\(root)'; setsid bash -c "exec \(command.replacingOccurrences(of: "\"", with: "\\\"")) > run1.txt 2>&1" & pid=$!
            for i in $(seq 1200); do grep -q slow '\(calls)' 2> /dev/null && break; sleep 0.1; done
            kill -TERM -- -$pid; wait $pid; echo "status $?"
            """)
        XCTAssertEqual(r.stdoutText, "status 143\n", r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out/d/slow.mp4"))
        XCTAssertEqual(try Tools.probeStreams(root + "/out/c1.mp4").first?.frames, 5)
        let servers = Set(
            try String(contentsOfFile: calls, encoding: .utf8).split(separator: "\n").map {
                String($0.split(separator: " ")[0])
            })
        XCTAssertEqual(servers, ["127.0.0.1", "127.0.0.2"], "both hosts ran jobs")

        try FileManager.default.removeItem(atPath: slow)
        r = try Tools.shell("timeout 300 " + command)
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        let counts = try XCTUnwrap(r.stdoutText.firstMatch(of: /(\d+) ok, 0 failed, (\d+) skipped/), r.stdoutText)
        XCTAssertEqual(Int(counts.1)! + Int(counts.2)!, 6, r.stdoutText)
        XCTAssertGreaterThanOrEqual(Int(counts.2)!, 4, "finished outputs are skipped: \(r.stdoutText)")
        XCTAssertTrue(r.stdoutText.contains("ok             10 "), "the killed clip is done now: \(r.stdoutText)")
        for (index, name) in names.enumerated() {
            XCTAssertEqual(try Tools.probeStreams("\(root)/out/\(name).mp4").first?.frames, 5 + index, name)
        }
        XCTAssertEqual(
            try FileManager.default.subpathsOfDirectory(atPath: root + "/out").filter { $0.contains(".partial-") }, [])
    }

    /// --transfer, for hosts without a shared file system: the host works on copies in a working
    /// folder of its own (never on the paths here), the outputs come back into the tree, the
    /// working folders are removed, a failure names the input as it is here, and a rerun skips
    /// what is done.
    func testTransferModeWithoutASharedFileSystem() throws {
        try requireParallel()
        try LocalDaemons.require(["/usr/bin/rsync"], package: "rsync")
        let server = try LoopbackSSHServer()
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let root = try physicalPath(directory)
        try FileManager.default.createDirectory(atPath: root + "/in/sub dir", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/work", withIntermediateDirectories: true)
        try Tools.ffmpeg(
            "-f lavfi -i testsrc=size=64x48:rate=10 -frames:v 7 -c:v libx264 -preset ultrafast '\(root)/in/a.mp4'")
        try Tools.ffmpeg("-f lavfi -i testsrc=size=64x48:rate=10 -frames:v 9 -c:v ffv1 '\(root)/in/sub dir/b.mkv'")
        try "not a video".write(toFile: root + "/in/broken.mp4", atomically: true, encoding: .utf8)
        try server.writeLoginFile(root + "/hosts", jobs: 2)
        let stn = root + "/stn", calls = root + "/calls.txt"
        try writeRecordingStn(stn, log: calls)
        let command =
            "cd '\(root)/work' && timeout 300 '\(Self.script)' --sshloginfile ../hosts --transfer --stn '\(stn)' ../in ../out -- --theta 0.5,0,0 --size 64x64"

        var r = try Tools.shell(command)
        XCTAssertEqual(r.status, 1, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stdoutText.contains("2 ok, 1 failed, 0 skipped"), r.stdoutText)
        XCTAssertTrue(
            r.stdoutText.contains(
                "failed          -        -  \(root)/in/broken.mp4  (stn-video: error: \(root)/in/broken.mp4: "),
            r.stdoutText)
        XCTAssertEqual(try Tools.probeStreams(root + "/out/a.mp4").first?.frames, 7)
        XCTAssertEqual(try Tools.probeStreams(root + "/out/sub dir/b.mp4").first?.frames, 9)
        XCTAssertEqual(
            try String(contentsOfFile: root + "/out/sub dir/b.params.csv", encoding: .utf8).split(separator: "\n")
                .count, 10)
        XCTAssertEqual(
            try String(contentsOfFile: root + "/out/a.options", encoding: .utf8), "--theta 0.5,0,0 --size 64x64\n")
        XCTAssertTrue(
            try String(contentsOfFile: root + "/out/broken.log", encoding: .utf8).hasPrefix("stn-video: error: "))
        XCTAssertEqual(
            try FileManager.default.subpathsOfDirectory(atPath: root + "/out").filter {
                $0.contains(".partial-") || $0.contains(".stn-input")
            }, [])

        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let lines = try String(contentsOfFile: calls, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ", maxSplits: 2).map(String.init)
        }
        XCTAssertEqual(lines.count, 3)
        for line in lines {
            XCTAssertEqual(line[0], "127.0.0.1", "ran over ssh")
            XCTAssertTrue(line[1].hasPrefix(home + "/.parallel/tmp/"), "in the host's own working folder: \(line)")
            XCTAssertTrue(line[2].contains(" .stn-input/"), "on a copy of the input: \(line)")
            XCTAssertFalse(line[2].contains(root), "never on the paths here: \(line)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: line[1]), "working folder removed: \(line[1])")
        }

        r = try Tools.shell(command)
        XCTAssertEqual(r.status, 1, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stdoutText.contains("0 ok, 1 failed, 2 skipped"), r.stdoutText)
        XCTAssertEqual(
            try String(contentsOfFile: calls, encoding: .utf8).split(separator: "\n").count, 4,
            "only the broken input ran again")
    }
}
