/* eltwise.c — elementwise ops: unary maps, Cast, numpy-broadcast binary and
 * variadic ops, comparisons, logic and Where.
 *
 * Kernels are built from small "row" functions (one tight loop per op and
 * dtype) driven by two engines: a flat one for unary maps and a broadcast
 * one that collapses the output shape to as few dims as the inputs' strides
 * allow, so same-shape, scalar, row and channel broadcasts all end up as
 * long contiguous rows with each input either streaming (inc 1) or fixed
 * (inc 0).  Both engines split the work over the session pool by element
 * ranges.  Integer arithmetic wraps (two's complement, as ORT's does in
 * practice) and integer division by zero yields 0 instead of trapping:
 * model data must never crash the server.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"

#define GRAIN 16384 /* elements per parallel chunk, at least */

#define M(t) (1u << (t))
#define M_F32 M(DT_F32)
#define M_INT (M(DT_I32) | M(DT_I64))
#define M_NUM (M_F32 | M_INT)
#define M_BOOL M(DT_BOOL)
#define M_ANY (M(DT_F32) | M(DT_I64) | M(DT_I32) | M(DT_U8) | M(DT_I8) | M(DT_BOOL))

static const char *opn(const dt_node *n) { return dt_op_name(n->op); }

/* ==== infer helpers ====================================================== */

static dt_code check_arity(const dt_node *n, int min_in, int max_in, int min_out, int max_out, dt_status *st)
{
    if (n->n_in < min_in || n->n_in > max_in)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): expected %d..%d inputs, got %d", n->name, opn(n),
                       min_in, max_in, n->n_in);
    for (int i = 0; i < min_in; i++)
        if (n->in[i] < 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): input %d is required", n->name, opn(n), i);
    if (n->n_out < min_out || n->n_out > max_out)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): expected %d..%d outputs, got %d", n->name, opn(n),
                       min_out, max_out, n->n_out);
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i] < 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): output %d missing", n->name, opn(n), i);
    return DT_OK;
}

static dt_code check_dtype(const dt_node *n, const dt_value *v, unsigned mask, const char *what, dt_status *st)
{
    if (v->dtype <= DT_UNDEF || v->dtype >= DT_DTYPE_COUNT_ || !(mask & M(v->dtype)))
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): %s has unsupported dtype %s", n->name, opn(n), what,
                       dt_dtype_name(v->dtype));
    return DT_OK;
}

/* Numpy broadcast tolerant of unknown dims (-1) and unknown rank (ndim -1),
 * so infer also works on a graph not yet specialised. */
static dt_code bcast(const dt_node *n, int na, const int64_t *a, int nb, const int64_t *b, int *nout,
                     int64_t *out, dt_status *st)
{
    if (na < 0 || nb < 0) {
        *nout = -1;
        return DT_OK;
    }
    int r = na > nb ? na : nb;
    if (r > DT_MAX_DIMS)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): rank %d over %d", n->name, opn(n), r, DT_MAX_DIMS);
    for (int i = 0; i < r; i++) {
        int64_t da = i < r - na ? 1 : a[i - (r - na)];
        int64_t db = i < r - nb ? 1 : b[i - (r - nb)];
        int64_t d;
        if (da == db)
            d = da;
        else if (da == 1)
            d = db;
        else if (db == 1)
            d = da;
        else if (da < 0)
            d = db;
        else if (db < 0)
            d = da;
        else {
            char sa[128], sb[128];
            return dt_fail(st, DT_ESHAPE, "node '%s' (%s): shapes %s and %s cannot broadcast", n->name, opn(n),
                           dt_shape_str(na, a, sa, sizeof sa), dt_shape_str(nb, b, sb, sizeof sb));
        }
        out[i] = d;
    }
    *nout = r;
    return DT_OK;
}

/* Opset < 7 binary ops with broadcast=1 and an explicit axis align B's dims
 * at `axis` of A instead of at the end: pad B with trailing ones. */
static int legacy_b_dims(const dt_node *n, int na, int nb, const int64_t *b, int64_t *bd)
{
    for (int i = 0; i < nb; i++)
        bd[i] = b[i];
    if (n->opset >= 7 || na < 0 || nb < 0 || !dt_attr_int(n, "broadcast", 0) || !dt_node_attr(n, "axis"))
        return nb;
    int axis = dt_norm_axis(dt_attr_int(n, "axis", 0), na);
    if (axis < 0 || axis + nb > na)
        return nb;
    int r = na - axis;
    for (int i = nb; i < r && i < DT_MAX_DIMS; i++)
        bd[i] = 1;
    return r;
}

static int is_variadic(dt_op op)
{
    return op == DT_OP_Sum || op == DT_OP_Mean || op == DT_OP_Min || op == DT_OP_Max;
}

/* ==== unary ============================================================== */

typedef struct uprm {
    float alpha, beta, gamma;
    float lo, hi;       /* Clip, float */
    int64_t ilo, ihi;   /* Clip, int */
    dt_dtype src, dst;  /* Cast */
    int half;           /* Cast to float16: round through half precision */
} uprm;

typedef void (*un_fn)(const void *s, void *d, int64_t n, const uprm *p);

#define UN_F32(name, EXPR)                                                                    \
    static void name(const void *s_, void *d_, int64_t n, const uprm *p)                     \
    {                                                                                         \
        const float *s = s_;                                                                  \
        float *d = d_;                                                                        \
        (void)p;                                                                              \
        for (int64_t i = 0; i < n; i++) {                                                     \
            const float x = s[i];                                                             \
            d[i] = (EXPR);                                                                    \
        }                                                                                     \
    }
#define UN_INT(name, T, U, EXPR)                                                              \
    static void name(const void *s_, void *d_, int64_t n, const uprm *p)                     \
    {                                                                                         \
        typedef T sgn_t;                                                                      \
        typedef U uns_t __attribute__((unused));                                              \
        const sgn_t *s = s_;                                                                  \
        sgn_t *d = d_;                                                                        \
        (void)p;                                                                              \
        for (int64_t i = 0; i < n; i++) {                                                     \
            const sgn_t x = s[i];                                                             \
            d[i] = (EXPR);                                                                    \
        }                                                                                     \
    }
#define UN_INTS(nm, EXPR) UN_INT(nm##_i32, int32_t, uint32_t, EXPR) UN_INT(nm##_i64, int64_t, uint64_t, EXPR)

/* The row loops below are the hot part: have gcc vectorise them.  At -O2 it
 * uses the "very-cheap" cost model, which rejects every loop whose trip
 * count is unknown, i.e. all of these. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

static inline float softplusf(float x) { return x > 0.f ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
static inline float clampf(float x, float lo, float hi)
{
    float y = x < lo ? lo : x;
    return y > hi ? hi : y; /* min(max(x, lo), hi): lo > hi gives hi, as ONNX says */
}

static inline int64_t clampi(int64_t x, int64_t lo, int64_t hi)
{
    int64_t y = x < lo ? lo : x;
    return y > hi ? hi : y;
}

UN_F32(relu_f32, x > 0.f ? x : 0.f)
UN_F32(leaky_f32, x >= 0.f ? x : x * p->alpha)
UN_F32(sigmoid_f32, 1.f / (1.f + expf(-x)))
UN_F32(hsigmoid_f32, clampf(p->alpha * x + p->beta, 0.f, 1.f))
UN_F32(hswish_f32, x * clampf(x * (1.f / 6.f) + 0.5f, 0.f, 1.f))
UN_F32(tanh_f32, tanhf(x))
UN_F32(clip_f32, clampf(x, p->lo, p->hi))
UN_F32(sqrt_f32, sqrtf(x))
UN_F32(exp_f32, expf(x))
UN_F32(log_f32, logf(x))
UN_F32(abs_f32, fabsf(x))
UN_F32(neg_f32, -x)
UN_F32(recip_f32, 1.f / x)
UN_F32(floor_f32, floorf(x))
UN_F32(ceil_f32, ceilf(x))
UN_F32(round_f32, nearbyintf(x)) /* default rounding mode: half to even */
UN_F32(erf_f32, erff(x))
UN_F32(softplus_f32, softplusf(x))
UN_F32(elu_f32, x >= 0.f ? x : p->alpha * expm1f(x))
UN_F32(selu_f32, x > 0.f ? p->gamma * x : p->gamma * p->alpha * expm1f(x))
UN_F32(mish_f32, x * tanhf(softplusf(x)))
UN_F32(sign_f32, x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f))
UN_F32(sqr_f32, x * x) /* Pow(x, 2) */

UN_INTS(relu, x > 0 ? x : 0)
UN_INTS(abs, x < 0 ? (sgn_t)(0 - (uns_t)x) : x)
UN_INTS(neg, (sgn_t)(0 - (uns_t)x))
UN_INTS(sign, (sgn_t)(x > 0 ? 1 : (x < 0 ? -1 : 0)))
UN_INTS(clip, (sgn_t)clampi(x, p->ilo, p->ihi))
UN_INT(not_b, uint8_t, uint8_t, (uint8_t)(x == 0))

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* --- Cast --- */

/* Float -> int conversions where C leaves NaN / out of range undefined:
 * give what x86 cvtt* gives (the "integer indefinite" INT_MIN), which is
 * what ORT produces on the machines we run on. */
static inline int64_t f2i64(double x)
{
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)x;
}
static inline int32_t f2i32(double x)
{
    if (!(x > -2147483649.0 && x < 2147483648.0))
        return INT32_MIN;
    return (int32_t)x;
}

static inline float round_half(float x) { return dt_half_to_float(dt_float_to_half(x)); }

#define CAST_FROM_F(TD, CONV)                                                                 \
    {                                                                                         \
        TD *d = d_;                                                                           \
        for (int64_t i = 0; i < n; i++)                                                       \
            d[i] = CONV(s[i]);                                                                \
    }                                                                                         \
    break;
#define CONV_F32(x) (p->half ? round_half(x) : (x))
#define CONV_I64(x) f2i64(x)
#define CONV_I32(x) f2i32(x)
#define CONV_U8(x) ((uint8_t)(uint32_t)f2i32(x))
#define CONV_I8(x) ((int8_t)(uint8_t)(uint32_t)f2i32(x))
#define CONV_B(x) ((uint8_t)((x) != 0))

static void cast_from_f32(const float *s, void *d_, int64_t n, const uprm *p)
{
    switch (p->dst) {
    case DT_F32: CAST_FROM_F(float, CONV_F32)
    case DT_I64: CAST_FROM_F(int64_t, CONV_I64)
    case DT_I32: CAST_FROM_F(int32_t, CONV_I32)
    case DT_U8: CAST_FROM_F(uint8_t, CONV_U8)
    case DT_I8: CAST_FROM_F(int8_t, CONV_I8)
    case DT_BOOL: CAST_FROM_F(uint8_t, CONV_B)
    default: break;
    }
}

/* Integer (and bool) sources: widen to int64 first, then narrow by bits. */
#define CAST_I_TO(TD, CONV)                                                                   \
    {                                                                                         \
        TD *d = d_;                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                     \
            const int64_t v = SRCV(s[i]);                                                     \
            d[i] = CONV(v);                                                                   \
        }                                                                                     \
    }                                                                                         \
    break;
#define ICONV_F32(v) (p->half ? round_half((float)(v)) : (float)(v))
#define ICONV_I64(v) (v)
#define ICONV_I32(v) ((int32_t)(uint32_t)(uint64_t)(v))
#define ICONV_U8(v) ((uint8_t)(uint64_t)(v))
#define ICONV_I8(v) ((int8_t)(uint8_t)(uint64_t)(v))
#define ICONV_B(v) ((uint8_t)((v) != 0))
#define CAST_FROM_INT(FN, TS)                                                                 \
    static void FN(const void *s_, void *d_, int64_t n, const uprm *p)                       \
    {                                                                                         \
        const TS *s = s_;                                                                     \
        switch (p->dst) {                                                                     \
        case DT_F32: CAST_I_TO(float, ICONV_F32)                                              \
        case DT_I64: CAST_I_TO(int64_t, ICONV_I64)                                            \
        case DT_I32: CAST_I_TO(int32_t, ICONV_I32)                                            \
        case DT_U8: CAST_I_TO(uint8_t, ICONV_U8)                                              \
        case DT_I8: CAST_I_TO(int8_t, ICONV_I8)                                               \
        case DT_BOOL: CAST_I_TO(uint8_t, ICONV_B)                                             \
        default: break;                                                                       \
        }                                                                                     \
    }
#define SRCV(x) ((int64_t)(x))
CAST_FROM_INT(cast_from_i64, int64_t)
CAST_FROM_INT(cast_from_i32, int32_t)
CAST_FROM_INT(cast_from_u8, uint8_t)
CAST_FROM_INT(cast_from_i8, int8_t)
#undef SRCV
#define SRCV(x) ((int64_t)((x) != 0))
CAST_FROM_INT(cast_from_bool, uint8_t)
#undef SRCV

static void cast_row(const void *s, void *d, int64_t n, const uprm *p)
{
    switch (p->src) {
    case DT_F32: cast_from_f32(s, d, n, p); break;
    case DT_I64: cast_from_i64(s, d, n, p); break;
    case DT_I32: cast_from_i32(s, d, n, p); break;
    case DT_U8: cast_from_u8(s, d, n, p); break;
    case DT_I8: cast_from_i8(s, d, n, p); break;
    case DT_BOOL: cast_from_bool(s, d, n, p); break;
    default: break;
    }
}

/* Which dtypes each unary op accepts. */
static unsigned unary_mask(dt_op op)
{
    switch (op) {
    case DT_OP_Relu: case DT_OP_Abs: case DT_OP_Neg: case DT_OP_Sign: case DT_OP_Clip:
        return M_NUM;
    case DT_OP_Not:
        return M_BOOL;
    case DT_OP_Identity: case DT_OP_Cast:
        return M_ANY;
    case DT_OP_Dropout:
        return M_ANY;
    default:
        return M_F32;
    }
}

static un_fn unary_fn(dt_op op, dt_dtype t)
{
#define PICK_FI(nm) (t == DT_F32 ? nm##_f32 : t == DT_I32 ? nm##_i32 : t == DT_I64 ? nm##_i64 : NULL)
    switch (op) {
    case DT_OP_Relu: return PICK_FI(relu);
    case DT_OP_Abs: return PICK_FI(abs);
    case DT_OP_Neg: return PICK_FI(neg);
    case DT_OP_Sign: return PICK_FI(sign);
    case DT_OP_Clip: return PICK_FI(clip);
    case DT_OP_Not: return t == DT_BOOL ? not_b : NULL;
    case DT_OP_Cast: return cast_row;
    default: break;
    }
#undef PICK_FI
    if (t != DT_F32)
        return NULL;
    switch (op) {
    case DT_OP_LeakyRelu: return leaky_f32;
    case DT_OP_Sigmoid: return sigmoid_f32;
    case DT_OP_HardSigmoid: return hsigmoid_f32;
    case DT_OP_HardSwish: return hswish_f32;
    case DT_OP_Tanh: return tanh_f32;
    case DT_OP_Sqrt: return sqrt_f32;
    case DT_OP_Exp: return exp_f32;
    case DT_OP_Log: return log_f32;
    case DT_OP_Reciprocal: return recip_f32;
    case DT_OP_Floor: return floor_f32;
    case DT_OP_Ceil: return ceil_f32;
    case DT_OP_Round: return round_f32;
    case DT_OP_Erf: return erf_f32;
    case DT_OP_Softplus: return softplus_f32;
    case DT_OP_Elu: return elu_f32;
    case DT_OP_Selu: return selu_f32;
    case DT_OP_Mish: return mish_f32;
    default: return NULL;
    }
}

typedef struct ujob {
    const char *src;
    char *dst;
    size_t esi, eso;
    un_fn fn;
    const uprm *p;
} ujob;

static void ujob_range(void *arg, int64_t b, int64_t e)
{
    const ujob *j = arg;
    j->fn(j->src + (size_t)b * j->esi, j->dst + (size_t)b * j->eso, e - b, j->p);
}

static void run_unary(const dt_kctx *ctx, const dt_tensor *x, dt_tensor *y, un_fn fn, const uprm *p)
{
    int64_t total = dt_tensor_numel(y);
    if (total <= 0)
        return;
    ujob j = {x->data, y->data, dt_dtype_size(x->dtype), dt_dtype_size(y->dtype), fn, p};
    dt_pool_for(ctx ? ctx->pool : NULL, total, GRAIN, ujob_range, &j);
}

static void copy_tensor(const dt_tensor *x, dt_tensor *y)
{
    size_t nb = dt_tensor_nbytes(x);
    if (nb && x->data != y->data)
        memmove(y->data, x->data, nb);
}

/* ---- unary infer / kernels ---- */

static dt_code infer_unary(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = check_dtype(n, x, unary_mask(n->op), "input", st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), x->dtype, x->ndim, x->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_unary(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    const dt_tensor *x = in[0];
    if (n->op == DT_OP_Identity) {
        copy_tensor(x, out[0]);
        return DT_OK;
    }
    un_fn fn = unary_fn(n->op, x->dtype);
    if (!fn)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): dtype %s not supported", n->name, opn(n),
                       dt_dtype_name(x->dtype));
    uprm p;
    memset(&p, 0, sizeof p);
    switch (n->op) {
    case DT_OP_LeakyRelu: p.alpha = dt_attr_float(n, "alpha", 0.01f); break;
    case DT_OP_HardSigmoid:
        p.alpha = dt_attr_float(n, "alpha", 0.2f);
        p.beta = dt_attr_float(n, "beta", 0.5f);
        break;
    case DT_OP_Elu: p.alpha = dt_attr_float(n, "alpha", 1.0f); break;
    case DT_OP_Selu:
        p.alpha = dt_attr_float(n, "alpha", 1.67326319217681884765625f);
        p.gamma = dt_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    default: break;
    }
    run_unary(ctx, x, out[0], fn, &p);
    return DT_OK;
}

/* Clip: opset < 11 attributes min/max (float); 11+ optional scalar inputs. */
static dt_code infer_clip(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 3, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = check_dtype(n, x, M_NUM, "input", st)))
        return rc;
    for (int i = 1; i < 3; i++) {
        const dt_value *b = dt_node_in(g, n, i);
        if (!b)
            continue;
        if (b->dtype != x->dtype)
            return dt_fail(st, DT_EINVAL, "node '%s' (Clip): %s has dtype %s, input is %s", n->name,
                           i == 1 ? "min" : "max", dt_dtype_name(b->dtype), dt_dtype_name(x->dtype));
        if (b->ndim >= 0 && dt_shape_numel(b->ndim, b->dims) != 1 &&
            dt_shape_numel(b->ndim, b->dims) != -1)
            return dt_fail(st, DT_ESHAPE, "node '%s' (Clip): %s must be a scalar", n->name,
                           i == 1 ? "min" : "max");
    }
    dt_value_set(dt_node_out(g, n, 0), x->dtype, x->ndim, x->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_clip(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    (void)n_out;
    const dt_tensor *x = in[0];
    uprm p;
    memset(&p, 0, sizeof p);
    p.lo = -FLT_MAX;
    p.hi = FLT_MAX;
    p.ilo = x->dtype == DT_I32 ? INT32_MIN : INT64_MIN;
    p.ihi = x->dtype == DT_I32 ? INT32_MAX : INT64_MAX;
    if (n->opset < 11) {
        p.lo = dt_attr_float(n, "min", -FLT_MAX);
        p.hi = dt_attr_float(n, "max", FLT_MAX);
    }
    for (int i = 1; i < 3 && i < n_in; i++) {
        const dt_tensor *b = in[i];
        if (!b)
            continue;
        if (dt_tensor_numel(b) != 1 || b->dtype != x->dtype)
            return dt_fail(st, DT_ESHAPE, "node '%s' (Clip): min/max must be scalars of the input dtype", n->name);
        if (x->dtype == DT_F32)
            *(i == 1 ? &p.lo : &p.hi) = *(const float *)b->data;
        else
            *(i == 1 ? &p.ilo : &p.ihi) = dt_tensor_get_i(b, 0);
    }
    un_fn fn = unary_fn(DT_OP_Clip, x->dtype);
    if (!fn)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Clip): dtype %s not supported", n->name,
                       dt_dtype_name(x->dtype));
    run_unary(ctx, x, out[0], fn, &p);
    return DT_OK;
}

/* Dropout at inference: identity.  The optional mask (bool from opset 10,
 * the input's type before) is all true from opset 12 as the spec says; ORT
 * runs opsets 7..11 as an identity that zero-fills the mask, and models
 * exported at those opsets were checked against that, so we do the same. */
static dt_code infer_dropout(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 3, 1, 2, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = check_dtype(n, x, M_ANY, "input", st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), x->dtype, x->ndim, x->dims);
    if (n->n_out > 1)
        dt_value_set(dt_node_out(g, n, 1), n->opset >= 10 ? DT_BOOL : x->dtype, x->ndim, x->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_dropout(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                         const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)ctx;
    (void)st;
    copy_tensor(in[0], out[0]);
    if (n_out > 1 && out[1]) {
        dt_tensor *m = out[1];
        int64_t cnt = dt_tensor_numel(m);
        int keep = n->opset >= 12;
        for (int64_t i = 0; i < cnt; i++) {
            switch (m->dtype) {
            case DT_F32: ((float *)m->data)[i] = (float)keep; break;
            case DT_I64: ((int64_t *)m->data)[i] = keep; break;
            case DT_I32: ((int32_t *)m->data)[i] = keep; break;
            default: ((uint8_t *)m->data)[i] = (uint8_t)keep; break;
            }
        }
    }
    return DT_OK;
}

/* Cast: "to" in ONNX numbering.  float16 / float64 targets stay float32 in
 * memory (kernels only see float32); a cast to float16 rounds the values
 * through half precision so later results match a real fp16 cast. */
static dt_code cast_target(const dt_node *n, dt_dtype *to, int *half, dt_status *st)
{
    const dt_attr *a = dt_node_attr(n, "to");
    if (!a || a->type != DT_ATTR_INT)
        return dt_fail(st, DT_EINVAL, "node '%s' (Cast): missing attribute 'to'", n->name);
    dt_dtype t = dt_dtype_from_onnx((int)a->i);
    *half = t == DT_F16;
    if (t == DT_F16 || t == DT_F64)
        t = DT_F32;
    if (t == DT_UNDEF || !(M_ANY & M(t)))
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Cast): target type %lld not supported", n->name,
                       (long long)a->i);
    *to = t;
    return DT_OK;
}

static dt_code infer_cast(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = check_dtype(n, x, M_ANY, "input", st)))
        return rc;
    dt_dtype to;
    int half;
    if ((rc = cast_target(n, &to, &half, st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), to, x->ndim, x->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_cast(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    uprm p;
    memset(&p, 0, sizeof p);
    dt_dtype to;
    dt_code rc = cast_target(n, &to, &p.half, st);
    if (rc)
        return rc;
    if (!(M_ANY & M(in[0]->dtype)) || out[0]->dtype != to)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Cast): %s -> %s not supported", n->name,
                       dt_dtype_name(in[0]->dtype), dt_dtype_name(out[0]->dtype));
    p.src = in[0]->dtype;
    p.dst = to;
    if (p.src == p.dst && !p.half) {
        copy_tensor(in[0], out[0]);
        return DT_OK;
    }
    run_unary(ctx, in[0], out[0], cast_row, &p);
    return DT_OK;
}

/* ==== broadcast engine =================================================== */

/* A row: n outputs from up to 3 inputs, input k advancing by inc[k] (0 or 1)
 * elements per output. */
typedef void (*row_fn)(const void *const *s, const int *inc, void *d, int64_t n, const void *prm);

typedef struct bjob {
    int nin, nd;
    int64_t dims[DT_MAX_DIMS];
    int64_t str[3][DT_MAX_DIMS]; /* element strides per input (0 = broadcast) */
    const char *src[3];
    size_t es[3];
    char *dst;
    size_t eso;
    row_fn fn;
    const void *prm;
} bjob;

/* Plan a broadcast of ins[0..nin) (ranks <= out rank, dims already valid)
 * into out: drop size-1 output dims and merge neighbours whose strides are
 * contiguous for every input. */
static void bjob_init(bjob *j, const dt_tensor *out, int nin, const dt_tensor *ins, row_fn fn, const void *prm)
{
    int R = out->ndim;
    int64_t str[3][DT_MAX_DIMS];
    for (int k = 0; k < nin; k++) {
        const dt_tensor *t = &ins[k];
        int off = R - t->ndim;
        int64_t s = 1;
        for (int i = R - 1; i >= 0; i--) {
            int ti = i - off;
            if (ti < 0 || t->dims[ti] == 1) {
                str[k][i] = 0;
            } else {
                str[k][i] = s;
                s *= t->dims[ti];
            }
        }
        j->src[k] = t->data;
        j->es[k] = dt_dtype_size(t->dtype);
    }
    int nd = 0;
    for (int i = 0; i < R; i++) {
        int64_t d = out->dims[i];
        if (d == 1)
            continue;
        if (nd > 0) {
            int merge = 1;
            for (int k = 0; k < nin; k++)
                if (j->str[k][nd - 1] != str[k][i] * d)
                    merge = 0;
            if (merge) {
                j->dims[nd - 1] *= d;
                for (int k = 0; k < nin; k++)
                    j->str[k][nd - 1] = str[k][i];
                continue;
            }
        }
        j->dims[nd] = d;
        for (int k = 0; k < nin; k++)
            j->str[k][nd] = str[k][i];
        nd++;
    }
    if (nd == 0) {
        nd = 1;
        j->dims[0] = 1;
        for (int k = 0; k < nin; k++)
            j->str[k][0] = 0;
    }
    j->nd = nd;
    j->nin = nin;
    j->dst = out->data;
    j->eso = dt_dtype_size(out->dtype);
    j->fn = fn;
    j->prm = prm;
}

static void bjob_range(void *arg, int64_t b, int64_t e)
{
    const bjob *j = arg;
    const int nd = j->nd, nin = j->nin;
    const int64_t inner = j->dims[nd - 1];
    int64_t idx[DT_MAX_DIMS];
    int64_t off[3] = {0, 0, 0};
    int inc[3] = {0, 0, 0};
    int64_t r = b / inner, col = b % inner;
    for (int i = nd - 2; i >= 0; i--) {
        idx[i] = r % j->dims[i];
        r /= j->dims[i];
        for (int k = 0; k < nin; k++)
            off[k] += idx[i] * j->str[k][i];
    }
    for (int k = 0; k < nin; k++)
        inc[k] = j->str[k][nd - 1] != 0;
    int64_t pos = b;
    while (pos < e) {
        int64_t len = inner - col;
        if (len > e - pos)
            len = e - pos;
        const void *s[3] = {NULL, NULL, NULL};
        for (int k = 0; k < nin; k++)
            s[k] = j->src[k] + (size_t)(off[k] + col * inc[k]) * j->es[k];
        j->fn(s, inc, j->dst + (size_t)pos * j->eso, len, j->prm);
        pos += len;
        col = 0;
        for (int i = nd - 2; i >= 0; i--) {
            idx[i]++;
            for (int k = 0; k < nin; k++)
                off[k] += j->str[k][i];
            if (idx[i] < j->dims[i])
                break;
            for (int k = 0; k < nin; k++)
                off[k] -= j->str[k][i] * j->dims[i];
            idx[i] = 0;
        }
    }
}

static void run_bcast(const dt_kctx *ctx, dt_tensor *out, int nin, const dt_tensor *ins, row_fn fn, const void *prm)
{
    int64_t total = dt_tensor_numel(out);
    if (total <= 0)
        return;
    bjob j;
    bjob_init(&j, out, nin, ins, fn, prm);
    dt_pool_for(ctx ? ctx->pool : NULL, total, GRAIN, bjob_range, &j);
}

/* The row loops below are the hot part: have gcc vectorise them.  At -O2 it
 * uses the "very-cheap" cost model, which rejects every loop whose trip
 * count is unknown, i.e. all of these. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

/* ---- binary row functions ---- */

/* One loop per increment pattern so each is a plain vectorisable loop. */
#define BIN_ROW(name, TA, TB, TO, EXPR)                                                       \
    static void name(const void *const *s, const int *inc, void *d_, int64_t n, const void *prm) \
    {                                                                                         \
        const TA *a = s[0];                                                                   \
        const TB *b = s[1];                                                                   \
        TO *o = d_;                                                                           \
        (void)prm;                                                                            \
        if (inc[0] && inc[1]) {                                                               \
            for (int64_t i = 0; i < n; i++) {                                                 \
                const TA x = a[i];                                                            \
                const TB y = b[i];                                                            \
                o[i] = (EXPR);                                                                \
            }                                                                                 \
        } else if (inc[0]) {                                                                  \
            const TB y = b[0];                                                                \
            for (int64_t i = 0; i < n; i++) {                                                 \
                const TA x = a[i];                                                            \
                o[i] = (EXPR);                                                                \
            }                                                                                 \
        } else if (inc[1]) {                                                                  \
            const TA x = a[0];                                                                \
            for (int64_t i = 0; i < n; i++) {                                                 \
                const TB y = b[i];                                                            \
                o[i] = (EXPR);                                                                \
            }                                                                                 \
        } else {                                                                              \
            const TA x = a[0];                                                                \
            const TB y = b[0];                                                                \
            const TO v = (EXPR);                                                              \
            for (int64_t i = 0; i < n; i++)                                                   \
                o[i] = v;                                                                     \
        }                                                                                     \
    }

/* Wrapping integer helpers (signed overflow is UB in C; ORT wraps). */
#define INT_HELPERS(T, U, SFX)                                                                \
    static inline T sadd_##SFX(T x, T y) { return (T)((U)x + (U)y); }                          \
    static inline T ssub_##SFX(T x, T y) { return (T)((U)x - (U)y); }                          \
    static inline T smul_##SFX(T x, T y) { return (T)((U)x * (U)y); }                          \
    static inline T sdiv_##SFX(T x, T y)                                                       \
    {                                                                                         \
        if (y == 0)                                                                           \
            return 0;                                                                         \
        if (y == -1)                                                                          \
            return (T)(0 - (U)x);                                                             \
        return x / y;                                                                         \
    }                                                                                         \
    static inline T sfdiv_##SFX(T x, T y) /* floor division */                                 \
    {                                                                                         \
        if (y == 0)                                                                           \
            return 0;                                                                         \
        if (y == -1)                                                                          \
            return (T)(0 - (U)x);                                                             \
        T q = x / y;                                                                          \
        if ((x % y != 0) && ((x < 0) != (y < 0)))                                             \
            q--;                                                                              \
        return q;                                                                             \
    }                                                                                         \
    static inline T scmod_##SFX(T x, T y) /* C remainder: sign of dividend */                  \
    {                                                                                         \
        if (y == 0 || y == -1)                                                                \
            return 0;                                                                         \
        return x % y;                                                                         \
    }                                                                                         \
    static inline T spmod_##SFX(T x, T y) /* Python remainder: sign of divisor */              \
    {                                                                                         \
        if (y == 0 || y == -1)                                                                \
            return 0;                                                                         \
        T r = x % y;                                                                          \
        if (r != 0 && ((r < 0) != (y < 0)))                                                   \
            r += y;                                                                           \
        return r;                                                                             \
    }                                                                                         \
    static inline T sipow_##SFX(T x, double y)                                                 \
    {                                                                                         \
        return (T)f2i64(pow((double)x, y));                                                   \
    }
INT_HELPERS(int32_t, uint32_t, i32)
INT_HELPERS(int64_t, uint64_t, i64)

static inline float minf_(float x, float y) { return (x < y || isnan(x)) ? x : y; }
static inline float maxf_(float x, float y) { return (x > y || isnan(x)) ? x : y; }
static inline float pmodf_(float x, float y)
{
    float r = fmodf(x, y);
    if (r != 0.f && ((r < 0.f) != (y < 0.f)))
        r += y;
    return r;
}

#define BIN3(nm, EF, E32, E64)                                                                \
    BIN_ROW(nm##_f32, float, float, float, EF)                                                \
    BIN_ROW(nm##_i32, int32_t, int32_t, int32_t, E32)                                         \
    BIN_ROW(nm##_i64, int64_t, int64_t, int64_t, E64)

BIN3(add, x + y, sadd_i32(x, y), sadd_i64(x, y))
BIN3(sub, x - y, ssub_i32(x, y), ssub_i64(x, y))
BIN3(mul, x * y, smul_i32(x, y), smul_i64(x, y))
BIN3(div, x / y, sdiv_i32(x, y), sdiv_i64(x, y))
BIN3(min, minf_(x, y), x < y ? x : y, x < y ? x : y)
BIN3(max, maxf_(x, y), x > y ? x : y, x > y ? x : y)
BIN3(pmod, pmodf_(x, y), spmod_i32(x, y), spmod_i64(x, y))
BIN3(cmod, fmodf(x, y), scmod_i32(x, y), scmod_i64(x, y))
BIN3(fdiv, floorf(x / y), sfdiv_i32(x, y), sfdiv_i64(x, y))
BIN3(prelu, x < 0 ? x * y : x, x < 0 ? smul_i32(x, y) : x, x < 0 ? smul_i64(x, y) : x)

/* Pow: base decides the output type; exponent float or int. */
BIN_ROW(pow_f32_f32, float, float, float, powf(x, y))
BIN_ROW(pow_f32_i32, float, int32_t, float, (float)pow((double)x, (double)y))
BIN_ROW(pow_f32_i64, float, int64_t, float, (float)pow((double)x, (double)y))
BIN_ROW(pow_i32_f32, int32_t, float, int32_t, sipow_i32(x, (double)y))
BIN_ROW(pow_i32_i32, int32_t, int32_t, int32_t, sipow_i32(x, (double)y))
BIN_ROW(pow_i32_i64, int32_t, int64_t, int32_t, sipow_i32(x, (double)y))
BIN_ROW(pow_i64_f32, int64_t, float, int64_t, sipow_i64(x, (double)y))
BIN_ROW(pow_i64_i32, int64_t, int32_t, int64_t, sipow_i64(x, (double)y))
BIN_ROW(pow_i64_i64, int64_t, int64_t, int64_t, sipow_i64(x, (double)y))

#define CMP4(nm, OP)                                                                          \
    BIN_ROW(nm##_f32, float, float, uint8_t, (uint8_t)(x OP y))                               \
    BIN_ROW(nm##_i32, int32_t, int32_t, uint8_t, (uint8_t)(x OP y))                           \
    BIN_ROW(nm##_i64, int64_t, int64_t, uint8_t, (uint8_t)(x OP y))                           \
    BIN_ROW(nm##_b, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) OP (y != 0)))
CMP4(eq, ==)
CMP4(gt, >)
CMP4(lt, <)
CMP4(ge, >=)
CMP4(le, <=)

BIN_ROW(and_b, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) & (y != 0)))
BIN_ROW(or_b, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) | (y != 0)))
BIN_ROW(xor_b, uint8_t, uint8_t, uint8_t, (uint8_t)((x != 0) ^ (y != 0)))

/* Broadcast copy (first step of the variadic ops). */
#define COPY_ROW(name, T)                                                                     \
    static void name(const void *const *s, const int *inc, void *d_, int64_t n, const void *prm) \
    {                                                                                         \
        const T *a = s[0];                                                                    \
        T *o = d_;                                                                            \
        (void)prm;                                                                            \
        if (inc[0])                                                                           \
            memcpy(o, a, (size_t)n * sizeof(T));                                              \
        else                                                                                  \
            for (int64_t i = 0; i < n; i++)                                                   \
                o[i] = a[0];                                                                  \
    }
COPY_ROW(copy_1, uint8_t)
COPY_ROW(copy_4, uint32_t)
COPY_ROW(copy_8, uint64_t)

#define WHERE_ROW(name, T)                                                                    \
    static void name(const void *const *s, const int *inc, void *d_, int64_t n, const void *prm) \
    {                                                                                         \
        const uint8_t *c = s[0];                                                              \
        const T *x = s[1], *y = s[2];                                                         \
        T *o = d_;                                                                            \
        (void)prm;                                                                            \
        const int64_t ic = inc[0], ix = inc[1], iy = inc[2];                                  \
        if (ic && ix && iy)                                                                   \
            for (int64_t i = 0; i < n; i++)                                                   \
                o[i] = c[i] ? x[i] : y[i];                                                    \
        else                                                                                  \
            for (int64_t i = 0; i < n; i++)                                                   \
                o[i] = c[i * ic] ? x[i * ix] : y[i * iy];                                     \
    }
WHERE_ROW(where_1, uint8_t)
WHERE_ROW(where_4, uint32_t)
WHERE_ROW(where_8, uint64_t)

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

static row_fn binary_fn(dt_op op, dt_dtype t, dt_dtype t2, int fmod)
{
#define PICK3(nm) (t == DT_F32 ? nm##_f32 : t == DT_I32 ? nm##_i32 : t == DT_I64 ? nm##_i64 : NULL)
#define PICK4(nm) (t == DT_BOOL ? nm##_b : PICK3(nm))
    switch (op) {
    case DT_OP_Add: case DT_OP_Sum: case DT_OP_Mean: return PICK3(add);
    case DT_OP_Sub: return PICK3(sub);
    case DT_OP_Mul: return PICK3(mul);
    case DT_OP_Div: return PICK3(div);
    case DT_OP_Min: return PICK3(min);
    case DT_OP_Max: return PICK3(max);
    case DT_OP_Mod: return fmod ? PICK3(cmod) : PICK3(pmod);
    case DT_OP_FloorDiv: return PICK3(fdiv);
    case DT_OP_PRelu: return PICK3(prelu);
    case DT_OP_Equal: return PICK4(eq);
    case DT_OP_Greater: return PICK4(gt);
    case DT_OP_Less: return PICK4(lt);
    case DT_OP_GreaterOrEqual: return PICK4(ge);
    case DT_OP_LessOrEqual: return PICK4(le);
    case DT_OP_And: return t == DT_BOOL ? and_b : NULL;
    case DT_OP_Or: return t == DT_BOOL ? or_b : NULL;
    case DT_OP_Xor: return t == DT_BOOL ? xor_b : NULL;
    case DT_OP_Pow:
        if (t == DT_F32)
            return t2 == DT_F32 ? pow_f32_f32 : t2 == DT_I32 ? pow_f32_i32 : t2 == DT_I64 ? pow_f32_i64 : NULL;
        if (t == DT_I32)
            return t2 == DT_F32 ? pow_i32_f32 : t2 == DT_I32 ? pow_i32_i32 : t2 == DT_I64 ? pow_i32_i64 : NULL;
        if (t == DT_I64)
            return t2 == DT_F32 ? pow_i64_f32 : t2 == DT_I32 ? pow_i64_i32 : t2 == DT_I64 ? pow_i64_i64 : NULL;
        return NULL;
    default: return NULL;
    }
#undef PICK3
#undef PICK4
}

static int is_compare(dt_op op)
{
    return op == DT_OP_Equal || op == DT_OP_Greater || op == DT_OP_Less || op == DT_OP_GreaterOrEqual ||
           op == DT_OP_LessOrEqual;
}

static unsigned binary_mask(dt_op op)
{
    if (op == DT_OP_And || op == DT_OP_Or || op == DT_OP_Xor)
        return M_BOOL;
    if (is_compare(op))
        return M_NUM | M_BOOL;
    return M_NUM;
}

/* ---- binary / variadic infer ---- */

static dt_code infer_binary(dt_graph *g, dt_node *n, dt_status *st)
{
    int variadic = is_variadic(n->op);
    dt_code rc = check_arity(n, variadic ? 1 : 2, variadic ? 1 << 20 : 2, 1, 1, st);
    if (rc)
        return rc;
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] < 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): input %d is required", n->name, opn(n), i);
    const dt_value *a = dt_node_in(g, n, 0);
    if ((rc = check_dtype(n, a, binary_mask(n->op), "input 0", st)))
        return rc;
    int nd = a->ndim;
    int64_t dims[DT_MAX_DIMS];
    for (int i = 0; i < nd && i < DT_MAX_DIMS; i++)
        dims[i] = a->dims[i];
    for (int k = 1; k < n->n_in; k++) {
        const dt_value *b = dt_node_in(g, n, k);
        if (n->op == DT_OP_Pow) {
            if ((rc = check_dtype(n, b, M_NUM, "exponent", st)))
                return rc;
        } else if (b->dtype != a->dtype) {
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): input %d has dtype %s, input 0 is %s", n->name, opn(n),
                           k, dt_dtype_name(b->dtype), dt_dtype_name(a->dtype));
        }
        int64_t bd[DT_MAX_DIMS];
        int nb = legacy_b_dims(n, a->ndim, b->ndim, b->dims, bd);
        int64_t od[DT_MAX_DIMS];
        int no;
        if ((rc = bcast(n, nd, dims, nb, bd, &no, od, st)))
            return rc;
        nd = no;
        for (int i = 0; i < nd; i++)
            dims[i] = od[i];
    }
    if (n->op == DT_OP_PRelu && nd >= 0 && a->ndim >= 0) {
        /* the slope broadcasts to X, never the other way */
        int same = nd == a->ndim;
        for (int i = 0; same && i < nd; i++)
            if (dims[i] != a->dims[i] && a->dims[i] >= 0)
                same = 0;
        if (!same) {
            char sa[128];
            return dt_fail(st, DT_ESHAPE, "node '%s' (PRelu): slope does not broadcast to X %s", n->name,
                           dt_shape_str(a->ndim, a->dims, sa, sizeof sa));
        }
        for (int i = 0; i < nd; i++)
            dims[i] = a->dims[i];
    }
    dt_value_set(dt_node_out(g, n, 0), is_compare(n->op) ? DT_BOOL : a->dtype, nd, dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

/* Check at run time that an input broadcasts into the output (kernels get
 * whatever shapes the caller passes; never index out of bounds). */
static dt_code check_fits(const dt_node *n, const dt_tensor *t, const dt_tensor *out, dt_status *st)
{
    if (t->ndim > out->ndim)
        goto bad;
    for (int i = 0; i < t->ndim; i++) {
        int64_t d = t->dims[i], od = out->dims[out->ndim - t->ndim + i];
        if (d != od && d != 1)
            goto bad;
    }
    return DT_OK;
bad:;
    char s1[128], s2[128];
    return dt_fail(st, DT_ESHAPE, "node '%s' (%s): input %s does not broadcast to output %s", n->name, opn(n),
                   dt_shape_str(t->ndim, t->dims, s1, sizeof s1), dt_shape_str(out->ndim, out->dims, s2, sizeof s2));
}

static dt_code k_binary(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                        const dt_kctx *ctx, dt_status *st)
{
    (void)n_out;
    dt_tensor *y = out[0];
    dt_code rc;
    for (int k = 0; k < n_in; k++)
        if (!in[k])
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): input %d missing", n->name, opn(n), k);
    dt_dtype t = in[0]->dtype;
    /* int_floor (TF.js Div of unknown type at load): integers floor-divide */
    dt_op op = n->op == DT_OP_Div && t != DT_F32 && dt_attr_int(n, "int_floor", 0) ? DT_OP_FloorDiv : n->op;
    row_fn fn = binary_fn(op, t, n_in > 1 ? in[1]->dtype : t, (int)dt_attr_int(n, "fmod", 0));
    if (!fn)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): dtype %s not supported", n->name, opn(n),
                       dt_dtype_name(t));
    dt_tensor ins[2];
    ins[0] = *in[0];
    if ((rc = check_fits(n, &ins[0], y, st)))
        return rc;
    if (n_in == 2) {
        ins[1] = *in[1];
        ins[1].ndim = legacy_b_dims(n, in[0]->ndim, in[1]->ndim, in[1]->dims, ins[1].dims);
        if (n->op != DT_OP_Pow && ins[1].dtype != t)
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): mixed dtypes", n->name, opn(n));
        if ((rc = check_fits(n, &ins[1], y, st)))
            return rc;
        /* x^2 is common (variance, distances): a plain multiply */
        if (n->op == DT_OP_Pow && t == DT_F32 && ins[1].dtype == DT_F32 && dt_tensor_numel(&ins[1]) == 1 &&
            *(const float *)ins[1].data == 2.f && dt_tensor_numel(&ins[0]) == dt_tensor_numel(y))
            run_unary(ctx, &ins[0], y, sqr_f32, NULL);
        else
            run_bcast(ctx, y, 2, ins, fn, NULL);
    } else {
        /* Variadic: broadcast-copy input 0, then fold the others in place. */
        size_t es = dt_dtype_size(t);
        row_fn cp = es == 1 ? copy_1 : es == 4 ? copy_4 : copy_8;
        if (in[0]->data != y->data)
            run_bcast(ctx, y, 1, ins, cp, NULL);
        for (int k = 1; k < n_in; k++) {
            if (in[k]->dtype != t)
                return dt_fail(st, DT_EINVAL, "node '%s' (%s): mixed dtypes", n->name, opn(n));
            if ((rc = check_fits(n, in[k], y, st)))
                return rc;
            dt_tensor pair[2] = {*y, *in[k]};
            run_bcast(ctx, y, 2, pair, fn, NULL);
        }
    }
    if (n->op == DT_OP_Mean && n_in > 1) {
        int64_t cnt = dt_tensor_numel(y);
        if (t == DT_F32) {
            float *p = y->data, d = (float)n_in;
            for (int64_t i = 0; i < cnt; i++)
                p[i] /= d;
        } else if (t == DT_I32) {
            int32_t *p = y->data;
            for (int64_t i = 0; i < cnt; i++)
                p[i] = sdiv_i32(p[i], n_in);
        } else {
            int64_t *p = y->data;
            for (int64_t i = 0; i < cnt; i++)
                p[i] = sdiv_i64(p[i], n_in);
        }
    }
    return DT_OK;
}

/* ---- Where ---- */

static dt_code infer_where(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 3, 3, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *c = dt_node_in(g, n, 0), *x = dt_node_in(g, n, 1), *y = dt_node_in(g, n, 2);
    if ((rc = check_dtype(n, c, M_BOOL, "condition", st)) || (rc = check_dtype(n, x, M_ANY, "X", st)))
        return rc;
    if (y->dtype != x->dtype)
        return dt_fail(st, DT_EINVAL, "node '%s' (Where): X is %s but Y is %s", n->name, dt_dtype_name(x->dtype),
                       dt_dtype_name(y->dtype));
    int n1, n2;
    int64_t d1[DT_MAX_DIMS], d2[DT_MAX_DIMS];
    if ((rc = bcast(n, c->ndim, c->dims, x->ndim, x->dims, &n1, d1, st)) ||
        (rc = bcast(n, n1, d1, y->ndim, y->dims, &n2, d2, st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), x->dtype, n2, d2);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_where(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    dt_tensor ins[3];
    dt_code rc;
    for (int k = 0; k < 3; k++) {
        ins[k] = *in[k];
        if ((rc = check_fits(n, &ins[k], out[0], st)))
            return rc;
    }
    size_t es = dt_dtype_size(in[1]->dtype);
    if (in[0]->dtype != DT_BOOL || in[2]->dtype != in[1]->dtype || (es != 1 && es != 4 && es != 8))
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Where): unsupported dtypes", n->name);
    run_bcast(ctx, out[0], 3, ins, es == 1 ? where_1 : es == 4 ? where_4 : where_8, NULL);
    return DT_OK;
}

/* ==== table ============================================================== */

#define UNARY(op) {DT_OP_##op, infer_unary, k_unary},
#define BINARY(op) {DT_OP_##op, infer_binary, k_binary},

const dt_opdef dt_opdefs_eltwise[] = {
    UNARY(Relu) UNARY(LeakyRelu) UNARY(Sigmoid) UNARY(HardSigmoid) UNARY(HardSwish) UNARY(Tanh)
    UNARY(Sqrt) UNARY(Exp) UNARY(Log) UNARY(Abs) UNARY(Neg) UNARY(Reciprocal) UNARY(Floor)
    UNARY(Ceil) UNARY(Round) UNARY(Erf) UNARY(Softplus) UNARY(Elu) UNARY(Selu) UNARY(Mish)
    UNARY(Sign) UNARY(Not) UNARY(Identity)
    {DT_OP_Clip, infer_clip, k_clip},
    {DT_OP_Dropout, infer_dropout, k_dropout},
    {DT_OP_Cast, infer_cast, k_cast},
    BINARY(Add) BINARY(Sub) BINARY(Mul) BINARY(Div) BINARY(Pow) BINARY(Min) BINARY(Max)
    BINARY(Sum) BINARY(Mean) BINARY(Mod) BINARY(FloorDiv) BINARY(PRelu)
    BINARY(Equal) BINARY(Greater) BINARY(Less) BINARY(GreaterOrEqual) BINARY(LessOrEqual)
    BINARY(And) BINARY(Or) BINARY(Xor)
    {DT_OP_Where, infer_where, k_where},
    {DT_OP_UNKNOWN, NULL, NULL},
};
