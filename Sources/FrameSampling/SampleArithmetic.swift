// Scalar helpers of the sampling loops: coordinate clamping, floor, fixed point, rounding.

/// Clamps a plane coordinate to [−2, N + 1]: every tap of a coordinate beyond that range is
/// outside the plane anyway (black) or clamps to the same edge sample (border), and the integer
/// conversion that follows cannot overflow.
@inline(__always) func clampCoordinate(_ p: Double, _ upper: Double) -> Double {
    p < -2 ? -2 : (p > upper ? upper : p)
}

/// round(p · 2³²) as an Int64 for |p| < 2¹⁹ (coordinates are clamped first): adding 1.5·2²⁰
/// makes the unit in the last place 2⁻³², so the sum's mantissa is the fixed-point value. No
/// float→integer conversion, hence no range-check branches in the per-pixel loop.
@inline(__always) func fixedPoint(_ p: Double) -> Int64 {
    Int64(bitPattern: (p + 0x1.8p20).bitPattern) &- Int64(bitPattern: (0x1.8p20 as Double).bitPattern)
}

/// floor(x) as Int for |x| small, without the libm call the baseline x86-64 target makes for floor.
@inline(__always) func floorToInt(_ x: Double) -> Int {
    let truncated = Int(x)
    return Double(truncated) > x ? truncated - 1 : truncated
}

/// The real sample value rounded to nearest (halves up), as a byte.
///
/// Adding 1.5·2²³ makes the Float's unit in the last place 1, so the addition itself rounds to an
/// integer n, which is then the low byte of the bit pattern: no float→integer conversion with its
/// range checks in the inner loops. The hardware rounds ties to even; the 2⁻¹⁴ nudge turns exact
/// halves (common: half-pixel positions) into halves up, and can only move values within 6·10⁻⁵
/// below a half, which Float arithmetic does not resolve anyway.
///
/// Clamping to 0…255 is implicit: every value here is a bilinear blend a + f·(b − a) with
/// f ∈ [0, 1] of values in 0…255, which Float rounding keeps within 0…255 up to a few 10⁻⁵, far
/// inside (−0.5, 255.5) where n ∈ 0…255.
@inline(__always) func roundToByte(_ value: Float) -> UInt8 {
    UInt8(truncatingIfNeeded: ((value + 0x1p-14) + 0x1.8p23).bitPattern)
}
