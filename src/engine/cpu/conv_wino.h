/* conv_wino.h — Winograd F(4x4, 3x3) for stride-1 3x3 NCHW convs, included
 * by conv_kern.h (after its GEMM micro-kernels) once per ISA.
 *
 * A 4x4 output tile is Aᵀ [ sum_c (G g Gᵀ)[m][c] ⊙ (Bᵀ d Bᵀᵀ)[c] ] A with d
 * the tile's 6x6 input patch: per tile 36 products per (m, c) pair instead
 * of 144.  The weights are transformed once at load (conv.c, in double) into
 * U[36][M/MR][C][MR] panels, so each of the 36 positions is one GEMM
 * U[p] (M x C) x V[p] (C x tiles) run by the NCHW micro-kernels (ukr_pa).
 *
 * Run, per image:
 *   1. input transform, a job per channel: the channel is copied into four
 *      zero-bordered column-phase planes (phase q holds padded columns q,
 *      q+4, ...; a slot buffer), so column s of VL horizontally adjacent
 *      tiles is one unmasked vector load; V[p][c][tile] written for all tiles.
 *   2. a job per (block of PA_NV*VL tiles, output-channel chunk): per MR-row
 *      panel the 36 GEMMs into a slot buffer Mb[36][MR][NTB], then the output
 *      transform, bias and activation, stored into y.
 * Tiles are numbered row-major (ty * TW + tx), so a block may span tile rows
 * and small maps (13x13: 4x4 tiles) still fill the vectors.
 */
#ifndef DT_CONV_WINO_H
#define DT_CONV_WINO_H

#define WT_A 6 /* input tile */
#define WT_M 4 /* output tile */
#define WT_P (WT_A * WT_A)

/* t = Bᵀ d for one column of six values (Lavin & Gray, F(4,3)). */
AI void wino_bt(const vf d[6], vf t[6])
{
    vf four = vset1(4.f), five = vset1(5.f), two = vset1(2.f);
    vf a = vfnma(four, d[2], d[4]);  /* d4 - 4 d2 */
    vf b = vfnma(four, d[1], d[3]);  /* d3 - 4 d1 */
    vf c = vsub(d[4], d[2]);         /* d4 - d2 */
    vf e = vmul(two, vsub(d[3], d[1])); /* 2 (d3 - d1) */
    t[0] = vfma(four, d[0], vfnma(five, d[2], d[4]));
    t[1] = vadd(a, b);
    t[2] = vsub(a, b);
    t[3] = vadd(c, e);
    t[4] = vsub(c, e);
    t[5] = vfma(four, d[1], vfnma(five, d[3], d[5]));
}

/* o = Aᵀ m for one column of six values. */
AI void wino_at(const vf m[6], vf o[4])
{
    vf s12 = vadd(m[1], m[2]), d12 = vsub(m[1], m[2]);
    vf s34 = vadd(m[3], m[4]), d34 = vsub(m[3], m[4]);
    o[0] = vadd(vadd(m[0], s12), s34);
    o[1] = vfma(vset1(2.f), d34, d12);
    o[2] = vfma(vset1(4.f), s34, s12);
    o[3] = vadd(vfma(vset1(8.f), d34, d12), m[5]);
}

/* y[4j + s] = v[s] lane j for 4j + s < n (n <= 4 * VL). */
AI void wino_store4(float *y, const vf v[4], int n)
{
#if VL == 16
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i q0 = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const __m512i q1 = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    vf a0 = _mm512_permutex2var_ps(v[0], lo, v[1]), a1 = _mm512_permutex2var_ps(v[0], hi, v[1]);
    vf b0 = _mm512_permutex2var_ps(v[2], lo, v[3]), b1 = _mm512_permutex2var_ps(v[2], hi, v[3]);
    vf o[4] = {_mm512_permutex2var_ps(a0, q0, b0), _mm512_permutex2var_ps(a0, q1, b0),
               _mm512_permutex2var_ps(a1, q0, b1), _mm512_permutex2var_ps(a1, q1, b1)};
    for (int k = 0; k < 4; k++) {
        int r = n - k * 16;
        if (r >= 16)
            vstore(y + k * 16, o[k]);
        else if (r > 0)
            vstorem(y + k * 16, vmask_n(r), o[k]);
    }
#else
    float t[4][VL];
    for (int s = 0; s < 4; s++)
        vstore(t[s], v[s]);
    for (int i = 0; i < n; i++)
        y[i] = t[i & 3][i >> 2];
#endif
}

typedef struct wino_ctx {
    const dt_conv *cv;
    const float *x;
    float *y, *v; /* v: all of V (global mode) */
    char *slots;
    size_t slot_bytes;
    int block; /* per-block mode: each GEMM job transforms its block's input */
    int64_t tw, ntiles, ldv, nblk, mchunk, nmb;
    atomic_llong next;
} wino_ctx;

/* Padded rows [r0, r0 + hp) of channel xc into its four column-phase planes
 * (hp x wt_wq each). */
static void wino_fill(const dt_conv *cv, const float *xc, float *buf, int64_t r0, int64_t hp)
{
    const int64_t wq = cv->wt_wq;
#if VL == 16
    /* 64 padded columns at a time: masked loads (lanes outside the input
     * are zero and never read), then even/odd splits twice */
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int64_t r = 0; r < hp; r++) {
        int64_t iy = r0 + r - cv->PT;
        if (iy < 0 || iy >= cv->H) {
            for (int64_t q = 0; q < WT_M; q++)
                memset(buf + (q * hp + r) * wq, 0, (size_t)wq * sizeof(float));
            continue;
        }
        const float *src = xc + iy * cv->W;
        for (int64_t j = 0; j < wq; j += 16) {
            vf a[4];
            for (int k = 0; k < 4; k++) {
                int64_t c0 = WT_M * j + 16 * k - cv->PL; /* input column of lane 0 */
                int64_t lo = imax(0, -c0), hi = imin(16, cv->W - c0);
                a[k] = lo >= hi ? vzero() : vloadm(src + c0, vmask_range((int)lo, (int)hi));
            }
            vf e01 = _mm512_permutex2var_ps(a[0], ev, a[1]), o01 = _mm512_permutex2var_ps(a[0], od, a[1]);
            vf e23 = _mm512_permutex2var_ps(a[2], ev, a[3]), o23 = _mm512_permutex2var_ps(a[2], od, a[3]);
            float *d = buf + r * wq + j;
            vstore(d, _mm512_permutex2var_ps(e01, ev, e23));
            vstore(d + hp * wq, _mm512_permutex2var_ps(o01, ev, o23));
            vstore(d + 2 * hp * wq, _mm512_permutex2var_ps(e01, od, e23));
            vstore(d + 3 * hp * wq, _mm512_permutex2var_ps(o01, od, o23));
        }
    }
    return;
#endif
    for (int64_t q = 0; q < WT_M; q++) {
        /* column j of phase q is padded column 4j + q, input column 4j + q - PL */
        int64_t j0 = cv->PL > q ? cdiv(cv->PL - q, WT_M) : 0;
        int64_t j1 = imin(wq, cdiv(cv->W + cv->PL - q, WT_M));
        if (j1 < j0)
            j1 = j0;
        for (int64_t r = 0; r < hp; r++) {
            float *dst = buf + (q * hp + r) * wq;
            int64_t iy = r0 + r - cv->PT;
            if (iy < 0 || iy >= cv->H || j0 >= wq) {
                memset(dst, 0, (size_t)wq * sizeof(float));
                continue;
            }
            const float *src = xc + iy * cv->W + q - cv->PL;
            for (int64_t j = 0; j < j0; j++)
                dst[j] = 0.f;
            for (int64_t j = j0; j < j1; j++)
                dst[j] = src[WT_M * j];
            for (int64_t j = j1; j < wq; j++)
                dst[j] = 0.f;
        }
    }
}

/* Input transform of channel c for tiles [t0, t0 + nt): V[p][c][t - t0] at
 * v + p * C * ldv + c * ldv.  buf: a slot for the phase planes of the rows
 * those tiles read. */
static void wino_input(const wino_ctx *g, int64_t c, float *buf, int64_t t0, int64_t nt, float *v, int64_t ldv)
{
    const dt_conv *cv = g->cv;
    const int64_t wq = cv->wt_wq, tw = g->tw;
    const int64_t ty0 = t0 / tw, ty1 = (t0 + nt - 1) / tw; /* tile rows touched */
    const int64_t r0 = ty0 * WT_M, hp = (ty1 - ty0) * WT_M + WT_A;
    wino_fill(cv, g->x + c * cv->H * cv->W, buf, r0, hp);
    float *vc = v + c * ldv;
    const int64_t pstride = cv->C * ldv;
    for (int64_t ty = ty0; ty <= ty1; ty++) {
        int64_t a = imax(0, t0 - ty * tw), b = imin(tw, t0 + nt - ty * tw);
        for (int64_t tx0 = a; tx0 < b; tx0 += VL) {
            int n = (int)imin(VL, b - tx0);
            vmk m = vmask_n(n);
            vf t[WT_A][WT_A];
#pragma GCC unroll 6
            for (int r = 0; r < WT_A; r++) {
                vf d[WT_A];
#pragma GCC unroll 6
                for (int s = 0; s < WT_A; s++)
                    d[s] = vload(buf + ((s & 3) * hp + (ty - ty0) * WT_M + r) * wq + tx0 + (s >> 2));
                wino_bt(d, t[r]);
            }
            float *o = vc + ty * tw + tx0 - t0;
#pragma GCC unroll 6
            for (int s = 0; s < WT_A; s++) {
                vf col[WT_A], u[WT_A];
#pragma GCC unroll 6
                for (int r = 0; r < WT_A; r++)
                    col[r] = t[r][s];
                wino_bt(col, u);
#pragma GCC unroll 6
                for (int r = 0; r < WT_A; r++) {
                    float *dst = o + (r * WT_A + s) * pstride;
                    if (n == VL)
                        vstore(dst, u[r]);
                    else
                        vstorem(dst, m, u[r]);
                }
            }
        }
    }
}

static void wino_input_slot(void *arg, int64_t s0, int64_t s1)
{
    wino_ctx *g = arg;
    for (int64_t s = s0; s < s1; s++) {
        float *buf = (float *)(g->slots + (size_t)s * g->slot_bytes);
        for (;;) {
            int64_t c = atomic_fetch_add(&g->next, 1);
            if (c >= g->cv->C)
                break;
            wino_input(g, c, buf, 0, g->ntiles, g->v, g->ldv);
        }
    }
}

/* Output transform of panel rows [0, mr) for the block's tiles [t0, t0 + nt). */
static void wino_output(const wino_ctx *g, const float *mb, int64_t m0, int mr, int64_t t0, int64_t nt)
{
    const dt_conv *cv = g->cv;
    const int64_t NTB = PA_NV * VL, OHW = cv->OH * cv->OW, tw = g->tw;
    for (int i = 0; i < mr; i++) {
        const float *mi = mb + i * NTB;
        vf bias = vset1(cv->bias[m0 + i]);
        float *yc = g->y + (m0 + i) * OHW;
        for (int64_t ty = t0 / tw; ty * tw < t0 + nt; ty++) {
            int64_t a = imax(0, t0 - ty * tw), b = imin(tw, t0 + nt - ty * tw);
            for (int64_t tx0 = a; tx0 < b; tx0 += VL) {
                int n = (int)imin(VL, b - tx0);
                vmk m = vmask_n(n);
                const float *src = mi + ty * tw + tx0 - t0;
                vf t[WT_A][WT_M];
#pragma GCC unroll 6
                for (int r = 0; r < WT_A; r++) {
                    vf d[WT_A];
#pragma GCC unroll 6
                    for (int s = 0; s < WT_A; s++)
                        d[s] = vloadm(src + (r * WT_A + s) * PA_MR * NTB, m);
                    wino_at(d, t[r]);
                }
                vf out[WT_M][WT_M]; /* [row][col] */
#pragma GCC unroll 4
                for (int s = 0; s < WT_M; s++) {
                    vf col[WT_A], o[WT_M];
#pragma GCC unroll 6
                    for (int r = 0; r < WT_A; r++)
                        col[r] = t[r][s];
                    wino_at(col, o);
#pragma GCC unroll 4
                    for (int r = 0; r < WT_M; r++)
                        out[r][s] = vadd(o[r], bias);
                }
                ACT_BLOCK(out, WT_M, WT_M, &cv->act);
                int64_t x0 = tx0 * WT_M;
                int nx = (int)imin((int64_t)n * WT_M, cv->OW - x0);
#pragma GCC unroll 4
                for (int r = 0; r < WT_M; r++) {
                    int64_t oy = ty * WT_M + r;
                    if (oy < cv->OH)
                        wino_store4(yc + oy * cv->OW + x0, out[r], nx);
                }
            }
        }
    }
}

static void wino_gemm_slot(void *arg, int64_t s0, int64_t s1)
{
    wino_ctx *g = arg;
    const dt_conv *cv = g->cv;
    const int64_t NTB = PA_NV * VL, mpan = cdiv(cv->M, PA_MR);
    static const dt_act_params none = {DT_ACT_NONE, 0.f, 0.f};
    for (int64_t s = s0; s < s1; s++) {
        char *slot = g->slots + (size_t)s * g->slot_bytes;
        float *fb = (float *)slot, *mb = (float *)(slot + cv->wt_fill);
        float *vb = g->block ? (float *)(slot + cv->wt_slot) : g->v;
        const int64_t ldb = g->block ? NTB : g->ldv;
        for (;;) {
            int64_t job = atomic_fetch_add(&g->next, 1);
            if (job >= g->nblk * g->nmb)
                break;
            int64_t blk = job / g->nmb, mc = job % g->nmb;
            int64_t t0 = blk * NTB, nt = imin(NTB, g->ntiles - t0);
            int nv = (int)cdiv(nt, VL);
            int tl = (nt % VL) != 0;
            vmk tm = vmask_n((int)(nt - (nv - 1) * VL));
            int64_t m1 = imin(cv->M, (mc + 1) * g->mchunk);
            if (g->block)
                for (int64_t c = 0; c < cv->C; c++)
                    wino_input(g, c, fb, t0, nt, vb, NTB);
            const float *vt = g->block ? vb : vb + t0;
            for (int64_t m = mc * g->mchunk; m < m1; m += PA_MR) {
                int mr = (int)imin(PA_MR, m1 - m);
                for (int p = 0; p < WT_P; p++)
                    g_pa[tl][mr - 1][nv - 1](cv->C, cv->wp + (p * mpan + m / PA_MR) * cv->C * PA_MR,
                                             vt + p * cv->C * ldb, ldb, mb + p * PA_MR * NTB, NTB, cv->zero,
                                             &none, tm, KB_ALL);
                wino_output(g, mb, m, mr, t0, nt);
            }
        }
    }
}

static void run_wino(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                     dt_pool *pool)
{
    const int64_t NTB = PA_NV * VL;
    wino_ctx g;
    memset(&g, 0, sizeof g);
    g.cv = cv;
    g.tw = cdiv(cv->OW, WT_M);
    g.ntiles = cdiv(cv->OH, WT_M) * g.tw;
    g.ldv = cdiv(g.ntiles, NTB) * NTB;
    g.nblk = cdiv(g.ntiles, NTB);
    int64_t threads = dt_pool_threads(pool);
    int64_t slots = imin(threads, DT_CONV_SLOTS);
    size_t vbytes = ((size_t)(WT_P * cv->C * g.ldv) * sizeof(float) + 63) & ~(size_t)63;
    g.block = cv->wt_vblk && g.nblk >= 2 * slots;
    if (g.block) {
        g.slot_bytes = cv->wt_slot + cv->wt_vblk;
        g.slots = (char *)scratch;
    } else {
        g.slot_bytes = cv->wt_slot;
        g.v = (float *)scratch;
        g.slots = (char *)scratch + vbytes;
        scratch_bytes = scratch_bytes > vbytes ? scratch_bytes - vbytes : 0;
    }
    slots = imin(slots, (int64_t)(scratch_bytes / g.slot_bytes));
    if (slots < 1)
        return; /* prepare always reserves one slot */
    g.nmb = 1;
    g.mchunk = cdiv(cv->M, PA_MR) * PA_MR;
    if (!g.block && slots > 1 && g.nblk < 2 * slots) {
        int64_t want = imin(cdiv(2 * slots, g.nblk), imax(1, cv->M / 32));
        g.mchunk = cdiv(cdiv(cv->M, want), PA_MR) * PA_MR;
        g.nmb = cdiv(cv->M, g.mchunk);
    }
    for (int64_t n = 0; n < cv->N; n++) {
        g.x = x + n * cv->C * cv->H * cv->W;
        g.y = y + n * cv->M * cv->OH * cv->OW;
        atomic_store(&g.next, 0);
        if (!g.block)
            dt_pool_for(slots > 1 ? pool : NULL, imin(slots, cv->C), 1, wino_input_slot, &g);
        atomic_store(&g.next, 0);
        dt_pool_for(slots > 1 ? pool : NULL, imin(slots, g.nblk * g.nmb), 1, wino_gemm_slot, &g);
    }
}

#endif
