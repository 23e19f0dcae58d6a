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

    init(
        source: PlaneBuffer, destination: MutablePlaneBuffer, map: PlaneMap, kernel: Kernel,
        black: UInt8, blackRow: UnsafeMutablePointer<UInt8>, border: Bool
    ) {
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
    @inline(__always) func sourceRow(_ y: Int) -> UnsafePointer<UInt8> {
        if y >= 0 && y < source.height { return source.base + y * source.stride }
        if !border { return blackRow }
        return source.base + min(max(y, 0), source.height - 1) * source.stride
    }

    /// One tap with the padding rule.
    func tap(_ x: Int, _ y: Int) -> Float {
        let inside = x >= 0 && x < source.width && y >= 0 && y < source.height
        if inside { return Float(source.base[y * source.stride + x]) }
        if !border { return Float(black) }
        let cx = min(max(x, 0), source.width - 1), cy = min(max(y, 0), source.height - 1)
        return Float(source.base[cy * source.stride + cx])
    }
}
