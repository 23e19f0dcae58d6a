/// How the output video is encoded (`--codec`, `--crf`, `--preset`, `--bitrate`, `--threads`).
public struct EncoderSettings: Sendable {
    /// An FFmpeg encoder name (`libx264`, `ffv1`, `mpeg4`, `rawvideo`, …); nil picks libx264
    /// where the container takes H.264, else the container's own default.
    public var codec: String?
    /// Constant rate factor for libx264/libx265 (FFmpeg's default 23 when nil).
    public var crf: Double?
    /// Encoder speed preset for libx264/libx265 (FFmpeg's default "medium" when nil); a name
    /// neither library knows is refused before encoding, with the list of those it does.
    public var preset: String?
    /// Target bit rate in bits per second.
    public var bitrate: Int?
    /// Encoder threads; 0 lets FFmpeg choose.
    public var threads: Int

    public init(codec: String? = nil, crf: Double? = nil, preset: String? = nil, bitrate: Int? = nil, threads: Int = 0)
    {
        self.codec = codec
        self.crf = crf
        self.preset = preset
        self.bitrate = bitrate
        self.threads = threads
    }
}

/// The picture the pipeline sends to the encoder.
public struct OutputVideoFormat: Sendable {
    public var width: Int
    public var height: Int
    public var frameRate: Rational
    /// Time base of the timestamps on the frames (the input stream's).
    public var timeBase: Rational
    public var fullRange: Bool

    public init(width: Int, height: Int, frameRate: Rational, timeBase: Rational, fullRange: Bool = false) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.timeBase = timeBase
        self.fullRange = fullRange
    }
}
