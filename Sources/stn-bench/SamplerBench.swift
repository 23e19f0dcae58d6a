import ArgumentParser
@preconcurrency import CFFmpeg
import Foundation
import FrameSampling

/// The frame sampler against libswscale on the same job, one thread each: a 1920×1080 YUV
/// 4:2:0 frame with a fixed texture → a 256×256 4:2:0 output.
///   - stn moving: an attention window that pans and zooms every frame (s 0.25–0.35, the
///     centre on a circle), as stn-video samples model windows;
///   - stn fixed: the fixed window s = 0.28125 at the frame's centre, a 540×540 square;
///   - swscale: sws_scale of that same 540×540 crop to 256×256, SWS_BILINEAR (what ffmpeg's
///     scale filter uses when asked for bilinear) and SWS_FAST_BILINEAR; swscale cannot place
///     a window between pixels.
/// Each line is the median over the runs of the thread's CPU time per frame (other work on a
/// shared machine counts less); the ratio is swscale's time over the sampler's (above 1: the
/// sampler is faster).
struct SamplerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sampler",
        abstract: "The STN frame sampler against libswscale, 1080p → 256×256, CPU time per frame.")

    @Option(help: "Frames per run.")
    var frames = 1000
    @Option(help: "Runs; the median is reported.")
    var runs = 5

    func validate() throws {
        guard frames >= 1, runs >= 1 else { throw ValidationError("--frames and --runs must be at least 1") }
    }

    func run() throws {
        let (width, height, out) = (1920, 1080, 256)
        let (chromaWidth, chromaHeight) = ((width + 1) / 2, (height + 1) / 2)
        let luma = TexturedPlane(width: width, height: height, seed: 1)
        let blue = TexturedPlane(width: chromaWidth, height: chromaHeight, seed: 2)
        let red = TexturedPlane(width: chromaWidth, height: chromaHeight, seed: 3)
        let outY = TexturedPlane(width: out, height: out, seed: 0)
        let outU = TexturedPlane(width: out / 2, height: out / 2, seed: 0)
        let outV = TexturedPlane(width: out / 2, height: out / 2, seed: 0)
        let source = YUV420Frame(y: luma.buffer, u: blue.buffer, v: red.buffer)
        let destination = MutableYUV420Frame(y: outY.mutableBuffer, u: outU.mutableBuffer, v: outV.mutableBuffer)
        let sampler = FrameSampler(
            inputWidth: width, inputHeight: height, outputWidth: out, outputHeight: out,
            canvas: .square, padding: .black, range: .limited, threads: 1)
        let timer = CPUTimer(frames: frames, runs: runs)

        let moving = timer.median { i in
            let phase = Double(i) * 0.05
            sampler.sample(
                SourceTransform(attention: 0.3 + 0.05 * sin(phase * 0.7), tx: 0.3 * cos(phase), ty: 0.2 * sin(phase)),
                from: source, into: destination)
        }
        // s = 540 / 1920 = 0.28125: the window is the 540×540 square at the frame's centre.
        let fixedTransform = SourceTransform(attention: 0.28125, tx: 0, ty: 0)
        let fixed = timer.median { _ in sampler.sample(fixedTransform, from: source, into: destination) }

        func swscale(_ flags: Int32) -> Double {
            let crop = 540, (left, top) = ((width - crop) / 2, (height - crop) / 2)
            guard
                let context = sws_getContext(
                    Int32(crop), Int32(crop), AV_PIX_FMT_YUV420P, Int32(out), Int32(out), AV_PIX_FMT_YUV420P,
                    flags, nil, nil, nil)
            else { fatalError("sws_getContext failed") }
            defer { sws_freeContext(context) }
            let planes: [UnsafePointer<UInt8>?] = [
                UnsafePointer(luma.base + top * width + left),
                UnsafePointer(blue.base + top / 2 * chromaWidth + left / 2),
                UnsafePointer(red.base + top / 2 * chromaWidth + left / 2), nil
            ]
            let strides: [Int32] = [Int32(width), Int32(chromaWidth), Int32(chromaWidth), 0]
            let outputs: [UnsafeMutablePointer<UInt8>?] = [outY.base, outU.base, outV.base, nil]
            let outputStrides: [Int32] = [Int32(out), Int32(out / 2), Int32(out / 2), 0]
            return timer.median { _ in _ = sws_scale(context, planes, strides, 0, Int32(crop), outputs, outputStrides) }
        }
        let bilinear = swscale(SWS_BILINEAR), fast = swscale(SWS_FAST_BILINEAR)
        print(
            String(
                format: "1920x1080 -> 256x256, %d frames x %d runs, one thread, median CPU ms per frame", frames, runs))
        print(String(format: "stn moving window      %.3f ms", moving))
        print(String(format: "stn fixed window       %.3f ms", fixed))
        print(
            String(format: "swscale bilinear       %.3f ms   (swscale / stn fixed: %.2f)", bilinear, bilinear / fixed))
        print(String(format: "swscale fast bilinear  %.3f ms   (swscale / stn fixed: %.2f)", fast, fast / fixed))
    }
}

/// An 8-bit plane with a fixed texture (a smooth gradient plus a hash), so that no kernel
/// meets only zeros. Freed with the value.
final class TexturedPlane {
    let width: Int, height: Int
    let base: UnsafeMutablePointer<UInt8>

    init(width: Int, height: Int, seed: Int) {
        self.width = width
        self.height = height
        base = .allocate(capacity: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let hash = (x &* 73_856_093) ^ (y &* 19_349_663) ^ (seed &* 83_492_791)
                base[y * width + x] = UInt8(truncatingIfNeeded: (x + 2 * y) / 16 + (hash & 31) + 16)
            }
        }
    }

    deinit { base.deallocate() }

    var buffer: PlaneBuffer { PlaneBuffer(base: base, width: width, height: height, stride: width) }
    var mutableBuffer: MutablePlaneBuffer {
        MutablePlaneBuffer(base: base, width: width, height: height, stride: width)
    }
}

/// Median CPU time of this thread per call of a body, over `runs` runs of `frames` calls:
/// unlike the wall clock, it does not count the time other processes take from this one.
struct CPUTimer {
    let frames: Int
    let runs: Int

    /// Milliseconds per call of `body` (called with the frame index), after 20 warm-up calls.
    func median(_ body: (Int) -> Void) -> Double {
        for i in 0..<20 { body(i) }
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = Self.threadNanoseconds()
            for i in 0..<frames { body(i) }
            samples.append(Double(Self.threadNanoseconds() - start) / 1e6 / Double(frames))
        }
        return samples.sorted()[samples.count / 2]
    }

    static func threadNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
