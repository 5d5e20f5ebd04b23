/* draw.c — boxes, labels (FreeType) and JPEG encoding (libjpeg-turbo). */
#include "vision/draw.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include <turbojpeg.h>

#include "base/alloc.h"

/* ---- palette ---------------------------------------------------------------
 * Saturated, mutually distinct colours; neighbouring ids differ strongly so
 * the common COCO pairs (person/bicycle/car, cat/dog, ...) never look alike.
 * Keep in sync with PALETTE in src/server/assets/index.html. */
static const uint8_t k_palette[][3] = {
    {255, 56, 56},   {0, 160, 255},  {72, 220, 20},   {255, 150, 0},  {190, 60, 255},
    {0, 200, 180},   {255, 50, 190}, {240, 220, 0},   {90, 100, 255}, {150, 200, 20},
    {160, 90, 40},   {30, 140, 160}, {130, 40, 220},  {50, 210, 120}, {255, 130, 180},
    {0, 60, 230},    {255, 180, 40}, {170, 30, 90},   {0, 230, 255},  {120, 150, 40},
};
#define PALETTE_N ((int)(sizeof k_palette / sizeof k_palette[0]))

void dt_draw_class_color(int class_id, uint8_t rgb[3])
{
    int i = class_id % PALETTE_N;
    if (i < 0)
        i += PALETTE_N;
    memcpy(rgb, k_palette[i], 3);
}

int dt_draw_palette_size(void) { return PALETTE_N; }

int dt_draw_line_width(int width, int height)
{
    int m = width < height ? width : height;
    return m / 200 > 2 ? m / 200 : 2;
}

int dt_draw_font_px(int width, int height)
{
    int m = width < height ? width : height;
    int px = m / 32;
    return px < 11 ? 11 : px > 120 ? 120 : px;
}

/* ---- font ------------------------------------------------------------------ */

struct dt_font {
    FT_Library lib;
    FT_Face face;
    /* FT_Face is not thread-safe (and the pixel size is face state): every
     * use of `face` holds `mu`. */
    pthread_mutex_t mu;
    char *path;
};

dt_code dt_font_create(const char *path, dt_font **out, dt_status *st)
{
    *out = NULL;
    if (!path || !*path) {
        const char *env = getenv(DT_FONT_ENV);
        path = env && *env ? env : DT_FONT_DEFAULT_PATH;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return dt_fail(st, DT_ENOTFOUND, "font '%s' not found (install fonts-dejavu-core or set %s)", path,
                       DT_FONT_ENV);
    dt_font *f = dt_calloc(1, sizeof *f);
    if (!f)
        return dt_fail(st, DT_ENOMEM, "out of memory loading font");
    f->path = dt_strdup(path);
    if (!f->path) {
        dt_free(f);
        return dt_fail(st, DT_ENOMEM, "out of memory loading font");
    }
    FT_Error e = FT_Init_FreeType(&f->lib);
    if (e) {
        dt_free(f->path);
        dt_free(f);
        return dt_fail(st, DT_EINTERNAL, "FreeType initialisation failed (error %d)", e);
    }
    e = FT_New_Face(f->lib, path, 0, &f->face);
    if (e || !FT_IS_SCALABLE(f->face)) {
        if (!e)
            FT_Done_Face(f->face);
        FT_Done_FreeType(f->lib);
        dt_free(f->path);
        dt_free(f);
        return dt_fail(st, DT_ECORRUPT, "font '%s' is not a scalable font FreeType can read (error %d)", path,
                       e);
    }
    pthread_mutex_init(&f->mu, NULL);
    *out = f;
    return DT_OK;
}

void dt_font_free(dt_font *f)
{
    if (!f)
        return;
    FT_Done_Face(f->face);
    FT_Done_FreeType(f->lib);
    pthread_mutex_destroy(&f->mu);
    dt_free(f->path);
    dt_free(f);
}

const char *dt_font_path(const dt_font *f) { return f ? f->path : NULL; }

/* ---- pixels ---------------------------------------------------------------- */

static dt_code check_image(const dt_draw_image *img, dt_status *st)
{
    if (!img || !img->rgb || img->width <= 0 || img->height <= 0 || img->stride < (size_t)img->width * 3)
        return dt_fail(st, DT_EINVAL, "draw: invalid image");
    return DT_OK;
}

/* Fill the inclusive rectangle [x0, x1] x [y0, y1], clipped to the image. */
static void fill_rect(dt_draw_image *img, int x0, int y0, int x1, int y1, const uint8_t c[3])
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->width - 1) x1 = img->width - 1;
    if (y1 > img->height - 1) y1 = img->height - 1;
    for (int y = y0; y <= y1; y++) {
        uint8_t *p = img->rgb + (size_t)y * img->stride + (size_t)x0 * 3;
        for (int x = x0; x <= x1; x++, p += 3) {
            p[0] = c[0];
            p[1] = c[1];
            p[2] = c[2];
        }
    }
}

int dt_draw_box_pixels(const dt_detection *d, int w, int h, int *x0, int *y0, int *x1, int *y1)
{
    if (!isfinite(d->x1) || !isfinite(d->y1) || !isfinite(d->x2) || !isfinite(d->y2) || w <= 0 || h <= 0)
        return 0;
    /* Pixel i covers [i, i + 1): a box [x1, x2) covers columns round(x1) .. round(x2) - 1. */
    double a = floor((double)d->x1 + 0.5), b = floor((double)d->x2 + 0.5) - 1;
    double c = floor((double)d->y1 + 0.5), e = floor((double)d->y2 + 0.5) - 1;
    if (b < a) b = a;
    if (e < c) e = c;
    if (b < 0 || a > w - 1 || e < 0 || c > h - 1)
        return 0;
    *x0 = a < 0 ? 0 : (int)a;
    *x1 = b > w - 1 ? w - 1 : (int)b;
    *y0 = c < 0 ? 0 : (int)c;
    *y1 = e > h - 1 ? h - 1 : (int)e;
    return 1;
}

/* ---- text ------------------------------------------------------------------ */

/* Next code point of a UTF-8 string (U+FFFD for a malformed sequence). */
static unsigned next_cp(const unsigned char **ps)
{
    const unsigned char *s = *ps;
    unsigned c = *s++;
    int more = 0;
    if (c < 0x80) {
        *ps = s;
        return c;
    }
    if ((c & 0xE0) == 0xC0) { c &= 0x1F; more = 1; }
    else if ((c & 0xF0) == 0xE0) { c &= 0x0F; more = 2; }
    else if ((c & 0xF8) == 0xF0) { c &= 0x07; more = 3; }
    else { *ps = s; return 0xFFFD; }
    for (int i = 0; i < more; i++) {
        if ((*s & 0xC0) != 0x80) {
            *ps = s;
            return 0xFFFD;
        }
        c = (c << 6) | (*s++ & 0x3F);
    }
    *ps = s;
    return c;
}

static void blend_glyph(dt_draw_image *img, const FT_Bitmap *bm, int gx, int gy, const uint8_t fg[3])
{
    if (bm->pixel_mode != FT_PIXEL_MODE_GRAY)
        return;
    for (unsigned r = 0; r < bm->rows; r++) {
        int y = gy + (int)r;
        if (y < 0 || y >= img->height)
            continue;
        const unsigned char *src = bm->buffer + (ptrdiff_t)r * bm->pitch;
        for (unsigned col = 0; col < bm->width; col++) {
            int x = gx + (int)col;
            unsigned a = src[col];
            if (x < 0 || x >= img->width || !a)
                continue;
            uint8_t *p = img->rgb + (size_t)y * img->stride + (size_t)x * 3;
            for (int k = 0; k < 3; k++)
                p[k] = (uint8_t)((fg[k] * a + p[k] * (255 - a) + 127) / 255);
        }
    }
}

/* One pass over the string with the lock held: measure (draw = 0) or render. */
static FT_Pos text_pass(dt_font *f, dt_draw_image *img, int ox, int oy, const char *text, const uint8_t fg[3],
                        int draw)
{
    FT_Face face = f->face;
    FT_Pos pen = 0; /* 26.6 */
    FT_UInt prev = 0;
    int kern = FT_HAS_KERNING(face);
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        FT_UInt gi = FT_Get_Char_Index(face, next_cp(&s));
        if (kern && prev && gi) {
            FT_Vector k;
            if (!FT_Get_Kerning(face, prev, gi, FT_KERNING_DEFAULT, &k))
                pen += k.x;
        }
        if (FT_Load_Glyph(face, gi, draw ? FT_LOAD_RENDER : FT_LOAD_DEFAULT))
            continue; /* a broken glyph is skipped, not fatal */
        if (draw)
            blend_glyph(img, &face->glyph->bitmap, ox + (int)((pen + 32) >> 6) + face->glyph->bitmap_left,
                        oy - face->glyph->bitmap_top, fg);
        pen += face->glyph->advance.x;
        prev = gi;
    }
    return pen;
}

dt_code dt_draw_text(dt_draw_image *img, const dt_font *font, int px, int x, int y, const char *text,
                     const uint8_t fg[3], const uint8_t *bg, int pad, int draw, int *out_w, int *out_h,
                     dt_status *st)
{
    if (!font || !text || px <= 0 || px > 1000 || pad < 0)
        return dt_fail(st, DT_EINVAL, "draw_text: invalid argument");
    if (draw && check_image(img, st))
        return st ? st->code : DT_EINVAL;
    dt_font *f = (dt_font *)font; /* logically const: only the mutex and face size change */
    pthread_mutex_lock(&f->mu);
    FT_Error e = FT_Set_Pixel_Sizes(f->face, 0, (FT_UInt)px);
    if (e) {
        pthread_mutex_unlock(&f->mu);
        return dt_fail(st, DT_EINTERNAL, "font size %d px: FreeType error %d", px, e);
    }
    int asc = (int)((f->face->size->metrics.ascender + 63) >> 6);
    int desc = (int)(f->face->size->metrics.descender >> 6); /* <= 0 */
    int tw = (int)((text_pass(f, img, 0, 0, text, fg, 0) + 63) >> 6);
    int w = tw + 2 * pad, h = asc - desc + 2 * pad;
    if (draw) {
        if (bg)
            fill_rect(img, x, y, x + w - 1, y + h - 1, bg);
        text_pass(f, img, x + pad, y + pad + asc, text, fg, 1);
    }
    pthread_mutex_unlock(&f->mu);
    if (out_w)
        *out_w = w;
    if (out_h)
        *out_h = h;
    return DT_OK;
}

/* ---- detections ------------------------------------------------------------ */

static void draw_outline(dt_draw_image *img, int x0, int y0, int x1, int y1, int t, const uint8_t c[3])
{
    /* Inward strokes: the outline stays inside the box, so it is never
     * clipped away at the image border. */
    fill_rect(img, x0, y0, x1, y0 + t - 1 < y1 ? y0 + t - 1 : y1, c);
    fill_rect(img, x0, y1 - t + 1 > y0 ? y1 - t + 1 : y0, x1, y1, c);
    fill_rect(img, x0, y0, x0 + t - 1 < x1 ? x0 + t - 1 : x1, y1, c);
    fill_rect(img, x1 - t + 1 > x0 ? x1 - t + 1 : x0, y0, x1, y1, c);
}

dt_code dt_draw_detections(dt_draw_image *img, const dt_detection *dets, int n, const dt_draw_opts *opts,
                           dt_status *st)
{
    if (check_image(img, st))
        return st ? st->code : DT_EINVAL;
    if (n < 0 || (n > 0 && !dets))
        return dt_fail(st, DT_EINVAL, "draw: invalid detections");
    dt_draw_opts o = {0};
    if (opts)
        o = *opts;
    int t = o.line_width > 0 ? o.line_width : dt_draw_line_width(img->width, img->height);
    int px = o.font_px > 0 ? o.font_px : dt_draw_font_px(img->width, img->height);
    int pad = px / 6 > 1 ? px / 6 : 1;

    for (int i = 0; i < n; i++) {
        int x0, y0, x1, y1;
        if (!dt_draw_box_pixels(&dets[i], img->width, img->height, &x0, &y0, &x1, &y1))
            continue;
        uint8_t c[3];
        dt_draw_class_color(dets[i].class_id, c);
        draw_outline(img, x0, y0, x1, y1, t, c);
    }
    if (!o.font)
        return DT_OK;
    /* Labels after all outlines, so none is covered by a neighbour's box. */
    for (int i = 0; i < n; i++) {
        int x0, y0, x1, y1;
        if (!dt_draw_box_pixels(&dets[i], img->width, img->height, &x0, &y0, &x1, &y1))
            continue;
        const char *name = o.label ? o.label(o.label_ctx, dets[i].class_id) : NULL;
        char text[96];
        if (name && *name)
            snprintf(text, sizeof text, "%.80s %.2f", name, (double)dets[i].score);
        else
            snprintf(text, sizeof text, "class %d %.2f", dets[i].class_id, (double)dets[i].score);
        uint8_t c[3], fg[3];
        dt_draw_class_color(dets[i].class_id, c);
        /* Dark text on light colours, white on dark ones (Rec. 601 luma). */
        int luma = (299 * c[0] + 587 * c[1] + 114 * c[2]) / 1000;
        memset(fg, luma > 150 ? 0 : 255, 3);
        int lw, lh;
        dt_code rc = dt_draw_text(img, o.font, px, 0, 0, text, fg, c, pad, 0, &lw, &lh, st);
        if (rc)
            return rc;
        int lx = x0, ly = y0 - lh;
        if (lx + lw > img->width)
            lx = img->width - lw > 0 ? img->width - lw : 0;
        if (ly < 0) /* no room above: tuck it inside the top of the box */
            ly = y0;
        if (ly + lh > img->height)
            ly = img->height - lh > 0 ? img->height - lh : 0;
        rc = dt_draw_text(img, o.font, px, lx, ly, text, fg, c, pad, 1, NULL, NULL, st);
        if (rc)
            return rc;
    }
    return DT_OK;
}

/* ---- JPEG ------------------------------------------------------------------ */

dt_code dt_draw_encode_jpeg(const dt_draw_image *img, int quality, unsigned char **out, size_t *out_len,
                            dt_status *st)
{
    *out = NULL;
    *out_len = 0;
    if (check_image(img, st))
        return st ? st->code : DT_EINVAL;
    if (quality == 0)
        quality = 90;
    if (quality < 1 || quality > 100)
        return dt_fail(st, DT_EINVAL, "JPEG quality %d is not in 1..100", quality);
    if (img->width > 65500 || img->height > 65500 || img->stride > INT_MAX)
        return dt_fail(st, DT_ELIMIT, "image %dx%d is too large for JPEG (max 65500 per side)", img->width,
                       img->height);
    tjhandle tj = tjInitCompress();
    if (!tj)
        return dt_fail(st, DT_ENOMEM, "JPEG encoder: %s", tjGetErrorStr2(NULL));
    unsigned char *buf = NULL; /* tjAlloc'd by TurboJPEG, grown as needed */
    unsigned long size = 0;
    if (tjCompress2(tj, img->rgb, img->width, (int)img->stride, img->height, TJPF_RGB, &buf, &size, TJSAMP_444,
                    quality, 0) != 0) {
        dt_fail(st, DT_EINTERNAL, "JPEG encoding failed: %s", tjGetErrorStr2(tj));
        tjFree(buf);
        tjDestroy(tj);
        return DT_EINTERNAL;
    }
    tjDestroy(tj);
    /* Hand back our own allocation so callers free everything with dt_free. */
    unsigned char *copy = dt_malloc(size);
    if (!copy) {
        tjFree(buf);
        return dt_fail(st, DT_ENOMEM, "out of memory for a %lu-byte JPEG", size);
    }
    memcpy(copy, buf, size);
    tjFree(buf);
    *out = copy;
    *out_len = size;
    return DT_OK;
}
