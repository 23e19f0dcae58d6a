/// A read-only plane of 8-bit samples; rows are `stride` bytes apart (stride ≥ width).
///
/// It does not own its memory: the caller keeps it alive and unchanged while the sampler reads it.
/// `@unchecked Sendable` so frames can be handed between pipeline stages; the pointer's owner
/// is responsible for that memory's lifetime and exclusivity.
public struct PlaneBuffer: @unchecked Sendable {
    public var base: UnsafePointer<UInt8>
    public var width: Int
    public var height: Int
    public var stride: Int

    public init(base: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int) {
        precondition(
            width > 0 && height > 0 && stride >= width, "bad plane geometry \(width)×\(height) stride \(stride)")
        self.base = base
        self.width = width
        self.height = height
        self.stride = stride
    }
}

/// A writable plane of 8-bit samples; rows are `stride` bytes apart (stride ≥ width).
public struct MutablePlaneBuffer: @unchecked Sendable {
    public var base: UnsafeMutablePointer<UInt8>
    public var width: Int
    public var height: Int
    public var stride: Int

    public init(base: UnsafeMutablePointer<UInt8>, width: Int, height: Int, stride: Int) {
        precondition(
            width > 0 && height > 0 && stride >= width, "bad plane geometry \(width)×\(height) stride \(stride)")
        self.base = base
        self.width = width
        self.height = height
        self.stride = stride
    }

    /// The same plane, read-only.
    public var readOnly: PlaneBuffer {
        PlaneBuffer(base: UnsafePointer(base), width: width, height: height, stride: stride)
    }
}

/// An 8-bit YUV 4:2:0 frame to read: Y is width × height, U and V ceil(width/2) × ceil(height/2).
public struct YUV420Frame: Sendable {
    public var y: PlaneBuffer
    public var u: PlaneBuffer
    public var v: PlaneBuffer

    public init(y: PlaneBuffer, u: PlaneBuffer, v: PlaneBuffer) {
        self.y = y
        self.u = u
        self.v = v
    }
}

/// An 8-bit YUV 4:2:0 frame to write: Y is width × height, U and V ceil(width/2) × ceil(height/2).
public struct MutableYUV420Frame: Sendable {
    public var y: MutablePlaneBuffer
    public var u: MutablePlaneBuffer
    public var v: MutablePlaneBuffer

    public init(y: MutablePlaneBuffer, u: MutablePlaneBuffer, v: MutablePlaneBuffer) {
        self.y = y
        self.u = u
        self.v = v
    }

    /// The same frame, read-only.
    public var readOnly: YUV420Frame { YUV420Frame(y: y.readOnly, u: u.readOnly, v: v.readOnly) }
}
