import ArgumentParser
import CommandSupport
import FrameSampling
import STNCore
import STNMedia
import STNPipeline

struct STNVideoCommand: CancellableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stn-video",
        abstract:
            "Rectify video with a Spatial Transformer Network: a per-frame window, predicted and smoothed, sampled and encoded.",
        discussion: """
            Coordinates are normalised to [-1, 1] (x right, y down) over the canvas; θ maps output coordinates to input coordinates. Attention θ = s,tx,ty: s = 0.5 is a window half the canvas wide, centred at (tx, ty). A log of θ per frame is written beside the output (OUTPUT with its extension replaced by .params.csv) unless OUTPUT is '-' or a device such as /dev/null.

            Exit status: 0 done, 1 runtime error, 2 usage error, 130/143 after SIGINT/SIGTERM (the output is finalised first).

            Examples:
              stn-video in.mp4 out.mp4
              stn-video --overlay check.mp4 --lookahead 8 in.mp4 out.mp4
              stn-video --camera follow --allow-outside in.mp4 out.mp4
              stn-video --model mine.safetensors --smoothing kalman in.mkv out.mkv
              stn-video --theta 0.5,0.1,-0.1 --size 256x256 in.mp4 crop.mp4
              stn-video --transforms crop.params.csv in.mp4 again.mp4
              ffmpeg -i in.mov -f nut - | stn-video --theta 0.5,0,0 - out.mp4
              stn-video --theta 0.5,0,0 in.mp4 - | ffplay -
              stn-video --theta 1,0,0 --codec rawvideo in.mp4 out.y4m
            """,
        version: stnVersion
    )

    @Argument(help: "Input video: a path, anything FFmpeg opens, or '-' for standard input.")
    var input: String

    @Argument(help: "Output video: a path (container from the extension) or '-' for standard output.")
    var output: String

    // Unconditional: a value may start with '-' (a mirror: -1,0,0,0,1,0).
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Fixed transform for every frame: s,tx,ty (attention), 6 numbers (affine) or 8 (projective).",
            valueName: "numbers"),
        transform: ThetaArgument.init(parsing:))
    var theta: ThetaArgument?

    @Option(help: ArgumentHelp("Replay the smoothed θ of a parameter log (.csv or .jsonl).", valueName: "log"))
    var transforms: String?

    @Option(
        help: ArgumentHelp("STN model file (.safetensors); default: the bundled attention model.", valueName: "file"))
    var model: String?

    @Option(help: "Temporal smoothing of θ: one-euro, ema, kalman or none.")
    var smoothing: SmoothingMethod = .oneEuro

    // The smoothing values stay optional so that a value given for another --smoothing can be
    // named in a warning; their defaults are SmoothingSettings', shown from there.
    private static let smoothingDefaults = SmoothingSettings()

    @Option(
        name: .customLong("min-cutoff"),
        help:
            "one-euro: minimum cutoff frequency in Hz; lower = smoother when still (default: \(smoothingDefaults.minCutoff))."
    )
    var minCutoff: Double?

    @Option(help: "one-euro: speed coefficient; higher = less lag when moving (default: \(smoothingDefaults.beta)).")
    var beta: Double?

    @Option(
        name: .customLong("d-cutoff"),
        help: "one-euro: cutoff frequency of the speed estimate in Hz (default: \(smoothingDefaults.derivativeCutoff))."
    )
    var derivativeCutoff: Double?

    @Option(help: "ema: weight of the new value, 0 < alpha ≤ 1 (default: \(smoothingDefaults.alpha)).")
    var alpha: Double?

    @Option(
        name: .customLong("process-noise"),
        help: "kalman: process noise, acceleration variance in units²/s³ (default: \(smoothingDefaults.processNoise)).")
    var processNoise: Double?

    @Option(
        name: .customLong("measurement-noise"),
        help: "kalman: measurement noise variance (default: \(smoothingDefaults.measurementNoise)).")
    var measurementNoise: Double?

    @Option(
        name: .customLong("lookahead"),
        help:
            "Centred smoothing using N future frames (it cancels the noise filter's lag), and a camera (hold) that sees N frames further ahead to start a pan early: 2N frames of latency. 0: causal. (default: \(SmoothingSettings.defaultLookahead))"
    )
    var lookaheadOption: Int?
    var lookahead: Int { lookaheadOption ?? SmoothingSettings.defaultLookahead }
    /// Whether the user asked for a look-ahead (the default's is never "ignored").
    var lookaheadGiven: Bool { (lookaheadOption ?? 0) > 0 }

    @OptionGroup(title: "Camera")
    var camera: CameraOptions

    @Option(
        name: .customLong("batch"),
        help: ArgumentHelp(
            "Frames the localisation network reads at once: larger is faster, and adds up to N − 1 frames of latency (1 to 64).",
            valueName: "N"))
    var batch: Int = 8

    @Option(
        name: .customLong("min-presence"),
        help:
            "Below this presence (1 − P(no item), from a model with a \"no item\" class) the window holds instead of following θ."
    )
    var minPresence: Double = 0.5
    @Option(
        name: .customLong("release-after"),
        help: ArgumentHelp("Seconds a held window stays before it eases to the whole picture.", valueName: "seconds"))
    var releaseAfter: Double = 2
    @Option(
        help: ArgumentHelp(
            "Search each frame whose window the model's glimpse classifier is unsure of: windows of the network's scale and of 0.625 times it, on grids this many half-sides apart, are classified, the surest refined, and the frame follows the window whose class the classifier is surest of (the network's own when they agree, or when none reaches confidence 0.2). Finds items among clutter far more often; costs about a glimpse per window, some 250 windows a searched frame.",
            valueName: "half-sides"))
    var search: Double?
    @Option(
        help: ArgumentHelp(
            "Also write the input with the raw (red) and used (green) windows drawn on it, and a caption of what the classifier saw.",
            valueName: "path"))
    var overlay: String?

    static let defaultSize = FrameSize(width: 256, height: 256)
    @Option(help: defaultSize.helpText("Output size"), transform: FrameSize.init(parsing:))
    var size = defaultSize

    @Option(help: "What normalised coordinates refer to: square (the frame centred in a square) or frame.")
    var canvas: Canvas = .square

    @Option(help: "Samples outside the input frame: black or border (repeat the edge).")
    var padding: PaddingMode = .black

    @Option(
        name: .customLong("input-format"),
        help: ArgumentHelp("Input container, for pipes (nut, matroska, mpegts, yuv4mpegpipe…).", valueName: "name"))
    var inputFormat: String?

    @Option(help: ArgumentHelp("Output container, overriding the extension (default for '-': nut).", valueName: "name"))
    var format: String?

    @OptionGroup(title: "Encoding")
    var encoding: EncoderOptions

    @Flag(name: .customLong("no-audio"), help: "Do not copy the input's audio.")
    var noAudio = false

    @Option(help: ArgumentHelp("Parameter log path (.csv or .jsonl).", valueName: "path"))
    var log: String?

    @Option(help: "Threads for decoding, sampling and encoding (0 = one per core).")
    var threads: Int = 0

    @Flag(help: "No progress line and no warnings; errors only.")
    var quiet = false

    @Flag(help: "Also show FFmpeg's own warnings and errors.")
    var verbose = false

    func validate() throws {
        if [theta != nil, transforms != nil, model != nil].filter({ $0 }).count > 1 {
            throw ValidationError("Use only one of --theta, --transforms and --model.")
        }
        guard (1...64).contains(batch) else { throw ValidationError("--batch must be in 1...64 (got \(batch)).") }
        guard (0...1).contains(minPresence) else { throw ValidationError("--min-presence must be in [0, 1].") }
        if let search, !(search >= 0.25 && search <= 8) {
            throw ValidationError("--search must be from 0.25 to 8 half-sides.")
        }
        guard releaseAfter >= 0, releaseAfter.isFinite else {
            throw ValidationError("--release-after must be a number of seconds ≥ 0.")
        }
        if lookahead < 0 || lookahead > 300 { throw ValidationError("--lookahead must be between 0 and 300 frames.") }
        // The smoothing values are checked where they are defined.
        if let problem = smoothingSettings().validationError { throw ValidationError(problem) }
        if overlay == "-" { throw ValidationError("--overlay needs a file path.") }
        // FFmpeg caps its own thread counts far lower (codec threads at 1024).
        if !(0...1024).contains(threads) { throw ValidationError("--threads must be in 0…1024 (0: one per CPU).") }
        if let log, log == "-" { throw ValidationError("--log needs a file path.") }
        if quiet && verbose { throw ValidationError("--quiet and --verbose contradict each other; give one.") }
    }

    /// Options given that the run would ignore, each as a warning (printed unless --quiet).
    var ignoredOptions: [String] {
        var warnings: [String] = []
        let oneEuro = [("--min-cutoff", minCutoff), ("--beta", beta), ("--d-cutoff", derivativeCutoff)].filter {
            $0.1 != nil
        }.map(\.0)
        let ema = alpha != nil ? ["--alpha"] : []
        let kalman = [("--process-noise", processNoise), ("--measurement-noise", measurementNoise)].filter {
            $0.1 != nil
        }.map(\.0)
        let smoothingOptions =
            oneEuro + ema + kalman + (lookaheadGiven ? ["--lookahead"] : [])
            + (camera.cutThreshold != SmoothingSettings.defaultCutThreshold ? ["--cut-threshold"] : [])
        if theta != nil || transforms != nil {
            if !smoothingOptions.isEmpty {
                let source =
                    theta != nil ? "--theta (a fixed transform)" : "--transforms (the log's transforms as they are)"
                warnings.append(
                    "\(smoothingOptions.joined(separator: ", ")) ignored with \(source): smoothing applies to a model's predictions"
                )
            }
            if search != nil {
                warnings.append(
                    "--search ignored with \(theta != nil ? "--theta" : "--transforms"): it searches with a model")
            }
            return warnings
        }
        for (options, method) in [(oneEuro, SmoothingMethod.oneEuro), (ema, .ema), (kalman, .kalman)]
        where !options.isEmpty && smoothing != method {
            warnings.append(
                "\(options.joined(separator: ", ")) ignored: \(options.count == 1 ? "it applies" : "they apply") to --smoothing \(method.rawValue), not \(smoothing.rawValue)"
            )
        }
        // The hold camera reads the look-ahead too, so it is ignored only when neither uses it.
        if lookaheadGiven && smoothing == .none && camera.camera == .follow {
            warnings.append("--lookahead ignored with --smoothing none --camera follow")
        }
        return warnings
    }
}
