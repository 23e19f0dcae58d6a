#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A per-parameter update rule with small per-parameter state (after mlx-swift's
/// optimisers). The effective learning rate of a parameter is
/// `learningRate × groupScale[parameter.group]` — the paper trains the localisation network
/// with a smaller rate than the classifier (e.g. scale 0.1 for `.localisation`).
/// Gradients are read, not cleared: call `zeroGradient()` (or `STCNN.zeroGradients()`) yourself.
public protocol Optimiser: AnyObject {
    var learningRate: Float { get set }
    var groupScale: [ParameterGroup: Float] { get set }
    func step(_ parameters: [Parameter])
}

extension Optimiser {
    func rate(for parameter: Parameter) -> Float { learningRate * (groupScale[parameter.group] ?? 1) }
}

/// Stochastic gradient descent with momentum and L2 weight decay, PyTorch's `torch.optim.SGD`
/// (dampening 0): g = ∇ + λ·p; v = μ·v + g (v = g on the first step); p −= lr·v.
public final class SGD: Optimiser {
    public var learningRate: Float
    public var groupScale: [ParameterGroup: Float]
    public let momentum: Float
    public let weightDecay: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]

    public init(
        learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, groupScale: [ParameterGroup: Float] = [:]
    ) {
        self.learningRate = learningRate; self.momentum = momentum; self.weightDecay = weightDecay;
        self.groupScale = groupScale
    }

    public func step(_ parameters: [Parameter]) {
        for parameter in parameters {
            let lr = rate(for: parameter), p = parameter.value.data, g = parameter.gradient.data,
                count = parameter.value.count
            let wd = weightDecay, mu = momentum
            if mu == 0 {
                for i in 0..<count { p[i] -= lr * (g[i] + wd * p[i]) }
                continue
            }
            let key = ObjectIdentifier(parameter)
            if let v = velocity[key]?.data {
                for i in 0..<count { v[i] = mu * v[i] + g[i] + wd * p[i]; p[i] -= lr * v[i] }
            } else {
                let state = Tensor(shape: parameter.shape)
                velocity[key] = state
                let v = state.data
                for i in 0..<count { v[i] = g[i] + wd * p[i]; p[i] -= lr * v[i] }
            }
        }
    }
}

/// Adam (Kingma & Ba 2015), PyTorch's `torch.optim.Adam` with L2 weight decay:
/// g = ∇ + λ·p; m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; p −= lr·m̂/(√v̂ + ε).
public final class Adam: Optimiser {
    public var learningRate: Float
    public var groupScale: [ParameterGroup: Float]
    public let beta1, beta2, epsilon, weightDecay: Float
    private var moments: [ObjectIdentifier: (first: Tensor, second: Tensor, steps: Int)] = [:]

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0, groupScale: [ParameterGroup: Float] = [:]
    ) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.groupScale = groupScale
    }

    public func step(_ parameters: [Parameter]) {
        for parameter in parameters {
            let key = ObjectIdentifier(parameter)
            var state = moments[key] ?? (Tensor(shape: parameter.shape), Tensor(shape: parameter.shape), 0)
            state.steps += 1
            moments[key] = state
            let lr = rate(for: parameter), b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
            let correction1 = 1 - powf(b1, Float(state.steps)), correction2 = 1 - powf(b2, Float(state.steps))
            let p = parameter.value.data, grad = parameter.gradient.data, m = state.first.data, v = state.second.data
            for i in 0..<parameter.value.count {
                let g = grad[i] + wd * p[i]
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                p[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
            }
        }
    }
}

/// Learning rate as a function of the step (0-based), from the base rate.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// × gamma every `every` steps (`StepLR`).
    case step(every: Int, gamma: Float)
    /// Cosine from the base rate down to `minimum` over `totalSteps` (`CosineAnnealingLR`), then `minimum`.
    case cosine(totalSteps: Int, minimum: Float)

    public func learningRate(base: Float, step: Int) -> Float {
        switch self {
        case .constant: return base
        case let .step(every, gamma): return base * powf(gamma, Float(step / max(every, 1)))
        case let .cosine(total, minimum):
            let t = min(Float(step) / Float(max(total, 1)), 1)
            return minimum + (base - minimum) * (1 + cosf(Float.pi * t)) / 2
        }
    }
}
