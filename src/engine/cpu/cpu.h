/* cpu.h — the CPU backend: fast kernels chosen per node, reference otherwise.
 *
 * At session creation, for every node of the specialised graph (shapes
 * concrete, weights constant) the engine asks dt_cpu_select for a fast
 * kernel.  If one is returned, its prepare() runs once (pack weights into
 * node->kstate with node->kstate_free, raise node->scratch_bytes if it needs
 * more temp) and run() is used for every inference; otherwise the op's
 * reference kernel (ops.h) runs.  run() follows the dt_kernel_fn contract
 * and must not allocate.
 */
#ifndef DT_CPU_H
#define DT_CPU_H

#include "engine/graph.h"
#include "engine/ops.h"

typedef struct dt_cpu_kernel {
    const char *name; /* e.g. "conv_nchw_avx512" (shown by bench --profile) */
    dt_code (*prepare)(dt_graph *g, dt_node *n, dt_status *st);
    dt_kernel_fn run;
} dt_cpu_kernel;

/* A fast kernel for this node, or NULL to use the reference kernel. */
const dt_cpu_kernel *dt_cpu_select(const dt_graph *g, const dt_node *n);

/* CPU features, detected once. */
typedef struct dt_cpu_features {
    int avx2, fma, avx512f, avx512bw, avx512vl, avx512bf16, avx512vnni;
} dt_cpu_features;
const dt_cpu_features *dt_cpu_features_get(void);

#endif
