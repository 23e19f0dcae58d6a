@preconcurrency import CFFmpeg

/// The video encoder: which one a container gets, and the quirks of codecs that need more
/// than width, height and pixel format (x264 presets, MPEG quantisers, time bases).
extension MediaWriter {
    static func chooseEncoder(
        _ requested: String?, container: UnsafePointer<AVOutputFormat>,
        path: String
    ) throws -> UnsafePointer<AVCodec> {
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
                codec!.pointee.type == AVMEDIA_TYPE_VIDEO
            else {
                throw MediaError(.unsupported, path: path, "unknown video encoder '\(name)'")
            }
        } else {
            codec = avcodec_find_encoder(container.pointee.video_codec)
            guard codec != nil else {
                throw MediaError(.unsupported, path: path, "no video encoder for this container")
            }
        }
        if avformat_query_codec(container, codec!.pointee.id, FF_COMPLIANCE_NORMAL) == 0 {
            throw MediaError(
                .unsupported, path: path,
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
        throw MediaError(
            .unsupported, path: path,
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
    private static let x264Presets = [
        "ultrafast", "superfast", "veryfast", "faster", "fast",
        "medium", "slow", "slower", "veryslow", "placebo"
    ]

    func configureEncoder(
        _ codec: UnsafePointer<AVCodec>, video: OutputVideoFormat,
        settings: EncoderSettings, container: UnsafePointer<AVOutputFormat>
    ) throws {
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
        let needsFrameRateTimeBase =
            container == "yuv4mpegpipe" || container == "avi"
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
            throw MediaError(
                .unsupported, path: path,
                "encoder '\(codecName)' takes only full-range (JPEG) 4:2:0 frames and this video is limited range; choose another --codec"
            )
        }
        if ["mpeg4", "mpeg1video", "mpeg2video"].contains(codecName) && settings.bitrate == nil {
            // These encoders' default 200 kb/s is unwatchable; a fixed quantiser like `-q:v 4` is not.
            enc.pointee.flags |= AV_CODEC_FLAG_QSCALE
            enc.pointee.global_quality = FF_QP2LAMBDA * 4
        }
        if codecName == "libx264" || codecName == "libx265" {
            if let preset = settings.preset {
                guard MediaWriter.x264Presets.contains(preset.lowercased()) else {
                    throw MediaError(
                        .unsupported, path: path,
                        "unknown --preset '\(preset)' for \(codecName) (it takes \(MediaWriter.x264Presets.joined(separator: ", ")))"
                    )
                }
                av_opt_set(enc.pointee.priv_data, "preset", preset.lowercased(), 0)
            }
            if let crf = settings.crf, settings.bitrate == nil {
                // Both take 0–51 for 8-bit video; past that they fail to open with "Invalid argument".
                guard (0...51).contains(crf) else {
                    throw MediaError(
                        .unsupported, path: path,
                        "--crf \(String(format: "%g", crf)) is out of range for \(codecName) (it takes 0–51)")
                }
                av_opt_set_double(enc.pointee.priv_data, "crf", crf, 0)
            }
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
}
