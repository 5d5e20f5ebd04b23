/* cu_launch.h — C entry point into the kernels of cu_kernels.cu. */
#ifndef DT_CU_LAUNCH_H
#define DT_CU_LAUNCH_H

#include "engine/cuda/cu_kern.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Enqueue kernel step `s` (any kind but CONV and GEMM, which go through
 * cuDNN / cuBLAS) on `stream` (a cudaStream_t).  `err_flag` is a device word
 * a Gather sets to node + 1 on an out-of-range index.  Returns the
 * cudaError_t of the launch (0 = success). */
int dt_cu_launch(const dt_cu_step *s, void *stream, unsigned int *err_flag);

/* The epilogue of a convolution whose fused bias + relu cuDNN refused:
 * y = relu(y + bias[k]) over N*K*P*Q elements in the conv's layout. */
int dt_cu_launch_bias_relu(const dt_cu_conv *c, float *y, const float *bias, void *stream);

#ifdef __cplusplus
}
#endif

#endif
