/* misc_fast.c — fast MaxPool and nearest Resize.
 *
 * MaxPool / AveragePool (2-D, no dilation, no Indices output): separable in
 * NCHW (AveragePool: sums, then / the window's counted taps) — a
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
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cpu/cpu.h"
#include "engine/cpu/misc_fast.h"
#include "engine/ops/op_util.h"
#include "engine/cpu/pool.h"

static int use_avx512(void)
{
    const dt_cpu_features *f = dt_cpu_features_get();
    return f->avx512f && f->avx512bw && f->avx512vl && __builtin_cpu_supports("avx512dq");
}

/* dst[i] = max(dst[i], src[i]), or the sum when add */
static void op_inplace(int avx512, int add, float *dst, const float *src, int64_t n)
{
    if (avx512) {
        dt_fast_op_inplace_avx512(add, dst, src, n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        dst[i] = add ? dst[i] + src[i] : (src[i] > dst[i] ? src[i] : dst[i]);
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

/* ==== MaxPool / AveragePool ============================================== */

#define MP_SLOTS 8

typedef struct mp_state {
    int nhwc, avx512, avg; /* avg: AveragePool (sums, then / count) */
    float init;            /* -FLT_MAX, or 0 for sums */
    float *cy, *cx;        /* avg: window rows / columns counted per output row / column */
    int64_t N, C, H, W, OH, OW;
    int KH, KW, SH, SW, PT, PL, PB, PR;
    int64_t hp, wp;   /* stride 1: the -FLT_MAX (or 0) bordered plane */
    int s2row;        /* NCHW, horizontal stride 2, AVX-512: one fused pass per output row */
    size_t slot_bytes;
} mp_state;

static int mp_analyse(const dt_graph *g, const dt_node *n, mp_state *m)
{
    memset(m, 0, sizeof *m);
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (n->op != DT_OP_MaxPool && n->op != DT_OP_AveragePool)
        return 0;
    if (!x || !y || (n->n_out > 1 && n->out[1] >= 0) || x->dtype != DT_F32 || y->dtype != DT_F32 || x->ndim != 4 ||
        y->ndim != 4)
        return 0;
    m->avg = n->op == DT_OP_AveragePool;
    m->init = m->avg ? 0.f : -FLT_MAX;
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
        m->PB = (int)(th - m->PT);
        m->PR = (int)(tw - m->PL);
    } else if (!strcmp(ap, "NOTSET")) {
        if ((a = dt_attr_ints(n, "pads", &cnt))) {
            if (cnt != 4 || a[0] < 0 || a[1] < 0 || a[2] < 0 || a[3] < 0 || a[0] > 256 || a[1] > 256 ||
                a[2] > 256 || a[3] > 256)
                return 0;
            m->PT = (int)a[0];
            m->PL = (int)a[1];
            m->PB = (int)a[2];
            m->PR = (int)a[3];
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

/* AveragePool: divide output row oy (OW values) by its window counts. */
static void mp_avg_row(const mp_state *m, float *o, int64_t oy)
{
    for (int64_t ox = 0; ox < m->OW; ox++)
        o[ox] /= m->cy[oy] * m->cx[ox];
}

/* Stride 1: the plane goes into a -FLT_MAX bordered buffer of hp x wp, so the
 * horizontal and the vertical max each run over the whole flattened plane
 * (columns past OW are junk and dropped at the end): a few long vector
 * loops instead of one short call per row (SPP planes are 13x13). */
static void mp_plane_s1(const mp_state *m, const float *xp, float *yp, float *buf, int first)
{
    const int64_t hp = m->hp, wp = m->wp, n = hp * wp;
    float *pad = buf, *hb = buf + n, *ob = buf + 2 * n;
    if (first)
        fill(m->avx512, pad, m->init, n);
    for (int64_t y = 0; y < m->H; y++)
        memcpy(pad + (y + m->PT) * wp + m->PL, xp + y * m->W, (size_t)m->W * sizeof(float));
    int64_t hn = n - (m->KW - 1);
    memcpy(hb, pad, (size_t)hn * sizeof(float));
    for (int kx = 1; kx < m->KW; kx++)
        op_inplace(m->avx512, m->avg, hb, pad + kx, hn);
    fill(m->avx512, hb + hn, m->init, n - hn); /* only junk columns read these */
    int64_t on = m->OH * wp;
    memcpy(ob, hb, (size_t)on * sizeof(float));
    for (int ky = 1; ky < m->KH; ky++)
        op_inplace(m->avx512, m->avg, ob, hb + ky * wp, on);
    for (int64_t oy = 0; oy < m->OH; oy++) {
        memcpy(yp + oy * m->OW, ob + oy * wp, (size_t)m->OW * sizeof(float));
        if (m->avg)
            mp_avg_row(m, yp + oy * m->OW, oy);
    }
}

static void mp_nchw_slot(void *arg, int64_t s0, int64_t s1)
{
    mp_ctx *c = arg;
    const mp_state *m = c->m;
    for (int64_t s = s0; s < s1; s++) {
        float *tmp = (float *)(c->scratch + (size_t)s * m->slot_bytes);
        int filled = 0;
        for (;;) {
            int64_t p = atomic_fetch_add(&c->next, 1);
            if (p >= m->N * m->C)
                break;
            const float *xp = c->x + p * m->H * m->W;
            float *yp = c->y + p * m->OH * m->OW;
            if (m->hp) {
                mp_plane_s1(m, xp, yp, tmp, !filled);
                filled = 1;
                continue;
            }
            /* horizontal: tmp[y][ox] = max over kx, over the ox whose tap is inside the row */
            for (int64_t y = 0; y < m->H; y++) {
                float *t = tmp + y * m->OW;
                const float *row = xp + y * m->W;
                fill(m->avx512, t, m->init, m->OW);
                for (int kx = 0; kx < m->KW; kx++) {
                    int64_t off = kx - m->PL; /* ix = ox*SW + off */
                    int64_t lo = off >= 0 ? 0 : (-off + m->SW - 1) / m->SW;
                    int64_t hi = off <= m->W - 1 ? (m->W - 1 - off) / m->SW + 1 : 0;
                    hi = hi > m->OW ? m->OW : hi;
                    if (lo >= hi)
                        continue;
                    if (m->SW == 1) {
                        op_inplace(m->avx512, m->avg, t + lo, row + lo + off, hi - lo);
                    } else if (m->SW == 2 && m->avx512) {
                        dt_fast_op_s2_avx512(m->avg, t + lo, row + off + 2 * lo, hi - lo);
                    } else {
                        const float *r = row + off;
                        for (int64_t ox = lo; ox < hi; ox++) {
                            float v = r[ox * m->SW];
                            t[ox] = m->avg ? t[ox] + v : (v > t[ox] ? v : t[ox]);
                        }
                    }
                }
            }
            /* vertical */
            for (int64_t oy = 0; oy < m->OH; oy++) {
                float *o = yp + oy * m->OW;
                fill(m->avx512, o, m->init, m->OW);
                for (int ky = 0; ky < m->KH; ky++) {
                    int64_t iy = oy * m->SH - m->PT + ky;
                    if (iy >= 0 && iy < m->H)
                        op_inplace(m->avx512, m->avg, o, tmp + iy * m->OW, m->OW);
                }
                if (m->avg)
                    mp_avg_row(m, o, oy);
            }
        }
    }
}

/* Horizontal stride 2 (stems, downsampling pools): output rows straight
 * from the input rows of their window, no scratch; rows r in [r0, r1) of
 * all planes. */
static void mp_s2_rows(void *arg, int64_t r0, int64_t r1)
{
    mp_ctx *c = arg;
    const mp_state *m = c->m;
    const float *rows[256];
    for (int64_t r = r0; r < r1; r++) {
        int64_t p = r / m->OH, oy = r % m->OH;
        const float *xp = c->x + p * m->H * m->W;
        int nr = 0;
        for (int ky = 0; ky < m->KH; ky++) {
            int64_t iy = oy * m->SH - m->PT + ky;
            if (iy >= 0 && iy < m->H)
                rows[nr++] = xp + iy * m->W;
        }
        float *o = c->y + r * m->OW;
        dt_fast_pool_s2_row_avx512(m->avg, m->init, o, m->OW, rows, nr, m->W, m->KW, m->PL);
        if (m->avg)
            mp_avg_row(m, o, oy);
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
            fill(m->avx512, o, m->init, m->C);
            for (int ky = 0; ky < m->KH; ky++) {
                int64_t iy = oy * m->SH - m->PT + ky;
                if (iy < 0 || iy >= m->H)
                    continue;
                for (int kx = 0; kx < m->KW; kx++) {
                    int64_t ix = ox * m->SW - m->PL + kx;
                    if (ix >= 0 && ix < m->W)
                        op_inplace(m->avx512, m->avg, o, c->x + ((n * m->H + iy) * m->W + ix) * m->C, m->C);
                }
            }
            if (m->avg) {
                float d = m->cy[oy] * m->cx[ox];
                for (int64_t k = 0; k < m->C; k++)
                    o[k] /= d;
            }
        }
    }
}

static void mp_free(void *p)
{
    mp_state *m = p;
    if (!m)
        return;
    dt_free(m->cy);
    dt_free(m->cx);
    dt_free(m);
}

/* Window taps per output position along one axis: inside [lo, hi) of the
 * (unpadded, or padded for count_include_pad) input. */
static void mp_counts(float *cnt, int64_t out, int s, int p, int k, int64_t lo, int64_t hi)
{
    for (int64_t o = 0; o < out; o++) {
        int c = 0;
        for (int t = 0; t < k; t++) {
            int64_t i = o * s - p + t;
            c += i >= lo && i < hi;
        }
        cnt[o] = (float)c;
    }
}

static dt_code mp_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    mp_state *m = dt_calloc(1, sizeof *m);
    if (!m)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
    if (!mp_analyse(g, n, m)) {
        dt_free(m);
        return dt_fail(st, DT_EINTERNAL, "node '%s': pool fast path does not apply", n->name);
    }
    m->avx512 = use_avx512();
    if (m->avg) {
        int inc = dt_attr_int(n, "count_include_pad", 0) != 0;
        m->cy = dt_malloc((size_t)m->OH * sizeof(float));
        m->cx = dt_malloc((size_t)m->OW * sizeof(float));
        if (!m->cy || !m->cx) {
            mp_free(m);
            return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        }
        mp_counts(m->cy, m->OH, m->SH, m->PT, m->KH, inc ? -m->PT : 0, inc ? m->H + m->PB : m->H);
        mp_counts(m->cx, m->OW, m->SW, m->PL, m->KW, inc ? -m->PL : 0, inc ? m->W + m->PR : m->W);
    }
    if (!m->nhwc && m->SW == 2 && m->avx512) {
        m->s2row = 1; /* KH <= 256 (mp_analyse) */
    } else if (!m->nhwc && m->SH == 1 && m->SW == 1) {
        /* every window of the bordered plane in bounds: rows (OH-1)+KH, columns (OW-1)+KW */
        m->hp = m->H + m->PT > m->OH + m->KH - 1 ? m->H + m->PT : m->OH + m->KH - 1;
        m->wp = m->W + m->PL > m->OW + m->KW - 1 ? m->W + m->PL : m->OW + m->KW - 1;
        m->slot_bytes = ((size_t)(3 * m->hp * m->wp) * sizeof(float) + 63) & ~(size_t)63;
        if (n->scratch_bytes < m->slot_bytes * MP_SLOTS)
            n->scratch_bytes = m->slot_bytes * MP_SLOTS;
    } else if (!m->nhwc) {
        m->slot_bytes = ((size_t)(m->H * m->OW) * sizeof(float) + 63) & ~(size_t)63;
        if (n->scratch_bytes < m->slot_bytes * MP_SLOTS)
            n->scratch_bytes = m->slot_bytes * MP_SLOTS;
    }
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = m;
    n->kstate_free = mp_free;
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
    if (m->s2row) {
        int64_t grain = 1024 / (m->OW * m->KH * m->KW);
        dt_pool_for(ctx->pool, m->N * m->C * m->OH, grain < 1 ? 1 : grain, mp_s2_rows, &c);
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
static const dt_cpu_kernel k_avgpool = {"avgpool_fast", mp_prepare, mp_run};

const dt_cpu_kernel *dt_cpu_maxpool_select(const dt_graph *g, const dt_node *n)
{
    mp_state m;
    if (!mp_analyse(g, n, &m))
        return NULL;
    return m.avg ? &k_avgpool : &k_maxpool;
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


/* ==== TopK (float32) =======================================================
 * The reference sorts each whole line; here each line (or, for a single long
 * line, each of a few chunks of it) streams through a bounded heap of its k
 * best, then the survivors are sorted.  Order: NaN is the largest value,
 * ties keep the lower index first (as ONNX Runtime and the reference). */

#define TK_CHUNKS 8

typedef struct tk_ent {
    float v;
    int64_t i;
} tk_ent;

typedef struct tk_state {
    int largest;
    int64_t outer, L, inner, k;
    int64_t chunks; /* pieces each line is cut into (1 unless one line) */
    size_t slot_ents;
} tk_state;

/* a ranks before b */
static inline int tk_before(const tk_ent *a, const tk_ent *b, int largest)
{
    int na = a->v != a->v, nb = b->v != b->v;
    if (na || nb) {
        if (na != nb)
            return largest ? na : nb; /* NaN is the largest */
        return a->i < b->i;
    }
    if (a->v != b->v)
        return largest ? a->v > b->v : a->v < b->v;
    return a->i < b->i;
}

/* Heap whose root is the entry ranked last. */
static void tk_sift_down(tk_ent *h, int64_t n, int64_t p, int largest)
{
    for (;;) {
        int64_t c = 2 * p + 1;
        if (c >= n)
            return;
        if (c + 1 < n && tk_before(&h[c], &h[c + 1], largest))
            c++;
        if (!tk_before(&h[p], &h[c], largest))
            return;
        tk_ent t = h[p];
        h[p] = h[c];
        h[c] = t;
        p = c;
    }
}

static void tk_sift_up(tk_ent *h, int64_t c, int largest)
{
    while (c > 0) {
        int64_t p = (c - 1) / 2;
        if (!tk_before(&h[p], &h[c], largest))
            return;
        tk_ent t = h[p];
        h[p] = h[c];
        h[c] = t;
        c = p;
    }
}

/* Best k of x[j*stride], j in [j0, j1), into h; returns the count kept. */
static int64_t tk_scan(const float *x, int64_t stride, int64_t j0, int64_t j1, int64_t k, int largest, tk_ent *h)
{
    int64_t n = 0;
    for (int64_t j = j0; j < j1; j++) {
        tk_ent e = {x[j * stride], j};
        if (n < k) {
            h[n] = e;
            tk_sift_up(h, n++, largest);
            continue;
        }
        /* cheap reject first: most elements lose to the current worst */
        float r = h[0].v;
        if (e.v == e.v && r == r && (largest ? e.v <= r : e.v >= r))
            continue;
        if (tk_before(&e, &h[0], largest)) {
            h[0] = e;
            tk_sift_down(h, n, 0, largest);
        }
    }
    return n;
}

/* Sort by rank (heap sort on the "ranked last at the root" heap). */
static void tk_sort(tk_ent *h, int64_t n, int largest)
{
    for (int64_t i = n / 2 - 1; i >= 0; i--)
        tk_sift_down(h, n, i, largest);
    for (int64_t m = n - 1; m > 0; m--) {
        tk_ent t = h[0];
        h[0] = h[m];
        h[m] = t;
        tk_sift_down(h, m, 0, largest);
    }
}

typedef struct tk_ctx {
    const tk_state *t;
    const float *x;
    float *y;
    int64_t *yi;
    tk_ent *heaps; /* [lines or chunks][k] */
} tk_ctx;

static void tk_write(const tk_ctx *c, int64_t line, const tk_ent *h)
{
    const tk_state *t = c->t;
    int64_t o = line / t->inner, i = line % t->inner, base = o * t->k * t->inner + i;
    for (int64_t l = 0; l < t->k; l++) {
        c->y[base + l * t->inner] = h[l].v;
        if (c->yi)
            c->yi[base + l * t->inner] = h[l].i;
    }
}

/* Task s of `tasks` handles a contiguous range of lines with heap slot s. */
typedef struct tk_lines_arg {
    tk_ctx *c;
    int64_t tasks;
} tk_lines_arg;

static void tk_lines(void *arg, int64_t s0, int64_t s1)
{
    const tk_lines_arg *a = arg;
    tk_ctx *c = a->c;
    const tk_state *t = c->t;
    int64_t lines = t->outer * t->inner;
    for (int64_t s = s0; s < s1; s++) {
        tk_ent *h = c->heaps + s * t->k;
        for (int64_t line = s * lines / a->tasks; line < (s + 1) * lines / a->tasks; line++) {
            int64_t o = line / t->inner, i = line % t->inner;
            int64_t n = tk_scan(c->x + o * t->L * t->inner + i, t->inner, 0, t->L, t->k, t->largest, h);
            tk_sort(h, n, t->largest);
            tk_write(c, line, h);
        }
    }
}

static void tk_chunks(void *arg, int64_t c0, int64_t c1)
{
    tk_ctx *c = arg;
    const tk_state *t = c->t;
    for (int64_t ch = c0; ch < c1; ch++) {
        int64_t j0 = ch * t->L / t->chunks, j1 = (ch + 1) * t->L / t->chunks;
        tk_ent *h = c->heaps + ch * t->k;
        int64_t n = tk_scan(c->x, 1, j0, j1, t->k, t->largest, h);
        for (int64_t m = n; m < t->k; m++) /* short chunk: pad with entries ranked last */
            h[m] = (tk_ent){t->largest ? -INFINITY : INFINITY, INT64_MAX};
    }
}

static int tk_analyse(const dt_graph *g, const dt_node *n, tk_state *t)
{
    memset(t, 0, sizeof *t);
    const dt_value *x = dt_node_in(g, n, 0), *kv = dt_node_in(g, n, 1), *y = dt_node_out(g, n, 0);
    if (n->op != DT_OP_TopK || !x || !kv || !y || !dt_value_is_const(kv) || x->dtype != DT_F32 || x->ndim < 1)
        return 0;
    if (!dt_attr_int(n, "sorted", 1))
        return 0;
    if (dt_shape_numel(kv->ndim, kv->dims) != 1 || (kv->dtype != DT_I64 && kv->dtype != DT_I32))
        return 0;
    dt_tensor kt = dt_value_view(kv);
    int64_t k = dt_tensor_get_i(&kt, 0);
    int axis = dt_norm_axis(dt_attr_int(n, "axis", -1), x->ndim);
    if (axis < 0)
        return 0;
    for (int d = 0; d < x->ndim; d++)
        if (x->dims[d] < 0)
            return 0;
    if (k < 1 || k > x->dims[axis])
        return 0;
    t->largest = dt_attr_int(n, "largest", 1) != 0;
    t->L = x->dims[axis];
    t->k = k;
    t->outer = 1;
    t->inner = 1;
    for (int d = 0; d < axis; d++)
        t->outer *= x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++)
        t->inner *= x->dims[d];
    /* one long line: cut it into chunks that run in parallel, when that pays */
    t->chunks = 1;
    if (t->outer * t->inner == 1 && t->L >= 8 * k && t->L >= 65536)
        t->chunks = TK_CHUNKS;
    t->slot_ents = (size_t)TK_CHUNKS * (size_t)k + (t->chunks > 1 ? (size_t)TK_CHUNKS * (size_t)k : 0);
    return 1;
}

static dt_code tk_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    tk_state *t = dt_calloc(1, sizeof *t);
    if (!t)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
    if (!tk_analyse(g, n, t)) {
        dt_free(t);
        return dt_fail(st, DT_EINTERNAL, "node '%s': TopK fast path does not apply", n->name);
    }
    /* the reference's scratch (a whole line of entries per task) is not needed:
     * the planner sized it from infer; ours is the heaps only */
    n->scratch_bytes = t->slot_ents * sizeof(tk_ent);
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = t;
    n->kstate_free = dt_free;
    return DT_OK;
}

static dt_code tk_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const tk_state *t = n->kstate;
    if (!t || n_in < 1 || !in[0] || n_out < 1 || !out[0] || dt_tensor_numel(in[0]) != t->outer * t->L * t->inner ||
        dt_tensor_numel(out[0]) != t->outer * t->k * t->inner || (n_out > 1 && out[1] && out[1]->dtype != DT_I64))
        return dt_fail(st, DT_EINTERNAL, "node '%s': TopK kernel not prepared for these shapes", n->name);
    if (!ctx->scratch || ctx->scratch_bytes < t->slot_ents * sizeof(tk_ent))
        return dt_fail(st, DT_EINTERNAL, "node '%s': TopK scratch missing", n->name);
    tk_ctx c = {t, in[0]->data, out[0]->data, n_out > 1 && out[1] ? out[1]->data : NULL, ctx->scratch};
    if (t->chunks == 1) {
        int64_t lines = t->outer * t->inner;
        tk_lines_arg a = {&c, lines < TK_CHUNKS ? lines : TK_CHUNKS};
        dt_pool_for(ctx->pool, a.tasks, 1, tk_lines, &a);
        return DT_OK;
    }
    dt_pool_for(ctx->pool, t->chunks, 1, tk_chunks, &c);
    /* merge the chunks' bests */
    tk_ent *all = c.heaps, *m = c.heaps + (size_t)TK_CHUNKS * t->k;
    int64_t total = t->chunks * t->k;
    memcpy(m, all, (size_t)total * sizeof(tk_ent));
    int64_t keep = 0;
    for (int64_t i = 0; i < total; i++)
        if (m[i].i != INT64_MAX)
            m[keep++] = m[i];
    /* best k of keep: sort all (keep <= TK_CHUNKS * k) */
    tk_sort(m, keep, t->largest);
    tk_write(&c, 0, m);
    return DT_OK;
}

static const dt_cpu_kernel k_topk = {"topk_fast", tk_prepare, tk_run};

const dt_cpu_kernel *dt_cpu_topk_select(const dt_graph *g, const dt_node *n)
{
    tk_state t;
    return tk_analyse(g, n, &t) ? &k_topk : NULL;
}

/* ==== ReduceMean / ReduceSum over one contiguous range of axes ==============
 * x viewed as [outer][R][inner]; blocks of rows are summed in float with
 * vector accumulators and the block sums added in double, so the error stays
 * near the reference's (which sums in double). */

#define RD_BLOCK 256

typedef struct rd_state {
    int mean, avx512;
    int64_t outer, R, inner;
} rd_state;

static int rd_analyse(const dt_graph *g, const dt_node *n, rd_state *r)
{
    memset(r, 0, sizeof *r);
    if (n->op != DT_OP_ReduceMean && n->op != DT_OP_ReduceSum)
        return 0;
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0), *ax = dt_node_in(g, n, 1);
    if (!x || !y || x->dtype != DT_F32 || y->dtype != DT_F32 || x->ndim < 1 || x->ndim > DT_MAX_DIMS)
        return 0;
    for (int d = 0; d < x->ndim; d++)
        if (x->dims[d] <= 0)
            return 0;
    int64_t axes[DT_MAX_DIMS];
    int na = 0;
    if (ax) {
        if (!dt_value_is_const(ax) || (ax->dtype != DT_I64 && ax->dtype != DT_I32))
            return 0;
        dt_tensor at = dt_value_view(ax);
        int64_t cnt = dt_tensor_numel(&at);
        if (cnt < 0 || cnt > DT_MAX_DIMS)
            return 0;
        for (int64_t i = 0; i < cnt; i++)
            axes[na++] = dt_tensor_get_i(&at, i);
    } else {
        int cnt = 0;
        const int64_t *a = dt_attr_ints(n, "axes", &cnt);
        if (a && (cnt < 0 || cnt > DT_MAX_DIMS))
            return 0;
        for (int i = 0; a && i < cnt; i++)
            axes[na++] = a[i];
    }
    int red[DT_MAX_DIMS] = {0};
    if (na == 0) {
        if (dt_attr_int(n, "noop_with_empty_axes", 0))
            return 0;
        for (int d = 0; d < x->ndim; d++)
            red[d] = 1;
    }
    for (int i = 0; i < na; i++) {
        int d = dt_norm_axis(axes[i], x->ndim);
        if (d < 0 || red[d])
            return 0;
        red[d] = 1;
    }
    int first = -1, last = -1;
    for (int d = 0; d < x->ndim; d++)
        if (red[d]) {
            if (first < 0)
                first = d;
            else if (last != d - 1)
                return 0; /* not one contiguous range */
            last = d;
        }
    if (first < 0)
        return 0;
    r->outer = r->R = r->inner = 1;
    for (int d = 0; d < x->ndim; d++)
        *(d < first ? &r->outer : d <= last ? &r->R : &r->inner) *= x->dims[d];
    if (dt_shape_numel(y->ndim, y->dims) != r->outer * r->inner)
        return 0;
    r->mean = n->op == DT_OP_ReduceMean;
    return 1;
}

typedef struct rd_ctx {
    const rd_state *r;
    const float *x;
    float *y;
    int64_t cchunks; /* column chunks of 64 per outer index */
} rd_ctx;

static void rd_tasks(void *arg, int64_t t0, int64_t t1)
{
    const rd_ctx *c = arg;
    const rd_state *r = c->r;
    for (int64_t t = t0; t < t1; t++) {
        int64_t o = t / c->cchunks, c0 = (t % c->cchunks) * 64;
        int64_t nc = r->inner - c0 < 64 ? r->inner - c0 : 64;
        const float *x = c->x + o * r->R * r->inner + c0;
        double acc[64] = {0};
        float part[64];
        for (int64_t r0 = 0; r0 < r->R; r0 += RD_BLOCK) {
            int64_t nr = r->R - r0 < RD_BLOCK ? r->R - r0 : RD_BLOCK;
            if (r->inner == 1) {
                part[0] = r->avx512 ? dt_fast_sum_avx512(x + r0, nr) : 0.f;
                if (!r->avx512)
                    for (int64_t i = 0; i < nr; i++)
                        part[0] += x[r0 + i];
            } else if (r->avx512) {
                dt_fast_colsum_avx512(x + r0 * r->inner, nr, r->inner, nc, part);
            } else {
                for (int64_t j = 0; j < nc; j++)
                    part[j] = 0.f;
                for (int64_t i = 0; i < nr; i++)
                    for (int64_t j = 0; j < nc; j++)
                        part[j] += x[(r0 + i) * r->inner + j];
            }
            for (int64_t j = 0; j < nc; j++)
                acc[j] += part[j];
        }
        float *y = c->y + o * r->inner + c0;
        for (int64_t j = 0; j < nc; j++)
            y[j] = (float)(r->mean ? acc[j] / (double)r->R : acc[j]);
    }
}

static dt_code rd_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    rd_state *r = dt_calloc(1, sizeof *r);
    if (!r)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
    if (!rd_analyse(g, n, r)) {
        dt_free(r);
        return dt_fail(st, DT_EINTERNAL, "node '%s': reduce fast path does not apply", n->name);
    }
    r->avx512 = use_avx512();
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = r;
    n->kstate_free = dt_free;
    return DT_OK;
}

static dt_code rd_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const rd_state *r = n->kstate;
    if (!r || n_in < 1 || !in[0] || n_out < 1 || !out[0] || dt_tensor_numel(in[0]) != r->outer * r->R * r->inner ||
        dt_tensor_numel(out[0]) != r->outer * r->inner)
        return dt_fail(st, DT_EINTERNAL, "node '%s': reduce kernel not prepared for these shapes", n->name);
    rd_ctx c = {r, in[0]->data, out[0]->data, (r->inner + 63) / 64};
    dt_pool_for(ctx->pool, r->outer * c.cchunks, 1, rd_tasks, &c);
    return DT_OK;
}

static const dt_cpu_kernel k_reduce = {"reduce_fast", rd_prepare, rd_run};

const dt_cpu_kernel *dt_cpu_reduce_select(const dt_graph *g, const dt_node *n)
{
    rd_state r;
    return rd_analyse(g, n, &r) ? &k_reduce : NULL;
}

/* ==== Resize (linear, 2 spatial axes) =======================================
 * Separable taps per output row and column, computed with the reference's
 * coordinate transforms (float32, as ONNX Runtime).  prepare() checks the
 * result against the reference on the real shapes once; should anything
 * differ (a mode this code does not mirror), run() calls the reference. */

typedef struct rl_state {
    int use_ref;
    int64_t outer, H, W, OH, OW, inner;
    int32_t *y0, *y1, *x0, *x1;
    float *wy, *wx; /* weight of the second tap */
    size_t ref_scratch;
} rl_state;

static void rl_free(void *p)
{
    rl_state *r = p;
    if (!r)
        return;
    dt_free(r->y0);
    dt_free(r->y1);
    dt_free(r->x0);
    dt_free(r->x1);
    dt_free(r->wy);
    dt_free(r->wx);
    dt_free(r);
}

/* Axes (a, a+1) resized in x [N, D1, D2, D3]: a = 2 (NCHW planes) or 1 (NHWC). */
static int rl_axes(const dt_value *x, const dt_value *y)
{
    if (x->dims[0] != y->dims[0])
        return 0;
    if (x->dims[1] == y->dims[1])
        return 2;
    if (x->dims[3] == y->dims[3])
        return 1;
    return 0;
}

static int rl_applies(const dt_graph *g, const dt_node *n)
{
    if (n->op != DT_OP_Resize || n->n_out != 1)
        return 0;
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y || x->dtype != DT_F32 || y->dtype != DT_F32 || x->ndim != 4 || y->ndim != 4)
        return 0;
    const char *mode = dt_attr_str(n, "mode", "nearest");
    if (strcmp(mode, "linear") && strcmp(mode, "bilinear"))
        return 0;
    const char *ct = dt_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    if (strcmp(ct, "half_pixel") && strcmp(ct, "pytorch_half_pixel") && strcmp(ct, "align_corners") &&
        strcmp(ct, "asymmetric") && strcmp(ct, "half_pixel_symmetric"))
        return 0;
    if (dt_attr_int(n, "antialias", 0))
        return 0;
    for (int i = 1; i < n->n_in; i++) {
        const dt_value *v = dt_node_in(g, n, i);
        if (v && !dt_value_is_const(v) && dt_shape_numel(v->ndim, v->dims) != 0)
            return 0;
    }
    for (int d = 0; d < 4; d++)
        if (x->dims[d] <= 0 || y->dims[d] <= 0)
            return 0;
    return rl_axes(x, y) != 0;
}

static float rl_coord(const char *ct, float x, float scale, float in_len, float out_len)
{
    if (!strcmp(ct, "half_pixel"))
        return (x + 0.5f) / scale - 0.5f;
    if (!strcmp(ct, "half_pixel_symmetric")) {
        float adjustment = out_len / (scale * in_len);
        float center = in_len / 2.f;
        float offset = center * (1.f - adjustment);
        return offset + (x + 0.5f) / scale - 0.5f;
    }
    if (!strcmp(ct, "pytorch_half_pixel"))
        return out_len > 1.f ? (x + 0.5f) / scale - 0.5f : 0.f;
    if (!strcmp(ct, "align_corners"))
        return out_len == 1.f ? 0.f : x * (in_len - 1.f) / (out_len - 1.f);
    return x / scale; /* asymmetric */
}

static int rl_taps(const char *ct, float scale, int64_t in, int64_t out, int32_t *i0, int32_t *i1, float *w1)
{
    for (int64_t o = 0; o < out; o++) {
        float x = rl_coord(ct, (float)o, scale, (float)in, (float)out);
        float xc = x < 0.f ? 0.f : (x > (float)(in - 1) ? (float)(in - 1) : x);
        int64_t a = (int64_t)xc;
        if (a > in - 1)
            a = in - 1;
        i0[o] = (int32_t)a;
        i1[o] = (int32_t)(a + 1 < in ? a + 1 : in - 1);
        w1[o] = xc - (float)a;
    }
    return 1;
}

typedef struct rl_ctx {
    const rl_state *r;
    const float *x;
    float *y;
} rl_ctx;

static void rl_rows(void *arg, int64_t t0, int64_t t1)
{
    const rl_ctx *c = arg;
    const rl_state *r = c->r;
    const int64_t C = r->inner;
    for (int64_t t = t0; t < t1; t++) {
        int64_t o = t / r->OH, oy = t % r->OH;
        const float *xo = c->x + o * r->H * r->W * C;
        const float *ra = xo + (int64_t)r->y0[oy] * r->W * C, *rb = xo + (int64_t)r->y1[oy] * r->W * C;
        float wb = r->wy[oy], wa = 1.f - wb;
        float *yr = c->y + t * r->OW * C;
        for (int64_t ox = 0; ox < r->OW; ox++) {
            float w1 = r->wx[ox], w0 = 1.f - w1;
            int64_t i0 = (int64_t)r->x0[ox] * C, i1 = (int64_t)r->x1[ox] * C;
            float *yo = yr + ox * C;
            for (int64_t k = 0; k < C; k++)
                yo[k] = wa * (w0 * ra[i0 + k] + w1 * ra[i1 + k]) + wb * (w0 * rb[i0 + k] + w1 * rb[i1 + k]);
        }
    }
}

static dt_code rl_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    const dt_opdef *def = dt_opdef_get(DT_OP_Resize);
    if (!rl_applies(g, n) || !def || !def->ref || !def->infer)
        return dt_fail(st, DT_EINTERNAL, "node '%s': linear Resize fast path does not apply", n->name);
    const dt_value *xv = dt_node_in(g, n, 0), *yv = dt_node_out(g, n, 0);
    int a = rl_axes(xv, yv);
    rl_state *r = dt_calloc(1, sizeof *r);
    float *px = NULL, *py = NULL, *pr = NULL;
    void *rscr = NULL;
    dt_code rc = DT_OK;
    if (!r) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        goto done;
    }
    r->outer = a == 2 ? xv->dims[0] * xv->dims[1] : xv->dims[0];
    r->H = xv->dims[a];
    r->W = xv->dims[a + 1];
    r->OH = yv->dims[a];
    r->OW = yv->dims[a + 1];
    r->inner = a == 2 ? 1 : xv->dims[3];
    /* scales: the input when given, else out/in (as the reference) */
    float sh = (float)r->OH / (float)r->H, sw = (float)r->OW / (float)r->W;
    const dt_value *sv = n->n_in > 2 ? dt_node_in(g, n, 2) : NULL;
    int64_t nsc = sv && dt_value_is_const(sv) && sv->dtype == DT_F32 ? dt_shape_numel(sv->ndim, sv->dims) : 0;
    if (nsc == 4 || nsc == 2) { /* all axes, or the two of an "axes" attribute */
        const float *s = sv->buf->data;
        sh = s[nsc == 4 ? a : 0];
        sw = s[nsc == 4 ? a + 1 : 1];
    }
    const char *ct = dt_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    r->y0 = dt_malloc((size_t)r->OH * sizeof(int32_t));
    r->y1 = dt_malloc((size_t)r->OH * sizeof(int32_t));
    r->wy = dt_malloc((size_t)r->OH * sizeof(float));
    r->x0 = dt_malloc((size_t)r->OW * sizeof(int32_t));
    r->x1 = dt_malloc((size_t)r->OW * sizeof(int32_t));
    r->wx = dt_malloc((size_t)r->OW * sizeof(float));
    if (!r->y0 || !r->y1 || !r->wy || !r->x0 || !r->x1 || !r->wx) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        goto done;
    }
    rl_taps(ct, sh, r->H, r->OH, r->y0, r->y1, r->wy);
    rl_taps(ct, sw, r->W, r->OW, r->x0, r->x1, r->wx);
    /* check against the reference once, on these shapes */
    int64_t xn = dt_shape_numel(xv->ndim, xv->dims), yn = dt_shape_numel(yv->ndim, yv->dims);
    size_t keep = n->scratch_bytes;
    if ((rc = def->infer(g, n, st)) != DT_OK)
        goto done;
    r->ref_scratch = n->scratch_bytes;
    n->scratch_bytes = keep;
    px = dt_malloc((size_t)xn * sizeof(float));
    py = dt_malloc((size_t)yn * sizeof(float));
    pr = dt_malloc((size_t)yn * sizeof(float));
    if (!px || !py || !pr || (r->ref_scratch && !(rscr = dt_malloc(r->ref_scratch)))) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        goto done;
    }
    unsigned s = 1;
    for (int64_t i = 0; i < xn; i++) {
        s = s * 1664525u + 1013904223u;
        px[i] = (float)(s >> 8) / 16777216.f;
    }
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
    ty.data = pr;
    dt_tensor *outs[1] = {&ty};
    dt_kctx rctx = {NULL, rscr, r->ref_scratch};
    if ((rc = def->ref(n, ins, nin, outs, 1, &rctx, st)) != DT_OK)
        goto done;
    rl_ctx c = {r, px, py};
    rl_rows(&c, 0, r->outer * r->OH);
    for (int64_t i = 0; i < yn && !r->use_ref; i++)
        if (!(fabsf(py[i] - pr[i]) <= 1e-5f))
            r->use_ref = 1;
    if (r->use_ref && n->scratch_bytes < r->ref_scratch)
        n->scratch_bytes = r->ref_scratch;
done:
    dt_free(px);
    dt_free(py);
    dt_free(pr);
    dt_free(rscr);
    if (rc != DT_OK) {
        rl_free(r);
        return rc;
    }
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = r;
    n->kstate_free = rl_free;
    return DT_OK;
}

static dt_code rl_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const rl_state *r = n->kstate;
    if (!r || n_in < 1 || !in[0] || n_out < 1 || !out[0] ||
        dt_tensor_numel(in[0]) != r->outer * r->H * r->W * r->inner ||
        dt_tensor_numel(out[0]) != r->outer * r->OH * r->OW * r->inner)
        return dt_fail(st, DT_EINTERNAL, "node '%s': Resize kernel not prepared for these shapes", n->name);
    if (r->use_ref)
        return dt_opdef_get(DT_OP_Resize)->ref(n, in, n_in, out, n_out, ctx, st);
    rl_ctx c = {r, in[0]->data, out[0]->data};
    dt_pool_for(ctx->pool, r->outer * r->OH, 1, rl_rows, &c);
    return DT_OK;
}

static const dt_cpu_kernel k_resize_linear = {"resize_linear_fast", rl_prepare, rl_run};

const dt_cpu_kernel *dt_cpu_resize_select(const dt_graph *g, const dt_node *n)
{
    if (rz_applies(g, n))
        return &k_resize;
    return rl_applies(g, n) ? &k_resize_linear : NULL;
}

/* ==== Slice (float32, constant starts/ends/axes/steps) ======================
 * A slice is an affine gather: prepare runs the reference once on a probe
 * holding each element's index (the exact start/end/step clamping rules come
 * with it) and reads off the base offset and the input stride of every
 * output dim; run() copies rows (memcpy for stride 1, a vector deinterleave
 * for stride 2). */

typedef struct sl_state {
    int avx512, ndim;
    int64_t dims[DT_MAX_DIMS], stride[DT_MAX_DIMS], base, in_numel, out_numel;
} sl_state;

static int sl_applies(const dt_graph *g, const dt_node *n)
{
    if (n->op != DT_OP_Slice || n->n_out != 1)
        return 0;
    const dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y || x->dtype != DT_F32 || y->dtype != DT_F32 || x->ndim < 1 || y->ndim != x->ndim)
        return 0;
    for (int i = 1; i < n->n_in; i++) {
        const dt_value *v = dt_node_in(g, n, i);
        if (v && !dt_value_is_const(v))
            return 0;
    }
    int64_t xn = dt_shape_numel(x->ndim, x->dims), yn = dt_shape_numel(y->ndim, y->dims);
    return xn > 0 && yn > 0 && xn < (1 << 24);
}

static dt_code sl_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    const dt_opdef *def = dt_opdef_get(DT_OP_Slice);
    if (!sl_applies(g, n) || !def || !def->ref || !def->infer)
        return dt_fail(st, DT_EINTERNAL, "node '%s': Slice fast path does not apply", n->name);
    const dt_value *xv = dt_node_in(g, n, 0), *yv = dt_node_out(g, n, 0);
    int64_t xn = dt_shape_numel(xv->ndim, xv->dims), yn = dt_shape_numel(yv->ndim, yv->dims);
    sl_state *s = dt_calloc(1, sizeof *s);
    float *px = dt_malloc((size_t)xn * sizeof(float)), *py = dt_malloc((size_t)yn * sizeof(float));
    void *rscr = NULL;
    dt_code rc = DT_OK;
    if (!s || !px || !py) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory preparing '%s'", n->name);
        goto done;
    }
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
    dt_tensor tin[5], ty = dt_value_view(yv);
    const dt_tensor *ins[5] = {NULL, NULL, NULL, NULL, NULL};
    int nin = n->n_in < 5 ? n->n_in : 5;
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
    s->ndim = yv->ndim;
    s->in_numel = xn;
    s->out_numel = yn;
    s->base = (int64_t)py[0] - 1;
    int64_t unit = 1; /* output stride of dim d */
    for (int d = s->ndim - 1; d >= 0; d--) {
        s->dims[d] = yv->dims[d];
        s->stride[d] = s->dims[d] > 1 ? (int64_t)py[unit] - 1 - s->base : 0;
        unit *= s->dims[d];
    }
    /* check the whole map is affine */
    for (int64_t o = 0; o < yn; o++) {
        int64_t rem = o, src = s->base;
        for (int d = s->ndim - 1; d >= 0; d--) {
            src += (rem % s->dims[d]) * s->stride[d];
            rem /= s->dims[d];
        }
        if (py[o] != (float)(src + 1) || src < 0 || src >= xn) {
            rc = dt_fail(st, DT_EINTERNAL, "node '%s': Slice is not an affine gather", n->name);
            goto done;
        }
    }
    s->avx512 = use_avx512();
done:
    dt_free(px);
    dt_free(py);
    dt_free(rscr);
    if (rc != DT_OK) {
        dt_free(s);
        return rc;
    }
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = s;
    n->kstate_free = dt_free;
    return DT_OK;
}

typedef struct sl_ctx {
    const sl_state *s;
    const float *x;
    float *y;
} sl_ctx;

/* Rows of the innermost output dim, rows r in [r0, r1). */
static void sl_rows(void *arg, int64_t r0, int64_t r1)
{
    const sl_ctx *c = arg;
    const sl_state *s = c->s;
    const int last = s->ndim - 1;
    const int64_t len = s->dims[last], st = s->stride[last];
    for (int64_t r = r0; r < r1; r++) {
        int64_t rem = r, src = s->base;
        for (int d = last - 1; d >= 0; d--) {
            src += (rem % s->dims[d]) * s->stride[d];
            rem /= s->dims[d];
        }
        const float *in = c->x + src;
        float *out = c->y + r * len;
        if (st == 1 || len == 1)
            memcpy(out, in, (size_t)len * sizeof(float));
        else if (st == 2 && s->avx512)
            dt_fast_copy_s2_avx512(out, in, len);
        else
            for (int64_t j = 0; j < len; j++)
                out[j] = in[j * st];
    }
}

static dt_code sl_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    const sl_state *s = n->kstate;
    if (!s || n_in < 1 || !in[0] || n_out < 1 || !out[0] || dt_tensor_numel(in[0]) != s->in_numel ||
        dt_tensor_numel(out[0]) != s->out_numel)
        return dt_fail(st, DT_EINTERNAL, "node '%s': Slice kernel not prepared for these shapes", n->name);
    sl_ctx c = {s, in[0]->data, out[0]->data};
    int64_t len = s->dims[s->ndim - 1];
    int64_t grain = 4096 / len;
    dt_pool_for(ctx->pool, s->out_numel / len, grain < 1 ? 1 : grain, sl_rows, &c);
    return DT_OK;
}

static const dt_cpu_kernel k_slice = {"slice_fast", sl_prepare, sl_run};

const dt_cpu_kernel *dt_cpu_slice_select(const dt_graph *g, const dt_node *n)
{
    return sl_applies(g, n) ? &k_slice : NULL;
}
