import Foundation
import XCTest

/// A model exported from PyTorch (pipelines/export_pytorch.py) gives stn-video the same θ as
/// PyTorch on the same frames. Needs torch; skipped, visibly, where it is not installed.
final class PyTorchExportTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testExportedModelMatchesPyTorch() throws {
        let script = Self.repository.appendingPathComponent("pipelines/export_pytorch.py").path
        let probe = try Tools.shell("python3 -c 'import torch, safetensors' 2>&1")
        guard probe.status == 0 else {
            throw XCTSkip(
                "PyTorch export check skipped: python3 cannot import torch and safetensors (pip install torch safetensors)"
            )
        }
        let r = try Tools.run("/usr/bin/env", ["python3", script, "check", "--stn-video", Tools.stnVideo])
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderr)
        XCTAssertTrue(r.stdoutText.contains("max |stn-video − PyTorch|"), r.stdoutText)
        print(r.stdoutText)
    }
}
