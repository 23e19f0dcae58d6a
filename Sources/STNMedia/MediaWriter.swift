@preconcurrency import CFFmpeg
import Foundation
import STNRuntime

/// Encodes frames and muxes them, with the input's audio copied when the container takes it.
///
/// Owns the output `AVFormatContext`, the encoder and the output file. Call `finish()` to
/// flush the encoder and write the trailer; without it the file is closed unfinished. The
/// encoder's choice and quirks are in MediaWriter+Encoder.swift, the audio copy in
/// MediaWriter+AudioCopy.swift; this file is the muxer.
public final class MediaWriter: @unchecked Sendable {
    public let path: String
    /// The container actually used (e.g. "mp4", "nut").
    public let containerName: String
    /// The encoder actually used (e.g. "libx264").
    public let codecName: String
    /// Why the input's audio is not in the output, when it is not.
    public internal(set) var audioDropReason: String?
    public private(set) var framesWritten = 0

    let context: UnsafeMutablePointer<AVFormatContext>
    let encoder: UnsafeMutablePointer<AVCodecContext>
    let videoStream: UnsafeMutablePointer<AVStream>
    var audioStream: UnsafeMutablePointer<AVStream>?
    /// aac_adtstoasc for ADTS audio (MPEG-TS input) into a fragmented MP4 on a pipe: FFmpeg's
    /// muxer would add it itself, but only after the header is out, which is too late there
    /// (`ffmpeg -f mpegts -i - -c copy -movflags frag_keyframe+empty_moov -f mp4 -` fails the same way).
    var audioFilter: UnsafeMutablePointer<AVBSFContext>?
    private let filteredAudio = Packet()
    let frameTimeBase: AVRational
    let isPipe: Bool
    private let encodedPacket = Packet()
    private var lastEncoderPTS: Int64 = .min
    private var finished = false
    private var headerWritten = false
    /// Gives up a write that blocks on a pipe once the run is stopping (`abandonBlockedWrite`).
    private let cancellation: CancellationToken?
    /// True when writes may block on a reader (a pipe or a socket, standard output included).
    private let writesToStream: Bool

    /// Opens `path` (`-` is standard output) for writing; `format` overrides the container
    /// that the extension implies. Reads nothing from `audioSource` but its stream layout.
    /// With `cancellation`, a write blocked on a stalled pipe can be given up (the output then
    /// ends as a valid prefix; see `CancellationToken.abandonBlockedWrite`).
    public init(
        path: String, format: String?, video: OutputVideoFormat, settings: EncoderSettings,
        audioSource: MediaReader?, cancellation: CancellationToken? = nil
    ) throws {
        let name = path == "-" ? "standard output" : path
        self.path = name
        isPipe = path == "-"
        self.cancellation = cancellation
        writesToStream = FilePaths.writesMayBlock(path)
        // The same check avcodec_open2 makes (bytes per picture must fit an int), said up front.
        guard av_image_check_size(UInt32(clamping: video.width), UInt32(clamping: video.height), 0, nil) >= 0 else {
            throw MediaError(
                .unsupported, path: name,
                "output size \(video.width)x\(video.height) is too large for FFmpeg (at most about 268 million pixels)")
        }
        let url = isPipe ? "pipe:1" : path
        // A character device (/dev/null for a log-only run) has no extension to go by and keeps
        // nothing: the null muxer takes the frames without encoding them.
        let formatName = format ?? (isPipe ? "nut" : MediaWriter.isCharacterDevice(path) ? "null" : nil)

        var ctxOptional: UnsafeMutablePointer<AVFormatContext>? = nil
        let status = avformat_alloc_output_context2(&ctxOptional, nil, formatName, url)
        guard status >= 0, let ctx = ctxOptional, let oformat = ctx.pointee.oformat else {
            if let formatName {
                throw MediaError(.unsupported, path: name, "unknown output format '\(formatName)'")
            }
            throw MediaError(
                .unsupported, path: name,
                "cannot choose a container from the file name (use an extension such as .mp4, .mkv, .nut, .y4m, or --format)"
            )
        }
        context = ctx
        containerName = String(cString: oformat.pointee.name)

        // Everything below that fails must free the context; `deinit` does it once `encoder` exists,
        // so the encoder is chosen and allocated first.
        let chosen: UnsafePointer<AVCodec>
        do {
            chosen = try MediaWriter.chooseEncoder(settings.codec, container: oformat, path: name)
        } catch {
            avformat_free_context(ctx)
            throw error
        }
        codecName = String(cString: chosen.pointee.name)
        guard let enc = avcodec_alloc_context3(chosen), let st = avformat_new_stream(ctx, nil) else {
            fatalError("avcodec_alloc_context3: out of memory")
        }
        encoder = enc
        videoStream = st
        frameTimeBase = video.timeBase.av

        try configureEncoder(chosen, video: video, settings: settings, container: oformat)
        if let audioSource { addAudioStream(from: audioSource, container: oformat) }
        try openOutput()
    }

    deinit {
        if headerWritten && !finished {
            av_write_trailer(context)
        }
        if context.pointee.pb != nil && (context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            avio_closep(&context.pointee.pb)
        }
        var e: UnsafeMutablePointer<AVCodecContext>? = encoder
        avcodec_free_context(&e)
        av_bsf_free(&audioFilter)
        avformat_free_context(context)
    }

    private func openOutput() throws {
        let oformat = context.pointee.oformat!
        if (oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            let url = isPipe ? "pipe:1" : path
            let status =
                cancellation.map {
                    cff_avio_open_interruptible(&context.pointee.pb, url, AVIO_FLAG_WRITE, $0.writeInterruptFlag)
                }
                ?? avio_open(&context.pointee.pb, url, AVIO_FLAG_WRITE)
            guard status >= 0 else {
                throw MediaError(.cannotOpen, path: path, "cannot create: \(ffmpegErrorString(status))")
            }
        }
        var options = headerOptions()
        defer { av_dict_free(&options) }
        let status = blockingWrite { avformat_write_header(context, &options) }
        guard status >= 0 else {
            avio_closep(&context.pointee.pb)
            if !isPipe { unlink(path) }
            var reason = ffmpegErrorString(status)
            if let audio = audioStream {
                let name = String(cString: avcodec_get_name(audio.pointee.codecpar.pointee.codec_id))
                reason += " (with audio '\(name)'; try --no-audio)"
            }
            throw MediaError(.mux, path: path, "cannot write the container header: \(reason)")
        }
        headerWritten = true
    }

    /// Encodes one frame; its `pts` is in the input's time base.
    public func write(_ frame: VideoFrame) throws {
        let f = frame.frame
        var pts = av_rescale_q(frame.pts, frameTimeBase, encoder.pointee.time_base)
        // Rounding to a coarser time base must not repeat a timestamp.
        if pts <= lastEncoderPTS { pts = lastEncoderPTS + 1 }
        lastEncoderPTS = pts
        f.pointee.pts = pts
        f.pointee.pict_type = AV_PICTURE_TYPE_NONE
        let status = avcodec_send_frame(encoder, f)
        guard status >= 0 else { throw encodeError(status) }
        framesWritten += 1
        try drainEncoder()
    }

    /// Copies one audio packet (already shifted to start at 0) into the output, if it has audio.
    public func write(_ audio: AudioPacket) throws {
        guard let stream = audioStream else { return }
        if let filter = audioFilter {
            // A damaged ADTS packet is dropped.
            guard av_bsf_send_packet(filter, audio.packet.packet) >= 0 else { return }
            while av_bsf_receive_packet(filter, filteredAudio.packet) >= 0 {
                av_packet_free_side_data(filteredAudio.packet)  // our AudioSpecificConfig is already in the header
                try writeAudioPacket(filteredAudio.packet, timeBase: audio.timeBase, stream: stream)
            }
            return
        }
        try writeAudioPacket(audio.packet.packet, timeBase: audio.timeBase, stream: stream)
    }

    /// The dts of the last audio packet written, in the output stream's time base.
    private var lastAudioDTS: Int64?

    private func writeAudioPacket(
        _ p: UnsafeMutablePointer<AVPacket>, timeBase: AVRational,
        stream: UnsafeMutablePointer<AVStream>
    ) throws {
        av_packet_rescale_ts(p, timeBase, stream.pointee.time_base)
        // Copied audio can step back a little where an input's timeline was spliced (joined
        // transport streams overlap by a packet or two); muxers refuse that outright. As the
        // ffmpeg tool does, move such a packet just past the last one.
        if p.pointee.dts != noPTS {
            if let last = lastAudioDTS, p.pointee.dts <= last {
                if p.pointee.pts != noPTS { p.pointee.pts = max(p.pointee.pts, last + 1) }
                p.pointee.dts = last + 1
            }
            lastAudioDTS = p.pointee.dts
        }
        p.pointee.stream_index = stream.pointee.index
        p.pointee.pos = -1
        let status = blockingWrite { av_interleaved_write_frame(context, p) }
        guard status >= 0 else { throw writeError(status) }
    }

    /// Flushes the encoder, writes the trailer and closes the file. Call once.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        // The trailer is written whatever the flush ran into, so that the packets already muxed
        // stay playable (an MP4 without it has no index); the first error is reported after.
        var failure: MediaError?
        let status = avcodec_send_frame(encoder, nil)
        if status < 0 && status != FFStatus.eof {
            failure = encodeError(status)
        } else {
            do { try drainEncoder() } catch let error as MediaError { failure = error }
        }
        let trailer = blockingWrite { av_write_trailer(context) }
        if (context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            avio_closep(&context.pointee.pb)
        }
        if let failure { throw failure }
        guard trailer >= 0 else { throw writeError(trailer) }
    }

    private func drainEncoder() throws {
        while true {
            let status = avcodec_receive_packet(encoder, encodedPacket.packet)
            if status == FFStatus.again || status == FFStatus.eof { return }
            guard status >= 0 else { throw encodeError(status) }
            av_packet_rescale_ts(encodedPacket.packet, encoder.pointee.time_base, videoStream.pointee.time_base)
            encodedPacket.packet.pointee.stream_index = videoStream.pointee.index
            let written = blockingWrite { av_interleaved_write_frame(context, encodedPacket.packet) }
            guard written >= 0 else { throw writeError(written) }
        }
    }

    private func encodeError(_ status: Int32) -> MediaError {
        MediaError(.encode, path: path, "encoding failed: \(ffmpegErrorString(status))")
    }

    /// Runs a muxer call that may block on a stream's reader as the thread a stop can wake.
    private func blockingWrite(_ body: () -> Int32) -> Int32 {
        guard writesToStream, let cancellation else { return body() }
        return cancellation.duringBlockingWrite(body)
    }

    private func writeError(_ status: Int32) -> MediaError {
        if cancellation?.outputAbandoned == true {
            return MediaError(.interrupted, path: path, "output given up: its reader stopped reading")
        }
        if status == FFStatus.brokenPipe {
            return MediaError(.brokenPipe, path: path, "output pipe closed by the reader")
        }
        return MediaError(.mux, path: path, "write failed: \(ffmpegErrorString(status))")
    }

    private static func isCharacterDevice(_ path: String) -> Bool {
        var s = stat()
        return stat(FilePaths.local(path), &s) == 0 && (s.st_mode & S_IFMT) == S_IFCHR
    }
}
