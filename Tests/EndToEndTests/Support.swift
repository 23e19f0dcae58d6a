import Foundation
import XCTest

/// The result of running a command to completion.
struct RunResult {
    let status: Int32
    let stdout: Data
    let stderr: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

enum Tools {
    /// The directory holding the built products (beside the test bundle).
    static let productsDirectory: URL = {
        var url = Bundle(for: TemporaryDirectory.self).bundleURL
        while url.pathExtension == "xctest" || url.lastPathComponent.hasSuffix(".xctest") {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static var stnVideo: String { productsDirectory.appendingPathComponent("stn-video").path }
    static var stnTrain: String { productsDirectory.appendingPathComponent("stn-train").path }
    static var stnMakeVideo: String { productsDirectory.appendingPathComponent("stn-make-video").path }

    /// Writes a small MNIST-style data set into `directory`: `count` 28×28 images per split
    /// (uncompressed IDX), image n a bright square of side 6 + n at (n, n), label n % 10.
    static func writeIDXDataset(in directory: String, count: Int) throws {
        func header(_ magic: UInt32, _ dimensions: [UInt32]) -> Data {
            Data(([magic] + dimensions).flatMap { value in withUnsafeBytes(of: value.bigEndian) { Array($0) } })
        }
        var images = header(0x0803, [UInt32(count), 28, 28]), labels = header(0x0801, [UInt32(count)])
        for n in 0..<count {
            var pixels = [UInt8](repeating: 0, count: 28 * 28)
            for y in 0..<28 {
                for x in 0..<28
                where (n % 16..<n % 16 + 6 + n % 10).contains(x) && (n % 16..<n % 16 + 6 + n % 10).contains(y) {
                    pixels[y * 28 + x] = 230
                }
            }
            images.append(contentsOf: pixels)
            labels.append(UInt8(n % 10))
        }
        for split in ["train", "t10k"] {
            try images.write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(split)-images-idx3-ubyte"))
            try labels.write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(split)-labels-idx1-ubyte"))
        }
    }

    /// Runs `executable` with `arguments`, feeding `stdinPath` if given.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdinPath: String? = nil) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdinPath {
            process.standardInput = FileHandle(forReadingAtPath: stdinPath)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        // Read both pipes concurrently so neither fills up and blocks the child.
        nonisolated(unsafe) var errData = Data()
        let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errThread.isFinished { usleep(1000) }
        return RunResult(
            status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs a shell pipeline with bash (`set -o pipefail` is not set: each stage's status is in PIPESTATUS).
    @discardableResult
    static func shell(_ script: String) throws -> RunResult {
        try run("/bin/bash", ["-c", script])
    }

    static func ffmpeg(_ arguments: String) throws {
        let r = try shell("ffmpeg -nostdin -v error -y \(arguments)")
        guard r.status == 0 else {
            throw NSError(domain: "ffmpeg", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr])
        }
    }

    /// Per-stream (codec_name, decoded frame count) of a file or of `-` fed from `stdinPath`.
    static func probeStreams(_ path: String) throws -> [(codec: String, frames: Int)] {
        let r = try shell(
            "ffprobe -v error -count_frames -show_entries stream=codec_name,nb_read_frames -of csv=p=0 '\(path)'")
        return r.stdoutText.split(separator: "\n").map { line in
            let f = line.split(separator: ",")
            return (String(f[0]), Int(f[1]) ?? -1)
        }
    }

    /// Presentation times of every video frame.
    static func frameTimes(_ path: String) throws -> [Double] {
        let r = try shell("ffprobe -v error -select_streams v:0 -show_entries frame=pts_time -of csv=p=0 '\(path)'")
        return r.stdoutText.split(separator: "\n").compactMap { Double($0.split(separator: ",")[0]) }
    }

    static func formatDuration(_ path: String) throws -> Double {
        let r = try shell("ffprobe -v error -show_entries format=duration -of csv=p=0 '\(path)'")
        return Double(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

/// A fresh directory per test, removed afterwards.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("stn-video-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A test case with a fresh directory and a short clip in it (`clip.mp4`), made before each
/// test from `clipArguments` (FFmpeg's input and encoding options).
class ClipTestCase: XCTestCase {
    var directory: TemporaryDirectory!
    var clip: String!

    /// 10 frames of 160×120 H.264; override for another clip.
    var clipArguments: String {
        "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 10 -c:v libx264 -preset ultrafast"
    }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        clip = directory.path("clip.mp4")
        try Tools.ffmpeg("\(clipArguments) '\(clip!)'")
    }
}
