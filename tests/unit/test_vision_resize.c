/* test_vision_resize.c — 8-bit resampling against OpenCV itself.
 *
 * The reference pipelines preprocess with OpenCV, so the oracle is OpenCV:
 * its C API (cvResize, cvWarpAffine) is loaded with dlopen from the
 * system's libopencv_imgproc (a darknet dependency), and our output must
 * match it bit for bit.  Without the library those comparisons are skipped
 * and only the hand-computed cases run. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "vision/resize.h"

/* OpenCV's C structs (layout stable across 3.x / 4.x). */
typedef struct CvMat {
    int type;
    int step;
    int *refcount;
    int hdr_refcount;
    union {
        unsigned char *ptr;
        double *db;
    } data;
    int rows;
    int cols;
} CvMat;
typedef struct CvScalar {
    double val[4];
} CvScalar;

typedef CvMat *(*init_hdr_fn)(CvMat *, int, int, int, void *, int);
typedef void (*resize_fn)(const void *, void *, int);
typedef void (*warp_fn)(const void *, void *, const CvMat *, int, CvScalar);

static init_hdr_fn cv_init;
static resize_fn cv_resize;
static warp_fn cv_warp;

#define CV_8UC3 16
#define CV_64FC1 6
#define CV_INTER_LINEAR 1
#define CV_INTER_AREA 3
#define CV_WARP_FILL_OUTLIERS 8

static int load_opencv(void)
{
    const char *core[] = {"libopencv_core.so.406", "libopencv_core.so", NULL};
    const char *imgp[] = {"libopencv_imgproc.so.406", "libopencv_imgproc.so", NULL};
    void *hc = NULL, *hi = NULL;
    for (int i = 0; core[i] && !hc; i++)
        hc = dlopen(core[i], RTLD_NOW | RTLD_GLOBAL);
    for (int i = 0; imgp[i] && !hi; i++)
        hi = dlopen(imgp[i], RTLD_NOW);
    if (!hc || !hi)
        return 0;
    *(void **)&cv_init = dlsym(hc, "cvInitMatHeader");
    *(void **)&cv_resize = dlsym(hi, "cvResize");
    *(void **)&cv_warp = dlsym(hi, "cvWarpAffine");
    return cv_init && cv_resize && cv_warp;
}

static uint8_t *rand_img(int w, int h, unsigned *seed, int smooth)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        p[i] = smooth ? (uint8_t)((i / 3 % w) * 3 + (i / 3 / w) * 2 + (*seed >> 28)) : (uint8_t)(*seed >> 24);
    }
    return p;
}

static int count_diff(const uint8_t *a, const uint8_t *b, size_t n, int *maxd)
{
    int c = 0;
    *maxd = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(a[i] - b[i]);
        if (d) {
            c++;
            if (d > *maxd)
                *maxd = d;
        }
    }
    return c;
}

static void cv_resize_ref(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int interp)
{
    CvMat s, d;
    cv_init(&s, sh, sw, CV_8UC3, (void *)src, sw * 3);
    cv_init(&d, dh, dw, CV_8UC3, dst, dw * 3);
    cv_resize(&s, &d, interp);
}

static void test_hand_cases(void)
{
    /* [0, 100] -> 4 wide: half-pixel centres give 0, 25, 75, 100 (cv2.resize). */
    uint8_t s1[2 * 3] = {0, 0, 0, 100, 100, 100}, d1[4 * 3];
    CHECK(dt_resize_linear_u8(s1, 2, 1, 6, 3, d1, 4, 1, 12, NULL) == DT_OK);
    CHECK(d1[0] == 0 && d1[3] == 25 && d1[6] == 75 && d1[9] == 100);
    /* Exact 2x down-scale averages pairs. */
    uint8_t s2[4 * 3] = {10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40}, d2[2 * 3];
    CHECK(dt_resize_linear_u8(s2, 4, 1, 12, 3, d2, 2, 1, 6, NULL) == DT_OK);
    CHECKF(d2[0] == 15 && d2[3] == 35, "%d %d", d2[0], d2[3]);
    /* INTER_AREA 3 -> 2: (2*a0 + a1)/3, (a1 + 2*a2)/3. */
    uint8_t s3[3 * 3] = {0, 0, 0, 30, 30, 30, 60, 60, 60}, d3[2 * 3];
    CHECK(dt_resize_area_u8(s3, 3, 1, 9, 3, d3, 2, 1, 6, NULL) == DT_OK);
    CHECKF(d3[0] == 10 && d3[3] == 50, "%d %d", d3[0], d3[3]);
    /* Same size: a copy. */
    uint8_t d4[3 * 3];
    CHECK(dt_resize_linear_u8(s3, 3, 1, 9, 3, d4, 3, 1, 9, NULL) == DT_OK && !memcmp(s3, d4, 9));
    /* Identity warp is a copy; everything mapped outside is the border. */
    unsigned seed = 1;
    uint8_t *img = rand_img(9, 7, &seed, 0), out[9 * 7 * 3];
    double I[6] = {1, 0, 0, 0, 1, 0};
    CHECK(dt_warp_affine_u8(img, 9, 7, 27, 3, out, 9, 7, 27, I, 0, NULL) == DT_OK && !memcmp(img, out, sizeof out));
    double far[6] = {1, 0, 100, 0, 1, 0};
    CHECK(dt_warp_affine_u8(img, 9, 7, 27, 3, out, 9, 7, 27, far, 77, NULL) == DT_OK);
    int all = 1;
    for (size_t i = 0; i < sizeof out; i++)
        all &= out[i] == 77;
    CHECK(all);
    free(img);
    /* Resizing by factor: with a rounded size (426 * 0.8 = 340.8 -> 341) the
     * vertical grid follows 0.8, not 341/426 (checked against CenterNet's
     * reference detections by test_accuracy.sh). */
    uint8_t *big = rand_img(640, 426, &seed, 1);
    uint8_t *f1 = malloc(512 * 341 * 3), *f2 = malloc(512 * 341 * 3);
    CHECK(dt_resize_linear_factor_u8(big, 640, 426, 640 * 3, 3, 0.8, 0.8, f1, 512, 341, 512 * 3, NULL) == DT_OK);
    CHECK(dt_resize_linear_u8(big, 640, 426, 640 * 3, 3, f2, 512, 341, 512 * 3, NULL) == DT_OK);
    CHECK(memcmp(f1, f2, 512 * 341 * 3) != 0);
    CHECK(dt_resize_linear_factor_u8(big, 640, 426, 640 * 3, 3, 0, 0.8, f1, 512, 341, 512 * 3, NULL) == DT_EINVAL);
    free(big);
    free(f1);
    free(f2);
    /* Bad arguments are errors. */
    dt_status st = {0};
    CHECK(dt_resize_linear_u8(s1, 0, 1, 6, 3, d1, 4, 1, 12, &st) == DT_EINVAL);
}

static void test_against_opencv(void)
{
    if (!cv_resize) {
        fprintf(stderr, "  (libopencv_imgproc not found: OpenCV comparisons skipped)\n");
        return;
    }
    /* (src w, h) -> (dst w, h): COCO-like photos into 416/512/352 inputs,
     * up-scales, exact 2x, odd sizes, one-pixel edges. */
    static const int cases[][4] = {
        {640, 480, 416, 312}, {640, 427, 416, 277}, {480, 640, 312, 416}, {500, 375, 512, 384}, {640, 480, 352, 352},
        {333, 500, 352, 352}, {200, 150, 416, 312}, {704, 704, 352, 352}, {100, 80, 50, 40}, {37, 23, 64, 41},
        {7, 5, 3, 2},         {1, 1, 5, 5},         {640, 1, 416, 1},     {1836, 1426, 416, 323}, {459, 357, 416, 323},
        {1000, 700, 352, 352},
    };
    unsigned seed = 7;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int sw = cases[c][0], sh = cases[c][1], dw = cases[c][2], dh = cases[c][3];
        for (int smooth = 0; smooth < 2; smooth++) {
            uint8_t *src = rand_img(sw, sh, &seed, smooth);
            size_t n = (size_t)dw * dh * 3;
            uint8_t *a = malloc(n), *b = malloc(n);
            for (int area = 0; area < 2; area++) {
                memset(a, 0, n);
                memset(b, 1, n);
                dt_code rc = area ? dt_resize_area_u8(src, sw, sh, sw * 3, 3, a, dw, dh, dw * 3, NULL)
                                  : dt_resize_linear_u8(src, sw, sh, sw * 3, 3, a, dw, dh, dw * 3, NULL);
                CHECK(rc == DT_OK);
                cv_resize_ref(src, sw, sh, b, dw, dh, area ? CV_INTER_AREA : CV_INTER_LINEAR);
                int maxd, nd = count_diff(a, b, n, &maxd);
                CHECKF(nd == 0, "%s %dx%d -> %dx%d: %d of %zu values differ (max %d)", area ? "area" : "linear", sw,
                       sh, dw, dh, nd, n, maxd);
            }
            free(a);
            free(b);
            free(src);
        }
    }
}

static void test_warp_against_opencv(void)
{
    if (!cv_warp)
        return;
    /* NanoDet's centred keep-ratio map into 416 x 416. */
    static const int sizes[][2] = {{640, 480}, {480, 640}, {640, 427}, {1836, 1426}, {300, 200}, {416, 416}, {97, 61}};
    unsigned seed = 3;
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int w = sizes[c][0], h = sizes[c][1], D = 416;
        uint8_t *src = rand_img(w, h, &seed, (int)(c & 1));
        double r = (double)D / w < (double)D / h ? (double)D / w : (double)D / h;
        double M[6] = {r, 0, 0.5 * D - r * w / 2.0, 0, r, 0.5 * D - r * h / 2.0};
        size_t n = (size_t)D * D * 3;
        uint8_t *a = malloc(n), *b = malloc(n);
        CHECK(dt_warp_affine_u8(src, w, h, w * 3, 3, a, D, D, D * 3, M, 0, NULL) == DT_OK);
        CvMat s, d, m;
        cv_init(&s, h, w, CV_8UC3, src, w * 3);
        cv_init(&d, D, D, CV_8UC3, b, D * 3);
        cv_init(&m, 2, 3, CV_64FC1, M, 3 * sizeof(double));
        CvScalar zero = {{0, 0, 0, 0}};
        cv_warp(&s, &d, &m, CV_INTER_LINEAR + CV_WARP_FILL_OUTLIERS, zero);
        int maxd, nd = count_diff(a, b, n, &maxd);
        CHECKF(nd == 0, "warp %dx%d: %d of %zu values differ (max %d)", w, h, nd, n, maxd);
        free(a);
        free(b);
        free(src);
    }
}

int main(void)
{
    load_opencv();
    RUN(test_hand_cases);
    RUN(test_against_opencv);
    RUN(test_warp_against_opencv);
    return tl_summary();
}
