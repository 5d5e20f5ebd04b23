/* nn_pad.c — Pad (opset 2 attributes pads/value; opset 11+ inputs pads,
 * constant_value and, from 18, axes).  Modes constant, reflect, edge, wrap;
 * negative pads crop.  Works on any dtype by element size.  One task per
 * output row (all dims but the last). */
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops/nn_internal.h"

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

typedef struct pad_shape {
    pad_mode mode;
    int rank;
    int64_t pb[DT_MAX_DIMS], pe[DT_MAX_DIMS];
    int64_t out_dims[DT_MAX_DIMS];
} pad_shape;

/* pads_t / axes_t: views of inputs 1 and 3 (NULL when absent). */
static dt_code pad_shape_get(const dt_node *n, int rank, const int64_t *dims, const dt_tensor *pads_t,
                             const dt_tensor *axes_t, pad_shape *ps, dt_status *st)
{
    dt_code rc;
    memset(ps, 0, sizeof *ps);
    ps->rank = rank;
    const char *m = dt_attr_str(n, "mode", "constant");
    if (strcmp(m, "constant") == 0)
        ps->mode = PAD_CONSTANT;
    else if (strcmp(m, "reflect") == 0)
        ps->mode = PAD_REFLECT;
    else if (strcmp(m, "edge") == 0)
        ps->mode = PAD_EDGE;
    else if (strcmp(m, "wrap") == 0)
        ps->mode = PAD_WRAP;
    else
        return nn_fail(st, DT_EINVAL, n, "unknown mode '%s'", m);
    int64_t pads[2 * DT_MAX_DIMS];
    int np = 0;
    if (pads_t) {
        if ((rc = nn_const_ints(n, pads_t, "pads", pads, 2 * DT_MAX_DIMS, &np, st)))
            return rc;
    } else {
        const int64_t *a = dt_attr_ints(n, "pads", &np);
        if (!a)
            a = dt_attr_ints(n, "paddings", &np); /* opset 1 */
        if (!a)
            return nn_fail(st, DT_EINVAL, n, "missing pads");
        if (np > 2 * DT_MAX_DIMS)
            return nn_fail(st, DT_EINVAL, n, "too many pads");
        memcpy(pads, a, (size_t)np * sizeof(int64_t));
    }
    int axes[DT_MAX_DIMS];
    int na = rank;
    for (int i = 0; i < rank; i++)
        axes[i] = i;
    if (axes_t) {
        int64_t av[DT_MAX_DIMS];
        if ((rc = nn_const_ints(n, axes_t, "axes", av, DT_MAX_DIMS, &na, st)))
            return rc;
        uint8_t seen[DT_MAX_DIMS] = {0};
        for (int i = 0; i < na; i++) {
            axes[i] = dt_norm_axis(av[i], rank);
            if (axes[i] < 0 || seen[axes[i]])
                return nn_fail(st, DT_EINVAL, n, "bad or repeated axis %lld", (long long)av[i]);
            seen[axes[i]] = 1;
        }
    }
    if (np != 2 * na)
        return nn_fail(st, DT_ESHAPE, n, "pads has %d values, expected %d", np, 2 * na);
    for (int i = 0; i < na; i++) {
        ps->pb[axes[i]] = pads[i];
        ps->pe[axes[i]] = pads[na + i];
    }
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) {
            ps->out_dims[i] = -1;
            continue;
        }
        if ((ps->pb[i] || ps->pe[i]) && ps->mode != PAD_CONSTANT && dims[i] == 0)
            return nn_fail(st, DT_ESHAPE, n, "cannot %s-pad an empty dim", m);
        ps->out_dims[i] = dims[i] + ps->pb[i] + ps->pe[i];
        if (ps->out_dims[i] < 0)
            return nn_fail(st, DT_ESHAPE, n, "dim %d: pads %lld,%lld crop below zero", i, (long long)ps->pb[i],
                           (long long)ps->pe[i]);
    }
    return DT_OK;
}

dt_code dt_nn_infer_Pad(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    dt_value *pv = dt_node_in(g, n, 1), *cv = dt_node_in(g, n, 2), *av = dt_node_in(g, n, 3);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input data and output");
    if (!dt_dtype_size(x->dtype) || x->dtype == DT_F16 || x->dtype == DT_F64)
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    if (cv && cv->dtype != x->dtype)
        return nn_fail(st, DT_EINVAL, n, "constant_value dtype %s differs from data dtype %s",
                       dt_dtype_name(cv->dtype), dt_dtype_name(x->dtype));
    if (cv && cv->ndim > 1)
        return nn_fail(st, DT_ESHAPE, n, "constant_value must be a scalar");
    if (x->ndim < 0)
        return nn_unknown_outputs(g, n, x->dtype);
    dt_tensor pt, at;
    if (pv) {
        pt = dt_value_view(pv);
        if (!pt.data)
            return nn_fail(st, DT_EUNSUPPORTED, n, "input 'pads' must be a constant");
    }
    if (av) {
        at = dt_value_view(av);
        if (!at.data)
            return nn_fail(st, DT_EUNSUPPORTED, n, "input 'axes' must be a constant");
    }
    pad_shape ps;
    dt_code rc = pad_shape_get(n, x->ndim, x->dims, pv ? &pt : NULL, av ? &at : NULL, &ps, st);
    if (rc)
        return rc;
    dt_value_set(y, x->dtype, x->ndim, ps.out_dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

/* Source index of output coordinate o along a dim of size len, or -1 for
 * the constant value. */
static int64_t pad_src(pad_mode mode, int64_t o, int64_t pb, int64_t len)
{
    int64_t i = o - pb;
    if (i >= 0 && i < len)
        return i;
    switch (mode) {
    case PAD_CONSTANT: return -1;
    case PAD_EDGE: return i < 0 ? 0 : len - 1;
    case PAD_WRAP: return ((i % len) + len) % len;
    case PAD_REFLECT: {
        if (len == 1)
            return 0;
        int64_t period = 2 * (len - 1);
        i = ((i % period) + period) % period;
        return i < len ? i : period - i;
    }
    }
    return -1;
}

typedef struct pad_job {
    const uint8_t *x;
    uint8_t *y;
    size_t es;
    uint8_t cval[8];
    pad_shape ps;
    const int64_t *in_dims;
    int64_t in_str[DT_MAX_DIMS];
} pad_job;

static void pad_task(void *arg, int64_t begin, int64_t end)
{
    const pad_job *j = arg;
    const pad_shape *ps = &j->ps;
    const int r = ps->rank, last = r - 1;
    const int64_t ow = ps->out_dims[last], iw = j->in_dims[last];
    const size_t es = j->es;
    for (int64_t row = begin; row < end; row++) {
        uint8_t *yr = j->y + (size_t)(row * ow) * es;
        int64_t src = 0, rem = row;
        int is_const = 0;
        for (int d = last - 1; d >= 0; d--) {
            int64_t o = rem % ps->out_dims[d];
            rem /= ps->out_dims[d];
            int64_t i = pad_src(ps->mode, o, ps->pb[d], j->in_dims[d]);
            if (i < 0)
                is_const = 1;
            else
                src += i * j->in_str[d];
        }
        if (is_const) {
            for (int64_t c = 0; c < ow; c++)
                memcpy(yr + (size_t)c * es, j->cval, es);
            continue;
        }
        const uint8_t *xr = j->x + (size_t)src * es;
        for (int64_t c = 0; c < ow; c++) {
            int64_t i = pad_src(ps->mode, c, ps->pb[last], iw);
            memcpy(yr + (size_t)c * es, i < 0 ? j->cval : xr + (size_t)i * es, es);
        }
    }
}

dt_code dt_nn_ref_Pad(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    if (n_in < 1 || !in[0] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs input data and output");
    const dt_tensor *x = in[0];
    const dt_tensor *pt = n_in > 1 ? in[1] : NULL, *ct = n_in > 2 ? in[2] : NULL, *at = n_in > 3 ? in[3] : NULL;
    pad_job j;
    memset(&j, 0, sizeof j);
    j.es = dt_dtype_size(x->dtype);
    if (!j.es || j.es > 8 || x->dtype == DT_F16 || x->dtype == DT_F64)
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    dt_code rc = pad_shape_get(n, x->ndim, x->dims, pt, at, &j.ps, st);
    if (rc)
        return rc;
    if (out[0]->dtype != x->dtype || out[0]->ndim != x->ndim ||
        memcmp(out[0]->dims, j.ps.out_dims, (size_t)x->ndim * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    if (ct && dt_tensor_numel(ct) >= 1) {
        if (ct->dtype != x->dtype)
            return nn_fail(st, DT_EINVAL, n, "constant_value dtype differs from data dtype");
        memcpy(j.cval, ct->data, j.es);
    } else {
        float v = dt_attr_float(n, "value", 0.f);
        switch (x->dtype) {
        case DT_F32: memcpy(j.cval, &v, 4); break;
        case DT_I64: { int64_t t = (int64_t)v; memcpy(j.cval, &t, 8); break; }
        case DT_I32: { int32_t t = (int32_t)v; memcpy(j.cval, &t, 4); break; }
        case DT_U8: case DT_BOOL: j.cval[0] = (uint8_t)v; break;
        case DT_I8: { int8_t t = (int8_t)v; memcpy(j.cval, &t, 1); break; }
        default: break;
        }
    }
    int64_t total = dt_tensor_numel(out[0]);
    if (total == 0)
        return DT_OK;
    if (x->ndim == 0) {
        memcpy(out[0]->data, x->data, j.es);
        return DT_OK;
    }
    j.x = x->data;
    j.y = out[0]->data;
    j.in_dims = x->dims;
    nn_strides(x->ndim, x->dims, j.in_str);
    int64_t rows = total / j.ps.out_dims[x->ndim - 1];
    dt_pool_for(ctx ? ctx->pool : NULL, rows, 16, pad_task, &j);
    return DT_OK;
}
