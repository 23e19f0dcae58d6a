import Foundation

/// Checks made before anything is written: never overwrite the input, and fail early on a
/// missing output directory rather than after decoding.
enum OutputSafety {
    static func check(input: String, output: String, log: String?) throws {
        if output != "-" {
            if isSameFile(input, output) {
                throw PipelineError(path: output, "output is the same file as the input; refusing to overwrite it")
            }
            try checkDirectory(of: output)
        }
        if let log {
            if isSameFile(input, log) || (output != "-" && isSameFile(output, log)) {
                throw PipelineError(path: log, "the parameter log would overwrite the input or the output")
            }
            try checkDirectory(of: log)
        }
    }

    private static func checkDirectory(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PipelineError(path: path, "directory '\(directory)' does not exist")
        }
    }

    /// True when both paths name one file: the same path, or the same device and inode.
    static func isSameFile(_ a: String, _ b: String) -> Bool {
        if a == "-" || b == "-" { return false }
        if URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path { return true }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
