/// How the window moves from frame to frame once the noise filter (`--smoothing`) has run
/// (DESIGN.md §5 `--camera`).
public enum CameraMode: String, CaseIterable, Sendable {
    /// A virtual camera: holds still while the filtered window stays in a dead zone around it,
    /// pans and zooms with bounded speed and acceleration when it leaves, jumps at cuts.
    case hold
    /// The window is the filtered θ itself, frame by frame.
    case follow
}

/// Settings of `VirtualCamera`. Distances are in normalised canvas units (the canvas spans 2),
/// zoom in natural-log units of the scale s; speeds are per second and accelerations per second²,
/// so the camera behaves the same in seconds at any frame rate.
///
/// The defaults suit windows that follow a subject across a frame in a few seconds: the camera
/// stays put while the target's centre is within 0.15 of the window's half-side of its own
/// centre and its scale within ±10 %; a pan reaches 2 units/s (a 16:9 frame's width in about a
/// second) after 0.125 s, and stops at its aim without overshoot at any frame rate. A shot whose
/// target centres of the last 3 s, the outer fifth on each side left out, span at most half the
/// camera window's side on each axis is *stationary*: the camera then keeps to the middle of
/// those centres and moves only when they leave its window, and its zoom band is ±65 %, so that
/// a target that wanders about one place — a static scene, a model unsure between subjects,
/// off for a frame or two — does not move it, while a subject that travels is followed closely.
/// Measured with the bundled model by pipelines/camera-check.py (docs/camera.md has the table).
public struct CameraSettings: Sendable, Equatable {
    public var mode: CameraMode = .hold
    /// Dead zone: the target's centre may be this fraction of the window's half-side away
    /// from the camera's centre (on either axis) before the camera moves.
    public var deadZone: Double = 0.15
    /// A shot is stationary while its recent target centres (the outer fifth on each side left out)
    /// span at most this many camera window sides on each axis.
    public var stationarySpan: Double = 0.5
    /// Dead band of the zoom in a stationary shot (0.5: ±65 %), whose aim is the recent targets' median zoom.
    public var stationaryZoomBand: Double = 0.5
    /// How far back the stationary test looks, seconds.
    public var stationarySeconds: Double = 3
    /// Dead band of the zoom: |log(target s / camera s)| up to this stays still (0.1: ±10 %).
    public var zoomBand: Double = 0.1
    /// Fastest pan, canvas units per second.
    public var maxSpeed: Double = 2
    /// Largest change of pan speed, canvas units per second².
    public var maxAcceleration: Double = 16
    /// Fastest zoom, log-scale units per second.
    public var maxZoomSpeed: Double = 1.5
    /// Largest change of zoom speed, log-scale units per second².
    public var maxZoomAcceleration: Double = 6
    /// A pan ends once the camera is within this fraction of the dead zone of its aim.
    public var settleFraction: Double = 0.25
    /// Future frames the camera looks at to start a pan early (`--lookahead`).
    public var lookahead: Int = 0
    /// false: the window is kept inside the picture (shifted, shrunk where larger); true: θ is used as it is.
    public var allowOutside: Bool = false

    public init() {}

    /// The first invalid setting, as a message, or nil.
    public var validationError: String? {
        let positive: [(String, Double)] = [
            ("dead zone", deadZone), ("stationary span", stationarySpan),
            ("stationary time", stationarySeconds),
            ("stationary zoom band", stationaryZoomBand), ("zoom band", zoomBand), ("maximum speed", maxSpeed),
            ("maximum acceleration", maxAcceleration), ("maximum zoom speed", maxZoomSpeed),
            ("maximum zoom acceleration", maxZoomAcceleration)
        ]
        for (name, value) in positive where !(value >= 0 && value.isFinite) {
            return "camera \(name) must be a number ≥ 0 (got \(value))"
        }
        if !(settleFraction > 0 && settleFraction <= 1) {
            return "camera settle fraction must be in (0, 1] (got \(settleFraction))"
        }
        if lookahead < 0 { return "--lookahead must be ≥ 0 (got \(lookahead))" }
        return nil
    }
}
