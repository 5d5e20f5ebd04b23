/* cu_emu.c — the CUDA steps run on the CPU.
 *
 * Every kernel step calls the same element functions (cu_kern.h) the GPU
 * kernels call, one element at a time; cuDNN and cuBLAS steps run naive
 * loops driven by exactly the descriptor / argument values the executor
 * hands to those libraries, and TopK follows the GPU's chunked passes.  The
 * unit tests compare this against the reference kernels, which checks the
 * plan translation and index math without a GPU. */
#include <string.h>

#include "engine/cuda/cu_plan.h"

static dt_code emu_conv(const dt_cu_step *s)
{
    const dt_cu_conv *c = &s->u.cv;
    dt_cu_conv_desc d;
    dt_cu_conv_desc_get(c, &d);
    const float *x = s->ptr[0], *w = s->ptr[1], *bias = s->ptr[2];
    float *y = s->ptr[3];
    const int N = d.x_dims[0], C = d.x_dims[1], H = d.x_dims[2], W = d.x_dims[3];
    const int K = d.w_dims[0], Cg = d.w_dims[1], R = d.w_dims[2], S = d.w_dims[3];
    const int P = d.y_dims[2], Q = d.y_dims[3], Kg = K / d.group;
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    float acc = 0.f;
                    int g = k / Kg;
                    for (int c0 = 0; c0 < Cg; c0++)
                        for (int r = 0; r < R; r++)
                            for (int t = 0; t < S; t++) {
                                int h = p * d.str[0] - d.pad[0] + r * d.dil[0];
                                int ww = q * d.str[1] - d.pad[1] + t * d.dil[1];
                                if (h < 0 || h >= H || ww < 0 || ww >= W)
                                    continue;
                                int ci = g * Cg + c0;
                                size_t xi = d.x_nhwc ? (((size_t)n * H + h) * W + ww) * C + ci
                                                     : (((size_t)n * C + ci) * H + h) * W + ww;
                                size_t wi = d.w_nhwc ? (((size_t)k * R + r) * S + t) * Cg + c0
                                                     : (((size_t)k * Cg + c0) * R + r) * S + t;
                                acc += x[xi] * w[wi];
                            }
                    if (c->fuse_relu) {
                        acc += bias[k];
                        acc = acc > 0.f ? acc : 0.f;
                    }
                    size_t yi = d.x_nhwc ? (((size_t)n * P + p) * Q + q) * K + k : (((size_t)n * K + k) * P + p) * Q + q;
                    y[yi] = acc;
                }
    return DT_OK;
}

/* cudnnConvolutionBackwardData: scatter every dy element through the
 * filter into dx (zeroed first: beta = 0). */
static dt_code emu_convt(const dt_cu_step *s)
{
    const dt_cu_conv *c = &s->u.cv;
    dt_cu_conv_desc d;
    dt_cu_conv_desc_get(c, &d);
    const float *dy = s->ptr[0], *w = s->ptr[1];
    float *dx = s->ptr[3];
    const int N = d.x_dims[0], C = d.x_dims[1], H = d.x_dims[2], W = d.x_dims[3];
    const int K = d.w_dims[0], Cg = d.w_dims[1], R = d.w_dims[2], S = d.w_dims[3];
    const int P = d.y_dims[2], Q = d.y_dims[3], Kg = K / d.group;
    memset(dx, 0, (size_t)N * C * H * W * sizeof(float));
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    size_t yi = d.x_nhwc ? (((size_t)n * P + p) * Q + q) * K + k : (((size_t)n * K + k) * P + p) * Q + q;
                    float v = dy[yi];
                    int g = k / Kg;
                    for (int c0 = 0; c0 < Cg; c0++)
                        for (int r = 0; r < R; r++)
                            for (int t = 0; t < S; t++) {
                                int h = p * d.str[0] - d.pad[0] + r * d.dil[0];
                                int ww = q * d.str[1] - d.pad[1] + t * d.dil[1];
                                if (h < 0 || h >= H || ww < 0 || ww >= W)
                                    continue;
                                int ci = g * Cg + c0;
                                size_t xi = d.x_nhwc ? (((size_t)n * H + h) * W + ww) * C + ci
                                                     : (((size_t)n * C + ci) * H + h) * W + ww;
                                size_t wi = d.w_nhwc ? (((size_t)k * R + r) * S + t) * Cg + c0
                                                     : (((size_t)k * Cg + c0) * R + r) * S + t;
                                dx[xi] += v * w[wi];
                            }
                }
    return DT_OK;
}

/* Column-major SGEMM as cuBLAS defines it, one matrix of the batch. */
static void sgemm_cm(int ta, int tb, int m, int n, int k, float alpha, const float *A, int lda, const float *B,
                     int ldb, float beta, float *C, int ldc)
{
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double acc = 0.0;
            for (int l = 0; l < k; l++) {
                float a = ta ? A[l + (size_t)i * lda] : A[i + (size_t)l * lda];
                float b = tb ? B[j + (size_t)l * ldb] : B[l + (size_t)j * ldb];
                acc += (double)a * b;
            }
            float *c = &C[i + (size_t)j * ldc];
            *c = beta == 0.f ? alpha * (float)acc : alpha * (float)acc + beta * *c;
        }
}

static dt_code emu_gemm(const dt_cu_step *s, dt_status *st)
{
    const dt_cu_gemm *g = &s->u.gm;
    dt_cu_blas_args a;
    dt_code rc = dt_cu_gemm_blas_args(g, &a, st);
    if (rc)
        return rc;
    const float *A = s->ptr[0], *B = s->ptr[1];
    float *Y = s->ptr[2];
    for (int o = 0; o < g->n_outer; o++)
        for (int b = 0; b < a.batch; b++)
            sgemm_cm(a.trans_first, a.trans_second, a.m, a.n, a.k, g->alpha,
                     B + g->ob[o] + (size_t)b * (size_t)a.stride_first, a.ld_first,
                     A + g->oa[o] + (size_t)b * (size_t)a.stride_second, a.ld_second, g->beta,
                     Y + g->oy[o] + (size_t)b * (size_t)a.stride_c, a.ldc);
    return DT_OK;
}

/* The GPU's TopK passes, with a sequential selection per group. */
static void emu_topk(const dt_cu_step *s)
{
    const dt_cu_topk *p = &s->u.tk;
    dt_cu_topk_cand *buf[2];
    size_t bsz = dt_cu_topk_buf_bytes(p);
    buf[0] = (dt_cu_topk_cand *)s->ptr[3];
    buf[1] = (dt_cu_topk_cand *)((char *)s->ptr[3] + bsz);
    dt_cu_topk_cand tmp[DT_CU_TOPK_CHUNK];
    for (int pass = 0; pass < p->n_pass; pass++) {
        const dt_cu_topk_cand *src = pass ? buf[(pass - 1) & 1] : NULL;
        dt_cu_topk_cand *dst = buf[pass & 1];
        int64_t cnt = p->count[pass], next = p->count[pass + 1];
        int last = pass == p->n_pass - 1;
        for (int64_t line = 0; line < p->lines; line++)
            for (int64_t g = 0; g < p->groups[pass]; g++) {
                int64_t lo = g * DT_CU_TOPK_CHUNK, hi = lo + DT_CU_TOPK_CHUNK < cnt ? lo + DT_CU_TOPK_CHUNK : cnt;
                int m = (int)(hi - lo);
                for (int j = 0; j < m; j++)
                    tmp[j] = pass ? src[line * cnt + lo + j] : dt_cu_topk_load(p, s->ptr[0], line, lo + j);
                for (int64_t r = 0; r < p->k; r++) {
                    int best = -1;
                    for (int j = 0; j < m; j++)
                        if (tmp[j].idx >= 0 &&
                            (best < 0 || dt_cu_topk_before(&tmp[j], &tmp[best], p->dt == DT_CU_I64, p->largest)))
                            best = j;
                    dt_cu_topk_cand c;
                    if (best >= 0) {
                        c = tmp[best];
                        tmp[best].idx = -1;
                    } else {
                        c.v.i = 0;
                        c.idx = -1;
                    }
                    if (last)
                        dt_cu_topk_store(p, s->ptr[1], (int64_t *)s->ptr[2], line, r, &c);
                    else
                        dst[line * next + g * p->k + r] = c;
                }
            }
    }
}

dt_code dt_cu_step_emulate(const dt_cu_step *s, const dt_graph *g, dt_status *st)
{
    const char *node = g && s->node >= 0 && s->node < g->n_nodes ? g->nodes[s->node].name : "?";
    switch (s->kind) {
    case DT_CU_NOP: break;
    case DT_CU_MEMCPY: memmove(s->ptr[1], s->ptr[0], (size_t)s->bytes); break;
    case DT_CU_UNARY:
        for (int64_t i = 0; i < s->u.u.n; i++)
            dt_cu_unary_elem(&s->u.u, s->ptr[0], s->ptr[1], i);
        break;
    case DT_CU_BINARY:
        for (int64_t i = 0; i < s->u.b.bc.n; i++)
            dt_cu_binary_elem(&s->u.b, s->ptr[0], s->ptr[1], s->ptr[2], i);
        break;
    case DT_CU_WHERE:
        for (int64_t i = 0; i < s->u.w.bc.n; i++)
            dt_cu_where_elem(&s->u.w, s->ptr[0], s->ptr[1], s->ptr[2], s->ptr[3], i);
        break;
    case DT_CU_COPY:
        for (int64_t i = 0; i < s->u.c.n; i++) {
            int64_t so, dof;
            dt_cu_copy_offsets(&s->u.c, i, &so, &dof);
            dt_cu_copy_elem_bytes(s->ptr[1], dof, s->ptr[0], so, s->u.c.es);
        }
        break;
    case DT_CU_CHAN:
        for (int64_t i = 0; i < s->u.ch.n; i++)
            ((float *)s->ptr[1])[i] = dt_cu_chan_elem(&s->u.ch, s->ptr[2], s->ptr[3], ((const float *)s->ptr[0])[i], i);
        break;
    case DT_CU_POOL:
        for (int64_t i = 0; i < s->u.p.n; i++)
            ((float *)s->ptr[1])[i] = dt_cu_pool_elem(&s->u.p, s->ptr[0], i);
        break;
    case DT_CU_RESIZE:
        for (int64_t i = 0; i < s->u.r.n; i++)
            ((float *)s->ptr[1])[i] = dt_cu_resize_elem(&s->u.r, s->ptr[0], s->ptr[2], i);
        break;
    case DT_CU_PAD:
        for (int64_t i = 0; i < s->u.pd.n; i++)
            dt_cu_pad_elem(&s->u.pd, s->ptr[0], s->ptr[1], i);
        break;
    case DT_CU_SOFTMAX:
        for (int64_t i = 0; i < s->u.sm.lines; i++)
            dt_cu_softmax_line(&s->u.sm, s->ptr[0], s->ptr[1], i);
        break;
    case DT_CU_REDUCE:
        for (int64_t i = 0; i < s->u.rd.n; i++)
            dt_cu_reduce_elem(&s->u.rd, s->ptr[0], s->ptr[1], i);
        break;
    case DT_CU_ARG:
        for (int64_t i = 0; i < s->u.a.lines; i++)
            ((int64_t *)s->ptr[1])[i] = dt_cu_arg_line(&s->u.a, s->ptr[0], i);
        break;
    case DT_CU_GATHER:
        for (int64_t i = 0; i < s->u.g.n; i++)
            if (!dt_cu_gather_elem(&s->u.g, s->ptr[0], s->ptr[1], s->ptr[2], i))
                return dt_fail(st, DT_EINVAL, "node '%s' (Gather): index out of range", node);
        break;
    case DT_CU_GATHER_EL:
        for (int64_t i = 0; i < s->u.ge.n; i++)
            if (!dt_cu_gather_el_elem(&s->u.ge, s->ptr[0], s->ptr[1], s->ptr[2], i))
                return dt_fail(st, DT_EINVAL, "node '%s' (GatherElements): index out of range", node);
        break;
    case DT_CU_NORM:
        for (int64_t i = 0; i < s->u.nm.n; i++) {
            if (s->u.nm.lrn)
                ((float *)s->ptr[1])[i] = dt_cu_lrn_elem(&s->u.nm, s->ptr[0], i);
            else
                dt_cu_instnorm_plane(&s->u.nm, s->ptr[0], s->ptr[1], s->ptr[2], s->ptr[3], i);
        }
        break;
    case DT_CU_TOPK: emu_topk(s); break;
    case DT_CU_CONV: return emu_conv(s);
    case DT_CU_GEMM: return emu_gemm(s, st);
    case DT_CU_CONVT: return emu_convt(s);
    default: return dt_fail(st, DT_EINTERNAL, "node '%s': unknown step kind %d", node, s->kind);
    }
    return DT_OK;
}

dt_code dt_cu_plan_emulate(const dt_cu_plan *p, dt_status *st)
{
    for (int i = 0; i < p->n_steps; i++) {
        dt_code rc = dt_cu_step_emulate(&p->steps[i], p->g, st);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}
