/* workq.c — see workq.h. */
#include "server/workq.h"

#include <pthread.h>
#include <time.h>

#include "base/alloc.h"

struct worker {
    dt_workq *q;
    void *wctx;
    pthread_t tid;
};

struct dt_workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    dt_job *head, *tail;
    int depth, capacity;
    int stopping;
    int n_workers;
    struct worker *workers;
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
    pthread_cond_init(&q->cv, NULL);
    q->capacity = capacity;
    *out = q;
    return DT_OK;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    dt_workq *q = w->q;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        dt_job *j = q->head;
        if (!j)
            break; /* stopping and drained */
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->depth--;
        pthread_mutex_unlock(&q->mu);
        j->next = NULL;
        j->run(j, w->wctx);
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
        if (pthread_create(&q->workers[i].tid, NULL, worker_main, &q->workers[i]) != 0) {
            /* Keep the ones that started: stop() joins exactly n_workers. */
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

void dt_workq_stop(dt_workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cv);
    int n = q->n_workers;
    q->n_workers = 0;
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < n; i++)
        pthread_join(q->workers[i].tid, NULL);
    /* Nobody ran what is left only if there never were workers: run it
     * here so no job (and the connection it holds) is lost. */
    for (;;) {
        pthread_mutex_lock(&q->mu);
        dt_job *j = q->head;
        if (j) {
            q->head = j->next;
            if (!q->head)
                q->tail = NULL;
            q->depth--;
        }
        pthread_mutex_unlock(&q->mu);
        if (!j)
            break;
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
    pthread_mutex_destroy(&q->mu);
    dt_free(q);
}
