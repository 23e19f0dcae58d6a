import FrameSampling

/// A small picture of a whole frame (not the canvas: no padding bands to dilute a change) for
/// scene-cut scoring: Y as `lumaCells`² cells, U and V as (`lumaCells`/2)² cells each, every
/// cell the mean of an evenly spaced `samplesPerAxis`² grid of the plane's samples. The planes
/// keep 4:2:0's 4 : 1 : 1 share of the bytes, so a sum over all bytes weights them as ffmpeg's
/// `scdet` does over whole planes. Cost: about 24 000 samples read per frame at any frame size.
struct SceneThumbnail {
    static let lumaCells = 32
    static let samplesPerAxis = 4
    static var byteCount: Int { lumaCells * lumaCells + 2 * (lumaCells / 2) * (lumaCells / 2) }

    private(set) var bytes = [UInt8](repeating: 0, count: SceneThumbnail.byteCount)

    /// Fills `bytes` from `frame`.
    mutating func make(from frame: YUV420Frame) {
        let luma = Self.lumaCells, chroma = Self.lumaCells / 2
        bytes.withUnsafeMutableBufferPointer { out in
            Self.cells(of: frame.y, count: luma, into: out.baseAddress!)
            Self.cells(of: frame.u, count: chroma, into: out.baseAddress! + luma * luma)
            Self.cells(of: frame.v, count: chroma, into: out.baseAddress! + luma * luma + chroma * chroma)
        }
    }

    private static func cells(of plane: PlaneBuffer, count: Int, into out: UnsafeMutablePointer<UInt8>) {
        let samples = samplesPerAxis, perAxis = count * samples
        for cy in 0..<count {
            for cx in 0..<count {
                var sum = 0
                for j in 0..<samples {
                    // Sample centres of a perAxis-point grid over the plane.
                    let y = min(plane.height - 1, ((cy * samples + j) * 2 + 1) * plane.height / (2 * perAxis))
                    let row = plane.base + y * plane.stride
                    for i in 0..<samples {
                        let x = min(plane.width - 1, ((cx * samples + i) * 2 + 1) * plane.width / (2 * perAxis))
                        sum += Int(row[x])
                    }
                }
                out[cy * count + cx] = UInt8((sum + samples * samples / 2) / (samples * samples))
            }
        }
    }
}
