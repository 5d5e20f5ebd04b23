#include "engine/graph.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

/* ---- blobs ---------------------------------------------------------------- */

dt_buf *dt_buf_new(size_t size)
{
    dt_buf *b = dt_calloc(1, sizeof *b);
    if (!b)
        return NULL;
    size_t alloc = (size + 63) & ~(size_t)63;
    if (alloc < size) {
        dt_free(b);
        return NULL;
    }
    b->data = dt_aligned_alloc(alloc ? alloc : 64);
    if (!b->data) {
        dt_free(b);
        return NULL;
    }
    memset(b->data, 0, alloc ? alloc : 64);
    b->size = size;
    b->refs = 1;
    return b;
}

dt_buf *dt_buf_ref(dt_buf *b)
{
    if (b)
        __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void dt_buf_unref(dt_buf *b)
{
    if (!b)
        return;
    if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        dt_free(b->data);
        dt_free(b);
    }
}

/* ---- name index: open addressing, value id + 1 in slots (0 = empty) ----- */

typedef struct name_index {
    int cap; /* power of two */
    int used;
    int *slots;
} name_index;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static void index_free(name_index *ix)
{
    if (ix) {
        dt_free(ix->slots);
        dt_free(ix);
    }
}

static int index_insert_raw(name_index *ix, const dt_graph *g, int vid)
{
    uint64_t h = hash_str(g->values[vid].name);
    int mask = ix->cap - 1;
    for (int i = (int)(h & (uint64_t)mask);; i = (i + 1) & mask) {
        if (ix->slots[i] == 0) {
            ix->slots[i] = vid + 1;
            ix->used++;
            return 1;
        }
    }
}

static int index_rebuild(dt_graph *g, int min_cap)
{
    name_index *ix = g->index;
    int cap = 64;
    while (cap < min_cap * 2)
        cap *= 2;
    int *slots = dt_calloc((size_t)cap, sizeof *slots);
    if (!slots)
        return 0;
    if (!ix) {
        ix = dt_calloc(1, sizeof *ix);
        if (!ix) {
            dt_free(slots);
            return 0;
        }
        g->index = ix;
    }
    dt_free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    ix->used = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].name)
            index_insert_raw(ix, g, v);
    return 1;
}

int dt_graph_find(const dt_graph *g, const char *name)
{
    const name_index *ix = g->index;
    if (!ix || !name)
        return -1;
    uint64_t h = hash_str(name);
    int mask = ix->cap - 1;
    for (int i = (int)(h & (uint64_t)mask);; i = (i + 1) & mask) {
        int s = ix->slots[i];
        if (s == 0)
            return -1;
        if (strcmp(g->values[s - 1].name, name) == 0)
            return s - 1;
    }
}

/* ---- graph ---------------------------------------------------------------- */

dt_graph *dt_graph_create(void)
{
    return dt_calloc(1, sizeof(dt_graph));
}

static void attr_clear(dt_attr *a)
{
    dt_free(a->name);
    dt_free(a->ints);
    dt_free(a->floats);
    dt_free(a->s);
    memset(a, 0, sizeof *a);
}

static void node_clear(dt_node *n)
{
    dt_free(n->name);
    dt_free(n->in);
    dt_free(n->out);
    for (int i = 0; i < n->n_attrs; i++)
        attr_clear(&n->attrs[i]);
    dt_free(n->attrs);
    if (n->kstate && n->kstate_free)
        n->kstate_free(n->kstate);
    memset(n, 0, sizeof *n);
}

static void value_clear(dt_value *v)
{
    dt_free(v->name);
    dt_buf_unref(v->buf);
    memset(v, 0, sizeof *v);
}

void dt_graph_free(dt_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_nodes; i++)
        node_clear(&g->nodes[i]);
    for (int i = 0; i < g->n_values; i++)
        value_clear(&g->values[i]);
    dt_free(g->nodes);
    dt_free(g->values);
    dt_free(g->inputs);
    dt_free(g->outputs);
    dt_free(g->name);
    dt_free(g->layout);
    index_free(g->index);
    dt_free(g);
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 1;
    int nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *p = dt_realloc(*arr, (size_t)nc * elem);
    if (!p)
        return 0;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return 1;
}

int dt_graph_add_value(dt_graph *g, const char *name, dt_dtype dtype, int ndim,
                       const int64_t *dims, dt_status *st)
{
    char tmp[48];
    if (ndim > DT_MAX_DIMS) {
        dt_fail(st, DT_EUNSUPPORTED, "tensor '%s' has %d dims (max %d)", name ? name : "?", ndim, DT_MAX_DIMS);
        return -1;
    }
    if (!name) {
        snprintf(tmp, sizeof tmp, "_dt_v%d", g->n_values);
        name = tmp;
    }
    if (dt_graph_find(g, name) >= 0) {
        dt_fail(st, DT_ECORRUPT, "tensor name '%s' defined twice", name);
        return -1;
    }
    if (!grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof(dt_value))) {
        dt_fail(st, DT_ENOMEM, "out of memory adding tensor");
        return -1;
    }
    dt_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = dt_strdup(name);
    if (!v->name) {
        dt_fail(st, DT_ENOMEM, "out of memory adding tensor");
        return -1;
    }
    v->dtype = dtype;
    v->ndim = ndim;
    for (int i = 0; i < DT_MAX_DIMS; i++)
        v->dims[i] = (ndim > 0 && i < ndim && dims) ? dims[i] : (i < ndim ? -1 : 0);
    v->producer = -1;
    v->offset = -1;
    v->alias = -1;
    v->alias_off = 0;
    int vid = g->n_values++;
    name_index *ix = g->index;
    if (!ix || (ix->used + 1) * 2 > ix->cap) {
        if (!index_rebuild(g, g->n_values)) {
            g->n_values--;
            value_clear(v);
            dt_fail(st, DT_ENOMEM, "out of memory adding tensor");
            return -1;
        }
    } else {
        index_insert_raw(ix, g, vid);
    }
    return vid;
}

int dt_graph_add_const_buf(dt_graph *g, const char *name, dt_dtype dtype, int ndim,
                           const int64_t *dims, dt_buf *buf, dt_status *st)
{
    int64_t n = dt_shape_numel(ndim, dims);
    size_t es = dt_dtype_size(dtype);
    if (n < 0 || !es || !buf || buf->size < (size_t)n * es) {
        dt_buf_unref(buf);
        dt_fail(st, DT_ECORRUPT, "constant '%s': data size does not match its shape", name ? name : "?");
        return -1;
    }
    int vid = dt_graph_add_value(g, name, dtype, ndim, dims, st);
    if (vid < 0) {
        dt_buf_unref(buf);
        return -1;
    }
    g->values[vid].buf = buf;
    return vid;
}

int dt_graph_add_const(dt_graph *g, const char *name, dt_dtype dtype, int ndim,
                       const int64_t *dims, const void *data, dt_status *st)
{
    int64_t n = dt_shape_numel(ndim, dims);
    size_t es = dt_dtype_size(dtype);
    if (n < 0 || !es || (uint64_t)n > SIZE_MAX / es) {
        dt_fail(st, DT_ECORRUPT, "constant '%s' has an invalid shape", name ? name : "?");
        return -1;
    }
    dt_buf *b = dt_buf_new((size_t)n * es);
    if (!b) {
        dt_fail(st, DT_ENOMEM, "out of memory for constant '%s'", name ? name : "?");
        return -1;
    }
    if (n && data)
        memcpy(b->data, data, (size_t)n * es);
    return dt_graph_add_const_buf(g, name, dtype, ndim, dims, b, st);
}

dt_code dt_graph_rename(dt_graph *g, int vid, const char *name, dt_status *st)
{
    if (dt_graph_find(g, name) >= 0)
        return dt_fail(st, DT_EINVAL, "tensor name '%s' already used", name);
    char *nn = dt_strdup(name);
    if (!nn)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    dt_free(g->values[vid].name);
    g->values[vid].name = nn;
    if (!index_rebuild(g, g->n_values))
        return dt_fail(st, DT_ENOMEM, "out of memory");
    return DT_OK;
}

static dt_code append_id(int **arr, int *n, int vid, dt_status *st)
{
    int *p = dt_realloc(*arr, (size_t)(*n + 1) * sizeof(int));
    if (!p)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    p[(*n)++] = vid;
    *arr = p;
    return DT_OK;
}

dt_code dt_graph_mark_input(dt_graph *g, int vid, dt_status *st)
{
    g->values[vid].is_input = 1;
    return append_id(&g->inputs, &g->n_inputs, vid, st);
}

dt_code dt_graph_mark_output(dt_graph *g, int vid, dt_status *st)
{
    g->values[vid].is_output = 1;
    return append_id(&g->outputs, &g->n_outputs, vid, st);
}

int dt_graph_add_node(dt_graph *g, dt_op op, const char *name, int n_in, const int *in,
                      int n_out, const int *out, dt_status *st)
{
    for (int i = 0; i < n_in; i++)
        if (in[i] < -1 || in[i] >= g->n_values) {
            dt_fail(st, DT_ECORRUPT, "node '%s': bad input id", name ? name : "?");
            return -1;
        }
    for (int i = 0; i < n_out; i++)
        if (out[i] < 0 || out[i] >= g->n_values) {
            dt_fail(st, DT_ECORRUPT, "node '%s': bad output id", name ? name : "?");
            return -1;
        }
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(dt_node))) {
        dt_fail(st, DT_ENOMEM, "out of memory adding node");
        return -1;
    }
    dt_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->opset = DT_OPSET_LATEST;
    n->name = dt_strdup(name ? name : dt_op_name(op));
    n->in = dt_malloc((size_t)(n_in ? n_in : 1) * sizeof(int));
    n->out = dt_malloc((size_t)(n_out ? n_out : 1) * sizeof(int));
    if (!n->name || !n->in || !n->out) {
        node_clear(n);
        dt_fail(st, DT_ENOMEM, "out of memory adding node");
        return -1;
    }
    if (n_in)
        memcpy(n->in, in, (size_t)n_in * sizeof(int));
    if (n_out)
        memcpy(n->out, out, (size_t)n_out * sizeof(int));
    n->n_in = n_in;
    n->n_out = n_out;
    int idx = g->n_nodes++;
    for (int i = 0; i < n_out; i++)
        g->values[out[i]].producer = idx;
    return idx;
}

/* ---- attributes ---------------------------------------------------------- */

static dt_attr *attr_slot(dt_graph *g, int node, const char *name, dt_status *st)
{
    dt_node *n = &g->nodes[node];
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) {
            char *keep = n->attrs[i].name;
            n->attrs[i].name = NULL;
            attr_clear(&n->attrs[i]);
            n->attrs[i].name = keep;
            return &n->attrs[i];
        }
    dt_attr *p = dt_realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *p);
    if (!p) {
        dt_fail(st, DT_ENOMEM, "out of memory");
        return NULL;
    }
    n->attrs = p;
    dt_attr *a = &p[n->n_attrs];
    memset(a, 0, sizeof *a);
    a->name = dt_strdup(name);
    if (!a->name) {
        dt_fail(st, DT_ENOMEM, "out of memory");
        return NULL;
    }
    n->n_attrs++;
    return a;
}

dt_code dt_node_set_int(dt_graph *g, int node, const char *name, int64_t v, dt_status *st)
{
    dt_attr *a = attr_slot(g, node, name, st);
    if (!a)
        return DT_ENOMEM;
    a->type = DT_ATTR_INT;
    a->i = v;
    return DT_OK;
}

dt_code dt_node_set_float(dt_graph *g, int node, const char *name, float v, dt_status *st)
{
    dt_attr *a = attr_slot(g, node, name, st);
    if (!a)
        return DT_ENOMEM;
    a->type = DT_ATTR_FLOAT;
    a->f = v;
    return DT_OK;
}

dt_code dt_node_set_ints(dt_graph *g, int node, const char *name, const int64_t *v, int n, dt_status *st)
{
    dt_attr *a = attr_slot(g, node, name, st);
    if (!a)
        return DT_ENOMEM;
    a->type = DT_ATTR_INTS;
    a->ints = dt_malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (!a->ints)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    if (n)
        memcpy(a->ints, v, (size_t)n * sizeof(int64_t));
    a->n = n;
    return DT_OK;
}

dt_code dt_node_set_floats(dt_graph *g, int node, const char *name, const float *v, int n, dt_status *st)
{
    dt_attr *a = attr_slot(g, node, name, st);
    if (!a)
        return DT_ENOMEM;
    a->type = DT_ATTR_FLOATS;
    a->floats = dt_malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!a->floats)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    if (n)
        memcpy(a->floats, v, (size_t)n * sizeof(float));
    a->n = n;
    return DT_OK;
}

dt_code dt_node_set_string(dt_graph *g, int node, const char *name, const char *v, dt_status *st)
{
    dt_attr *a = attr_slot(g, node, name, st);
    if (!a)
        return DT_ENOMEM;
    a->type = DT_ATTR_STRING;
    a->s = dt_strdup(v ? v : "");
    if (!a->s)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    return DT_OK;
}

const dt_attr *dt_node_attr(const dt_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t dt_attr_int(const dt_node *n, const char *name, int64_t def)
{
    const dt_attr *a = dt_node_attr(n, name);
    if (!a)
        return def;
    if (a->type == DT_ATTR_INT)
        return a->i;
    if (a->type == DT_ATTR_FLOAT)
        return (int64_t)a->f;
    return def;
}

float dt_attr_float(const dt_node *n, const char *name, float def)
{
    const dt_attr *a = dt_node_attr(n, name);
    if (!a)
        return def;
    if (a->type == DT_ATTR_FLOAT)
        return a->f;
    if (a->type == DT_ATTR_INT)
        return (float)a->i;
    return def;
}

const int64_t *dt_attr_ints(const dt_node *n, const char *name, int *count)
{
    const dt_attr *a = dt_node_attr(n, name);
    if (!a || a->type != DT_ATTR_INTS) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = a->n;
    return a->ints;
}

const float *dt_attr_floats(const dt_node *n, const char *name, int *count)
{
    const dt_attr *a = dt_node_attr(n, name);
    if (!a || a->type != DT_ATTR_FLOATS) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = a->n;
    return a->floats;
}

const char *dt_attr_str(const dt_node *n, const char *name, const char *def)
{
    const dt_attr *a = dt_node_attr(n, name);
    return (a && a->type == DT_ATTR_STRING) ? a->s : def;
}

/* ---- values --------------------------------------------------------------- */

dt_tensor dt_value_view(const dt_value *v)
{
    dt_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = v->dtype;
    t.ndim = v->ndim < 0 ? 0 : v->ndim;
    for (int i = 0; i < t.ndim; i++)
        t.dims[i] = v->dims[i];
    t.data = v->buf ? v->buf->data : NULL;
    return t;
}

void dt_value_set(dt_value *v, dt_dtype dtype, int ndim, const int64_t *dims)
{
    v->dtype = dtype;
    v->ndim = ndim;
    for (int i = 0; i < DT_MAX_DIMS; i++)
        v->dims[i] = (i < ndim) ? dims[i] : 0;
}

/* ---- op names ------------------------------------------------------------- */

static const char *const g_op_names[DT_OP_COUNT_] = {
    [DT_OP_UNKNOWN] = "Unknown",
#define DT_OP_NAME_(name) [DT_OP_##name] = #name,
    DT_OP_LIST(DT_OP_NAME_)
#undef DT_OP_NAME_
};

dt_op dt_op_from_name(const char *name)
{
    if (!name)
        return DT_OP_UNKNOWN;
    for (int i = 1; i < DT_OP_COUNT_; i++)
        if (strcmp(g_op_names[i], name) == 0)
            return (dt_op)i;
    return DT_OP_UNKNOWN;
}

const char *dt_op_name(dt_op op)
{
    if ((unsigned)op >= DT_OP_COUNT_)
        return "Unknown";
    return g_op_names[op];
}

/* ---- clone ---------------------------------------------------------------- */

dt_code dt_graph_clone(const dt_graph *g, dt_graph **out, dt_status *st)
{
    dt_graph *c = dt_graph_create();
    if (!c)
        return dt_fail(st, DT_ENOMEM, "out of memory cloning graph");
    for (int v = 0; v < g->n_values; v++) {
        const dt_value *src = &g->values[v];
        int id = dt_graph_add_value(c, src->name, src->dtype, src->ndim, src->dims, st);
        if (id < 0)
            goto fail;
        dt_value *dv = &c->values[id];
        dv->buf = dt_buf_ref(src->buf);
        dv->is_input = src->is_input;
        dv->is_output = src->is_output;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const dt_node *n = &g->nodes[i];
        int id = dt_graph_add_node(c, n->op, n->name, n->n_in, n->in, n->n_out, n->out, st);
        if (id < 0)
            goto fail;
        c->nodes[id].opset = n->opset;
        c->nodes[id].dead = n->dead;
        for (int a = 0; a < n->n_attrs; a++) {
            const dt_attr *at = &n->attrs[a];
            dt_code rc = DT_OK;
            switch (at->type) {
            case DT_ATTR_INT: rc = dt_node_set_int(c, id, at->name, at->i, st); break;
            case DT_ATTR_FLOAT: rc = dt_node_set_float(c, id, at->name, at->f, st); break;
            case DT_ATTR_INTS: rc = dt_node_set_ints(c, id, at->name, at->ints, at->n, st); break;
            case DT_ATTR_FLOATS: rc = dt_node_set_floats(c, id, at->name, at->floats, at->n, st); break;
            case DT_ATTR_STRING: rc = dt_node_set_string(c, id, at->name, at->s, st); break;
            }
            if (rc != DT_OK)
                goto fail;
        }
    }
    for (int v = 0; v < g->n_values; v++)
        c->values[v].producer = g->values[v].producer;
    for (int i = 0; i < g->n_inputs; i++)
        if (append_id(&c->inputs, &c->n_inputs, g->inputs[i], st) != DT_OK)
            goto fail;
    for (int i = 0; i < g->n_outputs; i++)
        if (append_id(&c->outputs, &c->n_outputs, g->outputs[i], st) != DT_OK)
            goto fail;
    if (g->name && !(c->name = dt_strdup(g->name)))
        goto oom;
    if (g->layout && !(c->layout = dt_strdup(g->layout)))
        goto oom;
    *out = c;
    return DT_OK;
oom:
    dt_fail(st, DT_ENOMEM, "out of memory cloning graph");
fail:
    dt_graph_free(c);
    return st ? st->code : DT_ENOMEM;
}

/* ---- compaction and ordering ---------------------------------------------- */

dt_code dt_graph_compact(dt_graph *g, dt_status *st)
{
    int nv = g->n_values;
    char *used = dt_calloc((size_t)nv + 1, 1);
    int *remap = dt_malloc(((size_t)nv + 1) * sizeof(int));
    if (!used || !remap) {
        dt_free(used);
        dt_free(remap);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < g->n_inputs; i++)
        used[g->inputs[i]] = 1;
    for (int i = 0; i < g->n_outputs; i++)
        used[g->outputs[i]] = 1;
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        if (n->dead) {
            node_clear(n);
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                used[n->in[k]] = 1;
        for (int k = 0; k < n->n_out; k++)
            used[n->out[k]] = 1;
        if (w != i) {
            g->nodes[w] = *n;
            memset(n, 0, sizeof *n);
        }
        w++;
    }
    g->n_nodes = w;
    int vw = 0;
    for (int v = 0; v < nv; v++) {
        if (!used[v]) {
            value_clear(&g->values[v]);
            remap[v] = -1;
            continue;
        }
        remap[v] = vw;
        if (vw != v) {
            g->values[vw] = g->values[v];
            memset(&g->values[v], 0, sizeof(dt_value));
        }
        vw++;
    }
    g->n_values = vw;
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                n->in[k] = remap[n->in[k]];
        for (int k = 0; k < n->n_out; k++)
            n->out[k] = remap[n->out[k]];
    }
    for (int i = 0; i < g->n_inputs; i++)
        g->inputs[i] = remap[g->inputs[i]];
    for (int i = 0; i < g->n_outputs; i++)
        g->outputs[i] = remap[g->outputs[i]];
    for (int v = 0; v < g->n_values; v++) {
        g->values[v].producer = -1;
        g->values[v].alias = g->values[v].alias >= 0 ? remap[g->values[v].alias] : -1;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            g->values[g->nodes[i].out[k]].producer = i;
    dt_free(used);
    dt_free(remap);
    if (!index_rebuild(g, g->n_values))
        return dt_fail(st, DT_ENOMEM, "out of memory");
    return DT_OK;
}

dt_code dt_graph_toposort(dt_graph *g, dt_status *st)
{
    int nn = g->n_nodes;
    if (nn == 0)
        return DT_OK;
    char *ready = dt_calloc((size_t)g->n_values, 1);
    char *done = dt_calloc((size_t)nn, 1);
    dt_node *order = dt_malloc((size_t)nn * sizeof(dt_node));
    if (!ready || !done || !order) {
        dt_free(ready);
        dt_free(done);
        dt_free(order);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].producer < 0)
            ready[v] = 1;
    int w = 0;
    int progress = 1;
    while (w < nn && progress) {
        progress = 0;
        for (int i = 0; i < nn; i++) {
            if (done[i])
                continue;
            dt_node *n = &g->nodes[i];
            int ok = 1;
            for (int k = 0; k < n->n_in && ok; k++)
                if (n->in[k] >= 0 && !ready[n->in[k]])
                    ok = 0;
            if (!ok)
                continue;
            done[i] = 1;
            for (int k = 0; k < n->n_out; k++)
                ready[n->out[k]] = 1;
            order[w++] = *n;
            progress = 1;
        }
    }
    if (w < nn) {
        int bad = -1;
        for (int i = 0; i < nn && bad < 0; i++)
            if (!done[i])
                bad = i;
        dt_fail(st, DT_ECORRUPT, "graph has a cycle or an input with no producer (at node '%s')",
                g->nodes[bad].name);
        dt_free(ready);
        dt_free(done);
        dt_free(order);
        return DT_ECORRUPT;
    }
    memcpy(g->nodes, order, (size_t)nn * sizeof(dt_node));
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            g->values[g->nodes[i].out[k]].producer = i;
    dt_free(ready);
    dt_free(done);
    dt_free(order);
    return DT_OK;
}

/* ---- ONNX dtype numbering ------------------------------------------------- */

dt_dtype dt_dtype_from_onnx(int t)
{
    switch (t) {
    case 1: return DT_F32;
    case 2: return DT_U8;
    case 3: return DT_I8;
    case 6: return DT_I32;
    case 7: return DT_I64;
    case 9: return DT_BOOL;
    case 10: return DT_F16;
    case 11: return DT_F64;
    default: return DT_UNDEF;
    }
}

int dt_dtype_to_onnx(dt_dtype t)
{
    switch (t) {
    case DT_F32: return 1;
    case DT_U8: return 2;
    case DT_I8: return 3;
    case DT_I32: return 6;
    case DT_I64: return 7;
    case DT_BOOL: return 9;
    case DT_F16: return 10;
    case DT_F64: return 11;
    default: return 0;
    }
}
