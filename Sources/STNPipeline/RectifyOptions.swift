import FrameSampling
import STNCore
import STNMedia

/// Everything one `stn-video` run needs to know.
public struct RectifyOptions: Sendable {
    public var input: String
    public var inputFormat: String?
    public var output: String
    public var outputFormat: String?
    public var outputWidth: Int
    public var outputHeight: Int
    public var canvas: Canvas
    public var padding: PaddingMode
    public var encoder: EncoderSettings
    public var copyAudio: Bool
    /// nil: no log (only allowed for output `-`).
    public var logPath: String?
    /// Files the run reads besides the input video (a model file, which stays memory-mapped):
    /// no output may replace them.
    public var otherInputs: [String] = []
    public var transforms: TransformSource
    /// Worker threads for decoding, sampling and encoding; 0 = one per core.
    public var threads: Int
    public var showProgress: Bool
    /// Temporal smoothing and scene cuts (model runs only).
    public var smoothing: SmoothingSettings
    /// The virtual camera after the smoothing, and whether the window is kept inside the picture (model runs only).
    public var camera: CameraSettings
    /// What the window does while the model's classifier sees no item (models with a "no item" class).
    public var presence = PresenceSettings()
    /// Frames the localisation network reads at once (a model's runs only).
    public var localisationBatch = ModelLocaliser.defaultBatchSize
    /// A second video: the input with the raw (red) and used (green) windows drawn on it.
    public var overlayPath: String?
    /// Told of every frame as each stage takes it up; may block (tests step stages with it) or throw (stopping the run).
    public var observer: (any PipelineObserver)?

    public init(input: String, output: String, transforms: TransformSource) {
        self.input = input
        self.output = output
        self.transforms = transforms
        inputFormat = nil
        outputFormat = nil
        outputWidth = 256
        outputHeight = 256
        canvas = .square
        padding = .black
        encoder = EncoderSettings()
        copyAudio = true
        logPath = ParameterLogWriter.defaultPath(forOutput: output)
        threads = 0
        showProgress = false
        smoothing = SmoothingSettings(lookahead: SmoothingSettings.defaultLookahead)
        camera = CameraSettings()
        camera.lookahead = SmoothingSettings.defaultLookahead
        overlayPath = nil
        observer = nil
    }
}

/// What a finished (or interrupted) run did.
public struct RectifySummary: Sendable {
    public var framesWritten: Int
    public var damagedPackets: Int
    public var seconds: Double
    /// The signal that stopped the run early, if one did.
    public var interruptedBy: Int32?
    /// True when the output's reader had stopped reading and the output was given up where it
    /// stood: a valid prefix of at most `framesWritten` frames.
    public var outputAbandoned = false
    public var warnings: [String]
}

/// The stages of the pipeline, in order.
public enum PipelineStage: String, Sendable, CaseIterable {
    case decode, localise, sample, encode
}

/// Watches frames pass through the stages (instrumentation and tests).
public protocol PipelineObserver: Sendable {
    /// Called on `stage`'s thread before it handles frame `index`; throwing fails the run as a stage error would.
    func willProcess(stage: PipelineStage, frame index: Int) throws
}
