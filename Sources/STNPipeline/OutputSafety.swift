import Foundation

/// Checks made before anything is written: never overwrite an input (the video, the model
/// file, a replayed log), never write two outputs to one file, and fail early on a missing
/// output directory rather than after decoding.
enum OutputSafety {
    /// `inputs`: the input video first (a path, an FFmpeg `file:` URL, or `-` for standard
    /// input), then any other file the run reads. `outputs`: each with what it is, for the
    /// message ("output", "parameter log", "overlay video"); `-` is standard output.
    static func check(inputs: [String], outputs: [(path: String, role: String)]) throws {
        for (index, output) in outputs.enumerated() {
            if let input = inputs.first(where: { isSameFile($0, output.path) }) {
                let what = input == inputs.first ? "the input" : "the input \(input)"
                throw PipelineError(path: output.path, "the \(output.role) is the same file as \(what); refusing to overwrite it")
            }
            if let earlier = outputs[..<index].first(where: { isSameFile($0.path, output.path, aStream: STDOUT_FILENO) }) {
                throw PipelineError(path: output.path, "the \(output.role) and the \(earlier.role) would be the same file")
            }
            if output.path != "-" { try checkDirectory(of: localPath(output.path)) }
        }
    }

    private static func checkDirectory(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PipelineError(path: path, "directory '\(directory)' does not exist")
        }
    }

    /// The file system path FFmpeg opens for `path`: its `file:` protocol prefix removed.
    static func localPath(_ path: String) -> String {
        path.hasPrefix("file:") ? String(path.dropFirst(5)) : path
    }

    /// True when both name one file: the same path, or the same device and inode (hard and
    /// symbolic links). `-` is the stream `aStream` on `a`'s side (standard input: an input)
    /// and standard output on `b`'s, and matches the file it is redirected from or to
    /// (`stn-video - out.mp4 < out.mp4`, `stn-video in.mp4 - --log x.csv > x.csv`).
    static func isSameFile(_ a: String, _ b: String, aStream: Int32 = STDIN_FILENO) -> Bool {
        if a != "-" && b != "-",
           URL(fileURLWithPath: localPath(a)).standardizedFileURL.path == URL(fileURLWithPath: localPath(b)).standardizedFileURL.path {
            return true
        }
        guard let left = identity(a, stream: aStream), let right = identity(b, stream: STDOUT_FILENO) else { return false }
        return left.device == right.device && left.inode == right.inode
    }

    /// Device and inode of a path, or of `stream` for `-` when it is a regular file.
    private static func identity(_ path: String, stream: Int32) -> (device: UInt64, inode: UInt64)? {
        var s = stat()
        if path == "-" {
            guard fstat(stream, &s) == 0, (s.st_mode & S_IFMT) == S_IFREG else { return nil }
        } else {
            guard stat(localPath(path), &s) == 0 else { return nil }
        }
        return (UInt64(s.st_dev), UInt64(s.st_ino))
    }
}
