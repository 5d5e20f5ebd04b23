/* draw.h — annotated images: detection boxes and "label score" tags drawn
 * onto a decoded RGB image, then JPEG-encoded (libjpeg-turbo).
 *
 * Text is rasterized with FreeType from a real TrueType font (DejaVu Sans
 * Bold from fonts-dejavu-core by default).  A dt_font is loaded once and may
 * be shared by every thread: FreeType faces are not thread-safe, so the font
 * serializes its own glyph rendering with a mutex (labels are a few glyphs,
 * so the lock is held for microseconds).
 *
 * Geometry, chosen so a box stays visible at any image size:
 *   line width  max(2, min(w, h) / 200), drawn inward from the box edges, so
 *               a box touching the image border is not clipped;
 *   font size   max(11, min(w, h) / 32) pixels, at most 120;
 *   label       a filled tag in the class colour just above the box, moved
 *               inside the box when there is no room above, and shifted left
 *               to stay inside the image; black or white text, whichever
 *               contrasts with the class colour.
 */
#ifndef DT_DRAW_H
#define DT_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "vision/detector.h"

#define DT_FONT_DEFAULT_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#define DT_FONT_ENV "DETECTD_FONT"

/* An interleaved 8-bit RGB image that the drawing functions write into.
 * stride is in bytes (>= 3 * width). */
typedef struct dt_draw_image {
    int width, height;
    size_t stride;
    uint8_t *rgb;
} dt_draw_image;

/* ---- font ------------------------------------------------------------------ */

typedef struct dt_font dt_font;

/* Load a TrueType/OpenType font.  path NULL = $DETECTD_FONT, else
 * DT_FONT_DEFAULT_PATH.  DT_ENOTFOUND when the file is missing, DT_ECORRUPT
 * when FreeType cannot read it.  Callers that can live without labels
 * should say so and draw with font = NULL. */
dt_code dt_font_create(const char *path, dt_font **out, dt_status *st);
void dt_font_free(dt_font *f);
const char *dt_font_path(const dt_font *f);

/* ---- drawing --------------------------------------------------------------- */

/* Name of a class id for the label (NULL or "" = "class N"). */
typedef const char *(*dt_draw_label_fn)(const void *ctx, int class_id);

typedef struct dt_draw_opts {
    const dt_font *font;     /* NULL = boxes only, no labels */
    dt_draw_label_fn label;  /* NULL = "class N" */
    const void *label_ctx;
    int line_width;          /* <= 0 = dt_draw_line_width(w, h) */
    int font_px;             /* <= 0 = dt_draw_font_px(w, h) */
} dt_draw_opts;

/* The colour of a class: a fixed palette indexed by class id (wrapping),
 * the same one the web page uses. */
void dt_draw_class_color(int class_id, uint8_t rgb[3]);
int dt_draw_palette_size(void);
int dt_draw_line_width(int width, int height);
int dt_draw_font_px(int width, int height);

/* The pixel rectangle [*x0, *x1] x [*y0, *y1] (inclusive) a detection's
 * outline occupies in a w x h image: the box rounded to whole pixels and
 * clipped.  Returns 0 for a box entirely outside the image.  Tests use it
 * to know where to look. */
int dt_draw_box_pixels(const dt_detection *d, int w, int h, int *x0, int *y0, int *x1, int *y1);

/* Draw every detection (boxes first, then all labels, so a label is never
 * hidden under another box's outline).  Coordinates are original-image
 * pixels; boxes partly outside the image are clipped, NaN boxes are
 * skipped.  Errors: DT_EINVAL for a bad image. */
dt_code dt_draw_detections(dt_draw_image *img, const dt_detection *dets, int n, const dt_draw_opts *opts,
                           dt_status *st);

/* Draw one UTF-8 string with its top-left corner at (x, y) in `fg` over a
 * filled `bg` rectangle padded by `pad` pixels (bg NULL = no background).
 * *out_w / *out_h (may be NULL) get the tag size; with draw = 0 nothing
 * is drawn (measure only). */
dt_code dt_draw_text(dt_draw_image *img, const dt_font *font, int px, int x, int y, const char *text,
                     const uint8_t fg[3], const uint8_t *bg, int pad, int draw, int *out_w, int *out_h,
                     dt_status *st);

/* ---- encoding -------------------------------------------------------------- */

/* JPEG-encode with libjpeg-turbo (quality 1..100, 0 = 90; 4:4:4 sampling so
 * thin coloured lines keep their colour).  *out is allocated with dt_malloc
 * (release with dt_free). */
dt_code dt_draw_encode_jpeg(const dt_draw_image *img, int quality, unsigned char **out, size_t *out_len,
                            dt_status *st);

/* ---- the whole path: encoded photo -> annotated JPEG ------------------------ */

/* Decode `bytes` at full size (EXIF orientation applied, exactly the frame
 * detection boxes refer to), draw `dets` with `opts`, and JPEG-encode it
 * (quality 0 = 90).  *jpeg is allocated with dt_malloc.  Errors are those of
 * dt_image_decode (DT_EUNSUPPORTED, DT_ECORRUPT, DT_ELIMIT) and of the
 * encoder. */
dt_code dt_render_detections(const void *bytes, size_t len, const dt_image_limits *lim, const dt_detection *dets,
                             int n, const dt_draw_opts *opts, int quality, unsigned char **jpeg, size_t *jpeg_len,
                             dt_status *st);

/* A dt_draw_label_fn over a dt_detector: opts.label = dt_draw_detector_label,
 * opts.label_ctx = detector. */
static inline const char *dt_draw_detector_label(const void *detector, int class_id)
{
    return dt_detector_label((const dt_detector *)detector, class_id);
}

#endif
