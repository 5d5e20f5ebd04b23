/* cu_plan.c — graph -> CUDA steps (host side, no CUDA needed).
 *
 * Each node of a specialised, memory-planned graph becomes zero or more
 * steps whose operands are (region, byte offset) pairs: activations at the
 * CPU plan's offsets, constants in the weights pack, temporaries in the
 * scratch region.  Op parameters are resolved here exactly as the reference
 * kernels resolve them at run time (same attribute defaults, same clamping),
 * so the kernels only do index math.  A node the backend cannot run makes
 * the whole build decline with the reason. */
#include "engine/cuda/cu_plan.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cuda/cuda.h"
#include "engine/ops/op_util.h"
#include "engine/ops/resize_params.h"
#include "engine/passes/passes.h"

#define SAME_(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME_(DT_CU_F32, DT_F32) && SAME_(DT_CU_I64, DT_I64) && SAME_(DT_CU_I32, DT_I32) &&
                   SAME_(DT_CU_U8, DT_U8) && SAME_(DT_CU_I8, DT_I8) && SAME_(DT_CU_BOOL, DT_BOOL),
               "cu_kern.h dtype codes must match dt_dtype");
_Static_assert(SAME_(DT_CU_ACT_RELU, DT_ACT_RELU) && SAME_(DT_CU_ACT_CLIP, DT_ACT_CLIP) &&
                   SAME_(DT_CU_ACT_LEAKYRELU, DT_ACT_LEAKYRELU) && SAME_(DT_CU_ACT_SIGMOID, DT_ACT_SIGMOID) &&
                   SAME_(DT_CU_ACT_HARDSIGMOID, DT_ACT_HARDSIGMOID) &&
                   SAME_(DT_CU_ACT_HARDSWISH, DT_ACT_HARDSWISH) && SAME_(DT_CU_ACT_SILU, DT_ACT_SILU) &&
                   SAME_(DT_CU_ACT_TANH, DT_ACT_TANH) && SAME_(DT_CU_ACT_MISH, DT_ACT_MISH),
               "cu_kern.h activation codes must match dt_act");
#undef SAME_

static size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

/* ==== weights pack ========================================================= */

typedef struct wp_ent {
    const void *data;
    void *own;
    size_t size;
    uint64_t hash;
    int64_t off;
} wp_ent;

struct dt_cu_wpack {
    wp_ent *e;
    int n, cap;
    size_t total;
};

dt_code dt_cu_wpack_create(dt_cu_wpack **out, dt_status *st)
{
    *out = dt_calloc(1, sizeof **out);
    return *out ? DT_OK : dt_fail(st, DT_ENOMEM, "out of memory");
}

void dt_cu_wpack_free(dt_cu_wpack *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++)
        dt_free(w->e[i].own);
    dt_free(w->e);
    dt_free(w);
}

/* 64-bit multiply-xor over words: fast enough to hash every plan's weights. */
static uint64_t blob_hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

int64_t dt_cu_wpack_add(dt_cu_wpack *w, const void *data, size_t size, int copy, dt_status *st)
{
    for (int i = 0; i < w->n; i++)
        if (w->e[i].data == data && w->e[i].size == size)
            return w->e[i].off;
    uint64_t h = blob_hash(data, size);
    for (int i = 0; i < w->n; i++)
        if (w->e[i].size == size && w->e[i].hash == h && !memcmp(w->e[i].data, data, size))
            return w->e[i].off;
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        wp_ent *ne = dt_realloc(w->e, (size_t)cap * sizeof *ne);
        if (!ne) {
            dt_fail(st, DT_ENOMEM, "out of memory packing weights");
            return -1;
        }
        w->e = ne;
        w->cap = cap;
    }
    wp_ent *e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    if (copy) {
        e->own = dt_malloc(size ? size : 1);
        if (!e->own) {
            dt_fail(st, DT_ENOMEM, "out of memory packing weights");
            return -1;
        }
        if (size)
            memcpy(e->own, data, size);
        e->data = e->own;
    } else {
        e->data = data;
    }
    size_t off = align_up(w->total, DT_CU_ALIGN);
    if (off < w->total || off + size < off) {
        dt_free(e->own);
        dt_fail(st, DT_ELIMIT, "weights too large");
        return -1;
    }
    e->size = size;
    e->hash = h;
    e->off = (int64_t)off;
    w->total = off + size;
    w->n++;
    return e->off;
}

size_t dt_cu_wpack_bytes(const dt_cu_wpack *w) { return align_up(w->total, DT_CU_ALIGN); }
int dt_cu_wpack_count(const dt_cu_wpack *w) { return w->n; }

void dt_cu_wpack_write(const dt_cu_wpack *w, void *dst)
{
    memset(dst, 0, dt_cu_wpack_bytes(w));
    for (int i = 0; i < w->n; i++)
        if (w->e[i].size)
            memcpy((char *)dst + w->e[i].off, w->e[i].data, w->e[i].size);
}

/* ==== builder context ====================================================== */

typedef struct bctx {
    const dt_graph *g;
    dt_cu_plan *p;
    dt_cu_wpack *wp;
    const dt_cu_opts *o;
    const uint8_t *used; /* per value: read by a node or a graph output */
    char *why;
    size_t why_cap;
    dt_status *st;
} bctx;

/* Decline: the node is valid but not something this backend runs. */
static dt_code nope(bctx *c, const dt_node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static dt_code nope(bctx *c, const dt_node *n, const char *fmt, ...)
{
    char buf[DT_STATUS_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (c->why && c->why_cap)
        snprintf(c->why, c->why_cap, "node '%s' (%s): %s", n->name ? n->name : "?", dt_op_name(n->op), buf);
    return dt_fail(c->st, DT_EUNSUPPORTED, "CUDA backend: node '%s' (%s): %s", n->name ? n->name : "?",
                   dt_op_name(n->op), buf);
}

static dt_cu_step *add_step(bctx *c, const dt_node *n, int kind)
{
    dt_cu_plan *p = c->p;
    if (p->n_steps == p->cap_steps) {
        int cap = p->cap_steps ? 2 * p->cap_steps : 64;
        dt_cu_step *ns = dt_realloc(p->steps, (size_t)cap * sizeof *ns);
        if (!ns) {
            dt_fail(c->st, DT_ENOMEM, "out of memory");
            return NULL;
        }
        p->steps = ns;
        p->cap_steps = cap;
    }
    dt_cu_step *s = &p->steps[p->n_steps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->node = (int)(n - c->g->nodes);
    return s;
}
#define ADD_STEP(var, kind)                                                                         \
    dt_cu_step *var = add_step(c, n, kind);                                                        \
    if (!var)                                                                                      \
        return DT_ENOMEM

static const dt_value *in_v(bctx *c, const dt_node *n, int i) { return dt_node_in(c->g, n, i); }
static const dt_value *out_v(bctx *c, const dt_node *n, int i) { return dt_node_out(c->g, n, i); }

static int64_t vnumel(const dt_value *v) { return dt_shape_numel(v->ndim < 0 ? 0 : v->ndim, v->dims); }
static size_t vbytes(const dt_value *v) { return (size_t)vnumel(v) * dt_dtype_size(v->dtype); }

static void row_strides(int nd, const int64_t *dims, int64_t *str)
{
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        str[i] = s;
        s *= dims[i];
    }
}

static int64_t prod(const int64_t *d, int lo, int hi)
{
    int64_t p = 1;
    for (int i = lo; i < hi; i++)
        p *= d[i];
    return p;
}

/* Operand for value vid: constant -> weights pack, else its arena offset. */
static dt_code vref(bctx *c, int vid, dt_cu_ref *r)
{
    r->space = DT_CU_SP_NONE;
    r->off = 0;
    if (vid < 0)
        return DT_OK;
    const dt_value *v = &c->g->values[vid];
    if (v->buf) {
        size_t nb = vbytes(v);
        if (nb > v->buf->size)
            return dt_fail(c->st, DT_EINTERNAL, "constant '%s' is smaller than its shape", v->name);
        int64_t off = dt_cu_wpack_add(c->wp, v->buf->data, nb, 0, c->st);
        if (off < 0)
            return c->st ? c->st->code : DT_ENOMEM;
        r->space = DT_CU_SP_W;
        r->off = off;
    } else if (v->offset >= 0) {
        r->space = DT_CU_SP_ACT;
        r->off = v->offset;
    }
    return DT_OK;
}

/* Operand for a blob derived at load (copied into the pack). */
static dt_code blobref(bctx *c, const void *data, size_t size, dt_cu_ref *r)
{
    int64_t off = dt_cu_wpack_add(c->wp, data, size, 1, c->st);
    if (off < 0)
        return c->st ? c->st->code : DT_ENOMEM;
    r->space = DT_CU_SP_W;
    r->off = off;
    return DT_OK;
}

#define TRY(x)                                                                                      \
    do {                                                                                           \
        dt_code rc_ = (x);                                                                         \
        if (rc_ != DT_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

static int is_num(dt_dtype t) { return t == DT_F32 || t == DT_I32 || t == DT_I64; }
static int is_int(dt_dtype t) { return t == DT_I32 || t == DT_I64; }
static int is_any(dt_dtype t)
{
    return t == DT_F32 || t == DT_I64 || t == DT_I32 || t == DT_U8 || t == DT_I8 || t == DT_BOOL;
}

/* Constant integer vector of input i (NULL / absent allowed). */
static dt_code const_ints(bctx *c, const dt_node *n, int i, const char *what, int64_t *out, int cap, int *cnt,
                          int *present)
{
    const dt_value *v = in_v(c, n, i);
    *cnt = 0;
    if (present)
        *present = 0;
    if (!v)
        return DT_OK;
    if (!v->buf)
        return nope(c, n, "input '%s' is not a constant", what);
    dt_tensor t = dt_value_view(v);
    if (!is_int(t.dtype) && t.dtype != DT_U8 && t.dtype != DT_I8)
        return nope(c, n, "input '%s' is not an integer tensor", what);
    int64_t k = dt_tensor_numel(&t);
    if (k < 0 || k > cap)
        return nope(c, n, "input '%s' has %lld values", what, (long long)k);
    for (int64_t j = 0; j < k; j++)
        out[j] = dt_tensor_get_i(&t, j);
    *cnt = (int)k;
    if (present)
        *present = 1;
    return DT_OK;
}

/* ==== generic step makers ================================================== */

static dt_code mk_memcpy(bctx *c, const dt_node *n, int in_vid, int out_vid)
{
    const dt_value *y = &c->g->values[out_vid];
    size_t nb = vbytes(y);
    if (nb == 0 || y->offset < 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_MEMCPY);
    TRY(vref(c, in_vid, &s->op[0]));
    TRY(vref(c, out_vid, &s->op[1]));
    s->bytes = (int64_t)nb;
    return DT_OK;
}

/* Strided copy: drop unit dims, merge dims contiguous in both source and
 * destination (as tensor.c's sc_init does for the source). */
static dt_code mk_copy(bctx *c, const dt_node *n, int nd, const int64_t *dims, const int64_t *sstr,
                       const int64_t *dstr, int es, dt_cu_ref src, dt_cu_ref dst)
{
    int64_t total = 1;
    for (int i = 0; i < nd; i++)
        total *= dims[i];
    if (total <= 0 || src.space == DT_CU_SP_NONE || dst.space == DT_CU_SP_NONE)
        return DT_OK;
    if (nd > DT_CU_COPY_MAXD)
        return nope(c, n, "copy of rank %d", nd);
    ADD_STEP(s, DT_CU_COPY);
    dt_cu_copy *p = &s->u.c;
    int k = 0;
    for (int i = 0; i < nd; i++) {
        if (dims[i] == 1)
            continue;
        if (k > 0 && p->sstr[k - 1] == sstr[i] * dims[i] && p->dstr[k - 1] == dstr[i] * dims[i]) {
            p->dims[k - 1] *= dims[i];
            p->sstr[k - 1] = sstr[i];
            p->dstr[k - 1] = dstr[i];
            continue;
        }
        p->dims[k] = dims[i];
        p->sstr[k] = sstr[i];
        p->dstr[k] = dstr[i];
        k++;
    }
    if (k == 0) {
        p->dims[0] = 1;
        p->sstr[0] = p->dstr[0] = 1;
        k = 1;
    }
    p->nd = k;
    p->es = es;
    p->n = total;
    s->op[0] = src;
    s->op[1] = dst;
    return DT_OK;
}

/* Copy of a whole tensor viewed through source strides into a contiguous
 * destination value. */
static dt_code mk_gather_copy(bctx *c, const dt_node *n, int nd, const int64_t *dims, const int64_t *sstr,
                              dt_cu_ref src, int out_vid)
{
    const dt_value *y = &c->g->values[out_vid];
    int64_t dstr[DT_CU_COPY_MAXD];
    row_strides(nd, dims, dstr);
    dt_cu_ref dst;
    TRY(vref(c, out_vid, &dst));
    return mk_copy(c, n, nd, dims, sstr, dstr, (int)dt_dtype_size(y->dtype), src, dst);
}

/* Broadcast plan (eltwise.c's bjob_init). */
static void bcast_init(dt_cu_bcast *b, int R, const int64_t *odims, int nin, const int *nds,
                       const int64_t *const *dims)
{
    int64_t str[3][DT_MAX_DIMS];
    memset(b, 0, sizeof *b);
    for (int k = 0; k < nin; k++) {
        int off = R - nds[k];
        int64_t s = 1;
        for (int i = R - 1; i >= 0; i--) {
            int ti = i - off;
            if (ti < 0 || dims[k][ti] == 1) {
                str[k][i] = 0;
            } else {
                str[k][i] = s;
                s *= dims[k][ti];
            }
        }
    }
    int nd = 0;
    for (int i = 0; i < R; i++) {
        int64_t d = odims[i];
        if (d == 1)
            continue;
        if (nd > 0) {
            int merge = 1;
            for (int k = 0; k < nin; k++)
                if (b->str[k][nd - 1] != str[k][i] * d)
                    merge = 0;
            if (merge) {
                b->dims[nd - 1] *= d;
                for (int k = 0; k < nin; k++)
                    b->str[k][nd - 1] = str[k][i];
                continue;
            }
        }
        b->dims[nd] = d;
        for (int k = 0; k < nin; k++)
            b->str[k][nd] = str[k][i];
        nd++;
    }
    if (nd == 0) {
        nd = 1;
        b->dims[0] = 1;
    }
    b->nd = nd;
    b->nin = nin;
    b->n = dt_shape_numel(R, odims);
}

static dt_code mk_act(bctx *c, const dt_node *n, int vid, dt_act_params act)
{
    const dt_value *y = &c->g->values[vid];
    if (act.kind == DT_ACT_NONE || vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_UNARY);
    TRY(vref(c, vid, &s->op[0]));
    s->op[1] = s->op[0];
    s->u.u.op = DT_CU_U_ACT;
    s->u.u.src = s->u.u.dst = DT_F32;
    s->u.u.act = act.kind;
    s->u.u.alpha = act.alpha;
    s->u.u.beta = act.beta;
    s->u.u.n = vnumel(y);
    return DT_OK;
}

/* ==== elementwise ========================================================== */

static int unary_uop(dt_op op)
{
    switch (op) {
    case DT_OP_Relu: return DT_CU_U_RELU;
    case DT_OP_LeakyRelu: return DT_CU_U_LEAKY;
    case DT_OP_Sigmoid: return DT_CU_U_SIGMOID;
    case DT_OP_HardSigmoid: return DT_CU_U_HSIGMOID;
    case DT_OP_HardSwish: return DT_CU_U_HSWISH;
    case DT_OP_Tanh: return DT_CU_U_TANH;
    case DT_OP_Sqrt: return DT_CU_U_SQRT;
    case DT_OP_Exp: return DT_CU_U_EXP;
    case DT_OP_Log: return DT_CU_U_LOG;
    case DT_OP_Abs: return DT_CU_U_ABS;
    case DT_OP_Neg: return DT_CU_U_NEG;
    case DT_OP_Reciprocal: return DT_CU_U_RECIP;
    case DT_OP_Floor: return DT_CU_U_FLOOR;
    case DT_OP_Ceil: return DT_CU_U_CEIL;
    case DT_OP_Round: return DT_CU_U_ROUND;
    case DT_OP_Erf: return DT_CU_U_ERF;
    case DT_OP_Softplus: return DT_CU_U_SOFTPLUS;
    case DT_OP_Elu: return DT_CU_U_ELU;
    case DT_OP_Selu: return DT_CU_U_SELU;
    case DT_OP_Mish: return DT_CU_U_MISH;
    case DT_OP_Sign: return DT_CU_U_SIGN;
    case DT_OP_Not: return DT_CU_U_NOT;
    case DT_OP_Clip: return DT_CU_U_CLIP;
    default: return -1;
    }
}

static dt_code b_unary(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    int uop = unary_uop(n->op);
    if (!x || !y || uop < 0)
        return nope(c, n, "not an elementwise op this backend knows");
    int ok;
    switch (n->op) {
    case DT_OP_Relu: case DT_OP_Abs: case DT_OP_Neg: case DT_OP_Sign: case DT_OP_Clip: ok = is_num(x->dtype); break;
    case DT_OP_Not: ok = x->dtype == DT_BOOL; break;
    default: ok = x->dtype == DT_F32; break;
    }
    if (!ok)
        return nope(c, n, "dtype %s", dt_dtype_name(x->dtype));
    if (vnumel(y) <= 0)
        return DT_OK;
    dt_cu_unary u;
    memset(&u, 0, sizeof u);
    u.op = uop;
    u.src = u.dst = x->dtype;
    u.n = vnumel(y);
    switch (n->op) {
    case DT_OP_LeakyRelu: u.alpha = dt_attr_float(n, "alpha", 0.01f); break;
    case DT_OP_HardSigmoid:
        u.alpha = dt_attr_float(n, "alpha", 0.2f);
        u.beta = dt_attr_float(n, "beta", 0.5f);
        break;
    case DT_OP_Elu: u.alpha = dt_attr_float(n, "alpha", 1.0f); break;
    case DT_OP_Selu:
        u.alpha = dt_attr_float(n, "alpha", 1.67326319217681884765625f);
        u.gamma = dt_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case DT_OP_Clip:
        u.lo = -FLT_MAX;
        u.hi = FLT_MAX;
        u.ilo = x->dtype == DT_I32 ? INT32_MIN : INT64_MIN;
        u.ihi = x->dtype == DT_I32 ? INT32_MAX : INT64_MAX;
        if (n->opset < 11) {
            u.lo = dt_attr_float(n, "min", -FLT_MAX);
            u.hi = dt_attr_float(n, "max", FLT_MAX);
        }
        for (int i = 1; i < 3 && i < n->n_in; i++) {
            const dt_value *b = in_v(c, n, i);
            if (!b)
                continue;
            if (!b->buf)
                return nope(c, n, "%s is not a constant", i == 1 ? "min" : "max");
            dt_tensor t = dt_value_view(b);
            if (dt_tensor_numel(&t) != 1 || t.dtype != x->dtype)
                return nope(c, n, "min/max must be scalars of the input dtype");
            if (x->dtype == DT_F32)
                *(i == 1 ? &u.lo : &u.hi) = *(const float *)t.data;
            else
                *(i == 1 ? &u.ilo : &u.ihi) = dt_tensor_get_i(&t, 0);
        }
        break;
    default: break;
    }
    ADD_STEP(s, DT_CU_UNARY);
    s->u.u = u;
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

static dt_code b_cast(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    const dt_attr *a = dt_node_attr(n, "to");
    if (!x || !y || !a || a->type != DT_ATTR_INT)
        return nope(c, n, "malformed Cast");
    dt_dtype to = dt_dtype_from_onnx((int)a->i);
    if (to == DT_F16)
        return nope(c, n, "casts to float16 (rounding through half precision) are not implemented");
    if (to == DT_F64)
        to = DT_F32;
    if (!is_any(x->dtype) || !is_any(to) || y->dtype != to)
        return nope(c, n, "cast %s -> %s", dt_dtype_name(x->dtype), dt_dtype_name(to));
    if (x->dtype == to)
        return mk_memcpy(c, n, n->in[0], n->out[0]);
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_UNARY);
    s->u.u.op = DT_CU_U_CAST;
    s->u.u.src = x->dtype;
    s->u.u.dst = to;
    s->u.u.n = vnumel(y);
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

static dt_code b_dropout(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0);
    if (!x || !is_any(x->dtype))
        return nope(c, n, "dtype");
    TRY(mk_memcpy(c, n, n->in[0], n->out[0]));
    const dt_value *m = out_v(c, n, 1);
    if (!m || m->offset < 0 || !c->used[n->out[1]] || vnumel(m) <= 0)
        return DT_OK;
    if (!is_any(m->dtype))
        return nope(c, n, "mask dtype %s", dt_dtype_name(m->dtype));
    ADD_STEP(s, DT_CU_UNARY);
    int keep = n->opset >= 12;
    s->u.u.op = DT_CU_U_FILL;
    s->u.u.src = s->u.u.dst = m->dtype;
    s->u.u.fill = keep;
    s->u.u.ilo = keep;
    s->u.u.n = vnumel(m);
    TRY(vref(c, n->out[1], &s->op[1]));
    return DT_OK;
}

static int binary_bop(const dt_node *n)
{
    switch (n->op) {
    case DT_OP_Add: case DT_OP_Sum: case DT_OP_Mean: return DT_CU_B_ADD;
    case DT_OP_Sub: return DT_CU_B_SUB;
    case DT_OP_Mul: return DT_CU_B_MUL;
    case DT_OP_Div: return DT_CU_B_DIV;
    case DT_OP_Min: return DT_CU_B_MIN;
    case DT_OP_Max: return DT_CU_B_MAX;
    case DT_OP_Mod: return dt_attr_int(n, "fmod", 0) ? DT_CU_B_CMOD : DT_CU_B_PMOD;
    case DT_OP_FloorDiv: return DT_CU_B_FDIV;
    case DT_OP_PRelu: return DT_CU_B_PRELU;
    case DT_OP_Pow: return DT_CU_B_POW;
    case DT_OP_Equal: return DT_CU_B_EQ;
    case DT_OP_Greater: return DT_CU_B_GT;
    case DT_OP_Less: return DT_CU_B_LT;
    case DT_OP_GreaterOrEqual: return DT_CU_B_GE;
    case DT_OP_LessOrEqual: return DT_CU_B_LE;
    case DT_OP_And: return DT_CU_B_AND;
    case DT_OP_Or: return DT_CU_B_OR;
    case DT_OP_Xor: return DT_CU_B_XOR;
    default: return -1;
    }
}

/* Opset < 7 binary ops with broadcast=1 and axis (eltwise.c legacy_b_dims). */
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

/* One broadcast binary step: a (ra dims) op b (rb dims) -> y. */
static dt_code mk_binary(bctx *c, const dt_node *n, int bop, int va, int ra, const int64_t *da, int vb, int rb,
                         const int64_t *db, int vy)
{
    const dt_value *y = &c->g->values[vy];
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_BINARY);
    dt_cu_binary *p = &s->u.b;
    p->op = bop;
    p->ta = c->g->values[va].dtype;
    p->tb = c->g->values[vb].dtype;
    p->to = y->dtype;
    int nds[2] = {ra, rb};
    const int64_t *dims[2] = {da, db};
    bcast_init(&p->bc, y->ndim, y->dims, 2, nds, dims);
    TRY(vref(c, va, &s->op[0]));
    TRY(vref(c, vb, &s->op[1]));
    TRY(vref(c, vy, &s->op[2]));
    return DT_OK;
}

static dt_code mk_variadic(bctx *c, const dt_node *n, int bop);

static dt_code b_binary(bctx *c, const dt_node *n)
{
    int bop = binary_bop(n);
    const dt_value *a = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (bop < 0 || !a || !y)
        return nope(c, n, "not a binary op this backend knows");
    for (int k = 0; k < n->n_in; k++)
        if (!in_v(c, n, k))
            return nope(c, n, "input %d missing", k);
    dt_dtype t = a->dtype;
    int ok;
    if (bop == DT_CU_B_AND || bop == DT_CU_B_OR || bop == DT_CU_B_XOR)
        ok = t == DT_BOOL;
    else if (dt_cu_is_cmp(bop))
        ok = is_num(t) || t == DT_BOOL;
    else
        ok = is_num(t);
    if (bop == DT_CU_B_POW && n->n_in == 2)
        ok = ok && is_num(in_v(c, n, 1)->dtype);
    else
        for (int k = 1; k < n->n_in; k++)
            if (in_v(c, n, k)->dtype != t)
                ok = 0;
    if (!ok)
        return nope(c, n, "dtype %s", dt_dtype_name(t));
    if (vnumel(y) <= 0)
        return DT_OK;
    if (n->n_in == 2) {
        const dt_value *b = in_v(c, n, 1);
        /* x^2 as a multiply, as the reference kernel does */
        if (bop == DT_CU_B_POW && t == DT_F32 && b->dtype == DT_F32 && b->buf && vnumel(b) == 1 &&
            *(const float *)b->buf->data == 2.f && vnumel(a) == vnumel(y)) {
            ADD_STEP(s, DT_CU_UNARY);
            s->u.u.op = DT_CU_U_SQR;
            s->u.u.src = s->u.u.dst = DT_F32;
            s->u.u.n = vnumel(y);
            TRY(vref(c, n->in[0], &s->op[0]));
            TRY(vref(c, n->out[0], &s->op[1]));
            return DT_OK;
        }
        int64_t bd[DT_MAX_DIMS];
        int rb = legacy_b_dims(n, a->ndim, b->ndim, b->dims, bd);
        TRY(mk_binary(c, n, bop, n->in[0], a->ndim, a->dims, n->in[1], rb, bd, n->out[0]));
    } else {
        TRY(mk_variadic(c, n, bop));
    }
    if (n->op == DT_OP_Mean && n->n_in > 1) {
        ADD_STEP(s, DT_CU_UNARY);
        s->u.u.op = DT_CU_U_DIVN;
        s->u.u.src = s->u.u.dst = t;
        s->u.u.ilo = n->n_in;
        s->u.u.n = vnumel(y);
        TRY(vref(c, n->out[0], &s->op[0]));
        s->op[1] = s->op[0];
    }
    return DT_OK;
}

/* Variadic Sum / Mean / Min / Max: broadcast-copy input 0, fold the others
 * in place. */
static dt_code mk_variadic(bctx *c, const dt_node *n, int bop)
{
    const dt_value *a = in_v(c, n, 0), *y = out_v(c, n, 0);
    int64_t sstr[DT_MAX_DIMS], xs[DT_MAX_DIMS];
    row_strides(a->ndim, a->dims, xs);
    int off = y->ndim - a->ndim;
    for (int i = 0; i < y->ndim; i++) {
        int xi = i - off;
        sstr[i] = (xi < 0 || a->dims[xi] == 1) ? 0 : xs[xi];
    }
    dt_cu_ref src;
    TRY(vref(c, n->in[0], &src));
    TRY(mk_gather_copy(c, n, y->ndim, y->dims, sstr, src, n->out[0]));
    for (int k = 1; k < n->n_in; k++) {
        const dt_value *b = in_v(c, n, k);
        TRY(mk_binary(c, n, bop, n->out[0], y->ndim, y->dims, n->in[k], b->ndim, b->dims, n->out[0]));
    }
    return DT_OK;
}

static dt_code b_where(bctx *c, const dt_node *n)
{
    const dt_value *cv = in_v(c, n, 0), *x = in_v(c, n, 1), *yv = in_v(c, n, 2), *o = out_v(c, n, 0);
    if (!cv || !x || !yv || !o || cv->dtype != DT_BOOL || x->dtype != yv->dtype)
        return nope(c, n, "malformed Where");
    size_t es = dt_dtype_size(x->dtype);
    if (es != 1 && es != 4 && es != 8)
        return nope(c, n, "dtype %s", dt_dtype_name(x->dtype));
    if (vnumel(o) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_WHERE);
    s->u.w.es = (int)es;
    int nds[3] = {cv->ndim, x->ndim, yv->ndim};
    const int64_t *dims[3] = {cv->dims, x->dims, yv->dims};
    bcast_init(&s->u.w.bc, o->ndim, o->dims, 3, nds, dims);
    for (int k = 0; k < 3; k++)
        TRY(vref(c, n->in[k], &s->op[k]));
    TRY(vref(c, n->out[0], &s->op[3]));
    return DT_OK;
}

static dt_code layout_of(bctx *c, const dt_node *n, int *nhwc)
{
    const char *s = dt_attr_str(n, "layout", "NCHW");
    if (!strcmp(s, "NCHW") || !s[0])
        *nhwc = 0;
    else if (!strcmp(s, "NHWC"))
        *nhwc = 1;
    else
        return nope(c, n, "layout '%s'", s);
    return DT_OK;
}

static dt_code b_batchnorm(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || x->dtype != DT_F32 || x->ndim < 2)
        return nope(c, n, "input must be float32 of rank >= 2");
    if (dt_attr_int(n, "training_mode", 0))
        return nope(c, n, "training mode");
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0 && c->used[n->out[i]])
            return nope(c, n, "training outputs");
    int nhwc;
    TRY(layout_of(c, n, &nhwc));
    int64_t C = nhwc ? x->dims[x->ndim - 1] : x->dims[1];
    const float *p[4];
    for (int i = 0; i < 4; i++) {
        const dt_value *v = in_v(c, n, 1 + i);
        if (!v || !v->buf || v->dtype != DT_F32 || vnumel(v) != C)
            return nope(c, n, "scale/bias/mean/var must be float32 constants of %lld values", (long long)C);
        p[i] = v->buf->data;
    }
    if (vnumel(y) <= 0)
        return DT_OK;
    float *blob = dt_malloc((size_t)(3 * C > 0 ? 3 * C : 1) * sizeof(float));
    if (!blob)
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    float eps = dt_attr_float(n, "epsilon", 1e-5f);
    for (int64_t k = 0; k < C; k++) {
        blob[k] = p[0][k] / sqrtf(p[3][k] + eps);
        blob[C + k] = p[2][k];
        blob[2 * C + k] = p[1][k];
    }
    dt_cu_ref r;
    dt_code rc = blobref(c, blob, (size_t)(3 * C) * sizeof(float), &r);
    dt_free(blob);
    if (rc)
        return rc;
    ADD_STEP(s, DT_CU_CHAN);
    s->u.ch.n = vnumel(y);
    s->u.ch.C = C;
    s->u.ch.inner = nhwc ? 1 : prod(x->dims, 2, x->ndim);
    s->u.ch.bn = 1;
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    s->op[2] = r;
    return DT_OK;
}

/* ==== convolution and pools ================================================ */

typedef struct win {
    int nsp;
    int64_t k[3], s[3], d[3], pb[3], pe[3];
    int autopad; /* 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
} win;

static dt_code ints_attr(bctx *c, const dt_node *n, const char *name, int count, int64_t def, int64_t *out)
{
    int cnt = 0;
    const int64_t *v = dt_attr_ints(n, name, &cnt);
    if (!v) {
        for (int i = 0; i < count; i++)
            out[i] = def;
        return DT_OK;
    }
    if (cnt != count)
        return nope(c, n, "attribute '%s' has %d values", name, cnt);
    memcpy(out, v, (size_t)count * sizeof(int64_t));
    return DT_OK;
}

/* nn_win_attrs: strides, dilations, pads and auto_pad. */
static dt_code win_attrs(bctx *c, const dt_node *n, int nsp, const int64_t *k, win *w)
{
    int64_t pads[6];
    memset(w, 0, sizeof *w);
    w->nsp = nsp;
    TRY(ints_attr(c, n, "strides", nsp, 1, w->s));
    TRY(ints_attr(c, n, "dilations", nsp, 1, w->d));
    TRY(ints_attr(c, n, "pads", 2 * nsp, 0, pads));
    const char *ap = dt_attr_str(n, "auto_pad", "NOTSET");
    if (!strcmp(ap, "NOTSET") || !ap[0])
        w->autopad = 0;
    else if (!strcmp(ap, "SAME_UPPER"))
        w->autopad = 1;
    else if (!strcmp(ap, "SAME_LOWER"))
        w->autopad = 2;
    else if (!strcmp(ap, "VALID"))
        w->autopad = 3;
    else
        return nope(c, n, "auto_pad '%s'", ap);
    for (int i = 0; i < nsp; i++) {
        w->k[i] = k[i];
        w->pb[i] = pads[i];
        w->pe[i] = pads[nsp + i];
        if (w->s[i] < 1 || w->d[i] < 1 || w->pb[i] < 0 || w->pe[i] < 0 || k[i] < 1)
            return nope(c, n, "bad window attributes");
    }
    return DT_OK;
}

/* Resolve SAME_* / VALID pads for input size `in` (conv: SAME_UPPER puts the
 * smaller half first; pools the same, with (total + 1) / 2 for LOWER). */
static void win_resolve(win *w, int i, int64_t in)
{
    int64_t s = w->s[i], dk = w->d[i] * (w->k[i] - 1) + 1;
    if (w->autopad == 3) {
        w->pb[i] = w->pe[i] = 0;
    } else if (w->autopad == 1 || w->autopad == 2) {
        int64_t out = (in + s - 1) / s;
        int64_t total = (out - 1) * s + dk - in;
        if (total < 0)
            total = 0;
        w->pb[i] = w->autopad == 1 ? total / 2 : total - total / 2;
        w->pe[i] = total - w->pb[i];
    }
}

static int fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

static dt_code b_conv(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *w = in_v(c, n, 1), *b = in_v(c, n, 2), *y = out_v(c, n, 0);
    if (!x || !w || !y || x->dtype != DT_F32 || w->dtype != DT_F32)
        return nope(c, n, "needs float32 X and W");
    if (x->ndim != 3 && x->ndim != 4)
        return nope(c, n, "%d-D convolution (1-D and 2-D only)", x->ndim - 2);
    if (!w->buf || w->ndim != x->ndim)
        return nope(c, n, "weights are not a constant of the input's rank");
    if (b && (!b->buf || b->dtype != DT_F32 || vnumel(b) != w->dims[0]))
        return nope(c, n, "bias is not a float32 constant");
    int nhwc;
    TRY(layout_of(c, n, &nhwc));
    int nsp = x->ndim - 2;
    win wn;
    TRY(win_attrs(c, n, nsp, w->dims + 2, &wn));
    int64_t N = x->dims[0], C = nhwc ? x->dims[x->ndim - 1] : x->dims[1];
    int64_t sp[2], osp[2];
    for (int i = 0; i < nsp; i++) {
        sp[i] = x->dims[nhwc ? 1 + i : 2 + i];
        osp[i] = y->dims[nhwc ? 1 + i : 2 + i];
        win_resolve(&wn, i, sp[i]);
    }
    int64_t group = dt_attr_int(n, "group", 1);
    int64_t K = w->dims[0], Cg = w->dims[1];
    if (group < 1 || Cg * group != C || K % group)
        return nope(c, n, "channels do not match the groups");
    if (vnumel(y) <= 0)
        return DT_OK;
    /* to 2-D: a 1-D conv is H = 1 */
    int64_t H = nsp == 2 ? sp[0] : 1, W = sp[nsp - 1], P = nsp == 2 ? osp[0] : 1, Q = osp[nsp - 1];
    int64_t R = nsp == 2 ? w->dims[2] : 1, S = w->dims[x->ndim - 1];
    int64_t pbh = nsp == 2 ? wn.pb[0] : 0, peh = nsp == 2 ? wn.pe[0] : 0;
    int64_t pbw = wn.pb[nsp - 1], pew = wn.pe[nsp - 1];
    int64_t sh = nsp == 2 ? wn.s[0] : 1, sw = wn.s[nsp - 1], dh = nsp == 2 ? wn.d[0] : 1, dw = wn.d[nsp - 1];
    int asym = pbh != peh || pbw != pew;
    int64_t Hp = H + (asym ? pbh + peh : 0), Wp = W + (asym ? pbw + pew : 0);
    if (!fits_int(N) || !fits_int(C) || !fits_int(Hp) || !fits_int(Wp) || !fits_int(K) || !fits_int(R) ||
        !fits_int(S) || !fits_int(P) || !fits_int(Q) || !fits_int(group) || !fits_int(pbh) || !fits_int(pbw) ||
        !fits_int(sh) || !fits_int(sw) || !fits_int(dh) || !fits_int(dw) || vnumel(y) > INT_MAX ||
        N * C * Hp * Wp > INT_MAX)
        return nope(c, n, "sizes beyond cuDNN's int range");
    if ((Hp + 2 * (asym ? 0 : pbh) - dh * (R - 1) - 1) / sh + 1 != P ||
        (Wp + 2 * (asym ? 0 : pbw) - dw * (S - 1) - 1) / sw + 1 != Q)
        return nope(c, n, "output size differs from cuDNN's formula");
    size_t scr = 0;
    dt_cu_ref xin;
    TRY(vref(c, n->in[0], &xin));
    if (asym) {
        /* cuDNN pads symmetrically: pad into scratch first */
        ADD_STEP(s, DT_CU_PAD);
        dt_cu_pad *pd = &s->u.pd;
        pd->rank = x->ndim;
        pd->es = 4;
        for (int i = 0; i < x->ndim; i++) {
            pd->in_dims[i] = pd->out_dims[i] = x->dims[i];
            pd->pb[i] = 0;
        }
        for (int i = 0; i < nsp; i++) {
            int d = nhwc ? 1 + i : 2 + i;
            pd->pb[d] = wn.pb[i];
            pd->out_dims[d] = x->dims[d] + wn.pb[i] + wn.pe[i];
        }
        row_strides(x->ndim, x->dims, pd->in_str);
        pd->n = dt_shape_numel(x->ndim, pd->out_dims);
        s->op[0] = xin;
        s->op[1].space = DT_CU_SP_SCR;
        s->op[1].off = 0;
        scr = align_up((size_t)pd->n * 4, DT_CU_ALIGN);
        s->scr_bytes = scr;
        xin = s->op[1];
    }
    dt_act_params act = dt_act_from_node(n);
    int fuse = c->o->fuse_relu && act.kind == DT_ACT_RELU && b;
    dt_cu_ref wref;
    if (nhwc) {
        /* cuDNN's NHWC filter format is KRSC */
        size_t cnt = (size_t)(K * Cg * R * S);
        float *t = dt_malloc(cnt ? cnt * sizeof(float) : 1);
        if (!t)
            return dt_fail(c->st, DT_ENOMEM, "out of memory");
        const float *src = w->buf->data;
        for (int64_t k = 0; k < K; k++)
            for (int64_t ci = 0; ci < Cg; ci++)
                for (int64_t r = 0; r < R * S; r++)
                    t[(k * R * S + r) * Cg + ci] = src[(k * Cg + ci) * R * S + r];
        dt_code rc = blobref(c, t, cnt * sizeof(float), &wref);
        dt_free(t);
        if (rc)
            return rc;
    } else {
        TRY(vref(c, n->in[1], &wref));
    }
    ADD_STEP(s, DT_CU_CONV);
    dt_cu_conv *cv = &s->u.cv;
    cv->nhwc = cv->filter_nhwc = nhwc;
    cv->group = (int)group;
    cv->N = (int)N;
    cv->C = (int)C;
    cv->H = (int)Hp;
    cv->W = (int)Wp;
    cv->K = (int)K;
    cv->R = (int)R;
    cv->S = (int)S;
    cv->P = (int)P;
    cv->Q = (int)Q;
    cv->pad_h = asym ? 0 : (int)pbh;
    cv->pad_w = asym ? 0 : (int)pbw;
    cv->str_h = (int)sh;
    cv->str_w = (int)sw;
    cv->dil_h = (int)dh;
    cv->dil_w = (int)dw;
    cv->fuse_relu = fuse;
    cv->math = c->o->tf32;
    cv->algo = -1;
    cv->ws_off = (int64_t)scr;
    s->scr_bytes = scr;
    s->op[0] = xin;
    s->op[1] = wref;
    if (fuse)
        TRY(vref(c, n->in[2], &s->op[2]));
    TRY(vref(c, n->out[0], &s->op[3]));
    if (!fuse && (b || act.kind != DT_ACT_NONE)) {
        ADD_STEP(e, DT_CU_CHAN);
        e->u.ch.n = vnumel(y);
        e->u.ch.C = K;
        e->u.ch.inner = nhwc ? 1 : P * Q;
        e->u.ch.has_bias = b != NULL;
        e->u.ch.act = act.kind;
        e->u.ch.alpha = act.alpha;
        e->u.ch.beta = act.beta;
        TRY(vref(c, n->out[0], &e->op[0]));
        e->op[1] = e->op[0];
        if (b)
            TRY(vref(c, n->in[2], &e->op[3]));
    }
    return DT_OK;
}

/* ConvTranspose: cuDNN's backward-data convolution, straight into Y when
 * the pads are symmetric and the output is the natural size; otherwise into
 * a scratch tensor of the full size, then cropped / extended into Y (the
 * extension stays zero, then bias), as nn_conv.c's convt_shape_get sizes it. */
static dt_code b_convt(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *w = in_v(c, n, 1), *b = in_v(c, n, 2), *y = out_v(c, n, 0);
    if (!x || !w || !y || x->dtype != DT_F32 || w->dtype != DT_F32)
        return nope(c, n, "needs float32 X and W");
    if (x->ndim != 3 && x->ndim != 4)
        return nope(c, n, "%d-D transposed convolution (1-D and 2-D only)", x->ndim - 2);
    if (!w->buf || w->ndim != x->ndim)
        return nope(c, n, "weights are not a constant of the input's rank");
    int nhwc;
    TRY(layout_of(c, n, &nhwc));
    int nsp = x->ndim - 2;
    int64_t group = dt_attr_int(n, "group", 1), Cin = w->dims[0], Cout = w->dims[1] * group;
    int64_t N = x->dims[0], C = nhwc ? x->dims[x->ndim - 1] : x->dims[1];
    if (b && (!b->buf || b->dtype != DT_F32 || vnumel(b) != Cout))
        return nope(c, n, "bias is not a float32 constant");
    if (group < 1 || C != Cin || C % group)
        return nope(c, n, "channels do not match the groups");
    win wn;
    TRY(win_attrs(c, n, nsp, w->dims + 2, &wn));
    int64_t adj[2];
    TRY(ints_attr(c, n, "output_padding", nsp, 0, adj));
    int osc = 0;
    const int64_t *os = dt_attr_ints(n, "output_shape", &osc);
    if (os && osc != nsp && osc != nsp + 2)
        return nope(c, n, "output_shape");
    int64_t sp[2], osp[2], full[2];
    int direct = 1;
    for (int i = 0; i < nsp; i++) {
        sp[i] = x->dims[nhwc ? 1 + i : 2 + i];
        osp[i] = y->dims[nhwc ? 1 + i : 2 + i];
        int64_t s = wn.s[i];
        full[i] = (sp[i] - 1) * s + adj[i] + (wn.k[i] - 1) * wn.d[i] + 1;
        int64_t target = os ? os[osc - nsp + i] : -1, total = -1;
        if (target >= 0)
            total = full[i] - target;
        else if (wn.autopad == 1 || wn.autopad == 2)
            total = full[i] - sp[i] * s;
        else if (wn.autopad == 3)
            wn.pb[i] = wn.pe[i] = 0;
        if (total >= 0 || target >= 0 || wn.autopad == 1 || wn.autopad == 2) {
            if (total < 0)
                total = 0;
            int upper = wn.autopad == 1;
            wn.pb[i] = upper ? total / 2 : total - total / 2;
            wn.pe[i] = total - wn.pb[i];
        }
        if (wn.pb[i] != wn.pe[i] || osp[i] != full[i] - 2 * wn.pb[i] || adj[i] >= s)
            direct = 0;
    }
    if (vnumel(y) <= 0)
        return DT_OK;
    int64_t H = nsp == 2 ? sp[0] : 1, W = sp[nsp - 1], R = nsp == 2 ? w->dims[2] : 1, S = w->dims[x->ndim - 1];
    int64_t P = nsp == 2 ? (direct ? osp[0] : full[0]) : 1, Q = direct ? osp[nsp - 1] : full[nsp - 1];
    int64_t ph = direct && nsp == 2 ? wn.pb[0] : 0, pw = direct ? wn.pb[nsp - 1] : 0;
    int64_t sh = nsp == 2 ? wn.s[0] : 1, sw = wn.s[nsp - 1], dh = nsp == 2 ? wn.d[0] : 1, dw = wn.d[nsp - 1];
    if (!fits_int(N) || !fits_int(C) || !fits_int(H) || !fits_int(W) || !fits_int(Cout) || !fits_int(P) ||
        !fits_int(Q) || !fits_int(R) || !fits_int(S) || !fits_int(sh) || !fits_int(sw) || !fits_int(dh) ||
        !fits_int(dw) || !fits_int(ph) || !fits_int(pw) || N * Cout * P * Q > INT_MAX)
        return nope(c, n, "sizes beyond cuDNN's int range");
    /* cuDNN checks the backward-data shapes through the forward formula */
    if ((P + 2 * ph - dh * (R - 1) - 1) / sh + 1 != H || (Q + 2 * pw - dw * (S - 1) - 1) / sw + 1 != W)
        return nope(c, n, "output size is not cuDNN's (output_padding >= stride)");
    dt_cu_ref wref;
    if (nhwc) {
        /* [Cin, Cout / group, R, S] -> KRSC with K = Cin */
        int64_t Kg = Cout / group;
        size_t cnt = (size_t)(Cin * Kg * R * S);
        float *t = dt_malloc(cnt ? cnt * sizeof(float) : 1);
        if (!t)
            return dt_fail(c->st, DT_ENOMEM, "out of memory");
        const float *src = w->buf->data;
        for (int64_t k = 0; k < Cin; k++)
            for (int64_t ci = 0; ci < Kg; ci++)
                for (int64_t r = 0; r < R * S; r++)
                    t[(k * R * S + r) * Kg + ci] = src[(k * Kg + ci) * R * S + r];
        dt_code rc = blobref(c, t, cnt * sizeof(float), &wref);
        dt_free(t);
        if (rc)
            return rc;
    } else {
        TRY(vref(c, n->in[1], &wref));
    }
    size_t fbytes = direct ? 0 : align_up((size_t)(N * Cout * P * Q) * 4, DT_CU_ALIGN);
    ADD_STEP(s, DT_CU_CONVT);
    dt_cu_conv *cv = &s->u.cv;
    cv->transposed = 1;
    cv->nhwc = cv->filter_nhwc = nhwc;
    cv->group = (int)group;
    cv->N = (int)N;
    cv->C = (int)C;
    cv->H = (int)H;
    cv->W = (int)W;
    cv->K = (int)Cout;
    cv->R = (int)R;
    cv->S = (int)S;
    cv->P = (int)P;
    cv->Q = (int)Q;
    cv->pad_h = (int)ph;
    cv->pad_w = (int)pw;
    cv->str_h = (int)sh;
    cv->str_w = (int)sw;
    cv->dil_h = (int)dh;
    cv->dil_w = (int)dw;
    cv->math = c->o->tf32;
    cv->algo = -1;
    cv->ws_off = (int64_t)fbytes;
    s->scr_bytes = fbytes;
    TRY(vref(c, n->in[0], &s->op[0]));
    s->op[1] = wref;
    if (direct) {
        TRY(vref(c, n->out[0], &s->op[3]));
    } else {
        s->op[3].space = DT_CU_SP_SCR;
        s->op[3].off = 0;
        ADD_STEP(pd, DT_CU_PAD);
        dt_cu_pad *p = &pd->u.pd;
        p->rank = x->ndim;
        p->es = 4;
        p->in_dims[0] = p->out_dims[0] = N;
        int cd = nhwc ? x->ndim - 1 : 1;
        p->in_dims[cd] = p->out_dims[cd] = Cout;
        for (int i = 0; i < nsp; i++) {
            int d = nhwc ? 1 + i : 2 + i;
            p->in_dims[d] = full[i];
            p->out_dims[d] = osp[i];
            p->pb[d] = -wn.pb[i];
        }
        row_strides(x->ndim, p->in_dims, p->in_str);
        p->n = vnumel(y);
        pd->op[0].space = DT_CU_SP_SCR;
        pd->op[0].off = 0;
        TRY(vref(c, n->out[0], &pd->op[1]));
        pd->scr_bytes = fbytes;
    }
    dt_act_params act = dt_act_from_node(n);
    if (b || act.kind != DT_ACT_NONE) {
        ADD_STEP(e, DT_CU_CHAN);
        e->u.ch.n = vnumel(y);
        e->u.ch.C = Cout;
        e->u.ch.inner = nhwc ? 1 : prod(y->dims, 2, y->ndim);
        e->u.ch.has_bias = b != NULL;
        e->u.ch.act = act.kind;
        e->u.ch.alpha = act.alpha;
        e->u.ch.beta = act.beta;
        TRY(vref(c, n->out[0], &e->op[0]));
        e->op[1] = e->op[0];
        if (b)
            TRY(vref(c, n->in[2], &e->op[3]));
    }
    return DT_OK;
}

static void to3(int nsp, const int64_t *src, int64_t fill, int64_t *dst)
{
    for (int i = 0; i < 3; i++)
        dst[i] = i < 3 - nsp ? fill : src[i - (3 - nsp)];
}

static dt_code b_pool(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || x->dtype != DT_F32)
        return nope(c, n, "needs float32 input");
    int nhwc;
    TRY(layout_of(c, n, &nhwc));
    int global = n->op == DT_OP_GlobalAveragePool || n->op == DT_OP_GlobalMaxPool;
    if (x->ndim < (global ? 2 : 3) || x->ndim - 2 > 3)
        return nope(c, n, "rank %d", x->ndim);
    if (n->op == DT_OP_MaxPool && n->n_out > 1 && n->out[1] >= 0 && c->used[n->out[1]])
        return nope(c, n, "the Indices output is not implemented");
    int nsp = x->ndim - 2;
    int64_t sp[3], osp[3];
    for (int i = 0; i < nsp; i++) {
        sp[i] = x->dims[nhwc ? 1 + i : 2 + i];
        osp[i] = y->dims[nhwc ? 1 + i : 2 + i];
    }
    win wn;
    memset(&wn, 0, sizeof wn);
    if (global) {
        for (int i = 0; i < nsp; i++) {
            wn.k[i] = sp[i];
            wn.s[i] = wn.d[i] = 1;
            osp[i] = 1;
        }
    } else {
        int kc = 0;
        const int64_t *ks = dt_attr_ints(n, "kernel_shape", &kc);
        if (!ks || kc != nsp)
            return nope(c, n, "kernel_shape");
        TRY(win_attrs(c, n, nsp, ks, &wn));
        for (int i = 0; i < nsp; i++)
            if (wn.autopad)
                win_resolve(&wn, i, sp[i]);
        /* pool SAME_LOWER puts the larger half first, as Conv does */
    }
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_POOL);
    dt_cu_pool *p = &s->u.p;
    p->is_max = n->op == DT_OP_MaxPool || n->op == DT_OP_GlobalMaxPool;
    p->include_pad = (int)dt_attr_int(n, "count_include_pad", 0);
    p->nhwc = nhwc;
    p->n = vnumel(y);
    p->N = x->dims[0];
    p->C = nhwc ? x->dims[x->ndim - 1] : x->dims[1];
    to3(nsp, sp, 1, p->I);
    to3(nsp, osp, 1, p->O);
    to3(nsp, wn.k, 1, p->K);
    to3(nsp, wn.s, 1, p->S);
    to3(nsp, wn.d, 1, p->D);
    to3(nsp, wn.pb, 0, p->P);
    to3(nsp, wn.pe, 0, p->PE);
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

/* ==== Resize / Upsample ====================================================
 * nn_resize.c's parameter resolution and per-axis tap tables, computed once
 * here; the kernel walks the taps. */

/* A constant input as a tensor view for dt_rz_params_get (NULL when omitted
 * or empty; non-constants were refused before). */
static const dt_tensor *rz_view(const dt_value *v, dt_tensor *t)
{
    if (!v || !v->buf || vnumel(v) == 0)
        return NULL;
    memset(t, 0, sizeof *t);
    t->dtype = v->dtype;
    t->ndim = v->ndim;
    memcpy(t->dims, v->dims, sizeof t->dims);
    t->data = v->buf->data;
    return t;
}

static dt_code b_resize(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || x->dtype != DT_F32 || x->ndim < 1)
        return nope(c, n, "needs float32 input");
    int legacy = n->op == DT_OP_Upsample || n->opset <= 10;
    for (int i = 1; i < n->n_in; i++) {
        const dt_value *v = in_v(c, n, i);
        if (v && !v->buf && vnumel(v) != 0)
            return nope(c, n, "input %d is not a constant", i);
    }
    dt_rz_params p;
    dt_tensor tv[3];
    dt_status pst;
    dt_code prc = legacy ? dt_rz_params_get(n, 1, x->ndim, x->dims, NULL, rz_view(in_v(c, n, 1), &tv[1]), NULL, &p, &pst)
                         : dt_rz_params_get(n, 0, x->ndim, x->dims, rz_view(in_v(c, n, 1), &tv[0]),
                                            rz_view(in_v(c, n, 2), &tv[1]), rz_view(in_v(c, n, 3), &tv[2]), &p, &pst);
    if (prc != DT_OK)
        return nope(c, n, "%s", pst.msg);
    if (y->ndim != x->ndim || memcmp(y->dims, p.out_dims, (size_t)x->ndim * sizeof(int64_t)))
        return nope(c, n, "output shape differs from the resize parameters");
    if (vnumel(y) <= 0)
        return DT_OK;
    for (int i = 0; i < x->ndim; i++)
        if (x->dims[i] > INT32_MAX)
            return nope(c, n, "dim beyond int32");
    ADD_STEP(s, DT_CU_RESIZE);
    dt_cu_resize *r = &s->u.r;
    r->rank = x->ndim;
    r->taps = p.taps;
    r->extrap = p.extrap;
    r->has_outside = p.ct == DT_RZ_CT_TF_CROP_RESIZE;
    r->n = vnumel(y);
    memcpy(r->out_dims, p.out_dims, sizeof r->out_dims);
    row_strides(x->ndim, x->dims, r->in_str);
    size_t total = 0;
    for (int a = 0; a < x->ndim; a++) {
        r->active[a] = p.active[a];
        if (!p.active[a])
            continue;
        int k = r->n_act++;
        r->act[k] = a;
        size_t cnt = (size_t)p.out_dims[a] * (size_t)p.taps;
        r->t_idx[k] = (int64_t)total;
        total += align_up(cnt * 4, 8);
        r->t_w[k] = (int64_t)total;
        total += align_up(cnt * 4, 8);
        r->t_out[k] = (int64_t)total;
        total += align_up((size_t)p.out_dims[a], 8);
    }
    uint8_t *tab = dt_calloc(total ? total : 1, 1);
    int64_t max_cnt = 1;
    for (int k = 0; k < r->n_act; k++)
        if (p.out_dims[r->act[k]] * p.taps > max_cnt)
            max_cnt = p.out_dims[r->act[k]] * p.taps;
    int64_t *idx64 = dt_malloc((size_t)max_cnt * sizeof *idx64);
    if (!tab || !idx64) {
        dt_free(tab);
        dt_free(idx64);
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    }
    /* The CPU's tap tables, indices narrowed to int32 (dims were checked). */
    for (int k = 0; k < r->n_act; k++) {
        int a = r->act[k];
        dt_rz_fill_axis(&p, a, idx64, (float *)(tab + r->t_w[k]), tab + r->t_out[k]);
        int32_t *idx32 = (int32_t *)(tab + r->t_idx[k]);
        for (int64_t q = 0; q < p.out_dims[a] * p.taps; q++)
            idx32[q] = (int32_t)idx64[q];
    }
    dt_free(idx64);
    dt_code rc = blobref(c, tab, total ? total : 8, &s->op[2]);
    dt_free(tab);
    if (rc)
        return rc;
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

/* ==== Pad ================================================================== */

static dt_code b_pad(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || !is_any(x->dtype))
        return nope(c, n, "dtype");
    int rank = x->ndim;
    const char *m = dt_attr_str(n, "mode", "constant");
    int mode = !strcmp(m, "constant") ? 0 : !strcmp(m, "reflect") ? 1 : !strcmp(m, "edge") ? 2 : !strcmp(m, "wrap") ? 3 : -1;
    if (mode < 0)
        return nope(c, n, "mode '%s'", m);
    if (rank == 0)
        return mk_memcpy(c, n, n->in[0], n->out[0]);
    int64_t pads[2 * DT_MAX_DIMS];
    int np = 0, present = 0;
    TRY(const_ints(c, n, 1, "pads", pads, 2 * DT_MAX_DIMS, &np, &present));
    if (!present) {
        const int64_t *a = dt_attr_ints(n, "pads", &np);
        if (!a)
            a = dt_attr_ints(n, "paddings", &np);
        if (!a || np > 2 * DT_MAX_DIMS)
            return nope(c, n, "pads");
        memcpy(pads, a, (size_t)np * sizeof(int64_t));
    }
    int axes[DT_MAX_DIMS], na = rank;
    for (int i = 0; i < rank; i++)
        axes[i] = i;
    int64_t av[DT_MAX_DIMS];
    int nav = 0, has_axes = 0;
    TRY(const_ints(c, n, 3, "axes", av, DT_MAX_DIMS, &nav, &has_axes));
    if (has_axes) {
        na = nav;
        for (int i = 0; i < na; i++) {
            axes[i] = dt_norm_axis(av[i], rank);
            if (axes[i] < 0)
                return nope(c, n, "axes");
        }
    }
    if (np != 2 * na)
        return nope(c, n, "pads size");
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_PAD);
    dt_cu_pad *p = &s->u.pd;
    p->mode = mode;
    p->rank = rank;
    p->es = (int)dt_dtype_size(x->dtype);
    for (int i = 0; i < na; i++)
        p->pb[axes[i]] = pads[i];
    memcpy(p->in_dims, x->dims, (size_t)rank * sizeof(int64_t));
    memcpy(p->out_dims, y->dims, (size_t)rank * sizeof(int64_t));
    row_strides(rank, x->dims, p->in_str);
    p->n = vnumel(y);
    const dt_value *cv = in_v(c, n, 2);
    if (cv && vnumel(cv) >= 1) {
        if (!cv->buf || cv->dtype != x->dtype)
            return nope(c, n, "constant_value is not a constant of the data dtype");
        memcpy(p->cval, cv->buf->data, (size_t)p->es);
    } else {
        float v = dt_attr_float(n, "value", 0.f);
        switch (x->dtype) {
        case DT_F32: memcpy(p->cval, &v, 4); break;
        case DT_I64: { int64_t t = (int64_t)v; memcpy(p->cval, &t, 8); break; }
        case DT_I32: { int32_t t = (int32_t)v; memcpy(p->cval, &t, 4); break; }
        case DT_U8: case DT_BOOL: p->cval[0] = (uint8_t)v; break;
        case DT_I8: { int8_t t = (int8_t)v; memcpy(p->cval, &t, 1); break; }
        default: break;
        }
    }
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

/* ==== Softmax, reductions, TopK ============================================ */

static dt_code b_softmax(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || x->dtype != DT_F32 || x->ndim < 1)
        return nope(c, n, "needs float32 input");
    int rank = x->ndim, coerce = n->opset < 13;
    int64_t a = dt_attr_int(n, "axis", coerce ? 1 : -1);
    int ax = dt_norm_axis(a, rank);
    if (coerce && a == rank)
        ax = rank;
    if (ax < 0)
        return nope(c, n, "axis");
    int64_t outer = prod(x->dims, 0, ax), L, inner;
    if (coerce) {
        L = prod(x->dims, ax, rank);
        inner = 1;
    } else {
        L = x->dims[ax];
        inner = prod(x->dims, ax + 1, rank);
    }
    if (L == 0 || outer * inner == 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_SOFTMAX);
    s->u.sm.lines = outer * inner;
    s->u.sm.L = L;
    s->u.sm.inner = inner;
    s->u.sm.log = n->op == DT_OP_LogSoftmax;
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

static dt_code b_reduce(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    int kind = n->op == DT_OP_ReduceMean ? DT_CU_R_MEAN : n->op == DT_OP_ReduceMax ? DT_CU_R_MAX
             : n->op == DT_OP_ReduceMin ? DT_CU_R_MIN : n->op == DT_OP_ReduceSum ? DT_CU_R_SUM : DT_CU_R_PROD;
    if (!x || !y || !(x->dtype == DT_F32 || (kind != DT_CU_R_MEAN && is_int(x->dtype))))
        return nope(c, n, "dtype");
    int rank = x->ndim;
    int64_t axes[DT_MAX_DIMS];
    int na = 0, present = 0;
    TRY(const_ints(c, n, 1, "axes", axes, DT_MAX_DIMS, &na, &present));
    if (!present) {
        const int64_t *a = dt_attr_ints(n, "axes", &na);
        if (na > DT_MAX_DIMS)
            return nope(c, n, "axes");
        for (int i = 0; i < na; i++)
            axes[i] = a[i];
    }
    uint8_t red[DT_MAX_DIMS] = {0};
    if (na == 0) {
        if (dt_attr_int(n, "noop_with_empty_axes", 0))
            return mk_memcpy(c, n, n->in[0], n->out[0]);
        for (int i = 0; i < rank; i++)
            red[i] = 1;
    }
    for (int i = 0; i < na; i++) {
        int ax = dt_norm_axis(axes[i], rank);
        if (ax < 0)
            return nope(c, n, "axis");
        red[ax] = 1;
    }
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_REDUCE);
    dt_cu_reduce *p = &s->u.rd;
    p->kind = kind;
    p->dt = x->dtype;
    p->n = vnumel(y);
    p->rcount = 1;
    int64_t str[DT_MAX_DIMS];
    row_strides(rank, x->dims, str);
    for (int i = 0; i < rank; i++) {
        if (red[i]) {
            p->rdims[p->nr] = x->dims[i];
            p->rstr[p->nr++] = str[i];
            p->rcount *= x->dims[i];
        } else {
            p->kdims[p->nk] = x->dims[i];
            p->kstr[p->nk++] = str[i];
        }
    }
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

static dt_code b_arg(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || !is_num(x->dtype))
        return nope(c, n, "dtype");
    int ax = dt_norm_axis(dt_attr_int(n, "axis", 0), x->ndim);
    if (ax < 0 || x->dims[ax] == 0)
        return nope(c, n, "axis");
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_ARG);
    dt_cu_arg *p = &s->u.a;
    p->dt = x->dtype;
    p->is_min = n->op == DT_OP_ArgMin;
    p->last = dt_attr_int(n, "select_last_index", 0) != 0;
    p->L = x->dims[ax];
    p->inner = prod(x->dims, ax + 1, x->ndim);
    p->lines = prod(x->dims, 0, ax) * p->inner;
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    return DT_OK;
}

dt_code dt_cu_topk_plan(int64_t lines, int64_t L, int64_t k, dt_cu_topk *p, size_t *scratch, dt_status *st)
{
    if (k < 1 || k > DT_CU_TOPK_MAXK || k > L || lines < 1)
        return dt_fail(st, DT_EUNSUPPORTED, "TopK with k=%lld over %lld (1 <= k <= %d)", (long long)k,
                       (long long)L, DT_CU_TOPK_MAXK);
    p->lines = lines;
    p->L = L;
    p->k = k;
    p->buf_elems = 0;
    int64_t cnt = L;
    int np = 0;
    for (;;) {
        if (np >= DT_CU_TOPK_MAXPASS)
            return dt_fail(st, DT_EUNSUPPORTED, "TopK line of %lld elements is too long", (long long)L);
        int64_t g = (cnt + DT_CU_TOPK_CHUNK - 1) / DT_CU_TOPK_CHUNK;
        p->count[np] = cnt;
        p->groups[np] = g;
        np++;
        if (g == 1)
            break;
        cnt = g * k;
        if (cnt > INT64_MAX / lines)
            return dt_fail(st, DT_ELIMIT, "TopK too large");
        if (lines * cnt > p->buf_elems)
            p->buf_elems = lines * cnt;
    }
    p->count[np] = k;
    p->n_pass = np;
    *scratch = 2 * dt_cu_topk_buf_bytes(p);
    return DT_OK;
}

static dt_code b_topk(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0), *yi = out_v(c, n, 1);
    if (!x || !y || !is_num(x->dtype))
        return nope(c, n, "dtype");
    int64_t k;
    int64_t kv[1];
    int cnt = 0, present = 0;
    TRY(const_ints(c, n, 1, "K", kv, 1, &cnt, &present));
    if (present) {
        if (cnt != 1)
            return nope(c, n, "K");
        k = kv[0];
    } else {
        if (!dt_node_attr(n, "k"))
            return nope(c, n, "k");
        k = dt_attr_int(n, "k", 0);
    }
    int ax = dt_norm_axis(dt_attr_int(n, "axis", -1), x->ndim);
    if (ax < 0)
        return nope(c, n, "axis");
    int64_t inner = prod(x->dims, ax + 1, x->ndim), lines = prod(x->dims, 0, ax) * inner;
    if (k == 0 || lines == 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_TOPK);
    dt_cu_topk *p = &s->u.tk;
    size_t scr;
    if (dt_cu_topk_plan(lines, x->dims[ax], k, p, &scr, c->st) != DT_OK) {
        if (c->st && c->st->code == DT_EUNSUPPORTED)
            return nope(c, n, "%s", c->st->msg);
        return c->st ? c->st->code : DT_EINTERNAL;
    }
    p->dt = x->dtype;
    p->largest = dt_attr_int(n, "largest", 1) != 0;
    p->inner = inner;
    s->scr_bytes = scr;
    TRY(vref(c, n->in[0], &s->op[0]));
    if (c->used[n->out[0]])
        TRY(vref(c, n->out[0], &s->op[1]));
    if (yi && c->used[n->out[1]])
        TRY(vref(c, n->out[1], &s->op[2]));
    s->op[3].space = DT_CU_SP_SCR;
    s->op[3].off = 0;
    return DT_OK;
}

/* ==== data movement ======================================================== */

static dt_cu_ref ref_plus(dt_cu_ref r, int64_t bytes)
{
    r.off += bytes;
    return r;
}

static dt_code b_concat(bctx *c, const dt_node *n)
{
    const dt_value *y = out_v(c, n, 0);
    if (!y || y->ndim < 1)
        return nope(c, n, "rank");
    const dt_attr *a = dt_node_attr(n, "axis");
    int ax = dt_norm_axis(a ? a->i : 1, y->ndim);
    if (ax < 0)
        return nope(c, n, "axis");
    int es = (int)dt_dtype_size(y->dtype);
    int64_t outer = prod(y->dims, 0, ax), inner = prod(y->dims, ax + 1, y->ndim), cum = 0;
    dt_cu_ref dst;
    TRY(vref(c, n->out[0], &dst));
    for (int k = 0; k < n->n_in; k++) {
        const dt_value *x = in_v(c, n, k);
        if (!x || x->ndim != y->ndim)
            return nope(c, n, "input %d", k);
        int64_t len = x->dims[ax];
        int64_t dims[2] = {outer, len * inner}, sstr[2] = {len * inner, 1}, dstr[2] = {y->dims[ax] * inner, 1};
        dt_cu_ref src;
        TRY(vref(c, n->in[k], &src));
        TRY(mk_copy(c, n, 2, dims, sstr, dstr, es, src, ref_plus(dst, cum * inner * es)));
        cum += len;
    }
    return DT_OK;
}

static dt_code b_split(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0);
    if (!x || x->ndim < 1)
        return nope(c, n, "rank");
    int ax = dt_norm_axis(dt_attr_int(n, "axis", 0), x->ndim);
    if (ax < 0)
        return nope(c, n, "axis");
    int es = (int)dt_dtype_size(x->dtype);
    int64_t outer = prod(x->dims, 0, ax), inner = prod(x->dims, ax + 1, x->ndim), cum = 0;
    dt_cu_ref src;
    TRY(vref(c, n->in[0], &src));
    for (int k = 0; k < n->n_out; k++) {
        const dt_value *y = out_v(c, n, k);
        if (!y || y->ndim != x->ndim)
            return nope(c, n, "output %d", k);
        int64_t len = y->dims[ax];
        if (c->used[n->out[k]]) {
            int64_t dims[2] = {outer, len * inner}, sstr[2] = {x->dims[ax] * inner, 1}, dstr[2] = {len * inner, 1};
            dt_cu_ref dst;
            TRY(vref(c, n->out[k], &dst));
            TRY(mk_copy(c, n, 2, dims, sstr, dstr, es, ref_plus(src, cum * inner * es), dst));
        }
        cum += len;
    }
    return DT_OK;
}

/* tensor.c slice_params: ONNX clamping of starts / ends per axis. */
static dt_code b_slice(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y)
        return nope(c, n, "malformed");
    int rank = x->ndim, cnt = 0, has_axes = 0, has_steps = 0;
    int64_t starts[DT_MAX_DIMS], ends[DT_MAX_DIMS], axes[DT_MAX_DIMS], steps[DT_MAX_DIMS];
    if (n->opset < 10) {
        int cs, ce, ca;
        const int64_t *s = dt_attr_ints(n, "starts", &cs), *e = dt_attr_ints(n, "ends", &ce);
        const int64_t *av = dt_attr_ints(n, "axes", &ca);
        if (!s || !e || cs != ce || (av && ca != cs) || cs > rank)
            return nope(c, n, "starts/ends");
        cnt = cs;
        for (int i = 0; i < cs; i++) {
            starts[i] = s[i];
            ends[i] = e[i];
            if (av)
                axes[i] = av[i];
        }
        has_axes = av != NULL;
    } else {
        int c1, c2, c3 = 0, c4 = 0, p1, p2;
        TRY(const_ints(c, n, 1, "starts", starts, DT_MAX_DIMS, &c1, &p1));
        TRY(const_ints(c, n, 2, "ends", ends, DT_MAX_DIMS, &c2, &p2));
        TRY(const_ints(c, n, 3, "axes", axes, DT_MAX_DIMS, &c3, &has_axes));
        TRY(const_ints(c, n, 4, "steps", steps, DT_MAX_DIMS, &c4, &has_steps));
        if (!p1 || !p2 || c1 != c2 || (has_axes && c3 != c1) || (has_steps && c4 != c1) || c1 > rank)
            return nope(c, n, "starts/ends/axes/steps");
        cnt = c1;
    }
    int64_t start[DT_MAX_DIMS], step[DT_MAX_DIMS], count[DT_MAX_DIMS];
    for (int i = 0; i < rank; i++) {
        start[i] = 0;
        step[i] = 1;
        count[i] = x->dims[i];
    }
    for (int j = 0; j < cnt; j++) {
        int ax = dt_norm_axis(has_axes ? axes[j] : j, rank);
        if (ax < 0)
            return nope(c, n, "axis");
        int64_t s = starts[j], e = ends[j], sp = has_steps ? steps[j] : 1, d = x->dims[ax];
        if (sp == 0)
            return nope(c, n, "step 0");
        step[ax] = sp;
        if (s < 0)
            s += d;
        if (e < 0)
            e += d;
        if (sp > 0) {
            s = s < 0 ? 0 : (s > d ? d : s);
            e = e < 0 ? 0 : (e > d ? d : e);
            count[ax] = e > s ? (int64_t)((uint64_t)(e - s - 1) / (uint64_t)sp) + 1 : 0;
        } else {
            s = s < 0 ? 0 : (s > d - 1 ? d - 1 : s);
            e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
            uint64_t asp = (uint64_t)0 - (uint64_t)sp;
            count[ax] = s > e ? (int64_t)((uint64_t)(s - e - 1) / asp) + 1 : 0;
        }
        if (count[ax] == 0)
            s = 0;
        start[ax] = s;
    }
    if (y->ndim != rank || memcmp(y->dims, count, (size_t)rank * sizeof(int64_t)))
        return nope(c, n, "output shape differs from the slice");
    int64_t xs[DT_MAX_DIMS], str[DT_MAX_DIMS], off = 0;
    row_strides(rank, x->dims, xs);
    for (int i = 0; i < rank; i++) {
        off += start[i] * xs[i];
        str[i] = count[i] == 1 ? 0 : step[i] * xs[i];
    }
    dt_cu_ref src;
    TRY(vref(c, n->in[0], &src));
    return mk_gather_copy(c, n, rank, count, str, ref_plus(src, off * (int64_t)dt_dtype_size(x->dtype)), n->out[0]);
}

static dt_code b_transpose(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y)
        return nope(c, n, "malformed");
    int r = x->ndim, perm[DT_MAX_DIMS], cnt;
    const int64_t *pa = dt_attr_ints(n, "perm", &cnt);
    if (pa && cnt != r)
        return nope(c, n, "perm");
    for (int i = 0; i < r; i++) {
        perm[i] = pa ? (int)pa[i] : r - 1 - i;
        if (perm[i] < 0 || perm[i] >= r)
            return nope(c, n, "perm");
    }
    int64_t xs[DT_MAX_DIMS], str[DT_MAX_DIMS], od[DT_MAX_DIMS];
    row_strides(r, x->dims, xs);
    for (int i = 0; i < r; i++) {
        od[i] = x->dims[perm[i]];
        str[i] = xs[perm[i]];
    }
    dt_cu_ref src;
    TRY(vref(c, n->in[0], &src));
    return mk_gather_copy(c, n, r, od, str, src, n->out[0]);
}

static dt_code b_expand(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || y->ndim < x->ndim)
        return nope(c, n, "malformed");
    int r = y->ndim, off = r - x->ndim;
    int64_t xs[DT_MAX_DIMS], str[DT_MAX_DIMS];
    row_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < r; i++) {
        int xi = i - off;
        str[i] = (xi < 0 || x->dims[xi] == 1) ? 0 : xs[xi];
    }
    dt_cu_ref src;
    TRY(vref(c, n->in[0], &src));
    return mk_gather_copy(c, n, r, y->dims, str, src, n->out[0]);
}

static dt_code b_tile(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || y->ndim != x->ndim)
        return nope(c, n, "malformed");
    if (vnumel(y) <= 0)
        return DT_OK;
    int r = x->ndim;
    int64_t xs[DT_MAX_DIMS], dims[2 * DT_MAX_DIMS], str[2 * DT_MAX_DIMS];
    row_strides(r, x->dims, xs);
    for (int i = 0; i < r; i++) {
        dims[2 * i] = y->dims[i] / x->dims[i];
        str[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        str[2 * i + 1] = xs[i];
    }
    dt_cu_ref src;
    TRY(vref(c, n->in[0], &src));
    return mk_gather_copy(c, n, 2 * r, dims, str, src, n->out[0]);
}

/* tensor.c d2s_plan: both ops are a 6-D transpose of the input. */
static dt_code b_d2s(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    if (!x || !y || x->ndim != 4)
        return nope(c, n, "rank");
    const int64_t *xd = x->dims;
    int64_t b = dt_attr_int(n, "blocksize", 0);
    int nhwc = !strcmp(dt_attr_str(n, "layout", "NCHW"), "NHWC");
    int crd = !strcmp(dt_attr_str(n, "mode", "DCR"), "CRD");
    int64_t N = xd[0], H = nhwc ? xd[1] : xd[2], W = nhwc ? xd[2] : xd[3], C = nhwc ? xd[3] : xd[1];
    if (b <= 0)
        return nope(c, n, "blocksize");
    int64_t vd[6], vs[6];
    if (n->op == DT_OP_DepthToSpace) {
        int64_t cc = C / (b * b);
        int64_t si = crd ? b : b * cc, sj = crd ? 1 : cc, sc = crd ? b * b : 1;
        if (nhwc) {
            int64_t d6[6] = {N, H, b, W, b, cc}, s6[6] = {H * W * C, W * C, si, C, sj, sc};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        } else {
            int64_t d6[6] = {N, cc, H, b, W, b}, s6[6] = {C * H * W, sc * H * W, W, si * H * W, 1, sj * H * W};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        }
    } else {
        int64_t h = H / b, w = W / b;
        if (nhwc) {
            int64_t d6[6] = {N, h, w, b, b, C}, s6[6] = {H * W * C, b * W * C, b * C, W * C, C, 1};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        } else {
            int64_t d6[6] = {N, b, b, C, h, w}, s6[6] = {C * H * W, W, 1, H * W, b * W, b};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        }
    }
    dt_cu_ref src;
    TRY(vref(c, n->in[0], &src));
    return mk_gather_copy(c, n, 6, vd, vs, src, n->out[0]);
}

static dt_code b_gather(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *ix = in_v(c, n, 1), *y = out_v(c, n, 0);
    if (!x || !ix || !y || !is_int(ix->dtype))
        return nope(c, n, "indices must be int32/int64");
    int es = (int)dt_dtype_size(x->dtype);
    if (es != 1 && es != 2 && es != 4 && es != 8)
        return nope(c, n, "dtype");
    int ax = dt_norm_axis(dt_attr_int(n, "axis", 0), x->ndim);
    if (ax < 0)
        return nope(c, n, "axis");
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_GATHER);
    dt_cu_gather *p = &s->u.g;
    p->es = es;
    p->ies = (int)dt_dtype_size(ix->dtype);
    p->n = vnumel(y);
    p->k = x->dims[ax];
    p->ni = vnumel(ix);
    p->inner = prod(x->dims, ax + 1, x->ndim);
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->in[1], &s->op[1]));
    TRY(vref(c, n->out[0], &s->op[2]));
    return DT_OK;
}

static dt_code b_gather_el(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *ix = in_v(c, n, 1), *y = out_v(c, n, 0);
    if (!x || !ix || !y || !is_int(ix->dtype) || ix->ndim != x->ndim || x->ndim < 1)
        return nope(c, n, "indices must be int32/int64 of the data's rank");
    int es = (int)dt_dtype_size(x->dtype);
    if (es != 1 && es != 2 && es != 4 && es != 8)
        return nope(c, n, "dtype");
    int ax = dt_norm_axis(dt_attr_int(n, "axis", 0), x->ndim);
    if (ax < 0)
        return nope(c, n, "axis");
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_GATHER_EL);
    dt_cu_gather_el *p = &s->u.ge;
    p->rank = x->ndim;
    p->axis = ax;
    p->es = es;
    p->ies = (int)dt_dtype_size(ix->dtype);
    p->n = vnumel(y);
    p->k = x->dims[ax];
    memcpy(p->idims, ix->dims, (size_t)x->ndim * sizeof(int64_t));
    row_strides(x->ndim, x->dims, p->xstr);
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->in[1], &s->op[1]));
    TRY(vref(c, n->out[0], &s->op[2]));
    return DT_OK;
}

static dt_code b_norm(bctx *c, const dt_node *n)
{
    const dt_value *x = in_v(c, n, 0), *y = out_v(c, n, 0);
    int lrn = n->op == DT_OP_LRN;
    if (!x || !y || x->dtype != DT_F32 || x->ndim < (lrn ? 2 : 3))
        return nope(c, n, "needs float32 input");
    int nhwc;
    TRY(layout_of(c, n, &nhwc));
    int64_t C = nhwc ? x->dims[x->ndim - 1] : x->dims[1];
    if (!lrn)
        for (int i = 1; i <= 2; i++) {
            const dt_value *v = in_v(c, n, i);
            if (!v || v->dtype != DT_F32 || vnumel(v) != C)
                return nope(c, n, "scale / bias must be float32 of %lld values", (long long)C);
        }
    if (vnumel(y) <= 0)
        return DT_OK;
    ADD_STEP(s, DT_CU_NORM);
    dt_cu_norm *p = &s->u.nm;
    p->lrn = lrn;
    p->nhwc = nhwc;
    p->C = C;
    p->S = C ? vnumel(x) / (x->dims[0] * C) : 0;
    p->n = lrn ? vnumel(x) : x->dims[0] * C;
    p->eps = dt_attr_float(n, "epsilon", 1e-5f);
    p->size = dt_attr_int(n, "size", 1);
    p->alpha = dt_attr_float(n, "alpha", 1e-4f);
    p->beta = dt_attr_float(n, "beta", 0.75f);
    p->bias = dt_attr_float(n, "bias", 1.0f);
    if (lrn && p->size < 1)
        return nope(c, n, "size");
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->out[0], &s->op[1]));
    if (!lrn) {
        TRY(vref(c, n->in[1], &s->op[2]));
        TRY(vref(c, n->in[2], &s->op[3]));
    }
    return DT_OK;
}

/* ==== GEMM ================================================================= */

static dt_code b_gemm(bctx *c, const dt_node *n)
{
    const dt_value *a = in_v(c, n, 0), *b = in_v(c, n, 1), *cc = in_v(c, n, 2), *y = out_v(c, n, 0);
    if (!a || !b || !y || a->dtype != DT_F32 || b->dtype != DT_F32 || a->ndim != 2 || b->ndim != 2 ||
        (cc && (cc->dtype != DT_F32 || cc->ndim > 2)))
        return nope(c, n, "needs float32 2-D operands");
    int ta = dt_attr_int(n, "transA", 0) != 0, tb = dt_attr_int(n, "transB", 0) != 0;
    int64_t M = ta ? a->dims[1] : a->dims[0], K = ta ? a->dims[0] : a->dims[1], N = tb ? b->dims[0] : b->dims[1];
    float alpha = dt_attr_float(n, "alpha", 1.f), beta = dt_attr_float(n, "beta", 1.f);
    if (M * N <= 0)
        return DT_OK;
    if (cc) {
        int64_t cm = cc->ndim == 2 ? cc->dims[0] : 1, cn = cc->ndim >= 1 ? cc->dims[cc->ndim - 1] : 1;
        int64_t dims[2] = {M, N}, sstr[2] = {cm == 1 ? 0 : cn, cn == 1 ? 0 : 1};
        dt_cu_ref src;
        TRY(vref(c, n->in[2], &src));
        TRY(mk_gather_copy(c, n, 2, dims, sstr, src, n->out[0]));
    }
    ADD_STEP(s, DT_CU_GEMM);
    dt_cu_gemm *g = &s->u.gm;
    g->ta = ta;
    g->tb = tb;
    g->math = c->o->tf32;
    g->M = M;
    g->N = N;
    g->K = K;
    g->batch = 1;
    g->n_outer = 1;
    g->alpha = alpha;
    g->beta = cc ? beta : 0.f;
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->in[1], &s->op[1]));
    TRY(vref(c, n->out[0], &s->op[2]));
    return mk_act(c, n, n->out[0], dt_act_from_node(n));
}

/* nn_gemm.c mm_shape_get, then batch dims merged where both operands are
 * contiguous over them: one strided-batched call, or a few. */
static dt_code b_matmul(bctx *c, const dt_node *n)
{
    const dt_value *av = in_v(c, n, 0), *bv = in_v(c, n, 1), *y = out_v(c, n, 0);
    if (!av || !bv || !y || av->dtype != DT_F32 || bv->dtype != DT_F32 || av->ndim < 1 || bv->ndim < 1)
        return nope(c, n, "needs float32 operands");
    int64_t a[DT_MAX_DIMS + 1], b[DT_MAX_DIMS + 1];
    int ra = av->ndim, rb = bv->ndim;
    if (ra == 1) {
        a[0] = 1;
        a[1] = av->dims[0];
        ra = 2;
    } else {
        memcpy(a, av->dims, (size_t)ra * sizeof(int64_t));
    }
    if (rb == 1) {
        b[0] = bv->dims[0];
        b[1] = 1;
        rb = 2;
    } else {
        memcpy(b, bv->dims, (size_t)rb * sizeof(int64_t));
    }
    int64_t M = a[ra - 2], K = a[ra - 1], N = b[rb - 1];
    int na = ra - 2, nbb = rb - 2, nb = na > nbb ? na : nbb;
    int64_t bd[DT_MAX_DIMS], as[DT_MAX_DIMS], bs[DT_MAX_DIMS];
    int64_t astr = M * K, bstr = K * N;
    for (int i = nb - 1; i >= 0; i--) {
        int ia = i - (nb - na), ib = i - (nb - nbb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        bd[i] = da == 1 ? db : da;
        as[i] = da == 1 ? 0 : astr;
        bs[i] = db == 1 ? 0 : bstr;
        astr *= da;
        bstr *= db;
    }
    if (vnumel(y) <= 0)
        return DT_OK;
    /* merge batch dims */
    int64_t md[DT_MAX_DIMS], ma[DT_MAX_DIMS], mb[DT_MAX_DIMS];
    int m = 0;
    for (int i = 0; i < nb; i++) {
        if (bd[i] == 1)
            continue;
        if (m > 0 && ma[m - 1] == as[i] * bd[i] && mb[m - 1] == bs[i] * bd[i]) {
            md[m - 1] *= bd[i];
            ma[m - 1] = as[i];
            mb[m - 1] = bs[i];
            continue;
        }
        md[m] = bd[i];
        ma[m] = as[i];
        mb[m] = bs[i];
        m++;
    }
    int64_t outer = 1;
    for (int i = 0; i < m - 1; i++)
        outer *= md[i];
    if (outer > DT_CU_MAX_OUTER)
        return nope(c, n, "batch broadcast needs %lld separate GEMMs", (long long)outer);
    ADD_STEP(s, DT_CU_GEMM);
    dt_cu_gemm *g = &s->u.gm;
    g->math = c->o->tf32;
    g->M = M;
    g->N = N;
    g->K = K;
    g->alpha = 1.f;
    g->beta = 0.f;
    g->batch = m ? md[m - 1] : 1;
    g->sa = m ? ma[m - 1] : 0;
    g->sb = m ? mb[m - 1] : 0;
    g->sy = M * N;
    g->n_outer = (int)outer;
    for (int64_t o = 0; o < outer; o++) {
        int64_t rem = o, oa = 0, ob = 0;
        for (int i = m - 2; i >= 0; i--) {
            int64_t ci = rem % md[i];
            rem /= md[i];
            oa += ci * ma[i];
            ob += ci * mb[i];
        }
        g->oa[o] = oa;
        g->ob[o] = ob;
        g->oy[o] = o * g->batch * M * N;
    }
    TRY(vref(c, n->in[0], &s->op[0]));
    TRY(vref(c, n->in[1], &s->op[1]));
    TRY(vref(c, n->out[0], &s->op[2]));
    return mk_act(c, n, n->out[0], dt_act_from_node(n));
}

/* ==== plan ================================================================= */

static dt_code b_view(bctx *c, const dt_node *n)
{
    if (n->n_out < 1 || n->out[0] < 0 || n->n_in < 1 || n->in[0] < 0)
        return nope(c, n, "malformed");
    if (c->g->values[n->out[0]].alias >= 0)
        return DT_OK; /* the planner made it share its input's memory */
    return mk_memcpy(c, n, n->in[0], n->out[0]);
}

static dt_code build_node(bctx *c, const dt_node *n)
{
    for (int k = 0; k < n->n_out; k++) {
        const dt_value *v = dt_node_out(c->g, n, k);
        if (v && c->used[n->out[k]] && !is_any(v->dtype))
            return nope(c, n, "output dtype %s", dt_dtype_name(v->dtype));
    }
    for (int k = 0; k < n->n_in; k++) {
        const dt_value *v = dt_node_in(c->g, n, k);
        if (v && !dt_dtype_size(v->dtype))
            return nope(c, n, "input dtype %s", dt_dtype_name(v->dtype));
    }
    switch (n->op) {
    case DT_OP_Reshape: case DT_OP_Flatten: case DT_OP_Squeeze: case DT_OP_Unsqueeze: case DT_OP_Identity:
        return b_view(c, n);
    case DT_OP_Dropout: return b_dropout(c, n);
    case DT_OP_Cast: return b_cast(c, n);
    case DT_OP_Relu: case DT_OP_LeakyRelu: case DT_OP_Sigmoid: case DT_OP_HardSigmoid: case DT_OP_HardSwish:
    case DT_OP_Tanh: case DT_OP_Clip: case DT_OP_Sqrt: case DT_OP_Exp: case DT_OP_Log: case DT_OP_Abs:
    case DT_OP_Neg: case DT_OP_Reciprocal: case DT_OP_Floor: case DT_OP_Ceil: case DT_OP_Round: case DT_OP_Erf:
    case DT_OP_Softplus: case DT_OP_Elu: case DT_OP_Selu: case DT_OP_Mish: case DT_OP_Sign: case DT_OP_Not:
        return b_unary(c, n);
    case DT_OP_Add: case DT_OP_Sub: case DT_OP_Mul: case DT_OP_Div: case DT_OP_Pow: case DT_OP_Min:
    case DT_OP_Max: case DT_OP_Sum: case DT_OP_Mean: case DT_OP_Mod: case DT_OP_Equal: case DT_OP_Greater:
    case DT_OP_Less: case DT_OP_GreaterOrEqual: case DT_OP_LessOrEqual: case DT_OP_And: case DT_OP_Or:
    case DT_OP_Xor: case DT_OP_FloorDiv: case DT_OP_PRelu:
        return b_binary(c, n);
    case DT_OP_Where: return b_where(c, n);
    case DT_OP_BatchNormalization: return b_batchnorm(c, n);
    case DT_OP_Conv: return b_conv(c, n);
    case DT_OP_ConvTranspose: return b_convt(c, n);
    case DT_OP_MaxPool: case DT_OP_AveragePool: case DT_OP_GlobalAveragePool: case DT_OP_GlobalMaxPool:
        return b_pool(c, n);
    case DT_OP_Resize: case DT_OP_Upsample: return b_resize(c, n);
    case DT_OP_Pad: return b_pad(c, n);
    case DT_OP_Softmax: case DT_OP_LogSoftmax: return b_softmax(c, n);
    case DT_OP_ReduceMean: case DT_OP_ReduceMax: case DT_OP_ReduceMin: case DT_OP_ReduceSum: case DT_OP_ReduceProd:
        return b_reduce(c, n);
    case DT_OP_ArgMax: case DT_OP_ArgMin: return b_arg(c, n);
    case DT_OP_TopK: return b_topk(c, n);
    case DT_OP_Concat: return b_concat(c, n);
    case DT_OP_Split: return b_split(c, n);
    case DT_OP_Slice: return b_slice(c, n);
    case DT_OP_Transpose: return b_transpose(c, n);
    case DT_OP_Expand: return b_expand(c, n);
    case DT_OP_Tile: return b_tile(c, n);
    case DT_OP_DepthToSpace: case DT_OP_SpaceToDepth: return b_d2s(c, n);
    case DT_OP_Gather: return b_gather(c, n);
    case DT_OP_GatherElements: return b_gather_el(c, n);
    case DT_OP_InstanceNormalization: case DT_OP_LRN: return b_norm(c, n);
    case DT_OP_Gemm: return b_gemm(c, n);
    case DT_OP_MatMul: return b_matmul(c, n);
    default: return nope(c, n, "no CUDA implementation");
    }
}

static dt_code io_fill(const dt_graph *g, int vid, dt_cu_io *io)
{
    const dt_value *v = &g->values[vid];
    memset(io, 0, sizeof *io);
    io->vid = vid;
    io->shape = dt_value_view(v);
    io->shape.data = NULL;
    io->bytes = vbytes(v);
    if (v->buf) {
        io->off = -1;
        io->const_data = v->buf->data;
    } else {
        io->off = v->offset;
    }
    return DT_OK;
}

void dt_cu_plan_clear(dt_cu_plan *p)
{
    dt_free(p->steps);
    dt_free(p->node_step);
    dt_free(p->in);
    dt_free(p->out);
    memset(p, 0, sizeof *p);
}

dt_code dt_cu_plan_build(const dt_graph *g, size_t act_bytes, const dt_cu_opts *o, dt_cu_wpack *wp, dt_cu_plan *p,
                         char *why, size_t why_cap, dt_status *st)
{
    static const dt_cu_opts defaults = {0, 1};
    memset(p, 0, sizeof *p);
    if (why && why_cap)
        why[0] = '\0';
    p->g = g;
    p->act_bytes = act_bytes;
    p->n_nodes = g->n_nodes;
    p->n_in = g->n_inputs;
    p->n_out = g->n_outputs;
    uint8_t *used = dt_calloc((size_t)g->n_values + 1, 1);
    p->node_step = dt_malloc(((size_t)g->n_nodes + 1) * sizeof(int));
    p->in = dt_calloc((size_t)g->n_inputs + 1, sizeof(dt_cu_io));
    p->out = dt_calloc((size_t)g->n_outputs + 1, sizeof(dt_cu_io));
    if (!used || !p->node_step || !p->in || !p->out) {
        dt_free(used);
        dt_cu_plan_clear(p);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0)
                used[g->nodes[i].in[k]] = 1;
    for (int i = 0; i < g->n_outputs; i++)
        used[g->outputs[i]] = 1;
    bctx c = {g, p, wp, o ? o : &defaults, used, why, why_cap, st};
    dt_code rc = DT_OK;
    for (int i = 0; i < g->n_nodes && rc == DT_OK; i++) {
        int before = p->n_steps;
        rc = build_node(&c, &g->nodes[i]);
        p->node_step[i] = p->n_steps > before ? before : -1;
    }
    for (int i = 0; i < g->n_inputs && rc == DT_OK; i++)
        rc = io_fill(g, g->inputs[i], &p->in[i]);
    for (int i = 0; i < g->n_outputs && rc == DT_OK; i++)
        rc = io_fill(g, g->outputs[i], &p->out[i]);
    dt_free(used);
    if (rc != DT_OK) {
        dt_cu_plan_clear(p);
        return rc;
    }
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].scr_bytes > p->scr_bytes)
            p->scr_bytes = p->steps[i].scr_bytes;
    return DT_OK;
}

void dt_cu_plan_bind(dt_cu_plan *p, char *const *base)
{
    for (int i = 0; i < p->n_steps; i++) {
        dt_cu_step *s = &p->steps[i];
        for (int k = 0; k < DT_CU_MAX_OPS; k++)
            s->ptr[k] = s->op[k].space == DT_CU_SP_NONE ? NULL : base[s->op[k].space] + s->op[k].off;
    }
}

const char *dt_cu_kind_name(int kind)
{
    static const char *const names[DT_CU_KIND_COUNT_] = {
        "nop", "cu_memcpy", "cu_unary", "cu_binary", "cu_where", "cu_copy", "cu_chan", "cu_pool", "cu_resize",
        "cu_pad", "cu_softmax", "cu_reduce", "cu_arg", "cu_gather", "cu_topk", "cudnn_conv", "cublas_gemm",
        "cudnn_conv_transpose", "cu_gather_elements", "cu_norm",
    };
    return kind >= 0 && kind < DT_CU_KIND_COUNT_ ? names[kind] : "?";
}

const char *dt_cu_plan_kernel(const dt_cu_plan *p, int node)
{
    if (node < 0 || node >= p->n_nodes || p->node_step[node] < 0)
        return NULL;
    const dt_cu_step *s = &p->steps[p->node_step[node]];
    /* a conv's pre-pad step is not what names the node */
    if (s->kind == DT_CU_PAD && p->node_step[node] + 1 < p->n_steps && s[1].node == node && s[1].kind == DT_CU_CONV)
        s++;
    return dt_cu_kind_name(s->kind);
}

/* ==== layouts ============================================================== */

static int add_aligned(size_t *at, size_t size, size_t *off)
{
    size_t o = align_up(*at, DT_CU_ALIGN);
    if (o < *at || o + size < o)
        return 0;
    *off = o;
    *at = o + size;
    return 1;
}

dt_code dt_cu_layout_compute(size_t weights, size_t act, size_t scr, size_t blas_ws, dt_cu_layout *l, dt_status *st)
{
    size_t at = 0;
    memset(l, 0, sizeof *l);
    if (!add_aligned(&at, weights, &l->w_off) || !add_aligned(&at, act, &l->act_off) ||
        !add_aligned(&at, scr, &l->scr_off) || !add_aligned(&at, blas_ws, &l->blas_off) ||
        !add_aligned(&at, 16, &l->flag_off))
        return dt_fail(st, DT_ELIMIT, "device memory layout overflows");
    l->total = align_up(at, DT_CU_ALIGN);
    return DT_OK;
}

dt_code dt_cu_io_layout(dt_cu_plan *plans, int n, size_t *pinned_bytes, dt_status *st)
{
    size_t most = 0;
    for (int b = 0; b < n; b++) {
        dt_cu_plan *p = &plans[b];
        size_t at = 0;
        for (int i = 0; i < p->n_in; i++)
            if (!add_aligned(&at, p->in[i].bytes, &p->in[i].host_off))
                return dt_fail(st, DT_ELIMIT, "pinned buffer layout overflows");
        for (int i = 0; i < p->n_out; i++) {
            if (p->out[i].off < 0)
                continue; /* constant: read from the graph */
            if (!add_aligned(&at, p->out[i].bytes, &p->out[i].host_off))
                return dt_fail(st, DT_ELIMIT, "pinned buffer layout overflows");
        }
        if (at > most)
            most = at;
    }
    *pinned_bytes = align_up(most ? most : 1, DT_CU_ALIGN);
    return DT_OK;
}

/* ==== library arguments ==================================================== */

void dt_cu_conv_desc_get(const dt_cu_conv *c, dt_cu_conv_desc *d)
{
    memset(d, 0, sizeof *d);
    d->x_nhwc = c->nhwc;
    d->w_nhwc = c->filter_nhwc;
    int *in = c->transposed ? d->y_dims : d->x_dims, *out = c->transposed ? d->x_dims : d->y_dims;
    in[0] = c->N;
    in[1] = c->C;
    in[2] = c->H;
    in[3] = c->W;
    out[0] = c->N;
    out[1] = c->K;
    out[2] = c->P;
    out[3] = c->Q;
    /* the filter is [channels of y, channels of x / group, R, S] either way:
     * ONNX's ConvTranspose weights [Cin, Cout / group, kH, kW] as they are */
    d->w_dims[0] = c->transposed ? c->C : c->K;
    d->w_dims[1] = (c->transposed ? c->K : c->C) / c->group;
    d->w_dims[2] = c->R;
    d->w_dims[3] = c->S;
    d->pad[0] = c->pad_h;
    d->pad[1] = c->pad_w;
    d->str[0] = c->str_h;
    d->str[1] = c->str_w;
    d->dil[0] = c->dil_h;
    d->dil[1] = c->dil_w;
    d->group = c->group;
}

dt_code dt_cu_gemm_blas_args(const dt_cu_gemm *g, dt_cu_blas_args *a, dt_status *st)
{
    /* Row-major Y = op(A) op(B) is column-major Y^T = op(B)^T op(A)^T: pass B
     * first; a row-major [r, c] matrix is a column-major [c, r] one. */
    if (!fits_int(g->M) || !fits_int(g->N) || !fits_int(g->K) || !fits_int(g->batch))
        return dt_fail(st, DT_EUNSUPPORTED, "GEMM sizes beyond cuBLAS's int range");
    memset(a, 0, sizeof *a);
    a->trans_first = g->tb;
    a->trans_second = g->ta;
    a->m = (int)g->N;
    a->n = (int)g->M;
    a->k = (int)g->K;
    a->ld_first = (int)(g->tb ? g->K : g->N);
    a->ld_second = (int)(g->ta ? g->M : g->K);
    a->ldc = (int)g->N;
    if (a->ld_first < 1)
        a->ld_first = 1;
    if (a->ld_second < 1)
        a->ld_second = 1;
    if (a->ldc < 1)
        a->ldc = 1;
    a->stride_first = g->sb;
    a->stride_second = g->sa;
    a->stride_c = g->sy;
    a->batch = (int)g->batch;
    return DT_OK;
}

/* ==== devices ============================================================== */

dt_code dt_cuda_parse_device(const char *s, int *dev, dt_status *st)
{
    *dev = -1;
    if (!s || !*s || !strcmp(s, "cpu"))
        return DT_OK;
    if (!strcmp(s, "cuda") || !strcmp(s, "gpu")) {
        *dev = 0;
        return DT_OK;
    }
    if (!strncmp(s, "cuda:", 5) && s[5] >= '0' && s[5] <= '9') {
        long v = 0;
        const char *p = s + 5;
        while (*p >= '0' && *p <= '9' && v < 100000)
            v = v * 10 + (*p++ - '0');
        if (!*p && v < 1024) {
            *dev = (int)v;
            return DT_OK;
        }
    }
    return dt_fail(st, DT_EINVAL, "'%.40s' is not a device (cpu, cuda or cuda:N)", s);
}

dt_code dt_cuda_resolve_device(const char *req, int worker, char *out, size_t cap, char *why, size_t why_cap,
                               dt_status *st)
{
    int dev = -1;
    if (why && why_cap)
        why[0] = '\0';
    dt_code rc = dt_cuda_parse_device(req, &dev, st);
    if (rc != DT_OK)
        return rc;
    if (dev < 0) {
        snprintf(out, cap, "cpu");
        return DT_OK;
    }
    char no[DT_STATUS_MSG] = "";
    int n = dt_cuda_available(no, sizeof no);
    if (n <= 0) {
        if (why && why_cap)
            snprintf(why, why_cap, "%s", no);
        snprintf(out, cap, "cpu");
        return DT_OK;
    }
    int pinned = req && !strncmp(req, "cuda:", 5);
    if (pinned && dev >= n) {
        if (why && why_cap)
            snprintf(why, why_cap, "cuda:%d does not exist (%d GPU%s visible)", dev, n, n == 1 ? "" : "s");
        snprintf(out, cap, "cpu");
        return DT_OK;
    }
    if (!pinned)
        dev = worker >= 0 ? worker % n : 0;
    snprintf(out, cap, "cuda:%d", dev);
    return DT_OK;
}
