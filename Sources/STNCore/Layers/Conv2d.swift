import COpenBLAS

/// 2-D convolution (cross-correlation, as `nn.Conv2d`), square kernel, stride, zero padding.
///
/// Lowered to GEMM one image at a time: `im2col` lays every receptive field of image n out
/// as a column of `columns` `[K, P]` (K = Cin·k·k, P = Hout·Wout), then
/// `W[Cout, K] × columns[K, P]` (`cblas_sgemm`) writes y_n `[Cout, P]` in place. One image's
/// columns (≤ 1 MB for the tutorial nets) stay in cache between im2col, the GEMM and, in
/// backward, col2im; a whole-batch column matrix (tens of MB) made every pass memory-bound.
/// Backward recomputes each image's columns instead of keeping the batch's.
public final class Conv2d: Layer {
    public let inputChannels, outputChannels, kernelSize, stride, padding: Int
    public let inputHeight, inputWidth, outputHeight, outputWidth: Int
    public let weight: Parameter  // [Cout, Cin, k, k]
    public let bias: Parameter    // [Cout]
    public var inputShape: [Int] { [inputChannels, inputHeight, inputWidth] }
    public var outputShape: [Int] { [outputChannels, outputHeight, outputWidth] }

    private let columns = FloatBuffer()      // [K, P], one image
    private let gradColumns = FloatBuffer()  // [K, P], one image
    private let output = FloatBuffer()       // [N, Cout, P]
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
    private var imageSize: Int { inputChannels * inputHeight * inputWidth }

    // x: [N, Cin, H, W] -> y: [N, Cout, Hout, Wout];  y_n = W[Cout, K] × columns_n[K, P] + b
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        lastInput = input
        let k = patchSize, p = planeSize
        let cols = columns.reserve(k * p)
        let out = output.reserve(batch * outputChannels * p)
        let b = bias.value.data
        for n in 0..<batch {
            im2col(input + n * imageSize, columns: cols)
            let y = out + n * outputChannels * p
            for c in 0..<outputChannels { (y + c * p).update(repeating: b[c], count: p) }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputChannels), Int32(p), Int32(k),
                        1, weight.value.data, Int32(k), cols, Int32(p), 1, y, Int32(p))
        }
        return UnsafePointer(out)
    }

    // dy: [N, Cout, Hout, Wout] -> dx: [N, Cin, H, W]
    //   dW[Cout, K] += Σₙ dy_n[Cout, P] × columns_nᵀ[P, K];  db += Σ dy
    //   dColumns_n[K, P] = Wᵀ[K, Cout] × dy_n[Cout, P], scattered back by col2im
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input = lastInput else { preconditionFailure("Conv2d.backward before forward") }
        let k = patchSize, p = planeSize
        let db = bias.gradient.data
        for n in 0..<batch {
            for c in 0..<outputChannels {
                let g = gradOutput + (n * outputChannels + c) * p
                var sum: Float = 0
                for i in 0..<p { sum += g[i] }
                db[c] += sum
            }
        }
        let cols = columns.reserve(k * p)
        let dcols = inputGradient ? gradColumns.reserve(k * p) : cols
        let dx = inputGradient ? gradInput.reserve(batch * imageSize) : nil
        for n in 0..<batch {
            let dy = gradOutput + n * outputChannels * p
            im2col(input + n * imageSize, columns: cols)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outputChannels), Int32(k), Int32(p),
                        1, dy, Int32(p), cols, Int32(p), 1, weight.gradient.data, Int32(k))
            if let dx {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(p), Int32(outputChannels),
                            1, weight.value.data, Int32(k), dy, Int32(p), 0, dcols, Int32(p))
                let dxn = dx + n * imageSize
                dxn.update(repeating: 0, count: imageSize)
                col2im(dcols, into: dxn)
            }
        }
        return dx.map { UnsafePointer($0) }
    }

    /// columns[(c·k + ki)·k + kj][oy·Wout + ox] = x[c][oy·s − pad + ki][ox·s − pad + kj] (0 outside).
    private func im2col(_ x: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>) {
        let leading = planeSize
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
                            for ox in 0..<ow { d[ox] = 0 }
                            continue
                        }
                        let src = plane + iy * w - pad + kj
                        // Short rows (tens of floats): plain loops beat memcpy/memset calls.
                        for ox in 0..<oxLow { d[ox] = 0 }
                        if s == 1 {
                            for ox in oxLow..<oxHigh { d[ox] = src[ox] }
                        } else {
                            for ox in oxLow..<oxHigh { d[ox] = src[ox * s] }
                        }
                        for ox in oxHigh..<ow { d[ox] = 0 }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: dx[c][iy][ix] += Σ dColumns over every window that read it.
    private func col2im(_ columns: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let leading = planeSize
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
