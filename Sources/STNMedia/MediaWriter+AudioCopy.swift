@preconcurrency import CFFmpeg

/// The input's audio, copied without re-encoding: whether the container takes it (asked of the
/// muxer, then tried on a header written to memory), its parameters, and the AAC configuration
/// a fragmented MP4 on a pipe needs up front.
extension MediaWriter {
    func addAudioStream(from reader: MediaReader, container: UnsafePointer<AVOutputFormat>) {
        guard let index = reader.input.audioStreamIndex else { return }
        let source = reader.input.stream(index)
        let codecID = source.pointee.codecpar.pointee.codec_id
        let codecName = String(cString: avcodec_get_name(codecID))
        if container.pointee.audio_codec == AV_CODEC_ID_NONE
            || avformat_query_codec(container, codecID, FF_COMPLIANCE_NORMAL) == 0
        {
            audioDropReason = "container '\(containerName)' cannot hold audio codec '\(codecName)'; audio dropped"
            return
        }
        let needsASC =
            codecID == AV_CODEC_ID_AAC && source.pointee.codecpar.pointee.extradata_size == 0 && isPipe
            && (containerName == "mp4" || containerName == "mov" || containerName == "ipod")
        // Some refusals come only from the muxer's own checks when the header is written (FLAC
        // in MP4 is "experimental", Opus in MOV "only supported in MP4", AAC in MPEG-PS or Ogg):
        // try them first, and drop the audio like any the container cannot hold, unless the
        // video alone fails too (then the header error is the video's, reported as such).
        let status = dryRunHeader(audio: source, addingASC: needsASC)
        if status < 0 && dryRunHeader(audio: nil, addingASC: false) >= 0 {
            let why = status == FFStatus.experimental ? " (FFmpeg's support for it is experimental)" : ""
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
    private static func copyAudioParameters(
        from source: UnsafeMutablePointer<AVStream>,
        to stream: UnsafeMutablePointer<AVStream>, addingASC: Bool
    ) {
        avcodec_parameters_copy(stream.pointee.codecpar, source.pointee.codecpar)
        stream.pointee.codecpar.pointee.codec_tag = 0
        stream.pointee.time_base = source.pointee.time_base
        if addingASC { addAudioSpecificConfig(to: stream.pointee.codecpar) }
    }

    /// Writes the header of a scratch copy of this output into memory, the video stream as
    /// configured plus `audio` if given, and returns the status: the muxer's checks live in its
    /// init or, for older muxers (mpeg), in its header writer. Muxers that open their own files
    /// (segment, hls, image2…) are not tried: they would write beside the output.
    private func dryRunHeader(audio: UnsafeMutablePointer<AVStream>?, addingASC: Bool) -> Int32 {
        let oformat = context.pointee.oformat!
        guard (oformat.pointee.flags & AVFMT_NOFILE) == 0 else { return 0 }
        var scratchOptional: UnsafeMutablePointer<AVFormatContext>? = nil
        guard avformat_alloc_output_context2(&scratchOptional, oformat, nil, nil) >= 0,
            let scratch = scratchOptional
        else { return 0 }
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
            avio_open_dyn_buf(&scratch.pointee.pb) >= 0
        else { return 0 }
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
    func headerOptions() -> OpaquePointer? {
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
}
