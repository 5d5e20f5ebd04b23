/* test_ops_nn.c — shape inference and reference kernels of the neural-network
 * op group (src/engine/ops/nn*.c), on tiny graphs built by hand.  Results are
 * checked against naive computations written independently here (textbook
 * convolution over an explicitly padded input, window-by-window pools, ...),
 * against hand-computed values (Resize, TopK ties), against each other
 * (NHWC vs NCHW, 1 vs 2 threads), and bad input must give an error. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cpu/pool.h"
#include "engine/graph.h"
#include "engine/ops.h"
#include "testlib.h"

static dt_pool *g_pool; /* 2 threads */
static unsigned g_seed = 12345;

static float frand(void) { return tl_randf(&g_seed, -1.f, 1.f); }
static int irand(int lo, int hi) /* [lo, hi] */
{
    g_seed = g_seed * 1664525u + 1013904223u;
    return lo + (int)((g_seed >> 8) % (unsigned)(hi - lo + 1));
}
static float *rand_buf(int64_t n)
{
    float *p = malloc((size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

/* ---- a one-node graph harness ------------------------------------------- */

#define NT_MAX 8
typedef struct nt {
    dt_graph *g;
    int node;
    int in_ids[NT_MAX], n_in;
    void *in_data[NT_MAX]; /* data of runtime inputs (test-owned) */
    int out_ids[NT_MAX], n_out;
    dt_tensor out[NT_MAX];
    dt_status st;
} nt;

static void nt_init(nt *t)
{
    memset(t, 0, sizeof *t);
    t->g = dt_graph_create();
    t->node = -1;
}

static int nt_in(nt *t, dt_dtype dt, int nd, const int64_t *dims, void *data)
{
    int id = dt_graph_add_value(t->g, NULL, dt, nd, dims, &t->st);
    dt_graph_mark_input(t->g, id, &t->st);
    t->in_data[t->n_in] = data;
    t->in_ids[t->n_in++] = id;
    return id;
}

static int nt_const(nt *t, dt_dtype dt, int nd, const int64_t *dims, const void *data)
{
    int id = dt_graph_add_const(t->g, NULL, dt, nd, dims, data, &t->st);
    t->in_data[t->n_in] = NULL;
    t->in_ids[t->n_in++] = id;
    return id;
}

static void nt_skip(nt *t)
{
    t->in_data[t->n_in] = NULL;
    t->in_ids[t->n_in++] = -1;
}

static const int64_t *D(int n, ...); /* dims literal helper, below */

static int nt_node(nt *t, dt_op op, int n_out)
{
    for (int i = 0; i < n_out; i++) {
        t->out_ids[i] = dt_graph_add_value(t->g, NULL, DT_UNDEF, -1, NULL, &t->st);
        dt_graph_mark_output(t->g, t->out_ids[i], &t->st);
    }
    t->n_out = n_out;
    t->node = dt_graph_add_node(t->g, op, "node0", t->n_in, t->in_ids, n_out, t->out_ids, &t->st);
    return t->node;
}

static dt_node *N_(nt *t) { return &t->g->nodes[t->node]; }
static void nt_int(nt *t, const char *k, int64_t v) { dt_node_set_int(t->g, t->node, k, v, &t->st); }
static void nt_float(nt *t, const char *k, float v) { dt_node_set_float(t->g, t->node, k, v, &t->st); }
static void nt_str(nt *t, const char *k, const char *v) { dt_node_set_string(t->g, t->node, k, v, &t->st); }
static void nt_ints(nt *t, const char *k, int n, const int64_t *v) { dt_node_set_ints(t->g, t->node, k, v, n, &t->st); }
static void nt_floats(nt *t, const char *k, int n, const float *v)
{
    dt_node_set_floats(t->g, t->node, k, v, n, &t->st);
}

static dt_code nt_infer(nt *t)
{
    const dt_opdef *d = dt_opdef_get(N_(t)->op);
    if (!d || !d->infer)
        return dt_fail(&t->st, DT_EUNSUPPORTED, "no opdef");
    dt_status_clear(&t->st);
    return d->infer(t->g, N_(t), &t->st);
}

/* Run the reference kernel (after a successful infer) with `pool`. */
static dt_code nt_run_pool(nt *t, dt_pool *pool)
{
    dt_node *n = N_(t);
    const dt_opdef *d = dt_opdef_get(n->op);
    dt_tensor ins[NT_MAX];
    const dt_tensor *inp[NT_MAX];
    for (int i = 0; i < t->n_in; i++) {
        if (t->in_ids[i] < 0) {
            inp[i] = NULL;
            continue;
        }
        ins[i] = dt_value_view(&t->g->values[t->in_ids[i]]);
        if (t->in_data[i])
            ins[i].data = t->in_data[i];
        inp[i] = &ins[i];
    }
    dt_tensor *outp[NT_MAX];
    for (int i = 0; i < t->n_out; i++) {
        if (!t->out[i].data) {
            t->out[i] = dt_value_view(&t->g->values[t->out_ids[i]]);
            size_t nb = dt_tensor_nbytes(&t->out[i]);
            t->out[i].data = dt_aligned_alloc(nb ? nb : 64);
            memset(t->out[i].data, 0xAB, nb); /* garbage: kernels must write every element */
        }
        outp[i] = &t->out[i];
    }
    dt_kctx ctx = {pool, NULL, n->scratch_bytes};
    if (n->scratch_bytes)
        ctx.scratch = dt_aligned_alloc(n->scratch_bytes);
    dt_status_clear(&t->st);
    dt_code rc = d->ref(n, inp, t->n_in, outp, t->n_out, &ctx, &t->st);
    dt_free(ctx.scratch);
    return rc;
}

static dt_code nt_run(nt *t) { return nt_run_pool(t, g_pool); }

/* infer + run; prints the status on failure */
static dt_code nt_go(nt *t)
{
    dt_code rc = nt_infer(t);
    if (rc == DT_OK)
        rc = nt_run(t);
    if (rc != DT_OK)
        fprintf(stderr, "    (%s: %s)\n", dt_code_name(rc), t->st.msg);
    return rc;
}

static float *nt_outf(nt *t, int i) { return t->out[i].data; }
static int64_t *nt_outi(nt *t, int i) { return t->out[i].data; }
static const dt_value *nt_outv(nt *t, int i) { return &t->g->values[t->out_ids[i]]; }

static void nt_free(nt *t)
{
    for (int i = 0; i < t->n_out; i++)
        dt_free(t->out[i].data);
    dt_graph_free(t->g);
}

static int64_t g_dims_ring[16][DT_MAX_DIMS];
static int g_dims_k;
static const int64_t *D(int n, ...)
{
    int64_t *d = g_dims_ring[g_dims_k++ & 15];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        d[i] = va_arg(ap, int64_t);
    va_end(ap);
    return d;
}
#define DIMS(...) D(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), __VA_ARGS__)
#define NDIMS(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
/* dims as int64_t (variadic promotion needs explicit int64 values) */
#define I(x) ((int64_t)(x))

static int shape_is(const dt_value *v, int nd, const int64_t *d)
{
    if (v->ndim != nd)
        return 0;
    for (int i = 0; i < nd; i++)
        if (v->dims[i] != d[i])
            return 0;
    return 1;
}

static double max_abs_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || isnan(d))
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

/* ---- independent activations (for fused-activation checks) -------------- */

typedef struct act_t {
    const char *name;
    float a, b;
} act_t;

static float act_ref(const act_t *a, float x)
{
    if (!a || !a->name)
        return x;
    if (!strcmp(a->name, "Relu"))
        return x < 0 ? 0 : x;
    if (!strcmp(a->name, "LeakyRelu"))
        return x < 0 ? a->a * x : x;
    if (!strcmp(a->name, "Clip"))
        return fminf(fmaxf(x, a->a), a->b);
    if (!strcmp(a->name, "Sigmoid"))
        return (float)(1.0 / (1.0 + exp(-(double)x)));
    if (!strcmp(a->name, "SiLU"))
        return (float)(x / (1.0 + exp(-(double)x)));
    if (!strcmp(a->name, "HardSwish"))
        return x * fminf(fmaxf(x + 3.f, 0.f), 6.f) / 6.f;
    return x;
}

static const act_t g_acts[] = {
    {NULL, 0, 0}, {"Relu", 0, 0}, {"LeakyRelu", 0.1f, 0}, {"Clip", 0.f, 0.5f}, {"Sigmoid", 0, 0},
    {"SiLU", 0, 0}, {"HardSwish", 0, 0},
};

static void nt_act(nt *t, const act_t *a)
{
    if (!a || !a->name)
        return;
    nt_str(t, "activation", a->name);
    nt_float(t, "act_alpha", a->a);
    nt_float(t, "act_beta", a->b);
}

/* ---- Conv ---------------------------------------------------------------- */

typedef struct conv_cfg {
    int N, C, H, W, M, group, kh, kw, sh, sw, dh, dw;
    int pt, pl, pb, pr;      /* explicit pads (top, left, bottom, right) */
    const char *auto_pad;    /* NULL = NOTSET */
    int bias;
    const act_t *act;
} conv_cfg;

/* SAME / VALID pads computed independently of the engine. */
static void same_pads(int in, int k, int s, int d, int upper, int *head, int *tail, int *out)
{
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + (k - 1) * d + 1 - in;
    if (total < 0)
        total = 0;
    *head = upper ? total / 2 : total - total / 2;
    *tail = total - *head;
}

/* Textbook convolution: pad X explicitly, then sum w * xpad over the window. */
static float *conv_textbook(const conv_cfg *c, const float *x, const float *w, const float *b, int *OH, int *OW)
{
    int pt = c->pt, pl = c->pl, pb = c->pb, pr = c->pr;
    int oh, ow;
    if (c->auto_pad && strncmp(c->auto_pad, "SAME", 4) == 0) {
        int up = !strcmp(c->auto_pad, "SAME_UPPER");
        same_pads(c->H, c->kh, c->sh, c->dh, up, &pt, &pb, &oh);
        same_pads(c->W, c->kw, c->sw, c->dw, up, &pl, &pr, &ow);
    } else if (c->auto_pad && !strcmp(c->auto_pad, "VALID")) {
        pt = pl = pb = pr = 0;
    }
    int Hp = c->H + pt + pb, Wp = c->W + pl + pr;
    oh = (Hp - ((c->kh - 1) * c->dh + 1)) / c->sh + 1;
    ow = (Wp - ((c->kw - 1) * c->dw + 1)) / c->sw + 1;
    if (Hp - ((c->kh - 1) * c->dh + 1) < 0 || Wp - ((c->kw - 1) * c->dw + 1) < 0)
        return NULL;
    *OH = oh;
    *OW = ow;
    float *xp = calloc((size_t)c->N * c->C * Hp * Wp, sizeof(float));
    for (int n = 0; n < c->N; n++)
        for (int ch = 0; ch < c->C; ch++)
            for (int h = 0; h < c->H; h++)
                for (int ww = 0; ww < c->W; ww++)
                    xp[((n * c->C + ch) * Hp + h + pt) * Wp + ww + pl] = x[((n * c->C + ch) * c->H + h) * c->W + ww];
    int Cg = c->C / c->group, Mg = c->M / c->group;
    float *y = malloc((size_t)c->N * c->M * oh * ow * sizeof(float));
    for (int n = 0; n < c->N; n++)
        for (int m = 0; m < c->M; m++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    double acc = b ? b[m] : 0.0;
                    int g = m / Mg;
                    for (int cc = 0; cc < Cg; cc++)
                        for (int ki = 0; ki < c->kh; ki++)
                            for (int kj = 0; kj < c->kw; kj++)
                                acc += (double)w[((m * Cg + cc) * c->kh + ki) * c->kw + kj] *
                                       xp[((n * c->C + g * Cg + cc) * Hp + i * c->sh + ki * c->dh) * Wp + j * c->sw +
                                          kj * c->dw];
                    y[((n * c->M + m) * oh + i) * ow + j] = act_ref(c->act, (float)acc);
                }
    free(xp);
    return y;
}

/* NCHW <-> NHWC copies */
static float *to_nhwc(const float *x, int N, int C, int S)
{
    float *y = malloc((size_t)N * C * S * sizeof(float));
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int s = 0; s < S; s++)
                y[((size_t)n * S + s) * C + c] = x[((size_t)n * C + c) * S + s];
    return y;
}
static float *from_nhwc(const float *x, int N, int C, int S)
{
    float *y = malloc((size_t)N * C * S * sizeof(float));
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int s = 0; s < S; s++)
                y[((size_t)n * C + c) * S + s] = x[((size_t)n * S + s) * C + c];
    return y;
}

/* Build and run a Conv node; returns the output (malloc'ed) or NULL on error. */
static float *conv_engine(const conv_cfg *c, const float *x, const float *w, const float *b, int nhwc, int one_d,
                          dt_code *rc_out, int64_t *out_dims)
{
    nt t;
    nt_init(&t);
    float *xin = nhwc ? to_nhwc(x, c->N, c->C, c->H * c->W) : (float *)x;
    if (one_d)
        nt_in(&t, DT_F32, 3, nhwc ? DIMS(I(c->N), I(c->W), I(c->C)) : DIMS(I(c->N), I(c->C), I(c->W)), xin);
    else
        nt_in(&t, DT_F32, 4, nhwc ? DIMS(I(c->N), I(c->H), I(c->W), I(c->C)) : DIMS(I(c->N), I(c->C), I(c->H), I(c->W)),
              xin);
    if (one_d)
        nt_const(&t, DT_F32, 3, DIMS(I(c->M), I(c->C / c->group), I(c->kw)), w);
    else
        nt_const(&t, DT_F32, 4, DIMS(I(c->M), I(c->C / c->group), I(c->kh), I(c->kw)), w);
    if (b)
        nt_const(&t, DT_F32, 1, DIMS(I(c->M)), b);
    nt_node(&t, DT_OP_Conv, 1);
    if (one_d) {
        nt_ints(&t, "strides", 1, DIMS(I(c->sw)));
        nt_ints(&t, "dilations", 1, DIMS(I(c->dw)));
        nt_ints(&t, "pads", 2, DIMS(I(c->pl), I(c->pr)));
    } else {
        nt_ints(&t, "strides", 2, DIMS(I(c->sh), I(c->sw)));
        nt_ints(&t, "dilations", 2, DIMS(I(c->dh), I(c->dw)));
        nt_ints(&t, "pads", 4, DIMS(I(c->pt), I(c->pl), I(c->pb), I(c->pr)));
    }
    if (c->group != 1)
        nt_int(&t, "group", c->group);
    if (c->auto_pad)
        nt_str(&t, "auto_pad", c->auto_pad);
    if (nhwc)
        nt_str(&t, "layout", "NHWC");
    nt_act(&t, c->act);
    dt_code rc = nt_infer(&t);
    float *res = NULL;
    if (rc == DT_OK)
        rc = nt_run(&t);
    if (rc == DT_OK) {
        const dt_value *v = nt_outv(&t, 0);
        for (int i = 0; i < v->ndim; i++)
            out_dims[i] = v->dims[i];
        int64_t n = dt_tensor_numel(&t.out[0]);
        res = malloc((size_t)n * sizeof(float));
        memcpy(res, t.out[0].data, (size_t)n * sizeof(float));
        if (nhwc) {
            int64_t S = one_d ? v->dims[1] : v->dims[1] * v->dims[2];
            float *r2 = from_nhwc(res, c->N, c->M, (int)S);
            free(res);
            res = r2;
        }
    }
    *rc_out = rc;
    if (nhwc)
        free(xin);
    nt_free(&t);
    return res;
}

static void check_conv(const conv_cfg *c, int one_d)
{
    int64_t nx = (int64_t)c->N * c->C * c->H * c->W;
    int64_t nw = (int64_t)c->M * (c->C / c->group) * c->kh * c->kw;
    float *x = rand_buf(nx), *w = rand_buf(nw), *b = c->bias ? rand_buf(c->M) : NULL;
    int oh = 0, ow = 0;
    float *ref = conv_textbook(c, x, w, b, &oh, &ow);
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        dt_code rc;
        int64_t od[DT_MAX_DIMS];
        float *y = conv_engine(c, x, w, b, nhwc, one_d, &rc, od);
        if (!ref) {
            CHECKF(rc == DT_ESHAPE, "expected a shape error, got %s", dt_code_name(rc));
        } else {
            CHECKF(rc == DT_OK, "conv failed: %s", dt_code_name(rc));
            if (y) {
                int64_t oH = one_d ? 1 : (nhwc ? od[1] : od[2]), oW = one_d ? (nhwc ? od[1] : od[2]) : (nhwc ? od[2] : od[3]);
                CHECKF(oH == oh && oW == ow, "out %lldx%lld vs %dx%d", (long long)oH, (long long)oW, oh, ow);
                if (oH == oh && oW == ow) {
                    double d = max_abs_diff(y, ref, (int64_t)c->N * c->M * oh * ow);
                    CHECKF(d < 1e-4, "conv N%d C%d %dx%d M%d g%d k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d %s nhwc%d 1d%d: "
                           "diff %g", c->N, c->C, c->H, c->W, c->M, c->group, c->kh, c->kw, c->sh, c->sw, c->dh,
                           c->dw, c->pt, c->pl, c->pb, c->pr, c->auto_pad ? c->auto_pad : "-", nhwc, one_d, d);
                }
            }
        }
        free(y);
    }
    free(ref);
    free(x);
    free(w);
    free(b);
}

static void test_conv_random(void)
{
    static const char *const aps[] = {NULL, NULL, NULL, "SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int it = 0; it < 150; it++) {
        conv_cfg c;
        memset(&c, 0, sizeof c);
        c.N = irand(1, 2);
        int gsel = irand(0, 2);
        int Cg = irand(1, 3);
        c.group = gsel == 0 ? 1 : (gsel == 1 ? 2 : irand(2, 5));
        c.C = Cg * c.group;
        if (gsel == 2) { /* depthwise, channel multiplier 1 or 2 */
            c.C = c.group;
            c.M = c.group * irand(1, 2);
        } else {
            c.M = c.group * irand(1, 3);
        }
        c.H = irand(1, 11);
        c.W = irand(1, 12);
        c.kh = irand(1, 4);
        c.kw = irand(1, 4);
        c.sh = irand(1, 3);
        c.sw = irand(1, 3);
        c.dh = irand(1, 2);
        c.dw = irand(1, 2);
        c.auto_pad = aps[irand(0, 5)];
        if (!c.auto_pad) {
            c.pt = irand(0, 2);
            c.pl = irand(0, 2);
            c.pb = irand(0, 2);
            c.pr = irand(0, 2);
        }
        c.bias = irand(0, 1);
        c.act = &g_acts[irand(0, (int)(sizeof g_acts / sizeof g_acts[0]) - 1)];
        check_conv(&c, 0);
    }
}

static void test_conv_1d(void)
{
    for (int it = 0; it < 30; it++) {
        conv_cfg c;
        memset(&c, 0, sizeof c);
        c.N = irand(1, 2);
        c.group = irand(1, 2);
        c.C = c.group * irand(1, 3);
        c.M = c.group * irand(1, 3);
        c.H = 1;
        c.W = irand(3, 20);
        c.kh = 1;
        c.kw = irand(1, 5);
        c.sh = c.dh = 1;
        c.sw = irand(1, 3);
        c.dw = irand(1, 2);
        c.pl = irand(0, 2);
        c.pr = irand(0, 2);
        c.bias = 1;
        check_conv(&c, 1);
    }
}

static void test_conv_fixed(void)
{
    /* 1x1x3x3 input 1..9, 2x2 ones kernel, stride 1, no pad: sums of 2x2 windows */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, b[1] = {0.5f};
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(3), I(3)), x);
    nt_const(&t, DT_F32, 4, DIMS(I(1), I(1), I(2), I(2)), w);
    nt_const(&t, DT_F32, 1, DIMS(I(1)), b);
    nt_node(&t, DT_OP_Conv, 1);
    CHECK(nt_go(&t) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 4, DIMS(I(1), I(1), I(2), I(2))));
    float want[4] = {12.5f, 16.5f, 24.5f, 28.5f};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(nt_outf(&t, 0)[i], want[i], 1e-6);
    nt_free(&t);
}

static void test_conv_3d(void)
{
    /* 3-D conv vs a 2-D conv summed over the depth taps by hand */
    int C = 2, M = 3, Dd = 4, H = 5, W = 6;
    float *x = rand_buf(C * Dd * H * W), *w = rand_buf(M * C * 2 * 3 * 3);
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 5, DIMS(I(1), I(C), I(Dd), I(H), I(W)), x);
    nt_const(&t, DT_F32, 5, DIMS(I(M), I(C), I(2), I(3), I(3)), w);
    nt_node(&t, DT_OP_Conv, 1);
    nt_ints(&t, "pads", 6, DIMS(I(0), I(1), I(1), I(0), I(1), I(1)));
    nt_ints(&t, "strides", 3, DIMS(I(2), I(1), I(2)));
    CHECK(nt_go(&t) == DT_OK);
    /* out: D (4-2)/2+1 = 2, H 5, W (6+2-3)/2+1 = 3 */
    CHECK(shape_is(nt_outv(&t, 0), 5, DIMS(I(1), I(M), I(2), I(5), I(3))));
    double maxd = 0;
    for (int m = 0; m < M; m++)
        for (int od = 0; od < 2; od++)
            for (int oh = 0; oh < 5; oh++)
                for (int ow = 0; ow < 3; ow++) {
                    double acc = 0;
                    for (int c = 0; c < C; c++)
                        for (int kd = 0; kd < 2; kd++)
                            for (int kh = 0; kh < 3; kh++)
                                for (int kw = 0; kw < 3; kw++) {
                                    int id = od * 2 + kd, ih = oh - 1 + kh, iw = ow * 2 - 1 + kw;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                        continue;
                                    acc += w[(((m * C + c) * 2 + kd) * 3 + kh) * 3 + kw] *
                                           x[((c * Dd + id) * H + ih) * W + iw];
                                }
                    double d = fabs(acc - nt_outf(&t, 0)[((m * 2 + od) * 5 + oh) * 3 + ow]);
                    if (d > maxd)
                        maxd = d;
                }
    CHECKF(maxd < 1e-4, "3-D conv diff %g", maxd);
    nt_free(&t);
    free(x);
    free(w);
}

static void test_conv_unknown_batch(void)
{
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(-1), I(3), I(8), I(-1)), NULL);
    float w[6 * 3 * 9] = {0};
    nt_const(&t, DT_F32, 4, DIMS(I(6), I(3), I(3), I(3)), w);
    nt_node(&t, DT_OP_Conv, 1);
    nt_ints(&t, "strides", 2, DIMS(I(2), I(2)));
    CHECK(nt_infer(&t) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 4, DIMS(I(-1), I(6), I(3), I(-1))));
    nt_free(&t);
}

static void expect_err(nt *t, dt_code want, int at_run)
{
    dt_code rc = nt_infer(t);
    if (at_run && rc == DT_OK)
        rc = nt_run(t);
    CHECKF(rc == want, "got %s (%s), want %s", dt_code_name(rc), t->st.msg, dt_code_name(want));
    if (rc != DT_OK)
        CHECKF(strstr(t->st.msg, "node0") != NULL, "message does not name the node: %s", t->st.msg);
}

static void test_conv_errors(void)
{
    float w[64] = {0};
    nt t;
    /* channel mismatch */
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(3), I(8), I(8)), NULL);
    nt_const(&t, DT_F32, 4, DIMS(I(2), I(2), I(3), I(3)), w);
    nt_node(&t, DT_OP_Conv, 1);
    expect_err(&t, DT_ESHAPE, 0);
    nt_free(&t);
    /* kernel larger than the input */
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(2), I(2)), NULL);
    nt_const(&t, DT_F32, 4, DIMS(I(1), I(1), I(3), I(3)), w);
    nt_node(&t, DT_OP_Conv, 1);
    expect_err(&t, DT_ESHAPE, 0);
    nt_free(&t);
    /* weight rank mismatch */
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(5), I(5)), NULL);
    nt_const(&t, DT_F32, 3, DIMS(I(1), I(1), I(3)), w);
    nt_node(&t, DT_OP_Conv, 1);
    expect_err(&t, DT_ESHAPE, 0);
    nt_free(&t);
    /* bad layout / auto_pad / strides / bias size / group */
    for (int k = 0; k < 5; k++) {
        nt_init(&t);
        nt_in(&t, DT_F32, 4, DIMS(I(1), I(2), I(5), I(5)), NULL);
        nt_const(&t, DT_F32, 4, DIMS(I(2), I(2), I(3), I(3)), w);
        if (k == 3)
            nt_const(&t, DT_F32, 1, DIMS(I(3)), w);
        nt_node(&t, DT_OP_Conv, 1);
        if (k == 0)
            nt_str(&t, "layout", "NCWH");
        if (k == 1)
            nt_str(&t, "auto_pad", "SAME");
        if (k == 2)
            nt_ints(&t, "strides", 2, DIMS(I(0), I(1)));
        if (k == 4)
            nt_int(&t, "group", 2); /* C=2, W says Cg=2 → expects 4 */
        expect_err(&t, k == 3 || k == 4 ? DT_ESHAPE : DT_EINVAL, 0);
        nt_free(&t);
    }
    /* int input */
    nt_init(&t);
    nt_in(&t, DT_I64, 4, DIMS(I(1), I(1), I(5), I(5)), NULL);
    nt_const(&t, DT_F32, 4, DIMS(I(1), I(1), I(3), I(3)), w);
    nt_node(&t, DT_OP_Conv, 1);
    expect_err(&t, DT_EUNSUPPORTED, 0);
    nt_free(&t);
}

/* ---- ConvTranspose -------------------------------------------------------- */

static void test_convtranspose_random(void)
{
    for (int it = 0; it < 60; it++) {
        int N = irand(1, 2), group = irand(1, 2), Cg = irand(1, 3), Mg = irand(1, 3);
        int C = Cg * group, M = Mg * group, H = irand(1, 6), W = irand(1, 7);
        int kh = irand(1, 4), kw = irand(1, 4), sh = irand(1, 3), sw = irand(1, 3), dh = irand(1, 2), dw = irand(1, 2);
        int pt = irand(0, 1), pl = irand(0, 2), pb = irand(0, 1), pr = irand(0, 2);
        int ah = irand(0, sh > dh ? sh - 1 : dh - 1), aw = irand(0, sw > dw ? sw - 1 : dw - 1);
        int OH = (H - 1) * sh + ah + (kh - 1) * dh + 1 - pt - pb;
        int OW = (W - 1) * sw + aw + (kw - 1) * dw + 1 - pl - pr;
        float *x = rand_buf(N * C * H * W), *w = rand_buf(C * Mg * kh * kw), *b = rand_buf(M);
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 4, DIMS(I(N), I(C), I(H), I(W)), x);
        nt_const(&t, DT_F32, 4, DIMS(I(C), I(Mg), I(kh), I(kw)), w);
        nt_const(&t, DT_F32, 1, DIMS(I(M)), b);
        nt_node(&t, DT_OP_ConvTranspose, 1);
        nt_ints(&t, "strides", 2, DIMS(I(sh), I(sw)));
        nt_ints(&t, "dilations", 2, DIMS(I(dh), I(dw)));
        nt_ints(&t, "pads", 4, DIMS(I(pt), I(pl), I(pb), I(pr)));
        nt_ints(&t, "output_padding", 2, DIMS(I(ah), I(aw)));
        nt_int(&t, "group", group);
        if (OH < 1 || OW < 1) {
            CHECK(nt_infer(&t) == DT_ESHAPE);
        } else if (nt_go(&t) == DT_OK) {
            CHECK(shape_is(nt_outv(&t, 0), 4, DIMS(I(N), I(M), I(OH), I(OW))));
            /* textbook scatter into an unpadded full-size buffer, then crop */
            int FH = OH + pt + pb, FW = OW + pl + pr;
            double *full = calloc((size_t)N * M * FH * FW, sizeof(double));
            for (int n = 0; n < N; n++)
                for (int c = 0; c < C; c++) {
                    int g = c / Cg;
                    for (int ml = 0; ml < Mg; ml++)
                        for (int i = 0; i < H; i++)
                            for (int j = 0; j < W; j++)
                                for (int ki = 0; ki < kh; ki++)
                                    for (int kj = 0; kj < kw; kj++) {
                                        int oi = i * sh + ki * dh, oj = j * sw + kj * dw;
                                        if (oi >= FH || oj >= FW)
                                            continue;
                                        full[((n * M + g * Mg + ml) * FH + oi) * FW + oj] +=
                                            (double)x[((n * C + c) * H + i) * W + j] *
                                            w[((c * Mg + ml) * kh + ki) * kw + kj];
                                    }
                }
            double maxd = 0;
            for (int n = 0; n < N; n++)
                for (int m = 0; m < M; m++)
                    for (int i = 0; i < OH; i++)
                        for (int j = 0; j < OW; j++) {
                            double want = full[((n * M + m) * FH + i + pt) * FW + j + pl] + b[m];
                            double d = fabs(want - nt_outf(&t, 0)[((n * M + m) * OH + i) * OW + j]);
                            if (d > maxd)
                                maxd = d;
                        }
            CHECKF(maxd < 1e-4, "convtranspose diff %g", maxd);
            free(full);
        }
        nt_free(&t);
        free(x);
        free(w);
        free(b);
    }
}

static void test_convtranspose_nhwc(void)
{
    int N = 2, C = 4, M = 6, H = 5, W = 3;
    float *x = rand_buf(N * C * H * W), *w = rand_buf(C * 3 * 3 * 2), *b = rand_buf(M);
    float *y[2];
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        float *xin = nhwc ? to_nhwc(x, N, C, H * W) : x;
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 4, nhwc ? DIMS(I(N), I(H), I(W), I(C)) : DIMS(I(N), I(C), I(H), I(W)), xin);
        nt_const(&t, DT_F32, 4, DIMS(I(C), I(3), I(3), I(2)), w);
        nt_const(&t, DT_F32, 1, DIMS(I(M)), b);
        nt_node(&t, DT_OP_ConvTranspose, 1);
        nt_int(&t, "group", 2);
        nt_ints(&t, "strides", 2, DIMS(I(2), I(3)));
        nt_ints(&t, "pads", 4, DIMS(I(1), I(0), I(0), I(1)));
        if (nhwc)
            nt_str(&t, "layout", "NHWC");
        CHECK(nt_go(&t) == DT_OK);
        /* H: 4*2+3-1 = 10, W: 2*3+2-1 = 7 */
        CHECK(shape_is(nt_outv(&t, 0), 4, nhwc ? DIMS(I(N), I(10), I(7), I(M)) : DIMS(I(N), I(M), I(10), I(7))));
        y[nhwc] = nhwc ? from_nhwc(nt_outf(&t, 0), N, M, 70) : memcpy(malloc(N * M * 70 * 4), nt_outf(&t, 0), N * M * 70 * 4);
        nt_free(&t);
        if (nhwc)
            free(xin);
    }
    CHECK(max_abs_diff(y[0], y[1], N * M * 70) < 1e-6);
    free(y[0]);
    free(y[1]);
    free(x);
    free(w);
    free(b);
}

static void test_convtranspose_output_shape(void)
{
    /* output_shape [10, 9] from 5x4, stride 2, k3: full = 11 x 9 + ... */
    nt t;
    nt_init(&t);
    float w[2 * 3 * 9];
    for (int i = 0; i < 54; i++)
        w[i] = frand();
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(2), I(5), I(4)), NULL);
    nt_const(&t, DT_F32, 4, DIMS(I(2), I(3), I(3), I(3)), w);
    nt_node(&t, DT_OP_ConvTranspose, 1);
    nt_ints(&t, "strides", 2, DIMS(I(2), I(2)));
    nt_ints(&t, "output_shape", 2, DIMS(I(10), I(8)));
    CHECK(nt_infer(&t) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 4, DIMS(I(1), I(3), I(10), I(8))));
    nt_free(&t);
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(2), I(5), I(4)), NULL);
    nt_const(&t, DT_F32, 4, DIMS(I(2), I(3), I(3), I(3)), w);
    nt_node(&t, DT_OP_ConvTranspose, 1);
    nt_ints(&t, "strides", 2, DIMS(I(2), I(2)));
    nt_str(&t, "auto_pad", "SAME_UPPER");
    CHECK(nt_infer(&t) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 4, DIMS(I(1), I(3), I(10), I(8))));
    nt_free(&t);
}

/* ---- pools ---------------------------------------------------------------- */

static void test_pools_random(void)
{
    for (int it = 0; it < 120; it++) {
        int is_max = it & 1;
        int N = irand(1, 2), C = irand(1, 3), H = irand(1, 10), W = irand(1, 11);
        int kh = irand(1, 4), kw = irand(1, 4), sh = irand(1, 3), sw = irand(1, 3);
        int dh = is_max ? irand(1, 2) : 1, dw = is_max ? irand(1, 2) : 1;
        int pt = irand(0, kh - 1), pl = irand(0, kw - 1), pb = irand(0, kh - 1), pr = irand(0, kw - 1);
        int ceil_mode = irand(0, 1), cip = irand(0, 1), nhwc = irand(0, 1);
        /* ONNX Runtime's output size rule, written out */
        int nh = H + pt + pb - ((kh - 1) * dh + 1), nw = W + pl + pr - ((kw - 1) * dw + 1);
        int OH = (int)(ceil_mode ? ceil((double)nh / sh) : floor((double)nh / sh)) + 1;
        int OW = (int)(ceil_mode ? ceil((double)nw / sw) : floor((double)nw / sw)) + 1;
        if (ceil_mode && OH > 1 && (OH - 1) * sh >= H + pt)
            OH--;
        if (ceil_mode && OW > 1 && (OW - 1) * sw >= W + pl)
            OW--;
        float *x = rand_buf(N * C * H * W);
        float *xin = nhwc ? to_nhwc(x, N, C, H * W) : x;
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 4, nhwc ? DIMS(I(N), I(H), I(W), I(C)) : DIMS(I(N), I(C), I(H), I(W)), xin);
        nt_node(&t, is_max ? DT_OP_MaxPool : DT_OP_AveragePool, 1);
        nt_ints(&t, "kernel_shape", 2, DIMS(I(kh), I(kw)));
        nt_ints(&t, "strides", 2, DIMS(I(sh), I(sw)));
        nt_ints(&t, "pads", 4, DIMS(I(pt), I(pl), I(pb), I(pr)));
        if (is_max)
            nt_ints(&t, "dilations", 2, DIMS(I(dh), I(dw)));
        nt_int(&t, "ceil_mode", ceil_mode);
        nt_int(&t, "count_include_pad", cip);
        if (nhwc)
            nt_str(&t, "layout", "NHWC");
        if (OH < 1 || OW < 1) {
            CHECK(nt_infer(&t) != DT_OK);
        } else if (nt_go(&t) == DT_OK) {
            CHECK(shape_is(nt_outv(&t, 0), 4, nhwc ? DIMS(I(N), I(OH), I(OW), I(C)) : DIMS(I(N), I(C), I(OH), I(OW))));
            float *y = nhwc ? from_nhwc(nt_outf(&t, 0), N, C, OH * OW) : nt_outf(&t, 0);
            double maxd = 0;
            for (int n = 0; n < N; n++)
                for (int c = 0; c < C; c++)
                    for (int i = 0; i < OH; i++)
                        for (int j = 0; j < OW; j++) {
                            double best = -INFINITY, sum = 0;
                            int cnt = 0, cntp = 0;
                            for (int a = 0; a < kh; a++)
                                for (int bb = 0; bb < kw; bb++) {
                                    int ih = i * sh - pt + a * dh, iw = j * sw - pl + bb * dw;
                                    if (ih < H + pb && iw < W + pr)
                                        cntp++; /* inside the padded input */
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                        continue;
                                    double v = x[((n * C + c) * H + ih) * W + iw];
                                    if (v > best)
                                        best = v;
                                    sum += v;
                                    cnt++;
                                }
                            if (cnt == 0) /* window only over padding */
                                continue;
                            double want = is_max ? best : sum / (cip ? cntp : cnt);
                            double d = fabs(want - y[((n * C + c) * OH + i) * OW + j]);
                            if (d > maxd)
                                maxd = d;
                        }
            CHECKF(maxd < 1e-5, "%s k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d ceil%d cip%d nhwc%d: diff %g",
                   is_max ? "max" : "avg", kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, ceil_mode, cip, nhwc, maxd);
            if (nhwc)
                free(y);
        }
        nt_free(&t);
        if (nhwc)
            free(xin);
        free(x);
    }
}

static void test_maxpool_indices(void)
{
    float x[2 * 4 * 4];
    for (int i = 0; i < 32; i++)
        x[i] = frand();
    for (int so = 0; so < 2; so++) {
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 4, DIMS(I(1), I(2), I(4), I(4)), x);
        nt_node(&t, DT_OP_MaxPool, 2);
        nt_ints(&t, "kernel_shape", 2, DIMS(I(2), I(2)));
        nt_ints(&t, "strides", 2, DIMS(I(2), I(2)));
        nt_int(&t, "storage_order", so);
        CHECK(nt_go(&t) == DT_OK);
        CHECK(nt_outv(&t, 1)->dtype == DT_I64);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    int bh = 0, bw = 0;
                    float best = -FLT_MAX;
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++)
                            if (x[(c * 4 + i * 2 + a) * 4 + j * 2 + b] > best) {
                                best = x[(c * 4 + i * 2 + a) * 4 + j * 2 + b];
                                bh = i * 2 + a;
                                bw = j * 2 + b;
                            }
                    int64_t want = c * 16 + (so ? bw * 4 + bh : bh * 4 + bw);
                    CHECK(nt_outi(&t, 1)[(c * 2 + i) * 2 + j] == want);
                    CHECK(nt_outf(&t, 0)[(c * 2 + i) * 2 + j] == best);
                }
        nt_free(&t);
    }
    /* Indices with NHWC: unsupported when the output is used */
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(4), I(4), I(2)), NULL);
    nt_node(&t, DT_OP_MaxPool, 2);
    nt_ints(&t, "kernel_shape", 2, DIMS(I(2), I(2)));
    nt_str(&t, "layout", "NHWC");
    expect_err(&t, DT_EUNSUPPORTED, 0);
    nt_free(&t);
}

static void test_global_pools(void)
{
    int N = 2, C = 3, H = 5, W = 7;
    float *x = rand_buf(N * C * H * W);
    for (int nhwc = 0; nhwc < 2; nhwc++)
        for (int is_max = 0; is_max < 2; is_max++) {
            float *xin = nhwc ? to_nhwc(x, N, C, H * W) : x;
            nt t;
            nt_init(&t);
            nt_in(&t, DT_F32, 4, nhwc ? DIMS(I(N), I(H), I(W), I(C)) : DIMS(I(N), I(C), I(H), I(W)), xin);
            nt_node(&t, is_max ? DT_OP_GlobalMaxPool : DT_OP_GlobalAveragePool, 1);
            if (nhwc)
                nt_str(&t, "layout", "NHWC");
            CHECK(nt_go(&t) == DT_OK);
            CHECK(shape_is(nt_outv(&t, 0), 4, nhwc ? DIMS(I(N), I(1), I(1), I(C)) : DIMS(I(N), I(C), I(1), I(1))));
            for (int n = 0; n < N; n++)
                for (int c = 0; c < C; c++) {
                    double s = 0, m = -INFINITY;
                    for (int k = 0; k < H * W; k++) {
                        s += x[(n * C + c) * H * W + k];
                        m = fmax(m, x[(n * C + c) * H * W + k]);
                    }
                    CHECK_NEAR(nt_outf(&t, 0)[n * C + c], is_max ? m : s / (H * W), 1e-5);
                }
            nt_free(&t);
            if (nhwc)
                free(xin);
        }
    free(x);
}

static void test_pool_errors(void)
{
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(4), I(4)), NULL);
    nt_node(&t, DT_OP_MaxPool, 1);
    expect_err(&t, DT_EINVAL, 0); /* no kernel_shape */
    nt_free(&t);
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(2), I(2)), NULL);
    nt_node(&t, DT_OP_AveragePool, 1);
    nt_ints(&t, "kernel_shape", 2, DIMS(I(3), I(3)));
    expect_err(&t, DT_ESHAPE, 0); /* window larger than the input */
    nt_free(&t);
    nt_init(&t);
    nt_in(&t, DT_F32, 2, DIMS(I(4), I(4)), NULL);
    nt_node(&t, DT_OP_MaxPool, 1);
    nt_ints(&t, "kernel_shape", 2, DIMS(I(2), I(2)));
    expect_err(&t, DT_ESHAPE, 0); /* rank 2 */
    nt_free(&t);
}

/* ---- normalisations -------------------------------------------------------- */

static void test_batchnorm(void)
{
    int N = 2, C = 3, H = 4, W = 5;
    float *x = rand_buf(N * C * H * W);
    float s[3] = {0.5f, 1.5f, -1.f}, b[3] = {0.1f, -0.2f, 0.3f}, m[3] = {0.05f, -0.1f, 0.2f}, v[3] = {0.5f, 1.f, 2.f};
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        float *xin = nhwc ? to_nhwc(x, N, C, H * W) : x;
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 4, nhwc ? DIMS(I(N), I(H), I(W), I(C)) : DIMS(I(N), I(C), I(H), I(W)), xin);
        nt_const(&t, DT_F32, 1, DIMS(I(3)), s);
        nt_const(&t, DT_F32, 1, DIMS(I(3)), b);
        nt_const(&t, DT_F32, 1, DIMS(I(3)), m);
        nt_const(&t, DT_F32, 1, DIMS(I(3)), v);
        nt_node(&t, DT_OP_BatchNormalization, 1);
        nt_float(&t, "epsilon", 1e-3f);
        if (nhwc)
            nt_str(&t, "layout", "NHWC");
        CHECK(nt_go(&t) == DT_OK);
        float *y = nhwc ? from_nhwc(nt_outf(&t, 0), N, C, H * W) : nt_outf(&t, 0);
        double maxd = 0;
        for (int i = 0; i < N * C * H * W; i++) {
            int c = (i / (H * W)) % C;
            double want = (x[i] - m[c]) / sqrt(v[c] + 1e-3) * s[c] + b[c];
            maxd = fmax(maxd, fabs(want - y[i]));
        }
        CHECKF(maxd < 1e-5, "bn diff %g", maxd);
        if (nhwc) {
            free(y);
            free(xin);
        }
        nt_free(&t);
    }
    free(x);
    /* training outputs in use: unsupported; wrong parameter size: shape error */
    for (int k = 0; k < 2; k++) {
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 4, DIMS(I(1), I(3), I(2), I(2)), NULL);
        for (int i = 0; i < 4; i++)
            nt_const(&t, DT_F32, 1, k == 1 && i == 2 ? DIMS(I(2)) : DIMS(I(3)), s);
        nt_node(&t, DT_OP_BatchNormalization, k == 0 ? 3 : 1);
        expect_err(&t, k == 0 ? DT_EUNSUPPORTED : DT_ESHAPE, 0);
        nt_free(&t);
    }
}

static void test_instancenorm_lrn(void)
{
    int N = 2, C = 5, S = 7;
    float *x = rand_buf(N * C * S);
    float sc[5], bi[5];
    for (int i = 0; i < 5; i++) {
        sc[i] = frand();
        bi[i] = frand();
    }
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 3, DIMS(I(N), I(C), I(S)), x);
    nt_const(&t, DT_F32, 1, DIMS(I(C)), sc);
    nt_const(&t, DT_F32, 1, DIMS(I(C)), bi);
    nt_node(&t, DT_OP_InstanceNormalization, 1);
    CHECK(nt_go(&t) == DT_OK);
    double maxd = 0;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const float *p = x + (n * C + c) * S;
            double mean = 0, var = 0;
            for (int k = 0; k < S; k++)
                mean += p[k] / S;
            for (int k = 0; k < S; k++)
                var += (p[k] - mean) * (p[k] - mean) / S;
            for (int k = 0; k < S; k++)
                maxd = fmax(maxd, fabs(sc[c] * (p[k] - mean) / sqrt(var + 1e-5) + bi[c] -
                                       nt_outf(&t, 0)[(n * C + c) * S + k]));
        }
    CHECKF(maxd < 1e-4, "instancenorm diff %g", maxd);
    nt_free(&t);
    /* LRN, even and odd sizes */
    for (int size = 1; size <= 4; size++) {
        nt_init(&t);
        nt_in(&t, DT_F32, 3, DIMS(I(N), I(C), I(S)), x);
        nt_node(&t, DT_OP_LRN, 1);
        nt_int(&t, "size", size);
        nt_float(&t, "alpha", 0.3f);
        nt_float(&t, "beta", 0.6f);
        nt_float(&t, "bias", 1.5f);
        CHECK(nt_go(&t) == DT_OK);
        maxd = 0;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < S; k++) {
                    double sq = 0;
                    for (int cc = c - (size - 1) / 2; cc <= c + size / 2; cc++)
                        if (cc >= 0 && cc < C)
                            sq += (double)x[(n * C + cc) * S + k] * x[(n * C + cc) * S + k];
                    double want = x[(n * C + c) * S + k] / pow(1.5 + 0.3 / size * sq, 0.6);
                    maxd = fmax(maxd, fabs(want - nt_outf(&t, 0)[(n * C + c) * S + k]));
                }
        CHECKF(maxd < 1e-5, "lrn size %d diff %g", size, maxd);
        nt_free(&t);
    }
    free(x);
}

/* ---- Resize / Upsample ------------------------------------------------------ */

/* Run a 4-D Resize (opset 19) with scales or sizes; returns output in t. */
static dt_code resize_run(nt *t, const float *x, const int64_t *xd, const float *scales, const int64_t *sizes, int n,
                          const char *mode, const char *ct, const char *nm)
{
    nt_init(t);
    nt_in(t, DT_F32, 4, xd, (void *)x);
    nt_skip(t);
    if (scales)
        nt_const(t, DT_F32, 1, DIMS(I(n)), scales);
    else
        nt_skip(t);
    if (sizes)
        nt_const(t, DT_I64, 1, DIMS(I(n)), sizes);
    nt_node(t, DT_OP_Resize, 1);
    nt_str(t, "mode", mode);
    if (ct)
        nt_str(t, "coordinate_transformation_mode", ct);
    if (nm)
        nt_str(t, "nearest_mode", nm);
    return nt_go(t);
}

static void check_vals(nt *t, const float *want, int n, double tol, const char *what)
{
    double maxd = max_abs_diff(nt_outf(t, 0), want, n);
    CHECKF(maxd <= tol, "%s: diff %g", what, maxd);
}

static void test_resize_values(void)
{
    nt t;
    float x22[4] = {1, 2, 3, 4};
    /* nearest, scales 2x3 (ONNX's resize_upsample_scales_nearest) */
    float sc1[4] = {1, 1, 2, 3};
    CHECK(resize_run(&t, x22, DIMS(I(1), I(1), I(2), I(2)), sc1, NULL, 4, "nearest", NULL, NULL) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 4, DIMS(I(1), I(1), I(4), I(6))));
    float w1[24] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
    check_vals(&t, w1, 24, 0, "nearest up");
    nt_free(&t);
    /* linear half_pixel 2x (ONNX's resize_upsample_scales_linear) */
    float sc2[4] = {1, 1, 2, 2};
    CHECK(resize_run(&t, x22, DIMS(I(1), I(1), I(2), I(2)), sc2, NULL, 4, "linear", NULL, NULL) == DT_OK);
    float w2[16] = {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4};
    check_vals(&t, w2, 16, 1e-6, "linear half_pixel");
    nt_free(&t);
    /* linear align_corners 2x */
    CHECK(resize_run(&t, x22, DIMS(I(1), I(1), I(2), I(2)), sc2, NULL, 4, "linear", "align_corners", NULL) == DT_OK);
    float w3[16] = {1, 4.f / 3, 5.f / 3, 2, 5.f / 3, 2, 7.f / 3, 8.f / 3, 7.f / 3, 8.f / 3, 3, 10.f / 3, 3, 10.f / 3,
                    11.f / 3, 4};
    check_vals(&t, w3, 16, 1e-5, "linear align_corners");
    nt_free(&t);
    /* nearest downsample 0.6 (ONNX's resize_downsample_scales_nearest): [[1,3]] */
    float x24[8] = {1, 2, 3, 4, 5, 6, 7, 8}, sc3[4] = {1, 1, 0.6f, 0.6f};
    CHECK(resize_run(&t, x24, DIMS(I(1), I(1), I(2), I(4)), sc3, NULL, 4, "nearest", NULL, NULL) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 4, DIMS(I(1), I(1), I(1), I(2))));
    float w4[2] = {1, 3};
    check_vals(&t, w4, 2, 0, "nearest down");
    nt_free(&t);
    /* asymmetric linear 1x2 -> 1x4: x/2 → [0, 5, 10, 10] */
    float x12[2] = {0, 10};
    int64_t sz[4] = {1, 1, 1, 4};
    CHECK(resize_run(&t, x12, DIMS(I(1), I(1), I(1), I(2)), NULL, sz, 4, "linear", "asymmetric", NULL) == DT_OK);
    float w5[4] = {0, 5, 10, 10};
    check_vals(&t, w5, 4, 1e-6, "linear asymmetric");
    nt_free(&t);
    /* nearest modes on 1x4 -> 1x8 half_pixel: x_orig = (o + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, ... */
    float x14[4] = {10, 20, 30, 40};
    int64_t sz8[4] = {1, 1, 1, 8};
    struct { const char *nm; float w[8]; } modes[] = {
        {"round_prefer_floor", {10, 10, 20, 20, 30, 30, 40, 40}},
        {"floor", {10, 10, 10, 20, 20, 30, 30, 40}},
        {"ceil", {10, 20, 20, 30, 30, 40, 40, 40}},
    };
    for (int k = 0; k < 3; k++) {
        CHECK(resize_run(&t, x14, DIMS(I(1), I(1), I(1), I(4)), NULL, sz8, 4, "nearest", NULL, modes[k].nm) == DT_OK);
        check_vals(&t, modes[k].w, 8, 0, modes[k].nm);
        nt_free(&t);
    }
    /* round_prefer_floor vs ceil at exact halves: asymmetric, 1x3 -> 1x2 (scale 2/3): x = 0, 1.5 */
    float x13[3] = {1, 2, 3};
    int64_t sz2[4] = {1, 1, 1, 2};
    CHECK(resize_run(&t, x13, DIMS(I(1), I(1), I(1), I(3)), NULL, sz2, 4, "nearest", "asymmetric",
                     "round_prefer_floor") == DT_OK);
    float w6[2] = {1, 2};
    check_vals(&t, w6, 2, 0, "round_prefer_floor half");
    nt_free(&t);
    CHECK(resize_run(&t, x13, DIMS(I(1), I(1), I(1), I(3)), NULL, sz2, 4, "nearest", "asymmetric",
                     "round_prefer_ceil") == DT_OK);
    float w7[2] = {1, 3};
    check_vals(&t, w7, 2, 0, "round_prefer_ceil half");
    nt_free(&t);
    /* cubic on a linear ramp reproduces the ramp away from the borders (a=-0.75 is exact on
     * linear functions) */
    float ramp[8];
    for (int i = 0; i < 8; i++)
        ramp[i] = (float)i;
    float scc[4] = {1, 1, 1, 2};
    CHECK(resize_run(&t, ramp, DIMS(I(1), I(1), I(1), I(8)), scc, NULL, 4, "cubic", "asymmetric", NULL) == DT_OK);
    for (int o = 2; o < 12; o++)
        CHECK_NEAR(nt_outf(&t, 0)[o], o / 2.0, 1e-5);
    nt_free(&t);
}

static void test_resize_nhwc_axes(void)
{
    /* axes=[1,2] on NHWC == default axes on NCHW */
    int N = 1, C = 3, H = 5, W = 4;
    float *x = rand_buf(N * C * H * W);
    float sc[4] = {1, 1, 1.6f, 2.5f};
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    for (int mi = 0; mi < 3; mi++) {
        nt a, b;
        CHECK(resize_run(&a, x, DIMS(I(N), I(C), I(H), I(W)), sc, NULL, 4, modes[mi], "half_pixel", NULL) == DT_OK);
        float *xh = to_nhwc(x, N, C, H * W);
        nt_init(&b);
        nt_in(&b, DT_F32, 4, DIMS(I(N), I(H), I(W), I(C)), xh);
        nt_skip(&b);
        nt_const(&b, DT_F32, 1, DIMS(I(2)), sc + 2);
        nt_node(&b, DT_OP_Resize, 1);
        nt_str(&b, "mode", modes[mi]);
        nt_ints(&b, "axes", 2, DIMS(I(1), I(2)));
        CHECK(nt_go(&b) == DT_OK);
        CHECK(shape_is(nt_outv(&b, 0), 4, DIMS(I(1), I(8), I(10), I(3))));
        float *yb = from_nhwc(nt_outf(&b, 0), N, C, 80);
        CHECKF(max_abs_diff(yb, nt_outf(&a, 0), 240) < 1e-6, "%s nhwc axes", modes[mi]);
        free(yb);
        free(xh);
        nt_free(&a);
        nt_free(&b);
    }
    free(x);
}

static void test_upsample_and_legacy(void)
{
    float x22[4] = {1, 2, 3, 4};
    float sc[4] = {1, 1, 2, 2};
    /* Upsample-7 (attr scales) and Upsample-9 (input) nearest: pixel doubling */
    for (int form = 0; form < 3; form++) {
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(2), I(2)), x22);
        if (form > 0)
            nt_const(&t, DT_F32, 1, DIMS(I(4)), sc);
        nt_node(&t, form == 2 ? DT_OP_Resize : DT_OP_Upsample, 1);
        N_(&t)->opset = form == 0 ? 7 : (form == 1 ? 9 : 10);
        if (form == 0)
            nt_floats(&t, "scales", 4, sc);
        CHECK(nt_go(&t) == DT_OK);
        float w[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
        check_vals(&t, w, 16, 0, "upsample nearest");
        nt_free(&t);
    }
    /* Upsample linear (asymmetric): [1,2] x2 → [1, 1.5, 2, 2] */
    float x12[2] = {1, 2}, sc2[4] = {1, 1, 1, 2};
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(1), I(2)), x12);
    nt_const(&t, DT_F32, 1, DIMS(I(4)), sc2);
    nt_node(&t, DT_OP_Upsample, 1);
    N_(&t)->opset = 9;
    nt_str(&t, "mode", "linear");
    CHECK(nt_go(&t) == DT_OK);
    float w[4] = {1, 1.5f, 2, 2};
    check_vals(&t, w, 4, 1e-6, "upsample linear");
    nt_free(&t);
}

static void test_resize_errors(void)
{
    nt t;
    /* non-constant scales */
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(2), I(2)), NULL);
    nt_skip(&t);
    nt_in(&t, DT_F32, 1, DIMS(I(4)), NULL);
    nt_node(&t, DT_OP_Resize, 1);
    expect_err(&t, DT_EUNSUPPORTED, 0);
    nt_free(&t);
    /* wrong scales length, bad mode, neither scales nor sizes, antialias */
    float sc[4] = {1, 1, 2, 2};
    for (int k = 0; k < 4; k++) {
        nt_init(&t);
        nt_in(&t, DT_F32, 4, DIMS(I(1), I(1), I(2), I(2)), NULL);
        nt_skip(&t);
        if (k == 2)
            nt_skip(&t);
        else
            nt_const(&t, DT_F32, 1, DIMS(I(k == 0 ? 3 : 4)), sc);
        nt_node(&t, DT_OP_Resize, 1);
        if (k == 1)
            nt_str(&t, "mode", "bicubic");
        if (k == 3)
            nt_int(&t, "antialias", 1);
        expect_err(&t, k == 0 ? DT_ESHAPE : (k == 2 ? DT_EINVAL : DT_EUNSUPPORTED), 0);
        nt_free(&t);
    }
}

/* ---- Pad ------------------------------------------------------------------- */

static void test_pad(void)
{
    float x[6] = {1, 2, 3, 4, 5, 6}; /* [2,3] */
    struct {
        const char *mode;
        int64_t pads[4];
        int64_t od[2];
        float want[28];
    } cs[] = {
        {"constant", {1, 2, 0, 1}, {3, 6}, {9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9}},
        {"edge", {0, 2, 1, 1}, {3, 6}, {1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6}},
        {"reflect", {1, 2, 1, 2}, {4, 7},
         {6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1}},
        {"wrap", {1, 1, 0, 2}, {3, 6}, {6, 4, 5, 6, 4, 5, 3, 1, 2, 3, 1, 2, 6, 4, 5, 6, 4, 5}},
        {"constant", {0, -1, 0, 1}, {2, 3}, {2, 3, 9, 5, 6, 9}},
    };
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        /* opset 11+ input form */
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 2, DIMS(I(2), I(3)), x);
        nt_const(&t, DT_I64, 1, DIMS(I(4)), cs[k].pads);
        float cv = 9.f;
        nt_const(&t, DT_F32, 0, NULL, &cv);
        nt_node(&t, DT_OP_Pad, 1);
        nt_str(&t, "mode", cs[k].mode);
        CHECK(nt_go(&t) == DT_OK);
        CHECK(shape_is(nt_outv(&t, 0), 2, cs[k].od));
        int n = (int)(cs[k].od[0] * cs[k].od[1]);
        /* reflect row count: the table above has 28 = 4x7 */
        check_vals(&t, cs[k].want, n, 0, cs[k].mode);
        nt_free(&t);
        /* opset 2 attribute form */
        nt_init(&t);
        nt_in(&t, DT_F32, 2, DIMS(I(2), I(3)), x);
        nt_node(&t, DT_OP_Pad, 1);
        N_(&t)->opset = 2;
        nt_str(&t, "mode", cs[k].mode);
        nt_ints(&t, "pads", 4, cs[k].pads);
        nt_float(&t, "value", 9.f);
        CHECK(nt_go(&t) == DT_OK);
        check_vals(&t, cs[k].want, n, 0, cs[k].mode);
        nt_free(&t);
    }
    /* axes (opset 18) and int64 data */
    int64_t xi[6] = {1, 2, 3, 4, 5, 6}, pads[2] = {1, 1}, axes[1] = {-1}, cvi = -7;
    nt t;
    nt_init(&t);
    nt_in(&t, DT_I64, 2, DIMS(I(2), I(3)), xi);
    nt_const(&t, DT_I64, 1, DIMS(I(2)), pads);
    nt_const(&t, DT_I64, 0, NULL, &cvi);
    nt_const(&t, DT_I64, 1, DIMS(I(1)), axes);
    nt_node(&t, DT_OP_Pad, 1);
    CHECK(nt_go(&t) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 2, DIMS(I(2), I(5))));
    int64_t want[10] = {-7, 1, 2, 3, -7, -7, 4, 5, 6, -7};
    CHECK(memcmp(nt_outi(&t, 0), want, sizeof want) == 0);
    nt_free(&t);
    /* errors: non-constant pads, wrong count, crop below zero */
    for (int k = 0; k < 3; k++) {
        nt_init(&t);
        nt_in(&t, DT_F32, 2, DIMS(I(2), I(3)), NULL);
        int64_t p[4] = {0, 0, 0, -5};
        if (k == 0)
            nt_in(&t, DT_I64, 1, DIMS(I(4)), NULL);
        else
            nt_const(&t, DT_I64, 1, DIMS(I(k == 1 ? 3 : 4)), p);
        nt_node(&t, DT_OP_Pad, 1);
        expect_err(&t, k == 0 ? DT_EUNSUPPORTED : DT_ESHAPE, 0);
        nt_free(&t);
    }
}

/* ---- MatMul / Gemm ------------------------------------------------------------ */

static void test_matmul(void)
{
    struct { int na; int64_t a[4]; int nb; int64_t b[4]; int ny; int64_t y[4]; } cs[] = {
        {2, {3, 5}, 2, {5, 4}, 2, {3, 4}},
        {1, {5}, 1, {5}, 0, {0}},
        {1, {5}, 3, {2, 5, 3}, 2, {2, 3}},
        {3, {2, 4, 5}, 1, {5}, 2, {2, 4}},
        {4, {2, 1, 3, 5}, 3, {3, 5, 2}, 4, {2, 3, 3, 2}},
        {2, {3, 5}, 4, {2, 2, 5, 1}, 4, {2, 2, 3, 1}},
    };
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        int64_t na = dt_shape_numel(cs[k].na, cs[k].a), nb = dt_shape_numel(cs[k].nb, cs[k].b);
        float *a = rand_buf(na), *b = rand_buf(nb);
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, cs[k].na, cs[k].a, a);
        nt_in(&t, DT_F32, cs[k].nb, cs[k].b, b);
        nt_node(&t, DT_OP_MatMul, 1);
        CHECK(nt_go(&t) == DT_OK);
        CHECK(shape_is(nt_outv(&t, 0), cs[k].ny, cs[k].y));
        /* naive: promote to [.., M, K] x [.., K, N] with explicit broadcast */
        int64_t A[4] = {1, 1, 1, 1}, B[4] = {1, 1, 1, 1};
        if (cs[k].na == 1) {
            A[3] = cs[k].a[0];
        } else {
            for (int i = 0; i < cs[k].na; i++)
                A[4 - cs[k].na + i] = cs[k].a[i];
        }
        if (cs[k].nb == 1) {
            B[2] = cs[k].b[0];
        } else {
            for (int i = 0; i < cs[k].nb; i++)
                B[4 - cs[k].nb + i] = cs[k].b[i];
        }
        int64_t M = A[2], K = A[3], Nn = B[3];
        int64_t b0 = A[0] > B[0] ? A[0] : B[0], b1 = A[1] > B[1] ? A[1] : B[1];
        double maxd = 0;
        const float *y = nt_outf(&t, 0);
        for (int64_t i0 = 0; i0 < b0; i0++)
            for (int64_t i1 = 0; i1 < b1; i1++)
                for (int64_t m = 0; m < M; m++)
                    for (int64_t n = 0; n < Nn; n++) {
                        double acc = 0;
                        for (int64_t kk = 0; kk < K; kk++) {
                            int64_t ai = (((A[0] > 1 ? i0 : 0) * A[1] + (A[1] > 1 ? i1 : 0)) * M + m) * K + kk;
                            int64_t bi = (((B[0] > 1 ? i0 : 0) * B[1] + (B[1] > 1 ? i1 : 0)) * K + kk) * Nn + n;
                            acc += (double)a[ai] * b[bi];
                        }
                        maxd = fmax(maxd, fabs(acc - y[((i0 * b1 + i1) * M + m) * Nn + n]));
                    }
        CHECKF(maxd < 1e-5, "matmul case %zu diff %g", k, maxd);
        nt_free(&t);
        free(a);
        free(b);
    }
    /* fused activation on MatMul */
    float a[6] = {1, -2, 3, -4, 5, -6}, b[2] = {1, 1};
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 2, DIMS(I(3), I(2)), a);
    nt_in(&t, DT_F32, 2, DIMS(I(2), I(1)), b);
    nt_node(&t, DT_OP_MatMul, 1);
    nt_act(&t, &g_acts[2]); /* LeakyRelu 0.1 */
    CHECK(nt_go(&t) == DT_OK);
    CHECK_NEAR(nt_outf(&t, 0)[0], -0.1, 1e-6);
    CHECK_NEAR(nt_outf(&t, 0)[1], -0.1, 1e-6);
    CHECK_NEAR(nt_outf(&t, 0)[2], -0.1, 1e-6);
    nt_free(&t);
    nt_init(&t);
    nt_in(&t, DT_F32, 2, DIMS(I(3), I(4)), NULL);
    nt_in(&t, DT_F32, 2, DIMS(I(5), I(2)), NULL);
    nt_node(&t, DT_OP_MatMul, 1);
    expect_err(&t, DT_ESHAPE, 0);
    nt_free(&t);
    nt_init(&t);
    nt_in(&t, DT_F32, 3, DIMS(I(2), I(3), I(4)), NULL);
    nt_in(&t, DT_F32, 3, DIMS(I(3), I(4), I(2)), NULL);
    nt_node(&t, DT_OP_MatMul, 1);
    expect_err(&t, DT_ESHAPE, 0); /* batch 2 vs 3 */
    nt_free(&t);
}

static void test_gemm(void)
{
    for (int it = 0; it < 40; it++) {
        int M = irand(1, 7), K = irand(1, 9), Nn = irand(1, 6), ta = irand(0, 1), tb = irand(0, 1);
        int cform = irand(0, 4); /* none, [M,N], [N], [M,1], scalar */
        float alpha = frand() * 2, beta = frand() * 2;
        const act_t *act = &g_acts[irand(0, 3)];
        float *a = rand_buf(M * K), *b = rand_buf(K * Nn), *c = rand_buf(M * Nn);
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 2, ta ? DIMS(I(K), I(M)) : DIMS(I(M), I(K)), a);
        nt_const(&t, DT_F32, 2, tb ? DIMS(I(Nn), I(K)) : DIMS(I(K), I(Nn)), b);
        if (cform == 1)
            nt_const(&t, DT_F32, 2, DIMS(I(M), I(Nn)), c);
        else if (cform == 2)
            nt_const(&t, DT_F32, 1, DIMS(I(Nn)), c);
        else if (cform == 3)
            nt_const(&t, DT_F32, 2, DIMS(I(M), I(1)), c);
        else if (cform == 4)
            nt_const(&t, DT_F32, 0, NULL, c);
        nt_node(&t, DT_OP_Gemm, 1);
        nt_int(&t, "transA", ta);
        nt_int(&t, "transB", tb);
        nt_float(&t, "alpha", alpha);
        nt_float(&t, "beta", beta);
        nt_act(&t, act);
        CHECK(nt_go(&t) == DT_OK);
        CHECK(shape_is(nt_outv(&t, 0), 2, DIMS(I(M), I(Nn))));
        double maxd = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < Nn; j++) {
                double acc = 0;
                for (int k = 0; k < K; k++)
                    acc += (double)(ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * Nn + j]);
                double cv = cform == 0 ? 0 : cform == 1 ? c[i * Nn + j] : cform == 2 ? c[j] : cform == 3 ? c[i] : c[0];
                float want = act_ref(act, (float)(alpha * acc + beta * cv));
                maxd = fmax(maxd, fabs(want - nt_outf(&t, 0)[i * Nn + j]));
            }
        CHECKF(maxd < 1e-5, "gemm diff %g", maxd);
        nt_free(&t);
        free(a);
        free(b);
        free(c);
    }
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 3, DIMS(I(1), I(3), I(4)), NULL);
    nt_in(&t, DT_F32, 2, DIMS(I(4), I(2)), NULL);
    nt_node(&t, DT_OP_Gemm, 1);
    expect_err(&t, DT_ESHAPE, 0);
    nt_free(&t);
    nt_init(&t);
    nt_in(&t, DT_F32, 2, DIMS(I(3), I(4)), NULL);
    nt_in(&t, DT_F32, 2, DIMS(I(4), I(2)), NULL);
    nt_in(&t, DT_F32, 1, DIMS(I(3)), NULL);
    nt_node(&t, DT_OP_Gemm, 1);
    expect_err(&t, DT_ESHAPE, 0); /* C [3] does not broadcast to [3,2] */
    nt_free(&t);
}

/* ---- Softmax / reductions / arg / TopK ---------------------------------------- */

static void test_softmax(void)
{
    int64_t d[3] = {2, 3, 4};
    float *x = rand_buf(24);
    for (int k = 0; k < 24; k++)
        x[k] *= 20;
    for (int is_log = 0; is_log < 2; is_log++)
        for (int opset = 11; opset <= 13; opset += 2)
            for (int axis = -1; axis < 3; axis++) {
                nt t;
                nt_init(&t);
                nt_in(&t, DT_F32, 3, d, x);
                nt_node(&t, is_log ? DT_OP_LogSoftmax : DT_OP_Softmax, 1);
                N_(&t)->opset = opset;
                nt_int(&t, "axis", axis);
                CHECK(nt_go(&t) == DT_OK);
                int ax = axis < 0 ? 2 : axis;
                int64_t outer = 1, L = 1, inner = 1;
                for (int i = 0; i < 3; i++) {
                    if (i < ax)
                        outer *= d[i];
                    else if (i == ax || opset < 13)
                        L *= d[i];
                    else
                        inner *= d[i];
                }
                double maxd = 0;
                for (int64_t o = 0; o < outer; o++)
                    for (int64_t in = 0; in < inner; in++) {
                        double mx = -INFINITY, s = 0;
                        for (int64_t l = 0; l < L; l++)
                            mx = fmax(mx, x[(o * L + l) * inner + in]);
                        for (int64_t l = 0; l < L; l++)
                            s += exp(x[(o * L + l) * inner + in] - mx);
                        for (int64_t l = 0; l < L; l++) {
                            double v = x[(o * L + l) * inner + in] - mx;
                            double want = is_log ? v - log(s) : exp(v) / s;
                            maxd = fmax(maxd, fabs(want - nt_outf(&t, 0)[(o * L + l) * inner + in]));
                        }
                    }
                CHECKF(maxd < 1e-5, "softmax log%d opset %d axis %d: diff %g", is_log, opset, axis, maxd);
                nt_free(&t);
            }
    free(x);
}

static void test_reduce(void)
{
    int64_t d[4] = {2, 3, 4, 5};
    float *x = rand_buf(120);
    static const dt_op ops[] = {DT_OP_ReduceMean, DT_OP_ReduceMax, DT_OP_ReduceMin, DT_OP_ReduceSum, DT_OP_ReduceProd};
    for (int oi = 0; oi < 5; oi++)
        for (int mask = 0; mask < 16; mask++)
            for (int keep = 0; keep < 2; keep++) {
                int64_t axes[4];
                int na = 0;
                for (int i = 0; i < 4; i++)
                    if (mask & (1 << i))
                        axes[na++] = i - (i & 1) * 4; /* mix negative axes in */
                int as_input = (mask + keep) & 1;
                nt t;
                nt_init(&t);
                nt_in(&t, DT_F32, 4, d, x);
                if (as_input && na)
                    nt_const(&t, DT_I64, 1, DIMS(I(na)), axes);
                nt_node(&t, ops[oi], 1);
                if (!as_input && na)
                    nt_ints(&t, "axes", na, axes);
                nt_int(&t, "keepdims", keep);
                CHECK(nt_go(&t) == DT_OK);
                int red[4];
                for (int i = 0; i < 4; i++)
                    red[i] = na == 0 || (mask >> i & 1);
                int64_t od[4], nod = 0, cnt = 1;
                for (int i = 0; i < 4; i++) {
                    if (!red[i])
                        od[nod++] = d[i];
                    else if (keep)
                        od[nod++] = 1;
                    if (red[i])
                        cnt *= d[i];
                }
                CHECK(shape_is(nt_outv(&t, 0), (int)nod, od));
                /* naive: accumulate every element into its output slot */
                int64_t n_out = 120 / cnt;
                double *acc = malloc((size_t)n_out * sizeof(double));
                for (int64_t i = 0; i < n_out; i++)
                    acc[i] = oi == 1 ? -INFINITY : oi == 2 ? INFINITY : oi == 4 ? 1 : 0;
                for (int64_t e = 0; e < 120; e++) {
                    int64_t c[4] = {e / 60, e / 20 % 3, e / 5 % 4, e % 5}, o = 0;
                    for (int i = 0; i < 4; i++)
                        if (!red[i])
                            o = o * d[i] + c[i];
                    double v = x[e];
                    switch (oi) {
                    case 0: case 3: acc[o] += v; break;
                    case 1: acc[o] = fmax(acc[o], v); break;
                    case 2: acc[o] = fmin(acc[o], v); break;
                    case 4: acc[o] *= v; break;
                    }
                }
                double maxd = 0;
                for (int64_t i = 0; i < n_out; i++)
                    maxd = fmax(maxd, fabs((oi == 0 ? acc[i] / cnt : acc[i]) - nt_outf(&t, 0)[i]));
                CHECKF(maxd < 1e-5, "%s mask %d keep %d: diff %g", dt_op_name(ops[oi]), mask, keep, maxd);
                free(acc);
                nt_free(&t);
            }
    /* noop_with_empty_axes; int64 sum; errors */
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 4, d, x);
    nt_node(&t, DT_OP_ReduceSum, 1);
    nt_int(&t, "noop_with_empty_axes", 1);
    CHECK(nt_go(&t) == DT_OK);
    CHECK(shape_is(nt_outv(&t, 0), 4, d));
    CHECK(memcmp(nt_outf(&t, 0), x, 120 * sizeof(float)) == 0);
    nt_free(&t);
    int64_t xi[6] = {1, -2, 3, 40, 5, 6}, ax[1] = {1};
    nt_init(&t);
    nt_in(&t, DT_I64, 2, DIMS(I(2), I(3)), xi);
    nt_const(&t, DT_I64, 1, DIMS(I(1)), ax);
    nt_node(&t, DT_OP_ReduceMax, 1);
    nt_int(&t, "keepdims", 0);
    CHECK(nt_go(&t) == DT_OK);
    CHECK(nt_outi(&t, 0)[0] == 3 && nt_outi(&t, 0)[1] == 40);
    nt_free(&t);
    for (int k = 0; k < 3; k++) {
        nt_init(&t);
        nt_in(&t, DT_F32, 4, d, NULL);
        int64_t bad[2] = {4, 1}, rep[2] = {1, -3};
        if (k == 2)
            nt_in(&t, DT_I64, 1, DIMS(I(1)), NULL);
        nt_node(&t, DT_OP_ReduceMean, 1);
        if (k < 2)
            nt_ints(&t, "axes", 2, k == 0 ? bad : rep);
        expect_err(&t, k == 2 ? DT_EUNSUPPORTED : DT_EINVAL, 0);
        nt_free(&t);
    }
    free(x);
}

static void test_argmax(void)
{
    float x[12] = {1, 3, 3, 0, 2, 2, 2, 1, 5, -1, 5, 5}; /* [3,4] */
    struct { dt_op op; int axis, last; int64_t want[4]; int n; } cs[] = {
        {DT_OP_ArgMax, 1, 0, {1, 0, 0}, 3},    {DT_OP_ArgMax, 1, 1, {2, 2, 3}, 3},
        {DT_OP_ArgMin, 1, 0, {3, 3, 1}, 3},    {DT_OP_ArgMin, 1, 1, {3, 3, 1}, 3},
        {DT_OP_ArgMax, 0, 0, {2, 0, 2, 2}, 4}, {DT_OP_ArgMin, 0, 1, {0, 2, 1, 0}, 4},
    };
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        nt t;
        nt_init(&t);
        nt_in(&t, DT_F32, 2, DIMS(I(3), I(4)), x);
        nt_node(&t, cs[k].op, 1);
        nt_int(&t, "axis", cs[k].axis);
        nt_int(&t, "select_last_index", cs[k].last);
        nt_int(&t, "keepdims", 0);
        CHECK(nt_go(&t) == DT_OK);
        CHECK(nt_outv(&t, 0)->dtype == DT_I64 && nt_outv(&t, 0)->ndim == 1);
        for (int i = 0; i < cs[k].n; i++)
            CHECKF(nt_outi(&t, 0)[i] == cs[k].want[i], "arg case %zu [%d]: %lld vs %lld", k, i,
                   (long long)nt_outi(&t, 0)[i], (long long)cs[k].want[i]);
        nt_free(&t);
    }
}

static void test_topk(void)
{
    float x[10] = {1, 3, 3, 2, 3, /* row 2 */ 0, -1, 4, 4, -1};
    struct { int largest; int64_t k; float v[3]; int64_t i[3]; } cs[] = {
        {1, 3, {3, 3, 3}, {1, 2, 4}},
        {0, 2, {1, 2}, {0, 3}},
    };
    for (int k = 0; k < 2; k++)
        for (int form = 0; form < 2; form++) {
            nt t;
            nt_init(&t);
            nt_in(&t, DT_F32, 2, DIMS(I(2), I(5)), x);
            if (form == 1)
                nt_const(&t, DT_I64, 1, DIMS(I(1)), &cs[k].k);
            nt_node(&t, DT_OP_TopK, 2);
            if (form == 0) {
                N_(&t)->opset = 9;
                nt_int(&t, "k", cs[k].k);
            }
            nt_int(&t, "largest", cs[k].largest);
            CHECK(nt_go(&t) == DT_OK);
            CHECK(shape_is(nt_outv(&t, 0), 2, DIMS(I(2), cs[k].k)));
            for (int j = 0; j < cs[k].k; j++) {
                CHECK(nt_outf(&t, 0)[j] == cs[k].v[j]);
                CHECK(nt_outi(&t, 1)[j] == cs[k].i[j]);
            }
            if (k == 1) { /* row 2 smallest 2: -1 at 6 and 9 → indices 1, 4 */
                CHECK(nt_outi(&t, 1)[2] == 1 && nt_outi(&t, 1)[3] == 4);
            } else { /* row 2 largest 3: 4,4,0 at 2,3,0 */
                CHECK(nt_outi(&t, 1)[3] == 2 && nt_outi(&t, 1)[4] == 3 && nt_outi(&t, 1)[5] == 0);
            }
            nt_free(&t);
        }
    /* axis 0, random, vs a naive selection */
    int R = 17, Cc = 4;
    float *r = rand_buf(R * Cc);
    int64_t k = 5;
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 2, DIMS(I(R), I(Cc)), r);
    nt_const(&t, DT_I64, 1, DIMS(I(1)), &k);
    nt_node(&t, DT_OP_TopK, 2);
    nt_int(&t, "axis", 0);
    CHECK(nt_go(&t) == DT_OK);
    for (int c = 0; c < Cc; c++) {
        int used[17] = {0};
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < R; i++)
                if (!used[i] && (best < 0 || r[i * Cc + c] > r[best * Cc + c]))
                    best = i;
            used[best] = 1;
            CHECK(nt_outi(&t, 1)[j * Cc + c] == best);
            CHECK(nt_outf(&t, 0)[j * Cc + c] == r[best * Cc + c]);
        }
    }
    nt_free(&t);
    free(r);
    /* errors: k > dim, non-constant k */
    for (int e = 0; e < 2; e++) {
        int64_t kk = 9;
        nt_init(&t);
        nt_in(&t, DT_F32, 2, DIMS(I(2), I(5)), NULL);
        if (e == 0)
            nt_const(&t, DT_I64, 1, DIMS(I(1)), &kk);
        else
            nt_in(&t, DT_I64, 1, DIMS(I(1)), NULL);
        nt_node(&t, DT_OP_TopK, 2);
        expect_err(&t, e == 0 ? DT_ESHAPE : DT_EUNSUPPORTED, 0);
        nt_free(&t);
    }
}

/* 1 thread and 2 threads give identical results */
static void test_threads_agree(void)
{
    float *x = rand_buf(2 * 6 * 13 * 11), *w = rand_buf(8 * 3 * 9), *b = rand_buf(8);
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 4, DIMS(I(2), I(6), I(13), I(11)), x);
    nt_const(&t, DT_F32, 4, DIMS(I(8), I(3), I(3), I(3)), w);
    nt_const(&t, DT_F32, 1, DIMS(I(8)), b);
    nt_node(&t, DT_OP_Conv, 1);
    nt_int(&t, "group", 2);
    nt_ints(&t, "pads", 4, DIMS(I(1), I(1), I(1), I(1)));
    nt_ints(&t, "strides", 2, DIMS(I(2), I(1)));
    nt_ints(&t, "dilations", 2, DIMS(I(1), I(2)));
    CHECK(nt_infer(&t) == DT_OK);
    CHECK(nt_run_pool(&t, NULL) == DT_OK);
    int64_t n = dt_tensor_numel(&t.out[0]);
    float *y1 = malloc((size_t)n * sizeof(float));
    memcpy(y1, t.out[0].data, (size_t)n * sizeof(float));
    CHECK(nt_run_pool(&t, g_pool) == DT_OK);
    CHECK(memcmp(y1, t.out[0].data, (size_t)n * sizeof(float)) == 0);
    free(y1);
    nt_free(&t);
    free(x);
    free(w);
    free(b);
}

/* Every op of the group has an opdef, and infer on unknown rank does not fail. */
static void test_table(void)
{
    static const dt_op ops[] = {
        DT_OP_Conv, DT_OP_ConvTranspose, DT_OP_BatchNormalization, DT_OP_InstanceNormalization, DT_OP_MaxPool,
        DT_OP_AveragePool, DT_OP_GlobalAveragePool, DT_OP_GlobalMaxPool, DT_OP_Resize, DT_OP_Upsample, DT_OP_Pad,
        DT_OP_MatMul, DT_OP_Gemm, DT_OP_Softmax, DT_OP_LogSoftmax, DT_OP_ReduceMean, DT_OP_ReduceMax,
        DT_OP_ReduceMin, DT_OP_ReduceSum, DT_OP_ReduceProd, DT_OP_ArgMax, DT_OP_ArgMin, DT_OP_TopK, DT_OP_LRN,
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const dt_opdef *d = dt_opdef_get(ops[i]);
        CHECKF(d && d->infer && d->ref, "no opdef for %s", dt_op_name(ops[i]));
    }
    /* kernels given mismatching output views fail cleanly */
    float x[4] = {1, 2, 3, 4};
    nt t;
    nt_init(&t);
    nt_in(&t, DT_F32, 2, DIMS(I(2), I(2)), x);
    nt_in(&t, DT_F32, 2, DIMS(I(2), I(2)), x);
    nt_node(&t, DT_OP_MatMul, 1);
    CHECK(nt_infer(&t) == DT_OK);
    t.out[0] = dt_value_view(nt_outv(&t, 0));
    t.out[0].dims[1] = 3;
    t.out[0].data = dt_aligned_alloc(64);
    CHECK(nt_run(&t) == DT_ESHAPE);
    nt_free(&t);
}

int main(void)
{
    dt_status st;
    if (dt_pool_create(2, &g_pool, &st) != DT_OK)
        return 1;
    RUN(test_table);
    RUN(test_conv_fixed);
    RUN(test_conv_random);
    RUN(test_conv_1d);
    RUN(test_conv_3d);
    RUN(test_conv_unknown_batch);
    RUN(test_conv_errors);
    RUN(test_convtranspose_random);
    RUN(test_convtranspose_nhwc);
    RUN(test_convtranspose_output_shape);
    RUN(test_pools_random);
    RUN(test_maxpool_indices);
    RUN(test_global_pools);
    RUN(test_pool_errors);
    RUN(test_batchnorm);
    RUN(test_instancenorm_lrn);
    RUN(test_resize_values);
    RUN(test_resize_nhwc_axes);
    RUN(test_upsample_and_legacy);
    RUN(test_resize_errors);
    RUN(test_pad);
    RUN(test_matmul);
    RUN(test_gemm);
    RUN(test_softmax);
    RUN(test_reduce);
    RUN(test_argmax);
    RUN(test_topk);
    RUN(test_threads_agree);
    dt_pool_free(g_pool);
    return tl_summary();
}
