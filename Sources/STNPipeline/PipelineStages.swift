import Foundation
import FrameSampling
import STNCore
import STNMedia

enum DecodedItem {
    case frame(VideoFrame, index: Int)
    case audio(AudioPacket)
}

enum LocalisedItem {
    case frame(VideoFrame, index: Int, theta: ThetaRecord)
    case audio(AudioPacket)
}

enum SampledItem {
    case frame(VideoFrame, row: ParameterLogRow)
    case audio(AudioPacket)
}

/// The body of each pipeline stage. Each method runs on its own thread and owns what it is
/// handed; the queues are the only shared state. A stage that fails records its error in
/// `status`, which cancels every queue and so wakes and stops every other stage.
struct Stages: @unchecked Sendable {
    let options: RectifyOptions
    let threads: Int
    let kind: TransformKind
    let observer: (any PipelineObserver)?
    let status: PipelineStatus
    let decoded: BoundedQueue<DecodedItem>
    let localised: BoundedQueue<LocalisedItem>
    let sampled: BoundedQueue<SampledItem>
    let overlays: BoundedQueue<VideoFrame>
    let freeFrames: BoundedQueue<VideoFrame>
    let counter: FrameCounter
    /// Decoded frames go back to the reader for reuse once the last stage using them is done.
    let reader: MediaReader

    /// Stage 1: demux and decode.
    func decode(_ reader: MediaReader) {
        do {
            var index = 0
            while let item = try reader.next() {
                switch item {
                case .video(let frame):
                    try observer?.willProcess(stage: .decode, frame: index)
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

    /// Stage 2, localise: θ for each frame (localisation network and smoothing, or a fixed/replayed θ).
    func localise(_ localiser: any Localiser) {
        do {
            // A closed queue (the run is stopping) ends the stage quietly.
            struct Stopped: Error {}
            let forward: Localiser.Emit = { frame, index, theta in
                guard localised.push(.frame(frame, index: index, theta: theta)) else { throw Stopped() }
            }
            do {
                while let item = decoded.pop() {
                    switch item {
                    case .audio(let packet):
                        guard localised.push(.audio(packet)) else { return }
                    case .frame(let frame, let index):
                        try observer?.willProcess(stage: .localise, frame: index)
                        try localiser.push(frame, index: index, forward)
                    }
                }
                try localiser.flush(forward)
            } catch is Stopped {
                return
            }
            localised.close()
        } catch {
            status.fail(error)
        }
    }

    /// Stage 3: the bilinear sampler (rows split across cores for large outputs), and the overlay drawing.
    func sample(drawOverlay: Bool) {
        var sampler: FrameSampler?
        var samplerFullRange = false
        let overlay = WindowOverlay(
            canvas: options.canvas, outputWidth: options.outputWidth, outputHeight: options.outputHeight)
        do {
            while let item = localised.pop() {
                switch item {
                case .audio(let packet):
                    guard sampled.push(.audio(packet)) else { return }
                case .frame(let frame, let index, let theta):
                    try observer?.willProcess(stage: .sample, frame: index)
                    guard let transform = SourceTransform(kind: kind, parameters: theta.smoothed), transform.isFinite
                    else {
                        throw PipelineError(path: options.input, "frame \(index): the transform is not finite")
                    }
                    if sampler == nil || sampler!.inputWidth != frame.width || sampler!.inputHeight != frame.height
                        || samplerFullRange != frame.isFullRange
                    {
                        samplerFullRange = frame.isFullRange
                        sampler = FrameSampler(
                            inputWidth: frame.width, inputHeight: frame.height,
                            outputWidth: options.outputWidth, outputHeight: options.outputHeight,
                            canvas: options.canvas, padding: options.padding,
                            range: frame.isFullRange ? .full : .limited, threads: threads)
                    }
                    guard let output = freeFrames.pop() else { return }
                    output.makeWritable()
                    sampler!.sample(transform, from: frame.planes, into: output.mutablePlanes)
                    output.setTimestamp(pts: frame.pts, seconds: frame.ptsSeconds)
                    let row = ParameterLogRow(
                        frame: index, ptsTime: frame.ptsSeconds, raw: theta.raw,
                        smoothed: theta.smoothed, sceneCut: theta.sceneCut, observation: theta.observation)
                    guard sampled.push(.frame(output, row: row)) else { return }
                    if drawOverlay {
                        frame.makeWritable()
                        if let raw = SourceTransform(kind: kind, parameters: theta.raw), raw.isFinite {
                            overlay.draw(raw, on: frame, colour: .red)
                        }
                        overlay.draw(transform, on: frame, colour: .green)
                        if let seen = theta.observation { OverlayCaption.draw(OverlayCaption.text(seen), on: frame) }
                        guard overlays.push(frame) else { return }
                    } else {
                        reader.recycle(frame)
                    }
                }
            }
            sampled.close()
            overlays.close()
        } catch {
            status.fail(error)
        }
    }

    /// Stage 4: encode, mux, log. Always finishes the output, whatever stopped the others.
    func encode(_ writer: MediaWriter, log: ParameterLogWriter?) {
        do {
            while let item = sampled.pop() {
                switch item {
                case .audio(let packet):
                    try writer.write(packet)
                case .frame(let frame, let row):
                    try observer?.willProcess(stage: .encode, frame: row.frame)
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

    /// Stage 5 (with --overlay): encode the annotated input frames; always finishes that file too.
    func encodeOverlay(_ writer: MediaWriter) {
        do {
            while let frame = overlays.pop() {
                try writer.write(frame)
                reader.recycle(frame)
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
}
