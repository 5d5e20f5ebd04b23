/* graph.h — the engine's graph IR, produced by both loaders.
 *
 * A dt_graph is a list of values (typed tensors: inputs, constants,
 * intermediates, outputs) and a list of nodes (an op with ordered input and
 * output value ids and named attributes).  Values and nodes are addressed by
 * int index, never by pointer: arrays grow while loaders build the graph.
 *
 * Ownership: the graph owns every name, attribute and node array.  Constant
 * data lives in reference-counted dt_buf blobs so a cloned graph (one per
 * batch size) shares weights without copying them.
 *
 * Conventions:
 *   - value dims: -1 = unknown; ndim = -1 = unknown rank.
 *   - node->in[i] = -1 for an omitted optional input (ONNX empty name).
 *   - node->opset = the ONNX opset whose semantics the node follows (the
 *     TF.js loader uses DT_OPSET_LATEST); infer functions and kernels accept
 *     both the attribute and the input form of axes/splits/pads/etc.
 */
#ifndef DT_GRAPH_H
#define DT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "engine/op_list.h"
#include "engine/tensor.h"

#define DT_OPSET_LATEST 19

/* Reference-counted blob (constant tensor data). */
typedef struct dt_buf {
    int refs;
    size_t size;
    void *data; /* 64-byte aligned */
} dt_buf;

dt_buf *dt_buf_new(size_t size);          /* refs = 1, zero-filled; NULL on OOM */
dt_buf *dt_buf_ref(dt_buf *b);            /* refs++ ; returns b */
void dt_buf_unref(dt_buf *b);             /* frees at 0; NULL-safe */

typedef enum dt_attr_type {
    DT_ATTR_INT = 1,
    DT_ATTR_FLOAT,
    DT_ATTR_INTS,
    DT_ATTR_FLOATS,
    DT_ATTR_STRING,
} dt_attr_type;

typedef struct dt_attr {
    char *name;
    dt_attr_type type;
    int64_t i;
    float f;
    int n;           /* element count for INTS / FLOATS */
    int64_t *ints;
    float *floats;
    char *s;
} dt_attr;

typedef struct dt_value {
    char *name;
    dt_dtype dtype;
    int ndim;                   /* -1 unknown */
    int64_t dims[DT_MAX_DIMS];  /* -1 unknown / symbolic */
    dt_buf *buf;                /* constant data, or NULL */
    int producer;               /* node index, -1 for inputs and constants */
    uint8_t is_input, is_output;
    /* filled by the planner */
    int64_t offset;             /* byte offset in the session arena, -1 if none */
    int alias;                  /* value id whose memory this one shares, -1 if none */
    int64_t alias_off;          /* byte offset of this value inside the alias's memory */
} dt_value;

typedef struct dt_node {
    dt_op op;
    char *name;
    int opset;
    int n_in, n_out;
    int *in, *out;
    int n_attrs;
    dt_attr *attrs;
    /* filled by passes / backends */
    size_t scratch_bytes;       /* temporary bytes the kernel needs (arena scratch) */
    void *kstate;               /* backend-prepared state, e.g. packed weights */
    void (*kstate_free)(void *);
    int dead;                   /* marked for removal by passes */
} dt_node;

typedef struct dt_graph {
    dt_value *values;
    int n_values, cap_values;
    dt_node *nodes;
    int n_nodes, cap_nodes;
    int *inputs, n_inputs;      /* value ids */
    int *outputs, n_outputs;    /* value ids */
    char *name;                 /* producer / model name, informational */
    char *layout;               /* "NCHW" or "NHWC": the model's image layout hint */
    void *index;                /* name -> value id hash (internal) */
} dt_graph;

dt_graph *dt_graph_create(void);
void dt_graph_free(dt_graph *g);

/* Deep copy of structure; constant blobs are shared by reference; kstate is
 * not copied (NULL in the clone). */
dt_code dt_graph_clone(const dt_graph *g, dt_graph **out, dt_status *st);

/* Add a value.  `name` is copied and must be unique (NULL → a generated
 * name).  ndim = -1 for unknown rank.  Returns the id (>= 0) or -1 with st set. */
int dt_graph_add_value(dt_graph *g, const char *name, dt_dtype dtype, int ndim,
                       const int64_t *dims, dt_status *st);
/* Add a constant; `data` (nbytes of the shape) is copied. */
int dt_graph_add_const(dt_graph *g, const char *name, dt_dtype dtype, int ndim,
                       const int64_t *dims, const void *data, dt_status *st);
/* Add a constant taking over one reference of `buf` (even on failure). */
int dt_graph_add_const_buf(dt_graph *g, const char *name, dt_dtype dtype, int ndim,
                           const int64_t *dims, dt_buf *buf, dt_status *st);
/* Id of the value called `name`, or -1. */
int dt_graph_find(const dt_graph *g, const char *name);
/* Rename a value (keeps the index consistent). */
dt_code dt_graph_rename(dt_graph *g, int vid, const char *name, dt_status *st);

/* Mark graph inputs / outputs (appends). */
dt_code dt_graph_mark_input(dt_graph *g, int vid, dt_status *st);
dt_code dt_graph_mark_output(dt_graph *g, int vid, dt_status *st);

/* Add a node; input/output id arrays are copied.  Sets producer of outputs.
 * Returns the node index or -1. */
int dt_graph_add_node(dt_graph *g, dt_op op, const char *name, int n_in, const int *in,
                      int n_out, const int *out, dt_status *st);

/* Attribute setters (copy their arguments; replace an existing attr of the
 * same name). */
dt_code dt_node_set_int(dt_graph *g, int node, const char *name, int64_t v, dt_status *st);
dt_code dt_node_set_float(dt_graph *g, int node, const char *name, float v, dt_status *st);
dt_code dt_node_set_ints(dt_graph *g, int node, const char *name, const int64_t *v, int n, dt_status *st);
dt_code dt_node_set_floats(dt_graph *g, int node, const char *name, const float *v, int n, dt_status *st);
dt_code dt_node_set_string(dt_graph *g, int node, const char *name, const char *v, dt_status *st);

/* Attribute getters (NULL / default when absent or of another type). */
const dt_attr *dt_node_attr(const dt_node *n, const char *name);
int64_t dt_attr_int(const dt_node *n, const char *name, int64_t def);
float dt_attr_float(const dt_node *n, const char *name, float def);
const int64_t *dt_attr_ints(const dt_node *n, const char *name, int *count); /* NULL if absent */
const float *dt_attr_floats(const dt_node *n, const char *name, int *count);
const char *dt_attr_str(const dt_node *n, const char *name, const char *def);

/* The i-th input value of a node, or NULL when omitted / out of range. */
static inline dt_value *dt_node_in(const dt_graph *g, const dt_node *n, int i)
{
    return (i < n->n_in && n->in[i] >= 0) ? &g->values[n->in[i]] : NULL;
}
static inline dt_value *dt_node_out(const dt_graph *g, const dt_node *n, int i)
{
    return (i < n->n_out && n->out[i] >= 0) ? &g->values[n->out[i]] : NULL;
}
static inline int dt_value_is_const(const dt_value *v) { return v && v->buf != NULL; }
/* Tensor view of a value (data = constant data or NULL). */
dt_tensor dt_value_view(const dt_value *v);
/* Set dtype and shape of a value (used by shape inference). */
void dt_value_set(dt_value *v, dt_dtype dtype, int ndim, const int64_t *dims);

/* Op names: "Conv" <-> DT_OP_Conv.  Unknown names give DT_OP_UNKNOWN. */
dt_op dt_op_from_name(const char *name);
const char *dt_op_name(dt_op op);

/* Drop dead nodes and values no live node, input or output uses;
 * renumbers ids.  Node order is preserved. */
dt_code dt_graph_compact(dt_graph *g, dt_status *st);
/* Reorder nodes topologically (stable); fails on a cycle or a value used
 * before any producer. */
dt_code dt_graph_toposort(dt_graph *g, dt_status *st);

/* ONNX TensorProto.DataType numbers <-> dt_dtype (for Cast's "to" attribute,
 * which always uses ONNX numbering). */
dt_dtype dt_dtype_from_onnx(int onnx_type);
int dt_dtype_to_onnx(dt_dtype t);

#endif
