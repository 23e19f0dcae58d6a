import Foundation
import XCTest

/// `stn-train` as a user meets it when something is wrong: exit 2 and the reason for bad
/// arguments, exit 1 and one line naming the file for failures at run time (DESIGN.md §5),
/// no output written over an input, and no crash on degenerate data or settings.
final class TrainCommandTests: XCTestCase {
    private func assertExit(
        _ arguments: [String], _ status: Int32, _ fragments: String...,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let r = try Tools.run(Tools.stnTrain, arguments)
        XCTAssertEqual(r.status, status, "\(arguments): \(r.stderr)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(
                r.stderr.contains(fragment), "\(arguments): \"\(fragment)\" not in: \(r.stderr)", file: file, line: line
            )
        }
        if status == 1 {
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "one line: \(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stderr.hasPrefix("stn-train: error: "), r.stderr, file: file, line: line)
        }
    }

    func testHelpIsPrintedWithStatusZero() throws {
        for arguments in [["--help"], [], ["video", "--help"], ["classify", "-h"]] {
            let r = try Tools.run(Tools.stnTrain, arguments)
            XCTAssertEqual(r.status, 0, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stdoutText.contains("USAGE: stn-train"), "\(arguments): \(r.stdoutText)")
        }
        let r = try Tools.run(Tools.stnMakeVideo, ["--help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdoutText.contains("USAGE: stn-make-video"), r.stdoutText)
    }

    func testBadSettingsAreUsageErrorsWithTheirReason() throws {
        let directory = try TemporaryDirectory()
        let model = directory.path("m.safetensors")
        try assertExit(["video", "--glimpse", "8", "-o", model], 2, "--glimpse must be in 12…256")
        try assertExit(
            ["video", "--log-every", "0", "-o", model], 2, "--log-every and --checkpoint-every must be at least 1")
        try assertExit(["video", "--learning-rate", "nan", "-o", model], 2, "--learning-rate must be a positive number")
        try assertExit(["video", "--batch-size", "100000000", "-o", model], 2, "--batch-size must be in 1…4096")
        try assertExit(
            ["video", "--steps", "3", "--finetune-steps", "10", "-o", model], 2,
            "--finetune-steps must be in 0…--steps (3)")
        try assertExit(
            ["video", "--mine-negatives", "1", "--no-item-share", "0.3", "-o", model], 2,
            "--mine-negatives mines item-free scenes in the fine-tuning steps")
        try assertExit(
            ["video", "--mine-negatives", "0", "--finetune-steps", "1", "-o", model], 2,
            "--mine-negatives must be a positive number of half-sides")
        try assertExit(
            ["video", "--search-windows", "1", "--steps", "3", "-o", model], 2,
            "--search-windows chooses the fine-tuning steps' windows: give --finetune-steps")
        try assertExit(
            ["video", "--search-windows", "1", "--finetune-steps", "1", "--mine-negatives", "1", "-o", model], 2,
            "and not --mine-negatives")
        try assertExit(
            ["video", "--search-windows", "0.1", "--finetune-steps", "1", "-o", model], 2,
            "--search-windows must be from 0.25 to 8 half-sides")
        try assertExit(
            ["video", "--search-targets", "1", "--box-supervision", "-o", model], 2,
            "--search-targets trains θ in the steps before --finetune-steps")
        try assertExit(
            ["video", "--search-targets", "1", "--steps", "3", "--finetune-steps", "3", "-o", model], 2,
            "leave steps before the fine-tuning")
        try assertExit(
            ["video", "--search-targets", "9", "-o", model], 2, "--search-targets must be from 0.25 to 8 half-sides")
        try assertExit(["video-eval", "--frames", "0"], 2, "--frames must be at least 1")
        try assertExit(["video-eval", "--sizes", ","], 2, "--sizes: bad size \"\"")
        try assertExit(["video-eval", "--sizes", "abc"], 2, "--sizes: bad size \"abc\"")
        try assertExit(["preview", "--count=-3", "--output", directory.path("p.pgm")], 2, "--count must be in 1…1000")
        try assertExit(
            ["classify", "--localisation-scale", "nan", "--output", directory.path("run")], 2,
            "--localisation-scale must be a finite number")
        XCTAssertFalse(FileManager.default.fileExists(atPath: model), "nothing written on a usage error")
    }

    func testRunTimeFailuresNameTheFileInOneLine() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.path("missing.safetensors")
        try assertExit(["video-eval", "--model", missing, "--frames", "4"], 1, "\(missing): no such file")
        try assertExit(
            ["table", directory.path("none.json")], 1, "\(directory.path("none.json")): No such file or directory")
        let bad = directory.path("bad.json")
        try Data("{\"model\": \"cnn\"}".utf8).write(to: URL(fileURLWithPath: bad))
        try assertExit(["table", bad], 1, "\(bad): not the JSON expected: no \"")
        try assertExit(["video", "-o", directory.path(""), "--steps", "1"], 1, "is a directory")
        // A data set with no images: a clear error, not a division by zero.
        let empty = directory.path("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: empty, count: 0)
        try assertExit(
            ["video", "--data", empty, "-o", directory.path("e.safetensors"), "--steps", "1"], 1, "no images (N = 0)")
        try assertExit(
            ["classify", "--data", empty, "--model", "cnn", "--steps", "1", "--output", directory.path("run")], 1,
            "no images (N = 0)")
    }

    func testOutputsNeverReplaceInputs() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        let images = data + "/t10k-images-idx3-ubyte", labels = data + "/train-labels-idx1-ubyte"
        let before = try [images, labels].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        try assertExit(["preview", "--data", data, "--output", images], 1, "refusing to overwrite")
        // Another spelling of the same path, and a symbolic link to it.
        try assertExit(
            ["preview", "--data", data, "--output", data + "/../data/t10k-images-idx3-ubyte"], 1,
            "refusing to overwrite")
        let link = directory.path("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: labels)
        try assertExit(
            [
                "classify", "--data", data, "--model", "cnn", "--steps", "1", "--output", directory.path("run"),
                "--results", link
            ],
            1, "refusing to overwrite")
        try assertExit(["video", "--data", data, "--steps", "1", "-o", images], 1, "refusing to overwrite")
        let after = try [images, labels].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        XCTAssertEqual(before, after, "the data files are untouched")

        let results = directory.path("results.json")
        try Data("{}".utf8).write(to: URL(fileURLWithPath: results))
        try assertExit(["table", results, "--output", results], 1, "refusing to overwrite")
        XCTAssertEqual(try String(contentsOfFile: results, encoding: .utf8), "{}")
    }

    func testDivergedTrainingStopsWithAnErrorInsteadOfWritingNaNs() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        let model = directory.path("m.safetensors")
        let r = try Tools.run(
            Tools.stnTrain,
            [
                "video", "--data", data, "-o", model, "--steps", "5", "--warmup-steps", "0",
                "--batch-size", "4", "--learning-rate", "1e30", "--checkpoint-every", "100"
            ])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("stn-train: error: \(model): training diverged at step"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: model), "no model of non-finite weights")
    }

    /// Starts `stn-train arguments`, waits for `ready` in its output, sends `signal`.
    private func interrupt(_ arguments: [String], after ready: String, with signal: Int32) throws -> (
        status: Int32, stderr: String
    ) {
        let directory = try TemporaryDirectory()
        let transcript = directory.path("transcript.txt")
        XCTAssertTrue(FileManager.default.createFile(atPath: transcript, contents: nil))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.stnTrain)
        process.arguments = arguments
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: transcript))
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        func text() -> String { (try? String(contentsOfFile: transcript, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !text().contains(ready) { usleep(20_000) }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, text())
    }

    func testInterruptedTrainingSavesWhatResumesIt() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data"), run = directory.path("run")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        let classify = [
            "classify", "--data", data, "--model", "cnn", "--distortion", "none", "--steps", "1000000",
            "--checkpoint-every", "1000000", "--log-every", "10", "--output", run
        ]
        let first = try interrupt(classify, after: "step 20/", with: SIGINT)
        XCTAssertEqual(first.status, 130, first.stderr)
        let stopped = try XCTUnwrap(
            first.stderr.firstMatch(of: /interrupted at step (\d+) of 1000000/)?.1, first.stderr)
        let state = try String(contentsOfFile: run + "/checkpoint.json", encoding: .utf8)
        XCTAssertTrue(state.contains("\"step\" : \(stopped),"), state)
        let second = try interrupt(classify + ["--resume"], after: "resuming at step", with: SIGTERM)
        XCTAssertEqual(second.status, 143, second.stderr)
        XCTAssertTrue(second.stderr.contains("resuming at step \(stopped) of 1000000"), second.stderr)

        let model = directory.path("m.safetensors")
        let video = try interrupt(
            [
                "video", "--data", data, "-o", model, "--steps", "1000000", "--warmup-steps", "0",
                "--batch-size", "4", "--log-every", "2"
            ], after: "step     2/", with: SIGTERM)
        XCTAssertEqual(video.status, 143, video.stderr)
        XCTAssertTrue(video.stderr.contains("\(model) holds the model so far"), video.stderr)
        let eval = try Tools.run(
            Tools.stnTrain, ["video-eval", "--data", data, "--model", model, "--frames", "4", "--sizes", "64x64"])
        XCTAssertEqual(eval.status, 0, "the saved model loads: \(eval.stderr)")
    }

    /// `--mine-negatives` and `--search-windows` fine-tune the classifier alone: every localisation tensor of the model it
    /// starts from is kept bit for bit, and the classifier's weights move.
    func testMinedAndSearchedFineTuningTrainOnlyTheClassifier() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        let start = directory.path("start.safetensors"), mined = directory.path("mined.safetensors")
        let common = [
            "video", "--data", data, "--scenes", "robust", "--no-item-share", "0.5", "--warmup-steps", "0",
            "--batch-size", "4", "--log-every", "1"
        ]
        var r = try Tools.run(Tools.stnTrain, common + ["-o", start, "--steps", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for mode in ["--mine-negatives", "--search-windows"] {
            r = try Tools.run(
                Tools.stnTrain,
                common + ["-o", mined, "--initialise-from", start, "--steps", "3", "--finetune-steps", "3", mode, "1"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let before = try Self.tensors(start), after = try Self.tensors(mined)
            XCTAssertEqual(Set(before.keys), Set(after.keys))
            let localisation = before.keys.filter { $0.hasPrefix("loc.") || $0.hasPrefix("fc_loc.") }
            let classifier = before.keys.filter { $0.hasPrefix("classifier.") }
            XCTAssertFalse(localisation.isEmpty || classifier.isEmpty, "\(before.keys)")
            for name in localisation { XCTAssertEqual(before[name], after[name], "\(mode): \(name)") }
            XCTAssertTrue(classifier.contains { before[$0] != after[$0] }, "\(mode): the classifier trained")
            try FileManager.default.removeItem(atPath: mined)
        }
    }

    /// `--search-targets` trains θ alone on the search's windows: every classifier tensor of the
    /// bundled model it starts from is kept bit for bit, the localisation's weights move, and the log
    /// reports the targets, which centre the item more often than θ does (on these 24 scenes, 18
    /// with an item, measured: θ 72.2 %, targets 94.4 %).
    func testSearchTargetsTrainOnlyTheLocalisation() throws {
        let data = "/usr/share/datasets/fashion-mnist"
        guard FileManager.default.fileExists(atPath: data) else {
            throw XCTSkip("Fashion-MNIST is not installed (scripts/setup.sh installs dataset-fashion-mnist)")
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let start = repository.appendingPathComponent("samples/model/attention-fashion.safetensors").path
        let directory = try TemporaryDirectory()
        let trained = directory.path("trained.safetensors")
        let r = try Tools.run(
            Tools.stnTrain,
            [
                "video", "--data", data, "--scenes", "robust", "--no-item-share", "0.3", "--localisation-net",
                "keypoints", "--localisation-side", "96", "--source-side", "288", "--initialise-from", start,
                "--steps", "2", "--batch-size", "12", "--log-every", "2", "--curriculum-steps", "0", "--learning-rate",
                "3e-4", "--seed", "5",
                "--search-targets", "1", "--threads", "1", "-o", trained
            ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdoutText.split(separator: "\n").first { $0.hasPrefix("step     2/2") })
        func percent(after label: String) throws -> Double {
            let tail = try XCTUnwrap(line.range(of: label).map { line[$0.upperBound...] }, "\(label) in \(line)")
            return try XCTUnwrap(Double(tail.prefix { $0 != "%" }.trimmingCharacters(in: .whitespaces)), String(line))
        }
        let theta = try percent(after: "  centre-in-box "), targets = try percent(after: "targets: centre-in-box ")
        XCTAssertGreaterThan(targets, theta + 5, String(line))
        XCTAssertGreaterThan(try percent(after: "moved "), 0, String(line))
        let before = try Self.tensors(start), after = try Self.tensors(trained)
        XCTAssertEqual(Set(before.keys), Set(after.keys))
        let classifier = before.keys.filter { $0.hasPrefix("classifier.") }
        XCTAssertFalse(classifier.isEmpty, "\(before.keys)")
        for name in classifier { XCTAssertEqual(before[name], after[name], name) }
        XCTAssertTrue(
            before.keys.contains { ($0.hasPrefix("loc.") || $0.hasPrefix("fc_loc.")) && before[$0] != after[$0] },
            "the localisation trained")
    }

    /// A safetensors file's tensors by name, as raw bytes.
    private static func tensors(_ path: String) throws -> [String: Data] {
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: file.subdata(in: 8..<(8 + length))) as? [String: Any])
        var tensors: [String: Data] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let offsets = try XCTUnwrap((entry as? [String: Any])?["data_offsets"] as? [Int])
            tensors[name] = file.subdata(in: (8 + length + offsets[0])..<(8 + length + offsets[1]))
        }
        return tensors
    }

    /// video-eval runs the bundled model from any working directory, and with fewer frames
    /// than frame sizes scores only sizes that get a frame; a model of another kind is refused
    /// naming what video-eval needs.
    func testVideoEvalFindsTheBundledModelAndNamesWhatItNeeds() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        let r = try Tools.shell("cd '\(directory.url.path)' && '\(Tools.stnTrain)' video-eval --data data --frames 3")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdoutText.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("frames 1 ") }.count, 3, r.stdoutText)
        XCTAssertTrue(lines.contains { $0.hasPrefix("all: frames 3 ") }, r.stdoutText)
        XCTAssertFalse(r.stdoutText.contains("frames 0 "), r.stdoutText)

        let run = directory.path("run")
        XCTAssertEqual(
            try Tools.run(
                Tools.stnTrain,
                [
                    "classify", "--data", data, "--model", "affine", "--steps", "1", "--quiet",
                    "--output", run
                ]
            ).status, 0)
        try assertExit(
            ["video-eval", "--data", data, "--model", run + "/model.safetensors", "--frames", "2"], 1,
            "video-eval scores attention models", "this one is affine")
    }

    /// classify never replaces a trained model unasked; --resume with a larger --steps trains on.
    func testClassifyKeepsATrainedModelAndResumeExtendsIt() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data"), run = directory.path("run")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        let classify = ["classify", "--data", data, "--model", "cnn", "--distortion", "none", "--output", run]
        var r = try Tools.run(Tools.stnTrain, classify + ["--steps", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let model = run + "/model.safetensors"
        let trained = try Data(contentsOf: URL(fileURLWithPath: model))
        try assertExit(
            classify + ["--steps", "2"], 1, "\(model): exists; --resume continues that run, --force starts over")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: model)), trained)
        try assertExit(classify + ["--resume", "--force"], 2, "--resume continues a run and --force starts over")

        r = try Tools.run(Tools.stnTrain, classify + ["--steps", "5", "--resume"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("resuming at step 2 of 5"), r.stderr)
        let results = try String(contentsOfFile: run + "/results.json", encoding: .utf8)
        XCTAssertTrue(results.contains("\"steps\" : 5,"), results)

        r = try Tools.run(Tools.stnTrain, classify + ["--steps", "1", "--force"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// video-eval --log --truth scores a clip's stn-video log against its ground truth: a
    /// window on the box of every frame scores 100 %.
    func testVideoEvalScoresALogAgainstItsTruth() throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("data"), clip = directory.path("clip.mp4")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Tools.writeIDXDataset(in: data, count: 20)
        XCTAssertEqual(
            try Tools.run(
                Tools.stnMakeVideo,
                ["--data", data, "--seconds", "0.4", "--size", "96x64", "--preset", "ultrafast", clip]
            ).status, 0)
        // A log whose windows are the truth's boxes, as stn-video writes logs.
        let truth = try String(contentsOfFile: directory.path("clip.truth.csv"), encoding: .utf8).split(separator: "\n")
            .dropFirst()
        var log = "frame,pts_time,raw_s,raw_tx,raw_ty,s,tx,ty,scene_cut\n"
        for row in truth {
            let f = row.split(separator: ",")
            log += "\(f[0]),\(f[1]),\(f[9]),\(f[7]),\(f[8]),\(f[9]),\(f[7]),\(f[8]),0\n"
        }
        let logPath = directory.path("clip.params.csv")
        try log.write(toFile: logPath, atomically: true, encoding: .utf8)
        let r = try Tools.run(
            Tools.stnTrain, ["video-eval", "--log", logPath, "--truth", directory.path("clip.truth.csv")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stdoutText.hasPrefix("\(logPath): frames 10  centre-in-box 100.00%  mean IoU 1.000\n"), r.stdoutText)
        try assertExit(["video-eval", "--log", logPath], 2, "--log and --truth go together")
    }
}
