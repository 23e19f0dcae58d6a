/// How a `Conv2d` computes its inference forward pass (`training: false`); training always
/// lowers to im2col + GEMM, whose backward pass the layer has.
///
/// The choice is made once per layer shape, when the layer is made (`choice(...)`), by a rule
/// from per-shape timings of `stn-bench model` (it times every kernel of every convolution of a
/// model's nets at batch 1 and 8); every kernel is deterministic, and the choice never depends on
/// the machine's load.
public enum ConvolutionKernel: String, Sendable, CaseIterable, CustomStringConvertible {
    /// im2col (or its wide-row variant) + `cblas_sgemm`: any shape.
    case gemm
    /// Winograd F(2×2, 3×3): 3×3, stride 1, padding 1, even sides, at least 16 columns.
    case winograd

    public var description: String { rawValue }

    /// The kernel for a shape: Winograd where it applies and the layer has at least 16 input
    /// channels, else im2col + GEMM. Measured (`stn-bench model --calls 400`, AMD EPYC, batch 1
    /// and 8 alike): Winograd 0.28 against 0.33 ms at 16×48×48 → 32, 0.135 against 0.18 ms at
    /// 32×24×24 → 32, even at 16×16×16 → 32; but 0.030 against 0.010 ms at 1×32×32 → 16, where
    /// its 16 GEMMs have a depth of one input channel.
    static func choice(
        inputChannels: Int, inputHeight: Int, inputWidth: Int, kernelSize: Int, stride: Int, padding: Int
    ) -> ConvolutionKernel {
        if inputChannels >= 16
            && supportsWinograd(
                inputHeight: inputHeight, inputWidth: inputWidth, kernelSize: kernelSize, stride: stride,
                padding: padding)
        {
            return .winograd
        }
        return .gemm
    }

    static func supportsWinograd(inputHeight: Int, inputWidth: Int, kernelSize: Int, stride: Int, padding: Int)
        -> Bool
    {
        kernelSize == 3 && stride == 1 && padding == 1 && inputHeight % 2 == 0 && inputWidth % 2 == 0
            && inputWidth >= 16
    }

    /// Whether this kernel can compute a layer of the shape.
    public func supports(inputHeight: Int, inputWidth: Int, kernelSize: Int, stride: Int, padding: Int) -> Bool {
        switch self {
        case .gemm: true
        case .winograd:
            Self.supportsWinograd(
                inputHeight: inputHeight, inputWidth: inputWidth, kernelSize: kernelSize, stride: stride,
                padding: padding)
        }
    }
}
