import COpenBLAS

/// 2-D convolution (cross-correlation, as `nn.Conv2d`), square kernel, stride, zero padding.
///
/// Lowered to one GEMM per batch: `im2col` lays every receptive field of every image out
/// as a column of `columns` `[K, N·P]` (K = Cin·k·k, P = Hout·Wout), then
/// `[Cout, K] × [K, N·P]` runs in one `cblas_sgemm` — a single large GEMM keeps OpenBLAS
/// near its peak where N small per-image products would not. The columns are kept for
/// the weight gradient.
public final class Conv2d: Layer {
    public let inputChannels, outputChannels, kernelSize, stride, padding: Int
    public let inputHeight, inputWidth, outputHeight, outputWidth: Int
    public let weight: Parameter  // [Cout, Cin, k, k]
    public let bias: Parameter    // [Cout]
    public var inputShape: [Int] { [inputChannels, inputHeight, inputWidth] }
    public var outputShape: [Int] { [outputChannels, outputHeight, outputWidth] }

    private let columns = FloatBuffer()      // [K, N·P]
    private let product = FloatBuffer()      // [Cout, N·P]
    private let output = FloatBuffer()       // [N, Cout, P]
    private let gradColumns = FloatBuffer()  // [K, N·P]
    private let gradInput = FloatBuffer()    // [N, Cin, H, W]
    private var lastInput: UnsafePointer<Float>?

    public init(inputShape: [Int], outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                group: ParameterGroup, initialisation: Initialisation = .pytorchDefault, random: inout RandomSource) {
        precondition(inputShape.count == 3 && kernelSize > 0 && stride > 0 && padding >= 0)
        inputChannels = inputShape[0]; inputHeight = inputShape[1]; inputWidth = inputShape[2]
        self.outputChannels = outputChannels; self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        outputHeight = (inputHeight + 2 * padding - kernelSize) / stride + 1
        outputWidth = (inputWidth + 2 * padding - kernelSize) / stride + 1
        precondition(outputHeight > 0 && outputWidth > 0, "kernel larger than padded input")
        weight = Parameter(shape: [outputChannels, inputChannels, kernelSize, kernelSize], group: group)
        bias = Parameter(shape: [outputChannels], group: group)
        initialisation.initialise(weight: weight.value, bias: bias.value,
                                  fanIn: inputChannels * kernelSize * kernelSize, random: &random)
    }

    public func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] {
        [(joinName(prefix, "weight"), weight), (joinName(prefix, "bias"), bias)]
    }

    private var patchSize: Int { inputChannels * kernelSize * kernelSize }
    private var planeSize: Int { outputHeight * outputWidth }

    // x: [N, Cin, H, W] -> y: [N, Cout, Hout, Wout]
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        lastInput = input
        let k = patchSize, p = planeSize, columnCount = batch * p
        let cols = columns.reserve(k * columnCount)
        for n in 0..<batch { im2col(input + n * inputChannels * inputHeight * inputWidth, columns: cols + n * p, leading: columnCount) }
        let prod = product.reserve(outputChannels * columnCount)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputChannels), Int32(columnCount), Int32(k),
                    1, weight.value.data, Int32(k), cols, Int32(columnCount), 0, prod, Int32(columnCount))
        // [Cout, N, P] -> [N, Cout, P], adding the bias on the way.
        let out = output.reserve(batch * outputChannels * p)
        let b = bias.value.data
        for n in 0..<batch {
            for c in 0..<outputChannels {
                let src = prod + c * columnCount + n * p, dst = out + (n * outputChannels + c) * p, bc = b[c]
                for i in 0..<p { dst[i] = src[i] + bc }
            }
        }
        return UnsafePointer(out)
    }

    // dy: [N, Cout, Hout, Wout] -> dx: [N, Cin, H, W]; dW += dyᵀ-columns product, db += Σ dy
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        precondition(lastInput != nil, "Conv2d.backward before forward")
        let k = patchSize, p = planeSize, columnCount = batch * p
        // [N, Cout, P] -> [Cout, N, P] (reuses the forward product buffer), Σ for the bias.
        let dy = product.reserve(outputChannels * columnCount)
        let db = bias.gradient.data
        for n in 0..<batch {
            for c in 0..<outputChannels {
                let src = gradOutput + (n * outputChannels + c) * p, dst = dy + c * columnCount + n * p
                var sum: Float = 0
                for i in 0..<p { let v = src[i]; dst[i] = v; sum += v }
                db[c] += sum
            }
        }
        let cols = columns.pointer
        // dW[Cout, K] += dy[Cout, N·P] × columnsᵀ[N·P, K]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outputChannels), Int32(k), Int32(columnCount),
                    1, dy, Int32(columnCount), cols, Int32(columnCount), 1, weight.gradient.data, Int32(k))
        guard inputGradient else { return nil }
        // dColumns[K, N·P] = Wᵀ[K, Cout] × dy[Cout, N·P], then scatter back (col2im).
        let dcols = gradColumns.reserve(k * columnCount)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(columnCount), Int32(outputChannels),
                    1, weight.value.data, Int32(k), dy, Int32(columnCount), 0, dcols, Int32(columnCount))
        let imageSize = inputChannels * inputHeight * inputWidth
        let dx = gradInput.reserve(batch * imageSize)
        dx.update(repeating: 0, count: batch * imageSize)
        for n in 0..<batch { col2im(dcols + n * p, leading: columnCount, into: dx + n * imageSize) }
        return UnsafePointer(dx)
    }

    /// columns[(c·k + ki)·k + kj][oy·Wout + ox] = x[c][oy·s − pad + ki][ox·s − pad + kj] (0 outside).
    private func im2col(_ x: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>, leading: Int) {
        let k = kernelSize, s = stride, pad = padding
        let h = inputHeight, w = inputWidth, oh = outputHeight, ow = outputWidth
        var row = 0
        for c in 0..<inputChannels {
            let plane = x + c * h * w
            for ki in 0..<k {
                for kj in 0..<k {
                    let dst = columns + row * leading
                    row += 1
                    // Output columns whose input column ox·s − pad + kj lies inside [0, w).
                    let oxLow = kj >= pad ? 0 : (pad - kj + s - 1) / s
                    let limit = w - 1 + pad - kj  // largest ox·s allowed
                    let oxHigh = limit < 0 ? 0 : min(ow, limit / s + 1)  // exclusive
                    for oy in 0..<oh {
                        let iy = oy * s - pad + ki
                        let d = dst + oy * ow
                        if iy < 0 || iy >= h || oxLow >= oxHigh {
                            d.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * w - pad + kj
                        if oxLow > 0 { d.update(repeating: 0, count: oxLow) }
                        if s == 1 {
                            (d + oxLow).update(from: src + oxLow, count: oxHigh - oxLow)
                        } else {
                            for ox in oxLow..<oxHigh { d[ox] = src[ox * s] }
                        }
                        if oxHigh < ow { (d + oxHigh).update(repeating: 0, count: ow - oxHigh) }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: dx[c][iy][ix] += Σ dColumns over every window that read it.
    private func col2im(_ columns: UnsafePointer<Float>, leading: Int, into dx: UnsafeMutablePointer<Float>) {
        let k = kernelSize, s = stride, pad = padding
        let h = inputHeight, w = inputWidth, oh = outputHeight, ow = outputWidth
        var row = 0
        for c in 0..<inputChannels {
            let plane = dx + c * h * w
            for ki in 0..<k {
                for kj in 0..<k {
                    let src = columns + row * leading
                    row += 1
                    let oxLow = kj >= pad ? 0 : (pad - kj + s - 1) / s
                    let limit = w - 1 + pad - kj
                    let oxHigh = limit < 0 ? 0 : min(ow, limit / s + 1)
                    if oxLow >= oxHigh { continue }
                    for oy in 0..<oh {
                        let iy = oy * s - pad + ki
                        if iy < 0 || iy >= h { continue }
                        let d = plane + iy * w - pad + kj, srow = src + oy * ow
                        if s == 1 {
                            for ox in oxLow..<oxHigh { d[ox] += srow[ox] }
                        } else {
                            for ox in oxLow..<oxHigh { d[ox * s] += srow[ox] }
                        }
                    }
                }
            }
        }
    }
}
