import Foundation

/// A failure a tool reports in one line and an exit status (DESIGN.md §5): `file: reason`.
///
/// Exit status 1 is a runtime failure, 2 a usage error, 128 + signal a run stopped by
/// SIGINT/SIGTERM once its output was finalised.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    /// The file concerned, or nil when the reason names no file.
    public let file: String?
    public let reason: String
    public let exitCode: Int32

    public init(_ file: String?, _ reason: String, exitCode: Int32 = 1) {
        self.file = file
        self.reason = reason
        self.exitCode = exitCode
    }

    /// A setting that only the run could check (a model's sizes, say): exit status 2.
    public static func usage(_ reason: String) -> ToolError { ToolError(nil, reason, exitCode: 2) }

    /// A run stopped by `signal` after saving what it had; `message` says what is kept (empty:
    /// nothing is printed, as with `--quiet`).
    public static func interrupted(signal: Int32, _ message: String) -> ToolError {
        ToolError(nil, message, exitCode: 128 + signal)
    }

    public var isInterruption: Bool { exitCode > 128 }

    public var description: String { file.map { "\($0): \(reason)" } ?? reason }

    /// `error` as a one-line tool error naming `file` (or the file a Foundation error carries):
    /// no NSError or DecodingError dumps.
    public static func wrapping(_ error: any Error, file: String?) -> ToolError {
        switch error {
        case let error as ToolError: return error
        case let error as DecodingError:
            return ToolError(file ?? "input", "not the JSON expected: \(decodingReason(error))")
        case let error as CocoaError:
            let path = file ?? error.filePath ?? error.url?.path ?? "file"
            if let posix = error.underlying as? POSIXError {
                return ToolError(path, String(cString: strerror(posix.code.rawValue)))
            }
            return ToolError(path, cocoaReason(error))
        default:
            let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
            return ToolError(file, text)
        }
    }

    private static func decodingReason(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty
                ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "no \"\(key.stringValue)\"\(at(context.codingPath))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return context.debugDescription + at(context.codingPath)
        @unknown default: return String(describing: error)
        }
    }

    private static func cocoaReason(_ error: CocoaError) -> String {
        switch error.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: "no such file"
        case .fileWriteFileExists: "a file is in the way"
        case .fileReadNoPermission, .fileWriteNoPermission: "permission denied"
        case .fileWriteOutOfSpace: "no space left on the device"
        case .fileReadCorruptFile: "unreadable or corrupt"
        default: error.localizedDescription
        }
    }
}
