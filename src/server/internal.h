/* internal.h — what the server's own files share (http.c: libmicrohttpd
 * glue, routes and responses; sched.c: models, prep pool, batching workers,
 * deadlines, reloads; api.c: the body formats and answers of each API).
 *
 * Ownership of a request (`req`) moves along its phases:
 *   HTTP thread   PH_NEW -> PH_BODY/PH_DISCARD -> admitted, suspended (PH_QUEUED)
 *   prep thread   parse the API's body, decode + preprocess into a pooled buffer
 *   worker        batch, infer, decode boxes, render the answer
 *   any of them   req_finish(): the answer is stored and the connection resumed;
 *                 after that call nobody but the HTTP thread touches the request.
 * A request holds a reference on the model instance it was routed to from
 * its headers until it is freed, so a reload never pulls a model from under
 * a request.
 */
#ifndef DT_SERVER_INTERNAL_H
#define DT_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "server/auth.h"
#include "server/jsonw.h"
#include "server/metrics.h"
#include "server/parse.h"
#include "server/server.h"
#include "server/workq.h"
#include "vision/draw.h"

#define REQ_ID_MAX 64
#define LOG_PATH_MAX 200
#define MODEL_NAME_MAX 63

enum route {
    R_NONE = 0,
    R_PREDICT,        /* the article's POST <entry-point> */
    R_DETECT,         /* POST /v1/detect[?model=] */
    R_HEALTH,         /* GET /health */
    R_LIVE,           /* GET /v2/health/live */
    R_READY,          /* GET /v2/health/ready */
    R_MODELS,         /* GET /v1/models */
    R_INDEX,          /* GET / (the web page) */
    R_METRICS,        /* GET /metrics */
    R_V2_SERVER,      /* GET /v2 */
    R_V2_MODEL,       /* GET /v2/models/{m}[/versions/{v}] */
    R_V2_MODEL_READY, /* GET /v2/models/{m}[/versions/{v}]/ready */
    R_V2_INFER,       /* POST /v2/models/{m}[/versions/{v}]/infer */
    R_V2_INDEX,       /* POST /v2/repository/index */
    R_V2_LOAD,        /* POST /v2/repository/models/{m}/load (= reload) */
    R_V2_UNLOAD,      /* POST /v2/repository/models/{m}/unload (501) */
    R_RELOAD,         /* POST /v1/models/{m}/reload */
    R_DS_DETECT,      /* POST /v1/vision/detection, /v1/vision/custom/{m} */
    R_COUNT
};

enum phase { PH_NEW, PH_BODY, PH_DISCARD, PH_QUEUED, PH_SENT };

/* Which API shapes the answer (errors included). */
enum api { API_ARTICLE, API_DETECT, API_V2, API_DS, API_PLAIN };

typedef struct mslot mslot;
typedef struct minst minst;

/* v2 outputs a request asked for. */
#define V2_OUT_DETECTIONS 1
#define V2_OUT_LABELS 2

typedef struct req {
    dt_job job; /* first: the queues hand back a dt_job* */
    dt_server *srv;
    struct MHD_Connection *conn;
    int route, phase, api;
    char id[REQ_ID_MAX + 1];
    char method[16];
    char path[LOG_PATH_MAX + 1];
    char media[64];       /* request media type, for dispatch and the log */
    char *query;          /* raw query string (after '?'), or NULL */
    int bad_path;         /* the raw path holds an encoded '/' or NUL */
    int deferred;         /* no body: handled on libmicrohttpd's second call */
    int auth_pending;     /* DeepStack route without a key header: api_key form field checked with the body */
    char model_name[MODEL_NAME_MAX + 1]; /* from the path or ?model= ("" = default) */
    char version[16];     /* v2 /versions/{v} */
    double t0;            /* request line seen */
    double t_body;        /* whole body received */
    double t_admit;       /* admitted (queue time starts) */
    /* body */
    int multipart;
    char boundary[DT_MULTIPART_MAX_BOUNDARY + 1];
    unsigned char *body;
    size_t len, cap;
    int64_t content_length; /* -1 = not given (chunked) */
    int64_t reserved;       /* bytes counted in srv->inflight_bytes */
    int64_t received;       /* all body bytes seen, dropped ones included */
    int64_t v2_header_len;  /* Inference-Header-Content-Length, -1 = none */
    dt_code pending_code;   /* DISCARD: the error to answer */
    char pending_msg[DT_STATUS_MSG];
    const unsigned char *img; /* the encoded image inside body (or v2_img) */
    size_t img_len;
    unsigned char *v2_img;    /* a base64-decoded image (owned) */
    /* model */
    mslot *slot;
    minst *inst;              /* referenced; released by req_free */
    int admitted;             /* counted in inst->waiting */
    float *prep;              /* prepared input (inst's pool) */
    dt_prep_info prep_info;
    int raw_tensor;           /* v2 FP32 input: prep holds the model input as sent */
    /* detection parameters */
    double threshold;
    int threshold_ge;         /* keep score >= threshold (DeepStack's min_confidence) */
    dt_detect_params params;
    int render;               /* ?render=jpeg: answer the annotated photo (issue 6) */
    const char *resp_type;    /* Content-Type of resp; NULL = JSON */
    int *classes;
    /* v2 */
    char *v2_id;              /* the request's "id", echoed */
    int v2_outputs;           /* V2_OUT_* wanted */
    int v2_binary;            /* V2_OUT_* to send as binary */
    int v2_order[2], v2_n_out; /* outputs in the order asked for */
    int64_t resp_header_len;  /* >= 0: Inference-Header-Content-Length of resp */
    /* timings for the answers and the metrics */
    double infer_ms, queue_ms;
    /* result, written before the connection is resumed */
    _Atomic int done;
    int status;
    char *resp;
    size_t resp_len;
    const char *allow;        /* Allow header of a 405 */
    struct req *next_waiter;  /* a reload request waiting for its answer */
    /* for the access log */
    int sent_status;
    size_t sent_bytes;
} req;

/* One loaded version of a model: its backend, worker contexts, inference
 * queue and prepared-input buffers. */
struct minst {
    dt_server *srv;
    mslot *slot;
    dt_server_backend be;
    dt_server_model_info info;
    int staged;            /* the backend has the staged (batching) ops */
    int max_batch;         /* effective: min(--max-batch, what the session runs) */
    size_t item_floats;
    void **wctx;
    int n_wctx;
    dt_workq *q;
    int refs;              /* srv->mu: 1 while current in its slot + 1 per request */
    _Atomic int waiting;   /* admitted, not yet taken by a worker */
    int generation;        /* 1 for the first load, +1 per reload */
    double loaded_at;      /* wall clock, seconds */
    pthread_mutex_t pool_mu;
    float **pool;          /* free prepared-input buffers */
    int pool_n, pool_cap;
    minst *next_retired;
    minst *next_all;       /* srv->mu: every live instance, current or retired */
};

/* One named model, stable across reloads: what to load, its current
 * instance, its state and its metrics. */
struct mslot {
    char name[MODEL_NAME_MAX + 1];
    char alias[MODEL_NAME_MAX + 1];  /* also answers to this ("" = none) */
    char path[1024];                 /* the model argument for load/spawn */
    int is_default;
    dt_server_state state;           /* srv->mu; LOADING until the first load ends */
    dt_status load_st;
    minst *cur;                      /* srv->mu */
    int generation;
    int reload_wanted;               /* srv->mu */
    req *waiters;                    /* srv->mu: reload requests to answer */
    /* metrics (kept across reloads) */
    dt_hist queue_h, prep_h, infer_h, batch_h;
    _Atomic uint64_t inferences, executions, reloads_ok, reloads_failed, timeouts, rejected;
};

struct dt_server {
    dt_server_config cfg;
    dt_server_backend proto;  /* the backend given to start: first slot's, and the one spawning others */
    dt_server_backend_ext ext; /* its kind's optional abilities (all NULL if none) */
    int proto_used;           /* proto is slot 0's first instance (freed with it) */
    struct MHD_Daemon *mhd;
    int listen_fd;
    int port;
    /* models */
    mslot *slots;
    int n_slots;
    int def;                  /* index of the default slot */
    dt_workq *prep_q;
    pthread_t manager, timer;
    int manager_started, timer_started;
    int stop_manager, stop_timer; /* mu */
    pthread_cond_t mgr_cv;    /* mu: work for the manager */
    pthread_cond_t timer_cv;  /* mu */
    minst *retired;           /* mu: instances whose last reference is gone */
    minst *all;               /* mu: every live instance */
    char hostname[64];
    int reload_all;           /* mu: SIGHUP */
    pthread_mutex_t mu;       /* guards state, active, load_st, slots' cur/state/refs */
    pthread_cond_t cv;        /* signalled when active drops */
    dt_server_state state;
    int active;               /* requests between request line and completion */
    dt_status load_st;
    _Atomic int stopping;
    dt_font *font;            /* labels of ?render=jpeg images; NULL = boxes only */
    _Atomic int64_t inflight_bytes;
    _Atomic uint64_t id_counter;
    uint64_t id_seed;
    int stopped;
    double started_at;        /* wall clock, seconds */
    /* security */
    int auth_on;              /* --api-key-file given: keys is never NULL */
    pthread_mutex_t keys_mu;  /* guards keys (SIGHUP swaps them) */
    dt_auth_keys *keys;
    _Atomic uint64_t auth_failures;
    char *tls_cert_pem, *tls_key_pem; /* --tls-cert / --tls-key contents (NUL-terminated), NULL = HTTP */
    size_t tls_key_len;
    /* metrics */
    _Atomic uint64_t requests[R_COUNT][6][100]; /* [route][status / 100][status % 100] */
    dt_hist req_h[R_COUNT];
};

/* ---- http.c ---- */
/* Store the answer (body taken; NULL = out of memory) and resume the
 * connection.  The last thing any thread but the HTTP thread does with r. */
void req_finish(req *r, int status, char *body, size_t len);
/* An error answer in the request's API shape. */
void req_finish_error(req *r, dt_code code, const char *msg);
int http_status_for(const req *r, dt_code code);
/* Free the request's copy of the upload (and its share of the in-flight bytes). */
void req_release_body(req *r);
const char *route_name(int route);

/* ---- sched.c ---- */
dt_code sched_init(dt_server *s, dt_status *st);      /* slots (from --model or --model-dir) */
dt_code sched_start(dt_server *s, dt_status *st);     /* prep pool, manager, timer threads */
void sched_stop_queues(dt_server *s);                 /* after the drain: 503 the rest, join */
void sched_stop_threads(dt_server *s);                /* manager and timer */
void sched_free(dt_server *s);
mslot *sched_find(dt_server *s, const char *name);    /* "" = the default; NULL if unknown */
int model_name_ok(const char *name);
/* Take a reference on the slot's current instance (srv->mu held inside);
 * DT_EBUSY when it has none (loading, failed). */
dt_code sched_acquire(dt_server *s, req *r, mslot *m, dt_status *st);
void sched_release(req *r);
/* A reference on the slot's current instance (NULL if none); drop it with sched_unref. */
minst *sched_ref_current(dt_server *s, mslot *m);
void sched_unref(dt_server *s, minst *in);
/* Admit a request whose body is complete and queue it for preparation;
 * DT_EBUSY (queue full / stopping) leaves it to the caller to answer. */
dt_code sched_submit(dt_server *s, req *r, dt_status *st);
/* Undo the admission count of a request answered before a worker took it. */
void sched_unadmit(req *r);
void sched_put_prep(req *r);                          /* give the prepared buffer back */
/* Queue a reload of slot m; `waiter` (may be NULL) is answered when done. */
dt_code sched_reload(dt_server *s, mslot *m, req *waiter, dt_status *st);
int sched_queue_depth(dt_server *s);
dt_server_state slot_state(dt_server *s, mslot *m, dt_status *why);
void metrics_render(dt_server *s, dt_jsonw *w);

/* ---- api.c ---- */
/* On a prep thread: turn the body into r->img (or r->prep for raw v2
 * tensors) and the detection parameters. */
dt_code api_parse(req *r, dt_status *st);
/* On a worker: the success answer for a result. */
char *api_render(req *r, const dt_detect_result *res, size_t *len, int *status, dt_status *st);
/* The error body in the request's API shape. */
char *api_error_body(const req *r, const char *msg, size_t *len);
/* GET answers of the v2 API. */
char *api_v2_server_meta(dt_server *s, size_t *len);
char *api_v2_model_meta(dt_server *s, mslot *m, size_t *len);
char *api_v2_index(dt_server *s, size_t *len);
int api_looks_like_image(const unsigned char *p, size_t n);

#endif
