@preconcurrency import CFFmpeg
import STNRuntime

/// What the pipeline needs to know about the input's video stream.
public struct VideoStreamInfo: Sendable {
    public let width: Int
    public let height: Int
    /// The decoder's pixel format name (e.g. "yuv420p"); frames are converted to 4:2:0 when it differs.
    public let pixelFormat: String
    public let frameRate: Rational
    public let timeBase: Rational
    /// Frames the container announces, or an estimate from the duration; nil when unknown (pipes).
    public let expectedFrameCount: Int?
    public let hasAudio: Bool
    /// Audio streams not copied: only the best one is (as ffmpeg does without -map).
    public let otherAudioStreams: Int
    /// Clockwise degrees (0, 90, 180, 270) the stored frames are turned to stand upright, as
    /// the stream's display matrix asks; `width` and `height` are the upright picture's.
    public let rotation: Int
}

/// A demuxer over a path, a URL, or standard input (`-`), owning its `AVFormatContext`.
final class MediaInput {
    let path: String
    let context: UnsafeMutablePointer<AVFormatContext>
    let videoStreamIndex: Int
    let audioStreamIndex: Int?
    /// The container's start time in AV_TIME_BASE units; subtracted from every stream so output starts at 0.
    let startTime: Int64
    /// Stops blocking reads (FFmpeg's interrupt callback polls it).
    let cancellation: CancellationToken

    init(path: String, format: String?, cancellation: CancellationToken) throws {
        self.cancellation = cancellation
        let name = path == "-" ? "standard input" : path
        self.path = name
        let url = path == "-" ? "pipe:0" : path
        var inputFormat: UnsafePointer<AVInputFormat>? = nil
        if let format {
            guard let f = av_find_input_format(format) else {
                throw MediaError(.unsupported, path: name, "unknown input format '\(format)'")
            }
            inputFormat = f
        }
        guard var ctx = avformat_alloc_context() else { fatalError("avformat_alloc_context: out of memory") }
        cff_install_interrupt(ctx, cancellation.readInterruptFlag)
        var ctxOptional: UnsafeMutablePointer<AVFormatContext>? = ctx
        let status = cancellation.duringBlockingRead { avformat_open_input(&ctxOptional, url, inputFormat, nil) }
        guard status >= 0, let opened = ctxOptional else {
            // avformat_open_input frees the context on failure.
            throw MediaError(.cannotOpen, path: name, MediaInput.openFailureReason(status, path: path, format: format))
        }
        ctx = opened
        let probed = cancellation.duringBlockingRead { avformat_find_stream_info(ctx, nil) }
        // A signal while probing (a pipe that stalls before enough data came) ends the run
        // before any output exists, as a signal while opening does.
        if probed < 0 || cancellation.isCancelled {
            var p: UnsafeMutablePointer<AVFormatContext>? = ctx
            avformat_close_input(&p)
            throw MediaError(
                .cannotOpen, path: name,
                cancellation.isCancelled
                    ? "interrupted while opening"
                    : "cannot read stream information (not a media file?)")
        }
        let video = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard video >= 0 else {
            var p: UnsafeMutablePointer<AVFormatContext>? = ctx
            avformat_close_input(&p)
            throw MediaError(.noVideoStream, path: name, "no video stream")
        }
        let audio = av_find_best_stream(ctx, AVMEDIA_TYPE_AUDIO, -1, video, nil, 0)
        context = ctx
        videoStreamIndex = Int(video)
        audioStreamIndex = audio >= 0 ? Int(audio) : nil
        startTime = ctx.pointee.start_time == noPTS ? 0 : ctx.pointee.start_time
        let copied = audio >= 0 ? Int(audio) : -1
        otherAudioStreams =
            (0..<Int(ctx.pointee.nb_streams)).filter { index in
                index != copied && ctx.pointee.streams[index]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO
            }.count
    }

    /// Audio streams besides the one copied (ffmpeg's default mapping also takes one).
    let otherAudioStreams: Int

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&p)
    }

    private static func openFailureReason(_ status: Int32, path: String, format: String?) -> String {
        if status == cff_averror(ENOENT) { return "no such file" }
        if status == cff_averror(EACCES) { return "permission denied" }
        if status == FFStatus.exit { return "interrupted while opening" }
        if let format { return "cannot be read as '\(format)' (--input-format): \(ffmpegErrorString(status))" }
        if status == FFStatus.invalidData {
            if MP4Boxes.lacksIndex(path) {
                return "moov atom not found: the MP4's index is missing (the file is cut short, or still being written)"
            }
            return "not a media file (invalid data found when processing input)"
        }
        return ffmpegErrorString(status)
    }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        context.pointee.streams[index]!
    }

    var videoStream: UnsafeMutablePointer<AVStream> { stream(videoStreamIndex) }

    /// The start time in `index`'s time base.
    func startTime(inStream index: Int) -> Int64 {
        av_rescale_q(startTime, cff_time_base_q(), stream(index).pointee.time_base)
    }

    /// Guessed average frame rate of the video stream (`av_guess_frame_rate`), 25/1 if unknown.
    var frameRate: Rational {
        let r = av_guess_frame_rate(context, videoStream, nil)
        return r.num > 0 && r.den > 0 ? Rational(r) : Rational(25, 1)
    }

    var expectedFrameCount: Int? {
        let s = videoStream.pointee
        if s.nb_frames > 0 { return Int(s.nb_frames) }
        let duration: Double
        if s.duration != noPTS && s.duration > 0 {
            duration = Double(s.duration) * av_q2d(s.time_base)
        } else if context.pointee.duration != noPTS && context.pointee.duration > 0 {
            duration = Double(context.pointee.duration) / Double(AV_TIME_BASE)
        } else {
            return nil
        }
        return Int((duration * frameRate.doubleValue).rounded())
    }

    /// Reads the next packet into `packet`. Returns false at the end of the input.
    /// A read stopped by the cancellation token also returns false.
    func read(into packet: Packet) throws -> Bool {
        packet.unref()
        let status = cancellation.duringBlockingRead { av_read_frame(context, packet.packet) }
        if status >= 0 { return true }
        if status == FFStatus.eof || status == FFStatus.exit { return false }
        if cancellation.isCancelled { return false }
        var reason = "read failed: \(ffmpegErrorString(status))"
        if path == "standard input", let name = context.pointee.iformat?.pointee.name,
            String(cString: name).contains("mp4")
        {
            reason +=
                " (an MP4 on a pipe needs its index first: pipe nut, matroska or mpegts, or an MP4 made with -movflags +faststart)"
        }
        throw MediaError(.decode, path: path, reason)
    }
}
