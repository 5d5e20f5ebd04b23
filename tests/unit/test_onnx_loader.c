/* test_onnx_loader.c — the ONNX loader on models built here with protobuf-c:
 * structure, attributes, constants, typed and external tensor data, every
 * kind of corrupt input (truncations, bit flips, bad sizes, dangling names,
 * path escapes), allocation-failure sweeps, and (when $SHARED is set) the
 * two real detection models. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "engine/loaders/loaders.h"
#include "onnx.pb-c.h"
#include "testlib.h"

/* ---- a tiny model builder (everything malloc'ed, freed by free_unpacked) ---- */

#define PUSH(arr, n, item)                                                      \
    do {                                                                        \
        (arr) = realloc((arr), ((n) + 1) * sizeof *(arr));                      \
        (arr)[(n)++] = (item);                                                  \
    } while (0)

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static Onnx__ModelProto *mb_model(int opset)
{
    Onnx__ModelProto *m = malloc(sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->producer_name = xstrdup("test");
    m->graph = malloc(sizeof *m->graph);
    onnx__graph_proto__init(m->graph);
    m->graph->name = xstrdup("g");
    if (opset > 0) {
        Onnx__OperatorSetIdProto *os = malloc(sizeof *os);
        onnx__operator_set_id_proto__init(os);
        os->domain = xstrdup("");
        os->has_version = 1;
        os->version = opset;
        PUSH(m->opset_import, m->n_opset_import, os);
    }
    return m;
}

/* dims < 0 become dim_param "N"; ndim < 0 leaves the shape out; elem 0 leaves the type out */
static Onnx__ValueInfoProto *mb_vi(const char *name, int elem, int ndim, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = malloc(sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = xstrdup(name);
    if (elem == 0)
        return vi;
    vi->type = malloc(sizeof *vi->type);
    onnx__type_proto__init(vi->type);
    vi->type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    Onnx__TypeProto__Tensor *tt = malloc(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    vi->type->tensor_type = tt;
    if (ndim >= 0) {
        tt->shape = malloc(sizeof *tt->shape);
        onnx__tensor_shape_proto__init(tt->shape);
        for (int i = 0; i < ndim; i++) {
            Onnx__TensorShapeProto__Dimension *d = malloc(sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = xstrdup("N");
            }
            PUSH(tt->shape->dim, tt->shape->n_dim, d);
        }
    }
    return vi;
}

static void mb_input(Onnx__ModelProto *m, const char *name, int elem, int ndim, const int64_t *dims)
{
    PUSH(m->graph->input, m->graph->n_input, mb_vi(name, elem, ndim, dims));
}

static void mb_output(Onnx__ModelProto *m, const char *name, int elem, int ndim, const int64_t *dims)
{
    PUSH(m->graph->output, m->graph->n_output, mb_vi(name, elem, ndim, dims));
}

static Onnx__TensorProto *mb_tensor(const char *name, int elem, int ndim, const int64_t *dims)
{
    Onnx__TensorProto *t = malloc(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = xstrdup(name);
    t->has_data_type = 1;
    t->data_type = elem;
    t->n_dims = (size_t)ndim;
    t->dims = malloc(sizeof(int64_t) * (ndim ? (size_t)ndim : 1));
    if (ndim)
        memcpy(t->dims, dims, sizeof(int64_t) * (size_t)ndim);
    return t;
}

static void mb_raw(Onnx__TensorProto *t, const void *data, size_t len)
{
    t->has_raw_data = 1;
    t->raw_data.len = len;
    t->raw_data.data = malloc(len ? len : 1);
    if (len)
        memcpy(t->raw_data.data, data, len);
}

static Onnx__TensorProto *mb_init_raw(Onnx__ModelProto *m, const char *name, int elem, int ndim, const int64_t *dims,
                                      const void *data, size_t len)
{
    Onnx__TensorProto *t = mb_tensor(name, elem, ndim, dims);
    mb_raw(t, data, len);
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    return t;
}

/* Node with NULL-terminated input and output name lists. */
static Onnx__NodeProto *mb_node(Onnx__ModelProto *m, const char *op, const char *name, const char *const *in,
                                const char *const *out)
{
    Onnx__NodeProto *n = malloc(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = xstrdup(op);
    n->name = xstrdup(name);
    for (; in && *in; in++)
        PUSH(n->input, n->n_input, xstrdup(*in));
    for (; out && *out; out++)
        PUSH(n->output, n->n_output, xstrdup(*out));
    PUSH(m->graph->node, m->graph->n_node, n);
    return n;
}

static Onnx__AttributeProto *mb_attr(Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = malloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = xstrdup(name);
    a->has_type = 1;
    a->type = type;
    PUSH(n->attribute, n->n_attribute, a);
    return a;
}

static void mb_attr_int(Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

static void mb_attr_float(Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

static void mb_attr_ints(Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v)
{
    Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)cnt;
    a->ints = malloc(sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)cnt);
}

static void mb_attr_floats(Onnx__NodeProto *n, const char *name, int cnt, const float *v)
{
    Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = (size_t)cnt;
    a->floats = malloc(sizeof(float) * (size_t)(cnt ? cnt : 1));
    memcpy(a->floats, v, sizeof(float) * (size_t)cnt);
}

static void mb_attr_str(Onnx__NodeProto *n, const char *name, const char *s)
{
    Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(s);
    a->s.data = (uint8_t *)strdup(s);
}

static void mb_attr_tensor(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t)
{
    Onnx__AttributeProto *a = mb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

static uint8_t *mb_pack(Onnx__ModelProto *m, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    onnx__model_proto__pack(m, buf);
    return buf;
}

static void mb_free(Onnx__ModelProto *m) { onnx__model_proto__free_unpacked(m, NULL); }

/* Pack, free the message, load from memory. */
static dt_code load_model(Onnx__ModelProto *m, const char *base_dir, dt_graph **g, dt_status *st)
{
    size_t len;
    uint8_t *buf = mb_pack(m, &len);
    mb_free(m);
    dt_status_clear(st);
    dt_code rc = dt_load_onnx_buffer(buf, len, base_dir, g, st);
    free(buf);
    return rc;
}

/* ---- the reference model -------------------------------------------------- */

/* x[N,3,8,8] -> Conv(W,B) -> Relu -> Dropout(+mask) -> MaxPool(+"" indices)
 *   -> Resize("", scales) -> Reshape(shape const node) -> y
 * plus: W also listed as a graph input (so it must not become a runtime input),
 * nodes listed out of order, a second output z = Add(x_flat?..) kept simple. */
static Onnx__ModelProto *reference_model(void)
{
    Onnx__ModelProto *m = mb_model(13);
    int64_t xd[4] = {-1, 3, 8, 8};
    mb_input(m, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, xd);
    int64_t wd[4] = {4, 3, 3, 3};
    mb_input(m, "W", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, wd); /* initializer too */
    float w[108];
    for (int i = 0; i < 108; i++)
        w[i] = (float)i * 0.01f;
    mb_init_raw(m, "W", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, wd, w, sizeof w);
    int64_t bd[1] = {4};
    float b[4] = {0.5f, -0.5f, 1.0f, 2.0f};
    mb_init_raw(m, "B", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, bd, b, sizeof b);
    float scales[4] = {1, 1, 2, 2};
    mb_init_raw(m, "scales", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, bd, scales, sizeof scales);

    /* Reshape is listed before its producers: the loader must sort. */
    mb_node(m, "Reshape", "reshape", (const char *[]){"r", "shape", NULL}, (const char *[]){"y", NULL});
    Onnx__NodeProto *n = mb_node(m, "Conv", "conv", (const char *[]){"x", "W", "B", NULL}, (const char *[]){"c", NULL});
    int64_t k[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
    mb_attr_ints(n, "kernel_shape", 2, k);
    mb_attr_ints(n, "pads", 4, pads);
    mb_attr_int(n, "group", 1);
    mb_attr_str(n, "auto_pad", "NOTSET");
    mb_node(m, "Relu", "relu", (const char *[]){"c", NULL}, (const char *[]){"a", NULL});
    n = mb_node(m, "Dropout", "drop", (const char *[]){"a", NULL}, (const char *[]){"d", "mask", NULL});
    n = mb_node(m, "MaxPool", "pool", (const char *[]){"d", NULL}, (const char *[]){"p", "", NULL});
    mb_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
    mb_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
    n = mb_node(m, "Resize", "resize", (const char *[]){"p", "", "scales", NULL}, (const char *[]){"r", NULL});
    mb_attr_str(n, "mode", "nearest");
    n = mb_node(m, "Constant", "shape_const", NULL, (const char *[]){"shape", NULL});
    mb_attr_ints(n, "value_ints", 2, (int64_t[]){0, -1});
    (void)n;
    n = mb_node(m, "LeakyRelu", "leaky", (const char *[]){"y", NULL}, (const char *[]){"z", NULL});
    mb_attr_float(n, "alpha", 0.25f);
    mb_attr_floats(n, "unused_floats", 3, (float[]){1.5f, 2.5f, 3.5f});
    mb_output(m, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, (int64_t[]){-1, 256});
    mb_output(m, "z", 0, -1, NULL);
    return m;
}

static const dt_node *find_node(const dt_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return &g->nodes[i];
    return NULL;
}

static int node_index(const dt_graph *g, const char *name)
{
    const dt_node *n = find_node(g, name);
    return n ? (int)(n - g->nodes) : -1;
}

static void test_reference_model(void)
{
    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = load_model(reference_model(), NULL, &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK)
        return;
    /* inputs: only x (W is an initializer) */
    CHECK(g->n_inputs == 1);
    const dt_value *x = &g->values[g->inputs[0]];
    CHECK(strcmp(x->name, "x") == 0);
    CHECK(x->dtype == DT_F32 && x->ndim == 4 && x->dims[0] == -1 && x->dims[1] == 3 && x->dims[3] == 8);
    CHECK(x->is_input && x->buf == NULL);
    /* outputs in order, with declared shape for y and unknown for z */
    CHECK(g->n_outputs == 2);
    const dt_value *y = &g->values[g->outputs[0]], *z = &g->values[g->outputs[1]];
    CHECK(strcmp(y->name, "y") == 0 && strcmp(z->name, "z") == 0);
    CHECK(y->is_output && y->dtype == DT_F32 && y->ndim == 2 && y->dims[0] == -1 && y->dims[1] == 256);
    CHECK(z->ndim == -1 && z->dtype == DT_UNDEF);
    /* constants */
    int wv = dt_graph_find(g, "W");
    CHECK(wv >= 0 && dt_value_is_const(&g->values[wv]) && !g->values[wv].is_input);
    if (wv >= 0) {
        const dt_value *W = &g->values[wv];
        CHECK(W->dtype == DT_F32 && W->ndim == 4 && W->dims[0] == 4 && W->dims[3] == 3);
        CHECK_NEAR(((float *)W->buf->data)[107], 1.07f, 1e-6);
    }
    int sv = dt_graph_find(g, "shape");
    CHECK(sv >= 0 && dt_value_is_const(&g->values[sv]));
    if (sv >= 0) {
        const dt_value *S = &g->values[sv];
        CHECK(S->dtype == DT_I64 && S->ndim == 1 && S->dims[0] == 2);
        CHECK(((int64_t *)S->buf->data)[0] == 0 && ((int64_t *)S->buf->data)[1] == -1);
        CHECK(S->producer == -1);
    }
    /* nodes: Constant folded away, 7 others, topologically sorted */
    CHECK(g->n_nodes == 7);
    CHECK(node_index(g, "conv") < node_index(g, "relu"));
    CHECK(node_index(g, "resize") < node_index(g, "reshape"));
    CHECK(node_index(g, "reshape") < node_index(g, "leaky"));
    for (int i = 0; i < g->n_nodes; i++) {
        CHECK(g->nodes[i].opset == 13);
        for (int k = 0; k < g->nodes[i].n_out; k++)
            CHECK(g->values[g->nodes[i].out[k]].producer == i);
    }
    const dt_node *conv = find_node(g, "conv");
    CHECK(conv && conv->op == DT_OP_Conv && conv->n_in == 3 && conv->n_out == 1);
    if (conv) {
        int cnt = 0;
        const int64_t *ks = dt_attr_ints(conv, "kernel_shape", &cnt);
        CHECK(ks && cnt == 2 && ks[0] == 3 && ks[1] == 3);
        dt_attr_ints(conv, "pads", &cnt);
        CHECK(cnt == 4);
        CHECK(dt_attr_int(conv, "group", 0) == 1);
        CHECK(strcmp(dt_attr_str(conv, "auto_pad", ""), "NOTSET") == 0);
        CHECK(conv->in[0] == g->inputs[0] && conv->in[1] == wv);
    }
    const dt_node *drop = find_node(g, "drop");
    CHECK(drop && drop->n_out == 2 && drop->out[1] == dt_graph_find(g, "mask"));
    const dt_node *pool = find_node(g, "pool");
    CHECK(pool && pool->n_out == 2 && pool->out[1] >= 0 && pool->out[0] != pool->out[1]);
    const dt_node *rs = find_node(g, "resize");
    CHECK(rs && rs->n_in == 3 && rs->in[1] == -1 && rs->in[2] == dt_graph_find(g, "scales"));
    CHECK(rs && strcmp(dt_attr_str(rs, "mode", ""), "nearest") == 0);
    const dt_node *lk = find_node(g, "leaky");
    CHECK(lk && dt_attr_float(lk, "alpha", 0) == 0.25f);
    if (lk) {
        int cnt = 0;
        const float *f = dt_attr_floats(lk, "unused_floats", &cnt);
        CHECK(f && cnt == 3 && f[2] == 3.5f);
    }
    CHECK(g->name && strcmp(g->name, "g") == 0);
    dt_graph_free(g);
}

/* ---- typed data fields, conversions, Constant forms, ConstantOfShape ------- */

static Onnx__ModelProto *typed_model(void)
{
    Onnx__ModelProto *m = mb_model(17);
    mb_input(m, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){2});
    int64_t d2[1] = {2};
    Onnx__TensorProto *t;
    t = mb_tensor("f32", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d2);
    t->n_float_data = 2;
    t->float_data = malloc(2 * sizeof(float));
    t->float_data[0] = 1.5f;
    t->float_data[1] = -2.0f;
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    t = mb_tensor("f16", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 1, d2);
    t->n_int32_data = 2;
    t->int32_data = malloc(2 * sizeof(int32_t));
    t->int32_data[0] = 0x3c00; /* 1.0 */
    t->int32_data[1] = 0xc000; /* -2.0 */
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    uint16_t h[2] = {0x3800, 0x4200}; /* 0.5, 3.0 */
    mb_init_raw(m, "f16raw", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 1, d2, h, sizeof h);
    t = mb_tensor("f64", ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, 1, d2);
    t->n_double_data = 2;
    t->double_data = malloc(2 * sizeof(double));
    t->double_data[0] = 0.25;
    t->double_data[1] = 1e10;
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    double dd[2] = {-0.75, 4.0};
    mb_init_raw(m, "f64raw", ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, 1, d2, dd, sizeof dd);
    t = mb_tensor("i64", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, d2);
    t->n_int64_data = 2;
    t->int64_data = malloc(2 * sizeof(int64_t));
    t->int64_data[0] = -5;
    t->int64_data[1] = (int64_t)1 << 40;
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    t = mb_tensor("b", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 1, d2);
    t->n_int32_data = 2;
    t->int32_data = malloc(2 * sizeof(int32_t));
    t->int32_data[0] = 1;
    t->int32_data[1] = 0;
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    t = mb_tensor("u8", ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 1, d2);
    t->n_int32_data = 2;
    t->int32_data = malloc(2 * sizeof(int32_t));
    t->int32_data[0] = 200;
    t->int32_data[1] = 7;
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    int32_t i32[2] = {-7, 123456};
    mb_init_raw(m, "i32raw", ONNX__TENSOR_PROTO__DATA_TYPE__INT32, 1, d2, i32, sizeof i32);
    int8_t i8[2] = {-3, 4};
    mb_init_raw(m, "i8raw", ONNX__TENSOR_PROTO__DATA_TYPE__INT8, 1, d2, i8, sizeof i8);
    /* scalar (0-d) and empty tensors */
    float one = 1.0f;
    mb_init_raw(m, "scalar", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL, &one, sizeof one);
    mb_init_raw(m, "empty", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, (int64_t[]){0}, NULL, 0);

    Onnx__NodeProto *n;
    n = mb_node(m, "Constant", "c1", NULL, (const char *[]){"cf", NULL});
    mb_attr_float(n, "value_float", 2.5f);
    n = mb_node(m, "Constant", "c2", NULL, (const char *[]){"ci", NULL});
    mb_attr_int(n, "value_int", 42);
    n = mb_node(m, "Constant", "c3", NULL, (const char *[]){"cfs", NULL});
    mb_attr_floats(n, "value_floats", 3, (float[]){1, 2, 3});
    n = mb_node(m, "Constant", "c4", NULL, (const char *[]){"ct", NULL});
    int32_t tv[3] = {9, 8, 7};
    t = mb_tensor("", ONNX__TENSOR_PROTO__DATA_TYPE__INT32, 1, (int64_t[]){3});
    mb_raw(t, tv, sizeof tv);
    mb_attr_tensor(n, "value", t);
    n = mb_node(m, "ConstantOfShape", "cos", (const char *[]){"ci", NULL}, (const char *[]){"filled", NULL});
    int64_t seven = 7;
    t = mb_tensor("", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, (int64_t[]){1});
    mb_raw(t, &seven, sizeof seven);
    mb_attr_tensor(n, "value", t);
    n = mb_node(m, "Cast", "cast", (const char *[]){"x", NULL}, (const char *[]){"y", NULL});
    mb_attr_int(n, "to", 7);
    mb_output(m, "y", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, (int64_t[]){2});
    mb_output(m, "filled", 0, -1, NULL);
    mb_output(m, "cf", 0, -1, NULL); /* a constant may be an output */
    return m;
}

static void test_typed_fields(void)
{
    Onnx__ModelProto *m = typed_model();
    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = load_model(m, NULL, &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc != DT_OK)
        return;
#define CONSTV(name) (&g->values[dt_graph_find(g, name)])
    const char *names[] = {"f32", "f16", "f16raw", "f64", "f64raw", "i64", "b", "u8", "i32raw", "i8raw",
                           "scalar", "empty", "cf", "ci", "cfs", "ct"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECKF(dt_graph_find(g, names[i]) >= 0 && dt_value_is_const(CONSTV(names[i])), "%s", names[i]);
    const float *f;
    f = CONSTV("f32")->buf->data;
    CHECK(CONSTV("f32")->dtype == DT_F32 && f[0] == 1.5f && f[1] == -2.0f);
    f = CONSTV("f16")->buf->data;
    CHECK(CONSTV("f16")->dtype == DT_F32 && f[0] == 1.0f && f[1] == -2.0f);
    f = CONSTV("f16raw")->buf->data;
    CHECK(CONSTV("f16raw")->dtype == DT_F32 && f[0] == 0.5f && f[1] == 3.0f);
    f = CONSTV("f64")->buf->data;
    CHECK(CONSTV("f64")->dtype == DT_F32 && f[0] == 0.25f && f[1] == 1e10f);
    f = CONSTV("f64raw")->buf->data;
    CHECK(CONSTV("f64raw")->dtype == DT_F32 && f[0] == -0.75f && f[1] == 4.0f);
    const int64_t *i64 = CONSTV("i64")->buf->data;
    CHECK(CONSTV("i64")->dtype == DT_I64 && i64[0] == -5 && i64[1] == (int64_t)1 << 40);
    const uint8_t *u8 = CONSTV("b")->buf->data;
    CHECK(CONSTV("b")->dtype == DT_BOOL && u8[0] == 1 && u8[1] == 0);
    u8 = CONSTV("u8")->buf->data;
    CHECK(CONSTV("u8")->dtype == DT_U8 && u8[0] == 200 && u8[1] == 7);
    const int32_t *i32p = CONSTV("i32raw")->buf->data;
    CHECK(CONSTV("i32raw")->dtype == DT_I32 && i32p[0] == -7 && i32p[1] == 123456);
    const int8_t *i8p = CONSTV("i8raw")->buf->data;
    CHECK(CONSTV("i8raw")->dtype == DT_I8 && i8p[0] == -3 && i8p[1] == 4);
    CHECK(CONSTV("scalar")->ndim == 0 && ((float *)CONSTV("scalar")->buf->data)[0] == 1.0f);
    CHECK(CONSTV("empty")->ndim == 1 && CONSTV("empty")->dims[0] == 0);
    CHECK(CONSTV("cf")->dtype == DT_F32 && CONSTV("cf")->ndim == 0 && ((float *)CONSTV("cf")->buf->data)[0] == 2.5f);
    CHECK(CONSTV("ci")->dtype == DT_I64 && CONSTV("ci")->ndim == 0 && ((int64_t *)CONSTV("ci")->buf->data)[0] == 42);
    CHECK(CONSTV("cfs")->dtype == DT_F32 && CONSTV("cfs")->ndim == 1 && CONSTV("cfs")->dims[0] == 3);
    CHECK(CONSTV("ct")->dtype == DT_I32 && ((int32_t *)CONSTV("ct")->buf->data)[2] == 7);
    CHECK(CONSTV("cf")->is_output);
    const dt_node *cos = find_node(g, "cos");
    CHECK(cos && dt_attr_float(cos, "value", 0) == 7.0f && dt_attr_int(cos, "value_dtype", 0) == DT_I64);
    const dt_node *cast = find_node(g, "cast");
    CHECK(cast && dt_attr_int(cast, "to", 0) == 7 && cast->opset == 17);
    CHECK(g->n_nodes == 2);
#undef CONSTV
    dt_graph_free(g);
}

/* ---- errors ------------------------------------------------------------------- */

static Onnx__ModelProto *one_node_model(const char *op, const char *domain)
{
    Onnx__ModelProto *m = mb_model(11);
    mb_input(m, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){4});
    Onnx__NodeProto *n = mb_node(m, op, "n1", (const char *[]){"x", NULL}, (const char *[]){"y", NULL});
    if (domain)
        n->domain = xstrdup(domain);
    mb_output(m, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, -1, NULL);
    return m;
}

static void expect_error(Onnx__ModelProto *m, dt_code code, const char *needle, const char *what)
{
    dt_graph *g = (dt_graph *)1;
    dt_status st;
    dt_code rc = load_model(m, NULL, &g, &st);
    CHECKF(rc == code, "%s: got %s (%s), want %s", what, dt_code_name(rc), st.msg, dt_code_name(code));
    CHECKF((rc == DT_OK) == (g != NULL), "%s: graph pointer does not match the result", what);
    if (needle)
        CHECKF(strstr(st.msg, needle) != NULL, "%s: message '%s' lacks '%s'", what, st.msg, needle);
    if (rc == DT_OK)
        dt_graph_free(g);
}

static void test_unsupported(void)
{
    expect_error(one_node_model("FooBar", NULL), DT_EUNSUPPORTED, "unsupported operator 'FooBar' (node 'n1')",
                 "unknown op");
    expect_error(one_node_model("Relu", "com.microsoft"), DT_EUNSUPPORTED, "com.microsoft", "foreign domain");
    expect_error(one_node_model("FloorDiv", NULL), DT_EUNSUPPORTED, "FloorDiv", "TF-only extension op");
    /* subgraph attribute */
    Onnx__ModelProto *m = one_node_model("Identity", NULL);
    Onnx__AttributeProto *a = mb_attr(m->graph->node[0], "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = malloc(sizeof *a->g);
    onnx__graph_proto__init(a->g);
    expect_error(m, DT_EUNSUPPORTED, "subgraph", "graph attribute");
    /* no opset, too old an opset */
    m = one_node_model("Relu", NULL);
    free(m->opset_import[0]->domain);
    m->opset_import[0]->domain = xstrdup("ai.onnx.ml");
    expect_error(m, DT_EUNSUPPORTED, "opset", "no default opset");
    m = one_node_model("Relu", NULL);
    m->opset_import[0]->version = 6;
    expect_error(m, DT_EUNSUPPORTED, "opset 6", "old opset");
    /* "ai.onnx" is the default domain too */
    m = one_node_model("Relu", NULL);
    free(m->opset_import[0]->domain);
    m->opset_import[0]->domain = xstrdup("ai.onnx");
    expect_error(m, DT_OK, NULL, "ai.onnx domain");
    /* string tensor */
    m = one_node_model("Relu", NULL);
    mb_init_raw(m, "s", ONNX__TENSOR_PROTO__DATA_TYPE__STRING, 1, (int64_t[]){1}, "a", 1);
    expect_error(m, DT_EUNSUPPORTED, "'s'", "string initializer");
}

static void test_corrupt(void)
{
    Onnx__ModelProto *m;
    /* dangling input */
    m = one_node_model("Relu", NULL);
    free(m->graph->node[0]->input[0]);
    m->graph->node[0]->input[0] = xstrdup("nope");
    expect_error(m, DT_ECORRUPT, "'nope'", "dangling input");
    /* graph output nobody produces */
    m = one_node_model("Relu", NULL);
    mb_output(m, "ghost", 0, -1, NULL);
    expect_error(m, DT_ECORRUPT, "'ghost'", "dangling output");
    /* duplicate value names: two nodes writing y; an initializer twice; a node output shadowing an input */
    m = one_node_model("Relu", NULL);
    mb_node(m, "Sigmoid", "n2", (const char *[]){"x", NULL}, (const char *[]){"y", NULL});
    expect_error(m, DT_ECORRUPT, "'y'", "duplicate output");
    m = one_node_model("Relu", NULL);
    float v = 1;
    mb_init_raw(m, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL, &v, 4);
    mb_init_raw(m, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL, &v, 4);
    expect_error(m, DT_ECORRUPT, "'w'", "duplicate initializer");
    m = one_node_model("Relu", NULL);
    mb_node(m, "Sigmoid", "n2", (const char *[]){"y", NULL}, (const char *[]){"x", NULL});
    expect_error(m, DT_ECORRUPT, "'x'", "output shadows input");
    m = one_node_model("Relu", NULL);
    mb_input(m, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){4});
    expect_error(m, DT_ECORRUPT, "'x'", "input listed twice");
    /* raw data shorter / longer than the shape */
    m = one_node_model("Relu", NULL);
    float w3[3] = {1, 2, 3};
    mb_init_raw(m, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){4}, w3, sizeof w3);
    expect_error(m, DT_ECORRUPT, "raw_data has 12 bytes", "short raw data");
    m = one_node_model("Relu", NULL);
    mb_init_raw(m, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){2}, w3, sizeof w3);
    expect_error(m, DT_ECORRUPT, "'w'", "long raw data");
    /* typed data count mismatch */
    m = one_node_model("Relu", NULL);
    Onnx__TensorProto *t = mb_tensor("w", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, (int64_t[]){1000000});
    t->n_int64_data = 1;
    t->int64_data = malloc(8);
    t->int64_data[0] = 1;
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    expect_error(m, DT_ECORRUPT, "'w'", "short typed data");
    /* dims whose product overflows, negative dims, too many dims */
    m = one_node_model("Relu", NULL);
    mb_init_raw(m, "big", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 3,
                (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40, 16}, w3, sizeof w3);
    expect_error(m, DT_ECORRUPT, "'big'", "overflowing dims");
    m = one_node_model("Relu", NULL);
    mb_init_raw(m, "neg", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){-3}, w3, sizeof w3);
    expect_error(m, DT_ECORRUPT, "'neg'", "negative dim");
    m = one_node_model("Relu", NULL);
    mb_init_raw(m, "deep", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, w3, 4);
    expect_error(m, DT_EUNSUPPORTED, "'deep'", "9 dims");
    m = one_node_model("Relu", NULL);
    mb_input(m, "x2", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){5});
    m->graph->input[1]->type->tensor_type->shape->dim[0]->dim_value = -5;
    expect_error(m, DT_ECORRUPT, "'x2'", "negative input dim");
    /* no graph, no outputs, nameless things, a cycle */
    m = one_node_model("Relu", NULL);
    onnx__graph_proto__free_unpacked(m->graph, NULL);
    m->graph = NULL;
    expect_error(m, DT_ECORRUPT, "no graph", "missing graph");
    m = one_node_model("Relu", NULL);
    onnx__value_info_proto__free_unpacked(m->graph->output[0], NULL);
    m->graph->n_output = 0;
    expect_error(m, DT_ECORRUPT, "no outputs", "no outputs");
    m = one_node_model("Relu", NULL);
    free(m->graph->node[0]->op_type);
    m->graph->node[0]->op_type = NULL;
    expect_error(m, DT_ECORRUPT, "no operator", "nameless op");
    m = one_node_model("Relu", NULL);
    free(m->graph->node[0]->input[0]);
    m->graph->node[0]->input[0] = xstrdup("y2");
    mb_node(m, "Relu", "n2", (const char *[]){"y", NULL}, (const char *[]){"y2", NULL});
    expect_error(m, DT_ECORRUPT, "cycle", "cycle");
    /* Constant with two attributes; ConstantOfShape with a 2-element value */
    m = one_node_model("Relu", NULL);
    Onnx__NodeProto *n = mb_node(m, "Constant", "k", NULL, (const char *[]){"kk", NULL});
    mb_attr_int(n, "value_int", 1);
    mb_attr_float(n, "value_float", 1);
    expect_error(m, DT_ECORRUPT, "'k'", "bad Constant");
    m = one_node_model("Relu", NULL);
    n = mb_node(m, "ConstantOfShape", "cs", (const char *[]){"x", NULL}, (const char *[]){"o", NULL});
    t = mb_tensor("", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){2});
    mb_raw(t, w3, 8);
    mb_attr_tensor(n, "value", t);
    expect_error(m, DT_ECORRUPT, "'cs'", "ConstantOfShape 2 values");
    /* garbage bytes */
    dt_graph *g = NULL;
    dt_status st;
    const char junk[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff this is not protobuf";
    CHECK(dt_load_onnx_buffer(junk, sizeof junk, NULL, &g, &st) == DT_ECORRUPT && g == NULL);
    CHECK(dt_load_onnx_buffer("", 0, NULL, &g, &st) != DT_OK && g == NULL);
    CHECK(dt_load_onnx("/nonexistent/model.onnx", &g, &st) == DT_ENOTFOUND && g == NULL);
    CHECK(strstr(st.msg, "/nonexistent/model.onnx") != NULL);
    CHECK(dt_load_onnx("/tmp", &g, &st) != DT_OK && g == NULL);
    /* a NULL status is allowed */
    CHECK(dt_load_onnx_buffer(junk, sizeof junk, NULL, &g, NULL) == DT_ECORRUPT && g == NULL);
}

/* Every strict prefix of a valid model fails cleanly; random byte flips never crash. */
static void test_truncations_and_flips(void)
{
    size_t len;
    Onnx__ModelProto *m = reference_model();
    uint8_t *buf = mb_pack(m, &len);
    mb_free(m);
    dt_graph *g = NULL;
    dt_status st;
    int bad = 0;
    for (size_t k = 0; k < len; k++) {
        /* a fresh copy of exactly k bytes so ASan sees any over-read */
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, buf, k);
        dt_code rc = dt_load_onnx_buffer(cut, k, NULL, &g, &st);
        if (rc == DT_OK) {
            bad++;
            dt_graph_free(g);
        } else if (g != NULL) {
            bad++;
        }
        free(cut);
    }
    CHECKF(bad == 0, "%d of %zu truncations loaded", bad, len);
    CHECK(dt_load_onnx_buffer(buf, len, NULL, &g, &st) == DT_OK);
    dt_graph_free(g);
    unsigned seed = 12345;
    int ok = 0;
    for (int it = 0; it < 2000; it++) {
        uint8_t *c = malloc(len);
        memcpy(c, buf, len);
        int flips = 1 + it % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1664525u + 1013904223u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1664525u + 1013904223u;
            c[pos] ^= (uint8_t)(1u << ((seed >> 8) % 8));
        }
        if (dt_load_onnx_buffer(c, len, NULL, &g, &st) == DT_OK) {
            ok++;
            dt_graph_free(g);
        }
        free(c);
    }
    fprintf(stderr, "  %zu truncations rejected; %d of 2000 bit-flipped models still loaded\n", len, ok);
    free(buf);
}

/* Allocation failure at every point: an error, never a crash or a leak. */
static void alloc_failure_sweep(Onnx__ModelProto *m)
{
    size_t len;
    uint8_t *buf = mb_pack(m, &len);
    mb_free(m);
    dt_graph *g = NULL;
    dt_status st;
    dt_alloc_fail_after(-1);
    CHECK(dt_load_onnx_buffer(buf, len, NULL, &g, &st) == DT_OK);
    dt_graph_free(g);
    dt_alloc_fail_after(1L << 30);
    dt_load_onnx_buffer(buf, len, NULL, &g, &st);
    long total = dt_alloc_count();
    dt_alloc_fail_reset();
    dt_graph_free(g);
    int failures = 0;
    for (long k = 0; k < total; k++) {
        dt_alloc_fail_after(k);
        g = NULL;
        dt_code rc = dt_load_onnx_buffer(buf, len, NULL, &g, &st);
        dt_alloc_fail_reset();
        if (rc == DT_OK)
            dt_graph_free(g);
        else
            failures += (g == NULL);
    }
    CHECKF(failures == total, "%d of %ld injected failures reported cleanly", failures, total);
    free(buf);
}

static void test_alloc_failures(void)
{
    alloc_failure_sweep(reference_model());
    alloc_failure_sweep(typed_model());
}

static void test_load_free_many(void)
{
    size_t len;
    Onnx__ModelProto *m = reference_model();
    uint8_t *buf = mb_pack(m, &len);
    mb_free(m);
    int ok = 0;
    for (int i = 0; i < 1000; i++) {
        dt_graph *g = NULL;
        dt_status st;
        if (dt_load_onnx_buffer(buf, len, NULL, &g, &st) == DT_OK)
            ok++;
        dt_graph_free(g);
    }
    CHECK(ok == 1000);
    free(buf);
}

/* ---- external data ---------------------------------------------------------- */

static Onnx__ModelProto *external_model(const char *location, const char *offset, const char *length)
{
    Onnx__ModelProto *m = mb_model(13);
    mb_input(m, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){4});
    Onnx__TensorProto *t = mb_tensor("w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){4});
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {location, offset, length};
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        Onnx__StringStringEntryProto *kv = malloc(sizeof *kv);
        onnx__string_string_entry_proto__init(kv);
        kv->key = xstrdup(keys[i]);
        kv->value = xstrdup(vals[i]);
        PUSH(t->external_data, t->n_external_data, kv);
    }
    PUSH(m->graph->initializer, m->graph->n_initializer, t);
    mb_node(m, "Add", "add", (const char *[]){"x", "w", NULL}, (const char *[]){"y", NULL});
    mb_output(m, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (int64_t[]){4});
    return m;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

/* Save the model to dir/model.onnx and load it from there. */
static dt_code load_from_dir(Onnx__ModelProto *m, const char *dir, dt_graph **g, dt_status *st)
{
    size_t len;
    uint8_t *buf = mb_pack(m, &len);
    mb_free(m);
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    write_file(path, buf, len);
    free(buf);
    dt_status_clear(st);
    return dt_load_onnx(path, g, st);
}

static void test_external_data(void)
{
    char dir[] = "/tmp/dt_onnx_test_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    char path[512], sub[512];
    float data[6] = {-1, 10, 20, 30, 40, -2}; /* w is data[1..4] at offset 4 */
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    write_file(path, data, sizeof data);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    snprintf(path, sizeof path, "%s/sub/w.bin", dir);
    write_file(path, data + 1, 16);

    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = load_from_dir(external_model("weights.bin", "4", "16"), dir, &g, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc == DT_OK) {
        const dt_value *w = &g->values[dt_graph_find(g, "w")];
        const float *f = w->buf->data;
        CHECK(w->dtype == DT_F32 && f[0] == 10 && f[3] == 40);
        dt_graph_free(g);
    }
    rc = load_from_dir(external_model("sub/w.bin", NULL, NULL), dir, &g, &st);
    CHECKF(rc == DT_OK, "subdir, no offset/length: %s", st.msg);
    if (rc == DT_OK)
        dt_graph_free(g);
    rc = load_from_dir(external_model("./sub/w.bin", "0", "16"), dir, &g, &st);
    CHECKF(rc == DT_OK, "./ prefix: %s", st.msg);
    if (rc == DT_OK)
        dt_graph_free(g);

    /* escapes */
    const char *evil[] = {"../weights.bin", "sub/../../etc/passwd", "/etc/passwd", "..", "sub/..\\..\\x", ""};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        g = (dt_graph *)1;
        rc = load_from_dir(external_model(evil[i], NULL, NULL), dir, &g, &st);
        CHECKF(rc != DT_OK && g == NULL, "location '%s' accepted", evil[i]);
        if (i < 5)
            CHECKF(rc == DT_EINVAL, "location '%s': %s (%s)", evil[i], dt_code_name(rc), st.msg);
    }
    /* bad ranges */
    struct { const char *off, *len; } bad[] = {
        {"4", "20"}, {"100", "16"}, {"0", "12"}, {"-4", "16"}, {"4x", "16"}, {"18446744073709551615", "16"},
        {"12", NULL}, {"0", "99999999999999999999999"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        g = (dt_graph *)1;
        rc = load_from_dir(external_model("weights.bin", bad[i].off, bad[i].len), dir, &g, &st);
        CHECKF(rc == DT_ECORRUPT && g == NULL, "offset %s length %s: %s (%s)", bad[i].off,
               bad[i].len ? bad[i].len : "-", dt_code_name(rc), st.msg);
    }
    /* missing file, no location, memory load refuses external data */
    rc = load_from_dir(external_model("missing.bin", NULL, NULL), dir, &g, &st);
    CHECK(rc == DT_ENOTFOUND && strstr(st.msg, "missing.bin"));
    rc = load_from_dir(external_model(NULL, "0", "16"), dir, &g, &st);
    CHECK(rc == DT_ECORRUPT);
    rc = load_model(external_model("weights.bin", "4", "16"), NULL, &g, &st);
    CHECK(rc == DT_EUNSUPPORTED);

    snprintf(path, sizeof path, "%s/weights.bin", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub/w.bin", dir);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

/* ---- the real models ------------------------------------------------------------ */

static void check_real(const char *shared, const char *file, const char *in_name, int side, int min_nodes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s", shared, file);
    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = dt_load_onnx(path, &g, &st);
    CHECKF(rc == DT_OK, "%s: %s", file, st.msg);
    if (rc != DT_OK)
        return;
    CHECK(g->n_inputs == 1 && g->n_outputs == 1);
    const dt_value *in = &g->values[g->inputs[0]];
    CHECKF(strcmp(in->name, in_name) == 0, "%s: input %s", file, in->name);
    CHECK(in->ndim == 4 && in->dims[1] == 3 && in->dims[2] == side && in->dims[3] == side);
    CHECKF(g->n_nodes >= min_nodes, "%s: %d nodes", file, g->n_nodes);
    int conv = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        conv += g->nodes[i].op == DT_OP_Conv;
        CHECK(g->nodes[i].opset == 11);
    }
    CHECK(conv >= 50);
    fprintf(stderr, "  %s: %d nodes (%d Conv), %d values\n", file, g->n_nodes, conv, g->n_values);
    dt_graph_free(g);
}

static void test_real_models(void)
{
    const char *shared = getenv("SHARED");
    if (!shared || !*shared) {
        fprintf(stderr, "  SHARED not set: real models skipped\n");
        return;
    }
    check_real(shared, "yolox_nano.onnx", "images", 416, 369);
    check_real(shared, "FastestDet.onnx", "input.1", 352, 211);
}

int main(void)
{
    RUN(test_reference_model);
    RUN(test_typed_fields);
    RUN(test_unsupported);
    RUN(test_corrupt);
    RUN(test_truncations_and_flips);
    RUN(test_alloc_failures);
    RUN(test_load_free_many);
    RUN(test_external_data);
    RUN(test_real_models);
    return tl_summary();
}
