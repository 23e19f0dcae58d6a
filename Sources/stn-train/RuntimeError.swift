import Foundation
import STNCore
import STNData

/// A failure at run time (exit status 1); `description` is `<file>: <why>`.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ file: String, _ why: String) { description = "\(file): \(why)" }
    init(_ description: String) { self.description = description }

    /// Wraps whatever a library threw so that it names its file (`file`, or the one a Foundation
    /// error carries) in one line: no NSError or DecodingError dumps.
    static func wrap(_ error: any Error, file: String?) -> RuntimeError {
        switch error {
        case let error as RuntimeError: return error
        case let error as IDXError: return RuntimeError(error.description)
        case let error as ModelFileError: return RuntimeError(String(describing: error))
        case let error as DecodingError: return RuntimeError(file ?? "input", "not the JSON expected: \(decodingReason(error))")
        case let error as CocoaError:
            let path = file ?? error.filePath ?? error.url?.path ?? "file"
            if let posix = error.underlying as? POSIXError {
                return RuntimeError(path, String(cString: strerror(posix.code.rawValue)))
            }
            return RuntimeError(path, cocoaReason(error))
        default:
            let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
            return file.map { RuntimeError($0, text) } ?? RuntimeError(text)
        }
    }

    private static func decodingReason(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
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

/// Runs `body`, turning any error into a `RuntimeError` naming `file`.
func naming<T>(_ file: String, _ body: () throws -> T) throws(RuntimeError) -> T {
    do { return try body() } catch { throw RuntimeError.wrap(error, file: file) }
}
