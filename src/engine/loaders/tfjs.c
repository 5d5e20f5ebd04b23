/* tfjs.c — TensorFlow.js graph model (model.json + weight shards) -> dt_graph.
 *
 * model.json holds modelTopology.node[] (a TF GraphDef in protobuf-JSON form),
 * weightsManifest[] (shard paths and one spec per constant, laid out back to
 * back over all shards of all groups, in order) and an optional signature.
 * The loader
 *   1. parses the weight specs and checks they fit the shard bytes,
 *   2. resolves node inputs ("x", "x:1"; "^x" control deps are dropped),
 *   3. walks back from the outputs (so dead nodes with exotic ops do not
 *      matter, as in tfjs) and orders the needed nodes topologically,
 *   4. translates each TF op into one or more IR nodes (ONNX names and
 *      semantics, see op_list.h), dequantizing constants to float32.
 * Value naming: output 0 of TF node "x" is the value "x", output k > 0 is
 * "x:k"; helper values the translation adds are "x#what" ('#' never occurs in
 * TF node names).  Graph outputs are renamed to the signature keys, which is
 * what tfjs's GraphModel.outputNodes (and so executeAsync's result order)
 * uses.  Like tfjs, int64 tensors become int32 and float64 becomes float32.
 */
#include "engine/loaders/loaders.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"

#define TF_MAX_SPEC 64           /* entries of a StridedSlice spec / list attr we accept */
#define TF_MAX_JSON (512u << 20) /* model.json size limit */

/* ---- parsed model --------------------------------------------------------- */

typedef struct tfnode {
    const char *name, *op; /* point into the JSON document */
    json_t *attr;          /* object or NULL */
    int n_in;              /* data inputs (control deps dropped) */
    int *in_node, *in_port;
    int state;             /* DFS: 0 new, 1 on the stack, 2 done */
    int consumed;          /* somebody uses it (for output selection without signature) */
} tfnode;

enum { Q_NONE = 0, Q_U8, Q_U16, Q_F16 };

typedef struct wspec {
    const char *name;
    dt_dtype dtype;   /* F32, I32 or BOOL after decoding; UNDEF = string/complex (unusable) */
    int ndim;
    int64_t dims[DT_MAX_DIMS];
    int64_t numel;
    int q;
    double scale, min;
    size_t off, nbytes;
} wspec;

typedef struct tctx {
    dt_graph *g;
    dt_status *st;
    tfnode *nodes;
    int n_nodes;
    json_t *node_map; /* name -> index */
    wspec *ws;
    int n_ws;
    json_t *w_map;    /* name -> index */
    const uint8_t *wdata;
    size_t wlen;
    const tfnode *cur;       /* node being translated */
    const char *bad_attr;    /* first malformed attribute seen on cur */
    char namebuf[512];
} tctx;

/* ---- small utilities ------------------------------------------------------- */

static int parse_i64_str(const char *s, int64_t *out)
{
    if (!s || !*s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end)
        return 0;
    *out = (int64_t)v;
    return 1;
}

/* protobuf-JSON int64s are strings; accept numbers too. */
static int json_i64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= -9.2e18 && d <= 9.2e18) || d != floor(d))
            return 0;
        *out = (int64_t)d;
        return 1;
    }
    if (json_is_string(v))
        return parse_i64_str(json_string_value(v), out);
    return 0;
}

static int json_f64(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "NaN")) { *out = NAN; return 1; }
        if (!strcmp(s, "Infinity")) { *out = INFINITY; return 1; }
        if (!strcmp(s, "-Infinity")) { *out = -INFINITY; return 1; }
        char *end = NULL;
        double d = strtod(s, &end);
        if (!*s || !end || *end)
            return 0;
        *out = d;
        return 1;
    }
    return 0;
}

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

/* Decode base64 (standard or url alphabet, padding optional) into a C
 * string; 0 when malformed, too long or containing NUL. */
static int b64_decode(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64val((unsigned char)*s);
        if (v < 0)
            return 0;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char ch = (char)((acc >> bits) & 0xff);
            if (!ch || o + 1 >= cap)
                return 0;
            out[o++] = ch;
        }
    }
    out[o] = 0;
    return 1;
}

/* tfjs's dtype mapping of TF DataType names (operation_mapper parseDtypeParam). */
static dt_dtype tf_dtype(const json_t *t)
{
    if (json_is_integer(t)) {
        switch (json_integer_value(t)) {
        case 1: case 2: case 19: case 14: return DT_F32;
        case 3: case 4: case 5: case 6: case 9: case 17: return DT_I32;
        case 10: return DT_BOOL;
        default: return DT_UNDEF;
        }
    }
    const char *s = json_string_value(t);
    if (!s)
        return DT_UNDEF;
    if (!strcmp(s, "DT_FLOAT") || !strcmp(s, "DT_HALF") || !strcmp(s, "DT_DOUBLE") || !strcmp(s, "DT_BFLOAT16"))
        return DT_F32;
    if (!strcmp(s, "DT_INT32") || !strcmp(s, "DT_INT64") || !strcmp(s, "DT_INT8") || !strcmp(s, "DT_UINT8") ||
        !strcmp(s, "DT_INT16") || !strcmp(s, "DT_UINT16"))
        return DT_I32;
    if (!strcmp(s, "DT_BOOL"))
        return DT_BOOL;
    return DT_UNDEF;
}

/* ---- attributes ------------------------------------------------------------ */

static json_t *attr_field(tctx *c, const char *name, const char *kind)
{
    json_t *a = c->cur->attr ? json_object_get(c->cur->attr, name) : NULL;
    if (!a)
        return NULL;
    json_t *v = json_is_object(a) ? json_object_get(a, kind) : NULL;
    if (!v && !c->bad_attr)
        c->bad_attr = name;
    return v;
}

static int64_t attr_i(tctx *c, const char *name, int64_t def)
{
    json_t *v = attr_field(c, name, "i");
    int64_t r = def;
    if (v && !json_i64(v, &r) && !c->bad_attr)
        c->bad_attr = name;
    return r;
}

static float attr_f(tctx *c, const char *name, float def)
{
    json_t *v = attr_field(c, name, "f");
    double r = def;
    if (v && !json_f64(v, &r) && !c->bad_attr)
        c->bad_attr = name;
    return (float)r;
}

static int attr_b(tctx *c, const char *name, int def)
{
    json_t *v = attr_field(c, name, "b");
    if (!v)
        return def;
    if (!json_is_boolean(v)) {
        if (!c->bad_attr)
            c->bad_attr = name;
        return def;
    }
    return json_is_true(v);
}

/* String attribute (base64 in the JSON); def when absent. */
static const char *attr_s(tctx *c, const char *name, char *buf, size_t cap, const char *def)
{
    json_t *v = attr_field(c, name, "s");
    if (!v)
        return def;
    if (!json_is_string(v) || !b64_decode(json_string_value(v), buf, cap)) {
        if (!c->bad_attr)
            c->bad_attr = name;
        return def;
    }
    return buf;
}

static dt_dtype attr_type(tctx *c, const char *name)
{
    json_t *v = attr_field(c, name, "type");
    return v ? tf_dtype(v) : DT_UNDEF;
}

/* list { i: [...] }: returns the count (-1 when absent), fills up to cap. */
static int attr_list_i(tctx *c, const char *name, int64_t *out, int cap)
{
    json_t *l = attr_field(c, name, "list");
    if (!l)
        return -1;
    if (!json_is_object(l)) {
        if (!c->bad_attr)
            c->bad_attr = name;
        return -1;
    }
    json_t *arr = json_object_get(l, "i");
    if (!arr)
        return 0; /* protobuf omits empty lists */
    if (!json_is_array(arr) || (int)json_array_size(arr) > cap) {
        if (!c->bad_attr)
            c->bad_attr = name;
        return -1;
    }
    int n = (int)json_array_size(arr);
    for (int i = 0; i < n; i++)
        if (!json_i64(json_array_get(arr, (size_t)i), &out[i])) {
            if (!c->bad_attr)
                c->bad_attr = name;
            return -1;
        }
    return n;
}

/* list { s: [...] } decoded into bufs[cap][64]; returns count (0 when absent). */
static int attr_list_s(tctx *c, const char *name, char (*bufs)[64], int cap)
{
    json_t *l = attr_field(c, name, "list");
    if (!l)
        return 0;
    json_t *arr = json_is_object(l) ? json_object_get(l, "s") : NULL;
    if (!arr)
        return 0;
    if (!json_is_array(arr) || (int)json_array_size(arr) > cap) {
        if (!c->bad_attr)
            c->bad_attr = name;
        return 0;
    }
    int n = (int)json_array_size(arr);
    for (int i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, (size_t)i);
        if (!json_is_string(s) || !b64_decode(json_string_value(s), bufs[i], 64)) {
            if (!c->bad_attr)
                c->bad_attr = name;
            return 0;
        }
    }
    return n;
}

/* TensorShapeProto JSON {dim:[{size:"1"},...], unknownRank:bool} -> ndim/dims;
 * ndim = -1 for unknown rank.  Returns 0 when malformed. */
static int parse_shape(const json_t *shape, int *ndim, int64_t *dims)
{
    if (!json_is_object(shape))
        return 0;
    if (json_is_true(json_object_get(shape, "unknownRank"))) {
        *ndim = -1;
        return 1;
    }
    json_t *dim = json_object_get(shape, "dim");
    if (!dim) {
        *ndim = 0;
        return 1;
    }
    if (!json_is_array(dim) || json_array_size(dim) > DT_MAX_DIMS)
        return 0;
    *ndim = (int)json_array_size(dim);
    for (int i = 0; i < *ndim; i++) {
        json_t *d = json_array_get(dim, (size_t)i);
        json_t *sz = json_is_object(d) ? json_object_get(d, "size") : NULL;
        int64_t v = 0; /* protobuf omits 0 */
        if (!json_is_object(d) || (sz && !json_i64(sz, &v)) || v < -1)
            return 0;
        dims[i] = v;
    }
    return 1;
}

/* ---- graph building helpers -------------------------------------------------- */

static const char *vname(tctx *c, const char *suffix)
{
    snprintf(c->namebuf, sizeof c->namebuf, "%s#%s", c->cur->name, suffix);
    return c->namebuf;
}

/* The value for output k of the current node. */
static int out_val(tctx *c, int k)
{
    char name[600];
    if (k == 0)
        snprintf(name, sizeof name, "%s", c->cur->name);
    else
        snprintf(name, sizeof name, "%s:%d", c->cur->name, k);
    return dt_graph_add_value(c->g, name, DT_UNDEF, -1, NULL, c->st);
}

/* Add an op with one output.  out < 0: a helper value "<node>#<suffix>".
 * The node is called "<node>" when it writes a TF output, else "<node>#<suffix>".
 * Returns the output value id (or -1); *node_out gets the node index. */
static int emit(tctx *c, dt_op op, const char *suffix, int n_in, const int *in, int out, int *node_out)
{
    char nname[600];
    snprintf(nname, sizeof nname, "%s#%s", c->cur->name, suffix);
    if (out < 0) {
        out = dt_graph_add_value(c->g, nname, DT_UNDEF, -1, NULL, c->st);
        if (out < 0)
            return -1;
    } else {
        snprintf(nname, sizeof nname, "%s", c->cur->name);
    }
    int n = dt_graph_add_node(c->g, op, nname, n_in, in, 1, &out, c->st);
    if (n < 0)
        return -1;
    if (node_out)
        *node_out = n;
    return out;
}

static int const_i64(tctx *c, const char *suffix, int ndim, const int64_t *dims, const int64_t *data)
{
    return dt_graph_add_const(c->g, vname(c, suffix), DT_I64, ndim, dims, data, c->st);
}

static int const_i64_1d(tctx *c, const char *suffix, int n, const int64_t *data)
{
    int64_t d = n;
    return const_i64(c, suffix, 1, &d, data);
}

static const dt_value *cval(tctx *c, int vid)
{
    const dt_value *v = &c->g->values[vid];
    return dt_value_is_const(v) ? v : NULL;
}

/* Integer contents of a constant (any int/float dtype), at most cap elements.
 * Returns count, or -1 when not constant / too big / not numeric. */
static int const_ints(tctx *c, int vid, int64_t *out, int cap)
{
    const dt_value *v = cval(c, vid);
    if (!v || v->ndim < 0 || v->ndim > 1)
        return -1;
    dt_tensor t = dt_value_view(v);
    int64_t n = dt_tensor_numel(&t);
    if (n < 0 || n > cap)
        return -1;
    for (int64_t i = 0; i < n; i++)
        out[i] = dt_tensor_get_i(&t, i);
    return (int)n;
}

/* One integer from a scalar or 1-element constant. */
static int const_scalar(tctx *c, int vid, int64_t *out)
{
    int64_t tmp[1];
    if (const_ints(c, vid, tmp, 1) != 1)
        return 0;
    *out = tmp[0];
    return 1;
}

/* An int64 1-D version of an integer tensor (shape / axes / sizes inputs):
 * a new constant when vid is constant, else Cast (+ Reshape to 1-D). */
static int to_i64(tctx *c, int vid, const char *suffix, int flatten)
{
    const dt_value *v = cval(c, vid);
    if (v) {
        dt_tensor t = dt_value_view(v);
        int64_t n = dt_tensor_numel(&t);
        if (n < 0 || n > (1 << 20) || v->dtype == DT_F32 || v->dtype == DT_UNDEF) {
            dt_fail(c->st, DT_ECORRUPT, "node '%s': input '%s' is not a valid integer list", c->cur->name, v->name);
            return -1;
        }
        int64_t *d = dt_malloc((size_t)(n ? n : 1) * sizeof(int64_t));
        if (!d) {
            dt_fail(c->st, DT_ENOMEM, "out of memory");
            return -1;
        }
        for (int64_t i = 0; i < n; i++)
            d[i] = dt_tensor_get_i(&t, i);
        int r, nd = v->ndim;
        int64_t dims[DT_MAX_DIMS]; /* copied: v may move when values are added */
        memcpy(dims, v->dims, sizeof dims);
        if (flatten || nd == 1)
            r = const_i64_1d(c, suffix, (int)n, d);
        else
            r = const_i64(c, suffix, nd, dims, d);
        dt_free(d);
        return r;
    }
    char sfx[64];
    snprintf(sfx, sizeof sfx, "%s_cast", suffix);
    int nd;
    int r = emit(c, DT_OP_Cast, sfx, 1, &vid, -1, &nd);
    if (r < 0 || dt_node_set_int(c->g, nd, "to", 7, c->st))
        return -1;
    if (!flatten)
        return r;
    int64_t m1 = -1;
    snprintf(sfx, sizeof sfx, "%s_shape", suffix);
    int sh = const_i64_1d(c, sfx, 1, &m1);
    if (sh < 0)
        return -1;
    int in2[2] = {r, sh};
    return emit(c, DT_OP_Reshape, suffix, 2, in2, -1, NULL);
}

static dt_code bad_input(tctx *c, const char *what)
{
    return dt_fail(c->st, DT_EUNSUPPORTED, "TF.js operator '%s' (node '%s'): %s", c->cur->op, c->cur->name, what);
}

static dt_code need(tctx *c, int n_in, int want)
{
    if (n_in < want)
        return dt_fail(c->st, DT_ECORRUPT, "node '%s' (%s): expected %d inputs, got %d", c->cur->name, c->cur->op,
                       want, n_in);
    return DT_OK;
}

/* c->st is never NULL inside the loader (build() substitutes a local status). */
#define TRY(x)                                                                                                     \
    do {                                                                                                           \
        if ((x) != DT_OK)                                                                                          \
            return c->st->code;                                                                                    \
    } while (0)
#define TRYV(x)                                                                                                    \
    do {                                                                                                           \
        if ((x) < 0)                                                                                               \
            return c->st->code != DT_OK ? c->st->code : DT_EINTERNAL;                                              \
    } while (0)

/* A float32 scalar constant shared by the whole graph ('_' never starts a TF
 * node name, so these cannot collide with the model's). */
static int shared_f32(tctx *c, const char *name, float v)
{
    int id = dt_graph_find(c->g, name);
    return id >= 0 ? id : dt_graph_add_const(c->g, name, DT_F32, 0, NULL, &v, c->st);
}

/* Emit an activation by TF name on x; writes to out (or a helper if out < 0).
 * extra = PReLU alpha value. Returns the value id or -1. */
static int emit_act(tctx *c, const char *act, int x, int extra, float alpha, int out)
{
    int nd = -1, r = -1;
    if (!strcmp(act, "Relu"))
        r = emit(c, DT_OP_Relu, "relu", 1, &x, out, &nd);
    else if (!strcmp(act, "Relu6")) {
        /* Clip-11 form (min/max inputs): what kernels of the latest opset read */
        int cin[3] = {x, shared_f32(c, "_tfjs#zero", 0.f), shared_f32(c, "_tfjs#six", 6.f)};
        if (cin[1] < 0 || cin[2] < 0)
            return -1;
        r = emit(c, DT_OP_Clip, "relu6", 3, cin, out, &nd);
    } else if (!strcmp(act, "LeakyRelu")) {
        r = emit(c, DT_OP_LeakyRelu, "leakyrelu", 1, &x, out, &nd);
        if (r >= 0 && dt_node_set_float(c->g, nd, "alpha", alpha, c->st))
            return -1;
    } else if (!strcmp(act, "Elu")) {
        r = emit(c, DT_OP_Elu, "elu", 1, &x, out, &nd);
        if (r >= 0 && dt_node_set_float(c->g, nd, "alpha", 1.f, c->st))
            return -1;
    } else if (!strcmp(act, "Sigmoid"))
        r = emit(c, DT_OP_Sigmoid, "sigmoid", 1, &x, out, &nd);
    else if (!strcmp(act, "Tanh"))
        r = emit(c, DT_OP_Tanh, "tanh", 1, &x, out, &nd);
    else if (!strcmp(act, "Prelu")) {
        if (extra < 0) {
            dt_fail(c->st, DT_ECORRUPT, "node '%s': fused Prelu without an alpha argument", c->cur->name);
            return -1;
        }
        int in2[2] = {x, extra};
        r = emit(c, DT_OP_PRelu, "prelu", 2, in2, out, &nd);
    } else {
        dt_fail(c->st, DT_EUNSUPPORTED, "TF.js operator '%s' (node '%s'): unsupported fused op '%s'", c->cur->op,
                c->cur->name, act);
        return -1;
    }
    return r;
}

/* ---- translations ------------------------------------------------------------- */

typedef dt_code (*tr_fn)(tctx *c, const int *in, int n_in, dt_op op);

/* 1:1 elementwise / simple ops: all inputs forwarded. */
static dt_code tr_simple(tctx *c, const int *in, int n_in, dt_op op)
{
    if (op == DT_OP_Range)
        TRY(need(c, n_in, 3));
    int o = out_val(c, 0);
    TRYV(o);
    TRYV(emit(c, op, "op", n_in, in, o, NULL));
    return DT_OK;
}

static dt_code tr_unary(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 1));
    return tr_simple(c, in, 1, op);
}

static dt_code tr_binary(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 2));
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, op, "op", 2, in, o, &nd));
    if (op == DT_OP_Mod)
        TRY(dt_node_set_int(c->g, nd, "fmod", 0, c->st));
    return DT_OK;
}

/* Div / RealDiv: TF.js divides int32 tensors with floorDiv (rounding to
 * -inf: -7 / 2 = -4), ONNX Div truncates (-3).  With the element type known
 * here (the node's T attribute, which converted models carry, or the
 * dividend's) an integer division becomes FloorDiv; otherwise the Div is
 * marked int_floor, which the reference kernel honours for integers. */
static dt_code tr_div(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 2));
    dt_dtype t = attr_type(c, "T");
    if (t == DT_UNDEF && in[0] >= 0)
        t = c->g->values[in[0]].dtype;
    if (t == DT_I32 || t == DT_I64)
        return tr_binary(c, in, n_in, DT_OP_FloorDiv);
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, op, "op", 2, in, o, &nd));
    if (t == DT_UNDEF)
        TRY(dt_node_set_int(c->g, nd, "int_floor", 1, c->st));
    return DT_OK;
}

static dt_code tr_act(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    int o = out_val(c, 0);
    TRYV(o);
    float alpha = attr_f(c, "alpha", 0.2f);
    TRYV(emit_act(c, c->cur->op, in[0], n_in > 1 ? in[1] : -1, alpha, o));
    return DT_OK;
}

static dt_code tr_identity(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    for (int k = 0; k < n_in; k++) { /* IdentityN forwards every input */
        int o = out_val(c, k);
        TRYV(o);
        char sfx[32];
        snprintf(sfx, sizeof sfx, "id%d", k);
        TRYV(emit(c, DT_OP_Identity, sfx, 1, &in[k], o, NULL));
        if (strcmp(c->cur->op, "IdentityN"))
            break;
    }
    return DT_OK;
}

static dt_code tr_noop(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)c, (void)in, (void)n_in, (void)op;
    return DT_OK;
}

static dt_code tr_rsqrt(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    int o = out_val(c, 0);
    TRYV(o);
    int s = emit(c, DT_OP_Sqrt, "sqrt", 1, in, -1, NULL);
    TRYV(s);
    TRYV(emit(c, DT_OP_Reciprocal, "recip", 1, &s, o, NULL));
    return DT_OK;
}

static dt_code tr_square(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, op == DT_OP_Sub ? 2 : 1));
    int o = out_val(c, 0);
    TRYV(o);
    int x = in[0];
    if (op == DT_OP_Sub) { /* SquaredDifference */
        x = emit(c, DT_OP_Sub, "diff", 2, in, -1, NULL);
        TRYV(x);
    }
    int in2[2] = {x, x};
    TRYV(emit(c, DT_OP_Mul, "square", 2, in2, o, NULL));
    return DT_OK;
}

static dt_code tr_not_equal(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    int o = out_val(c, 0);
    TRYV(o);
    int e = emit(c, DT_OP_Equal, "eq", 2, in, -1, NULL);
    TRYV(e);
    TRYV(emit(c, DT_OP_Not, "not", 1, &e, o, NULL));
    return DT_OK;
}

static dt_code tr_addn(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    return tr_simple(c, in, n_in, n_in == 1 ? DT_OP_Identity : DT_OP_Sum);
}

static dt_code tr_bias_add(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    char fmt[16];
    TRY(need(c, n_in, 2));
    if (strcmp(attr_s(c, "data_format", fmt, sizeof fmt, "NHWC"), "NHWC"))
        return bad_input(c, "only data_format NHWC is supported");
    return tr_simple(c, in, 2, DT_OP_Add);
}

static dt_code tr_cast(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    dt_dtype to = attr_type(c, "DstT");
    if (to == DT_UNDEF)
        return bad_input(c, "unsupported or missing DstT");
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, DT_OP_Cast, "cast", 1, in, o, &nd));
    return dt_node_set_int(c->g, nd, "to", dt_dtype_to_onnx(to), c->st);
}

/* ONNX op with int64 output followed by a Cast to int32 (tfjs has no int64). */
static dt_code cast_i32_out(tctx *c, int x, int o)
{
    int nd;
    TRYV(emit(c, DT_OP_Cast, "to_i32", 1, &x, o, &nd));
    return dt_node_set_int(c->g, nd, "to", 6, c->st);
}

static dt_code tr_shape(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    int o = out_val(c, 0);
    TRYV(o);
    int s = emit(c, DT_OP_Shape, "shape", 1, in, -1, NULL);
    TRYV(s);
    return cast_i32_out(c, s, o);
}

static dt_code tr_softmax(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 1));
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, op, "softmax", 1, in, o, &nd));
    return dt_node_set_int(c->g, nd, "axis", -1, c->st);
}

/* ---- convolution ---------------------------------------------------------------- */

/* HWIO (or depthwise HW C M) constant -> OIHW constant (shared between users). */
static int conv_weights(tctx *c, int w, int depthwise, int64_t *group)
{
    const dt_value *v = cval(c, w);
    if (!v || v->dtype != DT_F32 || v->ndim != 4) {
        if (v || depthwise) {
            dt_fail(c->st, DT_EUNSUPPORTED, "node '%s' (%s): filter must be a constant float32 4-d tensor",
                    c->cur->name, c->cur->op);
            return -1;
        }
        /* computed filter: transpose at run time */
        int nd;
        int t = emit(c, DT_OP_Transpose, "w_oihw", 1, &w, -1, &nd);
        static const int64_t perm[4] = {3, 2, 0, 1};
        if (t < 0 || dt_node_set_ints(c->g, nd, "perm", perm, 4, c->st))
            return -1;
        *group = 1;
        return t;
    }
    int64_t kh = v->dims[0], kw = v->dims[1], ci = v->dims[2], co = v->dims[3];
    int64_t od[4] = {co, ci, kh, kw};
    if (depthwise) {
        od[0] = ci * co; /* C * multiplier */
        od[1] = 1;
        *group = ci;
    } else {
        *group = 1;
    }
    char name[600];
    snprintf(name, sizeof name, "%s#%s", v->name, depthwise ? "dw_oihw" : "oihw");
    int have = dt_graph_find(c->g, name);
    if (have >= 0)
        return have;
    if (ci <= 0 || co <= 0 || kh <= 0 || kw <= 0) {
        dt_fail(c->st, DT_ECORRUPT, "node '%s': empty filter", c->cur->name);
        return -1;
    }
    dt_buf *b = dt_buf_new(v->buf->size);
    if (!b) {
        dt_fail(c->st, DT_ENOMEM, "out of memory");
        return -1;
    }
    const float *src = v->buf->data;
    float *dst = b->data;
    /* src[h][w][i][o] -> dst[o][i][h][w]; depthwise: src[h][w][c][m] -> dst[c*M+m][0][h][w] */
    /* both layouts put (h, x) innermost in dst; (i, o) map to dst row i*co+o
     * (depthwise) or o*ci+i (regular) */
    int64_t hw = kh * kw;
    for (int64_t i = 0; i < ci; i++)
        for (int64_t o = 0; o < co; o++) {
            float *d = dst + (depthwise ? i * co + o : o * ci + i) * hw;
            const float *sp = src + i * co + o;
            for (int64_t k = 0; k < hw; k++)
                d[k] = sp[k * ci * co];
        }
    /* the name is the original's, so built from v->name (not the current node) */
    return dt_graph_add_const_buf(c->g, name, DT_F32, 4, od, b, c->st);
}

/* Spatial attrs shared by conv and pools: strides/dilations/ksize picked
 * from the 4-element data_format lists, padding -> auto_pad or pads. */
static dt_code spatial_attrs(tctx *c, int nd, int nhwc, int with_dilations, int is_pool)
{
    int hi = nhwc ? 1 : 2, wi = nhwc ? 2 : 3;
    int64_t l[TF_MAX_SPEC];
    int n = attr_list_i(c, "strides", l, TF_MAX_SPEC);
    int64_t s2[2] = {1, 1};
    if (n == 4) {
        s2[0] = l[hi];
        s2[1] = l[wi];
    } else if (n != -1) {
        return bad_input(c, "strides must have 4 entries");
    }
    if (s2[0] < 1 || s2[1] < 1 || s2[0] > 1 << 16 || s2[1] > 1 << 16)
        return bad_input(c, "bad strides");
    TRY(dt_node_set_ints(c->g, nd, "strides", s2, 2, c->st));
    if (with_dilations) {
        int64_t d2[2] = {1, 1};
        n = attr_list_i(c, "dilations", l, TF_MAX_SPEC);
        if (n == 4) {
            d2[0] = l[hi];
            d2[1] = l[wi];
        } else if (n != -1)
            return bad_input(c, "dilations must have 4 entries");
        if (d2[0] < 1 || d2[1] < 1 || d2[0] > 1 << 16 || d2[1] > 1 << 16)
            return bad_input(c, "bad dilations");
        TRY(dt_node_set_ints(c->g, nd, "dilations", d2, 2, c->st));
    }
    if (is_pool) {
        int64_t k2[2];
        n = attr_list_i(c, "ksize", l, TF_MAX_SPEC);
        if (n != 4 || l[0] != 1 || l[3] != 1 || l[hi] < 1 || l[wi] < 1 || l[hi] > 1 << 16 || l[wi] > 1 << 16)
            return bad_input(c, "ksize must be [1,kh,kw,1]");
        k2[0] = l[hi];
        k2[1] = l[wi];
        TRY(dt_node_set_ints(c->g, nd, "kernel_shape", k2, 2, c->st));
    }
    char pbuf[32];
    const char *pad = attr_s(c, "padding", pbuf, sizeof pbuf, "VALID");
    if (!strcmp(pad, "SAME"))
        return dt_node_set_string(c->g, nd, "auto_pad", "SAME_UPPER", c->st);
    if (!strcmp(pad, "VALID"))
        return dt_node_set_string(c->g, nd, "auto_pad", "VALID", c->st);
    if (!strcmp(pad, "EXPLICIT")) {
        n = attr_list_i(c, "explicit_paddings", l, TF_MAX_SPEC);
        if (n != 8)
            return bad_input(c, "explicit_paddings must have 8 entries");
        int64_t p4[4] = {l[2 * hi], l[2 * wi], l[2 * hi + 1], l[2 * wi + 1]};
        for (int i = 0; i < 4; i++)
            if (p4[i] < 0 || p4[i] > 1 << 20)
                return bad_input(c, "bad explicit_paddings");
        TRY(dt_node_set_string(c->g, nd, "auto_pad", "NOTSET", c->st));
        return dt_node_set_ints(c->g, nd, "pads", p4, 4, c->st);
    }
    return bad_input(c, "unknown padding");
}

static dt_code get_layout(tctx *c, int *nhwc)
{
    char fmt[16];
    const char *f = attr_s(c, "data_format", fmt, sizeof fmt, "NHWC");
    if (!strcmp(f, "NHWC"))
        *nhwc = 1;
    else if (!strcmp(f, "NCHW"))
        *nhwc = 0;
    else
        return bad_input(c, "data_format must be NHWC or NCHW");
    return DT_OK;
}

static dt_code tr_conv(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    const char *tfop = c->cur->op;
    int depthwise = strstr(tfop, "Depthwise") != NULL;
    int fused = tfop[0] == '_' || !strncmp(tfop, "Fused", 5);
    int nhwc;
    TRY(get_layout(c, &nhwc));

    /* fused ops: [BiasAdd|FusedBatchNorm] then an optional activation */
    char ops[4][64];
    int n_ops = fused ? attr_list_s(c, "fused_ops", ops, 4) : 0;
    int bias = -1, bn[4] = {-1, -1, -1, -1}, prelu = -1, ai = 2;
    const char *act = NULL;
    for (int i = 0; i < n_ops; i++) {
        if (!strcmp(ops[i], "BiasAdd") && bias < 0 && bn[0] < 0) {
            TRY(need(c, n_in, ai + 1));
            bias = in[ai++];
        } else if (!strcmp(ops[i], "FusedBatchNorm") && bias < 0 && bn[0] < 0) {
            TRY(need(c, n_in, ai + 4));
            for (int k = 0; k < 4; k++)
                bn[k] = in[ai++];
        } else if (!act && i == n_ops - 1) {
            act = ops[i];
            if (!strcmp(act, "Prelu")) {
                TRY(need(c, n_in, ai + 1));
                prelu = in[ai++];
            }
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "unsupported fused op sequence at '%s'", ops[i]);
            return bad_input(c, msg);
        }
    }
    int64_t group = 1;
    int w = conv_weights(c, in[1], depthwise, &group);
    TRYV(w);
    /* copy: adding values below may move the values array */
    int64_t ks[2] = {-1, -1};
    if (c->g->values[w].ndim == 4) {
        ks[0] = c->g->values[w].dims[2];
        ks[1] = c->g->values[w].dims[3];
    }
    int steps = 1 + (bn[0] >= 0) + (act != NULL);
    int o = out_val(c, 0), nd;
    TRYV(o);
    int cin[3] = {in[0], w, bias};
    int y = emit(c, DT_OP_Conv, "conv", bias >= 0 ? 3 : 2, cin, steps == 1 ? o : -1, &nd);
    TRYV(y);
    TRY(dt_node_set_string(c->g, nd, "layout", nhwc ? "NHWC" : "NCHW", c->st));
    TRY(dt_node_set_int(c->g, nd, "group", group, c->st));
    if (ks[0] > 0)
        TRY(dt_node_set_ints(c->g, nd, "kernel_shape", ks, 2, c->st));
    TRY(spatial_attrs(c, nd, nhwc, 1, 0));
    steps--;
    if (bn[0] >= 0) {
        int bin[5] = {y, bn[0], bn[1], bn[2], bn[3]};
        y = emit(c, DT_OP_BatchNormalization, "bn", 5, bin, steps == 1 ? o : -1, &nd);
        TRYV(y);
        TRY(dt_node_set_float(c->g, nd, "epsilon", attr_f(c, "epsilon", 1e-3f), c->st));
        TRY(dt_node_set_string(c->g, nd, "layout", nhwc ? "NHWC" : "NCHW", c->st));
        steps--;
    }
    if (act)
        TRYV(emit_act(c, act, y, prelu, attr_f(c, "leakyrelu_alpha", 0.2f), o));
    return DT_OK;
}

static dt_code tr_pool(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 1));
    int nhwc;
    TRY(get_layout(c, &nhwc));
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, op, "pool", 1, in, o, &nd));
    TRY(dt_node_set_string(c->g, nd, "layout", nhwc ? "NHWC" : "NCHW", c->st));
    if (op == DT_OP_AveragePool) /* TF averages over the valid (unpadded) cells */
        TRY(dt_node_set_int(c->g, nd, "count_include_pad", 0, c->st));
    return spatial_attrs(c, nd, nhwc, 0, 1);
}

static dt_code tr_batchnorm(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 5));
    int nhwc;
    TRY(get_layout(c, &nhwc));
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, DT_OP_BatchNormalization, "bn", 5, in, o, &nd));
    TRY(dt_node_set_float(c->g, nd, "epsilon", attr_f(c, "epsilon", 1e-3f), c->st));
    return dt_node_set_string(c->g, nd, "layout", nhwc ? "NHWC" : "NCHW", c->st);
}

static dt_code tr_matmul(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    int batch = !strncmp(c->cur->op, "BatchMatMul", 11);
    int ta = attr_b(c, batch ? "adj_x" : "transpose_a", 0);
    int tb = attr_b(c, batch ? "adj_y" : "transpose_b", 0);
    if (batch && (ta || tb))
        return bad_input(c, "adj_x / adj_y are not supported");
    int ab[2] = {in[0], in[1]};
    static const int64_t perm[2] = {1, 0};
    for (int k = 0; k < 2; k++) {
        if (!(k ? tb : ta))
            continue;
        int nd;
        ab[k] = emit(c, DT_OP_Transpose, k ? "bT" : "aT", 1, &in[k], -1, &nd);
        TRYV(ab[k]);
        TRY(dt_node_set_ints(c->g, nd, "perm", perm, 2, c->st));
    }
    char ops[4][64];
    int n_ops = c->cur->op[0] == '_' ? attr_list_s(c, "fused_ops", ops, 4) : 0;
    int bias = -1, prelu = -1, ai = 2;
    const char *act = NULL;
    for (int i = 0; i < n_ops; i++) {
        if (!strcmp(ops[i], "BiasAdd") && i == 0) {
            TRY(need(c, n_in, ai + 1));
            bias = in[ai++];
        } else if (i == n_ops - 1) {
            act = ops[i];
            if (!strcmp(act, "Prelu")) {
                TRY(need(c, n_in, ai + 1));
                prelu = in[ai++];
            }
        } else
            return bad_input(c, "unsupported fused op sequence");
    }
    int steps = 1 + (bias >= 0) + (act != NULL);
    int o = out_val(c, 0);
    TRYV(o);
    int y = emit(c, DT_OP_MatMul, "matmul", 2, ab, steps == 1 ? o : -1, NULL);
    TRYV(y);
    steps--;
    if (bias >= 0) {
        int bin[2] = {y, bias};
        y = emit(c, DT_OP_Add, "bias", 2, bin, steps == 1 ? o : -1, NULL);
        TRYV(y);
    }
    if (act)
        TRYV(emit_act(c, act, y, prelu, attr_f(c, "leakyrelu_alpha", 0.2f), o));
    return DT_OK;
}

/* ---- tensor ops ------------------------------------------------------------------- */

static dt_code tr_concat(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    int v1 = !strcmp(c->cur->op, "Concat"); /* Concat(axis, values...) vs ConcatV2(values..., axis) */
    TRY(need(c, n_in, 2));
    int64_t axis;
    if (!const_scalar(c, v1 ? in[0] : in[n_in - 1], &axis))
        return bad_input(c, "axis must be a constant");
    const int *vals = v1 ? in + 1 : in;
    int nv = n_in - 1;
    int o = out_val(c, 0), nd;
    TRYV(o);
    if (nv == 1)
        return emit(c, DT_OP_Identity, "id", 1, vals, o, NULL) < 0 ? c->st->code : DT_OK;
    TRYV(emit(c, DT_OP_Concat, "concat", nv, vals, o, &nd));
    return dt_node_set_int(c->g, nd, "axis", axis, c->st);
}

static dt_code tr_reshape(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    int s = to_i64(c, in[1], "shape", 1);
    TRYV(s);
    int o = out_val(c, 0), nd;
    TRYV(o);
    int in2[2] = {in[0], s};
    TRYV(emit(c, DT_OP_Reshape, "reshape", 2, in2, o, &nd));
    /* in TF a 0 in the shape is a zero-sized dim, not "copy" */
    return dt_node_set_int(c->g, nd, "allowzero", 1, c->st);
}

static dt_code tr_transpose(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    int64_t perm[DT_MAX_DIMS];
    int n = const_ints(c, in[1], perm, DT_MAX_DIMS);
    if (n < 0)
        return bad_input(c, "perm must be a constant of at most 8 entries");
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, DT_OP_Transpose, "transpose", 1, in, o, &nd));
    return dt_node_set_ints(c->g, nd, "perm", perm, n, c->st);
}

static dt_code tr_pad(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    const char *mode = "constant";
    if (!strcmp(c->cur->op, "MirrorPad")) {
        char buf[32];
        const char *m = attr_s(c, "mode", buf, sizeof buf, "");
        if (strcmp(m, "REFLECT"))
            return bad_input(c, "only REFLECT mirror padding is supported");
        mode = "reflect";
    }
    const dt_value *pv = cval(c, in[1]);
    if (!pv || pv->ndim != 2 || pv->dims[1] != 2 || pv->dims[0] > DT_MAX_DIMS)
        return bad_input(c, "paddings must be a constant [rank, 2] tensor");
    int r = (int)pv->dims[0];
    int64_t pads[2 * DT_MAX_DIMS];
    dt_tensor t = dt_value_view(pv);
    for (int i = 0; i < r; i++) {
        pads[i] = dt_tensor_get_i(&t, 2 * i);
        pads[r + i] = dt_tensor_get_i(&t, 2 * i + 1);
    }
    int p = const_i64_1d(c, "pads", 2 * r, pads);
    TRYV(p);
    int o = out_val(c, 0), nd;
    TRYV(o);
    int pin[3] = {in[0], p, -1};
    int npin = 2;
    if (!strcmp(c->cur->op, "PadV2") && n_in >= 3) {
        pin[2] = in[2];
        npin = 3;
    }
    TRYV(emit(c, DT_OP_Pad, "pad", npin, pin, o, &nd));
    return dt_node_set_string(c->g, nd, "mode", mode, c->st);
}

static dt_code tr_reduce(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 2));
    int o = out_val(c, 0), nd;
    TRYV(o);
    int64_t tmp[1];
    if (cval(c, in[1]) && const_ints(c, in[1], tmp, 1) == 0) /* empty axes: nothing reduced in TF */
        return emit(c, DT_OP_Identity, "id", 1, in, o, NULL) < 0 ? c->st->code : DT_OK;
    int ax = to_i64(c, in[1], "axes", 1);
    TRYV(ax);
    int in2[2] = {in[0], ax};
    TRYV(emit(c, op, "reduce", 2, in2, o, &nd));
    TRY(dt_node_set_int(c->g, nd, "keepdims", attr_b(c, "keep_dims", 0), c->st));
    return dt_node_set_int(c->g, nd, "noop_with_empty_axes", 1, c->st);
}

static dt_code tr_argmax(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 2));
    int64_t axis;
    if (!const_scalar(c, in[1], &axis))
        return bad_input(c, "dimension must be a constant");
    int o = out_val(c, 0), nd;
    TRYV(o);
    int a = emit(c, op, "arg", 1, in, -1, &nd);
    TRYV(a);
    TRY(dt_node_set_int(c->g, nd, "axis", axis, c->st));
    TRY(dt_node_set_int(c->g, nd, "keepdims", 0, c->st));
    return cast_i32_out(c, a, o);
}

static dt_code tr_resize(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    int nearest = strstr(c->cur->op, "Nearest") != NULL;
    int ac = attr_b(c, "align_corners", 0), hp = attr_b(c, "half_pixel_centers", 0);
    if (ac && hp)
        return bad_input(c, "align_corners together with half_pixel_centers is not supported");
    int sz = to_i64(c, in[1], "sizes", 1);
    TRYV(sz);
    int o = out_val(c, 0), nd;
    TRYV(o);
    int rin[4] = {in[0], -1, -1, sz};
    TRYV(emit(c, DT_OP_Resize, "resize", 4, rin, o, &nd));
    const char *ctm, *nm = "floor";
    if (ac) {
        ctm = "align_corners";
        nm = "round_prefer_ceil"; /* TF/tfjs: round(x * (in-1)/(out-1)), halves up */
    } else if (hp) {
        ctm = nearest ? "tf_half_pixel_for_nn" : "half_pixel"; /* nearest: floor((x+0.5)*in/out) */
    } else {
        ctm = "asymmetric";
    }
    static const int64_t axes[2] = {1, 2};
    TRY(dt_node_set_string(c->g, nd, "mode", nearest ? "nearest" : "linear", c->st));
    TRY(dt_node_set_string(c->g, nd, "coordinate_transformation_mode", ctm, c->st));
    if (nearest)
        TRY(dt_node_set_string(c->g, nd, "nearest_mode", nm, c->st));
    return dt_node_set_ints(c->g, nd, "axes", axes, 2, c->st);
}

static dt_code tr_split(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    int v = !strcmp(c->cur->op, "SplitV"); /* Split(dim, x) / SplitV(x, sizes, dim) */
    TRY(need(c, n_in, v ? 3 : 2));
    int x = v ? in[0] : in[1];
    int64_t axis, num = attr_i(c, "num_split", -1);
    if (!const_scalar(c, v ? in[2] : in[0], &axis))
        return bad_input(c, "split_dim must be a constant");
    if (num < 1 || num > 4096)
        return bad_input(c, "bad num_split");
    int sin[2] = {x, -1};
    if (v) {
        int64_t *sz = dt_malloc((size_t)num * sizeof(int64_t));
        if (!sz)
            return dt_fail(c->st, DT_ENOMEM, "out of memory");
        int n = const_ints(c, in[1], sz, (int)num);
        int neg = -1, bad = n != (int)num;
        int64_t known = 0;
        for (int i = 0; i < n && !bad; i++) {
            if (sz[i] == -1 && neg < 0)
                neg = i;
            else if (sz[i] < 0 || sz[i] > (int64_t)1 << 40)
                bad = 1;
            else
                known += sz[i];
        }
        if (bad) {
            dt_free(sz);
            return bad_input(c, "size_splits must be a constant with num_split entries (one -1 at most)");
        }
        if (neg < 0) {
            sin[1] = const_i64_1d(c, "split", n, sz);
        } else {
            /* -1: the rest of the axis, computed from Shape (folded once shapes are known) */
            int sh = emit(c, DT_OP_Shape, "shape", 1, &x, -1, NULL);
            int ix = const_i64_1d(c, "axis", 1, &axis);
            int d = -1, rest = -1, kn = -1, nd;
            if (sh >= 0 && ix >= 0) {
                int gin[2] = {sh, ix};
                d = emit(c, DT_OP_Gather, "dim", 2, gin, -1, &nd);
                if (d >= 0 && dt_node_set_int(c->g, nd, "axis", 0, c->st))
                    d = -1;
            }
            if (d >= 0)
                kn = const_i64_1d(c, "known", 1, &known);
            if (kn >= 0) {
                int in2[2] = {d, kn};
                rest = emit(c, DT_OP_Sub, "rest", 2, in2, -1, NULL);
            }
            int parts[3], np = 0, ok = rest >= 0;
            if (ok && neg > 0)
                ok = (parts[np++] = const_i64_1d(c, "before", neg, sz)) >= 0;
            if (ok)
                parts[np++] = rest;
            if (ok && neg < n - 1)
                ok = (parts[np++] = const_i64_1d(c, "after", n - 1 - neg, sz + neg + 1)) >= 0;
            if (ok) {
                sin[1] = emit(c, DT_OP_Concat, "split", np, parts, -1, &nd);
                if (sin[1] >= 0 && dt_node_set_int(c->g, nd, "axis", 0, c->st))
                    sin[1] = -1;
            } else {
                sin[1] = -1;
            }
        }
        dt_free(sz);
        TRYV(sin[1]);
    }
    int *outs = dt_malloc((size_t)num * sizeof(int));
    if (!outs)
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    for (int k = 0; k < num; k++) {
        outs[k] = out_val(c, k);
        if (outs[k] < 0) {
            dt_free(outs);
            return c->st->code;
        }
    }
    int nd = dt_graph_add_node(c->g, DT_OP_Split, c->cur->name, v ? 2 : 1, sin, (int)num, outs, c->st);
    dt_free(outs);
    TRYV(nd);
    TRY(dt_node_set_int(c->g, nd, "axis", axis, c->st));
    if (!v)
        TRY(dt_node_set_int(c->g, nd, "num_outputs", num, c->st));
    return DT_OK;
}

static dt_code tr_unpack(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    int64_t num = attr_i(c, "num", -1), axis = attr_i(c, "axis", 0);
    if (num < 1 || num > 4096)
        return bad_input(c, "bad num");
    int ax = const_i64_1d(c, "axes", 1, &axis);
    TRYV(ax);
    int *parts = dt_malloc((size_t)num * sizeof(int));
    if (!parts)
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    int ok = 1;
    for (int k = 0; k < num && ok; k++) {
        char sfx[32];
        snprintf(sfx, sizeof sfx, "part%d", k);
        ok = (parts[k] = dt_graph_add_value(c->g, vname(c, sfx), DT_UNDEF, -1, NULL, c->st)) >= 0;
    }
    int nd = -1;
    if (ok) {
        char nname[600];
        snprintf(nname, sizeof nname, "%s#split", c->cur->name);
        nd = dt_graph_add_node(c->g, DT_OP_Split, nname, 1, in, (int)num, parts, c->st);
        ok = nd >= 0 && !dt_node_set_int(c->g, nd, "axis", axis, c->st) &&
             !dt_node_set_int(c->g, nd, "num_outputs", num, c->st);
    }
    for (int k = 0; k < num && ok; k++) {
        int o = out_val(c, k);
        char sfx[32];
        snprintf(sfx, sizeof sfx, "squeeze%d", k);
        int sin[2] = {parts[k], ax};
        ok = o >= 0 && emit(c, DT_OP_Squeeze, sfx, 2, sin, o, NULL) >= 0;
    }
    dt_free(parts);
    return ok ? DT_OK : c->st->code;
}

static dt_code tr_pack(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    int64_t axis = attr_i(c, "axis", 0);
    int ax = const_i64_1d(c, "axes", 1, &axis);
    TRYV(ax);
    int o = out_val(c, 0);
    TRYV(o);
    int *parts = dt_malloc((size_t)n_in * sizeof(int));
    if (!parts)
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    int ok = 1;
    for (int k = 0; k < n_in && ok; k++) {
        char sfx[32];
        snprintf(sfx, sizeof sfx, "unsqueeze%d", k);
        int uin[2] = {in[k], ax};
        ok = (parts[k] = emit(c, DT_OP_Unsqueeze, sfx, 2, uin, n_in == 1 ? o : -1, NULL)) >= 0;
    }
    if (ok && n_in > 1) {
        int nd;
        ok = emit(c, DT_OP_Concat, "concat", n_in, parts, o, &nd) >= 0 &&
             !dt_node_set_int(c->g, nd, "axis", axis, c->st);
    }
    dt_free(parts);
    return ok ? DT_OK : c->st->code;
}

static dt_code tr_expand_dims(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    int ax = to_i64(c, in[1], "axes", 1);
    TRYV(ax);
    int o = out_val(c, 0);
    TRYV(o);
    int in2[2] = {in[0], ax};
    return emit(c, DT_OP_Unsqueeze, "unsqueeze", 2, in2, o, NULL) < 0 ? c->st->code : DT_OK;
}

static dt_code tr_squeeze(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    int64_t dims[TF_MAX_SPEC];
    int n = attr_list_i(c, "squeeze_dims", dims, TF_MAX_SPEC);
    if (n < 0)
        n = attr_list_i(c, "axis", dims, TF_MAX_SPEC);
    int sin[2] = {in[0], -1};
    if (n > 0) {
        sin[1] = const_i64_1d(c, "axes", n, dims);
        TRYV(sin[1]);
    }
    int o = out_val(c, 0);
    TRYV(o);
    return emit(c, DT_OP_Squeeze, "squeeze", n > 0 ? 2 : 1, sin, o, NULL) < 0 ? c->st->code : DT_OK;
}

static dt_code tr_strided_slice(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 3));
    int64_t b[TF_MAX_SPEC], e[TF_MAX_SPEC], s[TF_MAX_SPEC];
    int n = const_ints(c, in[1], b, TF_MAX_SPEC);
    int ne = const_ints(c, in[2], e, TF_MAX_SPEC);
    int ns = n;
    if (n_in >= 4)
        ns = const_ints(c, in[3], s, TF_MAX_SPEC);
    else
        for (int i = 0; i < n; i++)
            s[i] = 1;
    if (n < 0 || ne != n || ns != n || n > 32)
        return bad_input(c, "begin/end/strides must be constants of equal length (<= 32)");
    int64_t bm = attr_i(c, "begin_mask", 0), em = attr_i(c, "end_mask", 0);
    int64_t elm = attr_i(c, "ellipsis_mask", 0), nm = attr_i(c, "new_axis_mask", 0);
    int64_t sm = attr_i(c, "shrink_axis_mask", 0);
    if (elm & (elm - 1))
        return bad_input(c, "more than one ellipsis");
    int ell = -1;
    for (int i = 0; i < n; i++)
        if (elm & ((int64_t)1 << i)) {
            ell = i;
            break;
        }
    /* entries after the ellipsis count from the back: negative axes */
    int in_after[33] = {0}, out_after[33] = {0};
    for (int i = n - 1; i >= 0; i--) {
        int isnew = (nm >> i) & 1, isshr = !isnew && ((sm >> i) & 1);
        in_after[i] = in_after[i + 1] + !isnew;
        out_after[i] = out_after[i + 1] + (isnew || !isshr);
    }
    int64_t st_[32], en[32], ax[32], sp[32], sq[32], un[32];
    int nsl = 0, nsq = 0, nun = 0, din = 0, dout = 0;
    for (int i = 0; i < n; i++) {
        if (i == ell)
            continue;
        int after = ell >= 0 && i > ell;
        if ((nm >> i) & 1) {
            un[nun++] = after ? -out_after[i] : dout++;
            continue;
        }
        int64_t axis = after ? -in_after[i] : din++;
        int64_t step = s[i], bb, ee;
        if (step == 0)
            return bad_input(c, "zero stride");
        if ((sm >> i) & 1) {
            if (step < 0)
                return bad_input(c, "shrink axis with a negative stride");
            bb = b[i];
            ee = bb == -1 ? INT64_MAX : bb + 1;
            step = 1;
            sq[nsq++] = axis;
        } else {
            bb = ((bm >> i) & 1) ? (step > 0 ? 0 : INT64_MAX) : b[i];
            ee = ((em >> i) & 1) ? (step > 0 ? INT64_MAX : INT64_MIN) : e[i];
            if (!after)
                dout++;
            if (bb == 0 && ee == INT64_MAX && step == 1)
                continue; /* whole axis */
        }
        st_[nsl] = bb;
        en[nsl] = ee;
        ax[nsl] = axis;
        sp[nsl++] = step;
    }
    int steps = (nsl > 0) + (nsq > 0) + (nun > 0);
    int o = out_val(c, 0);
    TRYV(o);
    int x = in[0];
    if (!steps)
        return emit(c, DT_OP_Identity, "id", 1, &x, o, NULL) < 0 ? c->st->code : DT_OK;
    if (nsl) {
        int sin[5] = {x, const_i64_1d(c, "starts", nsl, st_), const_i64_1d(c, "ends", nsl, en),
                      const_i64_1d(c, "axes", nsl, ax), const_i64_1d(c, "steps", nsl, sp)};
        for (int k = 1; k < 5; k++)
            TRYV(sin[k]);
        x = emit(c, DT_OP_Slice, "slice", 5, sin, --steps == 0 ? o : -1, NULL);
        TRYV(x);
    }
    if (nsq) {
        int sin[2] = {x, const_i64_1d(c, "squeeze_axes", nsq, sq)};
        TRYV(sin[1]);
        x = emit(c, DT_OP_Squeeze, "squeeze", 2, sin, --steps == 0 ? o : -1, NULL);
        TRYV(x);
    }
    if (nun) {
        int uin[2] = {x, const_i64_1d(c, "unsqueeze_axes", nun, un)};
        TRYV(uin[1]);
        TRYV(emit(c, DT_OP_Unsqueeze, "unsqueeze", 2, uin, o, NULL));
    }
    return DT_OK;
}

static dt_code tr_gather(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    int v2 = !strcmp(c->cur->op, "GatherV2");
    TRY(need(c, n_in, v2 ? 3 : 2));
    int64_t axis = 0;
    if (v2 && !const_scalar(c, in[2], &axis))
        return bad_input(c, "axis must be a constant");
    if (attr_i(c, "batch_dims", 0) != 0)
        return bad_input(c, "batch_dims must be 0");
    int o = out_val(c, 0), nd;
    TRYV(o);
    TRYV(emit(c, DT_OP_Gather, "gather", 2, in, o, &nd));
    return dt_node_set_int(c->g, nd, "axis", axis, c->st);
}

static dt_code tr_topk(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 2));
    int k = to_i64(c, in[1], "k", 1);
    TRYV(k);
    int o0 = out_val(c, 0), o1 = out_val(c, 1);
    TRYV(o0);
    TRYV(o1);
    int idx = dt_graph_add_value(c->g, vname(c, "indices64"), DT_UNDEF, -1, NULL, c->st);
    TRYV(idx);
    int tin[2] = {in[0], k}, touts[2] = {o0, idx};
    int nd = dt_graph_add_node(c->g, DT_OP_TopK, c->cur->name, 2, tin, 2, touts, c->st);
    TRYV(nd);
    TRY(dt_node_set_int(c->g, nd, "axis", -1, c->st));
    TRY(dt_node_set_int(c->g, nd, "largest", 1, c->st));
    TRY(dt_node_set_int(c->g, nd, "sorted", 1, c->st));
    return cast_i32_out(c, idx, o1); /* TF returns int32 indices */
}

static dt_code tr_fill(tctx *c, const int *in, int n_in, dt_op op)
{
    TRY(need(c, n_in, 2));
    /* Fill(dims, value) -> Expand(value, dims); Tile(x, multiples) -> Tile(x, int64) */
    int is_fill = op == DT_OP_Expand;
    int sh = to_i64(c, in[is_fill ? 0 : 1], "shape", 1);
    TRYV(sh);
    int o = out_val(c, 0);
    TRYV(o);
    int in2[2] = {in[is_fill ? 1 : 0], sh};
    return emit(c, op, "op", 2, in2, o, NULL) < 0 ? c->st->code : DT_OK;
}

static dt_code tr_where(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 1));
    if (n_in >= 3)
        return tr_simple(c, in, 3, DT_OP_Where);
    /* Where(cond): [N, rank] coordinates; NonZero gives [rank, N] int64 */
    int o = out_val(c, 0), nd;
    TRYV(o);
    int nz = emit(c, DT_OP_NonZero, "nonzero", 1, in, -1, NULL);
    TRYV(nz);
    static const int64_t perm[2] = {1, 0};
    int t = emit(c, DT_OP_Transpose, "transpose", 1, &nz, -1, &nd);
    TRYV(t);
    TRY(dt_node_set_ints(c->g, nd, "perm", perm, 2, c->st));
    return cast_i32_out(c, t, o);
}

static dt_code tr_sparse_to_dense(tctx *c, const int *in, int n_in, dt_op op)
{
    (void)op;
    TRY(need(c, n_in, 4));
    return tr_simple(c, in, 4, DT_OP_SparseToDense);
}

/* ---- op table ---------------------------------------------------------------------- */

typedef struct tr_entry {
    const char *tf;
    tr_fn fn;
    dt_op op;
} tr_entry;

static const tr_entry TR[] = {
    {"Identity", tr_identity, DT_OP_Identity},
    {"IdentityN", tr_identity, DT_OP_Identity},
    {"Snapshot", tr_identity, DT_OP_Identity},
    {"StopGradient", tr_identity, DT_OP_Identity},
    {"NoOp", tr_noop, DT_OP_UNKNOWN},
    {"Conv2D", tr_conv, DT_OP_Conv},
    {"_FusedConv2D", tr_conv, DT_OP_Conv},
    {"DepthwiseConv2dNative", tr_conv, DT_OP_Conv},
    {"FusedDepthwiseConv2dNative", tr_conv, DT_OP_Conv},
    {"MaxPool", tr_pool, DT_OP_MaxPool},
    {"AvgPool", tr_pool, DT_OP_AveragePool},
    {"FusedBatchNorm", tr_batchnorm, DT_OP_BatchNormalization},
    {"FusedBatchNormV2", tr_batchnorm, DT_OP_BatchNormalization},
    {"FusedBatchNormV3", tr_batchnorm, DT_OP_BatchNormalization},
    {"MatMul", tr_matmul, DT_OP_MatMul},
    {"BatchMatMul", tr_matmul, DT_OP_MatMul},
    {"BatchMatMulV2", tr_matmul, DT_OP_MatMul},
    {"_FusedMatMul", tr_matmul, DT_OP_MatMul},
    {"Relu", tr_act, DT_OP_Relu},
    {"Relu6", tr_act, DT_OP_Clip},
    {"LeakyRelu", tr_act, DT_OP_LeakyRelu},
    {"Elu", tr_act, DT_OP_Elu},
    {"Prelu", tr_act, DT_OP_PRelu},
    {"Sigmoid", tr_unary, DT_OP_Sigmoid},
    {"Tanh", tr_unary, DT_OP_Tanh},
    {"Selu", tr_unary, DT_OP_Selu},
    {"Softplus", tr_unary, DT_OP_Softplus},
    {"Exp", tr_unary, DT_OP_Exp},
    {"Log", tr_unary, DT_OP_Log},
    {"Sqrt", tr_unary, DT_OP_Sqrt},
    {"Rsqrt", tr_rsqrt, DT_OP_UNKNOWN},
    {"Square", tr_square, DT_OP_Mul},
    {"SquaredDifference", tr_square, DT_OP_Sub},
    {"Abs", tr_unary, DT_OP_Abs},
    {"Neg", tr_unary, DT_OP_Neg},
    {"Reciprocal", tr_unary, DT_OP_Reciprocal},
    {"Inv", tr_unary, DT_OP_Reciprocal},
    {"Floor", tr_unary, DT_OP_Floor},
    {"Ceil", tr_unary, DT_OP_Ceil},
    {"Round", tr_unary, DT_OP_Round},
    {"Sign", tr_unary, DT_OP_Sign},
    {"Erf", tr_unary, DT_OP_Erf},
    {"LogicalNot", tr_unary, DT_OP_Not},
    {"Add", tr_binary, DT_OP_Add},
    {"AddV2", tr_binary, DT_OP_Add},
    {"AddN", tr_addn, DT_OP_Sum},
    {"BiasAdd", tr_bias_add, DT_OP_Add},
    {"Sub", tr_binary, DT_OP_Sub},
    {"Mul", tr_binary, DT_OP_Mul},
    {"RealDiv", tr_div, DT_OP_Div},
    {"Div", tr_div, DT_OP_Div},
    {"FloorDiv", tr_binary, DT_OP_FloorDiv},
    {"FloorMod", tr_binary, DT_OP_Mod},
    {"Mod", tr_binary, DT_OP_Mod},
    {"Pow", tr_binary, DT_OP_Pow},
    {"Maximum", tr_binary, DT_OP_Max},
    {"Minimum", tr_binary, DT_OP_Min},
    {"Equal", tr_binary, DT_OP_Equal},
    {"NotEqual", tr_not_equal, DT_OP_UNKNOWN},
    {"Greater", tr_binary, DT_OP_Greater},
    {"GreaterEqual", tr_binary, DT_OP_GreaterOrEqual},
    {"Less", tr_binary, DT_OP_Less},
    {"LessEqual", tr_binary, DT_OP_LessOrEqual},
    {"LogicalAnd", tr_binary, DT_OP_And},
    {"LogicalOr", tr_binary, DT_OP_Or},
    {"SelectV2", tr_where, DT_OP_Where},
    {"Where", tr_where, DT_OP_NonZero},
    {"Cast", tr_cast, DT_OP_Cast},
    {"Shape", tr_shape, DT_OP_Shape},
    {"Softmax", tr_softmax, DT_OP_Softmax},
    {"LogSoftmax", tr_softmax, DT_OP_LogSoftmax},
    {"Mean", tr_reduce, DT_OP_ReduceMean},
    {"Sum", tr_reduce, DT_OP_ReduceSum},
    {"Max", tr_reduce, DT_OP_ReduceMax},
    {"Min", tr_reduce, DT_OP_ReduceMin},
    {"Prod", tr_reduce, DT_OP_ReduceProd},
    {"ArgMax", tr_argmax, DT_OP_ArgMax},
    {"ArgMin", tr_argmax, DT_OP_ArgMin},
    {"ConcatV2", tr_concat, DT_OP_Concat},
    {"Concat", tr_concat, DT_OP_Concat},
    {"Reshape", tr_reshape, DT_OP_Reshape},
    {"Transpose", tr_transpose, DT_OP_Transpose},
    {"Pad", tr_pad, DT_OP_Pad},
    {"PadV2", tr_pad, DT_OP_Pad},
    {"MirrorPad", tr_pad, DT_OP_Pad},
    {"ResizeBilinear", tr_resize, DT_OP_Resize},
    {"ResizeNearestNeighbor", tr_resize, DT_OP_Resize},
    {"Split", tr_split, DT_OP_Split},
    {"SplitV", tr_split, DT_OP_Split},
    {"Pack", tr_pack, DT_OP_Concat},
    {"Unpack", tr_unpack, DT_OP_Split},
    {"StridedSlice", tr_strided_slice, DT_OP_Slice},
    {"ExpandDims", tr_expand_dims, DT_OP_Unsqueeze},
    {"Squeeze", tr_squeeze, DT_OP_Squeeze},
    {"GatherV2", tr_gather, DT_OP_Gather},
    {"Gather", tr_gather, DT_OP_Gather},
    {"TopKV2", tr_topk, DT_OP_TopK},
    {"SparseToDense", tr_sparse_to_dense, DT_OP_SparseToDense},
    {"Fill", tr_fill, DT_OP_Expand},
    {"Tile", tr_fill, DT_OP_Tile},
    {"Range", tr_simple, DT_OP_Range},
    {NULL, NULL, DT_OP_UNKNOWN},
};

/* ---- weights ----------------------------------------------------------------------- */

static dt_code parse_weights(tctx *c, json_t *manifest)
{
    size_t total = 0;
    json_t *group;
    size_t gi;
    json_array_foreach(manifest, gi, group) {
        json_t *ws = json_is_object(group) ? json_object_get(group, "weights") : NULL;
        if (!json_is_array(ws))
            return dt_fail(c->st, DT_ECORRUPT, "weightsManifest[%zu] has no weights array", gi);
        total += json_array_size(ws);
    }
    if (total > 1000000)
        return dt_fail(c->st, DT_ELIMIT, "too many weights (%zu)", total);
    c->ws = dt_calloc(total ? total : 1, sizeof(wspec));
    if (!c->ws)
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    size_t off = 0;
    json_array_foreach(manifest, gi, group) {
        json_t *ws = json_object_get(group, "weights"), *spec;
        size_t wi;
        json_array_foreach(ws, wi, spec) {
            wspec *w = &c->ws[c->n_ws];
            const char *name = json_string_value(json_object_get(spec, "name"));
            const char *dtype = json_string_value(json_object_get(spec, "dtype"));
            json_t *shape = json_object_get(spec, "shape");
            if (!name || !dtype || !json_is_array(shape) || json_array_size(shape) > DT_MAX_DIMS)
                return dt_fail(c->st, DT_ECORRUPT, "weight #%d: missing name, dtype or shape (max %d dims)",
                               c->n_ws, DT_MAX_DIMS);
            w->name = name;
            w->ndim = (int)json_array_size(shape);
            for (int i = 0; i < w->ndim; i++)
                if (!json_i64(json_array_get(shape, (size_t)i), &w->dims[i]) || w->dims[i] < 0)
                    return dt_fail(c->st, DT_ECORRUPT, "weight '%s': bad shape", name);
            w->numel = dt_shape_numel(w->ndim, w->dims);
            if (w->numel < 0)
                return dt_fail(c->st, DT_ECORRUPT, "weight '%s': shape too large", name);
            size_t esize;
            if (!strcmp(dtype, "float32")) {
                w->dtype = DT_F32;
                esize = 4;
            } else if (!strcmp(dtype, "int32")) {
                w->dtype = DT_I32;
                esize = 4;
            } else if (!strcmp(dtype, "bool")) {
                w->dtype = DT_BOOL;
                esize = 1;
            } else if (!strcmp(dtype, "complex64")) {
                w->dtype = DT_UNDEF;
                esize = 8;
            } else if (!strcmp(dtype, "string")) {
                w->dtype = DT_UNDEF;
                esize = 0;
            } else {
                return dt_fail(c->st, DT_EUNSUPPORTED, "weight '%s': unsupported dtype '%s'", name, dtype);
            }
            json_t *q = json_object_get(spec, "quantization");
            if (q) {
                const char *qd = json_string_value(json_object_get(q, "dtype"));
                if (!qd)
                    return dt_fail(c->st, DT_ECORRUPT, "weight '%s': quantization without dtype", name);
                if (!strcmp(qd, "float16") && w->dtype == DT_F32) {
                    w->q = Q_F16;
                    esize = 2;
                } else if ((!strcmp(qd, "uint8") || !strcmp(qd, "uint16")) &&
                           (w->dtype == DT_F32 || w->dtype == DT_I32)) {
                    w->q = qd[4] == '8' ? Q_U8 : Q_U16;
                    esize = w->q == Q_U8 ? 1 : 2;
                    if (!json_f64(json_object_get(q, "scale"), &w->scale) ||
                        !json_f64(json_object_get(q, "min"), &w->min) || !isfinite(w->scale) || !isfinite(w->min))
                        return dt_fail(c->st, DT_ECORRUPT, "weight '%s': %s quantization needs finite scale and min",
                                       name, qd);
                } else {
                    return dt_fail(c->st, DT_EUNSUPPORTED, "weight '%s': unsupported quantization %s for %s", name,
                                   qd, dtype);
                }
            }
            size_t nbytes = 0;
            if (!strcmp(dtype, "string") && !q) {
                /* each element: uint32 length + bytes (skipped, unusable) */
                for (int64_t i = 0; i < w->numel; i++) {
                    uint32_t len;
                    if (off + nbytes + 4 > c->wlen || off + nbytes + 4 < off)
                        return dt_fail(c->st, DT_ECORRUPT, "weights truncated in string weight '%s'", name);
                    memcpy(&len, c->wdata + off + nbytes, 4);
                    nbytes += 4 + (size_t)len;
                }
            } else if (!dt_mul_size((size_t)w->numel, esize, &nbytes)) {
                return dt_fail(c->st, DT_ECORRUPT, "weight '%s': size overflow", name);
            }
            if (nbytes > c->wlen || off > c->wlen - nbytes)
                return dt_fail(c->st, DT_ECORRUPT,
                               "weights truncated: '%s' needs bytes %zu..%zu but the shards hold %zu bytes", name, off,
                               off + nbytes, c->wlen);
            w->off = off;
            w->nbytes = nbytes;
            off += nbytes;
            if (json_object_set_new_nocheck(c->w_map, name, json_integer(c->n_ws)))
                return dt_fail(c->st, DT_ENOMEM, "out of memory");
            c->n_ws++;
        }
    }
    return DT_OK;
}

static int make_const(tctx *c, const wspec *w)
{
    if (w->dtype == DT_UNDEF) {
        dt_fail(c->st, DT_EUNSUPPORTED, "constant '%s': string/complex weights are not supported", w->name);
        return -1;
    }
    size_t es = dt_dtype_size(w->dtype), n = (size_t)w->numel;
    dt_buf *b = dt_buf_new(n * es);
    if (!b) {
        dt_fail(c->st, DT_ENOMEM, "out of memory for constant '%s'", w->name);
        return -1;
    }
    const uint8_t *p = c->wdata + w->off;
    if (w->q == Q_NONE) {
        if (n)
            memcpy(b->data, p, n * es);
        if (w->dtype == DT_BOOL)
            for (size_t i = 0; i < n; i++)
                ((uint8_t *)b->data)[i] = ((uint8_t *)b->data)[i] != 0;
    } else {
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            double v;
            if (w->q == Q_U8) {
                v = p[i];
            } else {
                memcpy(&h, p + 2 * i, 2);
                v = h;
            }
            if (w->q == Q_F16)
                ((float *)b->data)[i] = dt_half_to_float(h);
            else if (w->dtype == DT_F32)
                ((float *)b->data)[i] = (float)(v * w->scale + w->min);
            else { /* int32: Math.round (halves up), saturated */
                double r = floor(v * w->scale + w->min + 0.5);
                ((int32_t *)b->data)[i] = r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
            }
        }
    }
    return dt_graph_add_const_buf(c->g, c->cur->name, w->dtype, w->ndim, w->dims, b, c->st);
}

/* ---- node table, ordering ------------------------------------------------------------- */

static int node_index(tctx *c, const char *name)
{
    json_t *v = json_object_get(c->node_map, name);
    return v ? (int)json_integer_value(v) : -1;
}

/* "x", "x:3" -> node index and port; -1 when unknown. */
static int resolve_input(tctx *c, const char *s, int *port)
{
    *port = 0;
    int i = node_index(c, s);
    if (i >= 0)
        return i;
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 6)
        return -1;
    for (const char *q = colon + 1; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    char name[1024];
    size_t len = (size_t)(colon - s);
    if (len >= sizeof name)
        return -1;
    memcpy(name, s, len);
    name[len] = 0;
    *port = atoi(colon + 1);
    return node_index(c, name);
}

static dt_code parse_nodes(tctx *c, json_t *list)
{
    size_t n = json_array_size(list);
    if (n > 2000000)
        return dt_fail(c->st, DT_ELIMIT, "too many nodes (%zu)", n);
    c->nodes = dt_calloc(n ? n : 1, sizeof(tfnode));
    if (!c->nodes)
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *nd = json_array_get(list, i);
        tfnode *t = &c->nodes[i];
        t->name = json_string_value(json_object_get(nd, "name"));
        t->op = json_string_value(json_object_get(nd, "op"));
        if (!t->name || !t->op || !*t->name)
            return dt_fail(c->st, DT_ECORRUPT, "node #%zu: missing name or op", i);
        if (strlen(t->name) > 400)
            return dt_fail(c->st, DT_ELIMIT, "node #%zu: name too long", i);
        t->attr = json_object_get(nd, "attr");
        if (t->attr && !json_is_object(t->attr))
            return dt_fail(c->st, DT_ECORRUPT, "node '%s': attr is not an object", t->name);
        if (json_object_get(c->node_map, t->name))
            return dt_fail(c->st, DT_ECORRUPT, "node name '%s' used twice", t->name);
        if (json_object_set_new_nocheck(c->node_map, t->name, json_integer((json_int_t)i)))
            return dt_fail(c->st, DT_ENOMEM, "out of memory");
        c->n_nodes++;
    }
    for (size_t i = 0; i < n; i++) {
        tfnode *t = &c->nodes[i];
        json_t *ins = json_object_get(json_array_get(list, i), "input");
        if (ins && !json_is_array(ins))
            return dt_fail(c->st, DT_ECORRUPT, "node '%s': input is not an array", t->name);
        size_t ni = json_array_size(ins);
        if (ni > 100000)
            return dt_fail(c->st, DT_ELIMIT, "node '%s': too many inputs", t->name);
        t->in_node = dt_malloc((ni ? ni : 1) * sizeof(int));
        t->in_port = dt_malloc((ni ? ni : 1) * sizeof(int));
        if (!t->in_node || !t->in_port)
            return dt_fail(c->st, DT_ENOMEM, "out of memory");
        for (size_t k = 0; k < ni; k++) {
            const char *s = json_string_value(json_array_get(ins, k));
            if (!s)
                return dt_fail(c->st, DT_ECORRUPT, "node '%s': input #%zu is not a string", t->name, k);
            int port, ctl = s[0] == '^';
            int src = resolve_input(c, s + ctl, &port);
            if (src < 0)
                return dt_fail(c->st, DT_ECORRUPT, "node '%s': input '%s' names no node", t->name, s);
            c->nodes[src].consumed = 1; /* control deps count too, as in tfjs */
            if (!ctl) {
                t->in_node[t->n_in] = src;
                t->in_port[t->n_in++] = port;
            }
        }
    }
    return DT_OK;
}

/* Post-order DFS from `root` over data inputs (iterative: hostile graphs can
 * be deep).  Appends newly finished nodes to order[]. */
static dt_code visit(tctx *c, int root, int *order, int *n_order, int *stack, int *pos)
{
    if (c->nodes[root].state == 2)
        return DT_OK;
    int sp = 0;
    stack[sp] = root;
    pos[sp++] = 0;
    c->nodes[root].state = 1;
    while (sp) {
        tfnode *t = &c->nodes[stack[sp - 1]];
        int k = pos[sp - 1];
        if (k < t->n_in) {
            pos[sp - 1]++;
            int nx = t->in_node[k];
            if (c->nodes[nx].state == 1)
                return dt_fail(c->st, DT_ECORRUPT, "graph has a cycle through node '%s'", c->nodes[nx].name);
            if (c->nodes[nx].state == 0) {
                c->nodes[nx].state = 1;
                stack[sp] = nx;
                pos[sp++] = 0;
            }
        } else {
            t->state = 2;
            order[(*n_order)++] = stack[--sp];
        }
    }
    return DT_OK;
}

/* ---- translation of one node ---------------------------------------------------------- */

static dt_code translate(tctx *c, int idx)
{
    const tfnode *t = &c->nodes[idx];
    c->cur = t;
    c->bad_attr = NULL;
    if (!strcmp(t->op, "Const")) {
        json_t *w = json_object_get(c->w_map, t->name);
        if (!w)
            return dt_fail(c->st, DT_ECORRUPT, "constant '%s' has no entry in weightsManifest", t->name);
        return make_const(c, &c->ws[json_integer_value(w)]) < 0 ? c->st->code : DT_OK;
    }
    if (!strncmp(t->op, "Placeholder", 11)) {
        int ndim = -1;
        int64_t dims[DT_MAX_DIMS] = {0};
        json_t *sh = attr_field(c, "shape", "shape");
        if (sh && !parse_shape(sh, &ndim, dims))
            return dt_fail(c->st, DT_ECORRUPT, "placeholder '%s': bad shape", t->name);
        dt_dtype dt = attr_type(c, "dtype");
        if (dt == DT_UNDEF)
            return dt_fail(c->st, DT_EUNSUPPORTED, "placeholder '%s': unsupported dtype", t->name);
        return dt_graph_add_value(c->g, t->name, dt, ndim, dims, c->st) < 0 ? c->st->code : DT_OK;
    }
    const tr_entry *e = TR;
    while (e->tf && strcmp(e->tf, t->op))
        e++;
    if (!e->tf)
        return dt_fail(c->st, DT_EUNSUPPORTED, "unsupported TF.js operator '%s' (node '%s')", t->op, t->name);
    int *in = dt_malloc((size_t)(t->n_in ? t->n_in : 1) * sizeof(int));
    if (!in)
        return dt_fail(c->st, DT_ENOMEM, "out of memory");
    for (int k = 0; k < t->n_in; k++) {
        const tfnode *src = &c->nodes[t->in_node[k]];
        char name[600];
        if (t->in_port[k] == 0)
            snprintf(name, sizeof name, "%s", src->name);
        else
            snprintf(name, sizeof name, "%s:%d", src->name, t->in_port[k]);
        in[k] = dt_graph_find(c->g, name);
        if (in[k] < 0) {
            dt_free(in);
            return dt_fail(c->st, DT_ECORRUPT, "node '%s': input '%s' does not exist (%s has no such output)",
                           t->name, name, src->op);
        }
    }
    dt_code rc = e->fn(c, in, t->n_in, e->op);
    dt_free(in);
    if (rc == DT_OK && c->bad_attr)
        rc = dt_fail(c->st, DT_ECORRUPT, "node '%s' (%s): malformed attribute '%s'", t->name, t->op, c->bad_attr);
    return rc;
}

/* ---- outputs / inputs ------------------------------------------------------------------- */

/* Make value `vid` a graph output called `key` (renamed, or via Identity). */
static dt_code add_output(tctx *c, int vid, const char *key)
{
    dt_value *v = &c->g->values[vid];
    if (key && strcmp(v->name, key)) {
        if (v->producer >= 0 && !v->is_output && dt_graph_find(c->g, key) < 0) {
            TRY(dt_graph_rename(c->g, vid, key, c->st));
        } else {
            int o = dt_graph_add_value(c->g, dt_graph_find(c->g, key) < 0 ? key : NULL, DT_UNDEF, -1, NULL, c->st);
            TRYV(o);
            TRYV(dt_graph_add_node(c->g, DT_OP_Identity, key, 1, &vid, 1, &o, c->st));
            vid = o;
        }
    } else if (c->g->values[vid].is_output || c->g->values[vid].is_input || c->g->values[vid].producer < 0) {
        /* the same value twice, or an input/constant: give the output its own value */
        int o = dt_graph_add_value(c->g, NULL, DT_UNDEF, -1, NULL, c->st);
        TRYV(o);
        TRYV(dt_graph_add_node(c->g, DT_OP_Identity, key, 1, &vid, 1, &o, c->st));
        vid = o;
    }
    return dt_graph_mark_output(c->g, vid, c->st);
}

/* Value for a signature tensor name ("x" or "x:k"). */
static int sig_value(tctx *c, const char *tname, int *node)
{
    int port;
    *node = resolve_input(c, tname, &port);
    if (*node < 0)
        return -1;
    char name[600];
    if (port == 0)
        snprintf(name, sizeof name, "%s", c->nodes[*node].name);
    else
        snprintf(name, sizeof name, "%s:%d", c->nodes[*node].name, port);
    return dt_graph_find(c->g, name);
}

/* ---- main --------------------------------------------------------------------------------- */

static dt_code build(json_t *root, const uint8_t *wdata, size_t wlen, dt_graph **out, dt_status *st)
{
    dt_status local;
    if (!st)
        st = &local;
    dt_status_clear(st);
    tctx cx;
    tctx *c = &cx;
    memset(c, 0, sizeof cx);
    c->st = st;
    c->wdata = wdata;
    c->wlen = wlen;
    dt_code rc = DT_OK;
    int *order = NULL, *stack = NULL, *pos = NULL, *roots = NULL;
    char **keys = NULL;
    int n_roots = 0, n_order = 0;

    json_t *topo = json_object_get(root, "modelTopology");
    json_t *nodes = json_is_object(topo) ? json_object_get(topo, "node") : NULL;
    json_t *manifest = json_object_get(root, "weightsManifest");
    json_t *sig = json_object_get(root, "signature");
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (fmt && strcmp(fmt, "graph-model"))
        return dt_fail(st, DT_EUNSUPPORTED, "format '%s' is not a TF.js graph model", fmt);
    if (!json_is_array(nodes))
        return dt_fail(st, DT_ECORRUPT, "no modelTopology.node array (not a TF.js graph model)");
    if (manifest && !json_is_array(manifest))
        return dt_fail(st, DT_ECORRUPT, "weightsManifest is not an array");
    json_t *sig_in = json_is_object(sig) ? json_object_get(sig, "inputs") : NULL;
    json_t *sig_out = json_is_object(sig) ? json_object_get(sig, "outputs") : NULL;
    if ((sig_in && !json_is_object(sig_in)) || (sig_out && !json_is_object(sig_out)))
        return dt_fail(st, DT_ECORRUPT, "signature inputs/outputs must be objects");

    c->node_map = json_object();
    c->w_map = json_object();
    c->g = dt_graph_create();
    if (!c->node_map || !c->w_map || !c->g) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = parse_nodes(c, nodes)) != DT_OK)
        goto done;
    if (manifest && (rc = parse_weights(c, manifest)) != DT_OK)
        goto done;

    /* roots: outputs first (their order is the graph's), then inputs */
    int n = c->n_nodes;
    int max_roots = n + (int)json_object_size(sig_out) + (int)json_object_size(sig_in) + 1;
    roots = dt_malloc((size_t)max_roots * sizeof(int));
    keys = dt_calloc((size_t)max_roots, sizeof(char *));
    order = dt_malloc((size_t)(n ? n : 1) * sizeof(int));
    stack = dt_malloc((size_t)(n ? n : 1) * sizeof(int));
    pos = dt_malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!roots || !keys || !order || !stack || !pos) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory");
        goto done;
    }
    int n_out = 0;
    if (json_object_size(sig_out) > 0) {
        const char *key;
        json_t *ent;
        json_object_foreach(sig_out, key, ent) {
            const char *tname = json_string_value(json_object_get(ent, "name"));
            int port, ni = tname ? resolve_input(c, tname, &port) : -1;
            if (ni < 0) {
                rc = dt_fail(st, DT_ECORRUPT, "signature output '%s' names no node", key);
                goto done;
            }
            keys[n_out] = (char *)key;
            roots[n_out++] = ni;
        }
    } else {
        for (int i = 0; i < n; i++) {
            const char *op = c->nodes[i].op;
            if (!c->nodes[i].consumed && strcmp(op, "Const") && strcmp(op, "NoOp") && strncmp(op, "Placeholder", 11))
                roots[n_out++] = i;
        }
    }
    if (n_out == 0) {
        rc = dt_fail(st, DT_ECORRUPT, "model has no outputs");
        goto done;
    }
    n_roots = n_out;
    if (json_object_size(sig_in) > 0) {
        const char *key;
        json_t *ent;
        json_object_foreach(sig_in, key, ent) {
            const char *tname = json_string_value(json_object_get(ent, "name"));
            int port, ni = tname ? resolve_input(c, tname, &port) : -1;
            if (ni < 0 || strncmp(c->nodes[ni].op, "Placeholder", 11)) {
                rc = dt_fail(st, DT_ECORRUPT, "signature input '%s' names no placeholder", key);
                goto done;
            }
            roots[n_roots++] = ni;
        }
    } else {
        for (int i = 0; i < n; i++)
            if (!strncmp(c->nodes[i].op, "Placeholder", 11))
                roots[n_roots++] = i;
    }
    for (int r = 0; r < n_roots; r++)
        if ((rc = visit(c, roots[r], order, &n_order, stack, pos)) != DT_OK)
            goto done;
    for (int i = 0; i < n_order; i++)
        if ((rc = translate(c, order[i])) != DT_OK)
            goto done;

    /* graph inputs: signature order (or placeholders), then any other placeholder the outputs need */
    for (int r = n_out; r < n_roots; r++) {
        int vid = dt_graph_find(c->g, c->nodes[roots[r]].name);
        if (vid >= 0 && !c->g->values[vid].is_input && (rc = dt_graph_mark_input(c->g, vid, st)) != DT_OK)
            goto done;
    }
    for (int i = 0; i < n_order; i++) {
        const tfnode *t = &c->nodes[order[i]];
        if (strncmp(t->op, "Placeholder", 11))
            continue;
        int vid = dt_graph_find(c->g, t->name);
        if (vid >= 0 && !c->g->values[vid].is_input && (rc = dt_graph_mark_input(c->g, vid, st)) != DT_OK)
            goto done;
    }
    for (int r = 0; r < n_out; r++) {
        int ni;
        int vid;
        if (keys[r]) {
            const char *tname = json_string_value(json_object_get(json_object_get(sig_out, keys[r]), "name"));
            vid = sig_value(c, tname, &ni);
        } else {
            ni = roots[r];
            vid = dt_graph_find(c->g, c->nodes[ni].name);
        }
        if (vid < 0) {
            rc = dt_fail(st, DT_ECORRUPT, "output '%s' is not produced by node '%s' (%s)",
                         keys[r] ? keys[r] : c->nodes[roots[r]].name, c->nodes[roots[r]].name, c->nodes[roots[r]].op);
            goto done;
        }
        c->cur = &c->nodes[ni];
        if ((rc = add_output(c, vid, keys[r] ? keys[r] : c->g->values[vid].name)) != DT_OK)
            goto done;
    }
    if (c->g->n_inputs > 0) {
        const dt_value *in0 = &c->g->values[c->g->inputs[0]];
        if (in0->ndim == 4 && in0->dims[3] == 3)
            c->g->layout = dt_strdup("NHWC");
        else if (in0->ndim == 4 && in0->dims[1] == 3)
            c->g->layout = dt_strdup("NCHW");
    }
    const char *by = json_string_value(json_object_get(root, "convertedBy"));
    if (!by)
        by = json_string_value(json_object_get(root, "generatedBy"));
    c->g->name = dt_strdup(by ? by : "tfjs");
    if (!c->g->name) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory");
        goto done;
    }
    rc = dt_graph_toposort(c->g, st);

done:
    if (c->nodes)
        for (int i = 0; i < c->n_nodes; i++) {
            dt_free(c->nodes[i].in_node);
            dt_free(c->nodes[i].in_port);
        }
    dt_free(c->nodes);
    dt_free(c->ws);
    dt_free(order);
    dt_free(stack);
    dt_free(pos);
    dt_free(roots);
    dt_free(keys);
    json_decref(c->node_map);
    json_decref(c->w_map);
    if (rc != DT_OK) {
        dt_graph_free(c->g);
        return rc;
    }
    *out = c->g;
    return DT_OK;
}

static json_t *parse_json(const char *text, size_t len, dt_status *st)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    if (!root) {
        dt_fail(st, json_error_code(&err) == json_error_out_of_memory ? DT_ENOMEM : DT_ECORRUPT,
                "model.json: %s (line %d, column %d)", err.text, err.line, err.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        dt_fail(st, DT_ECORRUPT, "model.json is not a JSON object");
        return NULL;
    }
    return root;
}

dt_code dt_load_tfjs_buffer(const char *json, size_t json_len, const void *weights, size_t weights_len,
                            dt_graph **out, dt_status *st)
{
    if (!out)
        return dt_fail(st, DT_EINVAL, "dt_load_tfjs_buffer: out is NULL");
    *out = NULL;
    if (!json)
        return dt_fail(st, DT_EINVAL, "dt_load_tfjs_buffer: json is NULL");
    if (!weights)
        weights_len = 0;
    json_t *root = parse_json(json, json_len, st);
    if (!root)
        return st ? st->code : DT_ECORRUPT;
    dt_code rc = build(root, weights, weights_len, out, st);
    json_decref(root);
    return rc;
}

/* Read a whole regular file (at most `limit` bytes) appending to *buf. */
static dt_code read_append(const char *path, size_t limit, uint8_t **buf, size_t *len, dt_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_fail(st, errno == ENOENT ? DT_ENOTFOUND : DT_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return dt_fail(st, DT_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > limit || (size_t)sb.st_size > limit - *len) {
        fclose(f);
        return dt_fail(st, DT_ELIMIT, "%s: too large", path);
    }
    size_t sz = (size_t)sb.st_size;
    uint8_t *nb = dt_realloc(*buf, *len + sz + 1);
    if (!nb) {
        fclose(f);
        return dt_fail(st, DT_ENOMEM, "out of memory reading %s", path);
    }
    *buf = nb;
    size_t got = sz ? fread(nb + *len, 1, sz, f) : 0;
    fclose(f);
    if (got != sz)
        return dt_fail(st, DT_EIO, "%s: short read", path);
    *len += sz;
    nb[*len] = 0;
    return DT_OK;
}

/* Shard paths are relative to model.json and may not leave its directory. */
static int safe_rel_path(const char *p)
{
    if (!*p || p[0] == '/' || strchr(p, '\\'))
        return 0;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        s += n + (e ? 1 : 0);
        if (!e)
            break;
    }
    return 1;
}

dt_code dt_load_tfjs(const char *path, dt_graph **out, dt_status *st)
{
    if (!out || !path)
        return dt_fail(st, DT_EINVAL, "dt_load_tfjs: NULL argument");
    *out = NULL;
    uint8_t *text = NULL, *w = NULL;
    size_t tlen = 0, wlen = 0;
    json_t *root = NULL;
    dt_code rc = read_append(path, TF_MAX_JSON, &text, &tlen, st);
    if (rc == DT_OK) {
        root = parse_json((const char *)text, tlen, st);
        if (!root)
            rc = st ? st->code : DT_ECORRUPT;
    }
    dt_free(text);
    json_t *manifest = root ? json_object_get(root, "weightsManifest") : NULL;
    if (rc == DT_OK && manifest && json_is_array(manifest)) {
        const char *slash = strrchr(path, '/');
        size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
        size_t gi;
        json_t *group;
        json_array_foreach(manifest, gi, group) {
            json_t *paths = json_object_get(group, "paths");
            if (!json_is_array(paths)) {
                rc = dt_fail(st, DT_ECORRUPT, "weightsManifest[%zu] has no paths array", gi);
                break;
            }
            size_t pi;
            json_t *p;
            json_array_foreach(paths, pi, p) {
                const char *rel = json_string_value(p);
                if (!rel || !safe_rel_path(rel) || strlen(rel) > 1024) {
                    rc = dt_fail(st, DT_ECORRUPT, "weightsManifest[%zu]: bad shard path", gi);
                    break;
                }
                char full[4096];
                if (dlen + strlen(rel) + 1 > sizeof full) {
                    rc = dt_fail(st, DT_ELIMIT, "shard path too long");
                    break;
                }
                memcpy(full, path, dlen);
                strcpy(full + dlen, rel);
                if ((rc = read_append(full, (size_t)1 << 34 < SIZE_MAX ? (size_t)1 << 34 : SIZE_MAX / 2, &w, &wlen,
                                      st)) != DT_OK)
                    break;
            }
            if (rc != DT_OK)
                break;
        }
    }
    if (rc == DT_OK)
        rc = build(root, w, wlen, out, st);
    json_decref(root);
    dt_free(w);
    if (rc != DT_OK && st)
        dt_wrap(st, "%s", path);
    return rc;
}
