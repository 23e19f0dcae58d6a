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
///   In a stationary shot — the centres of the targets of the last `stationarySeconds` span
///   at most the camera window's side, 2s, on each axis — the dead zone is `stationaryDeadZone`.
/// - *Pan*: once a target's centre leaves, the camera pans towards the target a quarter of the
///   look-ahead window ahead (so with look-ahead it starts early, and leads a moving subject by
///   a quarter of the look-ahead): the pan speed is
///   at most `maxSpeed` and changes by at most `maxAcceleration` per second (as a 2-D vector),
///   braking so as to stop at the aim (speed ≤ √(2·a·distance)). The pan ends once the camera
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
    /// Target centres of the last `stationarySeconds` of the shot (a ring), for the stationary test.
    private var recentX: [Double], recentY: [Double]
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
        let deadZone = isStationary() ? settings.stationaryDeadZone : settings.deadZone
        // The pan starts when any target of the look-ahead window leaves the zone, and aims at the
        // target a quarter of the window ahead: early enough to keep the subject in the zone, with
        // a lead of N/4 frames rather than N (a full lead puts the camera ahead of a moving subject).
        let aimIndex = (pending.count - 1 + 2) / 4
        var aim = aim0
        for j in pending.indices {
            guard let t = state(of: j == 0 ? inside : self.inside(pending[j].target, pending[j].bounds)) else {
                continue
            }
            let reach = deadZone * exp(z)
            if !panning && (abs(t.x - x) > reach || abs(t.y - y) > reach) { panning = true }
            if !zooming && abs(t.z - z) > settings.zoomBand { zooming = true }
            if j <= aimIndex { aim = t }
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
            if abs(aim.z - z) <= settings.settleFraction * settings.zoomBand && abs(vz) <= zoomAcceleration {
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
        recentNext = (recentNext + 1) % recentX.count
        recentCount = min(recentCount + 1, recentX.count)
    }

    /// Whether the shot has lasted `stationarySeconds` and its recent target centres fit in the camera's window.
    private func isStationary() -> Bool {
        guard recentCount == recentX.count else { return false }
        let side = 2 * exp(z)
        var x0 = Double.infinity, x1 = -Double.infinity, y0 = Double.infinity, y1 = -Double.infinity
        for i in 0..<recentCount {
            x0 = min(x0, recentX[i]); x1 = max(x1, recentX[i])
            y0 = min(y0, recentY[i]); y1 = max(y1, recentY[i])
        }
        return x1 - x0 <= side && y1 - y0 <= side
    }

    private func inside(_ theta: ThetaValues, _ bounds: PictureBounds?) -> ThetaValues {
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
        let wanted = min(speed, (2 * acceleration * distance).squareRoot())
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
        let wantedZoom = min(zoomSpeed, (2 * zoomAcceleration * abs(ez)).squareRoot()) * (ez < 0 ? -1 : 1)
        vz += max(-zoomAcceleration, min(zoomAcceleration, wantedZoom - vz))
        z += vz
    }
}
