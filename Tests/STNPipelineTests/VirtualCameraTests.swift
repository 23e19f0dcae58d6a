import Foundation
import STNCore
import XCTest

@testable import STNPipeline

/// The virtual camera on attention targets: hold, bounded pan, jump at a cut, look-ahead,
/// inside-the-picture rule; and the collapse guard.
final class VirtualCameraTests: XCTestCase {
    /// Runs targets (s, tx, ty) through a camera; returns one window per frame, in order.
    private func film(
        _ targets: [[Double]], cuts: Set<Int> = [], settings: CameraSettings = CameraSettings(),
        bounds: PictureBounds? = nil, frameRate: Double = 25
    ) -> [[Double]] {
        let camera = VirtualCamera(kind: .attention, settings: settings, frameRate: frameRate)
        var out: [[Double]] = []
        for (i, t) in targets.enumerated() {
            camera.push(target: ThetaValues(t), sceneCut: cuts.contains(i), bounds: bounds) { out.append(Array($0)) }
        }
        camera.flush { out.append(Array($0)) }
        XCTAssertEqual(out.count, targets.count, "every frame comes out once")
        return out
    }

    func testHoldsStillWhileTheTargetStaysInTheDeadZone() {
        var random = SmoothingTestRandom(seed: 5)
        // Centre wanders up to 0.05 (< 0.15 × 0.4 = 0.06), scale ±9 % (< ±10 %).
        let targets =
            [[0.4, 0.1, -0.2]]
            + (0..<200).map { _ in
                [
                    0.4 * exp(0.09 * (2 * random.uniform() - 1)), 0.1 + 0.05 * (2 * random.uniform() - 1),
                    -0.2 + 0.05 * (2 * random.uniform() - 1)
                ]
            }
        let windows = film(targets)
        XCTAssertEqual(windows[0], targets[0], "the first frame puts the camera on its target")
        for w in windows { XCTAssertEqual(w.map(\.bitPattern), windows[0].map(\.bitPattern)) }
    }

    /// Targets that jump about one place by more than the dead zone: once their last 3 s fit in
    /// the window, the shot is stationary and the camera stops chasing them.
    func testAStationaryShotIsHeld() {
        var random = SmoothingTestRandom(seed: 9)
        let targets = (0..<250).map { _ in [0.4, 0.15 * (2 * random.uniform() - 1), 0.15 * (2 * random.uniform() - 1)] }
        let windows = film(targets)
        XCTAssertGreaterThan(
            Set(windows[1..<75].map { $0.map(\.bitPattern) }).count, 5, "chased before the shot is 3 s long")
        for w in windows[150...] { XCTAssertEqual(w, windows[150]) }
        var chasing = CameraSettings()
        chasing.stationarySpan = 0
        XCTAssertGreaterThan(Set(film(targets, settings: chasing)[150...].map { $0.map(\.bitPattern) }).count, 5)
    }

    /// A static shot where the model sits on one subject and glances at another, half the
    /// picture away, for two frames every two seconds (as on opencv-doc's vtest.avi at 10 fps):
    /// once the shot is 3 s long the camera stays on the first subject and does not move.
    func testGlancesAtAnotherSubjectDoNotMoveAStationaryCamera() {
        let here = [0.3, 0.6, -0.35], there = [0.3, 0.15, -0.15]
        let targets = (0..<300).map { i in i % 20 >= 18 ? there : here }
        let windows = film(targets, frameRate: 10)
        for i in 40..<300 { XCTAssertEqual(windows[i], here, "frame \(i)") }
    }

    /// At 10 fps a frame's step at the braking speed is longer than a short pan: the camera must
    /// still land on its aim and stop, not swing around it.
    func testAShortPanAtALowFrameRateStopsOnItsAim() {
        let targets = (0..<10).map { _ in [0.3, 0.0, 0.0] } + (0..<30).map { _ in [0.3, 0.12, 0.0] }
        let windows = film(targets, frameRate: 10)
        let xs = windows.map { $0[1] }
        for i in 1..<xs.count {
            XCTAssertGreaterThanOrEqual(xs[i], xs[i - 1], "frame \(i): the pan never turns back")
            XCTAssertLessThanOrEqual(xs[i], 0.12 + 1e-12, "frame \(i): the pan never passes its aim")
        }
        XCTAssertEqual(xs.last!, 0.12, accuracy: 1e-12)
        XCTAssertEqual(xs[15], xs.last!, "at rest half a second after the step")
    }

    func testPanHasBoundedSpeedAndAccelerationAndStopsOnTheTarget() {
        let settings = CameraSettings()
        let rate = 25.0
        let targets = (0..<40).map { _ in [0.3, -0.6, 0.0] } + (0..<100).map { _ in [0.3, 0.7, 0.2] }
        let windows = film(targets, settings: settings, frameRate: rate)
        let vmax = settings.maxSpeed / rate, amax = settings.maxAcceleration / (rate * rate)
        var previousVelocity = (0.0, 0.0)
        var fastest = 0.0
        for i in 1..<windows.count {
            let v = (windows[i][1] - windows[i - 1][1], windows[i][2] - windows[i - 1][2])
            let speed = (v.0 * v.0 + v.1 * v.1).squareRoot()
            let change =
                ((v.0 - previousVelocity.0) * (v.0 - previousVelocity.0) + (v.1 - previousVelocity.1)
                    * (v.1 - previousVelocity.1))
                .squareRoot()
            XCTAssertLessThanOrEqual(speed, vmax * (1 + 1e-9), "frame \(i)")
            XCTAssertLessThanOrEqual(change, amax * (1 + 1e-9), "frame \(i)")
            fastest = max(fastest, speed)
            previousVelocity = v
        }
        XCTAssertEqual(fastest, vmax, accuracy: 1e-9, "a long pan reaches the top speed")
        XCTAssertEqual(
            Array(windows[0..<40].map { $0[1] }), Array(repeating: -0.6, count: 40), "still until the target moves")
        // At rest on the target, within the settle distance, for the last frames.
        let last = windows.last!
        XCTAssertEqual(last[1], 0.7, accuracy: settings.settleFraction * settings.deadZone * 0.3)
        XCTAssertEqual(last[2], 0.2, accuracy: settings.settleFraction * settings.deadZone * 0.3)
        XCTAssertEqual(windows[windows.count - 20], last)
    }

    func testZoomIsBoundedToo() {
        let settings = CameraSettings()
        let rate = 30.0
        let windows = film(
            (0..<10).map { _ in [0.2, 0, 0] } + (0..<90).map { _ in [0.8, 0, 0] }, settings: settings, frameRate: rate)
        var previous = 0.0
        for i in 1..<windows.count {
            let v = log(windows[i][0]) - log(windows[i - 1][0])
            XCTAssertLessThanOrEqual(abs(v), settings.maxZoomSpeed / rate + 1e-9)
            XCTAssertLessThanOrEqual(abs(v - previous), settings.maxZoomAcceleration / (rate * rate) + 1e-9)
            previous = v
        }
        XCTAssertEqual(windows.last![0], 0.8, accuracy: 0.8 * settings.settleFraction * settings.zoomBand)
    }

    func testJumpsAtACut() {
        let targets = (0..<30).map { _ in [0.3, -0.5, 0.1] } + (0..<30).map { _ in [0.2, 0.6, -0.4] }
        let windows = film(targets, cuts: [30])
        XCTAssertEqual(windows[29], [0.3, -0.5, 0.1])
        XCTAssertEqual(windows[30], [0.2, 0.6, -0.4], "the cut frame is the new target")
        XCTAssertEqual(windows[59], [0.2, 0.6, -0.4])
    }

    func testLookaheadStartsThePanEarlyAndHoldsFramesBack() {
        var settings = CameraSettings()
        settings.lookahead = 5
        // At rest for 40 frames, then moving right at 0.5 units/s (0.02 a frame at 25 fps).
        let targets = (0..<100).map { i in [0.3, -0.5 + 0.02 * Double(max(0, i - 40)), 0.0] }
        let camera = VirtualCamera(kind: .attention, settings: settings, frameRate: 25)
        XCTAssertEqual(camera.latency, 5)
        var out: [[Double]] = []
        for (i, t) in targets.enumerated() {
            camera.push(target: ThetaValues(t), sceneCut: false, bounds: nil) { out.append(Array($0)) }
            XCTAssertEqual(out.count, max(0, i - 4), "frame i comes out of the push of frame i + 5")
        }
        camera.flush { out.append(Array($0)) }
        XCTAssertEqual(out.count, 100)
        // The dead zone is 0.15 × 0.3 = 0.045: the subject leaves it at frame 43 (0.06 > 0.045).
        // The causal camera starts then; with 5 frames of look-ahead the camera sees frame 43
        // at frame 38 and starts re-centring as soon as the subject has moved, at frame 41.
        let causal = film(targets)
        XCTAssertEqual(causal.firstIndex { $0[1] != -0.5 }!, 43)
        XCTAssertEqual(out.firstIndex { $0[1] != -0.5 }!, 41, "the pan starts before the subject leaves the zone")
        // It never leads the subject: the camera's centre is never right of the frame's target.
        for (w, t) in zip(out, targets) { XCTAssertLessThanOrEqual(w[1], t[1] + 1e-12) }
    }

    func testAWindowIsNeverMirrored() {
        // The model's point-mirrored window (s < 0) is used as the window of size |s|, in both modes.
        let targets = [[0.3, 0.1, 0.2], [-0.3, 0.1, 0.2], [-0.31, 0.4, 0.0], [0.3, 0.1, 0.2]]
        var follow = CameraSettings()
        follow.mode = .follow
        XCTAssertEqual(film(targets, settings: follow), targets.map { [abs($0[0]), $0[1], $0[2]] })
        for window in film(targets) { XCTAssertGreaterThan(window[0], 0) }
    }

    func testFollowIsTheTargetAndOtherKindsAreFollowed() {
        var settings = CameraSettings()
        settings.mode = .follow
        let targets = [[0.3, 0.1, 0.2], [0.31, -0.4, 0.0], [0.5, 0.2, 0.1]]
        XCTAssertEqual(film(targets, settings: settings), targets)
        let affine = VirtualCamera(kind: .affine, settings: CameraSettings(), frameRate: 25)
        XCTAssertEqual(affine.latency, 0)
        var out: [ThetaValues] = []
        for t in [[1.0, 0, 0, 0, 1, 0], [0.5, 0.1, 0.3, 0, 0.5, -0.2]] {
            affine.push(target: ThetaValues(t), sceneCut: false, bounds: nil) { out.append($0) }
        }
        XCTAssertEqual(out.map { Array($0) }, [[1.0, 0, 0, 0, 1, 0], [0.5, 0.1, 0.3, 0, 0.5, -0.2]])
    }

    func testWindowsAreKeptInsideThePicture() {
        // A 640×360 frame on the square canvas: x ∈ [−1, 1], y ∈ [−0.5625, 0.5625].
        let bounds = PictureBounds(width: 640, height: 360, canvas: .square)
        XCTAssertEqual(bounds, PictureBounds(halfWidth: 1, halfHeight: 0.5625))
        func assertClose(_ a: ThetaValues, _ b: [Double], _ message: String = "", line: UInt = #line) {
            XCTAssertEqual(a.count, b.count, line: line)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12, message, line: line) }
        }
        assertClose(bounds.keepInside([0.5, 0.8, -0.3], kind: .attention), [0.5, 0.5, -0.0625], "shifted inside")
        assertClose(bounds.keepInside([1, 0, 0], kind: .attention), [0.5625, 0, 0], "shrunk to the shorter side")
        assertClose(bounds.keepInside([0.9, -0.5, 0.2], kind: .attention), [0.5625, -0.4375, 0])
        XCTAssertEqual(
            Array(bounds.keepInside([0.2, 0.1, 0.1], kind: .attention)), [0.2, 0.1, 0.1], "inside: unchanged")
        XCTAssertEqual(
            Array(PictureBounds(width: 640, height: 360, canvas: .frame).keepInside([1, 0, 0], kind: .attention)),
            [1, 0, 0])
        // Affine and projective windows: every corner inside afterwards.
        let affine: ThetaValues = [0.7, 0.3, 0.6, -0.2, 0.5, 0.3]
        let movedAffine = bounds.keepInside(affine, kind: .affine)
        XCTAssertFalse(bounds.contains(affine, kind: .affine))
        XCTAssertTrue(bounds.contains(movedAffine, kind: .affine, tolerance: 1e-12))
        let projective: ThetaValues = [0.6, 0.1, 0.5, 0.0, 0.4, -0.3, 0.2, -0.1]
        let movedProjective = bounds.keepInside(projective, kind: .projective)
        XCTAssertFalse(bounds.contains(projective, kind: .projective))
        XCTAssertTrue(bounds.contains(movedProjective, kind: .projective, tolerance: 1e-12))
        XCTAssertEqual(movedProjective[6], 0.2)
        XCTAssertEqual(movedProjective[7], -0.1)
        // A window reaching the horizon cannot be moved inside: left as it is.
        let horizon: ThetaValues = [1, 0, 0, 0, 1, 0, 1.5, 0]
        XCTAssertEqual(bounds.keepInside(horizon, kind: .projective), horizon)

        // The camera keeps targets and windows inside; --allow-outside does not.
        let targets = (0..<50).map { i in [0.5, -0.9 + 0.04 * Double(i), 0.3] }
        for w in film(targets, bounds: bounds) {
            XCTAssertTrue(bounds.contains(ThetaValues(w), kind: .attention, tolerance: 1e-12), "\(w)")
        }
        var outside = CameraSettings()
        outside.allowOutside = true
        outside.mode = .follow
        XCTAssertEqual(film(targets, settings: outside, bounds: bounds), targets)
    }

    func testCollapsedScaleForAFrameOrTwoIsNotFollowed() {
        var guardian = CollapseGuard(kind: .attention)
        let good: ThetaValues = [0.4, 0.1, 0.1]
        for _ in 0..<5 { XCTAssertEqual(guardian.filter(good), good) }
        // One and two collapsed frames: replaced by the last good θ.
        XCTAssertEqual(guardian.filter([0.045, 0.7, -0.6]), good)
        XCTAssertEqual(guardian.filter(good), good)
        XCTAssertEqual(guardian.filter([0.03, 0.7, -0.6]), good)
        XCTAssertEqual(guardian.filter([0.03, 0.7, -0.6]), good)
        XCTAssertEqual(guardian.replacedCount, 3)
        // A third small frame in a row is a real zoom: accepted, and it is the new reference.
        XCTAssertEqual(guardian.filter([0.03, 0.7, -0.6]), [0.03, 0.7, -0.6])
        XCTAssertEqual(guardian.filter([0.035, 0.7, -0.6]), [0.035, 0.7, -0.6])
        // A moderate zoom (to 60 %) is not an outlier; after a reset nothing is.
        var other = CollapseGuard(kind: .attention)
        for _ in 0..<5 { _ = other.filter(good) }
        XCTAssertEqual(other.filter([0.24, 0, 0]), [0.24, 0, 0])
        other.reset()
        XCTAssertEqual(other.filter([0.01, 0, 0]), [0.01, 0, 0])
        // Affine: the scale is √|det|.
        var affine = CollapseGuard(kind: .affine)
        for _ in 0..<3 { _ = affine.filter([0.5, 0, 0, 0, 0.5, 0]) }
        XCTAssertEqual(affine.filter([0.05, 0, 0.3, 0, 0.05, 0.3]), [0.5, 0, 0, 0, 0.5, 0])
    }
}
