/* nn_pool.c — MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool.
 *
 * Output sizes follow ONNX Runtime (pool_attributes.h): with ceil_mode the
 * last window must start inside the input or the head padding; SAME_* pad
 * as Conv does.  Kernels run one task per (batch, channel) plane. */
#include <float.h>
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops/nn_internal.h"

typedef struct pool_shape {
    int nhwc, nsp, ceil_mode;
    nn_sp xs;
    nn_win w;
    int64_t out_sp[NN_MAX_SP];
    int out_nd;
    int64_t out_dims[DT_MAX_DIMS];
} pool_shape;

static int64_t pool_out_size(int64_t in, int64_t s, int64_t k, int64_t d, int64_t pb, int64_t pe, int ceil_mode)
{
    int64_t num = in + pb + pe - d * (k - 1) - 1;
    if (!ceil_mode)
        return nn_floordiv(num, s) + 1;
    int64_t out = nn_ceildiv(num, s) + 1;
    /* the last window must start inside the input or the head padding */
    if (out > 1 && (out - 1) * s >= in + pb)
        out--;
    return out;
}

static dt_code pool_shape_get(const dt_node *n, int xnd, const int64_t *xd, pool_shape *ps, dt_status *st)
{
    dt_code rc;
    memset(ps, 0, sizeof *ps);
    if ((rc = nn_layout(n, &ps->nhwc, st)))
        return rc;
    if (xnd < 3)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= 3 (got %d)", xnd);
    if (xnd - 2 > NN_MAX_SP)
        return nn_fail(st, DT_EUNSUPPORTED, n, "%d spatial dims (at most %d supported)", xnd - 2, NN_MAX_SP);
    ps->nsp = xnd - 2;
    nn_sp_from_dims(xnd, xd, ps->nhwc, &ps->xs);
    int kc = 0;
    const int64_t *ks = dt_attr_ints(n, "kernel_shape", &kc);
    if (!ks)
        return nn_fail(st, DT_EINVAL, n, "missing attribute kernel_shape");
    if (kc != ps->nsp)
        return nn_fail(st, DT_EINVAL, n, "kernel_shape has %d values, expected %d", kc, ps->nsp);
    if ((rc = nn_win_attrs(n, ps->nsp, ks, &ps->w, st)))
        return rc;
    ps->ceil_mode = (int)dt_attr_int(n, "ceil_mode", 0);
    for (int i = 0; i < ps->nsp; i++) {
        int64_t in = ps->xs.sp[i], s = ps->w.s[i], k = ps->w.k[i], d = ps->w.d[i];
        int64_t out = -1;
        if (in >= 0) {
            switch (ps->w.ap) {
            case NN_PAD_NOTSET:
                if (ps->w.pb[i] >= d * (k - 1) + 1 || ps->w.pe[i] >= d * (k - 1) + 1)
                    return nn_fail(st, DT_EINVAL, n, "pads must be smaller than the kernel");
                break;
            case NN_PAD_VALID:
                ps->w.pb[i] = ps->w.pe[i] = 0;
                break;
            case NN_PAD_SAME_UPPER:
            case NN_PAD_SAME_LOWER: {
                int64_t target = (in + s - 1) / s;
                int64_t total = (target - 1) * s + d * (k - 1) + 1 - in;
                if (total < 0)
                    total = 0;
                ps->w.pb[i] = ps->w.ap == NN_PAD_SAME_UPPER ? total / 2 : (total + 1) / 2;
                ps->w.pe[i] = total - ps->w.pb[i];
                break;
            }
            }
            out = pool_out_size(in, s, k, d, ps->w.pb[i], ps->w.pe[i], ps->ceil_mode);
            if (out < 1)
                return nn_fail(st, DT_ESHAPE, n, "spatial dim %d: input %lld is too small for kernel %lld",
                               i, (long long)in, (long long)k);
        }
        ps->out_sp[i] = out;
    }
    ps->out_nd = nn_dims_from_sp(ps->xs.N, ps->xs.C, ps->nsp, ps->out_sp, ps->nhwc, ps->out_dims);
    return DT_OK;
}

static dt_code pool_infer(dt_graph *g, dt_node *n, int is_max, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
    if (x->dtype != DT_F32)
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (got %s)", dt_dtype_name(x->dtype));
    dt_value *idx = is_max ? dt_node_out(g, n, 1) : NULL;
    if (x->ndim < 0) {
        nn_unknown_outputs(g, n, DT_F32);
        if (idx)
            idx->dtype = DT_I64;
        return DT_OK;
    }
    pool_shape ps;
    dt_code rc = pool_shape_get(n, x->ndim, x->dims, &ps, st);
    if (rc)
        return rc;
    dt_value_set(y, DT_F32, ps.out_nd, ps.out_dims);
    if (idx) {
        int64_t so = dt_attr_int(n, "storage_order", 0);
        if (nn_value_used(g, n->out[1]) && (ps.nhwc || (so != 0 && ps.nsp > 2)))
            return nn_fail(st, DT_EUNSUPPORTED, n, "Indices output only for NCHW (storage_order=1: up to 2-D)");
        dt_value_set(idx, DT_I64, ps.out_nd, ps.out_dims);
    }
    n->scratch_bytes = 0;
    return DT_OK;
}

dt_code dt_nn_infer_MaxPool(dt_graph *g, dt_node *n, dt_status *st) { return pool_infer(g, n, 1, st); }
dt_code dt_nn_infer_AveragePool(dt_graph *g, dt_node *n, dt_status *st) { return pool_infer(g, n, 0, st); }

typedef struct pool_job {
    const float *x;
    float *y;
    int64_t *idx;
    nn_sp xs, ys;
    int64_t K[3], S[3], D[3], P[3], PE[3], I[3], O[3];
    int is_max, include_pad, col_major;
} pool_job;

static void pool_task(void *arg, int64_t begin, int64_t end)
{
    const pool_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t bi = t / j->xs.C, c = t % j->xs.C;
        const float *xb = j->x + bi * j->xs.sN + c * j->xs.sC;
        float *yb = j->y + bi * j->ys.sN + c * j->ys.sC;
        int64_t *ib = j->idx ? j->idx + t * j->ys.S : NULL;
        for (int64_t od = 0; od < j->O[0]; od++)
            for (int64_t oh = 0; oh < j->O[1]; oh++)
                for (int64_t ow = 0; ow < j->O[2]; ow++) {
                    float best = -FLT_MAX;
                    int64_t bidx = -1;
                    double sum = 0.0;
                    int64_t cnt = 0, cnt_pad = 0;
                    for (int64_t kd = 0; kd < j->K[0]; kd++) {
                        int64_t id = od * j->S[0] - j->P[0] + kd * j->D[0];
                        int in_d = id >= 0 && id < j->I[0];
                        int pad_d = id >= -j->P[0] && id < j->I[0] + j->PE[0];
                        for (int64_t kh = 0; kh < j->K[1]; kh++) {
                            int64_t ih = oh * j->S[1] - j->P[1] + kh * j->D[1];
                            int in_h = in_d && ih >= 0 && ih < j->I[1];
                            int pad_h = pad_d && ih >= -j->P[1] && ih < j->I[1] + j->PE[1];
                            for (int64_t kw = 0; kw < j->K[2]; kw++) {
                                int64_t iw = ow * j->S[2] - j->P[2] + kw * j->D[2];
                                if (pad_h && iw >= -j->P[2] && iw < j->I[2] + j->PE[2])
                                    cnt_pad++;
                                if (!in_h || iw < 0 || iw >= j->I[2])
                                    continue;
                                int64_t s = (id * j->I[1] + ih) * j->I[2] + iw;
                                float v = xb[s * j->xs.sS];
                                if (j->is_max) {
                                    if (v > best) {
                                        best = v;
                                        bidx = j->col_major ? (id * j->I[2] + iw) * j->I[1] + ih : s;
                                    }
                                } else {
                                    sum += v;
                                    cnt++;
                                }
                            }
                        }
                    }
                    int64_t so = (od * j->O[1] + oh) * j->O[2] + ow;
                    if (j->is_max) {
                        yb[so * j->ys.sS] = best;
                        if (ib)
                            ib[so] = bidx < 0 ? -1 : t * j->xs.S + bidx;
                    } else {
                        int64_t div = j->include_pad ? cnt_pad : cnt;
                        yb[so * j->ys.sS] = div > 0 ? (float)(sum / (double)div) : 0.f;
                    }
                }
    }
}

static dt_code pool_ref(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                        const dt_kctx *ctx, int is_max, dt_status *st)
{
    dt_code rc;
    if (n_in < 1 || !in[0] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
    if ((rc = nn_need_f32(n, in[0], "X", st)))
        return rc;
    pool_shape ps;
    if ((rc = pool_shape_get(n, in[0]->ndim, in[0]->dims, &ps, st)))
        return rc;
    if (out[0]->ndim != ps.out_nd || memcmp(out[0]->dims, ps.out_dims, (size_t)ps.out_nd * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    pool_job j;
    memset(&j, 0, sizeof j);
    j.x = in[0]->data;
    j.y = out[0]->data;
    j.xs = ps.xs;
    nn_sp_from_dims(ps.out_nd, ps.out_dims, ps.nhwc, &j.ys);
    j.is_max = is_max;
    j.include_pad = (int)dt_attr_int(n, "count_include_pad", 0);
    if (is_max && n_out > 1 && out[1] && out[1]->data) {
        if (out[1]->dtype != DT_I64 || dt_tensor_numel(out[1]) != dt_tensor_numel(out[0]))
            return nn_fail(st, DT_EINVAL, n, "Indices output must be int64 shaped like Y");
        int64_t so = dt_attr_int(n, "storage_order", 0);
        if (ps.nhwc || (so != 0 && ps.nsp > 2)) {
            /* unsupported form: infer refused it if the output is used */
            int64_t *p = out[1]->data;
            for (int64_t i = 0; i < dt_tensor_numel(out[1]); i++)
                p[i] = -1;
        } else {
            j.idx = out[1]->data;
            j.col_major = so != 0;
        }
    }
    int64_t pb[NN_MAX_SP], pe[NN_MAX_SP];
    for (int i = 0; i < ps.nsp; i++) {
        pb[i] = ps.w.pb[i];
        pe[i] = ps.w.pe[i];
    }
    nn_to3(ps.nsp, ps.w.k, 1, j.K);
    nn_to3(ps.nsp, ps.w.s, 1, j.S);
    nn_to3(ps.nsp, ps.w.d, 1, j.D);
    nn_to3(ps.nsp, pb, 0, j.P);
    nn_to3(ps.nsp, pe, 0, j.PE);
    nn_to3(ps.nsp, ps.xs.sp, 1, j.I);
    nn_to3(ps.nsp, ps.out_sp, 1, j.O);
    if (dt_tensor_numel(out[0]) == 0)
        return DT_OK;
    dt_pool_for(ctx ? ctx->pool : NULL, ps.xs.N * ps.xs.C, 1, pool_task, &j);
    return DT_OK;
}

dt_code dt_nn_ref_MaxPool(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                          int n_out, const dt_kctx *ctx, dt_status *st)
{
    return pool_ref(n, in, n_in, out, n_out, ctx, 1, st);
}

dt_code dt_nn_ref_AveragePool(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                              int n_out, const dt_kctx *ctx, dt_status *st)
{
    return pool_ref(n, in, n_in, out, n_out, ctx, 0, st);
}

/* ---- global pools -------------------------------------------------------- */

static dt_code gpool_infer(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
    if (x->dtype != DT_F32)
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (got %s)", dt_dtype_name(x->dtype));
    if (x->ndim < 0)
        return nn_unknown_outputs(g, n, DT_F32);
    int nhwc;
    dt_code rc = nn_layout(n, &nhwc, st);
    if (rc)
        return rc;
    if (x->ndim < 2)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= 2 (got %d)", x->ndim);
    nn_sp sp;
    nn_sp_from_dims(x->ndim, x->dims, nhwc, &sp);
    int64_t ones[DT_MAX_DIMS], dims[DT_MAX_DIMS];
    for (int i = 0; i < DT_MAX_DIMS; i++)
        ones[i] = 1;
    int nd = nn_dims_from_sp(sp.N, sp.C, sp.nsp, ones, nhwc, dims);
    dt_value_set(y, DT_F32, nd, dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

dt_code dt_nn_infer_GlobalAveragePool(dt_graph *g, dt_node *n, dt_status *st) { return gpool_infer(g, n, st); }
dt_code dt_nn_infer_GlobalMaxPool(dt_graph *g, dt_node *n, dt_status *st) { return gpool_infer(g, n, st); }

typedef struct gpool_job {
    const float *x;
    float *y;
    nn_sp xs;
    int is_max;
} gpool_job;

static void gpool_task(void *arg, int64_t begin, int64_t end)
{
    const gpool_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t bi = t / j->xs.C, c = t % j->xs.C;
        const float *xb = j->x + bi * j->xs.sN + c * j->xs.sC;
        float r;
        if (j->is_max) {
            r = -FLT_MAX;
            for (int64_t s = 0; s < j->xs.S; s++)
                if (xb[s * j->xs.sS] > r)
                    r = xb[s * j->xs.sS];
        } else {
            double sum = 0.0;
            for (int64_t s = 0; s < j->xs.S; s++)
                sum += xb[s * j->xs.sS];
            r = j->xs.S > 0 ? (float)(sum / (double)j->xs.S) : 0.f;
        }
        j->y[t] = r; /* output spatial dims are 1: index (b, c) is t in both layouts */
    }
}

static dt_code gpool_ref(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                         const dt_kctx *ctx, int is_max, dt_status *st)
{
    dt_code rc;
    if (n_in < 1 || !in[0] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
    if ((rc = nn_need_f32(n, in[0], "X", st)))
        return rc;
    if (in[0]->ndim < 2)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= 2");
    gpool_job j;
    int nhwc;
    if ((rc = nn_layout(n, &nhwc, st)))
        return rc;
    j.x = in[0]->data;
    j.y = out[0]->data;
    j.is_max = is_max;
    nn_sp_from_dims(in[0]->ndim, in[0]->dims, nhwc, &j.xs);
    if (dt_tensor_numel(out[0]) != j.xs.N * j.xs.C)
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    dt_pool_for(ctx ? ctx->pool : NULL, j.xs.N * j.xs.C, 16, gpool_task, &j);
    return DT_OK;
}

dt_code dt_nn_ref_GlobalAveragePool(const dt_node *n, const dt_tensor *const *in, int n_in,
                                    dt_tensor *const *out, int n_out, const dt_kctx *ctx, dt_status *st)
{
    return gpool_ref(n, in, n_in, out, n_out, ctx, 0, st);
}

dt_code dt_nn_ref_GlobalMaxPool(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                                int n_out, const dt_kctx *ctx, dt_status *st)
{
    return gpool_ref(n, in, n_in, out, n_out, ctx, 1, st);
}
