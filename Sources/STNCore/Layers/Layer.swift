/// A network layer on a batch of samples, forward and backward side by side.
///
/// Conventions (after llm.c):
/// - Shapes are per sample: `[C, H, W]` for images, `[F]` for features; a batch is
///   `batch × shape`, contiguous, row-major (NCHW).
/// - `forward` returns a pointer to the layer's own output buffer, valid until the
///   layer's next `forward`. The layer remembers `input`; the caller keeps it alive and
///   unchanged until `backward` has run.
/// - `backward` takes ∂L/∂output, *adds* ∂L/∂parameters into each parameter's
///   `gradient`, and returns ∂L/∂input (a fresh value, not accumulated) when
///   `inputGradient` is true, else nil.
/// - Buffers grow to the largest batch seen; after that nothing is allocated.
public protocol Layer: AnyObject {
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    /// Parameters named as in a PyTorch `state_dict` under `prefix` ("loc.0" → "loc.0.weight").
    func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)]
    func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float>
    func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>?
}

extension Layer {
    public func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] { [] }
    public var inputCount: Int { inputShape.reduce(1, *) }
    public var outputCount: Int { outputShape.reduce(1, *) }
}

@inline(__always)
func joinName(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

/// Layers applied in order, named `prefix.<index>` like `nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [any Layer]
    public let inputShape: [Int]
    public let outputShape: [Int]

    public init(_ layers: [any Layer], inputShape: [Int]) {
        self.layers = layers
        self.inputShape = inputShape
        self.outputShape = layers.last?.outputShape ?? inputShape
    }

    public func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] {
        var result: [(name: String, parameter: Parameter)] = []
        for (index, layer) in layers.enumerated() {
            result += layer.namedParameters(prefix: joinName(prefix, String(index)))
        }
        return result
    }

    // x: [N, inputShape] -> [N, outputShape]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        var x = input
        for layer in layers { x = layer.forward(x, batch: batch, training: training) }
        return x
    }

    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        var gradient = gradOutput
        var index = layers.count - 1
        while index >= 0 {
            let needed = index > 0 || inputGradient
            guard let next = layers[index].backward(gradient, batch: batch, inputGradient: needed) else { return nil }
            gradient = next
            index -= 1
        }
        return gradient
    }
}
