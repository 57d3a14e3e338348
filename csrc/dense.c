#include <string.h>
#include "dense.h"
#include "isa.h"

void fe_dense_forward(float *y, const float *bias, int64_t n, int64_t k, int act) {
    const fe_isa_table *isa = fe_isa;
    FE_FOR_ROWS(i, n, n * k, isa->dense_activation_row(y + i * k, bias, k, act));
}

void fe_dense_backward(float *dz, float *db, const float *dy, const float *y, int64_t n,
                       int64_t k, int act) {
    const fe_isa_table *isa = fe_isa;
    FE_FOR_ROWS(i, n, n * k, isa->dense_grad_row(dz + i * k, dy + i * k, y + i * k, k, act));
    if (!db) return;
    memset(db, 0, (size_t)k * sizeof(float));
    for (int64_t i = 0; i < n; i++) isa->add_row(db, dz + i * k, k);
}
