#include "base/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Fault injection state.  These are the only mutable globals outside the
 * server config: they exist for tests and default to "never fail". */
static _Atomic long g_fail_countdown = -1;
static _Atomic long g_alloc_count = 0;

static int should_fail(void)
{
    atomic_fetch_add_explicit(&g_alloc_count, 1, memory_order_relaxed);
    long c = atomic_load_explicit(&g_fail_countdown, memory_order_relaxed);
    if (c < 0)
        return 0;
    if (c == 0)
        return 1;
    atomic_fetch_sub_explicit(&g_fail_countdown, 1, memory_order_relaxed);
    return 0;
}

void dt_alloc_fail_after(long countdown) { atomic_store(&g_fail_countdown, countdown); atomic_store(&g_alloc_count, 0); }
void dt_alloc_fail_reset(void) { atomic_store(&g_fail_countdown, -1); }
long dt_alloc_count(void) { return atomic_load(&g_alloc_count); }

void *dt_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *dt_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    if (!count || !size)
        return calloc(1, 1);
    return calloc(count, size);
}

void *dt_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *dt_aligned_alloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0)
        return NULL;
    return p;
}

void dt_free(void *p) { free(p); }

char *dt_strdup(const char *s)
{
    return s ? dt_strndup(s, strlen(s)) : NULL;
}

char *dt_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *d = dt_malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}
