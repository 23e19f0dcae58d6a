import DequeModule
import FrameSampling
import STNCore
import STNMedia

/// One frame's transform: the raw prediction, the one used after smoothing, and the cut flag.
struct ThetaRecord: Sendable {
    var raw: ThetaValues
    var smoothed: ThetaValues
    var sceneCut: Bool
    /// What the model's classifier saw at the raw θ.
    var observation: GlimpseObservation?
}

/// Where each frame's θ comes from.
public enum TransformSource: Sendable {
    /// The same transform for every frame (`--theta`).
    case fixed(kind: TransformKind, parameters: [Double])
    /// The smoothed columns of an earlier run's parameter log (`--transforms`).
    case replay(ParameterLog, path: String)
    /// A trained STN predicts θ per frame; it is then smoothed over time.
    case model(STNModel)

    /// The files this source reads while the run writes (a replayed log).
    var files: [String] {
        if case let .replay(_, path) = self { return [path] }
        return []
    }

    /// The localiser of this source for a stream at `frameRate`.
    func makeLocaliser(
        canvas: Canvas, smoothing: SmoothingSettings, camera: CameraSettings, presence: PresenceSettings,
        frameRate: Double, batchSize: Int = ModelLocaliser.defaultBatchSize
    ) throws -> any Localiser {
        switch self {
        case .fixed(let kind, let parameters):
            return FixedLocaliser(kind: kind, parameters: parameters)
        case .replay(let log, let path):
            return ReplayLocaliser(log: log, path: path)
        case .model(let model):
            return try ModelLocaliser(
                model: model, canvas: canvas, smoothing: smoothing, camera: camera, presence: presence,
                frameRate: frameRate, batchSize: batchSize)
        }
    }
}

/// The localise stage's work: gives frames their θ, in order, handing each finished frame to
/// `emit` (no array per frame). A localiser may hold frames back (smoothing lookahead); `flush`
/// releases them at the end. `TransformSource.makeLocaliser` makes the one a run needs.
protocol Localiser: AnyObject {
    typealias Emit = (VideoFrame, Int, ThetaRecord) throws -> Void
    var kind: TransformKind { get }
    var parameterCount: Int { get }
    /// Whether records carry what the model's classifier saw.
    var observes: Bool { get }
    func push(_ frame: VideoFrame, index: Int, _ emit: Emit) throws
    func flush(_ emit: Emit) throws
}

/// The same θ for every frame (`--theta`).
final class FixedLocaliser: Localiser {
    let kind: TransformKind
    let parameters: ThetaValues
    var parameterCount: Int { parameters.count }
    var observes: Bool { false }
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
final class ReplayLocaliser: Localiser {
    let log: ParameterLog
    let path: String
    var kind: TransformKind { log.kind }
    var parameterCount: Int { log.parameterNames.count }
    var observes: Bool { false }
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

/// The trained STN and the window path after it, per frame:
///
///     frame ─► localisation input (libswscale area downscale of Y in the canvas) ─► loc net ─► raw θ
///                                                                 └─► SceneCutDetector ─► cut flag
///     frame, raw θ ─► GlimpseClassifier ─► presence, label, confidence (models with a classifier;
///                     with a WindowSearch, raw θ becomes the window the classifier is surest of)
///     raw θ ─► PresenceGate ─► CollapseGuard ─► ThetaSmoother (noise filter) ─► VirtualCamera (kept inside) ─► used θ
///
/// The log's raw columns get the network's θ (or, with a search, the window it chose), its used
/// columns what the camera chose.
///
/// The localisation network reads `batchSize` frames at once (their inputs made as they
/// arrive): larger GEMMs amortise the im2col and call overhead. The rest of the path runs per
/// frame, in order, once the batch's θ are known, so the log does not depend on the batch size
/// beyond the GEMMs' summation order; a batch adds at most `batchSize − 1` frames of latency.
final class ModelLocaliser: Localiser {
    /// Frames the localisation network reads at once by default.
    public static let defaultBatchSize = 8
    let batchSize: Int
    let model: STNModel
    let predictor: ThetaPredictor
    let canvas: Canvas
    let smoother: ThetaSmoother
    let camera: VirtualCamera
    let cuts: SceneCutDetector
    private var collapseGuard: CollapseGuard
    let classifier: GlimpseClassifier?
    private var gate: PresenceGate
    private let frameRate: Double
    private var downscaler: LumaDownscaler?
    /// The batch's localisation inputs and θ, `batchSize` of each.
    private let luma: UnsafeMutablePointer<UInt8>
    private let theta: UnsafeMutablePointer<Float>
    /// Frames whose localisation input is made and whose θ is not, oldest first.
    private var batch: [(frame: VideoFrame, index: Int)] = []
    /// Frames whose θ the smoother and camera have not released yet (lookahead), oldest first,
    /// with the network's θ and the picture's bounds.
    private var pending = Deque<
        (
            frame: VideoFrame, index: Int, raw: ThetaValues, sceneCut: Bool, bounds: PictureBounds,
            observation: GlimpseObservation?
        )
    >()
    /// Frames the smoother has released to the camera and the camera still holds.
    private var cameraHeld = 0

    var kind: TransformKind { model.transformKind }
    var parameterCount: Int { model.parameterCount }
    var observes: Bool { classifier != nil }

    init(
        model: STNModel, canvas: Canvas, smoothing: SmoothingSettings, camera: CameraSettings,
        presence: PresenceSettings = PresenceSettings(), frameRate: Double, batchSize: Int = defaultBatchSize
    ) throws {
        precondition(batchSize >= 1)
        guard model.inputChannels == 1 else {
            throw PipelineError(
                path: "model", "the localisation network must read 1 channel (luminance), not \(model.inputChannels)")
        }
        guard model.inputWidth == model.inputHeight else {
            throw PipelineError(
                path: "model", "the localisation input must be square, not \(model.inputWidth)x\(model.inputHeight)")
        }
        self.model = model
        self.canvas = canvas
        self.batchSize = batchSize
        batch.reserveCapacity(batchSize)
        predictor = model.makePredictor(maxBatch: batchSize)
        smoother = ThetaSmoother(
            kind: model.transformKind, parameterCount: model.parameterCount,
            settings: smoothing, frameRate: frameRate)
        self.camera = VirtualCamera(kind: model.transformKind, settings: camera, frameRate: frameRate)
        cuts = SceneCutDetector(threshold: smoothing.cutThreshold, minimumGap: smoothing.cutMinimumGap)
        collapseGuard = CollapseGuard(kind: model.transformKind)
        luma = .allocate(capacity: batchSize * model.inputWidth * model.inputHeight)
        theta = .allocate(capacity: batchSize * model.parameterCount)
        classifier = try GlimpseClassifier(model: model, centredInSquare: canvas == .square)
        gate = PresenceGate(settings: presence, identity: ThetaValues(model.identityParameters.map(Double.init)))
        self.frameRate = frameRate
    }

    deinit {
        luma.deallocate()
        theta.deallocate()
    }

    func push(_ frame: VideoFrame, index: Int, _ emit: Emit) throws {
        let size = model.inputWidth
        if downscaler == nil || downscaler!.inputWidth != frame.width || downscaler!.inputHeight != frame.height {
            downscaler = LumaDownscaler(
                inputWidth: frame.width, inputHeight: frame.height, size: size,
                centredInSquare: canvas == .square)
        }
        downscaler!.downscale(frame, into: luma + batch.count * size * size)
        batch.append((frame, index))
        if batch.count == batchSize { try localiseBatch(emit) }
    }

    func flush(_ emit: Emit) throws {
        try localiseBatch(emit)
        try smoother.flush { try toCamera($0, emit) }
        try camera.flush { try pair($0, emit) }
    }

    /// Runs the network on the waiting frames, then the rest of the path on each, in order.
    private func localiseBatch(_ emit: Emit) throws {
        guard !batch.isEmpty else { return }
        predictor.predict(luma: luma, batch: batch.count, theta: theta)
        for (k, item) in batch.enumerated() {
            var raw = ThetaValues(count: model.parameterCount)
            for i in raw.indices { raw[i] = Double(theta[k * model.parameterCount + i]) }
            try follow(
                item.frame, index: item.index, raw: raw, input: luma + k * model.inputWidth * model.inputHeight, emit)
        }
        batch.removeAll(keepingCapacity: true)
    }

    /// The path after the network for one frame: cut, glimpse, presence gate, collapse guard,
    /// noise filter, camera.
    /// The cut score reads the frame's localisation input: it is made anyway, and an area
    /// average of the whole picture, so noise and small motion barely change it.
    private func follow(
        _ frame: VideoFrame, index: Int, raw network: ThetaValues, input: UnsafePointer<UInt8>, _ emit: Emit
    ) throws {
        let cut = cuts.isCut(luma: input, width: model.inputWidth, height: model.inputHeight)
        if cut { collapseGuard.reset() }
        var raw = network
        var observation: GlimpseObservation?
        if let classifier, let search = gate.settings.search {
            (raw, observation) = classifier.search(frame, theta: network, search)
        } else {
            observation = classifier?.classify(frame, theta: network)
        }
        // While nothing is there the window holds, then eases out; the log keeps the raw θ.
        let target =
            observation.map {
                gate.target(raw: raw, presence: $0.presence, time: Double(index) / frameRate, sceneCut: cut)
            } ?? raw
        let guarded = collapseGuard.filter(target)
        let bounds = PictureBounds(width: frame.width, height: frame.height, canvas: canvas)
        pending.append((frame, index, raw, cut, bounds, observation))
        try smoother.push(raw: guarded, sceneCut: cut) { try toCamera($0, emit) }
    }

    /// The smoother and the camera return frames in push order: the smoother's next result
    /// belongs to the oldest frame the camera has not seen, the camera's to the oldest pending one.
    private func toCamera(_ result: ThetaSmoother.Result, _ emit: Emit) throws {
        let bounds = pending[cameraHeld].bounds
        cameraHeld += 1
        try camera.push(target: result.smoothed, sceneCut: result.sceneCut, bounds: bounds) { try pair($0, emit) }
    }

    private func pair(_ used: ThetaValues, _ emit: Emit) throws {
        let (frame, index, raw, cut, _, observation) = pending.removeFirst()
        cameraHeld -= 1
        try emit(frame, index, ThetaRecord(raw: raw, smoothed: used, sceneCut: cut, observation: observation))
    }
}
