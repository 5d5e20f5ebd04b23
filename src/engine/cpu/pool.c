#include "engine/cpu/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"

/* A fork-join pool: the caller publishes a job (fn, arg, n, chunk), bumps a
 * generation counter and works on chunks itself; workers wake on the
 * generation change, grab chunks with an atomic counter, and the caller waits
 * until every worker has checked out of the generation.  Workers spin briefly
 * before sleeping so back-to-back kernels do not pay a futex round trip. */
struct dt_pool {
    int n_threads; /* including the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    /* job */
    dt_pool_fn fn;
    void *arg;
    int64_t n, chunk;
    atomic_llong next;
    atomic_int generation;
    atomic_int active; /* workers still in the current job */
    int stop;
    atomic_int busy;   /* nested-call guard */
};

static void run_chunks(dt_pool *p)
{
    for (;;) {
        int64_t b = atomic_fetch_add(&p->next, p->chunk);
        if (b >= p->n)
            break;
        int64_t e = b + p->chunk < p->n ? b + p->chunk : p->n;
        p->fn(p->arg, b, e);
    }
}

static void *worker(void *arg)
{
    dt_pool *p = arg;
    int seen = 0;
    for (;;) {
        int gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && spins < 20000) {
            if (p->stop)
                return NULL;
            spins++;
            __builtin_ia32_pause();
        }
        if (gen == seen) {
            pthread_mutex_lock(&p->mu);
            while ((gen = atomic_load(&p->generation)) == seen && !p->stop)
                pthread_cond_wait(&p->cv_work, &p->mu);
            pthread_mutex_unlock(&p->mu);
            if (p->stop)
                return NULL;
        }
        seen = gen;
        run_chunks(p);
        if (atomic_fetch_sub_explicit(&p->active, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->cv_done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

dt_code dt_pool_create(int threads, dt_pool **out, dt_status *st)
{
    *out = NULL;
    if (threads < 1)
        threads = 1;
    dt_pool *p = dt_calloc(1, sizeof *p);
    if (!p)
        return dt_fail(st, DT_ENOMEM, "out of memory creating thread pool");
    p->n_threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (threads > 1) {
        p->threads = dt_calloc((size_t)threads - 1, sizeof(pthread_t));
        if (!p->threads) {
            dt_pool_free(p);
            return dt_fail(st, DT_ENOMEM, "out of memory creating thread pool");
        }
        for (int i = 0; i < threads - 1; i++) {
            if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
                p->n_threads = i + 1; /* only join what started */
                dt_pool_free(p);
                return dt_fail(st, DT_EINTERNAL, "cannot start thread pool worker");
            }
        }
    }
    *out = p;
    return DT_OK;
}

void dt_pool_free(dt_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    if (p->threads)
        for (int i = 0; i < p->n_threads - 1; i++)
            pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    dt_free(p->threads);
    dt_free(p);
}

int dt_pool_threads(const dt_pool *p) { return p ? p->n_threads : 1; }

void dt_pool_for(dt_pool *p, int64_t n, int64_t grain, dt_pool_fn fn, void *arg)
{
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    int expected = 0;
    if (!p || p->n_threads == 1 || n <= grain ||
        !atomic_compare_exchange_strong(&p->busy, &expected, 1)) {
        fn(arg, 0, n);
        return;
    }
    /* about 4 chunks per thread for balance, never smaller than grain */
    int64_t chunk = (n + (int64_t)p->n_threads * 4 - 1) / ((int64_t)p->n_threads * 4);
    if (chunk < grain)
        chunk = grain;
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = chunk;
    atomic_store(&p->next, 0);
    atomic_store(&p->active, p->n_threads - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p);
    int spins = 0;
    while (atomic_load_explicit(&p->active, memory_order_acquire) > 0 && spins < 100000) {
        spins++;
        __builtin_ia32_pause();
    }
    if (atomic_load(&p->active) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->active) > 0)
            pthread_cond_wait(&p->cv_done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
    atomic_store(&p->busy, 0);
}
