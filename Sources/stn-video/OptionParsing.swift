import ArgumentParser
import FrameSampling
import STNCore
import STNPipeline

extension Canvas: ExpressibleByArgument {}
extension PaddingMode: ExpressibleByArgument {}
extension SmoothingMethod: ExpressibleByArgument {}

/// `--size WxH`: positive even numbers (4:2:0 chroma needs whole 2×2 blocks).
struct FrameSize: ExpressibleByArgument, Sendable {
    let width: Int
    let height: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]),
              w > 0, h > 0, w % 2 == 0, h % 2 == 0, w <= 16384, h <= 16384 else { return nil }
        width = w
        height = h
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// `--theta`: 3 numbers (attention s,tx,ty), 6 (affine, row-major 2×3) or 8 (projective, h22 = 1).
struct ThetaArgument: ExpressibleByArgument, Sendable {
    let kind: TransformKind
    let values: [Double]

    init?(argument: String) {
        let numbers = argument.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.allSatisfy({ $0?.isFinite == true }) else { return nil }
        values = numbers.map { $0! }
        switch values.count {
        case 3:
            guard values[0] != 0 else { return nil }
            kind = .attention
        case 6: kind = .affine
        case 8: kind = .projective
        default: return nil
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
        guard let value = Double(text), value > 0 else { return nil }
        bitsPerSecond = Int(value * scale)
    }
}
