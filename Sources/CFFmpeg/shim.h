#ifndef STN_CFFMPEG_SHIM_H
#define STN_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

// Swift cannot import FFmpeg's function-like and cast-built macros
// (AVERROR, AVERROR_EOF, AVERROR_EXPERIMENTAL, AV_NOPTS_VALUE, AV_TIME_BASE_Q); these give them names.
static inline int cff_averror(int posix_error) { return AVERROR(posix_error); }
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cff_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cff_averror_exit(void) { return AVERROR_EXIT; }
static inline int cff_averror_epipe(void) { return AVERROR(EPIPE); }
static inline int cff_averror_experimental(void) { return AVERROR_EXPERIMENTAL; }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational cff_time_base_q(void) { return AV_TIME_BASE_Q; }

// AVFrame.data/linesize are fixed-size C arrays that Swift imports as tuples;
// these accessors keep tuple indexing out of Swift.
static inline uint8_t *cff_frame_data(const AVFrame *f, int plane) { return f->data[plane]; }
static inline int cff_frame_linesize(const AVFrame *f, int plane) { return f->linesize[plane]; }
static inline uint8_t **cff_frame_data_array(AVFrame *f) { return f->data; }
static inline int *cff_frame_linesize_array(AVFrame *f) { return f->linesize; }

// The interrupt callback must be a plain C function; it polls a flag that a signal handler
// (or another thread) sets, so that a read or write blocked on a pipe ends.
static inline int cff_interrupt_poll(void *opaque) {
    return opaque ? __atomic_load_n((volatile int *)opaque, __ATOMIC_SEQ_CST) : 0;
}
static inline void cff_install_interrupt(AVFormatContext *ctx, int *flag) {
    ctx->interrupt_callback.callback = cff_interrupt_poll;
    ctx->interrupt_callback.opaque = flag;
}
// avio_open2 with that callback: the output's own I/O gives up once `flag` is set.
static inline int cff_avio_open_interruptible(AVIOContext **pb, const char *url, int flags, int *flag) {
    AVIOInterruptCB callback = { cff_interrupt_poll, flag };
    return avio_open2(pb, url, flags, &callback, NULL);
}

// The rotation a stream's display matrix asks for, in degrees counter-clockwise, or NaN
// when there is none or it also mirrors the picture (the side data is an int32_t[9]; Swift
// would see a raw byte pointer).
static inline double cff_stream_rotation(const AVStream *stream) {
    size_t size = 0;
    const uint8_t *matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!matrix || size < 9 * sizeof(int32_t)) return __builtin_nan("");
    const int32_t *m = (const int32_t *)matrix;
    // A mirrored matrix (negative determinant) is a flip as well as a turn: report none.
    if ((int64_t)m[0] * m[4] - (int64_t)m[1] * m[3] < 0) return __builtin_nan("");
    return av_display_rotation_get(m);
}

#endif
