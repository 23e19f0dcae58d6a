import Dispatch
import Foundation
import FrameSampling
import STNCore
import STNMedia

/// decode ─► (θ, sample) ─► encode/mux+log, as three Dispatch stages joined by bounded queues.
///
/// Back-pressure comes from the queues' capacity; frame order from one thread per stage.
/// Whatever stops the run (the end of the input, a signal, an error in any stage), the
/// writer stage flushes the encoder and writes the trailer, so the output plays and the
/// log holds one row per frame in it.
public final class RectifyPipeline {
    public let options: RectifyOptions
    static let queueCapacity = 8

    public init(options: RectifyOptions) {
        self.options = options
    }

    private enum DecodedItem {
        case frame(VideoFrame, index: Int)
        case audio(AudioPacket)
    }

    private enum SampledItem {
        case frame(VideoFrame, row: ParameterLogRow)
        case audio(AudioPacket)
    }

    public func run() throws -> RectifySummary {
        let started = DispatchTime.now()
        try OutputSafety.check(input: options.input, output: options.output, log: options.logPath)
        let threads = options.threads > 0 ? options.threads : ProcessInfo.processInfo.activeProcessorCount

        let reader = try MediaReader(path: options.input, format: options.inputFormat, threads: options.threads)
        var source = try makeThetaSource()
        let writer = try MediaWriter(
            path: options.output, format: options.outputFormat,
            video: OutputVideoFormat(width: options.outputWidth, height: options.outputHeight,
                                     frameRate: reader.info.frameRate, timeBase: reader.info.timeBase),
            settings: options.encoder, audioSource: options.copyAudio ? reader : nil)
        let log = try options.logPath.map { try ParameterLogWriter(path: $0, kind: source.kind, parameterCount: source.parameterCount) }

        var warnings: [String] = []
        if options.copyAudio, reader.info.hasAudio, let reason = writer.audioDropReason { warnings.append(reason) }

        let status = PipelineStatus()
        let decoded = BoundedQueue<DecodedItem>(capacity: Self.queueCapacity)
        let sampled = BoundedQueue<SampledItem>(capacity: Self.queueCapacity)
        let freeFrames = BoundedQueue<VideoFrame>(capacity: Self.queueCapacity + 2)
        for _ in 0..<(Self.queueCapacity + 2) {
            freeFrames.push(VideoFrame(width: options.outputWidth, height: options.outputHeight))
        }
        status.onFailure { decoded.cancel(); sampled.cancel(); freeFrames.cancel() }

        let counter = FrameCounter()
        let progress = options.showProgress ? ProgressLine(counter: counter, expectedFrames: reader.info.expectedFrameCount) : nil
        let group = DispatchGroup()
        let options = self.options

        // Stage 1: demux and decode.
        DispatchQueue(label: "stn.decode").async(group: group) {
            do {
                var index = 0
                while let item = try reader.next() {
                    switch item {
                    case .video(let frame):
                        guard decoded.push(.frame(frame, index: index)) else { return }
                        index += 1
                    case .audio(let packet):
                        guard decoded.push(.audio(packet)) else { return }
                    }
                }
                decoded.close()
            } catch {
                status.fail(error)
            }
        }

        // Stage 2: θ for each frame, then the bilinear sampler.
        let thetaSource = UncheckedBox(source)
        DispatchQueue(label: "stn.sample").async(group: group) {
            var sampler: FrameSampler?
            var source = thetaSource.value
            do {
                while let item = decoded.pop() {
                    switch item {
                    case .audio(let packet):
                        guard sampled.push(.audio(packet)) else { return }
                    case .frame(let frame, let index):
                        let theta = try source.next(frameIndex: index)
                        guard let transform = SourceTransform(kind: source.kind, parameters: theta.smoothed) else {
                            throw PipelineError(path: options.input, "transform kind '\(source.kind.rawValue)' cannot be applied to video frames")
                        }
                        if sampler == nil || sampler!.inputWidth != frame.width || sampler!.inputHeight != frame.height {
                            sampler = FrameSampler(inputWidth: frame.width, inputHeight: frame.height,
                                                   outputWidth: options.outputWidth, outputHeight: options.outputHeight,
                                                   canvas: options.canvas, padding: options.padding,
                                                   range: frame.isFullRange ? .full : .limited, threads: threads)
                        }
                        guard let output = freeFrames.pop() else { return }
                        output.makeWritable()
                        sampler!.sample(transform, from: frame.planes, into: output.mutablePlanes)
                        output.setTimestamp(pts: frame.pts, seconds: frame.ptsSeconds)
                        let row = ParameterLogRow(frame: index, ptsTime: frame.ptsSeconds, raw: theta.raw,
                                                  smoothed: theta.smoothed, sceneCut: theta.sceneCut)
                        guard sampled.push(.frame(output, row: row)) else { return }
                    }
                }
                sampled.close()
            } catch {
                status.fail(error)
            }
        }

        // Stage 3: encode, mux, log. Always finishes the output, whatever stopped the others.
        DispatchQueue(label: "stn.encode").async(group: group) {
            do {
                while let item = sampled.pop() {
                    switch item {
                    case .audio(let packet):
                        try writer.write(packet)
                    case .frame(let frame, let row):
                        try writer.write(frame)
                        try log?.append(row)
                        freeFrames.push(frame)
                        counter.increment()
                    }
                }
            } catch {
                status.fail(error)
            }
            do {
                try writer.finish()
            } catch {
                status.fail(error)
            }
        }

        group.wait()
        progress?.finish()
        _ = source
        source = thetaSource.value

        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        if reader.damagedPackets > 0 {
            warnings.append("\(reader.path): \(reader.damagedPackets) damaged packet(s) skipped or concealed")
        }
        if let error = status.firstError {
            throw PipelineFailure(underlying: error, framesWritten: writer.framesWritten, warnings: warnings)
        }
        return RectifySummary(framesWritten: writer.framesWritten, damagedPackets: reader.damagedPackets,
                              seconds: elapsed, interruptedBy: Interruption.signal, warnings: warnings)
    }

    private func makeThetaSource() throws -> any ThetaSource {
        switch options.transforms {
        case .fixed(let kind, let parameters):
            return FixedThetaSource(kind: kind, parameters: parameters)
        case .replay(let log, let path):
            return ReplayThetaSource(log: log, path: path)
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
