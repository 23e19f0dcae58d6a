@preconcurrency import CFFmpeg

/// Makes the localisation network's input: the Y plane shrunk with libswscale's area filter
/// to a small square (e.g. 64×64), full-range luminance, no RGB round trip.
///
/// With `centredInSquare` (the `square` canvas) the frame keeps its aspect ratio, centred on
/// black in the square, so that the network sees exactly the canvas θ refers to; otherwise the
/// frame is stretched to the square (`frame` canvas).
public final class LumaDownscaler: @unchecked Sendable {
    public let size: Int
    public let inputWidth: Int
    public let inputHeight: Int
    private let context: OpaquePointer
    /// Where the scaled frame lands inside the size×size output.
    private let left: Int, top: Int, scaledWidth: Int, scaledHeight: Int
    /// Maps limited-range luma (16…235) to full range (0…255); identity for full-range input.
    private var expand = [UInt8](repeating: 0, count: 256)
    private var fullRange: Bool?

    public init(inputWidth: Int, inputHeight: Int, size: Int, centredInSquare: Bool) {
        self.size = size
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        if centredInSquare {
            let side = Double(max(inputWidth, inputHeight))
            scaledWidth = max(1, Int((Double(inputWidth) * Double(size) / side).rounded()))
            scaledHeight = max(1, Int((Double(inputHeight) * Double(size) / side).rounded()))
        } else {
            scaledWidth = size
            scaledHeight = size
        }
        left = (size - scaledWidth) / 2
        top = (size - scaledHeight) / 2
        guard
            let ctx = sws_getContext(
                Int32(inputWidth), Int32(inputHeight), AV_PIX_FMT_GRAY8,
                Int32(scaledWidth), Int32(scaledHeight), AV_PIX_FMT_GRAY8,
                SWS_AREA, nil, nil, nil)
        else {
            fatalError("sws_getContext failed for \(inputWidth)x\(inputHeight) → \(scaledWidth)x\(scaledHeight)")
        }
        context = ctx
    }

    deinit { sws_freeContext(context) }

    /// Writes the size×size image (row-major, no padding) into `output`.
    public func downscale(_ frame: VideoFrame, into output: UnsafeMutablePointer<UInt8>) {
        precondition(frame.width == inputWidth && frame.height == inputHeight, "frame size changed")
        if fullRange != frame.isFullRange {
            fullRange = frame.isFullRange
            for v in 0..<256 {
                expand[v] =
                    frame.isFullRange ? UInt8(v) : UInt8(max(0, min(255, ((Double(v) - 16) * 255 / 219).rounded())))
            }
        }
        if scaledWidth != size || scaledHeight != size {
            output.update(repeating: 0, count: size * size)  // black margins of the square canvas
        }
        var source: UnsafePointer<UInt8>? = frame.baseAddress(0)
        var sourceStride = Int32(frame.stride(0))
        var destination: UnsafeMutablePointer<UInt8>? = output + top * size + left
        var destinationStride = Int32(size)
        _ = sws_scale(context, &source, &sourceStride, 0, Int32(inputHeight), &destination, &destinationStride)
        expand.withUnsafeBufferPointer { lut in
            for y in top..<(top + scaledHeight) {
                let row = output + y * size
                for x in left..<(left + scaledWidth) { row[x] = lut[Int(row[x])] }
            }
        }
    }
}
