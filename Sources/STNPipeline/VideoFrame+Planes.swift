import FrameSampling
import STNMedia

extension VideoFrame {
    /// The frame's three planes as the sampler reads them.
    var planes: YUV420Frame {
        func plane(_ i: Int) -> PlaneBuffer {
            let size = planeSize(i)
            return PlaneBuffer(base: baseAddress(i), width: size.width, height: size.height, stride: stride(i))
        }
        return YUV420Frame(y: plane(0), u: plane(1), v: plane(2))
    }

    /// The frame's three planes as the sampler writes them (call `makeWritable()` first).
    var mutablePlanes: MutableYUV420Frame {
        func plane(_ i: Int) -> MutablePlaneBuffer {
            let size = planeSize(i)
            return MutablePlaneBuffer(
                base: mutableBaseAddress(i), width: size.width, height: size.height, stride: stride(i))
        }
        return MutableYUV420Frame(y: plane(0), u: plane(1), v: plane(2))
    }
}
