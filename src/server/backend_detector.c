/* backend_detector.c — the server backend over vision/detector.h: one
 * shared dt_detector, one dt_detect_ctx per worker (warmed up at creation
 * so the first request is not the slow one), and the staged pipeline
 * (prepare on the prep threads; input/run/decode on the worker) so the
 * server can batch.  spawn makes a fresh backend for reloads and for each
 * model of --model-dir. */
#include "server/server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"

typedef struct det_backend {
    dt_server_config cfg; /* cfg.model: what this backend loads */
    dt_detector *det;
    int threads;      /* per context */
    int next_worker;  /* contexts made so far (the loader thread makes them one by one) */
} det_backend;

static dt_code be_load(void *self, dt_status *st)
{
    det_backend *b = self;
    dt_detector_opts o;
    memset(&o, 0, sizeof o);
    o.model = b->cfg.model;
    o.models_dir = b->cfg.models_dir[0] ? b->cfg.models_dir : NULL;
    o.threads = b->threads;
    o.max_batch = b->cfg.max_batch > 0 ? b->cfg.max_batch : 1;
    o.device = b->cfg.device;
    o.max_memory = b->cfg.max_model_memory > 0 ? (size_t)b->cfg.max_model_memory : 0;
    dt_code rc = dt_detector_load(&o, &b->det, st);
    if (rc == DT_OK && dt_detector_device_note(b->det)[0])
        dt_server_log("warn", "GPU requested (--device %s / MODEL_CONTEXT_GPU) but %s: running on the CPU",
                      b->cfg.device, dt_detector_device_note(b->det));
    return rc;
}

static void be_info(void *self, dt_server_model_info *out)
{
    det_backend *b = self;
    memset(out, 0, sizeof *out);
    out->name = dt_detector_name(b->det);
    dt_detector_input_size(b->det, &out->input_w, &out->input_h);
    out->num_classes = dt_detector_num_classes(b->det);
}

static const char *be_label(void *self, int class_id) { return dt_detector_label(((det_backend *)self)->det, class_id); }

static int be_class_id(void *self, const char *label) { return dt_detector_class_id(((det_backend *)self)->det, label); }

static dt_code be_worker_create(void *self, void **wctx, dt_status *st)
{
    det_backend *b = self;
    dt_detect_ctx *c = NULL;
    *wctx = NULL;
    dt_code rc = dt_detect_ctx_create_ex(b->det, b->next_worker++, &c, st);
    if (rc != DT_OK)
        return rc;
    /* Warm-up: one run on a blank input touches the arena, packs lazily
     * prepared weights and spins up the thread pool. */
    float *in = dt_detect_ctx_input(c, 1);
    if (in)
        memset(in, 0, dt_detector_item_floats(b->det) * sizeof *in);
    rc = dt_detect_ctx_run(c, 1, st);
    /* Every batch size has its own plan: touch the largest too. */
    int mb = dt_detect_ctx_max_batch(c);
    if (rc == DT_OK && mb > 1) {
        in = dt_detect_ctx_input(c, mb);
        if (in)
            memset(in, 0, (size_t)mb * dt_detector_item_floats(b->det) * sizeof *in);
        rc = dt_detect_ctx_run(c, mb, st);
    }
    if (rc != DT_OK) {
        dt_detect_ctx_free(c);
        return dt_wrap(st, "warm-up");
    }
    *wctx = c;
    return DT_OK;
}

static void be_worker_free(void *self, void *wctx)
{
    (void)self;
    dt_detect_ctx_free(wctx);
}

static dt_code be_detect(void *self, void *wctx, const void *bytes, size_t len, const dt_image_limits *lim,
                         const dt_detect_params *p, dt_detect_result *out, dt_status *st)
{
    (void)self;
    return dt_detect_bytes(wctx, bytes, len, lim, p, out, st);
}

static size_t be_item_floats(void *self) { return dt_detector_item_floats(((det_backend *)self)->det); }

static dt_code be_prepare(void *self, const void *bytes, size_t len, const dt_image_limits *lim, float *dst,
                          dt_prep_info *info, dt_status *st)
{
    return dt_detector_prepare(((det_backend *)self)->det, bytes, len, lim, dst, info, st);
}

static const char *be_device(void *self, void *wctx)
{
    (void)self;
    return dt_detect_ctx_device(wctx);
}

static int be_max_batch(void *self, void *wctx)
{
    (void)self;
    return dt_detect_ctx_max_batch(wctx);
}

static float *be_input(void *self, void *wctx, int batch)
{
    (void)self;
    return dt_detect_ctx_input(wctx, batch);
}

static dt_code be_run(void *self, void *wctx, int batch, dt_status *st)
{
    (void)self;
    return dt_detect_ctx_run(wctx, batch, st);
}

static dt_code be_decode(void *self, void *wctx, int i, const dt_prep_info *info, const dt_detect_params *p,
                         dt_detect_result *out, dt_status *st)
{
    (void)self;
    return dt_detect_ctx_decode(wctx, i, info, p, out, st);
}

static dt_code be_spawn(void *self, const char *model, void **out, dt_status *st);

static void be_destroy(void *self)
{
    det_backend *b = self;
    if (!b)
        return;
    dt_detector_free(b->det);
    dt_free(b);
}

static const dt_server_backend_ops g_ops = {
    .load = be_load,
    .info = be_info,
    .label = be_label,
    .class_id = be_class_id,
    .worker_create = be_worker_create,
    .worker_free = be_worker_free,
    .detect = be_detect,
    .destroy = be_destroy,
};

static const dt_server_backend_ext g_ext = {
    .spawn = be_spawn,
    .item_floats = be_item_floats,
    .prepare = be_prepare,
    .max_batch = be_max_batch,
    .input = be_input,
    .run = be_run,
    .decode = be_decode,
    .device = be_device,
};

const dt_server_backend_ext *dt_server_backend_detector_ext(void) { return &g_ext; }

static dt_code be_spawn(void *self, const char *model, void **out, dt_status *st)
{
    det_backend *b = self;
    *out = NULL;
    det_backend *n = dt_calloc(1, sizeof *n);
    if (!n)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    n->cfg = b->cfg;
    n->threads = b->threads;
    if (model)
        snprintf(n->cfg.model, sizeof n->cfg.model, "%s", model);
    *out = n;
    return DT_OK;
}

dt_code dt_server_backend_detector(const dt_server_config *cfg, dt_server_backend *out, dt_status *st)
{
    det_backend *b = dt_calloc(1, sizeof *b);
    if (!b)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    b->cfg = *cfg;
    b->threads = cfg->threads;
    if (b->threads <= 0) { /* share the cores between the workers */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        int workers = cfg->workers > 0 ? cfg->workers : 1;
        b->threads = n > workers ? (int)(n / workers) : 1;
    }
    out->ops = &g_ops;
    out->self = b;
    return DT_OK;
}
