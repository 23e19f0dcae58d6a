import ArgumentParser
import FrameSampling
import STNCore
import STNPipeline

extension Canvas: ExpressibleByArgument {}
extension PaddingMode: ExpressibleByArgument {}
extension SmoothingMethod: ExpressibleByArgument {}

/// `--size WxH`: positive even numbers (4:2:0 chroma needs whole 2×2 blocks). Parsed by
/// `@Option(transform:)`, so that a bad value's message says what is expected.
struct FrameSize: Sendable {
    let width: Int
    let height: Int

    init(parsing argument: String) throws {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) else {
            throw ValidationError("expected WxH, e.g. 256x256")
        }
        guard w > 0, h > 0, w % 2 == 0, h % 2 == 0, w <= 16384, h <= 16384 else {
            throw ValidationError("width and height must be even, from 2 to 16384 (4:2:0 chroma)")
        }
        width = w
        height = h
    }
}

/// `--theta`: 3 numbers (attention s,tx,ty), 6 (affine, row-major 2×3) or 8 (projective, h22 = 1).
/// Parsed by `@Option(transform:)`, so that a bad value's message says what is wrong.
struct ThetaArgument: Sendable {
    let kind: TransformKind
    let values: [Double]

    init(parsing argument: String) throws {
        let fields = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        values = try fields.map { field in
            guard let value = Double(field), value.isFinite else { throw ValidationError("'\(field)' is not a finite number") }
            return value
        }
        switch values.count {
        case 3:
            guard values[0] != 0 else { throw ValidationError("the scale s must not be 0") }
            kind = .attention
        case 6: kind = .affine
        case 8: kind = .projective
        default: throw ValidationError("expected 3 numbers (s,tx,ty), 6 (affine) or 8 (projective), got \(values.count)")
        }
    }
}

/// `--bitrate`: bits per second, with an optional k or M suffix (`800k`, `2M`).
struct Bitrate: ExpressibleByArgument, Sendable {
    let bitsPerSecond: Int
    init?(argument: String) {
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
