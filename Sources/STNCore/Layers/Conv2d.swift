import COpenBLAS

/// 2-D convolution (cross-correlation, as `nn.Conv2d`), square kernel, stride, zero padding.
///
/// Lowered to GEMM one block of output rows at a time: `im2col` lays the receptive fields
/// of output rows [oy₀, oy₁) of image n out as the columns of `columns` `[K, B]`
/// (K = Cin·k·k, B = rows·Wout), then `W[Cout, K] × columns[K, B]` (`cblas_sgemm`) writes
/// those columns of y_n `[Cout, P]` in place (ldc = P). Blocks are sized to keep the
/// columns near 128 KB, so im2col, the GEMM and col2im work in cache; whole-image or
/// whole-batch column matrices (0.5–40 MB) made those passes memory-bound. Backward
/// recomputes each block's columns instead of storing the batch's, and accumulates
/// dWᵀ = columns × dyᵀ (`[K, Cout]`, the faster GEMM shape for tall thin K) before adding it
/// to dW once.
public final class Conv2d: Layer {
    public let inputChannels, outputChannels, kernelSize, stride, padding: Int
    public let inputHeight, inputWidth, outputHeight, outputWidth: Int
    public let weight: Parameter  // [Cout, Cin, k, k]
    public let bias: Parameter  // [Cout]
    public var inputShape: [Int] { [inputChannels, inputHeight, inputWidth] }
    public var outputShape: [Int] { [outputChannels, outputHeight, outputWidth] }
    /// Output rows per block.
    let blockRows: Int
    /// Stride 1 takes the wide-row path (Conv2d+WideRows.swift), on a zero-padded copy of the input when padded.
    let usesWideRows: Bool
    /// The inference forward pass's kernel (ConvolutionKernel.swift), chosen for the shape when
    /// the layer is made; tests and `stn-bench model --kernels` set it to compare kernels.
    public var inferenceKernel: ConvolutionKernel {
        didSet {
            precondition(
                inferenceKernel.supports(
                    inputHeight: inputHeight, inputWidth: inputWidth, kernelSize: kernelSize, stride: stride,
                    padding: padding), "\(inferenceKernel) cannot compute this convolution")
        }
    }

    let columns = FloatBuffer()  // [K, B]
    let gradColumns = FloatBuffer()  // [K, B]
    let gradWeightT = FloatBuffer()  // [K, Cout]
    let output = FloatBuffer()  // [N, Cout, P]
    let gradInput = FloatBuffer()  // [N, Cin, H, W]
    let paddedInput = FloatBuffer()  // [N, Cin, H + 2·pad, W + 2·pad] (wide rows of a padded layer)
    let paddedGradient = FloatBuffer()  // [Cin, H + 2·pad, W + 2·pad]
    var lastInput: UnsafePointer<Float>?
    // Winograd inference (Conv2d+Winograd.swift): transformed weights and the weights they came from.
    let winogradTransformedWeights = FloatBuffer()  // [16, Cout, Cin]
    let winogradWeightSnapshot = FloatBuffer()  // [Cout, Cin, 3, 3]
    var winogradWeightsValid = false
    let winogradPadded = FloatBuffer()  // [N, Cin, H + 2, W + 2]
    let winogradTransformed = FloatBuffer()  // [16, Cin, T]
    let winogradProducts = FloatBuffer()  // [16, Cout, T]

    public init(
        inputShape: [Int], outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        group: ParameterGroup, initialisation: Initialisation = .pytorchDefault, random: inout RandomSource
    ) {
        precondition(inputShape.count == 3 && kernelSize > 0 && stride > 0 && padding >= 0)
        inputChannels = inputShape[0]; inputHeight = inputShape[1]; inputWidth = inputShape[2]
        self.outputChannels = outputChannels; self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        outputHeight = (inputHeight + 2 * padding - kernelSize) / stride + 1
        outputWidth = (inputWidth + 2 * padding - kernelSize) / stride + 1
        precondition(outputHeight > 0 && outputWidth > 0, "kernel larger than padded input")
        usesWideRows = stride == 1
        inferenceKernel = ConvolutionKernel.choice(
            inputChannels: inputChannels, inputHeight: inputHeight, inputWidth: inputWidth, kernelSize: kernelSize,
            stride: stride, padding: padding)
        let rowWidth = usesWideRows ? inputWidth + 2 * padding : outputWidth
        blockRows = max(1, min(outputHeight, 32_768 / (inputChannels * kernelSize * kernelSize * rowWidth)))
        weight = Parameter(shape: [outputChannels, inputChannels, kernelSize, kernelSize], group: group)
        bias = Parameter(shape: [outputChannels], group: group)
        initialisation.initialise(
            weight: weight.value, bias: bias.value,
            fanIn: inputChannels * kernelSize * kernelSize, random: &random)
    }

    public func namedParameters(prefix: String) -> [(name: String, parameter: Parameter)] {
        [(joinName(prefix, "weight"), weight), (joinName(prefix, "bias"), bias)]
    }

    var patchSize: Int { inputChannels * kernelSize * kernelSize }
    var planeSize: Int { outputHeight * outputWidth }
    var imageSize: Int { inputChannels * inputHeight * inputWidth }

    // x: [N, Cin, H, W] -> y: [N, Cout, Hout, Wout];  y_n[:, block] = W[Cout, K] × columns[K, B] + b
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool) -> UnsafePointer<Float> {
        lastInput = input
        if !training && inferenceKernel == .winograd { return forwardWinograd(input, batch: batch) }
        if usesWideRows { return forwardWideRows(input, batch: batch) }
        let k = patchSize, p = planeSize, ow = outputWidth
        let cols = columns.reserve(k * blockRows * ow)
        let out = output.reserve(batch * outputChannels * p)
        let b = bias.value.data
        for n in 0..<batch {
            let y = out + n * outputChannels * p
            for c in 0..<outputChannels {
                let row = y + c * p, value = b[c]
                for i in 0..<p { row[i] = value }
            }
            var oy = 0
            while oy < outputHeight {
                let rows = min(blockRows, outputHeight - oy), width = rows * ow
                im2col(input + n * imageSize, firstRow: oy, rows: rows, columns: cols)
                stn_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputChannels), Int32(width), Int32(k),
                    1, weight.value.data, Int32(k), cols, Int32(width), 1, y + oy * ow, Int32(p))
                oy += rows
            }
        }
        return UnsafePointer(out)
    }

    // dy: [N, Cout, Hout, Wout] -> dx: [N, Cin, H, W]
    //   dWᵀ[K, Cout] += columns[K, B] × dy[:, block]ᵀ;  db += Σ dy
    //   dColumns[K, B] = Wᵀ[K, Cout] × dy[:, block], scattered back by col2im
    public func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, inputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input = lastInput else { preconditionFailure("Conv2d.backward before forward") }
        if usesWideRows {
            return backwardWideRows(gradOutput, input: input, batch: batch, inputGradient: inputGradient)
        }
        let k = patchSize, p = planeSize, ow = outputWidth, cout = outputChannels
        let db = bias.gradient.data
        for n in 0..<batch {
            for c in 0..<cout {
                let g = gradOutput + (n * cout + c) * p
                var sum: Float = 0
                for i in 0..<p { sum += g[i] }
                db[c] += sum
            }
        }
        let cols = columns.reserve(k * blockRows * ow)
        let dcols = inputGradient ? gradColumns.reserve(k * blockRows * ow) : cols
        let dwt = gradWeightT.reserve(k * cout)
        for i in 0..<(k * cout) { dwt[i] = 0 }
        let dx = inputGradient ? gradInput.reserve(batch * imageSize) : nil
        for n in 0..<batch {
            let dy = gradOutput + n * cout * p
            if let dx { let dxn = dx + n * imageSize; for i in 0..<imageSize { dxn[i] = 0 } }
            var oy = 0
            while oy < outputHeight {
                let rows = min(blockRows, outputHeight - oy), width = rows * ow
                im2col(input + n * imageSize, firstRow: oy, rows: rows, columns: cols)
                stn_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(k), Int32(cout), Int32(width),
                    1, cols, Int32(width), dy + oy * ow, Int32(p), 1, dwt, Int32(cout))
                if let dx {
                    // β = 1 onto zeros (memset) rather than β = 0: OpenBLAS's β pass zeroes C a float at a time.
                    dcols.update(repeating: 0, count: k * width)
                    stn_sgemm(
                        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(width), Int32(cout),
                        1, weight.value.data, Int32(k), dy + oy * ow, Int32(p), 1, dcols, Int32(width))
                    col2im(dcols, firstRow: oy, rows: rows, into: dx + n * imageSize)
                }
                oy += rows
            }
        }
        let dw = weight.gradient.data
        for c in 0..<cout { for r in 0..<k { dw[c * k + r] += dwt[r * cout + c] } }
        return dx.map { UnsafePointer($0) }
    }

    /// columns[(c·k + ki)·k + kj][oy·Wout + ox] = x[c][oy·s − pad + ki][ox·s − pad + kj] (0 outside).
    private func im2col(_ x: UnsafePointer<Float>, firstRow: Int, rows: Int, columns: UnsafeMutablePointer<Float>) {
        let leading = rows * outputWidth
        let k = kernelSize, s = stride, pad = padding
        let h = inputHeight, w = inputWidth, ow = outputWidth
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
                    for oy in firstRow..<(firstRow + rows) {
                        let iy = oy * s - pad + ki
                        let d = dst + (oy - firstRow) * ow
                        if iy < 0 || iy >= h || oxLow >= oxHigh {
                            for ox in 0..<ow { d[ox] = 0 }
                            continue
                        }
                        let src = plane + iy * w - pad + kj
                        if s == 1 && oxLow == 0 && oxHigh == ow {
                            copyRow(src, d, ow)
                            continue
                        }
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
    private func col2im(_ columns: UnsafePointer<Float>, firstRow: Int, rows: Int, into dx: UnsafeMutablePointer<Float>)
    {
        let leading = rows * outputWidth
        let k = kernelSize, s = stride, pad = padding
        let h = inputHeight, w = inputWidth, ow = outputWidth
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
                    for oy in firstRow..<(firstRow + rows) {
                        let iy = oy * s - pad + ki
                        if iy < 0 || iy >= h { continue }
                        let d = plane + iy * w - pad + kj, srow = src + (oy - firstRow) * ow
                        if s == 1 {
                            addRow(srow + oxLow, d + oxLow, oxHigh - oxLow)
                        } else {
                            for ox in oxLow..<oxHigh { d[ox * s] += srow[ox] }
                        }
                    }
                }
            }
        }
    }
}

// Rows here are short (tens of floats), where memcpy calls and the vectoriser's
// alias-check preamble cost more than the copy: explicit 8-wide unaligned vectors instead.

/// dst[0..<count] = src[0..<count]; the tail is an overlapping last vector.
@inline(__always)
func copyRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    guard count >= 8 else {
        for i in 0..<count { dst[i] = src[i] }
        return
    }
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    var offset = 0
    let end = count * 4
    while offset + 32 <= end {
        d.storeBytes(
            of: s.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), toByteOffset: offset,
            as: SIMD8<Float>.self)
        offset += 32
    }
    if offset < end {
        d.storeBytes(
            of: s.loadUnaligned(fromByteOffset: end - 32, as: SIMD8<Float>.self), toByteOffset: end - 32,
            as: SIMD8<Float>.self)
    }
}

/// dst[0..<count] += src[0..<count].
@inline(__always)
func addRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    var i = 0
    while i + 8 <= count {
        let sum =
            d.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            + s.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        d.storeBytes(of: sum, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { dst[i] += src[i]; i += 1 }
}
