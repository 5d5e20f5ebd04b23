/* conv_avx512.c — AVX-512 instantiation of conv_kern.h (16 lanes, 8x3 blocks).
 * Compiled with AVX-512 flags; called only after dt_cpu_features_get(). */
#include <immintrin.h>

#include "engine/cpu/conv_impl.h"

#define VL 16
typedef __m512 vf;
typedef __mmask16 vmk;

#define PA_MR 8
#define PA_NV 3
#define RA_ROWS 24
#define RA_NV 3
#define LIST3_(X, M, T) X(M, 1, T) X(M, 2, T) X(M, 3, T)
#define LIST8x3(X, T)                                                                              \
    LIST3_(X, 1, T) LIST3_(X, 2, T) LIST3_(X, 3, T) LIST3_(X, 4, T) LIST3_(X, 5, T) LIST3_(X, 6, T) \
    LIST3_(X, 7, T) LIST3_(X, 8, T)
#define PA_LIST(X, T) LIST8x3(X, T)
#define RA_LIST(X, T) X(24, 1, T) X(12, 2, T) X(8, 3, T)
#define ISA_FN(name) name##_avx512

#define vzero() _mm512_setzero_ps()
#define vset1(f) _mm512_set1_ps(f)
#define vload(p) _mm512_loadu_ps(p)
#define vloadm(p, m) _mm512_maskz_loadu_ps((m), (p))
#define vstore(p, v) _mm512_storeu_ps((p), (v))
#define vstorem(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define vbcast(p) _mm512_set1_ps(*(p))
#define vadd _mm512_add_ps
#define vsub _mm512_sub_ps
#define vmul _mm512_mul_ps
#define vdiv _mm512_div_ps
#define vmin _mm512_min_ps
#define vmax _mm512_max_ps
#define vfma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define vfnma(a, b, c) _mm512_fnmadd_ps((a), (b), (c))
#define vround(v) _mm512_roundscale_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define vscale2(v, n) _mm512_scalef_ps((v), (n))
/* t - floor(t), and v * 2^floor(t) (vscalef floors its exponent) */
#define vfrac_floor(t) _mm512_reduce_ps((t), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define vscale2floor(v, t) _mm512_scalef_ps((v), (t))
#define vnegabs(v) _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)))

static inline vf vrcp(vf d)
{
    vf r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.f)), r);
}
static inline vf vselneg(vf x, vf a, vf b)
{
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), a, b);
}
static inline vmk vmask_n(int n) { return (vmk)((1u << n) - 1u); }
/* vmask_range, vload_s2m and vload_s2 belong to the conv_kern.h interface but
 * no kernel variant uses them at the moment: unused, not dead (clang warns). */
__attribute__((unused)) static inline vmk vmask_range(int lo, int hi)
{
    return lo >= hi ? 0 : (vmk)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}
/* p[2j] for j in [lo, hi): two masked loads of the raw positions, then the
 * even lanes; masked-off lanes are never read. */
__attribute__((unused)) static inline vf vload_s2m(const float *p, int lo, int hi)
{
    if (lo >= hi)
        return _mm512_setzero_ps();
    uint32_t raw = (uint32_t)((((uint64_t)1 << (2 * hi - 1)) - 1) & ~(((uint64_t)1 << (2 * lo)) - 1));
    vf a = _mm512_maskz_loadu_ps((__mmask16)(raw & 0xffff), p);
    vf b = _mm512_maskz_loadu_ps((__mmask16)(raw >> 16), p + 16);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, even, b);
}
static inline void copy_s2(float *dst, const float *src, int64_t n)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        vf a = _mm512_loadu_ps(src + 2 * j);
        vf b = _mm512_maskz_loadu_ps(0x7fff, src + 2 * j + 16); /* src[2j+31] may lie past the row */
        _mm512_storeu_ps(dst + j, _mm512_permutex2var_ps(a, even, b));
    }
    for (; j < n; j++)
        dst[j] = src[2 * j];
}

__attribute__((unused)) static inline vf vload_s2(const float *p)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_maskz_loadu_ps(0x7fff, p + 16));
}

#include "engine/cpu/conv_kern.h"
