/* tensor.h — element types, shapes and the non-owning tensor view kernels see.
 *
 * A dt_tensor never owns its data: it is a view into the session arena, a
 * graph constant, or a caller buffer.  Shapes are row-major (C order).
 */
#ifndef DT_TENSOR_H
#define DT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define DT_MAX_DIMS 8

typedef enum dt_dtype {
    DT_UNDEF = 0,
    DT_F32,
    DT_F16, /* storage only (loaders dequantize); kernels see F32 */
    DT_I64,
    DT_I32,
    DT_U8,
    DT_I8,
    DT_BOOL, /* one byte, 0 or 1 */
    DT_F64,  /* storage only; converted to F32 at load */
    DT_DTYPE_COUNT_
} dt_dtype;

typedef struct dt_tensor {
    dt_dtype dtype;
    int ndim;
    int64_t dims[DT_MAX_DIMS];
    void *data;
} dt_tensor;

/* Bytes per element (0 for DT_UNDEF). */
size_t dt_dtype_size(dt_dtype t);
/* "float32", "int64", ... (ONNX-style names). */
const char *dt_dtype_name(dt_dtype t);

/* Product of dims (1 for a scalar, ndim == 0).  Returns -1 if any dim is
 * negative (unknown) or the product overflows int64. */
int64_t dt_shape_numel(int ndim, const int64_t *dims);
static inline int64_t dt_tensor_numel(const dt_tensor *t) { return dt_shape_numel(t->ndim, t->dims); }
/* numel * element size, or 0 on unknown/overflow. */
size_t dt_tensor_nbytes(const dt_tensor *t);

/* Formats "[1,3,416,416]" into buf (always NUL-terminated); returns buf. */
char *dt_shape_str(int ndim, const int64_t *dims, char *buf, size_t cap);

/* Read element i of a numeric tensor as double / int64 whatever its dtype
 * (slow: for shape computations and tests, not for kernels). */
double dt_tensor_get_f(const dt_tensor *t, int64_t i);
int64_t dt_tensor_get_i(const dt_tensor *t, int64_t i);

/* IEEE half <-> float conversion (for F16 weights). */
float dt_half_to_float(uint16_t h);
uint16_t dt_float_to_half(float f);

#endif
