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
