/// Inverted dropout: in training each element (or, with `channelwise`, each whole channel
/// of a `[C, H, W]` sample — `nn.Dropout2d`) is zeroed with probability p and the rest are
/// scaled by 1/(1−p); in evaluation it is the identity and hands the pointer on.
public final class Dropout: Layer {
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let probability: Float
    public let channelwise: Bool
    private var random: RandomSource
    private let mask = FloatBuffer()
    private let output = FloatBuffer()
    private let gradInput = FloatBuffer()
    private var lastWasTraining = false

    public init(inputShape: [Int], probability: Float, channelwise: Bool = false, seed: UInt64 = 0x5eed) {
        precondition(probability >= 0 && probability < 1)
        self.inputShape = inputShape
        self.probability = probability
        self.channelwise = channelwise && inputShape.count == 3
        random = RandomSource(seed: seed)
    }

    /// Restarts the mask generator (tests use it to replay one mask).
    public func reseed(_ seed: UInt64) { random = RandomSource(seed: seed) }

    // x: [N, …] -> y = x · mask
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        lastWasTraining = training && probability > 0
        guard lastWasTraining else { return input }
        let count = batch * inputCount
        let m = mask.reserve(count), y = output.reserve(count)
        let keep = 1 / (1 - probability)
        let run = channelwise ? inputShape[1] * inputShape[2] : 1
        var i = 0
        while i < count {
            let value: Float = random.uniform() < probability ? 0 : keep
            for j in i..<(i + run) { m[j] = value }
            i += run
        }
        for j in 0..<count { y[j] = input[j] * m[j] }
        return UnsafePointer(y)
    }

    // dy -> dx = dy · mask
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard inputGradient else { return nil }
        guard lastWasTraining else { return gradOutput }
        let count = batch * inputCount
        let m = mask.pointer, dx = gradInput.reserve(count)
        for j in 0..<count { dx[j] = gradOutput[j] * m[j] }
        return UnsafePointer(dx)
    }
}
