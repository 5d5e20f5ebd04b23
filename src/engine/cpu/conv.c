/* conv.c — the fast Conv: shape analysis, weight packing, ISA dispatch.
 * The kernels themselves are in conv_kern.h (instantiated per ISA). */
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cpu/conv.h"
#include "engine/cpu/conv_impl.h"
#include "engine/cpu/cpu.h"

#ifndef WINO_MIN_PLANE
#define WINO_MIN_PLANE 200 /* output pixels: Winograd on 14x14 and up */
#endif

static int64_t cdiv64(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int conv_isa(void)
{
    const dt_cpu_features *f = dt_cpu_features_get();
    if (f->avx512f && f->avx512bw && f->avx512vl && f->fma && __builtin_cpu_supports("avx512dq"))
        return DT_ISA_AVX512;
    if (f->avx2 && f->fma)
        return DT_ISA_AVX2;
    return DT_ISA_GENERIC;
}

/* Read the node's geometry into cv (no allocation).  Returns 0 when the
 * node is not something the fast path handles. */
static int conv_analyse(const dt_graph *g, const dt_node *n, dt_conv *cv)
{
    memset(cv, 0, sizeof *cv);
    const dt_value *xv = dt_node_in(g, n, 0), *wv = dt_node_in(g, n, 1), *bv = dt_node_in(g, n, 2);
    const dt_value *yv = dt_node_out(g, n, 0);
    if (!xv || !wv || !yv || n->n_out != 1 || xv->dtype != DT_F32 || wv->dtype != DT_F32 || yv->dtype != DT_F32)
        return 0;
    if (xv->ndim != 4 || wv->ndim != 4 || yv->ndim != 4 || !dt_value_is_const(wv) || dt_value_is_const(xv))
        return 0;
    for (int i = 0; i < 4; i++)
        if (xv->dims[i] <= 0 || wv->dims[i] <= 0 || yv->dims[i] <= 0)
            return 0;
    if (bv && (!dt_value_is_const(bv) || bv->dtype != DT_F32 || bv->ndim != 1 || bv->dims[0] != wv->dims[0]))
        return 0;
    const char *layout = dt_attr_str(n, "layout", "NCHW");
    if (strcmp(layout, "NHWC") == 0)
        cv->nhwc = 1;
    else if (strcmp(layout, "NCHW") != 0)
        return 0;
    cv->N = xv->dims[0];
    cv->C = cv->nhwc ? xv->dims[3] : xv->dims[1];
    cv->H = cv->nhwc ? xv->dims[1] : xv->dims[2];
    cv->W = cv->nhwc ? xv->dims[2] : xv->dims[3];
    cv->M = wv->dims[0];
    cv->KH = (int)wv->dims[2];
    cv->KW = (int)wv->dims[3];
    int64_t group = dt_attr_int(n, "group", 1);
    if (group < 1 || cv->C % group || cv->M % group || wv->dims[1] != cv->C / group || cv->KH > 64 || cv->KW > 64)
        return 0;
    cv->group = (int)group;
    cv->Cg = cv->C / group;
    cv->Mg = cv->M / group;
    int cnt;
    const int64_t *a;
    cv->SH = cv->SW = cv->DH = cv->DW = 1;
    if ((a = dt_attr_ints(n, "strides", &cnt))) {
        if (cnt != 2 || a[0] < 1 || a[1] < 1 || a[0] > 64 || a[1] > 64)
            return 0;
        cv->SH = (int)a[0];
        cv->SW = (int)a[1];
    }
    if ((a = dt_attr_ints(n, "dilations", &cnt))) {
        if (cnt != 2 || a[0] < 1 || a[1] < 1 || a[0] > 64 || a[1] > 64)
            return 0;
        cv->DH = (int)a[0];
        cv->DW = (int)a[1];
    }
    const int64_t *ks = dt_attr_ints(n, "kernel_shape", &cnt);
    if (ks && (cnt != 2 || ks[0] != cv->KH || ks[1] != cv->KW))
        return 0;
    int64_t ekh = (int64_t)(cv->KH - 1) * cv->DH + 1, ekw = (int64_t)(cv->KW - 1) * cv->DW + 1;
    const char *ap = dt_attr_str(n, "auto_pad", "NOTSET");
    int64_t pt = 0, pl = 0, pb = 0, pr = 0;
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t oh = cdiv64(cv->H, cv->SH), ow = cdiv64(cv->W, cv->SW);
        int64_t th = (oh - 1) * cv->SH + ekh - cv->H, tw = (ow - 1) * cv->SW + ekw - cv->W;
        if (th < 0)
            th = 0;
        if (tw < 0)
            tw = 0;
        int upper = !strcmp(ap, "SAME_UPPER");
        pt = upper ? th / 2 : th - th / 2;
        pl = upper ? tw / 2 : tw - tw / 2;
        pb = th - pt;
        pr = tw - pl;
    } else if (!strcmp(ap, "VALID")) {
        /* no padding */
    } else if (!strcmp(ap, "NOTSET")) {
        if ((a = dt_attr_ints(n, "pads", &cnt))) {
            if (cnt != 4)
                return 0;
            pt = a[0];
            pl = a[1];
            pb = a[2];
            pr = a[3];
        }
    } else {
        return 0;
    }
    if (pt < 0 || pl < 0 || pb < 0 || pr < 0 || pt > 1024 || pl > 1024 || pb > 1024 || pr > 1024)
        return 0;
    cv->PT = (int)pt;
    cv->PL = (int)pl;
    int64_t oh = cv->H + pt + pb - ekh, ow = cv->W + pl + pr - ekw;
    if (oh < 0 || ow < 0)
        return 0;
    cv->OH = oh / cv->SH + 1;
    cv->OW = ow / cv->SW + 1;
    int64_t yd[4] = {cv->N, cv->nhwc ? cv->OH : cv->M, cv->nhwc ? cv->OW : cv->OH, cv->nhwc ? cv->M : cv->OW};
    for (int i = 0; i < 4; i++)
        if (yv->dims[i] != yd[i])
            return 0;
    cv->K = cv->Cg * cv->KH * cv->KW;
    if (cv->group == cv->C && cv->M == cv->C)
        cv->kind = DT_CONV_DW;
    else
        cv->kind = cv->nhwc ? DT_CONV_NHWC_GEMM : DT_CONV_NCHW_GEMM;
    cv->direct = cv->kind == DT_CONV_NCHW_GEMM && cv->KH == 1 && cv->KW == 1 && cv->SH == 1 && cv->SW == 1 &&
                 pt == 0 && pl == 0 && pb == 0 && pr == 0;
    /* the implicit GEMM's padded input copy is indexed with int32 offsets */
    if (cv->kind == DT_CONV_NCHW_GEMM && !cv->direct &&
        cv->C * cv->SW * ((cv->OH - 1) * cv->SH + (int64_t)(cv->KH - 1) * cv->DH + 1) *
                (cv->OW + 16 + (int64_t)(cv->KW - 1) * cv->DW) >= INT32_MAX / 2)
        return 0;
    cv->act = dt_act_from_node(n);
    /* Winograd pays off once the GEMMs dominate its transforms, and on maps
     * with enough 4x4 tiles: on 10x10 / 13x13 maps (9 / 16 tiles) its 4x
     * larger transformed weights cost more than the FMAs it saves (measured
     * on a YOLOv8n-shaped model and nanodet). */
    cv->wino = cv->kind == DT_CONV_NCHW_GEMM && cv->KH == 3 && cv->KW == 3 && cv->SH == 1 && cv->SW == 1 &&
               cv->DH == 1 && cv->DW == 1 && cv->group == 1 && cv->C >= 16 && cv->M >= 16 && cv->OH >= 4 &&
               cv->OW >= 4 && (int64_t)cv->OH * cv->OW >= WINO_MIN_PLANE;
    return 1;
}

/* Winograd F(4x4,3x3) weights: U = G g Gᵀ per (m, c), in double, packed
 * [36][M/mr][C][mr] (conv_wino.h). */
static void wino_pack(const dt_conv *cv, const float *w, int mr)
{
    static const double G[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const int64_t C = cv->C, mpan = cdiv64(cv->M, mr);
    for (int64_t m = 0; m < cv->M; m++)
        for (int64_t c = 0; c < C; c++) {
            const float *g = w + (m * C + c) * 9;
            double t[6][3]; /* G g */
            for (int a = 0; a < 6; a++)
                for (int j = 0; j < 3; j++)
                    t[a][j] = G[a][0] * g[j] + G[a][1] * g[3 + j] + G[a][2] * g[6 + j];
            for (int a = 0; a < 6; a++)
                for (int b = 0; b < 6; b++) {
                    double u = t[a][0] * G[b][0] + t[a][1] * G[b][1] + t[a][2] * G[b][2];
                    cv->wp[((a * 6 + b) * mpan + m / mr) * C * mr + c * mr + m % mr] = (float)u;
                }
        }
}

static void conv_free(void *p)
{
    dt_conv *cv = p;
    if (!cv)
        return;
    dt_free(cv->wp);
    dt_free(cv->bias);
    dt_free(cv->zero);
    dt_free(cv->koff);
    dt_free(cv);
}

dt_code dt_conv_state_create(const dt_graph *g, const dt_node *n, int isa, dt_conv **out, dt_status *st)
{
    *out = NULL;
    dt_conv an;
    if (!conv_analyse(g, n, &an))
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s': conv shape not supported by the fast path",
                       n->name ? n->name : "?");
    dt_conv *cv = dt_calloc(1, sizeof *cv);
    if (!cv)
        return dt_fail(st, DT_ENOMEM, "out of memory preparing conv '%s'", n->name ? n->name : "?");
    *cv = an;
    cv->isa = isa;
    int mr, nr_nchw, nr_nhwc;
    if (isa == DT_ISA_AVX512)
        dt_conv_blocking_avx512(&mr, &nr_nchw, &nr_nhwc);
    else if (isa == DT_ISA_AVX2)
        dt_conv_blocking_avx2(&mr, &nr_nchw, &nr_nhwc);
    else
        dt_conv_blocking_generic(&mr, &nr_nchw, &nr_nhwc);
    const float *w = dt_node_in(g, n, 1)->buf->data;
    const dt_value *bv = dt_node_in(g, n, 2);
    const int64_t K = cv->K, Mg = cv->Mg, taps = (int64_t)cv->KH * cv->KW;
    size_t wn;
    if (cv->wino) {
        cv->mr = mr;
        cv->nr = nr_nchw;
        wn = (size_t)(36 * cdiv64(Mg, mr) * mr * cv->C);
    } else if (cv->kind == DT_CONV_NCHW_GEMM) {
        cv->mr = mr;
        cv->nr = nr_nchw;
        wn = (size_t)(cv->group * cdiv64(Mg, mr) * mr * K);
    } else if (cv->kind == DT_CONV_NHWC_GEMM) {
        cv->nr = nr_nhwc;
        wn = (size_t)(cv->group * cdiv64(Mg, nr_nhwc) * nr_nhwc * K);
    } else {
        wn = (size_t)(taps * cdiv64(cv->C, 16) * 16);
    }
    cv->wp = dt_aligned_alloc(wn * sizeof(float));
    cv->bias = dt_aligned_alloc((size_t)(cv->M + 64) * sizeof(float));
    if (cv->kind == DT_CONV_NHWC_GEMM || cv->wino)
        cv->zero = dt_aligned_alloc((size_t)(cv->Cg + 16) * sizeof(float));
    if (!cv->wp || !cv->bias || ((cv->kind == DT_CONV_NHWC_GEMM || cv->wino) && !cv->zero)) {
        conv_free(cv);
        return dt_fail(st, DT_ENOMEM, "out of memory packing conv '%s'", n->name ? n->name : "?");
    }
    memset(cv->wp, 0, wn * sizeof(float));
    memset(cv->bias, 0, (size_t)(cv->M + 64) * sizeof(float));
    if (bv)
        memcpy(cv->bias, bv->buf->data, (size_t)cv->M * sizeof(float));
    if (cv->zero)
        memset(cv->zero, 0, (size_t)(cv->Cg + 16) * sizeof(float));
    if (cv->wino) {
        wino_pack(cv, w, mr);
        /* scratch: V[36][C][tiles rounded to blocks], then per-thread slots */
        int64_t vl = isa == DT_ISA_AVX512 ? 16 : isa == DT_ISA_AVX2 ? 8 : 1;
        int64_t th = cdiv64(cv->OH, 4), tw = cdiv64(cv->OW, 4);
        int64_t ldv = cdiv64(th * tw, nr_nchw) * nr_nchw;
        cv->wt_hp = th * 4 + 2;
        cv->wt_wq = cdiv64(tw, vl) * vl + vl; /* a whole vector for the tiles' last two columns */
        cv->wt_fill = ((size_t)(4 * cv->wt_hp * cv->wt_wq) * sizeof(float) + 63) & ~(size_t)63;
        size_t mbuf = ((size_t)(36 * mr * nr_nchw) * sizeof(float) + 63) & ~(size_t)63;
        cv->wt_slot = cv->wt_fill + mbuf;
        size_t vbytes = ((size_t)(36 * cv->C * ldv) * sizeof(float) + 63) & ~(size_t)63;
        /* many tile blocks (large maps) and a block's V small enough for L2:
         * each job transforms its own block's input instead of all of V
         * going through memory */
        if (cv->C <= 128)
            cv->wt_vblk = (size_t)(36 * cv->C * nr_nchw) * sizeof(float);
        size_t global = vbytes + cv->wt_slot * DT_CONV_SLOTS;
        size_t block = (cv->wt_slot + cv->wt_vblk) * DT_CONV_SLOTS;
        /* enough blocks for every thread count: run() never takes the global
         * mode, so no V of the whole map (large inputs) */
        if (cv->wt_vblk && cdiv64(th * tw, nr_nchw) >= 2 * DT_CONV_SLOTS)
            global = 0;
        cv->scratch = global > block ? global : block;
    } else if (cv->kind == DT_CONV_NCHW_GEMM) {
        /* [group][Mg/mr][K][mr]; W is [M][K] with K in (ci, ky, kx) order */
        int64_t nb = cdiv64(Mg, mr);
        for (int64_t gr = 0; gr < cv->group; gr++)
            for (int64_t b = 0; b < nb; b++) {
                float *dst = cv->wp + (gr * nb + b) * mr * K;
                for (int64_t i = 0; i < mr && b * mr + i < Mg; i++) {
                    const float *src = w + (gr * Mg + b * mr + i) * K;
                    for (int64_t k = 0; k < K; k++)
                        dst[k * mr + i] = src[k];
                }
            }
        if (!cv->direct) {
            /* implicit GEMM over padded column-phase planes of the whole input */
            int64_t vl = isa == DT_ISA_AVX512 ? 16 : isa == DT_ISA_AVX2 ? 8 : 1;
            cv->dw_hq = (cv->OH - 1) * cv->SH + (int64_t)(cv->KH - 1) * cv->DH + 1;
            cv->dw_wq = cdiv64(cv->OW, vl) * vl + (int64_t)(cv->KW - 1) * cv->DW / cv->SW + 1;
            int64_t total = cv->C * cv->SW * cv->dw_hq * cv->dw_wq;
            cv->koff = dt_malloc((size_t)K * sizeof(int32_t));
            if (!cv->koff) {
                conv_free(cv);
                return dt_fail(st, DT_ENOMEM, "out of memory packing conv '%s'", n->name ? n->name : "?");
            }
            for (int64_t ci = 0, k = 0; ci < cv->Cg; ci++)
                for (int64_t ky = 0; ky < cv->KH; ky++)
                    for (int64_t kx = 0; kx < cv->KW; kx++, k++)
                        cv->koff[k] = (int32_t)(((ci * cv->SW + (kx * cv->DW) % cv->SW) * cv->dw_hq + ky * cv->DH) *
                                                    cv->dw_wq +
                                                (kx * cv->DW) / cv->SW);
            cv->scratch = (size_t)total * sizeof(float) + 64;
        }
        } else if (cv->kind == DT_CONV_NHWC_GEMM) {
        /* [group][Mg/nr][K][nr]; K in (ky, kx, ci) order */
        int64_t ns = cdiv64(Mg, nr_nhwc);
        for (int64_t gr = 0; gr < cv->group; gr++)
            for (int64_t s = 0; s < ns; s++) {
                float *dst = cv->wp + (gr * ns + s) * nr_nhwc * K;
                for (int64_t l = 0; l < nr_nhwc && s * nr_nhwc + l < Mg; l++) {
                    const float *src = w + (gr * Mg + s * nr_nhwc + l) * K; /* [ci][ky][kx] */
                    for (int64_t ci = 0; ci < cv->Cg; ci++)
                        for (int64_t t = 0; t < taps; t++)
                            dst[(t * cv->Cg + ci) * nr_nhwc + l] = src[ci * taps + t];
                }
            }
    } else if (cv->nhwc) {
        /* depthwise NHWC: [taps][Cpad] */
        int64_t cpad = cdiv64(cv->C, 16) * 16;
        for (int64_t c = 0; c < cv->C; c++)
            for (int64_t t = 0; t < taps; t++)
                cv->wp[t * cpad + c] = w[c * taps + t];
    } else {
        memcpy(cv->wp, w, (size_t)(cv->C * taps) * sizeof(float));
        /* padded phase planes: every vector load of every output block in bounds */
        int64_t vl = isa == DT_ISA_AVX512 ? 16 : isa == DT_ISA_AVX2 ? 8 : 1;
        cv->dw_hq = (cdiv64(cv->OH, 4) * 4 - 1) * cv->SH + (int64_t)(cv->KH - 1) * cv->DH + 1;
        cv->dw_wq = cdiv64(cv->OW, vl) * vl + (int64_t)(cv->KW - 1) * cv->DW / cv->SW + 1;
        cv->dw_slot = ((size_t)(cv->SW * cv->dw_hq * cv->dw_wq) * sizeof(float) + 63) & ~(size_t)63;
        cv->scratch = cv->dw_slot * DT_CONV_SLOTS;
    }
    *out = cv;
    return DT_OK;
}

void dt_conv_state_free(dt_conv *cv) { conv_free(cv); }

void dt_conv_state_run(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                       dt_pool *pool)
{
    if (cv->isa == DT_ISA_AVX512)
        dt_conv_run_avx512(cv, x, y, scratch, scratch_bytes, pool);
    else if (cv->isa == DT_ISA_AVX2)
        dt_conv_run_avx2(cv, x, y, scratch, scratch_bytes, pool);
    else
        dt_conv_run_generic(cv, x, y, scratch, scratch_bytes, pool);
}

/* ---- dt_cpu_kernel glue -------------------------------------------------- */

static dt_code conv_prepare(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_conv *cv;
    dt_code rc = dt_conv_state_create(g, n, conv_isa(), &cv, st);
    if (rc != DT_OK)
        return rc;
    if (n->kstate_free)
        n->kstate_free(n->kstate);
    n->kstate = cv;
    n->kstate_free = conv_free;
    if (n->scratch_bytes < cv->scratch)
        n->scratch_bytes = cv->scratch;
    return DT_OK;
}

static dt_code conv_run(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                        const dt_kctx *ctx, dt_status *st)
{
    const dt_conv *cv = n->kstate;
    if (!cv || n_in < 2 || n_out < 1 || !in[0] || !out[0] || in[0]->ndim != 4 || out[0]->ndim != 4)
        return dt_fail(st, DT_EINTERNAL, "node '%s': conv kernel not prepared", n->name ? n->name : "?");
    int64_t xd[4] = {cv->N, cv->nhwc ? cv->H : cv->C, cv->nhwc ? cv->W : cv->H, cv->nhwc ? cv->C : cv->W};
    int64_t yd[4] = {cv->N, cv->nhwc ? cv->OH : cv->M, cv->nhwc ? cv->OW : cv->OH, cv->nhwc ? cv->M : cv->OW};
    for (int i = 0; i < 4; i++)
        if (in[0]->dims[i] != xd[i] || out[0]->dims[i] != yd[i])
            return dt_fail(st, DT_ESHAPE, "node '%s': conv shapes differ from the prepared ones",
                           n->name ? n->name : "?");
    if (cv->scratch && (!ctx->scratch || ctx->scratch_bytes < cv->scratch))
        return dt_fail(st, DT_EINTERNAL, "node '%s': conv scratch missing", n->name ? n->name : "?");
    dt_conv_state_run(cv, in[0]->data, out[0]->data, ctx->scratch, ctx->scratch ? ctx->scratch_bytes : 0,
                      ctx->pool);
    return DT_OK;
}

#define KDEF(var, nm) static const dt_cpu_kernel var = {nm, conv_prepare, conv_run};
KDEF(k_wino_512, "conv_wino_avx512")
KDEF(k_wino_2, "conv_wino_avx2")
KDEF(k_wino_g, "conv_wino_generic")
KDEF(k_nchw_512, "conv_nchw_gemm_avx512")
KDEF(k_1x1_512, "conv_nchw_1x1_avx512")
KDEF(k_nhwc_512, "conv_nhwc_gemm_avx512")
KDEF(k_dwc_512, "conv_dw_nchw_avx512")
KDEF(k_dwh_512, "conv_dw_nhwc_avx512")
KDEF(k_nchw_2, "conv_nchw_gemm_avx2")
KDEF(k_1x1_2, "conv_nchw_1x1_avx2")
KDEF(k_nhwc_2, "conv_nhwc_gemm_avx2")
KDEF(k_dwc_2, "conv_dw_nchw_avx2")
KDEF(k_dwh_2, "conv_dw_nhwc_avx2")
KDEF(k_nchw_g, "conv_nchw_gemm_generic")
KDEF(k_1x1_g, "conv_nchw_1x1_generic")
KDEF(k_nhwc_g, "conv_nhwc_gemm_generic")
KDEF(k_dwc_g, "conv_dw_nchw_generic")
KDEF(k_dwh_g, "conv_dw_nhwc_generic")

const dt_cpu_kernel *dt_cpu_conv_select(const dt_graph *g, const dt_node *n)
{
    static const dt_cpu_kernel *const tab[3][6] = {
        {&k_nchw_g, &k_1x1_g, &k_nhwc_g, &k_dwc_g, &k_dwh_g, &k_wino_g},
        {&k_nchw_2, &k_1x1_2, &k_nhwc_2, &k_dwc_2, &k_dwh_2, &k_wino_2},
        {&k_nchw_512, &k_1x1_512, &k_nhwc_512, &k_dwc_512, &k_dwh_512, &k_wino_512},
    };
    dt_conv cv;
    if (n->op != DT_OP_Conv || !conv_analyse(g, n, &cv))
        return NULL;
    int v = cv.wino                      ? 5
          : cv.kind == DT_CONV_NCHW_GEMM ? (cv.direct ? 1 : 0)
          : cv.kind == DT_CONV_NHWC_GEMM ? 2
          : cv.nhwc                      ? 4
                                         : 3;
    return tab[conv_isa()][v];
}

size_t dt_conv_state_scratch(const dt_conv *cv) { return cv->scratch; }
