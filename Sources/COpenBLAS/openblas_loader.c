// Loads OpenBLAS with one thread, before anything else runs.
//
// Debian's default OpenBLAS (the pthread build) starts its worker threads in its load-time
// constructor, and an idle worker spins on sched_yield for 2^28 cycles (~0.1 s) before it
// sleeps: 114 051 sched_yield calls in a 300-frame 640×480 run, whatever
// openblas_set_num_threads(1) says later. The constructor reads
// OPENBLAS_NUM_THREADS, so the variable is set first and the library loaded afterwards with
// dlopen: linked normally, its constructor would run before any of ours.
//
// The same constructor picks the CPU's kernels; OpenBLAS 0.3.21 (Debian 12) does not know
// newer CPUs (an Intel family 6 model 207, Emerald Rapids, for one) and falls back to its
// SSE3 "Prescott" kernels, which ran the keypoint localisation net in 1.01 ms a frame instead
// of 0.45 and training at 450 images/s instead of 1000. On such a CPU the library is loaded
// again with OPENBLAS_CORETYPE naming the kernels its features allow.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include "COpenBLAS.h"

typedef void (*sgemm_function)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, float,
                               const float *, int, const float *, int, float, float *, int);
typedef int (*threads_function)(void);
typedef void (*set_threads_function)(int);
typedef char *(*corename_function)(void);

static sgemm_function sgemm;
static threads_function get_threads;
static corename_function get_corename;
static char load_error[512];

// The best of OpenBLAS's x86-64 kernel sets that the CPU runs, by the name OPENBLAS_CORETYPE
// takes, or NULL when only the SSE kernels fit.
static const char *supported_core(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return NULL;
}

static void *open_openblas(void) {
    void *library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library || getenv("OPENBLAS_CORETYPE")) return library;  // a user's choice stands
    corename_function corename = (corename_function)dlsym(library, "openblas_get_corename");
    const char *core = supported_core();
    if (!corename || !core || strcasecmp(corename(), "Prescott") != 0) return library;
    // Unloaded (no thread started, nothing else holds it) and loaded again, its constructor
    // reads the variable this time.
    dlclose(library);
    setenv("OPENBLAS_CORETYPE", core, 1);
    return dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
}

__attribute__((constructor)) static void stn_load_openblas(void) {
    // Our callers parallelise over frames and batch items themselves; a second BLAS thread
    // gives no speed-up on the machines this runs on.
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    void *library = open_openblas();
    if (!library) {
        snprintf(load_error, sizeof load_error, "%s (install Debian's libopenblas0)", dlerror());
        return;
    }
    sgemm = (sgemm_function)dlsym(library, "cblas_sgemm");
    get_threads = (threads_function)dlsym(library, "openblas_get_num_threads");
    get_corename = (corename_function)dlsym(library, "openblas_get_corename");
    // In a host process that had already loaded OpenBLAS, the variable came too late.
    set_threads_function set_threads = (set_threads_function)dlsym(library, "openblas_set_num_threads");
    if (set_threads) set_threads(1);
    if (!sgemm) snprintf(load_error, sizeof load_error, "libopenblas.so.0 has no cblas_sgemm");
}

void stn_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
               int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc) {
    if (!sgemm) {
        fprintf(stderr, "%s: error: OpenBLAS: %s\n", program_invocation_short_name, load_error);
        exit(1);
    }
    sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int stn_openblas_threads(void) {
    if (!sgemm) return 0;
    return get_threads ? get_threads() : 1;
}

const char *stn_openblas_core(void) {
    if (!sgemm) return "";
    return get_corename ? get_corename() : "unknown";
}

int stn_cpu_runs_avx2(void) {
    return supported_core() != NULL;
}
