#!/usr/bin/env bash
# The frame sampler (FrameSampling, DESIGN.md §2) against libswscale on the same job, in one
# process, one thread each.
#
#   pipelines/bench-sampler.sh [frames] [runs]      (default 1000 frames, 5 runs)
#
# Builds a throwaway release package in $BENCH_DIR (default /tmp/stn-bench-sampler) whose
# FrameSampling and CFFmpeg are symlinks into this checkout, fills a 1920×1080 YUV 4:2:0
# frame with a fixed textured pattern, and times producing a 256×256 4:2:0 output:
#   - stn moving:  the STN sampler with an attention window that pans and zooms every frame
#                  (s 0.25–0.35, the centre on a circle), as stn-video samples model windows;
#   - stn fixed:   the STN sampler with the fixed window s = 0.28125 at the frame's centre, a
#                  540×540 square;
#   - swscale:     sws_scale of that same 540×540 crop to 256×256, SWS_BILINEAR (the
#                  filter ffmpeg's scale filter uses when asked for bilinear) and
#                  SWS_FAST_BILINEAR; swscale cannot place a window between pixels.
# Each line gives the median over the runs of the thread's CPU time per frame (so that other
# work on a shared machine counts less); the ratio is swscale's time over
# the sampler's (above 1: the sampler is faster). Not a test: numbers depend on the machine.
set -euo pipefail
FRAMES="${1:-1000}"
RUNS="${2:-5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/stn-bench-sampler}"
mkdir -p "$BENCH_DIR/Sources/stn-bench-sampler"
ln -sfn "$ROOT/Sources/FrameSampling" "$BENCH_DIR/Sources/FrameSampling"
ln -sfn "$ROOT/Sources/CFFmpeg" "$BENCH_DIR/Sources/CFFmpeg"
cat > "$BENCH_DIR/Package.swift" <<'EOF'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "stn-bench-sampler",
    targets: [
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat libavcodec libavutil libswscale libswresample"),
        .target(name: "FrameSampling"),
        .executableTarget(name: "stn-bench-sampler", dependencies: ["FrameSampling", "CFFmpeg"]),
    ],
    swiftLanguageModes: [.v5]  // top-level benchmark code shares its buffers with plain functions
)
EOF
cat > "$BENCH_DIR/Sources/stn-bench-sampler/main.swift" <<'EOF'
import CFFmpeg
import Foundation
import FrameSampling

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let frames = arguments.first ?? 1000, runs = arguments.dropFirst().first ?? 5
let (width, height, out) = (1920, 1080, 256)

/// A plane with a fixed texture (a smooth gradient plus a hash), so no kernel meets only zeros.
func plane(_ w: Int, _ h: Int, _ seed: Int) -> UnsafeMutablePointer<UInt8> {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: w * h)
    for y in 0..<h { for x in 0..<w {
        let hash = (x &* 73_856_093) ^ (y &* 19_349_663) ^ (seed &* 83_492_791)
        p[y * w + x] = UInt8(truncatingIfNeeded: (x + 2 * y) / 16 + (hash & 31) + 16)
    } }
    return p
}
let (cw, ch) = ((width + 1) / 2, (height + 1) / 2)
let (sy, su, sv) = (plane(width, height, 1), plane(cw, ch, 2), plane(cw, ch, 3))
let (dy, du, dv) = (UnsafeMutablePointer<UInt8>.allocate(capacity: out * out),
                    UnsafeMutablePointer<UInt8>.allocate(capacity: out * out / 4),
                    UnsafeMutablePointer<UInt8>.allocate(capacity: out * out / 4))
let source = YUV420Frame(y: PlaneBuffer(base: sy, width: width, height: height, stride: width),
                         u: PlaneBuffer(base: su, width: cw, height: ch, stride: cw),
                         v: PlaneBuffer(base: sv, width: cw, height: ch, stride: cw))
let destination = MutableYUV420Frame(y: MutablePlaneBuffer(base: dy, width: out, height: out, stride: out),
                                     u: MutablePlaneBuffer(base: du, width: out / 2, height: out / 2, stride: out / 2),
                                     v: MutablePlaneBuffer(base: dv, width: out / 2, height: out / 2, stride: out / 2))
let sampler = FrameSampler(inputWidth: width, inputHeight: height, outputWidth: out, outputHeight: out,
                           canvas: .square, padding: .black, range: .limited, threads: 1)

/// CPU time of this thread in nanoseconds: unlike the wall clock, it does not count the time
/// other processes on a shared machine take from this one.
func threadNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// Milliseconds of CPU per frame of `body`, median over the runs (each run `frames` calls).
func time(_ body: (Int) -> Void) -> Double {
    for i in 0..<20 { body(i) }
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = threadNanoseconds()
        for i in 0..<frames { body(i) }
        samples.append(Double(threadNanoseconds() - start) / 1e6 / Double(frames))
    }
    return samples.sorted()[samples.count / 2]
}

let moving = time { i in
    let phase = Double(i) * 0.05
    sampler.sample(SourceTransform(attention: 0.3 + 0.05 * sin(phase * 0.7), tx: 0.3 * cos(phase), ty: 0.2 * sin(phase)),
                   from: source, into: destination)
}
// s = 540 / 1920 = 0.28125: the window is the 540×540 square at the frame's centre.
let fixedTransform = SourceTransform(attention: 0.28125, tx: 0, ty: 0)
let fixed = time { _ in sampler.sample(fixedTransform, from: source, into: destination) }

func swscale(_ flags: Int32) -> Double {
    let crop = 540, (left, top) = ((width - crop) / 2, (height - crop) / 2)
    guard let context = sws_getContext(Int32(crop), Int32(crop), AV_PIX_FMT_YUV420P, Int32(out), Int32(out), AV_PIX_FMT_YUV420P,
                                       flags, nil, nil, nil) else { fatalError("sws_getContext failed") }
    defer { sws_freeContext(context) }
    let planes: [UnsafePointer<UInt8>?] = [UnsafePointer(sy + top * width + left), UnsafePointer(su + top / 2 * cw + left / 2),
                                           UnsafePointer(sv + top / 2 * cw + left / 2), nil]
    let strides: [Int32] = [Int32(width), Int32(cw), Int32(cw), 0]
    let outputs: [UnsafeMutablePointer<UInt8>?] = [dy, du, dv, nil]
    let outputStrides: [Int32] = [Int32(out), Int32(out / 2), Int32(out / 2), 0]
    return time { _ in _ = sws_scale(context, planes, strides, 0, Int32(crop), outputs, outputStrides) }
}
let bilinear = swscale(SWS_BILINEAR), fast = swscale(SWS_FAST_BILINEAR)
print(String(format: "1920x1080 -> 256x256, %d frames x %d runs, one thread, median CPU ms per frame", frames, runs))
print(String(format: "stn moving window      %.3f ms", moving))
print(String(format: "stn fixed window       %.3f ms", fixed))
print(String(format: "swscale bilinear       %.3f ms   (swscale / stn fixed: %.2f)", bilinear, bilinear / fixed))
print(String(format: "swscale fast bilinear  %.3f ms   (swscale / stn fixed: %.2f)", fast, fast / fixed))
EOF
cd "$BENCH_DIR"
swift build -c release >build.log 2>&1 || { grep -E "error" build.log >&2; exit 1; }
".build/release/stn-bench-sampler" "$FRAMES" "$RUNS"
