@preconcurrency import CFFmpeg

/// FFmpeg's own messages on standard error: errors only by default (as `ffmpeg -v error`),
/// nothing but fatal ones under `--quiet`.
public enum FFmpegLogging {
    public static func configure(quiet: Bool, verbose: Bool = false) {
        av_log_set_level(verbose ? AV_LOG_INFO : (quiet ? AV_LOG_FATAL : AV_LOG_ERROR))
    }
}
