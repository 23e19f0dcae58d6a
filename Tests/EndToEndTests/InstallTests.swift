import Foundation
import XCTest

/// scripts/install.sh and scripts/package-deb.sh with the tools under test: what is installed
/// where, the package's dependencies, and the packaged stn-video, installed by dpkg, running a
/// clip with its bundled model from another working folder.
final class InstallTests: XCTestCase {
    private static let scripts = PyTorchExportTests.repository.appendingPathComponent("scripts").path
    private static let tools = ["stn-video", "stn-train", "stn-make-video"]

    /// The installed stn-video runs a clip with the bundled model (nothing beside the binary)
    /// from `/`, and answers --version, or --help where --version does not exist yet.
    private func checkInstalledStnVideo(_ binary: String, _ directory: TemporaryDirectory) throws {
        var r = try Tools.shell("'\(binary)' --version || '\(binary)' --help")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdoutText.isEmpty)
        let clip = directory.path("clip.mp4"), output = directory.path("rectified.mp4")
        try Tools.ffmpeg(
            "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 4 -c:v libx264 -preset ultrafast '\(clip)'")
        r = try Tools.shell("cd / && '\(binary)' --quiet --size 64x64 '\(clip)' '\(output)'")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Tools.probeStreams(output).first?.frames, 4)
    }

    func testInstallIntoAPrefix() throws {
        let directory = try TemporaryDirectory()
        let root = directory.path("root")
        let r = try Tools.shell(
            "'\(Self.scripts)/install.sh' --prefix /opt/stn --destdir '\(root)' --bin-dir '\(Tools.productsDirectory.path)'"
        )
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        let prefix = root + "/opt/stn"
        for tool in Self.tools {
            XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "\(prefix)/bin/\(tool)"), tool)
            let page = try Tools.shell("zcat '\(prefix)/share/man/man1/\(tool).1.gz'").stdoutText
            XCTAssertTrue(page.hasPrefix(".TH \(tool.uppercased()) 1 "), page)
            XCTAssertTrue(page.contains(".SH DESCRIPTION"), tool)
            let bash = try String(
                contentsOfFile: "\(prefix)/share/bash-completion/completions/\(tool)", encoding: .utf8)
            XCTAssertTrue(bash.contains("complete -"), tool)
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: "\(prefix)/share/zsh/vendor-completions/_\(tool)"), tool)
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: "\(prefix)/share/fish/vendor_completions.d/\(tool).fish"), tool)
        }
        XCTAssertTrue(
            try Tools.shell("zcat '\(prefix)/share/man/man1/stn-train.1.gz'").stdoutText.contains(
                ".SH \"STN-TRAIN CLASSIFY\""), "subcommands' help")
        for script in ["batch.sh", "slurm-array.sh", "slurm-submit.sh"] {
            XCTAssertTrue(
                FileManager.default.isExecutableFile(atPath: "\(prefix)/share/stn-video/pipelines/\(script)"), script)
        }
        XCTAssertEqual(try Tools.shell("'\(prefix)/bin/stn-video' --help").status, 0)
    }

    /// The .deb declares FFmpeg's and OpenBLAS's packages, apt accepts it on this machine
    /// (a simulated install), and installed by dpkg into a scratch root its stn-video runs.
    func testDebianPackage() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb") else {
            throw XCTSkip("dpkg-deb is missing: install Debian's dpkg")
        }
        let directory = try TemporaryDirectory()
        var r = try Tools.shell(
            "'\(Self.scripts)/package-deb.sh' --version 1.0 --output '\(directory.path("deb"))' --bin-dir '\(Tools.productsDirectory.path)'"
        )
        XCTAssertEqual(r.status, 0, r.stderr)
        let deb = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(
            deb.hasSuffix(
                "/stn-video_1.0_\(try Tools.shell("dpkg --print-architecture").stdoutText.trimmingCharacters(in: .newlines)).deb"
            ), deb)
        let depends = try Tools.shell("dpkg-deb -f '\(deb)' Depends").stdoutText
        for package in ["libavformat59", "libavcodec59", "libswscale6", "libopenblas0"] {
            XCTAssertTrue(
                depends.split(separator: ",").contains {
                    $0.trimmingCharacters(in: .whitespacesAndNewlines) == package
                }, "\(package) in \(depends)")
        }
        if getuid() == 0 {
            r = try Tools.shell("apt-get install --simulate -q '\(deb)'")
            XCTAssertEqual(r.status, 0, "apt accepts the package and its dependencies: \(r.stdoutText)\(r.stderr)")
        }
        let scratch = directory.path("scratch")
        r = try Tools.shell(
            """
            set -e; mkdir -p '\(scratch)/var/lib/dpkg/info' '\(scratch)/var/lib/dpkg/updates'; touch '\(scratch)/var/lib/dpkg/status'
            dpkg --root='\(scratch)' --force-depends --force-not-root --log=/dev/null -i '\(deb)'
            dpkg --root='\(scratch)' -L stn-video
            """)
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        for tool in Self.tools {
            XCTAssertTrue(r.stdoutText.contains("/usr/bin/\(tool)\n"), r.stdoutText)
            XCTAssertTrue(r.stdoutText.contains("/usr/share/man/man1/\(tool).1.gz\n"), r.stdoutText)
        }
        try checkInstalledStnVideo(scratch + "/usr/bin/stn-video", directory)
    }
}
