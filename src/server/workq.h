/* workq.h — a bounded job queue feeding a fixed set of worker threads,
 * optionally in batches.
 *
 * Jobs are intrusive (the caller embeds dt_job in its own struct, so a
 * push never allocates) and run in FIFO order.  Each worker gets its own
 * context pointer, given at start and never shared, so a worker can own a
 * model context that is not thread-safe.  A push beyond `capacity`
 * waiting jobs fails at once with DT_EBUSY: callers turn that into a fast
 * 503 instead of letting latency pile up.
 *
 * Batch mode (dt_workq_set_batch): a worker that finds a job takes up to
 * max_batch queued jobs at once; when fewer are there it waits up to
 * timeout_us after taking the first for more to arrive (Triton's
 * max_queue_delay: 0 = take what is queued, never wait).  The batch
 * function gets them all in FIFO order.
 *
 * Deadlines: a job with deadline_ms > 0 can be taken out of the queue by
 * dt_workq_take_expired once the monotonic clock passes it, so a waiting
 * request can be answered 504 on time although every worker is busy.
 */
#ifndef DT_SERVER_WORKQ_H
#define DT_SERVER_WORKQ_H

#include <stddef.h>

#include "base/status.h"

typedef struct dt_job {
    struct dt_job *next;
    /* Runs on a worker thread with that worker's context (single-job mode). */
    void (*run)(struct dt_job *job, void *wctx);
    double enqueued_ms; /* set by push (monotonic clock) */
    double deadline_ms; /* 0 = none; else dt_workq_take_expired may remove it after this time */
} dt_job;

typedef struct dt_workq dt_workq;

/* Runs a batch of 1..max_batch jobs on a worker (batch mode). */
typedef void (*dt_workq_batch_fn)(void *arg, dt_job **jobs, int n, void *wctx);

dt_code dt_workq_create(int capacity, dt_workq **out, dt_status *st);

/* Switch to batch mode; call before dt_workq_start.  max_batch >= 1,
 * timeout_us >= 0. */
void dt_workq_set_batch(dt_workq *q, int max_batch, int timeout_us, dt_workq_batch_fn fn, void *arg);

/* Start one thread per context (wctx[0..n-1], kept by pointer value; the
 * array itself is copied).  Call once. */
dt_code dt_workq_start(dt_workq *q, int n, void *const *wctx, dt_status *st);

/* Queue a job; DT_EBUSY when `capacity` jobs are already waiting or the
 * queue is stopping. */
dt_code dt_workq_push(dt_workq *q, dt_job *job, dt_status *st);

/* Jobs waiting (not counting those running). */
int dt_workq_depth(dt_workq *q);

/* Remove every waiting job whose deadline has passed at `now_ms`; they come
 * back linked through `next` (NULL if none), in queue order. */
dt_job *dt_workq_take_expired(dt_workq *q, double now_ms);

/* Refuse new jobs and hand back the waiting ones (linked through `next`)
 * instead of running them; the workers finish what they hold and are
 * joined.  For a bounded shutdown: the caller answers what comes back. */
dt_job *dt_workq_stop_take(dt_workq *q);

/* Refuse new jobs, run every queued one, join the threads.  Idempotent. */
void dt_workq_stop(dt_workq *q);

/* Stops first if needed. */
void dt_workq_free(dt_workq *q);

/* Monotonic milliseconds, the clock of enqueued_ms and deadline_ms. */
double dt_now_ms(void);

#endif
