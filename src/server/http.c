/* http.c — the HTTP server: libmicrohttpd glue, routing, request bodies,
 * the job hand-off to workers, responses and the access log.
 *
 * One request is one `req`, created when the request line arrives
 * (uri_log), freed when libmicrohttpd reports it complete.  Its phases:
 *   NEW     headers read: route, method, type, size and readiness checks;
 *           most errors are answered here, before any body is read
 *   BODY    bytes appended to a bounded buffer
 *   DISCARD over a limit: the rest of the body is drained and dropped
 *           (bounded too), then the error is answered
 *   QUEUED  the job is with the workers and the connection is suspended;
 *           the worker renders the answer and resumes it
 *   SENT    a response is queued; nothing more to do
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "server/jsonw.h"
#include "server/page.h"
#include "server/parse.h"
#include "server/workq.h"
#include "vision/draw.h"

#define REQ_ID_MAX 64
#define LOG_PATH_MAX 200
/* After a body went over its limit we keep reading (and dropping) this much
 * more so the client can read our 413; beyond it we just close. */
#define DISCARD_EXTRA (64LL << 20)

enum route { R_NONE, R_PREDICT, R_DETECT, R_HEALTH, R_LIVE, R_READY, R_MODELS, R_INDEX };
enum phase { PH_NEW, PH_BODY, PH_DISCARD, PH_QUEUED, PH_SENT };

typedef struct req {
    dt_job job; /* first: the worker gets a dt_job* back */
    dt_server *srv;
    struct MHD_Connection *conn;
    int route, phase;
    char id[REQ_ID_MAX + 1];
    char method[16];
    char path[LOG_PATH_MAX + 1];
    char media[64];       /* request media type, for dispatch and the log */
    char *query;          /* raw query string (after '?'), or NULL */
    double t0;            /* request line seen */
    double t_body;        /* whole body received */
    /* body */
    int multipart;
    char boundary[DT_MULTIPART_MAX_BOUNDARY + 1];
    unsigned char *body;
    size_t len, cap;
    int64_t content_length; /* -1 = not given (chunked) */
    int64_t reserved;       /* bytes counted in srv->inflight_bytes */
    int64_t received;       /* all body bytes seen, dropped ones included */
    dt_code pending_code;   /* DISCARD: the error to answer */
    char pending_msg[DT_STATUS_MSG];
    const unsigned char *img;
    size_t img_len;
    /* detection parameters */
    double threshold;
    dt_detect_params params;
    int render;            /* ?render=jpeg: answer the annotated photo (issue 6) */
    const char *resp_type; /* Content-Type of resp; NULL = JSON */
    int *classes;
    /* result, written by the worker before it resumes the connection */
    _Atomic int done;
    int status;
    char *resp;
    size_t resp_len;
    /* for the access log */
    int sent_status;
    size_t sent_bytes;
} req;

struct dt_server {
    dt_server_config cfg;
    dt_server_backend be;
    struct MHD_Daemon *mhd;
    int listen_fd;
    int port;
    dt_workq *q;
    void **wctx;
    int n_wctx;
    pthread_t loader;
    int loader_started;
    pthread_mutex_t mu; /* guards state, active, load_st */
    pthread_cond_t cv;  /* signalled when active drops */
    dt_server_state state;
    int active;         /* requests between request line and completion */
    dt_status load_st;
    _Atomic int stopping;
    dt_server_model_info info; /* valid once ready */
    dt_font *font;             /* labels of ?render=jpeg images; NULL = boxes only */
    _Atomic int64_t inflight_bytes;
    _Atomic uint64_t id_counter;
    uint64_t id_seed;
    int stopped;
};

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
    char line[1024], ts[40], num[64];
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
    r->threshold = s->cfg.threshold;
    r->params.threshold = (float)s->cfg.threshold;
    r->params.max_detections = 100;
    pthread_mutex_lock(&s->mu);
    s->active++;
    pthread_mutex_unlock(&s->mu);
    return r;
}

static void release_body(req *r)
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
    release_body(r);
    dt_free(r->query);
    dt_free(r->classes);
    dt_free(r->resp);
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
    if (q && q[1])
        r->query = dt_strdup(q + 1); /* NULL on OOM: answered as 503 later */
    if (q && q[1] && !r->query)
        r->pending_code = DT_ENOMEM;
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    req *r = *con_cls;
    if (!r)
        return;
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

/* Queue `body` (taken; NULL means we ran out of memory making it). */
static enum MHD_Result respond(req *r, int status, char *body, size_t len, const char *allow)
{
    dt_server *s = r->srv;
    struct MHD_Response *resp = NULL;
    if (body)
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, dt_free);
    if (!resp) {
        dt_free(body);
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
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
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

static char *error_body(const char *msg, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"error\":");
    dt_jsonw_str(&w, msg);
    dt_jsonw_raw(&w, "}");
    return dt_jsonw_take(&w, len);
}

/* The one place a dt_code becomes an HTTP status.  The article's route keeps
 * the article's contract: every bad input is a 400; only limits (413) and
 * availability (503) are told apart there. */
static int http_status_for(int route, dt_code code)
{
    int h = dt_code_http(code);
    if (route == R_PREDICT && h >= 400 && h < 500 && h != 413)
        return 400;
    return h;
}

static enum MHD_Result respond_error(req *r, dt_code code, const char *msg)
{
    size_t len = 0;
    char *body = error_body(msg, &len);
    return respond(r, http_status_for(r->route, code), body, len, NULL);
}

static enum MHD_Result respond_405(req *r, const char *allow)
{
    char msg[128];
    snprintf(msg, sizeof msg, "method %s not allowed here (allowed: %s)", r->method, allow);
    size_t len = 0;
    char *body = error_body(msg, &len);
    return respond(r, 405, body, len, allow);
}

/* ---- GET routes ------------------------------------------------------------------ */

/* GET / : the embedded web page, revalidated by ETag (issue 6). */
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

static dt_server_state get_state(dt_server *s, char *why, size_t cap)
{
    pthread_mutex_lock(&s->mu);
    dt_server_state state = s->state;
    if (why)
        snprintf(why, cap, "%s", s->load_st.msg);
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

static enum MHD_Result handle_get(dt_server *s, req *r)
{
    if (r->route == R_INDEX)
        return respond_page(r);
    dt_server_state state = get_state(s, NULL, 0);
    int ready = state == DT_SERVER_READY;
    dt_jsonw w;
    dt_jsonw_init(&w);
    int status = 200;
    switch (r->route) {
    case R_LIVE:
        dt_jsonw_raw(&w, "{\"live\":true}");
        break;
    case R_HEALTH:
    case R_READY:
        if (ready) {
            dt_jsonw_raw(&w, r->route == R_HEALTH ? "{\"status\":\"ok\",\"model\":" : "{\"ready\":true,\"model\":");
            dt_jsonw_str(&w, s->info.name);
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
        dt_jsonw_raw(&w, "{\"models\":[{\"name\":");
        dt_jsonw_str(&w, s->info.name);
        dt_jsonw_printf(&w, ",\"ready\":true,\"input\":{\"width\":%d,\"height\":%d},\"labels\":%d,\"threshold\":",
                        s->info.input_w, s->info.input_h, s->info.num_classes);
        dt_jsonw_num(&w, s->cfg.threshold, 4);
        dt_jsonw_printf(&w, ",\"device\":\"cpu\",\"workers\":%d,\"queue_size\":%d}]}", s->cfg.workers,
                        s->cfg.queue_size);
        break;
    default:
        break;
    }
    size_t len = 0;
    char *body = dt_jsonw_take(&w, &len);
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

static dt_code parse_classes(dt_server *s, req *r, const char *list, dt_status *st)
{
    int cap = s->info.num_classes > 0 ? s->info.num_classes : 1, n = 0;
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
        int id = s->be.ops->class_id(s->be.self, name);
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

static dt_code parse_detect_query(dt_server *s, req *r, dt_status *st)
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
            if (parse_classes(s, r, val, st) != DT_OK)
                return st->code;
        } else if (!strcmp(key, "render")) {
            if (!strcmp(val, "jpeg") || !strcmp(val, "jpg"))
                r->render = 1;
            else if (!strcmp(val, "json") || !val[0])
                r->render = 0;
            else
                return dt_fail(st, DT_EINVAL, "render=%.40s: only render=jpeg (or json) is supported", val);
        } else {
            return dt_fail(st, DT_EINVAL, "unknown query parameter '%.60s' (known: threshold, max_detections, "
                                          "classes, render)", key);
        }
    }
}

static enum MHD_Result handle_post_headers(dt_server *s, req *r)
{
    dt_status st;
    dt_status_clear(&st);
    if (r->pending_code != DT_OK)
        return respond_error(r, r->pending_code, "out of memory");
    if (check_content_type(r, &st) != DT_OK)
        return respond_error(r, st.code, st.msg);
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
    dt_server_state state = get_state(s, NULL, 0);
    if (state != DT_SERVER_READY)
        return respond_error(r, DT_EBUSY, not_ready_msg(state));
    if (r->route == R_DETECT && parse_detect_query(s, r, &st) != DT_OK)
        return respond_error(r, st.code, st.msg);
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
    release_body(r);
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

static int looks_like_image(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return 1;
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return 1;
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return 1;
    if (n >= 14 && p[0] == 'B' && p[1] == 'M')
        return 1;
    return 0;
}

static void job_run(dt_job *job, void *wctx);

static enum MHD_Result handle_body_done(dt_server *s, req *r)
{
    r->t_body = dt_now_ms();
    if (r->multipart) {
        dt_multipart_part part;
        dt_status st;
        dt_code c = dt_multipart_find(r->body, r->len, r->boundary, "image", &part, &st);
        if (c != DT_OK)
            return respond_error(r, DT_EINVAL, st.msg);
        r->img = part.data;
        r->img_len = part.len;
    } else {
        r->img = r->body;
        r->img_len = r->len;
    }
    if (r->img_len == 0)
        return respond_error(r, DT_EINVAL, r->route == R_PREDICT ? "Invalid content: empty body"
                                                                 : "empty image: send the image bytes");
    if (!looks_like_image(r->img, r->img_len))
        return respond_error(r, DT_EINVAL, r->route == R_PREDICT
                                               ? "Invalid content: the body is not a JPEG, PNG, WebP or BMP image"
                                               : "the body is not a JPEG, PNG, WebP or BMP image");
    r->job.run = job_run;
    /* Suspend before the push: the worker may resume us at once. */
    MHD_suspend_connection(r->conn);
    r->phase = PH_QUEUED;
    dt_status st;
    if (dt_workq_push(s->q, &r->job, &st) != DT_OK) {
        size_t len = 0;
        r->resp = error_body(st.msg, &len);
        r->resp_len = len;
        r->status = http_status_for(r->route, DT_EBUSY);
        atomic_store_explicit(&r->done, 1, memory_order_release);
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

/* ---- the worker side ------------------------------------------------------------- */

static int clampi(long v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : (int)v; }

static char *render_predict(const dt_detect_result *res, double threshold, dt_server *s, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"prediction\":[");
    int first = 1;
    for (int i = 0; i < res->n; i++) {
        const dt_detection *d = &res->dets[i];
        if (!(d->score > threshold))
            continue;
        int x0 = clampi(lroundf(d->x1), 0, res->width), y0 = clampi(lroundf(d->y1), 0, res->height);
        int x1 = clampi(lroundf(d->x2), x0, res->width), y1 = clampi(lroundf(d->y2), y0, res->height);
        dt_jsonw_raw(&w, first ? "{\"objectClass\":" : ",{\"objectClass\":");
        first = 0;
        dt_jsonw_str(&w, s->be.ops->label(s->be.self, d->class_id));
        dt_jsonw_raw(&w, ",\"probability\":");
        dt_jsonw_num(&w, d->score, 4);
        dt_jsonw_printf(&w, ",\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d}", x0, y0, x1 - x0, y1 - y0);
    }
    dt_jsonw_raw(&w, "]}");
    return dt_jsonw_take(&w, len);
}

/* The object schema of `detectd detect` (cmd_detect.c): pixels and
 * milliseconds to 3 decimals, scores to 6. */
static char *render_detect(const dt_detect_result *res, const req *r, dt_server *s, double queue_ms, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"model\":");
    dt_jsonw_str(&w, s->info.name);
    dt_jsonw_printf(&w, ",\"width\":%d,\"height\":%d,\"objects\":[", res->width, res->height);
    int n = 0;
    for (int i = 0; i < res->n && n < r->params.max_detections; i++) {
        const dt_detection *d = &res->dets[i];
        if (!(d->score > r->threshold))
            continue;
        float x1 = fminf(fmaxf(d->x1, 0), (float)res->width), y1 = fminf(fmaxf(d->y1, 0), (float)res->height);
        float x2 = fminf(fmaxf(d->x2, x1), (float)res->width), y2 = fminf(fmaxf(d->y2, y1), (float)res->height);
        dt_jsonw_raw(&w, n ? ",{\"label\":" : "{\"label\":");
        n++;
        dt_jsonw_str(&w, s->be.ops->label(s->be.self, d->class_id));
        dt_jsonw_printf(&w, ",\"class_id\":%d,\"score\":", d->class_id);
        dt_jsonw_num(&w, d->score, 6);
        dt_jsonw_raw(&w, ",\"box\":{\"x\":");
        dt_jsonw_num(&w, x1, 3);
        dt_jsonw_raw(&w, ",\"y\":");
        dt_jsonw_num(&w, y1, 3);
        dt_jsonw_raw(&w, ",\"width\":");
        dt_jsonw_num(&w, x2 - x1, 3);
        dt_jsonw_raw(&w, ",\"height\":");
        dt_jsonw_num(&w, y2 - y1, 3);
        dt_jsonw_raw(&w, "}}");
    }
    const dt_detect_timing *t = &res->timing;
    dt_jsonw_raw(&w, "],\"timing_ms\":{\"queue\":");
    dt_jsonw_num(&w, queue_ms, 3);
    dt_jsonw_raw(&w, ",\"decode\":");
    dt_jsonw_num(&w, t->decode_ms, 3);
    dt_jsonw_raw(&w, ",\"preprocess\":");
    dt_jsonw_num(&w, t->preprocess_ms, 3);
    dt_jsonw_raw(&w, ",\"inference\":");
    dt_jsonw_num(&w, t->inference_ms, 3);
    dt_jsonw_raw(&w, ",\"postprocess\":");
    dt_jsonw_num(&w, t->postprocess_ms, 3);
    dt_jsonw_raw(&w, ",\"total\":");
    dt_jsonw_num(&w, dt_now_ms() - r->t_body, 3);
    dt_jsonw_raw(&w, "}}");
    return dt_jsonw_take(&w, len);
}

static const char *server_label(const void *ctx, int class_id)
{
    const dt_server *s = ctx;
    return s->be.ops->label(s->be.self, class_id);
}

/* ?render=jpeg: the photo with the same objects the JSON answer would list
 * drawn on it (decoded again at full size: boxes are in original pixels). */
static dt_code render_jpeg(const dt_detect_result *res, req *r, dt_server *s, const dt_image_limits *lim,
                           dt_status *st)
{
    dt_detection *keep = dt_malloc((size_t)(res->n > 0 ? res->n : 1) * sizeof *keep);
    if (!keep)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    int n = 0;
    for (int i = 0; i < res->n && n < r->params.max_detections; i++)
        if (res->dets[i].score > r->threshold)
            keep[n++] = res->dets[i];
    dt_draw_opts o = {.font = s->font, .label = server_label, .label_ctx = s};
    unsigned char *jpg = NULL;
    size_t len = 0;
    dt_code c = dt_render_detections(r->img, r->img_len, lim, keep, n, &o, 90, &jpg, &len, st);
    dt_free(keep);
    if (c == DT_OK) {
        r->resp = (char *)jpg;
        r->resp_len = len;
        r->resp_type = "image/jpeg";
    }
    return c;
}

/* Runs on a worker: detect, render the whole answer, then hand the
 * connection back.  After MHD_resume_connection the request belongs to
 * the HTTP thread again: nothing may touch `r` past that call. */
static void job_run(dt_job *job, void *wctx)
{
    req *r = (req *)job;
    dt_server *s = r->srv;
    struct MHD_Connection *conn = r->conn;
    double queue_ms = dt_now_ms() - job->enqueued_ms;
    dt_status st;
    dt_status_clear(&st);
    dt_detect_result res;
    memset(&res, 0, sizeof res);
    dt_code c;
    if (!wctx) {
        c = dt_fail(&st, DT_EBUSY, "server is shutting down");
    } else {
        dt_image_limits lim = {.max_pixels = s->cfg.max_pixels, .max_side = 0};
        c = s->be.ops->detect(s->be.self, wctx, r->img, r->img_len, &lim, &r->params, &res, &st);
        if (c == DT_OK && r->render)
            c = render_jpeg(&res, r, s, &lim, &st);
    }
    size_t len = 0;
    if (c == DT_OK && r->render) {
        len = r->resp_len; /* render_jpeg set resp */
        r->status = 200;
    } else if (c == DT_OK) {
        r->resp = r->route == R_PREDICT ? render_predict(&res, r->threshold, s, &len)
                                        : render_detect(&res, r, s, queue_ms, &len);
        r->status = 200;
    } else {
        r->status = http_status_for(r->route, c);
        if (r->status >= 500 && r->status != 503)
            dt_server_log("error", "request %s: %s: %s", r->id, dt_code_name(c), st.msg);
        if (r->route == R_PREDICT && r->status == 400) {
            char msg[DT_STATUS_MSG + 32];
            snprintf(msg, sizeof msg, "Invalid content: %s", st.msg);
            r->resp = error_body(msg, &len);
        } else {
            r->resp = error_body(st.msg[0] ? st.msg : dt_code_name(c), &len);
        }
    }
    r->resp_len = len;
    release_body(r); /* the image is not needed any more: free it before the answer goes out */
    atomic_store_explicit(&r->done, 1, memory_order_release);
    MHD_resume_connection(conn);
}

/* ---- the access handler ---------------------------------------------------------- */

static int builtin_route(const char *url)
{
    static const struct {
        const char *path;
        int route;
    } table[] = {
        {"/v1/detect", R_DETECT},      {"/health", R_HEALTH},         {"/v2/health/live", R_LIVE},
        {"/v2/health/ready", R_READY}, {"/v1/models", R_MODELS},
        {"/", R_INDEX},                {"/index.html", R_INDEX},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(url, table[i].path))
            return table[i].route;
    return R_NONE;
}

static int match_route(const dt_server *s, const char *url)
{
    if (!strcmp(url, s->cfg.entry_point))
        return R_PREDICT;
    return builtin_route(url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
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
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        assign_id(s, r);
        r->route = match_route(s, url);
        int post = r->route == R_PREDICT || r->route == R_DETECT;
        if (r->route == R_NONE) {
            char msg[LOG_PATH_MAX + 32];
            snprintf(msg, sizeof msg, "no route %s", r->path);
            return respond_error(r, DT_ENOTFOUND, msg);
        }
        if (post && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return respond_405(r, "POST");
        if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
            return respond_405(r, "GET, HEAD");
        if (!post)
            return handle_get(s, r);
        return handle_post_headers(s, r);
    }
    case PH_BODY:
        if (*upload_size) {
            on_body_chunk(s, r, upload_data, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        return handle_body_done(s, r);
    case PH_DISCARD:
        if (*upload_size) {
            r->received += (int64_t)*upload_size;
            *upload_size = 0;
            /* Do not drain forever for a client that never stops. */
            return r->received > s->cfg.max_body_bytes + DISCARD_EXTRA ? MHD_NO : MHD_YES;
        }
        return respond_error(r, r->pending_code, r->pending_msg);
    case PH_QUEUED:
        if (!atomic_load_explicit(&r->done, memory_order_acquire))
            return MHD_YES;
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

/* ---- model loading --------------------------------------------------------------- */

static void set_state(dt_server *s, dt_server_state state, const dt_status *why)
{
    pthread_mutex_lock(&s->mu);
    if (s->state != DT_SERVER_STOPPING)
        s->state = state;
    if (why)
        s->load_st = *why;
    pthread_mutex_unlock(&s->mu);
}

static void *loader_main(void *arg)
{
    dt_server *s = arg;
    dt_status st;
    dt_status_clear(&st);
    double t0 = dt_now_ms();
    int made = 0;
    dt_code c = s->be.ops->load(s->be.self, &st);
    if (c == DT_OK) {
        s->be.ops->info(s->be.self, &s->info);
        dt_server_log("info", "model %s loaded: input %dx%d, %d labels (%.0f ms)", s->info.name, s->info.input_w,
                      s->info.input_h, s->info.num_classes, dt_now_ms() - t0);
        if (s->cfg.model_edge && (s->cfg.model_edge != s->info.input_w || s->cfg.model_edge != s->info.input_h))
            dt_server_log("warn", "MODEL_EDGE=%d ignored: the model's input is %dx%d", s->cfg.model_edge,
                          s->info.input_w, s->info.input_h);
        for (; made < s->n_wctx && c == DT_OK; made++)
            c = s->be.ops->worker_create(s->be.self, &s->wctx[made], &st);
        if (c != DT_OK)
            made--; /* the failed one left nothing */
    }
    if (c == DT_OK && (c = dt_workq_start(s->q, s->n_wctx, s->wctx, &st)) != DT_OK)
        dt_workq_stop(s->q); /* join the workers that did start before freeing their contexts */
    if (c != DT_OK) {
        for (int i = 0; i < made; i++) {
            s->be.ops->worker_free(s->be.self, s->wctx[i]);
            s->wctx[i] = NULL;
        }
        dt_server_log("error", "model %s failed to load: %s", s->cfg.model, st.msg);
        set_state(s, DT_SERVER_FAILED, &st);
        return NULL;
    }
    set_state(s, DT_SERVER_READY, NULL);
    if (dt_server_state_get(s, NULL) == DT_SERVER_READY)
        dt_server_log("info", "ready: %d worker(s) warmed up in %.0f ms", s->n_wctx, dt_now_ms() - t0);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------- */

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
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 512) == 0)
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

dt_code dt_server_start(const dt_server_config *cfg, dt_server_backend be, dt_server **out, dt_status *st)
{
    *out = NULL;
    dt_code c = dt_server_config_check(cfg, st);
    if (c == DT_OK && builtin_route(cfg->entry_point) != R_NONE)
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
    s->be = be;
    s->listen_fd = -1;
    s->state = DT_SERVER_LOADING;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->id_seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
    s->n_wctx = cfg->workers;
    dt_status font_st;
    if (dt_font_create(NULL, &s->font, &font_st) != DT_OK)
        dt_server_log("warn", "?render=jpeg images get boxes without labels: %s", font_st.msg);
    if (!strcmp(cfg->device, "cuda"))
        dt_server_log("warn", "CUDA requested (MODEL_CONTEXT_GPU / --device cuda) but this build has no CUDA "
                              "backend: running on the CPU");
    if (cfg->model_epoch_set)
        dt_server_log("info", "MODEL_EPOCH is ignored (it selected MXNet checkpoints)");

    s->wctx = dt_calloc((size_t)s->n_wctx, sizeof *s->wctx);
    if (!s->wctx) {
        c = dt_fail(st, DT_ENOMEM, "out of memory");
        goto fail;
    }
    c = dt_workq_create(cfg->queue_size, &s->q, st);
    if (c != DT_OK)
        goto fail;
    c = open_listener(cfg, &s->listen_fd, &s->port, st);
    if (c != DT_OK)
        goto fail;
    /* poll(), not epoll: libmicrohttpd 0.9.75's edge-triggered epoll loop
     * misses a client's FIN that arrives right behind body bytes, leaving
     * the aborted upload (and its buffer) around until the idle timeout. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    /* A pool of one is not a pool to libmicrohttpd (it warns): leave it out. */
    struct MHD_OptionItem pool[2] = {{MHD_OPTION_THREAD_POOL_SIZE, cfg->http_threads, NULL},
                                     {MHD_OPTION_END, 0, NULL}};
    if (cfg->http_threads <= 1)
        pool[0].option = MHD_OPTION_END;
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s, /* first, or MHD complains */
                              MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                              MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_ARRAY, pool,
                              MHD_OPTION_END);
    if (!s->mhd) {
        c = dt_fail(st, DT_EIO, "cannot start the HTTP server on %s:%d", cfg->host, s->port);
        goto fail;
    }
    dt_server_log("info", "listening on %s:%d (POST %s, POST /v1/detect); loading model %s", cfg->host, s->port,
                  cfg->entry_point, cfg->model);
    if (pthread_create(&s->loader, NULL, loader_main, s) != 0) {
        c = dt_fail(st, DT_ENOMEM, "cannot start the model loader thread");
        goto fail;
    }
    s->loader_started = 1;
    *out = s;
    return DT_OK;
fail:
    dt_server_free(s);
    return c;
}

int dt_server_port(const dt_server *s) { return s->port; }

int dt_server_queue_depth(dt_server *s) { return dt_workq_depth(s->q); }

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
        dt_server_log("info", "shutting down: %d request(s) in flight", active);
        MHD_socket fd = MHD_quiesce_daemon(s->mhd);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        s->listen_fd = -1;
        wait_idle(s, s->cfg.timeout_s * 1000.0);
    }
    if (s->loader_started) {
        pthread_join(s->loader, NULL);
        s->loader_started = 0;
    }
    /* Runs whatever is still queued, so every suspended connection is
     * resumed before the daemon stops (libmicrohttpd requires it). */
    dt_workq_stop(s->q);
    if (s->mhd) {
        wait_idle(s, 1000);
        MHD_stop_daemon(s->mhd);
        s->mhd = NULL;
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    for (int i = 0; s->wctx && i < s->n_wctx; i++) {
        if (s->wctx[i])
            s->be.ops->worker_free(s->be.self, s->wctx[i]);
        s->wctx[i] = NULL;
    }
    if (was_running)
        dt_server_log("info", "stopped");
}

void dt_server_free(dt_server *s)
{
    if (!s)
        return;
    dt_server_stop(s);
    dt_workq_free(s->q);
    dt_free(s->wctx);
    dt_font_free(s->font);
    if (s->be.ops)
        s->be.ops->destroy(s->be.self);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    dt_free(s);
}
