import DequeModule
import FrameSampling
import STNCore
import STNMedia

/// One frame's transform: the raw prediction, the one used after smoothing, and the cut flag.
struct ThetaRecord: Sendable {
    var raw: ThetaValues
    var smoothed: ThetaValues
    var sceneCut: Bool
}

/// Assigns θ to frames, in order, handing each finished frame to `emit` (no array per frame).
/// A source may hold frames back (smoothing lookahead); `flush` releases them at the end.
protocol ThetaAssigner: AnyObject {
    typealias Emit = (VideoFrame, Int, ThetaRecord) throws -> Void
    var kind: TransformKind { get }
    var parameterCount: Int { get }
    func push(_ frame: VideoFrame, index: Int, _ emit: Emit) throws
    func flush(_ emit: Emit) throws
}

/// The same θ for every frame (`--theta`).
final class FixedThetaAssigner: ThetaAssigner {
    let kind: TransformKind
    let parameters: ThetaValues
    var parameterCount: Int { parameters.count }
    init(kind: TransformKind, parameters: [Double]) {
        self.kind = kind
        self.parameters = ThetaValues(parameters)
    }
    func push(_ frame: VideoFrame, index: Int, _ emit: Emit) throws {
        try emit(frame, index, ThetaRecord(raw: parameters, smoothed: parameters, sceneCut: false))
    }
    func flush(_ emit: Emit) {}
}

/// The rows of an earlier run's log (`--transforms`): its smoothed columns drive the sampler.
final class ReplayThetaAssigner: ThetaAssigner {
    let log: ParameterLog
    let path: String
    var kind: TransformKind { log.kind }
    var parameterCount: Int { log.parameterNames.count }
    init(log: ParameterLog, path: String) {
        self.log = log
        self.path = path
    }
    /// Frames past the log's last row: not emitted, so that the output ends, finalised, with the
    /// log's frames; the run then fails naming the difference. Read once the stages are done.
    private(set) var framesBeyondLog = 0

    func push(_ frame: VideoFrame, index: Int, _ emit: Emit) throws {
        guard index < log.rows.count else {
            framesBeyondLog += 1
            return
        }
        let row = log.rows[index]
        try emit(frame, index, ThetaRecord(raw: row.raw, smoothed: row.smoothed, sceneCut: row.sceneCut))
    }
    func flush(_ emit: Emit) {}
}

/// The trained STN: localisation input (libswscale area downscale of Y in the canvas) →
/// localisation net → raw θ, scene-cut detection on the same small image, then temporal smoothing.
final class ModelThetaAssigner: ThetaAssigner {
    let model: STNModel
    let predictor: ThetaPredictor
    let canvas: Canvas
    let smoother: ThetaSmoother
    let cuts: SceneCutDetector
    private var downscaler: LumaDownscaler?
    private let luma: UnsafeMutablePointer<UInt8>
    private let theta: UnsafeMutablePointer<Float>
    /// Frames whose θ the smoother has not released yet (lookahead), oldest first.
    private var pending = Deque<(VideoFrame, Int)>()

    var kind: TransformKind { model.transformKind }
    var parameterCount: Int { model.parameterCount }

    init(model: STNModel, canvas: Canvas, smoothing: SmoothingSettings, frameRate: Double) throws {
        guard model.inputChannels == 1 else {
            throw PipelineError(path: "model", "the localisation network must read 1 channel (luminance), not \(model.inputChannels)")
        }
        guard model.inputWidth == model.inputHeight else {
            throw PipelineError(path: "model", "the localisation input must be square, not \(model.inputWidth)x\(model.inputHeight)")
        }
        self.model = model
        self.canvas = canvas
        predictor = model.makePredictor(maxBatch: 1)
        smoother = ThetaSmoother(kind: model.transformKind, parameterCount: model.parameterCount,
                                 settings: smoothing, frameRate: frameRate)
        cuts = SceneCutDetector(threshold: smoothing.cutThreshold)
        luma = .allocate(capacity: model.inputWidth * model.inputHeight)
        theta = .allocate(capacity: model.parameterCount)
    }

    deinit {
        luma.deallocate()
        theta.deallocate()
    }

    func push(_ frame: VideoFrame, index: Int, _ emit: Emit) throws {
        let size = model.inputWidth
        if downscaler == nil || downscaler!.inputWidth != frame.width || downscaler!.inputHeight != frame.height {
            downscaler = LumaDownscaler(inputWidth: frame.width, inputHeight: frame.height, size: size,
                                        centredInSquare: canvas == .square)
        }
        downscaler!.downscale(frame, into: luma)
        predictor.predict(luma: luma, batch: 1, theta: theta)
        var raw = ThetaValues(count: model.parameterCount)
        for i in raw.indices { raw[i] = Double(theta[i]) }
        let cut = cuts.isCut(luma: luma, width: size, height: size)
        pending.append((frame, index))
        try smoother.push(raw: raw, sceneCut: cut) { try pair($0, emit) }
    }

    func flush(_ emit: Emit) throws {
        try smoother.flush { try pair($0, emit) }
    }

    /// The smoother returns frames in push order: each result belongs to the oldest pending frame.
    private func pair(_ result: ThetaSmoother.Result, _ emit: Emit) throws {
        let (frame, index) = pending.removeFirst()
        try emit(frame, index, ThetaRecord(raw: result.raw, smoothed: result.smoothed, sceneCut: result.sceneCut))
    }
}
