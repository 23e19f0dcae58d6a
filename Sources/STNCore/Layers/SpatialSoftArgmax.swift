import Foundation

/// Spatial soft-argmax (the "spatial softmax" keypoint layer of Levine et al. 2016):
/// `[C, H, W]` → `[2C]`. Each channel's map becomes a distribution p = softmax over its H·W
/// positions, and the layer outputs its expected position (Σ p·x, Σ p·y) in the normalised
/// coordinates of DESIGN.md §2 (pixel centres, align_corners = false), channel by channel:
/// `[x₀, y₀, x₁, y₁, …]`.
///
/// Why a localisation network wants it: a fully connected layer on a flattened feature map
/// has to learn every position separately, while the soft-argmax turns "where is the item"
/// into a translation-equivariant, sub-pixel coordinate that the regressor only has to
/// combine. PyTorch equivalent (no parameters):
/// ```
/// p = torch.softmax(x.flatten(2), dim=-1).view_as(x)                  # [N, C, H, W]
/// xs = (2 * torch.arange(W) + 1) / W - 1; ys = (2 * torch.arange(H) + 1) / H - 1
/// out = torch.stack(((p.sum(2) * xs).sum(-1), (p.sum(3) * ys).sum(-1)), -1).flatten(1)
/// ```
public final class SpatialSoftArgmax: Layer {
    public let channels, height, width: Int
    public var inputShape: [Int] { [channels, height, width] }
    public var outputShape: [Int] { [2 * channels] }

    private let probabilities = FloatBuffer()  // [N, C, H, W]
    private let output = FloatBuffer()
    private let gradInput = FloatBuffer()
    private let columnX: [Float]
    private let rowY: [Float]

    public init(inputShape: [Int]) {
        precondition(inputShape.count == 3 && inputShape.allSatisfy { $0 > 0 })
        let (h, w) = (inputShape[1], inputShape[2])
        channels = inputShape[0]; height = h; width = w
        columnX = (0..<w).map { Float(2 * $0 + 1) / Float(w) - 1 }
        rowY = (0..<h).map { Float(2 * $0 + 1) / Float(h) - 1 }
    }

    // x: [N, C, H, W] -> p = softmax per plane -> y: [N, 2C] = E_p[(x, y)]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        let planes = batch * channels, plane = height * width
        let p = probabilities.reserve(planes * plane), y = output.reserve(planes * 2)
        columnX.withUnsafeBufferPointer { columnX in
            for index in 0..<planes {
                let x = input + index * plane, q = p + index * plane
                let peak = Self.maximum(x, count: plane)
                let total = Self.exponentiate(x, count: plane, minus: peak, into: q)
                let inverse = 1 / total
                var meanX: Float = 0, meanY: Float = 0
                for r in 0..<height {
                    let (sumX, rowSum) = Self.weightedRowSums(
                        q + r * width, weights: columnX.baseAddress!, count: width)
                    meanX += sumX; meanY += rowSum * rowY[r]
                }
                // Normalised once per plane: q holds exp(x − peak) until here.
                for i in 0..<plane { q[i] *= inverse }
                y[2 * index] = meanX * inverse; y[2 * index + 1] = meanY * inverse
            }
        }
        return UnsafePointer(y)
    }

    /// q[i] = exp(x[i] − shift) for x[i] ≤ shift; returns Σ q. Eight lanes at a time (a
    /// vectorised expf: libm's, one call per element, would be the layer's whole cost), partial sums
    /// in eight lanes, which keeps a 1024-term sum as exact as a sequential Double one to ~1e-7.
    static func exponentiate(
        _ x: UnsafePointer<Float>, count: Int, minus shift: Float, into q: UnsafeMutablePointer<Float>
    ) -> Float {
        var sums = SIMD8<Float>(repeating: 0)
        var i = 0
        let shifts = SIMD8<Float>(repeating: shift)
        while i + 8 <= count {
            let e = exp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - shifts)
            UnsafeMutableRawPointer(q + i).storeBytes(of: e, as: SIMD8<Float>.self)
            sums += e
            i += 8
        }
        var total = sums.sum()
        while i < count {
            let e = exp(SIMD8<Float>(repeating: x[i] - shift))[0]
            q[i] = e; total += e
            i += 1
        }
        return total
    }

    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            lanes = pointwiseMax(lanes, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            i += 8
        }
        var peak = lanes.max()
        while i < count { peak = max(peak, x[i]); i += 1 }
        return peak
    }

    /// (Σ q[c]·weights[c], Σ q[c]) over one row.
    static func weightedRowSums(_ q: UnsafePointer<Float>, weights: UnsafePointer<Float>, count: Int) -> (Float, Float)
    {
        var weighted = SIMD8<Float>(repeating: 0), plain = SIMD8<Float>(repeating: 0)
        var c = 0
        while c + 8 <= count {
            let v = UnsafeRawPointer(q + c).loadUnaligned(as: SIMD8<Float>.self)
            weighted += v * UnsafeRawPointer(weights + c).loadUnaligned(as: SIMD8<Float>.self)
            plain += v
            c += 8
        }
        var sumX = weighted.sum(), sum = plain.sum()
        while c < count { sumX += q[c] * weights[c]; sum += q[c]; c += 1 }
        return (sumX, sum)
    }

    /// e^v for v ≤ 0 (Cephes' expf: v = n·ln 2 + r, |r| ≤ ½ ln 2, a degree-7 polynomial for
    /// e^r, times 2ⁿ built in the exponent bits), relative error ~2e-7; e^v below e^−87 is
    /// returned as e^−87 (it adds nothing to a sum whose largest term is 1).
    @inline(__always)
    static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let x = pointwiseMax(v, SIMD8<Float>(repeating: -87))
        // n = round(x / ln 2) by the 1.5·2²³ trick (no rounding instruction in baseline x86-64);
        // the low bits of t's pattern are then n itself.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = x * 1.442695041 + magic
        let n = t - magic
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e = p * r * r + r + 1
        let exponent = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        return e * unsafeBitCast((exponent &+ 127) &<< 23, to: SIMD8<Float>.self)
    }

    // ∂x̄/∂a_i = p_i (x_i − x̄), likewise for ȳ: dx_i = p_i (g_x (x_i − x̄) + g_y (y_i − ȳ))
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard inputGradient else { return nil }
        let planes = batch * channels, plane = height * width
        let p = probabilities.pointer, y = output.pointer, dx = gradInput.reserve(planes * plane)
        for index in 0..<planes {
            let q = p + index * plane, d = dx + index * plane
            let gx = gradOutput[2 * index], gy = gradOutput[2 * index + 1]
            let meanX = y[2 * index], meanY = y[2 * index + 1]
            for r in 0..<height {
                let dy = gy * (rowY[r] - meanY)
                for c in 0..<width {
                    let i = r * width + c
                    d[i] = q[i] * (gx * (columnX[c] - meanX) + dy)
                }
            }
        }
        return UnsafePointer(dx)
    }
}
