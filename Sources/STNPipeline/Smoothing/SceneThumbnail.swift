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
    /// Sample positions along each axis of the Y, U and V planes, made once per plane size: the
    /// divisions that place them cost more than the reads.
    private var lumaGrid: SampleGrid?, chromaGrid: SampleGrid?

    /// Fills `bytes` from `frame`.
    mutating func make(from frame: YUV420Frame) {
        let luma = Self.lumaCells, chroma = Self.lumaCells / 2
        if lumaGrid?.matches(frame.y) != true {
            lumaGrid = SampleGrid(plane: frame.y, cells: luma, samples: Self.samplesPerAxis)
        }
        // U and V have the same size in 4:2:0.
        if chromaGrid?.matches(frame.u) != true {
            chromaGrid = SampleGrid(plane: frame.u, cells: chroma, samples: Self.samplesPerAxis)
        }
        let lumaGrid = lumaGrid!, chromaGrid = chromaGrid!
        bytes.withUnsafeMutableBufferPointer { out in
            lumaGrid.cells(of: frame.y, into: out.baseAddress!)
            chromaGrid.cells(of: frame.u, into: out.baseAddress! + luma * luma)
            chromaGrid.cells(of: frame.v, into: out.baseAddress! + luma * luma + chroma * chroma)
        }
    }
}

/// Where a thumbnail's cells sample one plane: the centres of an evenly spaced
/// (cells · samples)² grid over it.
private struct SampleGrid {
    let width: Int, height: Int, cellCount: Int, samples: Int
    let xs: [Int], ys: [Int]

    init(plane: PlaneBuffer, cells: Int, samples: Int) {
        width = plane.width; height = plane.height; cellCount = cells; self.samples = samples
        let perAxis = cells * samples
        xs = (0..<perAxis).map { [width] k in min(width - 1, (k * 2 + 1) * width / (2 * perAxis)) }
        ys = (0..<perAxis).map { [height] k in min(height - 1, (k * 2 + 1) * height / (2 * perAxis)) }
    }

    func matches(_ plane: PlaneBuffer) -> Bool { plane.width == width && plane.height == height }

    func cells(of plane: PlaneBuffer, into out: UnsafeMutablePointer<UInt8>) {
        let count = cellCount, samples = self.samples, area = samples * samples
        xs.withUnsafeBufferPointer { xs in
            ys.withUnsafeBufferPointer { ys in
                for cy in 0..<count {
                    for cx in 0..<count {
                        var sum = 0
                        for j in 0..<samples {
                            let row = plane.base + ys[cy * samples + j] * plane.stride
                            for i in 0..<samples { sum += Int(row[xs[cx * samples + i]]) }
                        }
                        out[cy * count + cx] = UInt8((sum + area / 2) / area)
                    }
                }
            }
        }
    }
}
