/// How a convolution or linear layer's weights start.
///
/// - `pytorchDefault` (the default): PyTorch's `reset_parameters` for `nn.Conv2d` and
///   `nn.Linear` — `kaiming_uniform_(a=√5)`, which is weight ~ U(−1/√fan_in, 1/√fan_in),
///   and bias ~ U(−1/√fan_in, 1/√fan_in). Chosen so that a network built here trains
///   like the same network built in PyTorch.
/// - `heNormal`: Kaiming/He normal for ReLU nets (He et al. 2015), weight ~ N(0, 2/fan_in),
///   bias 0.
/// `fan_in` = in_channels·kh·kw (conv) or in_features (linear).
public enum Initialisation: String, Sendable, CaseIterable {
    case pytorchDefault
    case heNormal

    func initialise(weight: Tensor, bias: Tensor, fanIn: Int, random: inout RandomSource) {
        switch self {
        case .pytorchDefault:
            let bound = 1 / Float(max(fanIn, 1)).squareRoot()
            for i in 0..<weight.count { weight[i] = random.uniform(-bound, bound) }
            for i in 0..<bias.count { bias[i] = random.uniform(-bound, bound) }
        case .heNormal:
            let std = (2 / Float(max(fanIn, 1))).squareRoot()
            for i in 0..<weight.count { weight[i] = std * random.normal() }
            bias.fill(0)
        }
    }
}
