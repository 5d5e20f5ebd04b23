/* misc_fast_avx512.c — AVX-512 row primitives of misc_fast.c.  Compiled with
 * AVX-512 flags; called only after a runtime CPU check. */
#include <immintrin.h>
#include <stdint.h>

#include "engine/cpu/misc_fast.h"

static inline __m512 op2(int add, __m512 a, __m512 b) { return add ? _mm512_add_ps(a, b) : _mm512_max_ps(a, b); }

void dt_fast_op_inplace_avx512(int add, float *dst, const float *src, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, op2(add, _mm512_loadu_ps(src + i), _mm512_loadu_ps(dst + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(dst + i, m, op2(add, _mm512_maskz_loadu_ps(m, src + i), _mm512_maskz_loadu_ps(m, dst + i)));
    }
}

void dt_fast_op_s2_avx512(int add, float *dst, const float *src, int64_t n)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        /* src[2i+31] may lie past the row: leave it out */
        __m512 v = _mm512_permutex2var_ps(_mm512_loadu_ps(src + 2 * i), even,
                                          _mm512_maskz_loadu_ps(0x7fff, src + 2 * i + 16));
        _mm512_storeu_ps(dst + i, op2(add, v, _mm512_loadu_ps(dst + i)));
    }
    for (; i < n; i++) {
        float v = src[2 * i];
        dst[i] = add ? dst[i] + v : (v > dst[i] ? v : dst[i]);
    }
}

void dt_fast_fill_avx512(float *dst, float v, int64_t n)
{
    __m512 x = _mm512_set1_ps(v);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, x);
    if (i < n)
        _mm512_mask_storeu_ps(dst + i, (__mmask16)((1u << (n - i)) - 1u), x);
}

void dt_fast_colsum_avx512(const float *x, int64_t rows, int64_t stride, int64_t cols, float *out)
{
    for (int64_t c0 = 0; c0 < cols; c0 += 64) {
        int64_t nc = cols - c0 < 64 ? cols - c0 : 64;
        __mmask16 m[4];
        __m512 a[4];
        for (int v = 0; v < 4; v++) {
            int64_t l = nc - 16 * v;
            m[v] = l >= 16 ? (__mmask16)0xffff : l > 0 ? (__mmask16)((1u << l) - 1u) : 0;
            a[v] = _mm512_setzero_ps();
        }
        const float *p = x + c0;
        for (int64_t r = 0; r < rows; r++, p += stride)
            for (int v = 0; v < 4; v++)
                a[v] = _mm512_add_ps(a[v], _mm512_maskz_loadu_ps(m[v], p + 16 * v));
        for (int v = 0; v < 4; v++)
            _mm512_mask_storeu_ps(out + c0 + 16 * v, m[v], a[v]);
    }
}

float dt_fast_sum_avx512(const float *x, int64_t n)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m, x + i));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

void dt_fast_copy_s2_avx512(float *dst, const float *src, int64_t n)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 a = _mm512_loadu_ps(src + 2 * j);
        __m512 b = _mm512_maskz_loadu_ps(0x7fff, src + 2 * j + 16); /* src[2j+31] may lie past the end */
        _mm512_storeu_ps(dst + j, _mm512_permutex2var_ps(a, even, b));
    }
    for (; j < n; j++)
        dst[j] = src[2 * j];
}

/* One output row of a stride-2 (horizontal) pool: out[ox] = op over the
 * valid rows r < nrows and taps kx < KW of rows[r][2*ox - PL + kx], taps
 * outside [0, W) taking `fill` (-FLT_MAX for max, 0 for sums).  Tap kx of 16
 * outputs is the even (kx even) or odd lanes of the 32 floats from
 * 2*ox0 - PL + (kx & ~1): one masked load pair serves two taps.  Sums add
 * the taps of a row first, then the rows, in order (as the reference). */
void dt_fast_pool_s2_row_avx512(int add, float fill, float *out, int64_t OW, const float *const *rows, int nrows,
                                int64_t W, int KW, int64_t PL)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 fv = _mm512_set1_ps(fill);
    for (int64_t ox = 0; ox < OW; ox += 16) {
        __m512 acc = fv;
        for (int r = 0; r < nrows; r++) {
            __m512 h = fv;
            for (int kb = 0; kb < KW; kb += 2) {
                int64_t base = 2 * ox - PL + kb;
                int64_t lo = base < 0 ? -base : 0, hi = W - base;
                lo = lo > 32 ? 32 : lo;
                hi = hi < 0 ? 0 : hi > 32 ? 32 : hi;
                uint64_t bits = hi > lo ? (((uint64_t)1 << hi) - 1) & ~(((uint64_t)1 << lo) - 1) : 0;
                const float *p = rows[r] + base;
                __m512 a = _mm512_mask_loadu_ps(fv, (__mmask16)(bits & 0xffff), p);
                __m512 b = _mm512_mask_loadu_ps(fv, (__mmask16)(bits >> 16), p + 16);
                h = op2(add, h, _mm512_permutex2var_ps(a, even, b));
                if (kb + 1 < KW)
                    h = op2(add, h, _mm512_permutex2var_ps(a, odd, b));
            }
            acc = op2(add, acc, h);
        }
        int64_t n = OW - ox;
        if (n >= 16)
            _mm512_storeu_ps(out + ox, acc);
        else
            _mm512_mask_storeu_ps(out + ox, (__mmask16)((1u << n) - 1u), acc);
    }
}
