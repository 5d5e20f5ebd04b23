/* ops.h — operator semantics: shape inference plus the portable reference
 * kernel, one table entry per op.
 *
 * The reference kernels define what an op computes.  They stay in the project
 * as the oracle that fast kernels (cpu/) and other backends (cuda/) are tested
 * against, and they run constant folding at load time.  They must be correct
 * for every dtype/shape the op allows; speed is the fast path's business.
 *
 * Kernel contract:
 *   - in[i] is NULL for an omitted optional input; otherwise a view with
 *     concrete dims and data.  out[i] views are pre-shaped (dims as inferred)
 *     with data pointing at enough memory; kernels never allocate.
 *   - ctx->scratch holds node->scratch_bytes bytes (set by infer) of temp.
 *   - ctx->pool may be NULL (run inline); use dt_pool_for to parallelise.
 *   - return DT_OK or an error through st (never abort on bad data).
 *
 * Infer contract: given the graph with input values of `n` typed and shaped
 * (and constant inputs carrying data), set dtype/ndim/dims of every output
 * value (dt_value_set) and node->scratch_bytes.  Reject invalid shapes and
 * attributes with DT_ESHAPE / DT_EINVAL naming the node.  Infer may require
 * an input to be constant (Reshape's shape, Slice's starts, TopK's k, ...):
 * after shape specialisation and folding these are constants.
 */
#ifndef DT_OPS_H
#define DT_OPS_H

#include "base/status.h"
#include "engine/graph.h"
#include "engine/tensor.h"

struct dt_pool;

typedef struct dt_kctx {
    struct dt_pool *pool; /* NULL = single thread */
    void *scratch;
    size_t scratch_bytes;
} dt_kctx;

typedef dt_code (*dt_infer_fn)(dt_graph *g, dt_node *n, dt_status *st);
typedef dt_code (*dt_kernel_fn)(const dt_node *n, const dt_tensor *const *in, int n_in,
                                dt_tensor *const *out, int n_out, const dt_kctx *ctx,
                                dt_status *st);

typedef struct dt_opdef {
    dt_op op;
    dt_infer_fn infer;
    dt_kernel_fn ref;
} dt_opdef;

/* Tables, each terminated by an entry with op == DT_OP_UNKNOWN. */
extern const dt_opdef dt_opdefs_nn[];      /* ops/nn.c      */
extern const dt_opdef dt_opdefs_eltwise[]; /* ops/eltwise.c */
extern const dt_opdef dt_opdefs_tensor[];  /* ops/tensor.c  */

/* Definition of an op, or NULL if the engine has no implementation. */
const dt_opdef *dt_opdef_get(dt_op op);

#endif
