/* nn_internal.h — private helpers shared by the nn_*.c op files (the
 * neural-network op group; the table dt_opdefs_nn lives in nn.c). */
#ifndef DT_NN_INTERNAL_H
#define DT_NN_INTERNAL_H

#include <stdint.h>

#include "base/status.h"
#include "engine/graph.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"
#include "engine/tensor.h"

/* Spatial ops handle up to this many spatial dims (1-D, 2-D, 3-D). */
#define NN_MAX_SP 3
/* Kernels needing per-worker scratch split their work into this many
 * fixed tasks, each owning a slice of the scratch. */
#define NN_TASKS 8

/* dt_fail with "node '<name>' (<Op>): " prefixed. */
dt_code nn_fail(dt_status *st, dt_code code, const dt_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Give every output of n unknown rank (input rank unknown: nothing to infer
 * yet).  Output 0 gets dtype dt0, the others keep theirs unless undefined. */
dt_code nn_unknown_outputs(dt_graph *g, dt_node *n, dt_dtype dt0);

/* 1 if value vid is read by a live node or is a graph output. */
int nn_value_used(const dt_graph *g, int vid);

/* Layout attribute: 0 = NCHW (default), 1 = NHWC; DT_EINVAL otherwise. */
dt_code nn_layout(const dt_node *n, int *nhwc, dt_status *st);

/* Channel-first/last addressing of an [N, C, spatial...] tensor: element
 * (b, c, s) with s the row-major flat spatial index lives at
 * b*sN + c*sC + s*sS. */
typedef struct nn_sp {
    int nsp;                    /* number of spatial dims */
    int64_t N, C;
    int64_t sp[DT_MAX_DIMS];    /* spatial dims */
    int64_t S;                  /* product of spatial dims */
    int64_t sN, sC, sS;
} nn_sp;

/* Decode dims (rank >= 2) in the given layout.  Unknown dims stay -1 (S and
 * strides are then meaningless). */
void nn_sp_from_dims(int ndim, const int64_t *dims, int nhwc, nn_sp *sp);
/* Build dims from N, C and spatial dims in the given layout; returns rank. */
int nn_dims_from_sp(int64_t N, int64_t C, int nsp, const int64_t *spd, int nhwc, int64_t *dims);

/* Read an int-list attribute that must have exactly `count` entries (or be
 * absent: then every entry is `def`). */
dt_code nn_attr_ints_n(const dt_node *n, const char *name, int count, int64_t def, int64_t *out,
                       dt_status *st);

/* Floor / ceil division for b > 0 (a may be negative). */
static inline int64_t nn_floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static inline int64_t nn_ceildiv(int64_t a, int64_t b) { return -nn_floordiv(-a, b); }

/* Row-major strides of dims into st (element units). */
void nn_strides(int ndim, const int64_t *dims, int64_t *strides);

/* Require the given float32 dtype of an input view in a kernel. */
dt_code nn_need_f32(const dt_node *n, const dt_tensor *t, const char *what, dt_status *st);

/* Read a constant integer list input (e.g. pads, axes, sizes, k) of any
 * integer dtype; n_out set to its element count (<= cap). */
dt_code nn_const_ints(const dt_node *n, const dt_tensor *t, const char *what, int64_t *out, int cap,
                      int *n_out, dt_status *st);

/* Sliding-window attributes of Conv / ConvTranspose / pools. */
typedef enum nn_autopad { NN_PAD_NOTSET = 0, NN_PAD_SAME_UPPER, NN_PAD_SAME_LOWER, NN_PAD_VALID } nn_autopad;
typedef struct nn_win {
    int nsp;
    nn_autopad ap;
    int64_t k[NN_MAX_SP], s[NN_MAX_SP], d[NN_MAX_SP], pb[NN_MAX_SP], pe[NN_MAX_SP];
} nn_win;
/* Read strides, dilations, pads and auto_pad (k given by the caller);
 * validates them (strides, dilations, kernel >= 1; pads >= 0). */
dt_code nn_win_attrs(const dt_node *n, int nsp, const int64_t *k, nn_win *w, dt_status *st);

/* Extend nsp (<= 3) spatial sizes to 3 by prepending `fill`. */
static inline void nn_to3(int nsp, const int64_t *src, int64_t fill, int64_t *dst)
{
    for (int i = 0; i < 3; i++)
        dst[i] = i < 3 - nsp ? fill : src[i - (3 - nsp)];
}

/* Infer / reference kernels, one pair per op. */
#define NN_DECL(op)                                                                                 \
    dt_code dt_nn_infer_##op(dt_graph *g, dt_node *n, dt_status *st);                              \
    dt_code dt_nn_ref_##op(const dt_node *n, const dt_tensor *const *in, int n_in,                 \
                           dt_tensor *const *out, int n_out, const dt_kctx *ctx, dt_status *st);
NN_DECL(Conv)
NN_DECL(ConvTranspose)
NN_DECL(BatchNormalization)
NN_DECL(InstanceNormalization)
NN_DECL(LRN)
NN_DECL(MaxPool)
NN_DECL(AveragePool)
NN_DECL(GlobalAveragePool)
NN_DECL(GlobalMaxPool)
NN_DECL(Resize)
NN_DECL(Upsample)
NN_DECL(Pad)
NN_DECL(MatMul)
NN_DECL(Gemm)
NN_DECL(Softmax)
NN_DECL(LogSoftmax)
NN_DECL(ReduceMean)
NN_DECL(ReduceMax)
NN_DECL(ReduceMin)
NN_DECL(ReduceSum)
NN_DECL(ReduceProd)
NN_DECL(ArgMax)
NN_DECL(ArgMin)
NN_DECL(TopK)
#undef NN_DECL

#endif
