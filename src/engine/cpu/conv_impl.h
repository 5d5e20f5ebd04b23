/* conv_impl.h — internals of the CPU fast convolution (conv.c and the
 * per-ISA conv_generic.c / conv_avx2.c / conv_avx512.c).  Not a public API.
 *
 * Kinds:
 *   NCHW gemm : out[Mg, OH*OW] = W[Mg, K] x X'[K, OH*OW] per group, K =
 *               Cg*KH*KW in OIHW order.  X' is X itself for 1x1/s1/p0,
 *               otherwise read in place from zero-bordered column-phase
 *               planes of the input (implicit GEMM: no im2col).
 *               Weights packed in MR-row panels [K][MR].
 *   NHWC gemm : out[OH*OW, Mg] = X'[OH*OW, K] x W^T[K, Mg], K = (ky,kx,ci):
 *               implicit im2col, each micro-kernel row reads Cg contiguous
 *               channels of one input pixel per tap (a zero row for padding;
 *               with K <= 64, a stem conv, the pixel's patch is gathered into
 *               one row).  Weights packed in NR-column strips [K][NR].
 *   winograd  : NCHW stride-1 3x3 group-1 convs with enough channels run
 *               F(4x4,3x3) (conv_wino.h): weights transformed at load.
 *   depthwise : direct KHxKW kernel, group == C == M; NCHW reads padded
 *               column-phase copies of each plane, NHWC vectorises channels.
 * Long K runs in chunks (GEMM_KC) accumulating into the output, so that the
 * chunk of B stays in L1; the activation is applied after the last chunk.
 */
#ifndef DT_CPU_CONV_IMPL_H
#define DT_CPU_CONV_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/cpu/pool.h"
#include "engine/ops/op_util.h"

enum { DT_CONV_NCHW_GEMM = 1, DT_CONV_NHWC_GEMM, DT_CONV_DW };
enum { DT_ISA_GENERIC = 0, DT_ISA_AVX2, DT_ISA_AVX512 };

/* Depthwise NCHW buffers are per thread slot; at most this many slots. */
#define DT_CONV_SLOTS 8

typedef struct dt_conv {
    int kind, isa, nhwc;
    int64_t N, C, H, W;      /* input (logical NCHW sizes whatever the layout) */
    int64_t M, OH, OW;       /* output channels and spatial size */
    int KH, KW, SH, SW, DH, DW, PT, PL;
    int group;
    int64_t Cg, Mg, K;       /* per-group input / output channels, GEMM depth */
    int direct;              /* NCHW gemm: 1x1/s1/p0, X is read in place */
    dt_act_params act;
    /* blocking the weights were packed for */
    int mr, nr;              /* NCHW: rows per A panel; NHWC: floats per B strip */
    float *wp;               /* packed weights (64-byte aligned) */
    float *bias;             /* M floats (zeros when absent), padded for vector loads */
    float *zero;             /* NHWC: Cg zero floats for padding taps */
    int64_t dw_hq, dw_wq;    /* NCHW depthwise / implicit: rows and columns of each padded phase plane */
    int32_t *koff;           /* NCHW implicit GEMM: offset of B row k from an output segment's base */
    size_t dw_slot;          /* NCHW depthwise: bytes of one slot (SW phase planes) */
    size_t scratch;          /* bytes of scratch run() needs */
    /* Winograd F(4x4,3x3) (conv_wino.h): stride-1 3x3 NCHW, group 1 */
    int wino;
    int64_t wt_hp, wt_wq;    /* rows and columns of each column-phase plane of a channel */
    size_t wt_slot;          /* bytes of one thread slot: phase planes, then the GEMM tile buffer */
    size_t wt_fill;          /* bytes of the phase planes at the start of a slot */
    size_t wt_vblk;          /* per-block mode: bytes of a block's V after the slot (0: never) */
} dt_conv;

/* Blocking of each ISA's micro-kernels: NCHW rows per weight panel, NCHW
 * columns per strip, NHWC columns (output channels) per weight strip. */
void dt_conv_blocking_generic(int *mr, int *nr_nchw, int *nr_nhwc);
void dt_conv_blocking_avx2(int *mr, int *nr_nchw, int *nr_nhwc);
void dt_conv_blocking_avx512(int *mr, int *nr_nchw, int *nr_nhwc);

/* Run one conv (all batch items).  x/y are the node's input/output data. */
void dt_conv_run_generic(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                         dt_pool *pool);
void dt_conv_run_avx2(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                      dt_pool *pool);
void dt_conv_run_avx512(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                        dt_pool *pool);

/* Elementwise kernels of the same instantiations (eltwise_fast.c). */
void dt_fast_act_generic(const dt_act_params *p, const float *x, float *y, int64_t n);
void dt_fast_act_avx2(const dt_act_params *p, const float *x, float *y, int64_t n);
void dt_fast_act_avx512(const dt_act_params *p, const float *x, float *y, int64_t n);
void dt_fast_binary_generic(int op, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n);
void dt_fast_binary_avx2(int op, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n);
void dt_fast_binary_avx512(int op, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n);
void dt_fast_softmax_generic(const float *x, float *y, int64_t rows, int64_t n);
void dt_fast_softmax_avx2(const float *x, float *y, int64_t rows, int64_t n);
void dt_fast_softmax_avx512(const float *x, float *y, int64_t rows, int64_t n);

#endif
