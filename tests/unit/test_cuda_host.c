/* test_cuda_host.c — host-side logic of the CUDA backend, on the CPU (runs in
 * every build, with or without CUDA):
 *   - device strings, the weights pack, the device block and pinned layouts;
 *   - translation of graph nodes into steps: cuDNN convolution parameters
 *     (padding, strides, dilations, groups, NHWC, asymmetric pads, fused
 *     bias + relu), cuBLAS arguments (transposes, batch broadcasting),
 *     broadcast collapsing, TopK passes;
 *   - every translated graph run in the host emulator (the kernels' element
 *     functions; cuDNN / cuBLAS as naive loops driven by the exact library
 *     arguments) and compared with the reference kernels;
 *   - fallback decisions, the engine hook (device option, errors without a
 *     GPU), and an allocation-failure sweep over the translation.
 * The op-by-op comparison over every ONNX op case is test_cuda_host_ops.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cuda/cu_plan.h"
#include "engine/cuda/cuda.h"
#include "engine/engine.h"
#include "engine/graph.h"
#include "engine/ops.h"
#include "engine/passes/passes.h"
#include "testlib.h"

/* ---- tiny graph builder and reference interpreter ------------------------- */

static int val(dt_graph *g, const char *name, dt_dtype dt, int nd, const int64_t *dims)
{
    dt_status st;
    int v = dt_graph_add_value(g, name, dt, nd, dims, &st);
    CHECK(v >= 0);
    return v;
}

static int cst(dt_graph *g, const char *name, dt_dtype dt, int nd, const int64_t *dims, const void *data)
{
    dt_status st;
    int v = dt_graph_add_const(g, name, dt, nd, dims, data, &st);
    CHECK(v >= 0);
    return v;
}

static int node(dt_graph *g, dt_op op, const char *name, int nin, const int *in, int nout, const int *out)
{
    dt_status st;
    int n = dt_graph_add_node(g, op, name, nin, in, nout, out, &st);
    CHECK(n >= 0);
    g->nodes[n].opset = DT_OPSET_LATEST;
    return n;
}

static float *rand_floats(int64_t n, unsigned seed, float lo, float hi)
{
    float *p = malloc((size_t)n * sizeof(float) + 4);
    for (int64_t i = 0; i < n; i++)
        p[i] = tl_randf(&seed, lo, hi);
    return p;
}

/* Run the planned graph with the reference kernels; outputs copied out. */
static dt_code ref_run(const dt_graph *g, size_t arena_bytes, size_t scr_off, size_t scr_bytes, const dt_tensor *in,
                       dt_tensor *out, dt_status *st)
{
    char *arena = dt_calloc(scr_off + scr_bytes + 64, 1);
    for (int i = 0; i < g->n_inputs; i++) {
        const dt_value *v = &g->values[g->inputs[i]];
        memcpy(arena + v->offset, in[i].data, dt_tensor_nbytes(&in[i]));
    }
    (void)arena_bytes;
    dt_code rc = DT_OK;
    for (int i = 0; i < g->n_nodes && rc == DT_OK; i++) {
        const dt_node *n = &g->nodes[i];
        if (dt_op_is_view(n->op) && g->values[n->out[0]].alias >= 0)
            continue;
        dt_tensor ti[16], to[8];
        const dt_tensor *pi[16];
        dt_tensor *po[8];
        for (int k = 0; k < n->n_in; k++) {
            pi[k] = NULL;
            if (n->in[k] < 0)
                continue;
            const dt_value *v = &g->values[n->in[k]];
            ti[k] = dt_value_view(v);
            if (!v->buf)
                ti[k].data = arena + v->offset;
            pi[k] = &ti[k];
        }
        for (int k = 0; k < n->n_out; k++) {
            const dt_value *v = &g->values[n->out[k]];
            to[k] = dt_value_view(v);
            to[k].data = v->offset >= 0 ? arena + v->offset : NULL;
            po[k] = &to[k];
        }
        dt_kctx ctx = {NULL, arena + scr_off, scr_bytes};
        rc = dt_opdef_get(n->op)->ref(n, pi, n->n_in, po, n->n_out, &ctx, st);
    }
    for (int i = 0; rc == DT_OK && i < g->n_outputs; i++) {
        const dt_value *v = &g->values[g->outputs[i]];
        out[i] = dt_value_view(v);
        size_t nb = dt_tensor_nbytes(&out[i]);
        void *d = malloc(nb + 1);
        memcpy(d, v->buf ? v->buf->data : arena + v->offset, nb);
        out[i].data = d;
    }
    dt_free(arena);
    return rc;
}

typedef struct tcase {
    dt_cu_plan plan;
    dt_cu_wpack *wp;
    dt_code rc;
    char why[DT_STATUS_MSG];
    int compared, ok;
} tcase;

/* Specialise + (optionally) fuse + plan g, translate it, emulate the CUDA
 * plan and compare with the reference run.  tc->plan stays for inspection
 * (caller clears it with tcase_clear). */
static void run_graph(dt_graph *g, int n_in, const dt_tensor *in, int fuse, const dt_cu_opts *o, tcase *tc)
{
    dt_status st;
    memset(tc, 0, sizeof *tc);
    size_t ab, so, sb;
    CHECK(dt_pass_specialize(g, n_in, in, &st) == DT_OK);
    if (fuse)
        CHECK(dt_pass_fuse(g, &st) == DT_OK);
    CHECK(dt_pass_plan(g, &ab, &so, &sb, &st) == DT_OK);
    CHECK(dt_cu_wpack_create(&tc->wp, &st) == DT_OK);
    dt_cu_opts def = {0, 1};
    tc->rc = dt_cu_plan_build(g, ab, o ? o : &def, tc->wp, &tc->plan, tc->why, sizeof tc->why, &st);
    if (tc->rc != DT_OK)
        return;
    dt_tensor ref[8], emu[8];
    CHECK(ref_run(g, ab, so, sb, in, ref, &st) == DT_OK);
    char *act = calloc(ab + 64, 1), *scr = calloc(tc->plan.scr_bytes + 64, 1);
    char *w = calloc(dt_cu_wpack_bytes(tc->wp) + 64, 1);
    dt_cu_wpack_write(tc->wp, w);
    char *base[DT_CU_SP_COUNT_] = {NULL, act, w, scr};
    dt_cu_plan_bind(&tc->plan, base);
    for (int i = 0; i < tc->plan.n_in; i++)
        memcpy(act + tc->plan.in[i].off, in[i].data, tc->plan.in[i].bytes);
    CHECK(dt_cu_plan_emulate(&tc->plan, &st) == DT_OK);
    tc->ok = 1;
    for (int i = 0; i < tc->plan.n_out; i++) {
        emu[i] = tc->plan.out[i].shape;
        emu[i].data = tc->plan.out[i].off < 0 ? (void *)tc->plan.out[i].const_data : act + tc->plan.out[i].off;
        int64_t n = dt_tensor_numel(&ref[i]);
        CHECK(n == dt_tensor_numel(&emu[i]) && ref[i].dtype == emu[i].dtype);
        for (int64_t j = 0; j < n && tc->ok; j++) {
            if (ref[i].dtype == DT_F32) {
                float a = ((float *)emu[i].data)[j], b = ((float *)ref[i].data)[j];
                if (!(fabsf(a - b) <= 1e-4f * (1.f + fabsf(b))) && !(a != a && b != b)) {
                    fprintf(stderr, "  output %d element %lld: emulated %.8g, reference %.8g\n", i, (long long)j, a, b);
                    tc->ok = 0;
                }
            } else {
                size_t es = dt_dtype_size(ref[i].dtype);
                if (memcmp((char *)emu[i].data + j * es, (char *)ref[i].data + j * es, es)) {
                    fprintf(stderr, "  output %d element %lld differs\n", i, (long long)j);
                    tc->ok = 0;
                }
            }
        }
        free(ref[i].data);
    }
    tc->compared = 1;
    free(act);
    free(scr);
    free(w);
}

static void tcase_clear(tcase *tc)
{
    dt_cu_plan_clear(&tc->plan);
    dt_cu_wpack_free(tc->wp);
}

static int count_kind(const dt_cu_plan *p, int kind)
{
    int c = 0;
    for (int i = 0; i < p->n_steps; i++)
        c += p->steps[i].kind == kind;
    return c;
}

static const dt_cu_step *find_kind(const dt_cu_plan *p, int kind)
{
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].kind == kind)
            return &p->steps[i];
    return NULL;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_parse_device(void)
{
    dt_status st;
    int d = 7;
    CHECK(dt_cuda_parse_device(NULL, &d, &st) == DT_OK && d == -1);
    CHECK(dt_cuda_parse_device("", &d, &st) == DT_OK && d == -1);
    CHECK(dt_cuda_parse_device("cpu", &d, &st) == DT_OK && d == -1);
    CHECK(dt_cuda_parse_device("cuda", &d, &st) == DT_OK && d == 0);
    CHECK(dt_cuda_parse_device("gpu", &d, &st) == DT_OK && d == 0);
    CHECK(dt_cuda_parse_device("cuda:3", &d, &st) == DT_OK && d == 3);
    CHECK(dt_cuda_parse_device("cuda:12", &d, &st) == DT_OK && d == 12);
    CHECK(dt_cuda_parse_device("cuda:", &d, &st) == DT_EINVAL);
    CHECK(dt_cuda_parse_device("cuda:-1", &d, &st) == DT_EINVAL);
    CHECK(dt_cuda_parse_device("cuda:1x", &d, &st) == DT_EINVAL);
    CHECK(dt_cuda_parse_device("cuda:99999999999", &d, &st) == DT_EINVAL);
    CHECK(dt_cuda_parse_device("tpu", &d, &st) == DT_EINVAL && strstr(st.msg, "tpu"));
}

static void test_wpack(void)
{
    dt_status st;
    dt_cu_wpack *w;
    CHECK(dt_cu_wpack_create(&w, &st) == DT_OK);
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 2, 3, 4, 5}, c[3] = {9, 8, 7};
    int64_t oa = dt_cu_wpack_add(w, a, sizeof a, 0, &st);
    int64_t ob = dt_cu_wpack_add(w, b, sizeof b, 0, &st); /* same content elsewhere: shared */
    int64_t oc = dt_cu_wpack_add(w, c, sizeof c, 1, &st);
    int64_t oa2 = dt_cu_wpack_add(w, a, sizeof a, 1, &st);
    CHECK(oa == 0 && ob == oa && oa2 == oa);
    CHECK(oc == DT_CU_ALIGN);
    CHECK(dt_cu_wpack_count(w) == 2);
    CHECK(dt_cu_wpack_bytes(w) == 2 * DT_CU_ALIGN);
    c[0] = 0; /* copied: the pack keeps the old value */
    char img[2 * DT_CU_ALIGN];
    dt_cu_wpack_write(w, img);
    CHECK(!memcmp(img + oa, b, sizeof b));
    CHECK(((float *)(img + oc))[0] == 9.f && ((float *)(img + oc))[2] == 7.f);
    CHECK(img[sizeof a] == 0); /* gap zeroed */
    dt_cu_wpack_free(w);
}

static void test_layouts(void)
{
    dt_status st;
    dt_cu_layout l;
    CHECK(dt_cu_layout_compute(1000, 5000, 300, 4 << 20, &l, &st) == DT_OK);
    CHECK(l.w_off == 0 && l.act_off == 1024 && l.scr_off == 1024 + 5120 && l.blas_off == 1024 + 5120 + 512);
    CHECK(l.flag_off == l.blas_off + (4 << 20) && l.total % DT_CU_ALIGN == 0 && l.total >= l.flag_off + 16);
    CHECK(dt_cu_layout_compute(SIZE_MAX - 10, 5, 5, 5, &l, &st) == DT_ELIMIT);
    /* pinned: inputs then non-constant outputs, per plan; the largest plan wins */
    dt_cu_io in1[1], out1[2], in2[1], out2[2];
    memset(in1, 0, sizeof in1);
    memset(out1, 0, sizeof out1);
    memset(in2, 0, sizeof in2);
    memset(out2, 0, sizeof out2);
    in1[0].bytes = 300;
    out1[0].bytes = 40;
    out1[0].off = 0;
    out1[1].bytes = 8;
    out1[1].off = -1; /* constant */
    in2[0].bytes = 600;
    out2[0].bytes = 80;
    out2[0].off = 64;
    out2[1].off = -1;
    dt_cu_plan p[2];
    memset(p, 0, sizeof p);
    p[0].in = in1;
    p[0].out = out1;
    p[1].in = in2;
    p[1].out = out2;
    p[0].n_in = p[1].n_in = 1;
    p[0].n_out = p[1].n_out = 2;
    size_t pinned;
    CHECK(dt_cu_io_layout(p, 2, &pinned, &st) == DT_OK);
    CHECK(in1[0].host_off == 0 && out1[0].host_off == 512 && in2[0].host_off == 0 && out2[0].host_off == 768);
    CHECK(pinned == 1024);
}

/* Conv: NCHW, stride 2, symmetric pads, bias + fused Relu. */
static void test_conv_nchw_fused(void)
{
    dt_graph *g = dt_graph_create();
    int64_t xd[4] = {2, 3, 9, 7}, wd[4] = {4, 3, 3, 3}, bd[1] = {4};
    float *w = rand_floats(4 * 3 * 9, 1, -1, 1), *b = rand_floats(4, 2, -1, 1), *x = rand_floats(2 * 3 * 9 * 7, 3, -1, 1);
    int xv = val(g, "x", DT_F32, 4, xd), wv = cst(g, "w", DT_F32, 4, wd, w), bv = cst(g, "b", DT_F32, 1, bd, b);
    int yv = val(g, "y", DT_F32, -1, NULL);
    int in[3] = {xv, wv, bv};
    int n = node(g, DT_OP_Conv, "conv", 3, in, 1, &yv);
    dt_status st;
    int64_t s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1};
    dt_node_set_ints(g, n, "strides", s2, 2, &st);
    dt_node_set_ints(g, n, "pads", p1, 4, &st);
    dt_node_set_string(g, n, "activation", "Relu", &st);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_tensor t = {DT_F32, 4, {2, 3, 9, 7}, x};
    tcase tc;
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.compared && tc.ok);
    CHECK(tc.plan.n_steps == 1 && count_kind(&tc.plan, DT_CU_CONV) == 1);
    const dt_cu_step *s = find_kind(&tc.plan, DT_CU_CONV);
    if (s) {
        dt_cu_conv_desc d;
        dt_cu_conv_desc_get(&s->u.cv, &d);
        CHECK(s->u.cv.fuse_relu == 1 && s->op[2].space == DT_CU_SP_W);
        CHECK(d.x_nhwc == 0 && d.w_nhwc == 0 && d.group == 1);
        CHECK(d.x_dims[0] == 2 && d.x_dims[1] == 3 && d.x_dims[2] == 9 && d.x_dims[3] == 7);
        CHECK(d.y_dims[1] == 4 && d.y_dims[2] == 5 && d.y_dims[3] == 4);
        CHECK(d.w_dims[0] == 4 && d.w_dims[1] == 3 && d.w_dims[2] == 3 && d.w_dims[3] == 3);
        CHECK(d.pad[0] == 1 && d.pad[1] == 1 && d.str[0] == 2 && d.str[1] == 2 && d.dil[0] == 1);
        CHECK(!strcmp(dt_cu_plan_kernel(&tc.plan, 0), "cudnn_conv"));
    }
    tcase_clear(&tc);
    /* the same without fusion: conv, then our bias + relu epilogue */
    dt_graph *g2;
    CHECK(dt_graph_clone(g, &g2, &st) == DT_OK);
    dt_cu_opts o = {0, 0};
    run_graph(g2, 1, &t, 0, &o, &tc);
    CHECK(tc.rc == DT_OK && tc.ok);
    CHECK(tc.plan.n_steps == 2 && tc.plan.steps[0].kind == DT_CU_CONV && tc.plan.steps[1].kind == DT_CU_CHAN);
    CHECK(tc.plan.steps[1].u.ch.has_bias && tc.plan.steps[1].u.ch.act == DT_CU_ACT_RELU && tc.plan.steps[1].u.ch.C == 4);
    CHECK(tc.plan.steps[1].u.ch.inner == 20);
    tcase_clear(&tc);
    dt_graph_free(g2);
    dt_graph_free(g);
    free(w);
    free(b);
    free(x);
}

/* Conv: NHWC depthwise with dilation and asymmetric pads: pre-pad into
 * scratch, KRSC filter blob, HardSwish epilogue. */
static void test_conv_nhwc_depthwise_asym(void)
{
    dt_graph *g = dt_graph_create();
    int64_t xd[4] = {1, 8, 6, 5}, wd[4] = {5, 1, 3, 3}, bd[1] = {5};
    float *w = rand_floats(5 * 9, 4, -1, 1), *b = rand_floats(5, 5, -1, 1), *x = rand_floats(8 * 6 * 5, 6, -2, 2);
    int xv = val(g, "x", DT_F32, 4, xd), wv = cst(g, "w", DT_F32, 4, wd, w), bv = cst(g, "b", DT_F32, 1, bd, b);
    int yv = val(g, "y", DT_F32, -1, NULL);
    int in[3] = {xv, wv, bv};
    int n = node(g, DT_OP_Conv, "dw", 3, in, 1, &yv);
    dt_status st;
    int64_t pads[4] = {0, 1, 2, 1}, dil[2] = {2, 1};
    dt_node_set_ints(g, n, "pads", pads, 4, &st);
    dt_node_set_ints(g, n, "dilations", dil, 2, &st);
    dt_node_set_int(g, n, "group", 5, &st);
    dt_node_set_string(g, n, "layout", "NHWC", &st);
    dt_node_set_string(g, n, "activation", "HardSwish", &st);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_tensor t = {DT_F32, 4, {1, 8, 6, 5}, x};
    tcase tc;
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.compared && tc.ok);
    CHECK(tc.plan.n_steps == 3 && tc.plan.steps[0].kind == DT_CU_PAD && tc.plan.steps[1].kind == DT_CU_CONV &&
          tc.plan.steps[2].kind == DT_CU_CHAN);
    if (tc.plan.n_steps == 3) {
        const dt_cu_conv *c = &tc.plan.steps[1].u.cv;
        CHECK(c->nhwc && c->filter_nhwc && c->group == 5 && c->pad_h == 0 && c->pad_w == 0);
        CHECK(c->H == 8 + 2 && c->W == 6 + 2 && c->dil_h == 2 && c->P == 6 && c->Q == 6);
        CHECK(tc.plan.steps[0].op[1].space == DT_CU_SP_SCR && tc.plan.steps[1].op[0].space == DT_CU_SP_SCR);
        CHECK(c->ws_off >= 10 * 8 * 5 * 4 && tc.plan.scr_bytes >= (size_t)c->ws_off);
        CHECK(tc.plan.steps[2].u.ch.inner == 1 && tc.plan.steps[2].u.ch.act == DT_CU_ACT_HARDSWISH);
        CHECK(!strcmp(dt_cu_plan_kernel(&tc.plan, 0), "cudnn_conv"));
    }
    tcase_clear(&tc);
    dt_graph_free(g);
    free(w);
    free(b);
    free(x);
}

/* 1-D convolution (H = 1 for cuDNN), no bias, stride and dilation. */
static void test_conv_1d(void)
{
    dt_graph *g = dt_graph_create();
    int64_t xd[3] = {2, 4, 30}, wd[3] = {6, 2, 4};
    float *w = rand_floats(6 * 2 * 4, 7, -1, 1), *x = rand_floats(2 * 4 * 30, 8, -1, 1);
    int xv = val(g, "x", DT_F32, 3, xd), wv = cst(g, "w", DT_F32, 3, wd, w), yv = val(g, "y", DT_F32, -1, NULL);
    int in[2] = {xv, wv};
    int n = node(g, DT_OP_Conv, "c1", 2, in, 1, &yv);
    dt_status st;
    int64_t s[1] = {3}, d[1] = {2}, p[2] = {3, 3};
    dt_node_set_ints(g, n, "strides", s, 1, &st);
    dt_node_set_ints(g, n, "dilations", d, 1, &st);
    dt_node_set_ints(g, n, "pads", p, 2, &st);
    dt_node_set_int(g, n, "group", 2, &st);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_tensor t = {DT_F32, 3, {2, 4, 30}, x};
    tcase tc;
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.ok && tc.plan.n_steps == 1);
    const dt_cu_step *cs = find_kind(&tc.plan, DT_CU_CONV);
    CHECK(cs && cs->u.cv.H == 1 && cs->u.cv.R == 1 && cs->u.cv.S == 4 && cs->u.cv.pad_h == 0 && cs->u.cv.pad_w == 3 &&
          cs->u.cv.str_w == 3 && cs->u.cv.dil_w == 2 && cs->u.cv.group == 2 && !cs->u.cv.fuse_relu);
    tcase_clear(&tc);
    dt_graph_free(g);
    free(w);
    free(x);
}

/* ConvTranspose: NCHW with symmetric pads straight into Y; NHWC with
 * asymmetric pads and output_padding through a full-size scratch tensor
 * cropped into Y. */
static void test_conv_transpose(void)
{
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        dt_graph *g = dt_graph_create();
        int64_t xd[4] = {2, 4, 5, 6}, xdh[4] = {2, 5, 6, 4}, wd[4] = {4, 3, 3, 2}, bd[1] = {6};
        float *w = rand_floats(4 * 3 * 6, 30, -1, 1), *b = rand_floats(6, 31, -1, 1), *x = rand_floats(240, 32, -1, 1);
        int xv = val(g, "x", DT_F32, 4, nhwc ? xdh : xd), wv = cst(g, "w", DT_F32, 4, wd, w);
        int bv = cst(g, "b", DT_F32, 1, bd, b), yv = val(g, "y", DT_F32, -1, NULL);
        int in[3] = {xv, wv, bv};
        int n = node(g, DT_OP_ConvTranspose, "up", 3, in, 1, &yv);
        dt_status st;
        int64_t s2[2] = {2, 2};
        dt_node_set_int(g, n, "group", 2, &st);
        dt_node_set_ints(g, n, "strides", s2, 2, &st);
        if (nhwc) {
            int64_t pads[4] = {0, 1, 1, 0}, op[2] = {1, 0};
            dt_node_set_ints(g, n, "pads", pads, 4, &st);
            dt_node_set_ints(g, n, "output_padding", op, 2, &st);
            dt_node_set_string(g, n, "layout", "NHWC", &st);
        } else {
            int64_t pads[4] = {1, 1, 1, 1};
            dt_node_set_ints(g, n, "pads", pads, 4, &st);
        }
        dt_graph_mark_input(g, xv, &st);
        dt_graph_mark_output(g, yv, &st);
        dt_tensor t = {DT_F32, 4, {2, 4, 5, 6}, x};
        if (nhwc)
            memcpy(t.dims, xdh, sizeof xdh);
        tcase tc;
        run_graph(g, 1, &t, 0, NULL, &tc);
        CHECK(tc.rc == DT_OK && tc.compared && tc.ok);
        const dt_cu_step *s = find_kind(&tc.plan, DT_CU_CONVT);
        CHECK(s != NULL && !strcmp(dt_cu_plan_kernel(&tc.plan, 0), "cudnn_conv_transpose"));
        if (s) {
            dt_cu_conv_desc d;
            dt_cu_conv_desc_get(&s->u.cv, &d);
            /* backward data: dy = the op's input [N, 4, H, W], filter [4, 3, 3, 2], 2 groups */
            CHECK(d.y_dims[1] == 4 && d.x_dims[1] == 6 && d.w_dims[0] == 4 && d.w_dims[1] == 3 && d.group == 2);
            CHECK(d.w_nhwc == nhwc && d.str[0] == 2);
            if (nhwc) /* full size (5-1)*2+1+3 = 12, 10+1 = 11: cropped by a pad step */
                CHECK(d.x_dims[2] == 12 && d.x_dims[3] == 12 && d.pad[0] == 0 && count_kind(&tc.plan, DT_CU_PAD) == 1 &&
                      s->op[3].space == DT_CU_SP_SCR);
            else
                CHECK(d.x_dims[2] == 9 && d.x_dims[3] == 10 && d.pad[0] == 1 && count_kind(&tc.plan, DT_CU_PAD) == 0);
        }
        CHECK(count_kind(&tc.plan, DT_CU_CHAN) == 1);
        tcase_clear(&tc);
        dt_graph_free(g);
        free(w);
        free(b);
        free(x);
    }
}

static void test_gemm_args(void)
{
    dt_status st;
    dt_cu_gemm g;
    memset(&g, 0, sizeof g);
    g.M = 2;
    g.K = 3;
    g.N = 4;
    g.batch = 1;
    dt_cu_blas_args a;
    CHECK(dt_cu_gemm_blas_args(&g, &a, &st) == DT_OK);
    CHECK(a.m == 4 && a.n == 2 && a.k == 3 && a.ld_first == 4 && a.ld_second == 3 && a.ldc == 4);
    CHECK(a.trans_first == 0 && a.trans_second == 0);
    g.ta = g.tb = 1;
    CHECK(dt_cu_gemm_blas_args(&g, &a, &st) == DT_OK);
    CHECK(a.trans_first == 1 && a.trans_second == 1 && a.ld_first == 3 && a.ld_second == 2);
    g.M = (int64_t)1 << 32;
    CHECK(dt_cu_gemm_blas_args(&g, &a, &st) == DT_EUNSUPPORTED);
}

/* Gemm with transposes, alpha / beta, a row-broadcast C and an activation. */
static void test_gemm(void)
{
    dt_graph *g = dt_graph_create();
    int64_t ad[2] = {5, 3}, bd[2] = {4, 5}, cd[1] = {4};
    float *bw = rand_floats(20, 9, -1, 1), *cw = rand_floats(4, 10, -1, 1), *x = rand_floats(15, 11, -1, 1);
    int av = val(g, "a", DT_F32, 2, ad), bv = cst(g, "b", DT_F32, 2, bd, bw), cv = cst(g, "c", DT_F32, 1, cd, cw);
    int yv = val(g, "y", DT_F32, -1, NULL);
    int in[3] = {av, bv, cv};
    int n = node(g, DT_OP_Gemm, "gemm", 3, in, 1, &yv);
    dt_status st;
    dt_node_set_int(g, n, "transA", 1, &st);
    dt_node_set_int(g, n, "transB", 1, &st);
    dt_node_set_float(g, n, "alpha", 0.5f, &st);
    dt_node_set_float(g, n, "beta", 2.f, &st);
    dt_node_set_string(g, n, "activation", "Sigmoid", &st);
    dt_graph_mark_input(g, av, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_tensor t = {DT_F32, 2, {5, 3}, x};
    tcase tc;
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.ok);
    CHECK(tc.plan.n_steps == 3 && tc.plan.steps[0].kind == DT_CU_COPY && tc.plan.steps[1].kind == DT_CU_GEMM &&
          tc.plan.steps[2].kind == DT_CU_UNARY && tc.plan.steps[2].u.u.op == DT_CU_U_ACT);
    CHECK(tc.plan.n_steps == 3 && tc.plan.steps[1].u.gm.beta == 2.f && tc.plan.steps[1].u.gm.alpha == 0.5f);
    tcase_clear(&tc);
    dt_graph_free(g);
    free(bw);
    free(cw);
    free(x);
}

/* MatMul batch broadcasting: [2,1,3,4] x [3,4,5] cannot be one strided
 * batch (A repeats over the inner batch dim): 2 groups of 3. */
static void test_matmul_broadcast(void)
{
    dt_graph *g = dt_graph_create();
    int64_t ad[4] = {2, 1, 3, 4}, bd[3] = {3, 4, 5};
    float *a = rand_floats(24, 12, -1, 1), *b = rand_floats(60, 13, -1, 1);
    int av = val(g, "a", DT_F32, 4, ad), bv = val(g, "b", DT_F32, 3, bd), yv = val(g, "y", DT_F32, -1, NULL);
    int in[2] = {av, bv};
    node(g, DT_OP_MatMul, "mm", 2, in, 1, &yv);
    dt_status st;
    dt_graph_mark_input(g, av, &st);
    dt_graph_mark_input(g, bv, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_tensor t[2] = {{DT_F32, 4, {2, 1, 3, 4}, a}, {DT_F32, 3, {3, 4, 5}, b}};
    tcase tc;
    run_graph(g, 2, t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.ok);
    const dt_cu_step *s = find_kind(&tc.plan, DT_CU_GEMM);
    CHECK(s && s->u.gm.batch == 3 && s->u.gm.n_outer == 2 && s->u.gm.sa == 0 && s->u.gm.sb == 20 &&
          s->u.gm.oa[1] == 12 && s->u.gm.ob[1] == 0 && s->u.gm.oy[1] == 45);
    tcase_clear(&tc);
    dt_graph_free(g);
    /* 1-D x 3-D: one strided batch with A broadcast */
    g = dt_graph_create();
    int64_t a1[1] = {4};
    av = val(g, "a", DT_F32, 1, a1);
    bv = val(g, "b", DT_F32, 3, bd);
    yv = val(g, "y", DT_F32, -1, NULL);
    int in2[2] = {av, bv};
    node(g, DT_OP_MatMul, "mm", 2, in2, 1, &yv);
    dt_graph_mark_input(g, av, &st);
    dt_graph_mark_input(g, bv, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_tensor t2[2] = {{DT_F32, 1, {4}, a}, {DT_F32, 3, {3, 4, 5}, b}};
    run_graph(g, 2, t2, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.ok);
    s = find_kind(&tc.plan, DT_CU_GEMM);
    CHECK(s && s->u.gm.M == 1 && s->u.gm.batch == 3 && s->u.gm.n_outer == 1 && s->u.gm.sa == 0);
    tcase_clear(&tc);
    dt_graph_free(g);
    free(a);
    free(b);
}

/* Broadcast collapsing: [2,3,4,5] + [3,1,1] keeps 3 dims. */
static void test_broadcast(void)
{
    dt_graph *g = dt_graph_create();
    int64_t ad[4] = {2, 3, 4, 5}, bd[3] = {3, 1, 1};
    float *a = rand_floats(120, 14, -1, 1), *b = rand_floats(3, 15, -1, 1);
    int av = val(g, "a", DT_F32, 4, ad), bv = cst(g, "b", DT_F32, 3, bd, b), yv = val(g, "y", DT_F32, -1, NULL);
    int zv = val(g, "z", DT_BOOL, -1, NULL);
    int in[2] = {av, bv};
    node(g, DT_OP_Sub, "sub", 2, in, 1, &yv);
    int in2[2] = {yv, av};
    node(g, DT_OP_Greater, "gt", 2, in2, 1, &zv);
    dt_status st;
    dt_graph_mark_input(g, av, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_graph_mark_output(g, zv, &st);
    dt_tensor t = {DT_F32, 4, {2, 3, 4, 5}, a};
    tcase tc;
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.ok && tc.plan.n_steps == 2);
    const dt_cu_bcast *bc = &tc.plan.steps[0].u.b.bc;
    CHECK(bc->nd == 3 && bc->dims[0] == 2 && bc->dims[1] == 3 && bc->dims[2] == 20);
    CHECK(bc->str[0][0] == 60 && bc->str[0][1] == 20 && bc->str[0][2] == 1);
    CHECK(bc->str[1][0] == 0 && bc->str[1][1] == 1 && bc->str[1][2] == 0);
    const dt_cu_bcast *bc2 = &tc.plan.steps[1].u.b.bc; /* same shapes: one flat dim */
    CHECK(bc2->nd == 1 && bc2->dims[0] == 120 && bc2->str[0][0] == 1 && bc2->str[1][0] == 1);
    int64_t off[3];
    dt_cu_bcast_offsets(bc, 2 * 20 + 7, off); /* (0, 2, 7) */
    CHECK(off[0] == 47 && off[1] == 2);
    tcase_clear(&tc);
    dt_graph_free(g);
    free(a);
    free(b);
}

static void test_topk_plan(void)
{
    dt_status st;
    dt_cu_topk p;
    size_t scr;
    memset(&p, 0, sizeof p);
    CHECK(dt_cu_topk_plan(1, 128 * 128 * 80, 100, &p, &scr, &st) == DT_OK); /* centernet's heatmap */
    CHECK(p.n_pass == 5);
    CHECK(p.groups[0] == 1280 && p.count[1] == 128000 && p.groups[1] == 125 && p.count[2] == 12500);
    CHECK(p.groups[4] == 1 && p.count[5] == 100 && p.buf_elems == 128000);
    CHECK(scr == 2 * dt_cu_topk_buf_bytes(&p));
    CHECK(dt_cu_topk_plan(4, 500, 20, &p, &scr, &st) == DT_OK && p.n_pass == 1 && scr == 0);
    CHECK(dt_cu_topk_plan(1, 500, 300, &p, &scr, &st) == DT_EUNSUPPORTED); /* k over the block limit */
    CHECK(dt_cu_topk_plan(1, 50, 60, &p, &scr, &st) == DT_EUNSUPPORTED);
}

/* TopK through several passes, both orders, ties and NaN, middle axis. */
static void test_topk(void)
{
    for (int largest = 0; largest < 2; largest++) {
        dt_graph *g = dt_graph_create();
        int64_t xd[3] = {2, 5000, 3}, kd[1] = {1}, k[1] = {37};
        float *x = rand_floats(2 * 5000 * 3, 16 + largest, -1, 1);
        for (int i = 0; i < 2 * 5000 * 3; i += 7)
            x[i] = 0.5f; /* ties */
        x[100] = NAN;
        int xv = val(g, "x", DT_F32, 3, xd), kv = cst(g, "k", DT_I64, 1, kd, k);
        int outs[2] = {val(g, "v", DT_F32, -1, NULL), val(g, "i", DT_I64, -1, NULL)};
        int in[2] = {xv, kv};
        int n = node(g, DT_OP_TopK, "topk", 2, in, 2, outs);
        dt_status st;
        dt_node_set_int(g, n, "axis", 1, &st);
        dt_node_set_int(g, n, "largest", largest, &st);
        dt_graph_mark_input(g, xv, &st);
        dt_graph_mark_output(g, outs[0], &st);
        dt_graph_mark_output(g, outs[1], &st);
        dt_tensor t = {DT_F32, 3, {2, 5000, 3}, x};
        tcase tc;
        run_graph(g, 1, &t, 0, NULL, &tc);
        CHECK(tc.rc == DT_OK && tc.ok);
        const dt_cu_step *s = find_kind(&tc.plan, DT_CU_TOPK);
        CHECK(s && s->u.tk.n_pass == 2 && s->u.tk.lines == 6 && s->u.tk.inner == 3);
        tcase_clear(&tc);
        dt_graph_free(g);
        free(x);
    }
}

/* A chain of data-movement ops: Transpose, Slice with a negative step,
 * Concat with a constant, Reshape (aliased: no step), Gather, Pad. */
static void test_data_movement(void)
{
    dt_graph *g = dt_graph_create();
    dt_status st;
    int64_t xd[3] = {2, 3, 4};
    float *x = rand_floats(24, 20, -1, 1), c[2 * 4 * 1] = {1, 2, 3, 4, 5, 6, 7, 8};
    int xv = val(g, "x", DT_F32, 3, xd);
    int tv = val(g, "t", DT_F32, -1, NULL), sv = val(g, "s", DT_F32, -1, NULL), cv = val(g, "c", DT_F32, -1, NULL);
    int rv = val(g, "r", DT_F32, -1, NULL), gv = val(g, "g", DT_F32, -1, NULL), pv = val(g, "p", DT_F32, -1, NULL);
    int n = node(g, DT_OP_Transpose, "tr", 1, &xv, 1, &tv);
    int64_t perm[3] = {0, 2, 1};
    dt_node_set_ints(g, n, "perm", perm, 3, &st);
    int64_t one[1] = {1}, st_[1] = {2}, en[1] = {-100}, ax[1] = {2}, sp[1] = {-1};
    int sl_in[5] = {tv, cst(g, "st", DT_I64, 1, one, st_), cst(g, "en", DT_I64, 1, one, en),
                    cst(g, "ax", DT_I64, 1, one, ax), cst(g, "sp", DT_I64, 1, one, sp)};
    node(g, DT_OP_Slice, "sl", 5, sl_in, 1, &sv); /* [2,4,3] */
    int64_t cd[3] = {2, 4, 1};
    int cc_in[2] = {sv, cst(g, "cc", DT_F32, 3, cd, c)};
    n = node(g, DT_OP_Concat, "cat", 2, cc_in, 1, &cv); /* [2,4,4] */
    dt_node_set_int(g, n, "axis", 2, &st);
    int64_t shp[1] = {-1}, two[1] = {1};
    int rs_in[2] = {cv, cst(g, "shape", DT_I64, 1, two, shp)};
    node(g, DT_OP_Reshape, "rs", 2, rs_in, 1, &rv); /* [32] */
    int64_t idx[4] = {31, -1, 0, 5}, id[1] = {4};
    int ga_in[2] = {rv, cst(g, "idx", DT_I64, 1, id, idx)};
    node(g, DT_OP_Gather, "ga", 2, ga_in, 1, &gv);
    int64_t pads[2] = {2, 3};
    int64_t pd[1] = {2};
    int pa_in[2] = {gv, cst(g, "pads", DT_I64, 1, pd, pads)};
    n = node(g, DT_OP_Pad, "pad", 2, pa_in, 1, &pv);
    dt_node_set_string(g, n, "mode", "reflect", &st);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, cv, &st);
    dt_graph_mark_output(g, pv, &st);
    dt_tensor t = {DT_F32, 3, {2, 3, 4}, x};
    tcase tc;
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.ok);
    CHECK(count_kind(&tc.plan, DT_CU_COPY) == 4); /* transpose, slice, concat x2 */
    CHECK(count_kind(&tc.plan, DT_CU_GATHER) == 1 && count_kind(&tc.plan, DT_CU_PAD) == 1);
    CHECK(dt_cu_plan_kernel(&tc.plan, 3) == NULL || count_kind(&tc.plan, DT_CU_MEMCPY) == 1);
    tcase_clear(&tc);
    dt_graph_free(g);
    free(x);
}

/* Ops the backend lacks make the build decline, saying which node. */
static void test_fallback_decisions(void)
{
    dt_status st;
    /* ScatterND */
    dt_graph *g = dt_graph_create();
    int64_t dd[2] = {4, 4}, idd[2] = {2, 1}, ud[2] = {2, 4}, ids[2] = {1, 3};
    float upd[8] = {1, 2, 3, 4, 5, 6, 7, 8}, data[16] = {0};
    int dv = val(g, "data", DT_F32, 2, dd), yv = val(g, "y", DT_F32, -1, NULL);
    int in[3] = {dv, cst(g, "idx", DT_I64, 2, idd, ids), cst(g, "upd", DT_F32, 2, ud, upd)};
    node(g, DT_OP_ScatterND, "scatter", 3, in, 1, &yv);
    dt_graph_mark_input(g, dv, &st);
    dt_graph_mark_output(g, yv, &st);
    dt_tensor td = {DT_F32, 2, {4, 4}, data};
    tcase tc;
    run_graph(g, 1, &td, 0, NULL, &tc);
    CHECK(tc.rc == DT_EUNSUPPORTED && strstr(tc.why, "scatter") && strstr(tc.why, "ScatterND"));
    CHECK(tc.plan.steps == NULL && tc.plan.n_steps == 0); /* cleared */
    tcase_clear(&tc);
    dt_graph_free(g);
    int64_t xd[4] = {1, 2, 4, 4};
    float x[32] = {0};
    dt_tensor t = {DT_F32, 4, {1, 2, 4, 4}, x};
    int xv;
    /* MaxPool whose Indices output is used */
    g = dt_graph_create();
    xv = val(g, "x", DT_F32, 4, xd);
    int outs[2] = {val(g, "y", DT_F32, -1, NULL), val(g, "i", DT_I64, -1, NULL)};
    int n = node(g, DT_OP_MaxPool, "mp", 1, &xv, 2, outs);
    int64_t k[2] = {2, 2};
    dt_node_set_ints(g, n, "kernel_shape", k, 2, &st);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, outs[0], &st);
    dt_graph_mark_output(g, outs[1], &st);
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_EUNSUPPORTED && strstr(tc.why, "Indices"));
    tcase_clear(&tc);
    dt_graph_free(g);
    /* ... but the same pool with only Y used runs */
    g = dt_graph_create();
    xv = val(g, "x", DT_F32, 4, xd);
    int outs2[2] = {val(g, "y", DT_F32, -1, NULL), val(g, "i", DT_I64, -1, NULL)};
    n = node(g, DT_OP_MaxPool, "mp", 1, &xv, 2, outs2);
    dt_node_set_ints(g, n, "kernel_shape", k, 2, &st);
    dt_node_set_int(g, n, "ceil_mode", 1, &st);
    int64_t s3[2] = {3, 3};
    dt_node_set_ints(g, n, "strides", s3, 2, &st);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, outs2[0], &st);
    for (int i = 0; i < 32; i++)
        x[i] = (float)((i * 7) % 11);
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_OK && tc.ok && count_kind(&tc.plan, DT_CU_POOL) == 1);
    tcase_clear(&tc);
    dt_graph_free(g);
    /* Cast to float16 (rounding through half precision) */
    g = dt_graph_create();
    xv = val(g, "x", DT_F32, 4, xd);
    yv = val(g, "y", DT_F32, -1, NULL);
    n = node(g, DT_OP_Cast, "to_half", 1, &xv, 1, &yv);
    dt_node_set_int(g, n, "to", 10, &st);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, yv, &st);
    run_graph(g, 1, &t, 0, NULL, &tc);
    CHECK(tc.rc == DT_EUNSUPPORTED && strstr(tc.why, "float16"));
    tcase_clear(&tc);
    dt_graph_free(g);
}

/* Allocation failures anywhere in the translation give DT_ENOMEM, not a
 * crash, and leave the plan cleared. */
static void test_alloc_failures(void)
{
    dt_status st;
    dt_graph *g = dt_graph_create();
    int64_t xd[4] = {1, 6, 6, 4}, wd[4] = {4, 1, 3, 3}, bd[1] = {4}, sd[4] = {1, 1, 1, 4};
    float w[36], b[4], s[4] = {1, 2, 3, 4};
    for (int i = 0; i < 36; i++)
        w[i] = (float)i / 36.f;
    for (int i = 0; i < 4; i++)
        b[i] = (float)i;
    int xv = val(g, "x", DT_F32, 4, xd), wv = cst(g, "w", DT_F32, 4, wd, w), bv = cst(g, "b", DT_F32, 1, bd, b);
    int yv = val(g, "y", DT_F32, -1, NULL), zv = val(g, "z", DT_F32, -1, NULL);
    int in[3] = {xv, wv, bv};
    int n = node(g, DT_OP_Conv, "conv", 3, in, 1, &yv);
    int64_t pads[4] = {0, 0, 1, 1};
    dt_node_set_ints(g, n, "pads", pads, 4, &st);
    dt_node_set_int(g, n, "group", 4, &st);
    dt_node_set_string(g, n, "layout", "NHWC", &st);
    int in2[2] = {yv, cst(g, "s", DT_F32, 4, sd, s)};
    node(g, DT_OP_Mul, "mul", 2, in2, 1, &zv);
    dt_graph_mark_input(g, xv, &st);
    dt_graph_mark_output(g, zv, &st);
    dt_tensor t = {DT_F32, 4, {1, 6, 6, 4}, NULL};
    size_t ab, so, sb;
    CHECK(dt_pass_specialize(g, 1, &t, &st) == DT_OK);
    CHECK(dt_pass_plan(g, &ab, &so, &sb, &st) == DT_OK);
    int saw_ok = 0;
    for (long k = 0; k < 64 && !saw_ok; k++) {
        dt_cu_wpack *wp = NULL;
        dt_cu_plan p;
        dt_alloc_fail_after(k);
        dt_code rc = dt_cu_wpack_create(&wp, &st);
        if (rc == DT_OK)
            rc = dt_cu_plan_build(g, ab, NULL, wp, &p, NULL, 0, &st);
        dt_alloc_fail_reset();
        CHECK(rc == DT_OK || rc == DT_ENOMEM);
        if (rc == DT_OK) {
            saw_ok = 1;
            CHECK(p.n_steps == 4); /* pad, conv, bias epilogue, mul */
            dt_cu_plan_clear(&p);
        }
        dt_cu_wpack_free(wp);
    }
    CHECK(saw_ok);
    dt_graph_free(g);
}

/* The engine hook: device option parsing and, without a GPU, a clear error. */
static void test_engine_hook(void)
{
    char why[256] = "";
    int n = dt_cuda_available(why, sizeof why);
    if (!dt_cuda_built())
        CHECK(n == 0 && strstr(why, "no CUDA backend"));
    if (n == 0)
        CHECK(why[0] != '\0');
    dt_status st;
    dt_cuda_stats cs;
    if (n == 0)
        CHECK(dt_cuda_device_stats(0, &cs, &st) == DT_EUNSUPPORTED);
    const char *path = "models/nanodet/nanodet.json";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "  (no %s: engine hook checks skipped)\n", path);
        return;
    }
    fclose(f);
    dt_model *m = NULL;
    CHECK(dt_model_load(path, DT_FORMAT_AUTO, &m, &st) == DT_OK);
    if (!m)
        return;
    dt_session_opts o;
    memset(&o, 0, sizeof o);
    o.threads = 1;
    o.device = "tpu:0";
    dt_session *s = NULL;
    CHECK(dt_session_create(m, &o, &s, &st) == DT_EINVAL && !s);
    o.device = "cpu";
    CHECK(dt_session_create(m, &o, &s, &st) == DT_OK && s && !strcmp(dt_session_device(s), "cpu"));
    dt_session_free(s);
    s = NULL;
    o.device = "cuda:0";
    dt_code rc = dt_session_create(m, &o, &s, &st);
    if (n == 0) {
        CHECK(rc == DT_EUNSUPPORTED && !s);
        fprintf(stderr, "  cuda:0 without a GPU: %s\n", st.msg);
    } else {
        CHECK(rc == DT_OK && s && !strcmp(dt_session_device(s), "cuda:0"));
    }
    dt_session_free(s);
    dt_model_free(m);
}

int main(void)
{
    RUN(test_parse_device);
    RUN(test_wpack);
    RUN(test_layouts);
    RUN(test_conv_nchw_fused);
    RUN(test_conv_nhwc_depthwise_asym);
    RUN(test_conv_1d);
    RUN(test_conv_transpose);
    RUN(test_gemm_args);
    RUN(test_gemm);
    RUN(test_matmul_broadcast);
    RUN(test_broadcast);
    RUN(test_topk_plan);
    RUN(test_topk);
    RUN(test_data_movement);
    RUN(test_fallback_decisions);
    RUN(test_alloc_failures);
    RUN(test_engine_hook);
    return tl_summary();
}
