#include <omp.h>
#include "optim.h"
#include "isa.h"

#define FE_MAX_SLOTS 3
/* An update costs far more than a copied float (Adam: a square root and a
 * division per element), so a team pays off from FE_PARALLEL_MIN_WORK / 8
 * parameters (Adam on 41k parameters: 5.3 us on two threads, 10.0 on one). */
#define FE_UPDATE_MIN_PARALLEL (FE_PARALLEL_MIN_WORK / 8)
/* Parameters per task when one row is split over threads. */
#define FE_UPDATE_CHUNK 4096

int fe_optimizer_num_slots(const fe_optimizer *opt) {
    switch (opt->kind) {
    case FE_OPT_SGD: return opt->momentum != 0.0f ? 1 : 0;
    case FE_OPT_ADAGRAD: return 1;
    case FE_OPT_RMSPROP: return 1 + (opt->centered ? 1 : 0) + (opt->momentum > 0.0f ? 1 : 0);
    case FE_OPT_ADAM: return opt->amsgrad ? 3 : 2;
    case FE_OPT_NADAM: case FE_OPT_ADAMAX: case FE_OPT_ADADELTA: case FE_OPT_FTRL: return 2;
    case FE_OPT_LION: return 1;
    }
    return 0;
}

/* Update the n parameters starting at element offset of table and slots. */
static void update_span(const fe_optimizer *opt, float *table, float *const *slots,
                        int n_slots, int64_t offset, const float *g, int64_t n) {
    float *slot_span[FE_MAX_SLOTS] = {0, 0, 0};
    for (int k = 0; k < n_slots; k++) slot_span[k] = slots[k] + offset;
    fe_isa->update_row(opt, table + offset, slot_span, g, n);
}

void fe_update_rows(const fe_optimizer *opt, float *table, float *const *slots,
                    const int64_t *rows, const float *grads, int64_t n_rows,
                    int64_t dim) {
    const int n_slots = fe_optimizer_num_slots(opt);
    const int parallel = n_rows * dim >= FE_UPDATE_MIN_PARALLEL;
    if (n_rows == 1) {  /* a dense weight: by chunks of its one row */
        #pragma omp parallel for schedule(static) if (parallel)
        for (int64_t j = 0; j < dim; j += FE_UPDATE_CHUNK)
            update_span(opt, table, slots, n_slots, rows[0] * dim + j, grads + j,
                        dim - j < FE_UPDATE_CHUNK ? dim - j : FE_UPDATE_CHUNK);
        return;
    }
    #pragma omp parallel for schedule(static) if (parallel)
    for (int64_t i = 0; i < n_rows; i++)
        update_span(opt, table, slots, n_slots, rows[i] * dim, grads + i * dim, dim);
}

/* Rows [first, last) of the table with zero gradient: the run is contiguous,
 * so it is updated in spans of up to n_zeros elements, not row by row. */
static void update_untouched(const fe_optimizer *opt, float *table, float *const *slots,
                             int n_slots, int64_t first, int64_t last, int64_t dim,
                             const float *zeros, int64_t n_zeros) {
    for (int64_t offset = first * dim; offset < last * dim; offset += n_zeros) {
        const int64_t n = last * dim - offset < n_zeros ? last * dim - offset : n_zeros;
        update_span(opt, table, slots, n_slots, offset, zeros, n);
    }
}

void fe_update_all_rows(const fe_optimizer *opt, float *table,
                        float *const *slots, int64_t n_table_rows,
                        const int64_t *rows, const float *grads, int64_t n_rows,
                        int64_t dim, const float *zeros, int64_t n_zeros) {
    const int n_slots = fe_optimizer_num_slots(opt);
    #pragma omp parallel if (n_table_rows * dim >= FE_UPDATE_MIN_PARALLEL)
    {
        /* Each thread takes a contiguous block of rows (any split gives the same bits). */
        const int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
        const int64_t begin = n_table_rows * thread / threads;
        const int64_t end = n_table_rows * (thread + 1) / threads;
        int64_t next = 0, hi = n_rows; /* next: first listed row >= begin */
        while (next < hi) {
            const int64_t mid = next + (hi - next) / 2;
            if (rows[mid] < begin) next = mid + 1; else hi = mid;
        }
        int64_t r = begin;
        for (; next < n_rows && rows[next] < end; next++) {
            update_untouched(opt, table, slots, n_slots, r, rows[next], dim, zeros, n_zeros);
            update_span(opt, table, slots, n_slots, rows[next] * dim, grads + next * dim, dim);
            r = rows[next] + 1;
        }
        update_untouched(opt, table, slots, n_slots, r, end, dim, zeros, n_zeros);
    }
}
