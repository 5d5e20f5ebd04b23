/* image_png.c — PNG via libspng, allocating through dt_malloc.
 *
 * libspng converts every colour type and bit depth to RGB8 (16-bit samples
 * keep their high byte, palettes are expanded, alpha is dropped as OpenCV's
 * IMREAD_COLOR does).  Before decoding we walk the chunk list ourselves so
 * that a file cut anywhere before IEND is reported as truncated, even when
 * the cut falls after the last image data. */
#include <spng.h>
#include <string.h>

#include "base/alloc.h"
#include "vision/image_internal.h"

#define PNG_MAX_CHUNK (64u << 20)

/* Walk chunks from the signature to IEND: every length must fit. */
static dt_code png_check_structure(const uint8_t *b, size_t len, dt_status *st)
{
    size_t pos = 8;
    for (;;) {
        if (len - pos < 12)
            return dt_fail(st, DT_ECORRUPT, "PNG: truncated file (no IEND chunk after %zu bytes)", len);
        uint32_t n = dt_rd_be32(b + pos);
        if (n > 0x7fffffffu)
            return dt_fail(st, DT_ECORRUPT, "PNG: invalid chunk length %u at offset %zu", n, pos);
        if ((size_t)n > len - pos - 12)
            return dt_fail(st, DT_ECORRUPT, "PNG: truncated file (chunk '%.4s' at offset %zu needs %u bytes, %zu left)",
                           (const char *)b + pos + 4, pos, n, len - pos - 12);
        if (!memcmp(b + pos + 4, "IEND", 4))
            return DT_OK;
        pos += 12 + (size_t)n;
    }
}

/* libspng reports a failed allocation inside zlib (inflate's window) as
 * SPNG_EIDAT_STREAM, "corrupt", and its allocator callbacks carry no user
 * pointer: so the callbacks note a failure in this per-thread flag, which
 * each decode clears first and consults when an error comes back. */
static _Thread_local int tl_png_oom;

static void *png_malloc(size_t n)
{
    void *p = dt_malloc(n);
    tl_png_oom |= !p;
    return p;
}

static void *png_realloc(void *q, size_t n)
{
    void *p = dt_realloc(q, n);
    tl_png_oom |= !p;
    return p;
}

static void *png_calloc(size_t c, size_t n)
{
    void *p = dt_calloc(c, n);
    tl_png_oom |= !p;
    return p;
}

static dt_code spng_code(int err)
{
    if (tl_png_oom)
        return DT_ENOMEM;
    switch (err) {
    case SPNG_EMEM:
    case SPNG_EZLIB_INIT: return DT_ENOMEM;
    case SPNG_EUSER_WIDTH:
    case SPNG_EUSER_HEIGHT:
    case SPNG_ECHUNK_LIMITS:
    case SPNG_EOVERFLOW: return DT_ELIMIT;
    default: return DT_ECORRUPT;
    }
}

dt_code dt_image_decode_png(const uint8_t *b, size_t len, const dt_image_limits *lim, int probe_only,
                            dt_image *out, dt_image_info *info, dt_status *st)
{
    dt_image_limits l = dt_image_limits_resolve(lim);
    struct spng_alloc al = {png_malloc, png_realloc, png_calloc, dt_free};
    tl_png_oom = 0;
    spng_ctx *ctx = spng_ctx_new2(&al, 0);
    if (!ctx)
        return dt_fail(st, DT_ENOMEM, "PNG: out of memory");
    dt_code rc = DT_OK;
    uint8_t *pix = NULL;
    int err;
    struct spng_ihdr ihdr;
    spng_set_image_limits(ctx, (uint32_t)l.max_side, (uint32_t)l.max_side);
    spng_set_chunk_limits(ctx, PNG_MAX_CHUNK, PNG_MAX_CHUNK);
    if ((err = spng_set_png_buffer(ctx, b, len)) || (err = spng_get_ihdr(ctx, &ihdr))) {
        /* spng checks its own width/height limits while reading IHDR: report
         * those with the size, which we read from IHDR ourselves. */
        if ((err == SPNG_EUSER_WIDTH || err == SPNG_EUSER_HEIGHT) && len >= 24)
            rc = dt_image_check_size("PNG", dt_rd_be32(b + 16), dt_rd_be32(b + 20), lim, st);
        if (rc == DT_OK)
            rc = dt_fail(st, spng_code(err), "PNG: %s", spng_strerror(err));
        goto done;
    }
    info->width = (int)ihdr.width;
    info->height = (int)ihdr.height;
    if ((rc = dt_image_check_size("PNG", ihdr.width, ihdr.height, lim, st)) != DT_OK || probe_only)
        goto done;
    if ((rc = png_check_structure(b, len, st)) != DT_OK)
        goto done;
    size_t n;
    if ((err = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &n))) {
        rc = dt_fail(st, spng_code(err), "PNG: %s", spng_strerror(err));
        goto done;
    }
    pix = dt_malloc(n);
    if (!pix) {
        rc = dt_fail(st, DT_ENOMEM, "PNG: out of memory for a %ux%u image", ihdr.width, ihdr.height);
        goto done;
    }
    if ((err = spng_decode_image(ctx, pix, n, SPNG_FMT_RGB8, 0))) {
        rc = dt_fail(st, spng_code(err), "PNG: %s", spng_strerror(err));
        goto done;
    }
    out->width = (int)ihdr.width;
    out->height = (int)ihdr.height;
    out->rgb = pix;
    pix = NULL;
done:
    dt_free(pix);
    spng_ctx_free(ctx);
    return rc;
}
