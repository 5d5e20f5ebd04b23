/* nn_gemm.c — MatMul (numpy semantics: batched broadcast, 1-D operands) and
 * Gemm (alpha, beta, transA/B, broadcast C).  Both apply the fused activation
 * attributes.  Kernels are naive row loops, one task per output row. */
#include <string.h>

#include "engine/cpu/pool.h"
#include "engine/ops/nn_internal.h"
#include "engine/ops/op_util.h"

/* Broadcast two dims where -1 means unknown. */
static int bcast_dim(int64_t a, int64_t b, int64_t *out)
{
    if (a == b)
        *out = a;
    else if (a == 1)
        *out = b;
    else if (b == 1)
        *out = a;
    else if (a < 0)
        *out = b;
    else if (b < 0)
        *out = a;
    else
        return 0;
    return 1;
}

typedef struct mm_shape {
    int nb;                       /* batch rank of the output */
    int64_t bdims[DT_MAX_DIMS];   /* broadcast batch dims */
    int64_t a_bstr[DT_MAX_DIMS];  /* A batch strides (0 where broadcast) */
    int64_t b_bstr[DT_MAX_DIMS];
    int64_t M, K, N;
    int out_nd;
    int64_t out_dims[DT_MAX_DIMS];
} mm_shape;

static dt_code mm_shape_get(const dt_node *n, int and_, const int64_t *ad, int bnd, const int64_t *bd, mm_shape *ms,
                            dt_status *st)
{
    memset(ms, 0, sizeof *ms);
    if (and_ < 1 || bnd < 1)
        return nn_fail(st, DT_ESHAPE, n, "operands must have rank >= 1 (got %d and %d)", and_, bnd);
    int64_t a[DT_MAX_DIMS + 1], b[DT_MAX_DIMS + 1];
    int ra = and_, rb = bnd;
    if (ra == 1) {
        a[0] = 1;
        a[1] = ad[0];
        ra = 2;
    } else {
        memcpy(a, ad, (size_t)ra * sizeof(int64_t));
    }
    if (rb == 1) {
        b[0] = bd[0];
        b[1] = 1;
        rb = 2;
    } else {
        memcpy(b, bd, (size_t)rb * sizeof(int64_t));
    }
    ms->M = a[ra - 2];
    ms->K = a[ra - 1];
    ms->N = b[rb - 1];
    if (ms->K >= 0 && b[rb - 2] >= 0 && ms->K != b[rb - 2])
        return nn_fail(st, DT_ESHAPE, n, "inner dims differ (%lld vs %lld)", (long long)ms->K, (long long)b[rb - 2]);
    if (ms->K < 0)
        ms->K = b[rb - 2];
    int na = ra - 2, nbb = rb - 2;
    ms->nb = na > nbb ? na : nbb;
    if (ms->nb + 2 > DT_MAX_DIMS)
        return nn_fail(st, DT_ESHAPE, n, "rank too large");
    int64_t astr = ms->M * ms->K, bstr = ms->K * ms->N;
    for (int i = ms->nb - 1; i >= 0; i--) {
        int ia = i - (ms->nb - na), ib = i - (ms->nb - nbb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (!bcast_dim(da, db, &ms->bdims[i]))
            return nn_fail(st, DT_ESHAPE, n, "batch dims cannot broadcast (%lld vs %lld)", (long long)da,
                           (long long)db);
        ms->a_bstr[i] = da == 1 ? 0 : astr;
        ms->b_bstr[i] = db == 1 ? 0 : bstr;
        astr *= da;
        bstr *= db;
    }
    int k = 0;
    for (int i = 0; i < ms->nb; i++)
        ms->out_dims[k++] = ms->bdims[i];
    if (and_ > 1)
        ms->out_dims[k++] = ms->M;
    if (bnd > 1)
        ms->out_dims[k++] = ms->N;
    ms->out_nd = k;
    return DT_OK;
}

dt_code dt_nn_infer_MatMul(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *a = dt_node_in(g, n, 0), *b = dt_node_in(g, n, 1), *y = dt_node_out(g, n, 0);
    if (!a || !b || !y)
        return nn_fail(st, DT_EINVAL, n, "needs inputs A, B and output Y");
    if (a->dtype != DT_F32 || b->dtype != DT_F32)
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported (got %s, %s)", dt_dtype_name(a->dtype),
                       dt_dtype_name(b->dtype));
    if (a->ndim < 0 || b->ndim < 0)
        return nn_unknown_outputs(g, n, DT_F32);
    mm_shape ms;
    dt_code rc = mm_shape_get(n, a->ndim, a->dims, b->ndim, b->dims, &ms, st);
    if (rc)
        return rc;
    dt_value_set(y, DT_F32, ms.out_nd, ms.out_dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

typedef struct mm_job {
    const float *a, *b, *c;
    float *y;
    mm_shape ms;
    /* Gemm */
    int ta, tb;
    float alpha, beta;
    int64_t c_rs, c_cs; /* C row / column strides (0 = broadcast) */
    dt_act_params act;
} mm_job;

static void mm_task(void *arg, int64_t begin, int64_t end)
{
    const mm_job *j = arg;
    const mm_shape *ms = &j->ms;
    for (int64_t t = begin; t < end; t++) {
        int64_t bi = t / ms->M, i = t % ms->M;
        int64_t aoff = 0, boff = 0, rem = bi;
        for (int d = ms->nb - 1; d >= 0; d--) {
            int64_t idx = rem % ms->bdims[d];
            rem /= ms->bdims[d];
            aoff += idx * ms->a_bstr[d];
            boff += idx * ms->b_bstr[d];
        }
        const float *ar = j->a + aoff + i * ms->K;
        const float *bm = j->b + boff;
        float *yr = j->y + t * ms->N;
        for (int64_t c = 0; c < ms->N; c++)
            yr[c] = 0.f;
        for (int64_t k = 0; k < ms->K; k++) {
            const float av = ar[k];
            const float *br = bm + k * ms->N;
            for (int64_t c = 0; c < ms->N; c++)
                yr[c] += av * br[c];
        }
        if (j->act.kind != DT_ACT_NONE)
            for (int64_t c = 0; c < ms->N; c++)
                yr[c] = dt_act_apply1(&j->act, yr[c]);
    }
}

dt_code dt_nn_ref_MatMul(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                         const dt_kctx *ctx, dt_status *st)
{
    dt_code rc;
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs inputs A, B and output Y");
    if ((rc = nn_need_f32(n, in[0], "A", st)) || (rc = nn_need_f32(n, in[1], "B", st)))
        return rc;
    mm_job j;
    memset(&j, 0, sizeof j);
    if ((rc = mm_shape_get(n, in[0]->ndim, in[0]->dims, in[1]->ndim, in[1]->dims, &j.ms, st)))
        return rc;
    if (out[0]->ndim != j.ms.out_nd || memcmp(out[0]->dims, j.ms.out_dims, (size_t)j.ms.out_nd * sizeof(int64_t)))
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    j.a = in[0]->data;
    j.b = in[1]->data;
    j.y = out[0]->data;
    j.act = dt_act_from_node(n);
    int64_t batch = dt_shape_numel(j.ms.nb, j.ms.bdims);
    dt_pool_for(ctx ? ctx->pool : NULL, batch * j.ms.M, 1, mm_task, &j);
    return DT_OK;
}

/* ---- Gemm ---------------------------------------------------------------- */

typedef struct gemm_shape {
    int64_t M, K, N;
    int64_t c_rs, c_cs;
    int has_c;
} gemm_shape;

static dt_code gemm_shape_get(const dt_node *n, int and_, const int64_t *ad, int bnd, const int64_t *bd, int cnd,
                              const int64_t *cd, gemm_shape *gs, dt_status *st)
{
    memset(gs, 0, sizeof *gs);
    if (and_ != 2 || bnd != 2)
        return nn_fail(st, DT_ESHAPE, n, "A and B must be 2-D (got rank %d and %d)", and_, bnd);
    int ta = dt_attr_int(n, "transA", 0) != 0, tb = dt_attr_int(n, "transB", 0) != 0;
    gs->M = ta ? ad[1] : ad[0];
    gs->K = ta ? ad[0] : ad[1];
    int64_t kb = tb ? bd[1] : bd[0];
    gs->N = tb ? bd[0] : bd[1];
    if (gs->K >= 0 && kb >= 0 && gs->K != kb)
        return nn_fail(st, DT_ESHAPE, n, "inner dims differ (%lld vs %lld)", (long long)gs->K, (long long)kb);
    if (gs->K < 0)
        gs->K = kb;
    if (cnd >= 0) {
        gs->has_c = 1;
        if (cnd > 2)
            return nn_fail(st, DT_ESHAPE, n, "C must have rank <= 2 (got %d)", cnd);
        int64_t cm = cnd == 2 ? cd[0] : 1, cn = cnd >= 1 ? cd[cnd - 1] : 1;
        if ((cm != 1 && cm >= 0 && gs->M >= 0 && cm != gs->M) || (cn != 1 && cn >= 0 && gs->N >= 0 && cn != gs->N))
            return nn_fail(st, DT_ESHAPE, n, "C [%lld,%lld] does not broadcast to [%lld,%lld]", (long long)cm,
                           (long long)cn, (long long)gs->M, (long long)gs->N);
        gs->c_cs = cn == 1 ? 0 : 1;
        gs->c_rs = cm == 1 ? 0 : cn;
    }
    return DT_OK;
}

dt_code dt_nn_infer_Gemm(dt_graph *g, dt_node *n, dt_status *st)
{
    dt_value *a = dt_node_in(g, n, 0), *b = dt_node_in(g, n, 1), *c = dt_node_in(g, n, 2);
    dt_value *y = dt_node_out(g, n, 0);
    if (!a || !b || !y)
        return nn_fail(st, DT_EINVAL, n, "needs inputs A, B and output Y");
    if (a->dtype != DT_F32 || b->dtype != DT_F32 || (c && c->dtype != DT_F32))
        return nn_fail(st, DT_EUNSUPPORTED, n, "only float32 is supported");
    if (a->ndim < 0 || b->ndim < 0 || (c && c->ndim < 0))
        return nn_unknown_outputs(g, n, DT_F32);
    gemm_shape gs;
    dt_code rc = gemm_shape_get(n, a->ndim, a->dims, b->ndim, b->dims, c ? c->ndim : -1, c ? c->dims : NULL, &gs, st);
    if (rc)
        return rc;
    int64_t dims[2] = {gs.M, gs.N};
    dt_value_set(y, DT_F32, 2, dims);
    n->scratch_bytes = 0;
    return DT_OK;
}

static void gemm_task(void *arg, int64_t begin, int64_t end)
{
    const mm_job *j = arg;
    const int64_t K = j->ms.K, N = j->ms.N, M = j->ms.M;
    for (int64_t i = begin; i < end; i++) {
        float *yr = j->y + i * N;
        for (int64_t c = 0; c < N; c++)
            yr[c] = 0.f;
        for (int64_t k = 0; k < K; k++) {
            const float av = j->ta ? j->a[k * M + i] : j->a[i * K + k];
            if (j->tb)
                for (int64_t c = 0; c < N; c++)
                    yr[c] += av * j->b[c * K + k];
            else
                for (int64_t c = 0; c < N; c++)
                    yr[c] += av * j->b[k * N + c];
        }
        for (int64_t c = 0; c < N; c++) {
            float v = j->alpha * yr[c];
            if (j->c)
                v += j->beta * j->c[i * j->c_rs + c * j->c_cs];
            yr[c] = dt_act_apply1(&j->act, v);
        }
    }
}

dt_code dt_nn_ref_Gemm(const dt_node *n, const dt_tensor *const *in, int n_in, dt_tensor *const *out, int n_out,
                       const dt_kctx *ctx, dt_status *st)
{
    dt_code rc;
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1 || !out[0])
        return nn_fail(st, DT_EINVAL, n, "needs inputs A, B and output Y");
    const dt_tensor *c = n_in > 2 ? in[2] : NULL;
    if ((rc = nn_need_f32(n, in[0], "A", st)) || (rc = nn_need_f32(n, in[1], "B", st)) ||
        (c && (rc = nn_need_f32(n, c, "C", st))))
        return rc;
    gemm_shape gs;
    if ((rc = gemm_shape_get(n, in[0]->ndim, in[0]->dims, in[1]->ndim, in[1]->dims, c ? c->ndim : -1,
                             c ? c->dims : NULL, &gs, st)))
        return rc;
    if (out[0]->ndim != 2 || out[0]->dims[0] != gs.M || out[0]->dims[1] != gs.N)
        return nn_fail(st, DT_ESHAPE, n, "output view does not have the inferred shape");
    mm_job j;
    memset(&j, 0, sizeof j);
    j.a = in[0]->data;
    j.b = in[1]->data;
    j.c = c ? c->data : NULL;
    j.y = out[0]->data;
    j.ms.M = gs.M;
    j.ms.K = gs.K;
    j.ms.N = gs.N;
    j.ta = dt_attr_int(n, "transA", 0) != 0;
    j.tb = dt_attr_int(n, "transB", 0) != 0;
    j.alpha = dt_attr_float(n, "alpha", 1.f);
    j.beta = dt_attr_float(n, "beta", 1.f);
    j.c_rs = gs.c_rs;
    j.c_cs = gs.c_cs;
    j.act = dt_act_from_node(n);
    dt_pool_for(ctx ? ctx->pool : NULL, gs.M, 1, gemm_task, &j);
    return DT_OK;
}
