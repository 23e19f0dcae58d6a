/// The differentiable bilinear sampler of a spatial transformer (Jaderberg et al. 2015, Section 3.3).
///
/// V_i^c = Σ_n Σ_m U_nm^c · max(0, 1 − |x_i − m|) · max(0, 1 − |y_i − n|), with (x_i, y_i) the
/// grid's normalised source coordinates unnormalised to pixels with `align_corners = false`:
/// x = ((x_s + 1)·W − 1)/2. Equals `torch.nn.functional.grid_sample(input, grid, mode="bilinear",
/// padding_mode=zeros|border, align_corners=False)`, following PyTorch's CPU kernel
/// (`aten/src/ATen/native/cpu/GridSamplerKernel.cpp`) term for term.
///
/// Non-finite or huge coordinates never trap: with `.zeros` they read 0 and get no gradient,
/// with `.border` NaN is treated as clamped to the first pixel.
public enum BilinearSampler {
    // input [N, C, Hi, Wi], grid [N, Ho, Wo, 2] -> output [N, C, Ho, Wo] (written)
    public static func forward(
        input: UnsafePointer<Float>, batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
        grid: UnsafePointer<Float>, outputHeight: Int, outputWidth: Int,
        padding: SamplerPadding, output: UnsafeMutablePointer<Float>
    ) {
        let inputPlane = inputHeight * inputWidth, outputPlane = outputHeight * outputWidth
        let input = SpatialSendablePointer(input), grid = SpatialSendablePointer(grid)
        let output = SpatialSendableMutablePointer(output)
        let geometry = SamplerGeometry(inputHeight: inputHeight, inputWidth: inputWidth, padding: padding)
        SpatialParallel.forEachItem(batch: batch, workPerItem: (16 + 8 * channels) * outputPlane) { item in
            let itemInput = input.pointer + channels * inputPlane * item
            let itemOutput = output.pointer + channels * outputPlane * item
            var g = grid.pointer + 2 * outputPlane * item
            for p in 0..<outputPlane {
                defer { g += 2 }
                guard let t = geometry.taps(x: g[0], y: g[1]) else {
                    for c in 0..<channels { itemOutput[c * outputPlane + p] = 0 }
                    continue
                }
                var plane = itemInput
                for c in 0..<channels {
                    itemOutput[c * outputPlane + p] =
                        plane[t.offsetNW] * t.weightNW + plane[t.offsetNE] * t.weightNE
                        + plane[t.offsetSW] * t.weightSW + plane[t.offsetSE] * t.weightSE
                    plane += inputPlane
                }
            }
        }
    }

    // gradOutput [N, C, Ho, Wo]; gradInput [N, C, Hi, Wi] (+=); gradGrid [N, Ho, Wo, 2] (+=)
    //   ∂V/∂U_nm = tap weight (scattered to the four taps);
    //   ∂V/∂x = W/2 · Σ_c gOut·((U_ne − U_nw)·(1 − fy) + (U_se − U_sw)·fy), likewise for y,
    //   times 0 where border padding clamped the coordinate.
    /// The paper's gradients (Section 3.3): dV/dU into gradInput and dV/d(x_s, y_s) into gradGrid,
    /// both ACCUMULATED; either may be nil to skip it.
    public static func backward(
        input: UnsafePointer<Float>, batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
        grid: UnsafePointer<Float>, outputHeight: Int, outputWidth: Int, padding: SamplerPadding,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?, gradGrid: UnsafeMutablePointer<Float>?
    ) {
        if gradInput == nil && gradGrid == nil { return }
        let inputPlane = inputHeight * inputWidth, outputPlane = outputHeight * outputWidth
        let input = SpatialSendablePointer(input), grid = SpatialSendablePointer(grid)
        let gradOutput = SpatialSendablePointer(gradOutput)
        let gradInput = gradInput.map { SpatialSendableMutablePointer($0) }
        let gradGrid = gradGrid.map { SpatialSendableMutablePointer($0) }
        let geometry = SamplerGeometry(inputHeight: inputHeight, inputWidth: inputWidth, padding: padding)
        SpatialParallel.forEachItem(batch: batch, workPerItem: (16 + 20 * channels) * outputPlane) { item in
            let itemInput = input.pointer + channels * inputPlane * item
            let itemGradOutput = gradOutput.pointer + channels * outputPlane * item
            let itemGradInput = gradInput.map { $0.pointer + channels * inputPlane * item }
            let itemGradGrid = gradGrid.map { $0.pointer + 2 * outputPlane * item }
            var g = grid.pointer + 2 * outputPlane * item
            for p in 0..<outputPlane {
                defer { g += 2 }
                // Wholly outside (zeros padding): no tap, no gradient.
                guard let t = geometry.taps(x: g[0], y: g[1]) else { continue }
                if let gradInputPlane = itemGradInput {
                    // Masked taps have weight 0 and a safe offset, so adding to them is a no-op.
                    var plane = gradInputPlane
                    for c in 0..<channels {
                        let gOut = itemGradOutput[c * outputPlane + p]
                        plane[t.offsetNW] += t.weightNW * gOut
                        plane[t.offsetNE] += t.weightNE * gOut
                        plane[t.offsetSW] += t.weightSW * gOut
                        plane[t.offsetSE] += t.weightSE * gOut
                        plane += inputPlane
                    }
                }
                if let gradGridItem = itemGradGrid {
                    var gx: Float = 0, gy: Float = 0
                    var plane = itemInput
                    for c in 0..<channels {
                        let gOut = itemGradOutput[c * outputPlane + p]
                        let nw = plane[t.offsetNW] * t.maskNW, ne = plane[t.offsetNE] * t.maskNE
                        let sw = plane[t.offsetSW] * t.maskSW, se = plane[t.offsetSE] * t.maskSE
                        gx += ((ne - nw) * t.south + (se - sw) * t.north) * gOut
                        gy += ((sw - nw) * t.east + (se - ne) * t.west) * gOut
                        plane += inputPlane
                    }
                    gradGridItem[2 * p] += gx * t.multiplierX
                    gradGridItem[2 * p + 1] += gy * t.multiplierY
                }
            }
        }
    }
}

/// The four bilinear taps of one sampling point.
///
/// Offsets index one input plane; a tap outside the input has mask 0, weight 0 and offset 0.
struct BilinearTaps {
    var offsetNW: Int, offsetNE: Int, offsetSW: Int, offsetSE: Int
    var weightNW: Float, weightNE: Float, weightSW: Float, weightSE: Float
    var maskNW: Float, maskNE: Float, maskSW: Float, maskSE: Float
    /// Distances of the point from the west column and north row of taps (x − ⌊x⌋, y − ⌊y⌋),
    /// and their complements (PyTorch's `w, e, n, s`).
    var west: Float, east: Float, north: Float, south: Float
    /// ∂(pixel coordinate)/∂(normalised coordinate): W/2, or 0 where border padding clamped.
    var multiplierX: Float, multiplierY: Float
}

/// What depends only on the input size and padding, computed once per call.
struct SamplerGeometry {
    let width: Int, height: Int
    let floatWidth: Float, floatHeight: Float
    let halfWidth: Float, halfHeight: Float
    let padding: SamplerPadding

    init(inputHeight: Int, inputWidth: Int, padding: SamplerPadding) {
        width = inputWidth
        height = inputHeight
        floatWidth = Float(inputWidth)
        floatHeight = Float(inputHeight)
        halfWidth = Float(inputWidth) / 2
        halfHeight = Float(inputHeight) / 2
        self.padding = padding
    }

    /// Border padding: clamps to [0, size − 1]; the edges themselves count as clamped (gradient 0),
    /// as in PyTorch's `clip_coordinates_set_grad`. NaN clamps to 0.
    @inline(__always)
    static func clip(_ value: Float, size: Float) -> (Float, Float) {
        if !(value > 0) { return (0, 0) }
        let limit = size - 1
        if value >= limit { return (limit, 0) }
        return (value, 1)
    }

    /// The taps of normalised source point (x, y), or nil when zeros padding reads no tap at all.
    @inline(__always)
    func taps(x: Float, y: Float) -> BilinearTaps? {
        // Unnormalise (align_corners = false): ((x + 1)·W − 1)/2 written as PyTorch's CPU kernel does.
        var ix = (x + 1) * halfWidth - 0.5
        var iy = (y + 1) * halfHeight - 0.5
        var multiplierX = halfWidth, multiplierY = halfHeight
        switch padding {
        case .zeros:
            // Some tap is inside iff −1 ≤ ix < W (and likewise y); false for NaN, and it keeps
            // huge values away from the Int conversion below.
            guard ix >= -1 && ix < floatWidth && iy >= -1 && iy < floatHeight else { return nil }
        case .border:
            let (cx, gx) = SamplerGeometry.clip(ix, size: floatWidth)
            let (cy, gy) = SamplerGeometry.clip(iy, size: floatHeight)
            ix = cx; iy = cy
            multiplierX *= gx; multiplierY *= gy
        }
        let fx = ix.rounded(.down), fy = iy.rounded(.down)
        let x0 = Int(fx), y0 = Int(fy)
        let west = ix - fx, north = iy - fy
        let east = 1 - west, south = 1 - north
        let insideW = x0 >= 0, insideE = x0 + 1 < width
        let insideN = y0 >= 0, insideS = y0 + 1 < height
        let maskNW: Float = insideN && insideW ? 1 : 0
        let maskNE: Float = insideN && insideE ? 1 : 0
        let maskSW: Float = insideS && insideW ? 1 : 0
        let maskSE: Float = insideS && insideE ? 1 : 0
        let base = y0 * width + x0
        return BilinearTaps(
            offsetNW: maskNW != 0 ? base : 0,
            offsetNE: maskNE != 0 ? base + 1 : 0,
            offsetSW: maskSW != 0 ? base + width : 0,
            offsetSE: maskSE != 0 ? base + width + 1 : 0,
            weightNW: south * east * maskNW, weightNE: south * west * maskNE,
            weightSW: north * east * maskSW, weightSE: north * west * maskSE,
            maskNW: maskNW, maskNE: maskNE, maskSW: maskSW, maskSE: maskSE,
            west: west, east: east, north: north, south: south,
            multiplierX: multiplierX, multiplierY: multiplierY)
    }
}
