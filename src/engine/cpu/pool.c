#include "engine/cpu/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"

/* A fork-join pool: the caller publishes a job (fn, arg, n, chunk), bumps a
 * generation counter and works on chunks itself; workers wake on the
 * generation change and grab chunks with an atomic counter.  The caller
 * returns as soon as every ITEM is done — not when every worker has checked
 * in: on a loaded machine a worker that never got scheduled would otherwise
 * add a whole time slice to every op.  A late worker that wakes into a later
 * job simply helps with that one; `next` is parked at a sentinel while a job
 * is being published so nobody can start on half-written fields.  Workers
 * wait actively a while before sleeping so back-to-back kernels do not pay
 * a futex round trip.
 *
 * Waiting threads (workers between jobs, the caller for the last chunks)
 * pause for SPIN_PAUSE rounds, then call sched_yield each round: on a
 * machine shared with other busy processes the scheduler may put a waiting
 * thread on the core of the one doing the work, and a pause loop would take
 * half of that core (two threads then ran slower than one); on an idle core
 * sched_yield returns at once, so the wake-up stays a few microseconds. */
#define PARKED ((int64_t)1 << 62)
#define SPIN_PAUSE 256
#define SPIN_MAX 4000

struct dt_pool {
    int n_threads; /* including the caller */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    /* job */
    dt_pool_fn fn;
    void *arg;
    atomic_llong n, chunk; /* atomics: a late worker may read them while a job is published */
    atomic_llong next;
    atomic_llong done;
    atomic_int generation;
    atomic_int stop;
    atomic_int busy; /* nested-call guard */
};

static void run_chunks(dt_pool *p)
{
    for (;;) {
        /* claim with the chunk size we read: claims never overlap even if a
         * late worker uses an older size */
        int64_t chunk = atomic_load_explicit(&p->chunk, memory_order_relaxed);
        int64_t b = atomic_fetch_add_explicit(&p->next, chunk, memory_order_acq_rel);
        int64_t n = atomic_load_explicit(&p->n, memory_order_relaxed);
        if (b >= n)
            break;
        int64_t e = b + chunk < n ? b + chunk : n;
        p->fn(p->arg, b, e);
        atomic_fetch_add_explicit(&p->done, e - b, memory_order_release);
    }
}

static void *worker(void *arg)
{
    dt_pool *p = arg;
    int seen = 0;
    for (;;) {
        int gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && spins < SPIN_MAX) {
            if (atomic_load(&p->stop))
                return NULL;
            /* after a short pause spin, yield while waiting: a waiting
             * worker must not take the core from the caller (or anyone)
             * when the scheduler has put them together */
            if (++spins > SPIN_PAUSE)
                sched_yield();
            else
                __builtin_ia32_pause();
        }
        if (gen == seen) {
            pthread_mutex_lock(&p->mu);
            while ((gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv_work, &p->mu);
            pthread_mutex_unlock(&p->mu);
            if (atomic_load(&p->stop))
                return NULL;
        }
        seen = gen;
        run_chunks(p);
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
    atomic_store(&p->next, PARKED);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
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
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    if (p->threads)
        for (int i = 0; i < p->n_threads - 1; i++)
            pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
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
    atomic_store_explicit(&p->next, PARKED, memory_order_release);
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->n, n, memory_order_relaxed);
    atomic_store_explicit(&p->chunk, chunk, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->next, 0, memory_order_release);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) < n) {
        if (++spins > SPIN_PAUSE)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
    /* park so a worker waking late cannot start on the next job's fields
     * before they are written */
    atomic_store_explicit(&p->next, PARKED, memory_order_release);
    atomic_store(&p->busy, 0);
}
