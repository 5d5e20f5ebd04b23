/* workq.c — see workq.h. */
#include "server/workq.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "base/alloc.h"

struct worker {
    dt_workq *q;
    void *wctx;
    dt_job **batch; /* max_batch slots */
    pthread_t tid;
};

struct dt_workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* idle workers wait here */
    pthread_cond_t fill_cv; /* a worker filling a batch waits here */
    dt_job *head, *tail;
    int depth, capacity;
    int stopping;
    int collecting;         /* workers waiting to fill a batch */
    int n_workers;
    struct worker *workers;
    /* batch mode */
    int max_batch, timeout_us;
    dt_workq_batch_fn batch_fn;
    void *batch_arg;
};

double dt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

dt_code dt_workq_create(int capacity, dt_workq **out, dt_status *st)
{
    *out = NULL;
    if (capacity < 1)
        return dt_fail(st, DT_EINVAL, "queue capacity must be >= 1");
    dt_workq *q = dt_calloc(1, sizeof *q);
    if (!q)
        return dt_fail(st, DT_ENOMEM, "out of memory for the job queue");
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_cond_init(&q->fill_cv, &ca);
    pthread_condattr_destroy(&ca);
    q->capacity = capacity;
    q->max_batch = 1;
    *out = q;
    return DT_OK;
}

void dt_workq_set_batch(dt_workq *q, int max_batch, int timeout_us, dt_workq_batch_fn fn, void *arg)
{
    q->max_batch = max_batch < 1 ? 1 : max_batch;
    q->timeout_us = timeout_us < 0 ? 0 : timeout_us;
    q->batch_fn = fn;
    q->batch_arg = arg;
}

/* Caller holds mu and head is not NULL. */
static dt_job *pop_locked(dt_workq *q)
{
    dt_job *j = q->head;
    q->head = j->next;
    if (!q->head)
        q->tail = NULL;
    q->depth--;
    j->next = NULL;
    return j;
}

static struct timespec deadline_in_us(int us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)us * 1000LL;
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    dt_workq *q = w->q;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        if (!q->head)
            break; /* stopping and drained */
        int n = 0;
        w->batch[n++] = pop_locked(q);
        while (n < q->max_batch && q->head)
            w->batch[n++] = pop_locked(q);
        if (n < q->max_batch && q->timeout_us > 0 && !q->stopping) {
            /* Wait (bounded) for more requests to share this run. */
            struct timespec dl = deadline_in_us(q->timeout_us);
            q->collecting++;
            while (n < q->max_batch && !q->stopping) {
                if (q->head) {
                    w->batch[n++] = pop_locked(q);
                    continue;
                }
                if (pthread_cond_timedwait(&q->fill_cv, &q->mu, &dl) == ETIMEDOUT) {
                    while (n < q->max_batch && q->head)
                        w->batch[n++] = pop_locked(q);
                    break;
                }
            }
            q->collecting--;
        }
        /* Jobs left over (a full batch, or pushes that woke only us): let
         * an idle worker have them now rather than after this batch. */
        if (q->head)
            pthread_cond_signal(&q->cv);
        pthread_mutex_unlock(&q->mu);
        if (q->batch_fn)
            q->batch_fn(q->batch_arg, w->batch, n, w->wctx);
        else
            for (int i = 0; i < n; i++)
                w->batch[i]->run(w->batch[i], w->wctx);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

dt_code dt_workq_start(dt_workq *q, int n, void *const *wctx, dt_status *st)
{
    if (n < 1 || q->workers)
        return dt_fail(st, DT_EINVAL, "bad worker count or already started");
    q->workers = dt_calloc((size_t)n, sizeof *q->workers);
    if (!q->workers)
        return dt_fail(st, DT_ENOMEM, "out of memory for workers");
    for (int i = 0; i < n; i++) {
        q->workers[i].q = q;
        q->workers[i].wctx = wctx[i];
        q->workers[i].batch = dt_calloc((size_t)q->max_batch, sizeof(dt_job *));
        if (!q->workers[i].batch ||
            pthread_create(&q->workers[i].tid, NULL, worker_main, &q->workers[i]) != 0) {
            /* Keep the ones that started: stop() joins exactly n_workers. */
            dt_free(q->workers[i].batch);
            q->workers[i].batch = NULL;
            if (i == 0) {
                dt_free(q->workers);
                q->workers = NULL;
            }
            return dt_fail(st, DT_ENOMEM, "cannot start worker thread %d", i);
        }
        q->n_workers = i + 1;
    }
    return DT_OK;
}

dt_code dt_workq_push(dt_workq *q, dt_job *job, dt_status *st)
{
    job->next = NULL;
    job->enqueued_ms = dt_now_ms();
    pthread_mutex_lock(&q->mu);
    if (q->stopping || q->n_workers == 0) {
        pthread_mutex_unlock(&q->mu);
        return dt_fail(st, DT_EBUSY, "server is not accepting work");
    }
    if (q->depth >= q->capacity) {
        pthread_mutex_unlock(&q->mu);
        return dt_fail(st, DT_EBUSY, "server busy: %d requests already queued", q->capacity);
    }
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->depth++;
    if (q->collecting)
        pthread_cond_signal(&q->fill_cv);
    else
        pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return DT_OK;
}

int dt_workq_depth(dt_workq *q)
{
    pthread_mutex_lock(&q->mu);
    int d = q->depth;
    pthread_mutex_unlock(&q->mu);
    return d;
}

dt_job *dt_workq_take_expired(dt_workq *q, double now_ms)
{
    dt_job *out = NULL, **out_tail = &out;
    pthread_mutex_lock(&q->mu);
    dt_job **pp = &q->head, *prev = NULL;
    while (*pp) {
        dt_job *j = *pp;
        if (j->deadline_ms > 0 && j->deadline_ms <= now_ms) {
            *pp = j->next;
            if (q->tail == j)
                q->tail = prev;
            q->depth--;
            j->next = NULL;
            *out_tail = j;
            out_tail = &j->next;
        } else {
            prev = j;
            pp = &j->next;
        }
    }
    pthread_mutex_unlock(&q->mu);
    return out;
}

static void join_workers(dt_workq *q)
{
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_cond_broadcast(&q->fill_cv);
    int n = q->n_workers;
    q->n_workers = 0;
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < n; i++) {
        pthread_join(q->workers[i].tid, NULL);
        dt_free(q->workers[i].batch);
        q->workers[i].batch = NULL;
    }
}

dt_job *dt_workq_stop_take(dt_workq *q)
{
    if (!q)
        return NULL;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    dt_job *list = q->head;
    q->head = q->tail = NULL;
    q->depth = 0;
    pthread_mutex_unlock(&q->mu);
    join_workers(q);
    return list;
}

void dt_workq_stop(dt_workq *q)
{
    if (!q)
        return;
    join_workers(q);
    /* Nobody ran what is left only if there never were workers: run it
     * here so no job (and the connection it holds) is lost. */
    for (;;) {
        pthread_mutex_lock(&q->mu);
        dt_job *j = q->head ? pop_locked(q) : NULL;
        pthread_mutex_unlock(&q->mu);
        if (!j)
            break;
        if (q->batch_fn)
            q->batch_fn(q->batch_arg, &j, 1, NULL);
        else
            j->run(j, NULL);
    }
}

void dt_workq_free(dt_workq *q)
{
    if (!q)
        return;
    dt_workq_stop(q);
    dt_free(q->workers);
    pthread_cond_destroy(&q->cv);
    pthread_cond_destroy(&q->fill_cv);
    pthread_mutex_destroy(&q->mu);
    dt_free(q);
}
