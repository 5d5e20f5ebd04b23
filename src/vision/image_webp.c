/* image_webp.c — WebP via libwebp; an animation gives its first frame
 * (composited on the canvas by WebPAnimDecoder), alpha is dropped. */
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "base/alloc.h"
#include "vision/image_internal.h"

static const char *vp8_status_name(VP8StatusCode s)
{
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated file (not enough data)";
    default: return "ok";
    }
}

static dt_code decode_animated(const uint8_t *b, size_t len, int w, int h, dt_image *out, dt_status *st)
{
    WebPAnimDecoderOptions opt;
    if (!WebPAnimDecoderOptionsInit(&opt))
        return dt_fail(st, DT_EINTERNAL, "WebP: libwebp version mismatch");
    opt.color_mode = MODE_RGBA;
    opt.use_threads = 0;
    WebPData data = {b, len};
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&data, &opt);
    if (!dec)
        return dt_fail(st, DT_ECORRUPT, "WebP: cannot parse the animation");
    WebPAnimInfo ai;
    uint8_t *frame = NULL;
    int ts = 0;
    dt_code rc = DT_OK;
    if (!WebPAnimDecoderGetInfo(dec, &ai) || (int)ai.canvas_width != w || (int)ai.canvas_height != h) {
        rc = dt_fail(st, DT_ECORRUPT, "WebP: inconsistent animation canvas size");
        goto done;
    }
    if (!WebPAnimDecoderGetNext(dec, &frame, &ts) || !frame) {
        rc = dt_fail(st, DT_ECORRUPT, "WebP: cannot decode the first animation frame");
        goto done;
    }
    uint8_t *pix = dt_malloc((size_t)w * (size_t)h * 3);
    if (!pix) {
        rc = dt_fail(st, DT_ENOMEM, "WebP: out of memory for a %dx%d image", w, h);
        goto done;
    }
    size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) {
        pix[3 * i + 0] = frame[4 * i + 0];
        pix[3 * i + 1] = frame[4 * i + 1];
        pix[3 * i + 2] = frame[4 * i + 2];
    }
    out->width = w;
    out->height = h;
    out->rgb = pix;
done:
    WebPAnimDecoderDelete(dec);
    return rc;
}

dt_code dt_image_decode_webp(const uint8_t *b, size_t len, const dt_image_limits *lim, int probe_only,
                             dt_image *out, dt_image_info *info, dt_status *st)
{
    /* The RIFF size says how long the file is: a shorter buffer is a cut
     * file, whatever libwebp manages to decode from it. */
    uint32_t riff = dt_rd_le32(b + 4);
    if (riff < 4 || (size_t)riff > len - 8)
        return dt_fail(st, DT_ECORRUPT, "WebP: truncated file (RIFF header says %u bytes, %zu present)", riff + 8,
                       len);
    WebPBitstreamFeatures f;
    VP8StatusCode s = WebPGetFeatures(b, len, &f);
    if (s != VP8_STATUS_OK)
        return dt_fail(st, s == VP8_STATUS_OUT_OF_MEMORY ? DT_ENOMEM : DT_ECORRUPT, "WebP: %s",
                       vp8_status_name(s));
    info->width = f.width;
    info->height = f.height;
    dt_code rc = dt_image_check_size("WebP", f.width, f.height, lim, st);
    if (rc != DT_OK || probe_only)
        return rc;
    if (f.has_animation)
        return decode_animated(b, len, f.width, f.height, out, st);
    size_t stride = (size_t)f.width * 3, n = stride * (size_t)f.height;
    uint8_t *pix = dt_malloc(n);
    if (!pix)
        return dt_fail(st, DT_ENOMEM, "WebP: out of memory for a %dx%d image", f.width, f.height);
    if (!WebPDecodeRGBInto(b, len, pix, n, (int)stride)) {
        dt_free(pix);
        return dt_fail(st, DT_ECORRUPT, "WebP: corrupt image data");
    }
    out->width = f.width;
    out->height = f.height;
    out->rgb = pix;
    return DT_OK;
}
