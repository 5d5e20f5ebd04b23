/* workq.h — a bounded job queue feeding a fixed set of worker threads.
 *
 * Jobs are intrusive (the caller embeds dt_job in its own struct, so a
 * push never allocates) and run in FIFO order.  Each worker gets its own
 * context pointer, given at start and never shared, so a worker can own a
 * model context that is not thread-safe.  A push beyond `capacity`
 * waiting jobs fails at once with DT_EBUSY: callers turn that into a fast
 * 503 instead of letting latency pile up.
 */
#ifndef DT_SERVER_WORKQ_H
#define DT_SERVER_WORKQ_H

#include <stddef.h>

#include "base/status.h"

typedef struct dt_job {
    struct dt_job *next;
    /* Runs on a worker thread with that worker's context. */
    void (*run)(struct dt_job *job, void *wctx);
    double enqueued_ms; /* set by push (monotonic clock) */
} dt_job;

typedef struct dt_workq dt_workq;

dt_code dt_workq_create(int capacity, dt_workq **out, dt_status *st);

/* Start one thread per context (wctx[0..n-1], kept by pointer value; the
 * array itself is copied).  Call once. */
dt_code dt_workq_start(dt_workq *q, int n, void *const *wctx, dt_status *st);

/* Queue a job; DT_EBUSY when `capacity` jobs are already waiting or the
 * queue is stopping. */
dt_code dt_workq_push(dt_workq *q, dt_job *job, dt_status *st);

/* Jobs waiting (not counting those running). */
int dt_workq_depth(dt_workq *q);

/* Refuse new jobs, run every queued one, join the threads.  Idempotent. */
void dt_workq_stop(dt_workq *q);

/* Stops first if needed. */
void dt_workq_free(dt_workq *q);

/* Monotonic milliseconds, the clock of enqueued_ms. */
double dt_now_ms(void);

#endif
