import Foundation
import STNCore

/// One output frame's line in the parameter log.
public struct ParameterLogRow: Sendable, Equatable {
    public var frame: Int
    public var ptsTime: Double
    public var raw: [Double]
    public var smoothed: [Double]
    public var sceneCut: Bool

    public init(frame: Int, ptsTime: Double, raw: [Double], smoothed: [Double], sceneCut: Bool) {
        self.frame = frame
        self.ptsTime = ptsTime
        self.raw = raw
        self.smoothed = smoothed
        self.sceneCut = sceneCut
    }
}

/// Writes the per-frame parameter log of DESIGN.md §4: CSV, or JSON Lines for a `.jsonl` path.
///
/// Each row is written with its own `write(2)`, so an interrupted run keeps every row it wrote.
public final class ParameterLogWriter: @unchecked Sendable {
    public enum Format: Sendable { case csv, jsonLines }

    public let path: String
    public let format: Format
    private let names: [String]
    private let handle: FileHandle

    /// The default log path for an output: its extension replaced by `.params.csv`.
    public static func defaultPath(forOutput output: String) -> String? {
        if output == "-" { return nil }
        let url = URL(fileURLWithPath: output)
        let base = url.pathExtension.isEmpty ? url : url.deletingPathExtension()
        return base.path + ".params.csv"
    }

    public init(path: String, kind: TransformKind, parameterCount: Int) throws {
        self.path = path
        format = path.lowercased().hasSuffix(".jsonl") ? .jsonLines : .csv
        names = TransformParameterNames.names(for: kind, count: parameterCount)
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw PipelineError(path: path, "cannot create the parameter log")
        }
        handle = h
        if format == .csv {
            let header = ["frame", "pts_time"] + names.map { "raw_" + $0 } + names + ["scene_cut"]
            try write(header.joined(separator: ",") + "\n")
        }
    }

    deinit { try? handle.close() }

    public func append(_ row: ParameterLogRow) throws {
        precondition(row.raw.count == names.count && row.smoothed.count == names.count, "parameter count mismatch")
        let time = String(format: "%.6f", row.ptsTime)
        switch format {
        case .csv:
            var fields = [String(row.frame), time]
            fields += row.raw.map(Self.number)
            fields += row.smoothed.map(Self.number)
            fields.append(row.sceneCut ? "1" : "0")
            try write(fields.joined(separator: ",") + "\n")
        case .jsonLines:
            var fields = ["\"frame\":\(row.frame)", "\"pts_time\":\(time)"]
            fields += zip(names, row.raw).map { "\"raw_\($0)\":\(Self.number($1))" }
            fields += zip(names, row.smoothed).map { "\"\($0)\":\(Self.number($1))" }
            fields.append("\"scene_cut\":\(row.sceneCut ? 1 : 0)")
            try write("{" + fields.joined(separator: ",") + "}\n")
        }
    }

    /// Shortest text that reads back as the same Float32 (the precision θ is computed in).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "nan" }
        return Float(value).description
    }

    private func write(_ text: String) throws {
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw PipelineError(path: path, "cannot write the parameter log: \(error.localizedDescription)")
        }
    }
}

/// A pipeline failure that is not the media layer's, naming the file concerned.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}
