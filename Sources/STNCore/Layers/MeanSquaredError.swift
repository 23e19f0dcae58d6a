/// Mean squared error over every element, `F.mse_loss(y, target)`: L = Σ (y − t)² / count.
public final class MeanSquaredError {
    private let gradient = FloatBuffer()
    private var lastPrediction: UnsafePointer<Float>?
    private var lastTarget: UnsafePointer<Float>?

    public init() {}

    // y, t: [count] -> L
    public func forward(prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int) -> Float {
        lastPrediction = prediction; lastTarget = target
        var sum: Double = 0
        for i in 0..<count { let d = Double(prediction[i] - target[i]); sum += d * d }
        return Float(sum / Double(max(count, 1)))
    }

    // -> dL/dy = 2(y − t)/count
    public func backward(count: Int) -> UnsafePointer<Float> {
        guard let y = lastPrediction, let t = lastTarget else {
            preconditionFailure("MeanSquaredError.backward before forward")
        }
        let g = gradient.reserve(count), scale = 2 / Float(max(count, 1))
        for i in 0..<count { g[i] = (y[i] - t[i]) * scale }
        return UnsafePointer(g)
    }
}
