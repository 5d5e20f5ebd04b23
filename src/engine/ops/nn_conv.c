/* nn_conv.c — Conv and ConvTranspose: shape inference and reference kernels.
 *
 * Both kernels are direct loops, one task per (batch, output channel) plane,
 * so tasks never write the same element.  1-D and 3-D convolutions run
 * through the same 3-level loop with unit leading spatial dims. */
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops/nn_internal.h"
#include "engine/ops/op_util.h"

/* Geometry of a convolution resolved from node attributes and shapes. */
typedef struct conv_shape {
    int nhwc, nsp;
    int64_t group;
    nn_sp xs;          /* input in its layout */
    int64_t M;         /* output channels */
    int64_t Cg, Mg;    /* input / output channels per group */
    nn_win w;          /* kernel, strides, dilations, resolved pads */
    int64_t out_sp[NN_MAX_SP];
    int out_nd;
    int64_t out_dims[DT_MAX_DIMS];
} conv_shape;

static int dims_known(int nd, const int64_t *d)
{
    for (int i = 0; i < nd; i++)
        if (d[i] < 0)
            return 0;
    return 1;
}

/* Common checks for X [N,C,sp...] (layout) and W [*, *, k...]; fills the
 * kernel size from W (or kernel_shape). */
static dt_code conv_common(const dt_node *n, int xnd, const int64_t *xd, int wnd, const int64_t *wd,
                           conv_shape *cs, int64_t *k, int *k_known, dt_status *st)
{
    dt_code rc;
    memset(cs, 0, sizeof *cs);
    if ((rc = nn_layout(n, &cs->nhwc, st)))
        return rc;
    if (xnd < 3)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= 3 (got %d)", xnd);
    if (xnd - 2 > NN_MAX_SP)
        return nn_fail(st, DT_EUNSUPPORTED, n, "%d spatial dims (at most %d supported)", xnd - 2, NN_MAX_SP);
    if (wnd != xnd)
        return nn_fail(st, DT_ESHAPE, n, "weight rank %d does not match input rank %d", wnd, xnd);
    cs->nsp = xnd - 2;
    nn_sp_from_dims(xnd, xd, cs->nhwc, &cs->xs);
    cs->group = dt_attr_int(n, "group", 1);
    if (cs->group < 1)
        return nn_fail(st, DT_EINVAL, n, "group must be >= 1 (got %lld)", (long long)cs->group);
    int kc = 0;
    const int64_t *ks = dt_attr_ints(n, "kernel_shape", &kc);
    if (ks && kc != cs->nsp)
        return nn_fail(st, DT_EINVAL, n, "kernel_shape has %d values, expected %d", kc, cs->nsp);
    *k_known = 1;
    for (int i = 0; i < cs->nsp; i++) {
        int64_t wk = wd[2 + i];
        if (ks && wk >= 0 && ks[i] != wk)
            return nn_fail(st, DT_ESHAPE, n, "kernel_shape[%d]=%lld does not match weight dim %lld", i,
                           (long long)ks[i], (long long)wk);
        k[i] = wk >= 0 ? wk : (ks ? ks[i] : -1);
        if (k[i] < 0) {
            *k_known = 0;
            k[i] = 1;
        }
    }
    return DT_OK;
}

static dt_code conv_shape_get(const dt_node *n, int xnd, const int64_t *xd, int wnd, const int64_t *wd,
                              int bnd, const int64_t *bd, conv_shape *cs, dt_status *st)
{
    dt_code rc;
    int64_t k[NN_MAX_SP];
    int k_known;
    if ((rc = conv_common(n, xnd, xd, wnd, wd, cs, k, &k_known, st)))
        return rc;
    cs->M = wd[0];
    cs->Cg = wd[1];
    if (cs->xs.C >= 0 && cs->Cg >= 0 && cs->Cg * cs->group != cs->xs.C)
        return nn_fail(st, DT_ESHAPE, n, "input has %lld channels but weight expects %lld x group %lld",
                       (long long)cs->xs.C, (long long)cs->Cg, (long long)cs->group);
    if (cs->M >= 0 && cs->M % cs->group)
        return nn_fail(st, DT_ESHAPE, n, "%lld output channels not divisible by group %lld",
                       (long long)cs->M, (long long)cs->group);
    cs->Mg = cs->M >= 0 ? cs->M / cs->group : -1;
    if (bnd >= 0) {
        if (bnd != 1 || (bd[0] >= 0 && cs->M >= 0 && bd[0] != cs->M))
            return nn_fail(st, DT_ESHAPE, n, "bias must be 1-D of size %lld", (long long)cs->M);
    }
    if ((rc = nn_win_attrs(n, cs->nsp, k, &cs->w, st)))
        return rc;
    for (int i = 0; i < cs->nsp; i++) {
        int64_t in = cs->xs.sp[i], s = cs->w.s[i];
        int64_t dk = cs->w.d[i] * (k[i] - 1) + 1;
        int64_t out = -1;
        if (in >= 0 && k_known) {
            switch (cs->w.ap) {
            case NN_PAD_NOTSET:
                out = nn_floordiv(in + cs->w.pb[i] + cs->w.pe[i] - dk, s) + 1;
                break;
            case NN_PAD_VALID:
                cs->w.pb[i] = cs->w.pe[i] = 0;
                out = nn_floordiv(in - dk, s) + 1;
                break;
            case NN_PAD_SAME_UPPER:
            case NN_PAD_SAME_LOWER: {
                out = (in + s - 1) / s;
                int64_t total = (out - 1) * s + dk - in;
                if (total < 0)
                    total = 0;
                int64_t small = total / 2;
                cs->w.pb[i] = cs->w.ap == NN_PAD_SAME_UPPER ? small : total - small;
                cs->w.pe[i] = total - cs->w.pb[i];
                break;
            }
            }
            if (out < 1)
                return nn_fail(st, DT_ESHAPE, n, "spatial dim %d: input %lld is too small for kernel %lld "
                               "(dilation %lld, pads %lld+%lld)", i, (long long)in, (long long)k[i],
                               (long long)cs->w.d[i], (long long)cs->w.pb[i], (long long)cs->w.pe[i]);
        }
        cs->out_sp[i] = out;
    }
    cs->out_nd = nn_dims_from_sp(cs->xs.N, cs->M, cs->nsp, cs->out_sp, cs->nhwc, cs->out_dims);
    return DT_OK;
}

dt_code dt_nn_infer_Conv(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *w = dt_node_in(g, n, 1), *b = dt_node_in(g, n, 2);
    dt_value *y = dt_node_out(g, n, 0);
    if (!x || !w || !y)
        return nn_fail(st, DT_EINVAL, n, "needs inputs X, W and output Y");
    if (x->dtype != DT_F32 || w->dtype != DT_F32 || (b && b->dtype != DT_F32))
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (X %s, W %s)",
                       dt_dtype_name(x->dtype), dt_dtype_name(w->dtype));
    if (x->ndim < 0 || w->ndim < 0 || (b && b->ndim < 0))
        return nn_unknown_outputs(g, n, DT_F32);
    conv_shape cs;
    dt_code rc = conv_shape_get(n, x->ndim, x->dims, w->ndim, w->dims, b ? b->ndim : -1, b ? b->dims : NULL,
                                &cs, st);
    if (rc)
        return rc;
    dt_value_set(y, DT_F32, cs.out_nd, cs.out_dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

/* Shared by the Conv and ConvTranspose tasks. */
typedef struct conv_job {
    const float *x, *w, *b;
    float *y;
    nn_sp xs, ys;
    int64_t K[3], S[3], D[3], P[3], I[3], O[3];
    int64_t M, Mg, Cg, kvol;
    dt_act_params act;
} conv_job;

static void conv_task(void *arg, int64_t begin, int64_t end)
{
    const conv_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t bi = t / j->M, m = t % j->M, g = m / j->Mg;
        float *yb = j->y + bi * j->ys.sN + m * j->ys.sC;
        const int64_t ysS = j->ys.sS, xsS = j->xs.sS;
        const float bias = j->b ? j->b[m] : 0.f;
        const int unit = ysS == 1 && xsS == 1 && j->S[2] == 1;
        for (int64_t s = 0; s < j->ys.S; s++)
            yb[s * ysS] = bias;
        for (int64_t c = 0; c < j->Cg; c++) {
            const float *xb = j->x + bi * j->xs.sN + (g * j->Cg + c) * j->xs.sC;
            const float *wk = j->w + (m * j->Cg + c) * j->kvol;
            for (int64_t kd = 0; kd < j->K[0]; kd++)
                for (int64_t kh = 0; kh < j->K[1]; kh++)
                    for (int64_t kw = 0; kw < j->K[2]; kw++) {
                        const float wv = wk[(kd * j->K[1] + kh) * j->K[2] + kw];
                        /* output columns whose input column lies inside [0, I2) */
                        int64_t off = kw * j->D[2] - j->P[2];
                        int64_t lo = nn_ceildiv(-off, j->S[2]);
                        int64_t hi = nn_floordiv(j->I[2] - 1 - off, j->S[2]) + 1;
                        if (lo < 0)
                            lo = 0;
                        if (hi > j->O[2])
                            hi = j->O[2];
                        for (int64_t od = 0; od < j->O[0]; od++) {
                            int64_t id = od * j->S[0] - j->P[0] + kd * j->D[0];
                            if (id < 0 || id >= j->I[0])
                                continue;
                            for (int64_t oh = 0; oh < j->O[1]; oh++) {
                                int64_t ih = oh * j->S[1] - j->P[1] + kh * j->D[1];
                                if (ih < 0 || ih >= j->I[1])
                                    continue;
                                float *yr = yb + (od * j->O[1] + oh) * j->O[2] * ysS;
                                const float *xr = xb + (id * j->I[1] + ih) * j->I[2] * xsS;
                                if (unit) /* same loop, unit strides: lets the compiler vectorise */
                                    for (int64_t ow = lo; ow < hi; ow++)
                                        yr[ow] += wv * xr[ow + off];
                                else
                                    for (int64_t ow = lo; ow < hi; ow++)
                                        yr[ow * ysS] += wv * xr[(ow * j->S[2] + off) * xsS];
                            }
                        }
                    }
        }
        if (j->act.kind != DT_ACT_NONE)
            for (int64_t s = 0; s < j->ys.S; s++)
                yb[s * ysS] = dt_act_apply1(&j->act, yb[s * ysS]);
    }
}

static void conv_job_geom(conv_job *j, const conv_shape *cs, const int64_t *in_sp, const int64_t *out_sp)
{
    int64_t pb[NN_MAX_SP];
    for (int i = 0; i < cs->nsp; i++)
        pb[i] = cs->w.pb[i];
    nn_to3(cs->nsp, cs->w.k, 1, j->K);
    nn_to3(cs->nsp, cs->w.s, 1, j->S);
    nn_to3(cs->nsp, cs->w.d, 1, j->D);
    nn_to3(cs->nsp, pb, 0, j->P);
    nn_to3(cs->nsp, in_sp, 1, j->I);
    nn_to3(cs->nsp, out_sp, 1, j->O);
    j->kvol = j->K[0] * j->K[1] * j->K[2];
}

dt_code dt_nn_ref_Conv(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                       int n_out, const dt_kctx *ctx, dt_status *st)
{
    dt_code rc;
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return nn_fail(st, DT_EINVAL, n, "needs inputs X, W and output Y");
    const dt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    if ((rc = nn_need_f32(n, x, "X", st)) || (rc = nn_need_f32(n, w, "W", st)) ||
        (b && (rc = nn_need_f32(n, b, "B", st))))
        return rc;
    conv_shape cs;
    if ((rc = conv_shape_get(n, x->ndim, x->dims, w->ndim, w->dims, b ? b->ndim : -1, b ? b->dims : NULL, &cs,
                             st)))
        return rc;
    if (out[0]->ndim != cs.out_nd || memcmp(out[0]->dims, cs.out_dims, (size_t)cs.out_nd * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    if (!dims_known(cs.out_nd, cs.out_dims))
        return nn_fail(st, DT_ESHAPE, n, "unknown dims at run time");
    conv_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.w = w->data;
    j.b = b ? b->data : NULL;
    j.y = out[0]->data;
    j.xs = cs.xs;
    nn_sp_from_dims(cs.out_nd, cs.out_dims, cs.nhwc, &j.ys);
    conv_job_geom(&j, &cs, cs.xs.sp, cs.out_sp);
    j.M = cs.M;
    j.Mg = cs.Mg;
    j.Cg = cs.Cg;
    j.act = dt_act_from_node(n);
    if (dt_tensor_numel(out[0]) == 0)
        return DT_OK;
    dt_pool_for(ctx ? ctx->pool : NULL, cs.xs.N * cs.M, 1, conv_task, &j);
    return DT_OK;
}

/* ---- ConvTranspose ------------------------------------------------------- */

/* With output_shape (or auto_pad SAME_*: target in*stride) the total padding
 * comes from the target size and is split as the ONNX spec says (SAME_UPPER:
 * the smaller half at the head; otherwise the larger half at the head), which
 * is what ONNX Runtime 1.30 does; otherwise the explicit pads apply. */
static dt_code convt_shape_get(const dt_node *n, int xnd, const int64_t *xd, int wnd, const int64_t *wd,
                               int bnd, const int64_t *bd, conv_shape *cs, dt_status *st)
{
    dt_code rc;
    int64_t k[NN_MAX_SP];
    int k_known;
    if ((rc = conv_common(n, xnd, xd, wnd, wd, cs, k, &k_known, st)))
        return rc;
    int nsp = cs->nsp;
    int64_t cin = wd[0];
    cs->Mg = wd[1];
    cs->M = cs->Mg >= 0 ? cs->Mg * cs->group : -1;
    if (cs->xs.C >= 0 && cin >= 0 && cin != cs->xs.C)
        return nn_fail(st, DT_ESHAPE, n, "input has %lld channels but weight dim 0 is %lld",
                       (long long)cs->xs.C, (long long)cin);
    if (cs->xs.C >= 0 && cs->xs.C % cs->group)
        return nn_fail(st, DT_ESHAPE, n, "%lld input channels not divisible by group %lld",
                       (long long)cs->xs.C, (long long)cs->group);
    cs->Cg = cs->xs.C >= 0 ? cs->xs.C / cs->group : -1;
    if (bnd >= 0) {
        if (bnd != 1 || (bd[0] >= 0 && cs->M >= 0 && bd[0] != cs->M))
            return nn_fail(st, DT_ESHAPE, n, "bias must be 1-D of size %lld", (long long)cs->M);
    }
    if ((rc = nn_win_attrs(n, nsp, k, &cs->w, st)))
        return rc;
    int64_t adj[NN_MAX_SP];
    if ((rc = nn_attr_ints_n(n, "output_padding", nsp, 0, adj, st)))
        return rc;
    int osc = 0;
    const int64_t *os = dt_attr_ints(n, "output_shape", &osc);
    if (os && osc != nsp && osc != nsp + 2)
        return nn_fail(st, DT_EINVAL, n, "output_shape has %d values, expected %d", osc, nsp);
    for (int i = 0; i < nsp; i++) {
        int64_t in = cs->xs.sp[i], s = cs->w.s[i];
        if (adj[i] < 0 || (adj[i] >= s && adj[i] >= cs->w.d[i]))
            return nn_fail(st, DT_EINVAL, n, "output_padding[%d]=%lld must be smaller than stride or dilation",
                           i, (long long)adj[i]);
        int64_t full = (in - 1) * s + adj[i] + (k[i] - 1) * cs->w.d[i] + 1;
        int64_t out = -1;
        if (in >= 0 && k_known) {
            int64_t target = os ? os[osc - nsp + i] : -1;
            if (target >= 0) {
                int64_t total = full - target;
                if (total < 0)
                    total = 0;
                if (cs->w.ap == NN_PAD_SAME_UPPER) {
                    cs->w.pb[i] = total / 2;
                    cs->w.pe[i] = total - total / 2;
                } else {
                    cs->w.pb[i] = total - total / 2;
                    cs->w.pe[i] = total / 2;
                }
            } else if (cs->w.ap == NN_PAD_SAME_UPPER || cs->w.ap == NN_PAD_SAME_LOWER) {
                int64_t total = full - in * s;
                if (total < 0)
                    total = 0;
                if (cs->w.ap == NN_PAD_SAME_UPPER) {
                    cs->w.pb[i] = total / 2;
                    cs->w.pe[i] = total - total / 2;
                } else {
                    cs->w.pb[i] = total - total / 2;
                    cs->w.pe[i] = total / 2;
                }
            } else if (cs->w.ap == NN_PAD_VALID) {
                cs->w.pb[i] = cs->w.pe[i] = 0;
            }
            out = full - cs->w.pb[i] - cs->w.pe[i];
            if (target >= 0 && out != target) /* target larger than the full output: the tail stays bias */
                out = target;
            if (out < 1)
                return nn_fail(st, DT_ESHAPE, n, "spatial dim %d: output size %lld < 1", i, (long long)out);
        }
        cs->out_sp[i] = out;
    }
    cs->out_nd = nn_dims_from_sp(cs->xs.N, cs->M, nsp, cs->out_sp, cs->nhwc, cs->out_dims);
    return DT_OK;
}

dt_code dt_nn_infer_ConvTranspose(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *w = dt_node_in(g, n, 1), *b = dt_node_in(g, n, 2);
    dt_value *y = dt_node_out(g, n, 0);
    if (!x || !w || !y)
        return nn_fail(st, DT_EINVAL, n, "needs inputs X, W and output Y");
    if (x->dtype != DT_F32 || w->dtype != DT_F32 || (b && b->dtype != DT_F32))
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (X %s, W %s)",
                       dt_dtype_name(x->dtype), dt_dtype_name(w->dtype));
    if (x->ndim < 0 || w->ndim < 0 || (b && b->ndim < 0))
        return nn_unknown_outputs(g, n, DT_F32);
    conv_shape cs;
    dt_code rc = convt_shape_get(n, x->ndim, x->dims, w->ndim, w->dims, b ? b->ndim : -1,
                                 b ? b->dims : NULL, &cs, st);
    if (rc)
        return rc;
    dt_value_set(y, DT_F32, cs.out_nd, cs.out_dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

/* One (batch, output channel) plane: scatter every input pixel of the group's
 * input channels through the kernel. */
static void convt_task(void *arg, int64_t begin, int64_t end)
{
    const conv_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t bi = t / j->M, m = t % j->M, g = m / j->Mg, ml = m % j->Mg;
        float *yb = j->y + bi * j->ys.sN + m * j->ys.sC;
        const int64_t ysS = j->ys.sS, xsS = j->xs.sS;
        const float bias = j->b ? j->b[m] : 0.f;
        for (int64_t s = 0; s < j->ys.S; s++)
            yb[s * ysS] = bias;
        for (int64_t c = 0; c < j->Cg; c++) {
            int64_t ic = g * j->Cg + c;
            const float *xb = j->x + bi * j->xs.sN + ic * j->xs.sC;
            const float *wk = j->w + (ic * j->Mg + ml) * j->kvol;
            for (int64_t kd = 0; kd < j->K[0]; kd++)
                for (int64_t kh = 0; kh < j->K[1]; kh++)
                    for (int64_t kw = 0; kw < j->K[2]; kw++) {
                        const float wv = wk[(kd * j->K[1] + kh) * j->K[2] + kw];
                        /* input columns whose output column lies inside [0, O2) */
                        int64_t off = kw * j->D[2] - j->P[2];
                        int64_t lo = nn_ceildiv(-off, j->S[2]);
                        int64_t hi = nn_floordiv(j->O[2] - 1 - off, j->S[2]) + 1;
                        if (lo < 0)
                            lo = 0;
                        if (hi > j->I[2])
                            hi = j->I[2];
                        for (int64_t id = 0; id < j->I[0]; id++) {
                            int64_t od = id * j->S[0] - j->P[0] + kd * j->D[0];
                            if (od < 0 || od >= j->O[0])
                                continue;
                            for (int64_t ih = 0; ih < j->I[1]; ih++) {
                                int64_t oh = ih * j->S[1] - j->P[1] + kh * j->D[1];
                                if (oh < 0 || oh >= j->O[1])
                                    continue;
                                float *yr = yb + (od * j->O[1] + oh) * j->O[2] * ysS;
                                const float *xr = xb + (id * j->I[1] + ih) * j->I[2] * xsS;
                                for (int64_t iw = lo; iw < hi; iw++)
                                    yr[(iw * j->S[2] + off) * ysS] += wv * xr[iw * xsS];
                            }
                        }
                    }
        }
        if (j->act.kind != DT_ACT_NONE)
            for (int64_t s = 0; s < j->ys.S; s++)
                yb[s * ysS] = dt_act_apply1(&j->act, yb[s * ysS]);
    }
}

dt_code dt_nn_ref_ConvTranspose(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                                int n_out, const dt_kctx *ctx, dt_status *st)
{
    dt_code rc;
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return nn_fail(st, DT_EINVAL, n, "needs inputs X, W and output Y");
    const dt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    if ((rc = nn_need_f32(n, x, "X", st)) || (rc = nn_need_f32(n, w, "W", st)) ||
        (b && (rc = nn_need_f32(n, b, "B", st))))
        return rc;
    conv_shape cs;
    if ((rc = convt_shape_get(n, x->ndim, x->dims, w->ndim, w->dims, b ? b->ndim : -1, b ? b->dims : NULL, &cs,
                              st)))
        return rc;
    if (out[0]->ndim != cs.out_nd || memcmp(out[0]->dims, cs.out_dims, (size_t)cs.out_nd * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    conv_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.w = w->data;
    j.b = b ? b->data : NULL;
    j.y = out[0]->data;
    j.xs = cs.xs;
    nn_sp_from_dims(cs.out_nd, cs.out_dims, cs.nhwc, &j.ys);
    conv_job_geom(&j, &cs, cs.xs.sp, cs.out_sp);
    j.M = cs.M;
    j.Mg = cs.Mg;
    j.Cg = cs.Cg;
    j.act = dt_act_from_node(n);
    if (dt_tensor_numel(out[0]) == 0)
        return DT_OK;
    dt_pool_for(ctx ? ctx->pool : NULL, cs.xs.N * cs.M, 1, convt_task, &j);
    return DT_OK;
}
