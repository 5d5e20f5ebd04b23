/* misc_fast.c — fast MaxPool and nearest Resize.
 *
 * MaxPool (2-D, no dilation, no Indices output): separable in NCHW — a
 * horizontal max over kW into a per-thread row buffer, then a vertical max
 * over kH — so a 13x13 window costs 26 maxes per output instead of 169;
 * NHWC takes the max of whole channel vectors per tap.
 *
 * Resize (mode nearest): nearest is a pure gather, so prepare runs the
 * reference kernel once on a probe tensor holding each element's index and
 * reads the gather map off its output.  That reproduces every coordinate
 * transform and rounding mode of the reference exactly.  The map is then
 * split into per-axis row/column tables when it is separable (always, in
 * practice) and run as row copies; otherwise run() gathers element-wise. */
#include <float.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cpu/cpu.h"
#include "engine/cpu/misc_fast.h"
#include "engine/cpu/pool.h"

static int use_avx512(void)
{
    const dt_cpu_features *f = dt_cpu_features_get();
    return f->avx512f && f->avx512bw && f->avx512vl && __builtin_cpu_supports("avx512dq");
}

static void max_inplace(int avx512, float *dst, const float *src, int64_t n)
{
    if (avx512) {
        dt_fast_max_inplace_avx512(dst, src, n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        dst[i] = src[i] > dst[i] ? src[i] : dst[i];
}

static void fill(int avx512, float *p, float v, int64_t n)
{
    if (avx512) {
        dt_fast_fill_avx512(p, v, n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        p[i] = v;
}

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* ==== MaxPool ============================================================ */

#define MP_SLOTS 8

typedef struct mp_state {
    int nhwc, avx512;
    int64_t N, C, H, W, OH, OW;
    int KH, KW, SH, SW, PT, PL;
    size_t slot_bytes;
} mp_state;

static int mp_analyse(const dt_graph *g, const dt_node *n, mp_state *m)
{
    memset(m, 0, sizeof *m);
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y || (n->n_out > 1 && n->out[1] >= 0) || x->dtype != DT_F32 || y->dtype != DT_F32 || x->ndim != 4 ||
        y->ndim != 4)
        return 0;
    for (int i = 0; i < 4; i++)
        if (x->dims[i] <= 0 || y->dims[i] <= 0)
            return 0;
    const char *layout = dt_attr_str(n, "layout", "NCHW");
    if (!strcmp(layout, "NHWC"))
        m->nhwc = 1;
    else if (strcmp(layout, "NCHW"))
        return 0;
    int cnt;
    const int64_t *a = dt_attr_ints(n, "kernel_shape", &cnt);
    if (!a || cnt != 2 || a[0] < 1 || a[1] < 1 || a[0] > 256 || a[1] > 256)
        return 0;
    m->KH = (int)a[0];
    m->KW = (int)a[1];
    m->SH = m->SW = 1;
    if ((a = dt_attr_ints(n, "strides", &cnt))) {
        if (cnt != 2 || a[0] < 1 || a[1] < 1 || a[0] > 256 || a[1] > 256)
            return 0;
        m->SH = (int)a[0];
        m->SW = (int)a[1];
    }
    if ((a = dt_attr_ints(n, "dilations", &cnt)) && (cnt != 2 || a[0] != 1 || a[1] != 1))
        return 0;
    m->N = x->dims[0];
    m->C = m->nhwc ? x->dims[3] : x->dims[1];
    m->H = m->nhwc ? x->dims[1] : x->dims[2];
    m->W = m->nhwc ? x->dims[2] : x->dims[3];
    m->OH = m->nhwc ? y->dims[1] : y->dims[2];
    m->OW = m->nhwc ? y->dims[2] : y->dims[3];
    if (y->dims[0] != m->N || (m->nhwc ? y->dims[3] : y->dims[1]) != m->C)
        return 0;
    const char *ap = dt_attr_str(n, "auto_pad", "NOTSET");
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t th = (cdiv(m->H, m->SH) - 1) * m->SH + m->KH - m->H;
        int64_t tw = (cdiv(m->W, m->SW) - 1) * m->SW + m->KW - m->W;
        th = th < 0 ? 0 : th;
        tw = tw < 0 ? 0 : tw;
        int up = !strcmp(ap, "SAME_UPPER");
        m->PT = (int)(up ? th / 2 : (th + 1) / 2);
        m->PL = (int)(up ? tw / 2 : (tw + 1) / 2);
    } else if (!strcmp(ap, "NOTSET")) {
        if ((a = dt_attr_ints(n, "pads", &cnt))) {
            if (cnt != 4 || a[0] < 0 || a[1] < 0 || a[0] > 256 || a[1] > 256)
                return 0;
            m->PT = (int)a[0];
            m->PL = (int)a[1];
        }
    } else if (strcmp(ap, "VALID")) {
        return 0;
    }
    /* every window must touch the input (the reference's -FLT_MAX otherwise) */
    if ((m->OH - 1) * m->SH - m->PT >= m->H || (m->OW - 1) * m->SW - m->PL >= m->W || m->PT >= m->KH ||
        m->PL >= m->KW)
        return 0;
    return 1;
}

typedef struct mp_ctx {
    const mp_state *m;
    const float *x;
    float *y;
    char *scratch;
    atomic_llong next;
} mp_ctx;

static void mp_nchw_slot(void *arg, int64_t s0, int64_t s1)
{
    mp_ctx *c = arg;
    const mp_state *m = c->m;
    for (int64_t s = s0; s < s1; s++) {
        float *tmp = (float *)(c->scratch + (size_t)s * m->slot_bytes);
        for (;;) {
            int64_t p = atomic_fetch_add(&c->next, 1);
            if (p >= m->N * m->C)
                break;
            const float *xp = c->x + p * m->H * m->W;
            float *yp = c->y + p * m->OH * m->OW;
            /* horizontal: tmp[y][ox] = max over kx, over the ox whose tap is inside the row */
            for (int64_t y = 0; y < m->H; y++) {
                float *t = tmp + y * m->OW;
                const float *row = xp + y * m->W;
                fill(m->avx512, t, -FLT_MAX, m->OW);
                for (int kx = 0; kx < m->KW; kx++) {
                    int64_t off = kx - m->PL; /* ix = ox*SW + off */
                    int64_t lo = off >= 0 ? 0 : (-off + m->SW - 1) / m->SW;
                    int64_t hi = off <= m->W - 1 ? (m->W - 1 - off) / m->SW + 1 : 0;
                    hi = hi > m->OW ? m->OW : hi;
                    if (lo >= hi)
                        continue;
                    if (m->SW == 1) {
                        max_inplace(m->avx512, t + lo, row + lo + off, hi - lo);
                    } else if (m->SW == 2 && m->avx512) {
                        dt_fast_max_s2_avx512(t + lo, row + off + 2 * lo, hi - lo);
                    } else {
                        const float *r = row + off;
                        for (int64_t ox = lo; ox < hi; ox++) {
                            float v = r[ox * m->SW];
                            t[ox] = v > t[ox] ? v : t[ox];
                        }
                    }
                }
            }
            /* vertical */
            for (int64_t oy = 0; oy < m->OH; oy++) {
                float *o = yp + oy * m->OW;
                fill(m->avx512, o, -FLT_MAX, m->OW);
                for (int ky = 0; ky < m->KH; ky++) {
                    int64_t iy = oy * m->SH - m->PT + ky;
                    if (iy >= 0 && iy < m->H)
                        max_inplace(m->avx512, o, tmp + iy * m->OW, m->OW);
                }
            }
        }
    }
}

static void mp_nhwc_rows(void *arg, int64_t r0, int64_t r1)
{
    mp_ctx *c = arg;
    const mp_state *m = c->m;
    for (int64_t r = r0; r < r1; r++) {
        int64_t n = r / m->OH, oy = r % m->OH;
        for (int64_t ox = 0; ox < m->OW; ox++) {
            float *o = c->y + ((r * m->OW) + ox) * m->C;
            fill(m->avx512, o, -FLT_MAX, m->C);
            for (int ky = 0; ky < m->KH; ky++) {
                int64_t iy = oy * m->SH - m->PT + ky;
                if (iy < 0 || iy >= m->H)
                    continue;
                for (int kx = 0; kx < m->KW; kx++) {
                    int64_t ix = ox * m->SW - m->PL + kx;
                    if (ix >= 0 && ix < m->W)
                        max_inplace(m->avx512, o, c->x + ((n * m->H + iy) * m->W + ix) * m->C, m->C);
                }
            }
        }
    }
}

static dt_code mp_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    mp_state *m = dt_calloc(1, sizeof *m);
    if (!m)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
    if (!mp_analyse(g, n, m)) {
        dt_free(m);
        return dt_fail(st, DT_EINTERNAL, "node '%s': MaxPool fast path does not apply", n->name);
    }
    m->avx512 = use_avx512();
    if (!m->nhwc) {
        m->slot_bytes = ((size_t)(m->H * m->OW) * sizeof(float) + 63) & ~(size_t)63;
        if (n->scratch_bytes < m->slot_bytes * MP_SLOTS)
            n->scratch_bytes = m->slot_bytes * MP_SLOTS;
    }
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = m;
    n->kstate_free = dt_free;
    return DT_OK;
}

static dt_code mp_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const mp_state *m = n->kstate;
    if (!m || n_in < 1 || n_out < 1 || !in[0] || !out[0] || dt_tensor_numel(in[0]) != m->N * m->C * m->H * m->W ||
        dt_tensor_numel(out[0]) != m->N * m->C * m->OH * m->OW)
        return dt_fail(st, DT_EINTERNAL, "node '%s': MaxPool kernel not prepared for these shapes", n->name);
    mp_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.x = in[0]->data;
    c.y = out[0]->data;
    if (m->nhwc) {
        dt_pool_for(ctx->pool, m->N * m->OH, 1, mp_nhwc_rows, &c);
        return DT_OK;
    }
    int64_t slots = dt_pool_threads(ctx->pool);
    if (slots > MP_SLOTS)
        slots = MP_SLOTS;
    if (slots > (int64_t)(ctx->scratch_bytes / m->slot_bytes))
        slots = (int64_t)(ctx->scratch_bytes / m->slot_bytes);
    if (slots < 1 || !ctx->scratch)
        return dt_fail(st, DT_EINTERNAL, "node '%s': MaxPool scratch missing", n->name);
    c.scratch = ctx->scratch;
    atomic_store(&c.next, 0);
    dt_pool_for(slots > 1 ? ctx->pool : NULL, slots, 1, mp_nchw_slot, &c);
    return DT_OK;
}

static const dt_cpu_kernel k_maxpool = {"maxpool_fast", mp_prepare, mp_run};

const dt_cpu_kernel *dt_cpu_maxpool_select(const dt_graph *g, const dt_node *n)
{
    mp_state m;
    if (n->op != DT_OP_MaxPool || !mp_analyse(g, n, &m))
        return NULL;
    return &k_maxpool;
}

/* ==== Resize (nearest) ==================================================== */

typedef struct rz_state {
    int kind;            /* 1 separable NCHW, 2 separable NHWC, 3 full gather */
    int64_t N, C, H, W, OH, OW;
    int32_t *sy, *sx;    /* separable: source row / column per output row / column */
    int32_t *map;        /* full gather: source element per output element */
    int64_t out_numel;
} rz_state;

static void rz_free(void *p)
{
    rz_state *r = p;
    if (!r)
        return;
    dt_free(r->sy);
    dt_free(r->sx);
    dt_free(r->map);
    dt_free(r);
}

static int rz_applies(const dt_graph *g, const dt_node *n)
{
    if (n->op != DT_OP_Resize || n->n_out != 1)
        return 0;
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y || x->dtype != DT_F32 || y->dtype != DT_F32 || x->ndim != 4 || y->ndim != 4)
        return 0;
    if (strcmp(dt_attr_str(n, "mode", "nearest"), "nearest") ||
        !strcmp(dt_attr_str(n, "coordinate_transformation_mode", ""), "tf_crop_and_resize"))
        return 0;
    for (int i = 1; i < n->n_in; i++) {
        const dt_value *v = dt_node_in(g, n, i);
        if (v && !dt_value_is_const(v) && dt_shape_numel(v->ndim, v->dims) != 0)
            return 0;
    }
    int64_t xn = dt_shape_numel(x->ndim, x->dims), yn = dt_shape_numel(y->ndim, y->dims);
    /* the probe holds indices as exact floats */
    return xn > 0 && yn > 0 && xn < (1 << 24) && yn < (1 << 24);
}

/* Find per-axis tables for a map laid out as [N][C][OH][OW] (NCHW) or
 * [N][OH][OW][C] (NHWC) with N and C passed through; 0 if not separable. */
static int rz_separate(rz_state *r, int nhwc)
{
    int64_t N = r->N, C = r->C, H = r->H, W = r->W, OH = r->OH, OW = r->OW;
    for (int64_t oy = 0; oy < OH; oy++) {
        int64_t src = r->map[nhwc ? oy * OW * C : oy * OW];
        r->sy[oy] = (int32_t)(nhwc ? src / (W * C) : src / W);
    }
    for (int64_t ox = 0; ox < OW; ox++) {
        int64_t src = r->map[nhwc ? ox * C : ox];
        r->sx[ox] = (int32_t)(nhwc ? (src / C) % W : src % W);
    }
    for (int64_t nn = 0; nn < N; nn++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    int64_t o = nhwc ? ((nn * OH + oy) * OW + ox) * C + c : ((nn * C + c) * OH + oy) * OW + ox;
                    int64_t want = nhwc ? ((nn * H + r->sy[oy]) * W + r->sx[ox]) * C + c
                                        : ((nn * C + c) * H + r->sy[oy]) * W + r->sx[ox];
                    if (r->map[o] != want)
                        return 0;
                }
    return 1;
}

static dt_code rz_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    const dt_opdef *def = dt_opdef_get(DT_OP_Resize);
    if (!rz_applies(g, n) || !def || !def->ref || !def->infer)
        return dt_fail(st, DT_EINTERNAL, "node '%s': Resize fast path does not apply", n->name);
    const dt_value *xv = dt_node_in(g, n, 0), *yv = dt_node_out(g, n, 0);
    int64_t xn = dt_shape_numel(xv->ndim, xv->dims), yn = dt_shape_numel(yv->ndim, yv->dims);
    rz_state *r = dt_calloc(1, sizeof *r);
    float *px = dt_malloc((size_t)xn * sizeof(float)), *py = dt_malloc((size_t)yn * sizeof(float));
    void *rscr = NULL;
    dt_code rc = DT_OK;
    if (!r || !px || !py) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        goto done;
    }
    r->out_numel = yn;
    /* the reference's own scratch for the probe run */
    size_t keep = n->scratch_bytes;
    if ((rc = def->infer(g, n, st)) != DT_OK)
        goto done;
    size_t need = n->scratch_bytes;
    n->scratch_bytes = keep;
    if (need && !(rscr = dt_malloc(need))) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        goto done;
    }
    for (int64_t i = 0; i < xn; i++)
        px[i] = (float)(i + 1);
    dt_tensor tin[4], ty = dt_value_view(yv);
    const dt_tensor *ins[4] = {NULL, NULL, NULL, NULL};
    int nin = n->n_in < 4 ? n->n_in : 4;
    for (int i = 0; i < nin; i++) {
        const dt_value *v = dt_node_in(g, n, i);
        if (!v)
            continue;
        tin[i] = dt_value_view(v);
        ins[i] = &tin[i];
    }
    tin[0].data = px;
    ty.data = py;
    dt_tensor *outs[1] = {&ty};
    dt_kctx rctx = {NULL, rscr, need};
    if ((rc = def->ref(n, ins, nin, outs, 1, &rctx, st)) != DT_OK)
        goto done;
    if (!(r->map = dt_malloc((size_t)yn * sizeof(int32_t)))) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        goto done;
    }
    for (int64_t i = 0; i < yn; i++) {
        float v = py[i];
        if (!(v >= 1.f && v <= (float)xn) || v != (float)(int64_t)v) {
            rc = dt_fail(st, DT_EINTERNAL, "node '%s': nearest Resize is not a gather", n->name);
            goto done;
        }
        r->map[i] = (int32_t)((int64_t)v - 1);
    }
    r->kind = 3;
    int nhwc = !strcmp(dt_attr_str(n, "layout", "NCHW"), "NHWC");
    r->N = xv->dims[0];
    r->C = nhwc ? xv->dims[3] : xv->dims[1];
    r->H = nhwc ? xv->dims[1] : xv->dims[2];
    r->W = nhwc ? xv->dims[2] : xv->dims[3];
    r->OH = nhwc ? yv->dims[1] : yv->dims[2];
    r->OW = nhwc ? yv->dims[2] : yv->dims[3];
    /* a "layout" attribute is not required on Resize: try both orders */
    for (int pass = 0; pass < 2 && r->kind == 3; pass++) {
        int lay = pass ? !nhwc : nhwc;
        int64_t C = lay ? xv->dims[3] : xv->dims[1], H = lay ? xv->dims[1] : xv->dims[2];
        int64_t W = lay ? xv->dims[2] : xv->dims[3], OH = lay ? yv->dims[1] : yv->dims[2];
        int64_t OW = lay ? yv->dims[2] : yv->dims[3];
        if (yv->dims[0] != xv->dims[0] || (lay ? yv->dims[3] : yv->dims[1]) != C)
            continue;
        dt_free(r->sy);
        dt_free(r->sx);
        r->sy = dt_malloc((size_t)OH * sizeof(int32_t));
        r->sx = dt_malloc((size_t)OW * sizeof(int32_t));
        if (!r->sy || !r->sx) {
            rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
            goto done;
        }
        r->C = C, r->H = H, r->W = W, r->OH = OH, r->OW = OW;
        if (rz_separate(r, lay))
            r->kind = lay ? 2 : 1;
    }
    if (r->kind != 3) {
        dt_free(r->map);
        r->map = NULL;
    }
done:
    dt_free(px);
    dt_free(py);
    dt_free(rscr);
    if (rc != DT_OK) {
        rz_free(r);
        return rc;
    }
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = r;
    n->kstate_free = rz_free;
    return DT_OK;
}

typedef struct rz_ctx {
    const rz_state *r;
    const float *x;
    float *y;
} rz_ctx;

static void rz_nchw_planes(void *arg, int64_t p0, int64_t p1)
{
    const rz_ctx *c = arg;
    const rz_state *r = c->r;
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = c->x + p * r->H * r->W;
        float *yp = c->y + p * r->OH * r->OW;
        for (int64_t oy = 0; oy < r->OH; oy++) {
            float *o = yp + oy * r->OW;
            if (oy > 0 && r->sy[oy] == r->sy[oy - 1]) {
                memcpy(o, o - r->OW, (size_t)r->OW * sizeof(float));
                continue;
            }
            const float *row = xp + (int64_t)r->sy[oy] * r->W;
            for (int64_t ox = 0; ox < r->OW; ox++)
                o[ox] = row[r->sx[ox]];
        }
    }
}

static void rz_nhwc_rows(void *arg, int64_t r0, int64_t r1)
{
    const rz_ctx *c = arg;
    const rz_state *r = c->r;
    size_t pix = (size_t)r->C * sizeof(float);
    for (int64_t t = r0; t < r1; t++) {
        int64_t nn = t / r->OH, oy = t % r->OH;
        float *o = c->y + t * r->OW * r->C;
        const float *row = c->x + (nn * r->H + r->sy[oy]) * r->W * r->C;
        for (int64_t ox = 0; ox < r->OW; ox++)
            memcpy(o + ox * r->C, row + (int64_t)r->sx[ox] * r->C, pix);
    }
}

static void rz_gather(void *arg, int64_t i0, int64_t i1)
{
    const rz_ctx *c = arg;
    for (int64_t i = i0; i < i1; i++)
        c->y[i] = c->x[c->r->map[i]];
}

static dt_code rz_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const rz_state *r = n->kstate;
    if (!r || n_in < 1 || n_out < 1 || !in[0] || !out[0] || dt_tensor_numel(out[0]) != r->out_numel ||
        dt_tensor_numel(in[0]) != r->N * r->C * r->H * r->W)
        return dt_fail(st, DT_EINTERNAL, "node '%s': Resize kernel not prepared for these shapes", n->name);
    rz_ctx c = {r, in[0]->data, out[0]->data};
    if (r->kind == 1)
        dt_pool_for(ctx->pool, r->N * r->C, 1, rz_nchw_planes, &c);
    else if (r->kind == 2)
        dt_pool_for(ctx->pool, r->N * r->OH, 1, rz_nhwc_rows, &c);
    else
        dt_pool_for(ctx->pool, r->out_numel, 4096, rz_gather, &c);
    return DT_OK;
}

static const dt_cpu_kernel k_resize = {"resize_nearest_fast", rz_prepare, rz_run};

const dt_cpu_kernel *dt_cpu_resize_select(const dt_graph *g, const dt_node *n)
{
    return rz_applies(g, n) ? &k_resize : NULL;
}
