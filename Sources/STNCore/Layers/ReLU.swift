/// max(0, x), elementwise. Backward passes the gradient where the output is positive
/// (PyTorch's convention: the subgradient at 0 is 0).
public final class ReLU: Layer {
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    private let output = FloatBuffer()
    private let gradInput = FloatBuffer()

    public init(inputShape: [Int]) { self.inputShape = inputShape }

    // x: [N, …] -> y: [N, …]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        let count = batch * inputCount
        let y = output.reserve(count)
        for i in 0..<count { y[i] = max(input[i], 0) }
        return UnsafePointer(y)
    }

    // dy -> dx = dy · [y > 0]
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard inputGradient else { return nil }
        let count = batch * inputCount
        let y = output.pointer, dx = gradInput.reserve(count)
        for i in 0..<count { dx[i] = y[i] > 0 ? gradOutput[i] : 0 }
        return UnsafePointer(dx)
    }
}
