@preconcurrency import CFFmpeg
import Foundation

/// The quarter turn that shows a stored picture upright, from its stream's display matrix
/// (phones store portrait video as landscape frames plus a rotation), applied the way the
/// ffmpeg tool's autorotation does: frames come out as they are meant to be seen, so the
/// canvas, the model's input, the crop and the overlay all refer to the upright picture.
/// Other angles, and matrices that mirror the picture (a negative determinant), are left as
/// stored, as before this support: a flip is not a turn.
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
        // Source sample (x, y) lands at destination offset origin + x·stepX + y·stepY.
        let (origin, stepX, stepY): (Int, Int, Int)
        switch self {
        case .none: (origin, stepX, stepY) = (0, 1, outStride)
        case .clockwise: (origin, stepX, stepY) = (height - 1, outStride, -1)
        case .halfTurn: (origin, stepX, stepY) = ((height - 1) * outStride + width - 1, -1, -outStride)
        case .counterClockwise: (origin, stepX, stepY) = ((width - 1) * outStride, -outStride, 1)
        }
        let tile = 64
        for y0 in Swift.stride(from: 0, to: height, by: tile) {
            for x0 in Swift.stride(from: 0, to: width, by: tile) {
                let xEnd = min(x0 + tile, width)
                for y in y0..<min(y0 + tile, height) {
                    let row = source + y * stride
                    var offset = origin + x0 * stepX + y * stepY
                    for x in x0..<xEnd {
                        destination[offset] = row[x]
                        offset += stepX
                    }
                }
            }
        }
    }
}
