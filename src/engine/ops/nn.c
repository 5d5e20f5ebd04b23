/* nn.c — the neural-network op group: its table and shared helpers.  The ops
 * themselves live in nn_conv.c, nn_pool.c, nn_norm.c, nn_resize.c,
 * nn_pad.c, nn_gemm.c and nn_reduce.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/ops.h"
#include "engine/ops/nn_internal.h"

#define NN_ENTRY(op) {DT_OP_##op, dt_nn_infer_##op, dt_nn_ref_##op},

const dt_opdef dt_opdefs_nn[] = {
    NN_ENTRY(Conv) NN_ENTRY(ConvTranspose) NN_ENTRY(BatchNormalization)
    NN_ENTRY(InstanceNormalization) NN_ENTRY(LRN) NN_ENTRY(MaxPool) NN_ENTRY(AveragePool)
    NN_ENTRY(GlobalAveragePool) NN_ENTRY(GlobalMaxPool) NN_ENTRY(Resize) NN_ENTRY(Upsample)
    NN_ENTRY(Pad) NN_ENTRY(MatMul) NN_ENTRY(Gemm) NN_ENTRY(Softmax) NN_ENTRY(LogSoftmax)
    NN_ENTRY(ReduceMean) NN_ENTRY(ReduceMax) NN_ENTRY(ReduceMin) NN_ENTRY(ReduceSum)
    NN_ENTRY(ReduceProd) NN_ENTRY(ArgMax) NN_ENTRY(ArgMin) NN_ENTRY(TopK)
    {DT_OP_UNKNOWN, NULL, NULL},
};

dt_code nn_fail(dt_status *st, dt_code code, const dt_node *n, const char *fmt, ...)
{
    char buf[DT_STATUS_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return dt_fail(st, code, "node '%s' (%s): %s", n->name ? n->name : "?", dt_op_name(n->op), buf);
}

dt_code nn_unknown_outputs(dt_graph *g, dt_node *n, dt_dtype dt0)
{
    for (int i = 0; i < n->n_out; i++) {
        dt_value *v = dt_node_out(g, n, i);
        if (!v)
            continue;
        dt_dtype dt = i == 0 ? dt0 : v->dtype;
        dt_value_set(v, dt, -1, NULL);
    }
    n->scratch_bytes = 0;
    return DT_OK;
}

int nn_value_used(const dt_graph *g, int vid)
{
    if (vid < 0)
        return 0;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == vid)
            return 1;
    for (int i = 0; i < g->n_nodes; i++) {
        const dt_node *m = &g->nodes[i];
        if (m->dead)
            continue;
        for (int j = 0; j < m->n_in; j++)
            if (m->in[j] == vid)
                return 1;
    }
    return 0;
}

dt_code nn_layout(const dt_node *n, int *nhwc, dt_status *st)
{
    const char *s = dt_attr_str(n, "layout", "NCHW");
    if (strcmp(s, "NCHW") == 0 || s[0] == '\0')
        *nhwc = 0;
    else if (strcmp(s, "NHWC") == 0)
        *nhwc = 1;
    else
        return nn_fail(st, DT_EINVAL, n, "unknown layout '%s' (NCHW or NHWC)", s);
    return DT_OK;
}

void nn_sp_from_dims(int ndim, const int64_t *dims, int nhwc, nn_sp *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->nsp = ndim - 2;
    sp->N = dims[0];
    sp->C = nhwc ? dims[ndim - 1] : dims[1];
    sp->S = 1;
    for (int i = 0; i < sp->nsp; i++) {
        sp->sp[i] = dims[nhwc ? 1 + i : 2 + i];
        sp->S = (sp->S < 0 || sp->sp[i] < 0) ? -1 : sp->S * sp->sp[i];
    }
    if (nhwc) {
        sp->sS = sp->C;
        sp->sC = 1;
    } else {
        sp->sS = 1;
        sp->sC = sp->S;
    }
    sp->sN = sp->C * sp->S;
}

int nn_dims_from_sp(int64_t N, int64_t C, int nsp, const int64_t *spd, int nhwc, int64_t *dims)
{
    dims[0] = N;
    for (int i = 0; i < nsp; i++)
        dims[nhwc ? 1 + i : 2 + i] = spd[i];
    dims[nhwc ? nsp + 1 : 1] = C;
    return nsp + 2;
}

dt_code nn_attr_ints_n(const dt_node *n, const char *name, int count, int64_t def, int64_t *out,
                       dt_status *st)
{
    int c = 0;
    const int64_t *v = dt_attr_ints(n, name, &c);
    if (!v) {
        for (int i = 0; i < count; i++)
            out[i] = def;
        return DT_OK;
    }
    if (c != count)
        return nn_fail(st, DT_EINVAL, n, "attribute '%s' has %d values, expected %d", name, c, count);
    for (int i = 0; i < count; i++)
        out[i] = v[i];
    return DT_OK;
}

void nn_strides(int ndim, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

dt_code nn_need_f32(const dt_node *n, const dt_tensor *t, const char *what, dt_status *st)
{
    if (!t || t->dtype != DT_F32)
        return nn_fail(st, DT_EUNSUPPORTED, n, "%s must be float32 (got %s)", what,
                       t ? dt_dtype_name(t->dtype) : "nothing");
    return DT_OK;
}

dt_code nn_const_ints(const dt_node *n, const dt_tensor *t, const char *what, int64_t *out, int cap,
                      int *n_out, dt_status *st)
{
    if (!t->data)
        return nn_fail(st, DT_EUNSUPPORTED, n, "input '%s' must be a constant", what);
    if (t->dtype != DT_I64 && t->dtype != DT_I32 && t->dtype != DT_I8 && t->dtype != DT_U8)
        return nn_fail(st, DT_EINVAL, n, "input '%s' must be an integer tensor (got %s)", what,
                       dt_dtype_name(t->dtype));
    if (t->ndim > 1)
        return nn_fail(st, DT_ESHAPE, n, "input '%s' must be a scalar or 1-D", what);
    int64_t cnt = dt_tensor_numel(t);
    if (cnt < 0 || cnt > cap)
        return nn_fail(st, DT_ESHAPE, n, "input '%s' has %lld values (at most %d)", what, (long long)cnt, cap);
    for (int64_t i = 0; i < cnt; i++)
        out[i] = dt_tensor_get_i(t, i);
    *n_out = (int)cnt;
    return DT_OK;
}

dt_code nn_win_attrs(const dt_node *n, int nsp, const int64_t *k, nn_win *w, dt_status *st)
{
    dt_code rc;
    int64_t pads[2 * NN_MAX_SP];
    memset(w, 0, sizeof *w);
    w->nsp = nsp;
    if ((rc = nn_attr_ints_n(n, "strides", nsp, 1, w->s, st)) ||
        (rc = nn_attr_ints_n(n, "dilations", nsp, 1, w->d, st)) ||
        (rc = nn_attr_ints_n(n, "pads", 2 * nsp, 0, pads, st)))
        return rc;
    const char *ap = dt_attr_str(n, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0')
        w->ap = NN_PAD_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        w->ap = NN_PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        w->ap = NN_PAD_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        w->ap = NN_PAD_VALID;
    else
        return nn_fail(st, DT_EINVAL, n, "unknown auto_pad '%s'", ap);
    for (int i = 0; i < nsp; i++) {
        w->k[i] = k[i];
        w->pb[i] = pads[i];
        w->pe[i] = pads[nsp + i];
        if (w->s[i] < 1 || w->d[i] < 1)
            return nn_fail(st, DT_EINVAL, n, "strides and dilations must be >= 1");
        if (w->pb[i] < 0 || w->pe[i] < 0)
            return nn_fail(st, DT_EINVAL, n, "pads must be >= 0");
        if (k[i] < 1)
            return nn_fail(st, DT_ESHAPE, n, "kernel size must be >= 1 (got %lld)", (long long)k[i]);
    }
    return DT_OK;
}
