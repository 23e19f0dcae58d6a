/// Which learning rate a parameter follows. The paper trains the localisation network
/// with a smaller learning rate than the rest; optimisers scale by group.
public enum ParameterGroup: String, Sendable, CaseIterable {
    case localisation
    case classifier
}

/// A trainable tensor with its gradient. Gradients accumulate (`+=`) across backward
/// passes until `zeroGradient()`.
public final class Parameter {
    public let value: Tensor
    public let gradient: Tensor
    public var group: ParameterGroup

    public init(shape: [Int], group: ParameterGroup) {
        value = Tensor(shape: shape)
        gradient = Tensor(shape: shape)
        self.group = group
    }

    public var shape: [Int] { value.shape }

    public func zeroGradient() { gradient.fill(0) }
}
