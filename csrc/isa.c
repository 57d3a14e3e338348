#include <string.h>
#include "isa.h"

static const fe_isa_table baseline_table = {
    "baseline", fe_add_row_baseline, fe_weighted_row_sum_baseline,
    fe_transpose_baseline, fe_update_row_baseline,
    fe_lstm_step_forward_baseline, fe_lstm_step_backward_baseline,
};
#ifdef FE_HAVE_AVX2
static const fe_isa_table avx2_table = {
    "avx2", fe_add_row_avx2, fe_weighted_row_sum_avx2, fe_transpose_avx2,
    fe_update_row_avx2,
    fe_lstm_step_forward_avx2, fe_lstm_step_backward_avx2,
};
#endif

const fe_isa_table *fe_isa = &baseline_table;

static int cpu_has_avx2_fma(void) {
#ifdef FE_HAVE_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int fe_isa_select(const char *name) {
    if (name == NULL || name[0] == '\0') name = cpu_has_avx2_fma() ? "avx2" : "baseline";
    if (strcmp(name, "baseline") == 0) {
        fe_isa = &baseline_table;
        return 0;
    }
    if (strcmp(name, "avx2") == 0) {
        if (!cpu_has_avx2_fma()) return -2;
#ifdef FE_HAVE_AVX2
        fe_isa = &avx2_table;
#endif
        return 0;
    }
    return -1;
}
