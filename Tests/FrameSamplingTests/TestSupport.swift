import FrameSampling

/// A YUV 4:2:0 frame owning its planes, with rows padded past the width (stride > width) to
/// catch stride mistakes; the padding bytes hold a sentinel that must never change.
final class TestFrame {
    static let rowPadding = 7
    static let sentinel: UInt8 = 0xA5

    let width: Int
    let height: Int
    /// Y, U, V: (storage, width, height, stride).
    private(set) var planes: [(pointer: UnsafeMutablePointer<UInt8>, width: Int, height: Int, stride: Int)] = []

    init(width: Int, height: Int, fill: UInt8 = 0) {
        self.width = width
        self.height = height
        for (w, h) in [(width, height), ((width + 1) / 2, (height + 1) / 2), ((width + 1) / 2, (height + 1) / 2)] {
            let stride = w + Self.rowPadding
            let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: stride * h)
            pointer.initialize(repeating: Self.sentinel, count: stride * h)
            for y in 0..<h { (pointer + y * stride).update(repeating: fill, count: w) }
            planes.append((pointer, w, h, stride))
        }
    }

    deinit { for plane in planes { plane.pointer.deallocate() } }

    subscript(plane: Int, x: Int, y: Int) -> UInt8 {
        get { planes[plane].pointer[y * planes[plane].stride + x] }
        set { planes[plane].pointer[y * planes[plane].stride + x] = newValue }
    }

    /// The samples of one plane, row by row, without the stride padding.
    func samples(_ plane: Int) -> [UInt8] {
        let p = planes[plane]
        var result: [UInt8] = []
        result.reserveCapacity(p.width * p.height)
        for y in 0..<p.height { for x in 0..<p.width { result.append(p.pointer[y * p.stride + x]) } }
        return result
    }

    /// True when no byte of the stride padding was touched.
    var paddingIntact: Bool {
        planes.allSatisfy { p in
            (0..<p.height).allSatisfy { y in
                (p.width..<p.stride).allSatisfy { p.pointer[y * p.stride + $0] == Self.sentinel }
            }
        }
    }

    func fillRandom(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for plane in 0..<3 {
            for y in 0..<planes[plane].height {
                for x in 0..<planes[plane].width { self[plane, x, y] = UInt8(truncatingIfNeeded: generator.next()) }
            }
        }
    }

    /// Random but locally smooth content (sums of ramps and noise), closer to real video.
    func fillSmooth(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for plane in 0..<3 {
            for y in 0..<planes[plane].height {
                for x in 0..<planes[plane].width {
                    let value = (x * 3 + y * 5 + plane * 40) % 200 + Int(generator.next() % 50)
                    self[plane, x, y] = UInt8(value)
                }
            }
        }
    }

    var frame: YUV420Frame { mutableFrame.readOnly }

    var mutableFrame: MutableYUV420Frame {
        func buffer(_ i: Int) -> MutablePlaneBuffer {
            MutablePlaneBuffer(
                base: planes[i].pointer, width: planes[i].width, height: planes[i].height, stride: planes[i].stride)
        }
        return MutableYUV420Frame(y: buffer(0), u: buffer(1), v: buffer(2))
    }
}

/// A small deterministic generator (SplitMix64), so test inputs are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Samples `input` through `transform` into a new frame of the given size.
func sampled(
    _ input: TestFrame, _ transform: SourceTransform, outputWidth: Int, outputHeight: Int,
    canvas: Canvas, padding: PaddingMode, range: ColorRange = .limited, threads: Int = 1
) -> TestFrame {
    let output = TestFrame(width: outputWidth, height: outputHeight, fill: 0x5A)
    let sampler = FrameSampler(
        inputWidth: input.width, inputHeight: input.height, outputWidth: outputWidth, outputHeight: outputHeight,
        canvas: canvas, padding: padding, range: range, threads: threads)
    sampler.sample(transform, from: input.frame, into: output.mutableFrame)
    return output
}
