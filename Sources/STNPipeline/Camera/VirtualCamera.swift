import DequeModule
import Foundation
import STNCore

/// The virtual camera: turns the noise-filtered window of each frame (the target) into the
/// window that is sampled, as a camera operator would move it.
///
/// **Hold** (attention θ; `CameraSettings` holds the numbers). The camera state is a centre
/// (x, y), a zoom z = log s, and their velocities.
/// - *Hold*: while every target of the frame's look-ahead window (the frame and up to
///   `lookahead` later frames of the same shot) has its centre within `deadZone` × s of the
///   camera's centre on each axis and its zoom within `zoomBand`, the camera does not move.
/// - *Stationary shot*: while the target centres of the last `stationarySeconds` (the outer
///   fifth on each side left out) span at most `stationarySpan` × the camera window's side 2s
///   on each axis, the camera aims at the middle of them and at their median zoom instead of
///   at each target, pans only when they leave its window, and zooms outside `stationaryZoomBand`.
/// - *Pan*: once the centre of a target of the look-ahead window leaves (so with look-ahead the
///   camera starts re-centring on a subject about to leave), the camera pans towards the
///   frame's own target: the pan speed is at most `maxSpeed` and changes by at most
///   `maxAcceleration` per second (as a 2-D vector), braking so as to stop at the aim
///   (speed ≤ √(2·a·distance), and a frame's step never past it). The pan ends once the camera
///   is within `settleFraction` of the dead zone of its aim and slow enough to stop within one
///   frame's acceleration. *Zoom* works the same on log s, with its own band and limits, and
///   independently: a change of size alone does not pan.
/// - *Cut*: the first frame of a shot (frame 0, a scene cut) puts the camera on its target at
///   rest: the window jumps.
///
/// **Follow** (and every θ but attention): the window is the target.
///
/// Unless `allowOutside`, every target and every output is kept inside the picture
/// (`PictureBounds.keepInside`), so the camera pans between windows that lie inside it.
///
/// **Streaming**: with look-ahead N (hold and attention only), frame i comes out of the push
/// of frame i + N, or earlier when a cut ends its shot; `flush` hands out the rest. Every
/// pushed frame comes out exactly once, in order.
///
/// Not thread-safe: use one instance from one stage at a time.
public final class VirtualCamera {
    public let kind: TransformKind
    public let settings: CameraSettings
    public let frameRate: Double
    /// How many frames `push` holds back.
    public let latency: Int

    private typealias Pending = (target: ThetaValues, bounds: PictureBounds?)
    private var pending = Deque<Pending>()
    private var started = false
    private var panning = false
    private var zooming = false
    private var x = 0.0, y = 0.0, z = 0.0
    private var vx = 0.0, vy = 0.0, vz = 0.0
    /// The last window handed out (what a holding camera repeats).
    private var held = ThetaValues(count: 3)
    /// Target centres and zooms of the last `stationarySeconds` of the shot (a ring), for the stationary test.
    private var recentX: [Double], recentY: [Double], recentZ: [Double]
    /// Scratch for the stationary test's order statistics (no arrays per frame).
    private var ordered: [Double]
    private var recentCount = 0, recentNext = 0
    // Per-frame limits.
    private let speed: Double, acceleration: Double, zoomSpeed: Double, zoomAcceleration: Double

    public init(kind: TransformKind, settings: CameraSettings, frameRate: Double) {
        if let problem = settings.validationError { preconditionFailure("VirtualCamera: \(problem)") }
        self.kind = kind
        self.settings = settings
        let rate = frameRate.isFinite && frameRate > 0 ? frameRate : 30
        self.frameRate = rate
        latency = settings.mode == .hold && kind == .attention ? settings.lookahead : 0
        speed = settings.maxSpeed / rate
        acceleration = settings.maxAcceleration / (rate * rate)
        zoomSpeed = settings.maxZoomSpeed / rate
        zoomAcceleration = settings.maxZoomAcceleration / (rate * rate)
        let frames = max(1, Int((settings.stationarySeconds * rate).rounded()))
        recentX = [Double](repeating: 0, count: frames)
        recentY = recentX
        recentZ = recentX
        ordered = recentX
    }

    /// Feeds the next frame's target θ, whether a cut starts at it, and the picture it must stay
    /// in (nil: no bound), and hands `emit` the windows that are now final, oldest first.
    public func push(
        target: ThetaValues, sceneCut: Bool, bounds: PictureBounds?,
        _ emit: (ThetaValues) throws -> Void
    ) rethrows {
        if sceneCut {
            try flush(emit)
        }
        pending.append((target, bounds))
        if pending.count > latency {
            let window = next()
            pending.removeFirst()
            try emit(window)
        }
    }

    /// Hands out the frames still held back, oldest first, and ends the shot: a later `push`
    /// starts a fresh one as if a cut started there.
    public func flush(_ emit: (ThetaValues) throws -> Void) rethrows {
        while !pending.isEmpty {
            let window = next()
            pending.removeFirst()
            try emit(window)
        }
        started = false
    }

    /// The window of the oldest pending frame, looking ahead over the rest.
    private func next() -> ThetaValues {
        let (target, bounds) = pending[0]
        let inside = inside(target, bounds)
        guard settings.mode == .hold, kind == .attention, let aim0 = state(of: inside) else {
            return inside
        }
        guard started else {
            (x, y, z) = aim0
            (vx, vy, vz) = (0, 0, 0)
            started = true
            panning = false
            zooming = false
            held = inside
            recentCount = 0
            remember(aim0)
            return inside
        }
        remember(aim0)
        var aim = aim0
        var zoomBand = settings.zoomBand
        if let stationary = stationaryAim() {
            // A stationary shot: the camera keeps to the middle of where the targets have been,
            // not to each target, so that a target moving between two places (a model unsure
            // between subjects) or off for a frame or two does not pull it back and forth.
            aim = (stationary.x, stationary.y, stationary.z)
            zoomBand = settings.stationaryZoomBand
            let reach = exp(z)
            let box = stationary.box
            if !panning && (box.x0 < x - reach || box.x1 > x + reach || box.y0 < y - reach || box.y1 > y + reach) {
                panning = true
            }
            if !zooming && abs(aim.z - z) > zoomBand { zooming = true }
        } else {
            // The pan starts when any target of the look-ahead window leaves the zone, so that the
            // camera starts re-centring on a subject that is about to leave it, and aims at the
            // frame's own target: a lead ahead of it puts the camera ahead of a moving subject
            // (a lead of a quarter of an 8-frame look-ahead cost 5 points of IoU on the generated
            // clips of pipelines/camera-check.py), and the centred smoothing before the camera
            // already starts a step early.
            let reach = settings.deadZone * exp(z)
            for j in pending.indices where !(panning && zooming) {
                guard let t = state(of: j == 0 ? inside : self.inside(pending[j].target, pending[j].bounds)) else {
                    continue
                }
                if !panning && (abs(t.x - x) > reach || abs(t.y - y) > reach) { panning = true }
                if !zooming && abs(t.z - z) > zoomBand { zooming = true }
            }
        }
        // Holding: the window of the last frame, exactly.
        guard panning || zooming else { return held }
        if panning {
            let settle = settings.settleFraction * settings.deadZone * exp(z)
            pan(towards: aim)
            let distance = ((aim.x - x) * (aim.x - x) + (aim.y - y) * (aim.y - y)).squareRoot()
            if distance <= settle && (vx * vx + vy * vy).squareRoot() <= acceleration {
                (vx, vy) = (0, 0)
                panning = false
            }
        }
        if zooming {
            zoom(towards: aim.z)
            if abs(aim.z - z) <= settings.settleFraction * zoomBand && abs(vz) <= zoomAcceleration {
                vz = 0
                zooming = false
            }
        }
        var window = ThetaValues(count: 3)
        window[0] = exp(z)
        window[1] = x
        window[2] = y
        window = self.inside(window, bounds)
        // The state follows what is sampled, so a clamped pan goes on from where the window is.
        if let used = state(of: window) { (x, y, z) = used }
        held = window
        return window
    }

    private func remember(_ target: (x: Double, y: Double, z: Double)) {
        recentX[recentNext] = target.x
        recentY[recentNext] = target.y
        recentZ[recentNext] = target.z
        recentNext = (recentNext + 1) % recentX.count
        recentCount = min(recentCount + 1, recentX.count)
    }

    /// In a stationary shot, the middle of the recent target centres and their median zoom;
    /// otherwise nil. The shot is stationary once it has lasted `stationarySeconds` and the
    /// centres of that time fit in `stationarySpan` × the camera window's side on each axis,
    /// leaving out the outermost tenth on each side (a target that is off for a frame or two
    /// does not end it).
    private func stationaryAim() -> (
        x: Double, y: Double, z: Double, box: (x0: Double, x1: Double, y0: Double, y1: Double)
    )? {
        guard recentCount == recentX.count else { return nil }
        let side = 2 * exp(z) * settings.stationarySpan
        let n = recentX.count, low = n / 5, high = n - 1 - n / 5
        let (x0, x1) = orderStatistics(recentX, low, high)
        let (y0, y1) = orderStatistics(recentY, low, high)
        guard x1 - x0 <= side && y1 - y0 <= side else { return nil }
        let z = orderStatistics(recentZ, n / 2, n / 2).0
        return ((x0 + x1) / 2, (y0 + y1) / 2, z, (x0, x1, y0, y1))
    }

    /// The values of ranks i and j (0-based, ascending) of `values`, sorted in the scratch buffer
    /// by insertion (a few dozen values a frame; no allocation).
    private func orderStatistics(_ values: [Double], _ i: Int, _ j: Int) -> (Double, Double) {
        ordered.withUnsafeMutableBufferPointer { buffer in
            for k in values.indices {
                let value = values[k]
                var m = k
                while m > 0 && buffer[m - 1] > value {
                    buffer[m] = buffer[m - 1]
                    m -= 1
                }
                buffer[m] = value
            }
            return (buffer[i], buffer[j])
        }
    }

    /// The window kept inside the picture (unless `allowOutside`); an attention window is never
    /// mirrored: a negative s (the model's point-mirrored window) becomes |s|.
    private func inside(_ theta: ThetaValues, _ bounds: PictureBounds?) -> ThetaValues {
        var theta = theta
        if kind == .attention && theta.count == 3 && theta[0] < 0 { theta[0] = -theta[0] }
        guard !settings.allowOutside, let bounds else { return theta }
        return bounds.keepInside(theta, kind: kind)
    }

    /// (tx, ty, log s) of an attention θ, or nil when it is not finite or s ≤ 0.
    private func state(of theta: ThetaValues) -> (x: Double, y: Double, z: Double)? {
        guard theta.count == 3, theta[0] > 0, theta[0].isFinite, theta[1].isFinite, theta[2].isFinite else {
            return nil
        }
        return (theta[1], theta[2], log(theta[0]))
    }

    /// One frame of the pan towards `aim`: velocity steered towards the braking-limited speed
    /// along the direction to the aim, each change at most one frame's acceleration.
    private func pan(towards aim: (x: Double, y: Double, z: Double)) {
        let ex = aim.x - x, ey = aim.y - y
        let distance = (ex * ex + ey * ey).squareRoot()
        // Braking-limited, and never more than the distance left: at low frame rates one frame's
        // step at the braking speed would pass the aim and start a limit cycle around it.
        let wanted = min(speed, (2 * acceleration * distance).squareRoot(), distance)
        let wx = distance > 0 ? ex / distance * wanted : 0, wy = distance > 0 ? ey / distance * wanted : 0
        var dx = wx - vx, dy = wy - vy
        let change = (dx * dx + dy * dy).squareRoot()
        if change > acceleration {
            dx *= acceleration / change
            dy *= acceleration / change
        }
        vx += dx
        vy += dy
        x += vx
        y += vy
    }

    private func zoom(towards aim: Double) {
        let ez = aim - z
        let wantedZoom = min(zoomSpeed, (2 * zoomAcceleration * abs(ez)).squareRoot(), abs(ez)) * (ez < 0 ? -1 : 1)
        vz += max(-zoomAcceleration, min(zoomAcceleration, wantedZoom - vz))
        z += vz
    }
}
