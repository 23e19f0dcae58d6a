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

    /// Runs `executable` with `arguments`, feeding `stdinPath` if given.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdinPath: String? = nil) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdinPath { process.standardInput = FileHandle(forReadingAtPath: stdinPath) } else { process.standardInput = FileHandle.nullDevice }
        try process.run()
        // Read both pipes concurrently so neither fills up and blocks the child.
        nonisolated(unsafe) var errData = Data()
        let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errThread.isFinished { usleep(1000) }
        return RunResult(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs a shell pipeline with bash (`set -o pipefail` is not set: each stage's status is in PIPESTATUS).
    @discardableResult
    static func shell(_ script: String) throws -> RunResult {
        try run("/bin/bash", ["-c", script])
    }

    static func ffmpeg(_ arguments: String) throws {
        let r = try shell("ffmpeg -nostdin -v error -y \(arguments)")
        guard r.status == 0 else { throw NSError(domain: "ffmpeg", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
    }

    /// Per-stream (codec_name, decoded frame count) of a file or of `-` fed from `stdinPath`.
    static func probeStreams(_ path: String) throws -> [(codec: String, frames: Int)] {
        let r = try shell("ffprobe -v error -count_frames -show_entries stream=codec_name,nb_read_frames -of csv=p=0 '\(path)'")
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
