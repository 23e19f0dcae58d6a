import FrameSampling
import STNMedia

/// Draws the window a transform reads (the output frame's outline mapped into the input)
/// on a 4:2:0 frame, for `--overlay`.
struct WindowOverlay {
    struct Colour {
        var y: UInt8, u: UInt8, v: UInt8
        /// BT.601 limited-range red and green.
        static let red = Colour(y: 81, u: 90, v: 240)
        static let green = Colour(y: 145, u: 54, v: 34)
    }

    let canvas: Canvas
    let outputWidth: Int
    let outputHeight: Int

    /// The output frame's corners in its own normalised canvas coordinates.
    private var outputCorners: [(Double, Double)] {
        var hx = 1.0, hy = 1.0
        if canvas == .square {
            let side = Double(max(outputWidth, outputHeight))
            hx = Double(outputWidth) / side
            hy = Double(outputHeight) / side
        }
        return [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
    }

    func draw(_ transform: SourceTransform, on frame: VideoFrame, colour: Colour) {
        let w = Double(frame.width), h = Double(frame.height)
        let side = canvas == .square ? max(w, h) : 0
        // Normalised input coordinates → luma pixel coordinates (pixel i spans [i, i+1)).
        func toPixels(_ x: Double, _ y: Double) -> (Double, Double) {
            canvas == .square
                ? ((x + 1) / 2 * side - (side - w) / 2, (y + 1) / 2 * side - (side - h) / 2)
                : ((x + 1) / 2 * w, (y + 1) / 2 * h)
        }
        let m = transform.elements
        let corners = outputCorners.map { (xt, yt) -> (Double, Double) in
            let xs = m[0] * xt + m[1] * yt + m[2]
            let ys = m[3] * xt + m[4] * yt + m[5]
            let ws = m[6] * xt + m[7] * yt + m[8]
            return toPixels(xs / ws, ys / ws)
        }
        guard corners.allSatisfy({ $0.0.isFinite && $0.1.isFinite }) else { return }
        let thickness = max(2, frame.width / 320) & ~1
        for i in 0..<4 {
            line(from: corners[i], to: corners[(i + 1) % 4], thickness: thickness, colour: colour, on: frame)
        }
    }

    private func line(
        from a: (Double, Double), to b: (Double, Double), thickness: Int, colour: Colour, on frame: VideoFrame
    ) {
        let length = ((b.0 - a.0) * (b.0 - a.0) + (b.1 - a.1) * (b.1 - a.1)).squareRoot()
        let steps = min(100_000, max(1, Int(length * 2)))
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            let x = Int((a.0 + (b.0 - a.0) * t).rounded(.down)) - thickness / 2
            let y = Int((a.1 + (b.1 - a.1) * t).rounded(.down)) - thickness / 2
            fill(x: x, y: y, size: thickness, colour: colour, on: frame)
        }
    }

    /// Paints a size×size luma square at (x, y) and the chroma samples that cover it.
    private func fill(x: Int, y: Int, size: Int, colour: Colour, on frame: VideoFrame) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(frame.width, x + size), y1 = min(frame.height, y + size)
        guard x0 < x1, y0 < y1 else { return }
        let luma = frame.mutableBaseAddress(0), lumaStride = frame.stride(0)
        for row in y0..<y1 { (luma + row * lumaStride + x0).update(repeating: colour.y, count: x1 - x0) }
        let u = frame.mutableBaseAddress(1), v = frame.mutableBaseAddress(2), chromaStride = frame.stride(1)
        for row in (y0 / 2)...((y1 - 1) / 2) {
            let start = x0 / 2, count = (x1 - 1) / 2 - start + 1
            (u + row * chromaStride + start).update(repeating: colour.u, count: count)
            (v + row * chromaStride + start).update(repeating: colour.v, count: count)
        }
    }
}
