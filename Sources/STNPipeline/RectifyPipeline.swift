import Dispatch
import Foundation
import FrameSampling
import STNCore
import STNMedia
import STNRuntime

/// decode ─► θ (localise, smooth) ─► sample ─► encode/mux + log   [─► overlay encode]
///
/// Each stage runs on its own Dispatch queue; bounded queues join them, so a slow stage
/// slows the ones before it (back-pressure) and memory stays constant. One thread per
/// stage keeps frame order. Whatever stops the run (the end of the input, a signal, an
/// error in any stage), the writer stages flush their encoders and write the trailers, so
/// the output plays and the log holds one row per frame in it.
public final class RectifyPipeline: Sendable {
    public let options: RectifyOptions
    static let queueCapacity = 8

    public init(options: RectifyOptions) {
        self.options = options
    }

    /// Runs to the end of the input, or until `cancellation` is set (the output is finalised
    /// with every frame processed so far; `RectifySummary.interruptedBy` says which signal).
    public func run(cancellation: CancellationToken = CancellationToken()) throws -> RectifySummary {
        let started = DispatchTime.now()
        var outputs = [(path: options.output, role: "output")]
        if let log = options.logPath { outputs.append((log, "parameter log")) }
        if let overlay = options.overlayPath { outputs.append((overlay, "overlay video")) }
        try OutputSafety.check(
            inputs: [options.input] + options.otherInputs + options.transforms.files, outputs: outputs)
        let threads = options.threads > 0 ? options.threads : ProcessInfo.processInfo.activeProcessorCount

        let reader = try MediaReader(
            path: options.input, format: options.inputFormat, threads: options.threads,
            cancellation: cancellation)
        let localiser = try options.transforms.makeLocaliser(
            canvas: options.canvas, smoothing: options.smoothing,
            camera: options.camera, presence: options.presence,
            frameRate: reader.info.frameRate.doubleValue, batchSize: options.localisationBatch)
        guard
            SourceTransform(kind: localiser.kind, parameters: Array(repeating: 0.5, count: localiser.parameterCount))
                != nil
        else {
            throw PipelineError(
                path: options.input, "transform kind '\(localiser.kind.rawValue)' cannot be applied to video frames yet"
            )
        }
        // Everything that can fail before the output is opened: a log or overlay that cannot be
        // made fails the run before the output (perhaps an earlier run's) is touched, and what
        // this run created is removed again if a later step fails. An existing log keeps its
        // contents until every writer is open.
        let logFile = try options.logPath.map { try OutputFile(preparing: $0, role: "parameter log") }
        let overlayFile = options.overlayPath.map { OutputFile(before: $0) }
        let overlayWriter: MediaWriter?, writer: MediaWriter
        do {
            overlayWriter = try options.overlayPath.map { path in
                try MediaWriter(
                    path: path, format: nil,
                    video: OutputVideoFormat(
                        width: reader.info.width & ~1, height: reader.info.height & ~1,
                        frameRate: reader.info.frameRate, timeBase: reader.info.timeBase),
                    settings: options.encoder, audioSource: nil)
            }
            writer = try MediaWriter(
                path: options.output, format: options.outputFormat,
                video: OutputVideoFormat(
                    width: options.outputWidth, height: options.outputHeight,
                    frameRate: reader.info.frameRate, timeBase: reader.info.timeBase),
                settings: options.encoder, audioSource: options.copyAudio ? reader : nil, cancellation: cancellation)
        } catch {
            logFile?.discard()
            overlayFile?.discard()
            throw error
        }
        let log = try logFile.map {
            try ParameterLogWriter(
                file: $0, kind: localiser.kind, parameterCount: localiser.parameterCount,
                observations: localiser.observes)
        }

        var warnings: [String] = []
        if case .fixed(let kind, let parameters) = options.transforms,
            let box = PictureBounds.windowBox(ThetaValues(parameters), kind: kind)
        {
            let picture = PictureBounds(width: reader.info.width, height: reader.info.height, canvas: options.canvas)
            if box.x1 <= -picture.halfWidth || box.x0 >= picture.halfWidth || box.y1 <= -picture.halfHeight
                || box.y0 >= picture.halfHeight
            {
                warnings.append(
                    "--theta \(parameters.map { String($0) }.joined(separator: ",")): the window lies wholly outside the "
                        + "\(reader.info.width)x\(reader.info.height) picture; every output frame is padding")
            }
        }
        if options.copyAudio, reader.info.hasAudio, let reason = writer.audioDropReason { warnings.append(reason) }
        if options.copyAudio, writer.audioDropReason == nil, reader.info.otherAudioStreams > 0 {
            let count = reader.info.otherAudioStreams
            warnings.append(
                "\(options.input): \(count) more audio stream\(count == 1 ? "" : "s") not copied (only the main one is)"
            )
        }

        let status = PipelineStatus()
        let decoded = BoundedQueue<DecodedItem>(capacity: Self.queueCapacity)
        let localised = BoundedQueue<LocalisedItem>(capacity: Self.queueCapacity)
        let sampled = BoundedQueue<SampledItem>(capacity: Self.queueCapacity)
        let overlays = BoundedQueue<VideoFrame>(capacity: Self.queueCapacity)
        let freeFrames = BoundedQueue<VideoFrame>(capacity: Self.queueCapacity + 2)
        for _ in 0..<(Self.queueCapacity + 2) {
            freeFrames.push(VideoFrame(width: options.outputWidth, height: options.outputHeight))
        }
        status.onFailure {
            decoded.cancel(); localised.cancel(); sampled.cancel(); overlays.cancel(); freeFrames.cancel()
        }

        let counter = FrameCounter()
        let progress =
            options.showProgress ? ProgressLine(counter: counter, expectedFrames: reader.info.expectedFrameCount) : nil
        let group = DispatchGroup()

        let stages = Stages(
            options: options, threads: threads, kind: localiser.kind, observer: options.observer, status: status,
            decoded: decoded, localised: localised, sampled: sampled, overlays: overlays, freeFrames: freeFrames,
            counter: counter, reader: reader)
        let readerBox = UncheckedBox(reader), localiserBox = UncheckedBox(localiser), writerBox = UncheckedBox(writer)
        let logBox = UncheckedBox(log), overlayBox = UncheckedBox(overlayWriter)
        DispatchQueue(label: "stn.decode").async(group: group) { stages.decode(readerBox.value) }
        DispatchQueue(label: "stn.localise").async(group: group) { stages.localise(localiserBox.value) }
        DispatchQueue(label: "stn.sample").async(group: group) { stages.sample(drawOverlay: overlayBox.value != nil) }
        DispatchQueue(label: "stn.encode").async(group: group) { stages.encode(writerBox.value, log: logBox.value) }
        if overlayWriter != nil {
            DispatchQueue(label: "stn.overlay").async(group: group) { stages.encodeOverlay(overlayBox.value!) }
        }

        Self.wait(for: group, cancellation: cancellation)
        progress?.finish()

        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        if reader.damagedPackets > 0 {
            warnings.append("\(reader.path): \(reader.damagedPackets) damaged packet(s) skipped or concealed")
        }
        if case .replay(let log, let path) = options.transforms, status.firstError == nil, !cancellation.isCancelled,
            log.rows.count > writer.framesWritten
        {
            warnings.append(
                "\(path): the log has \(log.rows.count) rows but the video \(writer.framesWritten) frames; "
                    + "the last \(log.rows.count - writer.framesWritten) rows were not used")
        }
        if let error = status.firstError, !(cancellation.outputAbandoned && cancellation.isCancelled) {
            throw PipelineFailure(underlying: error, framesWritten: writer.framesWritten, warnings: warnings)
        }
        if let replay = localiser as? ReplayLocaliser, replay.framesBeyondLog > 0 {
            let error = PipelineError(
                path: replay.path,
                "the log has \(replay.log.rows.count) rows but the video has "
                    + "\(replay.log.rows.count + replay.framesBeyondLog) frames")
            throw PipelineFailure(underlying: error, framesWritten: writer.framesWritten, warnings: warnings)
        }
        return RectifySummary(
            framesWritten: writer.framesWritten, damagedPackets: reader.damagedPackets,
            seconds: elapsed, interruptedBy: cancellation.signal, outputAbandoned: cancellation.outputAbandoned,
            warnings: warnings)
    }

    /// Waits for the stages. Once a stop is asked, the writers finish their files; an output
    /// write still blocked after a moment waits on a reader that stopped reading (standard
    /// output into a stalled pipe) and is given up, so that the run still ends promptly.
    static func wait(for group: DispatchGroup, cancellation: CancellationToken) {
        var stopSeen: DispatchTime?
        while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            guard cancellation.isCancelled else { continue }
            let seen = stopSeen ?? .now()
            stopSeen = seen
            if DispatchTime.now() > seen + .milliseconds(300) { cancellation.abandonBlockedWrite() }
        }
    }
}

/// A stage error, with what the run had finalised before it stopped.
public struct PipelineFailure: Error, CustomStringConvertible {
    public let underlying: Error
    public let framesWritten: Int
    public let warnings: [String]
    public var description: String { String(describing: underlying) }
}

/// Moves a value into one stage's closure; only that stage touches it afterwards.
struct UncheckedBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
