/* draw_render.c — encoded photo + detections -> annotated JPEG. */
#include "base/alloc.h"
#include "vision/draw.h"
#include "vision/image.h"

dt_code dt_render_detections(const void *bytes, size_t len, const dt_image_limits *lim, const dt_detection *dets,
                             int n, const dt_draw_opts *opts, int quality, unsigned char **jpeg, size_t *jpeg_len,
                             dt_status *st)
{
    *jpeg = NULL;
    *jpeg_len = 0;
    dt_image im = {0};
    /* Full size (no hint): boxes are in original-image pixels. */
    dt_code rc = dt_image_decode(bytes, len, lim, NULL, &im, NULL, st);
    if (rc)
        return rc;
    dt_draw_image view = {im.width, im.height, (size_t)im.width * 3, im.rgb};
    rc = dt_draw_detections(&view, dets, n, opts, st);
    if (!rc)
        rc = dt_draw_encode_jpeg(&view, quality, jpeg, jpeg_len, st);
    dt_image_release(&im);
    return rc;
}
