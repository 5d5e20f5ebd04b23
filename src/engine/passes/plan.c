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

/* Place the inputs of contiguous Concats inside their output.  An input
 * qualifies when it is an activation (no constant, graph input or output on
 * its alias chain), it is its whole root buffer (a plain value, or a view of
 * one), that root is not already placed elsewhere nor part of this output
 * (an input given twice, a view of another input), and its offset keeps the
 * 64-byte alignment every buffer has.  The root then lives inside the output
 * from its first write: whatever reads it reads the output's memory, which
 * nothing writes again after the Concat. */
static void plan_concat_inplace(dt_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const dt_node *n = &g->nodes[i];
        if (n->op != DT_OP_Concat || n->n_out != 1 || n->out[0] < 0 || n->n_in < 1)
            continue;
        const dt_value *y = &g->values[n->out[0]];
        if (y->buf || y->is_input || y->ndim < 1 || value_bytes(y) <= 0)
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
        int64_t off = 0;
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] < 0)
                break;
            int xv = n->in[k];
            const dt_value *x = &g->values[xv];
            int64_t xb = value_bytes(x);
            if (xb < 0 || x->dtype != y->dtype)
                break; /* the offsets of the inputs after it are unknown */
            int ok = off % ALIGN == 0 && xb > 0;
            for (int v = xv; ok; v = g->values[v].alias) {
                const dt_value *c = &g->values[v];
                ok = !c->buf && !c->is_input && !c->is_output && c->alias_off == 0;
                if (c->alias < 0)
                    break;
            }
            int r = root_of(g, xv);
            if (ok && r != root_of(g, n->out[0]) && value_bytes(&g->values[r]) == xb) {
                g->values[r].alias = n->out[0];
                g->values[r].alias_off = off;
            }
            off += xb;
        }
    }
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
        g->values[items[i].vid].offset = (int64_t)off;
        if (off + items[i].size > total)
            total = off + items[i].size;
    }
    for (int v = 0; v < nv; v++)
        if (g->values[v].alias >= 0)
            g->values[v].offset = g->values[root_of(g, v)].offset + off_in_root(g, v);
    *arena_bytes = total;
    *scratch_offset = (total + ALIGN - 1) / ALIGN * ALIGN;
    *scratch_bytes = (max_scratch + ALIGN - 1) / ALIGN * ALIGN;
    dt_free(first);
    dt_free(last);
    dt_free(items);
    return DT_OK;
}
