#ifndef STN_COPENBLAS_SHIM_H
#define STN_COPENBLAS_SHIM_H
// Debian's alternatives link /usr/include/x86_64-linux-gnu/cblas.h to OpenBLAS's header.
#include <cblas.h>
// OpenBLAS extensions (thread control) are declared in cblas.h of OpenBLAS itself.
#endif
