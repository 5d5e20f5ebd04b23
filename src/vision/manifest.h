/* manifest.h — a model's *.detectd.json: graph file, preprocessing,
 * decoder, labels and default thresholds (vision/ internal).
 *
 *   {"name": "nanodet", "graph": "nanodet/nanodet.json", "format": "tfjs",
 *    "preset": "nanodet",
 *    "preprocess": {...overrides...},           optional
 *    "decoder": {"type": "nanodet", "reg_max": 10, "strides": [8, 16, 32]},
 *    "labels": "coco" | ["a", "b"] | "file.names",
 *    "threshold": 0.5, "nms_iou": 0.45, "max_detections": 100,
 *    "notes": "free text"}
 *
 * Paths are relative to the manifest's directory.  preprocess keys: width,
 * height, resize (stretch | letterbox | letterbox_center | affine_center),
 * interp (linear | area), pad, channels (rgb | bgr), layout (nchw | nhwc),
 * scale, mean [3], std [3], round_size, by_factor.  decoder keys: type, strides,
 * reg_max, center_offset, decoded, activated, anchors [[w,h,...] per level],
 * obj_power, cls_power, num_classes; SSD: encoded, box_order (xyxy | yxyx
 * for decoded boxes, xywh | yxhw for offsets), normalized, variance [2],
 * background, score_activation (none | sigmoid | softmax), priors
 * {image_size, feature_maps, steps, min_sizes, max_sizes, aspect_ratios,
 * clip} or priors_file (raw little-endian float32 cx, cy, w, h).
 * Unknown keys are errors (typos should not pass silently), except "notes",
 * "source", "license", "description" and keys starting with "_".
 */
#ifndef DT_MANIFEST_H
#define DT_MANIFEST_H

#include "base/status.h"
#include "engine/engine.h"
#include "vision/decode.h"
#include "vision/preprocess.h"

typedef struct dt_manifest {
    char *name;
    char *graph;              /* path of the graph file */
    dt_model_format format;
    char *preset;
    dt_preprocess pre;
    int layout_set;           /* 1 = layout given explicitly (else taken from the model input) */
    int size_set;             /* 1 = width/height given explicitly */
    dt_decoder dec;
    float *priors;            /* owned; dec.priors points here */
    char **labels;            /* owned strings, or NULL with builtin_labels set */
    const char *const *builtin_labels;
    int n_labels;
    float threshold, nms_iou;
    int max_detections;
} dt_manifest;

/* Parse a manifest file.  `preset` (may be NULL) replaces the manifest's
 * preset; explicit preprocess/decoder keys still apply on top. */
dt_code dt_manifest_load(const char *path, const char *preset, dt_manifest *m, dt_status *st);

/* A manifest for a bare graph file and a preset name (defaults only).
 * preset NULL = guessed from the file name (yolox, fastestdet, nanodet,
 * centernet, yolov5, yolov7, yolov8, yolo11, ssd), else DT_EINVAL. */
dt_code dt_manifest_from_graph(const char *graph, const char *preset, dt_manifest *m, dt_status *st);

void dt_manifest_free(dt_manifest *m);

/* Label i of the manifest ("?" when out of range). */
const char *dt_manifest_label(const dt_manifest *m, int i);

#endif
