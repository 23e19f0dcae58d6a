@preconcurrency import CFFmpeg

/// One 8-bit 4:2:0 picture, owning its `AVFrame` (freed exactly once, in `deinit`).
///
/// Frames are handed from stage to stage, one owner at a time; that hand-off is
/// what makes the unchecked `Sendable` sound.
public final class VideoFrame: @unchecked Sendable {
    let frame: UnsafeMutablePointer<AVFrame>

    /// Timestamp in the input stream's time base, start time already subtracted.
    public internal(set) var pts: Int64 = 0
    /// `pts` in seconds.
    public internal(set) var ptsSeconds: Double = 0
    /// Buffers this frame allocated itself and keeps when recycled (turned-upright frames), so
    /// that the next frame reuses them instead of faulting in fresh pages.
    var keepsBuffers = false

    init() {
        guard let f = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        frame = f
    }

    /// A writable yuv420p frame of the given luma size (used for encoder input).
    public convenience init(width: Int, height: Int, fullRange: Bool = false) {
        self.init()
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = (fullRange ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P).rawValue
        frame.pointee.color_range = fullRange ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
        guard av_frame_get_buffer(frame, 32) >= 0 else { fatalError("av_frame_get_buffer: out of memory") }
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&p)
    }

    public var width: Int { Int(frame.pointee.width) }
    public var height: Int { Int(frame.pointee.height) }

    /// True for full-range ("JPEG") samples, where black is Y = 0 rather than 16.
    public var isFullRange: Bool {
        frame.pointee.color_range == AVCOL_RANGE_JPEG || frame.pointee.format == AV_PIX_FMT_YUVJ420P.rawValue
    }

    /// Width and height of plane 0 (Y) or 1, 2 (U, V: halved, rounded up).
    public func planeSize(_ plane: Int) -> (width: Int, height: Int) {
        plane == 0 ? (width, height) : ((width + 1) / 2, (height + 1) / 2)
    }

    /// Bytes from one row of `plane` to the next.
    public func stride(_ plane: Int) -> Int { Int(cff_frame_linesize(frame, Int32(plane))) }

    /// Start of `plane`'s samples, for reading.
    public func baseAddress(_ plane: Int) -> UnsafePointer<UInt8> {
        UnsafePointer(cff_frame_data(frame, Int32(plane))!)
    }

    /// Start of `plane`'s samples for writing; call `makeWritable()` first.
    public func mutableBaseAddress(_ plane: Int) -> UnsafeMutablePointer<UInt8> {
        cff_frame_data(frame, Int32(plane))!
    }

    /// Ensures no encoder still shares this frame's buffers before they are overwritten
    /// (`av_frame_make_writable`: copies only when the buffers are still referenced).
    public func makeWritable() {
        guard av_frame_make_writable(frame) >= 0 else { fatalError("av_frame_make_writable: out of memory") }
    }

    /// Sets the timestamps carried to the encoder.
    public func setTimestamp(pts: Int64, seconds: Double) {
        self.pts = pts
        self.ptsSeconds = seconds
    }
}
