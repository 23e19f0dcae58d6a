/// The per-pixel kernel for any affine or projective map: coordinates walked along each row
/// (fixed point for affine rows, Double with a homogeneous division for projective ones), the
/// 2 × 2 interior read directly and anything touching the edge through `tap`.
extension PlaneJob {
    /// Fixed-point coordinates: 32 fractional bits in an Int64, as vf_perspective's integer
    /// coordinates. Quantising the step to 2⁻³² px keeps the drift over a row below 10⁻⁶ px.
    static let fixedOne = 4_294_967_296.0
    /// Rows whose coordinates stay within ±2³⁰ px take the fixed-point walk; others (extreme
    /// zoom-outs) the Double one, which clamps first.
    static let fixedLimit = 1_073_741_824.0

    /// Output columns walked per tile: a rotated or projective row sweeps across many source
    /// rows, so walking the output in column strips keeps them in cache (measured: ~5–10 %
    /// faster on a 0.3 rad rotation of 1080p).
    static let tileWidth = 128

    func sampleGeneral(_ rows: Range<Int>, projective: Bool) {
        let outputWidth = destination.width
        for tileStart in stride(from: 0, to: outputWidth, by: Self.tileWidth) {
            let columns = tileStart..<min(tileStart + Self.tileWidth, outputWidth)
            if projective {
                for j in rows { sampleProjectiveRow(j, columns) }
            } else {
                for j in rows { sampleAffineRow(j, columns) }
            }
        }
    }

    @inline(__always) func sampleProjectiveRow(_ j: Int, _ columns: Range<Int>) {
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

    @inline(__always) func sampleAffineRow(_ j: Int, _ columns: Range<Int>) {
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
    @inline(__always) func sample(atX px: Double, y py: Double) -> UInt8 {
        let x = fixedPoint(clampCoordinate(px, Double(source.width + 1)))
        let y = fixedPoint(clampCoordinate(py, Double(source.height + 1)))
        return sample(fixed: x, y)
    }

    /// Bilinear sample at a fixed-point position (32 fractional bits).
    @inline(__always) func sample(fixed x: Int64, _ y: Int64) -> UInt8 {
        sample(
            Int(truncatingIfNeeded: x >> 32), Int(truncatingIfNeeded: y >> 32),
            Float(UInt32(truncatingIfNeeded: x)) * 0x1p-32, Float(UInt32(truncatingIfNeeded: y)) * 0x1p-32)
    }

    /// Bilinear sample with top-left tap (x0, y0) and weights (fx, fy) of the right and lower taps;
    /// the 2 × 2 interior is read directly, anything touching the edge goes through `tap`.
    @inline(__always) func sample(_ x0: Int, _ y0: Int, _ fx: Float, _ fy: Float) -> UInt8 {
        let stride = source.stride
        let a, b, c, d: Float
        if UInt(bitPattern: x0) < UInt(bitPattern: source.width - 1)
            && UInt(bitPattern: y0) < UInt(bitPattern: source.height - 1)
        {
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
}
