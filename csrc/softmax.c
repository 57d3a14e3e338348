#include <stddef.h>
#include "isa.h"
#include "softmax.h"

void fe_softmax_forward(float *y, const float *z, const float *bias, int64_t n, int64_t k) {
    const fe_isa_table *isa = fe_isa;
    FE_FOR_ROWS(i, n, n * k, isa->softmax_row(y + i * k, z + i * k, bias, k));
}

void fe_softmax_backward(float *dz, const float *y, const float *dy, int64_t n, int64_t k) {
    const fe_isa_table *isa = fe_isa;
    FE_FOR_ROWS(i, n, n * k,
                isa->softmax_grad_row(dz + i * k, y + i * k, dy + i * k, k));
}

void fe_sparse_categorical_crossentropy(float *values, float *grad, const int64_t *ids,
                                        const float *y_pred, const float *row_scale,
                                        int64_t n, int64_t k, int from_logits) {
    const fe_isa_table *isa = fe_isa;
    FE_FOR_ROWS(i, n, n * k,
                values[i] = isa->sparse_crossentropy_row(grad ? grad + i * k : NULL, ids[i],
                                                         y_pred + i * k,
                                                         grad ? row_scale[i] : 0.0f, k,
                                                         from_logits));
}

void fe_softmax_sparse_crossentropy_backward(float *values, float *dz, const int64_t *ids,
                                             const float *y, const float *row_scale,
                                             int64_t n, int64_t k) {
    const fe_isa_table *isa = fe_isa;
    FE_FOR_ROWS(i, n, n * k,
                values[i] = isa->softmax_crossentropy_grad_row(dz + i * k, ids[i], y + i * k,
                                                               row_scale[i], k));
}
