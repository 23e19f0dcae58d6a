import ArgumentParser
import Foundation
import STNData
import STNMedia

/// `stn-make-video`: writes a synthetic test video for stn-video — Fashion-MNIST items moving
/// over clutter and noise, with scene cuts — and its per-frame ground truth as CSV.
@main
struct MakeVideo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stn-make-video",
        abstract: "Write a synthetic Fashion-MNIST video and its per-frame ground truth (class, box in pixels and in the square canvas).",
        discussion: """
        Examples:
          stn-make-video clip.mp4                                  # 10 s, 640x360, t10k items, clip.truth.csv
          stn-make-video --size 480x480 --seconds 4 --seed 7 square.mkv
          stn-make-video --split train --codec ffv1 train-clip.mkv
          stn-make-video clip.mp4 && stn-video clip.mp4 rectified.mp4   # then compare rectified.params.csv with the truth
        """)

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case train, t10k
        var dataset: DatasetSplit { self == .train ? .train : .test }
    }

    @Argument(help: "Output video (the container from the extension; H.264 in mp4 by default).")
    var output: String
    @Option(help: "Ground-truth CSV (default: the output with its extension replaced by .truth.csv).")
    var truth: String?
    @Option(help: "Frame size WxH (even numbers).")
    var size = "640x360"
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
    @Option(help: "Encoder (default: libx264 where the container takes it).")
    var codec: String?
    @Option(help: "Constant rate factor of x264/x265.")
    var crf: Double = 23
    @Option(help: "Encoder preset.")
    var preset = "medium"
    @Flag(help: "Show FFmpeg's own warnings and errors.")
    var verbose = false

    var dimensions: (width: Int, height: Int)? {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0, parts[0] % 2 == 0, parts[1] % 2 == 0 else { return nil }
        return (parts[0], parts[1])
    }

    var truthPath: String { truth ?? (output as NSString).deletingPathExtension + ".truth.csv" }
    var frameCount: Int { Int((seconds * Double(fps)).rounded()) }

    func validate() throws {
        guard dimensions != nil else { throw ValidationError("--size must be WxH with even positive numbers, not \"\(size)\"") }
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds must be positive and at most 86400 (a day)") }
        guard (1...240).contains(fps) else { throw ValidationError("--fps must be in 1…240") }
        guard frameCount >= 1 else { throw ValidationError("--seconds \(seconds) at \(fps) fps is no frame at all") }
        guard output != "-" else { throw ValidationError("the output must be a file (the ground truth goes beside it)") }
        guard !Self.sameFile(truthPath, output) else { throw ValidationError("the ground truth \(truthPath) and the video must be different files") }
    }

    /// Our own entry point (DESIGN.md §5): usage errors exit 2 (ArgumentParser's default is 64),
    /// runtime errors 1 with one line naming the file, SIGINT/SIGTERM 130/143 once the video is
    /// finalised with every frame written so far and the ground truth of exactly those frames.
    static func main() {
        let command: MakeVideo
        do {
            command = try parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            FileHandle.standardError.write(Data("stn-make-video: error: \(message(for: error))\n\(usageString())\nSee 'stn-make-video --help'.\n".utf8))
            Glibc.exit(2)
        }
        Interruption.installSignalHandlers()
        do {
            let written = try command.write()
            if let signal = Interruption.signal {
                FileHandle.standardError.write(Data("stn-make-video: interrupted; \(command.output) holds \(written) frames\n".utf8))
                Glibc.exit(128 + signal)
            }
            Glibc.exit(0)
        } catch {
            FileHandle.standardError.write(Data("stn-make-video: error: \(error)\n".utf8))
            Glibc.exit(1)
        }
    }

    /// Writes the video and its ground truth; returns the number of frames written.
    func write() throws -> Int {
        let (width, height) = dimensions!
        FFmpegLogging.configure(verbose: verbose)
        let inputs = DatasetSplit.allCases.flatMap { split -> [String] in
            let files = FashionMNIST.files(split, in: URL(fileURLWithPath: data))
            return [files.images.path, files.labels.path]
        }
        for path in [output, truthPath] {
            if let input = inputs.first(where: { Self.sameFile(path, $0) }) {
                throw MakeVideoError(path, "is the data file \(input); refusing to overwrite it")
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
                video: OutputVideoFormat(width: width, height: height, frameRate: Rational(Int32(fps), 1), timeBase: Rational(1, Int32(fps))),
                settings: EncoderSettings(codec: codec, crf: crf, preset: preset), audioSource: nil)
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
        while written < frameCount && !Interruption.isRequested {
            let (layout, frameTruth) = video.next()
            pixels.withUnsafeMutableBufferPointer { renderer.render(layout, raster: .frame(width: width, height: height), into: $0.baseAddress!) }
            let frame = VideoFrame(width: width, height: height)
            Self.fill(frame, luma: pixels)
            frame.setTimestamp(pts: Int64(written), seconds: Double(written) / Double(fps))
            try writer.write(frame)
            csv.write(Data((frameTruth.csvRow + "\n").utf8))
            written += 1
        }
        try writer.finish()
        guard !Interruption.isRequested else { return written }
        FileHandle.standardError.write(Data("stn-make-video: wrote \(written) frames to \(output) (\(writer.codecName)) and \(truthPath)\n".utf8))
        return written
    }

    /// The same existing file (device and inode), or the same path once made absolute.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        func canonical(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        return canonical(a) == canonical(b)
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

/// A runtime failure: `<file>: <why>`.
struct MakeVideoError: Error, CustomStringConvertible {
    let description: String
    init(_ file: String, _ why: String) { description = "\(file): \(why)" }
}
