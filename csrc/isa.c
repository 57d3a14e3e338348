#include <string.h>
#include "isa.h"

static const fe_isa_table baseline_table = {
    "baseline", 32, fe_add_row_baseline, fe_weighted_row_sum_baseline, fe_compact_nonzeros_baseline,
    fe_max_steps_baseline, fe_bias_activation_row_baseline, fe_activation_grad_rows_baseline,
    fe_transpose_baseline, fe_winograd_input_tile_baseline, fe_winograd_points_baseline,
    fe_winograd_output_tile_baseline,
    fe_update_row_baseline, fe_lstm_step_forward_baseline, fe_lstm_step_backward_baseline,
};
#ifdef FE_HAVE_X86_ISAS
static const fe_isa_table avx2_table = {
    "avx2", 32, fe_add_row_avx2, fe_weighted_row_sum_avx2, fe_compact_nonzeros_avx2,
    fe_max_steps_avx2, fe_bias_activation_row_avx2, fe_activation_grad_rows_avx2,
    fe_transpose_avx2, fe_winograd_input_tile_avx2, fe_winograd_points_avx2,
    fe_winograd_output_tile_avx2,
    fe_update_row_avx2, fe_lstm_step_forward_avx2, fe_lstm_step_backward_avx2,
};
static const fe_isa_table avx512_table = {
    "avx512", 64, fe_add_row_avx512, fe_weighted_row_sum_avx512, fe_compact_nonzeros_avx512,
    fe_max_steps_avx512, fe_bias_activation_row_avx512, fe_activation_grad_rows_avx512,
    fe_transpose_avx512, fe_winograd_input_tile_avx512, fe_winograd_points_avx512,
    fe_winograd_output_tile_avx512,
    fe_update_row_avx512, fe_lstm_step_forward_avx512, fe_lstm_step_backward_avx512,
};
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
