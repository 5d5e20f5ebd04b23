/* http.c — the HTTP server: libmicrohttpd glue, routing, request bodies,
 * the hand-off to the prep pool and the workers (sched.c), responses, the
 * access log and the server's lifecycle.
 *
 * One request is one `req`, created when the request line arrives
 * (on_uri), freed when libmicrohttpd reports it complete.  Its phases:
 *   NEW     headers read: route, method, type, size, model checks; most
 *           errors are answered here, before any body is read
 *   BODY    bytes appended to a bounded buffer
 *   DISCARD over a limit: the rest of the body is drained and dropped
 *           (bounded too), then the error is answered
 *   QUEUED  admitted; the connection is suspended until req_finish
 *           resumes it with the answer (prep thread, worker, timer or
 *           the manager for reloads)
 *   SENT    a response is queued; nothing more to do
 */
#include "server/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "server/page.h"

/* After a body went over its limit we keep reading (and dropping) this much
 * more so the client can read our 413; beyond it we just close. */
#define DISCARD_EXTRA (64LL << 20)
/* CodeProject.AI's default min_confidence (DeepStack's is 0.45). */
#define DS_MIN_CONFIDENCE 0.4

static const char *const ROUTE_NAMES[R_COUNT] = {
    [R_NONE] = "none",           [R_PREDICT] = "predict",         [R_DETECT] = "detect",
    [R_HEALTH] = "health",       [R_LIVE] = "v2_live",            [R_READY] = "v2_ready",
    [R_MODELS] = "models",       [R_INDEX] = "page",              [R_METRICS] = "metrics",
    [R_V2_SERVER] = "v2_server", [R_V2_MODEL] = "v2_model",       [R_V2_MODEL_READY] = "v2_model_ready",
    [R_V2_INFER] = "v2_infer",   [R_V2_INDEX] = "v2_repo_index",  [R_V2_LOAD] = "v2_repo_load",
    [R_V2_UNLOAD] = "v2_repo_unload", [R_RELOAD] = "reload",      [R_DS_DETECT] = "vision_detection",
};

const char *route_name(int route) { return route >= 0 && route < R_COUNT ? ROUTE_NAMES[route] : "none"; }

/* ---- logging ------------------------------------------------------------------ */

static void ts_now(char *out, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Append a logfmt value: bare when safe, else quoted with escapes, so a
 * hostile path cannot forge fields or lines. */
static void lf_append(char *buf, size_t cap, size_t *pos, const char *v)
{
    int bare = *v != '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
            bare = 0;
    size_t o = *pos;
    if (bare) {
        o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, "%s", v);
    } else {
        if (o + 1 < cap)
            buf[o] = '"';
        o++;
        for (const unsigned char *p = (const unsigned char *)v; *p && o + 6 < cap; p++) {
            if (*p == '"' || *p == '\\')
                o += (size_t)snprintf(buf + o, cap - o, "\\%c", *p);
            else if (*p == '\n')
                o += (size_t)snprintf(buf + o, cap - o, "\\n");
            else if (*p < ' ' || *p == 0x7f)
                o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", *p);
            else
                buf[o++] = (char)*p;
        }
        if (o + 1 < cap)
            buf[o] = '"';
        o++;
    }
    if (o >= cap)
        o = cap - 1;
    buf[o] = '\0';
    *pos = o;
}

static void lf_field(char *buf, size_t cap, size_t *pos, const char *key, const char *v)
{
    size_t o = *pos;
    if (o + strlen(key) + 3 < cap)
        o += (size_t)snprintf(buf + o, cap - o, " %s=", key);
    *pos = o;
    lf_append(buf, cap, pos, v);
}

/* One write per line so lines from different threads never interleave. */
static void log_emit(char *line, size_t len, size_t cap)
{
    if (len + 1 >= cap)
        len = cap - 2;
    line[len++] = '\n';
    line[len] = '\0';
    fwrite(line, 1, len, stderr);
}

void dt_server_log(const char *level, const char *fmt, ...)
{
    char msg[1024], line[1400], ts[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ts_now(ts, sizeof ts);
    size_t pos = (size_t)snprintf(line, sizeof line, "ts=%s level=%s msg=", ts, level);
    lf_append(line, sizeof line, &pos, msg);
    log_emit(line, pos, sizeof line);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    dt_server_log("warn", "libmicrohttpd: %s", msg);
}

static void access_log(const req *r, enum MHD_RequestTerminationCode toe)
{
    static const char *const ends[] = {"ok", "error", "timeout", "shutdown", "read_error", "client_abort"};
    char line[1200], ts[40], num[64];
    ts_now(ts, sizeof ts);
    size_t pos = (size_t)snprintf(line, sizeof line, "ts=%s level=info msg=request", ts);
    lf_field(line, sizeof line, &pos, "id", r->id[0] ? r->id : "-");
    lf_field(line, sizeof line, &pos, "method", r->method[0] ? r->method : "-");
    lf_field(line, sizeof line, &pos, "path", r->path[0] ? r->path : "-");
    int status = r->sent_status ? r->sent_status : 499; /* nginx's "client closed" */
    snprintf(num, sizeof num, "%d", status);
    lf_field(line, sizeof line, &pos, "status", num);
    snprintf(num, sizeof num, "%lld", (long long)r->received);
    lf_field(line, sizeof line, &pos, "bytes", num);
    if (r->media[0])
        lf_field(line, sizeof line, &pos, "type", r->media);
    snprintf(num, sizeof num, "%zu", r->sent_bytes);
    lf_field(line, sizeof line, &pos, "out", num);
    if (r->slot)
        lf_field(line, sizeof line, &pos, "model", r->slot->name);
    if (r->infer_ms > 0) {
        snprintf(num, sizeof num, "%.1f", r->queue_ms);
        lf_field(line, sizeof line, &pos, "queue_ms", num);
        snprintf(num, sizeof num, "%.1f", r->infer_ms);
        lf_field(line, sizeof line, &pos, "infer_ms", num);
    }
    snprintf(num, sizeof num, "%.1f", dt_now_ms() - r->t0);
    lf_field(line, sizeof line, &pos, "ms", num);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        lf_field(line, sizeof line, &pos, "end", (unsigned)toe < 6 ? ends[toe] : "other");
    log_emit(line, pos, sizeof line);
}

/* ---- requests -------------------------------------------------------------------- */

static req *req_new(dt_server *s)
{
    req *r = dt_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = s;
    r->t0 = dt_now_ms();
    r->content_length = -1;
    r->v2_header_len = -1;
    r->resp_header_len = -1;
    r->threshold = s->cfg.threshold;
    r->params.threshold = (float)s->cfg.threshold;
    r->params.max_detections = 100;
    pthread_mutex_lock(&s->mu);
    s->active++;
    pthread_mutex_unlock(&s->mu);
    return r;
}

void req_release_body(req *r)
{
    dt_free(r->body);
    r->body = NULL;
    r->len = r->cap = 0;
    r->img = NULL;
    r->img_len = 0;
    if (r->reserved) {
        atomic_fetch_sub(&r->srv->inflight_bytes, r->reserved);
        r->reserved = 0;
    }
}

static void req_free(req *r)
{
    dt_server *s = r->srv;
    req_release_body(r);
    sched_release(r);
    dt_free(r->query);
    dt_free(r->classes);
    dt_free(r->resp);
    dt_free(r->v2_img);
    dt_free(r->v2_id);
    dt_free(r);
    pthread_mutex_lock(&s->mu);
    s->active--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Called by libmicrohttpd with the raw request line's URI, before headers:
 * the only place the undecoded query string is available. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    req *r = req_new(cls);
    if (!r)
        return NULL;
    r->conn = conn;
    const char *q = uri ? strchr(uri, '?') : NULL;
    /* libmicrohttpd decodes the path: an encoded '/' would split a model
     * name into path segments, so it never reaches the router. */
    size_t pl = uri ? (q ? (size_t)(q - uri) : strlen(uri)) : 0;
    for (size_t i = 0; i + 2 < pl; i++) {
        if (uri[i] == '%' && uri[i + 1] == '2' && (uri[i + 2] == 'f' || uri[i + 2] == 'F'))
            r->bad_path = 1;
        /* A decoded NUL would cut the path short ("/models/m/load%00.x"
         * routes as "/models/m/load"): refuse it outright. */
        if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
            r->bad_path = 1;
    }
    if (q && q[1])
        r->query = dt_strdup(q + 1); /* NULL on OOM: answered as 503 later */
    if (q && q[1] && !r->query)
        r->pending_code = DT_ENOMEM;
    return r;
}

static void count_request(dt_server *s, const req *r)
{
    int st = r->sent_status ? r->sent_status : 499;
    int route = r->route >= 0 && r->route < R_COUNT ? r->route : R_NONE;
    if (st >= 100 && st < 600)
        atomic_fetch_add_explicit(&s->requests[route][st / 100][st % 100], 1, memory_order_relaxed);
    dt_hist_observe(&s->req_h[route], (dt_now_ms() - r->t0) / 1e3);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    dt_server *s = cls;
    req *r = *con_cls;
    if (!r)
        return;
    count_request(s, r);
    if (s->cfg.access_log)
        access_log(r, toe);
    req_free(r);
    *con_cls = NULL;
}

static int id_char_ok(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
           c == '.' || c == ':';
}

/* Echo the client's X-Request-Id when it is short and plain (it goes into
 * our logs and headers), else make one up. */
static void assign_id(dt_server *s, req *r)
{
    const char *cid = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = cid ? strlen(cid) : 0;
    int ok = n > 0 && n <= REQ_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = id_char_ok(cid[i]);
    if (ok) {
        memcpy(r->id, cid, n + 1);
        return;
    }
    /* splitmix64 of seed + counter: unique per process, unpredictable enough for logs. */
    uint64_t z = s->id_seed + 0x9e3779b97f4a7c15ULL * (atomic_fetch_add(&s->id_counter, 1) + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    snprintf(r->id, sizeof r->id, "%016llx", (unsigned long long)z);
}

/* ---- responses ------------------------------------------------------------------- */

static const char OOM_BODY[] = "{\"error\":\"out of memory\"}";

/* The one 401 answer, for a missing key and a wrong one alike. */
static const char UNAUTHORIZED_MSG[] =
    "unauthorized: send a valid API key (Authorization: Bearer KEY or X-API-Key: KEY)";

/* Queue `body` (taken; NULL means we ran out of memory making it). */
static enum MHD_Result respond(req *r, int status, char *body, size_t len, const char *allow)
{
    dt_server *s = r->srv;
    struct MHD_Response *resp = NULL;
    if (r->auth_pending) {
        /* Not authenticated yet (DeepStack api_key field not seen): whatever
         * went wrong, the answer is the same 401, so a client without a key
         * learns nothing (model names, limits) from the error. */
        dt_free(body);
        allow = NULL;
        status = 401;
        body = api_error_body(r, UNAUTHORIZED_MSG, &len);
    }
    if (status == 401)
        atomic_fetch_add_explicit(&s->auth_failures, 1, memory_order_relaxed);
    if (body)
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, dt_free);
    if (!resp) {
        dt_free(body);
        body = NULL;
        status = 503;
        len = sizeof OOM_BODY - 1;
        resp = MHD_create_response_from_buffer(len, (void *)OOM_BODY, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->resp_type && body ? r->resp_type : "application/json; charset=utf-8");
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (body && r->resp_header_len >= 0) {
        char hl[32];
        snprintf(hl, sizeof hl, "%lld", (long long)r->resp_header_len);
        MHD_add_response_header(resp, "Inference-Header-Content-Length", hl);
    }
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"detectd\"");
    if (status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (atomic_load(&s->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->phase = PH_SENT;
    r->sent_status = status;
    r->sent_bytes = len;
    return ok;
}

static void set_api(req *r)
{
    switch (r->route) {
    case R_PREDICT: r->api = API_ARTICLE; break;
    case R_DETECT: r->api = API_DETECT; break;
    case R_DS_DETECT: r->api = API_DS; break;
    case R_V2_SERVER: case R_V2_MODEL: case R_V2_MODEL_READY: case R_V2_INFER:
    case R_V2_INDEX: case R_V2_LOAD: case R_V2_UNLOAD: r->api = API_V2; break;
    default: r->api = API_PLAIN; break;
    }
}

/* The one place a dt_code becomes an HTTP status.  The article's route keeps
 * the article's contract: every bad input is a 400; only limits (413) and
 * availability (503, 504) are told apart there.  The v2 protocol answers
 * "unsupported" with 501. */
int http_status_for(const req *r, dt_code code)
{
    int h = dt_code_http(code);
    if (r->api == API_ARTICLE && h >= 400 && h < 500 && h != 413)
        return 400;
    if (r->api == API_V2 && code == DT_EUNSUPPORTED)
        return 501;
    return h;
}

static char *error_for(const req *r, dt_code code, const char *msg, int *status, size_t *len)
{
    *status = http_status_for(r, code);
    if (r->api == API_ARTICLE && *status == 400 && strncmp(msg, "Invalid content", 15) != 0) {
        char m[DT_STATUS_MSG + 64];
        snprintf(m, sizeof m, "Invalid content: %s", msg);
        return api_error_body(r, m, len);
    }
    return api_error_body(r, msg, len);
}

static enum MHD_Result respond_error(req *r, dt_code code, const char *msg)
{
    size_t len = 0;
    int status;
    char *body = error_for(r, code, msg, &status, &len);
    return respond(r, status, body, len, NULL);
}

static enum MHD_Result respond_status(req *r, int status, const char *msg)
{
    size_t len = 0;
    char *body = api_error_body(r, msg, &len);
    return respond(r, status, body, len, NULL);
}

static enum MHD_Result respond_405(req *r, const char *allow)
{
    char msg[128];
    snprintf(msg, sizeof msg, "method %s not allowed here (allowed: %s)", r->method, allow);
    size_t len = 0;
    char *body = api_error_body(r, msg, &len);
    return respond(r, 405, body, len, allow);
}

void req_finish(req *r, int status, char *body, size_t len)
{
    struct MHD_Connection *conn = r->conn;
    r->resp = body;
    r->resp_len = len;
    r->status = status;
    atomic_store_explicit(&r->done, 1, memory_order_release);
    /* From here on the request belongs to the HTTP thread again. */
    MHD_resume_connection(conn);
}

void req_finish_error(req *r, dt_code code, const char *msg)
{
    size_t len = 0;
    int status;
    char *body = error_for(r, code, msg, &status, &len);
    if (status >= 500 && status != 503 && status != 504)
        dt_server_log("error", "request %s: %s: %s", r->id, dt_code_name(code), msg);
    r->resp_type = NULL;
    r->resp_header_len = -1;
    req_finish(r, status, body, len);
}

/* Suspend the connection until req_finish; call before handing r to
 * another thread (it may finish at once). */
static void suspend(req *r)
{
    MHD_suspend_connection(r->conn);
    r->phase = PH_QUEUED;
}

/* ---- API keys ------------------------------------------------------------------------ */

/* Routes open without a key: the static page (its API calls need one) and
 * the probes an orchestrator calls without credentials. */
static int route_open(int route)
{
    return route == R_INDEX || route == R_HEALTH || route == R_LIVE || route == R_READY;
}

static int key_ok(dt_server *s, const char *key, size_t len)
{
    while (len && (*key == ' ' || *key == '\t')) {
        key++;
        len--;
    }
    while (len && (key[len - 1] == ' ' || key[len - 1] == '\t' || key[len - 1] == '\r' || key[len - 1] == '\n'))
        len--;
    pthread_mutex_lock(&s->keys_mu);
    int ok = dt_auth_keys_check(s->keys, key, len);
    pthread_mutex_unlock(&s->keys_mu);
    return ok;
}

/* Whether the headers carry a valid key (Authorization: Bearer or
 * X-API-Key; both are checked when both are sent); *given says whether
 * they carried one at all. */
static int headers_authorized(dt_server *s, req *r, int *given)
{
    const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *x = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-API-Key");
    *given = a != NULL || x != NULL;
    int ok = 0;
    if (a && !strncasecmp(a, "Bearer", 6) && (a[6] == ' ' || a[6] == '\t'))
        ok |= key_ok(s, a + 7, strlen(a + 7));
    if (x)
        ok |= key_ok(s, x, strlen(x));
    return ok;
}

/* DeepStack's own way: the key as the multipart form field "api_key". */
static int body_authorized(dt_server *s, req *r)
{
    dt_multipart_part part;
    dt_status tmp;
    return r->multipart && dt_multipart_find(r->body, r->len, r->boundary, "api_key", &part, &tmp) == DT_OK &&
           key_ok(s, (const char *)part.data, part.len);
}

/* ---- routing -------------------------------------------------------------------- */

/* Copy the path segment at *p (up to '/' or the end) into out; advances *p.
 * Returns 0 when it does not fit (the name is then invalid anyway). */
static int take_segment(const char **p, char *out, size_t cap)
{
    size_t n = strcspn(*p, "/");
    int ok = n < cap;
    snprintf(out, cap, "%.*s", (int)(ok ? n : 0), *p);
    if (!ok)
        snprintf(out, cap, "..");
    *p += n;
    return ok;
}

static int prefix(const char *s, const char *pre, const char **rest)
{
    size_t n = strlen(pre);
    if (strncmp(s, pre, n) != 0)
        return 0;
    *rest = s + n;
    return 1;
}

/* The built-in routes; r (may be NULL) gets the model name and version. */
static int builtin_route(const char *url, req *r)
{
    static const struct {
        const char *path;
        int route;
    } table[] = {
        {"/v1/detect", R_DETECT},        {"/health", R_HEALTH},       {"/v2/health/live", R_LIVE},
        {"/v2/health/ready", R_READY},   {"/v1/models", R_MODELS},    {"/", R_INDEX},
        {"/index.html", R_INDEX},        {"/metrics", R_METRICS},     {"/v2", R_V2_SERVER},
        {"/v1/vision/detection", R_DS_DETECT}, {"/v2/repository/index", R_V2_INDEX},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(url, table[i].path))
            return table[i].route;
    char name[MODEL_NAME_MAX + 1], ver[16];
    const char *p;
    int route = R_NONE;
    ver[0] = '\0';
    /* family: the route a bad model name is reported on (400, not 404) */
    int family;
    if (prefix(url, "/v1/vision/custom/", &p)) {
        take_segment(&p, name, sizeof name);
        family = R_DS_DETECT;
        route = *p ? R_NONE : R_DS_DETECT;
    } else if (prefix(url, "/v1/models/", &p)) {
        take_segment(&p, name, sizeof name);
        family = R_RELOAD;
        route = !strcmp(p, "/reload") ? R_RELOAD : R_NONE;
    } else if (prefix(url, "/v2/repository/models/", &p)) {
        take_segment(&p, name, sizeof name);
        family = R_V2_LOAD;
        route = !strcmp(p, "/load") ? R_V2_LOAD : !strcmp(p, "/unload") ? R_V2_UNLOAD : R_NONE;
    } else if (prefix(url, "/v2/models/", &p)) {
        take_segment(&p, name, sizeof name);
        family = R_V2_MODEL;
        const char *q;
        if (prefix(p, "/versions/", &q)) {
            p = q;
            take_segment(&p, ver, sizeof ver);
        }
        route = !*p ? R_V2_MODEL : !strcmp(p, "/ready") ? R_V2_MODEL_READY : !strcmp(p, "/infer") ? R_V2_INFER : R_NONE;
    } else {
        return R_NONE;
    }
    if (!model_name_ok(name))
        route = family; /* "/v2/models/../../x": a bad name, whatever follows */
    if (route != R_NONE && r) {
        snprintf(r->model_name, sizeof r->model_name, "%s", name);
        snprintf(r->version, sizeof r->version, "%s", ver);
        if (!name[0])
            snprintf(r->model_name, sizeof r->model_name, ".");
    }
    return route;
}

static int match_route(const dt_server *s, const char *url, req *r)
{
    if (!strcmp(url, s->cfg.entry_point))
        return R_PREDICT;
    return builtin_route(url, r);
}

static int route_is_post(int route)
{
    switch (route) {
    case R_PREDICT: case R_DETECT: case R_V2_INFER: case R_V2_INDEX: case R_V2_LOAD: case R_V2_UNLOAD:
    case R_RELOAD: case R_DS_DETECT: return 1;
    default: return 0;
    }
}

static int route_infers(int route)
{
    return route == R_PREDICT || route == R_DETECT || route == R_V2_INFER || route == R_DS_DETECT;
}

/* The slot a named route refers to; answers 400/404 itself (returns NULL). */
static mslot *route_slot(dt_server *s, req *r, enum MHD_Result *answered)
{
    char msg[160];
    if (r->model_name[0] && !model_name_ok(r->model_name)) {
        snprintf(msg, sizeof msg, "invalid model name '%.64s' (letters, digits, '.', '_', '-'; no '..')",
                 r->model_name);
        *answered = respond_error(r, DT_EINVAL, msg);
        return NULL;
    }
    mslot *m = sched_find(s, r->model_name);
    if (!m) {
        snprintf(msg, sizeof msg, "no model named '%s' (GET /v1/models lists them)", r->model_name);
        *answered = respond_error(r, DT_ENOTFOUND, msg);
        return NULL;
    }
    if (r->version[0] && strcmp(r->version, "1") != 0) {
        snprintf(msg, sizeof msg, "model %s has no version '%s' (only \"1\")", m->name, r->version);
        *answered = respond_error(r, DT_ENOTFOUND, msg);
        return NULL;
    }
    return m;
}

/* ---- GET routes ------------------------------------------------------------------ */

static enum MHD_Result respond_page(req *r)
{
    dt_page pg;
    if (!dt_page_find("index.html", &pg))
        return respond_error(r, DT_ENOTFOUND, "this build has no web page");
    const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    int fresh = dt_page_etag_matches(inm, pg.etag);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(fresh ? 0 : pg.size, fresh ? NULL : (void *)pg.data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, pg.content_type);
    MHD_add_response_header(resp, "Content-Security-Policy", DT_PAGE_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, DT_PAGE_CACHE_CONTROL);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, pg.etag);
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    int status = fresh ? 304 : 200;
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->phase = PH_SENT;
    r->sent_status = status;
    r->sent_bytes = fresh ? 0 : pg.size;
    return ok;
}

static dt_server_state get_state(dt_server *s)
{
    pthread_mutex_lock(&s->mu);
    dt_server_state state = s->state;
    pthread_mutex_unlock(&s->mu);
    return state;
}

static const char *not_ready_msg(dt_server_state state)
{
    switch (state) {
    case DT_SERVER_LOADING: return "model is loading";
    case DT_SERVER_FAILED: return "model failed to load";
    case DT_SERVER_STOPPING: return "server is shutting down";
    default: return "not ready";
    }
}

static void models_json(dt_server *s, dt_jsonw *w)
{
    dt_jsonw_raw(w, "{\"models\":[");
    /* The default first: clients of the one-model server read models[0]. */
    for (int k = 0; k < s->n_slots; k++) {
        int i = k == 0 ? s->def : k <= s->def ? k - 1 : k;
        mslot *m = &s->slots[i];
        minst *in = sched_ref_current(s, m);
        dt_jsonw_raw(w, k ? ",{\"name\":" : "{\"name\":");
        dt_jsonw_str(w, m->name);
        dt_jsonw_printf(w, ",\"ready\":%s,\"default\":%s", in ? "true" : "false", m->is_default ? "true" : "false");
        if (in) {
            dt_jsonw_printf(w, ",\"version\":%d,\"input\":{\"width\":%d,\"height\":%d},\"labels\":%d,\"threshold\":",
                            in->generation, in->info.input_w, in->info.input_h, in->info.num_classes);
            dt_jsonw_num(w, s->cfg.threshold, 4);
            const char *dev = s->ext.device && in->n_wctx > 0 && in->wctx[0] ? s->ext.device(in->be.self, in->wctx[0])
                                                                              : NULL;
            dt_jsonw_raw(w, ",\"device\":");
            dt_jsonw_str(w, dev ? dev : "cpu");
            dt_jsonw_printf(w, ",\"workers\":%d,\"queue_size\":%d,\"max_batch\":%d", in->n_wctx, s->cfg.queue_size,
                            in->max_batch);
        }
        dt_jsonw_raw(w, "}");
        sched_unref(s, in);
    }
    dt_jsonw_raw(w, "]}");
}

static enum MHD_Result handle_get(dt_server *s, req *r)
{
    if (r->route == R_INDEX)
        return respond_page(r);
    enum MHD_Result answered = MHD_YES;
    dt_server_state state = get_state(s);
    int ready = state == DT_SERVER_READY;
    dt_jsonw w;
    dt_jsonw_init(&w);
    int status = 200;
    size_t len = 0;
    char *body;
    switch (r->route) {
    case R_LIVE:
        dt_jsonw_raw(&w, "{\"live\":true}");
        break;
    case R_HEALTH:
    case R_READY:
        if (ready) {
            dt_jsonw_raw(&w, r->route == R_HEALTH ? "{\"status\":\"ok\",\"model\":" : "{\"ready\":true,\"model\":");
            dt_jsonw_str(&w, s->slots[s->def].name);
            dt_jsonw_raw(&w, "}");
        } else {
            status = 503;
            static const char *const names[] = {"loading", "ok", "failed", "stopping"};
            if (r->route == R_HEALTH)
                dt_jsonw_printf(&w, "{\"status\":\"%s\",\"error\":", names[state]);
            else
                dt_jsonw_raw(&w, "{\"ready\":false,\"error\":");
            dt_jsonw_str(&w, not_ready_msg(state));
            dt_jsonw_raw(&w, "}");
        }
        break;
    case R_MODELS:
        if (!ready) {
            dt_jsonw_free(&w);
            return respond_error(r, DT_EBUSY, not_ready_msg(state));
        }
        models_json(s, &w);
        break;
    case R_METRICS:
        metrics_render(s, &w);
        r->resp_type = "text/plain; version=0.0.4; charset=utf-8";
        break;
    case R_V2_SERVER:
        dt_jsonw_free(&w);
        body = api_v2_server_meta(s, &len);
        return respond(r, 200, body, len, NULL);
    case R_V2_MODEL:
    case R_V2_MODEL_READY: {
        dt_jsonw_free(&w);
        mslot *m = route_slot(s, r, &answered);
        if (!m)
            return answered;
        r->slot = m;
        if (r->route == R_V2_MODEL) {
            body = api_v2_model_meta(s, m, &len);
            return respond(r, 200, body, len, NULL);
        }
        dt_server_state ms = slot_state(s, m, NULL);
        if (ms != DT_SERVER_READY || state == DT_SERVER_STOPPING) {
            char msg[160];
            snprintf(msg, sizeof msg, "model %s is %s", m->name,
                     state == DT_SERVER_STOPPING ? "shutting down" : ms == DT_SERVER_FAILED ? "not loaded (its load failed)" : "loading");
            return respond_status(r, 503, msg);
        }
        dt_jsonw_raw(&w, "{\"name\":");
        dt_jsonw_str(&w, m->name);
        dt_jsonw_raw(&w, ",\"ready\":true}");
        break;
    }
    default:
        break;
    }
    body = dt_jsonw_take(&w, &len);
    return respond(r, status, body, len, NULL);
}

/* ---- POST routes: checks on the headers ---------------------------------------- */

static int is_image_type(const char *m)
{
    return !strcmp(m, "image/jpeg") || !strcmp(m, "image/jpg") || !strcmp(m, "image/png") ||
           !strcmp(m, "image/webp") || !strcmp(m, "image/bmp") || !strcmp(m, "image/x-ms-bmp");
}

/* Content-Type decides how the body is read.  Returns DT_OK or an error
 * with its message in st. */
static dt_code check_content_type(req *r, dt_status *st)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct || !*ct) {
        if (r->route == R_PREDICT)
            return dt_fail(st, DT_EUNSUPPORTED, "Invalid content: no Content-Type; send the image with "
                                                "Content-Type image/jpeg, image/png, image/webp or image/bmp");
        return DT_OK; /* /v1/detect: the bytes tell */
    }
    dt_status tmp;
    if (dt_media_type(ct, strlen(ct), r->media, sizeof r->media, &tmp) != DT_OK) {
        snprintf(r->media, sizeof r->media, "invalid");
        return dt_fail(st, DT_EINVAL, "%sContent-Type is malformed",
                       r->route == R_PREDICT ? "Invalid content: " : "");
    }
    if (is_image_type(r->media))
        return DT_OK;
    if (r->route == R_PREDICT)
        return dt_fail(st, DT_EUNSUPPORTED, "Invalid content: Content-Type %s is not an image; use image/jpeg, "
                                            "image/png, image/webp or image/bmp", r->media);
    if (!strcmp(r->media, "application/octet-stream"))
        return DT_OK;
    if (!strcmp(r->media, "multipart/form-data")) {
        if (dt_multipart_boundary(ct, strlen(ct), r->boundary, sizeof r->boundary, &tmp) != DT_OK)
            return dt_fail(st, DT_EINVAL, "%s", tmp.msg);
        r->multipart = 1;
        return DT_OK;
    }
    return dt_fail(st, DT_EUNSUPPORTED,
                   "unsupported media type %s: send image/jpeg, image/png, image/webp, image/bmp, "
                   "application/octet-stream or multipart/form-data with a field \"image\"", r->media);
}

static dt_code parse_classes(req *r, const char *list, dt_status *st)
{
    const minst *in = r->inst;
    int cap = in->info.num_classes > 0 ? in->info.num_classes : 1, n = 0;
    dt_free(r->classes);
    r->classes = dt_malloc((size_t)cap * sizeof *r->classes);
    if (!r->classes)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n_item = comma ? (size_t)(comma - p) : strlen(p);
        char name[128];
        while (n_item && *p == ' ') {
            p++;
            n_item--;
        }
        while (n_item && p[n_item - 1] == ' ')
            n_item--;
        if (n_item >= sizeof name)
            return dt_fail(st, DT_EINVAL, "class name too long");
        memcpy(name, p, n_item);
        name[n_item] = '\0';
        p = comma ? comma + 1 : p + strlen(p);
        if (!n_item)
            continue;
        int id = in->be.ops->class_id(in->be.self, name);
        if (id < 0)
            return dt_fail(st, DT_EINVAL, "unknown class '%s' in classes=", name);
        int dup = 0;
        for (int k = 0; k < n; k++)
            dup |= r->classes[k] == id;
        if (!dup && n < cap)
            r->classes[n++] = id;
    }
    if (n == 0)
        return dt_fail(st, DT_EINVAL, "classes= names no class");
    r->params.classes = r->classes;
    r->params.n_classes = n;
    return DT_OK;
}

/* ?model=NAME of /v1/detect, before anything that needs the model. */
static dt_code query_model(req *r, dt_status *st)
{
    if (!r->query)
        return DT_OK;
    dt_query_iter it;
    dt_query_init(&it, r->query, strlen(r->query));
    for (;;) {
        char key[64], val[256];
        int found = 0;
        if (dt_query_next(&it, key, sizeof key, val, sizeof val, &found, st) != DT_OK)
            return dt_wrap(st, "query string");
        if (!found)
            return DT_OK;
        if (!strcmp(key, "model")) {
            snprintf(r->model_name, sizeof r->model_name, "%s", val);
            if (strlen(val) > MODEL_NAME_MAX || !val[0])
                snprintf(r->model_name, sizeof r->model_name, "..");
        }
    }
}

static dt_code parse_detect_query(req *r, dt_status *st)
{
    if (!r->query)
        return DT_OK;
    dt_query_iter it;
    dt_query_init(&it, r->query, strlen(r->query));
    for (;;) {
        char key[64], val[4096];
        int found = 0;
        dt_code c = dt_query_next(&it, key, sizeof key, val, sizeof val, &found, st);
        if (c != DT_OK)
            return dt_wrap(st, "query string");
        if (!found)
            return DT_OK;
        if (!strcmp(key, "threshold")) {
            double t;
            if (dt_parse_f64(val, 0, 1, &t, st) != DT_OK)
                return dt_wrap(st, "threshold");
            r->threshold = t;
            r->params.threshold = (float)t;
        } else if (!strcmp(key, "max_detections")) {
            int64_t m;
            if (dt_parse_i64(val, 1, 10000, &m, st) != DT_OK)
                return dt_wrap(st, "max_detections");
            r->params.max_detections = (int)m;
        } else if (!strcmp(key, "classes")) {
            if (parse_classes(r, val, st) != DT_OK)
                return st->code;
        } else if (!strcmp(key, "render")) {
            if (!strcmp(val, "jpeg") || !strcmp(val, "jpg"))
                r->render = 1;
            else if (!strcmp(val, "json") || !val[0])
                r->render = 0;
            else
                return dt_fail(st, DT_EINVAL, "render=%.40s: only render=jpeg (or json) is supported", val);
        } else if (strcmp(key, "model") != 0) {
            return dt_fail(st, DT_EINVAL, "unknown query parameter '%.60s' (known: threshold, max_detections, "
                                          "classes, render, model)", key);
        }
    }
}

/* DeepStack's min_confidence: keep predictions with confidence >= it. */
static dt_code set_min_confidence(req *r, const char *val, dt_status *st)
{
    double t;
    if (dt_parse_f64(val, 0, 1, &t, st) != DT_OK)
        return dt_wrap(st, "min_confidence");
    r->threshold = t;
    r->threshold_ge = 1;
    r->params.threshold = t > 0 ? nextafterf((float)t, 0.f) : 0.f;
    return DT_OK;
}

static enum MHD_Result handle_post_headers(dt_server *s, req *r)
{
    dt_status st;
    dt_status_clear(&st);
    enum MHD_Result answered = MHD_YES;
    if (r->pending_code != DT_OK)
        return respond_error(r, r->pending_code, "out of memory");
    if (r->route == R_PREDICT || r->route == R_DETECT || r->route == R_DS_DETECT) {
        if (check_content_type(r, &st) != DT_OK)
            return respond_error(r, st.code, st.msg);
    } else {
        const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        dt_status tmp;
        if (ct && dt_media_type(ct, strlen(ct), r->media, sizeof r->media, &tmp) != DT_OK)
            snprintf(r->media, sizeof r->media, "invalid");
    }
    const char *ce = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (ce && strcasecmp(ce, "identity") != 0)
        return respond_error(r, DT_EUNSUPPORTED, "Content-Encoding is not supported: send the body uncompressed");
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        int64_t v;
        if (dt_parse_i64(cl, 0, INT64_MAX, &v, &st) != DT_OK)
            return respond_error(r, DT_EINVAL, "bad Content-Length");
        r->content_length = v;
        if (v > s->cfg.max_body_bytes) {
            char msg[160];
            snprintf(msg, sizeof msg, "body of %lld bytes is over the limit of %lld bytes (--max-body-bytes)",
                     (long long)v, (long long)s->cfg.max_body_bytes);
            return respond_error(r, DT_ELIMIT, msg);
        }
    }
    if (r->route == R_V2_INFER) {
        const char *ih = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Inference-Header-Content-Length");
        if (ih && dt_parse_i64(ih, 0, INT64_MAX, &r->v2_header_len, &st) != DT_OK)
            return respond_error(r, DT_EINVAL, "bad Inference-Header-Content-Length");
    }
    if (r->route == R_DETECT && query_model(r, &st) != DT_OK)
        return respond_error(r, st.code, st.msg);
    if (route_infers(r->route) || r->route == R_RELOAD || r->route == R_V2_LOAD || r->route == R_V2_UNLOAD) {
        mslot *m = route_slot(s, r, &answered);
        if (!m)
            return answered;
        r->slot = m;
    }
    if (route_infers(r->route)) {
        if (sched_acquire(s, r, r->slot, &st) != DT_OK) {
            dt_server_state state = get_state(s);
            /* The article's server had one model: keep its words. */
            return respond_error(r, DT_EBUSY, state != DT_SERVER_READY && s->n_slots == 1 ? not_ready_msg(state) : st.msg);
        }
        if (r->route == R_DETECT && parse_detect_query(r, &st) != DT_OK)
            return respond_error(r, st.code, st.msg);
        if (r->route == R_DS_DETECT) {
            r->threshold = DS_MIN_CONFIDENCE;
            r->threshold_ge = 1;
            r->params.threshold = nextafterf((float)DS_MIN_CONFIDENCE, 0.f);
        }
    }
    /* Reserve what the client announced against the global cap now, so a
     * burst of big uploads is refused before we buffer any of it. */
    if (r->content_length > 0) {
        int64_t after = atomic_fetch_add(&s->inflight_bytes, r->content_length) + r->content_length;
        r->reserved = r->content_length;
        if (after > s->cfg.max_inflight_bytes)
            return respond_error(r, DT_EBUSY, "server busy: too many request bytes in flight");
    }
    r->phase = PH_BODY;
    return MHD_YES;
}

/* ---- POST routes: the body ------------------------------------------------------- */

static void start_discard(req *r, dt_code code, const char *msg)
{
    req_release_body(r);
    r->pending_code = code;
    snprintf(r->pending_msg, sizeof r->pending_msg, "%s", msg);
    r->phase = PH_DISCARD;
}

static void on_body_chunk(dt_server *s, req *r, const char *data, size_t n)
{
    r->received += (int64_t)n;
    if (r->received > s->cfg.max_body_bytes) {
        char msg[160];
        snprintf(msg, sizeof msg, "body is over the limit of %lld bytes (--max-body-bytes)",
                 (long long)s->cfg.max_body_bytes);
        start_discard(r, DT_ELIMIT, msg);
        return;
    }
    size_t need = r->len + n;
    if (need > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64 * 1024;
        if (cap < need)
            cap = need;
        if (r->content_length >= (int64_t)need && (int64_t)cap > r->content_length)
            cap = (size_t)r->content_length;
        if ((int64_t)cap > s->cfg.max_body_bytes)
            cap = (size_t)s->cfg.max_body_bytes;
        if ((int64_t)cap > r->reserved) {
            int64_t extra = (int64_t)cap - r->reserved;
            int64_t after = atomic_fetch_add(&s->inflight_bytes, extra) + extra;
            r->reserved += extra;
            if (after > s->cfg.max_inflight_bytes) {
                start_discard(r, DT_EBUSY, "server busy: too many request bytes in flight");
                return;
            }
        }
        unsigned char *nb = dt_realloc(r->body, cap);
        if (!nb) {
            start_discard(r, DT_ENOMEM, "out of memory for the request body");
            return;
        }
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
}

/* The image of /predict, /v1/detect and DeepStack: the body or its
 * multipart field "image" (cheap checks here, decoding on a prep thread). */
static dt_code find_image(req *r, dt_status *st)
{
    if (r->multipart) {
        dt_multipart_part part;
        dt_status tmp;
        dt_code c = dt_multipart_find(r->body, r->len, r->boundary, "image", &part, &tmp);
        if (c != DT_OK)
            return dt_fail(st, DT_EINVAL, "%s", tmp.msg);
        r->img = part.data;
        r->img_len = part.len;
        if (r->route == R_DS_DETECT &&
            dt_multipart_find(r->body, r->len, r->boundary, "min_confidence", &part, &tmp) == DT_OK) {
            char v[64];
            snprintf(v, sizeof v, "%.*s", (int)(part.len < 63 ? part.len : 63), (const char *)part.data);
            if (set_min_confidence(r, v, st) != DT_OK)
                return st->code;
        }
    } else {
        r->img = r->body;
        r->img_len = r->len;
    }
    if (r->img_len == 0)
        return dt_fail(st, DT_EINVAL, "%s", r->route == R_PREDICT ? "Invalid content: empty body"
                                                               : "empty image: send the image bytes");
    if (!api_looks_like_image(r->img, r->img_len))
        return dt_fail(st, DT_EINVAL, "%s", r->route == R_PREDICT
                                             ? "Invalid content: the body is not a JPEG, PNG, WebP or BMP image"
                                             : "the body is not a JPEG, PNG, WebP or BMP image");
    return DT_OK;
}

static enum MHD_Result handle_body_done(dt_server *s, req *r)
{
    r->t_body = dt_now_ms();
    if (r->auth_pending && body_authorized(s, r))
        r->auth_pending = 0;
    if (r->auth_pending)
        return respond_status(r, 401, UNAUTHORIZED_MSG);
    dt_status st;
    dt_status_clear(&st);
    size_t len = 0;
    char *body;
    switch (r->route) {
    case R_V2_INDEX:
        body = api_v2_index(s, &len);
        return respond(r, 200, body, len, NULL);
    case R_V2_UNLOAD:
        return respond_error(r, DT_EUNSUPPORTED, "unloading is not supported: detectd serves every model it found "
                                                 "at startup (load = reload from disk)");
    case R_RELOAD:
    case R_V2_LOAD:
        suspend(r);
        if (sched_reload(s, r->slot, r, &st) != DT_OK)
            req_finish_error(r, st.code, st.msg);
        return MHD_YES;
    case R_V2_INFER:
        if (r->len == 0)
            return respond_error(r, DT_EINVAL, "empty inference request");
        break;
    default:
        if (find_image(r, &st) != DT_OK)
            return respond_error(r, st.code, st.msg);
        break;
    }
    suspend(r);
    if (sched_submit(s, r, &st) != DT_OK)
        req_finish_error(r, DT_EBUSY, st.msg);
    return MHD_YES;
}

/* ---- the access handler ---------------------------------------------------------- */

static enum MHD_Result count_host(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    if (key && !strcasecmp(key, MHD_HTTP_HEADER_HOST))
        ++*(int *)cls;
    return MHD_YES;
}

/* RFC 9112 3.2: an HTTP/1.1 request without a Host header, or any request
 * with more than one, must be answered 400. */
static int host_ok(struct MHD_Connection *conn, const char *version)
{
    int n = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_host, &n);
    if (n > 1)
        return 0;
    return n == 1 || !version || strcmp(version, MHD_HTTP_VERSION_1_1) != 0;
}

/* Whether the request announces a body (Content-Length > 0 or chunked). */
static int has_body(struct MHD_Connection *conn)
{
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return 1;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl && strcmp(cl, "0") != 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    dt_server *s = cls;
    req *r = *con_cls;
    if (!r) { /* on_uri ran out of memory */
        r = req_new(s);
        if (!r)
            return MHD_NO;
        r->conn = conn;
        *con_cls = r;
    }
    switch (r->phase) {
    case PH_NEW: {
        /* Without a body, answer on the second call, when libmicrohttpd
         * knows the request is complete: a response queued on the first
         * call is an "early" one and closes the connection (no keep-alive
         * for GETs). */
        if (!r->deferred && !has_body(conn)) {
            r->deferred = 1;
            return MHD_YES;
        }
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        assign_id(s, r);
        r->route = match_route(s, url, r);
        set_api(r);
        int post = route_is_post(r->route);
        if (!host_ok(conn, version))
            return respond_status(r, 400, "bad request: HTTP/1.1 needs exactly one Host header");
        if (s->auth_on && !route_open(r->route)) {
            int given = 0;
            if (!headers_authorized(s, r, &given)) {
                if (given || r->route != R_DS_DETECT)
                    return respond_status(r, 401, UNAUTHORIZED_MSG);
                r->auth_pending = 1;
            }
        }
        if (r->bad_path)
            return respond_error(r, DT_EINVAL,
                                 "invalid path: an encoded '/' (%2F) or NUL (%00) never names a model or a route");
        if (r->route == R_NONE) {
            char msg[LOG_PATH_MAX + 32];
            snprintf(msg, sizeof msg, "no route %s", r->path);
            return respond_error(r, DT_ENOTFOUND, msg);
        }
        if (r->model_name[0] && !model_name_ok(r->model_name)) {
            /* Before the method: "/v2/models/../infer" is a bad name, not a wrong method. */
            enum MHD_Result answered = MHD_YES;
            route_slot(s, r, &answered);
            return answered;
        }
        if (post && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return respond_405(r, "POST");
        if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
            return respond_405(r, "GET, HEAD");
        if (!post)
            return handle_get(s, r);
        enum MHD_Result res = handle_post_headers(s, r);
        if (res == MHD_YES && r->deferred && r->phase == PH_BODY)
            return handle_body_done(s, r); /* an empty body, already complete */
        return res;
    }
    case PH_BODY:
    case PH_DISCARD:
        if (s->cfg.read_timeout_s > 0 && *upload_size &&
            dt_now_ms() - r->t0 > s->cfg.read_timeout_s * 1000.0) {
            /* A trickling upload holds a connection and a buffer: cut it. */
            dt_server_log("warn", "request %s: body not received within %d s (--read-timeout-s): closing", r->id,
                          s->cfg.read_timeout_s);
            return MHD_NO;
        }
        if (r->phase == PH_DISCARD)
            break;
        if (*upload_size) {
            on_body_chunk(s, r, upload_data, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        return handle_body_done(s, r);
    default:
        break;
    }
    switch (r->phase) {
    case PH_DISCARD:
        if (*upload_size) {
            r->received += (int64_t)*upload_size;
            *upload_size = 0;
            /* Do not drain forever for a client that never stops. */
            return r->received > s->cfg.max_body_bytes + DISCARD_EXTRA ? MHD_NO : MHD_YES;
        }
        return respond_error(r, r->pending_code, r->pending_msg);
    case PH_QUEUED:
        if (!atomic_load_explicit(&r->done, memory_order_acquire)) {
            *upload_size = 0;
            return MHD_YES;
        }
        {
            char *body = r->resp;
            r->resp = NULL;
            return respond(r, r->status, body, r->resp_len, NULL);
        }
    default:
        /* A response is queued; swallow anything else the client sends. */
        *upload_size = 0;
        return MHD_YES;
    }
}

/* ---- lifecycle ------------------------------------------------------------------- */

/* Every connection is a file descriptor: raise the soft RLIMIT_NOFILE to
 * what --max-connections needs (up to the hard limit), else serve fewer
 * connections than asked, with a warning, rather than fail accept() at
 * random later.  64 descriptors stay for models, logs and pipes. */
static unsigned connection_limit(int want)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return (unsigned)want;
    rlim_t target = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (target > rl.rlim_cur) {
        struct rlimit nl = {target, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
            rl.rlim_cur = target;
    }
    if (rl.rlim_cur >= need)
        return (unsigned)want;
    unsigned got = rl.rlim_cur > 128 ? (unsigned)(rl.rlim_cur - 64) : 64;
    dt_server_log("warn", "--max-connections %d needs %d file descriptors but RLIMIT_NOFILE allows %llu: serving at "
                          "most %u connections",
                  want, want + 64, (unsigned long long)rl.rlim_cur, got);
    return got;
}

static dt_code open_listener(const dt_server_config *cfg, int *fd_out, int *port_out, dt_status *st)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    int e = getaddrinfo(cfg->host, port, &hints, &res);
    if (e != 0)
        return dt_fail(st, DT_EINVAL, "cannot resolve host '%s': %s", cfg->host, gai_strerror(e));
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); /* "::" takes IPv4 too */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return dt_fail(st, DT_EIO, "cannot listen on %s:%d: %s", cfg->host, cfg->port, strerror(err));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int bound = cfg->port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    *port_out = bound;
    return DT_OK;
}

/* Read a PEM file for TLS into a NUL-terminated buffer (libmicrohttpd
 * takes them as strings), checking it holds what `what` says. */
static dt_code read_pem(const char *path, int is_key, char **out, size_t *len_out, dt_status *st)
{
    const char *what = is_key ? "TLS private key" : "TLS certificate";
    enum { PEM_MAX = 1 << 20 };
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_fail(st, DT_EIO, "%s %s: %s", what, path, strerror(errno));
    char *buf = dt_malloc(PEM_MAX + 1);
    if (!buf) {
        fclose(f);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, PEM_MAX, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    buf[n] = '\0';
    dt_code c = DT_OK;
    if (err)
        c = dt_fail(st, DT_EIO, "%s %s: %s", what, path, strerror(err));
    else if (n == PEM_MAX)
        c = dt_fail(st, DT_EINVAL, "%s %s: larger than %d bytes", what, path, PEM_MAX);
    else if (memchr(buf, '\0', n))
        c = dt_fail(st, DT_EINVAL, "%s %s: not a PEM file (binary data; DER is not supported)", what, path);
    else if (!is_key && !strstr(buf, "-----BEGIN CERTIFICATE-----"))
        c = dt_fail(st, DT_EINVAL, "%s %s: not a PEM certificate (no -----BEGIN CERTIFICATE-----)", what, path);
    else if (is_key && strstr(buf, "-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        c = dt_fail(st, DT_EUNSUPPORTED, "%s %s: encrypted keys are not supported (decrypt it, keep it mode 0600)",
                    what, path);
    else if (is_key && !(strstr(buf, "-----BEGIN ") && strstr(buf, "PRIVATE KEY-----")))
        c = dt_fail(st, DT_EINVAL, "%s %s: not a PEM private key (no -----BEGIN ... PRIVATE KEY-----)", what, path);
    if (c != DT_OK) {
        explicit_bzero(buf, n);
        dt_free(buf);
        return c;
    }
    *out = buf;
    *len_out = n;
    return DT_OK;
}

/* Load --api-key-file at start; warn when others may read it. */
static dt_code load_keys(dt_server *s, dt_status *st)
{
    if (!s->cfg.api_key_file[0])
        return DT_OK;
    if (dt_auth_keys_load(s->cfg.api_key_file, &s->keys, st) != DT_OK)
        return st->code == DT_EIO ? st->code : DT_EINVAL;
    s->auth_on = 1;
    struct stat sb;
    if (stat(s->cfg.api_key_file, &sb) == 0 && (sb.st_mode & 077))
        dt_server_log("warn", "API key file %s is readable by group or others (mode %03o): chmod 600 it",
                      s->cfg.api_key_file, (unsigned)(sb.st_mode & 0777));
    dt_server_log("info", "API keys required: %d key(s) from %s", dt_auth_keys_count(s->keys), s->cfg.api_key_file);
    return DT_OK;
}

dt_code dt_server_reload_keys(dt_server *s, dt_status *st)
{
    if (!s->auth_on)
        return DT_OK;
    dt_auth_keys *k = NULL;
    if (dt_auth_keys_load(s->cfg.api_key_file, &k, st) != DT_OK)
        return st->code;
    pthread_mutex_lock(&s->keys_mu);
    dt_auth_keys *old = s->keys;
    s->keys = k;
    pthread_mutex_unlock(&s->keys_mu);
    dt_auth_keys_free(old);
    dt_server_log("info", "API keys reloaded: %d key(s) from %s", dt_auth_keys_count(k), s->cfg.api_key_file);
    return DT_OK;
}

dt_code dt_server_start(const dt_server_config *cfg, dt_server_backend be, dt_server **out, dt_status *st)
{
    return dt_server_start_ex(cfg, be, NULL, out, st);
}

dt_code dt_server_start_ex(const dt_server_config *cfg, dt_server_backend be, const dt_server_backend_ext *ext,
                           dt_server **out, dt_status *st)
{
    *out = NULL;
    dt_code c = dt_server_config_check(cfg, st);
    if (c == DT_OK && builtin_route(cfg->entry_point, NULL) != R_NONE)
        c = dt_fail(st, DT_EINVAL, "entry point %s would hide the built-in route of the same path", cfg->entry_point);
    if (c != DT_OK) {
        be.ops->destroy(be.self);
        return c;
    }
    dt_server *s = dt_calloc(1, sizeof *s);
    if (!s) {
        be.ops->destroy(be.self);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    s->cfg = *cfg;
    if (s->cfg.prep_threads < 1)
        s->cfg.prep_threads = 1;
    if (s->cfg.max_batch < 1)
        s->cfg.max_batch = 1;
    s->proto = be;
    if (ext)
        s->ext = *ext;
    s->listen_fd = -1;
    s->state = DT_SERVER_LOADING;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->keys_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_cond_init(&s->timer_cv, &ca);
    pthread_cond_init(&s->mgr_cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < R_COUNT; i++)
        dt_hist_init(&s->req_h[i], DT_HIST_SECONDS, DT_HIST_SECONDS_N);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->started_at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    s->id_seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
    if (gethostname(s->hostname, sizeof s->hostname - 1) != 0 || !s->hostname[0])
        snprintf(s->hostname, sizeof s->hostname, "localhost");
    dt_status font_st;
    if (dt_font_create(NULL, &s->font, &font_st) != DT_OK)
        dt_server_log("warn", "?render=jpeg images get boxes without labels: %s", font_st.msg);
    if (cfg->model_epoch_set)
        dt_server_log("info", "MODEL_EPOCH is ignored (it selected MXNet checkpoints)");

    c = load_keys(s, st);
    if (c != DT_OK)
        goto fail;
    if (cfg->tls_cert[0]) {
        size_t cert_len;
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            c = dt_fail(st, DT_EUNSUPPORTED, "--tls-cert: this libmicrohttpd was built without TLS (GnuTLS) support");
            goto fail;
        }
        c = read_pem(cfg->tls_cert, 0, &s->tls_cert_pem, &cert_len, st);
        if (c == DT_OK)
            c = read_pem(cfg->tls_key, 1, &s->tls_key_pem, &s->tls_key_len, st);
        if (c != DT_OK)
            goto fail;
    }
    c = sched_init(s, st);
    if (c != DT_OK)
        goto fail;
    c = open_listener(cfg, &s->listen_fd, &s->port, st);
    if (c != DT_OK)
        goto fail;
    /* poll(), not epoll: libmicrohttpd 0.9.75's edge-triggered epoll loop
     * misses a client's FIN that arrives right behind body bytes, leaving
     * the aborted upload (and its buffer) around until the idle timeout. */
    unsigned conn_limit = connection_limit(cfg->max_connections);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    struct MHD_OptionItem extra[5];
    int ne = 0;
    /* A pool of one is not a pool to libmicrohttpd (it warns): leave it out. */
    if (cfg->http_threads > 1)
        extra[ne++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, cfg->http_threads, NULL};
    if (s->tls_cert_pem) {
        flags |= MHD_USE_TLS;
        extra[ne++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert_pem};
        extra[ne++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem};
        /* TLS 1.2 and 1.3 only, GnuTLS's default ciphers. */
        extra[ne++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                              (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
    }
    extra[ne] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s, /* first, or MHD complains */
                              MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
                              MHD_OPTION_CONNECTION_LIMIT, conn_limit,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                              MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_ARRAY, extra,
                              MHD_OPTION_END);
    if (!s->mhd) {
        if (s->tls_cert_pem)
            c = dt_fail(st, DT_EINVAL, "cannot start HTTPS on %s:%d: TLS certificate %s and key %s were refused "
                                       "(not a valid pair? see the libmicrohttpd message above)",
                        cfg->host, s->port, cfg->tls_cert, cfg->tls_key);
        else
            c = dt_fail(st, DT_EIO, "cannot start the HTTP server on %s:%d", cfg->host, s->port);
        goto fail;
    }
    char thr[16];
    snprintf(thr, sizeof thr, s->cfg.threads > 0 ? "%d" : "auto", s->cfg.threads);
    dt_server_log("info", "listening on %s://%s:%d (POST %s, /v1/detect, /v2/models/*/infer, /v1/vision/detection); "
                          "%d model(s), default %s; %d worker(s) x %s thread(s) per model, %d prep thread(s), "
                          "max batch %d, queue %d, request timeout %d ms",
                  s->tls_cert_pem ? "https" : "http", cfg->host, s->port, cfg->entry_point, s->n_slots,
                  s->slots[s->def].name, s->cfg.workers, thr, s->cfg.prep_threads, s->cfg.max_batch, s->cfg.queue_size,
                  s->cfg.request_timeout_ms);
    c = sched_start(s, st);
    if (c != DT_OK)
        goto fail;
    *out = s;
    return DT_OK;
fail:
    dt_server_free(s);
    return c;
}

int dt_server_port(const dt_server *s) { return s->port; }

int dt_server_queue_depth(dt_server *s) { return sched_queue_depth(s); }

dt_server_state dt_server_state_get(dt_server *s, dt_status *why)
{
    pthread_mutex_lock(&s->mu);
    dt_server_state state = s->state;
    if (why)
        *why = s->load_st;
    pthread_mutex_unlock(&s->mu);
    return state;
}

/* Wait (bounded) until no request is between its request line and its end. */
static void wait_idle(dt_server *s, double ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(ms / 1000);
    dl.tv_nsec += (long)fmod(ms, 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (s->active > 0)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->mu);
}

void dt_server_stop(dt_server *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = 1;
    int was_running = s->mhd != NULL;
    atomic_store(&s->stopping, 1);
    pthread_mutex_lock(&s->mu);
    s->state = DT_SERVER_STOPPING;
    int active = s->active;
    pthread_mutex_unlock(&s->mu);
    if (s->mhd) {
        dt_server_log("info", "shutting down: %d request(s) in flight, up to %d s to finish them", active,
                      s->cfg.drain_timeout_s);
        MHD_socket fd = MHD_quiesce_daemon(s->mhd);
        if (fd != MHD_INVALID_SOCKET) {
            /* Connections the kernel already completed (the listen
             * backlog) were accepted as far as clients can tell: serve
             * them instead of resetting them with the close. */
            int drained = 0;
            for (;;) {
                struct sockaddr_storage ss;
                socklen_t sl = sizeof ss;
                int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (c < 0)
                    break;
                if (MHD_add_connection(s->mhd, c, (struct sockaddr *)&ss, sl) == MHD_YES)
                    drained++; /* (on failure MHD has closed it) */
            }
            if (drained)
                dt_server_log("info", "shutting down: %d connection(s) from the listen backlog taken in", drained);
            close(fd);
        }
        s->listen_fd = -1;
        /* Requests already read keep being served (with Connection:
         * close) until they are done or the drain deadline passes. */
        wait_idle(s, s->cfg.drain_timeout_s * 1000.0);
    }
    sched_stop_threads(s);
    /* What is still queued after the deadline is answered 503, so every
     * suspended connection is resumed before the daemon stops
     * (libmicrohttpd requires it). */
    sched_stop_queues(s);
    if (s->mhd) {
        wait_idle(s, 1000);
        MHD_stop_daemon(s->mhd);
        s->mhd = NULL;
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    if (was_running)
        dt_server_log("info", "stopped");
}

void dt_server_free(dt_server *s)
{
    if (!s)
        return;
    dt_server_stop(s);
    sched_free(s);
    dt_font_free(s->font);
    if (s->proto.ops && !s->proto_used)
        s->proto.ops->destroy(s->proto.self);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->timer_cv);
    pthread_cond_destroy(&s->mgr_cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->keys_mu);
    dt_auth_keys_free(s->keys);
    dt_free(s->tls_cert_pem);
    if (s->tls_key_pem)
        explicit_bzero(s->tls_key_pem, s->tls_key_len);
    dt_free(s->tls_key_pem);
    dt_free(s);
}
