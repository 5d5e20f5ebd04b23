/* config.c — `detectd serve` configuration: defaults < the article's
 * environment variables < DETECTD_<FLAG> variables < command-line flags.
 * One table drives parsing, the environment names and --help, so the
 * three cannot drift apart. */
#include "server/server.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/cuda/cuda.h"
#include "server/parse.h"

typedef enum opt_type { T_STR, T_INT, T_SIZE, T_F64, T_DEVICE, T_BOOL } opt_type;

typedef struct opt {
    const char *flag;    /* without the leading "--" */
    const char *env;     /* DETECTD_<FLAG> */
    const char *article; /* the article's variable, or NULL */
    opt_type type;
    size_t off;
    size_t cap;          /* T_STR: buffer size */
    double min, max;
    const char *meta;
    const char *help;
} opt;

#define OFF(f) offsetof(dt_server_config, f)
#define CAP(f) sizeof(((dt_server_config *)0)->f)

static const opt g_opts[] = {
    {"host", "DETECTD_HOST", "REST_HOST", T_STR, OFF(host), CAP(host), 0, 0, "ADDR",
     "address to listen on (IPv4 or IPv6, numeric or a name)"},
    {"port", "DETECTD_PORT", "REST_PORT", T_INT, OFF(port), 0, 0, 65535, "N", "TCP port (0 = any free port)"},
    {"entry-point", "DETECTD_ENTRY_POINT", "REST_ENTRY_POINT", T_STR, OFF(entry_point), CAP(entry_point), 0, 0,
     "PATH", "path of the article's POST route"},
    {"threshold", "DETECTD_THRESHOLD", "PROBABILITY_MORE", T_F64, OFF(threshold), 0, 0, 1, "P",
     "keep objects whose probability is above P (per-request ?threshold= on /v1/detect)"},
    {"model", "DETECTD_MODEL", "MODEL_PREFIX", T_STR, OFF(model), CAP(model), 0, 0, "NAME|PATH",
     "built-in model name or a path to a model file, manifest or directory"},
    {"models-dir", "DETECTD_MODELS_DIR", NULL, T_STR, OFF(models_dir), CAP(models_dir), 0, 0, "DIR",
     "where built-in model names are looked up (empty = ./models)"},
    {"max-model-memory", "DETECTD_MAX_MODEL_MEMORY", NULL, T_SIZE, OFF(max_model_memory), 0, (double)(1LL << 16),
     (double)(1LL << 40), "BYTES",
     "most memory one worker's model session may plan (activations + folded constants); a model needing "
     "more fails to load, a batch needing more lowers the max batch"},
    {"model-edge", "DETECTD_MODEL_EDGE", "MODEL_EDGE", T_INT, OFF(model_edge), 0, 0, 16384, "N",
     "accepted for compatibility and ignored: the input size comes from the model itself"},
    {"device", "DETECTD_DEVICE", "MODEL_CONTEXT_GPU", T_DEVICE, OFF(device), CAP(device), 0, 0, "cpu|cuda|cuda:N",
     "where inference runs: cuda spreads the workers over the GPUs, cuda:N pins them (MODEL_CONTEXT_GPU=true means cuda); without a usable GPU: a warning, then cpu"},
    {"max-body-bytes", "DETECTD_MAX_BODY_BYTES", NULL, T_SIZE, OFF(max_body_bytes), 0, 1, (double)(1LL << 40),
     "BYTES", "largest request body (K/M/G suffixes); more = 413"},
    {"max-pixels", "DETECTD_MAX_PIXELS", NULL, T_SIZE, OFF(max_pixels), 0, 1, 1e12, "N",
     "largest image, width x height, checked from the image header; more = 413"},
    {"max-inflight-bytes", "DETECTD_MAX_INFLIGHT_BYTES", NULL, T_SIZE, OFF(max_inflight_bytes), 0, 1,
     (double)(1LL << 42), "BYTES", "all request bodies buffered at once; more = 503 + Retry-After"},
    {"max-connections", "DETECTD_MAX_CONNECTIONS", NULL, T_INT, OFF(max_connections), 0, 1, 100000, "N",
     "simultaneous client connections"},
    {"timeout-s", "DETECTD_TIMEOUT_S", NULL, T_INT, OFF(timeout_s), 0, 1, 3600, "S",
     "idle connection timeout (a client silent this long is dropped)"},
    {"read-timeout-s", "DETECTD_READ_TIMEOUT_S", NULL, T_INT, OFF(read_timeout_s), 0, 0, 3600, "S",
     "a request's body must arrive within S seconds of its request line, else the connection is closed "
     "(slow uploads; 0 = no limit)"},
    {"drain-timeout-s", "DETECTD_DRAIN_TIMEOUT_S", NULL, T_INT, OFF(drain_timeout_s), 0, 0, 3600, "S",
     "on SIGTERM, how long in-flight requests may take before the rest get 503"},
    {"request-timeout-ms", "DETECTD_REQUEST_TIMEOUT_MS", NULL, T_INT, OFF(request_timeout_ms), 0, 0, 3600000, "MS",
     "deadline from the request line to inference start; later = 504 (0 = none)"},
    {"workers", "DETECTD_WORKERS", NULL, T_INT, OFF(workers), 0, 1, 256, "N",
     "inference workers per model, each with its own model context"},
    {"threads-per-worker", "DETECTD_THREADS_PER_WORKER", NULL, T_INT, OFF(threads), 0, 0, 1024, "N",
     "engine threads per worker (0 = CPU cores / workers)"},
    {"threads", "DETECTD_THREADS", NULL, T_INT, OFF(threads), 0, 0, 1024, "N", "same as --threads-per-worker"},
    {"max-batch", "DETECTD_MAX_BATCH", NULL, T_INT, OFF(max_batch), 0, 1, 256, "B",
     "dynamic batching: run up to B queued requests at once (when the model's graph allows)"},
    {"batch-timeout-us", "DETECTD_BATCH_TIMEOUT_US", NULL, T_INT, OFF(batch_timeout_us), 0, 0, 10000000, "US",
     "wait up to US for a batch to fill (0 = batch only what is already queued)"},
    {"prep-threads", "DETECTD_PREP_THREADS", NULL, T_INT, OFF(prep_threads), 0, 1, 256, "N",
     "threads that parse, decode and preprocess images (inference workers only infer)"},
    {"http-threads", "DETECTD_HTTP_THREADS", NULL, T_INT, OFF(http_threads), 0, 1, 256, "N",
     "HTTP I/O threads (they only move bytes)"},
    {"queue-size", "DETECTD_QUEUE_SIZE", NULL, T_INT, OFF(queue_size), 0, 1, 1000000, "N",
     "requests admitted and waiting per model; more = 503 + Retry-After at once"},
    {"model-dir", "DETECTD_MODEL_DIR", NULL, T_STR, OFF(model_dir), CAP(model_dir), 0, 0, "DIR",
     "serve every DIR/NAME.detectd.json as model NAME (--model names the default)"},
    {"access-log", "DETECTD_ACCESS_LOG", NULL, T_BOOL, OFF(access_log), 0, 0, 0, "BOOL",
     "one logfmt line per request on stderr"},
    {"api-key-file", "DETECTD_API_KEY_FILE", NULL, T_STR, OFF(api_key_file), CAP(api_key_file), 0, 0, "PATH",
     "require an API key (Authorization: Bearer KEY or X-API-Key: KEY) on every route but /, /health and "
     "/v2/health/*; PATH holds one key per line ('#' comments); re-read on SIGHUP"},
    {"tls-cert", "DETECTD_TLS_CERT", NULL, T_STR, OFF(tls_cert), CAP(tls_cert), 0, 0, "PATH",
     "serve HTTPS (TLS 1.2+) with this PEM certificate (chain); needs --tls-key"},
    {"tls-key", "DETECTD_TLS_KEY", NULL, T_STR, OFF(tls_key), CAP(tls_key), 0, 0, "PATH",
     "the PEM private key of --tls-cert"},
};
#define N_OPTS (sizeof g_opts / sizeof g_opts[0])

void dt_server_config_defaults(dt_server_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "0.0.0.0");
    c->port = 8080;
    snprintf(c->entry_point, sizeof c->entry_point, "/predict");
    c->threshold = 0.5;
    snprintf(c->model, sizeof c->model, "nanodet");
    snprintf(c->device, sizeof c->device, "cpu");
    c->max_body_bytes = 32LL << 20;
    c->max_pixels = 50000000;
    c->max_inflight_bytes = 512LL << 20;
    c->max_connections = 4096;
    c->timeout_s = 30;
    c->workers = 1;
    c->threads = 0;
    c->http_threads = 2;
    c->queue_size = 32;
    c->max_batch = 1;
    c->batch_timeout_us = 0;
    c->prep_threads = 2;
    c->request_timeout_ms = 30000;
    c->drain_timeout_s = 30;
    c->access_log = 1;
    c->read_timeout_s = 60;
    c->max_model_memory = 1LL << 30; /* DT_SESSION_MAX_MEMORY_DEFAULT */
}

/* Parse `val` for option `o` into the config; `src` names where it came
 * from for the error message. */
static dt_code apply(dt_server_config *c, const opt *o, const char *val, const char *src, int from_article,
                     dt_status *st)
{
    char *base = (char *)c + o->off;
    dt_code rc = DT_OK;
    switch (o->type) {
    case T_STR: {
        size_t n = strlen(val);
        if (n >= o->cap)
            return dt_fail(st, DT_EINVAL, "%s: value longer than %zu characters", src, o->cap - 1);
        memcpy(base, val, n + 1);
        return DT_OK;
    }
    case T_INT: {
        int64_t v;
        rc = dt_parse_i64(val, (int64_t)o->min, (int64_t)o->max, &v, st);
        if (rc == DT_OK)
            *(int *)base = (int)v;
        break;
    }
    case T_SIZE: {
        int64_t v;
        rc = dt_parse_size(val, (int64_t)o->min, (int64_t)o->max, &v, st);
        if (rc == DT_OK)
            *(int64_t *)base = v;
        break;
    }
    case T_F64: {
        double v;
        rc = dt_parse_f64(val, o->min, o->max, &v, st);
        if (rc == DT_OK)
            *(double *)base = v;
        break;
    }
    case T_BOOL: {
        int b;
        rc = dt_parse_bool(val, &b, st);
        if (rc == DT_OK)
            *(int *)base = b;
        break;
    }
    case T_DEVICE: {
        const char *dev = NULL;
        if (from_article) { /* MODEL_CONTEXT_GPU is a boolean */
            int b;
            rc = dt_parse_bool(val, &b, st);
            if (rc == DT_OK)
                dev = b ? "cuda" : "cpu";
        } else if (!strcasecmp(val, "cpu")) {
            dev = "cpu";
        } else if (!strcasecmp(val, "cuda") || !strcasecmp(val, "gpu")) {
            dev = "cuda";
        } else {
            int id;
            rc = dt_cuda_parse_device(val, &id, st);
            if (rc == DT_OK)
                dev = val; /* cuda:N */
        }
        if (rc == DT_OK)
            snprintf(base, o->cap, "%s", dev);
        break;
    }
    }
    if (rc != DT_OK)
        return dt_wrap(st, "%s", src);
    return DT_OK;
}

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

dt_code dt_server_config_env(dt_server_config *c, char *const *envp, dt_status *st)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < N_OPTS; i++) {
            const opt *o = &g_opts[i];
            const char *name = pass == 0 ? o->article : o->env;
            if (!name)
                continue;
            const char *v = env_get(envp, name);
            if (!v || !*v)
                continue;
            dt_code rc = apply(c, o, v, name, pass == 0, st);
            if (rc != DT_OK)
                return rc;
        }
    }
    const char *epoch = env_get(envp, "MODEL_EPOCH");
    if (epoch && *epoch)
        c->model_epoch_set = 1;
    return DT_OK;
}

dt_code dt_server_config_args(dt_server_config *c, int argc, char **argv, int *help, dt_status *st)
{
    *help = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            *help = 1;
            return DT_OK;
        }
        if (strncmp(a, "--", 2) != 0)
            return dt_fail(st, DT_EINVAL, "unexpected argument '%s'", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const opt *o = NULL;
        for (size_t k = 0; k < N_OPTS; k++)
            if (strlen(g_opts[k].flag) == nl && !strncmp(g_opts[k].flag, name, nl))
                o = &g_opts[k];
        if (!o)
            return dt_fail(st, DT_EINVAL, "unknown option '%.*s' (see --help)", (int)(nl + 2), a);
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc)
                return dt_fail(st, DT_EINVAL, "--%s needs a value", o->flag);
            val = argv[++i];
        }
        char src[64];
        snprintf(src, sizeof src, "--%s", o->flag);
        dt_code rc = apply(c, o, val, src, 0, st);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

dt_code dt_server_config_check(const dt_server_config *c, dt_status *st)
{
    if (c->entry_point[0] != '/')
        return dt_fail(st, DT_EINVAL, "entry point '%s' must start with '/'", c->entry_point);
    for (const char *p = c->entry_point; *p; p++)
        if (*p == '?' || *p == '#' || (unsigned char)*p <= ' ')
            return dt_fail(st, DT_EINVAL, "entry point '%s' must be a plain path", c->entry_point);
    if (!c->host[0])
        return dt_fail(st, DT_EINVAL, "empty host");
    if (!c->model[0])
        return dt_fail(st, DT_EINVAL, "empty model");
    if (c->model_dir[0] && strlen(c->model_dir) > 900)
        return dt_fail(st, DT_EINVAL, "model directory path too long");
    if (!c->tls_cert[0] != !c->tls_key[0])
        return dt_fail(st, DT_EINVAL, "--tls-cert and --tls-key go together: give both (HTTPS) or neither (HTTP)");
    if (c->max_inflight_bytes < c->max_body_bytes)
        return dt_fail(st, DT_EINVAL, "max-inflight-bytes (%lld) is below max-body-bytes (%lld)",
                       (long long)c->max_inflight_bytes, (long long)c->max_body_bytes);
    return DT_OK;
}

static void default_text(const dt_server_config *d, const opt *o, char *out, size_t cap)
{
    const char *base = (const char *)d + o->off;
    switch (o->type) {
    case T_STR:
    case T_DEVICE: snprintf(out, cap, "%s", *base ? base : "\"\""); break;
    case T_INT: snprintf(out, cap, "%d", *(const int *)base); break;
    case T_BOOL: snprintf(out, cap, "%s", *(const int *)base ? "true" : "false"); break;
    case T_F64: snprintf(out, cap, "%g", *(const double *)base); break;
    case T_SIZE: {
        int64_t v = *(const int64_t *)base;
        if (v && v % (1LL << 20) == 0)
            snprintf(out, cap, "%lldM", (long long)(v >> 20));
        else
            snprintf(out, cap, "%lld", (long long)v);
        break;
    }
    }
}

void dt_server_config_usage(FILE *f)
{
    dt_server_config d;
    dt_server_config_defaults(&d);
    fprintf(f, "usage: detectd serve [OPTIONS]\n\n"
               "Serve object detection over HTTP.  Each option can also be set by the\n"
               "environment variables listed under it; flags win over DETECTD_* variables,\n"
               "which win over the article's variables (REST_*, PROBABILITY_MORE, MODEL_*).\n\n"
               "options:\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *o = &g_opts[i];
        char def[64], lhs[64];
        default_text(&d, o, def, sizeof def);
        snprintf(lhs, sizeof lhs, "--%s %s", o->flag, o->meta);
        fprintf(f, "  %-30s %s (default %s)\n", lhs, o->help, def);
        fprintf(f, "  %-30s env %s%s%s\n", "", o->env, o->article ? ", " : "", o->article ? o->article : "");
    }
    fprintf(f, "  %-30s show this help\n\n", "-h, --help");
    fprintf(f, "MODEL_EPOCH (the article's MXNet checkpoint epoch) is accepted and ignored.\n\n"
               "routes:\n"
               "  POST <entry-point>      the article's API: image body (image/jpeg, png, webp, bmp)\n"
               "                          -> {\"prediction\":[{objectClass,probability,x,y,width,height}]};\n"
               "                          any bad input -> 400 {\"error\":...} as the article did\n"
               "  POST /v1/detect         raw image or multipart/form-data field \"image\";\n"
               "                          ?threshold=&max_detections=&classes=cat,dog&model=NAME\n"
               "  POST /v2/models/NAME[/versions/1]/infer   KServe/Triton v2: JSON or binary tensors;\n"
               "                          input BYTES [1] = the image (base64 in JSON), outputs\n"
               "                          \"detections\" FP32 [N,6] and \"labels\" BYTES [N]\n"
               "  GET  /v2, /v2/health/live, /v2/health/ready, /v2/models/NAME[/ready]\n"
               "  POST /v1/vision/detection, /v1/vision/custom/NAME   DeepStack / CodeProject.AI:\n"
               "                          multipart \"image\", min_confidence (default 0.4)\n"
               "  POST /v1/models/NAME/reload, /v2/repository/models/NAME/load   reload from disk\n"
               "  GET  /health, /v1/models, /metrics (Prometheus)\n"
               "  GET  /                  the web page (pick a photo, see the boxes)\n\n"
               "security:\n"
               "  API keys (api-key-file): every route needs a key except GET / (the page: it asks for\n"
               "                          the key and keeps it in the tab's sessionStorage), /health,\n"
               "                          /v2/health/live and /v2/health/ready (probes).  Missing or wrong\n"
               "                          key -> 401 + WWW-Authenticate: Bearer (detectd_auth_failures_total).\n"
               "                          DeepStack clients may send the key as the form field api_key.\n"
               "  HTTPS (tls-cert, tls-key): TLS 1.2/1.3 only on the port (no plain HTTP beside it).\n"
               "  Keys, query strings and bodies never go to the log.\n\n"
               "SIGINT/SIGTERM: stop accepting, finish in-flight requests (--drain-timeout-s), exit 0.\n"
               "SIGHUP: reload every model from disk (a model that fails to load keeps serving) and\n"
               "        re-read --api-key-file (a bad file keeps the previous keys).\n");
}
