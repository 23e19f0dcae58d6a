import Dispatch

/// Samples rectified crops from 8-bit YUV 4:2:0 frames through a `SourceTransform` (DESIGN.md §2).
///
/// All buffers (column tables, scratch rows, black rows) are allocated once here, so `sample`
/// never allocates. One `sample` call at a time per sampler: it reuses those buffers. Source and
/// destination must not overlap.
public final class FrameSampler: @unchecked Sendable {
    public let inputWidth: Int
    public let inputHeight: Int
    public let outputWidth: Int
    public let outputHeight: Int
    public let canvas: Canvas
    public let padding: PaddingMode
    public let range: ColorRange
    public let threads: Int

    /// Below this many output luma pixels a frame is sampled on the calling thread only: a
    /// 256×256 crop takes ~0.15 ms, about what waking a second thread costs, and in the pipeline
    /// the decoder keeps the other cores busy anyway.
    static let minimumPixelsForThreads = 1 << 18

    private let lumaColumns: ColumnTable
    private let chromaColumns: ColumnTable
    private let lumaBlackRow: UnsafeMutablePointer<UInt8>
    private let chromaBlackRow: UnsafeMutablePointer<UInt8>
    /// One scratch row per thread, `scratchStride` floats each (a row of input plus margins).
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchStride: Int

    /// - Parameters: luma sizes (chroma planes are ceil(w/2) × ceil(h/2)); `threads`: 1 = serial,
    ///   > 1 splits the rows of large outputs across cores with `DispatchQueue.concurrentPerform`.
    public init(
        inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int,
        canvas: Canvas, padding: PaddingMode, range: ColorRange, threads: Int
    ) {
        precondition(inputWidth > 0 && inputHeight > 0, "input size must be positive")
        precondition(outputWidth > 0 && outputHeight > 0, "output size must be positive")
        // Keeps clamped plane coordinates within the exact range of `fixedPoint` (|p| < 2¹⁹).
        precondition(max(inputWidth, inputHeight) <= 1 << 18, "input frame larger than 262144 pixels a side")
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.canvas = canvas
        self.padding = padding
        self.range = range
        self.threads = max(1, threads)

        lumaColumns = ColumnTable(count: outputWidth)
        chromaColumns = ColumnTable(count: (outputWidth + 1) / 2)
        lumaBlackRow = .allocate(capacity: inputWidth)
        lumaBlackRow.initialize(repeating: range.blackLuma, count: inputWidth)
        chromaBlackRow = .allocate(capacity: (inputWidth + 1) / 2)
        chromaBlackRow.initialize(repeating: range.blackChroma, count: (inputWidth + 1) / 2)
        scratchStride = inputWidth + 2 * PlaneJob.scratchMargin
        scratch = .allocate(capacity: scratchStride * self.threads)
        scratch.initialize(repeating: 0, count: scratchStride * self.threads)
    }

    deinit {
        lumaColumns.deallocate()
        chromaColumns.deallocate()
        lumaBlackRow.deallocate()
        chromaBlackRow.deallocate()
        scratch.deallocate()
    }

    /// Samples `destination` (output size) from `source` (input size) through `transform`.
    public func sample(_ transform: SourceTransform, from source: YUV420Frame, into destination: MutableYUV420Frame) {
        let chromaIn = ((inputWidth + 1) / 2, (inputHeight + 1) / 2)
        let chromaOut = ((outputWidth + 1) / 2, (outputHeight + 1) / 2)
        Self.check(source.y, inputWidth, inputHeight, "source Y")
        Self.check(source.u, chromaIn.0, chromaIn.1, "source U")
        Self.check(source.v, chromaIn.0, chromaIn.1, "source V")
        Self.check(destination.y, outputWidth, outputHeight, "destination Y")
        Self.check(destination.u, chromaOut.0, chromaOut.1, "destination U")
        Self.check(destination.v, chromaOut.0, chromaOut.1, "destination V")

        guard transform.isFinite else {
            Self.fill(destination.y, range.blackLuma)
            Self.fill(destination.u, range.blackChroma)
            Self.fill(destination.v, range.blackChroma)
            return
        }
        let h = transform.matrix
        let axisAligned = transform.isAffine && h.1 == 0 && h.3 == 0

        let lumaMap = PlaneMap(
            transform, canvas: canvas, inputWidth: inputWidth, inputHeight: inputHeight,
            outputWidth: outputWidth, outputHeight: outputHeight, subsampling: 1)
        let chromaMap = PlaneMap(
            transform, canvas: canvas, inputWidth: inputWidth, inputHeight: inputHeight,
            outputWidth: outputWidth, outputHeight: outputHeight, subsampling: 2)
        let lumaKernel = kernel(
            for: lumaMap, axisAligned: axisAligned, projective: !transform.isAffine,
            columns: lumaColumns, planeWidth: inputWidth)
        let chromaKernel = kernel(
            for: chromaMap, axisAligned: axisAligned, projective: !transform.isAffine,
            columns: chromaColumns, planeWidth: chromaIn.0)

        run(
            PlaneJob(
                source: source.y, destination: destination.y, map: lumaMap, kernel: lumaKernel,
                black: range.blackLuma, blackRow: lumaBlackRow, border: padding == .border))
        run(
            PlaneJob(
                source: source.u, destination: destination.u, map: chromaMap, kernel: chromaKernel,
                black: range.blackChroma, blackRow: chromaBlackRow, border: padding == .border))
        run(
            PlaneJob(
                source: source.v, destination: destination.v, map: chromaMap, kernel: chromaKernel,
                black: range.blackChroma, blackRow: chromaBlackRow, border: padding == .border))
    }

    /// Chooses the kernel for one plane: separable when θ is axis-aligned, with a vertical pass over
    /// the source span unless that span is much wider than the output (then per pixel).
    private func kernel(
        for map: PlaneMap, axisAligned: Bool, projective: Bool, columns: ColumnTable, planeWidth: Int
    ) -> PlaneJob.Kernel {
        if projective { return .projective }
        guard axisAligned else { return .affine }
        let span = columns.fill(map: map, planeWidth: planeWidth)
        // The vertical pass costs one lerp per span column and row, the per-pixel kernel about six
        // per output pixel: measured (pipelines/bench-sampler.sh, 1080p → 256²) they break even
        // near a span of 7–8 output widths.
        if span.upperBound - span.lowerBound + 1 > 6 * columns.count + 64 { return .sparseSeparable(columns) }
        return .separable(columns, span)
    }

    private func run(_ job: PlaneJob) {
        let rows = job.destination.height
        let chunks =
            threads > 1 && outputWidth * outputHeight >= Self.minimumPixelsForThreads
            ? min(threads, rows) : 1
        if chunks == 1 {
            job.sampleRows(0..<rows, scratch: scratch)
            return
        }
        let scratch = ScratchRows(base: scratch, stride: scratchStride)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let rowRange = (chunk * rows / chunks)..<((chunk + 1) * rows / chunks)
            job.sampleRows(rowRange, scratch: scratch.base + chunk * scratch.stride)
        }
    }

    private static func check(_ plane: PlaneBuffer, _ width: Int, _ height: Int, _ name: String) {
        precondition(
            plane.width == width && plane.height == height,
            "\(name) plane is \(plane.width)×\(plane.height), expected \(width)×\(height)")
    }

    private static func check(_ plane: MutablePlaneBuffer, _ width: Int, _ height: Int, _ name: String) {
        check(plane.readOnly, width, height, name)
    }

    private static func fill(_ plane: MutablePlaneBuffer, _ value: UInt8) {
        for row in 0..<plane.height {
            (plane.base + row * plane.stride).update(repeating: value, count: plane.width)
        }
    }
}

/// The per-thread scratch rows, passed into `concurrentPerform` (the sampler owns the memory).
private struct ScratchRows: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let stride: Int
}
