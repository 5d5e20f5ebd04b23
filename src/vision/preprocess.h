/* preprocess.h — RGB image -> the float tensor a detection model takes.
 *
 * A dt_preprocess says how one model family expects its input (see
 * shared/reference/README.md for where each preset comes from):
 *
 *   preset      resize                              interp  pad  order scale  mean/std          layout
 *   yolox       letterbox, top-left                 linear  114  BGR   1      -                 NCHW
 *   fastestdet  plain stretch                       area    -    BGR   1/255  -                 NCHW
 *   centernet   letterbox, centred (int offsets)*   linear  0    RGB   1      -                 NHWC
 *   nanodet     affine warp, centred (float offset) linear  0    BGR   1      ImageNet*255 BGR  NCHW
 *   yolov5/v8   letterbox, centred (int offsets)    linear  114  RGB   1/255  -                 NCHW
 *   ssd         plain stretch                       linear  -    RGB   1/255  configurable      NHWC
 *
 * (* resized with cv2.resize(fx=r, fy=r), see by_factor.)
 * value = (pixel * scale - mean[c]) / std[c], with mean/std given in the
 * output channel order.  Resampling is done on 8-bit pixels exactly as
 * OpenCV does (resize.h); the padding is a pixel value and is normalised
 * like any other pixel.
 */
#ifndef DT_PREPROCESS_H
#define DT_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "vision/image.h"

typedef enum dt_resize_mode {
    DT_RESIZE_STRETCH = 0,       /* plain resize to W x H (aspect ratio not kept) */
    DT_RESIZE_LETTERBOX,         /* keep ratio, image at the top-left, pad right/bottom */
    DT_RESIZE_LETTERBOX_CENTER,  /* keep ratio, centred at integer offsets ((W-nw)/2, (H-nh)/2) */
    DT_RESIZE_AFFINE_CENTER,     /* keep ratio, centred by one affine warp (float offsets, NanoDet) */
} dt_resize_mode;

typedef enum dt_interp { DT_INTERP_LINEAR = 0, DT_INTERP_AREA } dt_interp;

typedef struct dt_preprocess {
    int width, height; /* model input W x H (0 = take it from the model) */
    dt_resize_mode resize;
    dt_interp interp;
    int round_size;   /* letterbox content size: 1 = round(w*r) (Ultralytics), 0 = int(w*r) (YOLOX) */
    int by_factor;    /* letterbox resampled as cv2.resize(img, None, fx=r, fy=r): size round(w*r),
                       * sampling grid from r itself rather than from the rounded size (CenterNet) */
    float pad;        /* pixel value (0..255) of padding / warp border */
    int bgr;          /* 1 = channel order B, G, R */
    int nhwc;         /* 1 = NHWC, 0 = NCHW */
    float scale;      /* pixel multiplier before mean/std */
    float mean[3], std[3];
} dt_preprocess;

/* Where the image lands in the input: input = image * scale + offset, per
 * axis, in continuous pixel coordinates.  nw x nh is the resized content. */
typedef struct dt_prep_geom {
    float scale_x, scale_y, offset_x, offset_y;
    int nw, nh, ox, oy; /* content size and integer placement (not used by the affine mode) */
} dt_prep_geom;

/* Preset by name ("yolox", "fastestdet", "centernet", "nanodet", "yolov5",
 * "yolov7", "yolov8", "yolo11", "ssd"); width/height are the preset's usual
 * input size (the model's own input shape wins when it has one). */
dt_code dt_preprocess_preset(const char *name, dt_preprocess *out, dt_status *st);
const char *dt_resize_mode_name(dt_resize_mode m);
int dt_resize_mode_from_name(const char *s); /* -1 if unknown */

/* The geometry for an image of w x h (no pixels touched). */
void dt_preprocess_geometry(const dt_preprocess *p, int w, int h, dt_prep_geom *g);

/* The size the JPEG decoder should aim for (dt_image_hint) for this preset. */
dt_image_hint dt_preprocess_hint(const dt_preprocess *p);

/* Resample + normalise `img` into dst (width*height*3 floats, layout per
 * p).  Allocates only a temporary 8-bit buffer of the resized image. */
dt_code dt_preprocess_run(const dt_preprocess *p, const dt_image *img, float *dst, dt_prep_geom *g,
                          dt_status *st);

#endif
