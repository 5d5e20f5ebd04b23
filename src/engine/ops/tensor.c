/* tensor.c — tensor manipulation ops: concat/split, slicing, reshaping,
 * transposes, gathers/scatters, shape queries and generators.
 *
 * Every data-moving op here is dtype-agnostic (elements are moved by size).
 * Slice, Transpose, Expand, Tile and DepthToSpace/SpaceToDepth are all one
 * strided copy: the output is walked in order while the source advances by
 * per-dim strides (0 for a broadcast, negative for a reversed slice); Tile
 * and the depth/space ops use a doubled-rank view of the same walk.
 *
 * Inputs that determine the output shape (Reshape's shape, Slice's starts,
 * ...) must be constants when infer runs; the kernels re-read them from
 * their inputs so the kernel alone defines the result.
 */
#include <math.h>
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops.h"
#include "engine/ops/op_util.h"

static const char *opn(const dt_node *n) { return dt_op_name(n->op); }

/* ==== helpers ============================================================ */

static dt_code check_arity(const dt_node *n, int min_in, int max_in, int min_out, int max_out, dt_status *st)
{
    if (n->n_in < min_in || n->n_in > max_in)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): expected %d..%d inputs, got %d", n->name, opn(n),
                       min_in, max_in, n->n_in);
    for (int i = 0; i < min_in; i++)
        if (n->in[i] < 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): input %d is required", n->name, opn(n), i);
    if (n->n_out < min_out || n->n_out > max_out)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): expected %d..%d outputs, got %d", n->name, opn(n),
                       min_out, max_out, n->n_out);
    for (int i = 0; i < n->n_out; i++)
        if (n->out[i] < 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): output %d missing", n->name, opn(n), i);
    return DT_OK;
}

static dt_code need_rank(const dt_node *n, const dt_value *v, const char *what, dt_status *st)
{
    if (v->ndim < 0)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): %s has unknown rank", n->name, opn(n), what);
    if (v->dtype <= DT_UNDEF || v->dtype >= DT_DTYPE_COUNT_)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): %s has no dtype", n->name, opn(n), what);
    return DT_OK;
}

static int all_known(int nd, const int64_t *d)
{
    if (nd < 0)
        return 0;
    for (int i = 0; i < nd; i++)
        if (d[i] < 0)
            return 0;
    return 1;
}

static int is_int_dtype(dt_dtype t) { return t == DT_I64 || t == DT_I32; }

/* A constant integer input (shape-like): view it or fail naming the node. */
static dt_code const_int_input(const dt_graph *g, const dt_node *n, int i, const char *what, dt_tensor *t,
                               dt_status *st)
{
    const dt_value *v = dt_node_in(g, n, i);
    if (!v)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): input '%s' is required", n->name, opn(n), what);
    if (!dt_value_is_const(v))
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): input '%s' must be a constant", n->name, opn(n), what);
    if (!is_int_dtype(v->dtype))
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): input '%s' must be int32/int64, is %s", n->name, opn(n),
                       what, dt_dtype_name(v->dtype));
    *t = dt_value_view(v);
    if (t->ndim > 1)
        return dt_fail(st, DT_ESHAPE, "node '%s' (%s): input '%s' must be 1-D", n->name, opn(n), what);
    if (dt_tensor_numel(t) < 0 || (dt_tensor_numel(t) > 0 && !t->data))
        return dt_fail(st, DT_ECORRUPT, "node '%s' (%s): input '%s' has no data", n->name, opn(n), what);
    return DT_OK;
}

/* Kernel-side check that a shape-like input is a usable int vector. */
static dt_code int_vec(const dt_node *n, const dt_tensor *t, const char *what, dt_status *st)
{
    if (!t || !is_int_dtype(t->dtype) || t->ndim > 1 || (dt_tensor_numel(t) > 0 && !t->data))
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): input '%s' must be an int32/int64 vector", n->name, opn(n),
                       what);
    return DT_OK;
}

static void row_strides(int nd, const int64_t *dims, int64_t *str)
{
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        str[i] = s;
        s *= dims[i];
    }
}

static int64_t prod(const int64_t *d, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++) {
        if (d[i] < 0)
            return -1;
        p *= d[i];
    }
    return p;
}

static void copy_same(const dt_tensor *x, dt_tensor *y)
{
    size_t nb = dt_tensor_nbytes(x);
    if (nb && x->data != y->data)
        memmove(y->data, x->data, nb);
}

/* ==== strided copy ======================================================= */

#define SC_MAXD (2 * DT_MAX_DIMS)

typedef struct scopy {
    int nd;
    int64_t dims[SC_MAXD];
    int64_t str[SC_MAXD]; /* source strides in elements (0 = repeat, < 0 = reverse) */
    const char *src;      /* source element at index (0, ..., 0) */
    char *dst;            /* contiguous destination */
    size_t es;
} scopy;

/* Drop size-1 dims and merge neighbours that are contiguous in the source. */
static void sc_init(scopy *c, int nd, const int64_t *dims, const int64_t *str, const void *src, void *dst, size_t es)
{
    int k = 0;
    for (int i = 0; i < nd; i++) {
        if (dims[i] == 1)
            continue;
        if (k > 0 && c->str[k - 1] == str[i] * dims[i]) {
            c->dims[k - 1] *= dims[i];
            c->str[k - 1] = str[i];
            continue;
        }
        c->dims[k] = dims[i];
        c->str[k] = str[i];
        k++;
    }
    if (k == 0) {
        c->dims[0] = 1;
        c->str[0] = 1;
        k = 1;
    }
    c->nd = k;
    c->src = src;
    c->dst = dst;
    c->es = es;
}

#define SC_LOOP(T)                                                                            \
    {                                                                                         \
        const T *s = (const T *)sp;                                                           \
        T *d = (T *)dp;                                                                       \
        for (int64_t i = 0; i < inner; i++)                                                   \
            d[i] = s[i * is];                                                                 \
    }                                                                                         \
    break;

static void sc_rows(void *arg, int64_t b, int64_t e)
{
    const scopy *c = arg;
    const int nd = c->nd;
    const int64_t inner = c->dims[nd - 1], is = c->str[nd - 1];
    const size_t es = c->es;
    int64_t idx[SC_MAXD];
    int64_t off = 0, r = b;
    for (int i = nd - 2; i >= 0; i--) {
        idx[i] = r % c->dims[i];
        r /= c->dims[i];
        off += idx[i] * c->str[i];
    }
    for (int64_t row = b; row < e; row++) {
        const char *sp = c->src + off * (int64_t)es;
        char *dp = c->dst + (size_t)row * (size_t)inner * es;
        if (is == 1) {
            memcpy(dp, sp, (size_t)inner * es);
        } else {
            switch (es) {
            case 1: SC_LOOP(uint8_t)
            case 2: SC_LOOP(uint16_t)
            case 4: SC_LOOP(uint32_t)
            case 8: SC_LOOP(uint64_t)
            default:
                for (int64_t i = 0; i < inner; i++)
                    memcpy(dp + (size_t)i * es, sp + i * is * (int64_t)es, es);
            }
        }
        for (int i = nd - 2; i >= 0; i--) {
            idx[i]++;
            off += c->str[i];
            if (idx[i] < c->dims[i])
                break;
            off -= c->str[i] * c->dims[i];
            idx[i] = 0;
        }
    }
}

static void sc_run(const dt_kctx *ctx, int nd, const int64_t *dims, const int64_t *str, const void *src, void *dst,
                   size_t es)
{
    for (int i = 0; i < nd; i++)
        if (dims[i] <= 0)
            return;
    scopy c;
    sc_init(&c, nd, dims, str, src, dst, es);
    int64_t rows = 1;
    for (int i = 0; i < c.nd - 1; i++)
        rows *= c.dims[i];
    int64_t inner = c.dims[c.nd - 1];
    int64_t grain = inner >= 32768 ? 1 : 32768 / inner;
    dt_pool_for(ctx ? ctx->pool : NULL, rows, grain, sc_rows, &c);
}

/* ==== Concat ============================================================= */

static dt_code concat_axis(const dt_node *n, int rank, int *axis, dt_status *st)
{
    const dt_attr *a = dt_node_attr(n, "axis");
    int64_t v = a ? a->i : 1; /* default 1 only before opset 4 */
    if (!a && n->opset >= 4)
        return dt_fail(st, DT_EINVAL, "node '%s' (Concat): missing attribute 'axis'", n->name);
    *axis = dt_norm_axis(v, rank);
    if (*axis < 0)
        return dt_fail(st, DT_EINVAL, "node '%s' (Concat): axis %lld out of range for rank %d", n->name,
                       (long long)v, rank);
    return DT_OK;
}

static dt_code infer_concat(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1 << 20, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x0 = dt_node_in(g, n, 0);
    for (int k = 0; k < n->n_in; k++)
        if (!dt_node_in(g, n, k))
            return dt_fail(st, DT_EINVAL, "node '%s' (Concat): input %d is missing", n->name, k);
    if ((rc = need_rank(n, x0, "input 0", st)))
        return rc;
    int r = x0->ndim, axis;
    if (r == 0)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Concat): inputs must have rank >= 1", n->name);
    if ((rc = concat_axis(n, r, &axis, st)))
        return rc;
    int64_t dims[DT_MAX_DIMS];
    memcpy(dims, x0->dims, sizeof dims);
    for (int k = 1; k < n->n_in; k++) {
        const dt_value *x = dt_node_in(g, n, k);
        if ((rc = need_rank(n, x, "input", st)))
            return rc;
        if (x->dtype != x0->dtype)
            return dt_fail(st, DT_EINVAL, "node '%s' (Concat): input %d is %s, input 0 is %s", n->name, k,
                           dt_dtype_name(x->dtype), dt_dtype_name(x0->dtype));
        if (x->ndim != r)
            return dt_fail(st, DT_ESHAPE, "node '%s' (Concat): input %d has rank %d, input 0 has %d", n->name, k,
                           x->ndim, r);
        for (int i = 0; i < r; i++) {
            if (i == axis) {
                dims[i] = (dims[i] < 0 || x->dims[i] < 0) ? -1 : dims[i] + x->dims[i];
                continue;
            }
            if (x->dims[i] >= 0 && dims[i] >= 0 && x->dims[i] != dims[i]) {
                char s1[128], s2[128];
                return dt_fail(st, DT_ESHAPE, "node '%s' (Concat): input %d shape %s does not match %s on dim %d",
                               n->name, k, dt_shape_str(x->ndim, x->dims, s1, sizeof s1),
                               dt_shape_str(x0->ndim, x0->dims, s2, sizeof s2), i);
            }
            if (dims[i] < 0)
                dims[i] = x->dims[i];
        }
    }
    dt_value_set(dt_node_out(g, n, 0), x0->dtype, r, dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_concat(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                        const dt_kctx *ctx, dt_status *st)
{
    (void)n_out;
    (void)ctx;
    const dt_tensor *y = out[0];
    int axis;
    dt_code rc = concat_axis(n, y->ndim, &axis, st);
    if (rc)
        return rc;
    size_t es = dt_dtype_size(y->dtype);
    int64_t total = 0;
    for (int k = 0; k < n_in; k++) {
        const dt_tensor *x = in[k];
        if (!x || x->ndim != y->ndim || x->dtype != y->dtype)
            return dt_fail(st, DT_ESHAPE, "node '%s' (Concat): input %d does not match the output", n->name, k);
        for (int i = 0; i < y->ndim; i++)
            if (i != axis && x->dims[i] != y->dims[i])
                return dt_fail(st, DT_ESHAPE, "node '%s' (Concat): input %d does not match the output", n->name, k);
        total += x->dims[axis];
    }
    if (total != y->dims[axis])
        return dt_fail(st, DT_ESHAPE, "node '%s' (Concat): inputs do not add up to the output", n->name);
    int64_t outer = prod(y->dims, 0, axis), inner = prod(y->dims, axis + 1, y->ndim);
    char *dst = y->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int k = 0; k < n_in; k++) {
            size_t chunk = (size_t)(in[k]->dims[axis] * inner) * es;
            if (!chunk)
                continue;
            const char *src = (const char *)in[k]->data + (size_t)o * chunk;
            if (src != dst) /* else planned in place (dt_pass_plan_ex) */
                memcpy(dst, src, chunk);
            dst += chunk;
        }
    }
    return DT_OK;
}

/* ==== Split ============================================================== */

/* Size of output i along the axis (dim known).  split = the sizes tensor
 * (opset 13+) or NULL. */
static dt_code split_size(const dt_node *n, const dt_tensor *split, int64_t dim, int i, int64_t *out, dt_status *st)
{
    int cnt;
    const int64_t *attr = n->opset < 13 ? dt_attr_ints(n, "split", &cnt) : NULL;
    if (split && dt_tensor_numel(split) > 0) {
        if (dt_tensor_numel(split) != n->n_out)
            return dt_fail(st, DT_EINVAL, "node '%s' (Split): %lld split sizes for %d outputs", n->name,
                           (long long)dt_tensor_numel(split), n->n_out);
        *out = dt_tensor_get_i(split, i);
    } else if (attr) {
        if (cnt != n->n_out)
            return dt_fail(st, DT_EINVAL, "node '%s' (Split): %d split sizes for %d outputs", n->name, cnt, n->n_out);
        *out = attr[i];
    } else if (n->opset >= 18 && dt_node_attr(n, "num_outputs")) {
        int64_t k = dt_attr_int(n, "num_outputs", 0);
        if (k != n->n_out || k <= 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (Split): num_outputs %lld but %d outputs", n->name,
                           (long long)k, n->n_out);
        int64_t chunk = (dim + k - 1) / k; /* last chunk smaller if uneven */
        *out = i < k - 1 ? chunk : dim - chunk * (k - 1);
    } else {
        if (dim % n->n_out)
            return dt_fail(st, DT_ESHAPE, "node '%s' (Split): dim %lld not divisible into %d outputs", n->name,
                           (long long)dim, n->n_out);
        *out = dim / n->n_out;
    }
    if (*out < 0)
        return dt_fail(st, DT_EINVAL, "node '%s' (Split): negative split size %lld", n->name, (long long)*out);
    return DT_OK;
}

static dt_code infer_split(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 2, 1, 1 << 20, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    int64_t av = dt_attr_int(n, "axis", 0);
    int axis = dt_norm_axis(av, x->ndim);
    if (axis < 0)
        return dt_fail(st, DT_EINVAL, "node '%s' (Split): axis %lld out of range for rank %d", n->name,
                       (long long)av, x->ndim);
    dt_tensor split, *sp = NULL;
    if (n->opset >= 13 && dt_node_in(g, n, 1)) {
        if ((rc = const_int_input(g, n, 1, "split", &split, st)))
            return rc;
        sp = &split;
    }
    int64_t dim = x->dims[axis];
    if (dim < 0)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Split): split dim is unknown", n->name);
    int64_t sum = 0;
    for (int i = 0; i < n->n_out; i++) {
        int64_t sz = 0;
        if ((rc = split_size(n, sp, dim, i, &sz, st)))
            return rc;
        sum += sz;
        int64_t dims[DT_MAX_DIMS];
        memcpy(dims, x->dims, sizeof dims);
        dims[axis] = sz;
        dt_value_set(dt_node_out(g, n, i), x->dtype, x->ndim, dims);
    }
    if (sum != dim)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Split): sizes add up to %lld, dim is %lld", n->name,
                       (long long)sum, (long long)dim);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_split(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)ctx;
    const dt_tensor *x = in[0];
    int axis = dt_norm_axis(dt_attr_int(n, "axis", 0), x->ndim);
    if (axis < 0)
        return dt_fail(st, DT_EINVAL, "node '%s' (Split): bad axis", n->name);
    int64_t total = 0;
    for (int k = 0; k < n_out; k++) {
        if (!out[k] || out[k]->ndim != x->ndim)
            return dt_fail(st, DT_ESHAPE, "node '%s' (Split): output %d shape mismatch", n->name, k);
        for (int i = 0; i < x->ndim; i++)
            if (i != axis && out[k]->dims[i] != x->dims[i])
                return dt_fail(st, DT_ESHAPE, "node '%s' (Split): output %d shape mismatch", n->name, k);
        total += out[k]->dims[axis];
    }
    if (total != x->dims[axis])
        return dt_fail(st, DT_ESHAPE, "node '%s' (Split): outputs do not add up to the input", n->name);
    size_t es = dt_dtype_size(x->dtype);
    int64_t outer = prod(x->dims, 0, axis), inner = prod(x->dims, axis + 1, x->ndim);
    const char *src = x->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int k = 0; k < n_out; k++) {
            size_t chunk = (size_t)(out[k]->dims[axis] * inner) * es;
            if (!chunk)
                continue;
            memcpy((char *)out[k]->data + (size_t)o * chunk, src, chunk);
            src += chunk;
        }
    }
    return DT_OK;
}

/* ==== Slice ============================================================== */

typedef struct slice_p {
    int64_t start[DT_MAX_DIMS], step[DT_MAX_DIMS], count[DT_MAX_DIMS];
} slice_p;

/* ONNX clamping: negative starts/ends count from the end, then starts clamp
 * to [0, d] ([0, d-1] for negative steps) and ends to [0, d] ([-1, d-1]);
 * a negative step over an empty axis selects nothing.
 * Everything stays within [-1, d] after clamping, so no overflow even for
 * INT64_MIN / INT64_MAX inputs. */
static dt_code slice_params(const dt_node *n, int rank, const int64_t *dims, int cnt, const int64_t *starts,
                            const int64_t *ends, const int64_t *axes, const int64_t *steps, slice_p *p, dt_status *st)
{
    int seen[DT_MAX_DIMS] = {0};
    for (int i = 0; i < rank; i++) {
        p->start[i] = 0;
        p->step[i] = 1;
        p->count[i] = dims[i];
    }
    for (int j = 0; j < cnt; j++) {
        int64_t av = axes ? axes[j] : j;
        int ax = dt_norm_axis(av, rank);
        if (ax < 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (Slice): axis %lld out of range for rank %d", n->name,
                           (long long)av, rank);
        if (seen[ax]++)
            return dt_fail(st, DT_EINVAL, "node '%s' (Slice): axis %d repeated", n->name, ax);
        int64_t s = starts[j], e = ends[j], sp = steps ? steps[j] : 1, d = dims[ax];
        if (sp == 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (Slice): step 0 on axis %d", n->name, ax);
        p->step[ax] = sp;
        if (d < 0) { /* unknown dim: unknown count */
            p->start[ax] = 0;
            p->count[ax] = -1;
            continue;
        }
        if (s < 0)
            s += d;
        if (e < 0)
            e += d;
        if (sp > 0) {
            s = s < 0 ? 0 : (s > d ? d : s);
            e = e < 0 ? 0 : (e > d ? d : e);
            p->count[ax] = e > s ? (int64_t)((uint64_t)(e - s - 1) / (uint64_t)sp) + 1 : 0;
        } else if (d == 0) { /* [0, d-1] is empty: clamping would invent element 0 */
            p->count[ax] = 0;
        } else {
            s = s < 0 ? 0 : (s > d - 1 ? d - 1 : s);
            e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
            uint64_t asp = (uint64_t)0 - (uint64_t)sp;
            p->count[ax] = s > e ? (int64_t)((uint64_t)(s - e - 1) / asp) + 1 : 0;
        }
        if (p->count[ax] == 0)
            s = 0;
        p->start[ax] = s;
    }
    return DT_OK;
}

/* Collect starts/ends/axes/steps from attributes (opset < 10) or inputs. */
typedef struct slice_args {
    int cnt;
    int64_t starts[DT_MAX_DIMS], ends[DT_MAX_DIMS], axes[DT_MAX_DIMS], steps[DT_MAX_DIMS];
    int has_axes, has_steps;
} slice_args;

static dt_code slice_read_vec(const dt_node *n, const dt_tensor *t, const char *what, int rank, int *cnt,
                              int64_t *dst, dt_status *st)
{
    dt_code rc = int_vec(n, t, what, st);
    if (rc)
        return rc;
    int64_t k = dt_tensor_numel(t);
    if (k > rank)
        return dt_fail(st, DT_EINVAL, "node '%s' (Slice): %lld %s for rank %d", n->name, (long long)k, what, rank);
    if (*cnt >= 0 && k != *cnt)
        return dt_fail(st, DT_EINVAL, "node '%s' (Slice): %s has %lld entries, expected %d", n->name, what,
                       (long long)k, *cnt);
    *cnt = (int)k;
    for (int64_t i = 0; i < k; i++)
        dst[i] = dt_tensor_get_i(t, i);
    return DT_OK;
}

static dt_code slice_args_get(const dt_node *n, int rank, const dt_tensor *const *in, int n_in, slice_args *a,
                              dt_status *st)
{
    memset(a, 0, sizeof *a);
    dt_code rc;
    if (n->opset < 10) {
        int cs, ce, ca;
        const int64_t *s = dt_attr_ints(n, "starts", &cs), *e = dt_attr_ints(n, "ends", &ce);
        const int64_t *ax = dt_attr_ints(n, "axes", &ca);
        if (!s || !e || cs != ce || (ax && ca != cs))
            return dt_fail(st, DT_EINVAL, "node '%s' (Slice): starts/ends/axes attributes missing or mismatched",
                           n->name);
        if (cs > rank)
            return dt_fail(st, DT_EINVAL, "node '%s' (Slice): %d starts for rank %d", n->name, cs, rank);
        a->cnt = cs;
        for (int i = 0; i < cs; i++) {
            a->starts[i] = s[i];
            a->ends[i] = e[i];
            if (ax)
                a->axes[i] = ax[i];
        }
        a->has_axes = ax != NULL;
        return DT_OK;
    }
    if (n_in < 3 || !in[1] || !in[2])
        return dt_fail(st, DT_EINVAL, "node '%s' (Slice): starts and ends are required", n->name);
    int cnt = -1;
    if ((rc = slice_read_vec(n, in[1], "starts", rank, &cnt, a->starts, st)) ||
        (rc = slice_read_vec(n, in[2], "ends", rank, &cnt, a->ends, st)))
        return rc;
    if (n_in > 3 && in[3]) {
        if ((rc = slice_read_vec(n, in[3], "axes", rank, &cnt, a->axes, st)))
            return rc;
        a->has_axes = 1;
    }
    if (n_in > 4 && in[4]) {
        if ((rc = slice_read_vec(n, in[4], "steps", rank, &cnt, a->steps, st)))
            return rc;
        a->has_steps = 1;
    }
    a->cnt = cnt;
    return DT_OK;
}

static dt_code infer_slice(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, n->opset < 10 ? 1 : 3, n->opset < 10 ? 1 : 5, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "data", st)))
        return rc;
    dt_tensor t[5];
    const dt_tensor *tp[5] = {NULL, NULL, NULL, NULL, NULL};
    static const char *const names[5] = {"data", "starts", "ends", "axes", "steps"};
    for (int i = 1; i < n->n_in && i < 5 && n->opset >= 10; i++) {
        if (!dt_node_in(g, n, i))
            continue;
        if ((rc = const_int_input(g, n, i, names[i], &t[i], st)))
            return rc;
        tp[i] = &t[i];
    }
    slice_args a;
    slice_p p;
    if ((rc = slice_args_get(n, x->ndim, tp, n->n_in, &a, st)) ||
        (rc = slice_params(n, x->ndim, x->dims, a.cnt, a.starts, a.ends, a.has_axes ? a.axes : NULL,
                           a.has_steps ? a.steps : NULL, &p, st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), x->dtype, x->ndim, p.count);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_slice(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    (void)n_out;
    const dt_tensor *x = in[0];
    dt_tensor *y = out[0];
    slice_args a;
    slice_p p;
    dt_code rc;
    if ((rc = slice_args_get(n, x->ndim, in, n_in, &a, st)) ||
        (rc = slice_params(n, x->ndim, x->dims, a.cnt, a.starts, a.ends, a.has_axes ? a.axes : NULL,
                           a.has_steps ? a.steps : NULL, &p, st)))
        return rc;
    if (y->ndim != x->ndim || memcmp(y->dims, p.count, sizeof(int64_t) * (size_t)x->ndim))
        return dt_fail(st, DT_ESHAPE, "node '%s' (Slice): output shape does not match the slice", n->name);
    int64_t xs[DT_MAX_DIMS], str[DT_MAX_DIMS];
    row_strides(x->ndim, x->dims, xs);
    int64_t off = 0;
    for (int i = 0; i < x->ndim; i++) {
        off += p.start[i] * xs[i];
        /* a single step: no stride, so a huge step cannot overflow */
        str[i] = p.count[i] == 1 ? 0 : p.step[i] * xs[i];
    }
    size_t es = dt_dtype_size(x->dtype);
    sc_run(ctx, x->ndim, p.count, str, (const char *)x->data + off * (int64_t)es, y->data, es);
    return DT_OK;
}

/* ==== Reshape / Flatten / Squeeze / Unsqueeze ============================ */

static dt_code reshape_dims(const dt_node *n, int xnd, const int64_t *xd, int cnt, const int64_t *shape, int *ond,
                            int64_t *od, dt_status *st)
{
    if (cnt > DT_MAX_DIMS)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Reshape): rank %d over %d", n->name, cnt, DT_MAX_DIMS);
    int allowzero = n->opset >= 14 && dt_attr_int(n, "allowzero", 0);
    int infer_at = -1, has_zero = 0;
    int64_t known = 1;
    int unknown = 0;
    for (int i = 0; i < cnt; i++) {
        int64_t v = shape[i];
        if (v == 0 && !allowzero) {
            if (i >= xnd)
                return dt_fail(st, DT_ESHAPE, "node '%s' (Reshape): 0 at index %d but input rank is %d", n->name, i,
                               xnd);
            v = xd[i];
        } else if (v == -1) {
            if (infer_at >= 0)
                return dt_fail(st, DT_ESHAPE, "node '%s' (Reshape): more than one -1 in shape", n->name);
            infer_at = i;
        } else if (v < -1) {
            return dt_fail(st, DT_ESHAPE, "node '%s' (Reshape): invalid dim %lld", n->name, (long long)v);
        }
        if (v == 0)
            has_zero = 1;
        od[i] = v;
        if (i != infer_at) {
            if (v < 0)
                unknown = 1;
            else if (v && known > INT64_MAX / v)
                return dt_fail(st, DT_ESHAPE, "node '%s' (Reshape): shape overflows", n->name);
            else
                known *= v;
        }
    }
    if (allowzero && has_zero && infer_at >= 0)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Reshape): allowzero with both 0 and -1", n->name);
    int64_t total = dt_shape_numel(xnd, xd);
    char s1[128], s2[128];
    if (infer_at >= 0) {
        if (total < 0 || unknown) {
            od[infer_at] = -1;
        } else {
            if (known == 0 || total % known)
                return dt_fail(st, DT_ESHAPE, "node '%s' (Reshape): cannot reshape %s to %s", n->name,
                               dt_shape_str(xnd, xd, s1, sizeof s1), dt_shape_str(cnt, shape, s2, sizeof s2));
            od[infer_at] = total / known;
        }
    } else if (total >= 0 && !unknown && known != total) {
        return dt_fail(st, DT_ESHAPE, "node '%s' (Reshape): cannot reshape %s to %s", n->name,
                       dt_shape_str(xnd, xd, s1, sizeof s1), dt_shape_str(cnt, shape, s2, sizeof s2));
    }
    *ond = cnt;
    return DT_OK;
}

static dt_code infer_reshape(dt_graph *g, dt_node *n, dt_status *st)
{
    int attr_form = n->opset < 5;
    dt_code rc = check_arity(n, attr_form ? 1 : 2, 2, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "data", st)))
        return rc;
    int64_t shape[DT_MAX_DIMS + 1];
    int cnt;
    if (attr_form) {
        const int64_t *s = dt_attr_ints(n, "shape", &cnt);
        if (!s)
            return dt_fail(st, DT_EINVAL, "node '%s' (Reshape): missing attribute 'shape'", n->name);
        if (cnt > DT_MAX_DIMS)
            return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Reshape): rank %d over %d", n->name, cnt, DT_MAX_DIMS);
        memcpy(shape, s, sizeof(int64_t) * (size_t)cnt);
    } else {
        dt_tensor t;
        if ((rc = const_int_input(g, n, 1, "shape", &t, st)))
            return rc;
        int64_t k = dt_tensor_numel(&t);
        if (k > DT_MAX_DIMS)
            return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Reshape): rank %lld over %d", n->name, (long long)k,
                           DT_MAX_DIMS);
        cnt = (int)k;
        for (int i = 0; i < cnt; i++)
            shape[i] = dt_tensor_get_i(&t, i);
    }
    int ond = 0;
    int64_t od[DT_MAX_DIMS];
    if ((rc = reshape_dims(n, x->ndim, x->dims, cnt, shape, &ond, od, st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), x->dtype, ond, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

/* Reshape-like ops move no data: a copy of the bytes (or nothing when the
 * planner aliased output to input). */
static dt_code k_copy(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    if (dt_tensor_numel(in[0]) != dt_tensor_numel(out[0]) || in[0]->dtype != out[0]->dtype)
        return dt_fail(st, DT_ESHAPE, "node '%s' (%s): input and output sizes differ", n->name, opn(n));
    copy_same(in[0], out[0]);
    return DT_OK;
}

static dt_code infer_flatten(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    int64_t av = dt_attr_int(n, "axis", 1), axis = av;
    if (axis < 0)
        axis += x->ndim;
    if (axis < 0 || axis > x->ndim)
        return dt_fail(st, DT_EINVAL, "node '%s' (Flatten): axis %lld out of range for rank %d", n->name,
                       (long long)av, x->ndim);
    int64_t od[2] = {prod(x->dims, 0, (int)axis), prod(x->dims, (int)axis, x->ndim)};
    dt_value_set(dt_node_out(g, n, 0), x->dtype, 2, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

/* Axes of Squeeze / Unsqueeze: attribute before opset 13, input after.
 * Returns count (-1 = none given). */
static dt_code axes_of(const dt_graph *g, const dt_node *n, int64_t *axes, int *cnt, dt_status *st)
{
    *cnt = -1;
    if (n->opset < 13) {
        int c;
        const int64_t *a = dt_attr_ints(n, "axes", &c);
        if (!a)
            return DT_OK;
        if (c > DT_MAX_DIMS)
            return dt_fail(st, DT_EINVAL, "node '%s' (%s): too many axes", n->name, opn(n));
        memcpy(axes, a, sizeof(int64_t) * (size_t)c);
        *cnt = c;
        return DT_OK;
    }
    if (!dt_node_in(g, n, 1))
        return DT_OK;
    dt_tensor t;
    dt_code rc = const_int_input(g, n, 1, "axes", &t, st);
    if (rc)
        return rc;
    int64_t k = dt_tensor_numel(&t);
    if (k > DT_MAX_DIMS)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): too many axes", n->name, opn(n));
    for (int64_t i = 0; i < k; i++)
        axes[i] = dt_tensor_get_i(&t, i);
    *cnt = (int)k;
    return DT_OK;
}

static dt_code infer_squeeze(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 2, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    int64_t axes[DT_MAX_DIMS];
    int cnt;
    if ((rc = axes_of(g, n, axes, &cnt, st)))
        return rc;
    int drop[DT_MAX_DIMS] = {0};
    if (cnt < 0) {
        for (int i = 0; i < x->ndim; i++) {
            if (x->dims[i] < 0)
                return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Squeeze): no axes and dim %d unknown", n->name, i);
            drop[i] = x->dims[i] == 1;
        }
    } else {
        for (int j = 0; j < cnt; j++) {
            int ax = dt_norm_axis(axes[j], x->ndim);
            if (ax < 0)
                return dt_fail(st, DT_EINVAL, "node '%s' (Squeeze): axis %lld out of range for rank %d", n->name,
                               (long long)axes[j], x->ndim);
            if (drop[ax])
                return dt_fail(st, DT_EINVAL, "node '%s' (Squeeze): axis %d repeated", n->name, ax);
            if (x->dims[ax] != 1 && x->dims[ax] >= 0)
                return dt_fail(st, DT_ESHAPE, "node '%s' (Squeeze): dim %d is %lld, not 1", n->name, ax,
                               (long long)x->dims[ax]);
            drop[ax] = 1;
        }
    }
    int64_t od[DT_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < x->ndim; i++)
        if (!drop[i])
            od[k++] = x->dims[i];
    dt_value_set(dt_node_out(g, n, 0), x->dtype, k, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code infer_unsqueeze(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, n->opset < 13 ? 1 : 2, 2, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    int64_t axes[DT_MAX_DIMS];
    int cnt;
    if ((rc = axes_of(g, n, axes, &cnt, st)))
        return rc;
    if (cnt < 0)
        return dt_fail(st, DT_EINVAL, "node '%s' (Unsqueeze): axes are required", n->name);
    int r = x->ndim + cnt;
    if (r > DT_MAX_DIMS)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Unsqueeze): rank %d over %d", n->name, r, DT_MAX_DIMS);
    int ins[DT_MAX_DIMS] = {0};
    for (int j = 0; j < cnt; j++) {
        int ax = dt_norm_axis(axes[j], r);
        if (ax < 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (Unsqueeze): axis %lld out of range for rank %d", n->name,
                           (long long)axes[j], r);
        if (ins[ax])
            return dt_fail(st, DT_EINVAL, "node '%s' (Unsqueeze): axis %d repeated", n->name, ax);
        ins[ax] = 1;
    }
    int64_t od[DT_MAX_DIMS];
    for (int i = 0, k = 0; i < r; i++)
        od[i] = ins[i] ? 1 : x->dims[k++];
    dt_value_set(dt_node_out(g, n, 0), x->dtype, r, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

/* ==== Transpose ========================================================== */

static dt_code transpose_perm(const dt_node *n, int r, int *perm, dt_status *st)
{
    int cnt;
    const int64_t *p = dt_attr_ints(n, "perm", &cnt);
    if (!p) {
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
        return DT_OK;
    }
    if (cnt != r)
        return dt_fail(st, DT_EINVAL, "node '%s' (Transpose): perm has %d entries for rank %d", n->name, cnt, r);
    int used[DT_MAX_DIMS] = {0};
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r || used[p[i]]++)
            return dt_fail(st, DT_EINVAL, "node '%s' (Transpose): perm is not a permutation", n->name);
        perm[i] = (int)p[i];
    }
    return DT_OK;
}

static dt_code infer_transpose(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    int perm[DT_MAX_DIMS];
    if ((rc = transpose_perm(n, x->ndim, perm, st)))
        return rc;
    int64_t od[DT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++)
        od[i] = x->dims[perm[i]];
    dt_value_set(dt_node_out(g, n, 0), x->dtype, x->ndim, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_transpose(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                           int n_out, const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    const dt_tensor *x = in[0];
    int perm[DT_MAX_DIMS];
    dt_code rc = transpose_perm(n, x->ndim, perm, st);
    if (rc)
        return rc;
    int64_t xs[DT_MAX_DIMS], str[DT_MAX_DIMS], od[DT_MAX_DIMS];
    row_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < x->ndim; i++) {
        od[i] = x->dims[perm[i]];
        str[i] = xs[perm[i]];
        if (out[0]->dims[i] != od[i])
            return dt_fail(st, DT_ESHAPE, "node '%s' (Transpose): output shape mismatch", n->name);
    }
    sc_run(ctx, x->ndim, od, str, x->data, out[0]->data, dt_dtype_size(x->dtype));
    return DT_OK;
}

/* ==== Gather / GatherElements ============================================ */

static dt_code infer_gather(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 2, 2, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0), *ix = dt_node_in(g, n, 1);
    if ((rc = need_rank(n, x, "data", st)) || (rc = need_rank(n, ix, "indices", st)))
        return rc;
    if (!is_int_dtype(ix->dtype))
        return dt_fail(st, DT_EINVAL, "node '%s' (Gather): indices must be int32/int64", n->name);
    int64_t av = dt_attr_int(n, "axis", 0);
    int axis = dt_norm_axis(av, x->ndim);
    if (axis < 0)
        return dt_fail(st, DT_EINVAL, "node '%s' (Gather): axis %lld out of range for rank %d", n->name,
                       (long long)av, x->ndim);
    int r = x->ndim - 1 + ix->ndim;
    if (r > DT_MAX_DIMS)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Gather): output rank %d over %d", n->name, r, DT_MAX_DIMS);
    /* constant indices (the usual case) are checked now */
    int64_t k = x->dims[axis];
    if (dt_value_is_const(ix) && k >= 0) {
        dt_tensor t = dt_value_view(ix);
        int64_t cnt = dt_tensor_numel(&t);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t v = dt_tensor_get_i(&t, i);
            if (v < -k || v >= k)
                return dt_fail(st, DT_EINVAL, "node '%s' (Gather): index %lld out of range for dim %lld", n->name,
                               (long long)v, (long long)k);
        }
    }
    int64_t od[DT_MAX_DIMS];
    int j = 0;
    for (int i = 0; i < axis; i++)
        od[j++] = x->dims[i];
    for (int i = 0; i < ix->ndim; i++)
        od[j++] = ix->dims[i];
    for (int i = axis + 1; i < x->ndim; i++)
        od[j++] = x->dims[i];
    dt_value_set(dt_node_out(g, n, 0), x->dtype, r, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_gather(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                        const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    const dt_tensor *x = in[0], *ix = in[1];
    int axis = dt_norm_axis(dt_attr_int(n, "axis", 0), x->ndim);
    if (axis < 0 || !is_int_dtype(ix->dtype))
        return dt_fail(st, DT_EINVAL, "node '%s' (Gather): bad axis or indices", n->name);
    int64_t outer = prod(x->dims, 0, axis), k = x->dims[axis];
    size_t es = dt_dtype_size(x->dtype);
    size_t inner = (size_t)prod(x->dims, axis + 1, x->ndim) * es;
    int64_t ni = dt_tensor_numel(ix);
    if (dt_tensor_numel(out[0]) != outer * ni * (int64_t)(inner / (es ? es : 1)))
        return dt_fail(st, DT_ESHAPE, "node '%s' (Gather): output shape mismatch", n->name);
    for (int64_t i = 0; i < ni; i++) {
        int64_t v = dt_tensor_get_i(ix, i);
        if (v < -k || v >= k)
            return dt_fail(st, DT_EINVAL, "node '%s' (Gather): index %lld out of range for dim %lld", n->name,
                           (long long)v, (long long)k);
    }
    char *dst = out[0]->data;
    const char *src = x->data;
    for (int64_t o = 0; o < outer; o++) {
        const char *base = src + (size_t)(o * k) * inner;
        if (ix->dtype == DT_I64) {
            const int64_t *ip = ix->data;
            for (int64_t i = 0; i < ni; i++, dst += inner)
                memcpy(dst, base + (size_t)(ip[i] < 0 ? ip[i] + k : ip[i]) * inner, inner);
        } else {
            const int32_t *ip = ix->data;
            for (int64_t i = 0; i < ni; i++, dst += inner)
                memcpy(dst, base + (size_t)(ip[i] < 0 ? ip[i] + k : ip[i]) * inner, inner);
        }
    }
    return DT_OK;
}

static dt_code infer_gather_elements(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 2, 2, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0), *ix = dt_node_in(g, n, 1);
    if ((rc = need_rank(n, x, "data", st)) || (rc = need_rank(n, ix, "indices", st)))
        return rc;
    if (!is_int_dtype(ix->dtype))
        return dt_fail(st, DT_EINVAL, "node '%s' (GatherElements): indices must be int32/int64", n->name);
    int64_t av = dt_attr_int(n, "axis", 0);
    int axis = dt_norm_axis(av, x->ndim);
    if (axis < 0)
        return dt_fail(st, DT_EINVAL, "node '%s' (GatherElements): axis %lld out of range for rank %d", n->name,
                       (long long)av, x->ndim);
    if (ix->ndim != x->ndim)
        return dt_fail(st, DT_ESHAPE, "node '%s' (GatherElements): indices rank %d, data rank %d", n->name, ix->ndim,
                       x->ndim);
    for (int i = 0; i < x->ndim; i++)
        if (i != axis && ix->dims[i] >= 0 && x->dims[i] >= 0 && ix->dims[i] > x->dims[i])
            return dt_fail(st, DT_ESHAPE, "node '%s' (GatherElements): indices dim %d larger than data's", n->name, i);
    dt_value_set(dt_node_out(g, n, 0), x->dtype, ix->ndim, ix->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_gather_elements(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                                 int n_out, const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    const dt_tensor *x = in[0], *ix = in[1];
    int r = x->ndim;
    int axis = dt_norm_axis(dt_attr_int(n, "axis", 0), r);
    if (axis < 0 || ix->ndim != r || !is_int_dtype(ix->dtype))
        return dt_fail(st, DT_EINVAL, "node '%s' (GatherElements): bad axis or indices", n->name);
    for (int i = 0; i < r; i++)
        if (i != axis && ix->dims[i] > x->dims[i])
            return dt_fail(st, DT_ESHAPE, "node '%s' (GatherElements): indices larger than data", n->name);
    int64_t xs[DT_MAX_DIMS], idx[DT_MAX_DIMS] = {0};
    row_strides(r, x->dims, xs);
    int64_t cnt = dt_tensor_numel(ix), k = x->dims[axis], base = 0;
    size_t es = dt_dtype_size(x->dtype);
    char *dst = out[0]->data;
    const char *src = x->data;
    for (int64_t e = 0; e < cnt; e++) {
        int64_t v = dt_tensor_get_i(ix, e);
        if (v < -k || v >= k)
            return dt_fail(st, DT_EINVAL, "node '%s' (GatherElements): index %lld out of range for dim %lld",
                           n->name, (long long)v, (long long)k);
        if (v < 0)
            v += k;
        memcpy(dst + (size_t)e * es, src + (size_t)(base + v * xs[axis]) * es, es);
        /* base = offset of idx with the axis coordinate zeroed */
        for (int i = r - 1; i >= 0; i--) {
            idx[i]++;
            if (i != axis)
                base += xs[i];
            if (idx[i] < ix->dims[i])
                break;
            if (i != axis)
                base -= xs[i] * ix->dims[i];
            idx[i] = 0;
        }
    }
    return DT_OK;
}

/* ==== Shape / Size ======================================================= */

static void shape_range(const dt_node *n, int r, int64_t *s, int64_t *e)
{
    int64_t a = n->opset >= 15 ? dt_attr_int(n, "start", 0) : 0;
    int64_t b = n->opset >= 15 ? dt_attr_int(n, "end", r) : r;
    if (a < 0)
        a += r;
    if (b < 0)
        b += r;
    a = a < 0 ? 0 : (a > r ? r : a);
    b = b < 0 ? 0 : (b > r ? r : b);
    *s = a;
    *e = b > a ? b : a;
}

static dt_code infer_shape(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    int64_t s, e;
    shape_range(n, x->ndim, &s, &e);
    int64_t d = e - s;
    dt_value_set(dt_node_out(g, n, 0), DT_I64, 1, &d);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_shape(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    int64_t s, e;
    shape_range(n, in[0]->ndim, &s, &e);
    if (out[0]->dtype != DT_I64 || dt_tensor_numel(out[0]) != e - s)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Shape): output shape mismatch", n->name);
    int64_t *y = out[0]->data;
    for (int64_t i = s; i < e; i++)
        y[i - s] = in[0]->dims[i];
    return DT_OK;
}

static dt_code infer_size(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    if ((rc = need_rank(n, dt_node_in(g, n, 0), "input", st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), DT_I64, 0, NULL);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_size(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    if (out[0]->dtype != DT_I64)
        return dt_fail(st, DT_EINVAL, "node '%s' (Size): output must be int64", n->name);
    *(int64_t *)out[0]->data = dt_tensor_numel(in[0]);
    return DT_OK;
}

/* ==== ConstantOfShape / Expand / Tile / Range ============================ */

/* Read a constant shape vector (non-negative dims, rank <= 8). */
static dt_code shape_vec(const dt_node *n, const dt_tensor *t, const char *what, int *nd, int64_t *dims,
                         dt_status *st)
{
    dt_code rc = int_vec(n, t, what, st);
    if (rc)
        return rc;
    int64_t k = dt_tensor_numel(t);
    if (k > DT_MAX_DIMS)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): rank %lld over %d", n->name, opn(n), (long long)k,
                       DT_MAX_DIMS);
    for (int64_t i = 0; i < k; i++) {
        dims[i] = dt_tensor_get_i(t, i);
        if (dims[i] < 0)
            return dt_fail(st, DT_ESHAPE, "node '%s' (%s): negative %s entry %lld", n->name, opn(n), what,
                           (long long)dims[i]);
    }
    *nd = (int)k;
    if (dt_shape_numel(*nd, dims) < 0)
        return dt_fail(st, DT_ELIMIT, "node '%s' (%s): %s overflows", n->name, opn(n), what);
    return DT_OK;
}

static dt_code infer_constant_of_shape(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    dt_tensor t;
    int nd;
    int64_t dims[DT_MAX_DIMS];
    if ((rc = const_int_input(g, n, 0, "shape", &t, st)) || (rc = shape_vec(n, &t, "shape", &nd, dims, st)))
        return rc;
    int64_t vt = dt_attr_int(n, "value_dtype", DT_F32);
    if (vt != DT_F32 && vt != DT_I64 && vt != DT_I32 && vt != DT_U8 && vt != DT_I8 && vt != DT_BOOL)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (ConstantOfShape): value dtype %lld not supported", n->name,
                       (long long)vt);
    dt_value_set(dt_node_out(g, n, 0), (dt_dtype)vt, nd, dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_constant_of_shape(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                                   int n_out, const dt_kctx *ctx, dt_status *st)
{
    (void)in;
    (void)n_in;
    (void)n_out;
    (void)ctx;
    dt_tensor *y = out[0];
    float v = dt_attr_float(n, "value", 0.f);
    int64_t cnt = dt_tensor_numel(y);
    switch (y->dtype) {
    case DT_F32:
        for (int64_t i = 0; i < cnt; i++)
            ((float *)y->data)[i] = v;
        break;
    case DT_I64:
        for (int64_t i = 0; i < cnt; i++)
            ((int64_t *)y->data)[i] = (int64_t)v;
        break;
    case DT_I32:
        for (int64_t i = 0; i < cnt; i++)
            ((int32_t *)y->data)[i] = (int32_t)v;
        break;
    case DT_U8: case DT_I8: case DT_BOOL:
        memset(y->data, y->dtype == DT_BOOL ? (v != 0.f) : (int)(int64_t)v, (size_t)cnt);
        break;
    default:
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (ConstantOfShape): dtype %s", n->name,
                       dt_dtype_name(y->dtype));
    }
    return DT_OK;
}

static dt_code infer_expand(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 2, 2, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    dt_tensor t;
    int nd;
    int64_t dims[DT_MAX_DIMS];
    if ((rc = const_int_input(g, n, 1, "shape", &t, st)) || (rc = shape_vec(n, &t, "shape", &nd, dims, st)))
        return rc;
    int r = nd > x->ndim ? nd : x->ndim;
    int64_t od[DT_MAX_DIMS];
    for (int i = 0; i < r; i++) {
        int64_t a = i < r - x->ndim ? 1 : x->dims[i - (r - x->ndim)];
        int64_t b = i < r - nd ? 1 : dims[i - (r - nd)];
        if (a == b || b == 1)
            od[i] = a;
        else if (a == 1)
            od[i] = b;
        else if (a < 0)
            od[i] = b;
        else {
            char s1[128], s2[128];
            return dt_fail(st, DT_ESHAPE, "node '%s' (Expand): cannot expand %s to %s", n->name,
                           dt_shape_str(x->ndim, x->dims, s1, sizeof s1), dt_shape_str(nd, dims, s2, sizeof s2));
        }
    }
    dt_value_set(dt_node_out(g, n, 0), x->dtype, r, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_expand(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                        const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    const dt_tensor *x = in[0];
    dt_tensor *y = out[0];
    int r = y->ndim, off = r - x->ndim;
    if (off < 0)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Expand): output rank below input rank", n->name);
    int64_t xs[DT_MAX_DIMS], str[DT_MAX_DIMS];
    row_strides(x->ndim, x->dims, xs);
    for (int i = 0; i < r; i++) {
        int xi = i - off;
        if (xi < 0 || x->dims[xi] == 1) {
            str[i] = 0;
        } else {
            if (x->dims[xi] != y->dims[i])
                return dt_fail(st, DT_ESHAPE, "node '%s' (Expand): output shape mismatch", n->name);
            str[i] = xs[xi];
        }
    }
    sc_run(ctx, r, y->dims, str, x->data, y->data, dt_dtype_size(x->dtype));
    return DT_OK;
}

static dt_code infer_tile(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 2, 2, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    dt_tensor t;
    int nd;
    int64_t rep[DT_MAX_DIMS];
    if ((rc = const_int_input(g, n, 1, "repeats", &t, st)) || (rc = shape_vec(n, &t, "repeats", &nd, rep, st)))
        return rc;
    if (nd != x->ndim)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Tile): %d repeats for rank %d", n->name, nd, x->ndim);
    int64_t od[DT_MAX_DIMS];
    for (int i = 0; i < nd; i++)
        od[i] = x->dims[i] < 0 ? -1 : x->dims[i] * rep[i];
    if (all_known(nd, od) && dt_shape_numel(nd, od) < 0)
        return dt_fail(st, DT_ELIMIT, "node '%s' (Tile): output size overflows", n->name);
    dt_value_set(dt_node_out(g, n, 0), x->dtype, nd, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_tile(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                      const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    const dt_tensor *x = in[0];
    dt_tensor *y = out[0];
    int r = x->ndim;
    if (y->ndim != r)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Tile): output rank mismatch", n->name);
    /* view the output as [rep0, d0, rep1, d1, ...] with the repeats at stride 0 */
    int64_t xs[DT_MAX_DIMS], dims[SC_MAXD], str[SC_MAXD];
    row_strides(r, x->dims, xs);
    for (int i = 0; i < r; i++) {
        if (x->dims[i] == 0 ? y->dims[i] != 0 : y->dims[i] % x->dims[i])
            return dt_fail(st, DT_ESHAPE, "node '%s' (Tile): output shape mismatch", n->name);
        dims[2 * i] = x->dims[i] ? y->dims[i] / x->dims[i] : 0;
        str[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        str[2 * i + 1] = xs[i];
    }
    sc_run(ctx, 2 * r, dims, str, x->data, y->data, dt_dtype_size(x->dtype));
    return DT_OK;
}

/* Range: the count follows ORT (difference in the input type, division in
 * double); values accumulate start + delta + delta ... in the input type as
 * ONNX's reference loop does. */
static dt_code range_count(const dt_node *n, const dt_tensor *s, const dt_tensor *l, const dt_tensor *d,
                           int64_t *cnt, dt_status *st)
{
    const dt_tensor *t[3] = {s, l, d};
    for (int i = 0; i < 3; i++)
        if (!t[i] || dt_tensor_numel(t[i]) != 1 || t[i]->dtype != s->dtype || !t[i]->data)
            return dt_fail(st, DT_EINVAL, "node '%s' (Range): start/limit/delta must be scalars of one dtype",
                           n->name);
    double c;
    if (s->dtype == DT_F32) {
        float a = *(const float *)s->data, b = *(const float *)l->data, dl = *(const float *)d->data;
        if (dl == 0.f)
            return dt_fail(st, DT_EINVAL, "node '%s' (Range): delta is 0", n->name);
        c = ceil((double)(b - a) / (double)dl);
    } else if (s->dtype == DT_I64 || s->dtype == DT_I32) {
        int64_t a = dt_tensor_get_i(s, 0), b = dt_tensor_get_i(l, 0), dl = dt_tensor_get_i(d, 0);
        if (dl == 0)
            return dt_fail(st, DT_EINVAL, "node '%s' (Range): delta is 0", n->name);
        c = ceil(((double)b - (double)a) / (double)dl);
    } else {
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Range): dtype %s", n->name, dt_dtype_name(s->dtype));
    }
    if (c != c)
        return dt_fail(st, DT_EINVAL, "node '%s' (Range): count is NaN", n->name);
    if (c > (double)(INT64_C(1) << 40))
        return dt_fail(st, DT_ELIMIT, "node '%s' (Range): %g elements", n->name, c);
    *cnt = c > 0 ? (int64_t)c : 0;
    return DT_OK;
}

static dt_code infer_range(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 3, 3, 1, 1, st);
    if (rc)
        return rc;
    static const char *const names[3] = {"start", "limit", "delta"};
    dt_tensor t[3];
    for (int i = 0; i < 3; i++) {
        const dt_value *v = dt_node_in(g, n, i);
        if (!dt_value_is_const(v))
            return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (Range): input '%s' must be a constant", n->name,
                           names[i]);
        t[i] = dt_value_view(v);
    }
    int64_t cnt;
    if ((rc = range_count(n, &t[0], &t[1], &t[2], &cnt, st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), t[0].dtype, 1, &cnt);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_range(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    int64_t cnt;
    dt_code rc = range_count(n, in[0], in[1], in[2], &cnt, st);
    if (rc)
        return rc;
    dt_tensor *y = out[0];
    if (y->ndim != 1 || y->dims[0] != cnt || y->dtype != in[0]->dtype)
        return dt_fail(st, DT_ESHAPE, "node '%s' (Range): output shape mismatch", n->name);
    if (y->dtype == DT_F32) {
        float v = *(const float *)in[0]->data, d = *(const float *)in[2]->data;
        float *p = y->data;
        for (int64_t i = 0; i < cnt; i++, v += d)
            p[i] = v;
    } else if (y->dtype == DT_I64) {
        int64_t v = *(const int64_t *)in[0]->data, d = *(const int64_t *)in[2]->data;
        int64_t *p = y->data;
        for (int64_t i = 0; i < cnt; i++, v = (int64_t)((uint64_t)v + (uint64_t)d))
            p[i] = v;
    } else {
        int32_t v = *(const int32_t *)in[0]->data, d = *(const int32_t *)in[2]->data;
        int32_t *p = y->data;
        for (int64_t i = 0; i < cnt; i++, v = (int32_t)((uint32_t)v + (uint32_t)d))
            p[i] = v;
    }
    return DT_OK;
}

/* ==== ScatterND ========================================================== */

static dt_code infer_scatter_nd(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 3, 3, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0), *ix = dt_node_in(g, n, 1), *u = dt_node_in(g, n, 2);
    if ((rc = need_rank(n, x, "data", st)) || (rc = need_rank(n, ix, "indices", st)) ||
        (rc = need_rank(n, u, "updates", st)))
        return rc;
    const char *red = dt_attr_str(n, "reduction", "none");
    if (strcmp(red, "none") != 0)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (ScatterND): reduction '%s' not supported", n->name, red);
    if (!is_int_dtype(ix->dtype))
        return dt_fail(st, DT_EINVAL, "node '%s' (ScatterND): indices must be int64", n->name);
    if (u->dtype != x->dtype)
        return dt_fail(st, DT_EINVAL, "node '%s' (ScatterND): updates dtype differs from data", n->name);
    if (x->ndim < 1 || ix->ndim < 1)
        return dt_fail(st, DT_ESHAPE, "node '%s' (ScatterND): data and indices need rank >= 1", n->name);
    int64_t k = ix->dims[ix->ndim - 1];
    if (k < 0)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (ScatterND): index depth unknown", n->name);
    if (k < 1 || k > x->ndim)
        return dt_fail(st, DT_ESHAPE, "node '%s' (ScatterND): index depth %lld for data rank %d", n->name,
                       (long long)k, x->ndim);
    int ur = ix->ndim - 1 + x->ndim - (int)k;
    int ok = u->ndim == ur;
    for (int i = 0; ok && i < ur; i++) {
        int64_t want = i < ix->ndim - 1 ? ix->dims[i] : x->dims[(int)k + i - (ix->ndim - 1)];
        if (want >= 0 && u->dims[i] >= 0 && want != u->dims[i])
            ok = 0;
    }
    if (!ok)
        return dt_fail(st, DT_ESHAPE, "node '%s' (ScatterND): updates shape does not match indices and data",
                       n->name);
    dt_value_set(dt_node_out(g, n, 0), x->dtype, x->ndim, x->dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_scatter_nd(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                            int n_out, const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    const dt_tensor *x = in[0], *ix = in[1], *u = in[2];
    if (ix->ndim < 1 || !is_int_dtype(ix->dtype))
        return dt_fail(st, DT_EINVAL, "node '%s' (ScatterND): bad indices", n->name);
    int64_t k = ix->dims[ix->ndim - 1];
    if (k < 1 || k > x->ndim)
        return dt_fail(st, DT_ESHAPE, "node '%s' (ScatterND): bad index depth", n->name);
    int64_t nupd = prod(ix->dims, 0, ix->ndim - 1);
    int64_t slice = prod(x->dims, (int)k, x->ndim);
    size_t es = dt_dtype_size(x->dtype);
    if (dt_tensor_numel(u) != nupd * slice || u->dtype != x->dtype)
        return dt_fail(st, DT_ESHAPE, "node '%s' (ScatterND): updates size mismatch", n->name);
    int64_t xs[DT_MAX_DIMS];
    row_strides(x->ndim, x->dims, xs);
    /* validate every index before writing anything */
    for (int64_t j = 0; j < nupd * k; j++) {
        int64_t v = dt_tensor_get_i(ix, j), d = x->dims[j % k];
        if (v < -d || v >= d)
            return dt_fail(st, DT_EINVAL, "node '%s' (ScatterND): index %lld out of range for dim %lld", n->name,
                           (long long)v, (long long)d);
    }
    copy_same(x, out[0]);
    char *dst = out[0]->data;
    const char *src = u->data;
    for (int64_t j = 0; j < nupd; j++) {
        int64_t off = 0;
        for (int64_t i = 0; i < k; i++) {
            int64_t v = dt_tensor_get_i(ix, j * k + i);
            off += (v < 0 ? v + x->dims[i] : v) * xs[i];
        }
        memcpy(dst + (size_t)off * es, src + (size_t)(j * slice) * es, (size_t)slice * es);
    }
    return DT_OK;
}

/* ==== NonZero ============================================================ */

static int64_t count_nonzero(const dt_tensor *t)
{
    int64_t cnt = dt_tensor_numel(t), nz = 0;
    for (int64_t i = 0; i < cnt; i++)
        nz += dt_tensor_get_f(t, i) != 0.0;
    return nz;
}

static dt_code infer_nonzero(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    if (!dt_value_is_const(x))
        return dt_fail(st, DT_EUNSUPPORTED,
                       "node '%s' (NonZero): output shape depends on data; only constant inputs are supported",
                       n->name);
    dt_tensor t = dt_value_view(x);
    int64_t od[2] = {x->ndim ? x->ndim : 1, count_nonzero(&t)};
    dt_value_set(dt_node_out(g, n, 0), DT_I64, 2, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_nonzero(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                         const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    const dt_tensor *x = in[0];
    int r = x->ndim ? x->ndim : 1;
    int64_t nz = count_nonzero(x);
    if (out[0]->dtype != DT_I64 || out[0]->ndim != 2 || out[0]->dims[0] != r || out[0]->dims[1] != nz)
        return dt_fail(st, DT_ESHAPE, "node '%s' (NonZero): output shape does not match the data", n->name);
    int64_t *y = out[0]->data, cnt = dt_tensor_numel(x), idx[DT_MAX_DIMS] = {0}, j = 0;
    for (int64_t e = 0; e < cnt; e++) {
        if (dt_tensor_get_f(x, e) != 0.0) {
            for (int i = 0; i < r; i++)
                y[i * nz + j] = x->ndim ? idx[i] : 0;
            j++;
        }
        for (int i = x->ndim - 1; i >= 0; i--) {
            if (++idx[i] < x->dims[i])
                break;
            idx[i] = 0;
        }
    }
    return DT_OK;
}

/* ==== DepthToSpace / SpaceToDepth ======================================== */

/* Both ops are a 6-D transpose of the input; build the output-ordered dims
 * and source strides.  layout "NHWC" is TF's form (from the TF.js loader). */
static dt_code d2s_plan(const dt_node *n, const int64_t *xd, int64_t *od, int64_t *vd, int64_t *vs, dt_status *st)
{
    int64_t b = dt_attr_int(n, "blocksize", 0);
    int nhwc = strcmp(dt_attr_str(n, "layout", "NCHW"), "NHWC") == 0;
    int crd = strcmp(dt_attr_str(n, "mode", "DCR"), "CRD") == 0;
    int64_t N = xd[0], H = nhwc ? xd[1] : xd[2], W = nhwc ? xd[2] : xd[3], C = nhwc ? xd[3] : xd[1];
    if (b <= 0 || b > 4096)
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): blocksize %lld invalid", n->name, opn(n), (long long)b);
    if (N < 0 || H < 0 || W < 0 || C < 0)
        return dt_fail(st, DT_EUNSUPPORTED, "node '%s' (%s): unknown dims", n->name, opn(n));
    if (n->op == DT_OP_DepthToSpace) {
        if (C % (b * b))
            return dt_fail(st, DT_ESHAPE, "node '%s' (DepthToSpace): channels %lld not divisible by %lld", n->name,
                           (long long)C, (long long)(b * b));
        int64_t c = C / (b * b);
        /* channel index of (c, i, j): DCR (i*b + j)*c' + c, CRD c*b*b + i*b + j */
        int64_t si = crd ? b : b * c, sj = crd ? 1 : c, sc = crd ? b * b : 1;
        if (nhwc) {
            int64_t o[4] = {N, H * b, W * b, c};
            memcpy(od, o, sizeof o);
            int64_t d6[6] = {N, H, b, W, b, c}, s6[6] = {H * W * C, W * C, si, C, sj, sc};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        } else {
            int64_t o[4] = {N, c, H * b, W * b};
            memcpy(od, o, sizeof o);
            int64_t d6[6] = {N, c, H, b, W, b}, s6[6] = {C * H * W, sc * H * W, W, si * H * W, 1, sj * H * W};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        }
    } else {
        if (H % b || W % b)
            return dt_fail(st, DT_ESHAPE, "node '%s' (SpaceToDepth): %lldx%lld not divisible by %lld", n->name,
                           (long long)H, (long long)W, (long long)b);
        int64_t h = H / b, w = W / b;
        if (nhwc) {
            int64_t o[4] = {N, h, w, C * b * b};
            memcpy(od, o, sizeof o);
            int64_t d6[6] = {N, h, w, b, b, C}, s6[6] = {H * W * C, b * W * C, b * C, W * C, C, 1};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        } else {
            int64_t o[4] = {N, C * b * b, h, w};
            memcpy(od, o, sizeof o);
            int64_t d6[6] = {N, b, b, C, h, w}, s6[6] = {C * H * W, W, 1, H * W, b * W, b};
            memcpy(vd, d6, sizeof d6);
            memcpy(vs, s6, sizeof s6);
        }
    }
    return DT_OK;
}

static dt_code infer_d2s(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 1, 1, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *x = dt_node_in(g, n, 0);
    if ((rc = need_rank(n, x, "input", st)))
        return rc;
    if (x->ndim != 4)
        return dt_fail(st, DT_ESHAPE, "node '%s' (%s): input must be 4-D, is %d-D", n->name, opn(n), x->ndim);
    int64_t od[4], vd[6], vs[6];
    if ((rc = d2s_plan(n, x->dims, od, vd, vs, st)))
        return rc;
    dt_value_set(dt_node_out(g, n, 0), x->dtype, 4, od);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_d2s(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                     const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    const dt_tensor *x = in[0];
    int64_t od[4], vd[6], vs[6];
    if (x->ndim != 4)
        return dt_fail(st, DT_ESHAPE, "node '%s' (%s): input must be 4-D", n->name, opn(n));
    dt_code rc = d2s_plan(n, x->dims, od, vd, vs, st);
    if (rc)
        return rc;
    if (out[0]->ndim != 4 || memcmp(out[0]->dims, od, sizeof od))
        return dt_fail(st, DT_ESHAPE, "node '%s' (%s): output shape mismatch", n->name, opn(n));
    sc_run(ctx, 6, vd, vs, x->data, out[0]->data, dt_dtype_size(x->dtype));
    return DT_OK;
}

/* ==== SparseToDense (TF) ================================================= */

static dt_code infer_sparse_to_dense(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_code rc = check_arity(n, 4, 4, 1, 1, st);
    if (rc)
        return rc;
    const dt_value *ix = dt_node_in(g, n, 0), *v = dt_node_in(g, n, 2), *d = dt_node_in(g, n, 3);
    if ((rc = need_rank(n, ix, "sparse_indices", st)) || (rc = need_rank(n, v, "sparse_values", st)) ||
        (rc = need_rank(n, d, "default_value", st)))
        return rc;
    if (!is_int_dtype(ix->dtype) || ix->ndim > 2)
        return dt_fail(st, DT_EINVAL, "node '%s' (SparseToDense): sparse_indices must be an int 0/1/2-D tensor",
                       n->name);
    if (v->dtype != d->dtype)
        return dt_fail(st, DT_EINVAL, "node '%s' (SparseToDense): values and default differ in dtype", n->name);
    if (dt_shape_numel(d->ndim, d->dims) != 1 || v->ndim > 1)
        return dt_fail(st, DT_ESHAPE, "node '%s' (SparseToDense): default must be a scalar, values a vector",
                       n->name);
    dt_tensor t;
    int nd;
    int64_t dims[DT_MAX_DIMS];
    if ((rc = const_int_input(g, n, 1, "output_shape", &t, st)) ||
        (rc = shape_vec(n, &t, "output_shape", &nd, dims, st)))
        return rc;
    int64_t num_dims = ix->ndim > 1 ? ix->dims[1] : 1, num = ix->ndim > 0 ? ix->dims[0] : 1;
    if (num_dims >= 0 && num_dims != nd)
        return dt_fail(st, DT_ESHAPE, "node '%s' (SparseToDense): indices have %lld coordinates, output rank is %d",
                       n->name, (long long)num_dims, nd);
    if (v->ndim == 1 && v->dims[0] >= 0 && num >= 0 && v->dims[0] != num)
        return dt_fail(st, DT_ESHAPE, "node '%s' (SparseToDense): %lld values for %lld indices", n->name,
                       (long long)v->dims[0], (long long)num);
    dt_value_set(dt_node_out(g, n, 0), v->dtype, nd, dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static dt_code k_sparse_to_dense(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out,
                                 int n_out, const dt_kctx *ctx, dt_status *st)
{
    (void)n_in;
    (void)n_out;
    (void)ctx;
    const dt_tensor *ix = in[0], *v = in[2], *d = in[3];
    dt_tensor *y = out[0];
    size_t es = dt_dtype_size(y->dtype);
    int r = y->ndim;
    int64_t num_dims = ix->ndim > 1 ? ix->dims[1] : 1, num = ix->ndim > 0 ? ix->dims[0] : 1;
    int64_t nv = dt_tensor_numel(v);
    if (!is_int_dtype(ix->dtype) || num_dims != (r ? r : 1) || (nv != 1 && nv != num) || dt_tensor_numel(d) != 1 ||
        v->dtype != y->dtype || d->dtype != y->dtype || (r == 0 && num > 1))
        return dt_fail(st, DT_ESHAPE, "node '%s' (SparseToDense): inputs do not match the output", n->name);
    int64_t ys[DT_MAX_DIMS];
    row_strides(r, y->dims, ys);
    int64_t cnt = dt_tensor_numel(y);
    for (int64_t i = 0; i < cnt; i++)
        memcpy((char *)y->data + (size_t)i * es, d->data, es);
    for (int64_t j = 0; j < num; j++) {
        int64_t off = 0;
        for (int i = 0; i < r; i++) {
            int64_t c = dt_tensor_get_i(ix, j * num_dims + i);
            if (c < 0 || c >= y->dims[i])
                return dt_fail(st, DT_EINVAL, "node '%s' (SparseToDense): index %lld out of range for dim %lld",
                               n->name, (long long)c, (long long)y->dims[i]);
            off += c * ys[i];
        }
        memcpy((char *)y->data + (size_t)off * es, (const char *)v->data + (size_t)(nv == 1 ? 0 : j) * es, es);
    }
    return DT_OK;
}

/* ==== table ============================================================== */

const dt_opdef dt_opdefs_tensor[] = {
    {DT_OP_Concat, infer_concat, k_concat},
    {DT_OP_Split, infer_split, k_split},
    {DT_OP_Slice, infer_slice, k_slice},
    {DT_OP_Reshape, infer_reshape, k_copy},
    {DT_OP_Transpose, infer_transpose, k_transpose},
    {DT_OP_Flatten, infer_flatten, k_copy},
    {DT_OP_Squeeze, infer_squeeze, k_copy},
    {DT_OP_Unsqueeze, infer_unsqueeze, k_copy},
    {DT_OP_Gather, infer_gather, k_gather},
    {DT_OP_GatherElements, infer_gather_elements, k_gather_elements},
    {DT_OP_Shape, infer_shape, k_shape},
    {DT_OP_Size, infer_size, k_size},
    {DT_OP_ConstantOfShape, infer_constant_of_shape, k_constant_of_shape},
    {DT_OP_Expand, infer_expand, k_expand},
    {DT_OP_Range, infer_range, k_range},
    {DT_OP_Tile, infer_tile, k_tile},
    {DT_OP_ScatterND, infer_scatter_nd, k_scatter_nd},
    {DT_OP_NonZero, infer_nonzero, k_nonzero},
    {DT_OP_DepthToSpace, infer_d2s, k_d2s},
    {DT_OP_SpaceToDepth, infer_d2s, k_d2s},
    {DT_OP_SparseToDense, infer_sparse_to_dense, k_sparse_to_dense},
    {DT_OP_UNKNOWN, NULL, NULL},
};
