/// Detects hard cuts from the small 8-bit luminance image the localisation net sees.
///
/// **Statistic** (FFmpeg's `select` filter `scene` score, on luma): with
/// `mafd[k]` = mean absolute difference of frames k and k−1 over all pixels (0…255),
///
///     score[k] = clamp(min(mafd[k], |mafd[k] − mafd[k−1]|) / 100, 0, 1)      (mafd[0] = 0)
///
/// A cut is a frame whose whole image changes *suddenly*: `mafd` jumps above its level of the
/// previous frame. Noise and steady motion (a moving object, a pan) give a high but steady
/// `mafd`, so `|mafd[k] − mafd[k−1]|` stays small; a slow fade gives a small `mafd`. Taking the
/// minimum of both needs a large change that is also a sudden one. The /100 scale is
/// FFmpeg's, so thresholds carry over (`select='gt(scene,0.3)'`).
///
/// **Default threshold 0.3**: a cut between unrelated shots changes the downscaled luma by 30–80
/// levels on average, while sensor noise (already averaged down by the area downscale) and
/// motion move `mafd` by a few levels between consecutive frames; sudden onset of fast motion
/// of a large object may reach ~0.2. A cut is reported when `score > threshold`; threshold 0
/// disables reporting (the score is still computed).
///
/// Known limits: a one-frame shot (cuts at k and k+1) may hide the second cut, because
/// `mafd` stays high for two frames; a cut between two shots of nearly the same luma
/// (e.g. two dark scenes) can be missed; a single-frame flash is reported as a cut.
/// The first frame, and the first frame after a change of image size, is never a cut; the
/// second frame's score is its whole `mafd` (there is no earlier level to subtract), so very
/// heavy noise (σ 20 levels on the small image) scores ~0.22 there.
/// Cost: one pass over the image (4096 bytes at 64×64), no allocation after the first frame.
///
/// Not thread-safe: use one instance from one stage at a time.
public final class SceneCutDetector {
    /// Score above which a frame is a cut, in [0, 1]; 0 disables reporting.
    public let threshold: Double
    /// The score of the last frame passed to `isCut` (0 for the first frame).
    public private(set) var lastScore: Double = 0
    /// `mafd` of the last frame (mean absolute difference to its predecessor, 0…255).
    public private(set) var lastMeanAbsoluteDifference: Double = 0

    private var previous: [UInt8] = []
    private var previousWidth = 0, previousHeight = 0

    public init(threshold: Double = SmoothingSettings.defaultCutThreshold) {
        self.threshold = threshold
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
        let mafd = Double(sum) / Double(count)
        let jump = abs(mafd - lastMeanAbsoluteDifference)
        lastMeanAbsoluteDifference = mafd
        lastScore = min(max(min(mafd, jump) / 100, 0), 1)
        return threshold > 0 && lastScore > threshold
    }

    /// Forgets the previous frame: the next frame is treated as the first.
    public func reset() {
        previous = []
        previousWidth = 0
        previousHeight = 0
        lastScore = 0
        lastMeanAbsoluteDifference = 0
    }

    private func copy(_ luma: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int) {
        previous.withUnsafeMutableBufferPointer { prev in
            for y in 0..<height {
                for x in 0..<width { prev[y * width + x] = luma[y * rowStride + x] }
            }
        }
    }
}
