import CommandSupport
import Foundation
import STNCore
import STNMedia
import STNPipeline
import STNRuntime

extension STNVideoCommand {
    /// Rectifies `input` into `output`; SIGINT/SIGTERM stop it with the output finalised.
    func run(cancellation: CancellationToken) throws {
        CancellationToken.ignoreBrokenPipes()
        try cancellation.handlingSignals {
            FFmpegLogging.configure(verbose: verbose)
            let options = try rectifyOptions()
            if !quiet { ignoredOptions.forEach(printWarning) }
            let destination = output == "-" ? "standard output" : output
            let summary: RectifySummary
            do {
                summary = try RectifyPipeline(options: options).run(cancellation: cancellation)
            } catch let failure as PipelineFailure {
                if !quiet { failure.warnings.forEach(printWarning) }
                // As after a signal, what was encoded is finalised: say how much there is.
                let kept =
                    failure.framesWritten > 0 ? " (\(destination) holds the first \(failure.framesWritten) frames)" : ""
                throw ToolError(nil, "\(failure)\(kept)")
            } catch {
                // A signal while the input was still opening (a pipe with no data yet): nothing was written.
                if let signal = cancellation.signal {
                    throw ToolError.interrupted(signal: signal, quiet ? "" : "interrupted before the first frame")
                }
                throw ToolError(nil, "\(error)")
            }
            if !quiet { summary.warnings.forEach(printWarning) }
            if let signal = summary.interruptedBy {
                let holds =
                    summary.outputAbandoned
                    ? "was not being read; it holds at most \(summary.framesWritten) frames"
                    : "holds \(summary.framesWritten) frames"
                throw ToolError.interrupted(signal: signal, quiet ? "" : "interrupted; \(destination) \(holds)")
            }
            if summary.framesWritten == 0 && !quiet {
                printWarning("\(input): no video frames decoded; \(destination) holds none")
            }
            // On a terminal the progress line ends with the same figures.
            if !quiet && isatty(STDERR_FILENO) == 0 {
                let fps = summary.seconds > 0 ? Double(summary.framesWritten) / summary.seconds : 0
                let figures = String(format: "%.2f s (%.1f fps)", summary.seconds, fps)
                writeStandardError("stn-video: \(summary.framesWritten) frames in \(figures) to \(destination)\n")
            }
        }
    }

    /// The pipeline's settings from the command line; loads the model or the replayed log.
    func rectifyOptions() throws -> RectifyOptions {
        var options = RectifyOptions(
            input: input, output: output, transforms: .fixed(kind: .attention, parameters: [1, 0, 0]))
        do {
            if let theta {
                options.transforms = .fixed(kind: theta.kind, parameters: theta.values)
            } else if let path = transforms {
                options.transforms = .replay(try ParameterLog(contentsOf: path), path: path)
            } else if let path = model {
                options.transforms = .model(try STNModel.load(contentsOf: URL(fileURLWithPath: path)))
                options.otherInputs = [path]
            } else {
                options.transforms = .model(try BundledModel.load())
            }
        } catch {
            throw ToolError(nil, "\(error)")
        }
        if search != nil, case .model(let stn) = options.transforms,
            stn.config.classifier == nil || stn.transformKind != .attention
        {
            throw ToolError(
                model, "--search needs an attention model with a glimpse classifier, and this model has none",
                exitCode: 2)
        }
        options.inputFormat = inputFormat
        options.outputFormat = format
        options.outputWidth = size.width
        options.outputHeight = size.height
        options.canvas = canvas
        options.padding = padding
        options.encoder = EncoderSettings(
            codec: encoding.codec, crf: encoding.crf, preset: encoding.preset,
            bitrate: encoding.bitrate?.bitsPerSecond, threads: threads)
        options.copyAudio = !noAudio
        if let log { options.logPath = log }
        options.threads = threads
        options.overlayPath = overlay
        options.smoothing = smoothingSettings()
        options.camera = camera.settings(lookahead: lookahead)
        options.presence = PresenceSettings(
            minPresence: minPresence, releaseAfter: releaseAfter, search: search.map { WindowSearch(step: $0) })
        options.localisationBatch = batch
        options.showProgress = !quiet && isatty(STDERR_FILENO) != 0
        return options
    }

    func smoothingSettings() -> SmoothingSettings {
        var smoothing = SmoothingSettings()
        smoothing.method = self.smoothing
        if let v = minCutoff { smoothing.minCutoff = v }
        if let v = beta { smoothing.beta = v }
        if let v = derivativeCutoff { smoothing.derivativeCutoff = v }
        if let v = alpha { smoothing.alpha = v }
        if let v = processNoise { smoothing.processNoise = v }
        if let v = measurementNoise { smoothing.measurementNoise = v }
        smoothing.cutThreshold = camera.cutThreshold
        smoothing.lookahead = lookahead
        return smoothing
    }
}

func printWarning(_ message: String) {
    writeStandardError("stn-video: warning: \(message)\n")
}
