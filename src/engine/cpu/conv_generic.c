/* conv_generic.c — portable C instantiation of conv_kern.h (one lane, 4x4
 * scalar blocks): the fallback for CPUs without AVX2. */
#include <math.h>

#include "engine/cpu/conv_impl.h"

#define VL 1
typedef float vf;
typedef int vmk;

#define PA_MR 4
#define PA_NV 4
#define RA_ROWS 8
#define RA_NV 4
#define LIST4_(X, M, T) X(M, 1, T) X(M, 2, T) X(M, 3, T) X(M, 4, T)
#define LIST4x4(X, T) LIST4_(X, 1, T) LIST4_(X, 2, T) LIST4_(X, 3, T) LIST4_(X, 4, T)
#define PA_LIST(X, T) LIST4x4(X, T)
#define RA_LIST(X, T) X(8, 1, T) X(4, 2, T) X(2, 3, T) X(2, 4, T)
#define ISA_FN(name) name##_generic

#define vzero() 0.f
#define vset1(f) (f)
#define vload(p) (*(p))
#define vloadm(p, m) ((m) ? *(p) : 0.f)
#define vstore(p, v) (*(p) = (v))
#define vstorem(p, m, v) ((m) ? (void)(*(p) = (v)) : (void)0)
#define vbcast(p) (*(p))
#define vadd(a, b) ((a) + (b))
#define vsub(a, b) ((a) - (b))
#define vmul(a, b) ((a) * (b))
#define vdiv(a, b) ((a) / (b))
#define vmin(a, b) ((a) < (b) ? (a) : (b))
#define vmax(a, b) ((a) > (b) ? (a) : (b))
#define vfma(a, b, c) ((a) * (b) + (c))
#define vfnma(a, b, c) ((c) - (a) * (b))
#define vround(v) nearbyintf(v)
#define vscale2(v, n) ldexpf((v), (int)(n))
#define vrcp(d) (1.f / (d))
#define vnegabs(v) (-fabsf(v))
#define vselneg(x, a, b) ((x) < 0.f ? (b) : (a))
#define vmask_n(n) ((n) > 0)
#define vmask_range(lo, hi) ((lo) <= 0 && (hi) > 0)
#define vload_s2m(p, lo, hi) (((lo) <= 0 && (hi) > 0) ? *(p) : 0.f)

static inline void copy_s2(float *dst, const float *src, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        dst[j] = src[2 * j];
}

#define vload_s2(p) (*(p))

#include "engine/cpu/conv_kern.h"
