import Foundation
import Glibc
import STNCore
import STNMedia
import STNRuntime

/// One output frame's line in the parameter log.
public struct ParameterLogRow: Sendable, Equatable {
    public var frame: Int
    public var ptsTime: Double
    public var raw: ThetaValues
    public var smoothed: ThetaValues
    public var sceneCut: Bool
    /// What the model's classifier saw at the raw θ (the trailing `presence,label,confidence`).
    public var observation: GlimpseObservation?

    public init(
        frame: Int, ptsTime: Double, raw: ThetaValues, smoothed: ThetaValues, sceneCut: Bool,
        observation: GlimpseObservation? = nil
    ) {
        self.frame = frame
        self.ptsTime = ptsTime
        self.raw = raw
        self.smoothed = smoothed
        self.sceneCut = sceneCut
        self.observation = observation
    }
}

/// Writes the per-frame parameter log of DESIGN.md §4: CSV, or JSON Lines for a `.jsonl` path.
///
/// Each row is written with its own `write(2)`, so an interrupted run keeps every row it wrote.
/// Rows are formatted into one reused byte buffer (no Foundation formatting, no `Data`), so
/// appending a row does not touch the heap once the buffer has grown to a row's length.
public final class ParameterLogWriter: @unchecked Sendable {
    public enum Format: Sendable { case csv, jsonLines }

    public let path: String
    public let format: Format
    /// Rows carry the trailing presence,label,confidence columns.
    public let observations: Bool
    private let names: [String]
    /// JSON Lines keys, `"raw_s":` and `"s":`, as bytes.
    private let rawKeys: [[UInt8]]
    private let keys: [[UInt8]]
    private let handle: FileHandle
    private var line: [UInt8] = []

    /// The default log path for an output: its extension replaced by `.params.csv`.
    /// `nil` for standard output and for outputs that are not files to sit beside (an
    /// existing device or pipe such as /dev/null): there, only `--log` writes a log.
    public static func defaultPath(forOutput output: String) -> String? {
        if output == "-" { return nil }
        let local = FilePaths.local(output)
        // /dev/stdout and its kin name streams, even when they lead to a regular file.
        if local.hasPrefix("/dev/") || local.hasPrefix("/proc/") { return nil }
        var s = stat()
        if stat(local, &s) == 0, (s.st_mode & S_IFMT) != S_IFREG { return nil }
        let url = URL(fileURLWithPath: local)
        let base = url.pathExtension.isEmpty ? url : url.deletingPathExtension()
        return base.path + ".params.csv"
    }

    public convenience init(path: String, kind: TransformKind, parameterCount: Int, observations: Bool = false) throws {
        try self.init(
            file: OutputFile(preparing: path, role: "parameter log"), kind: kind, parameterCount: parameterCount,
            observations: observations)
    }

    /// Writes the log into `file` (made ready before the run's other outputs), from its start.
    /// `observations`: rows carry what the classifier saw (`presence,label,confidence` columns).
    public init(file: OutputFile, kind: TransformKind, parameterCount: Int, observations: Bool = false) throws {
        let path = file.path
        self.observations = observations
        self.path = path
        format = path.lowercased().hasSuffix(".jsonl") ? .jsonLines : .csv
        names = TransformParameterNames.names(for: kind, count: parameterCount)
        rawKeys = names.map { Array("\"raw_\($0)\":".utf8) }
        keys = names.map { Array("\"\($0)\":".utf8) }
        line.reserveCapacity(64 + 64 * parameterCount)
        handle = try file.openTruncating(role: "parameter log")
        if format == .csv {
            let header =
                ["frame", "pts_time"] + names.map { "raw_" + $0 } + names + ["scene_cut"]
                + (observations ? ["presence", "label", "confidence"] : [])
            line.append(contentsOf: (header.joined(separator: ",") + "\n").utf8)
            try flushLine()
        }
    }

    deinit { try? handle.close() }

    public func append(_ row: ParameterLogRow) throws {
        precondition(row.raw.count == names.count && row.smoothed.count == names.count, "parameter count mismatch")
        let comma = UInt8(ascii: ",")
        switch format {
        case .csv:
            line.append(contentsOf: String(row.frame).utf8)
            line.append(comma)
            Self.appendFixed6(row.ptsTime, to: &line)
            for value in row.raw { line.append(comma); Self.appendNumber(value, to: &line) }
            for value in row.smoothed { line.append(comma); Self.appendNumber(value, to: &line) }
            line.append(comma)
            line.append(row.sceneCut ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            if observations, let seen = row.observation {
                line.append(comma); Self.appendFixed4(seen.presence, to: &line)
                line.append(comma); line.append(contentsOf: Self.csvField(seen.label).utf8)
                line.append(comma); Self.appendFixed4(seen.confidence, to: &line)
            } else if observations {
                line.append(contentsOf: ",,,".utf8)
            }
        case .jsonLines:
            line.append(contentsOf: "{\"frame\":".utf8)
            line.append(contentsOf: String(row.frame).utf8)
            line.append(contentsOf: ",\"pts_time\":".utf8)
            Self.appendFixed6(row.ptsTime, to: &line)
            for (key, value) in zip(rawKeys, row.raw) {
                line.append(comma); line.append(contentsOf: key); Self.appendNumber(value, to: &line)
            }
            for (key, value) in zip(keys, row.smoothed) {
                line.append(comma); line.append(contentsOf: key); Self.appendNumber(value, to: &line)
            }
            line.append(contentsOf: ",\"scene_cut\":".utf8)
            line.append(row.sceneCut ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            if observations, let seen = row.observation {
                line.append(contentsOf: ",\"presence\":".utf8); Self.appendFixed4(seen.presence, to: &line)
                line.append(contentsOf: ",\"label\":".utf8); line.append(contentsOf: Self.jsonString(seen.label).utf8)
                line.append(contentsOf: ",\"confidence\":".utf8); Self.appendFixed4(seen.confidence, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
        line.append(UInt8(ascii: "\n"))
        try flushLine()
    }

    static func appendFixed4(_ value: Double, to out: inout [UInt8]) {
        out.append(contentsOf: String(format: "%.4f", value).utf8)
    }

    /// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    /// The shortest text that reads back as the same Float32 (the precision θ is computed in),
    /// or `nan`; a Float's description fits Swift's inline small-string storage (no heap).
    static func appendNumber(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else { out.append(contentsOf: "nan".utf8); return }
        out.append(contentsOf: Float(value).description.utf8)
    }

    /// `value` exactly as C's `printf("%.6f")` writes it: the exact binary value rounded half to
    /// even at the sixth decimal (integer arithmetic on the significand, so no heap and no locale).
    static func appendFixed6(_ value: Double, to out: inout [UInt8]) {
        let magnitude = value.magnitude
        guard value.isFinite, magnitude < 9e12 else {
            out.append(contentsOf: String(format: "%.6f", value).utf8)
            return
        }
        // magnitude = m · 2^e exactly.
        let m = UInt128(magnitude.significandBitPattern | (magnitude.isNormal ? 1 << 52 : 0))
        let e = magnitude.isNormal ? Int(magnitude.exponent) - 52 : -1074
        let product = m * 1_000_000
        var q: UInt128
        if e >= 0 {
            q = product << e
        } else if -e >= 127 {
            q = 0  // product < 2^73, so the value is far below half a millionth
        } else {
            let k = -e
            q = product >> k
            let remainder = product & ((1 << k) - 1), half = UInt128(1) << (k - 1)
            if remainder > half || (remainder == half && q & 1 == 1) { q += 1 }
        }
        if value.sign == .minus { out.append(UInt8(ascii: "-")) }
        out.append(contentsOf: String(UInt64(q / 1_000_000)).utf8)
        out.append(UInt8(ascii: "."))
        var fraction = UInt64(q % 1_000_000), digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { bytes in
            for i in stride(from: 5, through: 0, by: -1) {
                bytes[i] = UInt8(ascii: "0") + UInt8(fraction % 10)
                fraction /= 10
            }
            out.append(contentsOf: bytes)
        }
    }

    private func flushLine() throws {
        defer { line.removeAll(keepingCapacity: true) }
        let descriptor = handle.fileDescriptor
        try line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw PipelineError(
                        path: path, "cannot write the parameter log: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
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
