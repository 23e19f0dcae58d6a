@preconcurrency import CFFmpeg

/// Decodes the input's video stream (`avcodec_send_packet` / `avcodec_receive_frame`).
final class VideoDecoder {
    let path: String
    let context: UnsafeMutablePointer<AVCodecContext>
    /// Packets the decoder rejected, or frames it could only conceal; decoding goes on, as FFmpeg does.
    private(set) var damagedPackets = 0
    /// Packets the decoder took, and frames it gave back: at the end, packets that gave no frame
    /// (an H.264 slice it could not start from, say) count as damaged too, not dropped in silence.
    private var packetsTaken = 0
    private var framesGiven = 0

    init(input: MediaInput, threads: Int) throws {
        path = input.path
        let stream = input.videoStream
        guard let codec = avcodec_find_decoder(stream.pointee.codecpar.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(stream.pointee.codecpar.pointee.codec_id))
            throw MediaError(.unsupported, path: path, "no decoder for video codec '\(name)'")
        }
        guard let ctx = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        context = ctx
        guard avcodec_parameters_to_context(ctx, stream.pointee.codecpar) >= 0 else {
            throw MediaError(.unsupported, path: path, "cannot configure the video decoder")
        }
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        ctx.pointee.thread_count = Int32(threads)  // 0 = FFmpeg chooses
        let status = avcodec_open2(ctx, codec, nil)
        guard status >= 0 else {
            throw MediaError(.unsupported, path: path, "cannot open the video decoder: \(ffmpegErrorString(status))")
        }
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&p)
    }

    /// Sends a packet, or nil to flush. A damaged packet is counted and skipped.
    func send(_ packet: Packet?) {
        if let packet, (packet.packet.pointee.flags & AV_PKT_FLAG_CORRUPT) != 0 {
            damagedPackets += 1
        }
        let status = avcodec_send_packet(context, packet?.packet)
        if status < 0 && status != FFStatus.eof && status != FFStatus.again {
            damagedPackets += 1
        } else if status >= 0 && packet != nil {
            packetsTaken += 1
        }
    }

    enum Received { case frame, needsInput, finished }

    /// Receives the next decoded frame into `frame` (its previous content is released).
    func receive(into frame: VideoFrame) -> Received {
        while true {
            av_frame_unref(frame.frame)
            let status = avcodec_receive_frame(context, frame.frame)
            if status >= 0 {
                framesGiven += 1
                if frame.frame.pointee.decode_error_flags != 0
                    || (frame.frame.pointee.flags & AV_FRAME_FLAG_CORRUPT) != 0
                {
                    damagedPackets += 1
                }
                return .frame
            }
            if status == FFStatus.again { return .needsInput }
            if status == FFStatus.eof {
                damagedPackets += max(0, packetsTaken - framesGiven)
                packetsTaken = framesGiven
                return .finished
            }
            // A frame the decoder could not reconstruct: count it, as ffmpeg does, and go on.
            damagedPackets += 1
        }
    }
}
