/* test_server_http.c — the HTTP layer against a fake backend over real
 * sockets: routing, statuses, headers, bodies, readiness, the bounded
 * queue (503 + Retry-After), limits and graceful shutdown.  No model is
 * needed, so this runs before and independently of the pipeline. */
#include <arpa/inet.h>
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

/* ---- the fake backend --------------------------------------------------------- */

typedef struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int load_open;  /* load waits until 1 */
    int slow_open;  /* "SLOW" images wait until 1 */
    int running_slow;
    int calls;
    float last_threshold;
    int last_max;
    int last_classes[8], last_n_classes;
    int fail_load;
    dt_detection dets[3];
} fake;

static const char *const LABELS[] = {"cat", "dog", "person"};

static void wait_flag(fake *f, int *flag)
{
    pthread_mutex_lock(&f->mu);
    while (!*flag)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static void set_flag(fake *f, int *flag)
{
    pthread_mutex_lock(&f->mu);
    *flag = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static dt_code f_load(void *self, dt_status *st)
{
    fake *f = self;
    wait_flag(f, &f->load_open);
    if (f->fail_load)
        return dt_fail(st, DT_ENOTFOUND, "no such model");
    return DT_OK;
}

static void f_info(void *self, dt_server_model_info *out)
{
    (void)self;
    out->name = "fake";
    out->input_w = 320;
    out->input_h = 320;
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
    (void)st;
    *w = self;
    return DT_OK;
}

static void f_worker_free(void *self, void *w)
{
    (void)self;
    (void)w;
}

static int has(const void *b, size_t n, const char *s) { return memmem(b, n, s, strlen(s)) != NULL; }

static dt_code f_detect(void *self, void *w, const void *bytes, size_t len, const dt_image_limits *lim,
                        const dt_detect_params *p, dt_detect_result *out, dt_status *st)
{
    (void)w;
    (void)lim;
    fake *f = self;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    f->last_threshold = p->threshold;
    f->last_max = p->max_detections;
    f->last_n_classes = p->n_classes;
    for (int i = 0; i < p->n_classes && i < 8; i++)
        f->last_classes[i] = p->classes[i];
    pthread_mutex_unlock(&f->mu);
    if (has(bytes, len, "SLOW")) {
        pthread_mutex_lock(&f->mu);
        f->running_slow++;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        wait_flag(f, &f->slow_open);
    }
    if (has(bytes, len, "CORRUPT"))
        return dt_fail(st, DT_ECORRUPT, "broken JPEG");
    if (has(bytes, len, "HUGE"))
        return dt_fail(st, DT_ELIMIT, "image of 60000x60000 pixels is over the limit");
    if (has(bytes, len, "BUG"))
        return dt_fail(st, DT_EINTERNAL, "oops");
    f->dets[0] = (dt_detection){0, 0.9f, 10.4f, 20.6f, 110.2f, 220.9f};
    f->dets[1] = (dt_detection){1, 0.6f, 150.f, 30.f, 330.f, 200.f}; /* x2 past the edge: clipped */
    f->dets[2] = (dt_detection){2, 0.3f, 0.f, 0.f, 10.f, 10.f};
    out->width = 320;
    out->height = 240;
    out->n = 3;
    out->dets = f->dets;
    memset(&out->timing, 0, sizeof out->timing);
    return DT_OK;
}

static void f_destroy(void *self) { (void)self; }

static const dt_server_backend_ops FAKE_OPS = {f_load,          f_info,   f_label,  f_class_id, f_worker_create,
                                               f_worker_free,   f_detect, f_destroy};

/* ---- a tiny HTTP client -------------------------------------------------------- */

typedef struct resp {
    int status;
    char raw[65536];
    const char *body;
} resp;

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
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

static void read_resp(int fd, resp *r)
{
    size_t o = 0;
    for (;;) {
        ssize_t k = recv(fd, r->raw + o, sizeof r->raw - 1 - o, 0);
        if (k <= 0)
            break;
        o += (size_t)k;
    }
    r->raw[o] = '\0';
    close(fd);
    r->status = 0;
    sscanf(r->raw, "HTTP/1.%*d %d", &r->status);
    const char *b = strstr(r->raw, "\r\n\r\n");
    r->body = b ? b + 4 : "";
}

/* Send a request (headers + body) and read the whole answer. */
static void req(int port, const char *method, const char *path, const char *ctype, const void *body, size_t n,
                const char *extra, resp *r)
{
    char head[2048];
    int hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s%s", method, path,
                      ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", extra ? extra : "");
    if (body)
        hl += snprintf(head + hl, sizeof head - (size_t)hl, "Content-Length: %zu\r\n", n);
    hl += snprintf(head + hl, sizeof head - (size_t)hl, "\r\n");
    int fd = dial(port);
    if (fd < 0) {
        r->status = -1;
        r->body = "";
        return;
    }
    send_all(fd, head, (size_t)hl);
    if (body)
        send_all(fd, body, n);
    read_resp(fd, r);
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
    size_t n = strcspn(p, "\r\n");
    snprintf(v, sizeof v, "%.*s", (int)n, p);
    return v;
}

static const char JPEG_OK[] = "\xff\xd8\xff\xe0 fine";

/* ---- the server under test --------------------------------------------------- */

static dt_server *start(fake *f, dt_server_config *cfg)
{
    dt_server_backend be = {&FAKE_OPS, f};
    dt_server *s = NULL;
    dt_status st;
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 0;
    if (dt_server_start(cfg, be, &s, &st) != DT_OK) {
        fprintf(stderr, "start: %s\n", st.msg);
        return NULL;
    }
    return s;
}

static int wait_ready(int port)
{
    for (int i = 0; i < 200; i++) {
        resp r;
        req(port, "GET", "/v2/health/ready", NULL, NULL, 0, NULL, &r);
        if (r.status == 200)
            return 1;
        usleep(10000);
    }
    return 0;
}

static void fake_init(fake *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
}

static void test_readiness_and_routes(void)
{
    fake f;
    fake_init(&f);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.max_body_bytes = 4096;
    cfg.max_inflight_bytes = 1 << 20;
    dt_server *s = start(&f, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    CHECK(port > 0);
    resp r;

    /* while loading: live, not ready, POST refused with Retry-After */
    req(port, "GET", "/v2/health/live", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 200 && strstr(r.body, "\"live\":true"));
    req(port, "GET", "/v2/health/ready", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 503 && strstr(r.body, "\"error\""));
    req(port, "GET", "/health", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 503 && strstr(r.body, "loading"));
    req(port, "POST", "/predict", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECKF(r.status == 503 && header(&r, "Retry-After"), "%d", r.status);
    req(port, "GET", "/v1/models", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 503);
    CHECK(dt_server_state_get(s, NULL) == DT_SERVER_LOADING);

    set_flag(&f, &f.load_open);
    CHECK(wait_ready(port));
    CHECK(dt_server_state_get(s, NULL) == DT_SERVER_READY);
    req(port, "GET", "/health", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 200 && strstr(r.body, "\"ok\""));
    req(port, "HEAD", "/health", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 200 && r.body[0] == '\0');
    req(port, "GET", "/v1/models", NULL, NULL, 0, NULL, &r);
    CHECKF(r.status == 200 && strstr(r.body, "\"name\":\"fake\"") && strstr(r.body, "\"labels\":3") &&
               strstr(r.body, "\"width\":320") && strstr(r.body, "\"threshold\":0.5"),
           "%s", r.body);

    /* the article's route: integers, clipped, only probability > 0.5 */
    req(port, "POST", "/predict", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECK(r.status == 200);
    CHECKF(!strcmp(r.body, "{\"prediction\":[{\"objectClass\":\"cat\",\"probability\":0.9,\"x\":10,\"y\":21,"
                           "\"width\":100,\"height\":200},{\"objectClass\":\"dog\",\"probability\":0.6,\"x\":150,"
                           "\"y\":30,\"width\":170,\"height\":170}]}"),
           "%s", r.body);
    const char *ct = header(&r, "Content-Type");
    CHECKF(ct && !strcmp(ct, "application/json; charset=utf-8"), "%s", ct ? ct : "(none)");
    const char *id = header(&r, "X-Request-Id");
    CHECK(id && strlen(id) == 16);
    req(port, "POST", "/predict", "image/png; foo=bar", JPEG_OK, sizeof JPEG_OK - 1, "X-Request-Id: abc-123\r\n", &r);
    CHECK(r.status == 200 && header(&r, "X-Request-Id") && !strcmp(header(&r, "X-Request-Id"), "abc-123"));
    req(port, "POST", "/predict", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, "X-Request-Id: bad id<>\r\n", &r);
    CHECK(r.status == 200 && header(&r, "X-Request-Id") && strlen(header(&r, "X-Request-Id")) == 16);

    /* /v1/detect: query parameters reach the backend; schema */
    req(port, "POST", "/v1/detect?threshold=0.2&max_detections=2&classes=cat%2C%20person", "image/jpeg", JPEG_OK,
        sizeof JPEG_OK - 1, NULL, &r);
    CHECKF(r.status == 200, "%d %s", r.status, r.body);
    CHECK(fabsf(f.last_threshold - 0.2f) < 1e-6f && f.last_max == 2 && f.last_n_classes == 2);
    CHECK(f.last_classes[0] == 0 && f.last_classes[1] == 2);
    CHECKF(strstr(r.body, "{\"model\":\"fake\",\"width\":320,\"height\":240,\"objects\":[{\"label\":\"cat\","
                          "\"class_id\":0,\"score\":0.9,\"box\":{\"x\":10.4,\"y\":20.6,\"width\":99.8,"
                          "\"height\":200.3}},{\"label\":\"dog\"") &&
               strstr(r.body, "\"timing_ms\":{\"queue\":") && !strstr(r.body, "person"),
           "%s", r.body);
    req(port, "POST", "/v1/detect", NULL, JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECK(r.status == 200); /* no Content-Type: the bytes tell */
    req(port, "POST", "/v1/detect", "application/octet-stream", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECK(r.status == 200);

    /* multipart */
    char mp[512];
    int n = snprintf(mp, sizeof mp,
                     "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
                     "Content-Type: image/jpeg\r\n\r\n%s\r\n--XyZ--\r\n",
                     JPEG_OK);
    req(port, "POST", "/v1/detect", "multipart/form-data; boundary=XyZ", mp, (size_t)n, NULL, &r);
    CHECKF(r.status == 200 && strstr(r.body, "\"objects\""), "%d %s", r.status, r.body);
    req(port, "POST", "/v1/detect", "multipart/form-data; boundary=XyZ", mp, (size_t)n - 12, NULL, &r);
    CHECKF(r.status == 400 && strstr(r.body, "\"error\""), "%d %s", r.status, r.body);
    req(port, "POST", "/v1/detect", "multipart/form-data; boundary=Other", mp, (size_t)n, NULL, &r);
    CHECK(r.status == 400);
    req(port, "POST", "/v1/detect", "multipart/form-data", mp, (size_t)n, NULL, &r);
    CHECK(r.status == 400);
    char *nf = strstr(mp, "name=\"image\"");
    memcpy(nf, "name=\"other\"", 12);
    req(port, "POST", "/v1/detect", "multipart/form-data; boundary=XyZ", mp, (size_t)n, NULL, &r);
    CHECKF(r.status == 400 && strstr(r.body, "image"), "%d %s", r.status, r.body);

    /* errors, with their statuses */
    struct {
        const char *method, *path, *ctype, *body, *want_body;
        int want;
    } cases[] = {
        {"POST", "/predict", "text/plain", "\xff\xd8\xff", "Invalid content", 400},
        {"POST", "/predict", NULL, "\xff\xd8\xff", "Invalid content", 400},
        {"POST", "/v1/detect", "text/plain", "\xff\xd8\xff", "unsupported media type", 415},
        {"POST", "/v1/detect", "image/gif", "GIF89a....", "unsupported", 415},
        {"POST", "/v1/detect", "bad type", "\xff\xd8\xff", "malformed", 400},
        {"POST", "/predict", "image/jpeg", "garbage bytes", "Invalid content", 400},
        {"POST", "/v1/detect", "image/jpeg", "garbage bytes", "not a JPEG", 400},
        {"POST", "/v1/detect", "image/jpeg", "", "empty", 400},
        {"POST", "/v1/detect", "image/jpeg", "\xff\xd8\xff CORRUPT", "broken JPEG", 400},
        {"POST", "/predict", "image/jpeg", "\xff\xd8\xff CORRUPT", "Invalid content: broken JPEG", 400},
        {"POST", "/v1/detect", "image/jpeg", "\xff\xd8\xff HUGE", "over the limit", 413},
        {"POST", "/predict", "image/jpeg", "\xff\xd8\xff HUGE", "over the limit", 413},
        {"POST", "/v1/detect", "image/jpeg", "\xff\xd8\xff BUG", "oops", 500},
        {"POST", "/v1/detect?threshold=2", "image/jpeg", "\xff\xd8\xff", "threshold", 400},
        {"POST", "/v1/detect?threshold=abc", "image/jpeg", "\xff\xd8\xff", "threshold", 400},
        {"POST", "/v1/detect?max_detections=0", "image/jpeg", "\xff\xd8\xff", "max_detections", 400},
        {"POST", "/v1/detect?classes=unicorn", "image/jpeg", "\xff\xd8\xff", "unicorn", 400},
        {"POST", "/v1/detect?nope=1", "image/jpeg", "\xff\xd8\xff", "nope", 400},
        {"POST", "/v1/detect?threshold=%zz", "image/jpeg", "\xff\xd8\xff", "escape", 400},
        {"GET", "/predict", NULL, NULL, "not allowed", 405},
        {"GET", "/v1/detect", NULL, NULL, "not allowed", 405},
        {"POST", "/health", NULL, NULL, "not allowed", 405},
        {"DELETE", "/v1/models", NULL, NULL, "not allowed", 405},
        {"GET", "/nope", NULL, NULL, "no route", 404},
        {"POST", "/predict/", "image/jpeg", "\xff\xd8\xff", "no route", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        req(port, cases[i].method, cases[i].path, cases[i].ctype, cases[i].body,
            cases[i].body ? strlen(cases[i].body) : 0, NULL, &r);
        CHECKF(r.status == cases[i].want && strstr(r.body, "{\"error\":\"") && strstr(r.body, cases[i].want_body),
               "case %zu %s %s: %d %s", i, cases[i].method, cases[i].path, r.status, r.body);
        const char *c = header(&r, "Content-Type");
        CHECK(c && !strcmp(c, "application/json; charset=utf-8"));
        CHECK(header(&r, "X-Request-Id") != NULL);
        if (cases[i].want == 405)
            CHECK(header(&r, "Allow") != NULL);
    }
    req(port, "GET", "/predict", NULL, NULL, 0, NULL, &r);
    CHECK(header(&r, "Allow") && !strcmp(header(&r, "Allow"), "POST"));

    /* body limits: announced (never read) and streamed */
    static char big[8192];
    memcpy(big, JPEG_OK, 4);
    req(port, "POST", "/v1/detect", "image/jpeg", big, sizeof big, NULL, &r);
    CHECKF(r.status == 413 && strstr(r.body, "4096"), "%d %s", r.status, r.body);
    req(port, "POST", "/predict", "image/jpeg", big, sizeof big, NULL, &r);
    CHECK(r.status == 413);
    {
        int fd = dial(port);
        const char *h = "POST /v1/detect HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/jpeg\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
        send_all(fd, h, strlen(h));
        for (int k = 0; k < 4; k++) {
            send_all(fd, "800\r\n", 5);
            send_all(fd, big, 0x800);
            send_all(fd, "\r\n", 2);
        }
        send_all(fd, "0\r\n\r\n", 5);
        read_resp(fd, &r);
        CHECKF(r.status == 413, "chunked: %d %s", r.status, r.body);
    }
    {   /* a chunked upload under the limit works */
        int fd = dial(port);
        const char *h = "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/jpeg\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n";
        send_all(fd, h, strlen(h));
        send_all(fd, "3\r\n\xff\xd8\xff\r\n", 8);
        send_all(fd, "5\r\nhello\r\n0\r\n\r\n", 15);
        read_resp(fd, &r);
        CHECKF(r.status == 200 && strstr(r.body, "prediction"), "chunked small: %d %s", r.status, r.body);
    }
    {   /* a client that disconnects mid-upload leaves the server fine */
        int fd = dial(port);
        const char *h = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 4000\r\n\r\n";
        send_all(fd, h, strlen(h));
        send_all(fd, big, 1000);
        close(fd);
    }
    /* keep-alive: two requests on one connection */
    {
        int fd = dial(port);
        char two[512];
        int l = snprintf(two, sizeof two,
                         "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n%s"
                         "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         sizeof JPEG_OK - 1, JPEG_OK);
        send_all(fd, two, (size_t)l);
        read_resp(fd, &r);
        CHECK(r.status == 200 && strstr(r.raw, "prediction") && strstr(r.raw, "\"status\":\"ok\""));
    }
    req(port, "POST", "/predict", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECK(r.status == 200);
    /* Nothing may linger (the aborted upload included): stopping is quick,
     * not the 30 s drain deadline. */
    double t0 = dt_now_ms();
    dt_server_free(s);
    CHECKF(dt_now_ms() - t0 < 5000, "stop took %.0f ms", dt_now_ms() - t0);
}

/* A full queue answers 503 + Retry-After at once; the queued work still
 * completes.  One worker, queue of one. */
typedef struct bg {
    int port;
    const char *body;
    resp r;
    pthread_t t;
} bg;

static void *bg_main(void *arg)
{
    bg *b = arg;
    req(b->port, "POST", "/v1/detect", "image/jpeg", b->body, strlen(b->body), NULL, &b->r);
    return NULL;
}

static void wait_running(fake *f, int n)
{
    pthread_mutex_lock(&f->mu);
    while (f->running_slow < n)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static void test_queue_full(void)
{
    fake f;
    fake_init(&f);
    f.load_open = 1;
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.workers = 1;
    cfg.queue_size = 1;
    dt_server *s = start(&f, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    CHECK(wait_ready(port));
    bg a = {port, "\xff\xd8\xff SLOW a", {0}, 0}, b = {port, "\xff\xd8\xff SLOW b", {0}, 0};
    pthread_create(&a.t, NULL, bg_main, &a);
    wait_running(&f, 1); /* a is on the worker */
    pthread_create(&b.t, NULL, bg_main, &b);
    for (int i = 0; i < 1000 && dt_server_queue_depth(s) < 1; i++)
        usleep(5000);
    CHECK(dt_server_queue_depth(s) == 1); /* b waits in the queue */
    resp r;
    double t0 = dt_now_ms();
    req(port, "POST", "/v1/detect", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECKF(r.status == 503 && header(&r, "Retry-After") && strstr(r.body, "busy"), "%d %s", r.status, r.body);
    req(port, "POST", "/predict", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECK(r.status == 503);
    CHECK(dt_now_ms() - t0 < 1000); /* refused at once, not after a wait */
    set_flag(&f, &f.slow_open);
    pthread_join(a.t, NULL);
    pthread_join(b.t, NULL);
    CHECK(a.r.status == 200 && b.r.status == 200);
    dt_server_free(s);
}

/* Stop while a request is in flight: it completes, new connections fail. */
static void *stop_main(void *arg)
{
    dt_server_stop(arg);
    return NULL;
}

static void test_graceful_stop(void)
{
    fake f;
    fake_init(&f);
    f.load_open = 1;
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.timeout_s = 10;
    dt_server *s = start(&f, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    CHECK(wait_ready(port));
    bg a = {port, "\xff\xd8\xff SLOW", {0}, 0};
    pthread_create(&a.t, NULL, bg_main, &a);
    wait_running(&f, 1);
    pthread_t stopper;
    pthread_create(&stopper, NULL, stop_main, s);
    int refused = 0;
    for (int i = 0; i < 500 && !refused; i++) {
        int fd = dial(port);
        refused = fd < 0;
        if (fd >= 0) {
            close(fd);
            usleep(10000);
        }
    }
    CHECK(refused); /* no longer accepting */
    set_flag(&f, &f.slow_open);
    pthread_join(a.t, NULL);
    pthread_join(stopper, NULL);
    CHECKF(a.r.status == 200 && strstr(a.r.body, "\"objects\""), "%d %s", a.r.status, a.r.body);
    dt_server_free(s);
}

/* One HTTP thread, a client stuck mid-headers and one mid-body: others are
 * served at once, and the stuck ones are dropped after the idle timeout. */
static void test_slow_clients(void)
{
    fake f;
    fake_init(&f);
    f.load_open = 1;
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    cfg.http_threads = 1;
    cfg.timeout_s = 1;
    dt_server *s = start(&f, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    CHECK(wait_ready(port));
    int slow1 = dial(port), slow2 = dial(port);
    const char *h1 = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Le";
    const char *h2 = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100\r\n\r\n\xff\xd8";
    send_all(slow1, h1, strlen(h1));
    send_all(slow2, h2, strlen(h2));
    double t0 = dt_now_ms();
    resp r;
    req(port, "POST", "/predict", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECK(r.status == 200 && dt_now_ms() - t0 < 500);
    /* both stuck connections are closed by the server after ~1 s idle */
    read_resp(slow1, &r);
    CHECK(dt_now_ms() - t0 < 5000);
    read_resp(slow2, &r);
    CHECK(dt_now_ms() - t0 < 5000);
    req(port, "GET", "/health", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 200);
    dt_server_free(s);
}

/* Out of memory at each allocation of a request in turn: the answer is a
 * 503 or a closed connection, never a crash or a leak (ASan build), and
 * the next request is fine. */
static void test_oom(void)
{
    fake f;
    fake_init(&f);
    f.load_open = 1;
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    dt_server *s = start(&f, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = dt_server_port(s);
    CHECK(wait_ready(port));
    int saw_200 = 0;
    for (long k = 0; k < 12 && !saw_200; k++) {
        resp r;
        dt_alloc_fail_after(k);
        req(port, "POST", "/v1/detect?classes=cat,dog", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
        dt_alloc_fail_reset();
        CHECKF(r.status == 200 || r.status == 503 || r.status <= 0, "k=%ld: %d %s", k, r.status, r.body);
        if (r.status == 503)
            CHECKF(strstr(r.body, "memory") != NULL, "k=%ld: %s", k, r.body);
        saw_200 = r.status == 200;
    }
    CHECK(saw_200); /* enough allocations allowed: it works again */
    resp r;
    req(port, "POST", "/predict", "image/jpeg", JPEG_OK, sizeof JPEG_OK - 1, NULL, &r);
    CHECK(r.status == 200);
    dt_server_free(s);
}

static void test_load_failure(void)
{
    fake f;
    fake_init(&f);
    f.load_open = 1;
    f.fail_load = 1;
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    dt_server *s = start(&f, &cfg);
    CHECK(s != NULL);
    if (!s)
        return;
    dt_status why;
    for (int i = 0; i < 200 && dt_server_state_get(s, &why) != DT_SERVER_FAILED; i++)
        usleep(10000);
    CHECK(dt_server_state_get(s, &why) == DT_SERVER_FAILED && strstr(why.msg, "no such model"));
    resp r;
    req(dt_server_port(s), "GET", "/v2/health/ready", NULL, NULL, 0, NULL, &r);
    CHECK(r.status == 503);
    dt_server_free(s);
}

static void test_bind_failure(void)
{
    fake f;
    fake_init(&f);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    dt_server *s1 = start(&f, &cfg);
    CHECK(s1 != NULL);
    if (!s1)
        return;
    cfg.port = dt_server_port(s1);
    dt_server_backend be = {&FAKE_OPS, &f};
    dt_server *s2 = NULL;
    dt_status st;
    CHECK(dt_server_start(&cfg, be, &s2, &st) == DT_EIO && s2 == NULL && strstr(st.msg, "in use"));
    cfg.port = 0;
    snprintf(cfg.entry_point, sizeof cfg.entry_point, "/v1/detect");
    CHECK(dt_server_start(&cfg, be, &s2, &st) == DT_EINVAL && s2 == NULL && strstr(st.msg, "built-in"));
    snprintf(cfg.entry_point, sizeof cfg.entry_point, "/predict");
    snprintf(cfg.host, sizeof cfg.host, "no.such.host.invalid");
    CHECK(dt_server_start(&cfg, be, &s2, &st) != DT_OK && s2 == NULL);
    set_flag(&f, &f.load_open);
    dt_server_free(s1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_readiness_and_routes);
    RUN(test_queue_full);
    RUN(test_graceful_stop);
    RUN(test_slow_clients);
    RUN(test_oom);
    RUN(test_load_failure);
    RUN(test_bind_failure);
    return tl_summary();
}
