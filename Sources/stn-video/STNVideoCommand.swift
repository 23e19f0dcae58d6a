import ArgumentParser
import FrameSampling
import STNMedia
import STNPipeline

struct STNVideoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stn-video",
        abstract: "Rectify video with a Spatial Transformer Network: sample a per-frame window and encode it.",
        discussion: """
        Coordinates are normalised to [-1, 1] (x right, y down) over the canvas; θ maps output
        coordinates to input coordinates. Attention θ = s,tx,ty: s = 0.5 is a window half the
        canvas wide, centred at (tx, ty). A log of θ per frame is written beside the output
        (OUTPUT with its extension replaced by .params.csv) unless OUTPUT is '-'.

        Examples:
          stn-video --theta 0.5,0.1,-0.1 --size 256x256 in.mp4 crop.mp4
          stn-video --transforms crop.params.csv in.mp4 again.mp4
          ffmpeg -i in.mov -f nut - | stn-video --theta 0.5,0,0 - out.mp4
          stn-video --theta 0.5,0,0 in.mp4 - | ffplay -
          stn-video --theta 1,0,0 --codec rawvideo in.mp4 out.y4m
        """
    )

    @Argument(help: "Input video: a path, anything FFmpeg opens, or '-' for standard input.")
    var input: String

    @Argument(help: "Output video: a path (container from the extension) or '-' for standard output.")
    var output: String

    @Option(help: ArgumentHelp("Fixed transform for every frame: s,tx,ty (attention), 6 numbers (affine) or 8 (projective).", valueName: "numbers"))
    var theta: ThetaArgument?

    @Option(help: ArgumentHelp("Replay the smoothed θ of a parameter log (.csv or .jsonl).", valueName: "log"))
    var transforms: String?

    @Option(help: ArgumentHelp("Output size, even numbers (default 256x256).", valueName: "WxH"))
    var size: FrameSize?

    @Option(help: "What normalised coordinates refer to: square (the frame centred in a square) or frame.")
    var canvas: Canvas = .square

    @Option(help: "Samples outside the input frame: black or border (repeat the edge).")
    var padding: PaddingMode = .black

    @Option(name: .customLong("input-format"), help: ArgumentHelp("Input container, for pipes (nut, matroska, mpegts, yuv4mpegpipe…).", valueName: "name"))
    var inputFormat: String?

    @Option(help: ArgumentHelp("Output container, overriding the extension (default for '-': nut).", valueName: "name"))
    var format: String?

    @Option(help: ArgumentHelp("Video encoder: libx264 (default where the container takes it), ffv1, mpeg4, rawvideo…", valueName: "name"))
    var codec: String?

    @Option(help: "Constant rate factor for libx264/libx265 (default 23).")
    var crf: Double?

    @Option(help: "Encoder preset for libx264/libx265 (ultrafast … veryslow; default medium).")
    var preset: String?

    @Option(help: ArgumentHelp("Target bit rate, e.g. 2M or 800k.", valueName: "rate"))
    var bitrate: Bitrate?

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
        if theta != nil && transforms != nil {
            throw ValidationError("Use only one of --theta and --transforms.")
        }
        if theta == nil && transforms == nil {
            throw ValidationError("No transform source: give --theta or --transforms (a trained model is not bundled yet).")
        }
        if threads < 0 { throw ValidationError("--threads must be 0 or more.") }
        if let crf, !(0...63).contains(crf) { throw ValidationError("--crf must be between 0 and 63.") }
        if let log, log == "-" { throw ValidationError("--log needs a file path.") }
    }
}
