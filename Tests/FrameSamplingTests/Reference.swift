import FrameSampling

/// A double-precision reference sampler written straight from DESIGN.md §2, pixel by pixel, with
/// no composed matrices: output pixel → output canvas normalised → θ → input canvas normalised →
/// input plane pixel → the paper's 4-tap kernel with the padding rule.
struct ReferenceSampler {
    var inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int
    var canvas: Canvas
    var padding: PaddingMode
    var range: ColorRange

    /// The real (unrounded) value of output sample (i, j) of `plane` (0 = Y, 1 = U, 2 = V).
    func value(_ theta: [Double], input: TestFrame, plane: Int, i: Int, j: Int) -> Double {
        value(theta, input: input, plane: plane, i: i, j: j).value
    }

    /// The real value, and whether the point lies on the horizon of a projective θ (|w| < 1e-9),
    /// where rounding decides between "w ≤ 0: black" and a finite point far away.
    func value(_ theta: [Double], input: TestFrame, plane: Int, i: Int, j: Int) -> (value: Double, onHorizon: Bool) {
        let f = plane == 0 ? 1.0 : 2.0
        let black = Double(plane == 0 ? range.blackLuma : range.blackChroma)

        // Output pixel centre in luma units of the output frame; luma pixel i → i + ½, chroma → 2i + 1.
        let u = f * (Double(i) + 0.5), v = f * (Double(j) + 0.5)
        let outSquare = Double(max(outputWidth, outputHeight))
        let outCanvasW = canvas == .square ? outSquare : Double(outputWidth)
        let outCanvasH = canvas == .square ? outSquare : Double(outputHeight)
        // Position on the output canvas (frame centred in it), then normalised, align_corners = false:
        // luma pixel k of a canvas of N has centre (2k + 1)/N − 1 = 2(k + ½)/N − 1.
        let canvasU = u + (outCanvasW - Double(outputWidth)) / 2
        let canvasV = v + (outCanvasH - Double(outputHeight)) / 2
        let xt = 2 * canvasU / outCanvasW - 1
        let yt = 2 * canvasV / outCanvasH - 1

        // θ: target → source, homogeneous.
        let xh = theta[0] * xt + theta[1] * yt + theta[2]
        let yh = theta[3] * xt + theta[4] * yt + theta[5]
        let w = theta[6] * xt + theta[7] * yt + theta[8]
        if !(w > 0) { return (black, abs(w) < 1e-9) }
        let xs = xh / w, ys = yh / w

        // Input canvas normalised → luma units of the input frame → plane pixel coordinates.
        let inSquare = Double(max(inputWidth, inputHeight))
        let inCanvasW = canvas == .square ? inSquare : Double(inputWidth)
        let inCanvasH = canvas == .square ? inSquare : Double(inputHeight)
        let inU = (xs + 1) / 2 * inCanvasW - (inCanvasW - Double(inputWidth)) / 2
        let inV = (ys + 1) / 2 * inCanvasH - (inCanvasH - Double(inputHeight)) / 2
        var px = inU / f - 0.5, py = inV / f - 0.5

        let planeWidth = plane == 0 ? inputWidth : (inputWidth + 1) / 2
        let planeHeight = plane == 0 ? inputHeight : (inputHeight + 1) / 2
        if padding == .border {
            // PyTorch padding_mode="border": clip the coordinate to [0, N − 1].
            px = min(max(px, 0), Double(planeWidth - 1))
            py = min(max(py, 0), Double(planeHeight - 1))
        }
        let x0 = Int(px.rounded(.down)), y0 = Int(py.rounded(.down))
        var total = 0.0
        for n in y0...(y0 + 1) {
            for m in x0...(x0 + 1) {
                let weight = max(0, 1 - abs(px - Double(m))) * max(0, 1 - abs(py - Double(n)))
                let inside = m >= 0 && m < planeWidth && n >= 0 && n < planeHeight
                let tap: Double
                if inside {
                    tap = Double(input[plane, m, n])
                } else {
                    // black: the tap reads black; border: only zero-weight taps can be outside.
                    tap = padding == .black ? black : 0
                }
                total += weight * tap
            }
        }
        return (total, abs(w) < 1e-9)
    }
}
