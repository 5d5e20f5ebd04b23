/* preprocess.c — presets, letterbox geometry, resample + normalise. */
#include "vision/preprocess.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "vision/resize.h"

static void set3(float *v, float a, float b, float c)
{
    v[0] = a;
    v[1] = b;
    v[2] = c;
}

dt_code dt_preprocess_preset(const char *name, dt_preprocess *p, dt_status *st)
{
    memset(p, 0, sizeof *p);
    p->scale = 1.f;
    set3(p->mean, 0.f, 0.f, 0.f);
    set3(p->std, 1.f, 1.f, 1.f);
    if (!name)
        return dt_fail(st, DT_EINVAL, "no preprocessing preset given");
    if (!strcmp(name, "yolox")) {
        /* YOLOX ValTransform: top-left letterbox padded with 114, BGR, raw 0..255. */
        p->width = p->height = 416;
        p->resize = DT_RESIZE_LETTERBOX;
        p->pad = 114.f;
        p->bgr = 1;
    } else if (!strcmp(name, "fastestdet")) {
        /* FastestDet: plain resize with INTER_AREA, BGR, /255. */
        p->width = p->height = 352;
        p->resize = DT_RESIZE_STRETCH;
        p->interp = DT_INTERP_AREA;
        p->bgr = 1;
        p->scale = 1.f / 255.f;
    } else if (!strcmp(name, "centernet")) {
        /* CenterNet (TF.js): centred letterbox at integer offsets, zero pad, RGB raw, NHWC. */
        p->width = p->height = 512;
        p->resize = DT_RESIZE_LETTERBOX_CENTER;
        p->by_factor = 1;
        p->nhwc = 1;
    } else if (!strcmp(name, "nanodet")) {
        /* NanoDet's validation warp: one centred affine map, border 0, BGR, ImageNet mean/std x255. */
        p->width = p->height = 416;
        p->resize = DT_RESIZE_AFFINE_CENTER;
        p->bgr = 1;
        set3(p->mean, 103.53f, 116.28f, 123.675f);
        set3(p->std, 57.375f, 57.12f, 58.395f);
    } else if (!strcmp(name, "yolov5") || !strcmp(name, "yolov7") || !strcmp(name, "yolov8") ||
               !strcmp(name, "yolo11")) {
        /* Ultralytics LetterBox: centred, rounded size, 114, RGB, /255. */
        p->width = p->height = 640;
        p->resize = DT_RESIZE_LETTERBOX_CENTER;
        p->round_size = 1;
        p->pad = 114.f;
        p->scale = 1.f / 255.f;
    } else if (!strcmp(name, "ssd")) {
        /* MobileNet-SSD convention: stretch, RGB, (x - 127.5) / 127.5; override in the manifest. */
        p->width = p->height = 300;
        p->resize = DT_RESIZE_STRETCH;
        p->nhwc = 1;
        set3(p->mean, 127.5f, 127.5f, 127.5f);
        set3(p->std, 127.5f, 127.5f, 127.5f);
    } else {
        return dt_fail(st, DT_ENOTFOUND,
                       "unknown preset '%s' (yolox, fastestdet, centernet, nanodet, yolov5, yolov7, yolov8, yolo11, ssd)",
                       name);
    }
    return DT_OK;
}

const char *dt_resize_mode_name(dt_resize_mode m)
{
    switch (m) {
    case DT_RESIZE_STRETCH: return "stretch";
    case DT_RESIZE_LETTERBOX: return "letterbox";
    case DT_RESIZE_LETTERBOX_CENTER: return "letterbox_center";
    case DT_RESIZE_AFFINE_CENTER: return "affine_center";
    }
    return "?";
}

int dt_resize_mode_from_name(const char *s)
{
    if (!s)
        return -1;
    for (int m = DT_RESIZE_STRETCH; m <= DT_RESIZE_AFFINE_CENTER; m++)
        if (!strcmp(s, dt_resize_mode_name((dt_resize_mode)m)))
            return m;
    return -1;
}

void dt_preprocess_geometry(const dt_preprocess *p, int w, int h, dt_prep_geom *g)
{
    memset(g, 0, sizeof *g);
    int W = p->width, H = p->height;
    if (w <= 0 || h <= 0 || W <= 0 || H <= 0)
        return;
    if (p->resize == DT_RESIZE_STRETCH) {
        g->nw = W;
        g->nh = H;
        g->scale_x = (float)W / (float)w;
        g->scale_y = (float)H / (float)h;
        return;
    }
    /* Python float arithmetic, as the reference code computes it. */
    double r = fmin((double)W / w, (double)H / h);
    if (p->resize == DT_RESIZE_AFFINE_CENTER) {
        g->nw = W;
        g->nh = H;
        g->scale_x = g->scale_y = (float)r;
        g->offset_x = (float)(0.5 * W - r * w / 2.0);
        g->offset_y = (float)(0.5 * H - r * h / 2.0);
        return;
    }
    /* cv2.resize(fx, fy) sizes with saturate_cast (round half to even). */
    int nw = p->by_factor ? (int)lrint(w * r) : p->round_size ? (int)lround(w * r) : (int)(w * r);
    int nh = p->by_factor ? (int)lrint(h * r) : p->round_size ? (int)lround(h * r) : (int)(h * r);
    g->nw = nw < 1 ? 1 : nw > W ? W : nw;
    g->nh = nh < 1 ? 1 : nh > H ? H : nh;
    if (p->resize == DT_RESIZE_LETTERBOX_CENTER) {
        g->ox = (W - g->nw) / 2;
        g->oy = (H - g->nh) / 2;
    }
    g->scale_x = g->scale_y = (float)r;
    g->offset_x = (float)g->ox;
    g->offset_y = (float)g->oy;
}

dt_image_hint dt_preprocess_hint(const dt_preprocess *p)
{
    dt_image_hint h = {p->width, p->height, p->resize != DT_RESIZE_STRETCH};
    return h;
}

dt_code dt_preprocess_run(const dt_preprocess *p, const dt_image *img, float *dst, dt_prep_geom *g,
                          dt_status *st)
{
    int W = p->width, H = p->height;
    if (!img || !img->rgb || img->width <= 0 || img->height <= 0 || W <= 0 || H <= 0 || !dst)
        return dt_fail(st, DT_EINVAL, "preprocess: invalid image or input size");
    dt_preprocess_geometry(p, img->width, img->height, g);

    /* One lookup table per output channel: every value is a function of one
     * 8-bit pixel, so normalising is a table read. */
    float lut[3][256];
    for (int c = 0; c < 3; c++) {
        float sd = p->std[c] != 0.f ? p->std[c] : 1.f;
        for (int v = 0; v < 256; v++)
            lut[c][v] = ((float)v * p->scale - p->mean[c]) / sd;
    }
    float padv[3];
    uint8_t pad8 = (uint8_t)(p->pad < 0.f ? 0 : p->pad > 255.f ? 255 : lrintf(p->pad));
    for (int c = 0; c < 3; c++) {
        float sd = p->std[c] != 0.f ? p->std[c] : 1.f;
        padv[c] = (p->pad * p->scale - p->mean[c]) / sd;
    }

    int cw = g->nw, ch = g->nh, ox = g->ox, oy = g->oy;
    uint8_t *tmp = dt_malloc((size_t)cw * ch * 3);
    if (!tmp)
        return dt_fail(st, DT_ENOMEM, "preprocess: out of memory");
    dt_code rc;
    if (p->resize == DT_RESIZE_AFFINE_CENTER) {
        /* The map in double, as NanoDet builds it (not g's float copy). */
        double r = fmin((double)W / img->width, (double)H / img->height);
        double M[6] = {r, 0., 0.5 * W - r * img->width / 2.0, 0., r, 0.5 * H - r * img->height / 2.0};
        rc = dt_warp_affine_u8(img->rgb, img->width, img->height, img->width * 3, 3, tmp, W, H, W * 3, M, pad8, st);
    } else if (p->interp == DT_INTERP_AREA) {
        rc = dt_resize_area_u8(img->rgb, img->width, img->height, img->width * 3, 3, tmp, cw, ch, cw * 3, st);
    } else if (p->by_factor && p->resize != DT_RESIZE_STRETCH) {
        double r = fmin((double)W / img->width, (double)H / img->height);
        rc = dt_resize_linear_factor_u8(img->rgb, img->width, img->height, img->width * 3, 3, r, r, tmp, cw, ch, cw * 3,
                                        st);
    } else {
        rc = dt_resize_linear_u8(img->rgb, img->width, img->height, img->width * 3, 3, tmp, cw, ch, cw * 3, st);
    }
    if (rc != DT_OK) {
        dt_free(tmp);
        return rc;
    }

    int src_c[3] = {p->bgr ? 2 : 0, 1, p->bgr ? 0 : 2};
    size_t plane = (size_t)W * H;
    /* Row by row: the padding around the image, then the image itself
     * through the tables (no per-pixel branches). */
    for (int y = 0; y < H; y++) {
        int in_y = y >= oy && y < oy + ch;
        const uint8_t *row = in_y ? tmp + (size_t)(y - oy) * cw * 3 : NULL;
        int x0 = in_y ? ox : W, x1 = in_y ? ox + cw : W;
        if (p->nhwc) {
            float *d = dst + (size_t)y * W * 3;
            for (int x = 0; x < x0; x++)
                for (int c = 0; c < 3; c++)
                    d[3 * x + c] = padv[c];
            for (int x = x0; x < x1; x++) {
                const uint8_t *px = row + (size_t)(x - ox) * 3;
                d[3 * x + 0] = lut[0][px[src_c[0]]];
                d[3 * x + 1] = lut[1][px[1]];
                d[3 * x + 2] = lut[2][px[src_c[2]]];
            }
            for (int x = x1; x < W; x++)
                for (int c = 0; c < 3; c++)
                    d[3 * x + c] = padv[c];
        } else {
            for (int c = 0; c < 3; c++) {
                float *d = dst + (size_t)c * plane + (size_t)y * W;
                const float *t = lut[c];
                const float pv = padv[c];
                for (int x = 0; x < x0; x++)
                    d[x] = pv;
                const uint8_t *px = row ? row + src_c[c] : NULL;
                for (int x = x0; x < x1; x++)
                    d[x] = t[px[(size_t)(x - ox) * 3]];
                for (int x = x1; x < W; x++)
                    d[x] = pv;
            }
        }
    }
    dt_free(tmp);
    return DT_OK;
}
