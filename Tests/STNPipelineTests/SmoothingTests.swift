import Foundation
import STNCore
import XCTest

@testable import STNPipeline

/// Deterministic generator for the smoothing tests (SplitMix64 + Box–Muller).
struct SmoothingTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    mutating func gaussian(_ sigma: Double = 1) -> Double {
        sigma * (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}

/// The streaming API (`emit` callbacks, `ThetaValues`) collected into arrays, for assertions.
typealias CollectedResult = (raw: [Double], smoothed: [Double], sceneCut: Bool)
extension ThetaSmoother {
    func push(raw: [Double], sceneCut: Bool) -> [CollectedResult] {
        var results: [CollectedResult] = []
        push(raw: ThetaValues(raw), sceneCut: sceneCut) {
            results.append((Array($0.raw), Array($0.smoothed), $0.sceneCut))
        }
        return results
    }
    func flush() -> [CollectedResult] {
        var results: [CollectedResult] = []
        flush { results.append((Array($0.raw), Array($0.smoothed), $0.sceneCut)) }
        return results
    }
}

/// Runs a whole stream through a smoother; checks order and completeness on the way.
func smoothStream(
    _ raws: [[Double]], cuts: [Bool]? = nil, kind: TransformKind = .attention,
    settings: SmoothingSettings = SmoothingSettings(), frameRate: Double = 30,
    file: StaticString = #filePath, line: UInt = #line
) -> [[Double]] {
    let cuts = cuts ?? [Bool](repeating: false, count: raws.count)
    let smoother = ThetaSmoother(kind: kind, parameterCount: raws[0].count, settings: settings, frameRate: frameRate)
    var out: [CollectedResult] = []
    var segmentStart = 0
    for (i, raw) in raws.enumerated() {
        let held = i - segmentStart  // frames of the previous segment not yet returned, if this is a cut
        let results = smoother.push(raw: raw, sceneCut: cuts[i])
        // Once the latency has been filled, one frame comes out per push; a cut also releases
        // every held frame of the segment it ends.
        let expected: Int
        if cuts[i] && i > 0 {
            expected = min(held, smoother.latency) + (smoother.latency == 0 ? 1 : 0)
            segmentStart = i
        } else {
            expected = i - segmentStart >= smoother.latency ? 1 : 0
        }
        XCTAssertEqual(results.count, expected, "push \(i)", file: file, line: line)
        out += results
    }
    out += smoother.flush()
    XCTAssertEqual(out.count, raws.count, "every frame comes out once", file: file, line: line)
    for (i, r) in out.enumerated() where i < raws.count {
        XCTAssertEqual(
            r.raw.map(\.bitPattern), raws[i].map(\.bitPattern), "frame \(i) out of order", file: file, line: line)
        XCTAssertEqual(r.sceneCut, cuts[i], file: file, line: line)
    }
    return out.map(\.smoothed)
}

private func std(_ xs: [Double]) -> Double {
    let mean = xs.reduce(0, +) / Double(xs.count)
    return (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)).squareRoot()
}

private func rms(_ xs: [Double]) -> Double {
    (xs.map { $0 * $0 }.reduce(0, +) / Double(xs.count)).squareRoot()
}

private func diffs(_ xs: [Double]) -> [Double] { zip(xs.dropFirst(), xs).map { $0 - $1 } }

final class SmoothingTests: XCTestCase {

    // MARK: Noise

    /// A constant attention θ with Gaussian noise (σ 0.02 on log s, 0.01 on tx, ty), 3000 frames at
    /// 30 fps. Measured on each parameter (log s in its domain) after 30 frames of warm-up:
    /// the RMS error around the truth and the std of frame-to-frame differences, as a reduction
    /// relative to the raw stream.
    func testConstantSignalWithNoiseLosesMostOfItsJitter() {
        let truth = [0.5, 0.2, -0.1]
        let sigmas = [0.02, 0.01, 0.01]
        var random = SmoothingTestRandom(seed: 42)
        let raws: [[Double]] = (0..<3000).map { _ in
            [
                truth[0] * exp(random.gaussian(sigmas[0])), truth[1] + random.gaussian(sigmas[1]),
                truth[2] + random.gaussian(sigmas[2])
            ]
        }
        // (settings, minimum reduction around the truth, minimum reduction of frame-to-frame jitter)
        let cases: [(String, SmoothingSettings, Double, Double)] = [
            ("one-euro", SmoothingSettings(method: .oneEuro), 0.60, 0.80),
            ("ema", SmoothingSettings(method: .ema), 0.60, 0.80),
            ("kalman", SmoothingSettings(method: .kalman), 0.55, 0.80),
            ("one-euro lookahead 10", SmoothingSettings(method: .oneEuro, lookahead: 10), 0.70, 0.90),
            ("ema lookahead 10", SmoothingSettings(method: .ema, lookahead: 10), 0.70, 0.90),
            ("kalman lookahead 10", SmoothingSettings(method: .kalman, lookahead: 10), 0.65, 0.90)
        ]
        for (name, settings, minTruth, minJitter) in cases {
            let smoothed = smoothStream(raws, settings: settings)
            for p in 0..<3 {
                func domain(_ theta: [Double]) -> Double { p == 0 ? log(theta[0]) : theta[p] }
                let t = p == 0 ? log(truth[0]) : truth[p]
                let raw = raws.dropFirst(30).map(domain), out = smoothed.dropFirst(30).map(domain)
                let truthReduction = 1 - rms(out.map { $0 - t }) / rms(raw.map { $0 - t })
                let jitterReduction = 1 - std(diffs(out)) / std(diffs(raw))
                print(
                    String(
                        format:
                            "smoothing noise: %@ param %d: error around truth −%.1f%%, frame-to-frame jitter −%.1f%%",
                        name, p, truthReduction * 100, jitterReduction * 100))
                XCTAssertGreaterThanOrEqual(truthReduction, minTruth, "\(name) param \(p)")
                XCTAssertGreaterThanOrEqual(jitterReduction, minJitter, "\(name) param \(p)")
            }
        }
        // .none changes nothing.
        XCTAssertEqual(smoothStream(raws, settings: SmoothingSettings(method: .none)), raws)
    }

    /// A constant θ comes out bit for bit (no exp(log s) rounding, no filter drift).
    func testConstantSignalIsReproducedExactly() {
        let theta = [0.37, 0.123, -0.456]
        for method in SmoothingMethod.allCases {
            for n in [0, 4] {
                let raws = [[Double]](repeating: theta, count: 50)
                let out = smoothStream(raws, settings: SmoothingSettings(method: method, lookahead: n))
                XCTAssertEqual(out, raws, "\(method) lookahead \(n)")
            }
        }
    }

    // MARK: Step and ramp

    /// Noise-free step of tx from 0 to 0.3 at frame 60 (no cut flag), 30 fps.
    /// Causal bounds: one-euro reaches 90 % of the step within 3 frames and stays within 1 % after
    /// 10; EMA (α 0.2) 90 % within 10, 1 % after 21; Kalman 90 % within 5, 1 % after 35, overshoot
    /// ≤ 25 % of the step (one-euro and EMA never overshoot). With lookahead N = 10 the output
    /// moves no earlier than frame 60 − N and is within 10 % of the step by frame 60 + N.
    func testStepIsFollowedWithBoundedLag() {
        let raws: [[Double]] = (0..<200).map { [1.0, $0 >= 60 ? 0.3 : 0, 0] }
        // (method, frames to 90 %, frames to within 1 % for good, max overshoot fraction)
        let cases: [(SmoothingMethod, Int, Int, Double)] = [
            (.oneEuro, 3, 10, 0), (.ema, 10, 21, 0), (.kalman, 5, 35, 0.25)
        ]
        for (method, rise90, within1, overshoot) in cases {
            let tx = smoothStream(raws, settings: SmoothingSettings(method: method)).map { $0[1] }
            func settle(_ tolerance: Double) -> Int {
                var last = 60
                for i in 60..<200 where abs(tx[i] - 0.3) > tolerance * 0.3 { last = i + 1 }
                return last - 60
            }
            let rise = (60..<200).first { tx[$0] >= 0.27 }! - 60
            let peak = (tx.max()! - 0.3) / 0.3
            print(
                "smoothing step: \(method): 90 % after \(rise) frames, within 10 % for good after \(settle(0.1)), "
                    + "within 1 % after \(settle(0.01)) frames, overshoot \(String(format: "%.1f", max(peak, 0) * 100)) %"
            )
            XCTAssertTrue(tx[..<60].allSatisfy { $0 == 0 }, "\(method): nothing moves before the step")
            XCTAssertLessThanOrEqual(rise, rise90, "\(method)")
            XCTAssertLessThanOrEqual(settle(0.01), within1, "\(method)")
            XCTAssertLessThanOrEqual(peak, overshoot + 1e-12, "\(method)")

            let n = 10
            let centred = smoothStream(raws, settings: SmoothingSettings(method: method, lookahead: n)).map { $0[1] }
            let firstMove = centred.firstIndex { $0 != 0 }!
            let settled = (firstMove..<200).last { abs(centred[$0] - 0.3) > 0.03 }.map { $0 + 1 } ?? firstMove
            print(
                "smoothing step: \(method) lookahead \(n): first moves at frame \(firstMove), within 10 % for good from frame \(settled)"
                    + String(format: ", value at the step frame %.3f", centred[60]))
            XCTAssertGreaterThanOrEqual(firstMove, 60 - n, "\(method) lookahead")
            XCTAssertLessThanOrEqual(settled, 60 + n, "\(method) lookahead")
        }
    }

    /// Noise-free ramps of tx at 0.5 and 0.1 units/s (30 fps), starting at rest. Lag in frames =
    /// (truth − smoothed) / per-frame increment, measured at frames 150…250 (steady state).
    /// Bounds: one-euro ≤ 2 frames at 0.5/s and ≤ 5.5 at 0.1/s; EMA (α 0.2) = 4 frames
    /// ((1 − α)/α); Kalman ≤ 0.1 frames; every method with lookahead 15 ≤ 0.6 frames.
    func testRampIsFollowedWithBoundedLag() {
        let cases: [(SmoothingMethod, Int, Double, Double)] = [
            (.oneEuro, 0, 0.5, 2.0), (.oneEuro, 0, 0.1, 5.5),
            (.ema, 0, 0.5, 4.0 + 1e-6), (.ema, 0, 0.1, 4.0 + 1e-6),
            (.kalman, 0, 0.5, 0.1), (.kalman, 0, 0.1, 0.1),
            (.oneEuro, 15, 0.5, 0.6), (.oneEuro, 15, 0.1, 0.6),
            (.ema, 15, 0.5, 0.6), (.kalman, 15, 0.5, 0.6)
        ]
        for (method, lookahead, speed, bound) in cases {
            let perFrame = speed / 30
            let raws: [[Double]] = (0..<300).map { i in [1.0, i >= 30 ? Double(i - 30) * perFrame : 0, 0] }
            let tx = smoothStream(raws, settings: SmoothingSettings(method: method, lookahead: lookahead)).map { $0[1] }
            let lags = (150...250).map { (raws[$0][1] - tx[$0]) / perFrame }
            let worst = lags.map(abs).max()!
            print(
                String(
                    format: "smoothing ramp: %@ lookahead %d at %.1f units/s: lag %.2f…%.2f frames",
                    method.rawValue, lookahead, speed, lags.min()!, lags.max()!))
            XCTAssertLessThanOrEqual(worst, bound, "\(method) lookahead \(lookahead) speed \(speed)")
        }
    }

    /// The one-euro filter's time constants are in seconds: a ramp at 0.5 units/s lags by about the
    /// same time at 24, 30 and 60 fps (so by twice as many frames at 60 as at 30).
    func testOneEuroTimeStepComesFromTheFrameRate() {
        func lagSeconds(_ rate: Double) -> Double {
            let perFrame = 0.5 / rate, frames = Int(10 * rate)
            let raws: [[Double]] = (0..<frames).map { [1.0, Double($0) * perFrame, 0] }
            let tx = smoothStream(raws, frameRate: rate).map { $0[1] }
            return (raws[frames - 1][1] - tx[frames - 1]) / 0.5
        }
        let lags = [24.0, 30, 60].map(lagSeconds)
        print(
            String(
                format: "smoothing one-euro: ramp lag %.4f s at 24 fps, %.4f s at 30 fps, %.4f s at 60 fps", lags[0],
                lags[1], lags[2]))
        XCTAssertEqual(lags[0], lags[1], accuracy: 0.01 * lags[1])
        XCTAssertEqual(lags[2], lags[1], accuracy: 0.01 * lags[1])
    }

    // MARK: Log scale

    /// For attention the filter runs on log s: an EMA of a geometric zoom equals exp(EMA(log s)).
    func testAttentionScaleIsSmoothedInLogSpace() {
        let raws: [[Double]] = (0..<60).map { i in [0.25 * pow(1.03, Double(i)) * (i % 2 == 0 ? 1.1 : 0.9), 0, 0] }
        let out = smoothStream(raws, settings: SmoothingSettings(method: .ema, alpha: 0.3))
        var y = log(raws[0][0])
        for i in 0..<60 {
            if i > 0 { y = y + 0.3 * (log(raws[i][0]) - y) }
            XCTAssertEqual(out[i][0], exp(y), accuracy: 1e-12 * exp(y), "frame \(i)")
        }
        // Affine entries are linear: the same numbers through an affine smoother give the plain EMA.
        let affine: [[Double]] = raws.map { [$0[0], 0, 0, 0, $0[0], 0] }
        let outAffine = smoothStream(affine, kind: .affine, settings: SmoothingSettings(method: .ema, alpha: 0.3))
        var z = affine[0][0]
        for i in 0..<60 {
            if i > 0 { z = z + 0.3 * (affine[i][0] - z) }
            XCTAssertEqual(outAffine[i][0], z, accuracy: 1e-15, "frame \(i)")
        }
    }

    /// A negative s (the model's point-mirrored window) is smoothed as the window's size |s|: a
    /// model that flips the sign for a few frames does not pull the smoothed window to a collapse,
    /// and the smoothed s is never negative.
    func testANegativeScaleIsSmoothedAsItsSize() {
        let raws: [[Double]] = (0..<40).map { i in [i % 3 == 1 ? -0.3 : 0.3, 0.1, 0.2] }
        for settings in [SmoothingSettings(), SmoothingSettings(lookahead: 4)] {
            let out = smoothStream(raws, settings: settings)
            for (i, theta) in out.enumerated() {
                XCTAssertEqual(theta[0], 0.3, accuracy: 1e-12, "frame \(i), lookahead \(settings.lookahead)")
            }
        }
        // With every s negative, the smoothed windows are those of |s|, bit for bit.
        let flipped = smoothStream(raws.map { [-abs($0[0]) * 0.9, $0[1], $0[2]] }, settings: SmoothingSettings())
        let plain = smoothStream(raws.map { [abs($0[0]) * 0.9, $0[1], $0[2]] }, settings: SmoothingSettings())
        XCTAssertEqual(flipped, plain)
    }

    /// A NaN or infinite raw value does not poison the filter: it holds the previous estimate (or the
    /// identity at the start of a segment) and the stream continues.
    func testNonFiniteRawValuesAreHeld() {
        var raws: [[Double]] = (0..<40).map { _ in [0.5, 0.1, 0.2] }
        raws[0] = [.nan, .nan, .infinity]
        raws[20] = [.nan, -.infinity, 0.2]
        for method in SmoothingMethod.allCases where method != .none {
            let out = smoothStream(raws, settings: SmoothingSettings(method: method, lookahead: 2))
            XCTAssertTrue(out.allSatisfy { $0.allSatisfy(\.isFinite) }, "\(method)")
            XCTAssertEqual(out.last![0], 0.5, accuracy: 0.05, "\(method)")
        }
    }

    // MARK: Cuts

    /// A cut at frame 50: the smoothed θ at 50 is the raw θ there (causal), the frames before are
    /// the same whatever comes after, and the frames from 50 on the same whatever came before —
    /// for every method, causal and with lookahead.
    func testCutResetsExactlyAtTheCutFrame() {
        var random = SmoothingTestRandom(seed: 7)
        func shot(_ count: Int, _ s: Double, _ tx: Double, _ ty: Double) -> [[Double]] {
            (0..<count).map { _ in
                [s * exp(random.gaussian(0.02)), tx + random.gaussian(0.01), ty + random.gaussian(0.01)]
            }
        }
        let beforeA = shot(50, 0.5, 0.3, -0.2), beforeB = shot(50, 0.9, -0.6, 0.5)
        let afterA = shot(40, 0.3, -0.4, 0.1), afterB = shot(40, 0.7, 0.5, 0.4)
        var cuts = [Bool](repeating: false, count: 90)
        cuts[50] = true
        for method in SmoothingMethod.allCases {
            for n in [0, 1, 5, 12] {
                let settings = SmoothingSettings(method: method, lookahead: n)
                let aa = smoothStream(beforeA + afterA, cuts: cuts, settings: settings)
                let ab = smoothStream(beforeA + afterB, cuts: cuts, settings: settings)
                let ba = smoothStream(beforeB + afterA, cuts: cuts, settings: settings)
                let label = "\(method) lookahead \(n)"
                XCTAssertEqual(Array(aa[..<50]), Array(ab[..<50]), "\(label): frames before the cut see after it")
                XCTAssertEqual(Array(aa[50...]), Array(ba[50...]), "\(label): frames after the cut see before it")
                if n == 0 { XCTAssertEqual(aa[50], afterA[0], "\(label): the cut frame is its raw θ") }
                // The segment after the cut is smoothed exactly as if the stream started there.
                XCTAssertEqual(Array(aa[50...]), smoothStream(afterA, settings: settings), label)
                XCTAssertEqual(Array(aa[..<50]), smoothStream(beforeA, settings: settings), label)
                // Without the cut flag the filter does pan across (it is the flag that resets).
                if method != .none {
                    let panned = smoothStream(beforeA + afterA, settings: settings)
                    XCTAssertNotEqual(panned[50], afterA[0], label)
                }
            }
        }
    }

    /// With lookahead, a cut releases the held frames of the ending segment at the cut's push.
    func testCutReleasesHeldFrames() {
        let smoother = ThetaSmoother(
            kind: .attention, parameterCount: 3, settings: SmoothingSettings(lookahead: 4), frameRate: 25)
        var emitted: [Int] = []
        var frameOf: [[Double]: Int] = [:]
        for i in 0..<12 {
            let raw = [1.0 + Double(i) / 100, 0, 0]
            frameOf[raw] = i
            let results = smoother.push(raw: raw, sceneCut: i == 7)
            emitted += results.map { frameOf[$0.raw]! }
            switch i {
            case 0...3: XCTAssertEqual(results.count, 0, "push \(i)")
            case 4...6: XCTAssertEqual(results.map { frameOf[$0.raw]! }, [i - 4])
            case 7: XCTAssertEqual(results.map { frameOf[$0.raw]! }, [3, 4, 5, 6], "the cut flushes the old segment")
            case 8...10: XCTAssertEqual(results.count, 0, "push \(i)")
            default: XCTAssertEqual(results.map { frameOf[$0.raw]! }, [7])
            }
        }
        emitted += smoother.flush().map { frameOf[$0.raw]! }
        XCTAssertEqual(emitted, Array(0..<12))
        XCTAssertEqual(smoother.flush().count, 0)
    }

    // MARK: Lookahead = offline centred filter

    /// The stream equals `ThetaSmoother.offline` bit for bit: every method and kind, several
    /// lookaheads and frame rates, random walks with noise, random cuts (including at frame 0,
    /// consecutive cuts and one-frame segments) and pushes after a flush.
    func testLookaheadEqualsOfflineCentredFilter() {
        var random = SmoothingTestRandom(seed: 2024)
        for (kind, count) in [(TransformKind.attention, 3), (.affine, 6), (.projective, 8), (.tps, 32)] {
            for method in SmoothingMethod.allCases {
                for n in [0, 1, 2, 7, 20] {
                    let frames = 150
                    var walk = (0..<count).map { _ in random.gaussian(0.3) }
                    var raws: [[Double]] = [], cuts: [Bool] = []
                    for i in 0..<frames {
                        let cut = i == 0 ? random.uniform() < 0.5 : random.uniform() < 0.04 || (i >= 100 && i <= 102)
                        if cut { walk = (0..<count).map { _ in random.gaussian(0.3) } }
                        for c in 0..<count { walk[c] += random.gaussian(0.01) }
                        var raw = walk.map { $0 + random.gaussian(0.02) }
                        if kind == .attention { raw[0] = exp(raw[0]) }
                        raws.append(raw)
                        cuts.append(cut)
                    }
                    let settings = SmoothingSettings(method: method, lookahead: n)
                    let rate = [24.0, 30000.0 / 1001, 60][n % 3]
                    let streamed = smoothStream(raws, cuts: cuts, kind: kind, settings: settings, frameRate: rate)
                    let offline = ThetaSmoother.offline(
                        kind: kind, parameterCount: count, settings: settings,
                        frameRate: rate, raws: raws, cuts: cuts)
                    XCTAssertEqual(streamed, offline, "\(kind) \(method) lookahead \(n)")
                }
            }
        }
    }

    /// `offline` itself matches an independent implementation of the definition for EMA: a causal
    /// EMA over the segment, then a fresh backward EMA from min(i + N, segment end) down to i.
    func testOfflineDefinitionForEMA() {
        var random = SmoothingTestRandom(seed: 99)
        let frames = 80, n = 6, alpha = 0.35
        let xs = (0..<frames).map { i in sin(Double(i) / 7) + random.gaussian(0.05) }
        var cuts = [Bool](repeating: false, count: frames)
        cuts[33] = true
        cuts[34] = true
        cuts[70] = true
        let raws = xs.map { [$0, 0, 0, 0, 1, 0] }
        let settings = SmoothingSettings(method: .ema, alpha: alpha, lookahead: n)
        let out = smoothStream(raws, cuts: cuts, kind: .affine, settings: settings).map { $0[0] }
        var expected: [Double] = []
        for (a, b) in [(0, 32), (33, 33), (34, 69), (70, 79)] {
            var f: [Double] = []
            for i in a...b { f.append(i == a ? xs[i] : f.last! + alpha * (xs[i] - f.last!)) }
            for i in a...b {
                let e = min(i + n, b)
                var y = f[e - a]
                for j in stride(from: e - 1, through: i, by: -1) { y = y + alpha * (f[j - a] - y) }
                expected.append(y)
            }
        }
        for i in 0..<frames { XCTAssertEqual(out[i], expected[i], accuracy: 1e-12, "frame \(i)") }
        XCTAssertEqual(out[33], xs[33], "a one-frame segment is its raw value")
    }

    /// Kalman with lookahead is the fixed-lag smoother: frame i's output is the posterior mean of
    /// its position given the samples up to e = min(i + N, end), under the constant-velocity
    /// model. Checked against a direct batch least-squares solve of that posterior (flat prior on
    /// the first position, velocity prior N(0, 0.25), white acceleration q, measurement variance r).
    func testKalmanLookaheadIsThePosteriorMean() {
        var random = SmoothingTestRandom(seed: 5)
        let frames = 24, n = 5, rate = 25.0, dt = 1 / rate
        let settings = SmoothingSettings(method: .kalman, processNoise: 0.05, measurementNoise: 4e-4, lookahead: n)
        let zs = (0..<frames).map { i in 0.02 * Double(i) + 0.1 * sin(Double(i) / 3) + random.gaussian(0.02) }
        let out = smoothStream(zs.map { [$0, 0, 0, 0, 1, 0] }, kind: .affine, settings: settings, frameRate: rate).map {
            $0[0]
        }
        let q = settings.processNoise, r = settings.measurementNoise, v0 = KalmanFilter.initialVelocityVariance
        // Q⁻¹ of the white-acceleration model.
        let q00 = q * dt * dt * dt / 3, q01 = q * dt * dt / 2, q11 = q * dt
        let qd = q00 * q11 - q01 * q01
        let w00 = q11 / qd, w01 = -q01 / qd, w11 = q00 / qd
        for i in 0..<frames {
            let e = min(i + n, frames - 1), m = 2 * (e + 1)
            var h = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
            var b = [Double](repeating: 0, count: m)
            for k in 0...e {
                h[2 * k][2 * k] += 1 / r
                b[2 * k] += zs[k] / r
            }
            h[1][1] += 1 / v0
            for k in 0..<e {
                // w = x_{k+1} − F x_k = J · [p_k, v_k, p_{k+1}, v_{k+1}] with J = [[−1, −dt, 1, 0], [0, −1, 0, 1]].
                let j: [[Double]] = [[-1, -dt, 1, 0], [0, -1, 0, 1]]
                let wInv = [[w00, w01], [w01, w11]]
                for a in 0..<4 {
                    for c in 0..<4 {
                        var v = 0.0
                        for x in 0..<2 { for y in 0..<2 { v += j[x][a] * wInv[x][y] * j[y][c] } }
                        h[2 * k + a][2 * k + c] += v
                    }
                }
            }
            // Gaussian elimination with partial pivoting.
            for col in 0..<m {
                let pivot = (col..<m).max { abs(h[$0][col]) < abs(h[$1][col]) }!
                h.swapAt(col, pivot)
                b.swapAt(col, pivot)
                for row in (col + 1)..<m where h[row][col] != 0 {
                    let f = h[row][col] / h[col][col]
                    for c in col..<m { h[row][c] -= f * h[col][c] }
                    b[row] -= f * b[col]
                }
            }
            var x = [Double](repeating: 0, count: m)
            for row in stride(from: m - 1, through: 0, by: -1) {
                var v = b[row]
                for c in (row + 1)..<m { v -= h[row][c] * x[c] }
                x[row] = v / h[row][row]
            }
            XCTAssertEqual(out[i], x[2 * i], accuracy: 1e-9, "frame \(i)")
        }
    }

    /// `.none` has no latency whatever the lookahead, and returns the raw θ.
    func testNoneHasNoLatency() {
        let smoother = ThetaSmoother(
            kind: .affine, parameterCount: 6,
            settings: SmoothingSettings(method: .none, lookahead: 9), frameRate: 30)
        XCTAssertEqual(smoother.latency, 0)
        let r = smoother.push(raw: [1, 2, 3, 4, 5, 6], sceneCut: true)
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(r[0].smoothed, [1, 2, 3, 4, 5, 6])
        XCTAssertTrue(r[0].sceneCut)
        XCTAssertEqual(smoother.flush().count, 0)
    }

    /// θ by value: inline up to eight numbers, an array beyond (TPS), the same behaviour either way.
    func testThetaValuesInlineAndSpilled() {
        for count in [3, 8, 9, 32] {
            let values = (0..<count).map { Double($0) * 0.25 - 1 }
            var theta = ThetaValues(values)
            XCTAssertEqual(Array(theta), values)
            XCTAssertEqual(theta.count, count)
            let copy = theta
            theta[count - 1] = 7
            XCTAssertEqual(copy[count - 1], values[count - 1], "a copy is a value")
            XCTAssertEqual(theta[count - 1], 7)
            XCTAssertNotEqual(theta, copy)
            XCTAssertEqual(ThetaValues(Array(theta)), theta)
        }
        let literal: ThetaValues = [0.5, .nan, 1]
        XCTAssertNotEqual(literal, literal, "NaN compares unequal, as in Array")
        XCTAssertNotEqual(ThetaValues([1, 2]), ThetaValues([1, 2, 3]))
    }

    // MARK: Settings

    /// Every valid setting, down to the zero edges the command line accepts, gives finite output on a
    /// long noisy stream, causal and with lookahead.
    func testEdgeSettingsStayFinite() {
        var random = SmoothingTestRandom(seed: 3)
        let raws: [[Double]] = (0..<5000).map { i in
            [0.5 * exp(random.gaussian(0.02)), sin(Double(i) / 50) + random.gaussian(0.01), 0]
        }
        let edges: [SmoothingSettings] = [
            SmoothingSettings(method: .oneEuro, minCutoff: 0, beta: 0, derivativeCutoff: 0),
            SmoothingSettings(method: .oneEuro, minCutoff: 0, beta: 1000, derivativeCutoff: 1000),
            SmoothingSettings(method: .ema, alpha: 1),
            SmoothingSettings(method: .kalman, processNoise: 0, measurementNoise: 1e-4),
            SmoothingSettings(method: .kalman, processNoise: 1e-3, measurementNoise: 0),
            SmoothingSettings(method: .kalman, processNoise: 0, measurementNoise: 0),
            SmoothingSettings(method: .kalman, processNoise: 1e6, measurementNoise: 1e-12)
        ]
        for var settings in edges {
            XCTAssertNil(settings.validationError)
            for n in [0, 8] {
                settings.lookahead = n
                let out = smoothStream(raws, settings: settings)
                XCTAssertTrue(out.allSatisfy { $0.allSatisfy(\.isFinite) }, "\(settings)")
            }
        }
        // α = 1 and measurement noise 0 follow the raw stream.
        for settings in [
            SmoothingSettings(method: .ema, alpha: 1), SmoothingSettings(method: .kalman, measurementNoise: 0)
        ] {
            let out = smoothStream(raws, settings: settings)
            let worst = zip(out, raws).map { abs($0[1] - $1[1]) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-12, "\(settings.method)")
        }
    }

    func testSettingsDefaultsAndValidation() {
        let d = SmoothingSettings()
        XCTAssertEqual(d.method, .oneEuro)
        XCTAssertEqual(d.lookahead, 0)
        XCTAssertNil(d.validationError)
        XCTAssertEqual(SmoothingMethod(rawValue: "one-euro"), .oneEuro)
        XCTAssertEqual(SmoothingMethod.allCases.map(\.rawValue), ["one-euro", "ema", "kalman", "none"])
        var s = d
        s.minCutoff = -1
        XCTAssertEqual(s.validationError?.hasPrefix("--min-cutoff"), true)
        s = d; s.alpha = 1.5
        XCTAssertEqual(s.validationError?.hasPrefix("--alpha"), true)
        s = d; s.lookahead = -1
        XCTAssertEqual(s.validationError?.hasPrefix("--lookahead"), true)
        s = d; s.cutThreshold = 2
        XCTAssertEqual(s.validationError?.hasPrefix("--cut-threshold"), true)
        s = d; s.measurementNoise = .nan
        XCTAssertEqual(s.validationError?.hasPrefix("--measurement-noise"), true)
        // A frame rate that is not a positive number falls back to 30.
        XCTAssertEqual(ThetaSmoother(kind: .attention, parameterCount: 3, settings: d, frameRate: 0).frameRate, 30)
    }
}
