import Foundation
import FrameSampling
import XCTest

@testable import STNPipeline

/// Synthetic 64×64 luma scenes: a static textured background, per-frame sensor noise, and a
/// bright square moving across it.
private struct SyntheticScene {
    let size = 64
    var background: [Double]
    var random: SmoothingTestRandom
    var noise: Double
    var squareValue: Double

    /// `style` picks a different background image: 0 a left-to-right gradient with dark blobs,
    /// 1 a top-to-bottom gradient with bright stripes, 2 a checkerboard of the same mean as 0.
    init(style: Int, seed: UInt64, noise: Double = 6, squareValue: Double = 230) {
        random = SmoothingTestRandom(seed: seed)
        self.noise = noise
        self.squareValue = squareValue
        var bg = [Double](repeating: 0, count: 64 * 64)
        var blobs = SmoothingTestRandom(seed: seed &* 31 &+ 7)
        let centres = (0..<6).map { _ in (blobs.uniform() * 64, blobs.uniform() * 64, 4 + blobs.uniform() * 8) }
        for y in 0..<64 {
            for x in 0..<64 {
                var v: Double
                switch style {
                case 0:
                    v = 60 + Double(x) * 1.5
                    for (cx, cy, r) in centres
                    where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) < r * r {
                        v -= 40
                    }
                case 1:
                    v = 200 - Double(y) * 1.2
                    if (y / 4) % 3 == 0 { v = 235 }
                default:
                    v = ((x / 8) + (y / 8)) % 2 == 0 ? 50 : 150
                }
                bg[y * 64 + x] = v
            }
        }
        background = bg
    }

    /// Frame `t`: background shifted right by `pan·t` pixels (wrapping), square at a position
    /// moving 2 px right and 1 px down per frame, bouncing, plus Gaussian noise; brightness offset `gain`.
    mutating func frame(_ t: Int, pan: Int = 0, offset: Double = 0) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size * size)
        let sx = bounce(8 + 2 * t, 64 - 14), sy = bounce(20 + t, 64 - 14)
        for y in 0..<size {
            for x in 0..<size {
                var v = background[y * size + ((x - pan * t) % size + size) % size]
                if x >= sx && x < sx + 14 && y >= sy && y < sy + 14 { v = squareValue }
                v += offset + random.gaussian(noise)
                out[y * size + x] = UInt8(max(0, min(255, v.rounded())))
            }
        }
        return out
    }

    private func bounce(_ p: Int, _ limit: Int) -> Int {
        let m = p % (2 * limit)
        return m < limit ? m : 2 * limit - m
    }
}

final class SceneCutDetectorTests: XCTestCase {

    private func run(
        _ frames: [[UInt8]], threshold: Double = SmoothingSettings.defaultCutThreshold,
        minimumGap: Int = SmoothingSettings.defaultCutMinimumGap
    ) -> (cuts: [Int], scores: [Double]) {
        let detector = SceneCutDetector(threshold: threshold, minimumGap: minimumGap)
        var cuts: [Int] = [], scores: [Double] = []
        for (i, f) in frames.enumerated() {
            let cut = f.withUnsafeBufferPointer { detector.isCut(luma: $0.baseAddress!, width: 64, height: 64) }
            if cut { cuts.append(i) }
            scores.append(detector.lastScore)
        }
        return (cuts, scores)
    }

    /// A bright square moving over a noisy textured background is one shot: no cut.
    func testMovingSquareOverNoiseIsNotACut() {
        var scene = SyntheticScene(style: 0, seed: 1)
        let frames = (0..<150).map { scene.frame($0) }
        let (cuts, scores) = run(frames)
        print(
            String(
                format: "scene cut: moving square over noise: max score %.3f (threshold %.2f)",
                scores.max()!, SmoothingSettings.defaultCutThreshold))
        XCTAssertEqual(cuts, [])
        XCTAssertLessThan(scores.max()!, SmoothingSettings.defaultCutThreshold / 2)
        XCTAssertEqual(scores[0], 0, "the first frame scores 0")
        XCTAssertEqual(scores[1], 0, "the second frame scores 0: no earlier level of change")
    }

    /// Heavier noise, a camera pan of 3 px per frame and a slow fade are not cuts either.
    func testNoisePanAndFadeAreNotCuts() {
        var noisy = SyntheticScene(style: 1, seed: 2, noise: 20)
        var panning = SyntheticScene(style: 0, seed: 3)
        var fading = SyntheticScene(style: 2, seed: 4)
        let cases: [(String, [[UInt8]])] = [
            ("noise σ 20", (0..<100).map { noisy.frame($0) }),
            ("pan 3 px/frame", (0..<100).map { panning.frame($0, pan: 3) }),
            ("fade −2 levels/frame", (0..<60).map { fading.frame($0, offset: -2 * Double($0)) })
        ]
        for (name, frames) in cases {
            let (cuts, scores) = run(frames)
            print(String(format: "scene cut: %@: max score %.3f", name, scores.max()!))
            XCTAssertEqual(cuts, [], name)
        }
    }

    /// A switch to a different image is a cut at exactly that frame, and only there; also for a
    /// switch between two images of about the same mean brightness, and for a second cut later.
    func testSwitchToADifferentImageIsACutAtThatFrame() {
        var a = SyntheticScene(style: 0, seed: 10)
        var b = SyntheticScene(style: 1, seed: 11)
        var c = SyntheticScene(style: 2, seed: 12)
        let frames =
            (0..<40).map { a.frame($0) } + (0..<35).map { b.frame($0) } + (0..<30).map { c.frame($0) }
            + (40..<70).map { a.frame($0) }
        let (cuts, scores) = run(frames)
        print(
            String(
                format: "scene cut: switches at 40, 75, 105: scores %.3f, %.3f, %.3f; max elsewhere %.3f",
                scores[40], scores[75], scores[105],
                scores.enumerated().filter { ![40, 75, 105].contains($0.offset) }.map(\.element).max()!))
        XCTAssertEqual(cuts, [40, 75, 105])

        // Threshold 0 never reports, though the scores are the same.
        let disabled = run(frames, threshold: 0)
        XCTAssertEqual(disabled.cuts, [])
        XCTAssertEqual(disabled.scores, scores)
    }

    /// Rows with padding score the same as contiguous rows; a new image size restarts the detector.
    func testRowStrideAndSizeChange() {
        var scene = SyntheticScene(style: 0, seed: 20)
        var other = SyntheticScene(style: 1, seed: 21)
        let frames = (0..<5).map { scene.frame($0) } + [other.frame(0)]
        let plain = run(frames)
        let detector = SceneCutDetector()
        let stride = 80
        for (i, f) in frames.enumerated() {
            var padded = [UInt8](repeating: 255, count: stride * 64)
            for y in 0..<64 { for x in 0..<64 { padded[y * stride + x] = f[y * 64 + x] } }
            let cut = padded.withUnsafeBufferPointer {
                detector.isCut(luma: $0.baseAddress!, width: 64, height: 64, rowStride: stride)
            }
            XCTAssertEqual(cut, plain.cuts.contains(i))
            XCTAssertEqual(detector.lastScore, plain.scores[i], "frame \(i)")
        }
        XCTAssertEqual(plain.cuts, [5])
        // A different size cannot be compared: no cut, score 0; the next frame of that size compares.
        let small = [UInt8](repeating: 0, count: 32 * 32)
        XCTAssertFalse(small.withUnsafeBufferPointer { detector.isCut(luma: $0.baseAddress!, width: 32, height: 32) })
        XCTAssertEqual(detector.lastScore, 0)
        XCTAssertFalse(small.withUnsafeBufferPointer { detector.isCut(luma: $0.baseAddress!, width: 32, height: 32) })
        XCTAssertEqual(detector.lastScore, 0, "the second frame of a size has no earlier level of change")
        let bright = [UInt8](repeating: 200, count: 32 * 32)
        XCTAssertTrue(bright.withUnsafeBufferPointer { detector.isCut(luma: $0.baseAddress!, width: 32, height: 32) })
        XCTAssertEqual(detector.lastScore, 200.0 / 256, "scdet's score: a mean difference of 200 of 256 levels")
    }

    /// A cut within the minimum gap after another is not reported: a three-frame flash of
    /// another picture is one cut; with no gap it is two.
    func testMinimumGapBetweenCuts() {
        // Light noise (σ 2 levels, as on the averaged thumbnail of a real frame): the frames after
        // each switch differ from their predecessors by less than the threshold.
        var a = SyntheticScene(style: 0, seed: 30, noise: 2)
        var b = SyntheticScene(style: 1, seed: 31, noise: 2)
        let frames = (0..<40).map { a.frame($0) } + (0..<3).map { b.frame($0) } + (40..<60).map { a.frame($0) }
        XCTAssertEqual(run(frames).cuts, [40])
        XCTAssertEqual(run(frames, minimumGap: 0).cuts, [40, 43])
        XCTAssertEqual(run(frames, minimumGap: 2).cuts, [40, 43], "43 is 3 frames after 40")
    }
}
