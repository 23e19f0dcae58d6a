import Foundation
import XCTest

/// `stn-video IN OUT` with no transform options runs the bundled model: on short generated clips
/// of t10k items (stn-make-video) it writes a log row per frame and puts the window on the item.
///
/// These clips go through the whole product (H.264, decoding, one-euro smoothing). On the clip
/// of SceneModelTests (the same scenes, here encoded and decoded) the smoothed windows meet
/// the bundled model's targets (centre in box ≥ 95%, mean IoU ≥ 0.5); on three other clips, whose items
/// are harder for the model, floors guard the measured level.
final class BundledModelTests: XCTestCase {
    /// The model of samples/model/README.md measures centre in box 1.0, mean IoU 0.677 on these
    /// three clips with the default window path; the floors leave room for a retrained model's spread.
    enum Floor {
        static let centreInBox = 0.75
        static let meanIoU = 0.4
    }

    static var makeVideo: String { Tools.productsDirectory.appendingPathComponent("stn-make-video").path }

    struct Score {
        var frames = 0
        var centreInBox = 0.0
        var iouSum = 0.0
        var centreInBoxRate: Double { centreInBox / Double(frames) }
        var meanIoU: Double { iouSum / Double(frames) }
    }

    /// Reads a CSV with a header into one dictionary per row (no quoted commas in these columns' values we use).
    static func rows(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { line in
            Dictionary(
                uniqueKeysWithValues: zip(
                    header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    /// Adds the used windows (s, tx, ty) of a log, or with `prefix` "raw_" the network's, scored
    /// against the truth boxes; both in square-canvas coordinates.
    static func score(log: String, truth: String, prefix: String = "", into score: inout Score) throws {
        let windows = try rows(log), boxes = try rows(truth)
        XCTAssertEqual(windows.count, boxes.count, "one log row per frame of \(truth)")
        for (w, b) in zip(windows, boxes) {
            let s = abs(Double(w[prefix + "s"]!)!), tx = Double(w[prefix + "tx"]!)!, ty = Double(w[prefix + "ty"]!)!
            let cx = Double(b["canvas_cx"]!)!, cy = Double(b["canvas_cy"]!)!, h = Double(b["canvas_half_side"]!)!
            if abs(tx - cx) <= h && abs(ty - cy) <= h { score.centreInBox += 1 }
            let ix = max(0, min(tx + s, cx + h) - max(tx - s, cx - h))
            let iy = max(0, min(ty + s, cy + h) - max(ty - s, cy - h))
            score.iouSum += ix * iy / (4 * s * s + 4 * h * h - ix * iy)
            score.frames += 1
        }
    }

    /// Generates one t10k clip per (size, seed), runs `stn-video IN OUT` on each and scores the
    /// used windows of the logs, and the network's raw windows, against the truth.
    func scoreDefaultRuns(
        _ clips: [(size: String, seed: Int)], seconds: String, frames: Int, makeVideoOptions: [String] = []
    ) throws -> (used: Score, raw: Score) {
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") else {
            throw XCTSkip("Fashion-MNIST is not installed (scripts/setup.sh installs dataset-fashion-mnist)")
        }
        let directory = try TemporaryDirectory()
        var total = Score(), raw = Score()
        for (size, seed) in clips {
            let clip = directory.path("\(size).mp4"), output = directory.path("\(size)-out.mp4")
            var r = try Tools.run(
                Self.makeVideo,
                ["--seconds", seconds, "--size", size, "--seed", "\(seed)", "--split", "t10k"]
                    + makeVideoOptions + [clip])
            XCTAssertEqual(r.status, 0, r.stderr)
            r = try Tools.run(Tools.stnVideo, ["--quiet", clip, output])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try Tools.probeStreams(output).first?.frames, frames, size)
            XCTAssertEqual(try Self.rows(directory.path("\(size)-out.params.csv")).count, frames, "log rows of \(size)")
            try Self.score(
                log: directory.path("\(size)-out.params.csv"), truth: directory.path("\(size).truth.csv"), into: &total)
            try Self.score(
                log: directory.path("\(size)-out.params.csv"), truth: directory.path("\(size).truth.csv"),
                prefix: "raw_", into: &raw)
        }
        XCTAssertEqual(total.frames, frames * clips.count)
        return (total, raw)
    }

    /// The default window path (centred smoothing, the hold camera) costs at most a point of
    /// centre in box and of IoU against the network's raw windows (the camera issue's target).
    /// Measured: used 1.0 and 0.677, raw 1.0 and 0.684; with `--lookahead 0` the used IoU is 0.582.
    func testDefaultRunPutsTheWindowOnTheItem() throws {
        let (total, raw) = try scoreDefaultRuns(
            [("480x270", 11), ("320x240", 11), ("270x480", 11)], seconds: "4", frames: 100,
            makeVideoOptions: ["--preset", "ultrafast"])
        print(
            "bundled model on three 4 s t10k clips: centre in box \(total.centreInBoxRate), mean IoU \(total.meanIoU); raw \(raw.centreInBoxRate), \(raw.meanIoU)"
        )
        XCTAssertGreaterThanOrEqual(total.centreInBoxRate, Floor.centreInBox)
        XCTAssertGreaterThanOrEqual(total.meanIoU, Floor.meanIoU)
        XCTAssertGreaterThanOrEqual(total.centreInBoxRate, raw.centreInBoxRate - 0.01)
        XCTAssertGreaterThanOrEqual(total.meanIoU, raw.meanIoU - 0.01)
    }

    /// SceneModelTests' scenes (sizes, seeds 77–79, 80 frames at 25 fps) as H.264 files through
    /// the whole product: the window targets (centre in box ≥ 95 %, IoU ≥ 0.5) hold for the used
    /// windows of the log. Measured with the current model and the default window path: centre
    /// in box 1.0, mean IoU 0.605 (in process, on the rendered frames, 1.0 and 0.646).
    func testSmoothedWindowsMeetTheTargetsOnTheSceneModelClip() throws {
        let total = try scoreDefaultRuns(
            [("256x144", 77), ("192x192", 78), ("144x256", 79)], seconds: "3.2", frames: 80
        ).used
        print(
            "bundled model on SceneModelTests' clip through stn-video: centre in box \(total.centreInBoxRate), mean IoU \(total.meanIoU)"
        )
        XCTAssertGreaterThanOrEqual(total.centreInBoxRate, 0.95)
        XCTAssertGreaterThanOrEqual(total.meanIoU, 0.5)
    }

    /// The compiled-in model is the file in samples/model at build time: `--model samples/...` gives the same log.
    func testBundledModelIsTheCommittedFile() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let model = repository.appendingPathComponent("samples/model/attention-fashion.safetensors").path
        let input = repository.appendingPathComponent("samples/testsrc-640x360.mp4").path
        let directory = try TemporaryDirectory()
        var r = try Tools.run(Tools.stnVideo, ["--quiet", "--codec", "ffv1", input, directory.path("a.mkv")])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try Tools.run(
            Tools.stnVideo, ["--quiet", "--codec", "ffv1", "--model", model, input, directory.path("b.mkv")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try String(contentsOfFile: directory.path("a.params.csv"), encoding: .utf8)
        let b = try String(contentsOfFile: directory.path("b.params.csv"), encoding: .utf8)
        XCTAssertGreaterThan(a.split(separator: "\n").count, 10)
        XCTAssertEqual(a, b, "the compiled-in model differs from \(model): rebuild stn-video")
    }

    /// The localisation network reads `--batch` frames at once; the log is the same at any batch
    /// (θ within 1e-6: only the GEMMs' summation order changes), with look-ahead too, and a last
    /// batch that is not full.
    func testTheLogDoesNotDependOnTheBatch() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let input = repository.appendingPathComponent("samples/testsrc-640x360.mp4").path
        let directory = try TemporaryDirectory()
        var logs: [[[String: String]]] = []
        for (name, options) in [("b1", ["--batch", "1"]), ("b8", []), ("b5", ["--batch", "5"])] {
            let r = try Tools.run(
                Tools.stnVideo,
                ["--quiet", "--codec", "ffv1", "--lookahead", "3"] + options + [input, directory.path("\(name).mkv")])
            XCTAssertEqual(r.status, 0, r.stderr)
            logs.append(try Self.rows(directory.path("\(name).params.csv")))
        }
        XCTAssertGreaterThan(logs[0].count, 20)
        XCTAssertNotEqual(logs[0].count % 8, 0, "the last batch of 8 is partial")
        for log in logs.dropFirst() {
            XCTAssertEqual(log.count, logs[0].count)
            for (a, b) in zip(logs[0], log) {
                XCTAssertEqual(a["frame"], b["frame"]); XCTAssertEqual(a["pts_time"], b["pts_time"])
                XCTAssertEqual(a["scene_cut"], b["scene_cut"]); XCTAssertEqual(a["label"], b["label"])
                for column in ["raw_s", "raw_tx", "raw_ty", "s", "tx", "ty"] {
                    XCTAssertEqual(
                        Double(a[column]!)!, Double(b[column]!)!, accuracy: 1e-6, "\(column) of frame \(a["frame"]!)")
                }
                for column in ["presence", "confidence"] {
                    // One unit of the 4th decimal at most: the printed value may round the other way.
                    XCTAssertEqual(Double(a[column]!)!, Double(b[column]!)!, accuracy: 1.5e-4, column)
                }
            }
        }
    }
}
