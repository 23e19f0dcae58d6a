@preconcurrency import CFFmpeg

/// A compressed packet, owning its `AVPacket`.
final class Packet: @unchecked Sendable {
    let packet: UnsafeMutablePointer<AVPacket>

    init() {
        guard let p = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        packet = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
    }

    var streamIndex: Int { Int(packet.pointee.stream_index) }

    func unref() { av_packet_unref(packet) }
}

/// An audio packet read from the input, to be copied to the output untouched.
public final class AudioPacket: @unchecked Sendable {
    let packet: Packet
    let timeBase: AVRational
    init(_ packet: Packet, timeBase: AVRational) {
        self.packet = packet
        self.timeBase = timeBase
    }
}
