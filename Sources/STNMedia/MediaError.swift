@preconcurrency import CFFmpeg

/// A failure in the media layer, naming the file it concerns and the cause.
///
/// `description` is the text after `stn-video: error: `, e.g. `in.mp4: no video stream`.
public struct MediaError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        case cannotOpen, noVideoStream, unsupported, decode, encode, mux, brokenPipe, interrupted
    }

    public let kind: Kind
    public let path: String
    public let reason: String

    public init(_ kind: Kind, path: String, _ reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// FFmpeg's message for an error code (`av_strerror`).
func ffmpegErrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE) + 1)
    av_strerror(code, &buffer, buffer.count)
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// FFmpeg status codes that mean "no frame now" rather than failure.
enum FFStatus {
    static let eof = cff_averror_eof()
    static let again = cff_averror_eagain()
    static let exit = cff_averror_exit()
    static let brokenPipe = cff_averror_epipe()
    static let invalidData = cff_averror_invaliddata()
    static let experimental = cff_averror_experimental()
}

/// Presentation timestamps FFmpeg leaves unset.
let noPTS = cff_nopts_value()

/// A rational number (frame rates, time bases) without exposing `AVRational`.
public struct Rational: Sendable, Equatable, CustomStringConvertible {
    public var numerator: Int32
    public var denominator: Int32
    public init(_ numerator: Int32, _ denominator: Int32) {
        self.numerator = numerator
        self.denominator = denominator
    }
    init(_ r: AVRational) { self.init(r.num, r.den) }
    var av: AVRational { AVRational(num: numerator, den: denominator) }
    public var doubleValue: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    public var description: String { "\(numerator)/\(denominator)" }
}
