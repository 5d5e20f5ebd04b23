/* test_draw.c — boxes, labels and JPEG output of vision/draw. */
#include <pthread.h>
#include <stdint.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "base/alloc.h"
#include "testlib.h"
#include "vision/draw.h"

static dt_font *g_font; /* NULL when the system font is missing: label checks are skipped */

/* A synthetic photo: a smooth pattern no palette colour appears in exactly. */
static dt_draw_image make_image(int w, int h)
{
    dt_draw_image img = {w, h, (size_t)w * 3 + 5, NULL}; /* odd stride on purpose */
    img.rgb = dt_calloc(img.stride, (size_t)h); /* zeroed row padding: images are compared with memcmp */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img.rgb + (size_t)y * img.stride + (size_t)x * 3;
            p[0] = (uint8_t)(60 + (x * 7) % 61);
            p[1] = (uint8_t)(70 + (y * 5) % 53);
            p[2] = (uint8_t)(80 + ((x + y) * 3) % 47);
        }
    return img;
}

static dt_draw_image copy_image(const dt_draw_image *a)
{
    dt_draw_image b = *a;
    b.rgb = dt_malloc(a->stride * (size_t)a->height);
    memcpy(b.rgb, a->rgb, a->stride * (size_t)a->height);
    return b;
}

static const uint8_t *px(const dt_draw_image *img, int x, int y)
{
    return img->rgb + (size_t)y * img->stride + (size_t)x * 3;
}

static int same(const uint8_t *a, const uint8_t *b) { return a[0] == b[0] && a[1] == b[1] && a[2] == b[2]; }

static const char *coco_label(const void *ctx, int id)
{
    (void)ctx;
    return id == 16 ? "dog" : id == 15 ? "cat" : id == 1 ? "bicycle" : NULL;
}

static int label_pad(int fpx) { return fpx / 6 > 1 ? fpx / 6 : 1; }

static void test_palette(void)
{
    int n = dt_draw_palette_size();
    CHECK(n >= 16);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            uint8_t a[3], b[3];
            dt_draw_class_color(i, a);
            dt_draw_class_color(j, b);
            int d = abs(a[0] - b[0]) + abs(a[1] - b[1]) + abs(a[2] - b[2]);
            CHECKF(d >= 60, "classes %d and %d look alike", i, j);
        }
    uint8_t a[3], b[3];
    dt_draw_class_color(3, a);
    dt_draw_class_color(3 + n, b);
    CHECK(same(a, b));
    dt_draw_class_color(-1, a); /* wraps, does not read out of bounds */
    dt_draw_class_color(n - 1, b);
    CHECK(same(a, b));
    CHECK(dt_draw_line_width(100, 100) == 2);
    CHECK(dt_draw_line_width(4000, 3000) == 15);
    CHECK(dt_draw_font_px(64, 64) == 11);
    CHECK(dt_draw_font_px(768, 576) == 18);
}

static void test_boxes_and_labels(void)
{
    dt_draw_image img = make_image(400, 300), orig = copy_image(&img);
    dt_detection dets[2] = {
        {16, 0.91f, 100.2f, 120.0f, 250.0f, 260.4f}, /* dog, room above for the label */
        {1, 0.5f, 300.0f, 200.0f, 380.0f, 280.0f},   /* bicycle */
    };
    dt_draw_opts o = {.font = g_font, .label = coco_label};
    dt_status st = {0};
    CHECK(dt_draw_detections(&img, dets, 2, &o, &st) == DT_OK);
    int t = dt_draw_line_width(400, 300), fpx = dt_draw_font_px(400, 300);
    uint8_t dog[3], bike[3];
    dt_draw_class_color(16, dog);
    dt_draw_class_color(1, bike);
    CHECK(!same(dog, bike));

    int x0, y0, x1, y1;
    CHECK(dt_draw_box_pixels(&dets[0], 400, 300, &x0, &y0, &x1, &y1));
    CHECK(x0 == 100 && y0 == 120 && x1 == 249 && y1 == 259);
    /* Every pixel of the outline has the class colour, t pixels deep. */
    for (int y = y0; y <= y1; y++)
        for (int k = 0; k < t; k++) {
            CHECKF(same(px(&img, x0 + k, y), dog), "left edge (%d,%d)", x0 + k, y);
            CHECKF(same(px(&img, x1 - k, y), dog), "right edge (%d,%d)", x1 - k, y);
        }
    for (int x = x0; x <= x1; x++) {
        CHECK(same(px(&img, x, y0), dog));
        CHECK(same(px(&img, x, y1), dog));
    }
    /* Just inside the stroke and just outside the box: untouched. */
    CHECK(same(px(&img, x0 + t, 190), px(&orig, x0 + t, 190)));
    CHECK(same(px(&img, x0 - 1, 190), px(&orig, x0 - 1, 190)));
    CHECK(same(px(&img, x1 + 1, 190), px(&orig, x1 + 1, 190)));
    CHECK(same(px(&img, 175, y1 + 1), px(&orig, 175, y1 + 1)));
    CHECK(dt_draw_box_pixels(&dets[1], 400, 300, &x0, &y0, &x1, &y1));
    CHECK(same(px(&img, x0, 240), bike) && same(px(&img, x1, 240), bike));

    if (g_font) {
        /* The dog's tag sits right above its box: its bottom padding row
         * is solid class colour, and its text has both colours in it. */
        int lw, lh;
        CHECK(dt_draw_text(NULL, g_font, fpx, 0, 0, "dog 0.91", dog, dog, label_pad(fpx), 0, &lw, &lh, &st) ==
              DT_OK);
        CHECK(lw > 3 * fpx && lw < 8 * fpx && lh >= fpx && lh < 2 * fpx);
        for (int x = 100; x < 100 + lw; x++)
            CHECKF(same(px(&img, x, 119), dog), "label background (%d,119)", x);
        CHECK(same(px(&img, 100 + lw, 119), px(&orig, 100 + lw, 119)));
        CHECK(same(px(&img, 100, 120 - lh - 1), px(&orig, 100, 120 - lh - 1)));
        int text = 0, bg = 0;
        for (int y = 120 - lh; y < 120; y++)
            for (int x = 100; x < 100 + lw; x++) {
                const uint8_t *p = px(&img, x, y);
                bg += same(p, dog);
                text += !same(p, dog);
            }
        CHECKF(text > 30 && bg > text, "text %d, background %d", text, bg);
        /* The text is white or black, not a copy of the photo. */
        int white = 0;
        for (int y = 120 - lh; y < 120; y++)
            for (int x = 100; x < 100 + lw; x++) {
                const uint8_t *p = px(&img, x, y);
                white += p[0] == p[1] && p[1] == p[2] && (p[0] == 0 || p[0] == 255);
            }
        CHECKF(white > 10, "%d solid text pixels", white);
    }
    /* Nothing outside the boxes and the label band above them changed. */
    int changed = 0;
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 400; x++) {
            int in_dog = x >= 100 && x <= 249 && y >= 120 - 2 * fpx && y <= 259;
            int in_bike = x >= 300 - 8 * fpx && x <= 379 && y >= 200 - 2 * fpx && y <= 279;
            if (!in_dog && !in_bike)
                changed += !same(px(&img, x, y), px(&orig, x, y));
        }
    CHECKF(changed == 0, "%d pixels changed outside the boxes", changed);
    /* The dog's interior (below the stroke) is untouched. */
    changed = 0;
    for (int y = 120 + t; y <= 259 - t; y++)
        for (int x = 100 + t; x <= 249 - t; x++)
            changed += !same(px(&img, x, y), px(&orig, x, y));
    CHECKF(changed == 0, "%d pixels changed inside the box", changed);
    dt_free(img.rgb);
    dt_free(orig.rgb);
}

static void test_label_inside_at_top_and_right(void)
{
    if (!g_font)
        return;
    dt_draw_image img = make_image(300, 200), orig = copy_image(&img);
    dt_detection d = {15, 0.77f, 250.0f, 0.0f, 300.0f, 120.0f}; /* cat at the top-right corner */
    dt_draw_opts o = {.font = g_font, .label = coco_label};
    dt_status st = {0};
    CHECK(dt_draw_detections(&img, &d, 1, &o, &st) == DT_OK);
    uint8_t cat[3];
    dt_draw_class_color(15, cat);
    int fpx = dt_draw_font_px(300, 200), lw, lh, t = dt_draw_line_width(300, 200);
    CHECK(dt_draw_text(NULL, g_font, fpx, 0, 0, "cat 0.77", cat, cat, label_pad(fpx), 0, &lw, &lh, &st) == DT_OK);
    CHECK(lw > 50); /* wider than the box: shifted left to stay in the image */
    /* Bottom padding row of the tag, inside the box at its top, flush right. */
    for (int x = 300 - lw; x < 300; x++)
        CHECKF(same(px(&img, x, lh - 1), cat), "tag row at (%d,%d)", x, lh - 1);
    CHECK(same(px(&img, 300 - lw - 1, lh - 1), px(&orig, 300 - lw - 1, lh - 1)));
    CHECK(same(px(&img, 299, 119), cat) && same(px(&img, 250, 119), cat)); /* outline corners */
    CHECK(same(px(&img, 250 + t, lh + 2), px(&orig, 250 + t, lh + 2)));
    dt_free(img.rgb);
    dt_free(orig.rgb);
}

static void test_without_font_and_odd_boxes(void)
{
    dt_draw_image img = make_image(2000, 1000), orig = copy_image(&img);
    float nan = NAN;
    dt_detection dets[4] = {
        {2, 0.9f, 500, 500, 900, 900},
        {3, 0.9f, -50, -50, -10, -10},    /* outside: nothing drawn */
        {4, 0.9f, nan, 10, 20, 30},       /* NaN: skipped */
        {5, 0.9f, 1900, 950, 2500, 1400}, /* clipped to the image */
    };
    dt_status st = {0};
    CHECK(dt_draw_detections(&img, dets, 4, NULL, &st) == DT_OK);
    int t = dt_draw_line_width(2000, 1000);
    CHECK(t == 5);
    uint8_t c[3];
    dt_draw_class_color(2, c);
    CHECK(same(px(&img, 500 + t - 1, 700), c));
    CHECK(same(px(&img, 500 + t, 700), px(&orig, 500 + t, 700)));
    CHECK(same(px(&img, 500, 499), px(&orig, 500, 499))); /* no label without a font */
    dt_draw_class_color(5, c);
    CHECK(same(px(&img, 1999, 999), c) && same(px(&img, 1900, 999), c));
    int changed = 0;
    for (int y = 0; y < 400; y++)
        for (int x = 0; x < 400; x++)
            changed += !same(px(&img, x, y), px(&orig, x, y));
    CHECK(changed == 0);
    /* Bad arguments are errors, not crashes. */
    dt_draw_image bad = img;
    bad.stride = 10;
    CHECK(dt_draw_detections(&bad, dets, 1, NULL, &st) == DT_EINVAL);
    CHECK(dt_draw_detections(&img, NULL, 3, NULL, &st) == DT_EINVAL);
    CHECK(dt_draw_detections(&img, NULL, 0, NULL, &st) == DT_OK);
    dt_free(img.rgb);
    dt_free(orig.rgb);
}

static void test_missing_font(void)
{
    dt_font *f = (dt_font *)1;
    dt_status st = {0};
    CHECK(dt_font_create("/nonexistent/font.ttf", &f, &st) == DT_ENOTFOUND);
    CHECK(f == NULL);
    CHECK(strstr(st.msg, "/nonexistent/font.ttf") != NULL);
    /* A file that is not a font. */
    char path[] = "/tmp/test_draw_fontXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "not a font at all\n", 18) == 18);
        close(fd);
        CHECK(dt_font_create(path, &f, &st) == DT_ECORRUPT);
        CHECK(f == NULL);
        unlink(path);
    }
    dt_font_free(NULL);
}

static void test_jpeg_roundtrip(void)
{
    dt_draw_image img = make_image(333, 211);
    dt_detection d = {16, 0.9f, 50, 60, 200, 180};
    dt_draw_opts o = {.font = g_font, .label = coco_label, .line_width = 6};
    dt_status st = {0};
    CHECK(dt_draw_detections(&img, &d, 1, &o, &st) == DT_OK);
    unsigned char *jpg = NULL;
    size_t len = 0;
    CHECK(dt_draw_encode_jpeg(&img, 90, &jpg, &len, &st) == DT_OK);
    CHECK(jpg && len > 100 && jpg[0] == 0xFF && jpg[1] == 0xD8);
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, sub = -1, cs = -1;
    CHECK(tjDecompressHeader3(tj, jpg, (unsigned long)len, &w, &h, &sub, &cs) == 0);
    CHECK(w == 333 && h == 211);
    uint8_t *out = malloc((size_t)w * h * 3);
    CHECK(tjDecompress2(tj, jpg, (unsigned long)len, out, w, 0, h, TJPF_RGB, 0) == 0);
    uint8_t c[3];
    dt_draw_class_color(16, c);
    /* The middle of a 6-pixel stroke keeps its colour through JPEG at q90. */
    for (int y = 80; y < 170; y += 10) {
        const uint8_t *p = out + ((size_t)y * w + 52) * 3;
        CHECKF(abs(p[0] - c[0]) < 30 && abs(p[1] - c[1]) < 30 && abs(p[2] - c[2]) < 30,
               "(52,%d) = %d,%d,%d", y, p[0], p[1], p[2]);
    }
    free(out);
    tjDestroy(tj);
    dt_free(jpg);
    CHECK(dt_draw_encode_jpeg(&img, 101, &jpg, &len, &st) == DT_EINVAL && jpg == NULL);
    /* Out of memory for the result: a clean error, nothing leaked. */
    dt_alloc_fail_after(0);
    CHECK(dt_draw_encode_jpeg(&img, 90, &jpg, &len, &st) == DT_ENOMEM && jpg == NULL);
    dt_alloc_fail_reset();
    dt_free(img.rgb);
}

/* Encoded photo in, annotated JPEG of the same size out. */
static void test_render(void)
{
    dt_draw_image img = make_image(320, 240);
    unsigned char *src = NULL, *jpg = NULL;
    size_t src_len = 0, len = 0;
    dt_status st = {0};
    CHECK(dt_draw_encode_jpeg(&img, 95, &src, &src_len, &st) == DT_OK);
    dt_detection d = {16, 0.8f, 40, 50, 200, 220};
    dt_draw_opts o = {.font = g_font, .label = coco_label, .line_width = 6};
    CHECK(dt_render_detections(src, src_len, NULL, &d, 1, &o, 0, &jpg, &len, &st) == DT_OK);
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, sub, cs;
    CHECK(tjDecompressHeader3(tj, jpg, (unsigned long)len, &w, &h, &sub, &cs) == 0 && w == 320 && h == 240);
    uint8_t *out = malloc((size_t)w * h * 3);
    CHECK(tjDecompress2(tj, jpg, (unsigned long)len, out, w, 0, h, TJPF_RGB, 0) == 0);
    uint8_t c[3];
    dt_draw_class_color(16, c);
    const uint8_t *p = out + ((size_t)150 * w + 42) * 3;
    CHECKF(abs(p[0] - c[0]) < 30 && abs(p[1] - c[1]) < 30 && abs(p[2] - c[2]) < 30, "%d,%d,%d", p[0], p[1], p[2]);
    free(out);
    tjDestroy(tj);
    dt_free(jpg);
    /* Not an image: the decoder's error, no output. */
    CHECK(dt_render_detections("hello", 5, NULL, &d, 1, &o, 0, &jpg, &len, &st) == DT_EUNSUPPORTED && !jpg);
    CHECK(dt_render_detections(src, src_len / 3, NULL, &d, 1, &o, 0, &jpg, &len, &st) != DT_OK && !jpg);
    /* Every allocation failure is a clean error. */
    for (long k = 0; k < 40; k++) {
        dt_alloc_fail_after(k);
        dt_code rc = dt_render_detections(src, src_len, NULL, &d, 1, &o, 0, &jpg, &len, &st);
        dt_alloc_fail_reset();
        CHECK((rc == DT_OK) == (jpg != NULL));
        dt_free(jpg);
        jpg = NULL;
        if (rc == DT_OK)
            break;
    }
    dt_free(src);
    dt_free(img.rgb);
}

static void test_font_alloc_failures(void)
{
    for (long k = 0; k < 3; k++) {
        dt_font *f = NULL;
        dt_status st = {0};
        dt_alloc_fail_after(k);
        dt_code rc = dt_font_create(NULL, &f, &st);
        dt_alloc_fail_reset();
        CHECK(rc == DT_ENOMEM || rc == DT_OK || rc == DT_ENOTFOUND);
        CHECK((rc == DT_OK) == (f != NULL));
        dt_font_free(f);
    }
}

/* Several threads labelling with one shared font get the same pixels as
 * one thread does. */
typedef struct {
    dt_draw_image img;
    int rc;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    dt_detection dets[3] = {{16, 0.91f, 20, 40, 150, 150}, {15, 0.33f, 160, 40, 290, 180}, {1, 0.5f, 10, 150, 120, 190}};
    dt_draw_opts o = {.font = g_font, .label = coco_label};
    dt_status st = {0};
    for (int r = 0; r < 20 && !j->rc; r++)
        j->rc = dt_draw_detections(&j->img, dets, 3, &o, &st);
    return NULL;
}

static void test_threads(void)
{
    if (!g_font)
        return;
    enum { N = 4 };
    job ref = {make_image(300, 200), 0};
    worker(&ref);
    job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        jobs[i].img = make_image(300, 200);
        jobs[i].rc = 0;
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].rc == DT_OK);
        CHECK(memcmp(jobs[i].img.rgb, ref.img.rgb, ref.img.stride * 200) == 0);
        dt_free(jobs[i].img.rgb);
    }
    dt_free(ref.img.rgb);
}

int main(void)
{
    dt_status st = {0};
    if (dt_font_create(NULL, &g_font, &st) != DT_OK)
        fprintf(stderr, "note: %s; label checks skipped\n", st.msg);
    RUN(test_palette);
    RUN(test_boxes_and_labels);
    RUN(test_label_inside_at_top_and_right);
    RUN(test_without_font_and_odd_boxes);
    RUN(test_missing_font);
    RUN(test_jpeg_roundtrip);
    RUN(test_render);
    RUN(test_font_alloc_failures);
    RUN(test_threads);
    dt_font_free(g_font);
    return tl_summary();
}
