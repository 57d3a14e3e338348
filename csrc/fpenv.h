/* Denormal floats. Gradients carried back through a long recurrence decay
 * into the denormal range (below 1.2e-38), where each x86 float operation on
 * them takes a microcode path about 100 times slower: an IMDB-sized GRU epoch
 * took 10x longer until training grew its gradients. The recurrent backward
 * kernels therefore run with denormals flushed to zero (FTZ and DAZ), as XLA
 * runs every CPU kernel (Keras on jax), and give the caller's floating-point
 * state back on return. The state is per thread: call both inside each
 * parallel region (a serial BLAS called there runs under it too). */
#ifndef FE_FPENV_H
#define FE_FPENV_H

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>

typedef unsigned int fe_fp_state;

#define FE_MXCSR_FTZ_DAZ 0x8040u /* flush-to-zero (bit 15), denormals-are-zero (bit 6) */

static inline fe_fp_state fe_flush_denormals(void) {
    const fe_fp_state saved = _mm_getcsr();
    _mm_setcsr(saved | FE_MXCSR_FTZ_DAZ);
    return saved;
}

static inline void fe_restore_fp(fe_fp_state saved) { _mm_setcsr(saved); }

#else /* other architectures: denormals as the caller has them */
typedef int fe_fp_state;
static inline fe_fp_state fe_flush_denormals(void) { return 0; }
static inline void fe_restore_fp(fe_fp_state saved) { (void)saved; }
#endif

#endif
