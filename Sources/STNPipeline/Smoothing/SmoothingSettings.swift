/// Temporal smoothing of θ (DESIGN.md §5 `--smoothing`, `--lookahead`, `--cut-threshold`).

/// The filter applied to each θ parameter over time.
public enum SmoothingMethod: String, CaseIterable, Sendable {
    /// The 1€ filter (Casiez, Roussel, Vogel, "1€ Filter", CHI 2012): a first-order low-pass
    /// whose cutoff rises with the signal's speed, so it is smooth at rest and fast when moving.
    case oneEuro = "one-euro"
    /// Exponential moving average, `y = α·x + (1 − α)·y_prev` per frame.
    case ema
    /// Kalman filter with a constant-velocity model per parameter.
    case kalman
    /// No smoothing: the smoothed θ is the raw θ.
    case none
}

/// Settings of `ThetaSmoother` and `SceneCutDetector`.
///
/// The units of θ are those of the filtered domain: normalised coordinates for translations and
/// matrix entries (the frame spans 2 units), natural log for the attention scale `s`. Noise of a
/// localisation net on video is typically 0.005–0.03 units frame to frame; objects move at up to
/// ~1 unit/s. The defaults are chosen for that regime (measured figures in SmoothingTests):
///
/// - one-euro: `minCutoff` 0.5 Hz, `beta` 4, `derivativeCutoff` 1 Hz. At rest the cutoff is
///   0.5 Hz, which removes about 70 % of white jitter of σ 0.01 at 30 fps (65 % at σ 0.02, more at
///   higher frame rates: the noise is averaged over more frames). Speed lifts the cutoff by 4 Hz per
///   unit/s, so a window moving at 0.5 units/s (a quarter of the frame per second) lags by 64 ms
///   (~2 frames at 30 fps), one at 0.1 units/s by 180 ms, and a step reaches 90 % in 2 frames.
///   The speed is taken from consecutive samples and the time step is 1/frameRate, so these lags
///   are the same in seconds at any frame rate. `derivativeCutoff` 1 Hz is Casiez et al.'s value.
/// - ema: `alpha` 0.2 per frame (not frame-rate aware): about 67 % less jitter, ramp lag
///   (1 − α)/α = 4 frames.
/// - kalman: `measurementNoise` 1e-4 (a per-frame σ of 0.01 units), `processNoise` 2e-3
///   (spectral density of white acceleration, units²/s³). Only their ratio matters after the first
///   frames. About 60 % less jitter, no steady-state lag on a ramp; a step reaches 90 % in 5
///   frames and overshoots by ~19 %. With lookahead it becomes the fixed-lag (RTS) smoother.
/// - `lookahead` 0 (causal); `cutThreshold` 0.035 and `cutMinimumGap` 6 frames (see `SceneCutDetector`).
public struct SmoothingSettings: Sendable, Equatable {
    public var method: SmoothingMethod
    /// One-euro: cutoff frequency at rest, Hz (≥ 0; 0 with beta 0 freezes the output).
    public var minCutoff: Double
    /// One-euro: cutoff increase per unit/s of filtered speed, Hz·s/unit (≥ 0).
    public var beta: Double
    /// One-euro: cutoff of the speed estimate's low-pass, Hz (≥ 0).
    public var derivativeCutoff: Double
    /// EMA: weight of the new sample per frame, in (0, 1].
    public var alpha: Double
    /// Kalman: white-acceleration spectral density q, units²/s³ (≥ 0).
    public var processNoise: Double
    /// Kalman: measurement variance r, units² (≥ 0).
    public var measurementNoise: Double
    /// 0: causal. N > 0: centred smoothing using N future frames, N frames of latency
    /// (definition in `ThetaSmoother`). Ignored by `.none`.
    public var lookahead: Int
    /// Scene-cut detector threshold on its score in [0, 1] (ffmpeg scdet's score / 100); 0 disables detection.
    public var cutThreshold: Double
    /// Frames after a cut in which no other cut is reported.
    public var cutMinimumGap: Int = SmoothingSettings.defaultCutMinimumGap

    public static let defaultCutThreshold = 0.035
    /// The pipeline's look-ahead (`RectifyOptions`, stn-video's `--lookahead`): 4 frames of centred
    /// smoothing cancel the one-euro filter's lag on a moving subject (on pipelines/camera-check.py's
    /// generated clips the held window's IoU rises from 0.559 causal to 0.615, above the raw
    /// window's 0.605), at 8 frames of latency with the camera's look-ahead. `SmoothingSettings()`
    /// itself stays causal.
    public static let defaultLookahead = 4
    public static let defaultCutMinimumGap = 6

    public init(
        method: SmoothingMethod = .oneEuro,
        minCutoff: Double = 0.5, beta: Double = 4.0, derivativeCutoff: Double = 1.0,
        alpha: Double = 0.2,
        processNoise: Double = 2e-3, measurementNoise: Double = 1e-4,
        lookahead: Int = 0,
        cutThreshold: Double = SmoothingSettings.defaultCutThreshold
    ) {
        self.method = method
        self.minCutoff = minCutoff
        self.beta = beta
        self.derivativeCutoff = derivativeCutoff
        self.alpha = alpha
        self.processNoise = processNoise
        self.measurementNoise = measurementNoise
        self.lookahead = lookahead
        self.cutThreshold = cutThreshold
    }

    /// The first invalid setting, as a message naming its command-line option, or nil.
    /// Every setting is checked, whatever the method. `ThetaSmoother.init` traps on an invalid
    /// setting, so check this first when the settings come from a user.
    /// Every valid setting gives finite output for finite input.
    public var validationError: String? {
        func bad(_ option: String, _ value: Double, _ rule: String) -> String {
            "\(option) must be \(rule) (got \(value))"
        }
        // Beyond 10⁶ (Hz, or θ units²) a setting means "no smoothing" or "ignore the model", and
        // the filters' arithmetic would overflow on the way.
        let limit = 1e6
        if !(minCutoff >= 0 && minCutoff <= limit) { return bad("--min-cutoff", minCutoff, "in [0, 1e6]") }
        if !(beta >= 0 && beta <= limit) { return bad("--beta", beta, "in [0, 1e6]") }
        if !(derivativeCutoff >= 0 && derivativeCutoff <= limit) {
            return bad("--d-cutoff", derivativeCutoff, "in [0, 1e6]")
        }
        if !(alpha > 0 && alpha <= 1) { return bad("--alpha", alpha, "in (0, 1]") }
        if !(processNoise >= 0 && processNoise <= limit) { return bad("--process-noise", processNoise, "in [0, 1e6]") }
        if !(measurementNoise >= 0 && measurementNoise <= limit) {
            return bad("--measurement-noise", measurementNoise, "in [0, 1e6]")
        }
        if lookahead < 0 { return "--lookahead must be ≥ 0 (got \(lookahead))" }
        if !(cutThreshold >= 0 && cutThreshold <= 1) { return bad("--cut-threshold", cutThreshold, "in [0, 1]") }
        if cutMinimumGap < 0 { return "the minimum gap between cuts must be ≥ 0 (got \(cutMinimumGap))" }
        return nil
    }
}
