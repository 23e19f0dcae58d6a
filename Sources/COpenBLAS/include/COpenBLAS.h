#ifndef STN_COPENBLAS_H
#define STN_COPENBLAS_H
// Debian's alternatives link /usr/include/x86_64-linux-gnu/cblas.h to OpenBLAS's header;
// only its enums and types are used here: the library itself is loaded at start-up
// (openblas_loader.c), not linked.
#include <cblas.h>

/// cblas_sgemm of the OpenBLAS loaded at start-up, single-threaded.
void stn_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
               int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
               float beta, float *c, int ldc);

/// The number of threads OpenBLAS runs (1 once loaded), or 0 if it could not be loaded.
int stn_openblas_threads(void);

/// The kernel set OpenBLAS chose for this CPU ("Haswell", "SkylakeX", …), "" if not loaded.
const char *stn_openblas_core(void);

/// 1 if the CPU runs AVX2 and FMA (so OpenBLAS's SSE-only "Prescott" kernels are a wrong choice).
int stn_cpu_runs_avx2(void);

#endif
