import CommandSupport
import Foundation
import STNData
import STNRuntime

/// DESIGN.md §5's promise, for stn-train too: no output may land on one of the run's inputs.
enum OutputGuard {
    /// Throws when `output` is the same file as any of `inputs` (one path spelled two ways, a
    /// symbolic link or a hard link) — before anything is written.
    static func refuse(_ output: String, overwriting inputs: [String], what: String = "input") throws(ToolError) {
        for input in inputs where FilePaths.isSameFile(output, input) {
            throw ToolError(output, "is the \(what) \(input); refusing to overwrite it")
        }
    }

    /// The IDX files `FashionMNIST.load` may read from `directory` (both splits, gzipped or not).
    static func datasetFiles(in directory: String) -> [String] {
        let url = URL(fileURLWithPath: directory)
        return DatasetSplit.allCases.flatMap { split in
            ["images-idx3-ubyte", "labels-idx1-ubyte"].flatMap { stem in
                let name = "\(split.rawValue)-\(stem)"
                return [url.appendingPathComponent(name).path, url.appendingPathComponent(name + ".gz").path]
            }
        }
    }

    /// Fails early, before hours of training, when `file` cannot be written later: it is a
    /// directory, or its directory cannot be made.
    static func checkWritable(_ file: String) throws(ToolError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ToolError(file, "is a directory")
        }
        let parent = URL(fileURLWithPath: file).deletingLastPathComponent()
        try naming(parent.path) {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        }
        guard access(parent.path, W_OK) == 0 else { throw ToolError(parent.path, "not writable") }
    }
}
