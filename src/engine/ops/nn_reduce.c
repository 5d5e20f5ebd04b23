/* nn_reduce.c — Softmax, LogSoftmax, Reduce{Mean,Max,Min,Sum,Prod}, ArgMax,
 * ArgMin and TopK.
 *
 * Most kernels view the input as [outer, L, inner] around the reduced axis
 * and run one task per (outer, inner) line.  Reductions over several axes
 * run one task per output element. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops/nn_internal.h"

static int64_t prod_range(const int64_t *d, int lo, int hi)
{
    int64_t p = 1;
    for (int i = lo; i < hi; i++)
        p *= d[i];
    return p;
}

/* ---- Softmax / LogSoftmax ------------------------------------------------ */

/* Opset < 13: the input is coerced to 2-D at `axis` (default 1) and the
 * softmax runs over the whole flattened tail; 13+: over one axis (default -1). */
static dt_code softmax_axis(const dt_node *n, int rank, int *axis, int *coerce, dt_status *st)
{
    *coerce = n->opset < 13;
    int64_t a = dt_attr_int(n, "axis", *coerce ? 1 : -1);
    int ax = dt_norm_axis(a, rank);
    if (*coerce && a == rank) /* axis == rank is allowed in the 2-D form */
        ax = rank;
    if (ax < 0)
        return nn_fail(st, DT_EINVAL, n, "axis %lld out of range for rank %d", (long long)a, rank);
    *axis = ax;
    return DT_OK;
}

static dt_code softmax_infer(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input and output");
    if (x->dtype != DT_F32)
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (got %s)", dt_dtype_name(x->dtype));
    if (x->ndim < 0)
        return nn_unknown_outputs(g, n, DT_F32);
    if (x->ndim < 1)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= 1");
    int axis, coerce;
    dt_code rc = softmax_axis(n, x->ndim, &axis, &coerce, st);
    if (rc)
        return rc;
    dt_value_set(y, DT_F32, x->ndim, x->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

dt_code dt_nn_infer_Softmax(dt_graph *g, dt_node *n, dt_status *st) { return softmax_infer(g, n, st); }
dt_code dt_nn_infer_LogSoftmax(dt_graph *g, dt_node *n, dt_status *st) { return softmax_infer(g, n, st); }

typedef struct line_job {
    const void *x;
    void *y, *y2;
    dt_dtype dt;
    int64_t L, inner;
    int flag;          /* softmax: log; arg: is_min; topk: largest */
    int flag2;         /* arg: select_last_index */
    int64_t k;         /* topk */
    void *scratch;
    int64_t n_lines;
} line_job;

static void softmax_task(void *arg, int64_t begin, int64_t end)
{
    const line_job *j = arg;
    const float *x = j->x;
    float *y = j->y;
    for (int64_t t = begin; t < end; t++) {
        int64_t o = t / j->inner, i = t % j->inner;
        int64_t base = o * j->L * j->inner + i;
        float mx = -INFINITY;
        for (int64_t l = 0; l < j->L; l++)
            if (x[base + l * j->inner] > mx)
                mx = x[base + l * j->inner];
        double sum = 0.0;
        for (int64_t l = 0; l < j->L; l++)
            sum += exp((double)x[base + l * j->inner] - mx);
        if (j->flag) {
            double ls = log(sum);
            for (int64_t l = 0; l < j->L; l++)
                y[base + l * j->inner] = (float)((double)x[base + l * j->inner] - mx - ls);
        } else {
            for (int64_t l = 0; l < j->L; l++)
                y[base + l * j->inner] = (float)(exp((double)x[base + l * j->inner] - mx) / sum);
        }
    }
}

static dt_code softmax_ref(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                           int n_out, const dt_kctx *ctx, int is_log, dt_status *st)
{
    dt_code rc;
    if (n_in < 1 || !in[0] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs input and output");
    const dt_tensor *x = in[0];
    if ((rc = nn_need_f32(n, x, "input", st)))
        return rc;
    if (x->ndim < 1)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= 1");
    int axis, coerce;
    if ((rc = softmax_axis(n, x->ndim, &axis, &coerce, st)))
        return rc;
    if (dt_tensor_numel(out[0]) != dt_tensor_numel(x))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    line_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.y = out[0]->data;
    j.flag = is_log;
    int64_t outer = prod_range(x->dims, 0, axis);
    if (coerce) {
        j.L = prod_range(x->dims, axis, x->ndim);
        j.inner = 1;
    } else {
        j.L = x->dims[axis];
        j.inner = prod_range(x->dims, axis + 1, x->ndim);
    }
    if (j.L == 0)
        return DT_OK;
    dt_pool_for(ctx ? ctx->pool : NULL, outer * j.inner, 4, softmax_task, &j);
    return DT_OK;
}

dt_code dt_nn_ref_Softmax(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                          const dt_kctx *ctx, dt_status *st)
{
    return softmax_ref(n, in, n_in, out, n_out, ctx, 0, st);
}

dt_code dt_nn_ref_LogSoftmax(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                             int n_out, const dt_kctx *ctx, dt_status *st)
{
    return softmax_ref(n, in, n_in, out, n_out, ctx, 1, st);
}

/* ---- Reduce* ------------------------------------------------------------- */

typedef enum red_kind { RED_MEAN, RED_MAX, RED_MIN, RED_SUM, RED_PROD } red_kind;

typedef struct red_shape {
    int rank;
    uint8_t reduced[DT_MAX_DIMS];
    int noop;
    int out_nd;
    int64_t out_dims[DT_MAX_DIMS];
} red_shape;

/* axes: input 1 when present (any opset: the loaders may give either form),
 * else the attribute. */
static dt_code red_shape_get(const dt_node *n, int rank, const int64_t *dims, const dt_tensor *axes_t,
                             red_shape *rs, dt_status *st)
{
    dt_code rc;
    memset(rs, 0, sizeof *rs);
    rs->rank = rank;
    int64_t axes[DT_MAX_DIMS];
    int na = 0;
    if (axes_t) {
        if (dt_tensor_numel(axes_t) > DT_MAX_DIMS)
            return nn_fail(st, DT_EINVAL, n, "too many axes");
        if ((rc = nn_const_ints(n, axes_t, "axes", axes, DT_MAX_DIMS, &na, st)))
            return rc;
    } else {
        const int64_t *a = dt_attr_ints(n, "axes", &na);
        if (na > DT_MAX_DIMS)
            return nn_fail(st, DT_EINVAL, n, "too many axes");
        for (int i = 0; i < na; i++)
            axes[i] = a[i];
    }
    int keep = dt_attr_int(n, "keepdims", 1) != 0;
    if (na == 0) {
        if (dt_attr_int(n, "noop_with_empty_axes", 0)) {
            rs->noop = 1;
            rs->out_nd = rank;
            memcpy(rs->out_dims, dims, (size_t)rank * sizeof(int64_t));
            return DT_OK;
        }
        for (int i = 0; i < rank; i++)
            rs->reduced[i] = 1;
    }
    for (int i = 0; i < na; i++) {
        int ax = dt_norm_axis(axes[i], rank);
        if (ax < 0)
            return nn_fail(st, DT_EINVAL, n, "axis %lld out of range for rank %d", (long long)axes[i], rank);
        if (rs->reduced[ax])
            return nn_fail(st, DT_EINVAL, n, "axis %lld repeated", (long long)axes[i]);
        rs->reduced[ax] = 1;
    }
    for (int i = 0; i < rank; i++) {
        if (!rs->reduced[i])
            rs->out_dims[rs->out_nd++] = dims[i];
        else if (keep)
            rs->out_dims[rs->out_nd++] = 1;
    }
    return DT_OK;
}

static dt_code red_infer(dt_graph *g, dt_node *n, red_kind kind, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0), *ax = dt_node_in(g, n, 1);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input and output");
    if (x->dtype != DT_F32 && (kind == RED_MEAN || (x->dtype != DT_I32 && x->dtype != DT_I64)))
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    if (x->ndim < 0)
        return nn_unknown_outputs(g, n, x->dtype);
    dt_tensor axes_t;
    if (ax) {
        axes_t = dt_value_view(ax);
        if (!axes_t.data)
            return nn_fail(st, DT_EUNSUPPORTED, n, "input 'axes' must be a constant");
    }
    red_shape rs;
    dt_code rc = red_shape_get(n, x->ndim, x->dims, ax ? &axes_t : NULL, &rs, st);
    if (rc)
        return rc;
    dt_value_set(y, x->dtype, rs.out_nd, rs.out_dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

typedef struct red_job {
    const void *x;
    void *y;
    dt_dtype dt;
    red_kind kind;
    int nk, nr;                          /* kept / reduced dims */
    int64_t kdims[DT_MAX_DIMS], kstr[DT_MAX_DIMS];
    int64_t rdims[DT_MAX_DIMS], rstr[DT_MAX_DIMS];
    int64_t rcount;
} red_job;

static void red_task(void *arg, int64_t begin, int64_t end)
{
    const red_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t base = 0, rem = t;
        for (int d = j->nk - 1; d >= 0; d--) {
            base += (rem % j->kdims[d]) * j->kstr[d];
            rem /= j->kdims[d];
        }
        double acc_f = j->kind == RED_PROD ? 1.0 : (j->kind == RED_MAX ? -INFINITY : (j->kind == RED_MIN ? INFINITY : 0.0));
        int64_t acc_i = j->kind == RED_PROD ? 1 : (j->kind == RED_MAX ? INT64_MIN : (j->kind == RED_MIN ? INT64_MAX : 0));
        for (int64_t r = 0; r < j->rcount; r++) {
            int64_t off = base, rr = r;
            for (int d = j->nr - 1; d >= 0; d--) {
                off += (rr % j->rdims[d]) * j->rstr[d];
                rr /= j->rdims[d];
            }
            if (j->dt == DT_F32) {
                double v = ((const float *)j->x)[off];
                switch (j->kind) {
                case RED_MEAN:
                case RED_SUM: acc_f += v; break;
                case RED_PROD: acc_f *= v; break;
                case RED_MAX: if (v > acc_f || isnan(v)) acc_f = v; break;
                case RED_MIN: if (v < acc_f || isnan(v)) acc_f = v; break;
                }
            } else {
                int64_t v = j->dt == DT_I64 ? ((const int64_t *)j->x)[off] : ((const int32_t *)j->x)[off];
                switch (j->kind) {
                case RED_MEAN:
                case RED_SUM: acc_i = (int64_t)((uint64_t)acc_i + (uint64_t)v); break;
                case RED_PROD: acc_i = (int64_t)((uint64_t)acc_i * (uint64_t)v); break;
                case RED_MAX: if (v > acc_i) acc_i = v; break;
                case RED_MIN: if (v < acc_i) acc_i = v; break;
                }
            }
        }
        if (j->kind == RED_MEAN)
            acc_f = j->rcount ? acc_f / (double)j->rcount : NAN;
        if (j->dt == DT_F32)
            ((float *)j->y)[t] = (float)acc_f;
        else if (j->dt == DT_I64)
            ((int64_t *)j->y)[t] = acc_i;
        else
            ((int32_t *)j->y)[t] = (int32_t)acc_i;
    }
}

static dt_code red_ref(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, red_kind kind, dt_status *st)
{
    if (n_in < 1 || !in[0] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs input and output");
    const dt_tensor *x = in[0];
    if (x->dtype != DT_F32 && (kind == RED_MEAN || (x->dtype != DT_I32 && x->dtype != DT_I64)))
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    if (out[0]->dtype != x->dtype)
        return nn_fail(st, DT_EINVAL, n, "output dtype differs from input");
    red_shape rs;
    dt_code rc = red_shape_get(n, x->ndim, x->dims, n_in > 1 ? in[1] : NULL, &rs, st);
    if (rc)
        return rc;
    if (out[0]->ndim != rs.out_nd || memcmp(out[0]->dims, rs.out_dims, (size_t)rs.out_nd * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    if (rs.noop) {
        size_t nb = dt_tensor_nbytes(x);
        if (nb && out[0]->data != x->data)
            memmove(out[0]->data, x->data, nb);
        return DT_OK;
    }
    red_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.y = out[0]->data;
    j.dt = x->dtype;
    j.kind = kind;
    int64_t str[DT_MAX_DIMS];
    nn_strides(x->ndim, x->dims, str);
    j.rcount = 1;
    for (int i = 0; i < x->ndim; i++) {
        if (rs.reduced[i]) {
            j.rdims[j.nr] = x->dims[i];
            j.rstr[j.nr++] = str[i];
            j.rcount *= x->dims[i];
        } else {
            j.kdims[j.nk] = x->dims[i];
            j.kstr[j.nk++] = str[i];
        }
    }
    int64_t n_outs = dt_tensor_numel(out[0]);
    dt_pool_for(ctx ? ctx->pool : NULL, n_outs, 16, red_task, &j);
    return DT_OK;
}

#define RED_OP(Op, kind)                                                                                    \
    dt_code dt_nn_infer_##Op(dt_graph *g, dt_node *n, dt_status *st) { return red_infer(g, n, kind, st); } \
    dt_code dt_nn_ref_##Op(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,   \
                           int n_out, const dt_kctx *ctx, dt_status *st)                                   \
    {                                                                                                       \
        return red_ref(n, in, n_in, out, n_out, ctx, kind, st);                                             \
    }
RED_OP(ReduceMean, RED_MEAN)
RED_OP(ReduceMax, RED_MAX)
RED_OP(ReduceMin, RED_MIN)
RED_OP(ReduceSum, RED_SUM)
RED_OP(ReduceProd, RED_PROD)
#undef RED_OP

/* ---- ArgMax / ArgMin ----------------------------------------------------- */

static int is_int_or_f32(dt_dtype t) { return t == DT_F32 || t == DT_I32 || t == DT_I64; }

static dt_code arg_shape(const dt_node *n, int rank, const int64_t *dims, int *axis, int *out_nd, int64_t *out_dims,
                         dt_status *st)
{
    int64_t a = dt_attr_int(n, "axis", 0);
    int ax = dt_norm_axis(a, rank);
    if (ax < 0)
        return nn_fail(st, DT_EINVAL, n, "axis %lld out of range for rank %d", (long long)a, rank);
    int keep = dt_attr_int(n, "keepdims", 1) != 0;
    int k = 0;
    for (int i = 0; i < rank; i++) {
        if (i != ax)
            out_dims[k++] = dims[i];
        else if (keep)
            out_dims[k++] = 1;
    }
    *out_nd = k;
    *axis = ax;
    return DT_OK;
}

static dt_code arg_infer(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input and output");
    if (!is_int_or_f32(x->dtype))
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    if (x->ndim < 0)
        return nn_unknown_outputs(g, n, DT_I64);
    int axis, nd;
    int64_t dims[DT_MAX_DIMS];
    dt_code rc = arg_shape(n, x->ndim, x->dims, &axis, &nd, dims, st);
    if (rc)
        return rc;
    if (x->dims[axis] == 0)
        return nn_fail(st, DT_ESHAPE, n, "cannot reduce an empty axis");
    dt_value_set(y, DT_I64, nd, dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

dt_code dt_nn_infer_ArgMax(dt_graph *g, dt_node *n, dt_status *st) { return arg_infer(g, n, st); }
dt_code dt_nn_infer_ArgMin(dt_graph *g, dt_node *n, dt_status *st) { return arg_infer(g, n, st); }

static double get_num(const void *p, dt_dtype dt, int64_t i)
{
    switch (dt) {
    case DT_F32: return ((const float *)p)[i];
    case DT_I32: return ((const int32_t *)p)[i];
    default: return 0.0;
    }
}

static void arg_task(void *arg, int64_t begin, int64_t end)
{
    const line_job *j = arg;
    for (int64_t t = begin; t < end; t++) {
        int64_t o = t / j->inner, i = t % j->inner;
        int64_t base = o * j->L * j->inner + i;
        int64_t best = 0;
        for (int64_t l = 1; l < j->L; l++) {
            int64_t a = base + l * j->inner, b = base + best * j->inner;
            int better, equal;
            if (j->dt == DT_I64) {
                int64_t va = ((const int64_t *)j->x)[a], vb = ((const int64_t *)j->x)[b];
                better = j->flag ? va < vb : va > vb;
                equal = va == vb;
            } else {
                double va = get_num(j->x, j->dt, a), vb = get_num(j->x, j->dt, b);
                better = j->flag ? va < vb : va > vb;
                equal = va == vb;
            }
            if (better || (equal && j->flag2))
                best = l;
        }
        ((int64_t *)j->y)[t] = best;
    }
}

static dt_code arg_ref(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, int is_min, dt_status *st)
{
    if (n_in < 1 || !in[0] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs input and output");
    const dt_tensor *x = in[0];
    if (!is_int_or_f32(x->dtype))
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    int axis, nd;
    int64_t dims[DT_MAX_DIMS];
    dt_code rc = arg_shape(n, x->ndim, x->dims, &axis, &nd, dims, st);
    if (rc)
        return rc;
    if (out[0]->dtype != DT_I64 || out[0]->ndim != nd || memcmp(out[0]->dims, dims, (size_t)nd * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    if (x->dims[axis] == 0)
        return nn_fail(st, DT_ESHAPE, n, "cannot reduce an empty axis");
    line_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.y = out[0]->data;
    j.dt = x->dtype;
    j.L = x->dims[axis];
    j.inner = prod_range(x->dims, axis + 1, x->ndim);
    j.flag = is_min;
    j.flag2 = dt_attr_int(n, "select_last_index", 0) != 0;
    dt_pool_for(ctx ? ctx->pool : NULL, prod_range(x->dims, 0, axis) * j.inner, 16, arg_task, &j);
    return DT_OK;
}

dt_code dt_nn_ref_ArgMax(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                         const dt_kctx *ctx, dt_status *st)
{
    return arg_ref(n, in, n_in, out, n_out, ctx, 0, st);
}

dt_code dt_nn_ref_ArgMin(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                         const dt_kctx *ctx, dt_status *st)
{
    return arg_ref(n, in, n_in, out, n_out, ctx, 1, st);
}

/* ---- TopK ---------------------------------------------------------------- */

typedef struct topk_ent {
    double fv;  /* float32 / int32 values */
    int64_t iv; /* int64 values */
    int64_t idx;
} topk_ent;

/* Total orders: NaN counts as the largest float; ties keep the lower index
 * first (as ONNX Runtime does). */
static int fcmp(double a, double b)
{
    int na = isnan(a), nb = isnan(b);
    if (na || nb)
        return na - nb;
    return a < b ? -1 : (a > b ? 1 : 0);
}
static int idx_cmp(const topk_ent *a, const topk_ent *b) { return a->idx < b->idx ? -1 : (a->idx > b->idx); }
static int topk_f_desc(const void *pa, const void *pb)
{
    const topk_ent *a = pa, *b = pb;
    int c = fcmp(b->fv, a->fv);
    return c ? c : idx_cmp(a, b);
}
static int topk_f_asc(const void *pa, const void *pb)
{
    const topk_ent *a = pa, *b = pb;
    int c = fcmp(a->fv, b->fv);
    return c ? c : idx_cmp(a, b);
}
static int topk_i_desc(const void *pa, const void *pb)
{
    const topk_ent *a = pa, *b = pb;
    int c = (b->iv > a->iv) - (b->iv < a->iv);
    return c ? c : idx_cmp(a, b);
}
static int topk_i_asc(const void *pa, const void *pb)
{
    const topk_ent *a = pa, *b = pb;
    int c = (a->iv > b->iv) - (a->iv < b->iv);
    return c ? c : idx_cmp(a, b);
}

/* Selection keeps the k best entries of a line in a heap whose root is the
 * worst one kept (O(L log k)); a full sort of a 1.3M-element line for k=100
 * (centernet's heatmap) would cost tens of milliseconds. */
static int topk_use_heap(int64_t L, int64_t k) { return k > 0 && k * 8 < L; }
static int64_t topk_tasks(int64_t n_lines) { return n_lines < NN_TASKS ? (n_lines > 0 ? n_lines : 1) : NN_TASKS; }

/* k from input 1 (any opset) or the attribute k (opset 1-9). */
static dt_code topk_params(const dt_node *n, int rank, const int64_t *dims, const dt_tensor *kt, int *axis,
                           int64_t *k, dt_status *st)
{
    dt_code rc;
    if (kt) {
        int64_t kv[1];
        int cnt;
        if ((rc = nn_const_ints(n, kt, "K", kv, 1, &cnt, st)))
            return rc;
        if (cnt != 1)
            return nn_fail(st, DT_ESHAPE, n, "K must have exactly one element");
        *k = kv[0];
    } else {
        const dt_attr *a = dt_node_attr(n, "k");
        if (!a)
            return nn_fail(st, DT_EINVAL, n, "missing K input / k attribute");
        *k = dt_attr_int(n, "k", 0);
    }
    int64_t a = dt_attr_int(n, "axis", -1);
    *axis = dt_norm_axis(a, rank);
    if (*axis < 0)
        return nn_fail(st, DT_EINVAL, n, "axis %lld out of range for rank %d", (long long)a, rank);
    if (*k < 0 || (dims[*axis] >= 0 && *k > dims[*axis]))
        return nn_fail(st, DT_ESHAPE, n, "k=%lld out of range for axis size %lld", (long long)*k,
                       (long long)dims[*axis]);
    return DT_OK;
}

dt_code dt_nn_infer_TopK(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *kv = dt_node_in(g, n, 1);
    dt_value *y = dt_node_out(g, n, 0), *yi = dt_node_out(g, n, 1);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Values");
    if (!is_int_or_f32(x->dtype))
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        nn_unknown_outputs(g, n, x->dtype);
        if (yi)
            yi->dtype = DT_I64;
        return DT_OK;
    }
    dt_tensor kt;
    if (kv) {
        kt = dt_value_view(kv);
        if (!kt.data)
            return nn_fail(st, DT_EUNSUPPORTED, n, "input K must be a constant");
    }
    int axis;
    int64_t k;
    dt_code rc = topk_params(n, x->ndim, x->dims, kv ? &kt : NULL, &axis, &k, st);
    if (rc)
        return rc;
    int64_t dims[DT_MAX_DIMS];
    memcpy(dims, x->dims, (size_t)x->ndim * sizeof(int64_t));
    dims[axis] = k;
    dt_value_set(y, x->dtype, x->ndim, dims);
    if (yi)
        dt_value_set(yi, DT_I64, x->ndim, dims);
    {
        int64_t lines = 1;
        for (int d = 0; d < x->ndim; d++)
            if (d != axis)
                lines *= x->dims[d];
        int64_t per = topk_use_heap(x->dims[axis], k) ? k : x->dims[axis];
        n->scratch_bytes = per > 0 ? (size_t)topk_tasks(lines) * (size_t)per * sizeof(topk_ent) : 0;
    }
    return DT_OK;
}

typedef int (*topk_cmp_fn)(const void *, const void *);


static void heap_down(topk_ent *h, int64_t n, int64_t i, topk_cmp_fn cmp)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cmp(&h[l], &h[m]) > 0)
            m = l;
        if (r < n && cmp(&h[r], &h[m]) > 0)
            m = r;
        if (m == i)
            return;
        topk_ent t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_up(topk_ent *h, int64_t i, topk_cmp_fn cmp)
{
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (cmp(&h[i], &h[p]) <= 0)
            return;
        topk_ent t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static void topk_task(void *arg, int64_t begin, int64_t end)
{
    const line_job *j = arg;
    topk_cmp_fn cmp =
        j->dt == DT_I64 ? (j->flag ? topk_i_desc : topk_i_asc) : (j->flag ? topk_f_desc : topk_f_asc);
    int heap = topk_use_heap(j->L, j->k);
    int64_t tasks = topk_tasks(j->n_lines);
    for (int64_t task = begin; task < end; task++) {
        topk_ent *e = (topk_ent *)j->scratch + task * (heap ? j->k : j->L);
        int64_t l0 = task * j->n_lines / tasks, l1 = (task + 1) * j->n_lines / tasks;
        for (int64_t t = l0; t < l1; t++) {
            int64_t o = t / j->inner, i = t % j->inner;
            int64_t base = o * j->L * j->inner + i;
            int64_t n = 0;
            for (int64_t l = 0; l < j->L; l++) {
                int64_t off = base + l * j->inner;
                topk_ent c;
                c.idx = l;
                c.iv = 0;
                c.fv = 0;
                if (j->dt == DT_I64)
                    c.iv = ((const int64_t *)j->x)[off];
                else
                    c.fv = get_num(j->x, j->dt, off);
                if (!heap) {
                    e[n++] = c;
                } else if (n < j->k) {
                    e[n] = c;
                    heap_up(e, n++, cmp);
                } else if (cmp(&c, &e[0]) < 0) {
                    e[0] = c;
                    heap_down(e, n, 0, cmp);
                }
            }
            qsort(e, (size_t)n, sizeof *e, cmp);
            int64_t obase = o * j->k * j->inner + i;
            for (int64_t l = 0; l < j->k; l++) {
                int64_t off = obase + l * j->inner;
                if (j->dt == DT_F32)
                    ((float *)j->y)[off] = (float)e[l].fv;
                else if (j->dt == DT_I32)
                    ((int32_t *)j->y)[off] = (int32_t)e[l].fv;
                else
                    ((int64_t *)j->y)[off] = e[l].iv;
                if (j->y2)
                    ((int64_t *)j->y2)[off] = e[l].idx;
            }
        }
    }
}

dt_code dt_nn_ref_TopK(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    if (n_in < 1 || !in[0] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Values");
    const dt_tensor *x = in[0];
    if (!is_int_or_f32(x->dtype))
        return nn_fail(st, DT_EUNSUPPORTED, n, "dtype %s is not supported", dt_dtype_name(x->dtype));
    int axis;
    int64_t k;
    dt_code rc = topk_params(n, x->ndim, x->dims, n_in > 1 ? in[1] : NULL, &axis, &k, st);
    if (rc)
        return rc;
    int64_t dims[DT_MAX_DIMS];
    memcpy(dims, x->dims, (size_t)x->ndim * sizeof(int64_t));
    dims[axis] = k;
    dt_tensor *yi = n_out > 1 ? out[1] : NULL;
    if (out[0]->dtype != x->dtype || out[0]->ndim != x->ndim ||
        memcmp(out[0]->dims, dims, (size_t)x->ndim * sizeof(int64_t)) ||
        (yi && (yi->dtype != DT_I64 || yi->ndim != x->ndim || memcmp(yi->dims, dims, (size_t)x->ndim * sizeof(int64_t)))))
        return nn_fail(st, DT_ESHAPE, n, "output views do not have the inferred shapes");
    line_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.y = out[0]->data;
    j.y2 = yi ? yi->data : NULL;
    j.dt = x->dtype;
    j.L = x->dims[axis];
    j.inner = prod_range(x->dims, axis + 1, x->ndim);
    j.k = k;
    j.flag = dt_attr_int(n, "largest", 1) != 0;
    j.n_lines = prod_range(x->dims, 0, axis) * j.inner;
    if (k == 0 || j.n_lines == 0)
        return DT_OK;
    size_t need = (size_t)topk_tasks(j.n_lines) * (size_t)(topk_use_heap(j.L, k) ? k : j.L) * sizeof(topk_ent);
    if (!ctx || ctx->scratch_bytes < need || !ctx->scratch)
        return nn_fail(st, DT_EINTERNAL, n, "scratch of %zu bytes missing", need);
    j.scratch = ctx->scratch;
    dt_pool_for(ctx->pool, topk_tasks(j.n_lines), 1, topk_task, &j);
    return DT_OK;
}
