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
        for index in 0..<planes {
            let x = input + index * plane, q = p + index * plane
            var peak = -Float.infinity
            for i in 0..<plane { peak = max(peak, x[i]) }
            // Sums in Double: a 32×32 plane adds a thousand terms.
            var total = 0.0
            for i in 0..<plane { let e = expf(x[i] - peak); q[i] = e; total += Double(e) }
            let inverse = Float(1 / total)
            var meanX = 0.0, meanY = 0.0
            for r in 0..<height {
                let row = q + r * width
                var rowSum: Float = 0
                for c in 0..<width {
                    row[c] *= inverse
                    rowSum += row[c]
                    meanX += Double(row[c] * columnX[c])
                }
                meanY += Double(rowSum * rowY[r])
            }
            y[2 * index] = Float(meanX); y[2 * index + 1] = Float(meanY)
        }
        return UnsafePointer(y)
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
