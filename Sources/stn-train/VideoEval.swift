import ArgumentParser
import CommandSupport
import Foundation
import STNCore
import STNData

/// `stn-train video-eval`: scores a model on generated videos of t10k items.
struct VideoEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video-eval",
        abstract: "Score an attention model on generated test-split videos: centre in box, IoU of window and box, glimpse accuracy.",
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
    @Option(help: "Side of the canvas the glimpses are sampled from (default: 3 × the localisation side; a multiple of it).")
    var sourceSide: Int?
    @Option(help: ArgumentHelp("Score this stn-video parameter log (.csv, attention) against --truth.", valueName: "log"))
    var log: String?
    @Option(help: ArgumentHelp("The clip's ground truth, as stn-make-video writes it (with --log).", valueName: "csv"))
    var truth: String?
    @Flag(help: "Diagnostic: scale each scene's clutter with its item, as in training scenes with --clutter-sizing item (the videos keep clutter still while the item shrinks below it).")
    var clutterFollowsItem = false

    func validate() throws {
        if let sourceSide, sourceSide <= 0 { throw ValidationError("--source-side must be positive") }
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard (log == nil) == (truth == nil) else { throw ValidationError("--log and --truth go together") }
        _ = try parsedSizes()
    }

    /// `--sizes` as (width, height) pairs: at least one, each side in 16…8192.
    private func parsedSizes() throws -> [(Int, Int)] {
        let parsed = try sizes.split(separator: ",", omittingEmptySubsequences: false).map { text -> (Int, Int) in
            let parts = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let width = parts[0], let height = parts[1], (16...8192).contains(width), (16...8192).contains(height) else {
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
            throw ToolError(model, "video-eval scores attention models (θ = s,tx,ty, a square window, as stn-video's bundled "
                            + "model and 'stn-train video' make); this one is \(stn.transformKind.rawValue)")
        }
        if let sourceSide, sourceSide % stn.inputHeight != 0 {
            throw ValidationError("--source-side must be a multiple of the localisation side \(stn.inputHeight)")
        }
        let classifier = try naming(model) { stn.config.classifier != nil ? try TwoResolutionSTCNN(contentsOf: url) : nil }
        // Every size scored gets a frame at least: with fewer frames than sizes, the first sizes.
        let parsed = Array(try parsedSizes().prefix(frames))
        var total = SceneEvaluation()
        for (index, size) in parsed.enumerated() {
            let count = frames / parsed.count + (index < frames % parsed.count ? 1 : 0)
            let result = SceneEvaluation.run(model: stn, classifier: classifier, items: items, width: size.0, height: size.1,
                                             frames: count, seed: seed &+ UInt64(index), sourceSide: sourceSide,
                                             clutterFollowsItem: clutterFollowsItem)
            print("\(size.0)x\(size.1): \(result)")
            total.merge(result)
        }
        print("all: \(total)")
        print("     \(total.missSummary)")
    }

    /// Scores the smoothed windows of `log` against the boxes of `truth`, frame by frame.
    private func scoreLog(_ log: String, truth: String) throws {
        let windows = try Self.csvRows(log, columns: ["frame", "s", "tx", "ty"])
        let boxes = try Self.csvRows(truth, columns: ["frame", "canvas_cx", "canvas_cy", "canvas_half_side"])
        let boxByFrame = Dictionary(boxes.map { (Int($0[0]), $0) }, uniquingKeysWith: { first, _ in first })
        var score = SceneEvaluation()
        for window in windows {
            guard let box = boxByFrame[Int(window[0])] else { continue }
            score.add(theta: (window[1], window[2], window[3]), box: SceneSquare(centreX: box[1], centreY: box[2], halfSide: box[3]))
        }
        guard score.frames > 0 else { throw ToolError(log, "no frame of the log is in \(truth)") }
        print("\(log): " + String(format: "frames %d  centre-in-box %.2f%%  mean IoU %.3f", score.frames, 100 * score.centreInBoxRate, score.meanIoU))
        print("     \(score.missSummary)")
        if windows.count != boxes.count {
            writeStandardError("stn-train: warning: \(log) has \(windows.count) rows, \(truth) \(boxes.count); frames in both are scored\n")
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
