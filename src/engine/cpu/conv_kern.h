/* conv_kern.h — the convolution kernels, written once over a small vector
 * abstraction and instantiated by conv_generic.c (1 lane), conv_avx2.c
 * (8 lanes) and conv_avx512.c (16 lanes).  Include it after defining:
 *
 *   VL                 lanes per vector
 *   vf, vmk            vector and lane-mask types
 *   PA_MR, PA_NV       NCHW micro-kernel: rows (output channels) x vectors (pixels)
 *   RA_ROWS, RA_NV     NHWC micro-kernels: up to RA_NV vectors (output channels) wide,
 *                      rows (pixels) per call by width, RA_ROWS a multiple of each
 *   PA_LIST(X, T)      X(mr, nv, T) for every 1 <= mr <= PA_MR, 1 <= nv <= PA_NV
 *   RA_LIST(X, T)      X(mr, nv, T) for each 1 <= nv <= RA_NV with its rows mr
 *   ISA_FN(name)       name##_<isa>
 *   vzero() vset1(f) vload(p) vloadm(p, m) vstore(p, v) vstorem(p, m, v)
 *   vbcast(p) vadd vsub vmul vmin vmax vfma(a, b, c) = a*b+c, vfnma(a, b, c) = c-a*b
 *   vround(v) (to nearest)  vscale2(v, n) (v * 2^n, n integral in a float vector)
 *   vrcp(v) (1/v to ~1e-7)  vselneg(x, a, b) (lanes with x < 0 take b, else a)  vnegabs(v) (-|v|)
 *   vmask_n(n) (lanes [0,n))  vmask_range(lo, hi) (lanes [lo,hi); lo/hi clamped by caller to [0,VL])
 *   vload_s2m(p, lo, hi)  p[2j] for lanes j in [lo, hi), 0 elsewhere; reads only those
 *   copy_s2(dst, src, n)  dst[j] = src[2j], j < n
 */
#ifndef DT_CONV_KERN_H
#define DT_CONV_KERN_H

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/cpu/conv_impl.h"

#define AI static inline __attribute__((always_inline))

/* ---- activation ---------------------------------------------------------- */

/* exp with Cephes' polynomial; inputs clamped so that 2^n stays normal. */
AI vf vexp(vf x)
{
    x = vmin(vmax(x, vset1(-87.3f)), vset1(88.3f));
    vf n = vround(vmul(x, vset1(1.44269504088896341f)));
    vf r = vfnma(n, vset1(0.693359375f), x);
    r = vfnma(n, vset1(-2.12194440e-4f), r);
    vf p = vset1(1.9875691500e-4f);
    p = vfma(p, r, vset1(1.3981999507e-3f));
    p = vfma(p, r, vset1(8.3334519073e-3f));
    p = vfma(p, r, vset1(4.1665795894e-2f));
    p = vfma(p, r, vset1(1.6666665459e-1f));
    p = vfma(p, r, vset1(5.0000001201e-1f));
    p = vfma(p, vmul(r, r), vadd(r, vset1(1.f)));
    return vscale2(p, n);
}

#ifdef vfrac_floor
/* sigmoid(x) = 1 / (1 + 2^t), t = -x log2 e, with x clamped to [-87, 87]:
 * 2^t = 2^floor(t) * 2^f, f = t - floor(t) in [0, 1) (one vreduce), 2^f a
 * degree-5 fit (relative error 1.7e-7) and the scaling one vscalef that
 * floors t itself: 3 operations fewer than the Cody-Waite form below. */
AI vf vsigmoid(vf x)
{
    x = vmin(vmax(x, vset1(-87.0f)), vset1(87.0f));
    vf t = vmul(x, vset1(-1.44269504088896341f));
    vf f = vfrac_floor(t);
    vf p = vfma(vset1(0x1.e9750cp-10f), f, vset1(0x1.2779f2p-7f));
    p = vfma(p, f, vset1(0x1.c91c2ap-5f));
    p = vfma(p, f, vset1(0x1.ebdb70p-3f));
    p = vfma(p, f, vset1(0x1.62e4bap-1f));
    p = vfma(p, f, vset1(1.f));
    return vrcp(vadd(vscale2floor(p, t), vset1(1.f)));
}
#else
/* sigmoid(x) = 1 / (1 + e), e = exp(-x) = 2^n (1 - u q(u)), with x clamped to
 * [-87, 87] (e and 1/(1+e) stay normal floats), n = round(-x log2 e),
 * u = x + n ln2 in [-ln2/2, ln2/2] (so exp(-x) = 2^n exp(-u)) and q a
 * degree-4 fit of (1 - exp(-u)) / u (relative error 1.7e-7). */
AI vf vsigmoid(vf x)
{
    x = vmin(vmax(x, vset1(-87.0f)), vset1(87.0f));
    vf n = vround(vmul(x, vset1(-1.44269504088896341f)));
    vf u = vfma(n, vset1(0.693359375f), x);
    u = vfma(n, vset1(-2.12194440e-4f), u);
    vf q = vset1(0x1.0fa82ep-7f);
    q = vfma(q, u, vset1(-0x1.573a56p-5f));
    q = vfma(q, u, vset1(0x1.555a6ap-3f));
    q = vfma(q, u, vset1(-0x1.fffdc6p-2f));
    q = vfma(q, u, vset1(0x1.fffff6p-1f));
    vf e = vscale2(vfnma(u, q, vset1(1.f)), n);
    return vrcp(vadd(e, vset1(1.f)));
}
#endif

AI vf vact(vf x, const dt_act_params *p)
{
    switch (p->kind) {
    case DT_ACT_NONE:
        return x;
    case DT_ACT_RELU:
        return vmax(x, vzero());
    case DT_ACT_CLIP:
        return vmin(vmax(x, vset1(p->alpha)), vset1(p->beta));
    case DT_ACT_LEAKYRELU:
        return vselneg(x, x, vmul(x, vset1(p->alpha)));
    case DT_ACT_SIGMOID:
        return vsigmoid(x);
    case DT_ACT_HARDSIGMOID:
        return vmin(vmax(vfma(x, vset1(p->alpha), vset1(p->beta)), vzero()), vset1(1.f));
    case DT_ACT_HARDSWISH:
        return vmul(x, vmin(vmax(vfma(x, vset1(1.f / 6.f), vset1(0.5f)), vzero()), vset1(1.f)));
    case DT_ACT_HARDSWISH_K:
        return vmul(vmul(x, vset1(p->alpha)), vmin(vmax(vadd(x, vset1(p->beta)), vzero()), vset1(6.f)));
    case DT_ACT_SILU:
        return vmul(x, vsigmoid(x));
    case DT_ACT_TANH: { /* 2*sigmoid(2x) - 1 */
        vf s2 = vsigmoid(vadd(x, x));
        return vsub(vadd(s2, s2), vset1(1.f));
    }
    case DT_ACT_MISH: { /* x * tanh(log(1+e^x)) = x * n / (n + 2), n = e^x (e^x + 2) */
        vf e = vexp(vmin(x, vset1(20.f)));
        vf n = vmul(e, vadd(e, vset1(2.f)));
        return vmul(x, vmul(n, vrcp(vadd(n, vset1(2.f)))));
    }
    }
    return x;
}

/* Apply the activation to acc[i][j], i < MR, j < NV, with the switch outside
 * the loops so that the MR*NV independent evaluations interleave. */
#define ACT_BLOCK(acc, MR, NV, act)                                                                \
    do {                                                                                           \
        switch ((act)->kind) {                                                                     \
        case DT_ACT_NONE:                                                                          \
            break;                                                                                 \
        case DT_ACT_RELU:                                                                          \
            ACT_LOOP_(acc, MR, NV, vmax(x_, vzero()));                                             \
            break;                                                                                 \
        case DT_ACT_CLIP: {                                                                        \
            vf lo_ = vset1((act)->alpha), hi_ = vset1((act)->beta);                                \
            ACT_LOOP_(acc, MR, NV, vmin(vmax(x_, lo_), hi_));                                      \
            break;                                                                                 \
        }                                                                                          \
        case DT_ACT_SIGMOID:                                                                       \
            ACT_LOOP_(acc, MR, NV, vsigmoid(x_));                                                  \
            break;                                                                                 \
        case DT_ACT_SILU:                                                                          \
            ACT_LOOP_(acc, MR, NV, vmul(x_, vsigmoid(x_)));                                        \
            break;                                                                                 \
        default:                                                                                   \
            ACT_LOOP_(acc, MR, NV, vact(x_, (act)));                                               \
            break;                                                                                 \
        }                                                                                          \
    } while (0)
#define ACT_LOOP_(acc, MR, NV, EXPR)                                                               \
    _Pragma("GCC unroll 16") for (int i_ = 0; i_ < (MR); i_++)                                     \
        _Pragma("GCC unroll 8") for (int j_ = 0; j_ < (NV); j_++)                                  \
        {                                                                                          \
            vf x_ = acc[i_][j_];                                                                   \
            acc[i_][j_] = EXPR;                                                                    \
        }

/* ---- GEMM micro-kernels ---------------------------------------------------
 * acc[MR][NV] live in registers once the fixed-trip loops are unrolled. */

/* NCHW: C[i][.] = act(bias[i] + sum_k A[k][i] * B[k][.]), A packed [K][PA_MR],
 * B rows ldb apart, NV vectors wide (the last masked by tm when T). */
/* K-blocking: flags KB_FIRST starts from the bias (else from C), KB_LAST
 * applies the activation; a K split in chunks calls first ... last. */
#define KB_FIRST 1
#define KB_LAST 2
#define KB_ALL (KB_FIRST | KB_LAST)

AI void ukr_pa_body(const int MR, const int NV, const int T, int64_t K, const float *a, const float *b,
                    int64_t ldb, float *c, int64_t ldc, const float *bias, const dt_act_params *act, vmk tm,
                    int flags)
{
    vf acc[PA_MR][PA_NV];
    if (flags & KB_FIRST) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            vf bi = vset1(bias[i]);
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                acc[i][j] = bi;
        }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                acc[i][j] = (T && j == NV - 1) ? vloadm(c + i * ldc + j * VL, tm) : vload(c + i * ldc + j * VL);
    }
    for (int64_t k = 0; k < K; k++) {
        vf bv[PA_NV];
#pragma GCC unroll 8
        for (int j = 0; j < NV; j++)
            bv[j] = (T && j == NV - 1) ? vloadm(b + j * VL, tm) : vload(b + j * VL);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            vf av = vbcast(a + i);
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                acc[i][j] = vfma(av, bv[j], acc[i][j]);
        }
        a += PA_MR;
        b += ldb;
    }
    if (flags & KB_LAST)
        ACT_BLOCK(acc, MR, NV, act);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 8
        for (int j = 0; j < NV; j++) {
            vf v = acc[i][j];
            if (T && j == NV - 1)
                vstorem(c + i * ldc + j * VL, tm, v);
            else
                vstore(c + i * ldc + j * VL, v);
        }
    }
}

/* NHWC: C[i][.] = act(bias[.] + sum_t sum_k rows[t*RA_ROWS + i][k] * B[t*kc + k][.]),
 * B packed in strips RA_NV*VL wide; row i is stored at crow[i] (a scratch
 * row for pixels past the end); the last vector's store masked when T. */
AI void ukr_ra_body(const int MR, const int NV, const int T, int ntaps, int64_t kc, const float *const *rows,
                    const float *b, float *const *crow, const float *bias, const dt_act_params *act, vmk tm,
                    int flags)
{
    vf acc[RA_ROWS][RA_NV];
    if (flags & KB_FIRST) {
#pragma GCC unroll 8
        for (int j = 0; j < NV; j++) {
            vf bj = vload(bias + j * VL);
#pragma GCC unroll 32
            for (int i = 0; i < MR; i++)
                acc[i][j] = bj;
        }
    } else {
#pragma GCC unroll 32
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                acc[i][j] = (T && j == NV - 1) ? vloadm(crow[i] + j * VL, tm) : vload(crow[i] + j * VL);
    }
    for (int t = 0; t < ntaps; t++) {
        const float *r[RA_ROWS];
#pragma GCC unroll 32
        for (int i = 0; i < MR; i++)
            r[i] = rows[t * RA_ROWS + i];
        for (int64_t k = 0; k < kc; k++) {
            vf bv[RA_NV];
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                bv[j] = vload(b + j * VL);
#pragma GCC unroll 32
            for (int i = 0; i < MR; i++) {
                vf av = vbcast(r[i] + k);
#pragma GCC unroll 8
                for (int j = 0; j < NV; j++)
                    acc[i][j] = vfma(av, bv[j], acc[i][j]);
            }
            b += RA_NV * VL;
        }
    }
    if (flags & KB_LAST)
        ACT_BLOCK(acc, MR, NV, act);
#pragma GCC unroll 32
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 8
        for (int j = 0; j < NV; j++) {
            if (T && j == NV - 1)
                vstorem(crow[i] + j * VL, tm, acc[i][j]);
            else
                vstore(crow[i] + j * VL, acc[i][j]);
        }
    }
}

typedef void (*ukr_pa_fn)(int64_t K, const float *a, const float *b, int64_t ldb, float *c, int64_t ldc,
                          const float *bias, const dt_act_params *act, vmk tm, int flags);
typedef void (*ukr_ra_fn)(int ntaps, int64_t kc, const float *const *rows, const float *b, float *const *crow,
                          const float *bias, const dt_act_params *act, vmk tm, int flags);

#define PA_DEF(MR, NV, T)                                                                          \
    static void ukr_pa_##MR##_##NV##_##T(int64_t K, const float *a, const float *b, int64_t ldb,   \
                                         float *c, int64_t ldc, const float *bias,                 \
                                         const dt_act_params *act, vmk tm, int flags)              \
    {                                                                                              \
        ukr_pa_body(MR, NV, T, K, a, b, ldb, c, ldc, bias, act, tm, flags);                        \
    }
#define RA_DEF(MR, NV, T)                                                                          \
    static void ukr_ra_##NV##_##T(int ntaps, int64_t kc, const float *const *rows, const float *b,    \
                                  float *const *crow, const float *bias, const dt_act_params *act,    \
                                  vmk tm, int flags)                                                  \
    {                                                                                              \
        ukr_ra_body(MR, NV, T, ntaps, kc, rows, b, crow, bias, act, tm, flags);                    \
    }
PA_LIST(PA_DEF, 0)
PA_LIST(PA_DEF, 1)
RA_LIST(RA_DEF, 0)
RA_LIST(RA_DEF, 1)

#define PA_ENT(MR, NV, T) [T][MR - 1][NV - 1] = ukr_pa_##MR##_##NV##_##T,
#define RA_ENT(MR, NV, T) [T][NV - 1] = ukr_ra_##NV##_##T,
#define RA_MRE(MR, NV, T) [NV - 1] = MR,
static const ukr_pa_fn g_pa[2][PA_MR][PA_NV] = {PA_LIST(PA_ENT, 0) PA_LIST(PA_ENT, 1)};
static const ukr_ra_fn g_ra[2][RA_NV] = {RA_LIST(RA_ENT, 0) RA_LIST(RA_ENT, 1)};
static const int g_ra_mr[RA_NV] = {RA_LIST(RA_MRE, 0)}; /* rows per kernel call, by vector count */

/* ---- NCHW GEMM (1x1 in place) --------------------------------------------- */

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* K chunk of the GEMMs: a B strip chunk (GEMM_KC x 48 floats) plus an A
 * chunk stay in L1 (48 KB). */
#define GEMM_KC 128

typedef struct gemm_ctx {
    const dt_conv *cv;
    const float *x;
    float *y;
    int64_t nvec, ncb, mchunk, nmb; /* 1x1: column block cb = vectors [cb*nvec/ncb, (cb+1)*nvec/ncb) */
} gemm_ctx;

/* 1x1/s1/p0: out[Mg, HW] = W x X read in place (rows HW apart). */
static void nchw_jobs(void *arg, int64_t j0, int64_t j1)
{
    const gemm_ctx *g = arg;
    const dt_conv *cv = g->cv;
    const int64_t HW = cv->OH * cv->OW, NR = PA_NV * VL;
    const int64_t mgp = cdiv(cv->Mg, PA_MR) * PA_MR;
    for (int64_t job = j0; job < j1; job++) {
        int64_t mb = job % g->nmb, cb = (job / g->nmb) % g->ncb, gr = job / (g->nmb * g->ncb);
        int64_t n0 = cb * g->nvec / g->ncb * VL, nc = imin(HW, (cb + 1) * g->nvec / g->ncb * VL) - n0;
        int64_t m0 = mb * g->mchunk, m1 = imin(cv->Mg, m0 + g->mchunk);
        const float *b = g->x + gr * cv->Cg * HW + n0;
        const float *wg = cv->wp + gr * mgp * cv->K;
        float *yg = g->y + gr * cv->Mg * HW + n0;
        for (int64_t s = 0; s < nc; s += NR) {
            int64_t w = imin(NR, nc - s);
            int nv = (int)cdiv(w, VL);
            int t = (w % VL) != 0;
            vmk tm = vmask_n((int)(w - (nv - 1) * VL));
            /* K in chunks: the strip's B chunk stays in L1 across the M blocks */
            for (int64_t k0 = 0; k0 < cv->K; k0 += GEMM_KC) {
                int64_t kc = imin(GEMM_KC, cv->K - k0);
                int flags = (k0 == 0 ? KB_FIRST : 0) | (k0 + kc == cv->K ? KB_LAST : 0);
                for (int64_t m = m0; m < m1; m += PA_MR) {
                    int mr = (int)imin(PA_MR, m1 - m);
                    g_pa[t][mr - 1][nv - 1](kc, wg + m * cv->K + k0 * PA_MR, b + s + k0 * HW, HW, yg + m * HW + s, HW,
                                            cv->bias + gr * cv->Mg + m, &cv->act, tm, flags);
                }
            }
        }
    }
}

static void run_nchw_gemm(const dt_conv *cv, const float *x, float *y, dt_pool *pool)
{
    const int64_t HW = cv->OH * cv->OW;
    int threads = dt_pool_threads(pool);
    gemm_ctx g;
    memset(&g, 0, sizeof g);
    g.cv = cv;
    /* Column blocks of at most 8 strips, balanced to the vector (a block
     * ending on a whole strip would leave one short job that unbalances 2
     * threads by up to a job).  With several threads: about 4 jobs per
     * thread, a multiple of the thread count of blocks of at least a strip
     * when the plane has that many, and the output channels split (in
     * PA_MR rows) when the columns alone give too few jobs. */
    g.nvec = cdiv(HW, VL);
    int64_t ncb_min = cdiv(g.nvec, 8 * PA_NV), ncb_max = imax(ncb_min, g.nvec / PA_NV);
    g.ncb = ncb_min;
    g.nmb = 1;
    g.mchunk = cdiv(cv->Mg, PA_MR) * PA_MR;
    if (threads > 1) {
        int64_t target = 4 * (int64_t)threads;
        g.ncb = imax(ncb_min, imin(ncb_max, cdiv(target, cv->group)));
        int64_t up = cdiv(g.ncb, threads) * threads;
        if (up <= ncb_max)
            g.ncb = up;
        if (cv->group * g.ncb < target) {
            int64_t want = cdiv(target, cv->group * g.ncb);
            g.mchunk = cdiv(cdiv(cv->Mg, want), PA_MR) * PA_MR;
            g.nmb = cdiv(cv->Mg, g.mchunk);
        }
    }
    for (int64_t n = 0; n < cv->N; n++) {
        g.x = x + n * cv->C * cv->H * cv->W;
        g.y = y + n * cv->M * HW;
        dt_pool_for(pool, cv->group * g.ncb * g.nmb, 1, nchw_jobs, &g);
    }
}

static void dw_fill(const dt_conv *cv, const float *xp, float *buf, int zero_borders);

/* ---- NCHW implicit GEMM (KxK convs) ----------------------------------------
 * The input is copied once into zero-bordered column-phase planes (as for
 * depthwise, see dw_fill); then B row k = (ci, ky, kx) of an output row
 * segment is one contiguous run of that buffer at a fixed offset koff[k]
 * from the segment's base, so the micro-kernel reads it in place: no im2col. */

/* A tile is NV output vectors taken in row-major order over the image
 * (so it may span rows: 13- or 26-wide maps still fill the registers).
 * Vector j reads B at b + boff[j] + koff[k] and writes lanes mask[j] of
 * c[j] + i*ldc. */
AI void ukr_po_body(const int MR, const int NV, int64_t K, const float *a, const float *b, const int64_t *boff,
                    const int32_t *koff, float *const *c, int64_t ldc, const float *bias, const dt_act_params *act,
                    const vmk *mask, int flags)
{
    vf acc[PA_MR][PA_NV];
    const float *bj[PA_NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++)
        bj[j] = b + boff[j];
    if (flags & KB_FIRST) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            vf bi = vset1(bias[i]);
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                acc[i][j] = bi;
        }
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                acc[i][j] = vloadm(c[j] + i * ldc, mask[j]);
    }
    for (int64_t k = 0; k < K; k++) {
        const int64_t o = koff[k];
        vf bv[PA_NV];
#pragma GCC unroll 8
        for (int j = 0; j < NV; j++)
            bv[j] = vload(bj[j] + o);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            vf av = vbcast(a + i);
#pragma GCC unroll 8
            for (int j = 0; j < NV; j++)
                acc[i][j] = vfma(av, bv[j], acc[i][j]);
        }
        a += PA_MR;
    }
    if (flags & KB_LAST)
        ACT_BLOCK(acc, MR, NV, act);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 8
        for (int j = 0; j < NV; j++)
            vstorem(c[j] + i * ldc, mask[j], acc[i][j]);
    }
}

typedef void (*ukr_po_fn)(int64_t K, const float *a, const float *b, const int64_t *boff, const int32_t *koff,
                          float *const *c, int64_t ldc, const float *bias, const dt_act_params *act,
                          const vmk *mask, int flags);
#define PO_DEF(MR, NV, T)                                                                          \
    static void ukr_po_##MR##_##NV(int64_t K, const float *a, const float *b, const int64_t *boff, \
                                   const int32_t *koff, float *const *c, int64_t ldc,              \
                                   const float *bias, const dt_act_params *act, const vmk *mask,   \
                                   int flags)                                                      \
    {                                                                                              \
        ukr_po_body(MR, NV, K, a, b, boff, koff, c, ldc, bias, act, mask, flags);                  \
    }
PA_LIST(PO_DEF, 0)
#define PO_ENT(MR, NV, T) [MR - 1][NV - 1] = ukr_po_##MR##_##NV,
static const ukr_po_fn g_po[PA_MR][PA_NV] = {PA_LIST(PO_ENT, 0)};

typedef struct impl_ctx {
    const dt_conv *cv;
    const float *x;
    float *y, *buf;
    int64_t nxv, nvec, vpj, nvb, mchunk, nmb, njobs;
    int packed; /* vectors run over the flattened output plane, B packed per tile */
} impl_ctx;

static void impl_fill(void *arg, int64_t c0, int64_t c1)
{
    const impl_ctx *g = arg;
    const dt_conv *cv = g->cv;
    for (int64_t c = c0; c < c1; c++)
        dw_fill(cv, g->x + c * cv->H * cv->W, g->buf + c * cv->SW * cv->dw_hq * cv->dw_wq, 1);
}

/* Packed mode, for planes whose rows fill the vectors poorly (10-, 13-,
 * 20-wide maps): a tile is NV vectors of consecutive positions of the
 * flattened OH*OW plane, so it spans rows; its B chunk [kc][NR] is gathered
 * from the phase planes (one masked load per row piece and k) and reused by
 * every A panel of the job, and the output is the plane's contiguous run. */
static void impl_jobs_packed(const impl_ctx *g, int64_t job)
{
    const dt_conv *cv = g->cv;
    const int64_t OHW = cv->OH * cv->OW, NR = PA_NV * VL;
    const int64_t mgp = cdiv(cv->Mg, PA_MR) * PA_MR, gstride = cv->Cg * cv->SW * cv->dw_hq * cv->dw_wq;
    float panel[GEMM_KC * PA_NV * VL + VL] __attribute__((aligned(64)));
    int64_t sofs[PA_NV * VL];
    int sdst[PA_NV * VL];
    vmk smask[PA_NV * VL];
    int64_t mb = job % g->nmb, vb = (job / g->nmb) % g->nvb, gr = job / (g->nmb * g->nvb);
    int64_t m0 = mb * g->mchunk, m1 = imin(cv->Mg, m0 + g->mchunk);
    /* balanced blocks of vectors, each cut into balanced tiles: a 7-vector
     * plane runs tiles of 2, 2 and 3 vectors rather than 3, 3 and 1 */
    int64_t vs = vb * g->nvec / g->nvb, v1 = (vb + 1) * g->nvec / g->nvb, nt = cdiv(v1 - vs, PA_NV);
    const float *wg = cv->wp + gr * mgp * cv->K;
    const float *bg = g->buf + gr * gstride;
    float *yg = g->y + gr * cv->Mg * OHW;
    for (int64_t ti = 0; ti < nt; ti++) {
        int64_t v = vs + ti * (v1 - vs) / nt, ve = vs + (ti + 1) * (v1 - vs) / nt;
        int64_t p0 = v * VL, npos = imin((ve - v) * VL, OHW - p0);
        int nv = (int)cdiv(npos, VL);
        int t = (npos % VL) != 0;
        vmk tm = vmask_n((int)(npos - (nv - 1) * VL));
        /* row pieces of at most VL positions, in increasing order */
        int nseg = 0;
        for (int64_t p = p0; p < p0 + npos;) {
            int64_t oy = p / cv->OW, ox = p % cv->OW;
            int64_t len = imin(imin(cv->OW - ox, VL), p0 + npos - p);
            sofs[nseg] = oy * cv->SH * cv->dw_wq + ox;
            sdst[nseg] = (int)(p - p0);
            smask[nseg] = vmask_n((int)len);
            nseg++;
            p += len;
        }
        for (int64_t k0 = 0; k0 < cv->K; k0 += GEMM_KC) {
            int64_t kc = imin(GEMM_KC, cv->K - k0);
            int flags = (k0 == 0 ? KB_FIRST : 0) | (k0 + kc == cv->K ? KB_LAST : 0);
            /* full-vector stores: a piece's zero tail is overwritten by the
             * next piece (or the next row; the last one lands in the slack) */
            for (int64_t k = 0; k < kc; k++) {
                const float *src = bg + cv->koff[k0 + k];
                float *dst = panel + k * NR;
                for (int s = 0; s < nseg; s++)
                    vstore(dst + sdst[s], vloadm(src + sofs[s], smask[s]));
            }
            for (int64_t m = m0; m < m1; m += PA_MR) {
                int mr = (int)imin(PA_MR, m1 - m);
                g_pa[t][mr - 1][nv - 1](kc, wg + m * cv->K + k0 * PA_MR, panel, NR, yg + m * OHW + p0, OHW,
                                        cv->bias + gr * cv->Mg + m, &cv->act, tm, flags);
            }
        }
    }
}

static void impl_jobs(void *arg, int64_t j0, int64_t j1)
{
    const impl_ctx *g = arg;
    if (g->packed) {
        for (int64_t job = j0; job < j1; job++)
            impl_jobs_packed(g, job);
        return;
    }
    const dt_conv *cv = g->cv;
    const int64_t OHW = cv->OH * cv->OW;
    const int64_t mgp = cdiv(cv->Mg, PA_MR) * PA_MR, gstride = cv->Cg * cv->SW * cv->dw_hq * cv->dw_wq;
    for (int64_t job = j0; job < j1; job++) {
        int64_t mb = job % g->nmb, vb = (job / g->nmb) % g->nvb, gr = job / (g->nmb * g->nvb);
        int64_t m0 = mb * g->mchunk, m1 = imin(cv->Mg, m0 + g->mchunk);
        int64_t v1 = imin(g->nvec, (vb + 1) * g->vpj);
        const float *wg = cv->wp + gr * mgp * cv->K;
        const float *bg = g->buf + gr * gstride;
        float *yg = g->y + gr * cv->Mg * OHW;
        for (int64_t v = vb * g->vpj; v < v1; v += PA_NV) {
            int nv = (int)imin(PA_NV, v1 - v);
            int64_t boff[PA_NV];
            float *c[PA_NV];
            vmk mask[PA_NV];
            for (int j = 0; j < nv; j++) {
                int64_t oy = (v + j) / g->nxv, x0 = ((v + j) % g->nxv) * VL;
                boff[j] = oy * cv->SH * cv->dw_wq + x0;
                c[j] = yg + oy * cv->OW + x0;
                mask[j] = vmask_n((int)imin(VL, cv->OW - x0));
            }
            /* K in chunks: the tile's B chunk stays in cache across the M blocks */
            for (int64_t k0 = 0; k0 < cv->K; k0 += GEMM_KC) {
                int64_t kc = imin(GEMM_KC, cv->K - k0);
                int flags = (k0 == 0 ? KB_FIRST : 0) | (k0 + kc == cv->K ? KB_LAST : 0);
                for (int64_t m = m0; m < m1; m += PA_MR) {
                    int mr = (int)imin(PA_MR, m1 - m);
                    float *cm[PA_NV];
                    for (int j = 0; j < nv; j++)
                        cm[j] = c[j] + m * OHW;
                    g_po[mr - 1][nv - 1](kc, wg + m * cv->K + k0 * PA_MR, bg, boff, cv->koff + k0, cm, OHW,
                                         cv->bias + gr * cv->Mg + m, &cv->act, mask, flags);
                }
            }
        }
    }
}

static void run_nchw_implicit(const dt_conv *cv, const float *x, float *y, void *scratch, dt_pool *pool)
{
    int threads = dt_pool_threads(pool);
    impl_ctx g;
    memset(&g, 0, sizeof g);
    g.cv = cv;
    g.buf = (float *)scratch;
    g.nxv = cdiv(cv->OW, VL);
    g.nvec = cv->OH * g.nxv;
    /* rows waste over ~10% of the lanes: vectors over the flattened plane */
    if (VL > 1 && cdiv(cv->OH * cv->OW, VL) * 10 < g.nvec * 9) {
        g.packed = 1;
        g.nvec = cdiv(cv->OH * cv->OW, VL);
    }
    /* vector blocks (multiples of a tile): about 4 jobs per thread; split M too when few */
    int64_t target = 4 * (int64_t)threads;
    int64_t per_group = imax(1, cdiv(target, cv->group));
    g.vpj = imax(PA_NV, cdiv(cdiv(g.nvec, per_group), PA_NV) * PA_NV);
    g.nvb = cdiv(g.nvec, g.vpj);
    g.nmb = 1;
    g.mchunk = cdiv(cv->Mg, PA_MR) * PA_MR;
    if (cv->group * g.nvb < 2 * threads) {
        int64_t want = cdiv(2 * threads, cv->group * g.nvb);
        g.mchunk = cdiv(cdiv(cv->Mg, want), PA_MR) * PA_MR;
        g.nmb = cdiv(cv->Mg, g.mchunk);
    }
    g.njobs = cv->group * g.nvb * g.nmb;
    for (int64_t n = 0; n < cv->N; n++) {
        g.x = x + n * cv->C * cv->H * cv->W;
        g.y = y + n * cv->M * cv->OH * cv->OW;
        dt_pool_for(pool, cv->C, 1, impl_fill, &g);
        dt_pool_for(pool, g.njobs, 1, impl_jobs, &g);
    }
}

/* ---- NHWC GEMM (implicit im2col) ----------------------------------------- */

/* dst[0..n) = src[0..n), short runs */
AI void copy_run(float *dst, const float *src, int64_t n)
{
    int64_t j = 0;
    for (; j + VL <= n; j += VL)
        vstore(dst + j, vload(src + j));
    if (j < n)
        vstorem(dst + j, vmask_n((int)(n - j)), vloadm(src + j, vmask_n((int)(n - j))));
}

#define NHWC_PB (RA_ROWS * 2) /* pixels per job */
#define NHWC_MAX_TAPS 64
#define NHWC_SMALL_K 64

typedef struct nhwc_ctx {
    const dt_conv *cv;
    const float *x;
    float *y;
    int64_t nstrips;
} nhwc_ctx;

static void nhwc_jobs(void *arg, int64_t j0, int64_t j1)
{
    nhwc_ctx *g = arg;
    const dt_conv *cv = g->cv;
    const int64_t OHW = cv->OH * cv->OW, NR = RA_NV * VL;
    const int ntaps = cv->KH * cv->KW;
    const int pw = cv->KH == 1 && cv->KW == 1 && cv->SH == 1 && cv->SW == 1 && cv->PT == 0 && cv->PL == 0;
    const float *rows[NHWC_PB * NHWC_MAX_TAPS];
    float *crow[NHWC_PB];
    /* K <= NHWC_SMALL_K (a stem conv on 3 channels): one patch row per pixel and
     * a single tap, instead of ntaps taps of a few channels each */
    const int small = !pw && cv->K <= NHWC_SMALL_K;
    float patch[NHWC_PB * NHWC_SMALL_K];
    const int ktaps = small ? 1 : ntaps;
    const int64_t kcg = small ? cv->K : cv->Cg;
    float trash[RA_NV * VL]; /* stores of the pixels past the end */
    for (int64_t job = j0; job < j1; job++) {
        int64_t p0 = job * NHWC_PB, np = imin(NHWC_PB, OHW - p0);
        int nblk = (int)cdiv(np, RA_ROWS);
        for (int gr = 0; gr < cv->group; gr++) {
            /* row pointers: rows[(blk*ntaps + t)*RA_ROWS + i]; pixels walked in order */
            int64_t oy = p0 / cv->OW, ox = p0 % cv->OW;
            for (int blk = 0; blk < nblk; blk++)
                for (int i = 0; i < RA_ROWS; i++) {
                    int64_t p = p0 + blk * RA_ROWS + i;
                    const float **rt = rows + (int64_t)blk * ktaps * RA_ROWS + i;
                    if (p >= p0 + np) {
                        for (int t = 0; t < ktaps; t++)
                            rt[t * RA_ROWS] = small ? patch : cv->zero;
                        continue;
                    }
                    if (pw) {
                        rt[0] = g->x + p * cv->C + gr * cv->Cg;
                    } else if (small) {
                        /* few channels: gather the pixel's whole patch into one row;
                         * (group 1, DW 1: a kernel row's taps are KW*Cg contiguous floats) */
                        float *pr = patch + ((int64_t)blk * RA_ROWS + i) * NHWC_SMALL_K;
                        int64_t ixa = ox * cv->SW - cv->PL;
                        int rowrun = cv->group == 1 && cv->DW == 1 && ixa >= 0 && ixa + cv->KW - 1 < cv->W;
                        for (int ky = 0; ky < cv->KH; ky++) {
                            int64_t iy = oy * cv->SH - cv->PT + (int64_t)ky * cv->DH;
                            float *dst = pr + (int64_t)ky * cv->KW * cv->Cg;
                            if (rowrun && iy >= 0 && iy < cv->H) {
                                copy_run(dst, g->x + (iy * cv->W + ixa) * cv->C + gr * cv->Cg, cv->KW * cv->Cg);
                                continue;
                            }
                            for (int kx = 0; kx < cv->KW; kx++) {
                                int64_t ix = ixa + (int64_t)kx * cv->DW;
                                const float *src = iy >= 0 && iy < cv->H && ix >= 0 && ix < cv->W
                                                       ? g->x + (iy * cv->W + ix) * cv->C + gr * cv->Cg
                                                       : cv->zero;
                                copy_run(dst + (int64_t)kx * cv->Cg, src, cv->Cg);
                            }
                        }
                        rt[0] = pr;
                    } else {
                        for (int t = 0; t < ntaps; t++) {
                            int64_t iy = oy * cv->SH - cv->PT + (int64_t)(t / cv->KW) * cv->DH;
                            int64_t ix = ox * cv->SW - cv->PL + (int64_t)(t % cv->KW) * cv->DW;
                            rt[t * RA_ROWS] = iy >= 0 && iy < cv->H && ix >= 0 && ix < cv->W
                                                  ? g->x + (iy * cv->W + ix) * cv->C + gr * cv->Cg
                                                  : cv->zero;
                        }
                    }
                    if (++ox == cv->OW) {
                        ox = 0;
                        oy++;
                    }
                }
            /* 1x1: K in chunks, outermost, so the rows' chunk stays in L1 across the
             * strips and each strip's B chunk across the row blocks */
            int64_t kstep = ktaps == 1 ? GEMM_KC : kcg;
            for (int64_t k0 = 0; k0 < kcg; k0 += kstep) {
                int64_t kc = imin(kstep, kcg - k0);
                int flags = (k0 == 0 ? KB_FIRST : 0) | (k0 + kc == kcg ? KB_LAST : 0);
                const float *rk[NHWC_PB];
                const float *const *rr = rows;
                if (k0) {
                    for (int i = 0; i < nblk * RA_ROWS; i++)
                        rk[i] = rows[i] + k0;
                    rr = rk;
                }
                for (int64_t s = 0; s < g->nstrips; s++) {
                    int64_t w = imin(NR, cv->Mg - s * NR);
                    int nv = (int)cdiv(w, VL);
                    int tl = (w % VL) != 0;
                    vmk tm = vmask_n((int)(w - (nv - 1) * VL));
                    int mr = g_ra_mr[nv - 1];
                    const float *bs = cv->wp + (gr * g->nstrips + s) * cv->K * NR + k0 * NR;
                    const float *bias = cv->bias + gr * cv->Mg + s * NR;
                    int64_t col = gr * cv->Mg + s * NR;
                    for (int i = 0; i < nblk * RA_ROWS; i++)
                        crow[i] = i < np ? g->y + (p0 + i) * cv->M + col : trash;
                    for (int r0 = 0; r0 < np; r0 += mr) {
                        int blk = r0 / RA_ROWS, i0 = r0 % RA_ROWS;
                        g_ra[tl][nv - 1](ktaps, kc, rr + (int64_t)blk * ktaps * RA_ROWS + i0, bs, crow + r0, bias,
                                         &cv->act, tm, flags);
                    }
                }
            }
        }
    }
}

static void run_nhwc_gemm(const dt_conv *cv, const float *x, float *y, dt_pool *pool)
{
    nhwc_ctx g;
    g.cv = cv;
    g.nstrips = cdiv(cv->Mg, RA_NV * VL);
    int64_t njobs = cdiv(cv->OH * cv->OW, NHWC_PB);
    for (int64_t n = 0; n < cv->N; n++) {
        g.x = x + n * cv->H * cv->W * cv->C;
        g.y = y + n * cv->OH * cv->OW * cv->M;
        dt_pool_for(pool, njobs, 1, nhwc_jobs, &g);
    }
}

/* ---- depthwise ----------------------------------------------------------- */

/* NCHW: each plane is first copied into a zero-bordered buffer split into SW
 * column phases (phase q holds padded columns q, q+SW, ...), so every tap of
 * every output block is one plain unmasked vector load:
 *   tap (ky, kx) of output (oy, x0..x0+VL) = phase[(kx*DW) % SW]
 *       [oy*SH + ky*DH][x0 + (kx*DW)/SW ...].
 * The borders stay zero between planes: only the interior is rewritten. */
typedef struct dw_ctx {
    const dt_conv *cv;
    const float *x;
    float *y;
    char *scratch;
    size_t slot_bytes;
    atomic_llong next;
} dw_ctx;

/* zero_borders: also write the zero border (rows and columns outside the
 * input), so buf needs no clearing beforehand. */
static void dw_fill(const dt_conv *cv, const float *xp, float *buf, int zero_borders)
{
    const int64_t hq = cv->dw_hq, wq = cv->dw_wq, SW = cv->SW;
    int64_t rows = imin(cv->H, hq - cv->PT);
    for (int64_t q = 0; q < SW; q++) {
        /* padded column c = x + PL with c % SW == q goes to phase q, index c / SW */
        int64_t x0 = ((q - cv->PL) % SW + SW) % SW; /* first x with (x+PL) % SW == q */
        int64_t j0 = (x0 + cv->PL) / SW;
        int64_t n = x0 < cv->W ? (cv->W - x0 + SW - 1) / SW : 0;
        if (j0 > wq)
            j0 = wq;
        if (j0 + n > wq)
            n = wq - j0;
        float *plane = buf + q * hq * wq;
        if (zero_borders) {
            int64_t top = imin(cv->PT, hq);
            memset(plane, 0, (size_t)(top * wq) * sizeof(float));
            int64_t after = cv->PT + (rows > 0 ? rows : 0);
            if (after < hq)
                memset(plane + after * wq, 0, (size_t)((hq - after) * wq) * sizeof(float));
        }
        float *dst = plane + cv->PT * wq + j0;
        const float *src = xp + x0;
        for (int64_t y = 0; y < rows; y++, dst += wq, src += cv->W) {
            if (zero_borders) {
                memset(dst - j0, 0, (size_t)j0 * sizeof(float));
                memset(dst + n, 0, (size_t)(wq - j0 - n) * sizeof(float));
            }
            if (SW == 1) {
                int64_t j = 0;
                for (; j + VL <= n; j += VL)
                    vstore(dst + j, vload(src + j));
                if (j < n)
                    vstorem(dst + j, vmask_n((int)(n - j)), vloadm(src + j, vmask_n((int)(n - j))));
            } else if (SW == 2) {
                copy_s2(dst, src, n);
            } else {
                for (int64_t j = 0; j < n; j++)
                    dst[j] = src[j * SW];
            }
        }
    }
}

/* One plane from its phase buffer; KH_.. are 0 for "runtime value". */
AI void dw_plane(const dt_conv *cv, const float *buf, float *yp, const float *w, float b, const int KH_,
                 const int KW_, const int SH_, const int SW_)
{
#define DW_R 4
    const int KH = KH_ ? KH_ : cv->KH, KW = KW_ ? KW_ : cv->KW;
    const int SH = SH_ ? SH_ : cv->SH, SW = SW_ ? SW_ : cv->SW;
    const int DH = KH_ ? 1 : cv->DH, DW = KW_ ? 1 : cv->DW;
    const int64_t hq = cv->dw_hq, wq = cv->dw_wq;
    vf bias = vset1(b);
    for (int64_t oy = 0; oy < cv->OH; oy += DW_R) {
        int nr = (int)imin(DW_R, cv->OH - oy);
        for (int64_t x0 = 0; x0 < cv->OW; x0 += VL) {
            vf acc[DW_R];
#pragma GCC unroll 4
            for (int r = 0; r < DW_R; r++)
                acc[r] = bias;
#pragma GCC unroll 5
            for (int ky = 0; ky < KH; ky++)
#pragma GCC unroll 5
                for (int kx = 0; kx < KW; kx++) {
                    vf wv = vset1(w[ky * KW + kx]);
                    int64_t q = (kx * DW) % SW;
                    const float *p = buf + (q * hq + oy * SH + (int64_t)ky * DH) * wq + x0 + (kx * DW) / SW;
#pragma GCC unroll 4
                    for (int r = 0; r < DW_R; r++)
                        acc[r] = vfma(vload(p + r * SH * wq), wv, acc[r]);
                }
            int64_t nn = imin(VL, cv->OW - x0);
            vmk m = vmask_n((int)nn);
            vf (*acc2)[1] = (vf(*)[1])acc;
            ACT_BLOCK(acc2, DW_R, 1, &cv->act);
#pragma GCC unroll 4
            for (int r = 0; r < DW_R; r++) {
                if (r >= nr)
                    break;
                vf v = acc[r];
                float *yr = yp + (oy + r) * cv->OW + x0;
                if (nn == VL)
                    vstore(yr, v);
                else
                    vstorem(yr, m, v);
            }
        }
    }
#undef DW_R
}

/* Stride 1, dilation 1, KS x KS (3 or 5): straight from the input plane, no
 * padded copy.  DW_D rows of outputs at once; each input row of their
 * window is loaded once per column tap and feeds every output row it
 * belongs to.  Taps outside the plane are masked loads (zero) on the blocks
 * that touch a border, plain loads inside. */
#define DW_D 4
/* One DW_D x VL output block; INNER: every tap inside the plane. */
AI void dw_direct_block(const dt_conv *cv, const float *xp, float *yp, const float *w, vf bias, int64_t oy,
                        int64_t x0, const int KS, const int INNER)
{
    const int64_t H = cv->H, W = cv->W, OH = cv->OH, OW = cv->OW;
    const int64_t c0 = x0 - cv->PL; /* input column of lane 0, tap kx = 0 */
    vmk m[5];
#pragma GCC unroll 5
    for (int kx = 0; kx < KS; kx++) {
        int64_t lo = -(c0 + kx), hi = W - (c0 + kx);
        m[kx] = vmask_range((int)imax(0, imin(VL, lo)), (int)imax(0, imin(VL, hi)));
    }
    vf acc[DW_D];
#pragma GCC unroll 4
    for (int r = 0; r < DW_D; r++)
        acc[r] = bias;
#pragma GCC unroll 8
    for (int j = 0; j < DW_D + KS - 1; j++) {
        int64_t iy = oy - cv->PT + j;
        if (iy < 0 || iy >= H)
            continue;
        const float *row = xp + iy * W + c0;
        vf v[5];
#pragma GCC unroll 5
        for (int kx = 0; kx < KS; kx++)
            v[kx] = INNER ? vload(row + kx) : vloadm(row + kx, m[kx]);
#pragma GCC unroll 5
        for (int ky = 0; ky < KS; ky++) {
            const int r = j - ky;
            if (r < 0 || r >= DW_D)
                continue;
#pragma GCC unroll 5
            for (int kx = 0; kx < KS; kx++)
                acc[r] = vfma(v[kx], vset1(w[ky * KS + kx]), acc[r]);
        }
    }
    int64_t nn = imin(VL, OW - x0);
    vmk sm = vmask_n((int)nn);
    vf (*acc2)[1] = (vf(*)[1])acc;
    ACT_BLOCK(acc2, DW_D, 1, &cv->act);
#pragma GCC unroll 4
    for (int r = 0; r < DW_D; r++) {
        if (oy + r >= OH)
            break;
        float *yr = yp + (oy + r) * OW + x0;
        if (nn == VL)
            vstore(yr, acc[r]);
        else
            vstorem(yr, sm, acc[r]);
    }
}

AI void dw_plane_direct(const dt_conv *cv, const float *xp, float *yp, const float *w, float b, const int KS)
{
    vf bias = vset1(b);
    for (int64_t oy = 0; oy < cv->OH; oy += DW_D)
        for (int64_t x0 = 0; x0 < cv->OW; x0 += VL) {
            const int64_t c0 = x0 - cv->PL;
            if (c0 >= 0 && c0 + KS - 1 + VL <= cv->W)
                dw_direct_block(cv, xp, yp, w, bias, oy, x0, KS, 1);
            else
                dw_direct_block(cv, xp, yp, w, bias, oy, x0, KS, 0);
        }
}
#undef DW_D

static void dw_nchw_slot(void *arg, int64_t s0, int64_t s1)
{
    dw_ctx *g = arg;
    const dt_conv *cv = g->cv;
    const int KH = cv->KH, KW = cv->KW, SH = cv->SH, SW = cv->SW;
    const int d1 = cv->DH == 1 && cv->DW == 1;
    for (int64_t s = s0; s < s1; s++) {
        float *buf = (float *)(g->scratch + (size_t)s * g->slot_bytes);
        int filled = 0;
        for (;;) {
            int64_t p = atomic_fetch_add(&g->next, 1);
            if (p >= cv->N * cv->C)
                break;
            if (d1 && SH == 1 && SW == 1 && KH == KW && (KH == 3 || KH == 5)) {
                int64_t c = p % cv->C, n = p / cv->C;
                float *yp = g->y + (n * cv->M + c) * cv->OH * cv->OW;
                if (KH == 3)
                    dw_plane_direct(cv, g->x + p * cv->H * cv->W, yp, cv->wp + c * 9, cv->bias[c], 3);
                else
                    dw_plane_direct(cv, g->x + p * cv->H * cv->W, yp, cv->wp + c * 25, cv->bias[c], 5);
                continue;
            }
            if (!filled) {
                memset(buf, 0, g->slot_bytes);
                filled = 1;
            }
            int64_t c = p % cv->C, n = p / cv->C;
            dw_fill(cv, g->x + p * cv->H * cv->W, buf, 0);
            float *yp = g->y + (n * cv->M + c) * cv->OH * cv->OW;
            const float *w = cv->wp + c * KH * KW;
            float b = cv->bias[c];
            if (d1 && KH == 3 && KW == 3 && SH == 1 && SW == 1)
                dw_plane(cv, buf, yp, w, b, 3, 3, 1, 1);
            else if (d1 && KH == 3 && KW == 3 && SH == 2 && SW == 2)
                dw_plane(cv, buf, yp, w, b, 3, 3, 2, 2);
            else if (d1 && KH == 5 && KW == 5 && SH == 1 && SW == 1)
                dw_plane(cv, buf, yp, w, b, 5, 5, 1, 1);
            else if (d1 && KH == 5 && KW == 5 && SH == 2 && SW == 2)
                dw_plane(cv, buf, yp, w, b, 5, 5, 2, 2);
            else
                dw_plane(cv, buf, yp, w, b, 0, 0, 0, 0);
        }
    }
}

static void run_dw_nchw(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                        dt_pool *pool)
{
    dw_ctx g;
    memset(&g, 0, sizeof g);
    g.cv = cv;
    g.x = x;
    g.y = y;
    g.scratch = scratch;
    g.slot_bytes = cv->dw_slot;
    int64_t slots = dt_pool_threads(pool);
    if (slots > DT_CONV_SLOTS)
        slots = DT_CONV_SLOTS;
    if (slots > (int64_t)(scratch_bytes / g.slot_bytes))
        slots = (int64_t)(scratch_bytes / g.slot_bytes);
    if (slots > cv->N * cv->C)
        slots = cv->N * cv->C;
    if (slots < 1)
        return; /* prepare always reserves one slot */
    atomic_store(&g.next, 0);
    dt_pool_for(slots > 1 ? pool : NULL, slots, 1, dw_nchw_slot, &g);
}

/* NHWC: one job per output row; DW_P output pixels at once (independent FMA
 * chains sharing each weight vector), all channel vectors of those pixels
 * while their input is in L1; blocks whose taps all fall inside the row skip
 * the bounds checks.  Weights packed [KH*KW][Cpad]. */
#define DW_P 8

typedef struct dwh_ctx {
    const dt_conv *cv;
    const float *x;
    float *y;
} dwh_ctx;

AI void dwh_row(const dt_conv *cv, const float *xn, float *yr, int64_t oy, const int KW_, const int SW_)
{
    const int KW = KW_ ? KW_ : cv->KW, SW = SW_ ? SW_ : cv->SW, KH = cv->KH;
    const int64_t C = cv->C, cpad = cdiv(C, 16) * 16, W = cv->W;
    const int64_t DW = cv->DW;
    for (int64_t ox = 0; ox < cv->OW; ox += DW_P) {
        int np = (int)imin(DW_P, cv->OW - ox);
        int64_t ixa = ox * SW - cv->PL;
        int inner = np == DW_P && ixa >= 0 && ixa + (int64_t)(DW_P - 1) * SW + (int64_t)(KW - 1) * DW < W;
        for (int64_t c0 = 0; c0 < C; c0 += VL) {
            int64_t nn = imin(VL, C - c0);
            vmk m = vmask_n((int)nn);
            /* taps known (KW_, SW_) and dilation 1: each input pixel of the
             * row segment is loaded once and feeds every tap that reads it */
            int span = KW_ && SW_ && DW == 1 && inner;
            int full = inner && nn == VL;
            vf acc[DW_P][1];
            vf bias = vload(cv->bias + c0);
#pragma GCC unroll 8
            for (int p = 0; p < DW_P; p++)
                acc[p][0] = bias;
            for (int ky = 0; ky < KH; ky++) {
                int64_t iy = oy * cv->SH - cv->PT + (int64_t)ky * cv->DH;
                if (iy < 0 || iy >= cv->H)
                    continue;
                const float *row = xn + iy * W * C + c0;
                const float *wk = cv->wp + (int64_t)ky * KW * cpad + c0;
                if (span) {
                    const int NX = (DW_P - 1) * SW + KW; /* SW_ <= 2, KW_ <= 5 */
                    const float *q0 = row + ixa * C;
                    vf xin[(DW_P - 1) * 2 + 5], wv[5];
#pragma GCC unroll 5
                    for (int kx = 0; kx < KW; kx++)
                        wv[kx] = vload(wk + kx * cpad);
#pragma GCC unroll 19
                    for (int i = 0; i < NX; i++)
                        xin[i] = nn == VL ? vload(q0 + i * C) : vloadm(q0 + i * C, m);
#pragma GCC unroll 5
                    for (int kx = 0; kx < KW; kx++)
#pragma GCC unroll 8
                        for (int p = 0; p < DW_P; p++)
                            acc[p][0] = vfma(xin[p * SW + kx], wv[kx], acc[p][0]);
                } else if (full) {
                    const float *q0 = row + ixa * C;
#pragma GCC unroll 5
                    for (int kx = 0; kx < KW; kx++) {
                        vf wv = vload(wk + kx * cpad);
                        const float *q = q0 + kx * DW * C;
#pragma GCC unroll 8
                        for (int p = 0; p < DW_P; p++)
                            acc[p][0] = vfma(vload(q + p * SW * C), wv, acc[p][0]);
                    }
                } else {
                    for (int kx = 0; kx < KW; kx++) {
                        vf wv = vload(wk + kx * cpad);
#pragma GCC unroll 8
                        for (int p = 0; p < DW_P; p++) {
                            int64_t ix = ixa + (int64_t)p * SW + (int64_t)kx * DW;
                            if (p < np && ix >= 0 && ix < W)
                                acc[p][0] = vfma(vloadm(row + ix * C, m), wv, acc[p][0]);
                        }
                    }
                }
            }
            ACT_BLOCK(acc, DW_P, 1, &cv->act);
#pragma GCC unroll 8
            for (int p = 0; p < DW_P; p++) {
                if (p >= np)
                    break;
                float *yo = yr + (ox + p) * C + c0;
                if (nn == VL)
                    vstore(yo, acc[p][0]);
                else
                    vstorem(yo, m, acc[p][0]);
            }
        }
    }
}

static void dwh_rows(void *arg, int64_t r0, int64_t r1)
{
    const dwh_ctx *g = arg;
    const dt_conv *cv = g->cv;
    const int KW = cv->KW, SW = cv->SW;
    for (int64_t r = r0; r < r1; r++) {
        int64_t n = r / cv->OH, oy = r % cv->OH;
        const float *xn = g->x + n * cv->H * cv->W * cv->C;
        float *yr = g->y + r * cv->OW * cv->C;
        if (KW == 3 && SW == 1)
            dwh_row(cv, xn, yr, oy, 3, 1);
        else if (KW == 3 && SW == 2)
            dwh_row(cv, xn, yr, oy, 3, 2);
        else if (KW == 5 && SW == 1)
            dwh_row(cv, xn, yr, oy, 5, 1);
        else if (KW == 5 && SW == 2)
            dwh_row(cv, xn, yr, oy, 5, 2);
        else
            dwh_row(cv, xn, yr, oy, 0, 0);
    }
}

/* ---- elementwise (eltwise_fast.c) ---------------------------------------- */

void ISA_FN(dt_fast_act)(const dt_act_params *p, const float *x, float *y, int64_t n)
{
    int64_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        vf a[4][1];
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            a[k][0] = vload(x + i + k * VL);
        ACT_BLOCK(a, 4, 1, p);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            vstore(y + i + k * VL, a[k][0]);
    }
    for (; i < n; i += VL) {
        int64_t r = n - i < VL ? n - i : VL;
        vmk m = vmask_n((int)r);
        vf a[1][1] = {{r == VL ? vload(x + i) : vloadm(x + i, m)}};
        ACT_BLOCK(a, 1, 1, p);
        if (r == VL)
            vstore(y + i, a[0][0]);
        else
            vstorem(y + i, m, a[0][0]);
    }
}

/* y[i] = a[i*sa] op b[i*sb], sa/sb 1 (a vector) or 0 (one value); op 0 add,
 * 1 sub, 2 mul, 3 div. */
AI vf bin_op(int op, vf a, vf b)
{
    switch (op) {
    case 0: return vadd(a, b);
    case 1: return vsub(a, b);
    case 2: return vmul(a, b);
    default: return vdiv(a, b);
    }
}

AI void bin_body(const int op, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n)
{
    vf av = vset1(a[0]), bv = vset1(b[0]);
    int64_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        vf a0 = sa ? vload(a + i) : av, a1 = sa ? vload(a + i + VL) : av;
        vf b0 = sb ? vload(b + i) : bv, b1 = sb ? vload(b + i + VL) : bv;
        vstore(y + i, bin_op(op, a0, b0));
        vstore(y + i + VL, bin_op(op, a1, b1));
    }
    for (; i < n; i += VL) {
        int64_t r = n - i < VL ? n - i : VL;
        vmk m = vmask_n((int)r);
        vf a0 = sa ? (r == VL ? vload(a + i) : vloadm(a + i, m)) : av;
        vf b0 = sb ? (r == VL ? vload(b + i) : vloadm(b + i, m)) : bv;
        if (r == VL)
            vstore(y + i, bin_op(op, a0, b0));
        else
            vstorem(y + i, m, bin_op(op, a0, b0));
    }
}

void ISA_FN(dt_fast_binary)(int op, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n)
{
    switch (op) {
    case 0: bin_body(0, a, sa, b, sb, y, n); break;
    case 1: bin_body(1, a, sa, b, sb, y, n); break;
    case 2: bin_body(2, a, sa, b, sb, y, n); break;
    default: bin_body(3, a, sa, b, sb, y, n); break;
    }
}

/* Softmax over rows of n contiguous floats. */
void ISA_FN(dt_fast_softmax)(const float *x, float *y, int64_t rows, int64_t n)
{
    for (int64_t r = 0; r < rows; r++, x += n, y += n) {
        vf mx = vset1(-INFINITY);
        int64_t i = 0;
        for (; i + VL <= n; i += VL)
            mx = vmax(mx, vload(x + i));
        float m = -INFINITY;
        float tmp[VL];
        vstore(tmp, mx);
        for (int j = 0; j < VL; j++)
            m = tmp[j] > m ? tmp[j] : m;
        for (; i < n; i++)
            m = x[i] > m ? x[i] : m;
        vf vm = vset1(m), acc = vzero();
        for (i = 0; i < n; i += VL) {
            int64_t k = n - i < VL ? n - i : VL;
            if (k == VL) {
                vf e = vexp(vsub(vload(x + i), vm));
                vstore(y + i, e);
                acc = vadd(acc, e);
            } else { /* the tail: lanes past the row must not count */
                vmk mk = vmask_n((int)k);
                vf e = vexp(vsub(vloadm(x + i, mk), vm));
                vstorem(y + i, mk, e);
                for (int j = 0; j < VL; j++)
                    tmp[j] = 0.f;
                vstorem(tmp, mk, e);
                acc = vadd(acc, vload(tmp));
            }
        }
        vstore(tmp, acc);
        double sum = 0;
        for (int j = 0; j < VL; j++)
            sum += tmp[j];
        vf inv = vset1((float)(1.0 / sum));
        for (i = 0; i + VL <= n; i += VL)
            vstore(y + i, vmul(vload(y + i), inv));
        for (; i < n; i++)
            y[i] *= (float)(1.0 / sum);
    }
}

#include "engine/cpu/conv_wino.h"

/* ---- entry --------------------------------------------------------------- */

void ISA_FN(dt_conv_run)(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                         dt_pool *pool)
{
    if (cv->wino) {
        run_wino(cv, x, y, scratch, scratch_bytes, pool);
    } else if (cv->kind == DT_CONV_NCHW_GEMM && !cv->direct) {
        run_nchw_implicit(cv, x, y, scratch, pool);
    } else if (cv->kind == DT_CONV_NCHW_GEMM) {
        run_nchw_gemm(cv, x, y, pool);
    } else if (cv->kind == DT_CONV_NHWC_GEMM) {
        run_nhwc_gemm(cv, x, y, pool);
    } else if (cv->nhwc) {
        dwh_ctx g = {cv, x, y};
        dt_pool_for(pool, cv->N * cv->OH, 1, dwh_rows, &g);
    } else {
        run_dw_nchw(cv, x, y, scratch, scratch_bytes, pool);
    }
}

void ISA_FN(dt_conv_blocking)(int *mr, int *nr_nchw_lanes, int *nr_nhwc)
{
    *mr = PA_MR;
    *nr_nchw_lanes = PA_NV * VL;
    *nr_nhwc = RA_NV * VL;
}

#endif
