/* test_faults.c — allocation-failure sweeps across the engine and the
 * pipeline (issue 9): for k = 0, 1, 2, ... the k-th dt_malloc/dt_calloc/
 * dt_realloc/dt_aligned_alloc fails (dt_alloc_fail_after), and the
 * operation must come back with an error and a message — never crash,
 * never half-succeed — and must leak nothing.  If it succeeds anyway (the
 * failed allocation was optional) its results must equal the unfaulted run.
 *
 * Operations: loading an ONNX model from memory (built here with
 * protobuf-c), loading it from a file + creating a session (2 batch sizes,
 * weight packing, planning) + running it; decoding images of every format
 * (JPEG baseline/progressive/CMYK/EXIF-rotated, PNG 8/16-bit/palette, WebP
 * lossy/lossless, BMP); and, when models/nanodet is present, the whole
 * pipeline: dt_detector_load, dt_detect_ctx_create, dt_detect_bytes.
 *
 * Leaks: without a sanitizer the live heap is compared (mallinfo2, with
 * glibc's tcache off) before and after every faulted call; under ASan (make san, test_sanitizers.sh)
 * LeakSanitizer checks at exit.  Long sweeps are strided: FAULT_FULL=1
 * runs every k.  An injected allocation failure must come back as DT_ENOMEM
 * (out of memory: 503 for a client), never as a corrupt input (400) or any
 * other kind; FAULT_STRICT_CODES=0 only lists such errors as notes. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>

#include "base/alloc.h"
#include "engine/engine.h"
#include "engine/loaders/loaders.h"
#include "onnx.pb-c.h"
#include "testlib.h"
#include "vision/detector.h"
#include "vision/image.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* ---- sweep bookkeeping ----------------------------------------------------------- */

typedef struct sweep {
    const char *what;
    long total;     /* allocations of an unfaulted run */
    long points;    /* fail points tried */
    long errors;    /* ... that returned an error (the expected outcome) */
    long absorbed;  /* ... that succeeded anyway, with correct results */
    long not_nomem; /* errors whose code was not DT_ENOMEM */
    long leaks;
} sweep;

static size_t heap_live(void)
{
    if (UNDER_ASAN)
        return 0;
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
}

/* The k values to try: all of them for short sweeps (or FAULT_FULL=1), else
 * the first 300 and then ~300 more spread evenly to the end. */
static long next_k(long k, long total)
{
    static int full = -1;
    if (full < 0)
        full = getenv("FAULT_FULL") && atoi(getenv("FAULT_FULL")) > 0;
    if (full || total <= 600 || k < 300)
        return k + 1;
    long step = (total - 300) / 300;
    return k + (step > 1 ? step : 1);
}

static void sweep_note(sweep *s, long k, dt_code rc, const dt_status *st, size_t before, size_t after)
{
    s->points++;
    if (rc == DT_OK) {
        s->absorbed++;
    } else {
        s->errors++;
        CHECKF(st->msg[0] != '\0', "%s: fail point %ld: error %s without a message", s->what, k, dt_code_name(rc));
        if (rc != DT_ENOMEM) {
            static int strict = -1;
            if (strict < 0)
                strict = !getenv("FAULT_STRICT_CODES") || atoi(getenv("FAULT_STRICT_CODES")) > 0;
            CHECKF(!strict, "%s: fail point %ld: %s instead of out_of_memory", s->what, k, dt_code_name(rc));
            if (s->not_nomem < 3)
                fprintf(stderr, "  note: %s: fail point %ld gives %s, not out_of_memory: %s\n", s->what, k,
                        dt_code_name(rc), st->msg);
            s->not_nomem++;
        }
    }
    if (after > before) {
        s->leaks++;
        CHECKF(after <= before, "%s: fail point %ld (%s) leaks %zu bytes", s->what, k, dt_code_name(rc),
               after - before);
    }
}

static void sweep_report(const sweep *s)
{
    fprintf(stderr, "  %-28s %6ld allocations, %5ld fail points: %5ld errors, %3ld absorbed, %3ld not ENOMEM, %ld leaks\n",
            s->what, s->total, s->points, s->errors, s->absorbed, s->not_nomem, s->leaks);
    CHECKF(s->points > 0 && s->errors > 0, "%s: the sweep tried nothing", s->what);
}

/* ---- a small ONNX model, built with protobuf-c -------------------------------------
 * x[N,3,8,8] -> Conv 3x3 (4 ch, bias) -> Relu -> MaxPool 2x2 -> Add const ->
 * Conv 1x1 (8 ch) -> Sigmoid -> Mul (x*sigmoid(x): SiLU fusion) ->
 * GlobalAveragePool -> Flatten -> Gemm (8->5) -> Softmax = y[N,5];
 * plus a Transpose/Concat/Conv/Reshape branch to a second output z[N,2,16]. */

#define PUSH(arr, n, item)                                                      \
    do {                                                                        \
        (arr) = realloc((arr), ((n) + 1) * sizeof *(arr));                      \
        (arr)[(n)++] = (item);                                                  \
    } while (0)

static char *xs(const char *s) { return strdup(s); }

static Onnx__ValueInfoProto *vi(const char *name, int ndim, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = calloc(1, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = xs(name);
    v->type = calloc(1, sizeof *v->type);
    onnx__type_proto__init(v->type);
    v->type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    v->type->tensor_type = calloc(1, sizeof *v->type->tensor_type);
    onnx__type_proto__tensor__init(v->type->tensor_type);
    v->type->tensor_type->has_elem_type = 1;
    v->type->tensor_type->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    Onnx__TensorShapeProto *sh = calloc(1, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i < ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = calloc(1, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] < 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = xs("N");
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        }
        PUSH(sh->dim, sh->n_dim, d);
    }
    v->type->tensor_type->shape = sh;
    return v;
}

static void init_tensor(Onnx__ModelProto *m, const char *name, int elem, int ndim, const int64_t *dims,
                        const void *data, size_t len)
{
    Onnx__TensorProto *t = calloc(1, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = xs(name);
    t->has_data_type = 1;
    t->data_type = elem;
    t->n_dims = (size_t)ndim;
    t->dims = calloc((size_t)ndim + 1, sizeof(int64_t));
    memcpy(t->dims, dims, sizeof(int64_t) * (size_t)ndim);
    t->has_raw_data = 1;
    t->raw_data.len = len;
    t->raw_data.data = malloc(len);
    memcpy(t->raw_data.data, data, len);
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
}

static void init_f32(Onnx__ModelProto *m, const char *name, int ndim, const int64_t *dims, unsigned seed)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    float *v = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        v[i] = tl_randf(&seed, -0.5f, 0.5f);
    init_tensor(m, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, ndim, dims, v, sizeof(float) * (size_t)n);
    free(v);
}

static Onnx__NodeProto *node(Onnx__ModelProto *m, const char *op, const char *in0, const char *in1,
                             const char *in2, const char *out)
{
    Onnx__NodeProto *n = calloc(1, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = xs(op);
    n->name = xs(out);
    const char *ins[3] = {in0, in1, in2};
    for (int i = 0; i < 3; i++)
        if (ins[i])
            PUSH(n->input, n->n_input, xs(ins[i]));
    PUSH(n->output, n->n_output, xs(out));
    PUSH(m->graph->node, m->graph->n_node, n);
    return n;
}

static void attr_ints(Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v)
{
    Onnx__AttributeProto *a = calloc(1, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = xs(name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = (size_t)cnt;
    a->ints = malloc(sizeof(int64_t) * (size_t)cnt);
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)cnt);
    PUSH(n->attribute, n->n_attribute, a);
}

static void attr_int(Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = calloc(1, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = xs(name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    PUSH(n->attribute, n->n_attribute, a);
}

static uint8_t *build_model(size_t *len)
{
    Onnx__ModelProto *m = calloc(1, sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->producer_name = xs("test_faults");
    m->graph = calloc(1, sizeof *m->graph);
    onnx__graph_proto__init(m->graph);
    m->graph->name = xs("faults");
    Onnx__OperatorSetIdProto *os = calloc(1, sizeof *os);
    onnx__operator_set_id_proto__init(os);
    os->domain = xs("");
    os->has_version = 1;
    os->version = 13;
    PUSH(m->opset_import, m->n_opset_import, os);

    int64_t xd[4] = {-1, 3, 8, 8}, yd[2] = {-1, 5}, zd[3] = {-1, 2, 16};
    PUSH(m->graph->input, m->graph->n_input, vi("x", 4, xd));
    PUSH(m->graph->output, m->graph->n_output, vi("y", 2, yd));
    PUSH(m->graph->output, m->graph->n_output, vi("z", 3, zd));

    int64_t w1[4] = {4, 3, 3, 3}, b1[1] = {4}, w2[4] = {8, 4, 1, 1}, c4[4] = {1, 4, 1, 1}, wg[2] = {5, 8},
            bg[1] = {5};
    init_f32(m, "w1", 4, w1, 1);
    init_f32(m, "b1", 1, b1, 2);
    init_f32(m, "w2", 4, w2, 3);
    init_f32(m, "c4", 4, c4, 4);
    init_f32(m, "wg", 2, wg, 5);
    init_f32(m, "bg", 1, bg, 6);
    int64_t shape_d[1] = {3}, shape_v[3] = {0, 2, 16};
    init_tensor(m, "zshape", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, shape_d, shape_v, sizeof shape_v);

    int64_t pads1[4] = {1, 1, 1, 1}, k2[2] = {2, 2}, perm[4] = {0, 1, 3, 2};
    Onnx__NodeProto *n = node(m, "Conv", "x", "w1", "b1", "c1");
    attr_ints(n, "pads", 4, pads1);
    node(m, "Relu", "c1", NULL, NULL, "r1");
    n = node(m, "MaxPool", "r1", NULL, NULL, "p1");
    attr_ints(n, "kernel_shape", 2, k2);
    attr_ints(n, "strides", 2, k2);
    node(m, "Add", "p1", "c4", NULL, "a1");
    node(m, "Conv", "a1", "w2", NULL, "c2");
    node(m, "Sigmoid", "c2", NULL, NULL, "s2");
    node(m, "Mul", "c2", "s2", NULL, "silu");
    node(m, "GlobalAveragePool", "silu", NULL, NULL, "gap");
    node(m, "Flatten", "gap", NULL, NULL, "flat");
    n = node(m, "Gemm", "flat", "wg", "bg", "g");
    attr_int(n, "transB", 1);
    node(m, "Softmax", "g", NULL, NULL, "y");
    /* z: a1 [N,4,4,4] -> Transpose -> Concat [N,8,4,4] -> MaxPool 1x1 ->
     * Conv 1x1 (2 ch) -> Reshape [N,2,16] */
    n = node(m, "Transpose", "a1", NULL, NULL, "t1");
    attr_ints(n, "perm", 4, perm);
    n = node(m, "Concat", "t1", "t1", NULL, "cat");
    attr_int(n, "axis", 1);
    int64_t w3[4] = {2, 8, 1, 1};
    init_f32(m, "w3", 4, w3, 7);
    n = node(m, "MaxPool", "cat", NULL, NULL, "cp");
    int64_t k1[2] = {1, 1};
    attr_ints(n, "kernel_shape", 2, k1);
    node(m, "Conv", "cp", "w3", NULL, "c3");
    node(m, "Reshape", "c3", "zshape", NULL, "z");

    *len = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(*len);
    onnx__model_proto__pack(m, buf);
    onnx__model_proto__free_unpacked(m, NULL); /* every field was malloc'ed */
    return buf;
}

/* ---- 1. ONNX load from memory ------------------------------------------------------- */

static uint8_t *g_model;
static size_t g_model_len;
static char g_model_path[256];

static void test_onnx_load(void)
{
    sweep s = {.what = "onnx load (memory)"};
    dt_status st;
    dt_graph *g = NULL;
    dt_alloc_fail_after(-1);
    dt_code rc = dt_load_onnx_buffer(g_model, g_model_len, NULL, &g, &st);
    s.total = dt_alloc_count();
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK)
        return;
    int nodes = g->n_nodes;
    dt_graph_free(g);
    for (long k = 0; k < s.total; k = next_k(k, s.total)) {
        size_t before = heap_live();
        g = (dt_graph *)1;
        dt_status_clear(&st);
        dt_alloc_fail_after(k);
        rc = dt_load_onnx_buffer(g_model, g_model_len, NULL, &g, &st);
        dt_alloc_fail_reset();
        if (rc == DT_OK) {
            CHECKF(g && g->n_nodes == nodes, "fail point %ld: a different graph", k);
            dt_graph_free(g);
        } else {
            CHECKF(g == NULL, "fail point %ld: *out not NULL after an error", k);
        }
        sweep_note(&s, k, rc, &st, before, heap_live());
    }
    sweep_report(&s);
}

/* ---- 2. model file + session + run ---------------------------------------------------- */

typedef struct run_out {
    float y[2 * 5], z[2 * 32];
} run_out;

static void fill_input(float *x, int n)
{
    unsigned seed = 99;
    for (int i = 0; i < n; i++)
        x[i] = tl_randf(&seed, -1.f, 1.f);
}

/* Load, create a 2-batch session, run batch 2 and batch 1. */
static dt_code model_session_run(run_out *out, dt_status *st)
{
    dt_model *m = NULL;
    dt_session *s = NULL;
    dt_code rc = dt_model_load(g_model_path, DT_FORMAT_ONNX, &m, st);
    if (rc != DT_OK)
        return rc;
    dt_session_opts o = {.threads = 1, .max_batch = 2};
    rc = dt_session_create(m, &o, &s, st);
    if (rc == DT_OK) {
        float x[2 * 3 * 8 * 8];
        fill_input(x, 2 * 3 * 8 * 8);
        dt_tensor in = {.dtype = DT_F32, .ndim = 4, .dims = {2, 3, 8, 8}, .data = x};
        rc = dt_session_run(s, 2, &in, st);
        if (rc == DT_OK) {
            const dt_tensor *y = dt_session_output(s, 0), *z = dt_session_output(s, 1);
            if (dt_tensor_numel(y) != 10 || dt_tensor_numel(z) != 64)
                rc = dt_fail(st, DT_EINTERNAL, "unexpected output sizes");
            else {
                memcpy(out->y, y->data, sizeof out->y);
                memcpy(out->z, z->data, sizeof out->z);
            }
        }
        if (rc == DT_OK) {
            in.dims[0] = 1;
            rc = dt_session_run(s, 1, &in, st);
            const float *y1 = rc == DT_OK ? dt_session_output(s, 0)->data : NULL;
            for (int i = 0; y1 && i < 5; i++)
                if (fabsf(y1[i] - out->y[i]) > 1e-5f)
                    rc = dt_fail(st, DT_EINTERNAL, "batch 1 and batch 2 disagree");
        }
    }
    dt_session_free(s);
    dt_model_free(m);
    return rc;
}

static void test_session(void)
{
    sweep s = {.what = "model file + session + run"};
    dt_status st;
    run_out ref, got;
    dt_alloc_fail_after(-1);
    dt_code rc = model_session_run(&ref, &st);
    s.total = dt_alloc_count();
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK)
        return;
    for (long k = 0; k < s.total; k = next_k(k, s.total)) {
        size_t before = heap_live();
        dt_status_clear(&st);
        dt_alloc_fail_after(k);
        rc = model_session_run(&got, &st);
        dt_alloc_fail_reset();
        if (rc == DT_OK)
            CHECKF(!memcmp(&got, &ref, sizeof ref), "fail point %ld: succeeded with different outputs", k);
        sweep_note(&s, k, rc, &st, before, heap_live());
    }
    sweep_report(&s);
}

/* ---- 3. image decoding ------------------------------------------------------------------ */

typedef struct blob {
    unsigned char *p;
    size_t n;
} blob;

static void pattern(uint8_t *p, int w, int h, int ch)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                p[((size_t)y * w + x) * ch + c] = (uint8_t)(x * 7 + y * 13 + c * 50);
}

static blob make_jpeg(int w, int h, J_COLOR_SPACE cs, int progressive, int orient)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&c, &buf, &len);
    int ch = cs == JCS_CMYK ? 4 : cs == JCS_GRAYSCALE ? 1 : 3;
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = ch;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    if (orient > 1) {
        uint8_t ex[32] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0,
                          (uint8_t)orient, 0, 0, 0, 0, 0, 0, 0};
        jpeg_write_marker(&c, JPEG_APP0 + 1, ex, sizeof ex);
    }
    uint8_t *px = malloc((size_t)w * h * ch);
    pattern(px, w, h, ch);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = px + (size_t)c.next_scanline * w * ch;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(px);
    return (blob){buf, len};
}

static blob make_png(int w, int h, int color, int depth)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ih = {(uint32_t)w, (uint32_t)h, (uint8_t)depth, (uint8_t)color, 0, 0, 0};
    spng_set_ihdr(ctx, &ih);
    int ch = color == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ? 4 : color == SPNG_COLOR_TYPE_TRUECOLOR ? 3 : 1;
    if (color == SPNG_COLOR_TYPE_INDEXED) {
        struct spng_plte pl;
        memset(&pl, 0, sizeof pl);
        pl.n_entries = 256;
        for (int i = 0; i < 256; i++)
            pl.entries[i].red = (uint8_t)i, pl.entries[i].green = (uint8_t)(255 - i), pl.entries[i].blue = 7;
        spng_set_plte(ctx, &pl);
        struct spng_trns t;
        memset(&t, 0, sizeof t);
        t.n_type3_entries = 4;
        spng_set_trns(ctx, &t);
    }
    size_t row = ((size_t)w * ch * depth + 7) / 8, n = row * h;
    uint8_t *img = malloc(n);
    pattern(img, (int)row, h, 1);
    int err = spng_encode_image(ctx, img, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    free(img);
    size_t len = 0;
    void *png = err ? NULL : spng_get_png_buffer(ctx, &len, &err);
    spng_ctx_free(ctx);
    return (blob){png, len};
}

static blob make_webp(int w, int h, int lossless)
{
    uint8_t *rgb = malloc((size_t)w * h * 3), *out = NULL;
    pattern(rgb, w, h, 3);
    size_t n = lossless ? WebPEncodeLosslessRGB(rgb, w, h, w * 3, &out) : WebPEncodeRGB(rgb, w, h, w * 3, 80, &out);
    free(rgb);
    blob b = {malloc(n ? n : 1), n};
    memcpy(b.p, out, n);
    WebPFree(out);
    return b;
}

static blob make_bmp(int w, int h)
{
    size_t stride = ((size_t)w * 3 + 3) & ~(size_t)3, n = 54 + stride * h;
    unsigned char *b = calloc(1, n);
    b[0] = 'B', b[1] = 'M';
    b[10] = 54, b[14] = 40;
    b[18] = (uint8_t)w, b[19] = (uint8_t)(w >> 8);
    b[22] = (uint8_t)h, b[23] = (uint8_t)(h >> 8);
    b[26] = 1, b[28] = 24;
    pattern(b + 54, (int)stride, h, 1);
    return (blob){b, n};
}

static void sweep_decode(const char *what, blob b, const dt_image_hint *hint)
{
    if (!b.p || !b.n) {
        CHECKF(0, "%s: could not build the test image", what);
        return;
    }
    sweep s = {.what = what};
    dt_status st;
    dt_image ref, img;
    dt_alloc_fail_after(-1);
    dt_code rc = dt_image_decode(b.p, b.n, NULL, hint, &ref, NULL, &st);
    s.total = dt_alloc_count();
    CHECKF(rc == DT_OK, "%s: %s", what, st.msg);
    if (rc != DT_OK)
        return;
    for (long k = 0; k < s.total; k = next_k(k, s.total)) {
        size_t before = heap_live();
        dt_status_clear(&st);
        dt_alloc_fail_after(k);
        rc = dt_image_decode(b.p, b.n, NULL, hint, &img, NULL, &st);
        dt_alloc_fail_reset();
        if (rc == DT_OK) {
            CHECKF(img.width == ref.width && img.height == ref.height &&
                       !memcmp(img.rgb, ref.rgb, (size_t)img.width * img.height * 3),
                   "%s: fail point %ld: succeeded with different pixels", what, k);
        } else {
            CHECKF(img.rgb == NULL, "%s: fail point %ld: pixels left after an error", what, k);
        }
        dt_image_release(&img);
        sweep_note(&s, k, rc, &st, before, heap_live());
    }
    dt_image_release(&ref);
    sweep_report(&s);
}

static void test_decode(void)
{
    dt_image_hint small = {.width = 40, .height = 30, .keep_ratio = 1};
    blob b;
    b = make_jpeg(97, 61, JCS_RGB, 0, 1);
    sweep_decode("jpeg baseline", b, NULL);
    sweep_decode("jpeg baseline, DCT 1/2", b, &small);
    free(b.p);
    b = make_jpeg(97, 61, JCS_RGB, 1, 6);
    sweep_decode("jpeg progressive, EXIF 6", b, NULL);
    free(b.p);
    b = make_jpeg(33, 21, JCS_CMYK, 0, 8);
    sweep_decode("jpeg CMYK, EXIF 8", b, NULL);
    free(b.p);
    b = make_jpeg(33, 21, JCS_GRAYSCALE, 0, 1);
    sweep_decode("jpeg gray", b, NULL);
    free(b.p);
    b = make_png(45, 31, SPNG_COLOR_TYPE_TRUECOLOR, 8);
    sweep_decode("png rgb8", b, NULL);
    free(b.p);
    b = make_png(45, 31, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 16);
    sweep_decode("png rgba16", b, NULL);
    free(b.p);
    b = make_png(45, 31, SPNG_COLOR_TYPE_INDEXED, 8);
    sweep_decode("png palette + tRNS", b, NULL);
    free(b.p);
    b = make_webp(45, 31, 0);
    sweep_decode("webp lossy", b, NULL);
    free(b.p);
    b = make_webp(45, 31, 1);
    sweep_decode("webp lossless", b, NULL);
    free(b.p);
    b = make_bmp(45, 31);
    sweep_decode("bmp 24", b, NULL);
    free(b.p);
}

/* ---- 4. the detection pipeline (needs models/nanodet) ---------------------------------------- */

static const char *models_dir(void)
{
    static char dir[1024];
    const char *root = getenv("ROOT");
    snprintf(dir, sizeof dir, "%s/models", root && *root ? root : ".");
    return dir;
}

static int have_nanodet(void)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/nanodet/nanodet.json", models_dir());
    return access(p, R_OK) == 0;
}

/* Loading nanodet makes thousands of allocations and costs ~10 ms (~0.3 s
 * under ASan): sweep ~200 fail points (25 under ASan; all with FAULT_FULL=1). */
static long pipeline_stride(long total)
{
    if (getenv("FAULT_FULL") && atoi(getenv("FAULT_FULL")) > 0)
        return 1;
    return total / (UNDER_ASAN ? 25 : 200) + 1;
}

static void test_pipeline(void)
{
    if (!have_nanodet()) {
        fprintf(stderr, "  skipped: no %s/nanodet (make models)\n", models_dir());
        return;
    }
    dt_detector_opts o = {.model = "nanodet", .models_dir = models_dir(), .threads = 1, .max_batch = 1};
    dt_status st;

    /* detector load: strided (tens of thousands of allocations) */
    sweep s = {.what = "dt_detector_load"};
    dt_detector *d = NULL;
    dt_alloc_fail_after(-1);
    dt_code rc = dt_detector_load(&o, &d, &st);
    s.total = dt_alloc_count();
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK)
        return;
    long stride = pipeline_stride(s.total);
    for (long k = 0; k < s.total; k += (k < 40 ? 1 : stride)) {
        size_t before = heap_live();
        dt_detector *d2 = (dt_detector *)1;
        dt_status_clear(&st);
        dt_alloc_fail_after(k);
        rc = dt_detector_load(&o, &d2, &st);
        dt_alloc_fail_reset();
        if (rc == DT_OK)
            dt_detector_free(d2);
        else
            CHECKF(d2 == NULL, "detector load: fail point %ld: *out not NULL after an error", k);
        sweep_note(&s, k, rc, &st, before, heap_live());
    }
    sweep_report(&s);

    /* context create (session for 416x416): strided */
    sweep sc = {.what = "dt_detect_ctx_create"};
    dt_detect_ctx *c = NULL;
    dt_alloc_fail_after(-1);
    rc = dt_detect_ctx_create(d, &c, &st);
    sc.total = dt_alloc_count();
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK) {
        dt_detector_free(d);
        return;
    }
    stride = pipeline_stride(sc.total);
    for (long k = 0; k < sc.total; k += (k < 40 ? 1 : stride)) {
        size_t before = heap_live();
        dt_detect_ctx *c2 = NULL;
        dt_status_clear(&st);
        dt_alloc_fail_after(k);
        rc = dt_detect_ctx_create(d, &c2, &st);
        dt_alloc_fail_reset();
        if (rc == DT_OK)
            dt_detect_ctx_free(c2);
        sweep_note(&sc, k, rc, &st, before, heap_live());
    }
    sweep_report(&sc);

    /* detect_bytes: every fail point, on a JPEG with EXIF rotation and a PNG */
    blob imgs[2] = {make_jpeg(200, 120, JCS_RGB, 1, 6), make_png(150, 90, SPNG_COLOR_TYPE_TRUECOLOR, 8)};
    const char *names[2] = {"dt_detect_bytes (jpeg)", "dt_detect_bytes (png)"};
    dt_detect_params p = {.threshold = 0.01f, .max_detections = 20};
    for (int i = 0; i < 2; i++) {
        sweep sd = {.what = names[i]};
        dt_detect_result ref, res;
        dt_alloc_fail_after(-1);
        rc = dt_detect_bytes(c, imgs[i].p, imgs[i].n, NULL, &p, &ref, &st);
        sd.total = dt_alloc_count();
        CHECKF(rc == DT_OK, "%s", st.msg);
        dt_detection keep[20];
        int nref = ref.n < 20 ? ref.n : 20;
        if (rc == DT_OK)
            memcpy(keep, ref.dets, sizeof(dt_detection) * (size_t)nref);
        for (long k = 0; rc == DT_OK && k < sd.total; k = next_k(k, sd.total)) {
            size_t before = heap_live();
            dt_status st2;
            dt_status_clear(&st2);
            dt_alloc_fail_after(k);
            dt_code rc2 = dt_detect_bytes(c, imgs[i].p, imgs[i].n, NULL, &p, &res, &st2);
            dt_alloc_fail_reset();
            if (rc2 == DT_OK)
                CHECKF(res.n == nref && !memcmp(res.dets, keep, sizeof(dt_detection) * (size_t)nref),
                       "%s: fail point %ld: different detections", names[i], k);
            sweep_note(&sd, k, rc2, &st2, before, heap_live());
        }
        /* and the context still works afterwards */
        rc = dt_detect_bytes(c, imgs[i].p, imgs[i].n, NULL, &p, &res, &st);
        CHECKF(rc == DT_OK && res.n == nref, "%s: context broken after the sweep: %s", names[i], st.msg);
        if (sd.total > 0)
            sweep_report(&sd);
        else
            fprintf(stderr, "  %-28s no allocations at all\n", names[i]);
        free(imgs[i].p);
    }
    dt_detect_ctx_free(c);
    dt_detector_free(d);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* glibc's per-thread cache keeps freed chunks counted as in use by
     * mallinfo2: run without it so the live-heap comparison is exact. */
    if (!UNDER_ASAN && !getenv("DT_FAULTS_REEXEC")) {
        setenv("DT_FAULTS_REEXEC", "1", 1);
        setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
        execv("/proc/self/exe", argv);
        perror("execv"); /* carry on: the leak check may then report noise */
    }
    g_model = build_model(&g_model_len);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_model_path, sizeof g_model_path, "%s/dt-test-faults-%d.onnx", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    FILE *f = fopen(g_model_path, "wb");
    if (!f || fwrite(g_model, 1, g_model_len, f) != g_model_len) {
        fprintf(stderr, "cannot write %s\n", g_model_path);
        return 1;
    }
    fclose(f);
    fprintf(stderr, "leak check: %s\n", UNDER_ASAN ? "LeakSanitizer at exit" : "live heap (mallinfo2) per fail point");
    RUN(test_onnx_load);
    RUN(test_session);
    RUN(test_decode);
    RUN(test_pipeline);
    if (getenv("FAULT_KEEP_MODEL")) /* for reproducing a finding outside the sweep */
        fprintf(stderr, "model kept in %s\n", g_model_path);
    else
        unlink(g_model_path);
    free(g_model);
    return tl_summary();
}
