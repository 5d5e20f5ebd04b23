/* pool.h — the thread pool a session owns.
 *
 * dt_pool_for splits [0, n) into chunks of at least `grain` items and runs
 * fn(arg, begin, end) on the pool's threads plus the calling thread, then
 * returns when all chunks are done.  A NULL pool (or 1 thread) runs inline.
 * Not reentrant: a kernel running inside dt_pool_for must not call it again
 * on the same pool (nested calls run inline).
 */
#ifndef DT_POOL_H
#define DT_POOL_H

#include <stdint.h>

#include "base/status.h"

typedef struct dt_pool dt_pool;
typedef void (*dt_pool_fn)(void *arg, int64_t begin, int64_t end);

/* threads = total workers including the caller (>= 1). */
dt_code dt_pool_create(int threads, dt_pool **out, dt_status *st);
void dt_pool_free(dt_pool *p);
int dt_pool_threads(const dt_pool *p); /* 1 for NULL */
void dt_pool_for(dt_pool *p, int64_t n, int64_t grain, dt_pool_fn fn, void *arg);

#endif
