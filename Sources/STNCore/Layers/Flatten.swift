/// `[C, H, W]` → `[C·H·W]`. NCHW is already contiguous, so both passes hand the pointer on.
public final class Flatten: Layer {
    public let inputShape: [Int]
    public var outputShape: [Int] { [inputCount] }

    public init(inputShape: [Int]) { self.inputShape = inputShape }

    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> { input }

    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        inputGradient ? gradOutput : nil
    }
}
