import CommandSupport
import Foundation
import STNCore
import STNData

extension ToolError {
    /// A message that already names its file (data-set and model-file errors do).
    init(_ description: String) { self.init(nil, description) }
}

/// Runs `body`, turning any error into a `ToolError` naming `file`; data-set and model-file
/// errors name theirs already.
func naming<T>(_ file: String, _ body: () throws -> T) throws(ToolError) -> T {
    do {
        return try body()
    } catch let error as IDXError {
        throw ToolError(error.description)
    } catch let error as ModelFileError {
        throw ToolError(error.description)
    } catch {
        throw ToolError.wrapping(error, file: file)
    }
}
