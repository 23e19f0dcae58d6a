@preconcurrency import CFFmpeg
import Foundation

/// Encodes frames and muxes them, with the input's audio copied when the container takes it.
///
/// Owns the output `AVFormatContext`, the encoder and the output file. Call `finish()` to
/// flush the encoder and write the trailer; without it the file is closed unfinished.
public final class MediaWriter: @unchecked Sendable {
    public let path: String
    /// The container actually used (e.g. "mp4", "nut").
    public let containerName: String
    /// The encoder actually used (e.g. "libx264").
    public let codecName: String
    /// Why the input's audio is not in the output, when it is not.
    public private(set) var audioDropReason: String?
    public private(set) var framesWritten = 0

    private let context: UnsafeMutablePointer<AVFormatContext>
    private let encoder: UnsafeMutablePointer<AVCodecContext>
    private let videoStream: UnsafeMutablePointer<AVStream>
    private var audioStream: UnsafeMutablePointer<AVStream>?
    /// aac_adtstoasc for ADTS audio (MPEG-TS input) into a fragmented MP4 on a pipe: FFmpeg's
    /// muxer would add it itself, but only after the header is out, which is too late there
    /// (`ffmpeg -f mpegts -i - -c copy -movflags frag_keyframe+empty_moov -f mp4 -` fails the same way).
    private var audioFilter: UnsafeMutablePointer<AVBSFContext>?
    private let filteredAudio = Packet()
    private let frameTimeBase: AVRational
    private let isPipe: Bool
    private let encodedPacket = Packet()
    private var lastEncoderPTS: Int64 = .min
    private var finished = false
    private var headerWritten = false

    /// Opens `path` (`-` is standard output) for writing; `format` overrides the container
    /// that the extension implies. Reads nothing from `audioSource` but its stream layout.
    public init(path: String, format: String?, video: OutputVideoFormat, settings: EncoderSettings,
                audioSource: MediaReader?) throws {
        let name = path == "-" ? "standard output" : path
        self.path = name
        isPipe = path == "-"
        // The same check avcodec_open2 makes (bytes per picture must fit an int), said up front.
        guard av_image_check_size(UInt32(clamping: video.width), UInt32(clamping: video.height), 0, nil) >= 0 else {
            throw MediaError(.unsupported, path: name,
                             "output size \(video.width)x\(video.height) is too large for FFmpeg (at most about 268 million pixels)")
        }
        let url = isPipe ? "pipe:1" : path
        let formatName = format ?? (isPipe ? "nut" : nil)

        var ctxOptional: UnsafeMutablePointer<AVFormatContext>? = nil
        let status = avformat_alloc_output_context2(&ctxOptional, nil, formatName, url)
        guard status >= 0, let ctx = ctxOptional, let oformat = ctx.pointee.oformat else {
            if let formatName {
                throw MediaError(.unsupported, path: name, "unknown output format '\(formatName)'")
            }
            throw MediaError(.unsupported, path: name,
                             "cannot choose a container from the file name (use an extension such as .mp4, .mkv, .nut, .y4m, or --format)")
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

    private static func chooseEncoder(_ requested: String?, container: UnsafePointer<AVOutputFormat>,
                                      path: String) throws -> UnsafePointer<AVCodec> {
        let isY4M = String(cString: container.pointee.name) == "yuv4mpegpipe"
        var name = requested
        if name == nil {
            if isY4M {
                name = "wrapped_avframe"
            } else if takesH264(container), avcodec_find_encoder_by_name("libx264") != nil {
                name = "libx264"
            }
        } else if name == "rawvideo" && isY4M {
            // FFmpeg 5.1's y4m muxer takes uncompressed frames only as wrapped_avframe.
            name = "wrapped_avframe"
        }
        let codec: UnsafePointer<AVCodec>?
        if let name {
            codec = avcodec_find_encoder_by_name(name)
            guard codec != nil, av_codec_is_encoder(codec) != 0,
                  codec!.pointee.type == AVMEDIA_TYPE_VIDEO else {
                throw MediaError(.unsupported, path: path, "unknown video encoder '\(name)'")
            }
        } else {
            codec = avcodec_find_encoder(container.pointee.video_codec)
            guard codec != nil else {
                throw MediaError(.unsupported, path: path, "no video encoder for this container")
            }
        }
        if avformat_query_codec(container, codec!.pointee.id, FF_COMPLIANCE_NORMAL) == 0 {
            throw MediaError(.unsupported, path: path,
                             "container '\(String(cString: container.pointee.name))' cannot hold codec '\(requested ?? name ?? "")'")
        }
        try checkTakesYUV420P(codec!, path: path)
        return codec!
    }

    /// Whether H.264 is at home in `container`. The muxer's own answer is 1, 0, or negative for
    /// "unknown": MPEG-TS has no codec list to ask, yet H.264 is one of its standard stream
    /// types (ISO 13818-1, 0x1B), as in every transport stream broadcast or streamed today.
    private static func takesH264(_ container: UnsafePointer<AVOutputFormat>) -> Bool {
        let answer = avformat_query_codec(container, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL)
        return answer == 1 || (answer < 0 && String(cString: container.pointee.name) == "mpegts")
    }

    /// The pipeline hands the encoder 8-bit 4:2:0 frames and converts nothing, so an encoder
    /// that takes only other formats (gif and apng take RGB or palettes, prores and dnxhd 4:2:2)
    /// would fail to open with a bare "Invalid argument": name it and what it takes instead.
    private static func checkTakesYUV420P(_ codec: UnsafePointer<AVCodec>, path: String) throws {
        guard let formats = codec.pointee.pix_fmts else { return }  // no list: takes any (rawvideo)
        var names: [String] = []
        var i = 0
        while formats[i] != AV_PIX_FMT_NONE {
            if formats[i] == AV_PIX_FMT_YUV420P { return }
            if let n = av_get_pix_fmt_name(formats[i]) { names.append(String(cString: n)) }
            i += 1
        }
        throw MediaError(.unsupported, path: path,
                         "encoder '\(String(cString: codec.pointee.name))' does not take 8-bit 4:2:0 frames "
                         + "(it takes \(names.joined(separator: ", "))); choose another container or --codec")
    }

    /// The encoder's frame rate: the input's, or the nearest one the codec lists when it takes
    /// only a fixed set (MPEG-1/2), as the ffmpeg command line does.
    private static func encoderFrameRate(_ codec: UnsafePointer<AVCodec>, _ rate: AVRational) -> AVRational {
        guard let rates = codec.pointee.supported_framerates else { return rate }
        return rates[Int(av_find_nearest_q_idx(rate, rates))]
    }

    /// x264's and x265's speed presets; either library refuses any other name with only
    /// "Invalid argument".
    private static let x264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast",
                                      "medium", "slow", "slower", "veryslow", "placebo"]

    private func configureEncoder(_ codec: UnsafePointer<AVCodec>, video: OutputVideoFormat,
                                  settings: EncoderSettings, container: UnsafePointer<AVOutputFormat>) throws {
        let enc = encoder
        enc.pointee.width = Int32(video.width)
        enc.pointee.height = Int32(video.height)
        enc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        enc.pointee.color_range = video.fullRange ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
        enc.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        let frameRate = MediaWriter.encoderFrameRate(codec, video.frameRate.av)
        enc.pointee.framerate = frameRate
        // The input's time base keeps every timestamp exact, so a variable frame rate survives.
        // Some containers and codecs count frames instead and need 1/frame rate: y4m and avi
        // store the frame rate as the time base; Theora takes the time base as its frame rate
        // (with 1/12800 it wrote 5 frames of 50); MPEG-1/2 take it only from their table of
        // standard rates; MPEG-4 part 2 limits its denominator to 16 bits. `write` rescales.
        let container = String(cString: container.pointee.name)
        let codecName = String(cString: codec.pointee.name)
        let needsFrameRateTimeBase = container == "yuv4mpegpipe" || container == "avi"
            || codec.pointee.id == AV_CODEC_ID_THEORA || codec.pointee.supported_framerates != nil
            || (codecName == "mpeg4" && frameTimeBase.den > 65535)
        enc.pointee.time_base = needsFrameRateTimeBase ? av_inv_q(frameRate) : frameTimeBase
        enc.pointee.thread_count = Int32(settings.threads)
        if (context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 {
            enc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        if let bitrate = settings.bitrate { enc.pointee.bit_rate = Int64(bitrate) }
        if (codec.pointee.id == AV_CODEC_ID_MJPEG || codec.pointee.id == AV_CODEC_ID_LJPEG) && !video.fullRange {
            // JPEG means full-range samples; FFmpeg refuses limited range unless told to write
            // non-standard files, which players would show washed out. Converting is not done here.
            throw MediaError(.unsupported, path: path,
                             "encoder '\(codecName)' takes only full-range (JPEG) 4:2:0 frames and this video is limited range; choose another --codec")
        }
        if ["mpeg4", "mpeg1video", "mpeg2video"].contains(codecName) && settings.bitrate == nil {
            // These encoders' default 200 kb/s is unwatchable; a fixed quantiser like `-q:v 4` is not.
            enc.pointee.flags |= AV_CODEC_FLAG_QSCALE
            enc.pointee.global_quality = FF_QP2LAMBDA * 4
        }
        if codecName == "libx264" || codecName == "libx265" {
            if let preset = settings.preset {
                guard MediaWriter.x264Presets.contains(preset.lowercased()) else {
                    throw MediaError(.unsupported, path: path,
                                     "unknown --preset '\(preset)' for \(codecName) (it takes \(MediaWriter.x264Presets.joined(separator: ", ")))")
                }
                av_opt_set(enc.pointee.priv_data, "preset", preset.lowercased(), 0)
            }
            if let crf = settings.crf, settings.bitrate == nil { av_opt_set_double(enc.pointee.priv_data, "crf", crf, 0) }
            if codecName == "libx265" { av_opt_set(enc.pointee.priv_data, "x265-params", "log-level=error", 0) }
        }
        var options: OpaquePointer? = nil
        defer { av_dict_free(&options) }
        let status = avcodec_open2(enc, codec, &options)
        guard status >= 0 else {
            throw MediaError(.encode, path: path, "cannot open encoder '\(codecName)': \(ffmpegErrorString(status))")
        }
        videoStream.pointee.time_base = enc.pointee.time_base
        videoStream.pointee.avg_frame_rate = frameRate
        guard avcodec_parameters_from_context(videoStream.pointee.codecpar, enc) >= 0 else {
            throw MediaError(.encode, path: path, "cannot configure the video stream")
        }
    }

    private func addAudioStream(from reader: MediaReader, container: UnsafePointer<AVOutputFormat>) {
        guard let index = reader.input.audioStreamIndex else { return }
        let source = reader.input.stream(index)
        let codecID = source.pointee.codecpar.pointee.codec_id
        let codecName = String(cString: avcodec_get_name(codecID))
        if container.pointee.audio_codec == AV_CODEC_ID_NONE
            || avformat_query_codec(container, codecID, FF_COMPLIANCE_NORMAL) == 0 {
            audioDropReason = "container '\(containerName)' cannot hold audio codec '\(codecName)'; audio dropped"
            return
        }
        let needsASC = codecID == AV_CODEC_ID_AAC && source.pointee.codecpar.pointee.extradata_size == 0 && isPipe
            && (containerName == "mp4" || containerName == "mov" || containerName == "ipod")
        // Some refusals come only from the muxer's own checks when the header is written (FLAC
        // in MP4 is "experimental", Opus in MOV "only supported in MP4", AAC in MPEG-PS or Ogg):
        // try them first, and drop the audio like any the container cannot hold, unless the
        // video alone fails too (then the header error is the video's, reported as such).
        let status = dryRunHeader(audio: source, addingASC: needsASC)
        if status < 0 && dryRunHeader(audio: nil, addingASC: false) >= 0 {
            let why = status == MediaWriter.experimentalFeature ? " (FFmpeg's support for it is experimental)" : ""
            audioDropReason = "container '\(containerName)' cannot hold audio codec '\(codecName)'\(why); audio dropped"
            return
        }
        guard let st = avformat_new_stream(context, nil) else { fatalError("avformat_new_stream: out of memory") }
        MediaWriter.copyAudioParameters(from: source, to: st, addingASC: needsASC)
        if needsASC {
            var filter: UnsafeMutablePointer<AVBSFContext>? = nil
            if let adts = av_bsf_get_by_name("aac_adtstoasc"), av_bsf_alloc(adts, &filter) >= 0, let filter {
                avcodec_parameters_copy(filter.pointee.par_in, source.pointee.codecpar)
                filter.pointee.time_base_in = source.pointee.time_base
                if av_bsf_init(filter) >= 0 {
                    audioFilter = filter
                } else {
                    var f: UnsafeMutablePointer<AVBSFContext>? = filter
                    av_bsf_free(&f)
                }
            }
        }
        audioStream = st
    }

    /// The output's audio stream as `source` is copied: its parameters without the input
    /// container's tag (which may mean nothing in ours), its time base.
    private static func copyAudioParameters(from source: UnsafeMutablePointer<AVStream>,
                                            to stream: UnsafeMutablePointer<AVStream>, addingASC: Bool) {
        avcodec_parameters_copy(stream.pointee.codecpar, source.pointee.codecpar)
        stream.pointee.codecpar.pointee.codec_tag = 0
        stream.pointee.time_base = source.pointee.time_base
        if addingASC { addAudioSpecificConfig(to: stream.pointee.codecpar) }
    }

    /// AVERROR_EXPERIMENTAL, a macro Swift cannot import.
    private static let experimentalFeature: Int32 = -0x2bb2_afa8

    /// Writes the header of a scratch copy of this output into memory, the video stream as
    /// configured plus `audio` if given, and returns the status: the muxer's checks live in its
    /// init or, for older muxers (mpeg), in its header writer. Muxers that open their own files
    /// (segment, hls, image2…) are not tried: they would write beside the output.
    private func dryRunHeader(audio: UnsafeMutablePointer<AVStream>?, addingASC: Bool) -> Int32 {
        let oformat = context.pointee.oformat!
        guard (oformat.pointee.flags & AVFMT_NOFILE) == 0 else { return 0 }
        var scratchOptional: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_alloc_output_context2(&scratchOptional, oformat, nil, nil) >= 0,
              let scratch = scratchOptional else { return 0 }
        defer {
            if let pb = scratch.pointee.pb {
                var bytes: UnsafeMutablePointer<UInt8>? = nil
                avio_close_dyn_buf(pb, &bytes)
                av_free(bytes)
                scratch.pointee.pb = nil
            }
            avformat_free_context(scratch)
        }
        guard let video = avformat_new_stream(scratch, nil),
              avio_open_dyn_buf(&scratch.pointee.pb) >= 0 else { return 0 }
        // A memory buffer can seek; say so where the real output can, as mp4 checks.
        scratch.pointee.pb.pointee.seekable = isPipe ? 0 : AVIO_SEEKABLE_NORMAL
        avcodec_parameters_copy(video.pointee.codecpar, videoStream.pointee.codecpar)
        video.pointee.time_base = videoStream.pointee.time_base
        if let audio {
            guard let st = avformat_new_stream(scratch, nil) else { return 0 }
            MediaWriter.copyAudioParameters(from: audio, to: st, addingASC: addingASC)
        }
        var options = headerOptions()
        defer { av_dict_free(&options) }
        return avformat_write_header(scratch, &options)
    }

    /// Muxer options for the header.
    private func headerOptions() -> OpaquePointer? {
        var options: OpaquePointer? = nil
        if isPipe && (containerName == "mp4" || containerName == "mov" || containerName == "ipod") {
            // A pipe cannot seek back to write the index: fragment instead.
            av_dict_set(&options, "movflags", "frag_keyframe+empty_moov", 0)
        }
        return options
    }

    /// ADTS AAC (from MPEG-TS) carries its configuration in every packet, not in extradata; a
    /// fragmented MP4 writes its header before any packet, so it needs the 2-byte
    /// AudioSpecificConfig up front (ISO 14496-3 §1.6.2.1). The muxer strips the ADTS headers.
    private static func addAudioSpecificConfig(to parameters: UnsafeMutablePointer<AVCodecParameters>) {
        let rates: [Int32] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]
        guard let rateIndex = rates.firstIndex(of: parameters.pointee.sample_rate) else { return }
        let channels = Int(parameters.pointee.ch_layout.nb_channels)
        guard (1...7).contains(channels) else { return }
        let profile = Int(parameters.pointee.profile)
        let objectType = profile >= 0 ? profile + 1 : 2  // FF_PROFILE_AAC_LOW = 1 → AAC LC = 2 (also when unknown)
        guard objectType < 31, let data = av_mallocz(2 + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else { return }
        let bytes = data.assumingMemoryBound(to: UInt8.self)
        bytes[0] = UInt8(objectType << 3 | rateIndex >> 1)
        bytes[1] = UInt8((rateIndex & 1) << 7 | channels << 3)
        parameters.pointee.extradata = bytes
        parameters.pointee.extradata_size = 2
    }

    private func openOutput() throws {
        let oformat = context.pointee.oformat!
        if (oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            let status = avio_open(&context.pointee.pb, isPipe ? "pipe:1" : path, AVIO_FLAG_WRITE)
            guard status >= 0 else {
                throw MediaError(.cannotOpen, path: path, "cannot create: \(ffmpegErrorString(status))")
            }
        }
        var options = headerOptions()
        defer { av_dict_free(&options) }
        let status = avformat_write_header(context, &options)
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
        if pts <= lastEncoderPTS { pts = lastEncoderPTS + 1 }  // rounding to a coarser time base must not repeat a timestamp
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
            guard av_bsf_send_packet(filter, audio.packet.packet) >= 0 else { return }  // a damaged ADTS packet is dropped
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

    private func writeAudioPacket(_ p: UnsafeMutablePointer<AVPacket>, timeBase: AVRational,
                                  stream: UnsafeMutablePointer<AVStream>) throws {
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
        let status = av_interleaved_write_frame(context, p)
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
        let trailer = av_write_trailer(context)
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
            let written = av_interleaved_write_frame(context, encodedPacket.packet)
            guard written >= 0 else { throw writeError(written) }
        }
    }

    private func encodeError(_ status: Int32) -> MediaError {
        MediaError(.encode, path: path, "encoding failed: \(ffmpegErrorString(status))")
    }

    private func writeError(_ status: Int32) -> MediaError {
        if status == FFStatus.brokenPipe {
            return MediaError(.brokenPipe, path: path, "output pipe closed by the reader")
        }
        return MediaError(.mux, path: path, "write failed: \(ffmpegErrorString(status))")
    }
}
