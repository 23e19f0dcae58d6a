/// Per-column tap positions of an axis-aligned map: the left tap and the weight of the right one.
/// Filled once per (θ, plane kind) into memory the sampler allocated at init.
struct ColumnTable: @unchecked Sendable {
    let index: UnsafeMutablePointer<Int32>
    let weight: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        index = .allocate(capacity: count)
        index.initialize(repeating: 0, count: count)
        weight = .allocate(capacity: count)
        weight.initialize(repeating: 0, count: count)
    }

    func deallocate() {
        index.deallocate()
        weight.deallocate()
    }

    /// Fills the table for px = m02 + i·m00 (m01 = 0) and returns the columns of the plane that
    /// some tap reads, clamped to the plane (never empty).
    func fill(map: PlaneMap, planeWidth: Int) -> ClosedRange<Int> {
        let upper = Double(planeWidth + 1)
        var low = Int.max, high = Int.min
        for i in 0..<count {
            let px = clampCoordinate(map.m02 + Double(i) * map.m00, upper)
            let x0 = floorToInt(px)
            index[i] = Int32(x0)
            weight[i] = Float(px - Double(x0))
            low = min(low, x0)
            high = max(high, x0 + 1)
        }
        let last = planeWidth - 1
        return min(max(low, 0), last)...min(max(high, 0), last)
    }
}

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

/// One plane's sampling work: where to read and write, the composed map, the chosen kernel.
struct PlaneJob: @unchecked Sendable {
    enum Kernel {
        /// Axis-aligned affine: a vertical pass blends the two source rows into a Float scratch
        /// row (with padding margins), then a horizontal pass reads it through the column table.
        case separable(ColumnTable, ClosedRange<Int>)
        /// Axis-aligned affine reading far fewer samples than the source span holds (a strong
        /// downscale): per pixel, the four taps straight from the two source rows.
        case sparseSeparable(ColumnTable)
        /// Any affine map, per pixel.
        case affine
        /// Any projective map, per pixel, with the homogeneous division.
        case projective
    }

    /// Scratch cells kept on each side of a scratch row for taps outside the plane (taps reach −2…N+2).
    static let scratchMargin = 4

    let source: PlaneBuffer
    let destination: MutablePlaneBuffer
    let map: PlaneMap
    let kernel: Kernel
    let black: UInt8
    /// `source.width` black samples, read in place of a source row above or below the plane.
    let blackRow: UnsafePointer<UInt8>
    let border: Bool

    init(source: PlaneBuffer, destination: MutablePlaneBuffer, map: PlaneMap, kernel: Kernel,
         black: UInt8, blackRow: UnsafeMutablePointer<UInt8>, border: Bool) {
        self.source = source
        self.destination = destination
        self.map = map
        self.kernel = kernel
        self.black = black
        self.blackRow = UnsafePointer(blackRow)
        self.border = border
    }

    func sampleRows(_ rows: Range<Int>, scratch: UnsafeMutablePointer<Float>) {
        switch kernel {
        case let .separable(columns, span): sampleSeparable(rows, columns: columns, span: span, scratch: scratch)
        case let .sparseSeparable(columns): sampleSparseSeparable(rows, columns: columns)
        case .affine: sampleGeneral(rows, projective: false)
        case .projective: sampleGeneral(rows, projective: true)
        }
    }

    /// A source row, or for a row outside the plane the clamped row (border) or black (black).
    @inline(__always) private func sourceRow(_ y: Int) -> UnsafePointer<UInt8> {
        if y >= 0 && y < source.height { return source.base + y * source.stride }
        if !border { return blackRow }
        return source.base + min(max(y, 0), source.height - 1) * source.stride
    }

    // MARK: Separable kernel

    private func sampleSeparable(
        _ rows: Range<Int>, columns: ColumnTable, span: ClosedRange<Int>, scratch: UnsafeMutablePointer<Float>
    ) {
        let margin = Self.scratchMargin
        let width = source.width
        let row = scratch + margin  // row[−margin ..< width + margin]
        if !border {
            for k in 1...margin {
                row[-k] = Float(black)
                row[width - 1 + k] = Float(black)
            }
        }
        let upperY = Double(source.height + 1)
        let low = span.lowerBound, high = span.upperBound
        let index = columns.index, weight = columns.weight
        let outputWidth = destination.width
        for j in rows {
            let py = clampCoordinate(map.m12 + Double(j) * map.m11, upperY)
            let y0 = floorToInt(py)
            let fy = Float(py - Double(y0))
            let top = sourceRow(y0), bottom = sourceRow(y0 + 1)
            // Vertical pass over the columns this row's taps read.
            for k in low...high {
                let a = Float(top[k])
                row[k] = a + fy * (Float(bottom[k]) - a)
            }
            if border {
                let first = row[0], last = row[width - 1]
                for k in 1...margin {
                    row[-k] = first
                    row[width - 1 + k] = last
                }
            }
            // Horizontal pass.
            let output = destination.base + j * destination.stride
            for i in 0..<outputWidth {
                let x0 = Int(index[i])
                let a = row[x0]
                output[i] = roundToByte(a + weight[i] * (row[x0 + 1] - a))
            }
        }
    }

    private func sampleSparseSeparable(_ rows: Range<Int>, columns: ColumnTable) {
        let upperY = Double(source.height + 1)
        let index = columns.index, weight = columns.weight
        let outputWidth = destination.width
        let interiorLimit = UInt(bitPattern: source.width - 1)
        for j in rows {
            let py = clampCoordinate(map.m12 + Double(j) * map.m11, upperY)
            let y0 = floorToInt(py)
            let fy = Float(py - Double(y0))
            // Rows outside the plane are replaced whole (black row or clamped row), so only the
            // columns need the padding rule.
            let top = sourceRow(y0), bottom = sourceRow(y0 + 1)
            let output = destination.base + j * destination.stride
            for i in 0..<outputWidth {
                let x0 = Int(index[i])
                let fx = weight[i]
                let a, b, c, d: Float
                if UInt(bitPattern: x0) < interiorLimit {
                    a = Float(top[x0])
                    b = Float(top[x0 &+ 1])
                    c = Float(bottom[x0])
                    d = Float(bottom[x0 &+ 1])
                } else {
                    a = tap(x0, y0)
                    b = tap(x0 + 1, y0)
                    c = tap(x0, y0 + 1)
                    d = tap(x0 + 1, y0 + 1)
                }
                let upper = a + fx * (b - a)
                let lower = c + fx * (d - c)
                output[i] = roundToByte(upper + fy * (lower - upper))
            }
        }
    }

    // MARK: General kernel

    /// Fixed-point coordinates: 32 fractional bits in an Int64, as vf_perspective's integer
    /// coordinates. Quantising the step to 2⁻³² px keeps the drift over a row below 10⁻⁶ px.
    private static let fixedOne = 4_294_967_296.0
    /// Rows whose coordinates stay within ±2³⁰ px take the fixed-point walk; others (extreme
    /// zoom-outs) the Double one, which clamps first.
    private static let fixedLimit = 1_073_741_824.0

    /// Output columns walked per tile: a rotated or projective row sweeps across many source
    /// rows, so walking the output in column strips keeps the source rows in cache.
    private static let tileWidth = 128

    private func sampleGeneral(_ rows: Range<Int>, projective: Bool) {
        let outputWidth = destination.width
        for tileStart in stride(from: 0, to: outputWidth, by: Self.tileWidth) {
            let columns = tileStart..<min(tileStart + Self.tileWidth, outputWidth)
            for j in rows {
                if projective {
                    sampleProjectiveRow(j, columns)
                } else {
                    sampleAffineRow(j, columns)
                }
            }
        }
    }

    @inline(__always) private func sampleProjectiveRow(_ j: Int, _ columns: Range<Int>) {
        let m = map
        let jd = Double(j)
        let startX = m.m01 * jd + m.m02, startY = m.m11 * jd + m.m12, startW = m.m21 * jd + m.m22
        let output = destination.base + j * destination.stride
        for i in columns {
            let id = Double(i)
            let w = startW + id * m.m20
            guard w > 0 else {
                output[i] = black
                continue
            }
            let reciprocal = 1 / w
            output[i] = sample(atX: (startX + id * m.m00) * reciprocal, y: (startY + id * m.m10) * reciprocal)
        }
    }

    @inline(__always) private func sampleAffineRow(_ j: Int, _ columns: Range<Int>) {
        let m = map
        let jd = Double(j), first = Double(columns.lowerBound), last = Double(columns.upperBound - 1)
        let startX = m.m01 * jd + m.m02 + first * m.m00, startY = m.m11 * jd + m.m12 + first * m.m10
        let endX = m.m01 * jd + m.m02 + last * m.m00, endY = m.m11 * jd + m.m12 + last * m.m10
        let output = destination.base + j * destination.stride + columns.lowerBound
        let count = columns.count
        guard max(abs(startX), abs(endX), abs(startY), abs(endY)) < Self.fixedLimit else {
            for i in 0..<count {
                let id = Double(i)
                output[i] = sample(atX: startX + id * m.m00, y: startY + id * m.m10)
            }
            return
        }
        var x = Int64((startX * Self.fixedOne).rounded()), y = Int64((startY * Self.fixedOne).rounded())
        let stepX = Int64((m.m00 * Self.fixedOne).rounded()), stepY = Int64((m.m10 * Self.fixedOne).rounded())
        for i in 0..<count {
            output[i] = sample(fixed: x, y)
            x &+= stepX
            y &+= stepY
        }
    }

    /// Bilinear sample at plane position (px, py), any finite or infinite value.
    @inline(__always) private func sample(atX px: Double, y py: Double) -> UInt8 {
        let x = fixedPoint(clampCoordinate(px, Double(source.width + 1)))
        let y = fixedPoint(clampCoordinate(py, Double(source.height + 1)))
        return sample(fixed: x, y)
    }

    /// Bilinear sample at a fixed-point position (32 fractional bits).
    @inline(__always) private func sample(fixed x: Int64, _ y: Int64) -> UInt8 {
        sample(Int(truncatingIfNeeded: x >> 32), Int(truncatingIfNeeded: y >> 32),
               Float(UInt32(truncatingIfNeeded: x)) * 0x1p-32, Float(UInt32(truncatingIfNeeded: y)) * 0x1p-32)
    }

    /// Bilinear sample with top-left tap (x0, y0) and weights (fx, fy) of the right and lower taps;
    /// the 2 × 2 interior is read directly, anything touching the edge goes through `tap`.
    @inline(__always) private func sample(_ x0: Int, _ y0: Int, _ fx: Float, _ fy: Float) -> UInt8 {
        let stride = source.stride
        let a, b, c, d: Float
        if UInt(bitPattern: x0) < UInt(bitPattern: source.width - 1)
            && UInt(bitPattern: y0) < UInt(bitPattern: source.height - 1) {
            let p = source.base + (y0 &* stride &+ x0)
            a = Float(p[0])
            b = Float(p[1])
            c = Float(p[stride])
            d = Float(p[stride &+ 1])
        } else {
            a = tap(x0, y0)
            b = tap(x0 + 1, y0)
            c = tap(x0, y0 + 1)
            d = tap(x0 + 1, y0 + 1)
        }
        let upper = a + fx * (b - a)
        let lower = c + fx * (d - c)
        return roundToByte(upper + fy * (lower - upper))
    }

    /// One tap with the padding rule.
    private func tap(_ x: Int, _ y: Int) -> Float {
        let inside = x >= 0 && x < source.width && y >= 0 && y < source.height
        if inside { return Float(source.base[y * source.stride + x]) }
        if !border { return Float(black) }
        let cx = min(max(x, 0), source.width - 1), cy = min(max(y, 0), source.height - 1)
        return Float(source.base[cy * source.stride + cx])
    }
}
