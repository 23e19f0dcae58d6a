import CommandSupport
import Foundation

/// Frames through libx264 at a given CRF and back, as a user's encoded clip would reach the
/// model: 8-bit grey frames are encoded to yuv420p H.264 by the `ffmpeg` program and decoded
/// again. Used by the evaluation suite only.
struct H264RoundTrip {
    var width: Int
    var height: Int
    var crf: Int

    func callAsFunction(_ frames: [UInt8], count: Int) throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stn-train-h264-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let raw = folder.appendingPathComponent("in.gray"), encoded = folder.appendingPathComponent("clip.mp4")
        let decoded = folder.appendingPathComponent("out.gray")
        try Data(frames).write(to: raw)
        try ffmpeg([
            "-f", "rawvideo", "-pix_fmt", "gray", "-s", "\(width)x\(height)", "-r", "25", "-i", raw.path,
            "-c:v", "libx264", "-preset", "veryfast", "-crf", String(crf), "-pix_fmt", "yuv420p", encoded.path
        ])
        try ffmpeg(["-i", encoded.path, "-f", "rawvideo", "-pix_fmt", "gray", decoded.path])
        let result = [UInt8](try Data(contentsOf: decoded))
        guard result.count == frames.count else {
            throw ToolError("ffmpeg", "the H.264 round trip gave \(result.count / (width * height)) frames of \(count)")
        }
        return result
    }

    private func ffmpeg(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-y"] + arguments
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch {
            throw ToolError(
                "ffmpeg", "cannot run it (\(error.localizedDescription)); the H.264 buckets need the ffmpeg program")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let line =
                String(decoding: message, as: UTF8.self).split(separator: "\n").last.map(String.init)
                ?? "exit status \(process.terminationStatus)"
            throw ToolError("ffmpeg", line)
        }
    }
}
