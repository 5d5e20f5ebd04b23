/* onnx.c — ONNX model (protobuf) -> dt_graph.
 *
 * The file is untrusted: protobuf-c rejects malformed bytes (NULL), and every
 * size that decides an allocation or a copy (dims, raw_data length, external
 * data offset/length) is checked against the bytes actually present before
 * anything is allocated for it.  protobuf-c allocates through dt_malloc so
 * fault-injection tests cover the parser too.
 *
 * Order of work: initializers, graph inputs, then nodes in two passes (all
 * outputs first, so nodes may appear in any order; then inputs and
 * attributes), then graph outputs, then dt_graph_toposort.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "engine/loaders/loaders.h"
#include "onnx.pb-c.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX loader reads raw_data as little-endian host memory"
#endif

#define ONNX_MIN_OPSET 7

typedef struct loader {
    dt_graph *g;
    const char *base_dir; /* NULL: external data refused */
    dt_status *st;
    int opset;
    int anon;             /* counter for generated names */
} loader;

/* ---- protobuf-c allocator --------------------------------------------------- */

/* unpack returns NULL both for bad bytes and for a failed allocation: the
 * allocator_data (an int) records the latter so it is reported as out of
 * memory, not as a corrupt model. */
static void *pb_alloc(void *ud, size_t n)
{
    void *p = dt_malloc(n);
    if (!p && ud)
        *(int *)ud = 1;
    return p;
}

static void pb_free(void *ud, void *p)
{
    (void)ud;
    dt_free(p);
}

static const char *str_or(const char *s, const char *def) { return (s && *s) ? s : def; }

/* ---- tensors ---------------------------------------------------------------- */

/* Storage facts of an ONNX element type: the dtype we keep, the bytes per
 * element in raw_data, and which repeated field carries typed data. */
enum typed_field { TF_NONE, TF_FLOAT, TF_INT32, TF_INT64, TF_DOUBLE, TF_UINT64 };

typedef struct elem_info {
    dt_dtype keep;   /* dtype of the graph constant */
    size_t src_size; /* bytes per element in raw_data */
    enum typed_field field;
} elem_info;

static int elem_info_of(int onnx_type, elem_info *ei)
{
    switch (onnx_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *ei = (elem_info){DT_F32, 4, TF_FLOAT}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *ei = (elem_info){DT_F32, 2, TF_INT32}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: *ei = (elem_info){DT_F32, 2, TF_INT32}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *ei = (elem_info){DT_F32, 8, TF_DOUBLE}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *ei = (elem_info){DT_U8, 1, TF_INT32}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *ei = (elem_info){DT_I8, 1, TF_INT32}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *ei = (elem_info){DT_BOOL, 1, TF_INT32}; return 1;
    /* 16-bit integers widen to int32 (values are preserved; the engine has no int16) */
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *ei = (elem_info){DT_I32, 2, TF_INT32}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *ei = (elem_info){DT_I32, 2, TF_INT32}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *ei = (elem_info){DT_I32, 4, TF_INT32}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: *ei = (elem_info){DT_I64, 4, TF_UINT64}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *ei = (elem_info){DT_I64, 8, TF_INT64}; return 1;
    default: return 0;
    }
}

static const char *onnx_type_name(int t)
{
    static const char *const names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16",
                                        "int32", "int64", "string", "bool", "float16", "double",
                                        "uint32", "uint64", "complex64", "complex128", "bfloat16"};
    return (t >= 0 && t < (int)(sizeof names / sizeof names[0])) ? names[t] : "unknown";
}

static float bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Convert n source elements (raw little-endian bytes `src`, src_size bytes
 * each) into `dst` of the kept dtype (see elem_info_of). */
static void convert_raw(int onnx_type, size_t src_size, const uint8_t *src, size_t n, void *dst)
{
    size_t i;
    switch (onnx_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        for (i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            ((float *)dst)[i] = dt_half_to_float(h);
        }
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        for (i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            ((float *)dst)[i] = bf16_to_float(h);
        }
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        for (i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            ((float *)dst)[i] = (float)d;
        }
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
        for (i = 0; i < n; i++) {
            int16_t v;
            memcpy(&v, src + 2 * i, 2);
            ((int32_t *)dst)[i] = v;
        }
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
        for (i = 0; i < n; i++) {
            uint16_t v;
            memcpy(&v, src + 2 * i, 2);
            ((int32_t *)dst)[i] = v;
        }
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
        for (i = 0; i < n; i++) {
            uint32_t v;
            memcpy(&v, src + 4 * i, 4);
            ((int64_t *)dst)[i] = v;
        }
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        for (i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = src[i] != 0;
        break;
    default: /* same representation: float, int8/uint8, int32, int64 */
        if (n)
            memcpy(dst, src, n * src_size);
        break;
    }
}

/* Convert n typed-field elements into dst. */
static void convert_typed(const Onnx__TensorProto *t, int onnx_type, size_t n, void *dst)
{
    size_t i;
    switch (onnx_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        memcpy(dst, t->float_data, n * sizeof(float));
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        for (i = 0; i < n; i++)
            ((float *)dst)[i] = (float)t->double_data[i];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        memcpy(dst, t->int64_data, n * sizeof(int64_t));
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
        for (i = 0; i < n; i++)
            ((int64_t *)dst)[i] = (int64_t)(uint32_t)t->uint64_data[i];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: /* int32_data holds the 16 bits */
        for (i = 0; i < n; i++)
            ((float *)dst)[i] = dt_half_to_float((uint16_t)t->int32_data[i]);
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
        for (i = 0; i < n; i++)
            ((float *)dst)[i] = bf16_to_float((uint16_t)t->int32_data[i]);
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        for (i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = t->int32_data[i] != 0;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        for (i = 0; i < n; i++)
            ((uint8_t *)dst)[i] = (uint8_t)t->int32_data[i];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
        for (i = 0; i < n; i++)
            ((int8_t *)dst)[i] = (int8_t)t->int32_data[i];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
        for (i = 0; i < n; i++)
            ((int32_t *)dst)[i] = (int16_t)t->int32_data[i];
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
        for (i = 0; i < n; i++)
            ((int32_t *)dst)[i] = (uint16_t)t->int32_data[i];
        break;
    default: /* INT32 */
        memcpy(dst, t->int32_data, n * sizeof(int32_t));
        break;
    }
}

static size_t typed_count(const Onnx__TensorProto *t, enum typed_field f)
{
    switch (f) {
    case TF_FLOAT: return t->n_float_data;
    case TF_INT32: return t->n_int32_data;
    case TF_INT64: return t->n_int64_data;
    case TF_DOUBLE: return t->n_double_data;
    case TF_UINT64: return t->n_uint64_data;
    default: return 0;
    }
}

/* A relative path inside the model directory: no absolute path, no ".."
 * component, no backslash (a Windows separator would hide a "..\\"). */
static int safe_rel_path(const char *p)
{
    if (!p || !*p || p[0] == '/' || strchr(p, '\\'))
        return 0;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        if (!e)
            break;
        s = e + 1;
    }
    return 1;
}

/* Strict non-negative decimal. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

/* Read `need` bytes of external data for tensor `what` into a fresh dt_malloc
 * buffer (*out). */
static dt_code read_external(loader *L, const Onnx__TensorProto *t, const char *what, size_t need,
                             uint8_t **out)
{
    const char *loc = NULL;
    uint64_t off = 0, len = 0;
    int has_len = 0;
    for (size_t i = 0; i < t->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = t->external_data[i];
        if (!kv || !kv->key)
            continue;
        if (strcmp(kv->key, "location") == 0) {
            loc = kv->value;
        } else if (strcmp(kv->key, "offset") == 0) {
            if (!parse_u64(kv->value, &off))
                return dt_fail(L->st, DT_ECORRUPT, "tensor '%s': bad external data offset '%s'", what,
                               str_or(kv->value, ""));
        } else if (strcmp(kv->key, "length") == 0) {
            if (!parse_u64(kv->value, &len))
                return dt_fail(L->st, DT_ECORRUPT, "tensor '%s': bad external data length '%s'", what,
                               str_or(kv->value, ""));
            has_len = 1;
        }
    }
    if (!loc || !*loc)
        return dt_fail(L->st, DT_ECORRUPT, "tensor '%s': external data without a location", what);
    if (!L->base_dir)
        return dt_fail(L->st, DT_EUNSUPPORTED,
                       "tensor '%s': external data ('%s') is not allowed for a model loaded from memory", what,
                       loc);
    if (!safe_rel_path(loc))
        return dt_fail(L->st, DT_EINVAL,
                       "tensor '%s': external data location '%s' is not a relative path inside the model directory",
                       what, loc);
    size_t plen = strlen(L->base_dir) + strlen(loc) + 2;
    char *path = dt_malloc(plen);
    if (!path)
        return dt_fail(L->st, DT_ENOMEM, "out of memory");
    snprintf(path, plen, "%s/%s", L->base_dir, loc);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        dt_fail(L->st, e == ENOENT ? DT_ENOTFOUND : DT_EIO, "tensor '%s': cannot open external data '%s': %s",
                what, path, strerror(e));
        dt_free(path);
        return L->st->code;
    }
    dt_free(path);
    dt_code rc = DT_OK;
    uint8_t *buf = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = dt_fail(L->st, DT_EIO, "tensor '%s': external data '%s' is not a regular file", what, loc);
        goto done;
    }
    uint64_t fsize = (uint64_t)sb.st_size;
    if (off > fsize) {
        rc = dt_fail(L->st, DT_ECORRUPT, "tensor '%s': external data offset %llu is past the end of '%s' (%llu bytes)",
                     what, (unsigned long long)off, loc, (unsigned long long)fsize);
        goto done;
    }
    if (!has_len)
        len = fsize - off;
    if (len > fsize - off) {
        rc = dt_fail(L->st, DT_ECORRUPT,
                     "tensor '%s': external data range %llu+%llu is past the end of '%s' (%llu bytes)", what,
                     (unsigned long long)off, (unsigned long long)len, loc, (unsigned long long)fsize);
        goto done;
    }
    if (len != (uint64_t)need) {
        rc = dt_fail(L->st, DT_ECORRUPT, "tensor '%s': external data has %llu bytes, its shape needs %zu", what,
                     (unsigned long long)len, need);
        goto done;
    }
    buf = dt_malloc(need);
    if (!buf) {
        rc = dt_fail(L->st, DT_ENOMEM, "out of memory reading external data of '%s'", what);
        goto done;
    }
    if (fseeko(f, (off_t)off, SEEK_SET) != 0 || (need && fread(buf, 1, need, f) != need)) {
        rc = dt_fail(L->st, DT_EIO, "tensor '%s': cannot read external data '%s'", what, loc);
        dt_free(buf);
        buf = NULL;
        goto done;
    }
    *out = buf;
done:
    fclose(f);
    return rc;
}

/* Decode a TensorProto into a fresh blob with its dtype and shape. `what`
 * names it in errors. */
static dt_code tensor_decode(loader *L, const Onnx__TensorProto *t, const char *what, dt_dtype *dtype,
                             int *ndim, int64_t *dims, dt_buf **out)
{
    if (!t)
        return dt_fail(L->st, DT_ECORRUPT, "tensor '%s' is empty", what);
    int ot = t->has_data_type ? t->data_type : 0;
    elem_info ei;
    if (!elem_info_of(ot, &ei))
        return dt_fail(L->st, DT_EUNSUPPORTED, "tensor '%s' has unsupported element type %s (%d)", what,
                       onnx_type_name(ot), ot);
    if (t->segment)
        return dt_fail(L->st, DT_EUNSUPPORTED, "tensor '%s' is segmented", what);
    if (t->n_dims > DT_MAX_DIMS)
        return dt_fail(L->st, DT_EUNSUPPORTED, "tensor '%s' has %zu dims (max %d)", what, t->n_dims, DT_MAX_DIMS);
    uint64_t numel = 1;
    int zero = 0;
    for (size_t i = 0; i < t->n_dims; i++) {
        int64_t d = t->dims[i];
        if (d < 0)
            return dt_fail(L->st, DT_ECORRUPT, "tensor '%s' has a negative dim %lld", what, (long long)d);
        dims[i] = d;
        if (d == 0)
            zero = 1;
        else if ((uint64_t)d > ((uint64_t)1 << 40) / numel) /* 2^40 elements is beyond any model */
            return dt_fail(L->st, DT_ECORRUPT, "tensor '%s': shape is absurdly large", what);
        else
            numel *= (uint64_t)d;
    }
    if (zero)
        numel = 0;
    *ndim = (int)t->n_dims;
    *dtype = ei.keep;
    size_t n = (size_t)numel;
    size_t src_bytes = n * ei.src_size;
    size_t dst_bytes = n * dt_dtype_size(ei.keep);

    const uint8_t *raw = NULL;
    uint8_t *ext = NULL;
    int external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (external) {
        dt_code rc = read_external(L, t, what, src_bytes, &ext);
        if (rc != DT_OK)
            return rc;
        raw = ext;
    } else if (t->has_raw_data) {
        if (t->raw_data.len != src_bytes)
            return dt_fail(L->st, DT_ECORRUPT, "tensor '%s': raw_data has %zu bytes, shape %s of %s needs %zu", what,
                           t->raw_data.len, dt_shape_str(*ndim, dims, (char[96]){0}, 96), onnx_type_name(ot),
                           src_bytes);
        raw = t->raw_data.data;
    } else {
        size_t have = typed_count(t, ei.field);
        if (have != n)
            return dt_fail(L->st, DT_ECORRUPT, "tensor '%s': %zu data elements, shape %s needs %zu", what, have,
                           dt_shape_str(*ndim, dims, (char[96]){0}, 96), n);
    }
    dt_buf *b = dt_buf_new(dst_bytes);
    if (!b) {
        dt_free(ext);
        return dt_fail(L->st, DT_ENOMEM, "out of memory for tensor '%s' (%zu bytes)", what, dst_bytes);
    }
    if (raw)
        convert_raw(ot, ei.src_size, raw, n, b->data);
    else if (n)
        convert_typed(t, ot, n, b->data);
    dt_free(ext);
    *out = b;
    return DT_OK;
}

/* Add a TensorProto as a graph constant called `name`. */
static dt_code add_tensor_const(loader *L, const Onnx__TensorProto *t, const char *name)
{
    dt_dtype dt;
    int ndim = 0;
    int64_t dims[DT_MAX_DIMS] = {0};
    dt_buf *b = NULL;
    dt_code rc = tensor_decode(L, t, name, &dt, &ndim, dims, &b);
    if (rc != DT_OK)
        return rc;
    if (dt_graph_add_const_buf(L->g, name, dt, ndim, dims, b, L->st) < 0)
        return L->st->code;
    return DT_OK;
}

/* ---- value infos ------------------------------------------------------------ */

static dt_code value_info_type(loader *L, const Onnx__ValueInfoProto *vi, const char *what, dt_dtype *dtype,
                               int *ndim, int64_t *dims)
{
    *dtype = DT_UNDEF;
    *ndim = -1;
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)
        return DT_OK; /* type left to inference */
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return dt_fail(L->st, DT_EUNSUPPORTED, "%s '%s' is not a dense tensor (sequence/map/sparse/optional)", what,
                       vi->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int et = tt->has_elem_type ? tt->elem_type : 0;
    if (et != 0) {
        *dtype = dt_dtype_from_onnx(et);
        if (*dtype == DT_UNDEF)
            return dt_fail(L->st, DT_EUNSUPPORTED, "%s '%s' has unsupported element type %s (%d)", what, vi->name,
                           onnx_type_name(et), et);
    }
    if (!tt->shape)
        return DT_OK;
    if (tt->shape->n_dim > DT_MAX_DIMS)
        return dt_fail(L->st, DT_EUNSUPPORTED, "%s '%s' has %zu dims (max %d)", what, vi->name, tt->shape->n_dim,
                       DT_MAX_DIMS);
    *ndim = (int)tt->shape->n_dim;
    for (int i = 0; i < *ndim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        dims[i] = -1;
        if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return dt_fail(L->st, DT_ECORRUPT, "%s '%s' has a negative dim %lld", what, vi->name,
                               (long long)d->dim_value);
            dims[i] = d->dim_value;
        }
    }
    return DT_OK;
}

/* ---- attributes ------------------------------------------------------------- */

static const char *attr_type_name(int t)
{
    switch (t) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: return "GRAPH";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return "GRAPHS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return "TENSOR";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return "TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: return "STRINGS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: return "SPARSE_TENSOR";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: return "SPARSE_TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: return "TYPE_PROTO";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: return "TYPE_PROTOS";
    default: return "UNDEFINED";
    }
}

/* The attribute's type; very old exporters leave `type` unset, so fall back
 * to whichever field is present. */
static int attr_type(const Onnx__AttributeProto *a)
{
    if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
        return a->type;
    if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    if (a->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
    if (a->n_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static dt_code copy_attr(loader *L, int nid, const Onnx__NodeProto *np, const char *nname,
                         const Onnx__AttributeProto *a)
{
    dt_graph *g = L->g;
    if (!a || !a->name || !*a->name)
        return dt_fail(L->st, DT_ECORRUPT, "node '%s': attribute without a name", nname);
    int t = attr_type(a);
    switch (t) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        return dt_node_set_int(g, nid, a->name, a->i, L->st);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        return dt_node_set_float(g, nid, a->name, a->f, L->st);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        if (a->n_ints > INT_MAX)
            return dt_fail(L->st, DT_ECORRUPT, "node '%s': attribute '%s' is too long", nname, a->name);
        return dt_node_set_ints(g, nid, a->name, a->ints, (int)a->n_ints, L->st);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        if (a->n_floats > INT_MAX)
            return dt_fail(L->st, DT_ECORRUPT, "node '%s': attribute '%s' is too long", nname, a->name);
        return dt_node_set_floats(g, nid, a->name, a->floats, (int)a->n_floats, L->st);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
        /* Strings are bytes in protobuf; ours are C strings. */
        char *s = dt_strndup(a->s.data ? (const char *)a->s.data : "", a->s.data ? a->s.len : 0);
        if (!s)
            return dt_fail(L->st, DT_ENOMEM, "out of memory");
        if (strlen(s) != a->s.len) {
            dt_free(s);
            return dt_fail(L->st, DT_ECORRUPT, "node '%s': attribute '%s' contains a NUL byte", nname, a->name);
        }
        dt_code rc = dt_node_set_string(g, nid, a->name, s, L->st);
        dt_free(s);
        return rc;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
        if (strcmp(np->op_type, "ConstantOfShape") == 0 && strcmp(a->name, "value") == 0) {
            dt_dtype dt;
            int ndim = 0;
            int64_t dims[DT_MAX_DIMS];
            dt_buf *b = NULL;
            dt_code rc = tensor_decode(L, a->t, "ConstantOfShape.value", &dt, &ndim, dims, &b);
            if (rc != DT_OK)
                return dt_wrap(L->st, "node '%s'", nname);
            int64_t n = dt_shape_numel(ndim, dims);
            if (n != 1) {
                dt_buf_unref(b);
                return dt_fail(L->st, DT_ECORRUPT, "node '%s': ConstantOfShape value must have one element, has %lld",
                               nname, (long long)n);
            }
            dt_tensor tv = {.dtype = dt, .ndim = 0, .data = b->data};
            double v = dt_tensor_get_f(&tv, 0);
            dt_buf_unref(b);
            /* float16/float64 values become float32 like every other float tensor */
            rc = dt_node_set_float(g, nid, "value", (float)v, L->st);
            if (rc == DT_OK)
                rc = dt_node_set_int(g, nid, "value_dtype", dt, L->st);
            return rc;
        }
        /* fall through */
    default:
        if (t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH || t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS)
            return dt_fail(L->st, DT_EUNSUPPORTED, "node '%s' (%s): subgraph attribute '%s' is not supported", nname,
                           np->op_type, a->name);
        return dt_fail(L->st, DT_EUNSUPPORTED, "node '%s' (%s): attribute '%s' of type %s is not supported", nname,
                       np->op_type, a->name, attr_type_name(t));
    }
}

/* ---- nodes ------------------------------------------------------------------ */

static int is_default_domain(const char *d) { return !d || !*d || strcmp(d, "ai.onnx") == 0; }

/* Constant node -> graph constant named after its output. */
static dt_code add_constant_node(loader *L, const Onnx__NodeProto *np, const char *nname)
{
    if (np->n_output != 1 || !np->output[0] || !*np->output[0])
        return dt_fail(L->st, DT_ECORRUPT, "Constant node '%s' must have exactly one named output", nname);
    const char *out = np->output[0];
    if (np->n_attribute != 1 || !np->attribute[0] || !np->attribute[0]->name)
        return dt_fail(L->st, DT_ECORRUPT, "Constant node '%s' must have exactly one attribute", nname);
    const Onnx__AttributeProto *a = np->attribute[0];
    const char *an = a->name;
    int64_t dims[1];
    int vid;
    if (strcmp(an, "value") == 0) {
        dt_code rc = add_tensor_const(L, a->t, out);
        return rc == DT_OK ? rc : dt_wrap(L->st, "Constant node '%s'", nname);
    } else if (strcmp(an, "value_float") == 0) {
        vid = dt_graph_add_const(L->g, out, DT_F32, 0, NULL, &a->f, L->st);
    } else if (strcmp(an, "value_int") == 0) {
        vid = dt_graph_add_const(L->g, out, DT_I64, 0, NULL, &a->i, L->st);
    } else if (strcmp(an, "value_floats") == 0) {
        dims[0] = (int64_t)a->n_floats;
        vid = dt_graph_add_const(L->g, out, DT_F32, 1, dims, a->floats, L->st);
    } else if (strcmp(an, "value_ints") == 0) {
        dims[0] = (int64_t)a->n_ints;
        vid = dt_graph_add_const(L->g, out, DT_I64, 1, dims, a->ints, L->st);
    } else {
        return dt_fail(L->st, DT_EUNSUPPORTED, "Constant node '%s': attribute '%s' is not supported", nname, an);
    }
    return vid >= 0 ? DT_OK : dt_wrap(L->st, "Constant node '%s'", nname);
}

/* A fresh name for an output the model left anonymous. */
static int add_anon_value(loader *L)
{
    char name[64];
    do
        snprintf(name, sizeof name, "_onnx_anon_%d", L->anon++);
    while (dt_graph_find(L->g, name) >= 0);
    return dt_graph_add_value(L->g, name, DT_UNDEF, -1, NULL, L->st);
}

static dt_code add_node(loader *L, const Onnx__NodeProto *np, const char *nname, dt_op op)
{
    dt_graph *g = L->g;
    int *ids = dt_malloc((np->n_input + np->n_output + 1) * sizeof(int));
    if (!ids)
        return dt_fail(L->st, DT_ENOMEM, "out of memory");
    int *in = ids, *out = ids + np->n_input;
    dt_code rc = DT_OK;
    for (size_t i = 0; i < np->n_input; i++) {
        const char *s = np->input[i];
        if (!s || !*s) {
            in[i] = -1;
            continue;
        }
        in[i] = dt_graph_find(g, s);
        if (in[i] < 0) {
            rc = dt_fail(L->st, DT_ECORRUPT,
                         "node '%s' (%s): input '%s' is not a graph input, initializer or node output", nname,
                         np->op_type, s);
            goto done;
        }
    }
    for (size_t i = 0; i < np->n_output; i++) {
        const char *s = np->output[i];
        out[i] = (s && *s) ? dt_graph_find(g, s) : add_anon_value(L);
        if (out[i] < 0) {
            rc = L->st->code;
            goto done;
        }
    }
    int nid = dt_graph_add_node(g, op, nname, (int)np->n_input, in, (int)np->n_output, out, L->st);
    if (nid < 0) {
        rc = L->st->code;
        goto done;
    }
    g->nodes[nid].opset = L->opset;
    for (size_t i = 0; i < np->n_attribute && rc == DT_OK; i++)
        rc = copy_attr(L, nid, np, nname, np->attribute[i]);
done:
    dt_free(ids);
    return rc;
}

/* ---- the model -------------------------------------------------------------- */

static dt_code load_graph(loader *L, const Onnx__ModelProto *m)
{
    dt_graph *g = L->g;
    const Onnx__GraphProto *gp = m->graph;
    dt_code rc;
    if (!gp)
        return dt_fail(L->st, DT_ECORRUPT, "model has no graph");

    /* opset of the default domain */
    L->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = m->opset_import[i];
        if (os && is_default_domain(os->domain) && os->has_version)
            L->opset = os->version > INT_MAX ? INT_MAX : (int)os->version;
    }
    if (L->opset < 0)
        return dt_fail(L->st, DT_EUNSUPPORTED, "model imports no ai.onnx opset");
    if (L->opset < ONNX_MIN_OPSET)
        return dt_fail(L->st, DT_EUNSUPPORTED, "opset %d is not supported (need %d or newer)", L->opset,
                       ONNX_MIN_OPSET);
    if (gp->n_sparse_initializer)
        return dt_fail(L->st, DT_EUNSUPPORTED, "sparse initializers are not supported");
    if (gp->n_node > INT_MAX / 2 || gp->n_initializer > INT_MAX / 2)
        return dt_fail(L->st, DT_ECORRUPT, "graph is too large");

    const char *gname = str_or(gp->name, str_or(m->producer_name, "onnx"));
    if (!(g->name = dt_strdup(gname)) || !(g->layout = dt_strdup("NCHW")))
        return dt_fail(L->st, DT_ENOMEM, "out of memory");

    /* initializers */
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        if (!t || !t->name || !*t->name)
            return dt_fail(L->st, DT_ECORRUPT, "initializer #%zu has no name", i);
        if (dt_graph_find(g, t->name) >= 0)
            return dt_fail(L->st, DT_ECORRUPT, "initializer '%s' is defined twice", t->name);
        rc = add_tensor_const(L, t, t->name);
        if (rc != DT_OK)
            return dt_wrap(L->st, "initializer");
    }

    /* graph inputs (those that are initializers are constants, not inputs) */
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi || !vi->name || !*vi->name)
            return dt_fail(L->st, DT_ECORRUPT, "graph input #%zu has no name", i);
        int vid = dt_graph_find(g, vi->name);
        if (vid >= 0) {
            if (dt_value_is_const(&g->values[vid]))
                continue;
            return dt_fail(L->st, DT_ECORRUPT, "graph input '%s' is listed twice", vi->name);
        }
        dt_dtype dt;
        int ndim;
        int64_t dims[DT_MAX_DIMS];
        if ((rc = value_info_type(L, vi, "graph input", &dt, &ndim, dims)) != DT_OK)
            return rc;
        vid = dt_graph_add_value(g, vi->name, dt, ndim, dims, L->st);
        if (vid < 0)
            return L->st->code;
        if ((rc = dt_graph_mark_input(g, vid, L->st)) != DT_OK)
            return rc;
    }

    /* pass 1: check ops, create every named node output; Constant nodes become constants */
    char nbuf[96];
    for (size_t k = 0; k < gp->n_node; k++) {
        const Onnx__NodeProto *np = gp->node[k];
        if (!np || !np->op_type || !*np->op_type)
            return dt_fail(L->st, DT_ECORRUPT, "node #%zu has no operator", k);
        snprintf(nbuf, sizeof nbuf, "%s_%zu", np->op_type, k);
        const char *nname = str_or(np->name, nbuf);
        if (!is_default_domain(np->domain))
            return dt_fail(L->st, DT_EUNSUPPORTED, "unsupported operator '%s' in domain '%s' (node '%s')",
                           np->op_type, np->domain, nname);
        if (np->n_output == 0)
            return dt_fail(L->st, DT_ECORRUPT, "node '%s' (%s) has no outputs", nname, np->op_type);
        if (np->n_input > INT_MAX / 4 || np->n_output > INT_MAX / 4)
            return dt_fail(L->st, DT_ECORRUPT, "node '%s' has too many inputs/outputs", nname);
        if (strcmp(np->op_type, "Constant") == 0) {
            if ((rc = add_constant_node(L, np, nname)) != DT_OK)
                return rc;
            continue;
        }
        dt_op op = dt_op_from_name(np->op_type);
        /* FloorDiv / SparseToDense are TF.js-only extensions, not ONNX operators */
        if (op == DT_OP_UNKNOWN || op == DT_OP_FloorDiv || op == DT_OP_SparseToDense)
            return dt_fail(L->st, DT_EUNSUPPORTED, "unsupported operator '%s' (node '%s')", np->op_type, nname);
        for (size_t i = 0; i < np->n_output; i++) {
            const char *s = np->output[i];
            if (!s || !*s)
                continue;
            if (dt_graph_find(g, s) >= 0)
                return dt_fail(L->st, DT_ECORRUPT, "node '%s' (%s): output '%s' is already defined", nname,
                               np->op_type, s);
            if (dt_graph_add_value(g, s, DT_UNDEF, -1, NULL, L->st) < 0)
                return L->st->code;
        }
    }

    /* pass 2: wire inputs, copy attributes */
    for (size_t k = 0; k < gp->n_node; k++) {
        const Onnx__NodeProto *np = gp->node[k];
        if (strcmp(np->op_type, "Constant") == 0)
            continue;
        snprintf(nbuf, sizeof nbuf, "%s_%zu", np->op_type, k);
        if ((rc = add_node(L, np, str_or(np->name, nbuf), dt_op_from_name(np->op_type))) != DT_OK)
            return rc;
    }

    /* graph outputs, with the types/shapes the model declares */
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        if (!vi || !vi->name || !*vi->name)
            return dt_fail(L->st, DT_ECORRUPT, "graph output #%zu has no name", i);
        int vid = dt_graph_find(g, vi->name);
        if (vid < 0)
            return dt_fail(L->st, DT_ECORRUPT, "graph output '%s' is not produced by any node, input or initializer",
                           vi->name);
        dt_dtype dt;
        int ndim;
        int64_t dims[DT_MAX_DIMS];
        if ((rc = value_info_type(L, vi, "graph output", &dt, &ndim, dims)) != DT_OK)
            return rc;
        dt_value *v = &g->values[vid];
        if (v->producer >= 0 && v->dtype == DT_UNDEF && v->ndim < 0)
            dt_value_set(v, dt, ndim, dims);
        if ((rc = dt_graph_mark_output(g, vid, L->st)) != DT_OK)
            return rc;
    }
    if (g->n_outputs == 0)
        return dt_fail(L->st, DT_ECORRUPT, "graph has no outputs");
    return dt_graph_toposort(g, L->st);
}

dt_code dt_load_onnx_buffer(const void *data, size_t len, const char *base_dir, dt_graph **out, dt_status *st)
{
    dt_status local; /* error paths read st->code, so always have one */
    if (!st)
        st = &local;
    *out = NULL;
    if (!data && len)
        return dt_fail(st, DT_EINVAL, "no model data");
    int oom = 0;
    ProtobufCAllocator pa = {pb_alloc, pb_free, &oom};
    Onnx__ModelProto *m = onnx__model_proto__unpack(&pa, len, data);
    if (!m && oom)
        return dt_fail(st, DT_ENOMEM, "out of memory decoding the ONNX model (%zu bytes)", len);
    if (!m)
        return dt_fail(st, DT_ECORRUPT, "not a valid ONNX model (protobuf decoding failed: corrupt or truncated)");
    loader L = {.g = dt_graph_create(), .base_dir = base_dir, .st = st};
    dt_code rc;
    if (!L.g)
        rc = dt_fail(st, DT_ENOMEM, "out of memory");
    else
        rc = load_graph(&L, m);
    onnx__model_proto__free_unpacked(m, &pa);
    if (rc != DT_OK) {
        dt_graph_free(L.g);
        return rc;
    }
    *out = L.g;
    return DT_OK;
}

dt_code dt_load_onnx(const char *path, dt_graph **out, dt_status *st)
{
    dt_status local;
    if (!st)
        st = &local;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return dt_fail(st, e == ENOENT ? DT_ENOTFOUND : DT_EIO, "cannot open '%s': %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return dt_fail(st, DT_EIO, "'%s' is not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = dt_malloc(size);
    if (!buf) {
        fclose(f);
        return dt_fail(st, DT_ENOMEM, "out of memory reading '%s' (%zu bytes)", path, size);
    }
    if (size && fread(buf, 1, size, f) != size) {
        fclose(f);
        dt_free(buf);
        return dt_fail(st, DT_EIO, "cannot read '%s'", path);
    }
    fclose(f);
    /* external data lives beside the model file */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? dt_strndup(path, (size_t)(slash - path) + (slash == path)) : dt_strdup(".");
    if (!dir) {
        dt_free(buf);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    dt_code rc = dt_load_onnx_buffer(buf, size, dir, out, st);
    dt_free(buf);
    dt_free(dir);
    if (rc != DT_OK)
        return dt_wrap(st, "%s", path);
    return DT_OK;
}
