/* sched.c — models and the work behind the HTTP threads: the model slots
 * (one per served model) and their instances (one per load), the prep
 * pool, the batching inference workers, request deadlines, reloads and the
 * /metrics text.  See internal.h for who owns a request when.
 *
 * Threads: prep threads (cfg.prep_threads, shared), inference workers
 * (cfg.workers per instance), one manager (loads, reloads, frees retired
 * instances: the slow things, never on a request's path) and one timer
 * (answers 504 to requests whose deadline passes while they wait).
 */
#include "server/internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "engine/cuda/cuda.h"

#define MAX_BATCH_HARD 256

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- names ---------------------------------------------------------------------- */

/* Model names are path segments and metric labels: letters, digits, '.',
 * '_' and '-', not starting with '.', never "..": a name can never reach
 * outside the model directory (names are only ever looked up in the
 * registry built at startup, never joined to a path). */
int model_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MODEL_NAME_MAX || name[0] == '.' || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* "models/nanodet.detectd.json" -> "nanodet", "/x/yolox_nano.onnx" -> "yolox_nano". */
static void derive_name(const char *model, char *out, size_t cap)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", model);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    const char *base = strrchr(buf, '/');
    base = base ? base + 1 : buf;
    char stem[256];
    snprintf(stem, sizeof stem, "%s", base);
    static const char *const exts[] = {".detectd.json", ".json", ".onnx"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t sl = strlen(stem), el = strlen(exts[i]);
        if (sl > el && !strcmp(stem + sl - el, exts[i])) {
            stem[sl - el] = '\0';
            break;
        }
    }
    if (!model_name_ok(stem))
        snprintf(stem, sizeof stem, "default");
    snprintf(out, cap, "%s", stem);
}

/* ---- slots ---------------------------------------------------------------------- */

static void slot_init(mslot *m)
{
    memset(m, 0, sizeof *m);
    m->state = DT_SERVER_LOADING;
    dt_hist_init(&m->queue_h, DT_HIST_SECONDS, DT_HIST_SECONDS_N);
    dt_hist_init(&m->prep_h, DT_HIST_SECONDS, DT_HIST_SECONDS_N);
    dt_hist_init(&m->infer_h, DT_HIST_SECONDS, DT_HIST_SECONDS_N);
    dt_hist_init(&m->batch_h, DT_HIST_BATCH, DT_HIST_BATCH_N);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every regular file DIR/<name>.detectd.json with a valid name, sorted. */
static dt_code scan_model_dir(dt_server *s, dt_status *st)
{
    const char *dir = s->cfg.model_dir;
    DIR *d = opendir(dir);
    if (!d)
        return dt_fail(st, DT_ENOTFOUND, "--model-dir %s: %s", dir, strerror(errno));
    static const char SUF[] = ".detectd.json";
    char **names = NULL;
    int n = 0, cap = 0;
    dt_code rc = DT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), sl = sizeof SUF - 1;
        if (l <= sl || strcmp(e->d_name + l - sl, SUF) != 0)
            continue;
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(l - sl), e->d_name);
        if (!model_name_ok(stem)) {
            dt_server_log("warn", "--model-dir: skipping %s (model names are letters, digits, '.', '_', '-')",
                          e->d_name);
            continue;
        }
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (n == cap) {
            int nc = cap ? cap * 2 : 8;
            char **nn = dt_realloc(names, (size_t)nc * sizeof *nn);
            if (!nn) {
                rc = dt_fail(st, DT_ENOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        names[n] = dt_strdup(e->d_name);
        if (!names[n]) {
            rc = dt_fail(st, DT_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == DT_OK && n == 0)
        rc = dt_fail(st, DT_ENOTFOUND, "--model-dir %s holds no *.detectd.json manifest", dir);
    if (rc == DT_OK) {
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        s->slots = dt_calloc((size_t)n, sizeof *s->slots);
        if (!s->slots)
            rc = dt_fail(st, DT_ENOMEM, "out of memory");
    }
    if (rc == DT_OK) {
        s->n_slots = n;
        s->def = 0;
        for (int i = 0; i < n; i++) {
            mslot *m = &s->slots[i];
            slot_init(m);
            size_t l = strlen(names[i]) - (sizeof SUF - 1);
            snprintf(m->name, sizeof m->name, "%.*s", (int)l, names[i]);
            snprintf(m->path, sizeof m->path, "%s/%s", dir, names[i]);
            if (!strcmp(m->name, s->cfg.model))
                s->def = i;
        }
        s->slots[s->def].is_default = 1;
        if (strcmp(s->slots[s->def].name, s->cfg.model) != 0)
            dt_server_log("info", "--model %s is not in %s: the default model is %s", s->cfg.model, dir,
                          s->slots[s->def].name);
    }
    for (int i = 0; i < n; i++)
        dt_free(names[i]);
    dt_free(names);
    return rc;
}

dt_code sched_init(dt_server *s, dt_status *st)
{
    if (s->cfg.model_dir[0]) {
        if (!s->ext.spawn)
            return dt_fail(st, DT_EUNSUPPORTED, "this backend cannot serve a model directory");
        return scan_model_dir(s, st);
    }
    s->slots = dt_calloc(1, sizeof *s->slots);
    if (!s->slots)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    s->n_slots = 1;
    s->def = 0;
    mslot *m = &s->slots[0];
    slot_init(m);
    m->is_default = 1;
    derive_name(s->cfg.model, m->name, sizeof m->name);
    snprintf(m->path, sizeof m->path, "%s", s->cfg.model);
    return DT_OK;
}

mslot *sched_find(dt_server *s, const char *name)
{
    if (!name || !*name)
        return &s->slots[s->def];
    mslot *found = NULL;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n_slots && !found; i++)
        if (!strcmp(s->slots[i].name, name) || (s->slots[i].alias[0] && !strcmp(s->slots[i].alias, name)))
            found = &s->slots[i];
    pthread_mutex_unlock(&s->mu);
    return found;
}

dt_server_state slot_state(dt_server *s, mslot *m, dt_status *why)
{
    pthread_mutex_lock(&s->mu);
    dt_server_state state = m->state;
    if (why)
        *why = m->load_st;
    pthread_mutex_unlock(&s->mu);
    return state;
}

/* ---- instances ------------------------------------------------------------------ */

static float *pool_get(minst *in)
{
    float *b = NULL;
    pthread_mutex_lock(&in->pool_mu);
    if (in->pool_n > 0)
        b = in->pool[--in->pool_n];
    pthread_mutex_unlock(&in->pool_mu);
    if (!b)
        b = dt_aligned_alloc(in->item_floats * sizeof(float));
    return b;
}

static void pool_put(minst *in, float *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&in->pool_mu);
    if (in->pool_n < in->pool_cap) {
        in->pool[in->pool_n++] = b;
        b = NULL;
    }
    pthread_mutex_unlock(&in->pool_mu);
    dt_free(b);
}

void sched_put_prep(req *r)
{
    if (r->prep && r->inst)
        pool_put(r->inst, r->prep);
    r->prep = NULL;
}

void sched_unadmit(req *r)
{
    if (r->admitted && r->inst)
        atomic_fetch_sub(&r->inst->waiting, 1);
    r->admitted = 0;
}

static void infer_batch(void *arg, dt_job **jobs, int n, void *wctx);

static void inst_free(minst *in)
{
    if (!in)
        return;
    dt_server *s = in->srv;
    /* Unlink first: the timer and the gauges walk the list. */
    pthread_mutex_lock(&s->mu);
    for (minst **pp = &s->all; *pp; pp = &(*pp)->next_all)
        if (*pp == in) {
            *pp = in->next_all;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    if (in->q) {
        /* Nothing should be queued (no request holds a reference), but never
         * leave a connection suspended. */
        dt_job *left = dt_workq_stop_take(in->q);
        while (left) {
            req *r = (req *)left;
            left = left->next;
            sched_unadmit(r);
            sched_put_prep(r);
            req_finish_error(r, DT_EBUSY, "server is shutting down");
        }
        dt_workq_free(in->q);
    }
    for (int i = 0; in->wctx && i < in->n_wctx; i++)
        if (in->wctx[i])
            in->be.ops->worker_free(in->be.self, in->wctx[i]);
    dt_free(in->wctx);
    for (int i = 0; i < in->pool_n; i++)
        dt_free(in->pool[i]);
    dt_free(in->pool);
    pthread_mutex_destroy(&in->pool_mu);
    if (in->be.ops)
        in->be.ops->destroy(in->be.self);
    dt_free(in);
}

/* Load, warm up and start a new instance of slot m over backend `be`
 * (taken in every case). */
static dt_code inst_create(dt_server *s, mslot *m, dt_server_backend be, minst **out, dt_status *st)
{
    *out = NULL;
    minst *in = dt_calloc(1, sizeof *in);
    if (!in) {
        be.ops->destroy(be.self);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    in->srv = s;
    in->slot = m;
    in->be = be;
    in->refs = 1;
    pthread_mutex_init(&in->pool_mu, NULL);
    const dt_server_backend_ops *o = be.ops;
    const dt_server_backend_ext *x = &s->ext;
    dt_code rc = o->load(be.self, st);
    if (rc != DT_OK)
        goto fail;
    o->info(be.self, &in->info);
    in->staged = x->item_floats && x->prepare && x->max_batch && x->input && x->run && x->decode;
    in->item_floats = in->staged ? x->item_floats(be.self) : 0;
    if (in->staged && in->item_floats == 0) {
        rc = dt_fail(st, DT_EINTERNAL, "model has an empty input");
        goto fail;
    }
    in->n_wctx = s->cfg.workers;
    in->wctx = dt_calloc((size_t)in->n_wctx, sizeof *in->wctx);
    if (!in->wctx) {
        rc = dt_fail(st, DT_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < in->n_wctx; i++)
        if ((rc = o->worker_create(be.self, &in->wctx[i], st)) != DT_OK)
            goto fail;
    in->max_batch = 1;
    if (in->staged) {
        int mb = x->max_batch(be.self, in->wctx[0]);
        int want = s->cfg.max_batch > 0 ? s->cfg.max_batch : 1;
        in->max_batch = mb < want ? mb : want;
        if (in->max_batch < 1)
            in->max_batch = 1;
        if (in->max_batch > MAX_BATCH_HARD)
            in->max_batch = MAX_BATCH_HARD;
    }
    /* Enough buffers that steady traffic never allocates: everything that
     * can be prepared at once (admitted + being prepared + in a batch). */
    in->pool_cap = s->cfg.queue_size + s->cfg.prep_threads + in->n_wctx * in->max_batch;
    if (in->staged) {
        in->pool = dt_calloc((size_t)in->pool_cap, sizeof *in->pool);
        if (!in->pool) {
            rc = dt_fail(st, DT_ENOMEM, "out of memory");
            goto fail;
        }
    }
    /* Admission (queue_size) bounds the queue; the workq's own bound is
     * only a backstop. */
    if ((rc = dt_workq_create(INT_MAX / 2, &in->q, st)) != DT_OK)
        goto fail;
    dt_workq_set_batch(in->q, in->max_batch, s->cfg.batch_timeout_us, infer_batch, in);
    if ((rc = dt_workq_start(in->q, in->n_wctx, in->wctx, st)) != DT_OK)
        goto fail;
    in->loaded_at = wall_s();
    /* Only complete instances are listed (the timer walks their queues). */
    pthread_mutex_lock(&s->mu);
    in->next_all = s->all;
    s->all = in;
    pthread_mutex_unlock(&s->mu);
    if (s->cfg.max_batch > 1 && in->max_batch < s->cfg.max_batch)
        dt_server_log("info",
                      "model %s: %s, so requests run one at a time (--max-batch %d has no effect; batch %d)",
                      in->info.name ? in->info.name : m->name,
                      in->staged ? "its graph runs batch 1 only" : "this backend has no batch interface",
                      s->cfg.max_batch, in->max_batch);
    else if (in->max_batch > 1)
        dt_server_log("info", "model %s: dynamic batching up to %d requests per run (--batch-timeout-us %d)",
                      in->info.name ? in->info.name : m->name, in->max_batch, s->cfg.batch_timeout_us);
    *out = in;
    return DT_OK;
fail:
    inst_free(in);
    return rc;
}

/* Drop a reference; the last one hands the instance to the manager. */
static void inst_unref(dt_server *s, minst *in)
{
    pthread_mutex_lock(&s->mu);
    if (--in->refs == 0) {
        in->next_retired = s->retired;
        s->retired = in;
        pthread_cond_signal(&s->mgr_cv);
    }
    pthread_mutex_unlock(&s->mu);
}

minst *sched_ref_current(dt_server *s, mslot *m)
{
    pthread_mutex_lock(&s->mu);
    minst *in = m->cur;
    if (in)
        in->refs++;
    pthread_mutex_unlock(&s->mu);
    return in;
}

void sched_unref(dt_server *s, minst *in)
{
    if (in)
        inst_unref(s, in);
}

dt_code sched_acquire(dt_server *s, req *r, mslot *m, dt_status *st)
{
    pthread_mutex_lock(&s->mu);
    minst *in = m->cur;
    dt_server_state state = m->state;
    if (in)
        in->refs++;
    pthread_mutex_unlock(&s->mu);
    r->slot = m;
    if (!in) {
        if (state == DT_SERVER_FAILED)
            return dt_fail(st, DT_EBUSY, "model %s failed to load", m->name);
        return dt_fail(st, DT_EBUSY, "model %s is loading", m->name);
    }
    r->inst = in;
    return DT_OK;
}

void sched_release(req *r)
{
    if (!r->inst)
        return;
    sched_put_prep(r);
    sched_unadmit(r);
    inst_unref(r->srv, r->inst);
    r->inst = NULL;
}

int sched_queue_depth(dt_server *s)
{
    int n = 0;
    pthread_mutex_lock(&s->mu);
    for (minst *in = s->all; in; in = in->next_all)
        n += atomic_load(&in->waiting);
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- the request path -------------------------------------------------------------- */

static void answer_timeout(req *r)
{
    dt_server *s = r->srv;
    char msg[160];
    snprintf(msg, sizeof msg, "deadline of %d ms passed before the model could run this request "
                              "(--request-timeout-ms)", s->cfg.request_timeout_ms);
    if (r->slot)
        atomic_fetch_add(&r->slot->timeouts, 1);
    sched_unadmit(r);
    sched_put_prep(r);
    req_finish_error(r, DT_ETIMEOUT, msg);
}

static int expired(const req *r, double now) { return r->job.deadline_ms > 0 && now >= r->job.deadline_ms; }

/* On a prep thread: parse, decode and preprocess, then queue for a worker. */
static void prep_run(dt_job *job, void *wctx)
{
    req *r = (req *)job;
    minst *in = r->inst;
    if (!wctx) {
        sched_unadmit(r);
        req_finish_error(r, DT_EBUSY, "server is shutting down");
        return;
    }
    if (expired(r, dt_now_ms())) {
        answer_timeout(r);
        return;
    }
    dt_status st;
    dt_status_clear(&st);
    dt_code rc = DT_OK;
    if (r->route == R_V2_INFER)
        rc = api_parse(r, &st);
    if (rc == DT_OK && in->staged && !r->raw_tensor) {
        r->prep = pool_get(in);
        if (!r->prep) {
            rc = dt_fail(&st, DT_ENOMEM, "out of memory for the model input");
        } else {
            dt_image_limits lim = {.max_pixels = r->srv->cfg.max_pixels, .max_side = 0};
            double t0 = dt_now_ms();
            rc = r->srv->ext.prepare(in->be.self, r->img, r->img_len, &lim, r->prep, &r->prep_info, &st);
            dt_hist_observe(&r->slot->prep_h, (dt_now_ms() - t0) / 1e3);
        }
    }
    if (rc != DT_OK) {
        sched_unadmit(r);
        sched_put_prep(r);
        req_finish_error(r, rc, st.msg);
        return;
    }
    /* The upload is not needed any more once preprocessed (the annotated
     * photo of ?render=jpeg decodes it again). */
    if (in->staged && !r->render)
        req_release_body(r);
    if (dt_workq_push(in->q, &r->job, &st) != DT_OK) {
        sched_unadmit(r);
        sched_put_prep(r);
        req_finish_error(r, DT_EBUSY, "server is shutting down");
    }
}

static void finish_result(req *r, dt_code rc, const dt_detect_result *res, dt_status *st)
{
    int status = 0;
    size_t len = 0;
    char *body = NULL;
    if (rc == DT_OK) {
        body = api_render(r, res, &len, &status, st);
        if (!body && st->code != DT_OK && st->code != DT_ENOMEM)
            rc = st->code;
    }
    if (rc != DT_OK) {
        req_finish_error(r, rc, st->msg[0] ? st->msg : dt_code_name(rc));
        return;
    }
    req_finish(r, status ? status : 200, body, len);
}

/* On an inference worker: 1..max_batch requests of one instance. */
static void infer_batch(void *arg, dt_job **jobs, int n, void *wctx)
{
    minst *in = arg;
    mslot *m = in->slot;
    const dt_server_backend_ops *o = in->be.ops;
    const dt_server_backend_ext *x = &in->srv->ext;
    req *live[MAX_BATCH_HARD];
    int k = 0;
    double now = dt_now_ms();
    for (int i = 0; i < n; i++) {
        req *r = (req *)jobs[i];
        sched_unadmit(r); /* taken: no longer waiting */
        if (!wctx) {
            sched_put_prep(r);
            req_finish_error(r, DT_EBUSY, "server is shutting down");
        } else if (expired(r, now)) {
            answer_timeout(r);
        } else {
            r->queue_ms = now - r->t_admit;
            dt_hist_observe(&m->queue_h, r->queue_ms / 1e3);
            live[k++] = r;
        }
    }
    if (k == 0)
        return;
    dt_status st;
    dt_status_clear(&st);
    dt_image_limits lim = {.max_pixels = in->srv->cfg.max_pixels, .max_side = 0};
    if (!in->staged) {
        /* One request at a time through the backend's all-in-one detect. */
        for (int i = 0; i < k; i++) {
            req *r = live[i];
            dt_detect_result res;
            memset(&res, 0, sizeof res);
            dt_status_clear(&st);
            double t0 = dt_now_ms();
            dt_code rc = o->detect(in->be.self, wctx, r->img, r->img_len, &lim, &r->params, &res, &st);
            r->infer_ms = dt_now_ms() - t0;
            dt_hist_observe(&m->infer_h, r->infer_ms / 1e3);
            dt_hist_observe(&m->batch_h, 1);
            atomic_fetch_add(&m->executions, 1);
            atomic_fetch_add(&m->inferences, 1);
            finish_result(r, rc, &res, &st);
        }
        return;
    }
    float *xin = x->input(in->be.self, wctx, k);
    dt_code rc = xin ? DT_OK : dt_fail(&st, DT_EINTERNAL, "no input buffer for batch %d", k);
    for (int i = 0; i < k; i++) {
        if (xin)
            memcpy(xin + (size_t)i * in->item_floats, live[i]->prep, in->item_floats * sizeof(float));
        sched_put_prep(live[i]);
    }
    double t0 = dt_now_ms();
    if (rc == DT_OK)
        rc = x->run(in->be.self, wctx, k, &st);
    double run_ms = dt_now_ms() - t0;
    dt_hist_observe(&m->infer_h, run_ms / 1e3);
    dt_hist_observe(&m->batch_h, k);
    atomic_fetch_add(&m->executions, 1);
    atomic_fetch_add(&m->inferences, (uint64_t)k);
    for (int i = 0; i < k; i++) {
        req *r = live[i];
        r->infer_ms = run_ms;
        dt_detect_result res;
        memset(&res, 0, sizeof res);
        dt_status bst = st;
        dt_code brc = rc;
        if (brc == DT_OK)
            brc = x->decode(in->be.self, wctx, i, &r->prep_info, &r->params, &res, &bst);
        finish_result(r, brc, &res, &bst);
    }
}

dt_code sched_submit(dt_server *s, req *r, dt_status *st)
{
    minst *in = r->inst;
    int before = atomic_fetch_add(&in->waiting, 1);
    if (before >= s->cfg.queue_size) {
        atomic_fetch_sub(&in->waiting, 1);
        atomic_fetch_add(&r->slot->rejected, 1);
        return dt_fail(st, DT_EBUSY, "server busy: %d requests already waiting for model %s (--queue-size)",
                       before, r->slot->name);
    }
    r->admitted = 1;
    r->t_admit = dt_now_ms();
    r->job.deadline_ms = s->cfg.request_timeout_ms > 0 ? r->t0 + s->cfg.request_timeout_ms : 0;
    r->job.run = prep_run;
    if (dt_workq_push(s->prep_q, &r->job, st) != DT_OK) {
        sched_unadmit(r);
        return dt_fail(st, DT_EBUSY, "server is shutting down");
    }
    if (s->cfg.request_timeout_ms > 0 && before == 0) {
        pthread_mutex_lock(&s->mu);
        pthread_cond_signal(&s->timer_cv);
        pthread_mutex_unlock(&s->mu);
    }
    return DT_OK;
}

/* ---- reloads --------------------------------------------------------------------- */

static char *reload_body(mslot *m, int generation, double ms, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"model\":");
    dt_jsonw_str(&w, m->name);
    dt_jsonw_printf(&w, ",\"reloaded\":true,\"version\":%d,\"ms\":", generation);
    dt_jsonw_num(&w, ms, 1);
    dt_jsonw_raw(&w, "}");
    return dt_jsonw_take(&w, len);
}

static void answer_waiters(req *list, int ok, mslot *m, int generation, double ms, dt_code code, const char *msg)
{
    while (list) {
        req *r = list;
        list = r->next_waiter;
        r->next_waiter = NULL;
        if (ok) {
            size_t len = 0;
            char *body = reload_body(m, generation, ms, &len);
            req_finish(r, 200, body, len);
        } else {
            req_finish_error(r, code, msg);
        }
    }
}

/* On the manager thread: load m again aside, swap it in when warm. */
static void do_reload(dt_server *s, mslot *m, req *waiters)
{
    double t0 = dt_now_ms();
    dt_status st;
    dt_status_clear(&st);
    pthread_mutex_lock(&s->mu);
    minst *cur = m->cur;
    if (cur)
        cur->refs++; /* keep its backend alive while we spawn from it */
    int old_gen = m->generation;
    pthread_mutex_unlock(&s->mu);
    dt_server_backend be = {NULL, NULL};
    dt_code rc;
    if (cur && s->ext.spawn) {
        be.ops = cur->be.ops;
        rc = s->ext.spawn(cur->be.self, m->path, &be.self, &st);
    } else if (!cur && s->ext.spawn && !s->proto_used) {
        be.ops = s->proto.ops;
        rc = s->ext.spawn(s->proto.self, m->path, &be.self, &st);
    } else {
        rc = dt_fail(&st, DT_EUNSUPPORTED, "this backend cannot reload models");
    }
    if (cur)
        inst_unref(s, cur);
    minst *in = NULL;
    if (rc == DT_OK)
        rc = inst_create(s, m, be, &in, &st);
    double ms = dt_now_ms() - t0;
    if (rc != DT_OK) {
        atomic_fetch_add(&m->reloads_failed, 1);
        char msg[DT_STATUS_MSG + 128];
        snprintf(msg, sizeof msg, "reload of model %s failed, still serving version %d: %s", m->name, old_gen,
                 st.msg);
        dt_server_log("error", "%s", msg);
        /* out of memory is the one reload failure worth retrying (503) */
        answer_waiters(waiters, 0, m, old_gen, ms, rc == DT_EUNSUPPORTED || rc == DT_ENOMEM ? rc : DT_EINTERNAL,
                       msg);
        return;
    }
    pthread_mutex_lock(&s->mu);
    minst *old = m->cur;
    m->cur = in;
    in->generation = ++m->generation;
    m->state = DT_SERVER_READY;
    dt_status_clear(&m->load_st);
    int gen = m->generation;
    pthread_mutex_unlock(&s->mu);
    if (old)
        inst_unref(s, old); /* freed by us once its last request is done */
    atomic_fetch_add(&m->reloads_ok, 1);
    dt_server_log("info", "model %s reloaded: version %d in %.0f ms (the previous one is freed when its "
                          "requests finish)", m->name, gen, ms);
    answer_waiters(waiters, 1, m, gen, ms, DT_OK, NULL);
}

dt_code sched_reload(dt_server *s, mslot *m, req *waiter, dt_status *st)
{
    pthread_mutex_lock(&s->mu);
    if (s->stop_manager || s->state == DT_SERVER_STOPPING) {
        pthread_mutex_unlock(&s->mu);
        return dt_fail(st, DT_EBUSY, "server is shutting down");
    }
    if (s->state != DT_SERVER_READY) {
        pthread_mutex_unlock(&s->mu);
        return dt_fail(st, DT_EBUSY, "models are still loading");
    }
    m->reload_wanted = 1;
    if (waiter) {
        waiter->next_waiter = m->waiters;
        m->waiters = waiter;
    }
    pthread_cond_signal(&s->mgr_cv);
    pthread_mutex_unlock(&s->mu);
    return DT_OK;
}

dt_code dt_server_reload(dt_server *s, const char *name, dt_status *st)
{
    if (name) {
        mslot *m = sched_find(s, name);
        if (!m)
            return dt_fail(st, DT_ENOTFOUND, "no model named '%s'", name);
        return sched_reload(s, m, NULL, st);
    }
    pthread_mutex_lock(&s->mu);
    int ready = s->state == DT_SERVER_READY;
    if (ready) {
        s->reload_all = 1;
        pthread_cond_signal(&s->mgr_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return ready ? DT_OK : dt_fail(st, DT_EBUSY, "models are still loading");
}

/* ---- manager and timer threads ------------------------------------------------------ */

static void set_server_state(dt_server *s, dt_server_state state, const dt_status *why)
{
    pthread_mutex_lock(&s->mu);
    if (s->state != DT_SERVER_STOPPING)
        s->state = state;
    if (why)
        s->load_st = *why;
    pthread_mutex_unlock(&s->mu);
}

/* The first load of every slot; 0 if one failed (the server then fails). */
static int initial_loads(dt_server *s)
{
    double t0 = dt_now_ms();
    for (int i = 0; i < s->n_slots; i++) {
        mslot *m = &s->slots[i];
        pthread_mutex_lock(&s->mu);
        int stop = s->stop_manager;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return 0;
        dt_status st;
        dt_status_clear(&st);
        double t1 = dt_now_ms();
        dt_server_backend be = s->proto;
        dt_code rc = DT_OK;
        if (s->cfg.model_dir[0]) {
            be.self = NULL;
            rc = s->ext.spawn(s->proto.self, m->path, &be.self, &st);
        } else {
            s->proto_used = 1; /* the instance owns it now */
        }
        minst *in = NULL;
        if (rc == DT_OK)
            rc = inst_create(s, m, be, &in, &st);
        if (rc != DT_OK) {
            dt_server_log("error", "model %s failed to load: %s", s->cfg.model_dir[0] ? m->path : s->cfg.model,
                          st.msg);
            pthread_mutex_lock(&s->mu);
            m->state = DT_SERVER_FAILED;
            m->load_st = st;
            pthread_mutex_unlock(&s->mu);
            set_server_state(s, DT_SERVER_FAILED, &st);
            return 0;
        }
        dt_server_log("info", "model %s loaded: input %dx%d, %d labels, %d worker(s) warmed up (%.0f ms)",
                      in->info.name ? in->info.name : m->name, in->info.input_w, in->info.input_h,
                      in->info.num_classes, in->n_wctx, dt_now_ms() - t1);
        if (s->cfg.model_edge && (s->cfg.model_edge != in->info.input_w || s->cfg.model_edge != in->info.input_h))
            dt_server_log("warn", "MODEL_EDGE=%d ignored: the model's input is %dx%d", s->cfg.model_edge,
                          in->info.input_w, in->info.input_h);
        pthread_mutex_lock(&s->mu);
        /* A lone model is known by its own name (its path's name stays an alias). */
        if (!s->cfg.model_dir[0] && in->info.name && model_name_ok(in->info.name) &&
            strcmp(in->info.name, m->name) != 0) {
            snprintf(m->alias, sizeof m->alias, "%s", m->name);
            snprintf(m->name, sizeof m->name, "%s", in->info.name);
        }
        in->generation = m->generation = 1;
        m->cur = in;
        m->state = DT_SERVER_READY;
        pthread_mutex_unlock(&s->mu);
    }
    set_server_state(s, DT_SERVER_READY, NULL);
    if (slot_state(s, &s->slots[0], NULL) == DT_SERVER_READY && dt_server_state_get(s, NULL) == DT_SERVER_READY)
        dt_server_log("info", "ready: %d model(s), default %s (%.0f ms)", s->n_slots, s->slots[s->def].name,
                      dt_now_ms() - t0);
    return 1;
}

static void *manager_main(void *arg)
{
    dt_server *s = arg;
    initial_loads(s);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->retired) {
            minst *in = s->retired;
            s->retired = in->next_retired;
            pthread_mutex_unlock(&s->mu);
            dt_server_log("info", "model %s version %d freed", in->slot->name, in->generation);
            inst_free(in);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (s->stop_manager)
            break;
        if (s->reload_all) {
            s->reload_all = 0;
            for (int i = 0; i < s->n_slots; i++)
                s->slots[i].reload_wanted = 1;
        }
        mslot *m = NULL;
        for (int i = 0; i < s->n_slots && !m; i++)
            if (s->slots[i].reload_wanted)
                m = &s->slots[i];
        if (m) {
            m->reload_wanted = 0;
            req *waiters = m->waiters;
            m->waiters = NULL;
            pthread_mutex_unlock(&s->mu);
            do_reload(s, m, waiters);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        pthread_cond_wait(&s->mgr_cv, &s->mu);
    }
    /* Reload requests that will never run. */
    for (int i = 0; i < s->n_slots; i++) {
        req *w = s->slots[i].waiters;
        s->slots[i].waiters = NULL;
        s->slots[i].reload_wanted = 0;
        pthread_mutex_unlock(&s->mu);
        answer_waiters(w, 0, &s->slots[i], 0, 0, DT_EBUSY, "server is shutting down");
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Append list b to list a (both linked through dt_job.next). */
static dt_job *job_concat(dt_job *a, dt_job *b)
{
    if (!a)
        return b;
    dt_job *t = a;
    while (t->next)
        t = t->next;
    t->next = b;
    return a;
}

static void *timer_main(void *arg)
{
    dt_server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop_timer) {
        int waiting = 0;
        for (minst *in = s->all; in; in = in->next_all)
            waiting += atomic_load(&in->waiting);
        if (waiting == 0) {
            pthread_cond_wait(&s->timer_cv, &s->mu); /* woken by an admission or stop */
            continue;
        }
        /* A 10 ms tick while anything waits: deadlines are met to ~10 ms. */
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += 10 * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->timer_cv, &s->mu, &dl);
        double now = dt_now_ms();
        dt_job *exp = dt_workq_take_expired(s->prep_q, now);
        for (minst *in = s->all; in; in = in->next_all)
            exp = job_concat(exp, dt_workq_take_expired(in->q, now));
        if (!exp)
            continue;
        pthread_mutex_unlock(&s->mu);
        /* Each request still holds its instance: safe outside the lock. */
        while (exp) {
            req *r = (req *)exp;
            exp = exp->next;
            answer_timeout(r);
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

dt_code sched_start(dt_server *s, dt_status *st)
{
    int n = s->cfg.prep_threads > 0 ? s->cfg.prep_threads : 1;
    dt_code rc = dt_workq_create(INT_MAX / 2, &s->prep_q, st);
    if (rc != DT_OK)
        return rc;
    void **ctx = dt_calloc((size_t)n, sizeof *ctx);
    if (!ctx)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        ctx[i] = s; /* non-NULL: NULL tells prep_run the queue is shutting down */
    rc = dt_workq_start(s->prep_q, n, ctx, st);
    dt_free(ctx);
    if (rc != DT_OK)
        return rc;
    if (s->cfg.request_timeout_ms > 0) {
        if (pthread_create(&s->timer, NULL, timer_main, s) != 0)
            return dt_fail(st, DT_ENOMEM, "cannot start the timer thread");
        s->timer_started = 1;
    }
    if (pthread_create(&s->manager, NULL, manager_main, s) != 0)
        return dt_fail(st, DT_ENOMEM, "cannot start the model manager thread");
    s->manager_started = 1;
    return DT_OK;
}

void sched_stop_threads(dt_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop_manager = 1;
    s->stop_timer = 1;
    pthread_cond_broadcast(&s->mgr_cv);
    pthread_cond_broadcast(&s->timer_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->manager_started) {
        pthread_join(s->manager, NULL);
        s->manager_started = 0;
    }
    if (s->timer_started) {
        pthread_join(s->timer, NULL);
        s->timer_started = 0;
    }
}

void sched_stop_queues(dt_server *s)
{
    dt_job *left = s->prep_q ? dt_workq_stop_take(s->prep_q) : NULL;
    while (left) {
        req *r = (req *)left;
        left = left->next;
        sched_unadmit(r);
        req_finish_error(r, DT_EBUSY, "server is shutting down");
    }
    /* Instances cannot be freed meanwhile: the manager is stopped. */
    pthread_mutex_lock(&s->mu);
    minst *all = s->all;
    pthread_mutex_unlock(&s->mu);
    for (minst *in = all; in; in = in->next_all) {
        left = dt_workq_stop_take(in->q);
        while (left) {
            req *r = (req *)left;
            left = left->next;
            sched_unadmit(r);
            sched_put_prep(r);
            req_finish_error(r, DT_EBUSY, "server is shutting down");
        }
    }
}

void sched_free(dt_server *s)
{
    if (s->prep_q) {
        dt_workq_free(s->prep_q);
        s->prep_q = NULL;
    }
    for (;;) {
        pthread_mutex_lock(&s->mu);
        minst *in = s->all;
        pthread_mutex_unlock(&s->mu);
        if (!in)
            break;
        inst_free(in); /* unlinks itself */
    }
    s->retired = NULL;
    for (int i = 0; s->slots && i < s->n_slots; i++)
        s->slots[i].cur = NULL;
    dt_free(s->slots);
    s->slots = NULL;
    s->n_slots = 0;
}

/* ---- /metrics ----------------------------------------------------------------------- */

static const char *state_name(dt_server_state st)
{
    switch (st) {
    case DT_SERVER_LOADING: return "loading";
    case DT_SERVER_READY: return "ready";
    case DT_SERVER_FAILED: return "failed";
    default: return "stopping";
    }
}

void metrics_render(dt_server *s, dt_jsonw *w)
{
    char lab[256];
    /* Names can change once, when a lone model takes its own name at load:
     * read them under the lock. */
    char(*names)[MODEL_NAME_MAX + 1] = dt_malloc((size_t)s->n_slots * sizeof *names);
    if (!names) {
        w->failed = 1;
        return;
    }
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n_slots; i++)
        memcpy(names[i], s->slots[i].name, sizeof names[i]);
    pthread_mutex_unlock(&s->mu);
    dt_metric_family(w, "detectd_requests_total", "counter", "HTTP requests answered, by route and status code.");
    for (int r = 0; r < R_COUNT; r++)
        for (int c = 1; c < 6; c++)
            for (int k = 0; k < 100; k++) {
                uint64_t v = atomic_load_explicit(&s->requests[r][c][k], memory_order_relaxed);
                if (!v)
                    continue;
                snprintf(lab, sizeof lab, "route=\"%s\",code=\"%d\"", route_name(r), c * 100 + k);
                dt_metric_sample(w, "detectd_requests_total", lab, (double)v);
            }
    dt_metric_family(w, "detectd_auth_failures_total", "counter",
                     "Requests answered 401: no API key or a wrong one (--api-key-file).");
    dt_metric_sample(w, "detectd_auth_failures_total", "", (double)atomic_load(&s->auth_failures));
    dt_metric_family(w, "detectd_request_duration_seconds", "histogram",
                     "Time from the request line to the end of the answer, by route.");
    for (int r = 0; r < R_COUNT; r++) {
        if (!dt_hist_count(&s->req_h[r]))
            continue;
        snprintf(lab, sizeof lab, "route=\"%s\"", route_name(r));
        dt_hist_render(w, "detectd_request_duration_seconds", lab, &s->req_h[r]);
    }
    pthread_mutex_lock(&s->mu);
    int active = s->active;
    pthread_mutex_unlock(&s->mu);
    dt_metric_family(w, "detectd_inflight_requests", "gauge", "Requests between their request line and their end.");
    dt_metric_sample(w, "detectd_inflight_requests", "", active);
    dt_metric_family(w, "detectd_inflight_body_bytes", "gauge", "Request body bytes buffered now.");
    dt_metric_sample(w, "detectd_inflight_body_bytes", "", (double)atomic_load(&s->inflight_bytes));

    struct {
        const char *name, *help;
        size_t off;
    } hists[] = {
        {"detectd_queue_duration_seconds", "Time from admission to an inference worker taking the request.",
         offsetof(mslot, queue_h)},
        {"detectd_preprocess_duration_seconds", "Image decode and preprocessing time (prep threads).",
         offsetof(mslot, prep_h)},
        {"detectd_inference_duration_seconds", "Model execution time, per execution (one batch).",
         offsetof(mslot, infer_h)},
        {"detectd_batch_size", "Requests per model execution.", offsetof(mslot, batch_h)},
    };
    for (size_t h = 0; h < sizeof hists / sizeof hists[0]; h++) {
        dt_metric_family(w, hists[h].name, "histogram", hists[h].help);
        for (int i = 0; i < s->n_slots; i++) {
            snprintf(lab, sizeof lab, "model=\"%s\"", names[i]);
            dt_hist_render(w, hists[h].name, lab, (const dt_hist *)((const char *)&s->slots[i] + hists[h].off));
        }
    }
    struct {
        const char *name, *type, *help;
        size_t off;
    } ctrs[] = {
        {"detectd_inference_count_total", "counter", "Images run through the model (a batch of n counts n).",
         offsetof(mslot, inferences)},
        {"detectd_execution_count_total", "counter",
         "Model executions (batches); inference_count / execution_count is the mean batch size.",
         offsetof(mslot, executions)},
        {"detectd_request_timeouts_total", "counter", "Requests answered 504: deadline passed while waiting.",
         offsetof(mslot, timeouts)},
        {"detectd_rejected_requests_total", "counter", "Requests answered 503 because the queue was full.",
         offsetof(mslot, rejected)},
    };
    for (size_t c = 0; c < sizeof ctrs / sizeof ctrs[0]; c++) {
        dt_metric_family(w, ctrs[c].name, ctrs[c].type, ctrs[c].help);
        for (int i = 0; i < s->n_slots; i++) {
            snprintf(lab, sizeof lab, "model=\"%s\"", names[i]);
            const _Atomic uint64_t *v = (const _Atomic uint64_t *)((const char *)&s->slots[i] + ctrs[c].off);
            dt_metric_sample(w, ctrs[c].name, lab, (double)atomic_load(v));
        }
    }
    dt_metric_family(w, "detectd_model_reloads_total", "counter", "Model reloads, by result.");
    for (int i = 0; i < s->n_slots; i++) {
        snprintf(lab, sizeof lab, "model=\"%s\",result=\"ok\"", names[i]);
        dt_metric_sample(w, "detectd_model_reloads_total", lab, (double)atomic_load(&s->slots[i].reloads_ok));
        snprintf(lab, sizeof lab, "model=\"%s\",result=\"failed\"", names[i]);
        dt_metric_sample(w, "detectd_model_reloads_total", lab, (double)atomic_load(&s->slots[i].reloads_failed));
    }
    /* Gauges read under the lock: the current instance may be swapped. */
    pthread_mutex_lock(&s->mu);
    dt_metric_family(w, "detectd_queue_depth", "gauge", "Requests admitted and waiting for an inference worker.");
    for (int i = 0; i < s->n_slots; i++) {
        int d = 0;
        for (minst *in = s->all; in; in = in->next_all)
            if (in->slot == &s->slots[i])
                d += atomic_load(&in->waiting);
        snprintf(lab, sizeof lab, "model=\"%s\"", names[i]);
        dt_metric_sample(w, "detectd_queue_depth", lab, d);
    }
    dt_metric_family(w, "detectd_model_state", "gauge", "1 for the model's current load state.");
    static const dt_server_state states[] = {DT_SERVER_LOADING, DT_SERVER_READY, DT_SERVER_FAILED};
    for (int i = 0; i < s->n_slots; i++)
        for (int k = 0; k < 3; k++) {
            snprintf(lab, sizeof lab, "model=\"%s\",state=\"%s\"", names[i], state_name(states[k]));
            dt_metric_sample(w, "detectd_model_state", lab, s->slots[i].state == states[k]);
        }
    dt_metric_family(w, "detectd_model_version", "gauge", "Loads of the model now serving (1 + successful reloads).");
    for (int i = 0; i < s->n_slots; i++) {
        snprintf(lab, sizeof lab, "model=\"%s\"", names[i]);
        dt_metric_sample(w, "detectd_model_version", lab, s->slots[i].generation);
    }
    dt_metric_family(w, "detectd_model_max_batch", "gauge", "Largest batch the serving instance runs.");
    for (int i = 0; i < s->n_slots; i++) {
        snprintf(lab, sizeof lab, "model=\"%s\"", names[i]);
        dt_metric_sample(w, "detectd_model_max_batch", lab, s->slots[i].cur ? s->slots[i].cur->max_batch : 0);
    }
    int instances = 0;
    uint64_t gpus = 0; /* GPUs some worker context runs on */
    for (minst *in = s->all; in; in = in->next_all) {
        instances++;
        for (int k = 0; s->ext.device && k < in->n_wctx; k++) {
            const char *dev = in->wctx[k] ? s->ext.device(in->be.self, in->wctx[k]) : NULL;
            int id = -1;
            dt_status dst;
            if (dev && dt_cuda_parse_device(dev, &id, &dst) == DT_OK && id >= 0 && id < 64)
                gpus |= 1ull << id;
        }
    }
    dt_server_state sst = s->state;
    pthread_mutex_unlock(&s->mu);
    if (gpus) {
        /* One family at a time (the exposition format wants a family's
         * samples together). */
        static const char *const fam[3][2] = {
            {"detectd_gpu_memory_used_bytes", "GPU memory in use (whole device)."},
            {"detectd_gpu_memory_total_bytes", "GPU memory size."},
            {"detectd_gpu_utilization_percent", "GPU busy time over NVML's last sample period (absent without NVML)."},
        };
        dt_cuda_stats cs[64];
        int ok[64] = {0};
        for (int id = 0; id < 64; id++) {
            dt_status cst;
            ok[id] = (gpus >> id & 1) && dt_cuda_device_stats(id, &cs[id], &cst) == DT_OK;
        }
        for (int f = 0; f < 3; f++) {
            dt_metric_family(w, fam[f][0], "gauge", fam[f][1]);
            for (int id = 0; id < 64; id++) {
                if (!ok[id] || (f == 2 && cs[id].util_pct < 0))
                    continue;
                char name[96];
                size_t n = 0;
                for (const char *p = cs[id].name; *p && n + 1 < sizeof name; p++)
                    if (*p != '"' && *p != '\\' && *p != '\n')
                        name[n++] = *p;
                name[n] = '\0';
                snprintf(lab, sizeof lab, "device=\"cuda:%d\",name=\"%s\"", id, name);
                double v = f == 0 ? (double)cs[id].mem_used : f == 1 ? (double)cs[id].mem_total : cs[id].util_pct;
                dt_metric_sample(w, fam[f][0], lab, v);
            }
        }
    }
    dt_metric_family(w, "detectd_model_instances", "gauge",
                     "Loaded model instances (more than the models while a reload's old one drains).");
    dt_metric_sample(w, "detectd_model_instances", "", instances);
    dt_metric_family(w, "detectd_ready", "gauge", "1 when every model is loaded and warmed up.");
    dt_metric_sample(w, "detectd_ready", "", sst == DT_SERVER_READY);
    dt_metric_family(w, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    dt_metric_sample(w, "process_resident_memory_bytes", "", (double)dt_process_rss_bytes());
    dt_metric_family(w, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch.");
    dt_metric_sample(w, "process_start_time_seconds", "", s->started_at);
    dt_free(names);
}
