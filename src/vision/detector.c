/* detector.c — manifest + model -> dt_detector; per-thread contexts that run
 * decode -> preprocess -> engine -> decoder -> NMS (see detector.h). */
#include "vision/detector.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "engine/cuda/cuda.h"
#include "engine/engine.h"
#include "vision/decode.h"
#include "vision/image.h"
#include "vision/manifest.h"
#include "vision/preprocess.h"

#define DEFAULT_MODEL "nanodet"
#define MANIFEST_SUFFIX ".detectd.json"

struct dt_detector {
    dt_manifest m;
    dt_model *model;
    int threads, max_batch;
    char device[16];      /* as asked: "cpu", "cuda" or "cuda:N" */
    char device_note[DT_STATUS_MSG]; /* why a GPU asked for is not used */
    size_t max_memory;
    int in_w, in_h;
    int shape_override;  /* model input has symbolic spatial dims: pass input_shapes */
    dt_tensor in_shape;  /* [1, 3, H, W] or [1, H, W, 3] */
};

struct dt_detect_ctx {
    const dt_detector *d;
    dt_session *s;
    dt_tensor *outs;
    int n_outs;
    dt_det_buf cands;
    dt_nms_scratch nms;
    double run_ms;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}
static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}
static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* ---- model resolution ----------------------------------------------------------- */

/* Where built-in names are looked up: the explicit directory, else
 * $DETECTD_MODELS_DIR, else ./models and the places `make install` and the
 * build tree put them relative to the executable. */
static int search_dirs(const dt_detector_opts *o, char dirs[][PATH_MAX], int max)
{
    int n = 0;
    const char *env = getenv("DETECTD_MODELS_DIR");
    if (o->models_dir && o->models_dir[0]) {
        snprintf(dirs[n++], PATH_MAX, "%s", o->models_dir);
        return n;
    }
    if (env && env[0]) {
        snprintf(dirs[n++], PATH_MAX, "%s", env);
        return n;
    }
    snprintf(dirs[n++], PATH_MAX, "models");
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if (n < max)
                snprintf(dirs[n++], PATH_MAX, "%.*s/../models", PATH_MAX - 16, exe);
            if (n < max)
                snprintf(dirs[n++], PATH_MAX, "%.*s/../share/detectd/models", PATH_MAX - 32, exe);
        }
    }
    return n;
}

static dt_code resolve_manifest(const dt_detector_opts *o, dt_manifest *m, dt_status *st)
{
    const char *model = o->model && o->model[0] ? o->model : DEFAULT_MODEL;
    char path[PATH_MAX];

    if (ends_with(model, MANIFEST_SUFFIX))
        return dt_manifest_load(model, o->preset, m, st);

    /* A bare name: a built-in model's manifest in the models directory. */
    if (!strchr(model, '/') && !ends_with(model, ".onnx") && !ends_with(model, ".json") && !is_file(model)) {
        char dirs[4][PATH_MAX];
        int nd = search_dirs(o, dirs, 4);
        for (int i = 0; i < nd; i++) {
            snprintf(path, sizeof path, "%.*s/%.64s%s", PATH_MAX - 96, dirs[i], model, MANIFEST_SUFFIX);
            if (is_file(path))
                return dt_manifest_load(path, o->preset, m, st);
        }
        if (!is_dir(model))
            return dt_fail(st, DT_ENOTFOUND, "model \"%s\": no %s%s in %s%s", model, model, MANIFEST_SUFFIX, dirs[0],
                           nd > 1 ? " (nor the other model directories)" : "");
    }

    if (is_dir(model)) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", model);
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
            dir[--n] = '\0';
        const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        snprintf(path, sizeof path, "%.*s/%.255s%s", PATH_MAX - 300, dir, base, MANIFEST_SUFFIX);
        if (is_file(path))
            return dt_manifest_load(path, o->preset, m, st);
        snprintf(path, sizeof path, "%.*s%s", PATH_MAX - 32, dir, MANIFEST_SUFFIX);
        if (is_file(path))
            return dt_manifest_load(path, o->preset, m, st);
        return dt_fail(st, DT_ENOTFOUND, "model directory %s: no %s%s inside or beside it", model, base,
                       MANIFEST_SUFFIX);
    }
    if (!is_file(model))
        return dt_fail(st, DT_ENOTFOUND, "model %s: no such file", model);
    return dt_manifest_from_graph(model, o->preset, m, st);
}

/* ---- load ------------------------------------------------------------------------ */

/* Match the preset to the model's single image input: layout and size come
 * from the model where it fixes them. */
static dt_code bind_input(dt_detector *d, dt_status *st)
{
    dt_manifest *m = &d->m;
    char sh[96];
    if (dt_model_num_inputs(d->model) != 1)
        return dt_fail(st, DT_EUNSUPPORTED, "model %s has %d inputs; detection models take one image",
                       m->graph, dt_model_num_inputs(d->model));
    dt_io_info in = dt_model_input(d->model, 0);
    const char *shs = dt_shape_str(in.ndim, in.dims, sh, sizeof sh);
    if (in.ndim != 4)
        return dt_fail(st, DT_EUNSUPPORTED, "model input %s is %s, expected a 4-D image tensor", in.name, shs);
    if (in.dtype != DT_F32)
        return dt_fail(st, DT_EUNSUPPORTED, "model input %s is %s, expected float32", in.name,
                       dt_dtype_name(in.dtype));
    int c1 = in.dims[1] == 3, c3 = in.dims[3] == 3;
    if (m->layout_set) {
        if ((m->pre.nhwc && in.dims[3] != 3 && in.dims[3] != -1) || (!m->pre.nhwc && in.dims[1] != 3 && in.dims[1] != -1))
            return dt_fail(st, DT_ESHAPE, "manifest layout %s does not fit model input %s",
                           m->pre.nhwc ? "nhwc" : "nchw", shs);
    } else if (c1 != c3) {
        m->pre.nhwc = c3;
    }
    int64_t H = m->pre.nhwc ? in.dims[1] : in.dims[2];
    int64_t W = m->pre.nhwc ? in.dims[2] : in.dims[3];
    if (H > 0 && W > 0) {
        if (m->size_set && (H != m->pre.height || W != m->pre.width))
            return dt_fail(st, DT_ESHAPE, "manifest input size %dx%d does not fit model input %s", m->pre.width,
                           m->pre.height, shs);
        if (H > 8192 || W > 8192)
            return dt_fail(st, DT_EUNSUPPORTED, "model input %s is too large", shs);
        m->pre.width = (int)W;
        m->pre.height = (int)H;
    } else {
        if (m->pre.width <= 0 || m->pre.height <= 0)
            return dt_fail(st, DT_EINVAL, "model input %s has no fixed size: give preprocess width/height", shs);
        d->shape_override = 1;
    }
    d->in_w = m->pre.width;
    d->in_h = m->pre.height;
    d->in_shape.dtype = DT_F32;
    d->in_shape.ndim = 4;
    d->in_shape.dims[0] = 1;
    d->in_shape.dims[1] = m->pre.nhwc ? d->in_h : 3;
    d->in_shape.dims[2] = m->pre.nhwc ? d->in_w : d->in_h;
    d->in_shape.dims[3] = m->pre.nhwc ? 3 : d->in_w;
    m->dec.input_w = d->in_w;
    m->dec.input_h = d->in_h;
    if (m->dec.num_classes <= 0)
        m->dec.num_classes = m->n_labels;
    return DT_OK;
}

dt_code dt_detector_load(const dt_detector_opts *opts, dt_detector **out, dt_status *st)
{
    *out = NULL;
    dt_detector_opts def = {0};
    if (!opts)
        opts = &def;
    dt_detector *d = dt_calloc(1, sizeof *d);
    if (!d)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    d->threads = opts->threads > 0 ? opts->threads : 1;
    d->max_batch = opts->max_batch > 0 ? opts->max_batch : 1;
    {
        char resolved[16];
        dt_code drc = dt_cuda_resolve_device(opts->device, 0, resolved, sizeof resolved, d->device_note,
                                             sizeof d->device_note, st);
        if (drc != DT_OK) {
            dt_free(d);
            return drc;
        }
        snprintf(d->device, sizeof d->device, "%s", opts->device && *opts->device ? opts->device : "cpu");
    }
    d->max_memory = opts->max_memory;
    dt_code rc = resolve_manifest(opts, &d->m, st);
    if (rc != DT_OK) {
        dt_free(d);
        return rc;
    }
    rc = dt_model_load(d->m.graph, d->m.format, &d->model, st);
    if (rc != DT_OK) {
        if (rc == DT_ENOTFOUND)
            dt_wrap(st, "model %s (built-in models are fetched by `make models`)", d->m.name);
        else
            dt_wrap(st, "model %s", d->m.name);
        dt_detector_free(d);
        return rc;
    }
    rc = bind_input(d, st);
    if (rc != DT_OK) {
        dt_wrap(st, "model %s", d->m.name);
        dt_detector_free(d);
        return rc;
    }
    *out = d;
    return DT_OK;
}

void dt_detector_free(dt_detector *d)
{
    if (!d)
        return;
    dt_model_free(d->model);
    dt_manifest_free(&d->m);
    dt_free(d);
}

const char *dt_detector_name(const dt_detector *d) { return d->m.name; }
float dt_detector_default_threshold(const dt_detector *d) { return d->m.threshold; }
int dt_detector_num_classes(const dt_detector *d) { return d->m.n_labels; }
const char *dt_detector_label(const dt_detector *d, int class_id) { return dt_manifest_label(&d->m, class_id); }

int dt_detector_class_id(const dt_detector *d, const char *label)
{
    if (!label)
        return -1;
    for (int i = 0; i < d->m.n_labels; i++)
        if (!strcmp(dt_manifest_label(&d->m, i), label))
            return i;
    return -1;
}

int dt_detector_input_size(const dt_detector *d, int *w, int *h)
{
    if (w)
        *w = d->in_w;
    if (h)
        *h = d->in_h;
    return 0;
}

size_t dt_detector_item_floats(const dt_detector *d) { return (size_t)d->in_w * (size_t)d->in_h * 3; }

/* ---- extensions (additive to the original contract) ------------------------------ */

const char *dt_detector_preset(const dt_detector *d) { return d->m.preset ? d->m.preset : ""; }
const char *dt_detector_graph_path(const dt_detector *d) { return d->m.graph; }
float dt_detector_default_nms_iou(const dt_detector *d) { return d->m.nms_iou; }
int dt_detector_default_max_detections(const dt_detector *d) { return d->m.max_detections; }

/* ---- stages ---------------------------------------------------------------------- */

dt_code dt_detector_prepare(const dt_detector *d, const void *bytes, size_t len, const dt_image_limits *lim,
                            float *dst, dt_prep_info *info, dt_status *st)
{
    memset(info, 0, sizeof *info);
    double t0 = now_ms();
    dt_image img;
    dt_image_info ii;
    dt_image_hint hint = dt_preprocess_hint(&d->m.pre);
    dt_code rc = dt_image_decode(bytes, len, lim, &hint, &img, &ii, st);
    if (rc != DT_OK)
        return rc;
    double t1 = now_ms();
    dt_prep_geom g;
    rc = dt_preprocess_run(&d->m.pre, &img, dst, &g, st);
    dt_image_release(&img);
    if (rc != DT_OK)
        return rc;
    /* Compose original -> decoded (DCT scale, orientation) -> model input. */
    info->width = ii.width;
    info->height = ii.height;
    info->scale_x = g.scale_x * ii.scale_x;
    info->scale_y = g.scale_y * ii.scale_y;
    info->offset_x = g.scale_x * ii.offset_x + g.offset_x;
    info->offset_y = g.scale_y * ii.offset_y + g.offset_y;
    info->decode_ms = t1 - t0;
    info->preprocess_ms = now_ms() - t1;
    return DT_OK;
}

const char *dt_detector_device_note(const dt_detector *d) { return d->device_note; }

const char *dt_detect_ctx_device(const dt_detect_ctx *c) { return dt_session_device(c->s); }

dt_code dt_detect_ctx_create(const dt_detector *d, dt_detect_ctx **out, dt_status *st)
{
    return dt_detect_ctx_create_ex(d, 0, out, st);
}

dt_code dt_detect_ctx_create_ex(const dt_detector *d, int worker, dt_detect_ctx **out, dt_status *st)
{
    *out = NULL;
    char device[16];
    dt_code drc = dt_cuda_resolve_device(d->device, worker, device, sizeof device, NULL, 0, st);
    if (drc != DT_OK)
        return drc;
    dt_detect_ctx *c = dt_calloc(1, sizeof *c);
    if (!c)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    c->d = d;
    dt_session_opts so = {0};
    so.threads = d->threads;
    so.max_batch = d->max_batch;
    so.device = device;
    so.max_memory = d->max_memory;
    if (d->shape_override) {
        so.n_input_shapes = 1;
        so.input_shapes = &d->in_shape;
    }
    dt_code rc = dt_session_create(d->model, &so, &c->s, st);
    if (rc != DT_OK) {
        dt_wrap(st, "model %s", d->m.name);
        dt_free(c);
        return rc;
    }
    c->n_outs = dt_session_num_outputs(c->s);
    c->outs = dt_calloc(c->n_outs > 0 ? (size_t)c->n_outs : 1, sizeof *c->outs);
    if (!c->outs) {
        dt_detect_ctx_free(c);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    if (!dt_session_input_buffer(c->s, 1, 0)) {
        dt_detect_ctx_free(c);
        return dt_fail(st, DT_EINTERNAL, "model %s: no input buffer", d->m.name);
    }
    *out = c;
    return DT_OK;
}

void dt_detect_ctx_free(dt_detect_ctx *c)
{
    if (!c)
        return;
    dt_session_free(c->s);
    dt_free(c->outs);
    dt_det_buf_free(&c->cands);
    dt_nms_scratch_free(&c->nms);
    dt_free(c);
}

/* Largest batch the context's session runs (extension). */
int dt_detect_ctx_max_batch(const dt_detect_ctx *c) { return dt_session_max_batch(c->s); }

float *dt_detect_ctx_input(dt_detect_ctx *c, int batch) { return dt_session_input_buffer(c->s, batch, 0); }

dt_code dt_detect_ctx_run(dt_detect_ctx *c, int batch, dt_status *st)
{
    double t0 = now_ms();
    dt_code rc = dt_session_run(c->s, batch, NULL, st);
    c->run_ms = now_ms() - t0;
    if (rc != DT_OK)
        return dt_wrap(st, "model %s", c->d->m.name);
    return DT_OK;
}

dt_code dt_detect_ctx_decode(dt_detect_ctx *c, int i, const dt_prep_info *info, const dt_detect_params *p,
                             dt_detect_result *out, dt_status *st)
{
    double t0 = now_ms();
    const dt_detector *d = c->d;
    memset(out, 0, sizeof *out);
    float thr = p && p->threshold >= 0.f ? p->threshold : d->m.threshold;
    float iou = p && p->nms_iou > 0.f ? p->nms_iou : d->m.nms_iou;
    int max_det = p && p->max_detections > 0 ? p->max_detections : d->m.max_detections;
    for (int k = 0; k < c->n_outs; k++) {
        const dt_tensor *t = dt_session_output(c->s, k);
        if (!t)
            return dt_fail(st, DT_EINTERNAL, "model %s: output %d missing", d->m.name, k);
        c->outs[k] = *t;
    }
    int n = 0;
    dt_code rc = dt_decode_detections(&d->m.dec, c->outs, c->n_outs, i, info, thr, iou, max_det,
                                      p ? p->classes : NULL, p ? p->n_classes : 0, &c->cands, &c->nms, &n, st);
    if (rc != DT_OK)
        return dt_wrap(st, "model %s", d->m.name);
    out->width = info->width;
    out->height = info->height;
    out->n = n;
    out->dets = c->cands.d;
    out->timing.decode_ms = info->decode_ms;
    out->timing.preprocess_ms = info->preprocess_ms;
    out->timing.inference_ms = c->run_ms;
    out->timing.postprocess_ms = now_ms() - t0;
    return DT_OK;
}

dt_code dt_detect_bytes(dt_detect_ctx *c, const void *bytes, size_t len, const dt_image_limits *lim,
                        const dt_detect_params *p, dt_detect_result *out, dt_status *st)
{
    memset(out, 0, sizeof *out);
    float *in = dt_detect_ctx_input(c, 1);
    if (!in)
        return dt_fail(st, DT_EINTERNAL, "no input buffer");
    dt_prep_info info;
    dt_code rc = dt_detector_prepare(c->d, bytes, len, lim, in, &info, st);
    if (rc != DT_OK)
        return rc;
    if ((rc = dt_detect_ctx_run(c, 1, st)) != DT_OK)
        return rc;
    return dt_detect_ctx_decode(c, 0, &info, p, out, st);
}
