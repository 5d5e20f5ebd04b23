/* resize.h — 8-bit interleaved image resampling, bit-compatible with
 * OpenCV's cv2.resize (INTER_LINEAR, INTER_AREA) and cv2.warpAffine
 * (INTER_LINEAR, BORDER_CONSTANT) on CV_8UC(cn).
 *
 * The reference pipelines preprocess with OpenCV, so the model sees the same
 * uint8 pixels here as there: same sampling grid (half-pixel centres, no
 * antialiasing), same fixed-point weights and rounding.  Strides are in
 * bytes.  Each function allocates only small tables (returns DT_ENOMEM if
 * that fails) and never reads outside the source.
 */
#ifndef DT_RESIZE_H
#define DT_RESIZE_H

#include <stdint.h>

#include "base/status.h"

/* cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR). */
dt_code dt_resize_linear_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                            int dstride, dt_status *st);

/* cv2.resize(src, None, fx=fx, fy=fy, interpolation=INTER_LINEAR): the
 * sampling follows the factors, not the rounded size (dw = round(sw * fx),
 * dh = round(sh * fy) is what OpenCV allocates). */
dt_code dt_resize_linear_factor_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, double fx, double fy,
                                   uint8_t *dst, int dw, int dh, int dstride, dt_status *st);

/* cv2.resize(src, (dw, dh), interpolation=INTER_AREA). */
dt_code dt_resize_area_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                          int dstride, dt_status *st);

/* cv2.warpAffine(src, M, (dw, dh), flags=INTER_LINEAR,
 * borderMode=BORDER_CONSTANT, borderValue=border): M maps source to
 * destination (dst = M · [x, y, 1]), as OpenCV's default. */
dt_code dt_warp_affine_u8(const uint8_t *src, int sw, int sh, int sstride, int cn, uint8_t *dst, int dw, int dh,
                          int dstride, const double M[6], uint8_t border, dt_status *st);

#endif
