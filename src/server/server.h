/* server.h — detectd's HTTP server: configuration, the model backend it
 * drives, and its lifecycle.
 *
 * Request path:  HTTP thread (libmicrohttpd, poll() thread pool) reads the
 * headers, checks route/method/type/size, buffers the body (bounded),
 * then posts a job to a bounded queue and suspends the connection; a
 * worker thread (one backend context each) decodes and detects, renders
 * the JSON answer and resumes the connection; the HTTP thread sends it.
 * HTTP threads never decode or infer, so a slow client or a slow image
 * never blocks anybody else.  A full queue answers 503 + Retry-After.
 *
 * Lifecycle: dt_server_start binds and answers HTTP at once (readiness
 * 503), loads and warms the model on a background thread, then turns
 * ready.  dt_server_stop stops accepting, lets in-flight requests finish
 * (up to timeout_s) and joins every thread.
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
    char device[16];         /* "cpu" or "cuda" */
    int64_t max_body_bytes;  /* request body limit -> 413 */
    int64_t max_pixels;      /* decoded image limit (width*height) -> 413 */
    int64_t max_inflight_bytes; /* all buffered bodies together -> 503 */
    int max_connections;
    int timeout_s;           /* idle connection timeout; also the shutdown drain deadline */
    int workers;             /* inference workers, one backend context each */
    int threads;             /* engine threads per worker; 0 = cores / workers */
    int http_threads;        /* libmicrohttpd polling threads */
    int queue_size;          /* jobs waiting for a worker; more -> 503 */
    int max_batch;           /* reserved for batching (issue #5); 1 today */
    /* Notes for the log (set by the env/flag parsers). */
    int gpu_requested;       /* MODEL_CONTEXT_GPU=true or --device cuda */
    int model_epoch_set;     /* MODEL_EPOCH given (MXNet checkpoints only; ignored) */
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
 * fake) and so batching backends can come later.  `self` is the backend's
 * own state.  load runs once on the loader thread; worker_create runs on
 * the loader thread and must leave the context warmed up; detect runs on
 * one worker thread per context; info/label/class_id are called from any
 * thread after load succeeded. */
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

/* The real backend: vision/detector.h over cfg's model, models_dir,
 * threads and max_batch (the config is copied). */
dt_code dt_server_backend_detector(const dt_server_config *cfg, dt_server_backend *out, dt_status *st);

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

/* The bound TCP port (the real one when cfg->port was 0). */
int dt_server_port(const dt_server *s);

/* Current state; on DT_SERVER_FAILED `why` (may be NULL) gets the load error. */
dt_server_state dt_server_state_get(dt_server *s, dt_status *why);

/* Requests waiting for a worker now (for tests and, later, metrics). */
int dt_server_queue_depth(dt_server *s);

/* Stop accepting, finish in-flight requests (up to timeout_s), stop the
 * workers and the HTTP threads.  Idempotent; call from one thread. */
void dt_server_stop(dt_server *s);

/* Stop if needed and release everything, the backend included. */
void dt_server_free(dt_server *s);

/* ---- logging ---------------------------------------------------------------------- */

/* One logfmt line on stderr: ts=<RFC 3339 UTC> level=<level> msg="<text>". */
void dt_server_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
