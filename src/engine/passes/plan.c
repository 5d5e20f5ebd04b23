/* plan.c — static memory plan for one specialised graph.
 *
 * Greedy by size (as TFLite's arena planner): buffers sorted largest first,
 * each placed at the lowest 64-byte aligned offset that does not overlap a
 * buffer already placed whose lifetime intersects.  Lifetimes are node index
 * intervals [first write, last read]; graph inputs are live from the start
 * and graph outputs to the end.  View ops (Reshape & co.) alias their input,
 * extending the root buffer's lifetime instead of taking new memory. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/ops/op_util.h"
#include "engine/passes/passes.h"

#define ALIGN 64

int dt_op_is_view(dt_op op)
{
    return op == DT_OP_Reshape || op == DT_OP_Flatten || op == DT_OP_Squeeze || op == DT_OP_Unsqueeze ||
           op == DT_OP_Identity;
}

typedef struct buf_item {
    int vid;
    size_t size;
    int first, last;
} buf_item;

static int by_size_desc(const void *a, const void *b)
{
    const buf_item *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->vid - y->vid;
}

static int root_of(const dt_graph *g, int v)
{
    while (g->values[v].alias >= 0)
        v = g->values[v].alias;
    return v;
}

/* Byte offset of v inside its root's memory. */
static int64_t off_in_root(const dt_graph *g, int v)
{
    int64_t off = 0;
    while (g->values[v].alias >= 0) {
        off += g->values[v].alias_off;
        v = g->values[v].alias;
    }
    return off;
}

static int64_t value_bytes(const dt_value *v)
{
    dt_tensor t = dt_value_view(v);
    int64_t ne = dt_tensor_numel(&t);
    return ne < 0 ? -1 : ne * (int64_t)dt_dtype_size(v->dtype);
}

/* Place the inputs of contiguous Concats inside their output.  For input v
 * (byte slot [off, off + size) in the output) with root buffer r, v lying at
 * o_v inside r: r goes to offset off - o_v of the output when r is an
 * activation (no constant, graph input or output on v's alias chain), that
 * offset keeps r inside the output and 64-byte aligned like every buffer,
 * and the output bytes r then covers are exactly the slots of inputs that
 * are themselves the matching parts of r (r = v alone, or a Split's outputs
 * concatenated back in order, as CSP/C2f blocks do).  An input given twice,
 * or already inside the output, is left to the copy.  r then lives inside
 * the output from its first write: whatever reads it reads the output's
 * memory, which nothing writes again after the Concat. */
static void plan_concat_inplace(dt_graph *g)
{
    int64_t *slot = dt_malloc(((size_t)g->n_values + 1) * sizeof(int64_t));
    if (!slot)
        return; /* an optimisation only */
    for (int i = 0; i < g->n_nodes; i++) {
        const dt_node *n = &g->nodes[i];
        if (n->op != DT_OP_Concat || n->n_out != 1 || n->out[0] < 0 || n->n_in < 1 || n->n_in > g->n_values)
            continue;
        const dt_value *y = &g->values[n->out[0]];
        int64_t yb = value_bytes(y);
        if (y->buf || y->is_input || y->ndim < 1 || yb <= 0)
            continue;
        const dt_attr *a = dt_node_attr(n, "axis");
        int axis = dt_norm_axis(a ? a->i : 1, y->ndim);
        if (axis < 0)
            continue;
        int outer_one = 1;
        for (int d = 0; d < axis; d++)
            outer_one &= y->dims[d] == 1;
        if (!outer_one)
            continue;
        /* slots; inputs past an unknown one are left alone */
        int nk = 0;
        for (int64_t off = 0; nk < n->n_in; nk++) {
            int xv = n->in[nk];
            int64_t xb = xv >= 0 ? value_bytes(&g->values[xv]) : -1;
            if (xb < 0 || g->values[xv].dtype != y->dtype)
                break;
            slot[nk] = off;
            off += xb;
        }
        for (int k = 0; k < nk; k++) {
            int xv = n->in[k], r = root_of(g, xv);
            int64_t xb = value_bytes(&g->values[xv]), rb = value_bytes(&g->values[r]);
            if (xb <= 0 || rb <= 0 || r == root_of(g, n->out[0]))
                continue;
            int ok = 1;
            for (int v = xv; ok; v = g->values[v].alias) {
                const dt_value *c = &g->values[v];
                ok = !c->buf && !c->is_input && !c->is_output;
                if (c->alias < 0)
                    break;
            }
            int64_t base = slot[k] - off_in_root(g, xv);
            if (!ok || base < 0 || base % ALIGN || base + rb > yb)
                continue;
            for (int j = 0; j < nk && ok; j++) {
                int64_t jb = value_bytes(&g->values[n->in[j]]);
                if (slot[j] + jb <= base || slot[j] >= base + rb || jb == 0)
                    continue; /* outside r's span */
                ok = slot[j] >= base && slot[j] + jb <= base + rb && root_of(g, n->in[j]) == r &&
                     off_in_root(g, n->in[j]) == slot[j] - base;
            }
            if (ok) {
                g->values[r].alias = n->out[0];
                g->values[r].alias_off = base;
            }
        }
    }
    dt_free(slot);
}

/* Offset views: Split outputs and one-index Gathers that are contiguous
 * ranges of an activation input (not a graph input, whose memory the caller
 * rewrites; not a graph output, which must stay its own buffer). */
static int outer_is_one(const dt_value *x, int axis)
{
    for (int d = 0; d < axis; d++)
        if (x->dims[d] != 1)
            return 0;
    return 1;
}

static void plan_offset_views(dt_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const dt_node *n = &g->nodes[i];
        if ((n->op != DT_OP_Split && n->op != DT_OP_Gather) || n->n_in < 1 || n->in[0] < 0 || n->n_out < 1)
            continue;
        const dt_value *x = &g->values[n->in[0]];
        if (x->buf || x->is_input || x->ndim < 1 || value_bytes(x) <= 0)
            continue;
        int axis = dt_norm_axis(dt_attr_int(n, "axis", 0), x->ndim);
        if (axis < 0 || !outer_is_one(x, axis))
            continue;
        int64_t inner = value_bytes(x) / x->dims[axis]; /* bytes per index of the axis */
        int ok = 1;
        for (int k = 0; k < n->n_out && ok; k++) {
            const dt_value *y = n->out[k] >= 0 ? &g->values[n->out[k]] : NULL;
            ok = y && !y->buf && !y->is_output && y->alias < 0 && y->dtype == x->dtype && value_bytes(y) >= 0;
        }
        if (!ok)
            continue;
        if (n->op == DT_OP_Gather) {
            const dt_value *ix = n->n_in > 1 && n->in[1] >= 0 ? &g->values[n->in[1]] : NULL;
            if (n->n_out != 1 || !ix || !ix->buf || ix->ndim > 1)
                continue;
            dt_tensor t = dt_value_view(ix);
            if (dt_tensor_numel(&t) != 1)
                continue;
            int64_t v = dt_tensor_get_i(&t, 0);
            v = v < 0 ? v + x->dims[axis] : v;
            dt_value *y = &g->values[n->out[0]];
            if (v < 0 || v >= x->dims[axis] || value_bytes(y) != inner)
                continue;
            y->alias = n->in[0];
            y->alias_off = v * inner;
            continue;
        }
        /* Split: outputs in order along the axis, their sizes adding up */
        int64_t off = 0;
        for (int k = 0; k < n->n_out; k++)
            off += value_bytes(&g->values[n->out[k]]);
        if (off != value_bytes(x))
            continue;
        off = 0;
        for (int k = 0; k < n->n_out; k++) {
            dt_value *y = &g->values[n->out[k]];
            y->alias = n->in[0];
            y->alias_off = off;
            off += value_bytes(y);
        }
    }
}

int dt_node_is_planned_view(const dt_graph *g, const dt_node *n)
{
    if (!(dt_op_is_view(n->op) || n->op == DT_OP_Split || n->op == DT_OP_Gather) || n->n_in < 1 || n->in[0] < 0 ||
        n->n_out < 1)
        return 0;
    for (int k = 0; k < n->n_out; k++) {
        if (n->out[k] < 0)
            return 0;
        int a = g->values[n->out[k]].alias;
        /* a view op's output aliases its input's root; an offset view its input */
        if (dt_op_is_view(n->op) ? a < 0 : a != n->in[0])
            return 0;
    }
    return 1;
}

dt_code dt_pass_plan(dt_graph *g, size_t *arena_bytes, size_t *scratch_offset, size_t *scratch_bytes,
                     dt_status *st)
{
    return dt_pass_plan_ex(g, 0, arena_bytes, scratch_offset, scratch_bytes, st);
}

dt_code dt_pass_plan_ex(dt_graph *g, unsigned flags, size_t *arena_bytes, size_t *scratch_offset,
                        size_t *scratch_bytes, dt_status *st)
{
    int nv = g->n_values;
    int *first = dt_malloc(((size_t)nv + 1) * sizeof(int));
    int *last = dt_malloc(((size_t)nv + 1) * sizeof(int));
    buf_item *items = dt_malloc(((size_t)nv + 1) * sizeof(buf_item));
    if (!first || !last || !items) {
        dt_free(first);
        dt_free(last);
        dt_free(items);
        return dt_fail(st, DT_ENOMEM, "out of memory planning");
    }
    for (int v = 0; v < nv; v++) {
        g->values[v].offset = -1;
        g->values[v].alias = -1;
        g->values[v].alias_off = 0;
        first[v] = g->values[v].is_input ? -1 : 1 << 30;
        last[v] = -1;
    }
    /* aliases: a view's output shares its input's memory unless the input is
     * a constant or a graph input (inputs are written by the caller, outputs
     * must stay distinct buffers to be handed out). */
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        if (!dt_op_is_view(n->op) || n->n_out != 1 || n->in[0] < 0)
            continue;
        dt_value *x = &g->values[n->in[0]], *y = &g->values[n->out[0]];
        if (x->buf || y->buf || x->is_input || y->is_output || x->is_output)
            continue;
        y->alias = root_of(g, n->in[0]);
    }
    if (flags & DT_PLAN_OFFSET_VIEWS)
        plan_offset_views(g);
    if (flags & DT_PLAN_CONCAT_INPLACE)
        plan_concat_inplace(g);
    size_t max_scratch = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        if (n->scratch_bytes > max_scratch)
            max_scratch = n->scratch_bytes;
        for (int k = 0; k < n->n_out; k++) {
            int r = root_of(g, n->out[k]);
            if (first[r] > i)
                first[r] = i;
            if (last[r] < i)
                last[r] = i;
        }
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] < 0)
                continue;
            int r = root_of(g, n->in[k]);
            if (last[r] < i)
                last[r] = i;
        }
    }
    for (int k = 0; k < g->n_outputs; k++)
        last[root_of(g, g->outputs[k])] = g->n_nodes;
    for (int k = 0; k < g->n_inputs; k++) {
        int r = g->inputs[k];
        first[r] = -1;
        if (last[r] < 0)
            last[r] = 0;
    }
    int ni = 0;
    for (int v = 0; v < nv; v++) {
        dt_value *val = &g->values[v];
        if (val->buf || val->alias >= 0)
            continue;
        if (last[v] < 0 && !val->is_input)
            continue; /* never written nor read (unused optional output) */
        dt_tensor t = dt_value_view(val);
        int64_t ne = dt_tensor_numel(&t);
        if (ne < 0) {
            dt_free(first);
            dt_free(last);
            dt_free(items);
            return dt_fail(st, DT_ESHAPE, "tensor '%s' has no known size at planning", val->name);
        }
        size_t sz = dt_tensor_nbytes(&t);
        if ((ne > 0 && sz == 0) || sz > DT_TENSOR_BYTES_MAX) {
            char sh[96];
            dt_free(first);
            dt_free(last);
            dt_free(items);
            return dt_fail(st, DT_ELIMIT, "tensor '%s' of shape %s is too large to plan", val->name,
                           dt_shape_str(t.ndim, t.dims, sh, sizeof sh));
        }
        items[ni].vid = v;
        items[ni].size = (sz + ALIGN - 1) / ALIGN * ALIGN;
        if (items[ni].size == 0)
            items[ni].size = ALIGN;
        items[ni].first = first[v] == (1 << 30) ? last[v] : first[v];
        items[ni].last = last[v];
        ni++;
    }
    qsort(items, (size_t)ni, sizeof *items, by_size_desc);
    size_t total = 0;
    /* placed[] is items[0..i) */
    for (int i = 0; i < ni; i++) {
        size_t off = 0;
        for (;;) {
            int moved = 0;
            for (int j = 0; j < i; j++) {
                if (items[j].last < items[i].first || items[i].last < items[j].first)
                    continue; /* lifetimes disjoint */
                size_t jo = (size_t)g->values[items[j].vid].offset;
                if (off < jo + items[j].size && jo < off + items[i].size) {
                    off = jo + items[j].size;
                    moved = 1;
                }
            }
            if (!moved)
                break;
        }
        if (off > DT_TENSOR_BYTES_MAX * 4 - items[i].size) {
            dt_free(first);
            dt_free(last);
            dt_free(items);
            return dt_fail(st, DT_ELIMIT, "activations need more than %llu bytes",
                           (unsigned long long)(DT_TENSOR_BYTES_MAX * 4));
        }
        g->values[items[i].vid].offset = (int64_t)off;
        if (off + items[i].size > total)
            total = off + items[i].size;
    }
    for (int v = 0; v < nv; v++)
        if (g->values[v].alias >= 0)
            g->values[v].offset = g->values[root_of(g, v)].offset + off_in_root(g, v);
    *arena_bytes = total;
    *scratch_offset = (total + ALIGN - 1) / ALIGN * ALIGN;
    if (max_scratch > DT_TENSOR_BYTES_MAX) {
        dt_free(first);
        dt_free(last);
        dt_free(items);
        return dt_fail(st, DT_ELIMIT, "a kernel asks for %zu bytes of scratch", max_scratch);
    }
    *scratch_bytes = (max_scratch + ALIGN - 1) / ALIGN * ALIGN;
    dt_free(first);
    dt_free(last);
    dt_free(items);
    return DT_OK;
}
