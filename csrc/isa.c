#include <string.h>
#include "isa.h"

/* The table of the functions built with one ISA's suffix; row_block: four
 * of its vectors, in floats. */
#define FE_ISA_TABLE(suffix, block)                                                          \
    {                                                                                        \
        .name = #suffix, .row_block = block, .add_row = fe_add_row_##suffix,                 \
        .small_gemm = fe_small_gemm_##suffix,                                                \
        .weighted_row_sum = fe_weighted_row_sum_##suffix,                                    \
        .compact_nonzeros = fe_compact_nonzeros_##suffix, .max_steps = fe_max_steps_##suffix, \
        .bias_activation_row = fe_bias_activation_row_##suffix,                              \
        .activation_grad_rows = fe_activation_grad_rows_##suffix,                            \
        .transpose = fe_transpose_##suffix,                                                  \
        .winograd_input_tile = fe_winograd_input_tile_##suffix,                              \
        .winograd_points = fe_winograd_points_##suffix,                                      \
        .winograd_output_tile = fe_winograd_output_tile_##suffix,                            \
        .update_row = fe_update_row_##suffix,                                                \
        .replay_row = fe_replay_row_##suffix,                                                \
        .lstm_step_forward = fe_lstm_step_forward_##suffix,                                  \
        .lstm_step_backward = fe_lstm_step_backward_##suffix,                                \
        .gru_gates_forward = fe_gru_gates_forward_##suffix,                                  \
        .gru_state_forward = fe_gru_state_forward_##suffix,                                  \
        .gru_step_backward = fe_gru_step_backward_##suffix,                                  \
        .gru_reset_backward = fe_gru_reset_backward_##suffix,                                \
        .simple_rnn_step_forward = fe_simple_rnn_step_forward_##suffix,                      \
        .simple_rnn_step_backward = fe_simple_rnn_step_backward_##suffix,                    \
        .dense_activation_row = fe_dense_activation_row_##suffix,                            \
        .dense_grad_row = fe_dense_grad_row_##suffix,                                        \
        .softmax_row = fe_softmax_row_##suffix,                                              \
        .softmax_grad_row = fe_softmax_grad_row_##suffix,                                    \
        .sparse_crossentropy_row = fe_sparse_crossentropy_row_##suffix,                      \
        .softmax_crossentropy_grad_row = fe_softmax_crossentropy_grad_row_##suffix,          \
    }

static const fe_isa_table baseline_table = FE_ISA_TABLE(baseline, 32);
#ifdef FE_HAVE_X86_ISAS
static const fe_isa_table avx2_table = FE_ISA_TABLE(avx2, 32);
static const fe_isa_table avx512_table = FE_ISA_TABLE(avx512, 64);
#endif

/* The tables this build has, best last. */
static const fe_isa_table *const tables[] = {
    &baseline_table,
#ifdef FE_HAVE_X86_ISAS
    &avx2_table,
    &avx512_table,
#endif
};

const fe_isa_table *fe_isa = &baseline_table;

/* Whether this CPU runs table t (libgcc's check includes the OS saving the
 * wider registers). */
static int supported(const fe_isa_table *t) {
#ifdef FE_HAVE_X86_ISAS
    __builtin_cpu_init();
    if (t == &avx512_table)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    if (t == &avx2_table) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return t == &baseline_table;
}

int fe_isa_select(const char *name) {
    const int best = name == NULL || name[0] == '\0';
    for (int i = (int)(sizeof tables / sizeof tables[0]) - 1; i >= 0; i--) {
        if (!best && strcmp(name, tables[i]->name) != 0) continue;
        if (!supported(tables[i])) {
            if (best) continue;
            return -2;
        }
        fe_isa = tables[i];
        return 0;
    }
    /* Known names that this build lacks (not x86-64) are unsupported too. */
    return strcmp(name, "avx2") == 0 || strcmp(name, "avx512") == 0 ? -2 : -1;
}
