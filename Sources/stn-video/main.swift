import ArgumentParser
import Foundation
import STNMedia
import STNCore
import STNPipeline

// Exit status (DESIGN.md §5): 0 done, 2 usage error, 1 runtime error,
// 128 + signal after SIGINT/SIGTERM once the output is finalised.

func printError(_ message: String) {
    FileHandle.standardError.write(Data("stn-video: error: \(message)\n".utf8))
}

func printWarning(_ message: String) {
    FileHandle.standardError.write(Data("stn-video: warning: \(message)\n".utf8))
}

let command: STNVideoCommand
do {
    command = try STNVideoCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    let code = STNVideoCommand.exitCode(for: error)
    if code == .success {
        print(STNVideoCommand.fullMessage(for: error))
        exit(0)
    }
    printError(STNVideoCommand.message(for: error))
    FileHandle.standardError.write(Data("\(STNVideoCommand.usageString())\nSee 'stn-video --help'.\n".utf8))
    exit(2)
}

Interruption.installSignalHandlers()
FFmpegLogging.configure(verbose: command.verbose)

var options = RectifyOptions(input: command.input, output: command.output, transforms: .fixed(kind: .attention, parameters: [1, 0, 0]))
do {
    if let theta = command.theta {
        options.transforms = .fixed(kind: theta.kind, parameters: theta.values)
    } else if let path = command.transforms {
        options.transforms = .replay(try ParameterLog(contentsOf: path), path: path)
    } else if let path = command.model {
        options.transforms = .model(try STNModel.load(contentsOf: URL(fileURLWithPath: path)))
        options.otherInputs = [path]
    } else {
        options.transforms = .model(try BundledModel.load())
    }
} catch {
    printError("\(error)")
    exit(1)
}
options.inputFormat = command.inputFormat
options.outputFormat = command.format
if let size = command.size {
    options.outputWidth = size.width
    options.outputHeight = size.height
}
options.canvas = command.canvas
options.padding = command.padding
options.encoder = EncoderSettings(codec: command.codec, crf: command.crf, preset: command.preset,
                                  bitrate: command.bitrate?.bitsPerSecond, threads: command.threads)
options.copyAudio = !command.noAudio
if let log = command.log { options.logPath = log }
options.threads = command.threads
options.overlayPath = command.overlay
options.presence = PresenceSettings(minPresence: command.minPresence, releaseAfter: command.releaseAfter)
var smoothing = SmoothingSettings()
smoothing.method = command.smoothing
if let v = command.minCutoff { smoothing.minCutoff = v }
if let v = command.beta { smoothing.beta = v }
if let v = command.derivativeCutoff { smoothing.derivativeCutoff = v }
if let v = command.alpha { smoothing.alpha = v }
if let v = command.processNoise { smoothing.processNoise = v }
if let v = command.measurementNoise { smoothing.measurementNoise = v }
smoothing.cutThreshold = command.camera.cutThreshold
smoothing.lookahead = command.lookahead
if let problem = smoothing.validationError {
    printError(problem)
    exit(2)
}
options.smoothing = smoothing
options.camera = command.camera.settings(lookahead: command.lookahead)
options.showProgress = !command.quiet && isatty(STDERR_FILENO) != 0

do {
    let summary = try RectifyPipeline(options: options).run()
    if !command.quiet { summary.warnings.forEach(printWarning) }
    let destination = command.output == "-" ? "standard output" : command.output
    if let signal = summary.interruptedBy {
        if !command.quiet {
            FileHandle.standardError.write(Data("stn-video: interrupted; \(destination) holds \(summary.framesWritten) frames\n".utf8))
        }
        exit(128 + signal)
    }
    if summary.framesWritten == 0 && !command.quiet {
        printWarning("\(command.input): no video frames decoded; \(destination) holds none")
    }
    exit(0)
} catch let failure as PipelineFailure {
    if !command.quiet { failure.warnings.forEach(printWarning) }
    printError("\(failure)")
    exit(1)
} catch {
    // A signal while the input was still opening (a pipe with no data yet): nothing was written.
    if let signal = Interruption.signal {
        if !command.quiet { FileHandle.standardError.write(Data("stn-video: interrupted before the first frame\n".utf8)) }
        exit(128 + signal)
    }
    printError("\(error)")
    exit(1)
}
