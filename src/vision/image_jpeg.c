/* image_jpeg.c — JPEG via libjpeg-turbo's libjpeg API.
 *
 * The libjpeg API (not TurboJPEG) because it gives us the APP1 marker for
 * EXIF orientation, DCT-domain scaling, and a warning hook: libjpeg pads a
 * truncated file with grey and carries on, which we turn into DT_ECORRUPT.
 * libjpeg reports errors by longjmp; all state that must survive the jump
 * lives in a struct owned by the caller of the setjmp frame.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "base/alloc.h"
#include "vision/image_internal.h"

/* A progressive file can hold thousands of tiny scans, each a full pass
 * over the coefficients: cap them (libjpeg-turbo's own tools use 500). */
#define JPEG_MAX_SCANS 500

typedef struct jerr {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jb;
    dt_code code;
    char msg[JMSG_LENGTH_MAX + 64];
} jerr;

typedef struct jstate {
    struct jpeg_decompress_struct ci;
    jerr err;
    const uint8_t *b;
    size_t len;
    const dt_image_limits *lim;
    const dt_image_hint *hint;
    int probe_only;
    uint8_t *pixels; /* decoded (stored orientation) */
    uint8_t *row;    /* CMYK row buffer */
    int out_w, out_h;
    int orientation, denom;
    dt_image_info *info;
    dt_status *st;
} jstate;

static void on_error_exit(j_common_ptr c)
{
    jerr *e = (jerr *)c->err;
    char buf[JMSG_LENGTH_MAX];
    c->err->format_message(c, buf);
    e->code = c->err->msg_code == JERR_OUT_OF_MEMORY ? DT_ENOMEM : DT_ECORRUPT;
    snprintf(e->msg, sizeof e->msg, "%s", buf);
    longjmp(e->jb, 1);
}

/* Warnings: a premature end of data is fatal for us (libjpeg would return a
 * grey-padded image); other warnings (extraneous bytes, ...) are common in
 * camera files that decode fine, so they are ignored as OpenCV does. */
static void on_emit_message(j_common_ptr c, int level)
{
    if (level >= 0)
        return;
    c->err->num_warnings++;
    if (c->err->msg_code == JWRN_JPEG_EOF) {
        jerr *e = (jerr *)c->err;
        e->code = DT_ECORRUPT;
        snprintf(e->msg, sizeof e->msg, "truncated file (premature end of JPEG data)");
        longjmp(e->jb, 1);
    }
}

static void on_progress(j_common_ptr c)
{
    if (!c->is_decompressor)
        return;
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > JPEG_MAX_SCANS) {
        jerr *e = (jerr *)c->err;
        e->code = DT_ELIMIT;
        snprintf(e->msg, sizeof e->msg, "more than %d progressive scans", JPEG_MAX_SCANS);
        longjmp(e->jb, 1);
    }
}

static int ceil_div(int a, int d) { return (a + d - 1) / d; }

/* Largest DCT scale-down keeping at least the size the caller resizes to. */
static int pick_denom(int w, int h, int swap, const dt_image_hint *hint)
{
    if (!hint || hint->width <= 0 || hint->height <= 0)
        return 1;
    int ow = swap ? h : w, oh = swap ? w : h; /* displayed size */
    double need_w = hint->width, need_h = hint->height;
    if (hint->keep_ratio) {
        double r = (double)hint->width / ow, rh = (double)hint->height / oh;
        if (rh < r)
            r = rh;
        need_w = ow * r;
        need_h = oh * r;
    }
    for (int d = 8; d >= 2; d /= 2) {
        int sw = ceil_div(w, d), sh = ceil_div(h, d);
        int dw = swap ? sh : sw, dh = swap ? sw : sh;
        if (dw >= need_w && dh >= need_h)
            return d;
    }
    return 1;
}

/* Everything that can longjmp.  Returns DT_OK or the code in s->err. */
static dt_code jpeg_run(jstate *s)
{
    struct jpeg_decompress_struct *ci = &s->ci;
    if (setjmp(s->err.jb))
        return s->err.code;
    jpeg_create_decompress(ci);
    s->err.progress.progress_monitor = on_progress;
    ci->progress = &s->err.progress;
    jpeg_mem_src(ci, s->b, (unsigned long)s->len);
    jpeg_save_markers(ci, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(ci, TRUE);

    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && !memcmp(m->data, "Exif\0\0", 6)) {
            s->orientation = dt_exif_orientation(m->data, m->data_length);
            break;
        }
    }
    int w = (int)ci->image_width, h = (int)ci->image_height;
    int swap = s->orientation >= 5;
    s->info->width = swap ? h : w;
    s->info->height = swap ? w : h;
    s->info->orientation = s->orientation;
    dt_code lrc = dt_image_check_size("JPEG", w, h, s->lim, s->st);
    if (lrc != DT_OK)
        return lrc;
    if (s->probe_only)
        return DT_OK;

    s->denom = pick_denom(w, h, swap, s->hint);
    ci->scale_num = 1;
    ci->scale_denom = (unsigned)s->denom;
    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGB;
    /* Same defaults as OpenCV's imread (islow IDCT, fancy upsampling), so
     * pixels match the reference pipelines at full scale. */
    ci->dct_method = JDCT_ISLOW;
    ci->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(ci);
    s->out_w = (int)ci->output_width;
    s->out_h = (int)ci->output_height;
    size_t n = (size_t)s->out_w * (size_t)s->out_h * 3;
    s->pixels = dt_malloc(n ? n : 1);
    if (!s->pixels) {
        s->err.code = DT_ENOMEM;
        snprintf(s->err.msg, sizeof s->err.msg, "out of memory for a %dx%d image", s->out_w, s->out_h);
        return DT_ENOMEM;
    }
    if (cmyk) {
        s->row = dt_malloc((size_t)s->out_w * 4);
        if (!s->row) {
            s->err.code = DT_ENOMEM;
            snprintf(s->err.msg, sizeof s->err.msg, "out of memory");
            return DT_ENOMEM;
        }
    }
    while (ci->output_scanline < ci->output_height) {
        uint8_t *dst = s->pixels + (size_t)ci->output_scanline * s->out_w * 3;
        JSAMPROW rows[1] = {cmyk ? s->row : dst};
        if (jpeg_read_scanlines(ci, rows, 1) != 1)
            continue;
        if (cmyk) {
            /* Adobe (inverted) CMYK, converted as OpenCV does. */
            for (int x = 0; x < s->out_w; x++) {
                int c = s->row[4 * x], m = s->row[4 * x + 1], y = s->row[4 * x + 2], k = s->row[4 * x + 3];
                dst[3 * x + 0] = (uint8_t)(k - ((255 - c) * k >> 8));
                dst[3 * x + 1] = (uint8_t)(k - ((255 - m) * k >> 8));
                dst[3 * x + 2] = (uint8_t)(k - ((255 - y) * k >> 8));
            }
        }
    }
    jpeg_finish_decompress(ci);
    return DT_OK;
}

dt_code dt_image_decode_jpeg(const uint8_t *b, size_t len, const dt_image_limits *lim, const dt_image_hint *hint,
                             int probe_only, dt_image *out, dt_image_info *info, dt_status *st)
{
    jstate *s = dt_calloc(1, sizeof *s);
    if (!s)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    s->b = b;
    s->len = len;
    s->lim = lim;
    s->hint = hint;
    s->probe_only = probe_only;
    s->orientation = 1;
    s->denom = 1;
    s->info = info;
    s->st = st;
    s->ci.err = jpeg_std_error(&s->err.pub);
    s->err.pub.error_exit = on_error_exit;
    s->err.pub.emit_message = on_emit_message;
    s->err.code = DT_OK;

    dt_code rc = jpeg_run(s);
    jpeg_destroy_decompress(&s->ci);
    dt_free(s->row);
    if (rc != DT_OK) {
        dt_free(s->pixels);
        /* Limit errors were already written to st by dt_image_check_size. */
        if (s->err.msg[0])
            dt_fail(st, rc, "JPEG: %s", s->err.msg);
        dt_free(s);
        return rc;
    }
    if (probe_only) {
        dt_free(s);
        return DT_OK;
    }

    uint8_t *oriented = NULL;
    int ow, oh;
    rc = dt_image_orient(s->pixels, s->out_w, s->out_h, s->orientation, &oriented, &ow, &oh, st);
    if (rc != DT_OK) {
        dt_free(s->pixels);
        dt_free(s);
        return rc;
    }
    if (oriented) {
        dt_free(s->pixels);
        s->pixels = oriented;
    }
    out->width = ow;
    out->height = oh;
    out->rgb = s->pixels;

    /* decoded = orig / d, plus a shift on flipped axes where the last DCT
     * block was partial (the scaled image overhangs the original). */
    static const uint8_t flip_x[9] = {0, 0, 1, 1, 0, 0, 1, 1, 0};
    static const uint8_t flip_y[9] = {0, 0, 0, 1, 1, 0, 0, 1, 1};
    int o = s->orientation;
    float d = (float)s->denom;
    info->scale_denom = s->denom;
    info->scale_x = 1.f / d;
    info->scale_y = 1.f / d;
    info->offset_x = flip_x[o] ? (float)ow - (float)info->width / d : 0.f;
    info->offset_y = flip_y[o] ? (float)oh - (float)info->height / d : 0.f;
    dt_free(s);
    return DT_OK;
}
