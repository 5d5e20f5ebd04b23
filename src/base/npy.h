/* npy.h — NumPy .npy files (v1/v2/v3, C order, little-endian) <-> dt_tensor.
 * Used by `detectd infer` and tests; the file is untrusted input (fuzzed). */
#ifndef DT_NPY_H
#define DT_NPY_H

#include <stddef.h>

#include "base/status.h"
#include "engine/tensor.h"

/* Parse .npy bytes.  On success *out has dtype/dims and data pointing to a
 * new dt_malloc'd buffer the caller frees with dt_free(out->data). */
dt_code dt_npy_parse(const void *bytes, size_t len, dt_tensor *out, dt_status *st);
dt_code dt_npy_read(const char *path, dt_tensor *out, dt_status *st);
dt_code dt_npy_write(const char *path, const dt_tensor *t, dt_status *st);

/* Read a whole file into a dt_malloc'd buffer (at most max_bytes). */
dt_code dt_file_read(const char *path, size_t max_bytes, void **data, size_t *len, dt_status *st);

#endif
