#ifndef STN_STOP_SIGNAL_H
#define STN_STOP_SIGNAL_H
#include <pthread.h>

// The state behind one CancellationToken. Written by a signal handler and read by FFmpeg's
// interrupt callbacks (plain C functions), so it is C data accessed with atomics.
typedef struct stn_stop_state {
    int signal;          // 0, or the signal that asked the run to stop
    int abandon_output;  // 1 once a blocked output write was given up
    pthread_t reader;    // the thread in a blocking input read, or 0
    pthread_t writer;    // the thread in a blocking write to a pipe, or 0
} stn_stop_state;

int stn_stop_get(const stn_stop_state *state);
void stn_stop_set(stn_stop_state *state, int signal);
int stn_stop_output_abandoned(const stn_stop_state *state);
void stn_stop_reset(stn_stop_state *state);

// SIGINT/SIGTERM set `state` (a second one ends the process at once with 128 + signal) and
// wake the thread blocked on a read; no SA_RESTART, so that blocked call returns EINTR and
// FFmpeg polls the state. `stn_stop_uninstall` restores the default actions.
void stn_stop_install(stn_stop_state *state);
void stn_stop_uninstall(void);
void stn_stop_ignore_sigpipe(void);

// Marks the calling thread as the one to wake while it blocks in a read or a write. The
// kernel hands a process-directed signal to any thread; the handler forwards a wake-up.
void stn_stop_enter_read(stn_stop_state *state);
void stn_stop_leave_read(stn_stop_state *state);
void stn_stop_enter_write(stn_stop_state *state);
void stn_stop_leave_write(stn_stop_state *state);
// Gives up the write the writer thread is in, if any: sets abandon_output and wakes it (its
// write returns EINTR, FFmpeg's callback then sees the flag). Returns 1 if there was one.
int stn_stop_abandon_blocked_write(stn_stop_state *state);

#endif
