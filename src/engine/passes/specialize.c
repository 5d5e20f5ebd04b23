/* specialize.c — concrete shapes, shape inference and constant folding.
 *
 * Detection exports compute a lot at run time that is really constant once
 * the input shape is known (Shape → Gather → Concat → Reshape chains, grid
 * and anchor tensors).  Folding them here means the kernels that run per
 * request are only the ones that depend on the image. */
#include <string.h>

#include "base/alloc.h"
#include "engine/ops.h"
#include "engine/passes/passes.h"

/* A model file is untrusted input: a 169-byte ConstantOfShape can ask for
 * gigabytes.  Folding therefore materialises at most this many bytes in all
 * (or the model's own weight bytes, if larger); nodes past the budget stay
 * in the graph and run at inference time, where the session's memory limit
 * (dt_session_opts.max_memory) sees them in the arena plan. */
#define FOLD_BUDGET_MIN ((size_t)16 << 20)

/* Bytes of one output of n once inference has run, or an error naming the
 * node when its shape overflows (dims like 2^40 x 2^40) or exceeds
 * DT_TENSOR_BYTES_MAX.  *bytes = 0 while the shape is still unknown. */
static dt_code out_bytes(const dt_value *v, const dt_node *n, size_t *bytes, dt_status *st)
{
    *bytes = 0;
    if (v->ndim < 0)
        return DT_OK;
    for (int d = 0; d < v->ndim; d++)
        if (v->dims[d] < 0)
            return DT_OK;
    int64_t ne = dt_shape_numel(v->ndim, v->dims);
    size_t es = dt_dtype_size(v->dtype);
    if (ne < 0 || (es && (uint64_t)ne > DT_TENSOR_BYTES_MAX / es)) {
        char sh[96];
        return dt_fail(st, DT_ELIMIT, "node '%s' (%s): output '%s' of shape %s is too large (over %llu bytes)",
                       n->name, dt_op_name(n->op), v->name, dt_shape_str(v->ndim, v->dims, sh, sizeof sh),
                       (unsigned long long)DT_TENSOR_BYTES_MAX);
    }
    *bytes = (size_t)ne * (es ? es : 1);
    return DT_OK;
}

/* Fold a node whose inputs are all constant by running its reference
 * kernel once, unless its outputs (and scratch) would take *budget past
 * its end: then the node is left to run at inference time. */
static dt_code fold_node(dt_graph *g, dt_node *n, const dt_opdef *def, size_t *budget, dt_status *st)
{
    dt_tensor in_t[64], out_t[16];
    const dt_tensor *in_p[64];
    dt_tensor *out_p[16];
    dt_buf *bufs[16] = {0};
    if (n->n_in > 64 || n->n_out > 16)
        return DT_OK; /* not worth folding: leave it to run time */
    size_t want = n->scratch_bytes;
    for (int i = 0; i < n->n_out; i++) {
        size_t nb;
        dt_code rc = out_bytes(&g->values[n->out[i]], n, &nb, st);
        if (rc != DT_OK)
            return rc;
        if (nb > *budget || want > *budget - nb)
            return DT_OK; /* over the folding budget: run time */
        want += nb;
    }
    if (want > *budget)
        return DT_OK;
    for (int i = 0; i < n->n_in; i++) {
        dt_value *v = dt_node_in(g, n, i);
        if (!v) {
            in_p[i] = NULL;
            continue;
        }
        in_t[i] = dt_value_view(v);
        in_p[i] = &in_t[i];
    }
    dt_code rc = DT_OK;
    for (int i = 0; i < n->n_out; i++) {
        dt_value *v = &g->values[n->out[i]];
        out_t[i] = dt_value_view(v);
        size_t nb = dt_tensor_nbytes(&out_t[i]);
        int64_t ne = dt_tensor_numel(&out_t[i]);
        if (ne < 0) {
            rc = dt_fail(st, DT_ESHAPE, "node '%s' (%s): output shape unknown after inference", n->name,
                         dt_op_name(n->op));
            goto done;
        }
        bufs[i] = dt_buf_new(nb);
        if (!bufs[i]) {
            rc = dt_fail(st, DT_ENOMEM, "out of memory folding node '%s'", n->name);
            goto done;
        }
        out_t[i].data = bufs[i]->data;
        out_p[i] = &out_t[i];
    }
    void *scratch = NULL;
    if (n->scratch_bytes) {
        scratch = dt_aligned_alloc(n->scratch_bytes);
        if (!scratch) {
            rc = dt_fail(st, DT_ENOMEM, "out of memory folding node '%s'", n->name);
            goto done;
        }
    }
    dt_kctx ctx = {NULL, scratch, n->scratch_bytes};
    rc = def->ref(n, in_p, n->n_in, out_p, n->n_out, &ctx, st);
    dt_free(scratch);
    if (rc != DT_OK) {
        dt_wrap(st, "folding node '%s' (%s)", n->name, dt_op_name(n->op));
        goto done;
    }
    for (int i = 0; i < n->n_out; i++) {
        dt_value *v = &g->values[n->out[i]];
        v->buf = bufs[i];
        bufs[i] = NULL;
        v->producer = -1;
    }
    n->dead = 1;
    *budget -= want;
done:
    for (int i = 0; i < n->n_out; i++)
        dt_buf_unref(bufs[i]);
    return rc;
}

/* Shape/Size of a value whose dims are known are constants even though the
 * value itself is not. */
static dt_code fold_shape(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0);
    dt_value *y = dt_node_out(g, n, 0);
    if (!x || !y || x->ndim < 0 || dt_shape_numel(x->ndim, x->dims) < 0)
        return DT_OK;
    int64_t vals[DT_MAX_DIMS];
    int64_t count;
    if (n->op == DT_OP_Size) {
        vals[0] = dt_shape_numel(x->ndim, x->dims);
        count = 1;
        dt_buf *b = dt_buf_new(sizeof(int64_t));
        if (!b)
            return dt_fail(st, DT_ENOMEM, "out of memory");
        memcpy(b->data, vals, sizeof(int64_t));
        y->buf = b;
        y->producer = -1;
        n->dead = 1;
        return DT_OK;
    }
    int64_t start = dt_attr_int(n, "start", 0), end = dt_attr_int(n, "end", x->ndim);
    if (start < 0)
        start += x->ndim;
    if (end < 0)
        end += x->ndim;
    if (start < 0)
        start = 0;
    if (end > x->ndim)
        end = x->ndim;
    count = end > start ? end - start : 0;
    for (int64_t i = 0; i < count; i++)
        vals[i] = x->dims[start + i];
    dt_buf *b = dt_buf_new((size_t)count * sizeof(int64_t));
    if (!b)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    if (count)
        memcpy(b->data, vals, (size_t)count * sizeof(int64_t));
    dt_value_set(y, DT_I64, 1, &count);
    y->buf = b;
    y->producer = -1;
    n->dead = 1;
    return DT_OK;
}

dt_code dt_pass_specialize(dt_graph *g, int n_shapes, const dt_tensor *shapes, dt_status *st)
{
    size_t budget = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].buf && g->values[v].buf->size <= DT_TENSOR_BYTES_MAX - budget)
            budget += g->values[v].buf->size;
    if (budget < FOLD_BUDGET_MIN)
        budget = FOLD_BUDGET_MIN;
    for (int i = 0; i < g->n_inputs; i++) {
        dt_value *v = &g->values[g->inputs[i]];
        if (i < n_shapes && shapes && shapes[i].ndim > 0) {
            const dt_tensor *s = &shapes[i];
            if (v->ndim >= 0 && v->ndim != s->ndim)
                return dt_fail(st, DT_ESHAPE, "input '%s' has rank %d, got a rank-%d tensor", v->name, v->ndim,
                               s->ndim);
            for (int d = 0; d < s->ndim; d++)
                if (v->ndim >= 0 && v->dims[d] >= 0 && v->dims[d] != s->dims[d] && d != 0) {
                    char a[96], b[96];
                    return dt_fail(st, DT_ESHAPE, "input '%s' expects shape %s, got %s", v->name,
                                   dt_shape_str(v->ndim, v->dims, a, sizeof a),
                                   dt_shape_str(s->ndim, s->dims, b, sizeof b));
                }
            dt_value_set(v, v->dtype, s->ndim, s->dims);
        }
        int known = v->ndim >= 0;
        for (int d = 0; known && d < v->ndim; d++)
            known = v->dims[d] >= 0;
        if (!known) {
            char a[96];
            return dt_fail(st, DT_ESHAPE, "input '%s' has unknown dims %s: give a concrete shape", v->name,
                           dt_shape_str(v->ndim < 0 ? 0 : v->ndim, v->dims, a, sizeof a));
        }
        int64_t ne = dt_shape_numel(v->ndim, v->dims);
        size_t es = dt_dtype_size(v->dtype);
        if (ne < 0 || (es && (uint64_t)ne > DT_TENSOR_BYTES_MAX / es)) {
            char a[96];
            return dt_fail(st, DT_ELIMIT, "input '%s' of shape %s is too large (over %llu bytes)", v->name,
                           dt_shape_str(v->ndim, v->dims, a, sizeof a), (unsigned long long)DT_TENSOR_BYTES_MAX);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        const dt_opdef *def = dt_opdef_get(n->op);
        if (!def || !def->infer || !def->ref)
            return dt_fail(st, DT_EUNSUPPORTED, "unsupported operator '%s' (node '%s')", dt_op_name(n->op),
                           n->name);
        for (int k = 0; k < n->n_in; k++) {
            dt_value *v = dt_node_in(g, n, k);
            if (v && !v->buf && (v->ndim < 0 || dt_shape_numel(v->ndim, v->dims) < 0))
                return dt_fail(st, DT_ESHAPE, "node '%s' (%s): input '%s' has no known shape", n->name,
                               dt_op_name(n->op), v->name);
        }
        n->scratch_bytes = 0;
        dt_code rc = def->infer(g, n, st);
        if (rc != DT_OK)
            return rc;
        for (int k = 0; k < n->n_out; k++) {
            size_t nb;
            dt_value *v = dt_node_out(g, n, k);
            if (v && (rc = out_bytes(v, n, &nb, st)) != DT_OK)
                return rc;
        }
        int all_const = 1, any_in = 0;
        for (int k = 0; k < n->n_in; k++) {
            dt_value *v = dt_node_in(g, n, k);
            if (!v)
                continue;
            any_in = 1;
            if (!v->buf)
                all_const = 0;
        }
        if ((n->op == DT_OP_Shape || n->op == DT_OP_Size) && !all_const) {
            rc = fold_shape(g, n, st);
        } else if (all_const && any_in) {
            /* A graph output produced from constants only still folds: the
             * session serves it straight from the constant. */
            rc = fold_node(g, n, def, &budget, st);
        }
        if (rc != DT_OK)
            return rc;
    }
    return dt_pass_dce(g, st);
}

dt_code dt_pass_dce(dt_graph *g, dt_status *st)
{
    char *live = dt_calloc((size_t)g->n_values + 1, 1);
    if (!live)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    for (int i = 0; i < g->n_outputs; i++)
        live[g->outputs[i]] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        dt_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        int used = 0;
        for (int k = 0; k < n->n_out; k++)
            if (live[n->out[k]])
                used = 1;
        if (!used) {
            n->dead = 1;
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                live[n->in[k]] = 1;
    }
    dt_free(live);
    return dt_graph_compact(g, st);
}
