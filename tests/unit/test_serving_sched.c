/* test_serving_sched.c — the serving machinery against a fake *staged*
 * backend over real sockets: dynamic batching (requests that wait together
 * run as one batch, answers never mixed up), the batch timeout, deadlines
 * (504 while queued), a full queue (503 at once), reloads (swap while a
 * request runs on the old instance; a failed reload keeps the old one),
 * the bounded drain on stop, model names, the v2 protocol's shapes and the
 * Prometheus text of /metrics.  No model is needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "server/server.h"
#include "server/workq.h"
#include "testlib.h"

/* ---- the fake backend: shared control block ------------------------------------ */

#define ITEM 4
#define IMG(s) s, sizeof(s) - 1

typedef struct ctl {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int gate_open;      /* runs holding a GATE item wait until 1 */
    int in_gate;        /* runs waiting at the gate */
    int batches[64];    /* batch sizes run, in order */
    int n_batches;
    int loads, destroyed, fail_next_load;
    int session_batch;  /* what max_batch reports */
} ctl;

typedef struct fake {
    ctl *c;
    int generation;
} fake;

typedef struct wctx {
    fake *f;
    float in[64 * ITEM];
} wctx;

static const char *const LABELS[] = {"cat", "dog", "person"};

static dt_code f_load(void *self, dt_status *st)
{
    fake *f = self;
    pthread_mutex_lock(&f->c->mu);
    int fail = f->c->fail_next_load;
    f->c->fail_next_load = 0;
    f->c->loads++;
    pthread_mutex_unlock(&f->c->mu);
    return fail ? dt_fail(st, DT_ECORRUPT, "corrupt model file") : DT_OK;
}
static void f_info(void *self, dt_server_model_info *out)
{
    (void)self;
    out->name = "fake";
    out->input_w = 2;
    out->input_h = 2;
    out->num_classes = 3;
}
static const char *f_label(void *self, int id)
{
    (void)self;
    return id >= 0 && id < 3 ? LABELS[id] : "?";
}
static int f_class_id(void *self, const char *label)
{
    (void)self;
    for (int i = 0; i < 3; i++)
        if (!strcmp(label, LABELS[i]))
            return i;
    return -1;
}
static dt_code f_worker_create(void *self, void **w, dt_status *st)
{
    wctx *c = dt_calloc(1, sizeof *c);
    if (!c)
        return dt_fail(st, DT_ENOMEM, "oom");
    c->f = self;
    *w = c;
    return DT_OK;
}
static void f_worker_free(void *self, void *w)
{
    (void)self;
    dt_free(w);
}
static dt_code f_detect(void *self, void *w, const void *bytes, size_t len, const dt_image_limits *lim,
                        const dt_detect_params *p, dt_detect_result *out, dt_status *st)
{
    (void)self, (void)w, (void)bytes, (void)len, (void)lim, (void)p, (void)out;
    return dt_fail(st, DT_EINTERNAL, "the staged path must be used");
}
static void f_destroy(void *self)
{
    fake *f = self;
    pthread_mutex_lock(&f->c->mu);
    f->c->destroyed++;
    pthread_cond_broadcast(&f->c->cv);
    pthread_mutex_unlock(&f->c->mu);
    dt_free(f);
}
static const dt_server_backend_ops OPS = {f_load, f_info, f_label, f_class_id, f_worker_create,
                                          f_worker_free, f_detect, f_destroy};

static dt_code f_spawn(void *self, const char *model, void **out, dt_status *st)
{
    (void)model;
    fake *f = self, *n = dt_calloc(1, sizeof *n);
    if (!n)
        return dt_fail(st, DT_ENOMEM, "oom");
    n->c = f->c;
    n->generation = f->generation + 1;
    *out = n;
    return DT_OK;
}
static size_t f_item_floats(void *self)
{
    (void)self;
    return ITEM;
}
/* The "image": a JPEG signature then "ID=<n>" (and "GATE" to hold the run). */
static dt_code f_prepare(void *self, const void *bytes, size_t len, const dt_image_limits *lim, float *dst,
                         dt_prep_info *info, dt_status *st)
{
    (void)self, (void)lim;
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 127 ? len : 127), (const char *)bytes);
    const char *id = strstr(buf, "ID=");
    if (!id)
        return dt_fail(st, DT_ECORRUPT, "no ID in the fake image");
    memset(dst, 0, ITEM * sizeof *dst);
    dst[0] = (float)atoi(id + 3);
    dst[1] = strstr(buf, "GATE") ? 1.f : 0.f;
    memset(info, 0, sizeof *info);
    info->width = 320;
    info->height = 240;
    info->scale_x = info->scale_y = 1.f;
    return DT_OK;
}
static int f_max_batch(void *self, void *w)
{
    (void)w;
    return ((fake *)self)->c->session_batch;
}
static float *f_input(void *self, void *w, int batch)
{
    (void)self;
    return batch >= 1 && batch <= 64 ? ((wctx *)w)->in : NULL;
}
static dt_code f_run(void *self, void *w, int batch, dt_status *st)
{
    (void)st;
    fake *f = self;
    wctx *c = w;
    int gate = 0;
    for (int i = 0; i < batch; i++)
        gate |= c->in[i * ITEM + 1] != 0.f;
    pthread_mutex_lock(&f->c->mu);
    if (f->c->n_batches < 64)
        f->c->batches[f->c->n_batches++] = batch;
    if (gate) {
        f->c->in_gate++;
        pthread_cond_broadcast(&f->c->cv);
        while (!f->c->gate_open)
            pthread_cond_wait(&f->c->cv, &f->c->mu);
    }
    pthread_mutex_unlock(&f->c->mu);
    return DT_OK;
}
static __thread dt_detection t_det;
static dt_code f_decode(void *self, void *w, int i, const dt_prep_info *info, const dt_detect_params *p,
                        dt_detect_result *out, dt_status *st)
{
    (void)p, (void)st;
    fake *f = self;
    wctx *c = w;
    float id = c->in[i * ITEM];
    /* box x1 = the request's id, y1 = the generation that served it */
    t_det = (dt_detection){1, 0.9f, id, (float)f->generation, id + 10, (float)f->generation + 10};
    memset(out, 0, sizeof *out);
    out->width = info->width;
    out->height = info->height;
    out->n = 1;
    out->dets = &t_det;
    return DT_OK;
}
static const dt_server_backend_ext EXT = {f_spawn, f_item_floats, f_prepare, f_max_batch, f_input, f_run, f_decode, NULL};

static void ctl_init(ctl *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->session_batch = 8;
}
static void open_gate(ctl *c)
{
    pthread_mutex_lock(&c->mu);
    c->gate_open = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}
static void wait_in_gate(ctl *c, int n)
{
    pthread_mutex_lock(&c->mu);
    while (c->in_gate < n)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

/* ---- a tiny HTTP client ---------------------------------------------------------- */

typedef struct resp {
    int status;
    char raw[65536];
    size_t n;
    const char *body;
} resp;

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
static void send_all(int fd, const void *b, size_t n)
{
    const char *p = b;
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}
static void req(int port, const char *method, const char *path, const char *ctype, const void *body, size_t n,
                const char *extra, resp *r)
{
    char head[2048];
    int hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s%s", method, path,
                      ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", extra ? extra : "");
    hl += snprintf(head + hl, sizeof head - (size_t)hl, "Content-Length: %zu\r\n\r\n", body ? n : 0);
    r->status = -1;
    r->body = "";
    r->n = 0;
    r->raw[0] = '\0';
    int fd = dial(port);
    if (fd < 0)
        return;
    send_all(fd, head, (size_t)hl);
    if (body)
        send_all(fd, body, n);
    size_t o = 0;
    for (;;) {
        ssize_t k = recv(fd, r->raw + o, sizeof r->raw - 1 - o, 0);
        if (k <= 0)
            break;
        o += (size_t)k;
    }
    close(fd);
    r->raw[o] = '\0';
    r->n = o;
    sscanf(r->raw, "HTTP/1.%*d %d", &r->status);
    const char *b = strstr(r->raw, "\r\n\r\n");
    r->body = b ? b + 4 : "";
}
static const char *header(const resp *r, const char *name)
{
    static __thread char v[256];
    char key[64];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *p = strcasestr(r->raw, key);
    if (!p || (r->body && p > r->body))
        return NULL;
    p += strlen(key);
    snprintf(v, sizeof v, "%.*s", (int)strcspn(p, "\r\n"), p);
    return v;
}

typedef struct bg {
    int port;
    char path[128];
    char body[128];
    resp r;
    double t_done;
    pthread_t t;
} bg;

static void *bg_main(void *arg)
{
    bg *b = arg;
    req(b->port, "POST", b->path, "image/jpeg", b->body, strlen(b->body), NULL, &b->r);
    b->t_done = dt_now_ms();
    return NULL;
}
static void bg_start(bg *b, int port, const char *path, const char *tag, int id)
{
    memset(b, 0, sizeof *b);
    b->port = port;
    snprintf(b->path, sizeof b->path, "%s", path);
    snprintf(b->body, sizeof b->body, "\xff\xd8\xff %s ID=%d", tag, id);
    pthread_create(&b->t, NULL, bg_main, b);
}

/* ---- the server under test ------------------------------------------------------- */

static dt_server *start(ctl *c, dt_server_config *cfg)
{
    fake *f = dt_calloc(1, sizeof *f);
    f->c = c;
    f->generation = 1;
    dt_server_backend be = {&OPS, f};
    dt_server *s = NULL;
    dt_status st;
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 0;
    cfg->access_log = 0;
    if (dt_server_start_ex(cfg, be, &EXT, &s, &st) != DT_OK) {
        fprintf(stderr, "start: %s\n", st.msg);
        return NULL;
    }
    for (int i = 0; i < 500 && dt_server_state_get(s, NULL) != DT_SERVER_READY; i++)
        usleep(10000);
    return s;
}
static void wait_depth(dt_server *s, int n)
{
    for (int i = 0; i < 1000 && dt_server_queue_depth(s) < n; i++)
        usleep(5000);
}
static int box_x(const resp *r)
{
    const char *p = strstr(r->body, "\"x\":");
    return p ? atoi(p + 4) : -1;
}
static int box_y(const resp *r)
{
    const char *p = strstr(r->body, "\"y\":");
    return p ? atoi(p + 4) : -1;
}

/* Requests that wait together run as one batch; each gets its own answer. */
static void test_batching(void)
{
    ctl c;
    ctl_init(&c);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.workers = 1;
    cfg.max_batch = 8;
    dt_server *s = start(&c, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    bg g, b[6];
    bg_start(&g, port, "/v1/detect", "GATE", 100);
    wait_in_gate(&c, 1);
    for (int i = 0; i < 6; i++)
        bg_start(&b[i], port, "/v1/detect", "", 200 + i);
    wait_depth(s, 6);
    CHECK(dt_server_queue_depth(s) == 6);
    open_gate(&c);
    pthread_join(g.t, NULL);
    CHECKF(g.r.status == 200 && box_x(&g.r) == 100, "%d %s", g.r.status, g.r.body);
    for (int i = 0; i < 6; i++) {
        pthread_join(b[i].t, NULL);
        CHECKF(b[i].r.status == 200 && box_x(&b[i].r) == 200 + i, "%d: %d %s", i, b[i].r.status, b[i].r.body);
    }
    CHECKF(c.n_batches == 2 && c.batches[0] == 1 && c.batches[1] == 6, "%d batches: %d %d", c.n_batches,
           c.batches[0], c.batches[1]);
    resp r;
    req(port, "GET", "/metrics", NULL, NULL, 0, NULL, &r);
    CHECKF(strstr(r.body, "detectd_inference_count_total{model=\"fake\"} 7\n") &&
               strstr(r.body, "detectd_execution_count_total{model=\"fake\"} 2\n") &&
               strstr(r.body, "detectd_batch_size_bucket{model=\"fake\",le=\"4\"} 1\n") &&
               strstr(r.body, "detectd_batch_size_bucket{model=\"fake\",le=\"8\"} 2\n"),
           "%s", r.body);
    /* the session runs 8 at most: --max-batch 8 is taken as is */
    req(port, "GET", "/v1/models", NULL, NULL, 0, NULL, &r);
    CHECKF(strstr(r.body, "\"max_batch\":8"), "%s", r.body);
    dt_server_free(s);
    CHECK(c.destroyed == 1);
}

/* --batch-timeout-us: the first request waits for company (bounded). */
static void test_batch_timeout(void)
{
    ctl c;
    ctl_init(&c);
    c.session_batch = 4;
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.workers = 1;
    cfg.max_batch = 16; /* more than the session runs: capped at 4 */
    cfg.batch_timeout_us = 400000;
    dt_server *s = start(&c, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    bg a, b;
    double t0 = dt_now_ms();
    bg_start(&a, port, "/v1/detect", "", 1);
    usleep(50000);
    bg_start(&b, port, "/v1/detect", "", 2);
    pthread_join(a.t, NULL);
    pthread_join(b.t, NULL);
    CHECK(a.r.status == 200 && b.r.status == 200 && box_x(&a.r) == 1 && box_x(&b.r) == 2);
    CHECKF(c.n_batches == 1 && c.batches[0] == 2, "%d batches, first %d", c.n_batches, c.batches[0]);
    CHECKF(a.t_done - t0 >= 350, "batch ran after %.0f ms, before the 400 ms timeout", a.t_done - t0);
    resp r;
    req(port, "GET", "/v1/models", NULL, NULL, 0, NULL, &r);
    CHECKF(strstr(r.body, "\"max_batch\":4"), "%s", r.body);
    dt_server_free(s);
}

/* A request still queued at its deadline is answered 504 on time; one that
 * started running completes.  A full queue answers 503 at once. */
static void test_deadline_and_full_queue(void)
{
    ctl c;
    ctl_init(&c);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.workers = 1;
    cfg.queue_size = 2;
    cfg.request_timeout_ms = 400;
    dt_server *s = start(&c, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    bg g, q1, q2;
    bg_start(&g, port, "/v1/detect", "GATE", 1);
    wait_in_gate(&c, 1);
    double t0 = dt_now_ms();
    bg_start(&q1, port, "/v1/detect", "", 2);
    bg_start(&q2, port, "/predict", "", 3);
    wait_depth(s, 2);
    resp r;
    req(port, "POST", "/v1/detect", "image/jpeg", IMG("\xff\xd8\xff ID=4"), NULL, &r);
    CHECKF(r.status == 503 && header(&r, "Retry-After") && strstr(r.body, "queue"), "%d %s", r.status, r.body);
    CHECK(dt_now_ms() - t0 < 350); /* at once, not at the deadline */
    pthread_join(q1.t, NULL);
    pthread_join(q2.t, NULL);
    double waited = q1.t_done - t0;
    CHECKF(q1.r.status == 504 && strstr(q1.r.body, "deadline"), "%d %s", q1.r.status, q1.r.body);
    CHECKF(q2.r.status == 504 && strstr(q2.r.body, "deadline"), "%d %s", q2.r.status, q2.r.body);
    CHECKF(waited >= 300 && waited < 3000, "504 after %.0f ms (deadline 400 ms)", waited);
    open_gate(&c);
    pthread_join(g.t, NULL);
    CHECKF(g.r.status == 200, "%d %s", g.r.status, g.r.body);
    req(port, "GET", "/metrics", NULL, NULL, 0, NULL, &r);
    CHECKF(strstr(r.body, "detectd_request_timeouts_total{model=\"fake\"} ") &&
               strstr(r.body, "detectd_rejected_requests_total{model=\"fake\"} 1\n") &&
               strstr(r.body, "detectd_requests_total{route=\"detect\",code=\"504\"} 1\n") &&
               strstr(r.body, "detectd_requests_total{route=\"predict\",code=\"504\"} 1\n") &&
               strstr(r.body, "detectd_requests_total{route=\"detect\",code=\"503\"} 1\n"),
           "%s", r.body);
    dt_server_free(s);
}

static int models_version(int port)
{
    resp r;
    req(port, "GET", "/v1/models", NULL, NULL, 0, NULL, &r);
    const char *p = strstr(r.body, "\"version\":");
    return p ? atoi(p + 10) : -1;
}

/* Reload while a request runs on the old instance: the new one serves new
 * requests, the old one finishes its request and is freed after it; a
 * failed reload keeps the current one and says so. */
static void test_reload(void)
{
    ctl c;
    ctl_init(&c);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.workers = 1;
    dt_server *s = start(&c, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    CHECK(models_version(port) == 1);
    bg g;
    bg_start(&g, port, "/predict", "GATE", 7);
    wait_in_gate(&c, 1);
    resp r;
    req(port, "POST", "/v1/models/fake/reload", NULL, NULL, 0, NULL, &r);
    CHECKF(r.status == 200 && strstr(r.body, "\"version\":2"), "%d %s", r.status, r.body);
    CHECK(models_version(port) == 2);
    req(port, "POST", "/v1/detect", "image/jpeg", IMG("\xff\xd8\xff ID=8"), NULL, &r);
    CHECKF(r.status == 200 && box_x(&r) == 8 && box_y(&r) == 2, "%d %s", r.status, r.body); /* the new one */
    CHECK(c.destroyed == 0); /* the old one still runs g */
    open_gate(&c);
    pthread_join(g.t, NULL);
    CHECKF(g.r.status == 200 && strstr(g.r.body, "\"y\":1,"), "%d %s", g.r.status, g.r.body); /* the old one */
    pthread_mutex_lock(&c.mu);
    for (int i = 0; i < 500 && c.destroyed < 1; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c.cv, &c.mu, &ts);
    }
    pthread_mutex_unlock(&c.mu);
    CHECK(c.destroyed == 1);

    /* a failed load keeps version 2 */
    c.fail_next_load = 1;
    req(port, "POST", "/v1/models/fake/reload", NULL, NULL, 0, NULL, &r);
    CHECKF(r.status == 500 && strstr(r.body, "still serving version 2") && strstr(r.body, "corrupt"), "%d %s",
           r.status, r.body);
    CHECK(models_version(port) == 2);
    req(port, "POST", "/v1/detect", "image/jpeg", IMG("\xff\xd8\xff ID=9"), NULL, &r);
    CHECK(r.status == 200 && box_y(&r) == 2);
    /* the v2 repository API's load is a reload; unload is not supported */
    req(port, "POST", "/v2/repository/models/fake/load", NULL, NULL, 0, NULL, &r);
    CHECKF(r.status == 200 && models_version(port) == 3, "%d %s", r.status, r.body);
    req(port, "POST", "/v2/repository/models/fake/unload", NULL, NULL, 0, NULL, &r);
    CHECKF(r.status == 501 && strstr(r.body, "{\"error\":"), "%d %s", r.status, r.body);
    req(port, "POST", "/v1/models/nope/reload", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 404);
    /* SIGHUP's path */
    dt_status st;
    CHECK(dt_server_reload(s, NULL, &st) == DT_OK);
    for (int i = 0; i < 500 && models_version(port) != 4; i++)
        usleep(10000);
    CHECK(models_version(port) == 4);
    CHECK(dt_server_reload(s, "nope", &st) == DT_ENOTFOUND);
    req(port, "GET", "/metrics", NULL, NULL, 0, NULL, &r);
    CHECKF(strstr(r.body, "detectd_model_reloads_total{model=\"fake\",result=\"ok\"} 3\n") &&
               strstr(r.body, "detectd_model_reloads_total{model=\"fake\",result=\"failed\"} 1\n") &&
               strstr(r.body, "detectd_model_version{model=\"fake\"} 4\n"),
           "%s", r.body);
    dt_server_free(s);
    CHECKF(c.destroyed == c.loads, "%d destroyed of %d loads", c.destroyed, c.loads);
}

/* Stop: in-flight and queued requests finish within the drain time. */
static void *stop_main(void *arg)
{
    dt_server_stop(arg);
    return NULL;
}

static void test_drain(void)
{
    for (int late = 0; late < 2; late++) {
        ctl c;
        ctl_init(&c);
        dt_server_config cfg;
        dt_server_config_defaults(&cfg);
        cfg.workers = 1;
        cfg.max_batch = 1;
        cfg.drain_timeout_s = 1;
        dt_server *s = start(&c, &cfg);
        CHECK(s != NULL);
        if (!s)
            return;
        int port = dt_server_port(s);
        bg g, q[2];
        bg_start(&g, port, "/v1/detect", "GATE", 1);
        wait_in_gate(&c, 1);
        bg_start(&q[0], port, "/v1/detect", "", 2);
        bg_start(&q[1], port, "/v1/detect", "", 3);
        wait_depth(s, 2);
        pthread_t stopper;
        double t0 = dt_now_ms();
        pthread_create(&stopper, NULL, stop_main, s);
        usleep(late ? 1500000 : 200000);
        open_gate(&c);
        pthread_join(stopper, NULL);
        pthread_join(g.t, NULL);
        pthread_join(q[0].t, NULL);
        pthread_join(q[1].t, NULL);
        CHECKF(g.r.status == 200, "late=%d: %d", late, g.r.status);
        if (!late) {   /* within the drain time: everything is served */
            CHECKF(q[0].r.status == 200 && q[1].r.status == 200, "%d %d", q[0].r.status, q[1].r.status);
        } else {       /* past it: the queued ones get a clean 503 */
            CHECKF(q[0].r.status == 503 && q[1].r.status == 503 && strstr(q[0].r.body, "shutting down"), "%d %d %s",
                   q[0].r.status, q[1].r.status, q[0].r.body);
        }
        CHECKF(dt_now_ms() - t0 < 5000, "stop took %.0f ms", dt_now_ms() - t0);
        dt_server_free(s);
    }
}

/* Names route models; no name can reach outside the registry. */
static void test_names_and_v2(void)
{
    ctl c;
    ctl_init(&c);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    dt_server *s = start(&c, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    resp r;
    struct {
        const char *method, *path;
        int want;
        const char *body;
    } cases[] = {
        {"GET", "/v2/models/fake", 200, "\"name\":\"fake\""},
        {"GET", "/v2/models/nanodet", 200, "\"name\":\"fake\""}, /* the --model name is an alias */
        {"GET", "/v2/models/fake/ready", 200, "\"ready\":true"},
        {"GET", "/v2/models/fake/versions/1/ready", 200, "\"ready\":true"},
        {"GET", "/v2/models/fake/versions/2/ready", 404, "version"},
        {"GET", "/v2/models/nope/ready", 404, "no model named"},
        {"GET", "/v2/models/..%2F..%2Fetc%2Fpasswd/ready", 400, "invalid"},
        {"GET", "/v2/models/../../etc/passwd/ready", 400, "invalid model name"},
        {"GET", "/v2/models/../ready", 400, "invalid model name"},
        {"GET", "/v2/models/.hidden", 400, "invalid model name"},
        {"POST", "/v1/detect?model=..%2Fx", 400, "invalid model name"},
        {"POST", "/v1/detect?model=nope", 404, "no model named"},
        {"POST", "/v1/vision/custom/..", 400, "\"success\":false"},
        {"POST", "/v1/vision/custom/nope", 404, "\"success\":false,\"error\":"},
        {"POST", "/v1/models/a%2Fb/reload", 400, "invalid"},
        {"GET", "/v2/models/fake/infer", 405, "not allowed"},
        {"POST", "/v2/models/fake/ready", 405, "not allowed"},
        {"GET", "/v2/models/fake/bogus", 404, "no route"},
        {"GET", "/v2", 200, "\"extensions\":[\"binary_tensor_data\""},
        {"POST", "/v2/repository/index", 200, "\"state\":\"READY\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *body = "\xff\xd8\xff ID=1";
        int post = !strcmp(cases[i].method, "POST");
        req(port, cases[i].method, cases[i].path, post ? "image/jpeg" : NULL, post ? body : NULL,
            post ? strlen(body) : 0, NULL, &r);
        CHECKF(r.status == cases[i].want && strstr(r.body, cases[i].body), "%s %s: %d %s", cases[i].method,
               cases[i].path, r.status, r.body);
    }
    req(port, "POST", "/v1/detect?model=fake&threshold=0.1", "image/jpeg", IMG("\xff\xd8\xff ID=5"), NULL, &r);
    CHECKF(r.status == 200 && box_x(&r) == 5, "%d %s", r.status, r.body);

    /* v2: base64 image in JSON; binary with Triton's length prefix; binary outputs */
    const char *js = "{\"id\":\"q1\",\"inputs\":[{\"name\":\"image\",\"shape\":[1],\"datatype\":\"BYTES\","
                     "\"data\":[\"/9j/IElEPTQy\"]}]}"; /* base64 of "\xff\xd8\xff ID=42" */
    req(port, "POST", "/v2/models/fake/infer", "application/json", js, strlen(js), NULL, &r);
    CHECKF(r.status == 200 && strstr(r.body, "\"model_name\":\"fake\",\"model_version\":\"1\",\"id\":\"q1\"") &&
               strstr(r.body, "{\"name\":\"detections\",\"datatype\":\"FP32\",\"shape\":[1,6],\"data\":[42,1,52,11,0.9,1]}") &&
               strstr(r.body, "{\"name\":\"labels\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"dog\"]}"),
           "%d %s", r.status, r.body);
    char bin[512];
    const char *hdr = "{\"inputs\":[{\"name\":\"image\",\"shape\":[1],\"datatype\":\"BYTES\","
                      "\"parameters\":{\"binary_data_size\":13}}],\"outputs\":[{\"name\":\"labels\"},"
                      "{\"name\":\"detections\",\"parameters\":{\"binary_data\":true}}]}";
    size_t hl = strlen(hdr);
    memcpy(bin, hdr, hl);
    memcpy(bin + hl, "\x09\x00\x00\x00\xff\xd8\xff ID=77", 13);
    char extra[96];
    snprintf(extra, sizeof extra, "Inference-Header-Content-Length: %zu\r\n", hl);
    req(port, "POST", "/v2/models/fake/versions/1/infer", "application/octet-stream", bin, hl + 13, extra, &r);
    const char *ihcl = header(&r, "Inference-Header-Content-Length");
    CHECKF(r.status == 200 && ihcl, "%d %s", r.status, r.body);
    if (r.status == 200 && ihcl) {
        size_t jl = (size_t)atoi(ihcl);
        const char *b = r.body;
        size_t body_len = r.n - (size_t)(b - r.raw);
        CHECKF(body_len == jl + 24, "body %zu, json %zu", body_len, jl);
        CHECK(memmem(b, jl, "\"parameters\":{\"binary_data_size\":24}", 36) != NULL);
        CHECK(memmem(b, jl, "\"data\":[\"dog\"]", 14) != NULL); /* labels in JSON, as asked */
        float v[6];
        memcpy(v, b + jl, sizeof v);
        CHECKF(v[0] == 77 && v[1] == 1 && v[2] == 87 && fabsf(v[4] - 0.9f) < 1e-6f && v[5] == 1, "%g %g %g %g",
               v[0], v[1], v[2], v[5]);
        CHECK(!strcmp(header(&r, "Content-Type"), "application/octet-stream"));
    }
    /* raw FP32 model input (2x2x3 = 12 values, but the fake's item is 4) */
    const char *raw = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[31,0,0,0]}]}";
    req(port, "POST", "/v2/models/fake/infer", NULL, raw, strlen(raw), NULL, &r);
    CHECKF(r.status == 200 && strstr(r.body, "\"data\":[31,1,41,11,0.9,1]"), "%d %s", r.status, r.body);
    struct {
        const char *body;
        int want;
        const char *msg;
    } bad[] = {
        {"{", 400, "not valid JSON"},
        {"[]", 400, "JSON object"},
        {"{\"inputs\":[]}", 400, "exactly one"},
        {"{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"eA\",\"eA\"]}]}", 400, "one image"},
        {"{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"%%%\"]}]}", 400, "base64"},
        {"{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"aGVsbG8=\"]}]}", 400, "not a JPEG"},
        {"{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"INT64\",\"data\":[1]}]}", 400, "not supported"},
        {"{\"inputs\":[{\"name\":\"a\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}", 400, "4 floats"},
        {"{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"/9j/IElEPTQy\"]}],"
         "\"outputs\":[{\"name\":\"boxes\"}]}", 400, "unknown output"},
        {"{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"/9j/IElEPTQy\"]}],"
         "\"parameters\":{\"threshold\":7}}", 400, "threshold"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req(port, "POST", "/v2/models/fake/infer", "application/json", bad[i].body, strlen(bad[i].body), NULL, &r);
        CHECKF(r.status == bad[i].want && strstr(r.body, "{\"error\":\"") && strstr(r.body, bad[i].msg),
               "bad %zu: %d %s", i, r.status, r.body);
    }
    req(port, "POST", "/v2/models/fake/infer", "application/json", "{}", 2, "Inference-Header-Content-Length: 9\r\n", &r);
    CHECKF(r.status == 400 && strstr(r.body, "beyond"), "%d %s", r.status, r.body);
    /* DeepStack: multipart, min_confidence, CodeProject.AI's shape */
    char mp[512];
    int n = snprintf(mp, sizeof mp,
                     "--B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
                     "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff ID=3\r\n"
                     "--B\r\nContent-Disposition: form-data; name=\"min_confidence\"\r\n\r\n0.95\r\n--B--\r\n");
    req(port, "POST", "/v1/vision/detection", "multipart/form-data; boundary=B", mp, (size_t)n, NULL, &r);
    CHECKF(r.status == 200 && strstr(r.body, "{\"success\":true,\"message\":\"No objects found\",\"predictions\":[],"
                                             "\"count\":0,"), "%d %s", r.status, r.body);
    char *mc = strstr(mp, "0.95");
    memcpy(mc, "0.90", 4); /* >= min_confidence: the 0.9 box stays */
    req(port, "POST", "/v1/vision/detection", "multipart/form-data; boundary=B", mp, (size_t)n, NULL, &r);
    CHECKF(r.status == 200 && strstr(r.body, "\"message\":\"Found dog\",\"predictions\":[{\"label\":\"dog\","
                                             "\"confidence\":0.9,\"x_min\":3,\"y_min\":1,\"x_max\":13,\"y_max\":11}],"
                                             "\"count\":1,") &&
               strstr(r.body, "\"inferenceMs\":") && strstr(r.body, "\"processMs\":") && strstr(r.body, "\"moduleId\":"),
           "%d %s", r.status, r.body);
    memcpy(mc, "abcd", 4);
    req(port, "POST", "/v1/vision/detection", "multipart/form-data; boundary=B", mp, (size_t)n, NULL, &r);
    CHECKF(r.status == 400 && strstr(r.body, "{\"success\":false,\"error\":\"min_confidence"), "%d %s", r.status, r.body);
    dt_server_free(s);
}

/* The Prometheus text format: every family has HELP and TYPE before its
 * samples; histogram buckets are cumulative, end with +Inf == _count. */
static void test_metrics_text(void)
{
    ctl c;
    ctl_init(&c);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    dt_server *s = start(&c, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    resp r;
    for (int i = 0; i < 3; i++)
        req(port, "POST", "/v1/detect", "image/jpeg", IMG("\xff\xd8\xff ID=1"), NULL, &r);
    req(port, "GET", "/nope", NULL, NULL, 0, NULL, &r);
    req(port, "GET", "/metrics", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 200 && header(&r, "Content-Type") && strstr(header(&r, "Content-Type"), "text/plain; version=0.0.4"));
    char family[128] = "", type[32] = "";
    int lines = 0, families = 0;
    unsigned long long prev_bucket = 0;
    for (const char *p = r.body; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
        if (!line[0])
            continue;
        lines++;
        if (!strncmp(line, "# HELP ", 7)) {
            sscanf(line + 7, "%127s", family);
            families++;
            type[0] = '\0';
            prev_bucket = 0;
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            char fam[128];
            sscanf(line + 7, "%127s %31s", fam, type);
            CHECKF(!strcmp(fam, family), "TYPE %s after HELP %s", fam, family);
            CHECKF(!strcmp(type, "counter") || !strcmp(type, "gauge") || !strcmp(type, "histogram"), "%s", type);
            continue;
        }
        CHECKF(line[0] != '#', "%s", line);
        CHECKF(!strncmp(line, family, strlen(family)) && type[0], "sample %s outside its family %s", line, family);
        if (!strcmp(type, "counter"))
            CHECKF(strstr(family, "_total") != NULL, "counter %s without _total", family);
        if (!strcmp(type, "histogram")) {
            const char *le = strstr(line, "le=\"");
            unsigned long long v = strtoull(strrchr(line, ' ') + 1, NULL, 10);
            if (strstr(line, "_bucket{")) {
                CHECKF(le != NULL, "%s", line);
                CHECKF(v >= prev_bucket, "buckets not cumulative: %s", line);
                prev_bucket = v;
                if (le && !strncmp(le, "le=\"+Inf\"", 9)) {
                    /* the next lines are _sum and _count */
                    const char *cnt = strstr(p, "_count");
                    CHECK(cnt != NULL);
                    if (cnt) {
                        const char *sp = strchr(cnt, ' ');
                        CHECKF(sp && strtoull(sp + 1, NULL, 10) == v, "+Inf %llu vs _count", v);
                    }
                    prev_bucket = 0;
                }
            }
        }
    }
    CHECKF(lines > 50 && families >= 15, "%d lines, %d families", lines, families);
    const char *must[] = {"detectd_requests_total{route=\"detect\",code=\"200\"} 3\n",
                          "detectd_requests_total{route=\"none\",code=\"404\"} 1\n",
                          "detectd_queue_depth{model=\"fake\"} 0\n",
                          "detectd_model_state{model=\"fake\",state=\"ready\"} 1\n",
                          "detectd_model_state{model=\"fake\",state=\"loading\"} 0\n",
                          "process_resident_memory_bytes ",
                          "detectd_inference_duration_seconds_bucket{model=\"fake\",le=\"0.001\"} ",
                          "detectd_queue_duration_seconds_count{model=\"fake\"} 3\n",
                          "detectd_preprocess_duration_seconds_count{model=\"fake\"} 3\n",
                          "detectd_request_duration_seconds_count{route=\"detect\"} 3\n",
                          "detectd_ready 1\n"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        CHECKF(strstr(r.body, must[i]) != NULL, "missing %s", must[i]);
    dt_server_free(s);
}

/* --read-timeout-s: an upload that trickles past it is cut; others are fine. */
static void test_read_timeout(void)
{
    ctl c;
    ctl_init(&c);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.read_timeout_s = 1;
    dt_server *s = start(&c, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    int fd = dial(port);
    const char *h = "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100\r\n\r\n";
    send_all(fd, h, strlen(h));
    double t0 = dt_now_ms();
    int closed = 0;
    for (int i = 0; i < 20 && !closed; i++) {
        if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
            closed = 1;
        usleep(300000);
        char b[64];
        ssize_t k = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = 1;
    }
    close(fd);
    CHECKF(closed && dt_now_ms() - t0 < 4000, "closed %d after %.0f ms", closed, dt_now_ms() - t0);
    resp r;
    req(port, "POST", "/v1/detect", "image/jpeg", IMG("\xff\xd8\xff ID=3"), NULL, &r);
    CHECK(r.status == 200);
    dt_server_free(s);
}

/* The batching queue on its own: a worker takes what is queued at once. */
static _Atomic int g_sizes[16];
static void count_batch(void *arg, dt_job **jobs, int n, void *w)
{
    (void)arg, (void)jobs, (void)w;
    atomic_fetch_add(&g_sizes[n], 1);
}
static void test_workq_batch(void)
{
    dt_workq *q;
    dt_status st;
    CHECK(dt_workq_create(100, &q, &st) == DT_OK);
    dt_workq_set_batch(q, 4, 0, count_batch, NULL);
    dt_job jobs[10];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 10; i++)
        CHECK(dt_workq_push(q, &jobs[i], &st) == DT_EBUSY); /* no workers yet */
    void *ctx[1] = {q};
    CHECK(dt_workq_start(q, 1, ctx, &st) == DT_OK);
    dt_workq_stop(q);
    dt_workq_free(q);
    /* deadlines come out in queue order; stop_take hands back what waits */
    CHECK(dt_workq_create(100, &q, &st) == DT_OK);
    dt_workq_set_batch(q, 4, 0, count_batch, NULL);
    CHECK(dt_workq_start(q, 1, ctx, &st) == DT_OK);
    dt_workq_stop(q); /* no jobs */
    dt_workq_free(q);
    CHECK(atomic_load(&g_sizes[0]) == 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_workq_batch);
    RUN(test_batching);
    RUN(test_batch_timeout);
    RUN(test_deadline_and_full_queue);
    RUN(test_reload);
    RUN(test_drain);
    RUN(test_names_and_v2);
    RUN(test_metrics_text);
    RUN(test_read_timeout);
    return tl_summary();
}
