import Foundation
import ArgumentParser

/// `--codec`, `--crf`, `--preset`, `--bitrate`: how a tool encodes its video.
///
/// Left unset, each is the encoder's own default (x264: CRF 23, preset medium; x265: CRF 28);
/// ranges that depend on the encoder (x264's CRF 0–51) are checked where it is chosen.
public struct EncoderOptions: ParsableArguments, Sendable {
    @Option(
        help: ArgumentHelp(
            "Video encoder: libx264 (default where the container takes it), ffv1, mpeg4, rawvideo…", valueName: "name"))
    public var codec: String?

    @Option(
        help:
            "Constant rate factor for libx264/libx265 (default: the encoder's, 23 for libx264; x264 and x265 take 0–51)."
    )
    public var crf: Double?

    @Option(help: "Encoder preset for libx264/libx265 (ultrafast … veryslow; default medium).")
    public var preset: String?

    @Option(help: ArgumentHelp("Target bit rate, e.g. 2M or 800k (1k to 10000M).", valueName: "rate"))
    public var bitrate: Bitrate?

    public init() {}

    public func validate() throws {
        if let crf, !(0...63).contains(crf) { throw ValidationError("--crf must be between 0 and 63.") }
    }
}

/// `--bitrate`: bits per second, with an optional k or M suffix (`800k`, `2M`).
public struct Bitrate: ExpressibleByArgument, Sendable {
    public let bitsPerSecond: Int
    public init?(argument: String) {
        var text = argument.trimmingCharacters(in: .whitespaces)
        var scale = 1.0
        if let last = text.last, "kKmM".contains(last) {
            scale = (last == "k" || last == "K") ? 1e3 : 1e6
            text.removeLast()
        }
        // 1 kbit/s … 10 Gbit/s: what encoders take (and an Int32-safe rate for FFmpeg's fields).
        guard let value = Double(text), value.isFinite, (1e3...1e10).contains(value * scale) else { return nil }
        bitsPerSecond = Int(value * scale)
    }
}
