@preconcurrency import CFFmpeg

/// Converts decoded frames of any pixel format to 8-bit 4:2:0 once, with libswscale,
/// so the sampler only ever sees yuv420p (or yuvj420p for full range).
final class PixelFormatConverter {
    private var context: OpaquePointer?
    private var sourceFormat: Int32 = -1
    private var sourceWidth = 0
    private var sourceHeight = 0

    deinit { sws_freeContext(context) }

    static func needsConversion(_ frame: VideoFrame) -> Bool {
        let f = frame.frame.pointee.format
        return f != AV_PIX_FMT_YUV420P.rawValue && f != AV_PIX_FMT_YUVJ420P.rawValue
    }

    /// Writes `source` converted to limited-range yuv420p into `destination`.
    func convert(_ source: VideoFrame, into destination: VideoFrame, path: String) throws {
        let s = source.frame.pointee
        if context == nil || s.format != sourceFormat || Int(s.width) != sourceWidth || Int(s.height) != sourceHeight {
            sws_freeContext(context)
            context = sws_getContext(
                s.width, s.height, AVPixelFormat(rawValue: s.format),
                s.width, s.height, AV_PIX_FMT_YUV420P,
                SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nil, nil, nil)
            guard context != nil else {
                let name =
                    av_get_pix_fmt_name(AVPixelFormat(rawValue: s.format)).map { String(cString: $0) } ?? "\(s.format)"
                throw MediaError(.unsupported, path: path, "cannot convert pixel format '\(name)' to yuv420p")
            }
            sourceFormat = s.format
            sourceWidth = Int(s.width)
            sourceHeight = Int(s.height)
        }
        destination.makeWritable()
        let status = sws_scale(
            context,
            UnsafePointer(cff_frame_data_array(source.frame)).withMemoryRebound(
                to: UnsafePointer<UInt8>?.self, capacity: 8
            ) { $0 },
            cff_frame_linesize_array(source.frame), 0, s.height,
            cff_frame_data_array(destination.frame), cff_frame_linesize_array(destination.frame))
        guard status > 0 else { throw MediaError(.decode, path: path, "pixel format conversion failed") }
    }
}
