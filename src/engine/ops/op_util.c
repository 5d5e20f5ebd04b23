#include "engine/ops/op_util.h"

#include <string.h>

dt_code dt_broadcast_shape(int na, const int64_t *a, int nb, const int64_t *b,
                           int *out_ndim, int64_t *out_dims, const char *node, dt_status *st)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        int64_t d;
        if (da == db)
            d = da;
        else if (da == 1)
            d = db;
        else if (db == 1)
            d = da;
        else
            return dt_fail(st, DT_ESHAPE, "node '%s': shapes cannot broadcast (dim %d: %lld vs %lld)",
                           node ? node : "?", i, (long long)da, (long long)db);
        out_dims[i] = d;
    }
    *out_ndim = n;
    return DT_OK;
}

static const char *const g_act_names[] = {
    [DT_ACT_NONE] = "", [DT_ACT_RELU] = "Relu", [DT_ACT_CLIP] = "Clip",
    [DT_ACT_LEAKYRELU] = "LeakyRelu", [DT_ACT_SIGMOID] = "Sigmoid",
    [DT_ACT_HARDSIGMOID] = "HardSigmoid", [DT_ACT_HARDSWISH] = "HardSwish",
    [DT_ACT_SILU] = "SiLU", [DT_ACT_TANH] = "Tanh", [DT_ACT_MISH] = "Mish",
    [DT_ACT_HARDSWISH_K] = "HardSwishK",
};

dt_act dt_act_from_name(const char *name)
{
    if (!name || !*name)
        return DT_ACT_NONE;
    for (int i = 1; i < (int)(sizeof g_act_names / sizeof g_act_names[0]); i++)
        if (strcmp(g_act_names[i], name) == 0)
            return (dt_act)i;
    return DT_ACT_NONE;
}

const char *dt_act_name(dt_act a)
{
    if ((unsigned)a >= sizeof g_act_names / sizeof g_act_names[0])
        return "";
    return g_act_names[a];
}

dt_act_params dt_act_from_node(const dt_node *n)
{
    dt_act_params p;
    p.kind = dt_act_from_name(dt_attr_str(n, "activation", ""));
    p.alpha = dt_attr_float(n, "act_alpha", 0.f);
    p.beta = dt_attr_float(n, "act_beta", 0.f);
    return p;
}

void dt_act_apply(const dt_act_params *p, float *x, int64_t n)
{
    if (p->kind == DT_ACT_NONE)
        return;
    for (int64_t i = 0; i < n; i++)
        x[i] = dt_act_apply1(p, x[i]);
}
