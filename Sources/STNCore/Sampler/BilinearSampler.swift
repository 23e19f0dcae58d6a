import FrameSampling

/// The differentiable bilinear sampler of a spatial transformer (Jaderberg et al. 2015, Section 3.3).
///
/// V_i^c = Σ_n Σ_m U_nm^c · max(0, 1 − |x_i − m|) · max(0, 1 − |y_i − n|), with (x_i, y_i) the
/// grid's normalised source coordinates unnormalised to pixels with `align_corners = false`:
/// x = ((x_s + 1)·W − 1)/2. Equals `torch.nn.functional.grid_sample(input, grid, mode="bilinear",
/// padding_mode=zeros|border, align_corners=False)`, written like PyTorch's vectorised CPU kernel
/// (`aten/src/ATen/native/cpu/GridSamplerKernel.cpp`): x = (x_s + 1)·W/2 − 0.5, weights from the
/// distances to the west column and north row, the same gradient terms.
///
/// Non-finite or huge coordinates never trap: with `.black` (PyTorch's zeros) they read 0 and get no gradient,
/// with `.border` NaN is treated as clamped to the first pixel.
public enum BilinearSampler {
    // input [N, C, Hi, Wi], grid [N, Ho, Wo, 2] -> output [N, C, Ho, Wo] (written)
    /// Samples `input` at the grid's normalised source points: output = grid_sample(input, grid).
    public static func forward(
        input: UnsafePointer<Float>, batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
        grid: UnsafePointer<Float>, outputHeight: Int, outputWidth: Int,
        padding: PaddingMode, output: UnsafeMutablePointer<Float>
    ) {
        if inputHeight <= 0 || inputWidth <= 0 {
            // Nothing to read: every sample is padding, and border padding has no edge to clamp to.
            output.update(repeating: 0, count: max(0, batch * channels * outputHeight * outputWidth))
            return
        }
        let geometry = SamplerGeometry(inputHeight: inputHeight, inputWidth: inputWidth)
        // The padding rule is chosen once, outside the pixel loop (a specialised loop each).
        switch padding {
        case .black:
            forward(ZerosPadding.self, geometry, input, batch, channels, grid, outputHeight * outputWidth, output)
        case .border:
            forward(BorderPadding.self, geometry, input, batch, channels, grid, outputHeight * outputWidth, output)
        }
    }

    // gradOutput [N, C, Ho, Wo]; gradInput [N, C, Hi, Wi] (+=); gradGrid [N, Ho, Wo, 2] (+=)
    //   ∂V/∂U_nm = tap weight (scattered to the four taps);
    //   ∂V/∂x = W/2 · Σ_c gOut·((U_ne − U_nw)·(1 − fy) + (U_se − U_sw)·fy), fy = y − ⌊y⌋, likewise for y,
    //   times 0 where border padding clamped the coordinate.
    /// The paper's gradients (Section 3.3): dV/dU into gradInput and dV/d(x_s, y_s) into gradGrid,
    /// both ACCUMULATED; either may be nil to skip it.
    public static func backward(
        input: UnsafePointer<Float>, batch: Int, channels: Int, inputHeight: Int, inputWidth: Int,
        grid: UnsafePointer<Float>, outputHeight: Int, outputWidth: Int, padding: PaddingMode,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradGrid: UnsafeMutablePointer<Float>?
    ) {
        if gradInput == nil && gradGrid == nil || inputHeight <= 0 || inputWidth <= 0 { return }
        let geometry = SamplerGeometry(inputHeight: inputHeight, inputWidth: inputWidth)
        let outputPlane = outputHeight * outputWidth
        switch padding {
        case .black:
            backward(
                ZerosPadding.self, geometry, input, batch, channels, grid, outputPlane, gradOutput, gradInput, gradGrid)
        case .border:
            backward(
                BorderPadding.self, geometry, input, batch, channels, grid, outputPlane, gradOutput, gradInput, gradGrid
            )
        }
    }

    private static func forward<Padding: SamplerPaddingRule>(
        _: Padding.Type, _ geometry: SamplerGeometry, _ input: UnsafePointer<Float>, _ batch: Int, _ channels: Int,
        _ grid: UnsafePointer<Float>, _ outputPlane: Int, _ output: UnsafeMutablePointer<Float>
    ) {
        let inputPlane = geometry.height * geometry.width
        let input = SpatialSendablePointer(input), grid = SpatialSendablePointer(grid)
        let output = SpatialSendableMutablePointer(output)
        SpatialParallel.forEachItem(batch: batch, workPerItem: (16 + 8 * channels) * outputPlane) { item in
            let itemInput = input.pointer + channels * inputPlane * item
            let itemOutput = output.pointer + channels * outputPlane * item
            let itemGrid = grid.pointer + 2 * outputPlane * item
            for p in 0..<outputPlane {
                var out = itemOutput + p
                guard let t = Padding.taps(geometry, x: itemGrid[2 &* p], y: itemGrid[2 &* p &+ 1]) else {
                    for _ in 0..<channels {
                        out.pointee = 0
                        out += outputPlane
                    }
                    continue
                }
                var plane = itemInput
                for _ in 0..<channels {
                    out.pointee =
                        plane[t.offsetNW] * t.weightNW + plane[t.offsetNE] * t.weightNE
                        + plane[t.offsetSW] * t.weightSW + plane[t.offsetSE] * t.weightSE
                    plane += inputPlane
                    out += outputPlane
                }
            }
        }
    }

    private static func backward<Padding: SamplerPaddingRule>(
        _: Padding.Type, _ geometry: SamplerGeometry, _ input: UnsafePointer<Float>, _ batch: Int, _ channels: Int,
        _ grid: UnsafePointer<Float>, _ outputPlane: Int, _ gradOutput: UnsafePointer<Float>,
        _ gradInput: UnsafeMutablePointer<Float>?, _ gradGrid: UnsafeMutablePointer<Float>?
    ) {
        let inputPlane = geometry.height * geometry.width
        let input = SpatialSendablePointer(input), grid = SpatialSendablePointer(grid)
        let gradOutput = SpatialSendablePointer(gradOutput)
        let gradInput = gradInput.map { SpatialSendableMutablePointer($0) }
        let gradGrid = gradGrid.map { SpatialSendableMutablePointer($0) }
        SpatialParallel.forEachItem(batch: batch, workPerItem: (16 + 20 * channels) * outputPlane) { item in
            let itemInput = input.pointer + channels * inputPlane * item
            let itemGradOutput = gradOutput.pointer + channels * outputPlane * item
            let itemGradInput = gradInput.map { $0.pointer + channels * inputPlane * item }
            let itemGradGrid = gradGrid.map { $0.pointer + 2 * outputPlane * item }
            let itemGrid = grid.pointer + 2 * outputPlane * item
            for p in 0..<outputPlane {
                // Wholly outside (zeros padding): no tap, no gradient.
                guard let t = Padding.taps(geometry, x: itemGrid[2 &* p], y: itemGrid[2 &* p &+ 1]) else { continue }
                if let gradInputPlane = itemGradInput {
                    // Masked taps have weight 0 and a real offset, so adding to them is a no-op.
                    var plane = gradInputPlane
                    var gradOut = itemGradOutput + p
                    for _ in 0..<channels {
                        let gOut = gradOut.pointee
                        gradOut += outputPlane
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
                    var gradOut = itemGradOutput + p
                    for _ in 0..<channels {
                        let gOut = gradOut.pointee
                        gradOut += outputPlane
                        let nw = plane[t.offsetNW] * t.maskNW, ne = plane[t.offsetNE] * t.maskNE
                        let sw = plane[t.offsetSW] * t.maskSW, se = plane[t.offsetSE] * t.maskSE
                        gx += ((ne - nw) * t.south + (se - sw) * t.north) * gOut
                        gy += ((sw - nw) * t.east + (se - ne) * t.west) * gOut
                        plane += inputPlane
                    }
                    gradGridItem[2 &* p] += gx * t.multiplierX
                    gradGridItem[2 &* p &+ 1] += gy * t.multiplierY
                }
            }
        }
    }
}

/// The four bilinear taps of one sampling point.
///
/// Offsets index one input plane; a tap outside the input has mask 0, weight 0 and the offset of
/// the nearest pixel (read, multiplied by 0).
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

/// What depends only on the input size, computed once per call.
struct SamplerGeometry {
    let width: Int, height: Int
    let floatWidth: Float, floatHeight: Float
    let halfWidth: Float, halfHeight: Float

    init(inputHeight: Int, inputWidth: Int) {
        width = inputWidth
        height = inputHeight
        floatWidth = Float(inputWidth)
        floatHeight = Float(inputHeight)
        halfWidth = Float(inputWidth) / 2
        halfHeight = Float(inputHeight) / 2
    }

    /// Unnormalise (align_corners = false): ((x + 1)·W − 1)/2, written as PyTorch's CPU kernel does.
    @inline(__always)
    func pixel(x: Float, y: Float) -> (Float, Float) {
        ((x + 1) * halfWidth - 0.5, (y + 1) * halfHeight - 0.5)
    }

    /// ⌊v⌋ for v ∈ [−1, 2³¹): truncation and a fix-up (baseline x86-64 has no inline floor
    /// instruction, and a call to floorf per coordinate doubled the sampler's time).
    @inline(__always)
    static func floor(_ v: Float) -> Int {
        let truncated = Int(v)
        return Float(truncated) > v ? truncated - 1 : truncated
    }

    /// The taps around pixel coordinate (ix, iy) with −1 ≤ ix < W and −1 ≤ iy < H.
    ///
    /// Branch-free: a tap outside the input gets weight 0, mask 0 and the offset of a pixel that
    /// exists (its clamped row and column), so the loops need no per-tap test.
    @inline(__always)
    func taps(ix: Float, iy: Float, multiplierX: Float, multiplierY: Float) -> BilinearTaps {
        let x0 = SamplerGeometry.floor(ix), y0 = SamplerGeometry.floor(iy)
        let x1 = x0 &+ 1, y1 = y0 &+ 1
        let west = ix - Float(x0), north = iy - Float(y0)
        let east = 1 - west, south = 1 - north
        let insideW = x0 >= 0, insideE = x1 < width, insideN = y0 >= 0, insideS = y1 < height
        let maskW: Float = insideW ? 1 : 0, maskE: Float = insideE ? 1 : 0
        let maskN: Float = insideN ? 1 : 0, maskS: Float = insideS ? 1 : 0
        let columnW = insideW ? x0 : 0, columnE = insideE ? x1 : width &- 1
        let rowN = (insideN ? y0 : 0) &* width, rowS = (insideS ? y1 : height &- 1) &* width
        let maskNW = maskN * maskW, maskNE = maskN * maskE, maskSW = maskS * maskW, maskSE = maskS * maskE
        return BilinearTaps(
            offsetNW: rowN &+ columnW, offsetNE: rowN &+ columnE,
            offsetSW: rowS &+ columnW, offsetSE: rowS &+ columnE,
            weightNW: south * east * maskNW, weightNE: south * west * maskNE,
            weightSW: north * east * maskSW, weightSE: north * west * maskSE,
            maskNW: maskNW, maskNE: maskNE, maskSW: maskSW, maskSE: maskSE,
            west: west, east: east, north: north, south: south,
            multiplierX: multiplierX, multiplierY: multiplierY)
    }
}

/// How a padding mode turns a normalised source point into taps (static, so each sampler loop
/// is specialised for its padding).
protocol SamplerPaddingRule: Sendable {
    /// The taps of normalised source point (x, y), or nil when no tap is read at all.
    static func taps(_ geometry: SamplerGeometry, x: Float, y: Float) -> BilinearTaps?
}

/// Taps outside the input read 0; the coordinate itself is not clamped.
enum ZerosPadding: SamplerPaddingRule {
    @inline(__always)
    static func taps(_ geometry: SamplerGeometry, x: Float, y: Float) -> BilinearTaps? {
        let (ix, iy) = geometry.pixel(x: x, y: y)
        // Some tap is inside iff −1 ≤ ix < W (and likewise y); false for NaN, and it keeps huge
        // values away from the Int conversion.
        guard ix >= -1 && ix < geometry.floatWidth && iy >= -1 && iy < geometry.floatHeight else { return nil }
        return geometry.taps(ix: ix, iy: iy, multiplierX: geometry.halfWidth, multiplierY: geometry.halfHeight)
    }
}

/// The coordinate is clamped to [0, size − 1] before interpolation.
enum BorderPadding: SamplerPaddingRule {
    /// The edges themselves count as clamped (gradient 0), as in PyTorch's
    /// `clip_coordinates_set_grad`; NaN clamps to 0.
    @inline(__always)
    static func clip(_ value: Float, size: Float) -> (Float, Float) {
        if !(value > 0) { return (0, 0) }
        let limit = size - 1
        if value >= limit { return (limit, 0) }
        return (value, 1)
    }

    @inline(__always)
    static func taps(_ geometry: SamplerGeometry, x: Float, y: Float) -> BilinearTaps? {
        let (ix, iy) = geometry.pixel(x: x, y: y)
        let (cx, gx) = clip(ix, size: geometry.floatWidth)
        let (cy, gy) = clip(iy, size: geometry.floatHeight)
        return geometry.taps(
            ix: cx, iy: cy, multiplierX: geometry.halfWidth * gx, multiplierY: geometry.halfHeight * gy)
    }
}
