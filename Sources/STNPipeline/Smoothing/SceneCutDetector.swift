/// Detects hard cuts with ffmpeg's `scdet` score, on a small picture of each frame: in the
/// pipeline, the model's localisation input (the frame's Y area-averaged to the network's input
/// side, in the canvas).
///
/// **Score** (libavfilter/vf_scdet.c): with `mafd[k]` the mean absolute difference of frames k
/// and k−1 over every sample, as a fraction of the 8-bit range (SAD / count / 256),
///
///     score[k] = clamp(min(mafd[k], |mafd[k] − mafd[k−1]|), 0, 1)      (k ≥ 2; frames 0 and 1 score 0)
///
/// This is scdet's score divided by 100 (the scale of ffmpeg's `select` `scene`), so scdet's
/// `t=10` is 0.1 here. A cut is a frame whose picture changes *suddenly*: noise and steady
/// motion give a steady `mafd`, so `|mafd[k] − mafd[k−1]|` stays small, and a slow fade a small
/// `mafd`. ffmpeg scores every sample of Y, U and V; the pipeline scores the localisation input
/// the network reads anyway (no second downscale): luma only, so a cut between two shots of
/// the same luma but different colour is missed, and the square canvas's black bands, which
/// never change, scale the score by the picture's share of the canvas.
///
/// **Default threshold 0.035** (see `SmoothingSettings.defaultCutThreshold`), bracketed with the
/// bundled model's 96×96 input by running stn-video at several thresholds: on Debian's opencv-doc
/// clips Megamind.avi's three cuts score 0.115–0.13 (scdet 0.136–0.153) and no other frame above
/// 0.006; the static vtest.avi stays below 0.005 and the shaky tree.avi at most 0.030 (scdet
/// 0.030). The cuts of stn-make-video's clips (pipelines/camera-check.py's nine), between dark
/// cluttered scenes, score at least 0.040. A cut is reported when `score > threshold`, and not within
/// `minimumGap` frames after the last one (a one-frame flash or a fade's steps are one cut);
/// threshold 0 disables reporting (the score is still computed).
///
/// Known limits: unlike scdet, which scores the second frame its whole `mafd`, the first two
/// frames (of a stream, or after a change of picture size) are never cuts; a cut between two
/// shots of nearly the same picture is missed; a flash is a cut.
///
/// Not thread-safe: use one instance from one stage at a time.
public final class SceneCutDetector {
    /// Score above which a frame is a cut, in [0, 1]; 0 disables reporting.
    public let threshold: Double
    /// The score of the last frame passed to `isCut` (0 for the first frame).
    public private(set) var lastScore: Double = 0
    /// `mafd` of the last frame (mean absolute difference to its predecessor, a fraction of 256).
    public private(set) var lastMeanAbsoluteDifference: Double = 0

    private var previous: [UInt8] = []
    private var previousWidth = 0, previousHeight = 0

    /// Frames after a cut in which no other cut is reported.
    public let minimumGap: Int
    /// Frames since the last reported cut (Int.max before the first).
    private var sinceCut = Int.max
    /// Whether `lastMeanAbsoluteDifference` holds a difference (false for the first two frames).
    private var hasLevel = false

    public init(
        threshold: Double = SmoothingSettings.defaultCutThreshold,
        minimumGap: Int = SmoothingSettings.defaultCutMinimumGap
    ) {
        self.threshold = threshold
        self.minimumGap = minimumGap
    }

    /// Scores `luma` (`width × height` bytes, rows contiguous) against the previous frame and
    /// returns whether a cut starts at it.
    public func isCut(luma: UnsafePointer<UInt8>, width: Int, height: Int) -> Bool {
        isCut(luma: luma, width: width, height: height, rowStride: width)
    }

    /// As `isCut(luma:width:height:)` for rows `rowStride` bytes apart.
    public func isCut(luma: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int) -> Bool {
        precondition(width >= 0 && height >= 0 && rowStride >= width, "SceneCutDetector: bad image size")
        let count = width * height
        guard count > 0, width == previousWidth, height == previousHeight, previous.count == count else {
            // First frame (or a new size): nothing to compare with.
            previousWidth = width
            previousHeight = height
            previous = [UInt8](repeating: 0, count: count)
            copy(luma, width: width, height: height, rowStride: rowStride)
            lastScore = 0
            lastMeanAbsoluteDifference = 0
            sinceCut = Int.max
            hasLevel = false
            return false
        }
        var sum = 0
        previous.withUnsafeMutableBufferPointer { prev in
            for y in 0..<height {
                let row = luma + y * rowStride
                let prevRow = prev.baseAddress! + y * width
                var rowSum = 0
                for x in 0..<width {
                    let a = Int(row[x]), b = Int(prevRow[x])
                    rowSum &+= a > b ? a - b : b - a
                    prevRow[x] = row[x]
                }
                sum &+= rowSum
            }
        }
        let mafd = Double(sum) / Double(count) / 256
        let jump = abs(mafd - lastMeanAbsoluteDifference)
        lastMeanAbsoluteDifference = mafd
        // The second frame has no earlier level of change to compare with: score 0 (scdet scores
        // it its whole mafd, which makes any strongly changing or noisy start a cut).
        lastScore = hasLevel ? min(max(min(mafd, jump), 0), 1) : 0
        hasLevel = true
        sinceCut = sinceCut == Int.max ? sinceCut : sinceCut + 1
        guard threshold > 0 && lastScore > threshold && sinceCut > minimumGap else { return false }
        sinceCut = 0
        return true
    }

    /// Forgets the previous frame: the next frame is treated as the first.
    public func reset() {
        previous = []
        previousWidth = 0
        previousHeight = 0
        lastScore = 0
        lastMeanAbsoluteDifference = 0
        sinceCut = Int.max
        hasLevel = false
    }

    private func copy(_ luma: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int) {
        previous.withUnsafeMutableBufferPointer { prev in
            for y in 0..<height {
                for x in 0..<width { prev[y * width + x] = luma[y * rowStride + x] }
            }
        }
    }
}
