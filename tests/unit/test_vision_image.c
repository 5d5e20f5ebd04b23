/* test_vision_image.c — image decoding: every format generated here with the
 * real encoders (libjpeg-turbo, libspng, libwebp; BMP by hand), EXIF
 * orientations, DCT scaling and its coordinate mapping, limits checked
 * before allocating, and hostile input (every truncation, byte flips). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <spng.h>
#include <turbojpeg.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include "base/alloc.h"
#include "testlib.h"
#include "vision/image.h"

typedef struct buf {
    uint8_t *p;
    size_t n;
} buf;

static void buf_free(buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

/* ---- encoders ------------------------------------------------------------------ */

static buf jpeg_encode(const uint8_t *px, int w, int h, int pf, int subsamp, int quality)
{
    buf b = {0};
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    unsigned long n = 0;
    if (tj && tjCompress2(tj, px, w, 0, h, pf, &out, &n, subsamp, quality, 0) == 0) {
        b.p = malloc(n);
        memcpy(b.p, out, n);
        b.n = n;
    }
    tjFree(out);
    if (tj)
        tjDestroy(tj);
    return b;
}

/* Insert an APP1 Exif segment with one Orientation entry after SOI. */
static buf jpeg_with_exif(const buf *j, int orientation, int big_endian)
{
    uint8_t app[2 + 2 + 6 + 8 + 2 + 12 + 4];
    size_t k = 0;
    app[k++] = 0xFF;
    app[k++] = 0xE1;
    uint16_t seglen = (uint16_t)(sizeof app - 2);
    app[k++] = (uint8_t)(seglen >> 8);
    app[k++] = (uint8_t)seglen;
    memcpy(app + k, "Exif\0\0", 6);
    k += 6;
#define P16(v) do { if (big_endian) { app[k++] = (uint8_t)((v) >> 8); app[k++] = (uint8_t)(v); } \
                    else { app[k++] = (uint8_t)(v); app[k++] = (uint8_t)((v) >> 8); } } while (0)
#define P32(v) do { if (big_endian) { P16((uint32_t)(v) >> 16); P16((v) & 0xffff); } \
                    else { P16((v) & 0xffff); P16((uint32_t)(v) >> 16); } } while (0)
    app[k++] = big_endian ? 'M' : 'I';
    app[k++] = big_endian ? 'M' : 'I';
    P16(42);
    P32(8);
    P16(1);          /* one entry */
    P16(0x0112);     /* Orientation */
    P16(3);          /* SHORT */
    P32(1);
    P16(orientation);
    P16(0);
    P32(0);          /* no next IFD */
#undef P16
#undef P32
    buf b = {malloc(j->n + sizeof app), j->n + sizeof app};
    memcpy(b.p, j->p, 2);
    memcpy(b.p + 2, app, sizeof app);
    memcpy(b.p + 2 + sizeof app, j->p + 2, j->n - 2);
    return b;
}

static buf png_encode(const void *px, size_t len, int w, int h, int depth, int ctype, const uint8_t *plte, int nplte)
{
    buf b = {0};
    spng_ctx *e = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(e, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ih = {(uint32_t)w, (uint32_t)h, (uint8_t)depth, (uint8_t)ctype, 0, 0, 0};
    spng_set_ihdr(e, &ih);
    if (plte) {
        struct spng_plte p = {0};
        p.n_entries = (uint32_t)nplte;
        for (int i = 0; i < nplte; i++) {
            p.entries[i].red = plte[3 * i];
            p.entries[i].green = plte[3 * i + 1];
            p.entries[i].blue = plte[3 * i + 2];
        }
        spng_set_plte(e, &p);
    }
    int err = spng_encode_image(e, px, len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (!err) {
        size_t n;
        void *out = spng_get_png_buffer(e, &n, &err);
        if (out && !err) {
            b.p = out;
            b.n = n;
        }
    } else {
        fprintf(stderr, "  spng encode: %s\n", spng_strerror(err));
    }
    spng_ctx_free(e);
    return b;
}

static buf webp_lossless(const uint8_t *rgb, int w, int h, int alpha)
{
    uint8_t *out = NULL;
    size_t n = alpha ? WebPEncodeLosslessRGBA(rgb, w, h, w * 4, &out) : WebPEncodeLosslessRGB(rgb, w, h, w * 3, &out);
    buf b = {malloc(n), n};
    memcpy(b.p, out, n);
    WebPFree(out);
    return b;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static void put_le24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
}

/* An animated WebP built by hand: VP8X + ANIM + one ANMF per frame, each
 * holding the VP8L chunk of a lossless still image. */
static buf webp_animated(const uint8_t *const *frames_rgba, int nframes, int w, int h)
{
    size_t cap = 64;
    buf parts[8];
    for (int f = 0; f < nframes; f++) {
        parts[f] = webp_lossless(frames_rgba[f], w, h, 1);
        cap += parts[f].n + 32;
    }
    uint8_t *o = calloc(1, cap);
    size_t k = 12;
    memcpy(o, "RIFF", 4);
    memcpy(o + 8, "WEBP", 4);
    memcpy(o + k, "VP8X", 4);
    put_le32(o + k + 4, 10);
    o[k + 8] = 0x02 | 0x10; /* animation, alpha */
    put_le24(o + k + 12, (uint32_t)(w - 1));
    put_le24(o + k + 15, (uint32_t)(h - 1));
    k += 18;
    memcpy(o + k, "ANIM", 4);
    put_le32(o + k + 4, 6);
    k += 14; /* background 0, loop count 0 */
    for (int f = 0; f < nframes; f++) {
        const uint8_t *chunk = parts[f].p + 12; /* skip RIFF header: the VP8L chunk */
        size_t clen = parts[f].n - 12;
        memcpy(o + k, "ANMF", 4);
        put_le32(o + k + 4, (uint32_t)(16 + clen));
        put_le24(o + k + 8, 0);
        put_le24(o + k + 11, 0);
        put_le24(o + k + 14, (uint32_t)(w - 1));
        put_le24(o + k + 17, (uint32_t)(h - 1));
        put_le24(o + k + 20, 100);
        o[k + 23] = 0;
        memcpy(o + k + 24, chunk, clen);
        k += 24 + clen;
        if (k & 1)
            k++;
        buf_free(&parts[f]);
    }
    put_le32(o + 4, (uint32_t)(k - 8));
    buf b = {o, k};
    return b;
}

static buf bmp_encode(const uint8_t *rgb, int w, int h, int bpp, int top_down, int bitfields)
{
    size_t stride = (((size_t)w * bpp + 31) / 32) * 4;
    uint32_t hdr = bitfields ? 108 : 40;
    uint32_t off = 14 + hdr;
    size_t n = off + stride * h;
    uint8_t *b = calloc(1, n);
    b[0] = 'B';
    b[1] = 'M';
    put_le32(b + 2, (uint32_t)n);
    put_le32(b + 10, off);
    put_le32(b + 14, hdr);
    put_le32(b + 18, (uint32_t)w);
    put_le32(b + 22, (uint32_t)(top_down ? -h : h));
    b[26] = 1;
    b[28] = (uint8_t)bpp;
    put_le32(b + 30, bitfields ? 3 : 0);
    if (bitfields) { /* R, G, B masks in an unusual order: R in the low byte */
        put_le32(b + 54, 0x000000ffu);
        put_le32(b + 58, 0x0000ff00u);
        put_le32(b + 62, 0x00ff0000u);
        put_le32(b + 66, 0xff000000u);
    }
    for (int y = 0; y < h; y++) {
        uint8_t *row = b + off + stride * (size_t)(top_down ? y : h - 1 - y);
        for (int x = 0; x < w; x++) {
            const uint8_t *s = rgb + ((size_t)y * w + x) * 3;
            if (bpp == 24) {
                row[3 * x] = s[2];
                row[3 * x + 1] = s[1];
                row[3 * x + 2] = s[0];
            } else if (bitfields) {
                row[4 * x] = s[0];
                row[4 * x + 1] = s[1];
                row[4 * x + 2] = s[2];
                row[4 * x + 3] = 255;
            } else {
                row[4 * x] = s[2];
                row[4 * x + 1] = s[1];
                row[4 * x + 2] = s[0];
                row[4 * x + 3] = 0;
            }
        }
    }
    buf r = {b, n};
    return r;
}

/* ---- helpers ------------------------------------------------------------------- */

static uint8_t *pattern(int w, int h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            q[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            q[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            q[2] = (uint8_t)((x + y) * 7);
        }
    return p;
}

static int max_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m)
            m = d;
    }
    return m;
}

/* Four flat quadrants: TL red, TR green, BL blue, BR white. */
static const uint8_t Q_R[3] = {255, 0, 0}, Q_G[3] = {0, 255, 0}, Q_B[3] = {0, 0, 255}, Q_W[3] = {255, 255, 255};
static uint8_t *quadrants(int w, int h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *c = y < h / 2 ? (x < w / 2 ? Q_R : Q_G) : (x < w / 2 ? Q_B : Q_W);
            memcpy(p + ((size_t)y * w + x) * 3, c, 3);
        }
    return p;
}

static int near_color(const uint8_t *px, const uint8_t *c)
{
    return abs(px[0] - c[0]) < 40 && abs(px[1] - c[1]) < 40 && abs(px[2] - c[2]) < 40;
}

static const uint8_t *at(const dt_image *im, int x, int y) { return im->rgb + ((size_t)y * im->width + x) * 3; }

/* Every prefix shorter than the file must fail cleanly. */
static void truncation_sweep(const buf *b, const char *what)
{
    int bad = 0;
    for (size_t n = 0; n < b->n; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan catches over-reads */
        memcpy(copy, b->p, n);
        dt_image im;
        dt_status st = {0};
        dt_code rc = dt_image_decode(copy, n, NULL, NULL, &im, NULL, &st);
        if (rc == DT_OK) {
            if (!bad)
                fprintf(stderr, "  %s: truncated to %zu of %zu bytes decoded without error\n", what, n, b->n);
            bad++;
            dt_image_release(&im);
        } else if (im.rgb) {
            bad++;
        }
        free(copy);
    }
    CHECKF(bad == 0, "%s: %d truncations accepted", what, bad);
}

/* Flip bytes all over the file: any result is fine, a crash is not. */
static void corruption_sweep(const buf *b)
{
    unsigned seed = 12345;
    uint8_t *copy = malloc(b->n);
    for (int it = 0; it < 300; it++) {
        memcpy(copy, b->p, b->n);
        int flips = 1 + it % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % b->n;
            seed = seed * 1103515245u + 12345u;
            copy[pos] ^= (uint8_t)(1 + (seed >> 16) % 255);
        }
        dt_image im;
        dt_status st = {0};
        if (dt_image_decode(copy, b->n, NULL, NULL, &im, NULL, &st) == DT_OK)
            dt_image_release(&im);
    }
    free(copy);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_sniff(void)
{
    CHECK(dt_image_sniff("\xff\xd8\xff\xe0", 4) == DT_IMAGE_JPEG);
    CHECK(dt_image_sniff("\x89PNG\r\n\x1a\n", 8) == DT_IMAGE_PNG);
    CHECK(dt_image_sniff("RIFF\0\0\0\0WEBP", 12) == DT_IMAGE_WEBP);
    CHECK(dt_image_sniff("BM", 2) == DT_IMAGE_BMP);
    CHECK(dt_image_sniff("GIF89a", 6) == DT_IMAGE_UNKNOWN);
    dt_image im;
    dt_status st = {0};
    CHECK(dt_image_decode("GIF89a\1\0\1\0", 10, NULL, NULL, &im, NULL, &st) == DT_EUNSUPPORTED);
    CHECK(strstr(st.msg, "GIF") != NULL);
    CHECK(dt_image_decode("hello world", 11, NULL, NULL, &im, NULL, &st) == DT_EUNSUPPORTED);
    CHECK(dt_image_decode("", 0, NULL, NULL, &im, NULL, &st) == DT_EINVAL);
    CHECK(dt_image_decode(NULL, 5, NULL, NULL, &im, NULL, &st) == DT_EINVAL);
}

static void test_jpeg_rgb(void)
{
    int w = 67, h = 45;
    uint8_t *px = pattern(w, h);
    buf j = jpeg_encode(px, w, h, TJPF_RGB, TJSAMP_444, 98);
    CHECK(j.n > 0);
    dt_image im;
    dt_image_info info;
    dt_status st = {0};
    CHECKF(dt_image_decode(j.p, j.n, NULL, NULL, &im, &info, &st) == DT_OK, "%s", st.msg);
    CHECK(im.width == w && im.height == h);
    CHECK(info.format == DT_IMAGE_JPEG && info.width == w && info.height == h && info.scale_denom == 1);
    CHECK(info.orientation == 1);
    CHECK(im.rgb && max_diff(im.rgb, px, (size_t)w * h * 3) <= 12);
    int pw = 0, ph = 0;
    dt_image_format f;
    CHECK(dt_image_probe(j.p, j.n, &f, &pw, &ph, &st) == DT_OK && f == DT_IMAGE_JPEG && pw == w && ph == h);
    dt_image_release(&im);
    buf_free(&j);
    free(px);
}

static void test_jpeg_gray_cmyk(void)
{
    int w = 32, h = 24;
    uint8_t *g = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++)
        g[i] = (uint8_t)(i * 3);
    buf j = jpeg_encode(g, w, h, TJPF_GRAY, TJSAMP_GRAY, 100);
    dt_image im;
    dt_status st = {0};
    CHECKF(dt_image_decode(j.p, j.n, NULL, NULL, &im, NULL, &st) == DT_OK, "%s", st.msg);
    int ok = 1;
    for (int i = 0; i < w * h && im.rgb; i++)
        ok &= im.rgb[3 * i] == im.rgb[3 * i + 1] && im.rgb[3 * i + 1] == im.rgb[3 * i + 2] &&
              abs(im.rgb[3 * i] - g[i]) <= 6;
    CHECK(ok);
    dt_image_release(&im);
    buf_free(&j);
    free(g);

    /* CMYK (stored as YCCK): converted as c*k/255 (Adobe's inverted CMYK). */
    uint8_t *c = malloc((size_t)w * h * 4);
    for (int i = 0; i < w * h; i++) {
        c[4 * i] = 200;
        c[4 * i + 1] = 100;
        c[4 * i + 2] = 30;
        c[4 * i + 3] = 220;
    }
    j = jpeg_encode(c, w, h, TJPF_CMYK, TJSAMP_444, 100);
    CHECK(j.n > 0);
    CHECKF(dt_image_decode(j.p, j.n, NULL, NULL, &im, NULL, &st) == DT_OK, "%s", st.msg);
    if (im.rgb) {
        const uint8_t *p = at(&im, 10, 10);
        CHECKF(abs(p[0] - 200 * 220 / 255) <= 6 && abs(p[1] - 100 * 220 / 255) <= 6 && abs(p[2] - 30 * 220 / 255) <= 6,
               "cmyk -> %d %d %d", p[0], p[1], p[2]);
    }
    dt_image_release(&im);
    buf_free(&j);
    free(c);
}

static void test_exif_orientation(void)
{
    int w = 64, h = 32;
    uint8_t *q = quadrants(w, h);
    buf j = jpeg_encode(q, w, h, TJPF_RGB, TJSAMP_444, 95);
    /* Expected displayed quadrants TL, TR, BL, BR per orientation. */
    const uint8_t *exp[9][4] = {
        {0},
        {Q_R, Q_G, Q_B, Q_W}, {Q_G, Q_R, Q_W, Q_B}, {Q_W, Q_B, Q_G, Q_R}, {Q_B, Q_W, Q_R, Q_G},
        {Q_R, Q_B, Q_G, Q_W}, {Q_B, Q_R, Q_W, Q_G}, {Q_W, Q_G, Q_B, Q_R}, {Q_G, Q_W, Q_R, Q_B},
    };
    for (int be = 0; be < 2; be++) {
        for (int o = 1; o <= 8; o++) {
            buf e = jpeg_with_exif(&j, o, be);
            dt_image im;
            dt_image_info info;
            dt_status st = {0};
            CHECKF(dt_image_decode(e.p, e.n, NULL, NULL, &im, &info, &st) == DT_OK, "%s", st.msg);
            int sw = o >= 5;
            CHECKF(info.orientation == o, "orientation %d read as %d", o, info.orientation);
            CHECK(im.width == (sw ? h : w) && im.height == (sw ? w : h));
            CHECK(info.width == im.width && info.height == im.height);
            if (im.rgb) {
                int W = im.width, H = im.height;
                CHECKF(near_color(at(&im, W / 4, H / 4), exp[o][0]), "o=%d TL", o);
                CHECKF(near_color(at(&im, 3 * W / 4, H / 4), exp[o][1]), "o=%d TR", o);
                CHECKF(near_color(at(&im, W / 4, 3 * H / 4), exp[o][2]), "o=%d BL", o);
                CHECKF(near_color(at(&im, 3 * W / 4, 3 * H / 4), exp[o][3]), "o=%d BR", o);
            }
            dt_image_release(&im);
            buf_free(&e);
        }
    }
    /* Malformed EXIF payloads fall back to 1, never read out of bounds. */
    uint8_t bad[40];
    memcpy(bad, "Exif\0\0II\x2a\0", 10);
    put_le32(bad + 10, 0xfffffff0u); /* IFD offset far outside */
    for (size_t n = 0; n <= 14; n++)
        CHECK(dt_exif_orientation(bad, n) == 1);
    memset(bad + 10, 0, 30);
    put_le32(bad + 10, 8);
    bad[14] = 0xff; /* 255 entries, none present */
    bad[15] = 0;
    CHECK(dt_exif_orientation(bad, sizeof bad) == 1);
    CHECK(dt_exif_orientation(NULL, 0) == 1);
    buf_free(&j);
    free(q);
}

/* DCT scaling picks 1/2..1/8 from the hint, and info maps decoded pixels
 * back to the original, also on flipped axes with a partial last block. */
static void test_jpeg_dct_scale(void)
{
    int w = 1001, h = 504, edge = 600; /* black left of x=600, white right */
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memset(p + ((size_t)y * w + x) * 3, x < edge ? 0 : 255, 3);
    buf j = jpeg_encode(p, w, h, TJPF_RGB, TJSAMP_444, 95);
    dt_image im;
    dt_image_info info;
    dt_status st = {0};

    dt_image_hint hint = {128, 128, 1}; /* fits 128x64.4: 1/8 gives 126x63 < 128 -> 1/4 */
    CHECK(dt_image_decode(j.p, j.n, NULL, &hint, &im, &info, &st) == DT_OK);
    CHECKF(info.scale_denom == 4, "denom %d", info.scale_denom);
    CHECK(im.width == 251 && im.height == 126 && info.width == w && info.height == h);
    dt_image_release(&im);

    hint.width = hint.height = 416;
    CHECK(dt_image_decode(j.p, j.n, NULL, &hint, &im, &info, &st) == DT_OK);
    CHECKF(info.scale_denom == 2, "denom %d", info.scale_denom); /* 501 >= 416; 251 < 416 */
    dt_image_release(&im);

    hint.width = 100;
    hint.height = 50;
    hint.keep_ratio = 0;
    CHECK(dt_image_decode(j.p, j.n, NULL, &hint, &im, &info, &st) == DT_OK);
    CHECK(info.scale_denom == 8);
    dt_image_release(&im);

    CHECK(dt_image_decode(j.p, j.n, NULL, NULL, &im, &info, &st) == DT_OK);
    CHECK(info.scale_denom == 1 && im.width == w);
    dt_image_release(&im);

    /* Mirrored (orientation 2) at 1/8: the edge shows at 1001 - 600 = 401. */
    for (int o = 1; o <= 2; o++) {
        buf e = jpeg_with_exif(&j, o, 0);
        hint.width = 100;
        hint.height = 50;
        CHECK(dt_image_decode(e.p, e.n, NULL, &hint, &im, &info, &st) == DT_OK);
        CHECK(info.scale_denom == 8 && im.width == 126);
        int row = im.height / 2, found = -1;
        for (int x = 1; x < im.width && found < 0 && im.rgb; x++) {
            int a = at(&im, x - 1, row)[0], b = at(&im, x, row)[0];
            if ((a < 128) != (b < 128))
                found = x;
        }
        float orig = ((float)found - info.offset_x) / info.scale_x;
        int expect = o == 1 ? edge : w - edge;
        CHECKF(fabsf(orig - (float)expect) <= 8.f, "o=%d edge maps to %.1f, expected %d (offset %.3f)", o, orig,
               expect, info.offset_x);
        if (o == 2)
            CHECK_NEAR(info.offset_x, 126 - 1001 / 8.0, 1e-4);
        dt_image_release(&im);
        buf_free(&e);
    }
    buf_free(&j);
    free(p);
}

static void test_png(void)
{
    int w = 19, h = 13;
    uint8_t *rgb = pattern(w, h);
    dt_image im;
    dt_status st = {0};

    buf b = png_encode(rgb, (size_t)w * h * 3, w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR, NULL, 0);
    CHECK(b.n > 0);
    CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_OK, "%s", st.msg);
    CHECK(im.width == w && im.height == h && im.rgb && !memcmp(im.rgb, rgb, (size_t)w * h * 3));
    dt_image_release(&im);
    truncation_sweep(&b, "png");
    corruption_sweep(&b);
    buf_free(&b);

    /* RGBA: alpha dropped, colour kept. */
    uint8_t *rgba = malloc((size_t)w * h * 4);
    for (int i = 0; i < w * h; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i * 11);
    }
    b = png_encode(rgba, (size_t)w * h * 4, w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, NULL, 0);
    CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_OK, "%s", st.msg);
    CHECK(im.rgb && !memcmp(im.rgb, rgb, (size_t)w * h * 3));
    dt_image_release(&im);
    buf_free(&b);

    /* 16-bit RGB (both bytes equal, so endianness cannot matter) -> high byte. */
    uint16_t *rgb16 = malloc((size_t)w * h * 3 * 2);
    for (int i = 0; i < w * h * 3; i++)
        rgb16[i] = (uint16_t)(rgb[i] * 257);
    b = png_encode(rgb16, (size_t)w * h * 6, w, h, 16, SPNG_COLOR_TYPE_TRUECOLOR, NULL, 0);
    CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_OK, "%s", st.msg);
    CHECK(im.rgb && max_diff(im.rgb, rgb, (size_t)w * h * 3) <= 1);
    dt_image_release(&im);
    buf_free(&b);

    /* 8-bit and 16-bit gray. */
    uint8_t *g = malloc((size_t)w * h);
    uint16_t *g16 = malloc((size_t)w * h * 2);
    for (int i = 0; i < w * h; i++) {
        g[i] = (uint8_t)(i * 5);
        g16[i] = (uint16_t)(g[i] * 257);
    }
    for (int depth = 8; depth <= 16; depth += 8) {
        b = png_encode(depth == 8 ? (void *)g : (void *)g16, (size_t)w * h * depth / 8, w, h, depth,
                       SPNG_COLOR_TYPE_GRAYSCALE, NULL, 0);
        CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_OK, "gray%d: %s", depth, st.msg);
        int ok = im.rgb != NULL;
        for (int i = 0; ok && i < w * h; i++)
            ok = abs(im.rgb[3 * i] - g[i]) <= 1 && im.rgb[3 * i] == im.rgb[3 * i + 1] &&
                 im.rgb[3 * i] == im.rgb[3 * i + 2];
        CHECKF(ok, "gray%d pixels", depth);
        dt_image_release(&im);
        buf_free(&b);
    }

    /* Palette. */
    uint8_t plte[4 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    uint8_t *idx = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++)
        idx[i] = (uint8_t)(i % 4);
    b = png_encode(idx, (size_t)w * h, w, h, 8, SPNG_COLOR_TYPE_INDEXED, plte, 4);
    CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_OK, "%s", st.msg);
    int ok = im.rgb != NULL;
    for (int i = 0; ok && i < w * h; i++)
        ok = !memcmp(im.rgb + 3 * i, plte + 3 * (i % 4), 3);
    CHECK(ok);
    dt_image_release(&im);
    buf_free(&b);

    free(idx);
    free(g);
    free(g16);
    free(rgb16);
    free(rgba);
    free(rgb);
}

static void test_webp(void)
{
    int w = 23, h = 17;
    uint8_t *rgb = pattern(w, h);
    buf b = webp_lossless(rgb, w, h, 0);
    dt_image im;
    dt_image_info info;
    dt_status st = {0};
    CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, &info, &st) == DT_OK, "%s", st.msg);
    CHECK(info.format == DT_IMAGE_WEBP && im.width == w && im.height == h);
    CHECK(im.rgb && !memcmp(im.rgb, rgb, (size_t)w * h * 3));
    dt_image_release(&im);
    truncation_sweep(&b, "webp");
    corruption_sweep(&b);
    buf_free(&b);

    /* Lossy too. */
    uint8_t *out = NULL;
    size_t n = WebPEncodeRGB(rgb, w, h, w * 3, 95.f, &out);
    CHECK(n > 0 && dt_image_decode(out, n, NULL, NULL, &im, NULL, &st) == DT_OK);
    long sum = 0;
    for (int i = 0; im.rgb && i < w * h * 3; i++)
        sum += abs(im.rgb[i] - rgb[i]);
    CHECKF(im.rgb && sum / (w * h * 3) <= 8, "lossy mean error %ld", sum / (w * h * 3));
    dt_image_release(&im);
    WebPFree(out);

    /* Animated: the first frame. */
    uint8_t *f0 = malloc((size_t)w * h * 4), *f1 = malloc((size_t)w * h * 4);
    for (int i = 0; i < w * h; i++) {
        memcpy(f0 + 4 * i, rgb + 3 * i, 3);
        f0[4 * i + 3] = 255;
        f1[4 * i] = f1[4 * i + 1] = f1[4 * i + 2] = 7;
        f1[4 * i + 3] = 255;
    }
    const uint8_t *frames[2] = {f0, f1};
    b = webp_animated(frames, 2, w, h);
    WebPBitstreamFeatures feat;
    CHECK(WebPGetFeatures(b.p, b.n, &feat) == VP8_STATUS_OK && feat.has_animation);
    CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_OK, "%s", st.msg);
    CHECK(im.width == w && im.height == h && im.rgb && !memcmp(im.rgb, rgb, (size_t)w * h * 3));
    dt_image_release(&im);
    truncation_sweep(&b, "animated webp");
    buf_free(&b);
    free(f0);
    free(f1);
    free(rgb);
}

static void test_bmp(void)
{
    int w = 7, h = 5; /* odd width: row padding */
    uint8_t *rgb = pattern(w, h);
    struct { int bpp, top, bf; } v[] = {{24, 0, 0}, {24, 1, 0}, {32, 0, 0}, {32, 1, 1}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        buf b = bmp_encode(rgb, w, h, v[i].bpp, v[i].top, v[i].bf);
        dt_image im;
        dt_status st = {0};
        CHECKF(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_OK, "bmp %d: %s", v[i].bpp, st.msg);
        CHECKF(im.rgb && im.width == w && im.height == h && !memcmp(im.rgb, rgb, (size_t)w * h * 3),
               "bmp variant %zu pixels", i);
        dt_image_release(&im);
        truncation_sweep(&b, "bmp");
        corruption_sweep(&b);
        buf_free(&b);
    }
    /* 16-bit: recognised, not supported. */
    buf b = bmp_encode(rgb, w, h, 24, 0, 0);
    b.p[28] = 16;
    dt_image im;
    dt_status st = {0};
    CHECK(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_EUNSUPPORTED);
    buf_free(&b);
    free(rgb);
}

static void test_jpeg_hostile(void)
{
    int w = 40, h = 30;
    uint8_t *px = pattern(w, h);
    buf j = jpeg_encode(px, w, h, TJPF_RGB, TJSAMP_420, 90);
    truncation_sweep(&j, "jpeg");
    corruption_sweep(&j);
    /* Progressive too. */
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    unsigned long n = 0;
    CHECK(tjCompress2(tj, px, w, 0, h, TJPF_RGB, &out, &n, TJSAMP_420, 90, TJFLAG_PROGRESSIVE) == 0);
    buf p = {malloc(n), n};
    memcpy(p.p, out, n);
    tjFree(out);
    tjDestroy(tj);
    truncation_sweep(&p, "progressive jpeg");
    corruption_sweep(&p);
    buf_free(&p);
    buf_free(&j);
    free(px);
}

/* A header claiming 60000 x 60000 is refused from the header, before any
 * pixel memory: at most our small decoder state is allocated. */
static void test_limits(void)
{
    int w = 16, h = 16;
    uint8_t *px = pattern(w, h);
    buf j = jpeg_encode(px, w, h, TJPF_RGB, TJSAMP_444, 90);
    /* Patch the SOF0 dimensions. */
    for (size_t i = 2; i + 9 < j.n; i++)
        if (j.p[i] == 0xFF && j.p[i + 1] == 0xC0) {
            j.p[i + 5] = 60000 >> 8;
            j.p[i + 6] = 60000 & 255;
            j.p[i + 7] = 60000 >> 8;
            j.p[i + 8] = 60000 & 255;
            break;
        }
    dt_image im;
    dt_status st = {0};
    long before = dt_alloc_count();
    CHECK(dt_image_decode(j.p, j.n, NULL, NULL, &im, NULL, &st) == DT_ELIMIT);
    CHECKF(dt_alloc_count() - before <= 1, "%ld allocations", dt_alloc_count() - before);
    CHECK(strstr(st.msg, "60000") != NULL);
    int pw, ph;
    CHECK(dt_image_probe(j.p, j.n, NULL, &pw, &ph, &st) == DT_OK && pw == 60000 && ph == 60000);
    buf_free(&j);

    /* Same for PNG (IHDR), BMP and WebP headers. */
    buf b = png_encode(px, (size_t)w * h * 3, w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR, NULL, 0);
    b.p[16] = 0;
    b.p[17] = 0;
    b.p[18] = 60000 >> 8;
    b.p[19] = 60000 & 255;
    b.p[20] = 0;
    b.p[21] = 0;
    b.p[22] = 60000 >> 8;
    b.p[23] = 60000 & 255;
    before = dt_alloc_count();
    dt_code rc = dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st);
    /* libspng checks the IHDR CRC first, which the patch broke: corrupt or limit,
     * but nothing allocated for pixels either way. */
    CHECKF(rc == DT_ELIMIT || rc == DT_ECORRUPT, "png rc %d %s", rc, st.msg);
    CHECK(im.rgb == NULL);
    buf_free(&b);

    b = bmp_encode(px, w, h, 24, 0, 0);
    put_le32(b.p + 18, 60000);
    put_le32(b.p + 22, 60000);
    before = dt_alloc_count();
    CHECK(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_ELIMIT);
    CHECK(dt_alloc_count() == before);
    put_le32(b.p + 22, 0x80000000u); /* INT32_MIN height */
    CHECK(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) != DT_OK);
    buf_free(&b);

    uint8_t *big = calloc((size_t)16 * 16, 3);
    b = webp_lossless(big, 16, 16, 0);
    /* VP8L header: 14-bit width-1 and height-1 after the 0x2f signature byte. */
    uint32_t bits = (uint32_t)(16000 - 1) | (uint32_t)(16000 - 1) << 14;
    uint8_t *hdr = b.p + 20 + 1;
    uint32_t old = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
    put_le32(hdr, (old & 0xf0000000u) | bits);
    before = dt_alloc_count();
    CHECK(dt_image_decode(b.p, b.n, NULL, NULL, &im, NULL, &st) == DT_ELIMIT);
    CHECK(dt_alloc_count() == before);
    buf_free(&b);
    free(big);

    /* Caller limits. */
    j = jpeg_encode(px, w, h, TJPF_RGB, TJSAMP_444, 90);
    dt_image_limits lim = {0, 8};
    CHECK(dt_image_decode(j.p, j.n, &lim, NULL, &im, NULL, &st) == DT_ELIMIT);
    dt_image_limits lim2 = {255, 0};
    CHECK(dt_image_decode(j.p, j.n, &lim2, NULL, &im, NULL, &st) == DT_ELIMIT);
    dt_image_limits lim3 = {256, 16};
    CHECK(dt_image_decode(j.p, j.n, &lim3, NULL, &im, NULL, &st) == DT_OK);
    dt_image_release(&im);
    buf_free(&j);
    free(px);
}

/* Allocation failures anywhere in a decode: an error, nothing leaked. */
static void test_alloc_failures(void)
{
    int w = 20, h = 10;
    uint8_t *px = pattern(w, h);
    buf bs[3] = {jpeg_encode(px, w, h, TJPF_RGB, TJSAMP_444, 90),
                 png_encode(px, (size_t)w * h * 3, w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR, NULL, 0),
                 webp_lossless(px, w, h, 0)};
    buf e = jpeg_with_exif(&bs[0], 6, 0);
    buf_free(&bs[0]);
    bs[0] = e;
    for (int k = 0; k < 3; k++) {
        for (long n = 0; n < 40; n++) {
            dt_image im;
            dt_status st = {0};
            dt_alloc_fail_after(n);
            dt_code rc = dt_image_decode(bs[k].p, bs[k].n, NULL, NULL, &im, NULL, &st);
            dt_alloc_fail_reset();
            if (rc == DT_OK) {
                dt_image_release(&im);
                break;
            }
            /* zlib reports a failed allocation inside inflate as a stream error. */
            CHECKF((rc == DT_ENOMEM || (k == 1 && rc == DT_ECORRUPT)) && im.rgb == NULL,
                   "format %d, fail after %ld: rc %d (%s)", k, n, rc, st.msg);
        }
        buf_free(&bs[k]);
    }
    free(px);
}

int main(void)
{
    RUN(test_sniff);
    RUN(test_jpeg_rgb);
    RUN(test_jpeg_gray_cmyk);
    RUN(test_exif_orientation);
    RUN(test_jpeg_dct_scale);
    RUN(test_png);
    RUN(test_webp);
    RUN(test_bmp);
    RUN(test_jpeg_hostile);
    RUN(test_limits);
    RUN(test_alloc_failures);
    return tl_summary();
}
