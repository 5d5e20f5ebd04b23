/* cu_kern.h — the CUDA backend's per-element math and step parameters,
 * shared by the .cu kernels (compiled by nvcc as host+device code) and the
 * host: the plan builder fills the parameter structs, and the host emulator
 * (cu_emu.c) runs the very same element functions on the CPU so unit tests
 * check the index math of every kernel against the reference kernels
 * without a GPU.
 *
 * Everything here is plain C that also compiles as C++ (no designated
 * initializers, explicit casts from void *).  Integer semantics follow
 * ops/eltwise.c: wrapping arithmetic, division by zero gives 0; int32 ops
 * run in int64 and are narrowed modulo 2^32 (the same result).
 */
#ifndef DT_CU_KERN_H
#define DT_CU_KERN_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define DT_HD static inline __host__ __device__
#else
#define DT_HD static inline
#endif

#define DT_CU_MAXD 8       /* dims of broadcasts, reductions, pads, resizes */
#define DT_CU_COPY_MAXD 16 /* strided copies (Tile doubles the rank) */
#define DT_CU_MAX_OPS 4    /* operand pointers per step */
#define DT_CU_MAX_OUTER 16 /* MatMul batch groups cuBLAS cannot stride over */
#define DT_CU_ALIGN 256    /* alignment of every region and blob on the device */

/* dtype codes: the values of dt_dtype (engine/tensor.h), repeated so the
 * .cu files need no engine headers; cu_plan.c checks they agree. */
enum { DT_CU_F32 = 1, DT_CU_I64 = 3, DT_CU_I32 = 4, DT_CU_U8 = 5, DT_CU_I8 = 6, DT_CU_BOOL = 7 };

/* ---- steps ---------------------------------------------------------------- */

typedef enum dt_cu_kind {
    DT_CU_NOP = 0,
    DT_CU_MEMCPY,  /* op0 -> op1, `bytes` contiguous */
    DT_CU_UNARY,   /* op0 -> op1, elementwise map (also Cast, activations, fills) */
    DT_CU_BINARY,  /* op0, op1 -> op2 with numpy broadcasting */
    DT_CU_WHERE,   /* op0 (bool), op1, op2 -> op3 with broadcasting */
    DT_CU_COPY,    /* op0 -> op1 strided copy (Transpose, Slice, Concat, Split, Expand, Tile, ...) */
    DT_CU_CHAN,    /* op0 -> op1: x * scale[c] + bias[c], then activation; op2 scale, op3 bias */
    DT_CU_POOL,    /* op0 -> op1 */
    DT_CU_RESIZE,  /* op0 -> op1, op2 = tap tables (weights space) */
    DT_CU_PAD,     /* op0 -> op1 */
    DT_CU_SOFTMAX, /* op0 -> op1 */
    DT_CU_REDUCE,  /* op0 -> op1 */
    DT_CU_ARG,     /* op0 -> op1 (int64) */
    DT_CU_GATHER,  /* op0 data, op1 indices -> op2 */
    DT_CU_TOPK,    /* op0 -> op1 values, op2 indices (either may be absent); op3 scratch */
    DT_CU_CONV,    /* op0 x, op1 w, op2 bias (fused only), op3 y; cuDNN */
    DT_CU_GEMM,    /* op0 A, op1 B, op2 Y; cuBLAS */
    DT_CU_CONVT,   /* op0 x, op1 w, op3 y; ConvTranspose as cuDNN's backward-data convolution */
    DT_CU_GATHER_EL, /* op0 data, op1 indices -> op2 (GatherElements) */
    DT_CU_NORM,    /* op0 -> op1: InstanceNormalization (op2 scale, op3 bias; one line per plane) or LRN */
    DT_CU_KIND_COUNT_
} dt_cu_kind;

/* Unary ops.  U_ACT applies a fused activation (dt_act kind in `act`) with
 * exactly dt_act_apply1's formulas. */
typedef enum dt_cu_uop {
    DT_CU_U_RELU = 0, DT_CU_U_LEAKY, DT_CU_U_SIGMOID, DT_CU_U_HSIGMOID, DT_CU_U_HSWISH, DT_CU_U_TANH,
    DT_CU_U_CLIP, DT_CU_U_SQRT, DT_CU_U_EXP, DT_CU_U_LOG, DT_CU_U_ABS, DT_CU_U_NEG, DT_CU_U_RECIP,
    DT_CU_U_FLOOR, DT_CU_U_CEIL, DT_CU_U_ROUND, DT_CU_U_ERF, DT_CU_U_SOFTPLUS, DT_CU_U_ELU, DT_CU_U_SELU,
    DT_CU_U_MISH, DT_CU_U_SIGN, DT_CU_U_SQR, DT_CU_U_NOT, DT_CU_U_CAST, DT_CU_U_DIVN, DT_CU_U_FILL,
    DT_CU_U_ACT, DT_CU_U_COUNT_
} dt_cu_uop;

/* Activation kinds: the values of dt_act (ops/op_util.h). */
enum { DT_CU_ACT_NONE = 0, DT_CU_ACT_RELU, DT_CU_ACT_CLIP, DT_CU_ACT_LEAKYRELU, DT_CU_ACT_SIGMOID,
       DT_CU_ACT_HARDSIGMOID, DT_CU_ACT_HARDSWISH, DT_CU_ACT_SILU, DT_CU_ACT_TANH, DT_CU_ACT_MISH,
       DT_CU_ACT_HARDSWISH_K };

typedef struct dt_cu_unary {
    int op, src, dst;      /* dt_cu_uop, dtypes of input and output */
    int act;               /* U_ACT: activation kind */
    float alpha, beta, gamma;
    float lo, hi;          /* Clip (float) */
    int64_t ilo, ihi;      /* Clip (int); DIVN divisor; FILL value */
    double fill;           /* FILL value for float outputs */
    int64_t n;             /* elements */
} dt_cu_unary;

typedef enum dt_cu_bop {
    DT_CU_B_ADD = 0, DT_CU_B_SUB, DT_CU_B_MUL, DT_CU_B_DIV, DT_CU_B_MIN, DT_CU_B_MAX, DT_CU_B_PMOD,
    DT_CU_B_CMOD, DT_CU_B_FDIV, DT_CU_B_PRELU, DT_CU_B_POW, DT_CU_B_EQ, DT_CU_B_GT, DT_CU_B_LT, DT_CU_B_GE,
    DT_CU_B_LE, DT_CU_B_AND, DT_CU_B_OR, DT_CU_B_XOR, DT_CU_B_COUNT_
} dt_cu_bop;

/* Broadcast of up to 3 inputs into a row-major output, collapsed to few
 * dims: input k's element of output index i sits at sum(c_d * str[k][d]). */
typedef struct dt_cu_bcast {
    int nd, nin;
    int64_t n;
    int64_t dims[DT_CU_MAXD];
    int64_t str[3][DT_CU_MAXD];
} dt_cu_bcast;

typedef struct dt_cu_binary {
    int op, ta, tb, to; /* dt_cu_bop, dtypes of A, B, output */
    dt_cu_bcast bc;
} dt_cu_binary;

typedef struct dt_cu_where {
    int es; /* element size of X / Y / output */
    dt_cu_bcast bc;
} dt_cu_where;

/* Strided copy: iterate dims (row-major); element c goes from
 * src[sum c_d*sstr[d]] to dst[sum c_d*dstr[d]] (element units). */
typedef struct dt_cu_copy {
    int nd, es;
    int64_t n;
    int64_t dims[DT_CU_COPY_MAXD], sstr[DT_CU_COPY_MAXD], dstr[DT_CU_COPY_MAXD];
} dt_cu_copy;

typedef struct dt_cu_chan {
    int64_t n, C, inner;   /* channel of element i: (i / inner) % C */
    int has_scale, has_bias;
    int bn;                /* BatchNormalization: op2 = [a | mean | bias] (3C floats) */
    int act;
    float alpha, beta;
} dt_cu_chan;

typedef struct dt_cu_pool {
    int is_max, include_pad, nhwc;
    int64_t n;             /* output elements */
    int64_t N, C;
    int64_t I[3], O[3], K[3], S[3], D[3], P[3], PE[3];
} dt_cu_pool;

typedef struct dt_cu_resize {
    int rank, n_act, taps, has_outside;
    float extrap;
    int64_t n;
    int64_t out_dims[DT_CU_MAXD], in_str[DT_CU_MAXD];
    uint8_t active[DT_CU_MAXD];
    int act[DT_CU_MAXD];                           /* active axes, in order */
    int64_t t_idx[DT_CU_MAXD], t_w[DT_CU_MAXD], t_out[DT_CU_MAXD]; /* byte offsets in the table blob */
} dt_cu_resize;

typedef struct dt_cu_pad {
    int mode, rank, es; /* mode: 0 constant, 1 reflect, 2 edge, 3 wrap */
    int64_t n;
    int64_t out_dims[DT_CU_MAXD], in_dims[DT_CU_MAXD], in_str[DT_CU_MAXD], pb[DT_CU_MAXD];
    uint8_t cval[8];
} dt_cu_pad;

typedef struct dt_cu_softmax {
    int64_t lines, L, inner;
    int log;
} dt_cu_softmax;

typedef enum { DT_CU_R_MEAN = 0, DT_CU_R_MAX, DT_CU_R_MIN, DT_CU_R_SUM, DT_CU_R_PROD } dt_cu_rkind;

typedef struct dt_cu_reduce {
    int kind, dt, nk, nr;
    int64_t n, rcount;
    int64_t kdims[DT_CU_MAXD], kstr[DT_CU_MAXD], rdims[DT_CU_MAXD], rstr[DT_CU_MAXD];
} dt_cu_reduce;

typedef struct dt_cu_arg {
    int dt, is_min, last;
    int64_t lines, L, inner;
} dt_cu_arg;

typedef struct dt_cu_gather {
    int es, ies;           /* data / index element sizes */
    int64_t n;             /* output elements */
    int64_t k, ni, inner;  /* axis size, index count, elements after the axis */
} dt_cu_gather;

typedef struct dt_cu_gather_el {
    int rank, axis, es, ies;
    int64_t n, k;                    /* output elements, data size along the axis */
    int64_t idims[DT_CU_MAXD];       /* index (= output) dims */
    int64_t xstr[DT_CU_MAXD];        /* data strides */
} dt_cu_gather_el;

typedef struct dt_cu_norm {
    int lrn, nhwc;
    int64_t n;                       /* planes (InstanceNormalization) or elements (LRN) */
    int64_t C, S, size;
    float eps, alpha, beta, bias;
} dt_cu_norm;

/* TopK over lines of length L (stride `inner`).  Pass 0 cuts every line
 * into chunks of `chunk` elements and keeps the k best of each as
 * candidates; each further pass merges groups of `chunk` candidates into k,
 * until one group of k is left per line, written sorted to the outputs. */
#define DT_CU_TOPK_CHUNK 1024
#define DT_CU_TOPK_MAXK 256
#define DT_CU_TOPK_MAXPASS 12
typedef struct dt_cu_topk_cand {
    union {
        double f;  /* float32 / int32 values */
        int64_t i; /* int64 values */
    } v;
    int64_t idx;   /* position in the line; < 0 = empty slot (ranks last) */
} dt_cu_topk_cand;
typedef struct dt_cu_topk {
    int dt, largest, n_pass;
    int64_t lines, L, inner, k;
    int64_t count[DT_CU_TOPK_MAXPASS + 1]; /* candidates per line entering pass p */
    int64_t groups[DT_CU_TOPK_MAXPASS];    /* groups per line in pass p */
    int64_t buf_elems;                     /* candidates per ping-pong buffer */
} dt_cu_topk;

/* Convolution geometry, 2-D (a 1-D conv has H = R = 1).  The input is the
 * (pre-padded) tensor the conv reads; pads are symmetric.  For a
 * ConvTranspose (DT_CU_CONVT) the input [N, C, H, W] is cuDNN's dy, the
 * output [N, K, P, Q] its dx, and the pads / strides / dilations those of
 * the forward convolution dx -> dy. */
typedef struct dt_cu_conv {
    int nhwc, filter_nhwc, group, transposed;
    int N, C, H, W, K, R, S, P, Q;
    int pad_h, pad_w, str_h, str_w, dil_h, dil_w;
    int fuse_relu;       /* bias + relu by cudnnConvolutionBiasActivationForward */
    int math;            /* 0 fp32 (FMA), 1 TF32 tensor cores allowed */
    int algo;            /* chosen at load (set by the executor) */
    size_t ws_bytes;     /* workspace (set by the executor) */
    int64_t ws_off;      /* byte offset of the workspace in the scratch region */
} dt_cu_conv;

/* Row-major batched GEMM: Y[b] = alpha * op(A[b]) op(B[b]) + beta * Y[b]. */
typedef struct dt_cu_gemm {
    int ta, tb;
    int math;
    int64_t M, N, K;
    int64_t batch, sa, sb, sy;   /* strided batch (element strides; 0 = broadcast) */
    int n_outer;                 /* groups of `batch` (1 unless broadcasting needs more) */
    int64_t oa[DT_CU_MAX_OUTER], ob[DT_CU_MAX_OUTER], oy[DT_CU_MAX_OUTER];
    float alpha, beta;
} dt_cu_gemm;

/* Where a step's operand lives: a region of the session's device block and
 * a byte offset in it. */
enum { DT_CU_SP_NONE = 0, DT_CU_SP_ACT, DT_CU_SP_W, DT_CU_SP_SCR, DT_CU_SP_COUNT_ };
typedef struct dt_cu_ref {
    int space;
    int64_t off;
} dt_cu_ref;

typedef struct dt_cu_step {
    int kind;
    int node;                       /* graph node index (for messages) */
    dt_cu_ref op[DT_CU_MAX_OPS];
    void *ptr[DT_CU_MAX_OPS];       /* resolved at bind */
    int64_t bytes;                  /* MEMCPY */
    size_t scr_bytes;               /* scratch this step uses (from the scratch region's start) */
    union {
        dt_cu_unary u;
        dt_cu_binary b;
        dt_cu_where w;
        dt_cu_copy c;
        dt_cu_chan ch;
        dt_cu_pool p;
        dt_cu_resize r;
        dt_cu_pad pd;
        dt_cu_softmax sm;
        dt_cu_reduce rd;
        dt_cu_arg a;
        dt_cu_gather g;
        dt_cu_gather_el ge;
        dt_cu_norm nm;
        dt_cu_topk tk;
        dt_cu_conv cv;
        dt_cu_gemm gm;
    } u;
} dt_cu_step;

/* ---- element math -------------------------------------------------------- */

#define DT_CU_ISNAN(x) ((x) != (x))

DT_HD float dt_cu_clampf(float x, float lo, float hi)
{
    float y = x < lo ? lo : x;
    return y > hi ? hi : y;
}
DT_HD int64_t dt_cu_clampi(int64_t x, int64_t lo, int64_t hi)
{
    int64_t y = x < lo ? lo : x;
    return y > hi ? hi : y;
}
DT_HD float dt_cu_softplusf(float x) { return x > 0.f ? x + log1pf(expf(-x)) : log1pf(expf(x)); }

/* Float -> int as x86 cvtt* (INT_MIN for NaN / out of range), as eltwise.c. */
DT_HD int64_t dt_cu_f2i64(double x)
{
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)x;
}
DT_HD int32_t dt_cu_f2i32(double x)
{
    if (!(x > -2147483649.0 && x < 2147483648.0))
        return INT32_MIN;
    return (int32_t)x;
}
DT_HD int32_t dt_cu_narrow32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

/* dt_act_apply1, verbatim. */
DT_HD float dt_cu_act(int kind, float alpha, float beta, float x)
{
    switch (kind) {
    case DT_CU_ACT_RELU: return x > 0.f ? x : 0.f;
    case DT_CU_ACT_CLIP: return x < alpha ? alpha : (x > beta ? beta : x);
    case DT_CU_ACT_LEAKYRELU: return x >= 0.f ? x : x * alpha;
    case DT_CU_ACT_SIGMOID: return 1.f / (1.f + expf(-x));
    case DT_CU_ACT_HARDSIGMOID: {
        float y = alpha * x + beta;
        return y < 0.f ? 0.f : (y > 1.f ? 1.f : y);
    }
    case DT_CU_ACT_HARDSWISH: {
        float y = x / 6.f + 0.5f;
        y = y < 0.f ? 0.f : (y > 1.f ? 1.f : y);
        return x * y;
    }
    case DT_CU_ACT_SILU: return x / (1.f + expf(-x));
    case DT_CU_ACT_TANH: return tanhf(x);
    case DT_CU_ACT_MISH: return x * tanhf(log1pf(expf(x)));
    case DT_CU_ACT_HARDSWISH_K: {
        float r = x + beta;
        r = r < 0.f ? 0.f : (r > 6.f ? 6.f : r);
        return (x * alpha) * r;
    }
    default: return x;
    }
}

/* Float unary maps (eltwise.c's UN_F32 rows). */
DT_HD float dt_cu_unary_f(const dt_cu_unary *p, float x)
{
    switch (p->op) {
    case DT_CU_U_RELU: return x > 0.f ? x : 0.f;
    case DT_CU_U_LEAKY: return x >= 0.f ? x : x * p->alpha;
    case DT_CU_U_SIGMOID: return 1.f / (1.f + expf(-x));
    case DT_CU_U_HSIGMOID: return dt_cu_clampf(p->alpha * x + p->beta, 0.f, 1.f);
    case DT_CU_U_HSWISH: return x * dt_cu_clampf(x * (1.f / 6.f) + 0.5f, 0.f, 1.f);
    case DT_CU_U_TANH: return tanhf(x);
    case DT_CU_U_CLIP: return dt_cu_clampf(x, p->lo, p->hi);
    case DT_CU_U_SQRT: return sqrtf(x);
    case DT_CU_U_EXP: return expf(x);
    case DT_CU_U_LOG: return logf(x);
    case DT_CU_U_ABS: return fabsf(x);
    case DT_CU_U_NEG: return -x;
    case DT_CU_U_RECIP: return 1.f / x;
    case DT_CU_U_FLOOR: return floorf(x);
    case DT_CU_U_CEIL: return ceilf(x);
    case DT_CU_U_ROUND: return nearbyintf(x);
    case DT_CU_U_ERF: return erff(x);
    case DT_CU_U_SOFTPLUS: return dt_cu_softplusf(x);
    case DT_CU_U_ELU: return x >= 0.f ? x : p->alpha * expm1f(x);
    case DT_CU_U_SELU: return x > 0.f ? p->gamma * x : p->gamma * p->alpha * expm1f(x);
    case DT_CU_U_MISH: return x * tanhf(dt_cu_softplusf(x));
    case DT_CU_U_SIGN: return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f);
    case DT_CU_U_SQR: return x * x;
    case DT_CU_U_DIVN: return x / (float)p->ilo;
    case DT_CU_U_FILL: return (float)p->fill;
    case DT_CU_U_ACT: return dt_cu_act(p->act, p->alpha, p->beta, x);
    default: return x;
    }
}

/* Integer unary maps (int32 and int64 run in int64, narrowed on store). */
DT_HD int64_t dt_cu_unary_i(const dt_cu_unary *p, int64_t x)
{
    switch (p->op) {
    case DT_CU_U_RELU: return x > 0 ? x : 0;
    case DT_CU_U_ABS: return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
    case DT_CU_U_NEG: return (int64_t)(0 - (uint64_t)x);
    case DT_CU_U_SIGN: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    case DT_CU_U_CLIP: return dt_cu_clampi(x, p->ilo, p->ihi);
    case DT_CU_U_DIVN: return p->ilo == 0 ? 0 : (p->ilo == -1 ? (int64_t)(0 - (uint64_t)x) : x / p->ilo);
    case DT_CU_U_FILL: return p->ilo;
    default: return x;
    }
}

/* Load element i of any integer-like dtype as int64. */
DT_HD int64_t dt_cu_load_i(int dt, const void *p, int64_t i)
{
    switch (dt) {
    case DT_CU_I64: return ((const int64_t *)p)[i];
    case DT_CU_I32: return ((const int32_t *)p)[i];
    case DT_CU_U8: return ((const uint8_t *)p)[i];
    case DT_CU_I8: return ((const int8_t *)p)[i];
    case DT_CU_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return 0;
    }
}

/* Store an int64 into any integer-like dtype (narrowing by bits, as Cast). */
DT_HD void dt_cu_store_i(int dt, void *p, int64_t i, int64_t v)
{
    switch (dt) {
    case DT_CU_I64: ((int64_t *)p)[i] = v; break;
    case DT_CU_I32: ((int32_t *)p)[i] = dt_cu_narrow32(v); break;
    case DT_CU_U8: ((uint8_t *)p)[i] = (uint8_t)(uint64_t)v; break;
    case DT_CU_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
    case DT_CU_BOOL: ((uint8_t *)p)[i] = (uint8_t)(v != 0); break;
    default: break;
    }
}

/* Cast element i (eltwise.c cast_row, without the float16 rounding). */
DT_HD void dt_cu_cast(int src, int dst, const void *s, void *d, int64_t i)
{
    if (src == DT_CU_F32) {
        float x = ((const float *)s)[i];
        switch (dst) {
        case DT_CU_F32: ((float *)d)[i] = x; break;
        case DT_CU_I64: ((int64_t *)d)[i] = dt_cu_f2i64(x); break;
        case DT_CU_I32: ((int32_t *)d)[i] = dt_cu_f2i32(x); break;
        case DT_CU_U8: ((uint8_t *)d)[i] = (uint8_t)(uint32_t)dt_cu_f2i32(x); break;
        case DT_CU_I8: ((int8_t *)d)[i] = (int8_t)(uint8_t)(uint32_t)dt_cu_f2i32(x); break;
        case DT_CU_BOOL: ((uint8_t *)d)[i] = (uint8_t)(x != 0); break;
        default: break;
        }
        return;
    }
    int64_t v = dt_cu_load_i(src, s, i);
    if (dst == DT_CU_F32)
        ((float *)d)[i] = (float)v;
    else
        dt_cu_store_i(dst, d, i, v);
}

/* One unary element (all dtypes). */
DT_HD void dt_cu_unary_elem(const dt_cu_unary *p, const void *x, void *y, int64_t i)
{
    if (p->op == DT_CU_U_CAST) {
        dt_cu_cast(p->src, p->dst, x, y, i);
    } else if (p->op == DT_CU_U_NOT) {
        ((uint8_t *)y)[i] = (uint8_t)(((const uint8_t *)x)[i] == 0);
    } else if (p->dst == DT_CU_F32) {
        ((float *)y)[i] = dt_cu_unary_f(p, p->op == DT_CU_U_FILL ? 0.f : ((const float *)x)[i]);
    } else {
        int64_t v = p->op == DT_CU_U_FILL ? 0 : dt_cu_load_i(p->src, x, i);
        dt_cu_store_i(p->dst, y, i, dt_cu_unary_i(p, v));
    }
}

/* ---- binary ---- */

DT_HD float dt_cu_pmodf(float x, float y)
{
    float r = fmodf(x, y);
    if (r != 0.f && ((r < 0.f) != (y < 0.f)))
        r += y;
    return r;
}

DT_HD float dt_cu_binary_f(int op, float x, float y)
{
    switch (op) {
    case DT_CU_B_ADD: return x + y;
    case DT_CU_B_SUB: return x - y;
    case DT_CU_B_MUL: return x * y;
    case DT_CU_B_DIV: return x / y;
    case DT_CU_B_MIN: return (x < y || DT_CU_ISNAN(x)) ? x : y;
    case DT_CU_B_MAX: return (x > y || DT_CU_ISNAN(x)) ? x : y;
    case DT_CU_B_PMOD: return dt_cu_pmodf(x, y);
    case DT_CU_B_CMOD: return fmodf(x, y);
    case DT_CU_B_FDIV: return floorf(x / y);
    case DT_CU_B_PRELU: return x < 0 ? x * y : x;
    case DT_CU_B_POW: return powf(x, y);
    default: return 0.f;
    }
}

DT_HD int64_t dt_cu_binary_i(int op, int64_t x, int64_t y)
{
    switch (op) {
    case DT_CU_B_ADD: return (int64_t)((uint64_t)x + (uint64_t)y);
    case DT_CU_B_SUB: return (int64_t)((uint64_t)x - (uint64_t)y);
    case DT_CU_B_MUL: return (int64_t)((uint64_t)x * (uint64_t)y);
    case DT_CU_B_PRELU: return x < 0 ? (int64_t)((uint64_t)x * (uint64_t)y) : x;
    case DT_CU_B_DIV:
        if (y == 0)
            return 0;
        if (y == -1)
            return (int64_t)(0 - (uint64_t)x);
        return x / y;
    case DT_CU_B_FDIV: {
        if (y == 0)
            return 0;
        if (y == -1)
            return (int64_t)(0 - (uint64_t)x);
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0)))
            q--;
        return q;
    }
    case DT_CU_B_CMOD: return (y == 0 || y == -1) ? 0 : x % y;
    case DT_CU_B_PMOD: {
        if (y == 0 || y == -1)
            return 0;
        int64_t r = x % y;
        if (r != 0 && ((r < 0) != (y < 0)))
            r += y;
        return r;
    }
    case DT_CU_B_MIN: return x < y ? x : y;
    case DT_CU_B_MAX: return x > y ? x : y;
    default: return 0;
    }
}

DT_HD int dt_cu_cmp_f(int op, float x, float y)
{
    switch (op) {
    case DT_CU_B_EQ: return x == y;
    case DT_CU_B_GT: return x > y;
    case DT_CU_B_LT: return x < y;
    case DT_CU_B_GE: return x >= y;
    case DT_CU_B_LE: return x <= y;
    default: return 0;
    }
}

DT_HD int dt_cu_cmp_i(int op, int64_t x, int64_t y)
{
    switch (op) {
    case DT_CU_B_EQ: return x == y;
    case DT_CU_B_GT: return x > y;
    case DT_CU_B_LT: return x < y;
    case DT_CU_B_GE: return x >= y;
    case DT_CU_B_LE: return x <= y;
    case DT_CU_B_AND: return (x != 0) & (y != 0);
    case DT_CU_B_OR: return (x != 0) | (y != 0);
    case DT_CU_B_XOR: return (x != 0) ^ (y != 0);
    default: return 0;
    }
}

DT_HD int dt_cu_is_cmp(int op) { return op >= DT_CU_B_EQ; }

/* Offsets of output element i in each broadcast input. */
DT_HD void dt_cu_bcast_offsets(const dt_cu_bcast *b, int64_t i, int64_t *off)
{
    if (b->nd == 1) { /* same shapes or a scalar: no division */
        off[0] = i * b->str[0][0];
        off[1] = i * b->str[1][0];
        off[2] = i * b->str[2][0];
        return;
    }
    off[0] = off[1] = off[2] = 0;
    for (int d = b->nd - 1; d >= 0; d--) {
        int64_t c = i % b->dims[d];
        i /= b->dims[d];
        for (int k = 0; k < b->nin; k++)
            off[k] += c * b->str[k][d];
    }
}

/* One binary element. */
DT_HD void dt_cu_binary_elem(const dt_cu_binary *p, const void *a, const void *b, void *y, int64_t i)
{
    int64_t off[3];
    dt_cu_bcast_offsets(&p->bc, i, off);
    if (p->ta == DT_CU_F32) {
        float x = ((const float *)a)[off[0]];
        if (p->op == DT_CU_B_POW && p->tb != DT_CU_F32) {
            ((float *)y)[i] = (float)pow((double)x, (double)dt_cu_load_i(p->tb, b, off[1]));
            return;
        }
        float v = ((const float *)b)[off[1]];
        if (dt_cu_is_cmp(p->op))
            ((uint8_t *)y)[i] = (uint8_t)dt_cu_cmp_f(p->op, x, v);
        else
            ((float *)y)[i] = dt_cu_binary_f(p->op, x, v);
        return;
    }
    int64_t x = dt_cu_load_i(p->ta, a, off[0]);
    if (p->op == DT_CU_B_POW) {
        double e = p->tb == DT_CU_F32 ? (double)((const float *)b)[off[1]] : (double)dt_cu_load_i(p->tb, b, off[1]);
        dt_cu_store_i(p->to, y, i, dt_cu_f2i64(pow((double)x, e)));
        return;
    }
    int64_t v = dt_cu_load_i(p->tb, b, off[1]);
    if (dt_cu_is_cmp(p->op))
        ((uint8_t *)y)[i] = (uint8_t)dt_cu_cmp_i(p->op, x, v);
    else
        dt_cu_store_i(p->to, y, i, dt_cu_binary_i(p->op, x, v));
}

DT_HD void dt_cu_copy_elem_bytes(void *dst, int64_t di, const void *src, int64_t si, int es)
{
    switch (es) {
    case 1: ((uint8_t *)dst)[di] = ((const uint8_t *)src)[si]; break;
    case 2: ((uint16_t *)dst)[di] = ((const uint16_t *)src)[si]; break;
    case 4: ((uint32_t *)dst)[di] = ((const uint32_t *)src)[si]; break;
    default: ((uint64_t *)dst)[di] = ((const uint64_t *)src)[si]; break;
    }
}

DT_HD void dt_cu_where_elem(const dt_cu_where *p, const void *c, const void *x, const void *yv, void *o, int64_t i)
{
    int64_t off[3];
    dt_cu_bcast_offsets(&p->bc, i, off);
    if (((const uint8_t *)c)[off[0]])
        dt_cu_copy_elem_bytes(o, i, x, off[1], p->es);
    else
        dt_cu_copy_elem_bytes(o, i, yv, off[2], p->es);
}

/* ---- strided copy ---- */

DT_HD void dt_cu_copy_offsets(const dt_cu_copy *p, int64_t i, int64_t *so, int64_t *dof)
{
    if (p->nd == 1) {
        *so = i * p->sstr[0];
        *dof = i * p->dstr[0];
        return;
    }
    int64_t s = 0, d = 0;
    for (int k = p->nd - 1; k >= 0; k--) {
        int64_t c = i % p->dims[k];
        i /= p->dims[k];
        s += c * p->sstr[k];
        d += c * p->dstr[k];
    }
    *so = s;
    *dof = d;
}

/* ---- per-channel affine + activation ---- */

DT_HD float dt_cu_chan_elem(const dt_cu_chan *p, const float *scale, const float *bias, float x, int64_t i)
{
    int64_t c = (i / p->inner) % p->C;
    if (p->bn)
        return (x - scale[p->C + c]) * scale[c] + scale[2 * p->C + c];
    if (p->has_scale)
        x = x * scale[c];
    if (p->has_bias)
        x = x + bias[c];
    return dt_cu_act(p->act, p->alpha, p->beta, x);
}

/* ---- pools (nn_pool.c's loop for one output element) ---- */

DT_HD float dt_cu_pool_elem(const dt_cu_pool *j, const float *x, int64_t t)
{
    const int64_t S = j->O[0] * j->O[1] * j->O[2], IS = j->I[0] * j->I[1] * j->I[2];
    int64_t s, c, b;
    if (j->nhwc) {
        c = t % j->C;
        s = (t / j->C) % S;
        b = t / (j->C * S);
    } else {
        s = t % S;
        c = (t / S) % j->C;
        b = t / (S * j->C);
    }
    const int64_t sS = j->nhwc ? j->C : 1;
    const float *xb = x + b * j->C * IS + c * (j->nhwc ? 1 : IS);
    int64_t ow = s % j->O[2], oh = (s / j->O[2]) % j->O[1], od = s / (j->O[2] * j->O[1]);
    float best = -FLT_MAX;
    double sum = 0.0;
    int64_t cnt = 0, cnt_pad = 0;
    for (int64_t kd = 0; kd < j->K[0]; kd++) {
        int64_t id = od * j->S[0] - j->P[0] + kd * j->D[0];
        int in_d = id >= 0 && id < j->I[0];
        int pad_d = id >= -j->P[0] && id < j->I[0] + j->PE[0];
        for (int64_t kh = 0; kh < j->K[1]; kh++) {
            int64_t ih = oh * j->S[1] - j->P[1] + kh * j->D[1];
            int in_h = in_d && ih >= 0 && ih < j->I[1];
            int pad_h = pad_d && ih >= -j->P[1] && ih < j->I[1] + j->PE[1];
            for (int64_t kw = 0; kw < j->K[2]; kw++) {
                int64_t iw = ow * j->S[2] - j->P[2] + kw * j->D[2];
                if (pad_h && iw >= -j->P[2] && iw < j->I[2] + j->PE[2])
                    cnt_pad++;
                if (!in_h || iw < 0 || iw >= j->I[2])
                    continue;
                float v = xb[((id * j->I[1] + ih) * j->I[2] + iw) * sS];
                if (j->is_max) {
                    if (v > best)
                        best = v;
                } else {
                    sum += v;
                    cnt++;
                }
            }
        }
    }
    if (j->is_max)
        return best;
    int64_t div = j->include_pad ? cnt_pad : cnt;
    return div > 0 ? (float)(sum / (double)div) : 0.f;
}

/* ---- resize (nn_resize.c's tap odometer for one output element) ---- */

DT_HD float dt_cu_resize_elem(const dt_cu_resize *p, const float *x, const uint8_t *tab, int64_t t)
{
    int64_t coord[DT_CU_MAXD], rem = t, base = 0;
    for (int d = p->rank - 1; d >= 0; d--) {
        coord[d] = rem % p->out_dims[d];
        rem /= p->out_dims[d];
        if (!p->active[d])
            base += coord[d] * p->in_str[d];
    }
    if (p->has_outside)
        for (int k = 0; k < p->n_act; k++)
            if (tab[p->t_out[k] + coord[p->act[k]]])
                return p->extrap;
    const int T = p->taps;
    int tap[DT_CU_MAXD];
    for (int k = 0; k < DT_CU_MAXD; k++)
        tap[k] = 0;
    float sum = 0.f;
    for (;;) {
        int64_t off = base;
        float w = 1.f;
        for (int k = 0; k < p->n_act; k++) {
            int a = p->act[k];
            int64_t e = coord[a] * T + tap[k];
            off += (int64_t)((const int32_t *)(tab + p->t_idx[k]))[e] * p->in_str[a];
            w *= ((const float *)(tab + p->t_w[k]))[e];
        }
        sum += w * x[off];
        int k = p->n_act - 1;
        while (k >= 0 && ++tap[k] == T)
            tap[k--] = 0;
        if (k < 0)
            break;
    }
    return sum;
}

/* ---- pad (nn_pad.c pad_src) ---- */

DT_HD int64_t dt_cu_pad_src(int mode, int64_t o, int64_t pb, int64_t len)
{
    int64_t i = o - pb;
    if (i >= 0 && i < len)
        return i;
    switch (mode) {
    case 0: return -1;
    case 2: return i < 0 ? 0 : len - 1;
    case 3: return ((i % len) + len) % len;
    case 1: {
        if (len == 1)
            return 0;
        int64_t period = 2 * (len - 1);
        i = ((i % period) + period) % period;
        return i < len ? i : period - i;
    }
    default: return -1;
    }
}

/* Source element offset of output element t, or -1 for the constant. */
DT_HD int64_t dt_cu_pad_offset(const dt_cu_pad *p, int64_t t)
{
    int64_t off = 0;
    for (int d = p->rank - 1; d >= 0; d--) {
        int64_t c = t % p->out_dims[d];
        t /= p->out_dims[d];
        int64_t s = dt_cu_pad_src(p->mode, c, p->pb[d], p->in_dims[d]);
        if (s < 0)
            return -1;
        off += s * p->in_str[d];
    }
    return off;
}

DT_HD void dt_cu_pad_elem(const dt_cu_pad *p, const void *x, void *y, int64_t t)
{
    int64_t s = dt_cu_pad_offset(p, t);
    if (s >= 0)
        dt_cu_copy_elem_bytes(y, t, x, s, p->es);
    else
        dt_cu_copy_elem_bytes(y, t, p->cval, 0, p->es);
}

/* ---- softmax (one line) ---- */

DT_HD void dt_cu_softmax_line(const dt_cu_softmax *j, const float *x, float *y, int64_t t)
{
    int64_t o = t / j->inner, i = t % j->inner;
    int64_t base = o * j->L * j->inner + i;
    float mx = -INFINITY;
    for (int64_t l = 0; l < j->L; l++)
        if (x[base + l * j->inner] > mx)
            mx = x[base + l * j->inner];
    double sum = 0.0;
    for (int64_t l = 0; l < j->L; l++)
        sum += exp((double)x[base + l * j->inner] - mx);
    if (j->log) {
        double ls = log(sum);
        for (int64_t l = 0; l < j->L; l++)
            y[base + l * j->inner] = (float)((double)x[base + l * j->inner] - mx - ls);
    } else {
        for (int64_t l = 0; l < j->L; l++)
            y[base + l * j->inner] = (float)(exp((double)x[base + l * j->inner] - mx) / sum);
    }
}

/* ---- Reduce* (one output element) ---- */

DT_HD void dt_cu_reduce_elem(const dt_cu_reduce *j, const void *x, void *y, int64_t t)
{
    int64_t base = 0, rem = t;
    for (int d = j->nk - 1; d >= 0; d--) {
        base += (rem % j->kdims[d]) * j->kstr[d];
        rem /= j->kdims[d];
    }
    double acc_f = j->kind == DT_CU_R_PROD ? 1.0
                 : (j->kind == DT_CU_R_MAX ? -INFINITY : (j->kind == DT_CU_R_MIN ? INFINITY : 0.0));
    int64_t acc_i = j->kind == DT_CU_R_PROD ? 1
                  : (j->kind == DT_CU_R_MAX ? INT64_MIN : (j->kind == DT_CU_R_MIN ? INT64_MAX : 0));
    for (int64_t r = 0; r < j->rcount; r++) {
        int64_t off = base, rr = r;
        for (int d = j->nr - 1; d >= 0; d--) {
            off += (rr % j->rdims[d]) * j->rstr[d];
            rr /= j->rdims[d];
        }
        if (j->dt == DT_CU_F32) {
            double v = ((const float *)x)[off];
            switch (j->kind) {
            case DT_CU_R_MEAN:
            case DT_CU_R_SUM: acc_f += v; break;
            case DT_CU_R_PROD: acc_f *= v; break;
            case DT_CU_R_MAX: if (v > acc_f || DT_CU_ISNAN(v)) acc_f = v; break;
            case DT_CU_R_MIN: if (v < acc_f || DT_CU_ISNAN(v)) acc_f = v; break;
            default: break;
            }
        } else {
            int64_t v = dt_cu_load_i(j->dt, x, off);
            switch (j->kind) {
            case DT_CU_R_MEAN:
            case DT_CU_R_SUM: acc_i = (int64_t)((uint64_t)acc_i + (uint64_t)v); break;
            case DT_CU_R_PROD: acc_i = (int64_t)((uint64_t)acc_i * (uint64_t)v); break;
            case DT_CU_R_MAX: if (v > acc_i) acc_i = v; break;
            case DT_CU_R_MIN: if (v < acc_i) acc_i = v; break;
            default: break;
            }
        }
    }
    if (j->kind == DT_CU_R_MEAN)
        acc_f = j->rcount ? acc_f / (double)j->rcount : NAN;
    if (j->dt == DT_CU_F32)
        ((float *)y)[t] = (float)acc_f;
    else
        dt_cu_store_i(j->dt, y, t, acc_i);
}

/* ---- ArgMax / ArgMin (one line) ---- */

DT_HD int64_t dt_cu_arg_line(const dt_cu_arg *j, const void *x, int64_t t)
{
    int64_t o = t / j->inner, i = t % j->inner;
    int64_t base = o * j->L * j->inner + i;
    int64_t best = 0;
    for (int64_t l = 1; l < j->L; l++) {
        int64_t a = base + l * j->inner, b = base + best * j->inner;
        int better, equal;
        if (j->dt == DT_CU_I64) {
            int64_t va = ((const int64_t *)x)[a], vb = ((const int64_t *)x)[b];
            better = j->is_min ? va < vb : va > vb;
            equal = va == vb;
        } else {
            double va = j->dt == DT_CU_F32 ? (double)((const float *)x)[a] : (double)((const int32_t *)x)[a];
            double vb = j->dt == DT_CU_F32 ? (double)((const float *)x)[b] : (double)((const int32_t *)x)[b];
            better = j->is_min ? va < vb : va > vb;
            equal = va == vb;
        }
        if (better || (equal && j->last))
            best = l;
    }
    return best;
}

/* ---- Gather (one output element); returns 0 on an out-of-range index ---- */

DT_HD int dt_cu_gather_elem(const dt_cu_gather *p, const void *x, const void *idx, void *y, int64_t e)
{
    int64_t c = e % p->inner, r = e / p->inner;
    int64_t j = r % p->ni, o = r / p->ni;
    int64_t v = p->ies == 8 ? ((const int64_t *)idx)[j] : (int64_t)((const int32_t *)idx)[j];
    if (v < -p->k || v >= p->k) {
        dt_cu_copy_elem_bytes(y, e, "\0\0\0\0\0\0\0\0", 0, p->es);
        return 0;
    }
    if (v < 0)
        v += p->k;
    dt_cu_copy_elem_bytes(y, e, x, (o * p->k + v) * p->inner + c, p->es);
    return 1;
}

/* ---- GatherElements (one output element); 0 on an out-of-range index ---- */

DT_HD int dt_cu_gather_el_elem(const dt_cu_gather_el *p, const void *x, const void *idx, void *y, int64_t e)
{
    int64_t rem = e, off = 0;
    for (int d = p->rank - 1; d >= 0; d--) {
        int64_t c = rem % p->idims[d];
        rem /= p->idims[d];
        if (d != p->axis)
            off += c * p->xstr[d];
    }
    int64_t v = p->ies == 8 ? ((const int64_t *)idx)[e] : (int64_t)((const int32_t *)idx)[e];
    if (v < -p->k || v >= p->k) {
        dt_cu_copy_elem_bytes(y, e, "\0\0\0\0\0\0\0\0", 0, p->es);
        return 0;
    }
    if (v < 0)
        v += p->k;
    dt_cu_copy_elem_bytes(y, e, x, off + v * p->xstr[p->axis], p->es);
    return 1;
}

/* ---- InstanceNormalization (one (batch, channel) plane) and LRN (one
 * element), nn_norm.c's loops ---- */

DT_HD void dt_cu_instnorm_plane(const dt_cu_norm *p, const float *x, float *y, const float *scale,
                                const float *bias, int64_t t)
{
    int64_t b = t / p->C, c = t % p->C;
    int64_t sC = p->nhwc ? 1 : p->S, sS = p->nhwc ? p->C : 1;
    int64_t base = b * p->C * p->S + c * sC;
    double sum = 0.0, sq = 0.0;
    for (int64_t s = 0; s < p->S; s++)
        sum += x[base + s * sS];
    double mean = p->S ? sum / (double)p->S : 0.0;
    for (int64_t s = 0; s < p->S; s++) {
        double d = x[base + s * sS] - mean;
        sq += d * d;
    }
    double var = p->S ? sq / (double)p->S : 0.0;
    double a = scale[c] / sqrt(var + (double)p->eps);
    for (int64_t s = 0; s < p->S; s++) {
        int64_t o = base + s * sS;
        y[o] = (float)((x[o] - mean) * a + bias[c]);
    }
}

DT_HD float dt_cu_lrn_elem(const dt_cu_norm *p, const float *x, int64_t o)
{
    int64_t c, s, b;
    if (p->nhwc) {
        c = o % p->C;
        s = (o / p->C) % p->S;
        b = o / (p->C * p->S);
    } else {
        s = o % p->S;
        c = (o / p->S) % p->C;
        b = o / (p->S * p->C);
    }
    int64_t sC = p->nhwc ? 1 : p->S, sS = p->nhwc ? p->C : 1;
    int64_t lo_off = (p->size - 1) / 2, hi_off = p->size - 1 - lo_off;
    int64_t c0 = c - lo_off < 0 ? 0 : c - lo_off;
    int64_t c1 = c + hi_off > p->C - 1 ? p->C - 1 : c + hi_off;
    float sum = 0.f;
    for (int64_t k = c0; k <= c1; k++) {
        float v = x[b * p->C * p->S + k * sC + s * sS];
        sum += v * v;
    }
    return x[o] / powf(p->bias + p->alpha / (float)p->size * sum, p->beta);
}

/* ---- TopK ---- */

/* 1 if candidate a ranks before b: values by `largest` (NaN counts as the
 * largest float), ties by lower index — nn_reduce.c's total order; empty
 * slots last. */
DT_HD int dt_cu_topk_before(const dt_cu_topk_cand *a, const dt_cu_topk_cand *b, int is_i64, int largest)
{
    if (a->idx < 0)
        return 0;
    if (b->idx < 0)
        return 1;
    int c;
    if (is_i64) {
        c = (a->v.i > b->v.i) - (a->v.i < b->v.i);
    } else {
        int na = DT_CU_ISNAN(a->v.f), nb = DT_CU_ISNAN(b->v.f);
        if (na || nb)
            c = na - nb;
        else
            c = (a->v.f > b->v.f) - (a->v.f < b->v.f);
    }
    if (!largest)
        c = -c;
    if (c)
        return c > 0;
    return a->idx < b->idx;
}

/* Bytes of one of the two candidate buffers in the step's scratch. */
DT_HD size_t dt_cu_topk_buf_bytes(const dt_cu_topk *p)
{
    return ((size_t)p->buf_elems * sizeof(dt_cu_topk_cand) + DT_CU_ALIGN - 1) / DT_CU_ALIGN * DT_CU_ALIGN;
}

/* Candidate for element l of a line (pass 0 input). */
DT_HD dt_cu_topk_cand dt_cu_topk_load(const dt_cu_topk *p, const void *x, int64_t line, int64_t l)
{
    dt_cu_topk_cand c;
    int64_t o = line / p->inner, i = line % p->inner;
    int64_t off = o * p->L * p->inner + i + l * p->inner;
    c.idx = l;
    if (p->dt == DT_CU_I64)
        c.v.i = ((const int64_t *)x)[off];
    else if (p->dt == DT_CU_I32)
        c.v.f = ((const int32_t *)x)[off];
    else
        c.v.f = ((const float *)x)[off];
    return c;
}

/* Write the r-th best of a line to the outputs (either may be NULL). */
DT_HD void dt_cu_topk_store(const dt_cu_topk *p, void *yv, int64_t *yi, int64_t line, int64_t r,
                            const dt_cu_topk_cand *c)
{
    int64_t o = line / p->inner, i = line % p->inner;
    int64_t off = o * p->k * p->inner + i + r * p->inner;
    if (yv) {
        if (p->dt == DT_CU_F32)
            ((float *)yv)[off] = (float)c->v.f;
        else if (p->dt == DT_CU_I32)
            ((int32_t *)yv)[off] = (int32_t)c->v.f;
        else
            ((int64_t *)yv)[off] = c->v.i;
    }
    if (yi)
        yi[off] = c->idx;
}

#endif
