/// The kernels for axis-aligned transforms (attention, and affine without rotation or shear):
/// the source column of every output column is the same on every row, so it comes from a
/// `ColumnTable` filled once per (θ, plane), and each output row has one source row pair.
extension PlaneJob {
    /// Vertical pass: blend the row pair into a Float scratch row (padding in its margins);
    /// horizontal pass: one lerp per output pixel from the scratch row.
    func sampleSeparable(
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

    /// Per pixel, the four taps straight from the row pair, for strong downscales.
    func sampleSparseSeparable(_ rows: Range<Int>, columns: ColumnTable) {
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
}
