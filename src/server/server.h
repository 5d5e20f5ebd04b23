/* server.h — detectd's HTTP server: configuration, the model backend it
 * drives, and its lifecycle.
 *
 * Request path (see internal.h for the details):
 *   HTTP threads (libmicrohttpd, poll() thread pool) read the headers,
 *   route, check method/type/size/readiness, take a reference on the
 *   model's current instance, buffer the body (bounded) and admit the
 *   request: more than --queue-size admitted requests waiting for a model
 *   answers 503 + Retry-After at once.  The connection is suspended.
 *   Prep threads (--prep-threads) parse the API's body (multipart, KServe
 *   v2 JSON / binary tensors), decode and preprocess the image into a
 *   float buffer.
 *   Inference workers (--workers per model, --threads-per-worker engine
 *   threads each) take up to --max-batch prepared requests at once
 *   (waiting up to --batch-timeout-us for more), run the model once,
 *   decode each item's boxes, render each answer and resume its
 *   connection.  A request still waiting at its deadline
 *   (--request-timeout-ms) is answered 504.
 *
 * Lifecycle: dt_server_start binds and answers HTTP at once (readiness
 * 503), loads and warms every model on a manager thread, then turns ready.
 * Reloads (dt_server_reload, SIGHUP, POST /v1/models/{name}/reload) load
 * a new instance aside, swap it in atomically and free the old one when
 * its last request is done; a failed load keeps the old one.
 * dt_server_stop stops accepting, lets in-flight requests finish (up to
 * --drain-timeout-s), answers what is still queued with 503 and joins
 * every thread.
 */
#ifndef DT_SERVER_H
#define DT_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "vision/detector.h"

/* ---- configuration ----------------------------------------------------------- */

typedef struct dt_server_config {
    char host[256];          /* bind address (numeric or name) */
    int port;                /* 0 = any free port (dt_server_port tells) */
    char entry_point[256];   /* the article's POST route, default /predict */
    double threshold;        /* keep objects with score > threshold (PROBABILITY_MORE) */
    char model[1024];        /* built-in name or path (MODEL_PREFIX) */
    char models_dir[1024];   /* "" = the detector's default */
    int model_edge;          /* MODEL_EDGE: accepted, informational only */
    char device[16];         /* "cpu", "cuda" (workers spread over the GPUs) or "cuda:N" */
    int64_t max_body_bytes;  /* request body limit -> 413 */
    int64_t max_pixels;      /* decoded image limit (width*height) -> 413 */
    int64_t max_inflight_bytes; /* all buffered bodies together -> 503 */
    int max_connections;
    int timeout_s;           /* idle connection timeout; also the shutdown drain deadline */
    int workers;             /* inference workers, one backend context each */
    int threads;             /* engine threads per worker; 0 = cores / workers */
    int http_threads;        /* libmicrohttpd polling threads */
    int queue_size;          /* jobs waiting for a worker; more -> 503 */
    int max_batch;           /* dynamic batching: most requests per model run (1 = off) */
    /* Notes for the log (set by the env/flag parsers). */
    int gpu_requested;       /* MODEL_CONTEXT_GPU=true or --device cuda */
    int model_epoch_set;     /* MODEL_EPOCH given (MXNet checkpoints only; ignored) */
    /* Production serving (issue 5). */
    int batch_timeout_us;    /* wait this long for a batch to fill (0 = take what is queued) */
    int prep_threads;        /* decode + preprocess threads, shared by all models */
    int request_timeout_ms;  /* deadline from the request line to inference start -> 504 (0 = none) */
    int drain_timeout_s;     /* shutdown: how long in-flight requests may take */
    char model_dir[1024];    /* serve every *.detectd.json here, by name ("" = just --model) */
    int access_log;          /* one logfmt line per request on stderr */
    int read_timeout_s;      /* a request body must arrive within this (0 = no limit) */
    int64_t max_model_memory; /* per worker: engine session memory limit; a model over it fails to load */
    /* Security (issue 9). */
    char api_key_file[1024]; /* "" = no keys: every route open */
    char tls_cert[1024];     /* PEM certificate (chain); with tls_key: HTTPS only */
    char tls_key[1024];      /* PEM private key */
} dt_server_config;

void dt_server_config_defaults(dt_server_config *c);

/* Apply environment variables from `envp` ("NAME=value" strings, NULL
 * terminated; pass `environ`): first the article's REST_HOST, REST_PORT,
 * REST_ENTRY_POINT, PROBABILITY_MORE, MODEL_PREFIX, MODEL_EDGE,
 * MODEL_CONTEXT_GPU, MODEL_EPOCH, then DETECTD_<FLAG> for every flag
 * (which win over the article's).  Empty values count as unset.
 * DT_EINVAL names the variable on a bad value. */
dt_code dt_server_config_env(dt_server_config *c, char *const *envp, dt_status *st);

/* Apply command-line flags (argv[0] is the command name and is skipped);
 * "--flag value" and "--flag=value".  Sets *help and returns DT_OK on
 * -h/--help.  DT_EINVAL on an unknown flag, a missing or bad value. */
dt_code dt_server_config_args(dt_server_config *c, int argc, char **argv, int *help, dt_status *st);

/* Cross-field checks after everything is applied. */
dt_code dt_server_config_check(const dt_server_config *c, dt_status *st);

/* The --help text: every flag with its environment variables and default. */
void dt_server_config_usage(FILE *f);

/* ---- the model behind the server ---------------------------------------------- */

typedef struct dt_server_model_info {
    const char *name;      /* owned by the backend */
    int input_w, input_h;
    int num_classes;
} dt_server_model_info;

/* A vtable so the HTTP layer can be tested without a model (tests plug a
 * fake).  `self` is the backend's own state.  load runs once on the
 * manager thread; worker_create runs on the manager thread and must leave
 * the context warmed up; detect runs on one worker thread per context;
 * info/label/class_id are called from any thread after load succeeded. */
typedef struct dt_server_backend_ops {
    dt_code (*load)(void *self, dt_status *st);
    void (*info)(void *self, dt_server_model_info *out);
    const char *(*label)(void *self, int class_id);
    int (*class_id)(void *self, const char *label);
    dt_code (*worker_create)(void *self, void **wctx, dt_status *st);
    void (*worker_free)(void *self, void *wctx);
    dt_code (*detect)(void *self, void *wctx, const void *bytes, size_t len, const dt_image_limits *lim,
                      const dt_detect_params *p, dt_detect_result *out, dt_status *st);
    void (*destroy)(void *self);
} dt_server_backend_ops;

typedef struct dt_server_backend {
    const dt_server_backend_ops *ops;
    void *self;
} dt_server_backend;

/* Optional abilities of a backend kind (dt_server_start_ex); every member
 * may be NULL:
 *   spawn        a new, unloaded backend of the same kind for `model`
 *                (NULL = the same model again): reloads and --model-dir
 *                need it.
 *   item_floats, prepare, max_batch, input, run, decode: the staged
 *                pipeline (all six or none).  prepare is thread-safe and
 *                runs on the prep threads; the rest run on the worker that
 *                owns wctx.  With them the server batches requests and
 *                keeps decoding off the inference workers; without them
 *                it calls ops->detect, one request at a time. */
typedef struct dt_server_backend_ext {
    dt_code (*spawn)(void *self, const char *model, void **out, dt_status *st);
    size_t (*item_floats)(void *self);
    dt_code (*prepare)(void *self, const void *bytes, size_t len, const dt_image_limits *lim, float *dst,
                       dt_prep_info *info, dt_status *st);
    int (*max_batch)(void *self, void *wctx);
    float *(*input)(void *self, void *wctx, int batch);
    dt_code (*run)(void *self, void *wctx, int batch, dt_status *st);
    dt_code (*decode)(void *self, void *wctx, int i, const dt_prep_info *info, const dt_detect_params *p,
                      dt_detect_result *out, dt_status *st);
    /* "cpu" or "cuda:N": where a worker context runs (NULL op = "cpu"). */
    const char *(*device)(void *self, void *wctx);
} dt_server_backend_ext;

/* The real backend: vision/detector.h over cfg's model, models_dir,
 * threads and max_batch (the config is copied). */
dt_code dt_server_backend_detector(const dt_server_config *cfg, dt_server_backend *out, dt_status *st);
/* Its optional abilities: spawn and the staged (batching) pipeline. */
const dt_server_backend_ext *dt_server_backend_detector_ext(void);

/* ---- lifecycle ------------------------------------------------------------------ */

typedef struct dt_server dt_server;

typedef enum dt_server_state {
    DT_SERVER_LOADING = 0,
    DT_SERVER_READY,
    DT_SERVER_FAILED,
    DT_SERVER_STOPPING,
} dt_server_state;

/* Bind, start the HTTP threads and the model loader thread.  The server
 * takes the backend in every case (destroyed by dt_server_free, or here on
 * failure).  The config is copied. */
dt_code dt_server_start(const dt_server_config *cfg, dt_server_backend be, dt_server **out, dt_status *st);
/* The same with the backend kind's optional abilities (ext may be NULL;
 * kept by pointer: static storage). */
dt_code dt_server_start_ex(const dt_server_config *cfg, dt_server_backend be, const dt_server_backend_ext *ext,
                           dt_server **out, dt_status *st);

/* The bound TCP port (the real one when cfg->port was 0). */
int dt_server_port(const dt_server *s);

/* Current state; on DT_SERVER_FAILED `why` (may be NULL) gets the load error. */
dt_server_state dt_server_state_get(dt_server *s, dt_status *why);

/* Requests admitted and not yet taken by an inference worker (all models). */
int dt_server_queue_depth(dt_server *s);

/* Reload model `name` (NULL = every model) from disk in the background:
 * loaded aside, swapped in when warm, the old one freed when its last
 * request is done; a failed load keeps the old one (and is logged).
 * DT_ENOTFOUND for an unknown name, DT_EUNSUPPORTED when the backend
 * cannot reload. */
dt_code dt_server_reload(dt_server *s, const char *name, dt_status *st);

/* Stop accepting, finish in-flight requests (up to drain_timeout_s),
 * answer what is still queued with 503, stop the workers and the HTTP
 * threads.  Idempotent; call from one thread. */
void dt_server_stop(dt_server *s);

/* Read --api-key-file again (SIGHUP): the new keys replace the old ones
 * at once; on an error the old keys stay (and st says why).  DT_OK and
 * nothing done when the server has no key file. */
dt_code dt_server_reload_keys(dt_server *s, dt_status *st);

/* Stop if needed and release everything, the backend included. */
void dt_server_free(dt_server *s);

/* ---- logging ---------------------------------------------------------------------- */

/* One logfmt line on stderr: ts=<RFC 3339 UTC> level=<level> msg="<text>". */
void dt_server_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
