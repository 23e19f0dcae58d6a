import Foundation
import STNRuntime

/// Checks made before anything is written: never overwrite an input (the video, the model
/// file, a replayed log), never write two outputs to one file, and fail early on a missing
/// output directory rather than after decoding.
enum OutputSafety {
    /// `inputs`: the input video first (a path, an FFmpeg `file:` URL, or `-` for standard
    /// input), then any other file the run reads. `outputs`: each with what it is, for the
    /// message ("output", "parameter log", "overlay video"); `-` is standard output.
    static func check(inputs: [String], outputs: [(path: String, role: String)]) throws {
        for (index, output) in outputs.enumerated() {
            if let input = inputs.first(where: { FilePaths.isSameFile($0, output.path) }) {
                let what = input == inputs.first ? "the input" : "the input \(input)"
                throw PipelineError(
                    path: output.path, "the \(output.role) is the same file as \(what); refusing to overwrite it")
            }
            if let earlier = outputs[..<index].first(where: {
                FilePaths.isSameFile($0.path, output.path, aStream: STDOUT_FILENO)
            }) {
                throw PipelineError(
                    path: output.path, "the \(output.role) and the \(earlier.role) would be the same file")
            }
            if output.path != "-" {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: FilePaths.local(output.path), isDirectory: &isDirectory),
                    isDirectory.boolValue
                {
                    throw PipelineError(path: output.path, "is a directory; the \(output.role) must be a file")
                }
                try checkDirectory(of: FilePaths.local(output.path))
            }
        }
    }

    private static func checkDirectory(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PipelineError(path: path, "directory '\(directory)' does not exist")
        }
    }
}
