import ArgumentParser
import Foundation
import STNRuntime

/// A command that takes the run's cancellation token (SIGINT/SIGTERM, DESIGN.md §5).
public protocol CancellableCommand: ParsableCommand {
    func run(cancellation: CancellationToken) throws
}

extension CancellableCommand {
    public mutating func run() throws { try run(cancellation: CancellationToken()) }
}

/// The entry point of every stn tool: parses the arguments of `root` (and its subcommands),
/// runs the command and exits with DESIGN.md §5's status.
///
/// - 0: done, or help and version (printed on standard output);
/// - 2: a usage error (ArgumentParser's own default is 64), one line `<tool>: error: <why>`
///   then the usage; also a `ValidationError` or `ToolError.usage` thrown by the run;
/// - 1: a runtime failure, one line `<tool>: error: <file>: <why>`;
/// - 128 + signal: a `ToolError.interrupted`, its message on one line `<tool>: <message>`.
///
/// Signals are the command's to handle (`CancellationToken.handlingSignals`), around the work
/// that polls the token; elsewhere they keep their default action.
public func runTool(_ root: any ParsableCommand.Type, arguments: [String] = Array(CommandLine.arguments.dropFirst()))
    -> Never
{
    let name = root.configuration.commandName ?? "tool"
    var command: any ParsableCommand
    do {
        command = try root.parseAsRoot(arguments)
    } catch {
        if root.exitCode(for: error) == .success {
            print(root.fullMessage(for: error))
            exit(0)
        }
        var message = root.fullMessage(for: error)
        if message.hasPrefix("Error: ") { message = "\(name): error: " + message.dropFirst(7) }
        writeStandardError(message + "\n")
        exit(2)
    }
    do {
        if let cancellable = command as? any CancellableCommand {
            try cancellable.run(cancellation: CancellationToken())
        } else {
            try command.run()
        }
        exit(0)
    } catch let error as ToolError {
        if error.isInterruption {
            if !error.reason.isEmpty { writeStandardError("\(name): \(error.description)\n") }
        } else {
            writeStandardError("\(name): error: \(error.description)\n")
        }
        exit(error.exitCode)
    } catch let error as ValidationError {
        writeStandardError("\(name): error: \(error.message)\n")
        exit(2)
    } catch  where root.exitCode(for: error) == .success {
        // The root command alone (no subcommand) asks ArgumentParser for its help.
        print(root.fullMessage(for: error))
        exit(0)
    } catch {
        writeStandardError("\(name): error: \(ToolError.wrapping(error, file: nil).description)\n")
        exit(1)
    }
}

/// Writes `text` to standard error (never standard output, which may carry the video).
public func writeStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// The version `--version` prints for every tool.
public let stnVersion = "1.0.0"
