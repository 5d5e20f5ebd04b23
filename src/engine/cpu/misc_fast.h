/* misc_fast.h — fast CPU kernels for the non-conv ops that show up in the
 * detectors' profiles (MaxPool/AveragePool, Resize, TopK, ReduceMean).  Used by select.c. */
#ifndef DT_CPU_MISC_FAST_H
#define DT_CPU_MISC_FAST_H

#include <stdint.h>

#include "engine/cpu/cpu.h"

const dt_cpu_kernel *dt_cpu_maxpool_select(const dt_graph *g, const dt_node *n);
const dt_cpu_kernel *dt_cpu_resize_select(const dt_graph *g, const dt_node *n);
const dt_cpu_kernel *dt_cpu_topk_select(const dt_graph *g, const dt_node *n);
const dt_cpu_kernel *dt_cpu_reduce_select(const dt_graph *g, const dt_node *n);
const dt_cpu_kernel *dt_cpu_slice_select(const dt_graph *g, const dt_node *n);
/* eltwise_fast.c */
const dt_cpu_kernel *dt_cpu_eltwise_select(const dt_graph *g, const dt_node *n);

/* dst[i] = max(dst[i], src[i]), or dst[i] + src[i] when add */
void dt_fast_op_inplace_avx512(int add, float *dst, const float *src, int64_t n);
/* the same with src[2i] */
void dt_fast_op_s2_avx512(int add, float *dst, const float *src, int64_t n);
void dt_fast_fill_avx512(float *dst, float v, int64_t n);
/* out[c] = sum over r < rows of x[r*stride + c], c < cols */
void dt_fast_colsum_avx512(const float *x, int64_t rows, int64_t stride, int64_t cols, float *out);
float dt_fast_sum_avx512(const float *x, int64_t n);
/* one output row of a pool with horizontal stride 2 over the nrows valid input
 * rows (max, or sums when add; taps outside [0, W) count as fill) */
void dt_fast_pool_s2_row_avx512(int add, float fill, float *out, int64_t OW, const float *const *rows, int nrows,
                                int64_t W, int KW, int64_t PL);
/* dst[j] = src[2j], j < n */
void dt_fast_copy_s2_avx512(float *dst, const float *src, int64_t n);

#endif
