/* test_cpu_fast.c — the fast CPU conv kernels against a naive conv (and the
 * reference kernel when it exists), every ISA this CPU has, many random
 * shapes, both layouts, every fused activation; output and scratch guard
 * bytes must stay untouched. */
#include <stdint.h>

#include "base/alloc.h"
#include "engine/cpu/conv.h"
#include "engine/cpu/conv_impl.h"
#include "engine/cpu/cpu.h"
#include "engine/cpu/pool.h"
#include "engine/graph.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"
#include "testlib.h"

#define GUARD 64
static const uint32_t SENTINEL = 0x7fc0dead;

typedef struct conv_case {
    int nhwc, N, C, H, W, M, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, group, bias;
    const char *auto_pad; /* NULL = explicit pads */
    dt_act act;
    float alpha, beta;
} conv_case;

static int64_t out_dim(int64_t in, int k, int s, int d, int p0, int p1)
{
    int64_t span = in + p0 + p1 - ((int64_t)(k - 1) * d + 1);
    return span < 0 ? 0 : span / s + 1;
}

/* Resolve auto_pad into explicit pads (for the naive conv). */
static void resolve_pads(conv_case *c)
{
    if (!c->auto_pad || !strcmp(c->auto_pad, "VALID")) {
        if (c->auto_pad)
            c->PT = c->PL = c->PB = c->PR = 0;
        return;
    }
    int64_t oh = (c->H + c->SH - 1) / c->SH, ow = (c->W + c->SW - 1) / c->SW;
    int64_t th = (oh - 1) * c->SH + (int64_t)(c->KH - 1) * c->DH + 1 - c->H;
    int64_t tw = (ow - 1) * c->SW + (int64_t)(c->KW - 1) * c->DW + 1 - c->W;
    if (th < 0)
        th = 0;
    if (tw < 0)
        tw = 0;
    int up = !strcmp(c->auto_pad, "SAME_UPPER");
    c->PT = (int)(up ? th / 2 : th - th / 2);
    c->PL = (int)(up ? tw / 2 : tw - tw / 2);
    c->PB = (int)(th - c->PT);
    c->PR = (int)(tw - c->PL);
}

static void naive_conv(const conv_case *c, const float *x, const float *w, const float *b, float *y, int64_t OH,
                       int64_t OW)
{
    int Cg = c->C / c->group, Mg = c->M / c->group;
    dt_act_params ap = {c->act, c->alpha, c->beta};
    for (int n = 0; n < c->N; n++)
        for (int m = 0; m < c->M; m++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    int gr = m / Mg;
                    double acc = b ? b[m] : 0.0;
                    for (int ci = 0; ci < Cg; ci++)
                        for (int ky = 0; ky < c->KH; ky++)
                            for (int kx = 0; kx < c->KW; kx++) {
                                int64_t iy = oy * c->SH - c->PT + (int64_t)ky * c->DH;
                                int64_t ix = ox * c->SW - c->PL + (int64_t)kx * c->DW;
                                if (iy < 0 || iy >= c->H || ix < 0 || ix >= c->W)
                                    continue;
                                int cc = gr * Cg + ci;
                                float xv = c->nhwc ? x[(((int64_t)n * c->H + iy) * c->W + ix) * c->C + cc]
                                                   : x[(((int64_t)n * c->C + cc) * c->H + iy) * c->W + ix];
                                acc += (double)xv * w[(((int64_t)m * Cg + ci) * c->KH + ky) * c->KW + kx];
                            }
                    float v = dt_act_apply1(&ap, (float)acc);
                    int64_t oi = c->nhwc ? (((int64_t)n * OH + oy) * OW + ox) * c->M + m
                                         : (((int64_t)n * c->M + m) * OH + oy) * OW + ox;
                    y[oi] = v;
                }
}

/* Build a one-node graph for the case; returns the node index. */
static int build_graph(const conv_case *c, dt_graph *g, const float *w, const float *b, int64_t OH, int64_t OW)
{
    dt_status st;
    int64_t xd[4] = {c->N, c->nhwc ? c->H : c->C, c->nhwc ? c->W : c->H, c->nhwc ? c->C : c->W};
    int64_t yd[4] = {c->N, c->nhwc ? OH : c->M, c->nhwc ? OW : OH, c->nhwc ? c->M : OW};
    int64_t wd[4] = {c->M, c->C / c->group, c->KH, c->KW};
    int64_t bd[1] = {c->M};
    int ins[3];
    ins[0] = dt_graph_add_value(g, "x", DT_F32, 4, xd, &st);
    ins[1] = dt_graph_add_const(g, "w", DT_F32, 4, wd, w, &st);
    int nin = 2;
    if (b)
        ins[nin++] = dt_graph_add_const(g, "b", DT_F32, 1, bd, b, &st);
    int y = dt_graph_add_value(g, "y", DT_F32, 4, yd, &st);
    dt_graph_mark_input(g, ins[0], &st);
    dt_graph_mark_output(g, y, &st);
    int n = dt_graph_add_node(g, DT_OP_Conv, "conv", nin, ins, 1, &y, &st);
    int64_t v2[2];
    v2[0] = c->SH, v2[1] = c->SW;
    dt_node_set_ints(g, n, "strides", v2, 2, &st);
    v2[0] = c->DH, v2[1] = c->DW;
    dt_node_set_ints(g, n, "dilations", v2, 2, &st);
    v2[0] = c->KH, v2[1] = c->KW;
    dt_node_set_ints(g, n, "kernel_shape", v2, 2, &st);
    if (c->auto_pad) {
        dt_node_set_string(g, n, "auto_pad", c->auto_pad, &st);
    } else {
        int64_t p[4] = {c->PT, c->PL, c->PB, c->PR};
        dt_node_set_ints(g, n, "pads", p, 4, &st);
    }
    dt_node_set_int(g, n, "group", c->group, &st);
    if (c->nhwc)
        dt_node_set_string(g, n, "layout", "NHWC", &st);
    if (c->act != DT_ACT_NONE) {
        dt_node_set_string(g, n, "activation", dt_act_name(c->act), &st);
        dt_node_set_float(g, n, "act_alpha", c->alpha, &st);
        dt_node_set_float(g, n, "act_beta", c->beta, &st);
    }
    return n;
}

static float *guarded(size_t n)
{
    uint32_t *p = dt_malloc((n + 2 * GUARD) * sizeof(float));
    for (size_t i = 0; i < n + 2 * GUARD; i++)
        p[i] = SENTINEL;
    return (float *)(p + GUARD);
}
static int guards_ok(float *p, size_t n)
{
    uint32_t *u = (uint32_t *)p;
    for (int i = 1; i <= GUARD; i++)
        if (u[-i] != SENTINEL || u[n + (size_t)i - 1] != SENTINEL)
            return 0;
    return 1;
}
static void guarded_free(float *p)
{
    if (p)
        dt_free((uint32_t *)p - GUARD);
}

static int g_checked;
static float g_xscale = 2.f; /* inputs in [-g_xscale, g_xscale) */

/* Run one case on every ISA, with and without a pool; 0 on failure. */
static int run_case(conv_case c, unsigned *seed, dt_pool *pool)
{
    resolve_pads(&c);
    int64_t OH = out_dim(c.H, c.KH, c.SH, c.DH, c.PT, c.PB), OW = out_dim(c.W, c.KW, c.SW, c.DW, c.PL, c.PR);
    if (OH < 1 || OW < 1)
        return 1;
    size_t xn = (size_t)c.N * c.C * c.H * c.W, yn = (size_t)c.N * c.M * OH * OW;
    size_t wn = (size_t)c.M * (c.C / c.group) * c.KH * c.KW;
    float *x = dt_malloc(xn * sizeof(float)), *w = dt_malloc(wn * sizeof(float));
    float *b = c.bias ? dt_malloc((size_t)c.M * sizeof(float)) : NULL;
    float *want = dt_malloc(yn * sizeof(float));
    for (size_t i = 0; i < xn; i++)
        x[i] = tl_randf(seed, -g_xscale, g_xscale);
    for (size_t i = 0; i < wn; i++)
        w[i] = tl_randf(seed, -1.f, 1.f);
    for (int i = 0; b && i < c.M; i++)
        b[i] = tl_randf(seed, -1.f, 1.f);
    naive_conv(&c, x, w, b, want, OH, OW);
    double scale = 1.0;
    for (size_t i = 0; i < yn; i++)
        if (fabs(want[i]) > scale)
            scale = fabs(want[i]);
    double tol = 1e-4 * scale;

    dt_graph *g = dt_graph_create();
    int ni = build_graph(&c, g, w, b, OH, OW);
    dt_node *node = &g->nodes[ni];
    int ok = 1;
    char desc[256];
    snprintf(desc, sizeof desc,
             "%s N%d C%d %dx%d M%d k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d g%d bias%d act %s",
             c.nhwc ? "NHWC" : "NCHW", c.N, c.C, c.H, c.W, c.M, c.KH, c.KW, c.SH, c.SW, c.DH, c.DW, c.PT, c.PL,
             c.PB, c.PR, c.group, c.bias, dt_act_name(c.act));

    /* the selector must take every valid conv */
    const dt_cpu_kernel *k = dt_cpu_select(g, node);
    CHECKF(k != NULL, "no fast kernel for %s", desc);

    const dt_cpu_features *f = dt_cpu_features_get();
    int isas[3] = {0, f->avx2 && f->fma, f->avx512f && f->avx512bw && f->avx512vl && __builtin_cpu_supports("avx512dq")};
    for (int isa = 0; isa < 3 && ok; isa++) {
        if (isa && !isas[isa])
            continue;
        dt_status st;
        dt_conv *cv = NULL;
        if (dt_conv_state_create(g, node, isa, &cv, &st) != DT_OK) {
            CHECKF(0, "isa %d create failed for %s: %s", isa, desc, st.msg);
            ok = 0;
            break;
        }
        size_t sn = (dt_conv_state_scratch(cv) + 3) / 4;
        for (int pass = 0; pass < 2 && ok; pass++) {
            float *y = guarded(yn), *scr = guarded(sn);
            dt_conv_state_run(cv, x, y, sn ? scr : NULL, sn * 4, pass ? pool : NULL);
            double md = 0;
            size_t at = 0;
            for (size_t i = 0; i < yn; i++) {
                double d = fabs((double)y[i] - want[i]);
                if (!(d <= md)) {
                    md = d;
                    at = i;
                }
            }
            if (!(md <= tol)) {
                CHECKF(0, "isa %d pool %d: max diff %g at %zu (%g vs %g) tol %g: %s", isa, pass, md, at,
                       (double)y[at], (double)want[at], tol, desc);
                ok = 0;
            }
            if (!guards_ok(y, yn) || !guards_ok(scr, sn)) {
                CHECKF(0, "isa %d: write outside output/scratch: %s", isa, desc);
                ok = 0;
            }
            guarded_free(y);
            guarded_free(scr);
            g_checked++;
        }
        dt_conv_state_free(cv);
    }

    /* through the kernel interface (prepare + run), and against the
     * project's reference kernel when it exists */
    if (ok && k) {
        dt_status st;
        if (k->prepare(g, node, &st) != DT_OK) {
            CHECKF(0, "prepare failed: %s: %s", st.msg, desc);
            ok = 0;
        } else {
            dt_tensor tx = dt_value_view(&g->values[node->in[0]]);
            tx.data = x;
            dt_tensor tw = dt_value_view(&g->values[node->in[1]]);
            dt_tensor tb;
            const dt_tensor *ins[3] = {&tx, &tw, NULL};
            if (b) {
                tb = dt_value_view(&g->values[node->in[2]]);
                ins[2] = &tb;
            }
            float *y = guarded(yn);
            float *scr = guarded((node->scratch_bytes + 3) / 4);
            dt_tensor ty = dt_value_view(&g->values[node->out[0]]);
            ty.data = y;
            dt_tensor *outs[1] = {&ty};
            dt_kctx ctx = {pool, node->scratch_bytes ? scr : NULL, node->scratch_bytes};
            CHECK(k->run(node, ins, b ? 3 : 2, outs, 1, &ctx, &st) == DT_OK);
            double md = 0;
            for (size_t i = 0; i < yn; i++) {
                double d = fabs((double)y[i] - want[i]);
                if (!(d <= md))
                    md = d;
            }
            CHECKF(md <= tol, "kernel '%s' diff %g: %s", k->name, md, desc);
            CHECKF(guards_ok(y, yn), "kernel '%s' wrote outside its output: %s", k->name, desc);
            const dt_opdef *def = dt_opdef_get(DT_OP_Conv);
            if (def && def->ref) {
                float *r = dt_malloc(yn * sizeof(float));
                ty.data = r;
                dt_kctx rctx = {NULL, NULL, 0};
                size_t rs = 0;
                float *rscr = NULL;
                if (def->infer && def->infer(g, node, &st) == DT_OK && node->scratch_bytes) {
                    rs = node->scratch_bytes;
                    rscr = dt_malloc(rs);
                    rctx.scratch = rscr;
                    rctx.scratch_bytes = rs;
                }
                if (def->ref(node, ins, b ? 3 : 2, outs, 1, &rctx, &st) == DT_OK) {
                    double rd = 0;
                    for (size_t i = 0; i < yn; i++) {
                        double d = fabs((double)y[i] - r[i]);
                        if (!(d <= rd))
                            rd = d;
                    }
                    CHECKF(rd <= tol, "vs reference kernel: diff %g: %s", rd, desc);
                }
                dt_free(rscr);
                dt_free(r);
            }
            guarded_free(y);
            guarded_free(scr);
        }
    }
    dt_graph_free(g);
    dt_free(x);
    dt_free(w);
    dt_free(b);
    dt_free(want);
    return ok;
}

static int irand(unsigned *s, int lo, int hi) { return lo + (int)(tl_randf(s, 0.f, 1.f) * (float)(hi - lo + 1)) % (hi - lo + 1); }

static const dt_act g_acts[] = {DT_ACT_NONE, DT_ACT_RELU, DT_ACT_CLIP, DT_ACT_LEAKYRELU, DT_ACT_SIGMOID,
                                DT_ACT_HARDSIGMOID, DT_ACT_HARDSWISH, DT_ACT_SILU, DT_ACT_TANH, DT_ACT_MISH,
                                DT_ACT_HARDSWISH_K};

static void act_params(dt_act a, float *alpha, float *beta)
{
    *alpha = 0.f;
    *beta = 0.f;
    if (a == DT_ACT_CLIP) {
        *alpha = 0.f;
        *beta = 6.f;
    } else if (a == DT_ACT_LEAKYRELU) {
        *alpha = 0.1f;
    } else if (a == DT_ACT_HARDSIGMOID) {
        *alpha = 0.2f;
        *beta = 0.5f;
    } else if (a == DT_ACT_HARDSWISH_K) { /* TF.js's fp16 1/6 */
        *alpha = 0.1666259765625f;
        *beta = 3.f;
    }
}

static dt_pool *g_pool;

/* Shapes from the project's models (yolox, FastestDet, TF.js) plus edge cases. */
static void test_model_shapes(void)
{
    unsigned seed = 7;
    conv_case cs[] = {
        /* nhwc N C H W M KH KW SH SW DH DW PT PL PB PR group bias */
        {0, 1, 12, 40, 37, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 1, 3, 35, 33, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_RELU, 0, 0},
        {0, 1, 64, 13, 13, 256, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 1, 128, 13, 13, 80, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_NONE, 0, 0},
        {0, 1, 64, 26, 26, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_SIGMOID, 0, 0},
        {0, 1, 64, 26, 26, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 64, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 1, 32, 41, 39, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 32, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 1, 96, 22, 22, 96, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 96, 1, NULL, DT_ACT_NONE, 0, 0},
        {0, 1, 96, 22, 22, 96, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 96, 1, NULL, DT_ACT_RELU, 0, 0},
        {0, 2, 48, 11, 11, 48, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_RELU, 0, 0},
        {1, 1, 3, 33, 31, 32, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, "SAME_UPPER", DT_ACT_RELU, 0, 0},
        {1, 1, 128, 13, 13, 124, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_NONE, 0, 0},
        {1, 1, 128, 12, 11, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_LEAKYRELU, 0.1f, 0},
        {1, 1, 64, 14, 13, 64, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_LEAKYRELU, 0.1f, 0},
        {1, 1, 48, 17, 19, 48, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 48, 1, "SAME_UPPER", DT_ACT_CLIP, 0, 6},
        {1, 1, 40, 17, 19, 40, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 40, 0, "SAME_UPPER", DT_ACT_NONE, 0, 0},
        {1, 2, 19, 9, 10, 21, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, NULL, DT_ACT_HARDSWISH, 0, 0},
        {0, 1, 8, 9, 11, 12, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, NULL, DT_ACT_MISH, 0, 0},
        {0, 1, 8, 9, 11, 12, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 4, 1, NULL, DT_ACT_TANH, 0, 0},
        {1, 1, 8, 9, 11, 12, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 4, 1, NULL, DT_ACT_HARDSIGMOID, 0.2f, 0.5f},
        {0, 1, 512, 13, 13, 256, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 1, 4, 1, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, NULL, DT_ACT_NONE, 0, 0},
        {0, 1, 1, 1, 70, 1, 1, 7, 1, 3, 1, 1, 0, 3, 0, 3, 1, 1, NULL, DT_ACT_NONE, 0, 0},
        /* NHWC depthwise, channel tails on the span path (centernet's head) */
        {1, 1, 18, 9, 40, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 18, 1, NULL, DT_ACT_NONE, 0, 0},
        {1, 1, 24, 11, 45, 24, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 24, 1, NULL, DT_ACT_HARDSWISH_K, 0.1666259765625f, 3.f},
        /* Winograd F(4x4,3x3) (output planes of 200+ pixels; 13x13 runs the
         * direct GEMM): nanodet's shapes, partial tiles, tile rows wider
         * than a vector, asymmetric and large pads, batch 2, odd channels */
        {0, 1, 128, 26, 26, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_LEAKYRELU, 0.1f, 0},
        {0, 1, 256, 13, 13, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_LEAKYRELU, 0.1f, 0},
        {0, 1, 32, 104, 104, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_LEAKYRELU, 0.1f, 0},
        {0, 2, 19, 15, 15, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_RELU, 0, 0},
        {0, 1, 16, 8, 70, 17, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, 1, 0, NULL, DT_ACT_NONE, 0, 0},
        {0, 1, 16, 14, 15, 24, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 1, 33, 17, 15, 40, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, NULL, DT_ACT_CLIP, 0, 6},
        /* below the Winograd plane threshold: the direct GEMM, same answers */
        {0, 1, 33, 5, 4, 40, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, NULL, DT_ACT_CLIP, 0, 6},
        /* implicit GEMM over the flattened output plane (rows under ~90% of
         * the lanes): tiles spanning rows, row pieces split at the vector,
         * balanced tiles, K chunks, M tails, stride 2, groups, batch 2 */
        {0, 1, 128, 20, 20, 256, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 1, 128, 10, 10, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_SILU, 0, 0},
        {0, 2, 37, 26, 25, 45, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_RELU, 0, 0},
        {0, 1, 19, 11, 13, 21, 3, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, NULL, DT_ACT_NONE, 0, 0},
        {0, 2, 24, 9, 7, 30, 3, 3, 2, 2, 1, 1, 0, 1, 2, 0, 2, 1, NULL, DT_ACT_LEAKYRELU, 0.1f, 0},
        {0, 1, 20, 41, 39, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, NULL, DT_ACT_NONE, 0, 0},
        {0, 1, 16, 5, 5, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NULL, DT_ACT_NONE, 0, 0},
        {0, 1, 8, 23, 23, 12, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, NULL, DT_ACT_NONE, 0, 0},
        {0, 1, 12, 15, 16, 10, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 1, 1, NULL, DT_ACT_HARDSIGMOID, 0.2f, 0.5f},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        run_case(cs[i], &seed, g_pool);
}

static void test_random_shapes(void)
{
    unsigned seed = 12345;
    int fails = 0;
    for (int it = 0; it < 400 && fails < 5; it++) {
        conv_case c;
        memset(&c, 0, sizeof c);
        c.nhwc = it & 1;
        c.N = irand(&seed, 1, 2);
        int kind = irand(&seed, 0, 3); /* 0 dense, 1 depthwise, 2 grouped, 3 1x1 */
        c.KH = kind == 3 ? 1 : irand(&seed, 1, 5);
        c.KW = kind == 3 ? 1 : irand(&seed, 1, 5);
        c.SH = kind == 3 ? 1 : irand(&seed, 1, 3);
        c.SW = kind == 3 ? 1 : irand(&seed, 1, 3);
        c.DH = kind == 3 || irand(&seed, 0, 3) ? 1 : 2;
        c.DW = c.DH;
        c.H = irand(&seed, 1, 24);
        c.W = irand(&seed, 1, 40);
        if (kind != 3) {
            c.PT = irand(&seed, 0, 2);
            c.PL = irand(&seed, 0, 2);
            c.PB = irand(&seed, 0, 2);
            c.PR = irand(&seed, 0, 2);
        }
        if (kind == 1) {
            c.C = c.M = irand(&seed, 1, 40);
            c.group = c.C;
        } else if (kind == 2) {
            c.group = irand(&seed, 2, 4);
            c.C = c.group * irand(&seed, 1, 6);
            c.M = c.group * irand(&seed, 1, 20);
        } else {
            c.group = 1;
            c.C = irand(&seed, 1, 40);
            c.M = irand(&seed, 1, 70);
        }
        c.bias = irand(&seed, 0, 3) != 0;
        c.act = g_acts[it % 10];
        act_params(c.act, &c.alpha, &c.beta);
        if (irand(&seed, 0, 7) == 0)
            c.auto_pad = irand(&seed, 0, 1) ? "SAME_UPPER" : "SAME_LOWER";
        if (!run_case(c, &seed, g_pool))
            fails++;
    }
    CHECK(fails == 0);
}

/* Activation accuracy over a wide input range (the vector exp/rcp paths). */
static void test_activations(void)
{
    unsigned seed = 99;
    for (size_t a = 0; a < sizeof g_acts / sizeof g_acts[0]; a++) {
        conv_case c = {0, 1, 1, 1, 200, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, NULL, g_acts[a], 0, 0};
        act_params(c.act, &c.alpha, &c.beta);
        run_case(c, &seed, g_pool); /* inputs in [-2,2] times a weight */
        c.C = 4;
        c.W = 300;
        g_xscale = 60.f; /* saturating ranges of exp */
        run_case(c, &seed, g_pool);
        g_xscale = 2.f;
    }
}


/* ---- other fast kernels against the reference ---------------------------- */

/* Run node ni of g (input 0 = x, other inputs constants) with dt_cpu_select's
 * kernel and with the reference; 1 when they agree within tol. */
static int node_vs_ref(dt_graph *g, int ni, const float *x, double tol, const char *desc)
{
    dt_status st;
    dt_node *node = &g->nodes[ni];
    const dt_opdef *def = dt_opdef_get(node->op);
    if (!def || !def->ref || !def->infer)
        return 1; /* reference not there yet */
    if (def->infer(g, node, &st) != DT_OK) {
        CHECKF(0, "infer failed: %s: %s", st.msg, desc);
        return 0;
    }
    size_t ref_scratch = node->scratch_bytes;
    const dt_cpu_kernel *k = dt_cpu_select(g, node);
    CHECKF(k != NULL, "no fast kernel for %s", desc);
    if (!k)
        return 0;
    if (k->prepare(g, node, &st) != DT_OK) {
        CHECKF(0, "prepare failed: %s: %s", st.msg, desc);
        return 0;
    }
    dt_tensor tin[8];
    const dt_tensor *ins[8] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    if (node->n_in > 8)
        return 0;
    for (int i = 0; i < node->n_in; i++) {
        if (node->in[i] < 0)
            continue;
        tin[i] = dt_value_view(&g->values[node->in[i]]);
        ins[i] = &tin[i];
    }
    tin[0].data = (void *)x;
    dt_tensor ty = dt_value_view(&g->values[node->out[0]]);
    size_t yn = (size_t)dt_tensor_numel(&ty);
    float *y = guarded(yn), *r = dt_malloc(yn * sizeof(float));
    size_t sn = (node->scratch_bytes > ref_scratch ? node->scratch_bytes : ref_scratch) + 64;
    float *scr = guarded((sn + 3) / 4);
    dt_tensor *outs[1] = {&ty};
    int ok = 1;
    for (int pass = 0; pass < 2; pass++) {
        ty.data = y;
        dt_kctx ctx = {pass ? g_pool : NULL, scr, node->scratch_bytes};
        CHECK(k->run(node, ins, node->n_in, outs, 1, &ctx, &st) == DT_OK);
        ty.data = r;
        dt_kctx rctx = {NULL, scr, ref_scratch};
        CHECK(def->ref(node, ins, node->n_in, outs, 1, &rctx, &st) == DT_OK);
        double md = 0;
        for (size_t i = 0; i < yn; i++) {
            double d = fabs((double)y[i] - r[i]);
            if (!(d <= md))
                md = d;
        }
        if (!(md <= tol)) {
            CHECKF(0, "kernel '%s' vs reference: diff %g: %s", k->name, md, desc);
            ok = 0;
        }
        if (!guards_ok(y, yn) || !guards_ok(scr, (sn + 3) / 4)) {
            CHECKF(0, "kernel '%s' wrote outside its output/scratch: %s", k->name, desc);
            ok = 0;
        }
        g_checked++;
    }
    guarded_free(y);
    guarded_free(scr);
    dt_free(r);
    return ok;
}

static void test_maxpool(void)
{
    unsigned seed = 5;
    struct { int nhwc, N, C, H, W, KH, KW, SH, SW, PT, PL, PB, PR, ceil; } cs[] = {
        {0, 1, 128, 13, 13, 13, 13, 1, 1, 6, 6, 6, 6, 0}, {0, 1, 128, 13, 13, 5, 5, 1, 1, 2, 2, 2, 2, 0},
        {0, 1, 24, 37, 35, 3, 3, 2, 2, 1, 1, 1, 1, 0},    {0, 2, 3, 20, 21, 2, 2, 2, 2, 0, 0, 0, 0, 1},
        {0, 1, 5, 9, 30, 3, 1, 1, 1, 1, 0, 1, 0, 0},      {1, 1, 19, 13, 12, 3, 3, 2, 2, 1, 1, 1, 1, 0},
        {1, 2, 64, 9, 9, 5, 5, 1, 1, 2, 2, 2, 2, 0},      {0, 1, 7, 11, 11, 3, 3, 3, 3, 0, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        dt_status st;
        dt_graph *g = dt_graph_create();
        int64_t xd[4] = {cs[i].N, cs[i].nhwc ? cs[i].H : cs[i].C, cs[i].nhwc ? cs[i].W : cs[i].H,
                         cs[i].nhwc ? cs[i].C : cs[i].W};
        int xv = dt_graph_add_value(g, "x", DT_F32, 4, xd, &st);
        int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
        int avg = i % 3 == 1;
        int ni = dt_graph_add_node(g, avg ? DT_OP_AveragePool : DT_OP_MaxPool, "mp", 1, &xv, 1, &yv, &st);
        if (avg)
            dt_node_set_int(g, ni, "count_include_pad", i % 2, &st);
        int64_t k[2] = {cs[i].KH, cs[i].KW}, s2[2] = {cs[i].SH, cs[i].SW};
        int64_t p[4] = {cs[i].PT, cs[i].PL, cs[i].PB, cs[i].PR};
        dt_node_set_ints(g, ni, "kernel_shape", k, 2, &st);
        dt_node_set_ints(g, ni, "strides", s2, 2, &st);
        dt_node_set_ints(g, ni, "pads", p, 4, &st);
        dt_node_set_int(g, ni, "ceil_mode", cs[i].ceil, &st);
        if (cs[i].nhwc)
            dt_node_set_string(g, ni, "layout", "NHWC", &st);
        size_t xn = (size_t)cs[i].N * cs[i].C * cs[i].H * cs[i].W;
        float *x = dt_malloc(xn * sizeof(float));
        for (size_t j = 0; j < xn; j++)
            x[j] = tl_randf(&seed, -3.f, 3.f);
        char desc[128];
        snprintf(desc, sizeof desc, "%s case %zu", avg ? "AveragePool" : "MaxPool", i);
        node_vs_ref(g, ni, x, avg ? 1e-5 : 0.0, desc);
        dt_free(x);
        dt_graph_free(g);
    }
}

static void test_resize(void)
{
    unsigned seed = 6;
    struct { int N, C, H, W; float sh, sw; const char *ct, *nm; int nhwc; } cs[] = {
        {1, 64, 13, 13, 2.f, 2.f, "asymmetric", "floor", 0},
        {1, 8, 7, 9, 3.f, 2.f, "half_pixel", "round_prefer_floor", 0},
        {2, 5, 10, 11, 0.5f, 1.5f, "align_corners", "round_prefer_ceil", 0},
        {1, 6, 5, 4, 2.f, 2.f, "asymmetric", "floor", 1},
        {1, 3, 9, 9, 1.7f, 2.3f, "pytorch_half_pixel", "ceil", 0},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        dt_status st;
        dt_graph *g = dt_graph_create();
        int nhwc = cs[i].nhwc;
        int64_t xd[4] = {cs[i].N, nhwc ? cs[i].H : cs[i].C, nhwc ? cs[i].W : cs[i].H, nhwc ? cs[i].C : cs[i].W};
        float sc[4] = {1.f, nhwc ? cs[i].sh : 1.f, nhwc ? cs[i].sw : cs[i].sh, nhwc ? 1.f : cs[i].sw};
        int64_t sd[1] = {4}, rd[1] = {0};
        int ins[3];
        ins[0] = dt_graph_add_value(g, "x", DT_F32, 4, xd, &st);
        ins[1] = dt_graph_add_const(g, "roi", DT_F32, 1, rd, NULL, &st);
        ins[2] = dt_graph_add_const(g, "scales", DT_F32, 1, sd, sc, &st);
        int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
        int ni = dt_graph_add_node(g, DT_OP_Resize, "rz", 3, ins, 1, &yv, &st);
        dt_node_set_string(g, ni, "mode", "nearest", &st);
        dt_node_set_string(g, ni, "coordinate_transformation_mode", cs[i].ct, &st);
        dt_node_set_string(g, ni, "nearest_mode", cs[i].nm, &st);
        g->nodes[ni].opset = 13;
        size_t xn = (size_t)cs[i].N * cs[i].C * cs[i].H * cs[i].W;
        float *x = dt_malloc(xn * sizeof(float));
        for (size_t j = 0; j < xn; j++)
            x[j] = tl_randf(&seed, -3.f, 3.f);
        char desc[128];
        snprintf(desc, sizeof desc, "Resize case %zu", i);
        node_vs_ref(g, ni, x, 0.0, desc);
        dt_free(x);
        dt_graph_free(g);
    }
}

static float *rand_buf(size_t n, unsigned *seed, float lo, float hi)
{
    float *x = dt_malloc(n * sizeof(float));
    for (size_t j = 0; j < n; j++)
        x[j] = tl_randf(seed, lo, hi);
    return x;
}

static void test_resize_linear(void)
{
    unsigned seed = 8;
    struct { int N, C, H, W, OH, OW; const char *ct; int nhwc, use_sizes; } cs[] = {
        {1, 128, 16, 16, 32, 32, "asymmetric", 1, 1},  {1, 5, 13, 13, 26, 26, "half_pixel", 0, 0},
        {2, 3, 7, 9, 11, 20, "align_corners", 0, 1},     {1, 4, 10, 6, 5, 17, "pytorch_half_pixel", 1, 0},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        dt_status st;
        dt_graph *g = dt_graph_create();
        int nhwc = cs[i].nhwc;
        int64_t xd[4] = {cs[i].N, nhwc ? cs[i].H : cs[i].C, nhwc ? cs[i].W : cs[i].H, nhwc ? cs[i].C : cs[i].W};
        int64_t yd[4] = {cs[i].N, nhwc ? cs[i].OH : cs[i].C, nhwc ? cs[i].OW : cs[i].OH, nhwc ? cs[i].C : cs[i].OW};
        int64_t one[1] = {4}, zero[1] = {0};
        float sc[4];
        for (int d = 0; d < 4; d++)
            sc[d] = (float)yd[d] / (float)xd[d];
        int ins[4];
        ins[0] = dt_graph_add_value(g, "x", DT_F32, 4, xd, &st);
        ins[1] = dt_graph_add_const(g, "roi", DT_F32, 1, zero, NULL, &st);
        int nin = 3;
        if (cs[i].use_sizes) {
            ins[2] = dt_graph_add_const(g, "scales", DT_F32, 1, zero, NULL, &st);
            ins[3] = dt_graph_add_const(g, "sizes", DT_I64, 1, one, yd, &st);
            nin = 4;
        } else {
            ins[2] = dt_graph_add_const(g, "scales", DT_F32, 1, one, sc, &st);
        }
        int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
        int ni = dt_graph_add_node(g, DT_OP_Resize, "rz", nin, ins, 1, &yv, &st);
        dt_node_set_string(g, ni, "mode", "linear", &st);
        dt_node_set_string(g, ni, "coordinate_transformation_mode", cs[i].ct, &st);
        g->nodes[ni].opset = 13;
        float *x = rand_buf((size_t)cs[i].N * cs[i].C * cs[i].H * cs[i].W, &seed, -3.f, 3.f);
        char desc[128];
        snprintf(desc, sizeof desc, "linear Resize case %zu", i);
        node_vs_ref(g, ni, x, 1e-5, desc);
        dt_free(x);
        dt_graph_free(g);
    }
}

static void test_topk(void)
{
    unsigned seed = 9;
    struct { int64_t d0, d1; int axis, k, largest, ties; } cs[] = {
        {1, 200000, 1, 100, 1, 0}, {1, 100000, 1, 37, 0, 1}, {6, 50, 1, 7, 1, 1}, {40, 9, 0, 5, 1, 0}, {3, 5, 1, 5, 0, 0},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        dt_status st;
        dt_graph *g = dt_graph_create();
        int64_t xd[2] = {cs[i].d0, cs[i].d1}, kd[1] = {1}, kv[1] = {cs[i].k};
        int ins[2], outs[2];
        ins[0] = dt_graph_add_value(g, "x", DT_F32, 2, xd, &st);
        ins[1] = dt_graph_add_const(g, "k", DT_I64, 1, kd, kv, &st);
        outs[0] = dt_graph_add_value(g, "v", DT_F32, -1, NULL, &st);
        outs[1] = dt_graph_add_value(g, "i", DT_I64, -1, NULL, &st);
        int ni = dt_graph_add_node(g, DT_OP_TopK, "tk", 2, ins, 2, outs, &st);
        dt_node_set_int(g, ni, "axis", cs[i].axis, &st);
        dt_node_set_int(g, ni, "largest", cs[i].largest, &st);
        size_t xn = (size_t)(cs[i].d0 * cs[i].d1);
        float *x = rand_buf(xn, &seed, -1.f, 1.f);
        if (cs[i].ties) /* many equal values: the index order decides */
            for (size_t j = 0; j < xn; j++)
                x[j] = (float)(int)(x[j] * 4.f);
        /* compare values and indices with the reference */
        const dt_opdef *def = dt_opdef_get(DT_OP_TopK);
        dt_node *node = &g->nodes[ni];
        if (def && def->infer && def->infer(g, node, &st) == DT_OK) {
            size_t rs = node->scratch_bytes;
            const dt_cpu_kernel *k = dt_cpu_select(g, node);
            CHECK(k != NULL);
            if (k && k->prepare(g, node, &st) == DT_OK) {
                dt_tensor tx = dt_value_view(&g->values[ins[0]]), tk = dt_value_view(&g->values[ins[1]]);
                tx.data = x;
                const dt_tensor *in2[2] = {&tx, &tk};
                dt_tensor tv = dt_value_view(&g->values[outs[0]]), ti = dt_value_view(&g->values[outs[1]]);
                size_t yn = (size_t)dt_tensor_numel(&tv);
                float *v1 = dt_malloc(yn * 4), *v2 = dt_malloc(yn * 4);
                int64_t *i1 = dt_malloc(yn * 8), *i2 = dt_malloc(yn * 8);
                size_t sn = (node->scratch_bytes > rs ? node->scratch_bytes : rs) + 64;
                void *scr = dt_malloc(sn);
                dt_tensor *o2[2] = {&tv, &ti};
                tv.data = v1;
                ti.data = i1;
                dt_kctx ctx = {g_pool, scr, node->scratch_bytes};
                CHECK(k->run(node, in2, 2, o2, 2, &ctx, &st) == DT_OK);
                tv.data = v2;
                ti.data = i2;
                dt_kctx rctx = {NULL, scr, rs};
                CHECK(def->ref(node, in2, 2, o2, 2, &rctx, &st) == DT_OK);
                size_t bad = 0;
                for (size_t j = 0; j < yn; j++)
                    bad += v1[j] != v2[j] || i1[j] != i2[j];
                CHECKF(bad == 0, "TopK case %zu: %zu of %zu differ", i, bad, yn);
                g_checked++;
                dt_free(v1);
                dt_free(v2);
                dt_free(i1);
                dt_free(i2);
                dt_free(scr);
            }
        }
        dt_free(x);
        dt_graph_free(g);
    }
}

static void test_reduce(void)
{
    unsigned seed = 10;
    struct { int64_t d[4]; int64_t axes[4]; int na, keep; dt_op op; } cs[] = {
        {{1, 64, 64, 96}, {1, 2}, 2, 1, DT_OP_ReduceMean}, {{2, 16, 13, 13}, {2, 3}, 2, 1, DT_OP_ReduceMean},
        {{1, 3, 300, 7}, {-2}, 1, 0, DT_OP_ReduceSum},      {{2, 3, 4, 5}, {0}, 0, 1, DT_OP_ReduceMean},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        dt_status st;
        dt_graph *g = dt_graph_create();
        int ins[2];
        int64_t ad[1] = {cs[i].na};
        ins[0] = dt_graph_add_value(g, "x", DT_F32, 4, cs[i].d, &st);
        int nin = 1;
        if (cs[i].na)
            ins[nin++] = dt_graph_add_const(g, "axes", DT_I64, 1, ad, cs[i].axes, &st);
        int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
        int ni = dt_graph_add_node(g, cs[i].op, "rd", nin, ins, 1, &yv, &st);
        dt_node_set_int(g, ni, "keepdims", cs[i].keep, &st);
        g->nodes[ni].opset = 18;
        size_t xn = (size_t)(cs[i].d[0] * cs[i].d[1] * cs[i].d[2] * cs[i].d[3]);
        float *x = rand_buf(xn, &seed, -2.f, 3.f);
        char desc[64];
        snprintf(desc, sizeof desc, "reduce case %zu", i);
        node_vs_ref(g, ni, x, 1e-4, desc);
        dt_free(x);
        dt_graph_free(g);
    }
}

/* Unary activations and broadcasting binary ops against the reference. */
static void test_eltwise(void)
{
    unsigned seed = 11;
    static const dt_op un[] = {DT_OP_Relu, DT_OP_Clip, DT_OP_Sigmoid, DT_OP_HardSigmoid, DT_OP_HardSwish,
                               DT_OP_LeakyRelu, DT_OP_Tanh};
    for (size_t i = 0; i < sizeof un / sizeof un[0] + 1; i++) {
        dt_status st;
        if (i == sizeof un / sizeof un[0]) { /* Softmax over the last axis */
            dt_graph *g = dt_graph_create();
            int64_t xd[3] = {4, 22, 80};
            int xv = dt_graph_add_value(g, "x", DT_F32, 3, xd, &st);
            int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
            int ni = dt_graph_add_node(g, DT_OP_Softmax, "sm", 1, &xv, 1, &yv, &st);
            g->nodes[ni].opset = 13;
            dt_node_set_int(g, ni, "axis", -1, &st);
            float *x = rand_buf(4 * 22 * 80, &seed, -20.f, 20.f);
            node_vs_ref(g, ni, x, 1e-6, "Softmax");
            dt_free(x);
            dt_graph_free(g);
            continue;
        }
        dt_graph *g = dt_graph_create();
        int64_t xd[3] = {3, 37, 101}, sd[1] = {1};
        float lo = 0.f, hi = 6.f;
        int ins[3], nin = 1;
        ins[0] = dt_graph_add_value(g, "x", DT_F32, 3, xd, &st);
        if (un[i] == DT_OP_Clip) {
            ins[1] = dt_graph_add_const(g, "lo", DT_F32, 0, sd, &lo, &st);
            ins[2] = dt_graph_add_const(g, "hi", DT_F32, 0, sd, &hi, &st);
            nin = 3;
        }
        int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
        int ni = dt_graph_add_node(g, un[i], "u", nin, ins, 1, &yv, &st);
        g->nodes[ni].opset = 14;
        float *x = rand_buf(3 * 37 * 101, &seed, -9.f, 9.f);
        char desc[64];
        snprintf(desc, sizeof desc, "%s", dt_op_name(un[i]));
        node_vs_ref(g, ni, x, 2e-6, desc);
        dt_free(x);
        dt_graph_free(g);
    }
    static const dt_op bin[] = {DT_OP_Add, DT_OP_Sub, DT_OP_Mul, DT_OP_Div};
    struct { int na, nb; int64_t a[4], b[4]; } shp[] = {
        {4, 4, {1, 20, 20, 48}, {1, 1, 1, 48}}, {4, 4, {2, 16, 9, 9}, {1, 16, 1, 1}}, {3, 0, {5, 7, 30000}, {0}},
        {4, 4, {1, 8, 50, 50}, {1, 8, 50, 50}}, {2, 3, {7, 1}, {3, 1, 5}},          {1, 4, {33}, {2, 3, 1, 33}},
    };
    for (size_t i = 0; i < sizeof bin / sizeof bin[0]; i++)
        for (size_t j = 0; j < sizeof shp / sizeof shp[0]; j++) {
            dt_status st;
            dt_graph *g = dt_graph_create();
            int64_t nb = 1;
            for (int d = 0; d < shp[j].nb; d++)
                nb *= shp[j].b[d];
            float *bv = rand_buf((size_t)nb, &seed, 0.5f, 2.f);
            int ins[2];
            ins[0] = dt_graph_add_value(g, "a", DT_F32, shp[j].na, shp[j].a, &st);
            ins[1] = dt_graph_add_const(g, "b", DT_F32, shp[j].nb, shp[j].b, bv, &st);
            int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
            int ni = dt_graph_add_node(g, bin[i], "b", 2, ins, 1, &yv, &st);
            int64_t na = 1;
            for (int d = 0; d < shp[j].na; d++)
                na *= shp[j].a[d];
            float *x = rand_buf((size_t)na, &seed, -3.f, 3.f);
            char desc[64];
            snprintf(desc, sizeof desc, "%s shape case %zu", dt_op_name(bin[i]), j);
            node_vs_ref(g, ni, x, 1e-6, desc);
            dt_free(x);
            dt_free(bv);
            dt_graph_free(g);
        }
}

static void test_slice(void)
{
    unsigned seed = 12;
    struct { int64_t d[4]; int64_t st[2], en[2], ax[2], sp[2]; } cs[] = {
        {{1, 3, 40, 42}, {0, 0}, {INT64_MAX, INT64_MAX}, {2, 3}, {2, 2}},  /* Focus */
        {{1, 3, 40, 42}, {1, 1}, {INT64_MAX, INT64_MAX}, {2, 3}, {2, 2}},
        {{2, 8, 9, 10}, {-5, 2}, {-1, 9}, {1, 3}, {1, 3}},
        {{1, 6, 7, 5}, {6, 4}, {-100, -100}, {2, 1}, {-2, -1}},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        dt_status st;
        dt_graph *g = dt_graph_create();
        int64_t two[1] = {2};
        int ins[5];
        ins[0] = dt_graph_add_value(g, "x", DT_F32, 4, cs[i].d, &st);
        ins[1] = dt_graph_add_const(g, "starts", DT_I64, 1, two, cs[i].st, &st);
        ins[2] = dt_graph_add_const(g, "ends", DT_I64, 1, two, cs[i].en, &st);
        ins[3] = dt_graph_add_const(g, "axes", DT_I64, 1, two, cs[i].ax, &st);
        ins[4] = dt_graph_add_const(g, "steps", DT_I64, 1, two, cs[i].sp, &st);
        int yv = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
        int ni = dt_graph_add_node(g, DT_OP_Slice, "sl", 5, ins, 1, &yv, &st);
        g->nodes[ni].opset = 13;
        float *x = rand_buf((size_t)(cs[i].d[0] * cs[i].d[1] * cs[i].d[2] * cs[i].d[3]), &seed, -3.f, 3.f);
        char desc[64];
        snprintf(desc, sizeof desc, "Slice case %zu", i);
        node_vs_ref(g, ni, x, 0.0, desc);
        dt_free(x);
        dt_graph_free(g);
    }
}

/* The per-ISA elementwise kernels directly (the node tests above only reach
 * the best ISA of this CPU). */
static void test_isa_eltwise(void)
{
    typedef void (*act_fn)(const dt_act_params *, const float *, float *, int64_t);
    typedef void (*bin_fn)(int, const float *, int64_t, const float *, int64_t, float *, int64_t);
    typedef void (*sm_fn)(const float *, float *, int64_t, int64_t);
    const dt_cpu_features *f = dt_cpu_features_get();
    int have[3] = {1, f->avx2 && f->fma, f->avx512f && f->avx512bw && f->avx512vl && __builtin_cpu_supports("avx512dq")};
    act_fn acts[3] = {dt_fast_act_generic, dt_fast_act_avx2, dt_fast_act_avx512};
    bin_fn bins[3] = {dt_fast_binary_generic, dt_fast_binary_avx2, dt_fast_binary_avx512};
    sm_fn sms[3] = {dt_fast_softmax_generic, dt_fast_softmax_avx2, dt_fast_softmax_avx512};
    unsigned seed = 13;
    const int64_t n = 1003;
    float *x = rand_buf((size_t)n, &seed, -30.f, 30.f), *b = rand_buf((size_t)n, &seed, 0.5f, 3.f);
    float *y = guarded((size_t)n);
    for (int isa = 0; isa < 3; isa++) {
        if (!have[isa])
            continue;
        for (size_t a = 0; a < sizeof g_acts / sizeof g_acts[0]; a++) {
            dt_act_params p = {g_acts[a], 0.f, 0.f};
            act_params(p.kind, &p.alpha, &p.beta);
            acts[isa](&p, x, y, n);
            double md = 0;
            for (int64_t i = 0; i < n; i++) {
                double want = dt_act_apply1(&p, x[i]), d = fabs(y[i] - want) / (fabs(want) > 1 ? fabs(want) : 1);
                if (!(d <= md))
                    md = d;
            }
            CHECKF(md <= 2e-6, "isa %d act %s: rel diff %g", isa, dt_act_name(p.kind), md);
            CHECKF(guards_ok(y, (size_t)n), "isa %d act %s wrote outside", isa, dt_act_name(p.kind));
        }
        for (int op = 0; op < 4; op++)
            for (int bc = 0; bc < 3; bc++) {
                int64_t sa = bc != 1, sb = bc != 2;
                bins[isa](op, x, sa, b, sb, y, n);
                int bad = 0;
                for (int64_t i = 0; i < n; i++) {
                    float av = x[sa ? i : 0], bv = b[sb ? i : 0];
                    float want = op == 0 ? av + bv : op == 1 ? av - bv : op == 2 ? av * bv : av / bv;
                    bad += y[i] != want;
                }
                CHECKF(bad == 0, "isa %d binary op %d pattern %d: %d differ", isa, op, bc, bad);
                CHECK(guards_ok(y, (size_t)n));
            }
        sms[isa](x, y, 17, 59); /* 17 rows of 59 */
        double md = 0;
        for (int r = 0; r < 17; r++) {
            double mx = -1e30, sum = 0;
            for (int i = 0; i < 59; i++)
                mx = x[r * 59 + i] > mx ? x[r * 59 + i] : mx;
            for (int i = 0; i < 59; i++)
                sum += exp(x[r * 59 + i] - mx);
            for (int i = 0; i < 59; i++) {
                double d = fabs(y[r * 59 + i] - exp(x[r * 59 + i] - mx) / sum);
                if (!(d <= md))
                    md = d;
            }
        }
        CHECKF(md <= 1e-6, "isa %d softmax diff %g", isa, md);
        CHECK(guards_ok(y, (size_t)n));
    }
    guarded_free(y);
    dt_free(x);
    dt_free(b);
}

/* Equal (f32 -> bool) and Cast (bool -> f32) fast paths against the
 * reference, element for element (centernet's peak mask). */
static void test_mask(void)
{
    unsigned seed = 21;
    dt_status st;
    int64_t d[4] = {1, 37, 29, 80};
    size_t n = 37 * 29 * 80;
    float *a = rand_buf(n, &seed, -4.f, 4.f), *b = dt_malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        b[i] = (i % 3) ? a[i] : a[i] + 1.f;
    b[5] = NAN;
    a[7] = NAN;
    b[7] = NAN;
    dt_graph *g = dt_graph_create();
    int ins[2] = {dt_graph_add_value(g, "a", DT_F32, 4, d, &st), dt_graph_add_const(g, "b", DT_F32, 4, d, b, &st)};
    int eq = dt_graph_add_value(g, "eq", DT_BOOL, 4, d, &st), yv = dt_graph_add_value(g, "y", DT_F32, 4, d, &st);
    int ne = dt_graph_add_node(g, DT_OP_Equal, "e", 2, ins, 1, &eq, &st);
    int nc = dt_graph_add_node(g, DT_OP_Cast, "c", 1, &eq, 1, &yv, &st);
    dt_node_set_int(g, nc, "to", 1, &st);
    g->nodes[ne].opset = g->nodes[nc].opset = 13;
    uint8_t *m1 = dt_malloc(n), *m2 = dt_malloc(n);
    float *y1 = dt_malloc(n * sizeof(float)), *y2 = dt_malloc(n * sizeof(float));
    for (int pass = 0; pass < 2; pass++) {
        int nis[2] = {ne, nc};
        for (int k = 0; k < 2; k++) {
            dt_node *node = &g->nodes[nis[k]];
            const dt_cpu_kernel *kern = dt_cpu_select(g, node);
            const dt_opdef *def = dt_opdef_get(node->op);
            CHECK(kern != NULL && def && def->ref);
            if (!kern || !def || !def->ref)
                continue;
            CHECK(kern->prepare(g, node, &st) == DT_OK);
            dt_tensor ti[2] = {dt_value_view(&g->values[node->in[0]]), {0}};
            const dt_tensor *tin[2] = {&ti[0], NULL};
            if (k == 0) {
                ti[0].data = a;
                ti[1] = dt_value_view(&g->values[node->in[1]]);
                tin[1] = &ti[1];
            } else {
                ti[0].data = m1;
            }
            dt_tensor to = dt_value_view(&g->values[node->out[0]]);
            dt_tensor *outs[1] = {&to};
            dt_kctx ctx = {pass ? g_pool : NULL, NULL, 0};
            to.data = k == 0 ? (void *)m1 : (void *)y1;
            CHECK(kern->run(node, tin, node->n_in, outs, 1, &ctx, &st) == DT_OK);
            to.data = k == 0 ? (void *)m2 : (void *)y2;
            CHECK(def->ref(node, tin, node->n_in, outs, 1, &ctx, &st) == DT_OK);
            CHECK(memcmp(k == 0 ? (void *)m1 : (void *)y1, k == 0 ? (void *)m2 : (void *)y2,
                         k == 0 ? n : n * sizeof(float)) == 0);
            g_checked++;
        }
    }
    dt_free(m1);
    dt_free(m2);
    dt_free(y1);
    dt_free(y2);
    dt_free(a);
    dt_free(b);
    dt_graph_free(g);
}

int main(void)
{
    dt_status st;
    if (dt_pool_create(2, &g_pool, &st) != DT_OK)
        return 1;
    RUN(test_model_shapes);
    RUN(test_random_shapes);
    RUN(test_activations);
    RUN(test_maxpool);
    RUN(test_resize);
    RUN(test_resize_linear);
    RUN(test_topk);
    RUN(test_reduce);
    RUN(test_eltwise);
    RUN(test_mask);
    RUN(test_slice);
    RUN(test_isa_eltwise);
    fprintf(stderr, "%d kernel runs checked\n", g_checked);
    dt_pool_free(g_pool);
    return tl_summary();
}
