/// How a `Conv2d` computes its inference forward pass (`training: false`); training always
/// lowers to im2col + GEMM, whose backward pass the layer has.
///
/// The choice is made once per layer shape, when the layer is made (`choice(...)`), from
/// per-shape timings of `stn-bench model` on the bundled model's layers at batch 1 and 8; every
/// kernel is deterministic, so the choice never depends on the machine's load.
public enum ConvolutionKernel: String, Sendable, CaseIterable, CustomStringConvertible {
    /// im2col (or its wide-row variant) + `cblas_sgemm`: any shape.
    case gemm
    /// Winograd F(2×2, 3×3): 3×3, stride 1, padding 1, even sides, at least 16 columns.
    case winograd

    public var description: String { rawValue }

    /// The kernel for a shape: Winograd wherever it applies, else im2col + GEMM.
    static func choice(
        inputChannels: Int, inputHeight: Int, inputWidth: Int, kernelSize: Int, stride: Int, padding: Int
    ) -> ConvolutionKernel {
        if supportsWinograd(
            inputHeight: inputHeight, inputWidth: inputWidth, kernelSize: kernelSize, stride: stride, padding: padding)
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
    func supports(inputHeight: Int, inputWidth: Int, kernelSize: Int, stride: Int, padding: Int) -> Bool {
        switch self {
        case .gemm: true
        case .winograd:
            Self.supportsWinograd(
                inputHeight: inputHeight, inputWidth: inputWidth, kernelSize: kernelSize, stride: stride,
                padding: padding)
        }
    }
}
