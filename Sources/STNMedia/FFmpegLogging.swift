@preconcurrency import CFFmpeg

/// FFmpeg's own messages on standard error. Off by default: every failure reaches the user as
/// one `stn-video: error:` line, and damaged input as one warning with a count. `--verbose`
/// shows FFmpeg's errors and warnings too (as `ffmpeg -v warning`).
public enum FFmpegLogging {
    public static func configure(verbose: Bool) {
        av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_QUIET)
    }
}
