import Foundation
import STNCore

/// Reads a parameter log (CSV or JSON Lines) back, for `--transforms LOG`.
public struct ParameterLog: Sendable {
    public let kind: TransformKind
    public let parameterNames: [String]
    public let rows: [ParameterLogRow]

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError(
                path: path, FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PipelineError(path: path, "not a text file")
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter {
            !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
        if path.lowercased().hasSuffix(".jsonl") {
            (kind, parameterNames, rows) = try Self.parseJSONLines(lines, path: path)
        } else {
            (kind, parameterNames, rows) = try Self.parseCSV(lines, path: path)
        }
        guard !rows.isEmpty else { throw PipelineError(path: path, "the log has no rows") }
    }

    private static func kindAndNames(fromColumns columns: [String], path: String) throws -> (TransformKind, [String]) {
        // Columns after scene_cut (presence, label, confidence, or a later version's) are not read.
        guard columns.count >= 4, columns[0] == "frame", columns[1] == "pts_time",
            let cutIndex = columns.firstIndex(of: "scene_cut"), cutIndex >= 3
        else {
            throw PipelineError(path: path, "not a parameter log (expected columns frame,pts_time,…,scene_cut)")
        }
        let middle = Array(columns[2..<cutIndex])
        guard middle.count % 2 == 0 else { throw PipelineError(path: path, "raw and smoothed columns do not pair up") }
        let half = middle.count / 2
        let raw = Array(middle[..<half]), smoothed = Array(middle[half...])
        guard raw == smoothed.map({ "raw_" + $0 }), let kind = TransformParameterNames.kind(forColumns: smoothed) else {
            throw PipelineError(path: path, "unknown parameter columns: \(middle.joined(separator: ","))")
        }
        return (kind, smoothed)
    }

    private static func parseCSV(_ lines: [String], path: String) throws -> (TransformKind, [String], [ParameterLogRow])
    {
        guard let header = lines.first else { throw PipelineError(path: path, "the log is empty") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let (kind, names) = try kindAndNames(fromColumns: columns, path: path)
        let n = names.count
        let cutIndex = 2 + 2 * n
        var rows: [ParameterLogRow] = []
        for (lineIndex, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            // A quoted label may hold commas, so trailing fields are not counted exactly.
            guard fields.count == columns.count || (fields.count > columns.count && columns.count > cutIndex + 1),
                let frame = Int(fields[0]), let time = Double(fields[1]), let cut = Int(fields[cutIndex])
            else {
                throw PipelineError(path: path, "line \(lineIndex + 2): malformed row")
            }
            let numbers = fields[2..<cutIndex].map { Double($0) }
            guard numbers.allSatisfy({ $0 != nil }) else {
                throw PipelineError(path: path, "line \(lineIndex + 2): not a number")
            }
            let values = numbers.map { $0! }
            // The smoothed columns are what a replay samples with: they must be numbers to use.
            guard values[n...].allSatisfy(\.isFinite) else {
                throw PipelineError(path: path, "line \(lineIndex + 2): a smoothed parameter is not finite")
            }
            rows.append(
                ParameterLogRow(
                    frame: frame, ptsTime: time, raw: ThetaValues(values[..<n]),
                    smoothed: ThetaValues(values[n...]), sceneCut: cut != 0))
        }
        return (kind, names, rows)
    }

    private static func parseJSONLines(_ lines: [String], path: String) throws -> (
        TransformKind, [String], [ParameterLogRow]
    ) {
        var kindAndNames: (TransformKind, [String])?
        var rows: [ParameterLogRow] = []
        for (lineIndex, line) in lines.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw PipelineError(path: path, "line \(lineIndex + 1): not a JSON object")
            }
            if kindAndNames == nil {
                // The parameters are the keys with a raw_ twin; other keys (presence, label, …) are not read.
                let keys = object.keys.filter { !$0.hasPrefix("raw_") && object["raw_" + $0] != nil }
                let kinds = TransformKind.allCases.filter { kind in
                    let names = TransformParameterNames.names(for: kind, count: keys.count)
                    return Set(names) == Set(keys)
                }
                guard let kind = kinds.first else {
                    throw PipelineError(path: path, "line \(lineIndex + 1): unknown parameter keys")
                }
                kindAndNames = (kind, TransformParameterNames.names(for: kind, count: keys.count))
            }
            let names = kindAndNames!.1
            func number(_ key: String) throws -> Double {
                guard let v = object[key] as? NSNumber else {
                    throw PipelineError(path: path, "line \(lineIndex + 1): missing '\(key)'")
                }
                return v.doubleValue
            }
            let smoothed = try names.map { try number($0) }
            guard smoothed.allSatisfy(\.isFinite) else {
                throw PipelineError(path: path, "line \(lineIndex + 1): a smoothed parameter is not finite")
            }
            rows.append(
                ParameterLogRow(
                    frame: Int(try number("frame")), ptsTime: try number("pts_time"),
                    raw: ThetaValues(try names.map { try number("raw_" + $0) }),
                    smoothed: ThetaValues(smoothed), sceneCut: try number("scene_cut") != 0))
        }
        guard let (kind, names) = kindAndNames else { throw PipelineError(path: path, "the log is empty") }
        return (kind, names, rows)
    }
}
