import ArgumentParser
import FrameSampling
import STNCore
import STNPipeline

extension Canvas: ExpressibleByArgument {}
extension PaddingMode: ExpressibleByArgument {}
extension SmoothingMethod: ExpressibleByArgument {}

/// `--theta`: 3 numbers (attention s,tx,ty), 6 (affine, row-major 2×3) or 8 (projective, h22 = 1).
/// Parsed by `@Option(transform:)`, so that a bad value's message says what is wrong.
struct ThetaArgument: Sendable {
    let kind: TransformKind
    let values: [Double]

    init(parsing argument: String) throws {
        let fields = argument.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        values = try fields.map { field in
            guard let value = Double(field), value.isFinite else {
                throw ValidationError("'\(field)' is not a finite number")
            }
            return value
        }
        switch values.count {
        case 3:
            guard values[0] != 0 else { throw ValidationError("the scale s must not be 0") }
            kind = .attention
        case 6: kind = .affine
        case 8: kind = .projective
        default:
            throw ValidationError("expected 3 numbers (s,tx,ty), 6 (affine) or 8 (projective), got \(values.count)")
        }
    }
}
