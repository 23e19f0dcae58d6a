import FrameSampling

extension PaddingMode {
    /// PyTorch's name of this padding (`grid_sample`'s `padding_mode`), as model files store it.
    public var pytorchName: String {
        switch self {
        case .black: return "zeros"
        case .border: return "border"
        }
    }

    /// The padding PyTorch calls `name` ("zeros" or "border"), or nil.
    public init?(pytorchName name: String) {
        guard let mode = PaddingMode.allCases.first(where: { $0.pytorchName == name }) else { return nil }
        self = mode
    }
}
