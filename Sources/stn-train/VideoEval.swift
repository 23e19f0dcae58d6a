import ArgumentParser
import CommandSupport
import Foundation
import STNCore
import STNData

/// `stn-train video-eval`: scores a model on generated videos of t10k items.
struct VideoEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video-eval",
        abstract:
            "Score an attention model on generated test-split videos: centre in box, IoU of window and box, glimpse accuracy.",
        discussion: """
            With --log and --truth, scores the windows of an existing stn-video parameter log against \
            stn-make-video's ground truth instead (centre in box and IoU of the smoothed windows):

              stn-make-video clip.mp4 && stn-video clip.mp4 out.mp4
              stn-train video-eval --log out.params.csv --truth clip.truth.csv
            """)

    @Option(help: "Model file (default: the bundled model, the one stn-video runs by default).")
    var model: String?
    @Option(help: "Directory of the IDX files (t10k split used).")
    var data = FashionMNIST.defaultDirectory.path
    @Option(help: "Frames in all, split evenly over the frame sizes.")
    var frames = 2000
    @Option(help: "Frame sizes, comma-separated WxH.")
    var sizes = "640x360,480x360,360x360,360x640"
    @Option(help: "Random seed of the videos.")
    var seed: UInt64 = 2024
    @Option(
        help: "Side of the canvas the glimpses are sampled from (default: 3 × the localisation side; a multiple of it)."
    )
    var sourceSide: Int?
    @Option(
        help: ArgumentHelp("Score this stn-video parameter log (.csv, attention) against --truth.", valueName: "log"))
    var log: String?
    @Option(help: ArgumentHelp("The clip's ground truth, as stn-make-video writes it (with --log).", valueName: "csv"))
    var truth: String?
    @Flag(
        help:
            "Run the held-out suite instead: one row per bucket (clutter, background, noise, blur, contrast, H.264, frame sizes, item-free scenes) and the worst bucket."
    )
    var suite = false
    @Option(help: "Frames per bucket of --suite.")
    var framesPerBucket = 2000
    @Option(help: "With --suite, only the buckets whose names contain one of these comma-separated words.")
    var buckets: String?
    @Flag(
        help:
            "Diagnostic: scale each scene's clutter with its item, as in training scenes with --clutter-sizing item (the videos keep clutter still while the item shrinks below it)."
    )
    var clutterFollowsItem = false
    @Option(
        help: ArgumentHelp(
            "With --suite, also score each bucket as stn-video --search runs: the network's window, or the window the classifier is surest of among grids this many half-sides apart, refined.",
            valueName: "half-sides"))
    var search: Double?

    func validate() throws {
        if let sourceSide, sourceSide <= 0 { throw ValidationError("--source-side must be positive") }
        if let search, !(search >= 0.25 && search <= 8) {
            throw ValidationError("--search must be from 0.25 to 8 half-sides")
        }
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard framesPerBucket >= 1 else { throw ValidationError("--frames-per-bucket must be at least 1") }
        guard (log == nil) == (truth == nil) else { throw ValidationError("--log and --truth go together") }
        _ = try parsedSizes()
    }

    /// `--sizes` as (width, height) pairs: at least one, each side in 16…8192.
    private func parsedSizes() throws -> [(Int, Int)] {
        let parsed = try sizes.split(separator: ",", omittingEmptySubsequences: false).map { text -> (Int, Int) in
            let parts = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let width = parts[0], let height = parts[1], (16...8192).contains(width),
                (16...8192).contains(height)
            else {
                throw ValidationError("--sizes: bad size \"\(text)\" (expected WxH, each side 16…8192)")
            }
            return (width, height)
        }
        guard !parsed.isEmpty else { throw ValidationError("--sizes names no size") }
        return parsed
    }

    func run() throws {
        if let log, let truth {
            try scoreLog(log, truth: truth)
            return
        }
        let items = try FashionMNIST.load(.test, from: URL(fileURLWithPath: data))
        let bundledCopy = model == nil ? try BundledModelFile.temporaryCopy() : nil
        defer { bundledCopy.map { try? FileManager.default.removeItem(at: $0) } }
        let url = bundledCopy ?? URL(fileURLWithPath: model!)
        let model = self.model ?? BundledModelFile.name
        let stn = try naming(model) { try STNModel.load(contentsOf: url) }
        guard stn.transformKind == .attention else {
            throw ToolError(
                model,
                "video-eval scores attention models (θ = s,tx,ty, a square window, as stn-video's bundled "
                    + "model and 'stn-train video' make); this one is \(stn.transformKind.rawValue)")
        }
        if let sourceSide, sourceSide % stn.inputHeight != 0 {
            throw ValidationError("--source-side must be a multiple of the localisation side \(stn.inputHeight)")
        }
        let classifier = try naming(model) {
            stn.config.classifier != nil ? try TwoResolutionSTCNN(contentsOf: url) : nil
        }
        if suite { return try runSuite(stn: stn, classifier: classifier, items: items) }
        // Every size scored gets a frame at least: with fewer frames than sizes, the first sizes.
        let parsed = Array(try parsedSizes().prefix(frames))
        var total = SceneEvaluation()
        for (index, size) in parsed.enumerated() {
            let count = frames / parsed.count + (index < frames % parsed.count ? 1 : 0)
            let result = try SceneEvaluation.run(
                model: stn, classifier: classifier, items: items, width: size.0, height: size.1,
                frames: count, seed: seed &+ UInt64(index), sourceSide: sourceSide,
                clutterFollowsItem: clutterFollowsItem)
            print("\(size.0)x\(size.1): \(result)")
            total.merge(result)
        }
        print("all: \(total)")
        print("     \(total.missSummary)")
    }

    /// One row per `SceneSuite` bucket, then the worst bucket of each figure.
    private func runSuite(stn: STNModel, classifier: TwoResolutionSTCNN?, items: IDXDataset) throws {
        let wanted = buckets?.split(separator: ",").map { $0.lowercased() }
        let chosen = SceneSuite.buckets.filter { bucket in
            wanted.map { $0.contains { bucket.name.lowercased().contains($0) } } ?? true
        }
        guard !chosen.isEmpty else {
            throw ValidationError(
                "--buckets matches none of: \(SceneSuite.buckets.map(\.name).joined(separator: ", "))")
        }
        print(
            "| bucket | frames | centre in box | IoU | accuracy | true-box accuracy | ratio | present | item-free called absent |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        var rows: [(name: String, result: SceneEvaluation)] = []
        for bucket in chosen {
            // Seeded by its place in the whole suite, so that --buckets gives the same rows.
            let index = SceneSuite.buckets.firstIndex { $0.name == bucket.name }!
            let degrade = bucket.crf.map { H264RoundTrip(width: bucket.width, height: bucket.height, crf: $0) }
            let result = try SceneEvaluation.run(
                model: stn, classifier: classifier, items: items, width: bucket.width, height: bucket.height,
                frames: framesPerBucket, seed: seed &+ UInt64(1000 + index), sourceSide: sourceSide,
                options: bucket.options, degrade: degrade.map { d in { try d($0, count: $1) } },
                search: search.map { WindowSearch(step: $0) })
            rows.append((bucket.name, result))
            print(Self.row(bucket.name, result))
            if search != nil { print(Self.searchedRow(result)) }
            fflush(nil)
        }
        let tracked = rows.filter { $0.result.frames > 0 }
        func worst(_ label: String, _ value: (SceneEvaluation) -> Double, format: String) {
            guard let row = tracked.min(by: { value($0.result) < value($1.result) }) else { return }
            print("worst \(label): \(String(format: format, value(row.result))) (\(row.name))")
        }
        worst("centre in box", { 100 * $0.centreInBoxRate }, format: "%.2f%%")
        worst("IoU", { $0.meanIoU }, format: "%.3f")
        if classifier != nil {
            worst("accuracy", { 100 * $0.accuracy }, format: "%.2f%%")
            worst("accuracy / true-box accuracy", { $0.accuracy / max($0.boxAccuracy, 1e-9) }, format: "%.3f")
            worst("true-box accuracy", { 100 * $0.boxAccuracy }, format: "%.2f%%")
            if rows.contains(where: { $0.result.measuresPresence }) {
                worst("present", { 100 * $0.presenceRate }, format: "%.2f%%")
            }
        }
    }

    private static func row(_ name: String, _ r: SceneEvaluation) -> String {
        func percent(_ value: Double, _ valid: Bool) -> String { valid ? String(format: "%.2f %%", 100 * value) : "–" }
        let tracked = r.frames > 0, classified = r.classifiedFrames > 0
        return
            "| \(name) | \(r.frames + r.absentFrames) | \(percent(r.centreInBoxRate, tracked)) | \(tracked ? String(format: "%.3f", r.meanIoU) : "–") | "
            + "\(percent(r.accuracy, classified)) | \(percent(r.boxAccuracy, classified)) | "
            + "\(classified ? String(format: "%.3f", r.accuracy / max(r.boxAccuracy, 1e-9)) : "–") | "
            + "\(percent(r.presenceRate, classified && r.measuresPresence)) | \(percent(r.absenceRate, r.absentFrames > 0)) |"
    }

    /// The bucket's figures for the searched windows, under its row.
    private static func searchedRow(_ r: SceneEvaluation) -> String {
        let p = r.searched, tracked = r.frames > 0, classified = r.classifiedFrames > 0
        func rate(_ count: Int, of total: Int, _ valid: Bool) -> String {
            valid ? String(format: "%.2f %%", 100 * Double(count) / Double(max(total, 1))) : "–"
        }
        let iou = tracked ? String(format: "%.3f", p.iouSum / Double(r.frames)) : "–"
        return "|   with --search | | \(rate(p.centresInBox, of: r.frames, tracked)) | \(iou) | "
            + "\(rate(p.correct, of: r.classifiedFrames, classified)) | | | "
            + "\(rate(p.presentCalled, of: r.classifiedFrames, classified && r.measuresPresence)) | "
            + "\(rate(p.absentCalled, of: r.absentFrames, r.absentFrames > 0)) |"
    }

    /// Scores the smoothed windows of `log` against the boxes of `truth`, frame by frame.
    private func scoreLog(_ log: String, truth: String) throws {
        let windows = try Self.csvRows(log, columns: ["frame", "s", "tx", "ty"])
        let boxes = try Self.csvRows(truth, columns: ["frame", "canvas_cx", "canvas_cy", "canvas_half_side"])
        let boxByFrame = Dictionary(boxes.map { (Int($0[0]), $0) }, uniquingKeysWith: { first, _ in first })
        var score = SceneEvaluation()
        for window in windows {
            guard let box = boxByFrame[Int(window[0])] else { continue }
            score.add(
                theta: (window[1], window[2], window[3]),
                box: SceneSquare(centreX: box[1], centreY: box[2], halfSide: box[3]))
        }
        guard score.frames > 0 else { throw ToolError(log, "no frame of the log is in \(truth)") }
        print(
            "\(log): "
                + String(
                    format: "frames %d  centre-in-box %.2f%%  mean IoU %.3f", score.frames, 100 * score.centreInBoxRate,
                    score.meanIoU))
        print("     \(score.missSummary)")
        if windows.count != boxes.count {
            writeStandardError(
                "stn-train: warning: \(log) has \(windows.count) rows, \(truth) \(boxes.count); frames in both are scored\n"
            )
        }
    }

    /// The named columns of a CSV file with a header row, as numbers, one array per row.
    private static func csvRows(_ path: String, columns: [String]) throws -> [[Double]] {
        let text = try naming(path) { try String(contentsOfFile: path, encoding: .utf8) }
        let lines = text.split(whereSeparator: \.isNewline)
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else {
            throw ToolError(path, "empty file")
        }
        let indices = try columns.map { name in
            guard let index = header.firstIndex(of: name) else {
                throw ToolError(path, "no '\(name)' column (expected \(columns.joined(separator: ", ")))")
            }
            return index
        }
        return try lines.dropFirst().enumerated().map { number, line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return try indices.map { index in
                guard index < fields.count, let value = Double(fields[index]) else {
                    throw ToolError(path, "line \(number + 2): no number in column '\(header[index])'")
                }
                return value
            }
        }
    }
}
