/* detector.h — the detection pipeline: bytes -> image -> tensor -> engine ->
 * raw outputs -> decoder -> boxes.  This is the contract between vision/
 * and its users (cli detect, server).
 *
 * A dt_detector is a loaded model plus its manifest (labels, preprocessing
 * preset, decoder, default threshold).  It is immutable after load and may
 * be shared by many threads.  A dt_detect_ctx is one worker's state (engine
 * session, image/tensor buffers); use it from one thread at a time.
 *
 * The stages are exposed separately so the server can decode/preprocess on
 * HTTP threads and batch inference on worker threads; dt_detect_bytes runs
 * them all.
 */
#ifndef DT_DETECTOR_H
#define DT_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "engine/tensor.h"

typedef struct dt_detector dt_detector;
typedef struct dt_detect_ctx dt_detect_ctx;

typedef struct dt_detection {
    int class_id;
    float score;
    float x1, y1, x2, y2; /* original-image pixels, clipped to the image */
} dt_detection;

typedef struct dt_image_limits {
    int64_t max_pixels; /* width*height limit checked from the header, before allocating (0 = default 50e6) */
    int max_side;       /* 0 = default 32768 */
} dt_image_limits;

typedef struct dt_detector_opts {
    const char *model;      /* built-in name ("nanodet", "centernet", ...) or a path to a graph file,
                             * a manifest (.detectd.json) or a model directory; NULL = "nanodet" */
    const char *preset;     /* override / supply the preset for a bare graph file */
    const char *models_dir; /* where built-in names are looked up; NULL = $DETECTD_MODELS_DIR or ./models */
    int threads;            /* per context (engine session threads); 0 = 1 */
    int max_batch;          /* 0 = 1 */
    const char *device;     /* "cpu" (NULL), "cuda" (contexts spread over the GPUs) or "cuda:N";
                             * without a usable GPU contexts run on the CPU: see dt_detector_device_note */
    size_t max_memory;      /* per context: engine session memory limit (0 = DT_SESSION_MAX_MEMORY_DEFAULT);
                             * a batch over it lowers the context's max batch, batch 1 over it fails */
} dt_detector_opts;

dt_code dt_detector_load(const dt_detector_opts *opts, dt_detector **out, dt_status *st);
void dt_detector_free(dt_detector *d);

const char *dt_detector_name(const dt_detector *d);
float dt_detector_default_threshold(const dt_detector *d);
int dt_detector_num_classes(const dt_detector *d);
const char *dt_detector_label(const dt_detector *d, int class_id); /* "?" if out of range */
int dt_detector_class_id(const dt_detector *d, const char *label); /* -1 if unknown */
int dt_detector_input_size(const dt_detector *d, int *w, int *h);  /* model input W x H */

typedef struct dt_detect_params {
    float threshold;      /* < 0 = the detector's default */
    int max_detections;   /* <= 0 = 100 */
    float nms_iou;        /* <= 0 = the manifest's */
    const int *classes;   /* keep only these class ids (NULL = all) */
    int n_classes;
} dt_detect_params;

typedef struct dt_detect_timing {
    double decode_ms, preprocess_ms, inference_ms, postprocess_ms;
} dt_detect_timing;

typedef struct dt_detect_result {
    int width, height;     /* original image size (after EXIF orientation) */
    int n;
    dt_detection *dets;    /* owned by the context; valid until its next call */
    dt_detect_timing timing;
} dt_detect_result;

/* Why a GPU that was asked for will not be used ("" when none was asked
 * for or one is usable): callers log it once. */
const char *dt_detector_device_note(const dt_detector *d);

dt_code dt_detect_ctx_create(const dt_detector *d, dt_detect_ctx **out, dt_status *st);
/* Context number `worker` (0, 1, ...): with device "cuda" it runs on GPU
 * worker % (number of GPUs). */
dt_code dt_detect_ctx_create_ex(const dt_detector *d, int worker, dt_detect_ctx **out, dt_status *st);
void dt_detect_ctx_free(dt_detect_ctx *c);
/* "cpu" or "cuda:N": where this context's engine session runs. */
const char *dt_detect_ctx_device(const dt_detect_ctx *c);

/* All stages on encoded image bytes (JPEG, PNG, WebP, BMP).  Errors:
 * DT_EUNSUPPORTED unknown format, DT_ECORRUPT broken image, DT_ELIMIT over
 * the pixel limits. */
dt_code dt_detect_bytes(dt_detect_ctx *c, const void *bytes, size_t len, const dt_image_limits *lim,
                        const dt_detect_params *p, dt_detect_result *out, dt_status *st);

/* ---- stages, for batching ------------------------------------------------ */

/* Where an image landed in the model input (to map boxes back). */
typedef struct dt_prep_info {
    int width, height;           /* original image */
    float scale_x, scale_y;      /* input = orig * scale + offset */
    float offset_x, offset_y;
    double decode_ms, preprocess_ms;
} dt_prep_info;

/* Number of float elements of one preprocessed item (one batch slot). */
size_t dt_detector_item_floats(const dt_detector *d);

/* Decode + preprocess straight into `dst` (dt_detector_item_floats floats).
 * Thread-safe: uses no context (its temporary image memory is freed before
 * return). */
dt_code dt_detector_prepare(const dt_detector *d, const void *bytes, size_t len, const dt_image_limits *lim,
                            float *dst, dt_prep_info *info, dt_status *st);

/* Run the engine on `batch` items already written to the context's input
 * (dt_detect_ctx_input(c, batch) + i * item_floats). */
float *dt_detect_ctx_input(dt_detect_ctx *c, int batch);
dt_code dt_detect_ctx_run(dt_detect_ctx *c, int batch, dt_status *st);
/* Decode item i of the last run into the context's detection buffer. */
dt_code dt_detect_ctx_decode(dt_detect_ctx *c, int i, const dt_prep_info *info, const dt_detect_params *p,
                             dt_detect_result *out, dt_status *st);

/* ---- additions (vision engineer): introspection ---------------------------- */

const char *dt_detector_preset(const dt_detector *d);        /* preset name ("" if none) */
const char *dt_detector_graph_path(const dt_detector *d);    /* the loaded graph file */
float dt_detector_default_nms_iou(const dt_detector *d);     /* the manifest's NMS IoU */
int dt_detector_default_max_detections(const dt_detector *d);
/* Largest batch this context's session can run (<= the detector's max_batch). */
int dt_detect_ctx_max_batch(const dt_detect_ctx *c);

#endif
