/* resize.c — OpenCV-compatible 8-bit resampling (see resize.h).
 *
 * Mirrors OpenCV 4's imgproc/resize.cpp and imgwarp.cpp for CV_8U:
 *   - INTER_LINEAR: per-axis float weights rounded to Q11 shorts; horizontal
 *     pass in exact integers; vertical pass as OpenCV's 8-bit specialisation
 *     computes it ((mulhi(S0>>4, b0) + mulhi(S1>>4, b1) + 2) >> 2).  An exact 2x
 *     down-scale is routed to INTER_AREA, as OpenCV does.
 *   - INTER_AREA: integer scales average blocks; other down-scales use
 *     OpenCV's float coverage tables; up-scales fall back to its "area mode"
 *     bilinear weights.
 *   - warpAffine: the inverse map in Q10 with 1/32-pixel weights (Q15),
 *     constant border.
 */
#include "vision/resize.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "base/alloc.h"

#ifdef __SSE__
#include <xmmintrin.h>
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define COEF_BITS 11
#define COEF_SCALE (1 << COEF_BITS)

static inline int cv_round(double v) { return (int)lrint(v); }
static inline int cv_floor(double v)
{
    int i = (int)v;
    return i - (i > v);
}
static inline short sat_short(float v)
{
    long r = lrintf(v);
    return (short)(r < -32768 ? -32768 : r > 32767 ? 32767 : r);
}
static inline uint8_t sat_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
static inline uint8_t sat_u8f(float v)
{
#ifdef __SSE__
    /* cvtss2si: round to nearest even, as lrintf in the default mode, but
     * inline (lrintf is a libm call); out of range gives INT_MIN -> 0,
     * and the values here are sums of weighted bytes (0..~255). */
    int r = _mm_cvtss_si32(_mm_set_ss(v));
#else
    long r = lrintf(v);
#endif
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

static void copy_rows(const uint8_t *src, int sstride, uint8_t *dst, int dstride, int w, int h, int cn)
{
    for (int y = 0; y < h; y++)
        memcpy(dst + (size_t)y * dstride, src + (size_t)y * sstride, (size_t)w * cn);
}

/* ---- INTER_AREA, integer scale (resizeAreaFast_) ---------------------------- */

static void area_fast(const uint8_t *src, int sstride, int cn, uint8_t *dst, int dw, int dh, int dstride, int isx,
                      int isy)
{
    int area = isx * isy;
    float scale = 1.f / (float)area;
    for (int dy = 0; dy < dh; dy++) {
        uint8_t *D = dst + (size_t)dy * dstride;
        const uint8_t *S = src + (size_t)dy * isy * sstride;
        for (int dx = 0; dx < dw; dx++) {
            for (int k = 0; k < cn; k++) {
                int sum = 0;
                for (int j = 0; j < isy; j++) {
                    const uint8_t *r = S + (size_t)j * sstride + (size_t)dx * isx * cn + k;
                    for (int i = 0; i < isx; i++)
                        sum += r[i * cn];
                }
                /* OpenCV's SIMD path for 2x2 rounds half up; the generic one
                 * multiplies in float and rounds half to even. */
                D[dx * cn + k] = area == 4 && isx == 2 ? (uint8_t)((sum + 2) >> 2) : sat_u8f((float)sum * scale);
            }
        }
    }
}

/* ---- INTER_AREA, general down-scale (resizeArea_ / computeResizeAreaTab) ---- */

typedef struct area_tab {
    int di, si;
    float alpha;
} area_tab;

static int area_tab_compute(int ssize, int dsize, int cn, double scale, area_tab *tab)
{
    int k = 0;
    for (int dx = 0; dx < dsize; dx++) {
        double fsx1 = dx * scale;
        double fsx2 = fsx1 + scale;
        double cell = fmin(scale, ssize - fsx1);
        int sx1 = (int)ceil(fsx1), sx2 = cv_floor(fsx2);
        if (sx2 > ssize - 1)
            sx2 = ssize - 1;
        if (sx1 > sx2)
            sx1 = sx2;
        if (sx1 - fsx1 > 1e-3) {
            tab[k].di = dx * cn;
            tab[k].si = (sx1 - 1) * cn;
            tab[k++].alpha = (float)((sx1 - fsx1) / cell);
        }
        for (int sx = sx1; sx < sx2; sx++) {
            tab[k].di = dx * cn;
            tab[k].si = sx * cn;
            tab[k++].alpha = (float)(1.0 / cell);
        }
        if (fsx2 - sx2 > 1e-3) {
            tab[k].di = dx * cn;
            tab[k].si = sx2 * cn;
            tab[k++].alpha = (float)(fmin(fmin(fsx2 - sx2, 1.), cell) / cell);
        }
    }
    return k;
}

static dt_code area_general(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                            int dstride, double scale_x, double scale_y, dt_status *st)
{
    size_t ntab = (size_t)(sw + sh) * 2 + 4;
    size_t width = (size_t)dw * cn;
    area_tab *tab = dt_malloc(ntab * sizeof *tab);
    float *buf = dt_malloc(width * 2 * sizeof *buf);
    if (!tab || !buf) {
        dt_free(tab);
        dt_free(buf);
        return dt_fail(st, DT_ENOMEM, "resize: out of memory");
    }
    area_tab *xtab = tab, *ytab = tab + (size_t)sw * 2 + 2;
    int nx = area_tab_compute(sw, dw, cn, scale_x, xtab);
    int ny = area_tab_compute(sh, dh, 1, scale_y, ytab);
    float *sum = buf + width;
    for (size_t i = 0; i < width; i++)
        sum[i] = 0.f;
    int prev_dy = ny > 0 ? ytab[0].di : 0;
    for (int j = 0; j < ny; j++) {
        float beta = ytab[j].alpha;
        int dy = ytab[j].di, sy = ytab[j].si;
        const uint8_t *S = src + (size_t)sy * sstride;
        for (size_t i = 0; i < width; i++)
            buf[i] = 0.f;
        if (cn == 3) {
            /* The same sums in the same order (0 + the first term is exact),
             * kept in registers while the taps of one output pixel last. */
            for (int k = 0; k < nx;) {
                int dxn = xtab[k].di;
                float a0 = 0.f, a1 = 0.f, a2 = 0.f;
                for (; k < nx && xtab[k].di == dxn; k++) {
                    const uint8_t *p = S + xtab[k].si;
                    float a = xtab[k].alpha;
                    a0 = a0 + (float)p[0] * a;
                    a1 = a1 + (float)p[1] * a;
                    a2 = a2 + (float)p[2] * a;
                }
                buf[dxn] = a0;
                buf[dxn + 1] = a1;
                buf[dxn + 2] = a2;
            }
        } else {
            for (int k = 0; k < nx; k++) {
                int sxn = xtab[k].si, dxn = xtab[k].di;
                float a = xtab[k].alpha;
                for (int c = 0; c < cn; c++)
                    buf[dxn + c] = buf[dxn + c] + (float)S[sxn + c] * a;
            }
        }
        if (dy != prev_dy) {
            uint8_t *D = dst + (size_t)prev_dy * dstride;
            for (size_t i = 0; i < width; i++) {
                D[i] = sat_u8f(sum[i]);
                sum[i] = beta * buf[i];
            }
            prev_dy = dy;
        } else {
            for (size_t i = 0; i < width; i++)
                sum[i] += beta * buf[i];
        }
    }
    uint8_t *D = dst + (size_t)prev_dy * dstride;
    for (size_t i = 0; i < width; i++)
        D[i] = sat_u8f(sum[i]);
    dt_free(tab);
    dt_free(buf);
    return DT_OK;
}

/* ---- INTER_LINEAR (and area-mode up-scaling) -------------------------------- */

/* Source index and Q11 weights of one axis (resize.cpp's coefficient loop).
 * OpenCV clamps the horizontal taps here but not the vertical ones: rows
 * are clamped only when fetched, so edge rows keep their fractional weights
 * (which changes the rounding).  clamp selects the horizontal behaviour. */
static void linear_coefs(int ssize, int dsize, double scale, double inv_scale, int area_mode, int clamp, int *ofs,
                         short *alpha)
{
    for (int d = 0; d < dsize; d++) {
        float f;
        int s;
        if (!area_mode) {
            f = (float)((d + 0.5) * scale - 0.5);
            s = cv_floor(f);
            f -= (float)s;
        } else {
            s = cv_floor(d * scale);
            f = (float)((d + 1) - (s + 1) * inv_scale);
            f = f <= 0 ? 0.f : f - (float)cv_floor(f);
        }
        if (clamp && s < 0) {
            f = 0.f;
            s = 0;
        }
        if (clamp && s >= ssize - 1) {
            f = 0.f;
            s = ssize - 1;
        }
        ofs[d] = s;
        alpha[2 * d] = sat_short((1.f - f) * COEF_SCALE);
        alpha[2 * d + 1] = sat_short(f * COEF_SCALE);
    }
}

static void hresize(const uint8_t *S, int sw, int cn, const int *xofs, const short *xa, int dw, int *D)
{
    if (cn == 3) { /* the usual case, unrolled: same products */
        for (int dx = 0; dx < dw; dx++) {
            int sx = xofs[dx];
            const uint8_t *p = S + (size_t)sx * 3;
            int *d = D + (size_t)dx * 3;
            if (sx + 1 < sw) {
                int a0 = xa[2 * dx], a1 = xa[2 * dx + 1];
                d[0] = p[0] * a0 + p[3] * a1;
                d[1] = p[1] * a0 + p[4] * a1;
                d[2] = p[2] * a0 + p[5] * a1;
            } else {
                d[0] = p[0] * COEF_SCALE;
                d[1] = p[1] * COEF_SCALE;
                d[2] = p[2] * COEF_SCALE;
            }
        }
        return;
    }
    for (int dx = 0; dx < dw; dx++) {
        int sx = xofs[dx];
        const uint8_t *p = S + (size_t)sx * cn;
        short a0 = xa[2 * dx], a1 = xa[2 * dx + 1];
        if (sx + 1 < sw) {
            for (int k = 0; k < cn; k++)
                D[dx * cn + k] = p[k] * a0 + p[k + cn] * a1;
        } else {
            for (int k = 0; k < cn; k++)
                D[dx * cn + k] = p[k] * COEF_SCALE;
        }
    }
}

static inline int mulhi16(int a, int b) { return (a * b) >> 16; }

/* OpenCV's 8-bit specialisation of VResizeLinear: SIMD and scalar tail
 * alike compute ((b0 * (S0 >> 4)) >> 16) + ((b1 * (S1 >> 4)) >> 16), + 2, >> 2. */
static void vresize(const int *S0, const int *S1, short b0, short b1, uint8_t *D, int width)
{
    int x = 0;
#ifdef __SSE2__
    /* OpenCV's own SIMD form: rows >> 4 fit int16 (|v| <= 255 * 2048 >> 4),
     * _mm_mulhi_epi16 is the same floor((a * b) / 65536) as mulhi16, and the
     * int16 sum cannot overflow (the weights add up to 2048). */
    const __m128i vb0 = _mm_set1_epi16(b0), vb1 = _mm_set1_epi16(b1), two = _mm_set1_epi16(2);
    for (; x + 16 <= width; x += 16) {
        __m128i r[2];
        for (int h = 0; h < 2; h++) {
            const int *s0 = S0 + x + 8 * h, *s1 = S1 + x + 8 * h;
            __m128i a = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128((const __m128i *)s0), 4),
                                        _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(s0 + 4)), 4));
            __m128i b = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128((const __m128i *)s1), 4),
                                        _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(s1 + 4)), 4));
            __m128i t = _mm_add_epi16(_mm_add_epi16(_mm_mulhi_epi16(a, vb0), _mm_mulhi_epi16(b, vb1)), two);
            r[h] = _mm_srai_epi16(t, 2);
        }
        _mm_storeu_si128((__m128i *)(D + x), _mm_packus_epi16(r[0], r[1]));
    }
#endif
    for (; x < width; x++)
        D[x] = sat_u8((mulhi16(b0, S0[x] >> 4) + mulhi16(b1, S1[x] >> 4) + 2) >> 2);
}

static dt_code linear_generic(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                              int dstride, double scale_x, double scale_y, double inv_x, double inv_y, int area_mode,
                              dt_status *st)
{
    size_t width = (size_t)dw * cn;
    size_t bytes = (size_t)dw * sizeof(int) + (size_t)dw * 2 * sizeof(short) + (size_t)dh * sizeof(int) +
                   (size_t)dh * 2 * sizeof(short) + width * 2 * sizeof(int) + 64;
    uint8_t *mem = dt_malloc(bytes);
    if (!mem)
        return dt_fail(st, DT_ENOMEM, "resize: out of memory");
    int *rows = (int *)mem;           /* 2 rows of width ints */
    int *xofs = rows + width * 2;     /* dw */
    int *yofs = xofs + dw;            /* dh */
    short *xa = (short *)(yofs + dh); /* 2*dw */
    short *ya = xa + 2 * (size_t)dw;  /* 2*dh */
    linear_coefs(sw, dw, scale_x, inv_x, area_mode, 1, xofs, xa);
    linear_coefs(sh, dh, scale_y, inv_y, area_mode, 0, yofs, ya);
    int *r0 = rows, *r1 = rows + width;
    int have0 = -1, have1 = -1; /* source rows cached in r0 / r1 */
    for (int dy = 0; dy < dh; dy++) {
        int sy0 = yofs[dy], sy1 = sy0 + 1;
        sy0 = sy0 < 0 ? 0 : sy0 > sh - 1 ? sh - 1 : sy0;
        sy1 = sy1 < 0 ? 0 : sy1 > sh - 1 ? sh - 1 : sy1;
        if (have0 != sy0) {
            if (have1 == sy0) { /* slide the window down by one row */
                int *t = r0;
                r0 = r1;
                r1 = t;
                have0 = sy0;
                have1 = -1;
            } else {
                hresize(src + (size_t)sy0 * sstride, sw, cn, xofs, xa, dw, r0);
                have0 = sy0;
            }
        }
        if (have1 != sy1) {
            hresize(src + (size_t)sy1 * sstride, sw, cn, xofs, xa, dw, r1);
            have1 = sy1;
        }
        vresize(r0, r1, ya[2 * dy], ya[2 * dy + 1], dst + (size_t)dy * dstride, (int)width);
    }
    dt_free(mem);
    return DT_OK;
}

static dt_code check_args(const uint8_t *src, int sw, int sh, int cn, const uint8_t *dst, int dw, int dh,
                          dt_status *st)
{
    if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || cn <= 0 || cn > 4)
        return dt_fail(st, DT_EINVAL, "resize: invalid arguments (%dx%d -> %dx%d, %d channels)", sw, sh, dw, dh, cn);
    return DT_OK;
}

/* hal::resize's choice between the fast/general area paths and the
 * bilinear paths (shared by INTER_LINEAR and INTER_AREA). */
static dt_code resize_dispatch(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw,
                               int dh, int dstride, int area, double fx, double fy, dt_status *st)
{
    dt_code rc = check_args(src, sw, sh, cn, dst, dw, dh, st);
    if (rc != DT_OK)
        return rc;
    if (sw == dw && sh == dh) {
        copy_rows(src, sstride, dst, dstride, sw, sh, cn);
        return DT_OK;
    }
    double inv_x = fx > 0 ? fx : (double)dw / sw, inv_y = fy > 0 ? fy : (double)dh / sh;
    double scale_x = 1. / inv_x, scale_y = 1. / inv_y;
    int isx = cv_round(scale_x), isy = cv_round(scale_y);
    int fast = fabs(scale_x - isx) < DBL_EPSILON && fabs(scale_y - isy) < DBL_EPSILON;
    if (!area && fast && isx == 2 && isy == 2)
        area = 1;
    if (area && scale_x >= 1 && scale_y >= 1) {
        if (fast) {
            area_fast(src, sstride, cn, dst, dw, dh, dstride, isx, isy);
            return DT_OK;
        }
        return area_general(src, sw, sh, sstride, cn, dst, dw, dh, dstride, scale_x, scale_y, st);
    }
    return linear_generic(src, sw, sh, sstride, cn, dst, dw, dh, dstride, scale_x, scale_y, inv_x, inv_y, area, st);
}

dt_code dt_resize_linear_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                            int dstride, dt_status *st)
{
    return resize_dispatch(src, sw, sh, sstride, cn, dst, dw, dh, dstride, 0, 0., 0., st);
}

dt_code dt_resize_area_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                          int dstride, dt_status *st)
{
    return resize_dispatch(src, sw, sh, sstride, cn, dst, dw, dh, dstride, 1, 0., 0., st);
}

dt_code dt_resize_linear_factor_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, double fx, double fy,
                                   uint8_t *dst, int dw, int dh, int dstride, dt_status *st)
{
    if (!(fx > 0) || !(fy > 0))
        return dt_fail(st, DT_EINVAL, "resize: invalid scale factors");
    return resize_dispatch(src, sw, sh, sstride, cn, dst, dw, dh, dstride, 0, fx, fy, st);
}

/* ---- warpAffine --------------------------------------------------------------- */

#define INTER_BITS 5
#define INTER_TAB 32
#define AB_BITS 10
#define AB_SCALE (1 << AB_BITS)
#define REMAP_BITS 15

dt_code dt_warp_affine_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                          int dstride, const double M[6], uint8_t border, dt_status *st)
{
    dt_code rc = check_args(src, sw, sh, cn, dst, dw, dh, st);
    if (rc != DT_OK)
        return rc;
    /* invertAffineTransform */
    double D = M[0] * M[4] - M[1] * M[3];
    D = D != 0. ? 1. / D : 0.;
    double A11 = M[4] * D, A22 = M[0] * D, A12 = -M[1] * D, A21 = -M[3] * D;
    double iM[6] = {A11, A12, -A11 * M[2] - A12 * M[5], A21, A22, -A21 * M[2] - A22 * M[5]};

    int *delta = dt_malloc((size_t)dw * 2 * sizeof *delta);
    if (!delta)
        return dt_fail(st, DT_ENOMEM, "warp: out of memory");
    int *adelta = delta, *bdelta = delta + dw;
    for (int x = 0; x < dw; x++) {
        adelta[x] = cv_round(iM[0] * x * AB_SCALE);
        bdelta[x] = cv_round(iM[3] * x * AB_SCALE);
    }
    const int round_delta = AB_SCALE / INTER_TAB / 2;
    for (int y = 0; y < dh; y++) {
        int X0 = cv_round((iM[1] * y + iM[2]) * AB_SCALE) + round_delta;
        int Y0 = cv_round((iM[4] * y + iM[5]) * AB_SCALE) + round_delta;
        uint8_t *Dp = dst + (size_t)y * dstride;
        for (int x = 0; x < dw; x++, Dp += cn) {
            int X = (X0 + adelta[x]) >> (AB_BITS - INTER_BITS);
            int Y = (Y0 + bdelta[x]) >> (AB_BITS - INTER_BITS);
            int sx = X >> INTER_BITS, sy = Y >> INTER_BITS;
            int ax = X & (INTER_TAB - 1), ay = Y & (INTER_TAB - 1);
            /* Q15 bilinear weights from the 1/32 table (exact products). */
            int w0 = (INTER_TAB - ax) * (INTER_TAB - ay) * 32, w1 = ax * (INTER_TAB - ay) * 32;
            int w2 = (INTER_TAB - ax) * ay * 32, w3 = ax * ay * 32;
            if ((unsigned)sx < (unsigned)(sw - 1) && (unsigned)sy < (unsigned)(sh - 1)) {
                const uint8_t *p0 = src + (size_t)sy * sstride + (size_t)sx * cn, *p1 = p0 + sstride;
                for (int k = 0; k < cn; k++)
                    Dp[k] = sat_u8((p0[k] * w0 + p0[k + cn] * w1 + p1[k] * w2 + p1[k + cn] * w3 +
                                    (1 << (REMAP_BITS - 1))) >> REMAP_BITS);
            } else if (sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) {
                for (int k = 0; k < cn; k++)
                    Dp[k] = border;
            } else {
                int in_x0 = sx >= 0 && sx < sw, in_x1 = sx + 1 >= 0 && sx + 1 < sw;
                int in_y0 = sy >= 0 && sy < sh, in_y1 = sy + 1 >= 0 && sy + 1 < sh;
                for (int k = 0; k < cn; k++) {
                    int v0 = in_x0 && in_y0 ? src[(size_t)sy * sstride + (size_t)sx * cn + k] : border;
                    int v1 = in_x1 && in_y0 ? src[(size_t)sy * sstride + (size_t)(sx + 1) * cn + k] : border;
                    int v2 = in_x0 && in_y1 ? src[(size_t)(sy + 1) * sstride + (size_t)sx * cn + k] : border;
                    int v3 = in_x1 && in_y1 ? src[(size_t)(sy + 1) * sstride + (size_t)(sx + 1) * cn + k] : border;
                    Dp[k] = sat_u8((v0 * w0 + v1 * w1 + v2 * w2 + v3 * w3 + (1 << (REMAP_BITS - 1))) >> REMAP_BITS);
                }
            }
        }
    }
    dt_free(delta);
    return DT_OK;
}
