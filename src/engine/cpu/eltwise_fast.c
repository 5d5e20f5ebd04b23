/* eltwise_fast.c — vectorised float32 elementwise ops left unfused in the
 * graph: activations (Relu, Clip, Sigmoid, HardSigmoid, HardSwish,
 * LeakyRelu, Tanh) and Add/Sub/Mul/Div with broadcasting; same-shape float
 * Equal and bool-to-float Cast.
 *
 * Broadcasting is planned at prepare: output dims of size 1 are dropped and
 * neighbouring dims with the same broadcast pattern merged, leaving groups
 * with a per-input stride (0 = broadcast); the innermost group runs as one
 * vector loop (vector op vector, or vector op one value). */
#include <float.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cpu/conv_impl.h"
#include "engine/cpu/cpu.h"
#include "engine/cpu/misc_fast.h"
#include "engine/cpu/pool.h"

static int elt_isa(void)
{
    const dt_cpu_features *f = dt_cpu_features_get();
    if (f->avx512f && f->avx512bw && f->avx512vl && f->fma && __builtin_cpu_supports("avx512dq"))
        return DT_ISA_AVX512;
    if (f->avx2 && f->fma)
        return DT_ISA_AVX2;
    return DT_ISA_GENERIC;
}

static void act_n(int isa, const dt_act_params *p, const float *x, float *y, int64_t n)
{
    if (isa == DT_ISA_AVX512)
        dt_fast_act_avx512(p, x, y, n);
    else if (isa == DT_ISA_AVX2)
        dt_fast_act_avx2(p, x, y, n);
    else
        dt_fast_act_generic(p, x, y, n);
}

static void bin_n(int isa, int op, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n)
{
    if (isa == DT_ISA_AVX512)
        dt_fast_binary_avx512(op, a, sa, b, sb, y, n);
    else if (isa == DT_ISA_AVX2)
        dt_fast_binary_avx2(op, a, sa, b, sb, y, n);
    else
        dt_fast_binary_generic(op, a, sa, b, sb, y, n);
}

#define ELT_CHUNK 16384 /* elements per parallel task */

/* ---- unary ---------------------------------------------------------------- */

typedef struct un_state {
    int isa;
    dt_act_params act;
    int64_t n;
} un_state;

/* A scalar float constant input, or def when absent; 0 if not constant. */
static int const_scalar(const dt_graph *g, const dt_node *n, int i, float def, float *out)
{
    const dt_value *v = dt_node_in(g, n, i);
    if (!v) {
        *out = def;
        return 1;
    }
    if (!dt_value_is_const(v) || v->dtype != DT_F32 || dt_shape_numel(v->ndim, v->dims) != 1)
        return 0;
    *out = *(const float *)v->buf->data;
    return 1;
}

static int un_analyse(const dt_graph *g, const dt_node *n, un_state *u)
{
    memset(u, 0, sizeof *u);
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y || n->n_out != 1 || x->dtype != DT_F32 || y->dtype != DT_F32)
        return 0;
    u->n = dt_shape_numel(x->ndim, x->dims);
    if (u->n <= 0 || dt_shape_numel(y->ndim, y->dims) != u->n)
        return 0;
    switch (n->op) {
    case DT_OP_Relu:
        u->act.kind = DT_ACT_RELU;
        break;
    case DT_OP_Clip:
        u->act.kind = DT_ACT_CLIP;
        if (n->opset && n->opset < 11) {
            u->act.alpha = dt_attr_float(n, "min", -FLT_MAX);
            u->act.beta = dt_attr_float(n, "max", FLT_MAX);
        } else if (!const_scalar(g, n, 1, -FLT_MAX, &u->act.alpha) || !const_scalar(g, n, 2, FLT_MAX, &u->act.beta)) {
            return 0;
        }
        break;
    case DT_OP_Sigmoid:
        u->act.kind = DT_ACT_SIGMOID;
        break;
    case DT_OP_HardSigmoid:
        u->act.kind = DT_ACT_HARDSIGMOID;
        u->act.alpha = dt_attr_float(n, "alpha", 0.2f);
        u->act.beta = dt_attr_float(n, "beta", 0.5f);
        break;
    case DT_OP_HardSwish:
        u->act.kind = DT_ACT_HARDSWISH;
        break;
    case DT_OP_LeakyRelu:
        u->act.kind = DT_ACT_LEAKYRELU;
        u->act.alpha = dt_attr_float(n, "alpha", 0.01f);
        break;
    case DT_OP_Tanh:
        u->act.kind = DT_ACT_TANH;
        break;
    default:
        return 0;
    }
    return 1;
}

typedef struct un_ctx {
    const un_state *u;
    const float *x;
    float *y;
} un_ctx;

static void un_task(void *arg, int64_t t0, int64_t t1)
{
    const un_ctx *c = arg;
    int64_t i0 = t0 * ELT_CHUNK, i1 = t1 * ELT_CHUNK < c->u->n ? t1 * ELT_CHUNK : c->u->n;
    act_n(c->u->isa, &c->u->act, c->x + i0, c->y + i0, i1 - i0);
}

static dt_code un_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    un_state *u = dt_calloc(1, sizeof *u);
    if (!u)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
    if (!un_analyse(g, n, u)) {
        dt_free(u);
        return dt_fail(st, DT_EINTERNAL, "node '%s': elementwise fast path does not apply", n->name);
    }
    u->isa = elt_isa();
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = u;
    n->kstate_free = dt_free;
    return DT_OK;
}

static dt_code un_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const un_state *u = n->kstate;
    if (!u || n_in < 1 || !in[0] || n_out < 1 || !out[0] || dt_tensor_numel(in[0]) != u->n ||
        dt_tensor_numel(out[0]) != u->n)
        return dt_fail(st, DT_EINTERNAL, "node '%s': kernel not prepared for these shapes", n->name);
    un_ctx c = {u, in[0]->data, out[0]->data};
    dt_pool_for(ctx->pool, (u->n + ELT_CHUNK - 1) / ELT_CHUNK, 1, un_task, &c);
    return DT_OK;
}

/* ---- binary --------------------------------------------------------------- */

typedef struct bin_state {
    int isa, op, ng;
    int64_t len[DT_MAX_DIMS], sa[DT_MAX_DIMS], sb[DT_MAX_DIMS]; /* groups, outermost first */
    int64_t outer, inner, n, na, nb;
} bin_state;

static int bin_analyse(const dt_graph *g, const dt_node *n, bin_state *b)
{
    memset(b, 0, sizeof *b);
    switch (n->op) {
    case DT_OP_Add: b->op = 0; break;
    case DT_OP_Sub: b->op = 1; break;
    case DT_OP_Mul: b->op = 2; break;
    case DT_OP_Div: b->op = 3; break;
    default: return 0;
    }
    const dt_value *a = dt_node_in(g, n, 0), *c = dt_node_in(g, n, 1), *y = dt_node_out(g, n, 0);
    if (!a || !c || !y || n->n_out != 1 || a->dtype != DT_F32 || c->dtype != DT_F32 || y->dtype != DT_F32)
        return 0;
    int r = y->ndim;
    if (r < 0 || r > DT_MAX_DIMS || a->ndim < 0 || c->ndim < 0 || a->ndim > r || c->ndim > r)
        return 0;
    b->na = dt_shape_numel(a->ndim, a->dims);
    b->nb = dt_shape_numel(c->ndim, c->dims);
    b->n = dt_shape_numel(y->ndim, y->dims);
    if (b->na <= 0 || b->nb <= 0 || b->n <= 0)
        return 0;
    int ng = 0, pba = -1, pbb = -1;
    for (int d = 0; d < r; d++) {
        int64_t od = y->dims[d];
        int64_t ad = d < r - a->ndim ? 1 : a->dims[d - (r - a->ndim)];
        int64_t cd = d < r - c->ndim ? 1 : c->dims[d - (r - c->ndim)];
        if ((ad != od && ad != 1) || (cd != od && cd != 1))
            return 0;
        if (od == 1)
            continue;
        int ba = ad == 1, bb = cd == 1;
        if (ng > 0 && ba == pba && bb == pbb) {
            b->len[ng - 1] *= od;
        } else {
            b->len[ng] = od;
            b->sa[ng] = ba; /* temporarily: broadcast flags */
            b->sb[ng] = bb;
            ng++;
            pba = ba;
            pbb = bb;
        }
    }
    if (ng == 0) { /* everything of size 1 */
        b->len[0] = 1;
        b->sa[0] = b->sb[0] = 0;
        ng = 1;
    }
    int64_t acca = 1, accb = 1;
    for (int i = ng - 1; i >= 0; i--) {
        int ba = (int)b->sa[i], bb = (int)b->sb[i];
        b->sa[i] = ba ? 0 : acca;
        b->sb[i] = bb ? 0 : accb;
        if (!ba)
            acca *= b->len[i];
        if (!bb)
            accb *= b->len[i];
    }
    if (acca != b->na || accb != b->nb)
        return 0;
    b->ng = ng;
    b->inner = b->len[ng - 1];
    b->outer = b->n / b->inner;
    return 1;
}

typedef struct bin_ctx {
    const bin_state *b;
    const float *a, *c;
    float *y;
    int64_t chunks; /* pieces of the inner group, when there is one outer row */
} bin_ctx;

static void bin_task(void *arg, int64_t t0, int64_t t1)
{
    const bin_ctx *x = arg;
    const bin_state *b = x->b;
    int64_t sa = b->sa[b->ng - 1], sb = b->sb[b->ng - 1];
    if (x->chunks > 1) { /* one row cut into pieces */
        for (int64_t t = t0; t < t1; t++) {
            int64_t i0 = t * ELT_CHUNK, i1 = i0 + ELT_CHUNK < b->inner ? i0 + ELT_CHUNK : b->inner;
            bin_n(b->isa, b->op, x->a + i0 * sa, sa, x->c + i0 * sb, sb, x->y + i0, i1 - i0);
        }
        return;
    }
    for (int64_t row = t0; row < t1; row++) {
        /* offsets of this outer row (mixed radix over the outer groups) */
        int64_t rem = row, oa = 0, ob = 0;
        for (int gi = b->ng - 2; gi >= 0; gi--) {
            int64_t idx = rem % b->len[gi];
            rem /= b->len[gi];
            oa += idx * b->sa[gi];
            ob += idx * b->sb[gi];
        }
        bin_n(b->isa, b->op, x->a + oa, sa, x->c + ob, sb, x->y + row * b->inner, b->inner);
    }
}

static dt_code bin_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    bin_state *b = dt_calloc(1, sizeof *b);
    if (!b)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
    if (!bin_analyse(g, n, b)) {
        dt_free(b);
        return dt_fail(st, DT_EINTERNAL, "node '%s': elementwise fast path does not apply", n->name);
    }
    b->isa = elt_isa();
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = b;
    n->kstate_free = dt_free;
    return DT_OK;
}

static dt_code bin_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    const bin_state *b = n->kstate;
    if (!b || n_in < 2 || !in[0] || !in[1] || n_out < 1 || !out[0] || dt_tensor_numel(in[0]) != b->na ||
        dt_tensor_numel(in[1]) != b->nb || dt_tensor_numel(out[0]) != b->n)
        return dt_fail(st, DT_EINTERNAL, "node '%s': kernel not prepared for these shapes", n->name);
    bin_ctx c = {b, in[0]->data, in[1]->data, out[0]->data, 1};
    if (b->outer == 1 && b->inner > ELT_CHUNK) {
        c.chunks = (b->inner + ELT_CHUNK - 1) / ELT_CHUNK;
        dt_pool_for(ctx->pool, c.chunks, 1, bin_task, &c);
    } else {
        int64_t grain = ELT_CHUNK / b->inner;
        dt_pool_for(ctx->pool, b->outer, grain < 1 ? 1 : grain, bin_task, &c);
    }
    return DT_OK;
}

/* ---- Softmax over the last axis --------------------------------------------- */

typedef struct sm_state {
    int isa;
    int64_t rows, n;
} sm_state;

static int sm_analyse(const dt_graph *g, const dt_node *n, sm_state *m)
{
    memset(m, 0, sizeof *m);
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (n->op != DT_OP_Softmax || !x || !y || x->dtype != DT_F32 || x->ndim < 1 || n->n_out != 1)
        return 0;
    int r = x->ndim;
    int coerce = n->opset < 13;
    int64_t a = dt_attr_int(n, "axis", coerce ? 1 : -1);
    if (a < 0)
        a += r;
    if (a != r - 1) /* (opset < 13 flattens from axis: the same when axis is the last) */
        return 0;
    m->n = x->dims[r - 1];
    int64_t numel = dt_shape_numel(x->ndim, x->dims);
    if (m->n <= 0 || numel <= 0 || dt_shape_numel(y->ndim, y->dims) != numel)
        return 0;
    m->rows = numel / m->n;
    return 1;
}

typedef struct sm_ctx {
    const sm_state *m;
    const float *x;
    float *y;
} sm_ctx;

static void sm_task(void *arg, int64_t r0, int64_t r1)
{
    const sm_ctx *c = arg;
    const sm_state *m = c->m;
    const float *x = c->x + r0 * m->n;
    float *y = c->y + r0 * m->n;
    if (m->isa == DT_ISA_AVX512)
        dt_fast_softmax_avx512(x, y, r1 - r0, m->n);
    else if (m->isa == DT_ISA_AVX2)
        dt_fast_softmax_avx2(x, y, r1 - r0, m->n);
    else
        dt_fast_softmax_generic(x, y, r1 - r0, m->n);
}

static dt_code sm_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    sm_state *m = dt_calloc(1, sizeof *m);
    if (!m)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
    if (!sm_analyse(g, n, m)) {
        dt_free(m);
        return dt_fail(st, DT_EINTERNAL, "node '%s': Softmax fast path does not apply", n->name);
    }
    m->isa = elt_isa();
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = m;
    n->kstate_free = dt_free;
    return DT_OK;
}

static dt_code sm_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const sm_state *m = n->kstate;
    if (!m || n_in < 1 || !in[0] || n_out < 1 || !out[0] || dt_tensor_numel(in[0]) != m->rows * m->n ||
        dt_tensor_numel(out[0]) != m->rows * m->n)
        return dt_fail(st, DT_EINTERNAL, "node '%s': kernel not prepared for these shapes", n->name);
    sm_ctx c = {m, in[0]->data, out[0]->data};
    int64_t grain = 4096 / m->n;
    dt_pool_for(ctx->pool, m->rows, grain < 1 ? 1 : grain, sm_task, &c);
    return DT_OK;
}

/* ---- Equal (f32 -> bool) and Cast (bool -> f32), same shapes -------------
 * centernet's peak mask heat * Cast(Equal(heat, MaxPool(heat))) over
 * 1.3M elements: plain loops the compiler vectorises, split over the pool. */

typedef struct mask_ctx {
    int op; /* 0 Equal, 1 Cast */
    const void *a, *b;
    void *y;
    int64_t n;
} mask_ctx;

static int mask_analyse(const dt_graph *g, const dt_node *n, int64_t *numel)
{
    const dt_value *a = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!a || !y || n->n_out != 1 || dt_shape_numel(a->ndim, a->dims) <= 0)
        return 0;
    int64_t na = dt_shape_numel(a->ndim, a->dims);
    if (dt_shape_numel(y->ndim, y->dims) != na)
        return 0;
    if (n->op == DT_OP_Equal) {
        const dt_value *b = dt_node_in(g, n, 1);
        if (n->n_in != 2 || !b || a->dtype != DT_F32 || b->dtype != DT_F32 || y->dtype != DT_BOOL ||
            b->ndim != a->ndim || dt_shape_numel(b->ndim, b->dims) != na)
            return 0;
        for (int i = 0; i < a->ndim; i++)
            if (a->dims[i] != b->dims[i])
                return 0;
    } else if (n->op == DT_OP_Cast) {
        if (a->dtype != DT_BOOL || y->dtype != DT_F32)
            return 0;
    } else {
        return 0;
    }
    *numel = na;
    return 1;
}

static void mask_task(void *arg, int64_t t0, int64_t t1)
{
    const mask_ctx *c = arg;
    int64_t i0 = t0 * ELT_CHUNK, i1 = t1 * ELT_CHUNK < c->n ? t1 * ELT_CHUNK : c->n;
    if (c->op == 0) {
        const float *a = c->a, *b = c->b;
        uint8_t *y = c->y;
        for (int64_t i = i0; i < i1; i++)
            y[i] = a[i] == b[i];
    } else {
        const uint8_t *a = c->a;
        float *y = c->y;
        for (int64_t i = i0; i < i1; i++)
            y[i] = a[i] ? 1.f : 0.f;
    }
}

static dt_code mask_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    int64_t numel;
    if (!mask_analyse(g, n, &numel))
        return dt_fail(st, DT_EINTERNAL, "node '%s': elementwise fast path does not apply", n->name);
    return DT_OK;
}

static dt_code mask_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                        const dt_kctx *ctx, dt_status *st)
{
    int eq = n->op == DT_OP_Equal;
    if (n_in < (eq ? 2 : 1) || !in[0] || (eq && !in[1]) || n_out < 1 || !out[0] ||
        dt_tensor_numel(out[0]) != dt_tensor_numel(in[0]) || (eq && dt_tensor_numel(in[1]) != dt_tensor_numel(in[0])))
        return dt_fail(st, DT_EINTERNAL, "node '%s': kernel not prepared for these shapes", n->name);
    mask_ctx c = {eq ? 0 : 1, in[0]->data, eq ? in[1]->data : NULL, out[0]->data, dt_tensor_numel(in[0])};
    dt_pool_for(ctx->pool, (c.n + ELT_CHUNK - 1) / ELT_CHUNK, 1, mask_task, &c);
    return DT_OK;
}

static const dt_cpu_kernel k_mask = {"eltwise_mask_fast", mask_prepare, mask_run};
static const dt_cpu_kernel k_softmax = {"softmax_fast", sm_prepare, sm_run};
static const dt_cpu_kernel k_unary = {"eltwise_act_fast", un_prepare, un_run};
static const dt_cpu_kernel k_binary = {"eltwise_binary_fast", bin_prepare, bin_run};

const dt_cpu_kernel *dt_cpu_eltwise_select(const dt_graph *g, const dt_node *n)
{
    un_state u;
    bin_state b;
    sm_state m;
    int64_t numel;
    if (mask_analyse(g, n, &numel))
        return &k_mask;
    if (sm_analyse(g, n, &m))
        return &k_softmax;
    if (un_analyse(g, n, &u))
        return &k_unary;
    if (bin_analyse(g, n, &b))
        return &k_binary;
    return NULL;
}
