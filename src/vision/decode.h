/* decode.h — raw model outputs -> candidate boxes, and class-aware NMS.
 *
 * Decoders are pure functions of the output tensors (no engine, no image):
 * given the outputs of one run, the batch item and a score threshold, they
 * append one candidate per anchor/cell whose best class scores above the
 * threshold ("one label per anchor"), with the box in model-input pixels.
 * Mapping back to the image and NMS are the caller's next steps.
 *
 * Families (see shared/reference/README.md for the exact formulas):
 *   yolox       [B,N,5+C] rows cx,cy,w,h,obj,cls over strides 8/16/32 grids
 *               (xy = (out + grid) * s, wh = exp(out) * s), score = obj*cls;
 *               decoded = 1 for graphs that already output pixels.
 *   fastestdet  [B,5+C,H,W]: obj, tanh x/y offsets, sigmoid w/h (fractions
 *               of the input), score = obj^0.6 * cls^0.4.
 *   centernet   [B,K,6]: x1,y1,x2,y2 (input px), score, class.
 *   nanodet     GFL head: per level cls [B,N,C] (sigmoid applied) and reg
 *               [B,N,4*(reg_max+1)], levels matched by N; or one tensor
 *               [B,sum N,C+4*(reg_max+1)] (NanoDet-Plus export).
 *   yolov5/v7   one tensor [B,N,5+C] of decoded rows (cx,cy,w,h px, obj,
 *               cls), or raw per-level heads [B,A,H,W,5+C] / [B,A*(5+C),H,W]
 *               decoded with anchors; activated = 0 applies the sigmoid.
 *   yolov8/11   [B,4+C,N] (or [B,N,4+C]): cx,cy,w,h px, class scores.
 *   ssd         boxes [B,N,4] + scores [B,N,C]: decoded boxes, or offsets
 *               against prior boxes with variances.
 */
#ifndef DT_DECODE_H
#define DT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "engine/tensor.h"
#include "vision/detector.h"

typedef enum dt_decoder_type {
    DT_DECODER_NONE = 0,
    DT_DECODER_YOLOX,
    DT_DECODER_FASTESTDET,
    DT_DECODER_CENTERNET,
    DT_DECODER_NANODET,
    DT_DECODER_YOLOV5,
    DT_DECODER_YOLOV8,
    DT_DECODER_SSD,
} dt_decoder_type;

#define DT_DECODER_MAX_LEVELS 8
#define DT_DECODER_MAX_ANCHORS 8 /* anchor (w, h) pairs per level */

typedef enum dt_score_act { DT_SCORE_NONE = 0, DT_SCORE_SIGMOID, DT_SCORE_SOFTMAX } dt_score_act;

typedef struct dt_decoder {
    dt_decoder_type type;
    int input_w, input_h; /* model input size; boxes come out in these pixels */
    int num_classes;      /* 0 = from the output shapes */
    int n_strides;
    int strides[DT_DECODER_MAX_LEVELS];

    /* nanodet */
    int reg_max;         /* 0 = from the box output's size */
    float center_offset; /* cell centre = (index + center_offset) * stride */

    /* yolox */
    int decoded;         /* 1 = boxes already in pixels */

    /* yolov5 / yolov7 */
    int activated;       /* 1 = sigmoid already applied by the graph */
    int n_anchors;       /* per level */
    float anchors[DT_DECODER_MAX_LEVELS][DT_DECODER_MAX_ANCHORS * 2];

    /* fastestdet */
    float obj_power, cls_power;

    /* ssd */
    int ssd_encoded;          /* 1 = offsets against priors; 0 = decoded boxes */
    int ssd_yx;               /* 1 = coordinates in (y, x) order (TF Object Detection API) */
    int ssd_normalized;       /* decoded boxes in 0..1 of the input (else input pixels) */
    float variance[2];        /* centre and size variances (0.1, 0.2) */
    int background;           /* score column of the background class, -1 = none */
    dt_score_act score_act;   /* activation still to apply to SSD scores */
    const float *priors;      /* n_priors x (cx, cy, w, h), normalised; not owned */
    int n_priors;
} dt_decoder;

/* Defaults for a family (strides, anchors, powers, ...); input size 0. */
void dt_decoder_defaults(dt_decoder_type type, dt_decoder *out);
dt_decoder_type dt_decoder_type_from_name(const char *name); /* DT_DECODER_NONE if unknown */
const char *dt_decoder_type_name(dt_decoder_type t);

/* Growable candidate list. */
typedef struct dt_det_buf {
    dt_detection *d;
    int n, cap;
} dt_det_buf;

dt_code dt_det_buf_reserve(dt_det_buf *b, int64_t extra, dt_status *st);
void dt_det_buf_free(dt_det_buf *b);

/* Append the candidates of batch item `item` scoring above `threshold`.
 * Shapes are validated: a mismatch is DT_ESHAPE naming the tensor. */
dt_code dt_decoder_run(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float threshold,
                       dt_det_buf *out, dt_status *st);

/* Scratch for NMS, grown on demand and reused across calls. */
typedef struct dt_nms_scratch {
    void *mem;
    size_t cap;
} dt_nms_scratch;
void dt_nms_scratch_free(dt_nms_scratch *s);

/* Greedy class-aware NMS: sorts d[0..n) by score (descending, stable),
 * drops any box whose IoU with a kept box of the same class exceeds iou,
 * keeps at most max_det (<= 0: all).  d is compacted in place; returns the
 * number kept, or -1 with st set on allocation failure. */
int dt_nms(dt_detection *d, int n, float iou, int max_det, dt_nms_scratch *s, dt_status *st);

/* The whole post-processing of one batch item, pure (no engine): decode
 * above `threshold`, keep `classes` only (NULL = all), map boxes back to the
 * original image with info (orig = (input - offset) / scale), clip them to
 * the image (dropping boxes left empty), class-aware NMS at `iou` in
 * original pixels, keep the best max_det.  Results are cands->d[0 .. *n_out). */
dt_code dt_decode_detections(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item,
                             const dt_prep_info *info, float threshold, float iou, int max_det,
                             const int *classes, int n_classes, dt_det_buf *cands, dt_nms_scratch *nms,
                             int *n_out, dt_status *st);

/* IoU of two boxes (x1, y1, x2, y2), area = (x2-x1)*(y2-y1). */
float dt_box_iou(const dt_detection *a, const dt_detection *b);

/* SSD prior boxes as ssd.pytorch's PriorBox builds them: for each feature
 * map k of size f[k] (square), cell centres ((j+0.5)/fk, (i+0.5)/fk) with
 * fk = image_size/steps[k]; boxes min_size, sqrt(min*max), and min_size
 * scaled by sqrt(ar) / 1/sqrt(ar) for each aspect ratio.  aspect[k] holds
 * n_aspect[k] ratios.  Returns a dt_malloc'ed array of n x 4 floats. */
dt_code dt_ssd_priors(int image_size, int n_maps, const int *feature_maps, const float *steps,
                      const float *min_sizes, const float *max_sizes, const float *const *aspect,
                      const int *n_aspect, int clip, float **out, int *n_out, dt_status *st);

#endif
