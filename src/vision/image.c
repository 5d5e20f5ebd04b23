/* image.c — format dispatch, limits, EXIF orientation. */
#include "vision/image.h"

#include <string.h>

#include "base/alloc.h"
#include "vision/image_internal.h"

dt_image_format dt_image_sniff(const void *bytes, size_t len)
{
    const uint8_t *b = bytes;
    if (!b)
        return DT_IMAGE_UNKNOWN;
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return DT_IMAGE_JPEG;
    if (len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return DT_IMAGE_PNG;
    if (len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
        return DT_IMAGE_WEBP;
    if (len >= 2 && b[0] == 'B' && b[1] == 'M')
        return DT_IMAGE_BMP;
    return DT_IMAGE_UNKNOWN;
}

const char *dt_image_format_name(dt_image_format f)
{
    switch (f) {
    case DT_IMAGE_JPEG: return "jpeg";
    case DT_IMAGE_PNG: return "png";
    case DT_IMAGE_WEBP: return "webp";
    case DT_IMAGE_BMP: return "bmp";
    default: return "unknown";
    }
}

/* A name for formats we recognise but do not decode, for a clearer error. */
static const char *known_unsupported(const uint8_t *b, size_t len)
{
    if (len >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
        return "GIF";
    if (len >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4)))
        return "TIFF";
    if (len >= 12 && !memcmp(b + 4, "ftyp", 4)) {
        if (!memcmp(b + 8, "avif", 4) || !memcmp(b + 8, "avis", 4))
            return "AVIF";
        return "HEIF/ISO-BMFF";
    }
    if (len >= 4 && !memcmp(b, "\0\0\1\0", 4))
        return "ICO";
    if (len >= 2 && b[0] == 0xFF && b[1] == 0x0A)
        return "JPEG XL";
    if (len >= 12 && !memcmp(b, "\0\0\0\x0cJXL \r\n\x87\n", 12))
        return "JPEG XL";
    return NULL;
}

dt_image_limits dt_image_limits_resolve(const dt_image_limits *lim)
{
    dt_image_limits r = {DT_IMAGE_DEFAULT_MAX_PIXELS, DT_IMAGE_DEFAULT_MAX_SIDE};
    if (lim && lim->max_pixels > 0)
        r.max_pixels = lim->max_pixels;
    if (lim && lim->max_side > 0)
        r.max_side = lim->max_side;
    return r;
}

dt_code dt_image_check_size(const char *fmt, int64_t width, int64_t height, const dt_image_limits *lim,
                            dt_status *st)
{
    dt_image_limits l = dt_image_limits_resolve(lim);
    if (width <= 0 || height <= 0)
        return dt_fail(st, DT_ECORRUPT, "%s: invalid image size %lldx%lld", fmt, (long long)width,
                       (long long)height);
    if (width > l.max_side || height > l.max_side)
        return dt_fail(st, DT_ELIMIT, "%s: image %lldx%lld exceeds the maximum side of %d pixels", fmt,
                       (long long)width, (long long)height, l.max_side);
    if (width * height > l.max_pixels)
        return dt_fail(st, DT_ELIMIT, "%s: image %lldx%lld (%lld pixels) exceeds the limit of %lld pixels", fmt,
                       (long long)width, (long long)height, (long long)(width * height),
                       (long long)l.max_pixels);
    return DT_OK;
}

static dt_code dispatch(const void *bytes, size_t len, const dt_image_limits *lim, const dt_image_hint *hint,
                        int probe_only, dt_image *out, dt_image_info *info, dt_status *st)
{
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    info->orientation = 1;
    info->scale_denom = 1;
    info->scale_x = info->scale_y = 1.f;
    if (!bytes || len == 0)
        return dt_fail(st, DT_EINVAL, "empty image");
    const uint8_t *b = bytes;
    dt_image_format f = dt_image_sniff(b, len);
    info->format = f;
    switch (f) {
    case DT_IMAGE_JPEG: return dt_image_decode_jpeg(b, len, lim, hint, probe_only, out, info, st);
    case DT_IMAGE_PNG: return dt_image_decode_png(b, len, lim, probe_only, out, info, st);
    case DT_IMAGE_WEBP: return dt_image_decode_webp(b, len, lim, probe_only, out, info, st);
    case DT_IMAGE_BMP: return dt_image_decode_bmp(b, len, lim, probe_only, out, info, st);
    default: break;
    }
    const char *name = known_unsupported(b, len);
    if (name)
        return dt_fail(st, DT_EUNSUPPORTED, "unsupported image format %s (JPEG, PNG, WebP and BMP are)", name);
    return dt_fail(st, DT_EUNSUPPORTED, "unrecognised image format (not JPEG, PNG, WebP or BMP)");
}

dt_code dt_image_probe(const void *bytes, size_t len, dt_image_format *fmt, int *width, int *height,
                       dt_status *st)
{
    dt_image img;
    dt_image_info info;
    /* A probe reports the size whatever it is: limits are the decoder's job. */
    dt_image_limits any = {INT64_MAX, INT32_MAX};
    dt_code rc = dispatch(bytes, len, &any, NULL, 1, &img, &info, st);
    if (fmt)
        *fmt = info.format;
    if (width)
        *width = rc == DT_OK ? info.width : 0;
    if (height)
        *height = rc == DT_OK ? info.height : 0;
    return rc;
}

dt_code dt_image_decode(const void *bytes, size_t len, const dt_image_limits *lim, const dt_image_hint *hint,
                        dt_image *out, dt_image_info *info, dt_status *st)
{
    dt_image_info tmp;
    dt_code rc = dispatch(bytes, len, lim, hint, 0, out, info ? info : &tmp, st);
    if (rc != DT_OK) {
        dt_image_release(out);
        return rc;
    }
    return DT_OK;
}

void dt_image_release(dt_image *img)
{
    if (!img)
        return;
    dt_free(img->rgb);
    memset(img, 0, sizeof *img);
}

/* ---- EXIF ----------------------------------------------------------------- */

int dt_exif_orientation(const uint8_t *p, size_t len)
{
    if (!p || len < 6 + 8 || memcmp(p, "Exif\0\0", 6) != 0)
        return 1;
    const uint8_t *t = p + 6; /* TIFF header; offsets are relative to it */
    size_t tl = len - 6;
    int le;
    if (t[0] == 'I' && t[1] == 'I')
        le = 1;
    else if (t[0] == 'M' && t[1] == 'M')
        le = 0;
    else
        return 1;
    uint16_t magic = le ? dt_rd_le16(t + 2) : dt_rd_be16(t + 2);
    if (magic != 42)
        return 1;
    uint32_t ifd = le ? dt_rd_le32(t + 4) : dt_rd_be32(t + 4);
    if (ifd > tl || tl - ifd < 2)
        return 1;
    uint16_t n = le ? dt_rd_le16(t + ifd) : dt_rd_be16(t + ifd);
    size_t pos = (size_t)ifd + 2;
    for (uint16_t i = 0; i < n; i++, pos += 12) {
        if (pos > tl || tl - pos < 12)
            return 1;
        const uint8_t *e = t + pos;
        uint16_t tag = le ? dt_rd_le16(e) : dt_rd_be16(e);
        if (tag != 0x0112)
            continue;
        uint16_t type = le ? dt_rd_le16(e + 2) : dt_rd_be16(e + 2);
        uint32_t count = le ? dt_rd_le32(e + 4) : dt_rd_be32(e + 4);
        if (type != 3 || count < 1) /* SHORT, stored in the value field */
            return 1;
        uint16_t v = le ? dt_rd_le16(e + 8) : dt_rd_be16(e + 8);
        return (v >= 1 && v <= 8) ? v : 1;
    }
    return 1;
}

dt_code dt_image_orient(const uint8_t *src, int w, int h, int orientation, uint8_t **dst, int *dw, int *dh,
                        dt_status *st)
{
    *dst = NULL;
    *dw = w;
    *dh = h;
    if (orientation <= 1 || orientation > 8)
        return DT_OK;
    int swap = orientation >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    size_t n;
    if (!dt_mul_size((size_t)w * (size_t)h, 3, &n))
        return dt_fail(st, DT_ELIMIT, "image too large to orient");
    uint8_t *d = dt_malloc(n);
    if (!d)
        return dt_fail(st, DT_ENOMEM, "out of memory orienting a %dx%d image", w, h);
    for (int y = 0; y < oh; y++) {
        uint8_t *row = d + (size_t)y * ow * 3;
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            switch (orientation) {
            case 2: sx = w - 1 - x; sy = y; break;
            case 3: sx = w - 1 - x; sy = h - 1 - y; break;
            case 4: sx = x; sy = h - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = h - 1 - x; break;
            case 7: sx = w - 1 - y; sy = h - 1 - x; break;
            default: sx = w - 1 - y; sy = x; break; /* 8 */
            }
            const uint8_t *s = src + ((size_t)sy * w + sx) * 3;
            row[x * 3 + 0] = s[0];
            row[x * 3 + 1] = s[1];
            row[x * 3 + 2] = s[2];
        }
    }
    *dst = d;
    *dw = ow;
    *dh = oh;
    return DT_OK;
}
