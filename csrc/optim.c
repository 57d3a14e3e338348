#include "optim.h"
#include "isa.h"

#define FE_MAX_SLOTS 3

int fe_optimizer_num_slots(const fe_optimizer *opt) {
    switch (opt->kind) {
    case FE_OPT_SGD: return opt->momentum != 0.0f ? 1 : 0;
    case FE_OPT_ADAGRAD: return 1;
    case FE_OPT_RMSPROP: return 1 + (opt->centered ? 1 : 0) + (opt->momentum > 0.0f ? 1 : 0);
    case FE_OPT_ADAM: return opt->amsgrad ? 3 : 2;
    }
    return 0;
}

static void update_one(const fe_optimizer *opt, float *table, float *const *slots,
                       int n_slots, int64_t row, const float *g, int64_t dim) {
    float *slot_rows[FE_MAX_SLOTS] = {0, 0, 0};
    for (int k = 0; k < n_slots; k++) slot_rows[k] = slots[k] + row * dim;
    fe_isa->update_row(opt, table + row * dim, slot_rows, g, dim);
}

void fe_update_rows(const fe_optimizer *opt, float *table, float *const *slots,
                    const int64_t *rows, const float *grads, int64_t n_rows,
                    int64_t dim) {
    const int n_slots = fe_optimizer_num_slots(opt);
    #pragma omp parallel for schedule(static) if (n_rows * dim >= FE_PARALLEL_MIN_WORK)
    for (int64_t i = 0; i < n_rows; i++)
        update_one(opt, table, slots, n_slots, rows[i], grads + i * dim, dim);
}

void fe_update_all_rows(const fe_optimizer *opt, float *table,
                        float *const *slots, int64_t n_table_rows,
                        const int64_t *rows, const float *grads, int64_t n_rows,
                        int64_t dim, const float *zeros) {
    const int n_slots = fe_optimizer_num_slots(opt);
    #pragma omp parallel if (n_table_rows * dim >= FE_PARALLEL_MIN_WORK)
    {
        int64_t next = -1; /* index into rows of the first listed row >= r */
        #pragma omp for schedule(static)
        for (int64_t r = 0; r < n_table_rows; r++) {
            if (next < 0) { /* first row of this thread's chunk: binary search */
                int64_t lo = 0, hi = n_rows;
                while (lo < hi) {
                    const int64_t mid = lo + (hi - lo) / 2;
                    if (rows[mid] < r) lo = mid + 1; else hi = mid;
                }
                next = lo;
            }
            const float *g = zeros;
            if (next < n_rows && rows[next] == r) g = grads + (next++) * dim;
            update_one(opt, table, slots, n_slots, r, g, dim);
        }
    }
}
