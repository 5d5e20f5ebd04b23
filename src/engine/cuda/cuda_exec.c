/* cuda_exec.c — the CUDA executor (placeholder while the CUDA part is written). */
#include "engine/cuda/cuda.h"

#include <stdio.h>

int dt_cuda_built(void) { return 0; }

int dt_cuda_available(char *why, size_t cap)
{
    if (why && cap)
        snprintf(why, cap, "this build has no CUDA backend (nvcc or cuDNN not found at build time)");
    return 0;
}

dt_code dt_cuda_device_stats(int dev, dt_cuda_stats *out, dt_status *st)
{
    (void)dev;
    (void)out;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend");
}

dt_code dt_cuda_exec_create(int dev, dt_graph *const *graphs, const size_t *act_bytes, int n_plans,
                            dt_cuda_exec **out, char *why, size_t why_cap, dt_status *st)
{
    (void)dev;
    (void)graphs;
    (void)act_bytes;
    (void)n_plans;
    (void)why;
    (void)why_cap;
    *out = NULL;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend (nvcc or cuDNN not found at build time)");
}

void dt_cuda_exec_free(dt_cuda_exec *e) { (void)e; }

dt_code dt_cuda_exec_io(dt_cuda_exec *e, int batch, dt_tensor *inputs, int n_in, dt_tensor *outputs, int n_out,
                        dt_status *st)
{
    (void)e;
    (void)batch;
    (void)inputs;
    (void)n_in;
    (void)outputs;
    (void)n_out;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend");
}

dt_code dt_cuda_exec_run(dt_cuda_exec *e, int batch, dt_status *st)
{
    (void)e;
    (void)batch;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend");
}

size_t dt_cuda_exec_device_bytes(const dt_cuda_exec *e)
{
    (void)e;
    return 0;
}

const char *dt_cuda_exec_kernel(const dt_cuda_exec *e, int batch, int node)
{
    (void)e;
    (void)batch;
    (void)node;
    return NULL;
}
