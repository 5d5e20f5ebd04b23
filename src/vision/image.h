/* image.h — encoded image bytes -> 8-bit interleaved RGB.
 *
 * Formats: JPEG (libjpeg-turbo, EXIF orientation applied, grayscale and
 * CMYK/YCCK converted), PNG (libspng: any bit depth, palette, gray, alpha
 * dropped), WebP (libwebp; an animation gives its first frame), BMP (24/32-bit
 * uncompressed, parsed here).  All input is untrusted: the size is read from
 * the header and checked against dt_image_limits before any pixel memory is
 * allocated; a broken or truncated file is DT_ECORRUPT, an unknown one
 * DT_EUNSUPPORTED, never a crash.
 *
 * A JPEG much larger than the caller needs is decoded with libjpeg's
 * DCT-domain scaling (1/2, 1/4, 1/8): cheaper and smoother than decoding at
 * full size and resizing.  The decoded image then is smaller than the file's
 * size, and dt_image_info says how to map decoded coordinates back.
 */
#ifndef DT_IMAGE_H
#define DT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "vision/detector.h"

typedef enum dt_image_format {
    DT_IMAGE_UNKNOWN = 0,
    DT_IMAGE_JPEG,
    DT_IMAGE_PNG,
    DT_IMAGE_WEBP,
    DT_IMAGE_BMP,
} dt_image_format;

#define DT_IMAGE_DEFAULT_MAX_PIXELS 50000000LL
#define DT_IMAGE_DEFAULT_MAX_SIDE 32768

/* Decoded pixels; rgb is owned (release with dt_image_release). */
typedef struct dt_image {
    int width, height;
    uint8_t *rgb; /* width * height * 3 bytes, row-major, R G B */
} dt_image;

/* How much of the file the caller needs.  The JPEG decoder picks the
 * largest DCT scale-down that still leaves at least the size the image will
 * be resized to: w x h exactly (keep_ratio = 0), or the image fitted inside
 * w x h keeping its aspect ratio (keep_ratio = 1). */
typedef struct dt_image_hint {
    int width, height; /* 0 = decode at full size */
    int keep_ratio;
} dt_image_hint;

typedef struct dt_image_info {
    dt_image_format format;
    int width, height;     /* full size after EXIF orientation (what boxes refer to) */
    int orientation;       /* EXIF orientation 1..8 (1 for non-JPEG / none) */
    int scale_denom;       /* DCT scaling used: 1, 2, 4 or 8 */
    /* decoded = original * scale + offset, per axis, in continuous pixel
     * coordinates (pixel i spans [i, i+1)). */
    float scale_x, scale_y, offset_x, offset_y;
} dt_image_info;

/* Format from the first bytes (no validation beyond the magic number). */
dt_image_format dt_image_sniff(const void *bytes, size_t len);
const char *dt_image_format_name(dt_image_format f); /* "jpeg", "png", ... "unknown" */

/* Width and height from the header only (after EXIF orientation for JPEG),
 * without decoding pixels.  Errors as dt_image_decode. */
dt_code dt_image_probe(const void *bytes, size_t len, dt_image_format *fmt, int *width, int *height,
                       dt_status *st);

/* Decode.  lim may be NULL (defaults); hint may be NULL (full size).  On
 * success out->rgb is allocated with dt_malloc; on error out is zeroed and
 * nothing is leaked.  info may be NULL. */
dt_code dt_image_decode(const void *bytes, size_t len, const dt_image_limits *lim, const dt_image_hint *hint,
                        dt_image *out, dt_image_info *info, dt_status *st);

void dt_image_release(dt_image *img);

/* The limits with defaults filled in (NULL or zero fields = defaults). */
dt_image_limits dt_image_limits_resolve(const dt_image_limits *lim);

/* Check a header size against the limits: DT_ELIMIT (or DT_ECORRUPT for a
 * zero or negative size) with a message naming the format. */
dt_code dt_image_check_size(const char *fmt, int64_t width, int64_t height, const dt_image_limits *lim,
                            dt_status *st);

/* EXIF orientation (1..8) from a TIFF/Exif APP1 payload (starting at
 * "Exif\0\0"); 1 when absent or malformed.  Bounds-checked; exposed for tests. */
int dt_exif_orientation(const uint8_t *app1, size_t len);

/* Apply an EXIF orientation to an RGB image: returns a new buffer in *dst
 * (dt_malloc) and the new size; orientation 1 copies nothing (*dst = NULL). */
dt_code dt_image_orient(const uint8_t *src, int w, int h, int orientation, uint8_t **dst, int *dw, int *dh,
                        dt_status *st);

#endif
