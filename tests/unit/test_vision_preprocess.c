/* test_vision_preprocess.c — presets, letterbox geometry (against hand
 * computations), channel order, normalisation, layouts and padding. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "vision/preprocess.h"

static dt_image flat(int w, int h, uint8_t r, uint8_t g, uint8_t b)
{
    dt_image im = {w, h, malloc((size_t)w * h * 3)};
    for (int i = 0; i < w * h; i++) {
        im.rgb[3 * i] = r;
        im.rgb[3 * i + 1] = g;
        im.rgb[3 * i + 2] = b;
    }
    return im;
}

static float nchw(const float *t, int W, int H, int c, int x, int y) { return t[(size_t)c * W * H + (size_t)y * W + x]; }
static float nhwc(const float *t, int W, int c, int x, int y) { return t[((size_t)y * W + x) * 3 + c]; }

static void test_presets(void)
{
    dt_preprocess p;
    dt_status st = {0};
    const char *names[] = {"yolox", "fastestdet", "centernet", "nanodet", "yolov5", "yolov7", "yolov8", "yolo11", "ssd"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECKF(dt_preprocess_preset(names[i], &p, &st) == DT_OK, "%s", names[i]);
    CHECK(dt_preprocess_preset("nope", &p, &st) == DT_ENOTFOUND);
    CHECK(dt_preprocess_preset(NULL, &p, &st) == DT_EINVAL);
    dt_preprocess_preset("yolox", &p, NULL);
    CHECK(p.width == 416 && p.resize == DT_RESIZE_LETTERBOX && p.pad == 114.f && p.bgr && !p.nhwc && p.scale == 1.f);
    dt_preprocess_preset("fastestdet", &p, NULL);
    CHECK(p.width == 352 && p.resize == DT_RESIZE_STRETCH && p.interp == DT_INTERP_AREA && p.bgr);
    CHECK_NEAR(p.scale, 1.0 / 255, 1e-9);
    dt_preprocess_preset("centernet", &p, NULL);
    CHECK(p.width == 512 && p.resize == DT_RESIZE_LETTERBOX_CENTER && p.pad == 0.f && !p.bgr && p.nhwc);
    dt_preprocess_preset("nanodet", &p, NULL);
    CHECK(p.width == 416 && p.resize == DT_RESIZE_AFFINE_CENTER && p.bgr && p.mean[0] == 103.53f && p.std[2] == 58.395f);
    dt_preprocess_preset("yolov8", &p, NULL);
    CHECK(p.width == 640 && p.pad == 114.f && !p.bgr && p.round_size);
    CHECK(dt_resize_mode_from_name("letterbox_center") == DT_RESIZE_LETTERBOX_CENTER);
    CHECK(dt_resize_mode_from_name("x") == -1);
}

static void test_geometry(void)
{
    dt_preprocess p;
    dt_prep_geom g;
    /* yolox, 640x480 -> r = 0.65, 416x312 at the top-left. */
    dt_preprocess_preset("yolox", &p, NULL);
    dt_preprocess_geometry(&p, 640, 480, &g);
    CHECK_NEAR(g.scale_x, 0.65, 1e-6);
    CHECK(g.nw == 416 && g.nh == 312 && g.ox == 0 && g.oy == 0 && g.offset_x == 0.f && g.offset_y == 0.f);
    /* Portrait 480x640. */
    dt_preprocess_geometry(&p, 480, 640, &g);
    CHECK(g.nw == 312 && g.nh == 416);
    /* Up-scaling a small image: r = 416/100 = 4.16, 416x208. */
    dt_preprocess_geometry(&p, 100, 50, &g);
    CHECK(g.nw == 416 && g.nh == 208);
    CHECK_NEAR(g.scale_y, 4.16, 1e-5);

    /* centernet, 640x480 -> r = 0.8, 512x384 at (0, 64). */
    dt_preprocess_preset("centernet", &p, NULL);
    dt_preprocess_geometry(&p, 640, 480, &g);
    CHECK(g.nw == 512 && g.nh == 384 && g.ox == 0 && g.oy == 64 && g.offset_y == 64.f);
    /* 500x333: r = 1.024; resized as cv2.resize(fx=r, fy=r): 512 x round(340.99) = 341,
     * offset (512-341)//2 = 85. */
    CHECK(p.by_factor);
    dt_preprocess_geometry(&p, 500, 333, &g);
    CHECK(g.nw == 512 && g.nh == 341 && g.oy == 85);
    /* 333 x 500 portrait: odd padding 512-341 = 171 -> 85 left. */
    dt_preprocess_geometry(&p, 333, 500, &g);
    CHECK(g.nw == 341 && g.nh == 512 && g.ox == 85 && g.oy == 0);
    /* Sized by int(h*r) (YOLOX style) instead: 340, offset 86. */
    p.by_factor = 0;
    dt_preprocess_geometry(&p, 500, 333, &g);
    CHECK(g.nh == 340 && g.oy == 86);
    /* Ultralytics rounds the size: 341, offset (512-341)/2 = 85. */
    p.round_size = 1;
    dt_preprocess_geometry(&p, 500, 333, &g);
    CHECK(g.nh == 341 && g.oy == 85);

    /* nanodet affine, 640x480: r = 0.65, tx = 208 - 0.65*320 = 0, ty = 208 - 0.65*240 = 52. */
    dt_preprocess_preset("nanodet", &p, NULL);
    dt_preprocess_geometry(&p, 640, 480, &g);
    CHECK_NEAR(g.scale_x, 0.65, 1e-6);
    CHECK_NEAR(g.offset_x, 0.0, 1e-4);
    CHECK_NEAR(g.offset_y, 52.0, 1e-4);
    /* 1836x1426 (cat_and_dog): r = 416/1836, ty = 208 - r*713 (float, not rounded). */
    dt_preprocess_geometry(&p, 1836, 1426, &g);
    CHECK_NEAR(g.offset_y, 208.0 - 416.0 / 1836.0 * 713.0, 1e-3);

    /* fastestdet stretch: independent axes. */
    dt_preprocess_preset("fastestdet", &p, NULL);
    dt_preprocess_geometry(&p, 640, 480, &g);
    CHECK_NEAR(g.scale_x, 352.0 / 640, 1e-6);
    CHECK_NEAR(g.scale_y, 352.0 / 480, 1e-6);
    CHECK(g.offset_x == 0.f && g.offset_y == 0.f);

    dt_image_hint h = dt_preprocess_hint(&p);
    CHECK(h.width == 352 && h.height == 352 && !h.keep_ratio);
}

static void test_yolox_values(void)
{
    /* 64x32 flat colour -> r = 6.5, content 416x208 top-left, pad 114, BGR raw. */
    dt_preprocess p;
    dt_preprocess_preset("yolox", &p, NULL);
    dt_image im = flat(64, 32, 10, 20, 30);
    float *t = malloc(sizeof(float) * 416 * 416 * 3);
    dt_prep_geom g;
    CHECK(dt_preprocess_run(&p, &im, t, &g, NULL) == DT_OK);
    CHECK(g.nw == 416 && g.nh == 208);
    CHECK(nchw(t, 416, 416, 0, 5, 5) == 30.f && nchw(t, 416, 416, 1, 5, 5) == 20.f && nchw(t, 416, 416, 2, 5, 5) == 10.f);
    CHECK(nchw(t, 416, 416, 0, 415, 207) == 30.f);
    CHECK(nchw(t, 416, 416, 0, 5, 208) == 114.f && nchw(t, 416, 416, 2, 415, 415) == 114.f);
    free(t);
    free(im.rgb);
}

static void test_centernet_values(void)
{
    /* Portrait 32x64 -> r = 8, content 256x512 centred at x = 128, RGB raw NHWC, pad 0. */
    dt_preprocess p;
    dt_preprocess_preset("centernet", &p, NULL);
    dt_image im = flat(32, 64, 10, 20, 30);
    float *t = malloc(sizeof(float) * 512 * 512 * 3);
    dt_prep_geom g;
    CHECK(dt_preprocess_run(&p, &im, t, &g, NULL) == DT_OK);
    CHECK(g.ox == 128 && g.nw == 256);
    CHECK(nhwc(t, 512, 0, 127, 10) == 0.f && nhwc(t, 512, 0, 384, 10) == 0.f);
    CHECK(nhwc(t, 512, 0, 128, 10) == 10.f && nhwc(t, 512, 1, 300, 500) == 20.f && nhwc(t, 512, 2, 383, 0) == 30.f);
    free(t);
    free(im.rgb);
}

static void test_nanodet_values(void)
{
    /* 64x32 -> r = 6.5, ty = 208 - 6.5*16 = 104: rows [104, 312) are image. */
    dt_preprocess p;
    dt_preprocess_preset("nanodet", &p, NULL);
    dt_image im = flat(64, 32, 10, 20, 30);
    float *t = malloc(sizeof(float) * 416 * 416 * 3);
    dt_prep_geom g;
    CHECK(dt_preprocess_run(&p, &im, t, &g, NULL) == DT_OK);
    float b_in = (30.f - 103.53f) / 57.375f, r_in = (10.f - 123.675f) / 58.395f;
    float b_pad = (0.f - 103.53f) / 57.375f;
    CHECK_NEAR(nchw(t, 416, 416, 0, 200, 200), b_in, 1e-6);
    CHECK_NEAR(nchw(t, 416, 416, 2, 3, 110), r_in, 1e-6);
    CHECK_NEAR(nchw(t, 416, 416, 0, 200, 50), b_pad, 1e-6);
    CHECK_NEAR(nchw(t, 416, 416, 0, 200, 400), b_pad, 1e-6);
    free(t);
    free(im.rgb);
}

static void test_fastestdet_values(void)
{
    /* Stretch, area, BGR, /255. */
    dt_preprocess p;
    dt_preprocess_preset("fastestdet", &p, NULL);
    dt_image im = flat(100, 700, 51, 102, 255);
    float *t = malloc(sizeof(float) * 352 * 352 * 3);
    dt_prep_geom g;
    CHECK(dt_preprocess_run(&p, &im, t, &g, NULL) == DT_OK);
    CHECK_NEAR(nchw(t, 352, 352, 0, 0, 0), 1.0, 1e-6);
    CHECK_NEAR(nchw(t, 352, 352, 1, 351, 351), 0.4, 1e-6);
    CHECK_NEAR(nchw(t, 352, 352, 2, 100, 200), 0.2, 1e-6);
    free(t);
    free(im.rgb);
}

static void test_custom_mean_std(void)
{
    dt_preprocess p;
    dt_preprocess_preset("ssd", &p, NULL);
    p.width = p.height = 8;
    p.nhwc = 0;
    dt_image im = flat(8, 8, 255, 0, 127);
    float t[8 * 8 * 3];
    dt_prep_geom g;
    CHECK(dt_preprocess_run(&p, &im, t, &g, NULL) == DT_OK);
    CHECK_NEAR(nchw(t, 8, 8, 0, 3, 3), 1.0, 1e-6);
    CHECK_NEAR(nchw(t, 8, 8, 1, 3, 3), -1.0, 1e-6);
    CHECK_NEAR(nchw(t, 8, 8, 2, 3, 3), -0.5 / 127.5, 1e-6);
    dt_status st = {0};
    dt_image empty = {0, 0, NULL};
    CHECK(dt_preprocess_run(&p, &empty, t, &g, &st) == DT_EINVAL);
    free(im.rgb);
}

int main(void)
{
    RUN(test_presets);
    RUN(test_geometry);
    RUN(test_yolox_values);
    RUN(test_centernet_values);
    RUN(test_nanodet_values);
    RUN(test_fastestdet_values);
    RUN(test_custom_mean_std);
    return tl_summary();
}
