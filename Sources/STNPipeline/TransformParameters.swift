import FrameSampling
import STNCore

/// The log column names of each transform kind's parameters (DESIGN.md §4).
public enum TransformParameterNames {
    public static func names(for kind: TransformKind, count: Int) -> [String] {
        switch kind {
        case .attention: return ["s", "tx", "ty"]
        case .affine: return ["a00", "a01", "a02", "a10", "a11", "a12"]
        case .projective: return ["h00", "h01", "h02", "h10", "h11", "h12", "h20", "h21"]
        case .tps: return (0..<count / 2).flatMap { ["dx\($0)", "dy\($0)"] }
        }
    }

    /// The kind whose column names these are, from a log's header.
    static func kind(forColumns names: [String]) -> TransformKind? {
        for kind in [TransformKind.attention, .affine, .projective]
        where names == self.names(for: kind, count: names.count) {
            return kind
        }
        if !names.isEmpty, names.count % 2 == 0, names == self.names(for: .tps, count: names.count) { return .tps }
        return nil
    }
}

extension SourceTransform {
    /// The sampler's transform for parameters of `kind` (attention, affine or projective).
    public init?(kind: TransformKind, parameters p: some RandomAccessCollection<Double>) {
        let v = { (i: Int) in p[p.index(p.startIndex, offsetBy: i)] }
        switch kind {
        case .attention where p.count == 3: self.init(attention: v(0), tx: v(1), ty: v(2))
        case .affine where p.count == 6:
            self = .identity
            matrix = (v(0), v(1), v(2), v(3), v(4), v(5), 0, 0, 1)
        case .projective where p.count == 8:
            self = .identity
            matrix = (v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), 1)
        default: return nil
        }
    }
}
