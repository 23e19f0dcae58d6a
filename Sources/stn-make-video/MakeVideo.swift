import ArgumentParser
import CommandSupport
import Foundation
import STNData
import STNMedia
import STNRuntime

/// `stn-make-video`: writes a synthetic test video for stn-video — Fashion-MNIST items moving
/// over clutter and noise, with scene cuts — and its per-frame ground truth as CSV.
struct MakeVideo: CancellableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stn-make-video",
        abstract:
            "Write a synthetic Fashion-MNIST video and its per-frame ground truth (class, box in pixels and in the square canvas).",
        discussion: """
            Examples:
              stn-make-video clip.mp4    # 10 s, 640x360, t10k items, clip.truth.csv
              stn-make-video --size 480x480 --seconds 4 --seed 7 square.mkv
              stn-make-video --split train --codec ffv1 train-clip.mkv
              stn-make-video clip.mp4 && stn-video clip.mp4 rectified.mp4
              # then compare rectified.params.csv with clip.truth.csv

            Exit status: 0 done, 1 runtime error, 2 usage error, 130/143 after SIGINT/SIGTERM (the video is \
            finalised with every frame written so far and the ground truth of exactly those frames).
            """,
        version: stnVersion)

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case train, t10k
        var dataset: DatasetSplit { self == .train ? .train : .test }
    }

    @Argument(help: "Output video (the container from the extension; H.264 in mp4 by default).")
    var output: String
    @Option(help: "Ground-truth CSV (default: the output with its extension replaced by .truth.csv).")
    var truth: String?
    static let defaultSize = FrameSize(width: 640, height: 360)
    @Option(help: defaultSize.helpText("Frame size"), transform: FrameSize.init(parsing:))
    var size = defaultSize
    @Option(help: "Length in seconds.")
    var seconds: Double = 10
    @Option(help: "Frames per second (an integer).")
    var fps = 25
    @Option(help: "Random seed: the same seed gives the same video.")
    var seed: UInt64 = 1
    @Option(help: "Which Fashion-MNIST split the items come from (t10k for test videos).")
    var split: Split = .t10k
    @Option(help: "Directory of the IDX files.")
    var data = FashionMNIST.defaultDirectory.path
    @OptionGroup(title: "Encoding")
    var encoding: EncoderOptions
    @Flag(help: "Show FFmpeg's own warnings and errors.")
    var verbose = false

    var truthPath: String { truth ?? (output as NSString).deletingPathExtension + ".truth.csv" }
    var frameCount: Int { Int((seconds * Double(fps)).rounded()) }

    func validate() throws {
        guard seconds > 0, seconds <= 86_400 else {
            throw ValidationError("--seconds must be positive and at most 86400 (a day)")
        }
        guard (1...240).contains(fps) else { throw ValidationError("--fps must be in 1…240") }
        guard frameCount >= 1 else { throw ValidationError("--seconds \(seconds) at \(fps) fps is no frame at all") }
        guard output != "-" else {
            throw ValidationError("the output must be a file (the ground truth goes beside it)")
        }
        guard !FilePaths.isSameFile(truthPath, output) else {
            throw ValidationError("the ground truth \(truthPath) and the video must be different files")
        }
    }

    /// Writes the video and its ground truth; SIGINT/SIGTERM stop it with both finalised.
    func run(cancellation: CancellationToken) throws {
        CancellationToken.ignoreBrokenPipes()
        let written = try cancellation.handlingSignals { try write(cancellation: cancellation) }
        if let signal = cancellation.signal {
            throw ToolError.interrupted(signal: signal, "interrupted; \(output) holds \(written) frames")
        }
    }

    /// Writes the video and its ground truth; returns the number of frames written.
    func write(cancellation: CancellationToken) throws -> Int {
        let (width, height) = (size.width, size.height)
        FFmpegLogging.configure(verbose: verbose)
        let inputs = DatasetSplit.allCases.flatMap { split -> [String] in
            let files = FashionMNIST.files(split, in: URL(fileURLWithPath: data))
            return [files.images.path, files.labels.path]
        }
        for path in [output, truthPath] {
            if let input = inputs.first(where: { FilePaths.isSameFile(path, $0) }) {
                throw ToolError(path, "is the data file \(input); refusing to overwrite it")
            }
        }
        let items = try FashionMNIST.load(split.dataset, from: URL(fileURLWithPath: data))
        // The truth first: a path we cannot write fails before the video exists. An earlier
        // truth keeps its rows until the video is open; a new one is removed if that fails.
        let truthFile = try OutputFile(preparing: truthPath, role: "ground truth")
        let writer: MediaWriter
        do {
            writer = try MediaWriter(
                path: output, format: nil,
                video: OutputVideoFormat(
                    width: width, height: height, frameRate: Rational(Int32(fps), 1), timeBase: Rational(1, Int32(fps))),
                settings: EncoderSettings(
                    codec: encoding.codec, crf: encoding.crf, preset: encoding.preset,
                    bitrate: encoding.bitrate?.bitsPerSecond),
                audioSource: nil)
        } catch {
            truthFile.discard()
            throw error
        }
        let csv = try truthFile.openTruncating(role: "ground truth")
        defer { try? csv.close() }
        csv.write(Data((SceneTruth.csvHeader + "\n").utf8))

        let renderer = SceneRenderer(items: items)
        var video = SceneVideo(items: items, width: width, height: height, frameRate: Double(fps), seed: seed)
        var pixels = [Float](repeating: 0, count: width * height)
        var written = 0
        while written < frameCount && !cancellation.isCancelled {
            let (layout, frameTruth) = video.next()
            pixels.withUnsafeMutableBufferPointer {
                renderer.render(layout, raster: .frame(width: width, height: height), into: $0.baseAddress!)
            }
            let frame = VideoFrame(width: width, height: height)
            Self.fill(frame, luma: pixels)
            frame.setTimestamp(pts: Int64(written), seconds: Double(written) / Double(fps))
            try writer.write(frame)
            csv.write(Data((frameTruth.csvRow + "\n").utf8))
            written += 1
        }
        try writer.finish()
        guard !cancellation.isCancelled else { return written }
        FileHandle.standardError.write(
            Data("stn-make-video: wrote \(written) frames to \(output) (\(writer.codecName)) and \(truthPath)\n".utf8))
        return written
    }

    /// Intensity in [0, 1] → limited-range luma Y = 16 + 219·i; neutral chroma.
    static func fill(_ frame: VideoFrame, luma: [Float]) {
        let (width, height) = (frame.width, frame.height)
        let y = frame.mutableBaseAddress(0), stride = frame.stride(0)
        for row in 0..<height {
            for column in 0..<width {
                y[row * stride + column] = UInt8((16 + 219 * min(max(luma[row * width + column], 0), 1)).rounded())
            }
        }
        for plane in 1...2 {
            let (w, h) = frame.planeSize(plane)
            let base = frame.mutableBaseAddress(plane), planeStride = frame.stride(plane)
            for row in 0..<h { (base + row * planeStride).update(repeating: 128, count: w) }
        }
    }
}
