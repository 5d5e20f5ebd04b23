/* passes.h — graph transformations run once at session creation.
 *
 * Order: specialize (concrete input shapes → shape inference + constant
 * folding) → dce → fuse → plan.  Every pass keeps the graph valid and
 * topologically ordered, and leaves graph outputs' names untouched.
 */
#ifndef DT_PASSES_H
#define DT_PASSES_H

#include <stddef.h>

#include "base/status.h"
#include "engine/graph.h"

/* Largest tensor any pass accepts: no real model comes near it, and it keeps
 * the planner's size arithmetic far from overflow. */
#define DT_TENSOR_BYTES_MAX ((size_t)1 << 48)

/* Give every graph input the concrete shape in `shapes` (by position; NULL
 * entries keep the declared shape, which must then be fully known), run
 * shape inference over all nodes, and fold every node whose inputs are all
 * constant (and Shape/Size of known shapes) into constants.  Folding
 * materialises at most max(16 MiB, the graph's constant bytes) in all: the
 * nodes past that budget stay and run at inference time.  Fails naming the
 * node on an unsupported op, a shape error, or (DT_ELIMIT) a tensor whose
 * element count or byte size overflows / exceeds DT_TENSOR_BYTES_MAX. */
dt_code dt_pass_specialize(dt_graph *g, int n_shapes, const dt_tensor *shapes, dt_status *st);

/* Remove nodes whose outputs nothing live uses, then compact. */
dt_code dt_pass_dce(dt_graph *g, dt_status *st);

/* Fusions on a specialised graph: drop Identity/Dropout, make auto_pad
 * explicit, fold Pad into Conv, BatchNormalization into Conv, a per-channel
 * constant Add into the Conv bias, and activations (Relu, Clip, LeakyRelu,
 * Sigmoid, HardSigmoid, HardSwish, Tanh, x*sigmoid(x) = SiLU) into
 * Conv/Gemm.  Ends with dce. */
dt_code dt_pass_fuse(dt_graph *g, dt_status *st);

/* Memory plan: give every non-constant value an arena offset (64-byte
 * aligned, values with disjoint lifetimes share memory; pure view ops
 * (Reshape, Flatten, Squeeze, Unsqueeze, Identity) alias their input).
 * *arena_bytes = activations; *scratch_offset = start of the scratch region
 * (max node->scratch_bytes), placed after the activations.  The total arena
 * is *scratch_offset + max scratch. */
dt_code dt_pass_plan(dt_graph *g, size_t *arena_bytes, size_t *scratch_offset, size_t *scratch_bytes,
                     dt_status *st);

/* dt_pass_plan with options.  DT_PLAN_CONCAT_INPLACE: an input of a Concat
 * whose parts are contiguous in its output (every dim before the axis is 1)
 * is placed inside the output (value->alias = the output, ->alias_off = its
 * byte offset, 64-byte aligned), so its producer writes it in place and the
 * Concat kernel finds nothing to copy (it must skip inputs whose data
 * already lies at their place in the output).  For executors whose Concat
 * does that (the CPU one). */
#define DT_PLAN_CONCAT_INPLACE 1u
/* DT_PLAN_OFFSET_VIEWS: the outputs of a Split, and of a Gather of one
 * constant index, that are contiguous ranges of their input (every dim
 * before the axis is 1) alias the input at their byte offset; such a node
 * has nothing left to do (dt_node_is_planned_view). */
#define DT_PLAN_OFFSET_VIEWS 2u
dt_code dt_pass_plan_ex(dt_graph *g, unsigned flags, size_t *arena_bytes, size_t *scratch_offset,
                        size_t *scratch_bytes, dt_status *st);

/* True if the node's output is a pure view of its first input (no kernel run
 * once aliased). */
int dt_op_is_view(dt_op op);

/* True if the planner made every output of n share its first input's memory
 * (a view op, or an offset view from DT_PLAN_OFFSET_VIEWS): nothing to run. */
int dt_node_is_planned_view(const dt_graph *g, const dt_node *n);

#endif
