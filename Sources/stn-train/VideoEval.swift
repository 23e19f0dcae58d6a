import ArgumentParser
import CommandSupport
import Foundation
import STNCore
import STNData

/// `stn-train video-eval`: scores a model on generated videos of t10k items.
struct VideoEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video-eval",
        abstract: "Score an attention model on generated test-split videos: centre in box, IoU of window and box, glimpse accuracy.")

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
    @Flag(help: "Diagnostic: scale each scene's clutter with its item, as in training scenes with --clutter-sizing item (the videos keep clutter still while the item shrinks below it).")
    var clutterFollowsItem = false

    func validate() throws {
        if let sourceSide, sourceSide <= 0 { throw ValidationError("--source-side must be positive") }
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
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
}
