/* conv.h — the CPU backend's fast Conv (used by select.c and the tests).
 * dt_cpu_conv_select returns the kernel for a Conv node it can run (NCHW or
 * NHWC, any group/stride/dilation/pads, fused activation), else NULL.  The
 * state functions let tests run one ISA's kernels directly. */
#ifndef DT_CPU_CONV_H
#define DT_CPU_CONV_H

#include <stddef.h>

#include "engine/cpu/cpu.h"
#include "engine/cpu/pool.h"

const dt_cpu_kernel *dt_cpu_conv_select(const dt_graph *g, const dt_node *n);

typedef struct dt_conv dt_conv;
/* isa: 0 generic, 1 AVX2, 2 AVX-512 (the caller checks the CPU has it). */
dt_code dt_conv_state_create(const dt_graph *g, const dt_node *n, int isa, dt_conv **out, dt_status *st);
void dt_conv_state_free(dt_conv *cv);
size_t dt_conv_state_scratch(const dt_conv *cv);
void dt_conv_state_run(const dt_conv *cv, const float *x, float *y, void *scratch, size_t scratch_bytes,
                       dt_pool *pool);

#endif
