#include <omp.h>
#include <string.h>
#include "winograd.h"
#include "isa.h"
#include "sizes.h"

#define POINTS 6
#define MAX_OUTPUTS 5 /* output steps per tile: 7 - taps */
/* A GEMM block takes about 1/FE_WINOGRAD_TASKS of the tiles, from
 * FE_WINOGRAD_MIN_TILES up to FE_WINOGRAD_MAX_TILES: every GEMM packs its
 * (n_in, n_out) point of the kernel again, so small blocks repeat that work
 * (64 x 400 x 128 -> 250, forward on one thread: 18.4 ms with 56-tile
 * blocks, 14.6 with 128, 12.3 with 512; 1024 ran slower on two threads). */
#define FE_WINOGRAD_TASKS 16
#define FE_WINOGRAD_MIN_TILES 64
#define FE_WINOGRAD_MAX_TILES 512
/* dw sums at most this many chunks of tiles apart (a task each), of at
 * least FE_WINOGRAD_MIN_CHUNK tiles: its GEMMs are only as deep as a block. */
#define FE_WINOGRAD_CHUNKS 8
#define FE_WINOGRAD_MIN_CHUNK 128

static int64_t block_tiles(int64_t total) {
    return max64(FE_WINOGRAD_MIN_TILES,
                 min64(FE_WINOGRAD_MAX_TILES, round_up(ceil_div(total, FE_WINOGRAD_TASKS), 8)));
}

int64_t fe_winograd_tiles(int64_t batch, int64_t steps, int64_t taps) {
    return batch * ceil_div(steps, POINTS + 1 - taps);
}

/* Floats of a zero row and of each discard row: the wider channel count, in
 * whole 64-byte lines. */
static int64_t row_size(int64_t n_in, int64_t n_out) { return round_up(max64(n_in, n_out), 16); }

int64_t fe_winograd_slot_size(int64_t total, int64_t n_in, int64_t n_out) {
    const int64_t tiles = block_tiles(total);
    return round_up(POINTS * tiles * n_in, 16) + round_up(POINTS * tiles * n_out, 16) +
           (1 + MAX_OUTPUTS) * row_size(n_in, n_out);
}

/* A thread's slot: the block's points of its two operands, (6, tiles, n_a)
 * and (6, tiles, n_b); a row of zeros that steps outside a sequence read;
 * MAX_OUTPUTS rows that output steps past the end are written to. */
typedef struct {
    float *a, *b, *zeros, *discard;
} slot;

static slot slot_of(float *scratch, int64_t slot_size, int64_t tiles, int64_t n_a, int64_t n_b) {
    slot s;
    s.a = scratch + omp_get_thread_num() * slot_size;
    s.b = s.a + round_up(POINTS * tiles * n_a, 16);
    s.zeros = s.b + round_up(POINTS * tiles * n_b, 16);
    s.discard = s.zeros + row_size(n_a, n_b);
    memset(s.zeros, 0, (size_t)max64(n_a, n_b) * sizeof(float));
    return s;
}

/* Threads for `tasks` tasks: at most one per scratch slot. */
static int team_size(int parallel, int64_t tasks, int slots) {
    const int threads = omp_get_max_threads() < slots ? omp_get_max_threads() : slots;
    return parallel && tasks > 1 ? threads : 1;
}

static const float *step_row(const fe_sequences *q, int64_t b, int64_t s, const float *zeros) {
    return s >= 0 && s < q->steps ? q->base + (b * q->rows + s) * q->n : zeros;
}

/* The six points of tiles [t0, t1) (tps tiles of `outputs` steps per
 * sample; tile j of a sample reads steps j * outputs - pad_left ... + 5 of
 * q) into v: (6, ld / q->n, q->n). */
static void input_points(float *v, int64_t ld, const fe_sequences *q, int64_t pad_left,
                         int64_t outputs, int64_t tps, int64_t t0, int64_t t1,
                         const float *zeros) {
    for (int64_t tile = t0; tile < t1; tile++) {
        const int64_t b = tile / tps, s0 = tile % tps * outputs - pad_left;
        const float *d[POINTS];
        for (int i = 0; i < POINTS; i++) d[i] = step_row(q, b, s0 + i, zeros);
        fe_isa->winograd_input_tile(v + (tile - t0) * q->n, ld, d, q->n);
    }
}

void fe_winograd_conv(fe_sgemm_fn sgemm, int parallel, int64_t batch, float *out,
                      int64_t out_steps, int64_t n_out, fe_sequences in, int64_t taps,
                      int64_t pad_left, const float *u, int trans_u, const float *bias, int relu,
                      float *scratch, int64_t slot_size, int slots) {
    const int64_t n_in = in.n, outputs = POINTS + 1 - taps;
    const int64_t tps = ceil_div(out_steps, outputs), total = batch * tps;
    const int64_t tiles = block_tiles(total);
    const int64_t blocks = ceil_div(total, tiles);
    const int threads = team_size(parallel, blocks, slots);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (int64_t k = 0; k < blocks; k++) {
        const slot s = slot_of(scratch, slot_size, tiles, n_in, n_out);
        const int64_t t0 = k * tiles, t1 = min64(total, t0 + tiles);
        input_points(s.a, tiles * n_in, &in, pad_left, outputs, tps, t0, t1, s.zeros);
        for (int p = 0; p < POINTS; p++)
            fe_gemm(sgemm, 0, trans_u, (int)(t1 - t0), (int)n_out, (int)n_in, 1.0f,
                    s.a + p * tiles * n_in, (int)n_in, u + p * n_in * n_out,
                    (int)(trans_u ? n_in : n_out), 0.0f, s.b + p * tiles * n_out, (int)n_out);
        for (int64_t tile = t0; tile < t1; tile++) {
            const int64_t b = tile / tps, t = tile % tps * outputs;
            float *y[MAX_OUTPUTS];
            for (int i = 0; i < MAX_OUTPUTS; i++)
                y[i] = i < outputs && t + i < out_steps ? out + (b * out_steps + t + i) * n_out
                                                        : s.discard + i * row_size(n_in, n_out);
            fe_isa->winograd_output_tile(y, s.b + (tile - t0) * n_out, tiles * n_out, bias,
                                         n_out, relu, (int)outputs);
        }
    }
}

/* G's rows are point_p^k over the product of (point_p - point_q) for the
 * other finite points q; infinity's takes the last tap. */
static const float filter_scale[POINTS] = {0.25f, -1.0f / 6, -1.0f / 6, 1.0f / 24, 1.0f / 24, 1.0f};
#define FILTER_CHUNK 1024

void fe_winograd_filter(float *u, const float *w, int64_t size, int64_t taps, int flip) {
    static const float zeros[FILTER_CHUNK];
    for (int64_t i0 = 0; i0 < size; i0 += FILTER_CHUNK) {
        const float *coefficients[POINTS];
        for (int64_t k = 0; k < MAX_OUTPUTS; k++)
            coefficients[k] = k < taps ? w + (flip ? taps - 1 - k : k) * size + i0 : zeros;
        coefficients[POINTS - 1] = coefficients[taps - 1];
        fe_isa->winograd_points(u + i0, size, coefficients, filter_scale,
                                min64(FILTER_CHUNK, size - i0));
    }
}

static int64_t chunk_count(int64_t total) {
    return min64(FE_WINOGRAD_CHUNKS, ceil_div(total, FE_WINOGRAD_MIN_CHUNK));
}

int64_t fe_winograd_partials_size(int64_t total, int64_t n_x, int64_t n_dz) {
    return chunk_count(total) * POINTS * n_x * n_dz;
}

/* G^T, as in fe_winograd_filter: gt[k][p] = G[p, k] for k < taps. */
static void filter_transpose(float gt[MAX_OUTPUTS][POINTS], int64_t taps) {
    static const float point[POINTS - 1] = {0.0f, 1.0f, -1.0f, 2.0f, -2.0f};
    for (int64_t k = 0; k < taps; k++) {
        for (int p = 0; p < POINTS - 1; p++) {
            gt[k][p] = filter_scale[p];
            for (int64_t i = 0; i < k; i++) gt[k][p] *= point[p];
        }
        gt[k][POINTS - 1] = k == taps - 1;
    }
}

/* dw[k][i] = sum over points p of g[k][p] * (sum over chunks of
 * partials[c][p][i]) for i in [i0, i1).
 * dw: (taps, size); g: G^T; partials: (chunks, 6, size) */
static void filter_grad_points(float *dw, const float g[MAX_OUTPUTS][POINTS],
                               const float *partials, int64_t chunks, int64_t size,
                               int64_t taps, int64_t i0, int64_t i1) {
    #pragma omp simd
    for (int64_t i = i0; i < i1; i++) {
        float w[POINTS];
        for (int p = 0; p < POINTS; p++) {
            w[p] = partials[p * size + i];
            for (int64_t c = 1; c < chunks; c++) w[p] += partials[(c * POINTS + p) * size + i];
        }
        for (int64_t k = 0; k < taps; k++) {
            float sum = 0.0f;
            for (int p = 0; p < POINTS; p++) sum += g[k][p] * w[p];
            dw[k * size + i] = sum;
        }
    }
}

void fe_winograd_filter_grad(fe_sgemm_fn sgemm, int parallel, int64_t batch, float *dw,
                             fe_sequences x, fe_sequences dz, int64_t taps, int64_t pad_left,
                             float *partials, float *scratch, int64_t slot_size, int slots) {
    const int64_t n_x = x.n, n_dz = dz.n, size = n_x * n_dz, outputs = POINTS + 1 - taps;
    const int64_t tps = ceil_div(dz.steps, outputs), total = batch * tps;
    const int64_t tiles = block_tiles(total);
    const int64_t chunks = chunk_count(total), per_chunk = ceil_div(total, chunks);
    const int threads = team_size(parallel, chunks, slots);
    #pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (int64_t c = 0; c < chunks; c++) {
        const slot s = slot_of(scratch, slot_size, tiles, n_x, n_dz);
        const int64_t first = c * per_chunk, end = min64(total, first + per_chunk);
        for (int64_t t0 = first; t0 < end; t0 += tiles) {
            const int64_t t1 = min64(end, t0 + tiles);
            input_points(s.a, tiles * n_x, &x, pad_left, outputs, tps, t0, t1, s.zeros);
            for (int64_t tile = t0; tile < t1; tile++) {
                const int64_t b = tile / tps, t = tile % tps * outputs;
                const float *g[POINTS];
                for (int i = 0; i < MAX_OUTPUTS; i++)
                    g[i] = i < outputs ? step_row(&dz, b, t + i, s.zeros) : s.zeros;
                g[POINTS - 1] = g[outputs - 1];
                fe_isa->winograd_points(s.b + (tile - t0) * n_dz, tiles * n_dz, g, NULL, n_dz);
            }
            for (int p = 0; p < POINTS; p++)
                fe_gemm(sgemm, 1, 0, (int)n_x, (int)n_dz, (int)(t1 - t0), 1.0f,
                        s.a + p * tiles * n_x, (int)n_x, s.b + p * tiles * n_dz, (int)n_dz,
                        t0 == first ? 0.0f : 1.0f, partials + (c * POINTS + p) * size,
                        (int)n_dz);
        }
    }
    const int64_t block = 1024;
    float gt[MAX_OUTPUTS][POINTS];
    filter_transpose(gt, taps);
    #pragma omp parallel for schedule(static) \
        if (parallel && chunks * POINTS * size >= FE_PARALLEL_MIN_WORK)
    for (int64_t i0 = 0; i0 < size; i0 += block)
        filter_grad_points(dw, gt, partials, chunks, size, taps, i0, min64(size, i0 + block));
}
