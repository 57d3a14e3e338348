#include <math.h>
#include "losses.h"

static float smoothed(float y, float label_smoothing) {
    return label_smoothing ? y * (1.0f - label_smoothing) + 0.5f * label_smoothing : y;
}

/* log(sigmoid(x)), as jax.nn.log_sigmoid: -softplus(-x), without overflow. */
static float log_sigmoid(float x) {
    return -(fmaxf(-x, 0.0f) + log1pf(expf(-fabsf(x))));
}

static float clip_probability(float p) {
    p = p < FE_LOSS_EPSILON ? FE_LOSS_EPSILON : p;  /* comparisons: NaN passes */
    return p > 1.0f - FE_LOSS_EPSILON ? 1.0f - FE_LOSS_EPSILON : p;
}

void fe_binary_crossentropy_forward(float *values, const float *y_true, const float *y_pred,
                                    int64_t n, int64_t k, int from_logits,
                                    float label_smoothing) {
    for (int64_t i = 0; i < n; i++) {
        float sum = 0.0f;
        for (int64_t j = i * k; j < (i + 1) * k; j++) {
            const float y = smoothed(y_true[j], label_smoothing), x = y_pred[j];
            if (from_logits) {
                sum += -y * log_sigmoid(x) - (1.0f - y) * log_sigmoid(-x);
            } else {
                const float p = clip_probability(x);
                sum += -(y * logf(p) + (1.0f - y) * logf(1.0f - p));
            }
        }
        values[i] = sum / (float)k;
    }
}

void fe_binary_crossentropy_backward(float *grad, const float *y_true, const float *y_pred,
                                     int64_t n, int64_t k, int from_logits,
                                     float label_smoothing, float scale) {
    for (int64_t j = 0; j < n * k; j++) {
        const float y = smoothed(y_true[j], label_smoothing), x = y_pred[j];
        if (from_logits) {
            grad[j] = (1.0f / (1.0f + expf(-x)) - y) * scale;
        } else {
            const float p = clip_probability(x);
            const float inside = x > FE_LOSS_EPSILON && x < 1.0f - FE_LOSS_EPSILON;
            grad[j] = ((1.0f - y) / (1.0f - p) - y / p) * inside * scale;  /* NaN stays NaN */
        }
    }
}

double fe_binary_crossentropy_weighted_sum(float *grad, const float *y_true,
                                           const float *y_pred, int64_t n, int64_t k,
                                           int from_logits, float label_smoothing,
                                           float weight) {
    enum { CHUNK = 256 };  /* rows of values per pass, on the stack */
    float values[CHUNK];
    double total = 0.0;
    for (int64_t start = 0; start < n; start += CHUNK) {
        const int64_t rows = n - start < CHUNK ? n - start : CHUNK;
        fe_binary_crossentropy_forward(values, y_true + start * k, y_pred + start * k, rows, k,
                                       from_logits, label_smoothing);
        for (int64_t i = 0; i < rows; i++)
            total += values[i] * weight;
    }
    fe_binary_crossentropy_backward(grad, y_true, y_pred, n, k, from_logits, label_smoothing,
                                    weight / (float)k);
    return total;
}

int64_t fe_binary_accuracy_hits(const float *y_true, const float *y_pred, int64_t n,
                                float threshold) {
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++)
        hits += y_true[i] == (y_pred[i] > threshold ? 1.0f : 0.0f);
    return hits;
}
