@preconcurrency import CFFmpeg
import Foundation

/// The quarter turn that shows a stored picture upright, from its stream's display matrix
/// (phones store portrait video as landscape frames plus a rotation), applied the way the
/// ffmpeg tool's autorotation does: frames come out as they are meant to be seen, so the
/// canvas, the model's input, the crop and the overlay all refer to the upright picture.
/// Other angles and mirroring are left as stored.
enum FrameRotation: Int, Sendable {
    case none = 0
    case clockwise = 90
    case halfTurn = 180
    case counterClockwise = 270

    init(stream: UnsafePointer<AVStream>) {
        let counterClockwiseDegrees = cff_stream_rotation(stream)
        guard counterClockwiseDegrees.isFinite else { self = .none; return }
        // The picture was stored turned by the matrix's angle; turning it back is clockwise by that angle.
        var degrees = -counterClockwiseDegrees.rounded()
        degrees -= 360 * (degrees / 360 + 0.9 / 360).rounded(.down)
        self = [Self.clockwise, .halfTurn, .counterClockwise].first { abs(degrees - Double($0.rawValue)) < 1 } ?? .none
    }

    /// True when the upright picture's width is the stored height.
    var swapsSides: Bool { self == .clockwise || self == .counterClockwise }

    /// A new frame holding `source` turned upright (all three planes, the same colour range).
    func apply(_ source: VideoFrame) -> VideoFrame {
        let (width, height) = swapsSides ? (source.height, source.width) : (source.width, source.height)
        let result = VideoFrame(width: width, height: height, fullRange: source.isFullRange)
        for plane in 0..<3 {
            let (w, h) = source.planeSize(plane)
            turn(source.baseAddress(plane), stride: source.stride(plane), width: w, height: h,
                 into: result.mutableBaseAddress(plane), stride: result.stride(plane))
        }
        return result
    }

    /// Copies a `width × height` plane turned; tiles keep both sides of a transposition in cache.
    private func turn(_ source: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int,
                      into destination: UnsafeMutablePointer<UInt8>, stride outStride: Int) {
        let tile = 32
        for y0 in Swift.stride(from: 0, to: height, by: tile) {
            for x0 in Swift.stride(from: 0, to: width, by: tile) {
                for y in y0..<min(y0 + tile, height) {
                    let row = source + y * stride
                    for x in x0..<min(x0 + tile, width) {
                        // Where source sample (x, y) lands in the turned picture.
                        let (u, v): (Int, Int)
                        switch self {
                        case .none: (u, v) = (x, y)
                        case .clockwise: (u, v) = (height - 1 - y, x)
                        case .halfTurn: (u, v) = (width - 1 - x, height - 1 - y)
                        case .counterClockwise: (u, v) = (y, width - 1 - x)
                        }
                        destination[v * outStride + u] = row[x]
                    }
                }
            }
        }
    }
}
