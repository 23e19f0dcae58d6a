#include "stop_signal.h"
#include <signal.h>
#include <unistd.h>

// Sent to a blocked reader or writer only to make its system call return EINTR.
#define STN_WAKE_SIGNAL SIGUSR2

static stn_stop_state *installed;

int stn_stop_get(const stn_stop_state *state) { return __atomic_load_n(&state->signal, __ATOMIC_SEQ_CST); }
void stn_stop_set(stn_stop_state *state, int signal) { __atomic_store_n(&state->signal, signal, __ATOMIC_SEQ_CST); }
int stn_stop_output_abandoned(const stn_stop_state *state) { return __atomic_load_n(&state->abandon_output, __ATOMIC_SEQ_CST); }
void stn_stop_reset(stn_stop_state *state) {
    __atomic_store_n(&state->signal, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&state->abandon_output, 0, __ATOMIC_SEQ_CST);
}

static void wake(pthread_t thread) {
    if (thread != 0 && !pthread_equal(thread, pthread_self())) pthread_kill(thread, STN_WAKE_SIGNAL);
}

static void on_stop_signal(int signal) {
    stn_stop_state *state = __atomic_load_n(&installed, __ATOMIC_SEQ_CST);
    if (!state || stn_stop_get(state) != 0) _exit(128 + signal);
    stn_stop_set(state, signal);
    wake(__atomic_load_n(&state->reader, __ATOMIC_SEQ_CST));
}

int stn_stop_abandon_blocked_write(stn_stop_state *state) {
    pthread_t writer = __atomic_load_n(&state->writer, __ATOMIC_SEQ_CST);
    if (writer == 0) return 0;
    __atomic_store_n(&state->abandon_output, 1, __ATOMIC_SEQ_CST);
    wake(writer);
    return 1;
}

static void on_wake_signal(int signal) { (void)signal; }

// The wake-up only interrupts a system call; without a handler it would end the process. Set
// before any thread can be woken, whether or not the stop signals are handled.
static void install_wake_handler(void) {
    struct sigaction wake_action = {0};
    wake_action.sa_handler = on_wake_signal;
    sigemptyset(&wake_action.sa_mask);
    sigaction(STN_WAKE_SIGNAL, &wake_action, NULL);
}

void stn_stop_install(stn_stop_state *state) {
    __atomic_store_n(&installed, state, __ATOMIC_SEQ_CST);
    struct sigaction action = {0};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    install_wake_handler();
}

void stn_stop_uninstall(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    __atomic_store_n(&installed, NULL, __ATOMIC_SEQ_CST);
}

void stn_stop_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

// Dispatch's worker threads block signals; a thread that may be woken must take the wake-up.
// Once per thread, not per call: a stage mostly stays on one thread.
static _Thread_local int wake_unblocked;

static void unblock_wake(void) {
    if (wake_unblocked) return;
    install_wake_handler();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, STN_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    wake_unblocked = 1;
}

void stn_stop_enter_read(stn_stop_state *state) {
    unblock_wake();
    __atomic_store_n(&state->reader, pthread_self(), __ATOMIC_SEQ_CST);
}
void stn_stop_leave_read(stn_stop_state *state) { __atomic_store_n(&state->reader, (pthread_t)0, __ATOMIC_SEQ_CST); }
void stn_stop_enter_write(stn_stop_state *state) {
    unblock_wake();
    __atomic_store_n(&state->writer, pthread_self(), __ATOMIC_SEQ_CST);
}
void stn_stop_leave_write(stn_stop_state *state) { __atomic_store_n(&state->writer, (pthread_t)0, __ATOMIC_SEQ_CST); }
