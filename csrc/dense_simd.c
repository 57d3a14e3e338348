/* Dense's element-wise rows (dense.h), compiled once per ISA (isa.h). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include "isa.h"
#include "rnn_step.h"

void FE_ISA_FN(fe_dense_activation_row)(float *y, const float *restrict bias, int64_t k,
                                        int act) {
    if (bias) {
        #pragma omp simd
        for (int64_t j = 0; j < k; j++) y[j] += bias[j];
    }
    activate(act, y, y, k);
}

void FE_ISA_FN(fe_dense_grad_row)(float *dz, const float *dy, const float *y, int64_t k,
                                  int act) {
    if (dz != dy) memcpy(dz, dy, (size_t)k * sizeof(float));
    mul_derivative(act, dz, y, k);
}
