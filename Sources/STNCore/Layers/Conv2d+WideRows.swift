import COpenBLAS

/// Stride-1, unpadded convolution without per-row im2col ("wide rows").
///
/// Output rows are computed at the input's full width W instead of Wout: position
/// q = oy·W + ox of a wide row reads x[c][q + ki·W + kj] for every (c, ki, kj), so the
/// column matrix of a block of rows is, row by row, *one contiguous run* of the input
/// plane — K memcpy-sized copies per block instead of K·rows copies of Wout floats, which
/// made im2col a third of the training time. The k − 1 extra columns per row
/// (ox ≥ Wout, reading wrapped-around pixels) are computed and dropped; their gradient is
/// zero by construction (dy is zero-extended), so dW and dx are exact. Runs that would
/// read past the plane's end are clipped and zero-filled. A padded layer reads a zero-padded
/// copy of its input (W and H grown by 2·pad) and crops its input gradient back: one copy of
/// the input instead of K·rows short, partly zero-filled copies per block (im2col).
extension Conv2d {
    /// Width and height of the planes the wide rows read: the input's, padded.
    var wideWidth: Int { inputWidth + 2 * padding }
    var wideHeight: Int { inputHeight + 2 * padding }
    var wideImageSize: Int { inputChannels * wideWidth * wideHeight }

    /// The input with its zero border, or the input itself when the layer has no padding.
    private func paddedPlanes(_ input: UnsafePointer<Float>, batch: Int) -> UnsafePointer<Float> {
        guard padding > 0 else { return input }
        let padded = paddedInput.reserve(batch * wideImageSize)
        Self.pad(
            input, planes: batch * inputChannels, height: inputHeight, width: inputWidth, padding: padding,
            into: padded)
        return UnsafePointer(padded)
    }

    /// dst[plane] = src[plane] with a border of `padding` zeros on every side.
    static func pad(
        _ src: UnsafePointer<Float>, planes: Int, height: Int, width: Int, padding: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        let paddedWidth = width + 2 * padding, paddedPlane = (height + 2 * padding) * paddedWidth
        for plane in 0..<planes {
            let from = src + plane * height * width, to = dst + plane * paddedPlane
            to.update(repeating: 0, count: padding * paddedWidth + padding)
            for y in 0..<height {
                let row = to + (y + padding) * paddedWidth + padding
                copyRow(from + y * width, row, width)
                // The right border of this row and the left border of the next are contiguous.
                (row + width).update(repeating: 0, count: 2 * padding)
            }
            let end = to + (height + padding) * paddedWidth + padding
            end.update(repeating: 0, count: paddedPlane - (height + padding) * paddedWidth - padding)
        }
    }

    /// columns[r = (c·k + ki)·k + kj][q] = x[c][firstRow·W + q + ki·W + kj], q < rows·W.
    private func gatherWideRows(
        _ x: UnsafePointer<Float>, firstRow: Int, rows: Int, columns: UnsafeMutablePointer<Float>
    ) {
        let k = kernelSize, w = wideWidth, planeLength = wideHeight * wideWidth, width = rows * w,
            start = firstRow * w
        var row = 0
        for c in 0..<inputChannels {
            let plane = x + c * planeLength
            for ki in 0..<k {
                for kj in 0..<k {
                    let offset = start + ki * w + kj, dst = columns + row * width
                    let length = min(width, planeLength - offset)
                    dst.update(from: plane + offset, count: length)
                    if length < width { (dst + length).update(repeating: 0, count: width - length) }
                    row += 1
                }
            }
        }
    }

    /// dx[c][firstRow·W + q + ki·W + kj] += dColumns[r][q] (the adjoint of the gather).
    private func scatterWideRows(
        _ columns: UnsafePointer<Float>, firstRow: Int, rows: Int, into dx: UnsafeMutablePointer<Float>
    ) {
        let k = kernelSize, w = wideWidth, planeLength = wideHeight * wideWidth, width = rows * w,
            start = firstRow * w
        var row = 0
        for c in 0..<inputChannels {
            let plane = dx + c * planeLength
            for ki in 0..<k {
                for kj in 0..<k {
                    let offset = start + ki * w + kj
                    addRow(columns + row * width, plane + offset, min(width, planeLength - offset))
                    row += 1
                }
            }
        }
    }

    // x: [N, Cin, H, W] -> y: [N, Cout, Hout, Wout]; per block: wide[Cout, rows·W] = W × columns, then drop ox ≥ Wout
    func forwardWideRows(_ input: UnsafePointer<Float>, batch: Int) -> UnsafePointer<Float> {
        let k = patchSize, p = planeSize, w = wideWidth, ow = outputWidth, cout = outputChannels
        let source = paddedPlanes(input, batch: batch)
        let cols = columns.reserve(k * blockRows * w)
        let wide = gradColumns.reserve(max(cout, k) * blockRows * w)  // forward does not need gradColumns
        let out = output.reserve(batch * cout * p)
        let b = bias.value.data
        for n in 0..<batch {
            let y = out + n * cout * p
            var oy = 0
            while oy < outputHeight {
                let rows = min(blockRows, outputHeight - oy), width = rows * w
                gatherWideRows(source + n * wideImageSize, firstRow: oy, rows: rows, columns: cols)
                // β = 1 onto zeros (memset) rather than β = 0: OpenBLAS's β pass zeroes C a float at a time.
                wide.update(repeating: 0, count: cout * width)
                stn_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(cout), Int32(width), Int32(k),
                    1, weight.value.data, Int32(k), cols, Int32(width), 1, wide, Int32(width))
                for c in 0..<cout {
                    let bc = b[c]
                    for r in 0..<rows {
                        let src = wide + c * width + r * w, dst = y + c * p + (oy + r) * ow
                        for ox in 0..<ow { dst[ox] = src[ox] + bc }
                    }
                }
                oy += rows
            }
        }
        return UnsafePointer(out)
    }

    // dy -> dx; per block: dyWide[Cout, rows·W] (zero for ox ≥ Wout),
    //   dWᵀ[K, Cout] += columns × dyWideᵀ;  dColumns = Wᵀ × dyWide, scattered back
    func backwardWideRows(
        _ gradOutput: UnsafePointer<Float>, input: UnsafePointer<Float>, batch: Int,
        inputGradient: Bool
    ) -> UnsafePointer<Float>? {
        let k = patchSize, p = planeSize, w = wideWidth, ow = outputWidth, cout = outputChannels
        let source = paddedPlanes(input, batch: batch)
        let db = bias.gradient.data
        for n in 0..<batch {
            for c in 0..<cout {
                let g = gradOutput + (n * cout + c) * p
                var sum: Float = 0
                for i in 0..<p { sum += g[i] }
                db[c] += sum
            }
        }
        let blockWidth = blockRows * w
        // One scratch buffer holds the columns, the dColumns and the widened dy, one after the other.
        let scratch = columns.reserve((2 * k + cout) * blockWidth)
        let cols = scratch, dcols = scratch + k * blockWidth, dyWide = scratch + 2 * k * blockWidth
        let dwt = gradWeightT.reserve(k * cout)
        for i in 0..<(k * cout) { dwt[i] = 0 }
        let dx = inputGradient ? gradInput.reserve(batch * imageSize) : nil
        // A padded layer scatters into a padded image, cropped into dx after its last block.
        let wideDx = padding > 0 && inputGradient ? paddedGradient.reserve(wideImageSize) : nil
        for n in 0..<batch {
            let dy = gradOutput + n * cout * p
            let scatterTarget = wideDx ?? dx.map { $0 + n * imageSize }
            scatterTarget?.update(repeating: 0, count: wideImageSize)
            var oy = 0
            while oy < outputHeight {
                let rows = min(blockRows, outputHeight - oy), width = rows * w
                for c in 0..<cout {
                    for r in 0..<rows {
                        let src = dy + c * p + (oy + r) * ow, dst = dyWide + c * width + r * w
                        for ox in 0..<ow { dst[ox] = src[ox] }
                        for ox in ow..<w { dst[ox] = 0 }
                    }
                }
                gatherWideRows(source + n * wideImageSize, firstRow: oy, rows: rows, columns: cols)
                stn_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(k), Int32(cout), Int32(width),
                    1, cols, Int32(width), dyWide, Int32(width), 1, dwt, Int32(cout))
                if dx != nil {
                    dcols.update(repeating: 0, count: k * width)  // β = 1 onto zeros, as in forward
                    stn_sgemm(
                        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(width), Int32(cout),
                        1, weight.value.data, Int32(k), dyWide, Int32(width), 1, dcols, Int32(width))
                    scatterWideRows(dcols, firstRow: oy, rows: rows, into: scatterTarget!)
                }
                oy += rows
            }
            if let dx, let wideDx {
                let dxn = dx + n * imageSize
                for c in 0..<inputChannels {
                    for y in 0..<inputHeight {
                        copyRow(
                            wideDx + (c * wideHeight + y + padding) * w + padding,
                            dxn + (c * inputHeight + y) * inputWidth, inputWidth)
                    }
                }
            }
        }
        let dw = weight.gradient.data
        for c in 0..<cout { for r in 0..<k { dw[c * k + r] += dwt[r * cout + c] } }
        return dx.map { UnsafePointer($0) }
    }
}
