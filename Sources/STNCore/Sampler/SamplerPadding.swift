/// What the sampler reads where a bilinear tap falls outside the input (DESIGN.md §2).
public enum SamplerPadding: String, CaseIterable, Sendable {
    /// Taps outside the input read 0 (PyTorch `padding_mode="zeros"`).
    case zeros
    /// The source coordinate is clamped to the edge pixel centres before interpolation;
    /// a clamped coordinate gets no gradient (PyTorch `padding_mode="border"`).
    case border
}
