/* alloc.h — the project's allocator, with a test-only failure injection point.
 *
 * All engine, vision and server code allocates through dt_malloc/dt_calloc/
 * dt_realloc/dt_free so that fault tests can make the N-th allocation fail
 * (SQLite style) and check that every error path frees what it took.
 * dt_aligned_alloc returns 64-byte aligned memory (for SIMD kernels and the
 * session arena); free it with dt_free as well.
 */
#ifndef DT_ALLOC_H
#define DT_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *dt_malloc(size_t n);
void *dt_calloc(size_t count, size_t size);
void *dt_realloc(void *p, size_t n);
void *dt_aligned_alloc(size_t n); /* 64-byte aligned; release with dt_free */
void dt_free(void *p);
char *dt_strdup(const char *s);
char *dt_strndup(const char *s, size_t n);

/* Test hook: after `countdown` more successful allocations, every further
 * allocation fails until dt_alloc_fail_reset().  countdown < 0 disables.
 * Process-wide; meant for single-threaded fault tests only. */
void dt_alloc_fail_after(long countdown);
void dt_alloc_fail_reset(void);
/* Number of allocations made since the last reset (to size a fault sweep). */
long dt_alloc_count(void);

/* Overflow-checked size arithmetic: return 0 and leave *out untouched on overflow. */
static inline int dt_mul_size(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

#endif
