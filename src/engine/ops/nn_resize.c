/* nn_resize.c — Resize (opset 10 / 11+ / 18-19 forms) and Upsample (7, 9).
 *
 * One generic n-dimensional kernel: for every resized axis a table of taps
 * (input index + weight; 1 tap nearest, 2 linear, 4 cubic) is built per
 * output coordinate in scratch, then each output element sums the product
 * of its axes' taps.  Coordinate transforms, nearest rounding and the
 * opset <= 10 legacy behaviour (asymmetric, "simple" nearest) follow ONNX
 * Runtime's upsample code, in float32 like it, so nearest picks the same
 * pixels. */
#include <math.h>
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops/nn_internal.h"
#include "engine/ops/resize_params.h"

static int str_is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static dt_code rz_read_floats(const dt_node *n, const dt_tensor *t, const char *what, float *out, int cap, int *cnt,
                              dt_status *st)
{
    if (!t->data)
        return nn_fail(st, DT_EUNSUPPORTED, n, "input '%s' must be a constant", what);
    if (t->dtype != DT_F32)
        return nn_fail(st, DT_EINVAL, n, "input '%s' must be float32", what);
    int64_t c = dt_tensor_numel(t);
    if (c < 0 || c > cap)
        return nn_fail(st, DT_ESHAPE, n, "input '%s' has %lld values (at most %d)", what, (long long)c, cap);
    for (int64_t i = 0; i < c; i++)
        out[i] = ((const float *)t->data)[i];
    *cnt = (int)c;
    return DT_OK;
}

static int absent(const dt_tensor *t) { return !t || dt_tensor_numel(t) == 0; }

/* legacy: Upsample or Resize-10.  scales_attr: Upsample-7 attribute (NULL
 * otherwise).  Tensors may be NULL when the input is omitted. */
dt_code dt_rz_params_get(const dt_node *n, int legacy, int rank, const int64_t *dims, const dt_tensor *roi_t,
                         const dt_tensor *scales_t, const dt_tensor *sizes_t, dt_rz_params *p, dt_status *st)
{
    dt_code rc;
    memset(p, 0, sizeof *p);
    p->rank = rank;
    memcpy(p->in_dims, dims, (size_t)rank * sizeof(int64_t));
    const char *mode = dt_attr_str(n, "mode", "nearest");
    if (str_is(mode, "nearest"))
        p->mode = DT_RZ_NEAREST;
    else if (str_is(mode, "linear") || str_is(mode, "bilinear"))
        p->mode = DT_RZ_LINEAR;
    else if (str_is(mode, "cubic") && !legacy)
        p->mode = DT_RZ_CUBIC;
    else
        return nn_fail(st, DT_EUNSUPPORTED, n, "mode '%s' is not supported", mode);
    p->taps = p->mode == DT_RZ_NEAREST ? 1 : (p->mode == DT_RZ_LINEAR ? 2 : 4);
    int64_t axes_v[DT_MAX_DIMS];
    int n_axes = rank;
    for (int i = 0; i < rank; i++)
        axes_v[i] = i;
    if (legacy) {
        p->ct = DT_RZ_CT_ASYMMETRIC;
        p->nm = DT_RZ_NM_SIMPLE;
    } else {
        const char *ct = dt_attr_str(n, "coordinate_transformation_mode", "half_pixel");
        if (str_is(ct, "half_pixel"))
            p->ct = DT_RZ_CT_HALF_PIXEL;
        else if (str_is(ct, "half_pixel_symmetric"))
            p->ct = DT_RZ_CT_HALF_PIXEL_SYM;
        else if (str_is(ct, "pytorch_half_pixel"))
            p->ct = DT_RZ_CT_PYTORCH_HALF_PIXEL;
        else if (str_is(ct, "align_corners"))
            p->ct = DT_RZ_CT_ALIGN_CORNERS;
        else if (str_is(ct, "asymmetric"))
            p->ct = DT_RZ_CT_ASYMMETRIC;
        else if (str_is(ct, "tf_half_pixel_for_nn"))
            p->ct = DT_RZ_CT_TF_HALF_PIXEL_NN;
        else if (str_is(ct, "tf_crop_and_resize"))
            p->ct = DT_RZ_CT_TF_CROP_RESIZE;
        else
            return nn_fail(st, DT_EUNSUPPORTED, n, "coordinate_transformation_mode '%s' is not supported", ct);
        const char *nm = dt_attr_str(n, "nearest_mode", "round_prefer_floor");
        if (str_is(nm, "round_prefer_floor"))
            p->nm = DT_RZ_NM_ROUND_PREFER_FLOOR;
        else if (str_is(nm, "round_prefer_ceil"))
            p->nm = DT_RZ_NM_ROUND_PREFER_CEIL;
        else if (str_is(nm, "floor"))
            p->nm = DT_RZ_NM_FLOOR;
        else if (str_is(nm, "ceil"))
            p->nm = DT_RZ_NM_CEIL;
        else
            return nn_fail(st, DT_EUNSUPPORTED, n, "nearest_mode '%s' is not supported", nm);
        p->cubic_a = dt_attr_float(n, "cubic_coeff_a", -0.75f);
        p->exclude_outside = dt_attr_int(n, "exclude_outside", 0) != 0;
        p->extrap = dt_attr_float(n, "extrapolation_value", 0.f);
        if (dt_attr_int(n, "antialias", 0) != 0)
            return nn_fail(st, DT_EUNSUPPORTED, n, "antialias=1 is not supported");
        int na = 0;
        const int64_t *ax = dt_attr_ints(n, "axes", &na);
        if (ax) {
            if (na > rank)
                return nn_fail(st, DT_EINVAL, n, "axes has %d values for rank %d", na, rank);
            uint8_t seen[DT_MAX_DIMS] = {0};
            for (int i = 0; i < na; i++) {
                int a = dt_norm_axis(ax[i], rank);
                if (a < 0 || seen[a])
                    return nn_fail(st, DT_EINVAL, n, "bad or repeated axis %lld", (long long)ax[i]);
                seen[a] = 1;
                axes_v[i] = a;
            }
            n_axes = na;
        }
    }
    for (int i = 0; i < rank; i++) {
        p->scale[i] = 1.f;
        p->out_dims[i] = dims[i];
        p->roi_s[i] = 0.f;
        p->roi_e[i] = 1.f;
    }
    if (p->ct == DT_RZ_CT_TF_CROP_RESIZE && !absent(roi_t)) {
        float roi[2 * DT_MAX_DIMS];
        int nr;
        if ((rc = rz_read_floats(n, roi_t, "roi", roi, 2 * DT_MAX_DIMS, &nr, st)))
            return rc;
        if (nr != 2 * n_axes)
            return nn_fail(st, DT_ESHAPE, n, "roi has %d values, expected %d", nr, 2 * n_axes);
        for (int i = 0; i < n_axes; i++) {
            p->roi_s[axes_v[i]] = roi[i];
            p->roi_e[axes_v[i]] = roi[n_axes + i];
        }
    }
    const float *attr_scales = NULL;
    int n_attr_scales = 0;
    if (n->op == DT_OP_Upsample && absent(scales_t))
        attr_scales = dt_attr_floats(n, "scales", &n_attr_scales);
    if (!absent(scales_t) || attr_scales) {
        float sc[DT_MAX_DIMS];
        int ns = n_attr_scales;
        if (attr_scales) {
            if (ns > DT_MAX_DIMS)
                return nn_fail(st, DT_ESHAPE, n, "too many scales");
            memcpy(sc, attr_scales, (size_t)ns * sizeof(float));
        } else if ((rc = rz_read_floats(n, scales_t, "scales", sc, DT_MAX_DIMS, &ns, st))) {
            return rc;
        }
        if (ns != n_axes)
            return nn_fail(st, DT_ESHAPE, n, "scales has %d values, expected %d", ns, n_axes);
        for (int i = 0; i < n_axes; i++) {
            int a = (int)axes_v[i];
            if (!(sc[i] > 0.f))
                return nn_fail(st, DT_EINVAL, n, "scale %g must be > 0", (double)sc[i]);
            p->scale[a] = sc[i];
            /* float product truncated, as ONNX Runtime computes it; one
             * past int64 (a hostile scale) is refused, not cast (UB) */
            float od = sc[i] * (float)dims[a];
            if (dims[a] >= 0 && !(od < 0x1p62f))
                return nn_fail(st, DT_ELIMIT, n, "scale %g makes axis %d too large", (double)sc[i], a);
            p->out_dims[a] = dims[a] < 0 ? -1 : (int64_t)od;
        }
    } else if (!absent(sizes_t)) {
        int64_t sz[DT_MAX_DIMS];
        int ns;
        if ((rc = nn_const_ints(n, sizes_t, "sizes", sz, DT_MAX_DIMS, &ns, st)))
            return rc;
        if (ns != n_axes)
            return nn_fail(st, DT_ESHAPE, n, "sizes has %d values, expected %d", ns, n_axes);
        const char *pol = dt_attr_str(n, "keep_aspect_ratio_policy", "stretch");
        int keep = str_is(pol, "not_larger") ? 1 : (str_is(pol, "not_smaller") ? 2 : 0);
        if (!keep && !str_is(pol, "stretch"))
            return nn_fail(st, DT_EINVAL, n, "unknown keep_aspect_ratio_policy '%s'", pol);
        for (int i = 0; i < n_axes; i++) {
            int a = (int)axes_v[i];
            if (sz[i] < 0)
                return nn_fail(st, DT_EINVAL, n, "negative size %lld", (long long)sz[i]);
            if (dims[a] == 0)
                return nn_fail(st, DT_ESHAPE, n, "cannot resize an empty dim");
        }
        float common = keep == 1 ? INFINITY : 0.f;
        int known = 1;
        for (int i = 0; i < n_axes; i++) {
            int a = (int)axes_v[i];
            if (dims[a] < 0) {
                known = 0;
                continue;
            }
            float s = (float)sz[i] / (float)dims[a];
            if (keep == 1 && s < common)
                common = s;
            if (keep == 2 && s > common)
                common = s;
        }
        for (int i = 0; i < n_axes; i++) {
            int a = (int)axes_v[i];
            if (keep && !known) {
                p->out_dims[a] = -1;
            } else if (keep) {
                p->scale[a] = common;
                float od = roundf(common * (float)dims[a]);
                if (!(od < 0x1p62f))
                    return nn_fail(st, DT_ELIMIT, n, "sizes make axis %d too large", a);
                p->out_dims[a] = (int64_t)od;
            } else {
                p->out_dims[a] = sz[i];
                p->scale[a] = dims[a] > 0 ? (float)sz[i] / (float)dims[a] : 1.f;
            }
        }
    } else {
        return nn_fail(st, DT_EINVAL, n, "needs scales or sizes");
    }
    for (int i = 0; i < rank; i++) {
        int ident = p->out_dims[i] == dims[i] && p->scale[i] == 1.f &&
                    (p->ct != DT_RZ_CT_TF_CROP_RESIZE || (p->roi_s[i] == 0.f && p->roi_e[i] == 1.f));
        p->active[i] = !ident;
        if (p->active[i] && dims[i] == 0)
            return nn_fail(st, DT_ESHAPE, n, "cannot resize an empty dim");
    }
    return DT_OK;
}

/* Scratch: per active axis, int64 indices [out*taps], then float weights
 * [out*taps], then one "outside" byte per output coordinate. */
static size_t rz_scratch(const dt_rz_params *p, size_t *off_idx, size_t *off_w, size_t *off_f)
{
    size_t total = 0;
    for (int pass = 0; pass < 3; pass++)
        for (int a = 0; a < p->rank; a++) {
            if (!p->active[a] || p->out_dims[a] < 0)
                continue;
            size_t cnt = (size_t)p->out_dims[a] * (pass < 2 ? (size_t)p->taps : 1);
            size_t es = pass == 0 ? 8 : (pass == 1 ? 4 : 1);
            size_t *offs = pass == 0 ? off_idx : (pass == 1 ? off_w : off_f);
            if (offs)
                offs[a] = total;
            total += (cnt * es + 7) & ~(size_t)7;
        }
    return total;
}

static dt_code rz_infer_common(dt_graph *g, dt_node *n, int legacy, const dt_value *roi, const dt_value *scales,
                               const dt_value *sizes, dt_status *st)
{
    dt_value *x = dt_node_in(g, n, 0), *y = dt_node_out(g, n, 0);
    if (!x || !y)
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
    if (x->dtype != DT_F32)
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (got %s)", dt_dtype_name(x->dtype));
    if (x->ndim < 0)
        return nn_unknown_outputs(g, n, DT_F32);
    if (x->ndim < 1)
        return nn_fail(st, DT_ESHAPE, n, "input must have rank >= 1");
    dt_tensor t_roi, t_sc, t_sz;
    if (roi)
        t_roi = dt_value_view(roi);
    if (scales)
        t_sc = dt_value_view(scales);
    if (sizes)
        t_sz = dt_value_view(sizes);
    dt_rz_params p;
    dt_code rc = dt_rz_params_get(n, legacy, x->ndim, x->dims, roi ? &t_roi : NULL, scales ? &t_sc : NULL,
                               sizes ? &t_sz : NULL, &p, st);
    if (rc)
        return rc;
    dt_value_set(y, DT_F32, x->ndim, p.out_dims);
    n->scratch_bytes = rz_scratch(&p, NULL, NULL, NULL);
    return DT_OK;
}

dt_code dt_nn_infer_Resize(dt_graph *g, dt_node *n, dt_status *st)
{
    if (n->opset <= 10)
        return rz_infer_common(g, n, 1, NULL, dt_node_in(g, n, 1), NULL, st);
    return rz_infer_common(g, n, 0, dt_node_in(g, n, 1), dt_node_in(g, n, 2), dt_node_in(g, n, 3), st);
}

dt_code dt_nn_infer_Upsample(dt_graph *g, dt_node *n, dt_status *st)
{
    return rz_infer_common(g, n, 1, NULL, dt_node_in(g, n, 1), NULL, st);
}

static float rz_coord(const dt_rz_params *p, int a, float x)
{
    const float scale = p->scale[a];
    const float in_len = (float)p->in_dims[a], out_len = (float)p->out_dims[a];
    switch (p->ct) {
    case DT_RZ_CT_HALF_PIXEL: return (x + 0.5f) / scale - 0.5f;
    case DT_RZ_CT_HALF_PIXEL_SYM: {
        float adjustment = out_len / (scale * in_len);
        float center = in_len / 2.f;
        float offset = center * (1.f - adjustment);
        return offset + (x + 0.5f) / scale - 0.5f;
    }
    case DT_RZ_CT_PYTORCH_HALF_PIXEL: return out_len > 1.f ? (x + 0.5f) / scale - 0.5f : 0.f;
    case DT_RZ_CT_ALIGN_CORNERS: return out_len == 1.f ? 0.f : x * (in_len - 1.f) / (out_len - 1.f);
    case DT_RZ_CT_ASYMMETRIC: return x / scale;
    case DT_RZ_CT_TF_HALF_PIXEL_NN: return (x + 0.5f) / scale;
    case DT_RZ_CT_TF_CROP_RESIZE: {
        float s = p->roi_s[a], e = p->roi_e[a];
        return out_len > 1.f ? s * (in_len - 1.f) + (x * (e - s) * (in_len - 1.f)) / (out_len - 1.f)
                             : 0.5f * (s + e) * (in_len - 1.f);
    }
    }
    return x;
}

static int64_t rz_nearest(dt_rz_nm nm, float x, float scale)
{
    switch (nm) {
    case DT_RZ_NM_ROUND_PREFER_FLOOR:
        if (x == (float)(int64_t)x + 0.5f)
            return (int64_t)x;
        return (int64_t)roundf(x);
    case DT_RZ_NM_ROUND_PREFER_CEIL: return (int64_t)roundf(x);
    case DT_RZ_NM_FLOOR: return (int64_t)floorf(x);
    case DT_RZ_NM_CEIL: return (int64_t)ceilf(x);
    case DT_RZ_NM_SIMPLE: return scale < 1.f ? (int64_t)ceilf(x) : (int64_t)x;
    }
    return 0;
}

static int64_t clampi(int64_t v, int64_t hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

void dt_rz_fill_axis(const dt_rz_params *p, int a, int64_t *idx, float *w, uint8_t *outside)
{
    const int64_t in = p->in_dims[a], T = p->taps;
    for (int64_t o = 0; o < p->out_dims[a]; o++) {
        float x = rz_coord(p, a, (float)o);
        int64_t *ix = idx + o * T;
        float *wt = w + o * T;
        outside[o] = p->ct == DT_RZ_CT_TF_CROP_RESIZE && (x < 0.f || x > (float)(in - 1));
        if (p->mode == DT_RZ_NEAREST) {
            ix[0] = clampi(rz_nearest(p->nm, x, p->scale[a]), in - 1);
            wt[0] = 1.f;
        } else if (p->mode == DT_RZ_LINEAR) {
            float xc = x < 0.f ? 0.f : (x > (float)(in - 1) ? (float)(in - 1) : x);
            int64_t i0 = (int64_t)xc;
            if (i0 > in - 1)
                i0 = in - 1;
            ix[0] = i0;
            ix[1] = i0 + 1 < in ? i0 + 1 : in - 1;
            wt[1] = xc - (float)i0;
            wt[0] = 1.f - wt[1];
        } else {
            const float A = p->cubic_a;
            float fl = floorf(x), s = x - fl;
            int64_t xi = (int64_t)fl;
            float d[4] = {s + 1.f, s, 1.f - s, 2.f - s};
            float sum = 0.f;
            for (int k = 0; k < 4; k++) {
                float t = d[k], c;
                if (k == 0 || k == 3)
                    c = ((A * t - 5.f * A) * t + 8.f * A) * t - 4.f * A;
                else
                    c = ((A + 2.f) * t - (A + 3.f)) * t * t + 1.f;
                int64_t src = xi - 1 + k;
                if (p->exclude_outside && (src < 0 || src >= in))
                    c = 0.f;
                ix[k] = clampi(src, in - 1);
                wt[k] = c;
                sum += c;
            }
            if (p->exclude_outside && sum != 0.f)
                for (int k = 0; k < 4; k++)
                    wt[k] /= sum;
        }
    }
}

typedef struct rz_job {
    const float *x;
    float *y;
    const dt_rz_params *p;
    int64_t in_str[DT_MAX_DIMS];
    int n_act;
    int act[DT_MAX_DIMS];
    const int64_t *idx[DT_MAX_DIMS];
    const float *w[DT_MAX_DIMS];
    const uint8_t *outside[DT_MAX_DIMS];
} rz_job;

static void rz_task(void *arg, int64_t begin, int64_t end)
{
    const rz_job *j = arg;
    const dt_rz_params *p = j->p;
    const int T = p->taps;
    for (int64_t t = begin; t < end; t++) {
        int64_t coord[DT_MAX_DIMS], rem = t, base = 0;
        for (int d = p->rank - 1; d >= 0; d--) {
            coord[d] = rem % p->out_dims[d];
            rem /= p->out_dims[d];
            if (!p->active[d])
                base += coord[d] * j->in_str[d];
        }
        int out = 0;
        for (int k = 0; k < j->n_act; k++)
            out |= j->outside[k][coord[j->act[k]]];
        if (out) {
            j->y[t] = p->extrap;
            continue;
        }
        /* odometer over taps of every active axis */
        int tap[DT_MAX_DIMS] = {0};
        float sum = 0.f;
        for (;;) {
            int64_t off = base;
            float w = 1.f;
            for (int k = 0; k < j->n_act; k++) {
                int a = j->act[k];
                int64_t e = coord[a] * T + tap[k];
                off += j->idx[k][e] * j->in_str[a];
                w *= j->w[k][e];
            }
            sum += w * j->x[off];
            int k = j->n_act - 1;
            while (k >= 0 && ++tap[k] == T)
                tap[k--] = 0;
            if (k < 0)
                break;
        }
        j->y[t] = sum;
    }
}

static dt_code rz_ref_common(const dt_node *n, int legacy, const dt_tensor *x, const dt_tensor *roi,
                             const dt_tensor *scales, const dt_tensor *sizes, dt_tensor *y, const dt_kctx *ctx,
                             dt_status *st)
{
    dt_code rc;
    if ((rc = nn_need_f32(n, x, "X", st)))
        return rc;
    dt_rz_params p;
    if ((rc = dt_rz_params_get(n, legacy, x->ndim, x->dims, roi, scales, sizes, &p, st)))
        return rc;
    if (!y || y->ndim != x->ndim || memcmp(y->dims, p.out_dims, (size_t)x->ndim * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    int64_t total = dt_tensor_numel(y);
    if (total == 0)
        return DT_OK;
    size_t off_idx[DT_MAX_DIMS], off_w[DT_MAX_DIMS], off_f[DT_MAX_DIMS];
    size_t need = rz_scratch(&p, off_idx, off_w, off_f);
    if (need && (!ctx || !ctx->scratch || ctx->scratch_bytes < need))
        return nn_fail(st, DT_EINTERNAL, n, "scratch of %zu bytes missing", need);
    rz_job j;
    memset(&j, 0, sizeof j);
    j.x = x->data;
    j.y = y->data;
    j.p = &p;
    nn_strides(x->ndim, x->dims, j.in_str);
    for (int a = 0; a < p.rank; a++) {
        if (!p.active[a])
            continue;
        uint8_t *s = ctx->scratch;
        int64_t *idx = (int64_t *)(s + off_idx[a]);
        float *w = (float *)(s + off_w[a]);
        uint8_t *f = s + off_f[a];
        dt_rz_fill_axis(&p, a, idx, w, f);
        j.act[j.n_act] = a;
        j.idx[j.n_act] = idx;
        j.w[j.n_act] = w;
        j.outside[j.n_act] = f;
        j.n_act++;
    }
    dt_pool_for(ctx ? ctx->pool : NULL, total, 256, rz_task, &j);
    return DT_OK;
}

dt_code dt_nn_ref_Resize(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                         const dt_kctx *ctx, dt_status *st)
{
    if (n_in < 1 || !in[0] || n_out < 1)
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
#define IN(i) (n_in > (i) ? in[i] : NULL)
    if (n->opset <= 10)
        return rz_ref_common(n, 1, in[0], NULL, IN(1), NULL, out[0], ctx, st);
    return rz_ref_common(n, 0, in[0], IN(1), IN(2), IN(3), out[0], ctx, st);
}

dt_code dt_nn_ref_Upsample(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                           const dt_kctx *ctx, dt_status *st)
{
    if (n_in < 1 || !in[0] || n_out < 1)
        return nn_fail(st, DT_EINVAL, n, "needs input X and output Y");
    return rz_ref_common(n, 1, in[0], NULL, IN(1), NULL, out[0], ctx, st);
#undef IN
}
