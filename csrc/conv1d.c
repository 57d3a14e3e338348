#include <omp.h>
#include <string.h>
#include "conv1d.h"
#include "winograd.h"
#include "isa.h"
#include "sizes.h"

/* Filters per task of the dz / bias-gradient pass. */
#define FE_FILTER_BLOCK 64
/* The sparse products run by slices of the operand's or w^T's columns, as
 * wide as one pass of weighted_row_sum (fe_isa->row_block); a dw task sums
 * FE_SPARSE_FILTERS filters' rows of dw^T's slice, then transposes them
 * into dw; a dx task takes FE_SPARSE_SAMPLES samples. Tasks are handed out
 * as threads come free (the results do not depend on who runs them). */
#define FE_SPARSE_FILTERS 32
#define FE_SPARSE_SAMPLES 4
/* The GEMMs are cut into about FE_GEMM_TASKS tasks: blocks of output rows
 * (forward, dcols) and chunks of the rows that dw sums over (partial sums,
 * then added in chunk order). Sizes follow from the shape alone, so every
 * BLAS call and every sum, hence every result, is the same for any number
 * of threads. With a serial BLAS (blas_serial) OpenMP runs the tasks; else
 * they run in turn and BLAS threads each call. */
#define FE_GEMM_TASKS 16
/* Each task packs the whole kernel matrix: below about this many rows that
 * costs more than the task computes (32-row blocks: 45% slower forward at
 * the seed model's 192 x 320 x 128). */
#define FE_MIN_BLOCK_ROWS 96
/* Up to this many output rows (batch * out_steps) the cost model does not
 * pick F(m, r): transforming the kernel on every call costs more than the
 * transform saves (one sample of the seed model, 6 x 320 x 128, one thread:
 * 9.3-10.0 us by F(m, r), 5.2-5.8 strided, 6.5-6.9 im2col; three samples:
 * 13.4 by F(m, r), 15.6 im2col, 17.3 strided). */
#define FE_WINOGRAD_MIN_ROWS 16
/* dw's GEMMs are only as deep as their chunk of rows; shallower ones fall
 * below BLAS's speed. */
#define FE_MIN_CHUNK_ROWS 128
/* dz with at most one non-zero in FE_SPARSE_DZ (a max pooling after the
 * convolution passes gradient to one step per filter; relu zeroes more) is
 * multiplied by lists of its non-zeros instead of by GEMMs (at the seed
 * model's 1 in 6, backward took 73 us this way against 127 us by GEMMs). */
#define FE_SPARSE_DZ 4
/* Cost model: one float copied costs about as much as this many GEMM flops;
 * one reread by a GEMM that adds into its output (beta = 1), this many:
 * at 64 x 400 x 128 -> 250, kernel 3, strided ran 10% faster forward than
 * im2col while rereading 2.6 times the floats im2col copies. */
#define FE_FLOPS_PER_COPIED_FLOAT 16
#define FE_FLOPS_PER_REREAD_FLOAT 4
/* Strided GEMMs are `channels` deep; below this im2col is used. */
#define FE_MIN_TAP_DEPTH 64
/* Winograd's GEMMs are `channels` deep and `filters` wide (the other way
 * round for dx), and each packs its point of the kernel. The cost model runs
 * the forward pass by F(m, r) from FE_MIN_WINOGRAD_FORWARD channels and
 * filters (one thread, kernel 5: 32 x 10 x 64 -> 128 took 46 us against 79
 * by im2col; 64 x 100 x 32 -> 128, kernel 3: 0.38 ms against 0.74). The
 * backward's dense products, with more passes over the tiles, pay from
 * FE_MIN_WINOGRAD_WIDTH each, FE_MIN_WINOGRAD_WIDTHS together and
 * FE_MIN_WINOGRAD_TILES tiles (two threads: 64 x 400 x 128 -> 250, kernel
 * 3: 18.4 ms against 28; 32 x 100 x 128 -> 128: 1.63 against 1.60; 16 x
 * 100 x 64 -> 64: 0.28 against 0.21; 32 x 10 x 64 -> 128, kernel 5: 0.19
 * against 0.11). */
#define FE_MIN_WINOGRAD_FORWARD 32
#define FE_MIN_WINOGRAD_WIDTH 64
#define FE_MIN_WINOGRAD_WIDTHS 256
#define FE_MIN_WINOGRAD_TILES 256

/* Rows per GEMM task: about rows / FE_GEMM_TASKS, at least min_rows. */
static int64_t task_rows(int64_t rows, int64_t min_rows) {
    const int64_t n = round_up(ceil_div(rows, FE_GEMM_TASKS), 8);
    return n < min_rows ? min_rows : n;
}

/* Row stride of w^T in the sparse scratch: whole 64-byte lines, so that on
 * an aligned scratch every row is aligned for the vector loads. */
static int64_t wt_ld(const fe_conv1d_plan *p) {
    return round_up(p->kernel_size * p->channels, 16);
}

/* Non-zeros of dz that the sparse products take at most. */
static int64_t sparse_capacity(int64_t rows, int64_t filters) {
    return rows * filters / FE_SPARSE_DZ;
}

int fe_conv1d_winograd_fits(int64_t kernel_size, int64_t stride, int64_t dilation,
                            int64_t pad_left) {
    return kernel_size >= 2 && kernel_size <= 5 && stride == 1 && dilation == 1 &&
           pad_left < kernel_size;
}

void fe_conv1d_make_plan(fe_conv1d_plan *p, int64_t batch, int64_t steps,
                         int64_t channels, int64_t filters, int64_t kernel_size,
                         int64_t stride, int64_t dilation, int64_t pad_left,
                         int64_t out_steps, int strategy) {
    p->batch = batch; p->steps = steps; p->channels = channels; p->filters = filters;
    p->kernel_size = kernel_size; p->stride = stride; p->dilation = dilation;
    p->pad_left = pad_left; p->out_steps = out_steps;
    const int64_t width = kernel_size * channels;
    const int64_t span = (out_steps - 1) * stride + (kernel_size - 1) * dilation + 1;
    p->padded_steps = round_up(span > pad_left + steps ? span : pad_left + steps, stride);
    const int64_t strided_rows = (batch - 1) * (p->padded_steps / stride) + out_steps;
    const int zero_copy = pad_left == 0 && p->padded_steps == steps;
    const int winograd = strategy < 0 && batch * out_steps > FE_WINOGRAD_MIN_ROWS &&
                         fe_conv1d_winograd_fits(kernel_size, stride, dilation, pad_left);
    p->winograd_forward = strategy == 2 || (winograd && channels >= FE_MIN_WINOGRAD_FORWARD &&
                                            filters >= FE_MIN_WINOGRAD_FORWARD);
    p->winograd_backward =
        strategy == 2 ||
        (winograd && channels >= FE_MIN_WINOGRAD_WIDTH && filters >= FE_MIN_WINOGRAD_WIDTH &&
         channels + filters >= FE_MIN_WINOGRAD_WIDTHS &&
         fe_winograd_tiles(batch, out_steps, kernel_size) >= FE_MIN_WINOGRAD_TILES);
    if (strategy == 2) strategy = 0;
    if (strategy < 0) {
        /* Strided wastes the GEMM rows that straddle two samples, rereads the
         * output once per extra tap and may copy a padded input; im2col copies
         * every window. Taps only `channels` deep make GEMMs inefficient. */
        const double wasted_flops =
            2.0 * (double)(strided_rows - batch * out_steps) * width * filters;
        const double strided_copy = zero_copy ? 0.0 : (double)batch * p->padded_steps * channels;
        const double rereads = 2.0 * (double)(kernel_size - 1) * strided_rows * filters;
        const double im2col_copy = (double)batch * out_steps * width;
        strategy = channels < FE_MIN_TAP_DEPTH ||
                   wasted_flops + FE_FLOPS_PER_COPIED_FLOAT * strided_copy +
                           FE_FLOPS_PER_REREAD_FLOAT * rereads >
                       FE_FLOPS_PER_COPIED_FLOAT * im2col_copy;
    }
    p->im2col = strategy;
    if (p->im2col) {
        p->row_stride = out_steps;
        p->rows = batch * out_steps;
        p->operand_size = p->rows * width;
        p->zrows_size = 0;
    } else {
        p->row_stride = p->padded_steps / stride;
        p->rows = strided_rows;
        p->operand_size = zero_copy ? 0 : batch * p->padded_steps * channels;
        p->zrows_size = p->row_stride == out_steps ? 0 : p->rows * filters;
    }
    const int64_t chunks = ceil_div(p->rows, task_rows(p->rows, FE_MIN_CHUNK_ROWS));
    p->partials_size = (chunks - 1) * width * filters;
    p->winograd_size = p->winograd_slot = 0;
    if (p->winograd_forward || p->winograd_backward) {
        /* dx's tiles cover the input's steps */
        const int64_t tiles = fe_winograd_tiles(batch, max64(steps, out_steps), kernel_size);
        p->partials_size = max64(p->partials_size,
                                 fe_winograd_partials_size(tiles, channels, filters));
        p->winograd_size = round_up(6 * channels * filters, 16);
        p->winograd_slot = fe_winograd_slot_size(tiles, channels, filters);
    }
    /* See carve(): w^T, row and column starts, row counts, two lists. */
    p->sparse_bytes = filters * wt_ld(p) * (int64_t)sizeof(float) +
                      (p->rows + 1 + filters + 1) * (int64_t)sizeof(int64_t) +
                      ceil_div(filters, FE_FILTER_BLOCK) * p->rows * (int64_t)sizeof(int32_t) +
                      2 * sparse_capacity(p->rows, filters) * (int64_t)(sizeof(int32_t) + sizeof(float));
}

/* dst[row, k*channels + c] = x[b, t*stride + k*dilation - pad_left, c] for
 * rows [r0, r1), row = b*rows_per_sample + t, zero outside [0, steps):
 * im2col rows, or (taps = 1, stride = 1) rows of a padded copy.
 * dst: (batch * rows_per_sample, taps * channels); x: (batch, steps, channels) */
static void gather_windows(float *dst, const float *x, int64_t r0, int64_t r1,
                           int64_t steps, int64_t channels, int64_t rows_per_sample,
                           int64_t taps, int64_t stride, int64_t dilation, int64_t pad_left) {
    for (int64_t row = r0; row < r1; row++) {
        const int64_t b = row / rows_per_sample, t = row % rows_per_sample;
        for (int64_t k = 0; k < taps; k++) {
            const int64_t step = t * stride + k * dilation - pad_left;
            float *out = dst + (row * taps + k) * channels;
            if (step >= 0 && step < steps)
                memcpy(out, x + (b * steps + step) * channels, (size_t)channels * sizeof(float));
            else
                memset(out, 0, (size_t)channels * sizeof(float));
        }
    }
}

/* The operand's copy of x (im2col rows, or the padded copy), if it has one. */
static void build_operand(const fe_conv1d_plan *p, float *operand, const float *x) {
    const int64_t n = p->im2col ? p->rows : p->batch * p->padded_steps;
    if (!p->operand_size) return;
    #pragma omp parallel for schedule(static) if (p->operand_size >= FE_PARALLEL_MIN_WORK)
    for (int64_t r = 0; r < n; r++) {
        if (p->im2col)
            gather_windows(operand, x, r, r + 1, p->steps, p->channels, p->out_steps,
                           p->kernel_size, p->stride, p->dilation, p->pad_left);
        else
            gather_windows(operand, x, r, r + 1, p->steps, p->channels, p->padded_steps, 1, 1, 1,
                           p->pad_left);
    }
}

/* The GEMMs over the operand: `groups` GEMMs each `depth` deep, the g-th on
 * operand columns starting at g * offset and kernel rows g * depth. Strided
 * rows overlap (lda = stride * channels), which BLAS allows only for GEMMs
 * at most lda deep: one GEMM per kernel tap. */
typedef struct { int64_t groups, depth, lda, offset; } tap_layout;

static tap_layout taps_of(const fe_conv1d_plan *p) {
    tap_layout l;
    if (p->im2col) {
        l.groups = 1; l.depth = p->kernel_size * p->channels; l.lda = l.depth; l.offset = 0;
    } else {
        l.groups = p->kernel_size; l.depth = p->channels;
        l.lda = p->stride * p->channels; l.offset = p->dilation * p->channels;
    }
    return l;
}

/* Output rows [r0, r1): keep each sample's first out_steps rows, add bias,
 * activate (in place when z is y: then row r is output row r). */
static void epilogue(const fe_conv1d_plan *p, int64_t r0, int64_t r1, float *y, const float *z,
                     const float *b, int act) {
    const int64_t F = p->filters, T = p->out_steps, rs = p->row_stride;
    const int relu = act == FE_CONV1D_RELU;
    for (int64_t r = r0; r < r1; r++) {
        if (r % rs >= T) continue;
        fe_isa->bias_activation_row(y + ((r / rs) * T + r % rs) * F, z + r * F, b, F, relu);
    }
}

/* GEMM rows [r0, r1) of the forward pass (a: the operand, or x itself). */
static void forward_block(fe_sgemm_fn sgemm, const fe_conv1d_plan *p, int64_t r0, int64_t r1,
                          float *y, const float *x, const float *w, const float *b, int act,
                          const float *a, float *operand, float *z) {
    const int64_t F = p->filters;
    const tap_layout l = taps_of(p);
    if (p->im2col)  /* each block its own rows, while they are in cache */
        gather_windows(operand, x, r0, r1, p->steps, p->channels, p->out_steps,
                       p->kernel_size, p->stride, p->dilation, p->pad_left);
    for (int64_t g = 0; g < l.groups; g++)
        fe_gemm(sgemm, 0, 0, (int)(r1 - r0), (int)F, (int)l.depth, 1.0f,
                a + g * l.offset + r0 * l.lda, (int)l.lda, w + g * l.depth * F, (int)F,
                g ? 1.0f : 0.0f, z + r0 * F, (int)F);
    epilogue(p, r0, r1, y, z, b, act);
}

void fe_conv1d_forward(fe_sgemm_fn sgemm, int blas_serial, const fe_conv1d_plan *p, float *y,
                       const float *x, const float *w, const float *b, int act, float *operand,
                       float *zrows, float *winograd, int slots) {
    const int64_t F = p->filters, T = p->out_steps;
    const float *a = p->operand_size ? operand : x;
    float *z = p->zrows_size ? zrows : y;
    const int64_t block = task_rows(p->rows, FE_MIN_BLOCK_ROWS);
    const int64_t blocks = ceil_div(p->rows, block);
    const int parallel = blas_serial && blocks > 1 &&
                         p->rows * p->kernel_size * p->channels * F >= FE_PARALLEL_MIN_WORK;
    if (p->winograd_forward) {
        const fe_sequences in = {x, p->steps, p->steps, p->channels};
        fe_winograd_filter(winograd, w, p->channels * F, p->kernel_size, 0);
        fe_winograd_conv(sgemm, parallel, p->batch, y, T, F, in, p->kernel_size, p->pad_left,
                         winograd, 0, b, act == FE_CONV1D_RELU, winograd + p->winograd_size,
                         p->winograd_slot, slots);
        return;
    }
    if (!p->im2col) build_operand(p, operand, x);  /* its rows feed several blocks */
    FE_PARALLEL_FOR(k, blocks, parallel, dynamic,
                    forward_block(sgemm, p, k * block, min64(p->rows, (k + 1) * block), y, x,
                                  w, b, act, a, operand, z));
}

/* Columns [f0, f1) (at most FE_FILTER_BLOCK) of: dz[b*row_stride + t] =
 * dy[b, t] * act'(y[b, t]) for t < out_steps, zero on the discarded rows;
 * db = column sums of dz in row order; the non-zeros counted per row
 * (row_counts[r], of columns [f0, f1)) and per column (col_counts[f]).
 * Returns the number of non-zeros.
 * dz: (rows, F); dy, y: (batch, out_steps, F); db: (F) or NULL;
 * row_counts: (rows); col_counts: (F) */
static int64_t activation_backward(const fe_conv1d_plan *p, int64_t f0, int64_t f1, float *dz,
                                   float *db, int32_t *row_counts, int64_t *col_counts,
                                   const float *dy, const float *y, int act) {
    const int64_t F = p->filters, T = p->out_steps, rs = p->row_stride, nf = f1 - f0;
    const int relu = act == FE_CONV1D_RELU;
    float sum[FE_FILTER_BLOCK] = {0};
    int32_t col_count[FE_FILTER_BLOCK] = {0};
    for (int64_t b = 0; b < p->batch; b++) {  /* a sample's out_steps rows, then the discarded */
        const int64_t r = b * rs, o = b * T * F + f0;
        fe_isa->activation_grad_rows(dz + r * F + f0, sum, col_count, row_counts + r, dy + o,
                                     y + o, F, T, nf, relu);
        for (int64_t d = r + T; d < min64(p->rows, r + rs); d++) {
            memset(dz + d * F + f0, 0, (size_t)nf * sizeof(float));
            row_counts[d] = 0;
        }
    }
    int64_t nonzeros = 0;
    for (int64_t r = 0; r < p->rows; r++) nonzeros += row_counts[r];
    if (db) memcpy(db + f0, sum, (size_t)nf * sizeof(float));
    for (int64_t f = 0; f < nf; f++) col_counts[f0 + f] = col_count[f];
    return nonzeros;
}

/* The scratch of the sparse products, carved from plan->sparse_bytes. */
typedef struct {
    float *wt;            /* (F, wt_ld): w^T */
    int64_t *row_starts;  /* (rows + 1) */
    int64_t *col_starts;  /* (F + 1) */
    int32_t *row_counts;  /* (filter blocks, rows): non-zeros of each row's block */
    int32_t *row_index, *col_index;  /* (cap) each: filters by row, rows by filter */
    float *row_value, *col_value;    /* (cap) each */
} sparse_lists;

static sparse_lists carve(const fe_conv1d_plan *p, void *scratch) {
    const int64_t cap = sparse_capacity(p->rows, p->filters);
    sparse_lists s;
    s.wt = (float *)scratch;
    s.row_starts = (int64_t *)(s.wt + p->filters * wt_ld(p));
    s.col_starts = s.row_starts + p->rows + 1;
    s.row_counts = (int32_t *)(s.col_starts + p->filters + 1);
    s.row_index = s.row_counts + ceil_div(p->filters, FE_FILTER_BLOCK) * p->rows;
    s.col_index = s.row_index + cap;
    s.row_value = (float *)(s.col_index + cap);
    s.col_value = s.row_value + cap;
    return s;
}

/* In place: counts[0..n) -> starts[0..n], starts[i] = sum of counts before i. */
static void exclusive_prefix(int64_t *starts, int64_t n) {
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t count = starts[i];
        starts[i] = total;
        total += count;
    }
    starts[n] = total;
}

static void list_products(const fe_conv1d_plan *p, const sparse_lists *s, int parallel,
                          float *dw, float *dx, float *dcols, const float *a, tap_layout l,
                          const float *w);

/* Whether the sparse products of this many non-zeros run on the team. */
static int sparse_parallel(const fe_conv1d_plan *p, int64_t nonzeros) {
    return nonzeros * p->kernel_size * p->channels >= FE_PARALLEL_MIN_WORK;
}

/* The operand of dw's sparse products, *a laid out as *l; returns the rows
 * per sample of the lists by filter. x itself, tap by tap, where every
 * window lies inside x and a tap is whole vectors wide: no copy, and fewer
 * floats to keep in cache than im2col's (a third at the seed model's
 * shape); the lists then name rows of x. Else the plan's operand (built
 * here after a Winograd forward, which makes none). */
static int64_t sparse_operand(const fe_conv1d_plan *p, const float *x, float *operand,
                              const float **a, tap_layout *l) {
    const int64_t span = (p->out_steps - 1) + (p->kernel_size - 1) * p->dilation + 1;
    if (p->stride == 1 && p->pad_left == 0 && span <= p->steps &&
        p->channels % (fe_isa->row_block / 4) == 0) {
        *a = x;
        l->groups = p->kernel_size;
        l->depth = l->lda = p->channels;
        l->offset = p->dilation * p->channels;
        return p->steps;
    }
    if (p->winograd_forward) build_operand(p, operand, x);
    *a = p->operand_size ? operand : x;
    *l = taps_of(p);
    return p->row_stride;
}

/* The lists of the non-zeros of dz, counted per row and filter block in
 * s->row_counts and per filter in s->col_starts, then list_products; the
 * lists by filter name row b * x_stride + t for dz's row b * row_stride + t. */
static void sparse_products(const fe_conv1d_plan *p, const sparse_lists *s, int64_t nonzeros,
                            float *dw, float *dx, float *dcols, const float *dz, const float *a,
                            tap_layout l, int64_t x_stride, const float *w) {
    const int64_t F = p->filters, rows = p->rows;
    const int64_t blocks = ceil_div(F, FE_FILTER_BLOCK);
    const int parallel = sparse_parallel(p, nonzeros);
    for (int64_t r = 0; r < rows; r++) {
        s->row_starts[r] = 0;
        for (int64_t k = 0; k < blocks; k++) s->row_starts[r] += s->row_counts[k * rows + r];
    }
    exclusive_prefix(s->row_starts, rows);
    exclusive_prefix(s->col_starts, F);
    #pragma omp parallel for schedule(static) if (parallel)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t first = s->row_starts[r];
        fe_isa->compact_nonzeros(s->row_index + first, s->row_value + first, dz + r * F, F,
                                 s->row_starts[r + 1] - first);
    }
    /* The same non-zeros by filter: each block of filters takes its part of
     * every row's list (the rows' lists are in filter order). */
    #pragma omp parallel for schedule(static) if (parallel)
    for (int64_t k = 0; k < blocks; k++) {
        int64_t next[FE_FILTER_BLOCK];
        const int64_t f0 = k * FE_FILTER_BLOCK;
        memcpy(next, s->col_starts + f0, (size_t)min64(FE_FILTER_BLOCK, F - f0) * sizeof(int64_t));
        for (int64_t r = 0; r < rows; r++) {
            const int32_t row = (int32_t)(r / p->row_stride * x_stride + r % p->row_stride);
            int64_t first = s->row_starts[r];
            for (int64_t j = 0; j < k; j++) first += s->row_counts[j * rows + r];
            for (int64_t at = first; at < first + s->row_counts[k * rows + r]; at++) {
                const int64_t to = next[s->row_index[at] - f0]++;
                s->col_index[to] = row;
                s->col_value[to] = s->row_value[at];
            }
        }
    }
    list_products(p, s, parallel, dw, dx, dcols, a, l, w);
}

/* dw = A^T dz and dx (NULL: skipped) over the lists of dz's non-zeros.
 * Listed by filter in row order: dw^T[f, tap g] = sum over f's rows r of
 * dz[r, f] * (row r of tap g of the operand a, laid out as l),
 * FE_SPARSE_FILTERS filters at a time, transposed into dw. Listed by row
 * in filter order: dcols[r] = sum over r's filters f of dz[r, f] * w^T[f]
 * for the rows that have any, each added into the rows of dx its window
 * covers (dx's other rows are zero). */
static void list_products(const fe_conv1d_plan *p, const sparse_lists *s, int parallel,
                          float *dw, float *dx, float *dcols, const float *a, tap_layout l,
                          const float *w) {
    const int64_t F = p->filters, width = p->kernel_size * p->channels;
    const int64_t slice = fe_isa->row_block, slices = ceil_div(l.depth, slice);
    const int64_t groups = ceil_div(F, FE_SPARSE_FILTERS);
    #pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (int64_t task = 0; task < l.groups * slices * groups; task++) {
        const int64_t f0 = task % groups * FE_SPARSE_FILTERS, nf = min64(FE_SPARSE_FILTERS, F - f0);
        const int64_t g = task / groups / slices, c0 = task / groups % slices * slice;
        const int64_t n = min64(slice, l.depth - c0);
        float dwt[FE_SPARSE_FILTERS * FE_MAX_ROW_BLOCK];
        for (int64_t f = 0; f < nf; f++) {
            const int64_t first = s->col_starts[f0 + f];
            fe_isa->weighted_row_sum(dwt + f * n, a + g * l.offset + c0, l.lda,
                                     s->col_index + first, s->col_value + first,
                                     s->col_starts[f0 + f + 1] - first, n);
        }
        fe_isa->transpose(dw + (g * l.depth + c0) * F + f0, F, dwt, n, nf, n);
    }
    if (!dx) return;
    #pragma omp parallel for schedule(static) if (parallel)
    for (int64_t c0 = 0; c0 < width; c0 += 8)
        fe_isa->transpose(s->wt + c0, wt_ld(p), w + c0 * F, F, min64(8, width - c0), F);
    const int64_t C = p->channels, T = p->out_steps;
    /* A sample's rows add only into its own rows of dx. */
    #pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (int64_t b0 = 0; b0 < p->batch; b0 += FE_SPARSE_SAMPLES) {
        const int64_t b1 = min64(p->batch, b0 + FE_SPARSE_SAMPLES);
        for (int64_t c0 = 0; c0 < width; c0 += slice)
            for (int64_t b = b0; b < b1; b++)
                for (int64_t r = b * p->row_stride; r < b * p->row_stride + T; r++) {
                    const int64_t first = s->row_starts[r], count = s->row_starts[r + 1] - first;
                    if (count)
                        fe_isa->weighted_row_sum(dcols + r * width + c0, s->wt + c0, wt_ld(p),
                                                 s->row_index + first, s->row_value + first,
                                                 count, min64(slice, width - c0));
                }
        for (int64_t b = b0; b < b1; b++) {
            float *dxb = dx + b * p->steps * C;
            memset(dxb, 0, (size_t)(p->steps * C) * sizeof(float));
            for (int64_t t = 0; t < T; t++) {
                const int64_t r = b * p->row_stride + t;
                if (s->row_starts[r + 1] == s->row_starts[r]) continue;
                for (int64_t k = 0; k < p->kernel_size; k++) {
                    const int64_t step = t * p->stride + k * p->dilation - p->pad_left;
                    if (step >= 0 && step < p->steps)
                        fe_isa->add_row(dxb + step * C, dcols + r * width + k * C, C);
                }
            }
        }
    }
}

/* Rows [s0, s1) of dx (as rows of (batch * steps, channels)): dx[b, s] = sum
 * over taps k, with t = (s + pad_left - k*dilation) / stride a whole output
 * step, of dcols[b*row_stride + t, k*channels : (k+1)*channels].
 * dcols: (rows, kernel_size * channels) */
static void scatter_windows(const fe_conv1d_plan *p, int64_t s0, int64_t s1, float *dx,
                            const float *dcols) {
    const int64_t C = p->channels, K = p->kernel_size;
    for (int64_t row = s0; row < s1; row++) {
        const int64_t b = row / p->steps, s = row % p->steps;
        float *out = dx + row * C;
        memset(out, 0, (size_t)C * sizeof(float));
        for (int64_t k = 0; k < K; k++) {
            const int64_t q = s + p->pad_left - k * p->dilation;
            if (q < 0 || q % p->stride) continue;
            const int64_t t = q / p->stride;
            if (t >= p->out_steps) continue;
            fe_isa->add_row(out, dcols + ((b * p->row_stride + t) * K + k) * C, C);
        }
    }
}

int fe_conv1d_pooled_fits(const fe_conv1d_plan *p) {
    return p->batch * p->filters <= sparse_capacity(p->rows, p->filters);
}

/* Moves each counter of starts[0..n) (a list's first entry, advanced past
 * its last by the filling) back to its list's first entry. */
static void rewind_starts(int64_t *starts, int64_t n) {
    for (int64_t i = n; i > 0; i--) starts[i] = starts[i - 1];
    starts[0] = 0;
}

/* dz at row b * rs + step[b, f] of filter f: g[b, f] * act'(y there), as
 * fe_conv1d_backward computes it from the dense gradient. */
static inline float pooled_dz(const fe_conv1d_plan *p, const int32_t *step, const float *g,
                              const float *y, int relu, int64_t b, int64_t f) {
    const int64_t i = b * p->filters + f, t = step[i];
    return relu && !(y[(b * p->out_steps + t) * p->filters + f] > 0.0f) ? 0.0f : g[i];
}

int64_t fe_conv1d_backward_pooled(const fe_conv1d_plan *p, float *dx, float *dw, float *db,
                                  const int32_t *step, const float *g, const float *y, int act,
                                  const float *x, const float *w, float *operand, float *dcols,
                                  void *sparse_scratch) {
    const int64_t F = p->filters, T = p->out_steps, rs = p->row_stride;
    const int relu = act == FE_CONV1D_RELU;
    const sparse_lists s = carve(p, sparse_scratch);
    int64_t outside = 0, nonzeros = 0;
    for (int64_t i = 0; i < p->batch * F; i++) outside += step[i] < 0 || step[i] >= T;
    if (outside) return outside;
    const float *a;
    tap_layout taps;
    const int64_t x_stride = sparse_operand(p, x, operand, &a, &taps);
    /* dz's non-zeros counted by row and by filter, db summed over the
     * samples in order. */
    memset(s.row_starts, 0, (size_t)(p->rows + 1) * sizeof(int64_t));
    memset(s.col_starts, 0, (size_t)(F + 1) * sizeof(int64_t));
    if (db) memset(db, 0, (size_t)F * sizeof(float));
    for (int64_t b = 0; b < p->batch; b++)
        for (int64_t f = 0; f < F; f++) {
            const float v = pooled_dz(p, step, g, y, relu, b, f);
            if (db) db[f] += v;
            if (v == 0.0f) continue;
            s.row_starts[b * rs + step[b * F + f]]++;
            s.col_starts[f]++;
            nonzeros++;
        }
    exclusive_prefix(s.row_starts, p->rows);
    exclusive_prefix(s.col_starts, F);
    /* Samples, then filters, in order: each row's filters and each filter's
     * rows come out in the order fe_conv1d_backward lists them. */
    for (int64_t b = 0; b < p->batch; b++)
        for (int64_t f = 0; f < F; f++) {
            const float v = pooled_dz(p, step, g, y, relu, b, f);
            if (v == 0.0f) continue;
            const int64_t r = b * rs + step[b * F + f];
            const int64_t at_row = s.row_starts[r]++, at_col = s.col_starts[f]++;
            s.row_index[at_row] = (int32_t)f;
            s.row_value[at_row] = v;
            s.col_index[at_col] = (int32_t)(b * x_stride + step[b * F + f]);
            s.col_value[at_col] = v;
        }
    rewind_starts(s.row_starts, p->rows);
    rewind_starts(s.col_starts, F);
    list_products(p, &s, sparse_parallel(p, nonzeros), dw, dx, dcols, a, taps, w);
    return 0;
}

void fe_conv1d_backward(fe_sgemm_fn sgemm, int blas_serial, const fe_conv1d_plan *p,
                        float *dx, float *dw, float *db, const float *dy, const float *y,
                        int act, const float *x, const float *w, float *operand,
                        float *dz, float *dcols, float *partials, void *sparse_scratch,
                        float *winograd, int slots) {
    const int64_t F = p->filters, width = p->kernel_size * p->channels, rows = p->rows;
    const float *a = p->operand_size ? operand : x;
    const tap_layout l = taps_of(p);
    const sparse_lists lists = carve(p, sparse_scratch);
    int64_t nonzeros = 0;
    /* By blocks of filters: each column sum of db runs over rows in one order. */
    #pragma omp parallel for schedule(static) reduction(+ : nonzeros) \
        if (rows * F >= FE_PARALLEL_MIN_WORK)
    for (int64_t k = 0; k < ceil_div(F, FE_FILTER_BLOCK); k++)
        nonzeros += activation_backward(p, k * FE_FILTER_BLOCK, min64(F, (k + 1) * FE_FILTER_BLOCK),
                                        dz, db, lists.row_counts + k * rows, lists.col_starts,
                                        dy, y, act);
    const int sparse = nonzeros <= sparse_capacity(rows, F);
    if (sparse) {
        const float *sparse_a;
        tap_layout taps;
        const int64_t x_stride = sparse_operand(p, x, operand, &sparse_a, &taps);
        sparse_products(p, &lists, nonzeros, dw, dx, dcols, dz, sparse_a, taps, x_stride, w);
        return;
    }
    if (p->winograd_forward && !p->winograd_backward) build_operand(p, operand, x);
    const int parallel = blas_serial && rows * width * F >= FE_PARALLEL_MIN_WORK;
    if (p->winograd_backward) {
        const int64_t C = p->channels, T = p->out_steps, K = p->kernel_size;
        const fe_sequences xs = {x, p->steps, p->steps, C}, dzs = {dz, T, p->row_stride, F};
        fe_winograd_filter_grad(sgemm, parallel, p->batch, dw, xs, dzs, K, p->pad_left, partials,
                                winograd + p->winograd_size, p->winograd_slot, slots);
        if (!dx) return;
        /* dx[s] = sum over k of dz[s + pad_left - k] @ w_k^T: the forward pass
         * over dz with the taps reversed, K - 1 - pad_left steps of zeros first. */
        fe_winograd_filter(winograd, w, C * F, K, 1);
        fe_winograd_conv(sgemm, parallel, p->batch, dx, p->steps, C, dzs, K, K - 1 - p->pad_left,
                         winograd, 1, NULL, 0, winograd + p->winograd_size, p->winograd_slot,
                         slots);
        return;
    }
    /* dw: chunk c of the rows sums into dw (c = 0) or partials[c - 1]. */
    const int64_t chunk = task_rows(rows, FE_MIN_CHUNK_ROWS), chunks = ceil_div(rows, chunk);
    #pragma omp parallel for schedule(dynamic, 1) if (parallel && chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t r0 = c * chunk, r1 = min64(rows, r0 + chunk);
        float *out = c ? partials + (c - 1) * width * F : dw;
        for (int64_t g = 0; g < l.groups; g++)
            fe_gemm(sgemm, 1, 0, (int)l.depth, (int)F, (int)(r1 - r0), 1.0f,
                    a + g * l.offset + r0 * l.lda, (int)l.lda, dz + r0 * F, (int)F, 0.0f,
                    out + g * l.depth * F, (int)F);
    }
    #pragma omp parallel for schedule(static) if (chunks * width * F >= FE_PARALLEL_MIN_WORK)
    for (int64_t i = 0; i < width; i++)
        for (int64_t c = 1; c < chunks; c++)
            fe_isa->add_row(dw + i * F, partials + ((c - 1) * width + i) * F, F);
    if (!dx) return;
    if (!p->operand_size && !p->im2col && p->stride == 1) {
        /* x itself was the operand, unstrided: GEMM row r of tap k feeds input
         * row r + k*dilation, so the taps' GEMMs add into dx directly, block
         * by block of dx's rows (tap 0 writes the rows it covers, the rest
         * are zeroed, later taps add). */
        const int64_t n = p->batch * p->steps, C = p->channels, dil = p->dilation;
        const int64_t block = task_rows(n, FE_MIN_BLOCK_ROWS), blocks = ceil_div(n, block);
        #pragma omp parallel for schedule(dynamic, 1) if (parallel && blocks > 1)
        for (int64_t k = 0; k < blocks; k++) {
            const int64_t s0 = k * block, s1 = min64(n, s0 + block);
            const int64_t covered = s1 < rows ? s1 : rows < s0 ? s0 : rows;
            if (covered > s0)
                fe_gemm(sgemm, 0, 1, (int)(covered - s0), (int)C, (int)F, 1.0f, dz + s0 * F,
                        (int)F, w, (int)F, 0.0f, dx + s0 * C, (int)C);
            memset(dx + covered * C, 0, (size_t)((s1 - covered) * C) * sizeof(float));
            for (int64_t tap = 1; tap < p->kernel_size; tap++) {
                const int64_t r0 = s0 - tap * dil > 0 ? s0 - tap * dil : 0;
                const int64_t r1 = min64(rows, s1 - tap * dil);
                if (r1 > r0)
                    fe_gemm(sgemm, 0, 1, (int)(r1 - r0), (int)C, (int)F, 1.0f, dz + r0 * F,
                            (int)F, w + tap * C * F, (int)F, 1.0f, dx + (r0 + tap * dil) * C,
                            (int)C);
            }
        }
        return;
    }
    const int64_t block = task_rows(rows, FE_MIN_BLOCK_ROWS), blocks = ceil_div(rows, block);
    #pragma omp parallel for schedule(dynamic, 1) if (parallel && blocks > 1)
    for (int64_t k = 0; k < blocks; k++) {
        const int64_t r0 = k * block, r1 = min64(rows, r0 + block);
        fe_gemm(sgemm, 0, 1, (int)(r1 - r0), (int)width, (int)F, 1.0f, dz + r0 * F, (int)F, w,
                (int)F, 0.0f, dcols + r0 * width, (int)width);
    }
    const int64_t n = p->batch * p->steps;
    #pragma omp parallel for schedule(static) if (n * width >= FE_PARALLEL_MIN_WORK)
    for (int64_t r = 0; r < n; r++) scatter_windows(p, r, r + 1, dx, dcols);
}
