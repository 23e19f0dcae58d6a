@preconcurrency import CFFmpeg

/// Keeps an input's timeline continuous across the timestamp jumps that formats such as
/// MPEG-TS allow (recordings joined with `cat`, broadcast splices), after the ffmpeg tool's
/// rule: a jump moves every later packet of every stream by its size. A jump is a packet that
/// goes back in time within its stream, or that lands more than 10 s from where both its
/// stream was heading and the file's latest packet is — a splice moves every stream, while a
/// gap in one stream alone (a camera pause in the video, silence cut from the audio) leaves
/// the others running and is kept. Without this a joined recording squeezed its second half
/// onto one instant or failed the muxer.
struct TimestampDiscontinuities {
    private let enabled: Bool
    /// Added to every packet, in AV_TIME_BASE units.
    private var offset: Int64 = 0
    /// Per stream: where the next dts is expected, and the last dts seen (AV_TIME_BASE units).
    private var expected: [Int: Int64] = [:]
    private var last: [Int: Int64] = [:]
    /// The dts of the latest packet of any stream (AV_TIME_BASE units).
    private var latest: Int64?
    private static let threshold: Int64 = 10 * Int64(AV_TIME_BASE)
    private static let backStep: Int64 = Int64(AV_TIME_BASE) / 10

    init(format: UnsafePointer<AVInputFormat>?) {
        enabled = format.map { ($0.pointee.flags & AVFMT_TS_DISCONT) != 0 } ?? false
    }

    /// Shifts `packet` (of a stream with time base `timeBase`) onto the continuous timeline.
    mutating func correct(_ packet: UnsafeMutablePointer<AVPacket>, timeBase: AVRational) {
        guard enabled else { return }
        let microseconds = cff_time_base_q()
        if offset != 0 {
            let shift = av_rescale_q(offset, microseconds, timeBase)
            if packet.pointee.pts != noPTS { packet.pointee.pts += shift }
            if packet.pointee.dts != noPTS { packet.pointee.dts += shift }
        }
        guard packet.pointee.dts != noPTS else { return }
        let stream = Int(packet.pointee.stream_index)
        var dts = av_rescale_q(packet.pointee.dts, timeBase, microseconds)
        if let next = expected[stream], let previous = last[stream], let latest {
            let delta = dts - next
            let splice = abs(delta) > Self.threshold && abs(dts - latest) > Self.threshold
            if splice || dts + Self.backStep < previous {
                offset -= delta
                let shift = av_rescale_q(delta, microseconds, timeBase)
                packet.pointee.dts -= shift
                if packet.pointee.pts != noPTS { packet.pointee.pts -= shift }
                dts -= delta
            }
        }
        last[stream] = dts
        latest = dts
        expected[stream] =
            dts + (packet.pointee.duration > 0 ? av_rescale_q(packet.pointee.duration, timeBase, microseconds) : 0)
    }
}
