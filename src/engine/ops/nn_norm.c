/* nn_norm.c — BatchNormalization (inference form), InstanceNormalization and
 * LRN.  All three honour the "layout" attribute (channel axis 1 or last);
 * kernels run one task per (batch, channel) plane. */
#include <math.h>
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops/nn_internal.h"

/* Checks X (rank >= min_rank) and the per-channel 1-D inputs [first, last]. */
static dt_code chan_infer(dt_graph *g, dt_node *n, int min_rank, int first, int last, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
    if (x->dtype != DT_F32)
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (got %s)", dt_dtype_name(x->dtype));
    int nhwc;
    dt_code rc = nn_layout(n, &nhwc, st);
    if (rc)
        return rc;
    if (x->ndim < 0)
        return nn_unknown_outputs(g, n, DT_F32);
    if (x->ndim < min_rank)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= %d (got %d)", min_rank, x->ndim);
    int64_t C = nhwc ? x->dims[x->ndim - 1] : x->dims[1];
    for (int i = first; i <= last; i++) {
        dt_value *p = dt_node_in(g, n, i);
        if (!p)
            return nn_fail(st, DT_EINVAL, n, "missing input %d", i);
        if (p->dtype != DT_F32)
            return nn_fail(st, DT_EUNSUPPORTED, n, "input %d must be float32", i);
        if (p->ndim >= 0 && (p->ndim != 1 || (p->dims[0] >= 0 && C >= 0 && p->dims[0] != C)))
            return nn_fail(st, DT_ESHAPE, n, "input %d must be 1-D of size %lld (channels)", i, (long long)C);
    }
    dt_value_set(y, DT_F32, x->ndim, x->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code chan_ref_check(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                              int n_out, int min_rank, int n_params, nn_sp *sp, dt_status *st)
{
    dt_code rc;
    int nhwc;
    if (n_in < 1 + n_params || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "missing inputs or outputs");
    if ((rc = nn_layout(n, &nhwc, st)))
        return rc;
    if ((rc = nn_need_f32(n, in[0], "X", st)))
        return rc;
    if (in[0]->ndim < min_rank)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= %d", min_rank);
    nn_sp_from_dims(in[0]->ndim, in[0]->dims, nhwc, sp);
    for (int i = 1; i <= n_params; i++) {
        if ((rc = nn_need_f32(n, in[i], "parameter", st)))
            return rc;
        if (dt_tensor_numel(in[i]) != sp->C)
            return nn_fail(st, DT_ESHAPE, n, "input %d must have %lld elements", i, (long long)sp->C);
    }
    if (dt_tensor_numel(out[0]) != dt_tensor_numel(in[0]))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    return DT_OK;
}

/* ---- BatchNormalization -------------------------------------------------- */

dt_code dt_nn_infer_BatchNormalization(dt_graph *g, dt_node *n, dt_status *st)
{
    if (dt_attr_int(n, "training_mode", 0) != 0)
        return nn_fail(st, DT_EUNSUPPORTED, n, "training_mode=1 is not supported");
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0 && nn_value_used(g, n->out[i]))
            return nn_fail(st, DT_EUNSUPPORTED, n, "training outputs (running mean/var) are not supported");
    dt_code rc = chan_infer(g, n, 2, 1, 4, st);
    if (rc)
        return rc;
    /* unused training outputs: give them a plausible shape for the planner */
    dt_value *x = dt_node_in(g, n, 0);
    for (int i = 1; i < n->n_out; i++) {
        dt_value *o = dt_node_out(g, n, i);
        if (o) {
            int nhwc = strcmp(dt_attr_str(n, "layout", "NCHW"), "NHWC") == 0;
            int64_t c = x->ndim < 0 ? -1 : (nhwc ? x->dims[x->ndim - 1] : x->dims[1]);
            dt_value_set(o, DT_F32, 1, &c);
        }
    }
    return DT_OK;
}

typedef struct chan_job {
    const float *x, *p[4];
    float *y;
    nn_sp sp;
    float eps;
    /* LRN */
    float alpha, beta, bias;
    int64_t size;
} chan_job;

static void bn_task(void *arg, int64_t begin, int64_t end)
{
    const chan_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t b = t / j->sp.C, c = t % j->sp.C;
        const float scale = j->p[0][c], bias = j->p[1][c], mean = j->p[2][c], var = j->p[3][c];
        const float a = scale / sqrtf(var + j->eps);
        int64_t base = b * j->sp.sN + c * j->sp.sC;
        for (int64_t s = 0; s < j->sp.S; s++) {
            int64_t o = base + s * j->sp.sS;
            j->y[o] = (j->x[o] - mean) * a + bias;
        }
    }
}

dt_code dt_nn_ref_BatchNormalization(const dt_node *n, const dt_tensor *const *in, int n_in,
                                     dt_tensor *const *out, int n_out, const dt_kctx *ctx, dt_status *st)
{
    chan_job j;
    memset(&j, 0, sizeof j);
    dt_code rc = chan_ref_check(n, in, n_in, out, n_out, 2, 4, &j.sp, st);
    if (rc)
        return rc;
    j.x = in[0]->data;
    for (int i = 0; i < 4; i++)
        j.p[i] = in[1 + i]->data;
    j.y = out[0]->data;
    j.eps = dt_attr_float(n, "epsilon", 1e-5f);
    dt_pool_for(ctx ? ctx->pool : NULL, j.sp.N * j.sp.C, 1, bn_task, &j);
    /* training outputs are unused (infer refuses otherwise): zero them */
    for (int i = 1; i < n_out; i++)
        if (out[i] && out[i]->data)
            memset(out[i]->data, 0, dt_tensor_nbytes(out[i]));
    return DT_OK;
}

/* ---- InstanceNormalization ----------------------------------------------- */

dt_code dt_nn_infer_InstanceNormalization(dt_graph *g, dt_node *n, dt_status *st)
{
    return chan_infer(g, n, 3, 1, 2, st);
}

static void in_task(void *arg, int64_t begin, int64_t end)
{
    const chan_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t b = t / j->sp.C, c = t % j->sp.C;
        int64_t base = b * j->sp.sN + c * j->sp.sC;
        double sum = 0.0, sq = 0.0;
        for (int64_t s = 0; s < j->sp.S; s++)
            sum += j->x[base + s * j->sp.sS];
        double mean = j->sp.S ? sum / (double)j->sp.S : 0.0;
        for (int64_t s = 0; s < j->sp.S; s++) {
            double d = j->x[base + s * j->sp.sS] - mean;
            sq += d * d;
        }
        double var = j->sp.S ? sq / (double)j->sp.S : 0.0;
        double a = j->p[0][c] / sqrt(var + (double)j->eps);
        for (int64_t s = 0; s < j->sp.S; s++) {
            int64_t o = base + s * j->sp.sS;
            j->y[o] = (float)((j->x[o] - mean) * a + j->p[1][c]);
        }
    }
}

dt_code dt_nn_ref_InstanceNormalization(const dt_node *n, const dt_tensor *const *in, int n_in,
                                        dt_tensor *const *out, int n_out, const dt_kctx *ctx, dt_status *st)
{
    chan_job j;
    memset(&j, 0, sizeof j);
    dt_code rc = chan_ref_check(n, in, n_in, out, n_out, 3, 2, &j.sp, st);
    if (rc)
        return rc;
    j.x = in[0]->data;
    j.p[0] = in[1]->data;
    j.p[1] = in[2]->data;
    j.y = out[0]->data;
    j.eps = dt_attr_float(n, "epsilon", 1e-5f);
    dt_pool_for(ctx ? ctx->pool : NULL, j.sp.N * j.sp.C, 1, in_task, &j);
    return DT_OK;
}

/* ---- LRN ----------------------------------------------------------------- */

dt_code dt_nn_infer_LRN(dt_graph *g, dt_node *n, dt_status *st)
{
    int64_t size = dt_attr_int(n, "size", 0);
    if (size < 1)
        return nn_fail(st, DT_EINVAL, n, "attribute size must be >= 1 (got %lld)", (long long)size);
    return chan_infer(g, n, 2, 1, 0, st);
}

static void lrn_task(void *arg, int64_t begin, int64_t end)
{
    const chan_job *j = arg;
    /* window [c - floor((size-1)/2), c + ceil((size-1)/2)] */
    int64_t lo_off = (j->size - 1) / 2, hi_off = j->size - 1 - lo_off;
    for (int64_t t = begin; t < end; t++) {
        int64_t b = t / j->sp.C, c = t % j->sp.C;
        int64_t c0 = c - lo_off < 0 ? 0 : c - lo_off;
        int64_t c1 = c + hi_off > j->sp.C - 1 ? j->sp.C - 1 : c + hi_off;
        for (int64_t s = 0; s < j->sp.S; s++) {
            float sum = 0.f;
            for (int64_t k = c0; k <= c1; k++) {
                float v = j->x[b * j->sp.sN + k * j->sp.sC + s * j->sp.sS];
                sum += v * v;
            }
            int64_t o = b * j->sp.sN + c * j->sp.sC + s * j->sp.sS;
            j->y[o] = j->x[o] / powf(j->bias + j->alpha / (float)j->size * sum, j->beta);
        }
    }
}

dt_code dt_nn_ref_LRN(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    chan_job j;
    memset(&j, 0, sizeof j);
    dt_code rc = chan_ref_check(n, in, n_in, out, n_out, 2, 0, &j.sp, st);
    if (rc)
        return rc;
    j.size = dt_attr_int(n, "size", 0);
    if (j.size < 1)
        return nn_fail(st, DT_EINVAL, n, "attribute size must be >= 1");
    j.alpha = dt_attr_float(n, "alpha", 1e-4f);
    j.beta = dt_attr_float(n, "beta", 0.75f);
    j.bias = dt_attr_float(n, "bias", 1.0f);
    j.x = in[0]->data;
    j.y = out[0]->data;
    dt_pool_for(ctx ? ctx->pool : NULL, j.sp.N * j.sp.C, 1, lrn_task, &j);
    return DT_OK;
}
