/* conv_avx2.c — AVX2+FMA instantiation of conv_kern.h (8 lanes, 6x2 blocks).
 * Compiled with AVX2 flags; called only after dt_cpu_features_get(). */
#include <immintrin.h>

#include "engine/cpu/conv_impl.h"

#define VL 8
typedef __m256 vf;
typedef __m256i vmk;

#define PA_MR 6
#define PA_NV 2
#define RA_ROWS 12
#define RA_NV 2
#define LIST2_(X, M, T) X(M, 1, T) X(M, 2, T)
#define LIST6x2(X, T)                                                                              \
    LIST2_(X, 1, T) LIST2_(X, 2, T) LIST2_(X, 3, T) LIST2_(X, 4, T) LIST2_(X, 5, T) LIST2_(X, 6, T)
#define PA_LIST(X, T) LIST6x2(X, T)
#define RA_LIST(X, T) X(12, 1, T) X(6, 2, T)
#define ISA_FN(name) name##_avx2

#define vzero() _mm256_setzero_ps()
#define vset1(f) _mm256_set1_ps(f)
#define vload(p) _mm256_loadu_ps(p)
#define vloadm(p, m) _mm256_maskload_ps((p), (m))
#define vstore(p, v) _mm256_storeu_ps((p), (v))
#define vstorem(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define vbcast(p) _mm256_broadcast_ss(p)
#define vadd _mm256_add_ps
#define vsub _mm256_sub_ps
#define vmul _mm256_mul_ps
#define vdiv _mm256_div_ps
#define vmin _mm256_min_ps
#define vmax _mm256_max_ps
#define vfma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define vfnma(a, b, c) _mm256_fnmadd_ps((a), (b), (c))
#define vround(v) _mm256_round_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define vnegabs(v) _mm256_or_ps((v), _mm256_set1_ps(-0.0f))

static inline vf vscale2(vf v, vf n)
{
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(v, _mm256_castsi256_ps(e));
}
static inline vf vrcp(vf d)
{
    vf r = _mm256_rcp_ps(d);
    r = _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.f)), r);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.f)), r);
}
static inline vf vselneg(vf x, vf a, vf b)
{
    return _mm256_blendv_ps(a, b, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}
static inline vmk vmask_range(int lo, int hi)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_and_si256(_mm256_cmpgt_epi32(iota, _mm256_set1_epi32(lo - 1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), iota));
}
static inline vmk vmask_n(int n) { return vmask_range(0, n); }
static inline vf vload_s2m(const float *p, int lo, int hi)
{
    float t[8];
    for (int j = 0; j < 8; j++)
        t[j] = (j >= lo && j < hi) ? p[2 * j] : 0.f;
    return _mm256_loadu_ps(t);
}
static inline void copy_s2(float *dst, const float *src, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        dst[j] = src[2 * j];
}

/* Part of the conv_kern.h interface, unused by the current kernels. */
__attribute__((unused)) static inline vf vload_s2(const float *p) { return vload_s2m(p, 0, 8); }

#include "engine/cpu/conv_kern.h"
