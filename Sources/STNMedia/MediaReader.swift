@preconcurrency import CFFmpeg
import Foundation
import STNRuntime

/// Streams an input's decoded video frames (as 8-bit 4:2:0) and its audio packets, in demux order.
///
/// Owns the demuxer, the decoder and the pixel-format converter; use it from one thread.
public final class MediaReader: @unchecked Sendable {
    public enum Item {
        case video(VideoFrame)
        case audio(AudioPacket)
    }

    public let path: String
    public let info: VideoStreamInfo
    let input: MediaInput
    private let decoder: VideoDecoder
    private let converter = PixelFormatConverter()
    private let packet = Packet()
    private var decoderFlushed = false
    private var finished = false
    /// The turn that makes the stored frames upright; `info` gives the upright size.
    let rotation: FrameRotation
    private let videoStartTime: Int64
    private let videoTimeBase: Double
    private var lastPTS: Int64 = .min
    private var frameDuration: Int64
    private var discontinuities: TimestampDiscontinuities

    /// Damaged packets skipped so far.
    public var damagedPackets: Int { decoder.damagedPackets }

    /// Opens `path` (`-` is standard input); `format` names the demuxer (`--input-format`).
    /// Reading ends early, as at the end of the input, once `cancellation` is set.
    public init(
        path: String, format: String? = nil, threads: Int = 0, cancellation: CancellationToken = CancellationToken()
    ) throws {
        self.path = path == "-" ? "standard input" : path
        input = try MediaInput(path: path, format: format, cancellation: cancellation)
        decoder = try VideoDecoder(input: input, threads: threads)
        let stream = input.videoStream.pointee
        let codec = stream.codecpar.pointee
        let formatName =
            av_get_pix_fmt_name(AVPixelFormat(rawValue: codec.format)).map { String(cString: $0) } ?? "unknown"
        guard codec.width > 0, codec.height > 0 else {
            throw MediaError(.unsupported, path: path, "video stream has no picture size")
        }
        discontinuities = TimestampDiscontinuities(format: input.context.pointee.iformat)
        rotation = FrameRotation(stream: input.videoStream)
        let (width, height) =
            rotation.swapsSides ? (Int(codec.height), Int(codec.width)) : (Int(codec.width), Int(codec.height))
        info = VideoStreamInfo(
            width: width, height: height, pixelFormat: formatName,
            frameRate: input.frameRate, timeBase: Rational(stream.time_base),
            expectedFrameCount: input.expectedFrameCount,
            hasAudio: input.audioStreamIndex != nil, otherAudioStreams: input.otherAudioStreams,
            rotation: rotation.rawValue)
        videoStartTime = input.startTime(inStream: input.videoStreamIndex)
        videoTimeBase = av_q2d(stream.time_base)
        let perFrame = av_rescale_q(1, av_inv_q(input.frameRate.av), stream.time_base)
        frameDuration = max(1, perFrame)
    }

    /// Frames handed back with `recycle`, reused so that decoding allocates nothing per frame.
    private var spareFrames: [VideoFrame] = []
    /// The frame the decoder writes into next (kept across calls that return audio).
    private var currentFrame: VideoFrame?
    private let spareLock = NSLock()

    /// Returns a frame this reader produced once its consumer is done with it (any thread).
    public func recycle(_ frame: VideoFrame) {
        spareLock.lock()
        defer { spareLock.unlock() }
        if frame.keepsBuffers {
            if uprightSpares.count < 16 { uprightSpares.append(frame) }
            return
        }
        av_frame_unref(frame.frame)
        if spareFrames.count < 64 { spareFrames.append(frame) }
    }

    /// Turned-upright frames handed back, their buffers kept for the next turn.
    private var uprightSpares: [VideoFrame] = []

    private func spareUprightFrame() -> VideoFrame? {
        spareLock.lock()
        defer { spareLock.unlock() }
        return uprightSpares.popLast()
    }

    private func makeFrame() -> VideoFrame {
        spareLock.lock()
        defer { spareLock.unlock() }
        return spareFrames.popLast() ?? VideoFrame()
    }

    /// The next decoded frame or audio packet, or nil at the end of the input (or on interruption).
    public func next() throws -> Item? {
        let frame = currentFrame ?? makeFrame()
        currentFrame = frame
        while !finished {
            switch decoder.receive(into: frame) {
            case .frame:
                currentFrame = nil
                return .video(try deliver(frame))
            case .finished:
                finished = true
                return nil
            case .needsInput:
                break
            }
            if decoderFlushed { finished = true; return nil }
            let gotPacket = input.cancellation.isCancelled ? false : try input.read(into: packet)
            if !gotPacket {
                decoder.send(nil)
                decoderFlushed = true
                continue
            }
            if packet.streamIndex == input.videoStreamIndex || packet.streamIndex == input.audioStreamIndex {
                discontinuities.correct(packet.packet, timeBase: input.stream(packet.streamIndex).pointee.time_base)
            }
            if packet.streamIndex == input.videoStreamIndex {
                decoder.send(packet)
            } else if packet.streamIndex == input.audioStreamIndex {
                let index = packet.streamIndex
                let audio = Packet()
                av_packet_move_ref(audio.packet, packet.packet)  // leaves `packet` blank, stream index included
                let stream = input.stream(index)
                let start = input.startTime(inStream: index)
                if audio.packet.pointee.pts != noPTS { audio.packet.pointee.pts -= start }
                if audio.packet.pointee.dts != noPTS { audio.packet.pointee.dts -= start }
                return .audio(AudioPacket(audio, timeBase: stream.pointee.time_base))
            }
        }
        return nil
    }

    /// Normalises the frame's timestamp to start at 0, its format to 4:2:0 and its orientation to upright.
    private func deliver(_ frame: VideoFrame) throws -> VideoFrame {
        var pts = frame.frame.pointee.best_effort_timestamp
        if pts == noPTS {
            pts = lastPTS == .min ? videoStartTime : lastPTS + frameDuration
        } else if lastPTS != .min && pts <= lastPTS {
            // Frames leave the decoder in presentation order: a time that repeats or steps back
            // is FFmpeg's guess gone wrong (after a frame it could not decode, say). One tick on,
            // as the encoder would make it, so that the log's times are the output's.
            pts = lastPTS + 1
        }
        lastPTS = pts
        let relative = pts - videoStartTime
        var result = frame
        if PixelFormatConverter.needsConversion(frame) {
            let converted = VideoFrame(width: frame.width, height: frame.height)
            try converter.convert(frame, into: converted, path: path)
            recycle(frame)
            result = converted
        }
        if rotation != .none {
            let upright = rotation.apply(result, reusing: spareUprightFrame())
            recycle(result)
            result = upright
        }
        result.setTimestamp(pts: relative, seconds: Double(relative) * videoTimeBase)
        return result
    }
}
