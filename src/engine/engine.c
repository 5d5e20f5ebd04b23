/* engine.c — models and sessions: load, specialise per batch size, plan,
 * prepare kernels, run. */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "engine/cpu/cpu.h"
#include "engine/cpu/pool.h"
#include "engine/cuda/cuda.h"
#include "engine/graph.h"
#include "engine/loaders/loaders.h"
#include "engine/ops.h"
#include "engine/passes/passes.h"

struct dt_model {
    dt_graph *graph;
    dt_model_format format;
};

/* One executable plan: the graph specialised for one batch size, with the
 * tensor views of every node precomputed so a run only calls kernels. */
typedef struct exec_node {
    dt_kernel_fn fn;
    const char *kname; /* fast kernel name or NULL for reference */
    int skip;          /* aliased view op: nothing to do */
    int n_in, n_out;
    dt_tensor *in_t, *out_t;       /* views */
    const dt_tensor **in_p;
    dt_tensor **out_p;
    double usec;                   /* profile */
    int64_t macs;
} exec_node;

typedef struct plan {
    int batch;
    dt_graph *g;
    exec_node *nodes;
    int n_nodes;
    size_t arena_bytes, scratch_offset, scratch_bytes;
    dt_tensor *inputs;   /* views into the arena */
    dt_tensor *outputs;  /* views: arena or constants */
    int64_t macs, params;
    size_t weight_bytes;
    size_t own_const_bytes; /* constants not shared with the model */
} plan;

struct dt_session {
    const dt_model *model;
    dt_session_opts opts;
    dt_pool *pool;
    plan *plans; /* plans[b-1] for batch b */
    int n_plans;
    void *arena;
    size_t arena_bytes;
    size_t const_bytes; /* sum of the plans' own_const_bytes */
    int last_batch;
    /* CUDA hook: the executor when the session runs on GPU cuda_dev (-1 = CPU) */
    int cuda_dev;
    dt_cuda_exec *cuda;
    char device[16];
};

/* ---- model ---------------------------------------------------------------- */

dt_code dt_model_load(const char *path, dt_model_format fmt, dt_model **out, dt_status *st)
{
    *out = NULL;
    if (!path)
        return dt_fail(st, DT_EINVAL, "no model path given");
    if (fmt == DT_FORMAT_AUTO) {
        size_t n = strlen(path);
        fmt = (n > 5 && !strcmp(path + n - 5, ".json")) ? DT_FORMAT_TFJS : DT_FORMAT_ONNX;
    }
    dt_model *m = dt_calloc(1, sizeof *m);
    if (!m)
        return dt_fail(st, DT_ENOMEM, "out of memory loading model");
    m->format = fmt;
    dt_code rc = fmt == DT_FORMAT_TFJS ? dt_load_tfjs(path, &m->graph, st) : dt_load_onnx(path, &m->graph, st);
    if (rc != DT_OK) {
        dt_free(m);
        return rc;
    }
    *out = m;
    return DT_OK;
}

dt_code dt_model_from_graph(dt_graph *g, dt_model_format fmt, dt_model **out, dt_status *st)
{
    *out = NULL;
    if (!g)
        return dt_fail(st, DT_EINVAL, "no graph given");
    dt_model *m = dt_calloc(1, sizeof *m);
    if (!m) {
        dt_graph_free(g);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    m->graph = g;
    m->format = fmt == DT_FORMAT_TFJS ? DT_FORMAT_TFJS : DT_FORMAT_ONNX;
    *out = m;
    return DT_OK;
}

void dt_model_free(dt_model *m)
{
    if (!m)
        return;
    dt_graph_free(m->graph);
    dt_free(m);
}

static dt_io_info io_info(const dt_graph *g, int vid)
{
    dt_io_info r;
    memset(&r, 0, sizeof r);
    const dt_value *v = &g->values[vid];
    r.name = v->name;
    r.dtype = v->dtype;
    r.ndim = v->ndim;
    for (int i = 0; i < v->ndim && i < DT_MAX_DIMS; i++)
        r.dims[i] = v->dims[i];
    return r;
}

int dt_model_num_inputs(const dt_model *m) { return m->graph->n_inputs; }
int dt_model_num_outputs(const dt_model *m) { return m->graph->n_outputs; }
dt_io_info dt_model_input(const dt_model *m, int i) { return io_info(m->graph, m->graph->inputs[i]); }
dt_io_info dt_model_output(const dt_model *m, int i) { return io_info(m->graph, m->graph->outputs[i]); }
const char *dt_model_format_name(const dt_model *m) { return m->format == DT_FORMAT_TFJS ? "tfjs" : "onnx"; }
const struct dt_graph *dt_model_graph(const dt_model *m) { return m->graph; }

/* ---- plans ---------------------------------------------------------------- */

static void plan_clear(plan *p)
{
    if (p->nodes) {
        for (int i = 0; i < p->n_nodes; i++) {
            dt_free(p->nodes[i].in_t);
            dt_free(p->nodes[i].out_t);
            dt_free(p->nodes[i].in_p);
            dt_free(p->nodes[i].out_p);
        }
    }
    dt_free(p->nodes);
    dt_free(p->inputs);
    dt_free(p->outputs);
    dt_graph_free(p->g);
    memset(p, 0, sizeof *p);
}

static int64_t node_macs(const dt_graph *g, const dt_node *n)
{
    const dt_value *y = dt_node_out(g, n, 0);
    const dt_value *w = dt_node_in(g, n, 1);
    if (!y || !w)
        return 0;
    int64_t ny = dt_shape_numel(y->ndim, y->dims);
    switch (n->op) {
    case DT_OP_Conv:
        if (w->ndim < 3)
            return 0;
        return ny * dt_shape_numel(w->ndim - 1, w->dims + 1);
    case DT_OP_ConvTranspose: {
        const dt_value *x = dt_node_in(g, n, 0);
        return x ? dt_shape_numel(x->ndim, x->dims) * dt_shape_numel(w->ndim - 1, w->dims + 1) : 0;
    }
    case DT_OP_Gemm: {
        const dt_value *a = dt_node_in(g, n, 0);
        if (!a || a->ndim != 2)
            return 0;
        int64_t k = dt_attr_int(n, "transA", 0) ? a->dims[0] : a->dims[1];
        return ny * k;
    }
    case DT_OP_MatMul: {
        const dt_value *a = dt_node_in(g, n, 0);
        if (!a || a->ndim < 1)
            return 0;
        return ny * a->dims[a->ndim - 1];
    }
    default: return 0;
    }
}

static dt_tensor value_tensor(const dt_graph *g, int vid, void *arena)
{
    const dt_value *v = &g->values[vid];
    dt_tensor t = dt_value_view(v);
    if (!v->buf)
        t.data = v->offset >= 0 ? (char *)arena + v->offset : NULL;
    return t;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(const dt_buf *const *)a;
    uintptr_t y = (uintptr_t)*(const dt_buf *const *)b;
    return x < y ? -1 : x > y;
}

/* The model's constant blobs, sorted, so a plan can tell its own (folded,
 * fused) constants from the weights it shares with the model. */
static dt_code model_bufs(const dt_graph *g, const dt_buf ***out, int *n, dt_status *st)
{
    const dt_buf **b = dt_malloc(((size_t)g->n_values + 1) * sizeof *b);
    if (!b)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    int k = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].buf)
            b[k++] = g->values[v].buf;
    qsort(b, (size_t)k, sizeof *b, cmp_ptr);
    *out = b;
    *n = k;
    return DT_OK;
}

static size_t own_const_bytes(const dt_graph *g, const dt_buf **shared, int n_shared)
{
    size_t total = 0;
    for (int v = 0; v < g->n_values; v++) {
        const dt_buf *b = g->values[v].buf;
        if (b && !bsearch(&b, shared, (size_t)n_shared, sizeof *shared, cmp_ptr))
            total += b->size;
    }
    return total;
}

/* "1.62 GiB" / "93.0 MiB" / "512 bytes" */
static const char *fmt_bytes(size_t n, char *buf, size_t cap)
{
    if (n >= (size_t)1 << 30)
        snprintf(buf, cap, "%.2f GiB", (double)n / (double)(1 << 30));
    else if (n >= (size_t)1 << 20)
        snprintf(buf, cap, "%.1f MiB", (double)n / (double)(1 << 20));
    else if (n >= (size_t)1 << 10)
        snprintf(buf, cap, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(buf, cap, "%zu bytes", n);
    return buf;
}

/* Build plan for batch b: clone, specialise, fuse, plan, select kernels. */
static dt_code plan_build(const dt_session *s, int b, plan *p, dt_status *st)
{
    const dt_graph *mg = s->model->graph;
    memset(p, 0, sizeof *p);
    p->batch = b;
    dt_code rc = dt_graph_clone(mg, &p->g, st);
    if (rc != DT_OK)
        return rc;
    dt_graph *g = p->g;
    dt_tensor shapes[16];
    int ns = g->n_inputs < 16 ? g->n_inputs : 16;
    for (int i = 0; i < ns; i++) {
        dt_value *v = &g->values[g->inputs[i]];
        memset(&shapes[i], 0, sizeof shapes[i]);
        if (s->opts.input_shapes && i < s->opts.n_input_shapes) {
            shapes[i] = s->opts.input_shapes[i];
        } else {
            shapes[i].dtype = v->dtype;
            shapes[i].ndim = v->ndim;
            for (int d = 0; d < v->ndim && d < DT_MAX_DIMS; d++)
                shapes[i].dims[d] = v->dims[d];
        }
        /* batch dimension: symbolic → b; with max_batch > 1 always b */
        if (shapes[i].ndim > 0 && (shapes[i].dims[0] < 0 || s->opts.max_batch > 1))
            shapes[i].dims[0] = b;
    }
    rc = dt_pass_specialize(g, ns, shapes, st);
    if (rc == DT_OK && !s->opts.no_optimize)
        rc = dt_pass_fuse(g, st);
    if (rc != DT_OK)
        return rc;
    /* kernel selection + prepare (may raise scratch_bytes) before planning */
    p->n_nodes = g->n_nodes;
    p->nodes = dt_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(exec_node));
    if (!p->nodes)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        const dt_opdef *def = dt_opdef_get(n->op);
        if (!def || !def->ref)
            return dt_fail(st, DT_EUNSUPPORTED, "unsupported operator '%s' (node '%s')", dt_op_name(n->op),
                           n->name);
        exec_node *e = &p->nodes[i];
        e->fn = def->ref;
        if (!s->opts.reference && s->cuda_dev < 0) {
            const dt_cpu_kernel *k = dt_cpu_select(g, n);
            if (k) {
                if (k->prepare) {
                    rc = k->prepare(g, &g->nodes[i], st);
                    if (rc != DT_OK)
                        return dt_wrap(st, "preparing node '%s'", g->nodes[i].name);
                }
                e->fn = k->run;
                e->kname = k->name;
            }
        }
        e->macs = node_macs(g, &g->nodes[i]);
        p->macs += e->macs;
    }
    rc = dt_pass_plan_ex(g, s->cuda_dev < 0 ? DT_PLAN_CONCAT_INPLACE | DT_PLAN_OFFSET_VIEWS : 0, &p->arena_bytes, &p->scratch_offset,
                         &p->scratch_bytes, st);
    if (rc != DT_OK)
        return rc;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].buf) {
            p->weight_bytes += g->values[v].buf->size;
            if (g->values[v].dtype == DT_F32)
                p->params += dt_shape_numel(g->values[v].ndim, g->values[v].dims);
        }
    return DT_OK;
}

/* Point every view at the arena (done once the arena exists). */
static dt_code plan_bind(plan *p, void *arena, dt_status *st)
{
    dt_graph *g = p->g;
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        exec_node *e = &p->nodes[i];
        e->n_in = n->n_in;
        e->n_out = n->n_out;
        e->in_t = dt_calloc((size_t)n->n_in + 1, sizeof(dt_tensor));
        e->out_t = dt_calloc((size_t)n->n_out + 1, sizeof(dt_tensor));
        e->in_p = dt_calloc((size_t)n->n_in + 1, sizeof(dt_tensor *));
        e->out_p = dt_calloc((size_t)n->n_out + 1, sizeof(dt_tensor *));
        if (!e->in_t || !e->out_t || !e->in_p || !e->out_p)
            return dt_fail(st, DT_ENOMEM, "out of memory");
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] < 0) {
                e->in_p[k] = NULL;
                continue;
            }
            e->in_t[k] = value_tensor(g, n->in[k], arena);
            e->in_p[k] = &e->in_t[k];
        }
        for (int k = 0; k < n->n_out; k++) {
            e->out_t[k] = value_tensor(g, n->out[k], arena);
            e->out_p[k] = &e->out_t[k];
        }
        if (dt_node_is_planned_view(g, n))
            e->skip = 1;
    }
    p->inputs = dt_calloc((size_t)g->n_inputs + 1, sizeof(dt_tensor));
    p->outputs = dt_calloc((size_t)g->n_outputs + 1, sizeof(dt_tensor));
    if (!p->inputs || !p->outputs)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    for (int i = 0; i < g->n_inputs; i++)
        p->inputs[i] = value_tensor(g, g->inputs[i], arena);
    for (int i = 0; i < g->n_outputs; i++)
        p->outputs[i] = value_tensor(g, g->outputs[i], arena);
    return DT_OK;
}

/* A batch plan is only valid if every output scales with the batch: a graph
 * with a hard-coded batch in a Reshape would silently mix images. */
static int plan_batch_ok(const plan *p1, const plan *pb, int b)
{
    for (int i = 0; i < p1->g->n_outputs; i++) {
        const dt_tensor *o1 = &p1->outputs[i], *ob = &pb->outputs[i];
        if (o1->ndim != ob->ndim || o1->ndim < 1)
            return 0;
        if (o1->dims[0] * b != ob->dims[0])
            return 0;
        for (int d = 1; d < o1->ndim; d++)
            if (o1->dims[d] != ob->dims[d])
                return 0;
    }
    return 1;
}

/* ---- CUDA hook -------------------------------------------------------------
 * With a cuda device the plans are built as for the CPU (minus CPU kernel
 * preparation), then handed to the CUDA executor, which owns the device
 * memory and the pinned input/output buffers the plan views point at.  When
 * the executor declines (an op it lacks), dt_session_create builds the
 * session again on the CPU. */
/* Input / output shapes of every plan (the data pointers come later from
 * the executor), so the batch check below works as for the CPU. */
static dt_code session_cuda_shapes(dt_session *s, dt_status *st)
{
    for (int i = 0; i < s->n_plans; i++) {
        plan *p = &s->plans[i];
        p->inputs = dt_calloc((size_t)p->g->n_inputs + 1, sizeof(dt_tensor));
        p->outputs = dt_calloc((size_t)p->g->n_outputs + 1, sizeof(dt_tensor));
        if (!p->inputs || !p->outputs)
            return dt_fail(st, DT_ENOMEM, "out of memory");
        for (int k = 0; k < p->g->n_inputs; k++)
            p->inputs[k] = dt_value_view(&p->g->values[p->g->inputs[k]]);
        for (int k = 0; k < p->g->n_outputs; k++)
            p->outputs[k] = dt_value_view(&p->g->values[p->g->outputs[k]]);
    }
    return DT_OK;
}

static dt_code session_attach_cuda(dt_session *s, char *why, size_t why_cap, dt_status *st)
{
    dt_graph **gs = dt_calloc((size_t)s->n_plans + 1, sizeof *gs);
    size_t *ab = dt_calloc((size_t)s->n_plans + 1, sizeof *ab);
    dt_code rc = gs && ab ? DT_OK : dt_fail(st, DT_ENOMEM, "out of memory");
    for (int i = 0; rc == DT_OK && i < s->n_plans; i++) {
        gs[i] = s->plans[i].g;
        ab[i] = s->plans[i].arena_bytes;
    }
    if (rc == DT_OK)
        rc = dt_cuda_exec_create(s->cuda_dev, gs, ab, s->n_plans, &s->cuda, why, why_cap, st);
    dt_free(gs);
    dt_free(ab);
    for (int i = 0; rc == DT_OK && i < s->n_plans; i++) {
        plan *p = &s->plans[i];
        rc = dt_cuda_exec_io(s->cuda, i + 1, p->inputs, p->g->n_inputs, p->outputs, p->g->n_outputs, st);
        for (int k = 0; rc == DT_OK && k < p->n_nodes; k++) {
            p->nodes[k].kname = dt_cuda_exec_kernel(s->cuda, i + 1, k);
            p->nodes[k].skip = p->nodes[k].kname == NULL;
        }
    }
    if (rc == DT_OK)
        s->arena_bytes = dt_cuda_exec_device_bytes(s->cuda);
    return rc;
}

static dt_code session_create(const dt_model *m, const dt_session_opts *opts, int cuda_dev, char *why,
                              size_t why_cap, dt_session **out, dt_status *st);

dt_code dt_session_create(const dt_model *m, const dt_session_opts *opts, dt_session **out, dt_status *st)
{
    int dev = -1;
    *out = NULL;
    dt_code rc = dt_cuda_parse_device(opts ? opts->device : NULL, &dev, st);
    if (rc != DT_OK || dev < 0)
        return rc != DT_OK ? rc : session_create(m, opts, -1, NULL, 0, out, st);
    char why[DT_STATUS_MSG] = "";
    rc = session_create(m, opts, dev, why, sizeof why, out, st);
    if (rc != DT_EUNSUPPORTED || !why[0])
        return rc;
    fprintf(stderr, "detectd: cuda:%d cannot run this model (%s): running it on the CPU\n", dev, why);
    return session_create(m, opts, -1, NULL, 0, out, st);
}

const char *dt_session_device(const dt_session *s) { return s->device; }

static dt_code session_create(const dt_model *m, const dt_session_opts *opts, int cuda_dev, char *why,
                              size_t why_cap, dt_session **out, dt_status *st)
{
    *out = NULL;
    dt_session *s = dt_calloc(1, sizeof *s);
    if (!s)
        return dt_fail(st, DT_ENOMEM, "out of memory creating session");
    s->model = m;
    s->cuda_dev = cuda_dev;
    if (cuda_dev >= 0)
        snprintf(s->device, sizeof s->device, "cuda:%d", cuda_dev);
    else
        snprintf(s->device, sizeof s->device, "cpu");
    if (opts)
        s->opts = *opts;
    if (s->opts.threads < 1)
        s->opts.threads = 1;
    if (s->opts.max_batch < 1)
        s->opts.max_batch = 1;
    if (s->opts.max_memory == 0)
        s->opts.max_memory = DT_SESSION_MAX_MEMORY_DEFAULT;
    int maxb = s->opts.max_batch;
    const dt_buf **shared = NULL;
    int n_shared = 0;
    dt_code rc = model_bufs(m->graph, &shared, &n_shared, st);
    if (rc != DT_OK)
        goto fail;
    rc = dt_pool_create(s->opts.threads, &s->pool, st);
    if (rc != DT_OK)
        goto fail;
    s->plans = dt_calloc((size_t)maxb, sizeof(plan));
    if (!s->plans) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory creating session");
        goto fail;
    }
    size_t act_max = 0;
    for (int b = 1; b <= maxb; b++) {
        dt_status bst;
        dt_status_clear(&bst);
        plan *p = &s->plans[b - 1];
        rc = plan_build(s, b, p, b == 1 ? st : &bst);
        if (rc != DT_OK) {
            plan_clear(p);
            if (b == 1 || rc == DT_ENOMEM) {
                if (b > 1)
                    *st = bst;
                goto fail;
            }
            break; /* the graph does not batch: serve batch 1 only */
        }
        /* The memory limit, checked before the arena exists: the largest
         * plan's arena plus every plan's own constants.  A larger batch
         * that does not fit only lowers the session's max batch. */
        p->own_const_bytes = own_const_bytes(p->g, shared, n_shared);
        size_t act = p->scratch_offset + p->scratch_bytes;
        size_t act_b = act > act_max ? act : act_max;
        size_t need = act_b + s->const_bytes + p->own_const_bytes;
        if (need > s->opts.max_memory) {
            if (b > 1) {
                plan_clear(p);
                break;
            }
            char a[32], c[32], l[32], t[32];
            rc = dt_fail(st, DT_ELIMIT,
                         "model needs %s of memory at batch 1 (activations %s, folded constants %s), over the "
                         "limit of %s (--max-model-memory)",
                         fmt_bytes(need, t, sizeof t), fmt_bytes(act, a, sizeof a),
                         fmt_bytes(p->own_const_bytes, c, sizeof c), fmt_bytes(s->opts.max_memory, l, sizeof l));
            goto fail;
        }
        act_max = act_b;
        s->const_bytes += p->own_const_bytes;
        s->n_plans = b;
    }
    dt_free(shared);
    shared = NULL;
    if (s->cuda_dev >= 0) {
        rc = session_cuda_shapes(s, st);
        if (rc != DT_OK)
            goto fail;
        goto check_batches;
    }
    size_t arena = 0;
    for (int i = 0; i < s->n_plans; i++) {
        size_t need = s->plans[i].scratch_offset + s->plans[i].scratch_bytes;
        if (need > arena)
            arena = need;
    }
    s->arena_bytes = arena;
    s->arena = dt_aligned_alloc(arena ? arena : 64);
    if (!s->arena) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory for a %zu-byte arena", arena);
        goto fail;
    }
    memset(s->arena, 0, arena ? arena : 64);
    for (int i = 0; i < s->n_plans; i++) {
        rc = plan_bind(&s->plans[i], s->arena, st);
        if (rc != DT_OK)
            goto fail;
    }
check_batches:
    for (int i = 1; i < s->n_plans; i++)
        if (!plan_batch_ok(&s->plans[0], &s->plans[i], i + 1)) {
            for (int j = i; j < s->n_plans; j++)
                plan_clear(&s->plans[j]);
            s->n_plans = i;
            break;
        }
    if (s->cuda_dev >= 0) {
        rc = session_attach_cuda(s, why, why_cap, st);
        if (rc != DT_OK)
            goto fail;
    }
    *out = s;
    return DT_OK;
fail:
    dt_free(shared);
    dt_session_free(s);
    return rc;
}

void dt_session_free(dt_session *s)
{
    if (!s)
        return;
    dt_cuda_exec_free(s->cuda);
    if (s->plans)
        for (int i = 0; i < s->opts.max_batch; i++)
            plan_clear(&s->plans[i]);
    dt_free(s->plans);
    dt_free(s->arena);
    dt_pool_free(s->pool);
    dt_free(s);
}

int dt_session_max_batch(const dt_session *s) { return s->n_plans; }

static const plan *plan_for(const dt_session *s, int batch)
{
    if (batch < 1 || batch > s->n_plans)
        return NULL;
    return &s->plans[batch - 1];
}

dt_code dt_session_input_shape(const dt_session *s, int batch, int i, dt_tensor *shape_out, dt_status *st)
{
    const plan *p = plan_for(s, batch);
    if (!p)
        return dt_fail(st, DT_ELIMIT, "batch %d not available (max %d)", batch, s->n_plans);
    if (i < 0 || i >= p->g->n_inputs)
        return dt_fail(st, DT_EINVAL, "no input %d", i);
    *shape_out = p->inputs[i];
    return DT_OK;
}

void *dt_session_input_buffer(dt_session *s, int batch, int i)
{
    const plan *p = plan_for(s, batch);
    if (!p || i < 0 || i >= p->g->n_inputs)
        return NULL;
    return p->inputs[i].data;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

dt_code dt_session_run(dt_session *s, int batch, const dt_tensor *inputs, dt_status *st)
{
    plan *p = (plan *)plan_for(s, batch);
    if (!p)
        return dt_fail(st, DT_ELIMIT, "batch %d not available (max %d)", batch, s->n_plans);
    if (inputs) {
        for (int i = 0; i < p->g->n_inputs; i++) {
            const dt_tensor *src = &inputs[i], *dst = &p->inputs[i];
            int same = src->dtype == dst->dtype && src->ndim == dst->ndim;
            for (int d = 0; same && d < dst->ndim; d++)
                same = src->dims[d] == dst->dims[d];
            if (!same) {
                char a[96], b[96];
                return dt_fail(st, DT_ESHAPE, "input '%s': expected %s %s, got %s %s",
                               p->g->values[p->g->inputs[i]].name, dt_dtype_name(dst->dtype),
                               dt_shape_str(dst->ndim, dst->dims, a, sizeof a), dt_dtype_name(src->dtype),
                               dt_shape_str(src->ndim, src->dims, b, sizeof b));
            }
            if (src->data != dst->data)
                memcpy(dst->data, src->data, dt_tensor_nbytes(dst));
        }
    }
    if (s->cuda) {
        dt_code rc = dt_cuda_exec_run(s->cuda, batch, st);
        if (rc == DT_OK)
            s->last_batch = batch;
        return rc;
    }
    dt_kctx ctx = {s->pool, (char *)s->arena + p->scratch_offset, p->scratch_bytes};
    for (int i = 0; i < p->n_nodes; i++) {
        exec_node *e = &p->nodes[i];
        if (e->skip)
            continue;
        double t0 = s->opts.profile ? now_us() : 0;
        dt_code rc = e->fn(&p->g->nodes[i], e->in_p, e->n_in, e->out_p, e->n_out, &ctx, st);
        if (rc != DT_OK)
            return dt_wrap(st, "node '%s' (%s)", p->g->nodes[i].name, dt_op_name(p->g->nodes[i].op));
        if (s->opts.profile)
            e->usec += now_us() - t0;
    }
    s->last_batch = batch;
    return DT_OK;
}

const dt_tensor *dt_session_output(const dt_session *s, int i)
{
    const plan *p = plan_for(s, s->last_batch ? s->last_batch : 1);
    if (!p || i < 0 || i >= p->g->n_outputs)
        return NULL;
    return &p->outputs[i];
}

int dt_session_num_outputs(const dt_session *s) { return s->plans[0].g->n_outputs; }

const char *dt_session_output_name(const dt_session *s, int i)
{
    const dt_graph *g = s->plans[0].g;
    return (i >= 0 && i < g->n_outputs) ? g->values[g->outputs[i]].name : NULL;
}

size_t dt_session_arena_bytes(const dt_session *s) { return s->arena_bytes; }
size_t dt_session_const_bytes(const dt_session *s) { return s->const_bytes; }
size_t dt_session_max_memory(const dt_session *s) { return s->opts.max_memory; }

dt_code dt_session_stats(const dt_session *s, int batch, dt_plan_stats *out, dt_status *st)
{
    const plan *p = plan_for(s, batch);
    if (!p)
        return dt_fail(st, DT_ELIMIT, "batch %d not available", batch);
    memset(out, 0, sizeof *out);
    out->n_nodes = p->n_nodes;
    out->params = p->params;
    out->macs = p->macs;
    out->arena_bytes = p->scratch_offset + p->scratch_bytes;
    out->weight_bytes = p->weight_bytes;
    for (int i = 0; i < p->n_nodes; i++)
        if ((unsigned)p->g->nodes[i].op < 128)
            out->op_counts[p->g->nodes[i].op]++;
    return DT_OK;
}

void dt_session_profile(const dt_session *s, int batch, dt_profile_fn fn, void *arg)
{
    const plan *p = plan_for(s, batch);
    if (!p)
        return;
    for (int i = 0; i < p->n_nodes; i++) {
        const dt_node *n = &p->g->nodes[i];
        const char *op = p->nodes[i].kname ? p->nodes[i].kname : dt_op_name(n->op);
        fn(arg, op, n->name, p->nodes[i].usec, p->nodes[i].macs);
    }
}

void dt_session_profile_reset(dt_session *s)
{
    for (int b = 0; b < s->n_plans; b++)
        for (int i = 0; i < s->plans[b].n_nodes; i++)
            s->plans[b].nodes[i].usec = 0;
}

void dt_session_dump(const dt_session *s, int batch, FILE *f)
{
    const plan *p = plan_for(s, batch);
    if (!p)
        return;
    const dt_graph *g = p->g;
    for (int i = 0; i < p->n_nodes; i++) {
        const dt_node *n = &g->nodes[i];
        const exec_node *e = &p->nodes[i];
        fprintf(f, "%4d %-18s %-22s %-40s", i, dt_op_name(n->op), e->kname ? e->kname : (e->skip ? "(view)" : "ref"),
                n->name);
        for (int k = 0; k < n->n_out; k++) {
            const dt_value *v = &g->values[n->out[k]];
            char sh[96];
            dt_shape_str(v->ndim, v->dims, sh, sizeof sh);
            fprintf(f, " %s%s@%lld", sh, dt_dtype_name(v->dtype), (long long)v->offset);
        }
        const char *act = dt_attr_str(n, "activation", NULL);
        if (act)
            fprintf(f, " +%s", act);
        if (n->scratch_bytes)
            fprintf(f, " scratch=%zu", n->scratch_bytes);
        fprintf(f, "\n");
    }
    fprintf(f, "arena: activations %zu bytes, scratch %zu bytes at %zu\n", p->arena_bytes, p->scratch_bytes,
            p->scratch_offset);
}
