import Foundation
import STNCore

/// Maps θ to the space it is smoothed in and back: attention `s` ↦ log |s| (scale is
/// multiplicative; a negative s, a point-mirrored window, is smoothed as the window's size |s|,
/// so that a model flipping its sign does not read as a collapse), everything else linear.
/// Non-finite raw values are replaced, before filtering, by the filter's current estimate of
/// that parameter (hold), or by the identity transform's value on the first frame of a segment.
struct ThetaDomain {
    let kind: TransformKind
    let count: Int
    let logScale: Bool
    /// The identity θ in the smoothing domain (substitute for non-finite values).
    let identity: [Double]
    /// The smallest scale mapped to log space; |s| is clamped to it.
    static let minimumScale = 1e-6

    init(kind: TransformKind, count: Int) {
        self.kind = kind
        self.count = count
        logScale = kind == .attention && count >= 1
        var id = [Double](repeating: 0, count: count)
        switch kind {
        case .attention:
            break  // log 1 = 0, tx = ty = 0
        case .affine, .projective:
            if count >= 6 { id[0] = 1; id[4] = 1 }
        case .tps:
            let n = Int((Double(count / 2)).squareRoot().rounded())
            if n >= 2, 2 * n * n == count {
                id = makeGridGenerator(kind: .tps, tpsControlGridSize: n).identityParameters.map(Double.init)
            }
        }
        identity = id
    }

    /// Writes the domain values of `raw` to `out`; `filter` supplies the hold value for non-finite input.
    func toDomain(_ raw: ThetaValues, filter: some ThetaFilter, _ out: UnsafeMutablePointer<Double>) {
        for c in 0..<count {
            var v = raw[c]
            if logScale && c == 0 && v.isFinite { v = log(max(abs(v), ThetaDomain.minimumScale)) }
            if !v.isFinite { v = filter.started ? filter.current(c) : identity[c] }
            out[c] = v
        }
    }

    /// θ of domain values `value`. Where a value equals the domain image of the raw value
    /// (the filter passed it through), the raw value is returned bit for bit (|s| for the scale).
    func fromDomain(_ value: UnsafePointer<Double>, raw: ThetaValues) -> ThetaValues {
        var theta = ThetaValues(count: count)
        for c in 0..<count {
            let v = value[c]
            if logScale && c == 0 {
                let size = abs(raw[0])
                if size.isFinite && size >= ThetaDomain.minimumScale && log(size) == v {
                    theta[0] = size
                } else {
                    theta[0] = exp(v)
                }
            } else {
                theta[c] = v
            }
        }
        return theta
    }
}
