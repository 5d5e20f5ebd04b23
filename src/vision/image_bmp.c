/* image_bmp.c — uncompressed 24/32-bit BMP, parsed here (the format is a
 * header and raw rows; a library would add nothing but attack surface).
 * 32-bit images may use BI_BITFIELDS masks; alpha is dropped. */
#include <string.h>

#include "base/alloc.h"
#include "vision/image_internal.h"

enum { BI_RGB = 0, BI_BITFIELDS = 3, BI_ALPHABITFIELDS = 6 };

typedef struct mask {
    uint32_t m;
    int shift;
    uint32_t max; /* m >> shift */
} mask;

static int mask_init(mask *k, uint32_t m)
{
    k->m = m;
    k->shift = 0;
    k->max = 0;
    if (!m)
        return 1;
    while (!((m >> k->shift) & 1))
        k->shift++;
    k->max = m >> k->shift;
    return (k->max & (k->max + 1)) == 0; /* contiguous bits */
}

static uint8_t mask_get(const mask *k, uint32_t px)
{
    if (!k->max)
        return 0;
    uint32_t v = (px & k->m) >> k->shift;
    return (uint8_t)(((uint64_t)v * 255 + k->max / 2) / k->max);
}

dt_code dt_image_decode_bmp(const uint8_t *b, size_t len, const dt_image_limits *lim, int probe_only,
                            dt_image *out, dt_image_info *info, dt_status *st)
{
    if (len < 14 + 12)
        return dt_fail(st, DT_ECORRUPT, "BMP: truncated header (%zu bytes)", len);
    uint32_t off = dt_rd_le32(b + 10);
    uint32_t dib = dt_rd_le32(b + 14);
    int64_t w, h;
    int bpp, comp = BI_RGB;
    if (dib == 12) {
        w = dt_rd_le16(b + 18);
        h = dt_rd_le16(b + 20);
        bpp = dt_rd_le16(b + 24);
    } else if (dib >= 40 && dib <= 1024) {
        if (len < 14 + 40)
            return dt_fail(st, DT_ECORRUPT, "BMP: truncated header (%zu bytes)", len);
        w = (int32_t)dt_rd_le32(b + 18);
        h = (int32_t)dt_rd_le32(b + 22);
        bpp = dt_rd_le16(b + 28);
        comp = (int)dt_rd_le32(b + 30);
    } else {
        return dt_fail(st, DT_ECORRUPT, "BMP: invalid header size %u", dib);
    }
    int top_down = h < 0;
    if (top_down)
        h = -h;
    info->width = (int)(w > 0 && w <= INT32_MAX ? w : 0);
    info->height = (int)(h <= INT32_MAX ? h : 0);
    dt_code rc = dt_image_check_size("BMP", w, h, lim, st);
    if (rc != DT_OK)
        return rc;
    if (!((bpp == 24 && comp == BI_RGB) ||
          (bpp == 32 && (comp == BI_RGB || comp == BI_BITFIELDS || comp == BI_ALPHABITFIELDS))))
        return dt_fail(st, DT_EUNSUPPORTED,
                       "BMP: %d bits per pixel with compression %d not supported (24/32-bit uncompressed only)", bpp,
                       comp);
    if (probe_only)
        return DT_OK;

    mask mr, mg, mb;
    if (comp == BI_RGB) {
        mask_init(&mr, 0x00ff0000u);
        mask_init(&mg, 0x0000ff00u);
        mask_init(&mb, 0x000000ffu);
    } else {
        /* After a 40-byte header or inside a larger one: at offset 54 either way. */
        if (len < 54 + 12)
            return dt_fail(st, DT_ECORRUPT, "BMP: truncated colour masks");
        if (!mask_init(&mr, dt_rd_le32(b + 54)) || !mask_init(&mg, dt_rd_le32(b + 58)) ||
            !mask_init(&mb, dt_rd_le32(b + 62)))
            return dt_fail(st, DT_ECORRUPT, "BMP: non-contiguous colour mask");
    }
    size_t stride = (((size_t)w * (size_t)bpp + 31) / 32) * 4;
    size_t need = stride * (size_t)h;
    if (off < 14 + dib || off > len || len - off < need)
        return dt_fail(st, DT_ECORRUPT, "BMP: truncated pixel data (%zu bytes needed at offset %u, file has %zu)",
                       need, off, len);
    uint8_t *pix = dt_malloc((size_t)w * (size_t)h * 3);
    if (!pix)
        return dt_fail(st, DT_ENOMEM, "BMP: out of memory for a %lldx%lld image", (long long)w, (long long)h);
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *row = b + off + stride * (size_t)(top_down ? y : h - 1 - y);
        uint8_t *d = pix + (size_t)y * (size_t)w * 3;
        if (bpp == 24) {
            for (int64_t x = 0; x < w; x++) {
                d[3 * x + 0] = row[3 * x + 2];
                d[3 * x + 1] = row[3 * x + 1];
                d[3 * x + 2] = row[3 * x + 0];
            }
        } else {
            for (int64_t x = 0; x < w; x++) {
                uint32_t px = dt_rd_le32(row + 4 * x);
                d[3 * x + 0] = mask_get(&mr, px);
                d[3 * x + 1] = mask_get(&mg, px);
                d[3 * x + 2] = mask_get(&mb, px);
            }
        }
    }
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = pix;
    return DT_OK;
}
