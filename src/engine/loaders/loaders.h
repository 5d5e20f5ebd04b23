/* loaders.h — model files -> dt_graph.
 *
 * Both loaders produce the same IR (see graph.h / op_list.h): ONNX-named ops
 * with ONNX semantics; constants as graph constants (float16/uint8-quantized
 * weights dequantized to float32 at load; float64 converted to float32,
 * int32/int64/bool kept); graph inputs marked, with -1 for symbolic dims;
 * graph outputs marked in the model's order.  Nodes are in a valid
 * topological order.  A model file is untrusted input: every size, index
 * and offset is checked; errors name the file, node and reason; nothing is
 * leaked on any error path.
 */
#ifndef DT_LOADERS_H
#define DT_LOADERS_H

#include <stddef.h>

#include "base/status.h"
#include "engine/graph.h"

/* ONNX: `path` to a .onnx file; external data is resolved relative to its
 * directory (and may not escape it). */
dt_code dt_load_onnx(const char *path, dt_graph **out, dt_status *st);
/* ONNX from memory; base_dir for external data (NULL = external data refused). */
dt_code dt_load_onnx_buffer(const void *data, size_t len, const char *base_dir, dt_graph **out, dt_status *st);

/* TF.js graph model: `path` to model.json; weight shards beside it. */
dt_code dt_load_tfjs(const char *path, dt_graph **out, dt_status *st);
/* TF.js from memory: the JSON text and the concatenated weight shards. */
dt_code dt_load_tfjs_buffer(const char *json, size_t json_len, const void *weights, size_t weights_len,
                            dt_graph **out, dt_status *st);

#endif
