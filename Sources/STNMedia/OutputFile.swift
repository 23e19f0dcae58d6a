import Foundation
import STNRuntime

/// A side file (a parameter log, a ground truth, an overlay) made ready before the main
/// output is opened, so that a failure on the way neither truncates an earlier run's file nor
/// leaves an empty new one behind, and never touches what is not a regular file.
public struct OutputFile: Sendable {
    /// The file system path (an FFmpeg `file:` prefix removed).
    public let path: String
    /// True when this run made the file; only then does `discard` remove it.
    public let createdByThisRun: Bool

    /// Checks that `path` can be written, creating it empty if it does not exist; an existing
    /// file keeps its contents until the run truncates it. `role` names it in the error.
    public init(preparing path: String, role: String) throws {
        let local = FilePaths.local(path)
        self.path = local
        var fd = open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 {
            close(fd)
            createdByThisRun = true
            return
        }
        if errno == EEXIST {
            fd = open(local, O_WRONLY | O_CLOEXEC)
            if fd >= 0 {
                close(fd)
                createdByThisRun = false
                return
            }
        }
        throw MediaError(.cannotOpen, path: path, "cannot create the \(role): \(String(cString: strerror(errno)))")
    }

    /// Notes an output another writer is about to create (an overlay video), without touching it.
    public init(before path: String) {
        let local = FilePaths.local(path)
        self.path = local
        var s = stat()
        createdByThisRun = lstat(local, &s) != 0
    }

    /// Removes the file if this run created it and it is still a regular file.
    public func discard() {
        var s = stat()
        guard createdByThisRun, lstat(path, &s) == 0, (s.st_mode & S_IFMT) == S_IFREG else { return }
        unlink(path)
    }

    /// Opens the file for writing from its start (truncating it), for the run proper.
    public func openTruncating(role: String) throws -> FileHandle {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw MediaError(.cannotOpen, path: path, "cannot create the \(role): \(String(cString: strerror(errno)))")
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
