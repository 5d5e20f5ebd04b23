/* gen_images.c — writes small images of every kind the decoders accept, and
 * hostile ones, for the fuzz seed corpus and the hostile-input test.
 *
 *   gen_images OUTDIR
 *
 * Valid: JPEG (baseline 4:2:0/4:2:2/4:4:4, progressive, arithmetic, CMYK,
 * YCCK, grayscale, restart markers, EXIF orientation 1..8 in both byte
 * orders), PNG (gray 1/2/4/8/16, gray+alpha, RGB 8/16, RGBA 8/16, palette
 * 1/2/4/8 with tRNS, Adam7 interlaced, a tEXt chunk), WebP (lossy, lossy with
 * alpha, lossless, animated), BMP (24-bit bottom-up and top-down, 32-bit
 * BI_RGB and BI_BITFIELDS, OS/2 core header).
 * Hostile (prefix "bad_" or "bomb_"): truncated copies, headers declaring
 * 60000x60000 pixels over a few bytes of data, a progressive JPEG with more
 * than 700 scans.
 * Built with the system compiler (not instrumented): it only writes files. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>
#include <webp/mux.h>

static const char *g_out;
static int g_count, g_skipped;

static void put(const char *name, const void *data, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_out, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
    g_count++;
}

/* A colourful test pattern: gradients and a few blocks, so codecs have
 * edges and smooth areas to work on. */
static uint8_t *pattern(int w, int h, int ch)
{
    uint8_t *p = malloc((size_t)w * h * ch);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                int v = (x * 255 / (w > 1 ? w - 1 : 1)) * (c == 0) + (y * 255 / (h > 1 ? h - 1 : 1)) * (c == 1) +
                        ((x ^ y) * 16) * (c == 2) + (c == 3 ? 128 + (x & 1) * 127 : 0);
                if ((x / 8 + y / 8) % 3 == 0)
                    v = 255 - v;
                p[((size_t)y * w + x) * ch + c] = (uint8_t)v;
            }
    return p;
}

/* ---- JPEG --------------------------------------------------------------------- */

typedef struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} jerr;

static void jerr_exit(j_common_ptr c) { longjmp(((jerr *)c->err)->jb, 1); }

typedef struct jopt {
    int w, h;
    J_COLOR_SPACE in_cs;  /* JCS_RGB, JCS_GRAYSCALE, JCS_CMYK */
    J_COLOR_SPACE jpeg_cs; /* 0 = default for in_cs; JCS_YCCK for YCCK */
    int progressive, arith, restart, optimize;
    int hs, vs;           /* luma sampling factors (0 = default 2x2) */
    const uint8_t *exif;
    size_t exif_len;
    int many_scans;
} jopt;

/* Returns a malloc'ed JPEG or NULL when this libjpeg cannot write it. */
static unsigned char *make_jpeg(const jopt *o, unsigned long *len)
{
    struct jpeg_compress_struct c;
    jerr e;
    unsigned char *buf = NULL;
    *len = 0;
    int ch = o->in_cs == JCS_GRAYSCALE ? 1 : o->in_cs == JCS_CMYK ? 4 : 3;
    uint8_t *px = pattern(o->w, o->h, ch);
    jpeg_scan_info *scans = NULL;
    c.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = jerr_exit;
    if (setjmp(e.jb)) {
        jpeg_destroy_compress(&c);
        free(px);
        free(scans);
        free(buf);
        return NULL;
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, len);
    c.image_width = (JDIMENSION)o->w;
    c.image_height = (JDIMENSION)o->h;
    c.input_components = ch;
    c.in_color_space = o->in_cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 80, TRUE);
    if (o->jpeg_cs)
        jpeg_set_colorspace(&c, o->jpeg_cs);
    if (o->hs) {
        c.comp_info[0].h_samp_factor = o->hs;
        c.comp_info[0].v_samp_factor = o->vs;
    }
    if (o->progressive)
        jpeg_simple_progression(&c);
    if (o->many_scans) {
        /* DC for all, then every AC coefficient of every component in its own
         * band with 3 successive-approximation refinements: 1 + 3*63*4 scans. */
        int n = 0, cap = 1 + 3 * 63 * 4;
        scans = calloc((size_t)cap, sizeof *scans);
        scans[n].comps_in_scan = 3;
        for (int k = 0; k < 3; k++)
            scans[n].component_index[k] = k;
        n++;
        for (int k = 0; k < 3; k++)
            for (int s = 1; s <= 63; s++) {
                static const int ah[4] = {0, 3, 2, 1}, al[4] = {3, 2, 1, 0};
                for (int r = 0; r < 4; r++) {
                    scans[n].comps_in_scan = 1;
                    scans[n].component_index[0] = k;
                    scans[n].Ss = s;
                    scans[n].Se = s;
                    scans[n].Ah = ah[r];
                    scans[n].Al = al[r];
                    n++;
                }
            }
        c.scan_info = scans;
        c.num_scans = n;
    }
    c.arith_code = o->arith ? TRUE : FALSE;
    c.restart_interval = (unsigned)o->restart;
    c.optimize_coding = o->optimize ? TRUE : FALSE;
    jpeg_start_compress(&c, TRUE);
    if (o->exif)
        jpeg_write_marker(&c, JPEG_APP0 + 1, o->exif, (unsigned)o->exif_len);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = px + (size_t)c.next_scanline * o->w * ch;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(px);
    free(scans);
    return buf;
}

static void jpeg_file(const char *name, const jopt *o)
{
    unsigned long len;
    unsigned char *b = make_jpeg(o, &len);
    if (!b) {
        fprintf(stderr, "gen_images: this libjpeg cannot write %s (skipped)\n", name);
        g_skipped++;
        return;
    }
    put(name, b, len);
    free(b);
}

/* An Exif APP1 payload holding one Orientation entry. */
static size_t exif_orientation(uint8_t *p, int orient, int big_endian)
{
    memcpy(p, "Exif\0\0", 6);
    uint8_t *t = p + 6;
#define W16(o, v) (big_endian ? (t[o] = (uint8_t)((v) >> 8), t[(o) + 1] = (uint8_t)(v)) : (t[o] = (uint8_t)(v), t[(o) + 1] = (uint8_t)((v) >> 8)))
#define W32(o, v) (big_endian ? (W16(o, (v) >> 16), W16((o) + 2, (v) & 0xffff)) : (W16(o, (v) & 0xffff), W16((o) + 2, (v) >> 16)))
    t[0] = t[1] = big_endian ? 'M' : 'I';
    W16(2, 42);
    W32(4, 8);
    W16(8, 1);          /* one entry */
    W16(10, 0x0112);    /* Orientation */
    W16(12, 3);         /* SHORT */
    W32(14, 1);         /* count */
    W16(18, orient);
    W16(20, 0);
    W32(22, 0);         /* no next IFD */
#undef W16
#undef W32
    return 6 + 26;
}

static void gen_jpeg(void)
{
    jopt base = {.w = 37, .h = 23, .in_cs = JCS_RGB};
    jopt o = base;
    jpeg_file("jpeg_baseline_420.jpg", &o);
    o = base, o.hs = 2, o.vs = 1;
    jpeg_file("jpeg_baseline_422.jpg", &o);
    o = base, o.hs = 1, o.vs = 1, o.optimize = 1;
    jpeg_file("jpeg_baseline_444_optimized.jpg", &o);
    o = base, o.progressive = 1;
    jpeg_file("jpeg_progressive.jpg", &o);
    o = base, o.arith = 1;
    jpeg_file("jpeg_arithmetic.jpg", &o);
    o = base, o.arith = 1, o.progressive = 1;
    jpeg_file("jpeg_arithmetic_progressive.jpg", &o);
    o = base, o.restart = 1;
    jpeg_file("jpeg_restart.jpg", &o);
    o = base, o.in_cs = JCS_GRAYSCALE;
    jpeg_file("jpeg_gray.jpg", &o);
    o = base, o.in_cs = JCS_GRAYSCALE, o.progressive = 1;
    jpeg_file("jpeg_gray_progressive.jpg", &o);
    o = base, o.in_cs = JCS_CMYK;
    jpeg_file("jpeg_cmyk.jpg", &o);
    o = base, o.in_cs = JCS_CMYK, o.jpeg_cs = JCS_YCCK;
    jpeg_file("jpeg_ycck.jpg", &o);
    o = base, o.in_cs = JCS_CMYK, o.progressive = 1;
    jpeg_file("jpeg_cmyk_progressive.jpg", &o);
    o = base, o.w = 1, o.h = 1;
    jpeg_file("jpeg_1x1.jpg", &o);
    o = base, o.w = 640, o.h = 480;
    jpeg_file("jpeg_640x480.jpg", &o); /* big enough for DCT scaling */
    uint8_t ex[64];
    for (int orient = 1; orient <= 8; orient++)
        for (int be = 0; be < 2; be++) {
            char name[64];
            o = base;
            o.exif = ex;
            o.exif_len = exif_orientation(ex, orient, be);
            snprintf(name, sizeof name, "jpeg_exif_orient%d_%s.jpg", orient, be ? "mm" : "ii");
            jpeg_file(name, &o);
        }

    /* hostile */
    unsigned long len;
    unsigned char *b = make_jpeg(&base, &len);
    put("bad_jpeg_truncated_half.jpg", b, len / 2);
    put("bad_jpeg_header_only.jpg", b, len > 200 ? 200 : len);
    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    for (unsigned long i = len / 2; i < len - 2; i += 7)
        c[i] ^= 0x5a;
    put("bad_jpeg_corrupt_scan.jpg", c, len);
    /* 60000x60000 in SOF0 over the same few bytes of scan data */
    memcpy(c, b, len);
    for (unsigned long i = 2; i + 9 < len; i++)
        if (c[i] == 0xFF && (c[i + 1] == 0xC0 || c[i + 1] == 0xC2)) {
            c[i + 5] = 60000 >> 8, c[i + 6] = 60000 & 0xff; /* height */
            c[i + 7] = 60000 >> 8, c[i + 8] = 60000 & 0xff; /* width */
            break;
        }
    put("bomb_jpeg_60000x60000.jpg", c, len);
    free(c);
    free(b);
    o = base, o.many_scans = 1;
    jpeg_file("bad_jpeg_757_scans.jpg", &o);
}

/* ---- PNG ----------------------------------------------------------------------- */

/* cut > 0 keeps the first cut bytes, cut < 0 drops -cut bytes from the end. */
static int png_write(const char *name, int w, int h, int color, int depth, int interlace, int text, int trns,
                     long cut)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx)
        return -1;
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ih = {(uint32_t)w, (uint32_t)h, (uint8_t)depth, (uint8_t)color, 0, 0, (uint8_t)interlace};
    int err = spng_set_ihdr(ctx, &ih);
    int ch = color == SPNG_COLOR_TYPE_GRAYSCALE ? 1 : color == SPNG_COLOR_TYPE_TRUECOLOR ? 3
           : color == SPNG_COLOR_TYPE_INDEXED ? 1 : color == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ? 2 : 4;
    if (!err && color == SPNG_COLOR_TYPE_INDEXED) {
        struct spng_plte pl;
        memset(&pl, 0, sizeof pl);
        pl.n_entries = 1u << depth;
        for (uint32_t i = 0; i < pl.n_entries; i++) {
            pl.entries[i].red = (uint8_t)(i * 37);
            pl.entries[i].green = (uint8_t)(255 - i * 11);
            pl.entries[i].blue = (uint8_t)(i * 5);
        }
        err = spng_set_plte(ctx, &pl);
        if (!err && trns) {
            struct spng_trns t;
            memset(&t, 0, sizeof t);
            t.n_type3_entries = pl.n_entries > 4 ? 4 : pl.n_entries;
            for (uint32_t i = 0; i < t.n_type3_entries; i++)
                t.type3_alpha[i] = (uint8_t)(i * 60);
            err = spng_set_trns(ctx, &t);
        }
    }
    if (!err && text) {
        struct spng_text tx;
        memset(&tx, 0, sizeof tx);
        snprintf(tx.keyword, sizeof tx.keyword, "Comment");
        tx.type = SPNG_TEXT;
        tx.length = 5;
        tx.text = (char *)"hello";
        err = spng_set_text(ctx, &tx, 1);
    }
    size_t row = ((size_t)w * ch * depth + 7) / 8, n = row * h;
    uint8_t *img = pattern((int)row, h, 1);
    if (color == SPNG_COLOR_TYPE_INDEXED && depth == 8)
        for (size_t i = 0; i < n; i++)
            img[i] = (uint8_t)(img[i] % 256);
    if (!err)
        err = spng_encode_image(ctx, img, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    free(img);
    if (err) {
        fprintf(stderr, "gen_images: %s: %s (skipped)\n", name, spng_strerror(err));
        spng_ctx_free(ctx);
        g_skipped++;
        return -1;
    }
    size_t len;
    void *png = spng_get_png_buffer(ctx, &len, &err);
    spng_ctx_free(ctx);
    if (!png)
        return -1;
    if (cut > 0 && (size_t)cut < len)
        len = (size_t)cut;
    else if (cut < 0 && (size_t)-cut < len)
        len -= (size_t)-cut;
    put(name, png, len);
    free(png);
    return 0;
}

static void be32(uint8_t *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = (uint8_t)v; }

/* CRC-32 of PNG chunks (the IEEE polynomial). */
static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static size_t png_chunk(uint8_t *o, const char *type, const uint8_t *d, uint32_t n)
{
    be32(o, n);
    memcpy(o + 4, type, 4);
    if (n)
        memcpy(o + 8, d, n);
    be32(o + 8 + n, crc32_png(o + 4, n + 4));
    return 12 + n;
}

static void gen_png(void)
{
    static const struct {
        const char *name;
        int color, depth, interlace, text, trns;
    } k[] = {
        {"png_gray1.png", SPNG_COLOR_TYPE_GRAYSCALE, 1, 0, 0, 0},
        {"png_gray2.png", SPNG_COLOR_TYPE_GRAYSCALE, 2, 0, 0, 0},
        {"png_gray4.png", SPNG_COLOR_TYPE_GRAYSCALE, 4, 0, 0, 0},
        {"png_gray8.png", SPNG_COLOR_TYPE_GRAYSCALE, 8, 0, 1, 0},
        {"png_gray16.png", SPNG_COLOR_TYPE_GRAYSCALE, 16, 0, 0, 0},
        {"png_gray_alpha8.png", SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 8, 0, 0, 0},
        {"png_gray_alpha16.png", SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 16, 0, 0, 0},
        {"png_rgb8.png", SPNG_COLOR_TYPE_TRUECOLOR, 8, 0, 0, 0},
        {"png_rgb16.png", SPNG_COLOR_TYPE_TRUECOLOR, 16, 0, 0, 0},
        {"png_rgba8.png", SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 0, 0, 0},
        {"png_rgba16.png", SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 16, 0, 0, 0},
        {"png_palette1.png", SPNG_COLOR_TYPE_INDEXED, 1, 0, 0, 0},
        {"png_palette2_trns.png", SPNG_COLOR_TYPE_INDEXED, 2, 0, 0, 1},
        {"png_palette4.png", SPNG_COLOR_TYPE_INDEXED, 4, 0, 0, 0},
        {"png_palette8_trns.png", SPNG_COLOR_TYPE_INDEXED, 8, 0, 0, 1},
        {"png_rgb8_interlaced.png", SPNG_COLOR_TYPE_TRUECOLOR, 8, 1, 0, 0},
        {"png_rgba16_interlaced.png", SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 16, 1, 0, 0},
        {"png_palette8_trns_interlaced.png", SPNG_COLOR_TYPE_INDEXED, 8, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        png_write(k[i].name, 29, 19, k[i].color, k[i].depth, k[i].interlace, k[i].text, k[i].trns, 0);
    png_write("png_rgb8_640x480.png", 640, 480, SPNG_COLOR_TYPE_TRUECOLOR, 8, 0, 0, 0, 0);
    png_write("bad_png_truncated.png", 29, 19, SPNG_COLOR_TYPE_TRUECOLOR, 8, 0, 0, 0, 100);
    png_write("bad_png_no_iend.png", 29, 19, SPNG_COLOR_TYPE_TRUECOLOR, 8, 0, 0, 0, -12);
    /* A 60000x60000 RGB8 PNG: valid IHDR, a few bytes of IDAT, IEND. */
    uint8_t png[256], ihdr[13] = {0}, idat[] = {0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01};
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    be32(ihdr, 60000);
    be32(ihdr + 4, 60000);
    ihdr[8] = 8, ihdr[9] = 2;
    size_t n = 8;
    n += png_chunk(png + n, "IHDR", ihdr, 13);
    n += png_chunk(png + n, "IDAT", idat, sizeof idat);
    n += png_chunk(png + n, "IEND", NULL, 0);
    put("bomb_png_60000x60000.png", png, n);
}

/* ---- WebP ------------------------------------------------------------------------ */

static void gen_webp(void)
{
    int w = 31, h = 21;
    uint8_t *rgb = pattern(w, h, 3), *rgba = pattern(w, h, 4);
    uint8_t *out = NULL;
    size_t n = WebPEncodeRGB(rgb, w, h, w * 3, 75, &out);
    if (n) {
        put("webp_lossy.webp", out, n);
        put("bad_webp_truncated.webp", out, n / 2);
        uint8_t *c = malloc(n);
        memcpy(c, out, n);
        for (size_t i = 30; i < n; i += 5)
            c[i] ^= 0xa5;
        put("mut_webp_bitflips.webp", c, n); /* lossy VP8 often survives this: any answer but a crash */
        /* the VP8 frame header claims 16383x16383 (the format's maximum) */
        memcpy(c, out, n);
        for (size_t i = 12; i + 10 < n; i++)
            if (!memcmp(c + i, "VP8 ", 4)) {
                uint8_t *fr = c + i + 8; /* 3-byte frame tag, 9d 01 2a, then 14-bit w, h */
                if (fr[3] == 0x9d && fr[4] == 0x01 && fr[5] == 0x2a) {
                    fr[6] = 0xff, fr[7] = 0x3f, fr[8] = 0xff, fr[9] = 0x3f;
                }
                break;
            }
        put("bomb_webp_16383x16383.webp", c, n);
        free(c);
        WebPFree(out);
    }
    n = WebPEncodeRGBA(rgba, w, h, w * 4, 75, &out);
    if (n) {
        put("webp_lossy_alpha.webp", out, n);
        WebPFree(out);
    }
    n = WebPEncodeLosslessRGBA(rgba, w, h, w * 4, &out);
    if (n) {
        put("webp_lossless.webp", out, n);
        WebPFree(out);
    }
    n = WebPEncodeLosslessRGB(rgb, w, h, w * 3, &out);
    if (n) {
        put("webp_lossless_rgb.webp", out, n);
        WebPFree(out);
    }
    free(rgb);

    /* animated: three frames */
    WebPAnimEncoderOptions ao;
    WebPConfig cfg;
    if (WebPAnimEncoderOptionsInit(&ao) && WebPConfigInit(&cfg)) {
        WebPAnimEncoder *enc = WebPAnimEncoderNew(w, h, &ao);
        WebPPicture pic;
        int ok = enc && WebPPictureInit(&pic);
        pic.width = w;
        pic.height = h;
        pic.use_argb = 1;
        for (int fr = 0; ok && fr < 3; fr++) {
            for (int i = 0; i < w * h * 4; i++)
                rgba[i] = (uint8_t)(rgba[i] + 40);
            ok = WebPPictureImportRGBA(&pic, rgba, w * 4) && WebPAnimEncoderAdd(enc, &pic, fr * 100, &cfg);
        }
        WebPData wd;
        WebPDataInit(&wd);
        if (ok && WebPAnimEncoderAdd(enc, NULL, 300, NULL) && WebPAnimEncoderAssemble(enc, &wd)) {
            put("webp_animated.webp", wd.bytes, wd.size);
            put("bad_webp_animated_truncated.webp", wd.bytes, wd.size * 2 / 3);
        } else {
            fprintf(stderr, "gen_images: animated WebP failed (skipped)\n");
            g_skipped++;
        }
        WebPDataClear(&wd);
        WebPPictureFree(&pic);
        WebPAnimEncoderDelete(enc);
    }
    free(rgba);
}

/* ---- BMP ------------------------------------------------------------------------ */

static void le16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void le32(uint8_t *p, uint32_t v) { le16(p, v & 0xffff), le16(p + 2, v >> 16); }

static void bmp(const char *name, int w, int h, int bpp, int comp, int core, int top_down, size_t cut)
{
    int dib = core ? 12 : comp == 3 ? 56 : 40;
    size_t stride = (((size_t)w * bpp + 31) / 32) * 4, off = 14 + (size_t)dib, n = off + stride * h;
    uint8_t *b = calloc(1, n);
    b[0] = 'B', b[1] = 'M';
    le32(b + 2, (uint32_t)n);
    le32(b + 10, (uint32_t)off);
    le32(b + 14, (uint32_t)dib);
    if (core) {
        le16(b + 18, (uint32_t)w), le16(b + 20, (uint32_t)h), le16(b + 22, 1), le16(b + 24, (uint32_t)bpp);
    } else {
        le32(b + 18, (uint32_t)w), le32(b + 22, (uint32_t)(top_down ? -h : h)), le16(b + 26, 1);
        le16(b + 28, (uint32_t)bpp), le32(b + 30, (uint32_t)comp), le32(b + 34, (uint32_t)(stride * h));
        if (comp == 3)
            le32(b + 54, 0x00ff0000u), le32(b + 58, 0x0000ff00u), le32(b + 62, 0x000000ffu), le32(b + 66, 0xff000000u);
    }
    uint8_t *px = pattern((int)stride, h, 1);
    memcpy(b + off, px, stride * h);
    free(px);
    put(name, b, cut && cut < n ? cut : n);
    free(b);
}

static void gen_bmp(void)
{
    bmp("bmp_24.bmp", 27, 13, 24, 0, 0, 0, 0);
    bmp("bmp_24_topdown.bmp", 27, 13, 24, 0, 0, 1, 0);
    bmp("bmp_32.bmp", 27, 13, 32, 0, 0, 0, 0);
    bmp("bmp_32_bitfields.bmp", 27, 13, 32, 3, 0, 0, 0);
    bmp("bmp_24_core.bmp", 27, 13, 24, 0, 1, 0, 0);
    bmp("bad_bmp_truncated.bmp", 27, 13, 24, 0, 0, 0, 300);
    bmp("bad_bmp_8bit.bmp", 27, 13, 8, 0, 0, 0, 0);
    /* 60000x60000 declared over 64 bytes */
    uint8_t b[64] = {'B', 'M'};
    le32(b + 2, sizeof b), le32(b + 10, 54), le32(b + 14, 40), le32(b + 18, 60000), le32(b + 22, 60000);
    le16(b + 26, 1), le16(b + 28, 24);
    put("bomb_bmp_60000x60000.bmp", b, sizeof b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_images OUTDIR\n");
        return 2;
    }
    g_out = argv[1];
    gen_jpeg();
    gen_png();
    gen_webp();
    gen_bmp();
    fprintf(stderr, "gen_images: %d files written to %s, %d kinds skipped\n", g_count, g_out, g_skipped);
    return 0;
}
