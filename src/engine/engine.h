/* engine.h — public API of detectd's inference engine.
 *
 * Lifecycle (plan once, run many):
 *   dt_model_load      file -> graph IR (ONNX or TF.js), validated; immutable
 *                      afterwards and safe to share between threads.
 *   dt_session_create  specialise the graph for concrete input shapes and
 *                      every batch size 1..max_batch (shape inference,
 *                      constant folding, dead-node removal, fusion), plan
 *                      memory, allocate ONE arena sized for the largest plan,
 *                      prepare backend kernels (pack weights).
 *   dt_session_run     copy inputs in, run the nodes, outputs stay in the
 *                      arena: no allocation on this path.
 *   dt_session_free / dt_model_free.
 * A session is used by one thread at a time; it owns its thread pool.
 */
#ifndef DT_ENGINE_H
#define DT_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "engine/tensor.h"

typedef struct dt_model dt_model;
typedef struct dt_session dt_session;
struct dt_graph; /* engine/graph.h */

typedef enum dt_model_format { DT_FORMAT_AUTO = 0, DT_FORMAT_ONNX, DT_FORMAT_TFJS } dt_model_format;

/* Load a model.  Format by extension when AUTO: ".json" = TF.js graph model
 * (weights shards beside it), anything else = ONNX.  On error *out is NULL
 * and nothing is leaked. */
dt_code dt_model_load(const char *path, dt_model_format fmt, dt_model **out, dt_status *st);
void dt_model_free(dt_model *m);
/* Wrap a graph already built or loaded in memory (dt_load_onnx_buffer, a
 * test's own graph) as a model.  Takes ownership of g, also on failure. */
dt_code dt_model_from_graph(struct dt_graph *g, dt_model_format fmt, dt_model **out, dt_status *st);

typedef struct dt_io_info {
    const char *name;          /* owned by the model */
    dt_dtype dtype;
    int ndim;
    int64_t dims[DT_MAX_DIMS]; /* -1 = symbolic / unknown (batch usually) */
} dt_io_info;

int dt_model_num_inputs(const dt_model *m);
int dt_model_num_outputs(const dt_model *m);
dt_io_info dt_model_input(const dt_model *m, int i);
dt_io_info dt_model_output(const dt_model *m, int i);
const char *dt_model_format_name(const dt_model *m); /* "onnx" / "tfjs" */
/* Access to the loaded (unspecialised) graph, for inspect and tests. */
const struct dt_graph *dt_model_graph(const dt_model *m);

typedef struct dt_session_opts {
    int threads;        /* total threads for this session (>= 1; 0 = 1) */
    int max_batch;      /* plans for batch 1..max_batch (0 = 1) */
    int reference;      /* 1 = reference kernels only (oracle mode) */
    int no_optimize;    /* 1 = skip fusion passes (debug) */
    int profile;        /* 1 = record per-node time */
    /* Optional override of input shapes (for models with symbolic spatial
     * dims); n_input_shapes entries, matched by position.  The batch dim in
     * these shapes is replaced by the run's batch size. */
    int n_input_shapes;
    const dt_tensor *input_shapes;
    /* Where the session runs: NULL, "" or "cpu" = CPU; "cuda" / "cuda:N" =
     * GPU N (engine/cuda/cuda.h).  A graph with an op the CUDA backend lacks
     * runs on the CPU (reason logged on stderr); a build or machine without
     * CUDA fails the create with DT_EUNSUPPORTED. */
    const char *device;
    /* Most bytes the session may hold: its arena (activations + scratch of
     * the largest batch plan) plus the constants folded or fused for it.
     * Checked after planning, before the arena is allocated: over it at
     * batch 1 fails the create with DT_ELIMIT naming both numbers; at a
     * larger batch the session stops at the largest batch that fits.
     * 0 = DT_SESSION_MAX_MEMORY_DEFAULT. */
    size_t max_memory;
} dt_session_opts;

/* Default session memory limit: 1 GiB.  The bundled detectors need 6-93 MB
 * at batch 1 (FastestDet 6 MB, centernet 21 MB, yolox_nano 53 MB, nanodet
 * 93 MB), so even eight of the largest fit; a model file asking for more is
 * far more likely hostile or broken than real. */
#define DT_SESSION_MAX_MEMORY_DEFAULT ((size_t)1 << 30)

dt_code dt_session_create(const dt_model *m, const dt_session_opts *opts, dt_session **out, dt_status *st);
void dt_session_free(dt_session *s);

/* Largest batch this session can run (1 if the graph does not allow a
 * batch dimension other than its own). */
int dt_session_max_batch(const dt_session *s);
/* The input shape for a batch size (dims of input i). */
dt_code dt_session_input_shape(const dt_session *s, int batch, int i, dt_tensor *shape_out, dt_status *st);
/* Pointer to input i's buffer in the arena for the given batch, so callers
 * can preprocess straight into it (no copy).  Valid until the next run. */
void *dt_session_input_buffer(dt_session *s, int batch, int i);

/* Run with `batch` items.  inputs may be NULL when the caller filled the
 * input buffers via dt_session_input_buffer; otherwise inputs[i].data is
 * copied in (dtype and dims must match the planned shape). */
dt_code dt_session_run(dt_session *s, int batch, const dt_tensor *inputs, dt_status *st);

/* Output i of the last run: a view into the arena, valid until the next run. */
const dt_tensor *dt_session_output(const dt_session *s, int i);
int dt_session_num_outputs(const dt_session *s);
const char *dt_session_output_name(const dt_session *s, int i);

/* Bytes of the session arena (activations + scratch), known at create. */
size_t dt_session_arena_bytes(const dt_session *s);
/* Bytes of constants the session's plans hold beyond the model's own
 * weights (folded shape arithmetic and anchor grids, fused weights). */
size_t dt_session_const_bytes(const dt_session *s);
/* The memory limit the session was created under (bytes). */
size_t dt_session_max_memory(const dt_session *s);

/* Statistics of the plan for a batch size (for inspect). */
typedef struct dt_plan_stats {
    int n_nodes;
    int64_t params;        /* number of weight elements */
    int64_t macs;          /* multiply-accumulates of conv/gemm/matmul */
    size_t arena_bytes;
    size_t weight_bytes;
    int op_counts[128];    /* by dt_op (first 128 ops) */
} dt_plan_stats;
dt_code dt_session_stats(const dt_session *s, int batch, dt_plan_stats *out, dt_status *st);

/* Per-node profile of the last runs (profile = 1): calls fn for each node
 * with its op name, node name and accumulated microseconds. */
typedef void (*dt_profile_fn)(void *arg, const char *op, const char *node, double usec, int64_t macs);
void dt_session_profile(const dt_session *s, int batch, dt_profile_fn fn, void *arg);
void dt_session_profile_reset(dt_session *s);

/* "cpu" or "cuda:N": where the session runs (after any CPU fallback). */
const char *dt_session_device(const dt_session *s);

/* Human-readable plan for a batch size: one line per node (op, kernel,
 * name, output shapes, arena offsets).  For `inspect --verbose`. */
void dt_session_dump(const dt_session *s, int batch, FILE *f);

#endif
