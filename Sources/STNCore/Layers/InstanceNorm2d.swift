/// Each channel of each sample shifted to mean 0 and scaled to variance 1 over its H·W values:
/// y = (x − μ) / sqrt(σ² + eps), σ² the biased variance (PyTorch's `nn.InstanceNorm2d(C, eps)`,
/// no affine parameters, no running statistics).
///
/// Why a glimpse classifier wants it: an item drawn at 40 % contrast on a grey ground and the
/// same item at full contrast on black become the same input, so the class no longer depends on
/// how bright the item is. `eps` is a variance floor: a flat glimpse (nothing there) keeps its
/// noise small instead of being stretched to unit variance.
public final class InstanceNorm2d: Layer {
    public let channels, height, width: Int
    public let eps: Float
    public var inputShape: [Int] { [channels, height, width] }
    public var outputShape: [Int] { inputShape }

    private let output = FloatBuffer()
    private let inverseDeviation = FloatBuffer()  // [N, C]: 1 / sqrt(σ² + eps)
    private let gradInput = FloatBuffer()

    public init(inputShape: [Int], eps: Float) {
        precondition(inputShape.count == 3 && inputShape.allSatisfy { $0 > 0 } && eps > 0)
        (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        self.eps = eps
    }

    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        let plane = height * width, planes = batch * channels
        let y = output.reserve(planes * plane), inverse = inverseDeviation.reserve(planes)
        for p in 0..<planes {
            let x = input + p * plane, out = y + p * plane
            var sum: Float = 0
            for i in 0..<plane { sum += x[i] }
            let mean = sum / Float(plane)
            var squares: Float = 0
            for i in 0..<plane {
                let d = x[i] - mean
                squares += d * d
            }
            let scale = 1 / (squares / Float(plane) + eps).squareRoot()
            inverse[p] = scale
            for i in 0..<plane { out[i] = (x[i] - mean) * scale }
        }
        return UnsafePointer(y)
    }

    // dx = (1/σ̂) · (dy − mean(dy) − y · mean(dy · y)), per sample and channel.
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard inputGradient else { return nil }
        let plane = height * width, planes = batch * channels
        let y = output.pointer, inverse = inverseDeviation.pointer, dx = gradInput.reserve(planes * plane)
        for p in 0..<planes {
            let dy = gradOutput + p * plane, yp = y + p * plane, out = dx + p * plane
            var meanGradient: Float = 0, meanProjection: Float = 0
            for i in 0..<plane {
                meanGradient += dy[i]
                meanProjection += dy[i] * yp[i]
            }
            meanGradient /= Float(plane); meanProjection /= Float(plane)
            for i in 0..<plane { out[i] = inverse[p] * (dy[i] - meanGradient - yp[i] * meanProjection) }
        }
        return UnsafePointer(dx)
    }
}
