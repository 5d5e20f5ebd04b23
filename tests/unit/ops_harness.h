/* ops_harness.h — the tiny graph harness shared by the op unit tests:
 * build a one-node graph, run its infer and reference kernel, read results. */
#ifndef DT_OPS_HARNESS_H
#define DT_OPS_HARNESS_H

#include <float.h>
#include <math.h>
#include <stdint.h>

#include "base/alloc.h"
#include "engine/cpu/pool.h"
#include "engine/graph.h"
#include "engine/ops.h"
#include "testlib.h"

/* ---- tiny graph harness ------------------------------------------------- */

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define MAXV 256

static dt_graph *G;
static void *g_feed[MAXV];   /* data of non-constant values, by id */
static dt_tensor g_out[8];
static void *g_buf[8];
static dt_pool *g_pool;      /* 2 threads: exercises the chunked paths */

static void gnew(void)
{
    G = dt_graph_create();
    memset(g_feed, 0, sizeof g_feed);
}

static void gfree(void)
{
    for (int i = 0; i < 8; i++) {
        free(g_buf[i]);
        g_buf[i] = NULL;
    }
    for (int i = 0; i < MAXV; i++) {
        free(g_feed[i]);
        g_feed[i] = NULL;
    }
    dt_graph_free(G);
    G = NULL;
}

/* A buffer of dtype t from doubles. */
static void *mkbuf(dt_dtype t, int64_t n, const double *v)
{
    size_t es = dt_dtype_size(t);
    char *b = calloc((size_t)(n ? n : 1), es);
    for (int64_t i = 0; i < n; i++) {
        switch (t) {
        case DT_F32: ((float *)b)[i] = (float)v[i]; break;
        case DT_I64: ((int64_t *)b)[i] = (int64_t)v[i]; break;
        case DT_I32: ((int32_t *)b)[i] = (int32_t)v[i]; break;
        case DT_U8: ((uint8_t *)b)[i] = (uint8_t)v[i]; break;
        case DT_I8: ((int8_t *)b)[i] = (int8_t)v[i]; break;
        case DT_BOOL: ((uint8_t *)b)[i] = v[i] != 0; break;
        default: break;
        }
    }
    return b;
}

static int cst(dt_dtype t, int nd, const int64_t *dims, const double *v)
{
    dt_status st;
    int64_t n = dt_shape_numel(nd, dims);
    void *b = mkbuf(t, n, v);
    int id = dt_graph_add_const(G, NULL, t, nd, dims, b, &st);
    free(b);
    return id;
}

/* Non-constant value fed with data at run time (takes ownership of buf). */
static int var_buf(dt_dtype t, int nd, const int64_t *dims, void *buf)
{
    dt_status st;
    int id = dt_graph_add_value(G, NULL, t, nd, dims, &st);
    if (id >= 0 && id < MAXV)
        g_feed[id] = buf;
    return id;
}

static int var(dt_dtype t, int nd, const int64_t *dims, const double *v)
{
    return var_buf(t, nd, dims, mkbuf(t, dt_shape_numel(nd, dims), v));
}

static int outv(void)
{
    dt_status st;
    return dt_graph_add_value(G, NULL, DT_UNDEF, -1, NULL, &st);
}

static int mk(dt_op op, const char *name, int nin, const int *in, int nout, const int *out)
{
    dt_status st;
    int n = dt_graph_add_node(G, op, name, nin, in, nout, out, &st);
    CHECK(n >= 0);
    return n;
}

static __attribute__((unused)) dt_code infer_only(int ni, dt_status *st)
{
    dt_node *n = &G->nodes[ni];
    const dt_opdef *d = dt_opdef_get(n->op);
    if (!d || !d->infer)
        return dt_fail(st, DT_EUNSUPPORTED, "no infer for %s", dt_op_name(n->op));
    return d->infer(G, n, st);
}

/* Infer, allocate outputs, run the reference kernel. */
static dt_code exec_pool(int ni, dt_pool *pool, dt_status *st)
{
    dt_status_clear(st);
    for (int i = 0; i < 8; i++) {
        free(g_buf[i]);
        g_buf[i] = NULL;
    }
    dt_node *n = &G->nodes[ni];
    const dt_opdef *d = dt_opdef_get(n->op);
    if (!d || !d->infer || !d->ref)
        return dt_fail(st, DT_EUNSUPPORTED, "no def for %s", dt_op_name(n->op));
    dt_code rc = d->infer(G, n, st);
    if (rc)
        return rc;
    dt_tensor ins[16];
    const dt_tensor *inp[16];
    dt_tensor *outp[8];
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0) {
            inp[i] = NULL;
            continue;
        }
        ins[i] = dt_value_view(&G->values[n->in[i]]);
        if (!ins[i].data)
            ins[i].data = g_feed[n->in[i]];
        inp[i] = &ins[i];
    }
    for (int o = 0; o < n->n_out; o++) {
        g_out[o] = dt_value_view(&G->values[n->out[o]]);
        size_t nb = dt_tensor_nbytes(&g_out[o]);
        g_buf[o] = calloc(1, nb + 64);
        memset(g_buf[o], 0xA5, nb + 64); /* garbage: kernels must write everything */
        g_out[o].data = g_buf[o];
        outp[o] = &g_out[o];
    }
    void *scratch = n->scratch_bytes ? malloc(n->scratch_bytes) : NULL;
    dt_kctx ctx = {pool, scratch, n->scratch_bytes};
    rc = d->ref(n, inp, n->n_in, outp, n->n_out, &ctx, st);
    free(scratch);
    return rc;
}

static dt_code exec(int ni, dt_status *st) { return exec_pool(ni, NULL, st); }

static double outf(int o, int64_t i) { return dt_tensor_get_f(&g_out[o], i); }
static int64_t outi(int o, int64_t i) { return dt_tensor_get_i(&g_out[o], i); }

static int same_shape(int o, int nd, const int64_t *dims)
{
    if (g_out[o].ndim != nd)
        return 0;
    for (int i = 0; i < nd; i++)
        if (g_out[o].dims[i] != dims[i])
            return 0;
    return 1;
}

static __attribute__((unused)) int close_enough(double got, double want, double tol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= tol + tol * fabs(want);
}

static unsigned g_rng = 12345;
static __attribute__((unused)) double rnd(double lo, double hi) { return tl_randf(&g_rng, (float)lo, (float)hi); }
static __attribute__((unused)) double rndi(int lo, int hi) { return (double)(lo + (int)(tl_randf(&g_rng, 0, 1) * (float)(hi - lo + 1)) % (hi - lo + 1)); }


#endif
