#include <omp.h>
#include "optim.h"
#include "fpenv.h"
#include "isa.h"

/* Updates run with denormals flushed to zero (fpenv.h), as XLA runs Keras's:
 * a slot that decays while its gradient stays zero (Adam's m of a table row
 * no batch reads, by 0.9 a step) reaches the denormal range in about 800
 * steps, where each update took 20 times longer (Adam on a 1,000 x 64 table:
 * 27 us a step, 552 us once its untouched rows' m were denormal). */

/* An update costs far more than a copied float (Adam: a square root and a
 * division per element), so a team pays off from FE_PARALLEL_MIN_WORK / 8
 * parameters (Adam on 41k parameters: 5.3 us on two threads, 10.0 on one). */
#define FE_UPDATE_MIN_PARALLEL (FE_PARALLEL_MIN_WORK / 8)
/* Parameters per task: of a dense weight or of listed rows (FE_UPDATE_CHUNK),
 * of a whole table's streaming pass (FE_UPDATE_TABLE_CHUNK). */
#define FE_UPDATE_CHUNK 4096
#define FE_UPDATE_TABLE_CHUNK (16 * FE_UPDATE_CHUNK)

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

/* Replay on one row the zero-gradient steps history[from .. n_steps). */
static void replay_row(const fe_optimizer *history, int64_t from, int64_t n_steps,
                       float *table, float *const *slots, int n_slots, int64_t row,
                       int64_t dim, const float *zeros) {
    if (from >= n_steps) return;
    float *slot_span[FE_MAX_SLOTS] = {0, 0, 0};
    for (int k = 0; k < n_slots; k++) slot_span[k] = slots[k] + row * dim;
    fe_isa->replay_row(history + from, n_steps - from, table + row * dim, slot_span, zeros, dim);
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

/* Parameters or rows per task of an item. */
static int64_t task_size(const fe_update_item *it) {
    switch (it->mode) {
    case FE_UPDATE_DENSE: return FE_UPDATE_CHUNK;
    case FE_UPDATE_ALL_ROWS: return it->dim < FE_UPDATE_TABLE_CHUNK ? FE_UPDATE_TABLE_CHUNK / it->dim : 1;
    default: return it->dim < FE_UPDATE_CHUNK ? FE_UPDATE_CHUNK / it->dim : 1;
    }
}

/* Task `task` of an item: its share of the parameters, rows or table rows. */
static void run_task(const fe_update_item *it, int64_t task, const float *zeros,
                     int64_t n_zeros) {
    const fe_optimizer *opt = &it->opt;
    const int n_slots = fe_optimizer_num_slots(opt);
    const int64_t size = task_size(it), dim = it->dim;
    if (it->mode == FE_UPDATE_DENSE) {
        const int64_t offset = task * size, n = dim - offset < size ? dim - offset : size;
        update_span(opt, it->param, it->slots, n_slots, offset, it->grad + offset, n);
        return;
    }
    if (it->mode == FE_UPDATE_ALL_ROWS) {  /* table rows [begin, end) */
        const int64_t begin = task * size;
        const int64_t end = it->n_table_rows - begin < size ? it->n_table_rows : begin + size;
        int64_t next = 0, hi = it->n_rows; /* next: first listed row >= begin */
        while (next < hi) {
            const int64_t mid = next + (hi - next) / 2;
            if (it->rows[mid] < begin) next = mid + 1; else hi = mid;
        }
        int64_t r = begin;
        for (; next < it->n_rows && it->rows[next] < end; next++) {
            update_untouched(opt, it->param, it->slots, n_slots, r, it->rows[next], dim, zeros, n_zeros);
            update_span(opt, it->param, it->slots, n_slots, it->rows[next] * dim,
                        it->grad + next * dim, dim);
            r = it->rows[next] + 1;
        }
        update_untouched(opt, it->param, it->slots, n_slots, r, end, dim, zeros, n_zeros);
        return;
    }
    const int64_t last = it->n_rows - task * size < size ? it->n_rows : (task + 1) * size;
    for (int64_t i = task * size; i < last; i++) {
        const int64_t row = it->rows[i];
        if (it->mode == FE_UPDATE_DEFERRED) {
            replay_row(it->history, it->row_step[row], it->n_steps, it->param, it->slots,
                       n_slots, row, dim, zeros);
            it->row_step[row] = it->n_steps + 1;
        }
        update_span(opt, it->param, it->slots, n_slots, row * dim, it->grad + i * dim, dim);
    }
}

void fe_update_step(fe_update_item *items, int64_t n_items, const float *zeros,
                    int64_t n_zeros) {
    int64_t n_tasks = 0, work = 0;
    for (int64_t i = 0; i < n_items; i++) {
        fe_update_item *it = &items[i];
        const int64_t units = it->mode == FE_UPDATE_DENSE ? it->dim
            : it->mode == FE_UPDATE_ALL_ROWS ? it->n_table_rows : it->n_rows;
        it->first_task = n_tasks;
        n_tasks += (units + task_size(it) - 1) / task_size(it);
        work += it->mode == FE_UPDATE_ALL_ROWS ? it->n_table_rows * it->dim
            : it->mode == FE_UPDATE_DENSE ? it->dim : it->n_rows * it->dim;
    }
    #pragma omp parallel if (work >= FE_UPDATE_MIN_PARALLEL)
    {
        const fe_fp_state fp = fe_flush_denormals();
        int64_t item = 0;  /* a thread's tasks come in increasing order */
        #pragma omp for schedule(static)
        for (int64_t task = 0; task < n_tasks; task++) {
            while (item + 1 < n_items && items[item + 1].first_task <= task) item++;
            run_task(&items[item], task - items[item].first_task, zeros, n_zeros);
        }
        fe_restore_fp(fp);
    }
}

void fe_replay_rows(const fe_optimizer *history, int64_t n_steps, float *table,
                    float *const *slots, int64_t n_table_rows, int64_t dim,
                    int64_t *row_step, const int64_t *rows, int64_t n_rows,
                    int64_t *scratch, const float *zeros) {
    if (n_steps == 0) return;
    const int n_slots = fe_optimizer_num_slots(&history[0]);
    if (!rows) {
        #pragma omp parallel if (n_table_rows * dim >= FE_UPDATE_MIN_PARALLEL)
        {
            const fe_fp_state fp = fe_flush_denormals();
            #pragma omp for schedule(static)
            for (int64_t r = 0; r < n_table_rows; r++) {
                replay_row(history, row_step[r], n_steps, table, slots, n_slots, r, dim, zeros);
                row_step[r] = n_steps;
            }
            fe_restore_fp(fp);
        }
        return;
    }
    /* Each stale row once (rows repeat): scratch holds (row, first missed step). */
    int64_t n_stale = 0, work = 0;
    for (int64_t i = 0; i < n_rows; i++) {
        const int64_t r = rows[i];
        if (row_step[r] < n_steps) {
            scratch[2 * n_stale] = r;
            scratch[2 * n_stale + 1] = row_step[r];
            work += (n_steps - row_step[r]) * dim;
            row_step[r] = n_steps;
            n_stale++;
        }
    }
    /* Rows miss from 1 to n_steps steps: dealt out a few at a time, as
     * threads free up, so that no thread waits on another's long rows. */
    #pragma omp parallel if (work >= FE_UPDATE_MIN_PARALLEL)
    {
        const fe_fp_state fp = fe_flush_denormals();
        #pragma omp for schedule(dynamic, 4)
        for (int64_t k = 0; k < n_stale; k++)
            replay_row(history, scratch[2 * k + 1], n_steps, table, slots, n_slots,
                       scratch[2 * k], dim, zeros);
        fe_restore_fp(fp);
    }
}
