/* cuda.h — the CUDA backend, as the engine and the server see it.
 *
 * A session created with dt_session_opts.device = "cuda:N" runs the same
 * specialised, memory-planned graphs as the CPU backend (one per batch
 * size), translated into device steps: cuDNN convolutions, cuBLAS GEMMs and
 * our kernels (cu_kernels.cu) for the rest.  Per session: ONE device block
 * (weights uploaded once, the activation arena laid out by the CPU memory
 * plan, scratch), pinned host buffers for inputs and outputs, one stream,
 * one CUDA Graph per batch size captured on first use.  When a graph has an
 * op the backend lacks, creation declines (DT_EUNSUPPORTED with the reason)
 * and the engine runs the session on the CPU.
 *
 * Without CUDA at build time (no nvcc / cuDNN) every function here still
 * exists: dt_cuda_built() and dt_cuda_available() return 0 and the rest
 * fail with DT_EUNSUPPORTED.
 */
#ifndef DT_CUDA_H
#define DT_CUDA_H

#include <stddef.h>

#include "base/status.h"
#include "engine/graph.h"
#include "engine/tensor.h"

/* 1 if this build has the CUDA backend. */
int dt_cuda_built(void);

/* Number of usable GPUs; 0 when the build has no CUDA, the driver is
 * missing or there is no device, with the reason in `why` (may be NULL). */
int dt_cuda_available(char *why, size_t cap);

/* Device strings: NULL, "" or "cpu" -> -1 (CPU); "cuda" / "gpu" -> 0;
 * "cuda:N" -> N.  Anything else is DT_EINVAL. */
dt_code dt_cuda_parse_device(const char *s, int *dev, dt_status *st);

/* The device one worker runs on.  `req` as for dt_cuda_parse_device:
 * "cuda" / "gpu" spread workers over the visible GPUs (worker i ->
 * cuda:(i % n)), "cuda:N" pins every worker to GPU N, "cpu" / NULL is the
 * CPU.  Writes "cpu" or "cuda:N" to out.  When a GPU was asked for but none
 * is usable (no CUDA build, no driver, no device, N out of range) the
 * answer is "cpu" and `why` (may be NULL) says why; otherwise why = "".
 * Only a malformed `req` is an error (DT_EINVAL). */
dt_code dt_cuda_resolve_device(const char *req, int worker, char *out, size_t cap, char *why, size_t why_cap,
                               dt_status *st);

/* GPU memory and utilisation for /metrics.  util_pct and the memory numbers
 * come from NVML when libnvidia-ml is loadable (util_pct = -1 otherwise;
 * memory then from cudaMemGetInfo, which sees the whole device too). */
typedef struct dt_cuda_stats {
    char name[96];
    size_t mem_used, mem_total;
    int util_pct;
    int from_nvml;
} dt_cuda_stats;
dt_code dt_cuda_device_stats(int dev, dt_cuda_stats *out, dt_status *st);

typedef struct dt_cuda_exec dt_cuda_exec;

/* Build the executor of a session on GPU `dev` from its plans: graphs[i]
 * is the graph specialised and planned (dt_pass_plan) for batch i+1 and
 * act_bytes[i] its activation bytes.  The graphs must outlive the executor.
 * Returns DT_EUNSUPPORTED with `why` filled when a node has no CUDA
 * implementation (run on the CPU instead); DT_ENOMEM when GPU or pinned
 * memory runs out; other codes for CUDA errors.  Nothing leaks on error. */
dt_code dt_cuda_exec_create(int dev, dt_graph *const *graphs, const size_t *act_bytes, int n_plans,
                            dt_cuda_exec **out, char *why, size_t why_cap, dt_status *st);
void dt_cuda_exec_free(dt_cuda_exec *e);

/* Host views of the inputs and outputs of the plan for `batch`: pinned
 * buffers (constant outputs: the graph's data).  Callers write inputs there
 * and read outputs after dt_cuda_exec_run. */
dt_code dt_cuda_exec_io(dt_cuda_exec *e, int batch, dt_tensor *inputs, int n_in, dt_tensor *outputs, int n_out,
                        dt_status *st);

/* Upload inputs, run every step, download outputs, wait. */
dt_code dt_cuda_exec_run(dt_cuda_exec *e, int batch, dt_status *st);

/* Bytes of the device block (weights + activations + scratch). */
size_t dt_cuda_exec_device_bytes(const dt_cuda_exec *e);

/* Name of what runs node `node` of the plan for `batch` ("cudnn_conv",
 * "cu_binary", ...), or NULL for an aliased view. */
const char *dt_cuda_exec_kernel(const dt_cuda_exec *e, int batch, int node);

#endif
