import Foundation

/// Path rules every tool follows before it writes: FFmpeg's `file:` prefix, and whether two
/// names lead to one file (so that no output replaces an input or another output).
public enum FilePaths {
    /// The file system path FFmpeg opens for `path`: its `file:` protocol prefix removed.
    public static func local(_ path: String) -> String {
        path.hasPrefix("file:") ? String(path.dropFirst(5)) : path
    }

    /// True when both name one file: the same path once made absolute and normalised (with
    /// symbolic links resolved in its existing part), or the same device and inode (hard and
    /// symbolic links). `-` is the stream `aStream` on `a`'s side (standard input: an input)
    /// and standard output on `b`'s, and matches the file it is redirected from or to
    /// (`stn-video - out.mp4 < out.mp4`, `stn-video in.mp4 - --log x.csv > x.csv`); two `-`
    /// are never the same file.
    public static func isSameFile(_ a: String, _ b: String, aStream: Int32 = STDIN_FILENO) -> Bool {
        if a != "-" && b != "-", canonical(local(a)) == canonical(local(b)) {
            return true
        }
        guard let left = identity(a, stream: aStream), let right = identity(b, stream: STDOUT_FILENO) else {
            return false
        }
        return left.device == right.device && left.inode == right.inode
    }

    /// The absolute, normalised path with symbolic links resolved; for a file that does not
    /// exist yet, those of its directory (Foundation resolves only paths that exist).
    private static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: url.path) { return url.resolvingSymlinksInPath().path }
        return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent)
            .path
    }

    /// Device and inode of a path, or of `stream` for `-` when it is a regular file.
    private static func identity(_ path: String, stream: Int32) -> (device: UInt64, inode: UInt64)? {
        var s = stat()
        if path == "-" {
            guard fstat(stream, &s) == 0, (s.st_mode & S_IFMT) == S_IFREG else { return nil }
        } else {
            guard stat(local(path), &s) == 0 else { return nil }
        }
        return (UInt64(s.st_dev), UInt64(s.st_ino))
    }

    /// True when writing to `path` (`-`: standard output) can block until a reader reads: a
    /// pipe (FIFO) or a socket. Regular files and devices such as /dev/null never wait.
    public static func writesMayBlock(_ path: String) -> Bool {
        var s = stat()
        let found = path == "-" ? fstat(STDOUT_FILENO, &s) == 0 : stat(local(path), &s) == 0
        let type = s.st_mode & S_IFMT
        return found && (type == S_IFIFO || type == S_IFSOCK)
    }
}
