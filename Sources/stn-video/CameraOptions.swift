import ArgumentParser
import STNPipeline

extension CameraMode: ExpressibleByArgument {}

/// The window path after the noise filter: the virtual camera, the inside-the-picture rule and
/// the scene-cut threshold (DESIGN.md §2, §5). Defaults are `CameraSettings`' and
/// `SmoothingSettings`' own, so `--help` shows them.
struct CameraOptions: ParsableArguments {
    @Option(
        help:
            "The virtual camera after --smoothing: hold (stays still while the subject stays in a dead zone, pans and zooms with bounded speed and acceleration when it leaves, jumps at cuts) or follow (the smoothed window itself)."
    )
    var camera: CameraMode = CameraSettings().mode

    @Option(
        name: .customLong("dead-zone"),
        help: ArgumentHelp(
            "hold: how far the smoothed window's centre may stray from the camera's before it pans, as a fraction of the window's half-side (its scale may stray ±10 %). When the windows of the last 3 s stay about one place, the camera keeps to their middle and moves only when they leave its window.",
            valueName: "fraction"))
    var deadZone: Double = CameraSettings().deadZone

    @Option(
        name: .customLong("pan-speed"),
        help: ArgumentHelp("hold: fastest pan, canvas units per second (the canvas spans 2).", valueName: "units/s"))
    var panSpeed: Double = CameraSettings().maxSpeed

    @Option(
        name: .customLong("pan-acceleration"),
        help: ArgumentHelp("hold: largest change of pan speed, canvas units per second².", valueName: "units/s²"))
    var panAcceleration: Double = CameraSettings().maxAcceleration

    @Flag(
        name: .customLong("allow-outside"),
        help:
            "Sample the model's window wherever θ puts it; by default a window that leaves the picture is shifted inside, and shrunk where it is larger than the picture (affine, projective: its corners kept inside). --theta and --transforms windows are always sampled as given."
    )
    var allowOutside = false

    @Option(
        name: .customLong("cut-threshold"),
        help: ArgumentHelp(
            "Scene-cut threshold on ffmpeg scdet's score / 100, on the model's localisation input (the frame's luma area-averaged to the net's input side): the smaller of its mean absolute difference to the previous frame (a fraction of 256) and that difference's change since the frame before; 0 disables. A cut starts the smoothing afresh and the camera jumps; at most one cut in \(SmoothingSettings.defaultCutMinimumGap + 1) frames.",
            valueName: "score"))
    var cutThreshold: Double = SmoothingSettings.defaultCutThreshold

    func validate() throws {
        if !(0...1).contains(cutThreshold) { throw ValidationError("--cut-threshold must be in [0, 1].") }
        for (name, value) in [
            ("--dead-zone", deadZone), ("--pan-speed", panSpeed), ("--pan-acceleration", panAcceleration)
        ]
        where !(value >= 0 && value.isFinite) {
            throw ValidationError("\(name) must be a number ≥ 0.")
        }
    }

    /// The camera settings these options give, with `lookahead` future frames.
    func settings(lookahead: Int) -> CameraSettings {
        var settings = CameraSettings()
        settings.mode = camera
        settings.deadZone = deadZone
        settings.maxSpeed = panSpeed
        settings.maxAcceleration = panAcceleration
        settings.allowOutside = allowOutside
        settings.lookahead = lookahead
        return settings
    }
}
