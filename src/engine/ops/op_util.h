/* op_util.h — helpers shared by infer functions and kernels. */
#ifndef DT_OP_UTIL_H
#define DT_OP_UTIL_H

#include <math.h>
#include <stdint.h>

#include "base/status.h"
#include "engine/graph.h"
#include "engine/tensor.h"

/* Numpy/ONNX multidirectional broadcast of two shapes.  Returns DT_OK and
 * fills out_ndim/out_dims, or DT_ESHAPE with a message naming `node`. */
dt_code dt_broadcast_shape(int na, const int64_t *a, int nb, const int64_t *b,
                           int *out_ndim, int64_t *out_dims, const char *node, dt_status *st);

/* Normalise a possibly negative axis against rank; -1 if out of range. */
static inline int dt_norm_axis(int64_t axis, int rank)
{
    if (axis < 0)
        axis += rank;
    return (axis < 0 || axis >= rank) ? -1 : (int)axis;
}

/* Fused activation carried by Conv/Gemm/MatMul after the fusion pass:
 * attr "activation" (string) with "act_alpha"/"act_beta" (floats).
 *   Relu; Clip(alpha=min, beta=max); LeakyRelu(alpha); Sigmoid;
 *   HardSigmoid(alpha, beta); HardSwish; SiLU (x*sigmoid(x)); Tanh; Mish;
 *   HardSwishK(alpha, beta) = (x * alpha) * min(max(x + beta, 0), 6), evaluated
 *   in that order: TF's hard_swish spelled with its own (e.g. fp16-rounded)
 *   constants, fused bit-exactly. */
typedef enum dt_act {
    DT_ACT_NONE = 0, DT_ACT_RELU, DT_ACT_CLIP, DT_ACT_LEAKYRELU, DT_ACT_SIGMOID,
    DT_ACT_HARDSIGMOID, DT_ACT_HARDSWISH, DT_ACT_SILU, DT_ACT_TANH, DT_ACT_MISH,
    DT_ACT_HARDSWISH_K,
} dt_act;

typedef struct dt_act_params {
    dt_act kind;
    float alpha, beta;
} dt_act_params;

/* Read the fused activation of a node (DT_ACT_NONE when absent). */
dt_act_params dt_act_from_node(const dt_node *n);
/* "Relu" -> DT_ACT_RELU ... ; DT_ACT_NONE for unknown. */
dt_act dt_act_from_name(const char *name);
const char *dt_act_name(dt_act a);

static inline float dt_act_apply1(const dt_act_params *p, float x)
{
    switch (p->kind) {
    case DT_ACT_NONE: return x;
    case DT_ACT_RELU: return x > 0.f ? x : 0.f;
    case DT_ACT_CLIP: return x < p->alpha ? p->alpha : (x > p->beta ? p->beta : x);
    case DT_ACT_LEAKYRELU: return x >= 0.f ? x : x * p->alpha;
    case DT_ACT_SIGMOID: return 1.f / (1.f + expf(-x));
    case DT_ACT_HARDSIGMOID: { float y = p->alpha * x + p->beta; return y < 0.f ? 0.f : (y > 1.f ? 1.f : y); }
    case DT_ACT_HARDSWISH: { float y = x / 6.f + 0.5f; y = y < 0.f ? 0.f : (y > 1.f ? 1.f : y); return x * y; }
    case DT_ACT_HARDSWISH_K: { float r = x + p->beta; r = r < 0.f ? 0.f : (r > 6.f ? 6.f : r); return (x * p->alpha) * r; }
    case DT_ACT_SILU: return x / (1.f + expf(-x));
    case DT_ACT_TANH: return tanhf(x);
    case DT_ACT_MISH: return x * tanhf(log1pf(expf(x)));
    }
    return x;
}

/* Apply in place over n floats. */
void dt_act_apply(const dt_act_params *p, float *x, int64_t n);

#endif
