import Foundation
import STNCore
import STNData

/// A failure at run time (exit status 1); `description` is `<file>: <why>`.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ file: String, _ why: String) { description = "\(file): \(why)" }
    init(_ description: String) { self.description = description }

    /// Wraps whatever a library threw so that it names its file.
    static func wrap(_ error: any Error, file: String) -> RuntimeError {
        switch error {
        case let error as RuntimeError: error
        case let error as IDXError: RuntimeError(error.description)
        case let error as ModelFileError: RuntimeError(String(describing: error))
        default:
            RuntimeError(file, (error as NSError).localizedDescription.isEmpty ? String(describing: error) : String(describing: error))
        }
    }
}

/// Runs `body`, turning any error into a `RuntimeError` naming `file`.
func naming<T>(_ file: String, _ body: () throws -> T) throws(RuntimeError) -> T {
    do { return try body() } catch { throw RuntimeError.wrap(error, file: file) }
}
