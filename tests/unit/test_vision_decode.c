/* test_vision_decode.c — every decoder on synthetic output tensors whose
 * boxes are computed by hand from the family's formulas, NMS, the full
 * post-processing (map back, clip, NMS, top-k) and SSD priors. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "vision/decode.h"

static dt_tensor tensor(int ndim, const int64_t *dims, float *data)
{
    dt_tensor t = {DT_F32, ndim, {0}, data};
    for (int i = 0; i < ndim; i++)
        t.dims[i] = dims[i];
    return t;
}

static float *zeros(size_t n) { return calloc(n, sizeof(float)); }
static float logit(float p) { return logf(p / (1.f - p)); }

#define CHECK_BOX(d, X1, Y1, X2, Y2, tol)                                                                  \
    do {                                                                                                   \
        CHECK_NEAR((d).x1, X1, tol);                                                                       \
        CHECK_NEAR((d).y1, Y1, tol);                                                                       \
        CHECK_NEAR((d).x2, X2, tol);                                                                       \
        CHECK_NEAR((d).y2, Y2, tol);                                                                       \
    } while (0)

static void test_yolox(void)
{
    /* 64x64 input: grids 8x8, 4x4, 2x2 -> 84 rows of (4 + 1 + 3). */
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_YOLOX, &dec);
    dec.input_w = dec.input_h = 64;
    dec.num_classes = 3;
    int64_t dims[3] = {1, 84, 8};
    float *p = zeros(84 * 8);
    float *r = p + (64 + 1 * 4 + 2) * 8; /* stride 16, cell x=2, y=1 */
    r[0] = 0.5f;
    r[1] = 0.25f;
    r[2] = logf(2.f);
    r[3] = 0.f;
    r[4] = 0.9f;
    r[5] = 0.1f;
    r[6] = 0.8f;
    r[7] = 0.2f;
    p[4] = 0.05f; /* a weak one elsewhere, under the threshold */
    p[5] = 1.f;
    dt_tensor t = tensor(3, dims, p);
    dt_det_buf b = {0};
    dt_status st = {0};
    CHECKF(dt_decoder_run(&dec, &t, 1, 0, 0.1f, &b, &st) == DT_OK, "%s", st.msg);
    CHECK(b.n == 1);
    if (b.n == 1) {
        CHECK(b.d[0].class_id == 1);
        CHECK_NEAR(b.d[0].score, 0.72, 1e-6);
        /* cx = (0.5+2)*16 = 40, cy = (0.25+1)*16 = 20, w = 32, h = 16 */
        CHECK_BOX(b.d[0], 24, 12, 56, 28, 1e-4);
    }
    /* Wrong row count for the grids: a shape error naming the family. */
    dims[1] = 80;
    t = tensor(3, dims, p);
    b.n = 0;
    CHECK(dt_decoder_run(&dec, &t, 1, 0, 0.1f, &b, &st) == DT_ESHAPE && strstr(st.msg, "yolox"));
    /* Batch item out of range. */
    dims[1] = 84;
    t = tensor(3, dims, p);
    CHECK(dt_decoder_run(&dec, &t, 1, 1, 0.1f, &b, &st) == DT_ESHAPE);
    /* Wrong dtype. */
    t.dtype = DT_I64;
    CHECK(dt_decoder_run(&dec, &t, 1, 0, 0.1f, &b, &st) == DT_ESHAPE);
    dt_det_buf_free(&b);
    free(p);
}

static void test_fastestdet(void)
{
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_FASTESTDET, &dec);
    dec.input_w = dec.input_h = 64;
    int64_t dims[4] = {1, 7, 4, 4};
    float *p = zeros(7 * 16);
#define AT(c, y, x) p[(c) * 16 + (y) * 4 + (x)]
    AT(0, 2, 1) = 0.81f;
    AT(1, 2, 1) = atanhf(0.5f);
    AT(2, 2, 1) = 0.f;
    AT(3, 2, 1) = logit(0.25f);
    AT(4, 2, 1) = 0.f;
    AT(5, 2, 1) = 0.2f;
    AT(6, 2, 1) = 0.64f;
#undef AT
    dt_tensor t = tensor(4, dims, p);
    dt_det_buf b = {0};
    dt_status st = {0};
    CHECKF(dt_decoder_run(&dec, &t, 1, 0, 0.3f, &b, &st) == DT_OK, "%s", st.msg);
    CHECK(b.n == 1);
    if (b.n == 1) {
        CHECK(b.d[0].class_id == 1);
        CHECK_NEAR(b.d[0].score, powf(0.81f, 0.6f) * powf(0.64f, 0.4f), 1e-6);
        /* cx = (1 + 0.5)/4*64 = 24, cy = 2/4*64 = 32, w = 16, h = 32 */
        CHECK_BOX(b.d[0], 16, 16, 32, 48, 1e-3);
    }
    dt_det_buf_free(&b);
    free(p);
}

static void test_centernet(void)
{
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_CENTERNET, &dec);
    dec.input_w = dec.input_h = 512;
    dec.num_classes = 80;
    float rows[4][6] = {{10, 20, 110, 220, 0.9f, 16}, {5, 5, 50, 50, 0.2f, 15}, {1, 1, 2, 2, 0.8f, 95}, {0, 0, 9, 9, 0.7f, -1}};
    int64_t dims[3] = {1, 4, 6};
    /* Other outputs (heatmaps) beside it are ignored. */
    int64_t hd[4] = {1, 128, 128, 4};
    float dummy = 0;
    dt_tensor ts[2] = {tensor(4, hd, &dummy), tensor(3, dims, &rows[0][0])};
    dt_det_buf b = {0};
    CHECK(dt_decoder_run(&dec, ts, 2, 0, 0.3f, &b, NULL) == DT_OK);
    CHECK(b.n == 1 && b.d[0].class_id == 16);
    if (b.n)
        CHECK_BOX(b.d[0], 10, 20, 110, 220, 0);
    dt_det_buf_free(&b);
}

/* One level's softmax bins: a big logit at bin k makes the distance k. */
static void put_bins(float *reg, int R, const int k[4])
{
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < R; i++)
            reg[s * R + i] = i == k[s] ? 30.f : 0.f;
}

static void test_nanodet(void)
{
    /* 32x32 input, strides 8 and 16 (4x4 and 2x2 cells), reg_max 3, 2 classes. */
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_NANODET, &dec);
    dec.input_w = dec.input_h = 32;
    dec.n_strides = 2;
    dec.strides[0] = 8;
    dec.strides[1] = 16;
    dec.reg_max = 3;
    dec.num_classes = 2;
    int R = 4;
    float *c8 = zeros(16 * 2), *r8 = zeros(16 * 16), *c16 = zeros(4 * 2), *r16 = zeros(4 * 16);
    /* stride 16, cell (x=1, y=0): centre (24, 8); l=1, t=0, r=2, b=3 bins -> 16, 0, 32, 48 px */
    c16[1 * 2 + 1] = 0.7f;
    c16[1 * 2 + 0] = 0.1f;
    int k16[4] = {1, 0, 2, 3};
    put_bins(r16 + 1 * 16, R, k16);
    /* stride 8, cell (x=1, y=2): centre (12, 20); uniform bins -> 1.5 * 8 = 12 each side */
    c8[(2 * 4 + 1) * 2 + 0] = 0.6f;
    int64_t dc8[3] = {1, 16, 2}, dr8[3] = {1, 16, 16}, dc16[3] = {1, 4, 2}, dr16[3] = {1, 4, 16};
    /* Outputs in a shuffled order, as TF.js lists them. */
    dt_tensor ts[4] = {tensor(3, dr16, r16), tensor(3, dc8, c8), tensor(3, dc16, c16), tensor(3, dr8, r8)};
    dt_det_buf b = {0};
    dt_status st = {0};
    CHECKF(dt_decoder_run(&dec, ts, 4, 0, 0.5f, &b, &st) == DT_OK, "%s", st.msg);
    CHECK(b.n == 2);
    int i16 = b.n == 2 && b.d[0].class_id == 1 ? 0 : 1;
    if (b.n == 2) {
        CHECK(b.d[i16].class_id == 1);
        CHECK_NEAR(b.d[i16].score, 0.7, 1e-6);
        /* x1 = 24-16 = 8, y1 = 8-0 = 8, x2 = 24+32 -> clipped 32, y2 = 8+48 -> clipped 32 */
        CHECK_BOX(b.d[i16], 8, 8, 32, 32, 1e-3);
        CHECK(b.d[1 - i16].class_id == 0);
        CHECK_BOX(b.d[1 - i16], 0, 8, 24, 32, 1e-3); /* 12-12, 20-12, 12+12, 20+12 */
    }
    /* reg_max inferred from the box output (4 x 4 values). */
    dec.reg_max = 0;
    b.n = 0;
    CHECKF(dt_decoder_run(&dec, ts, 4, 0, 0.5f, &b, &st) == DT_OK && b.n == 2, "%s", st.msg);
    /* The older centre convention: index * stride + (stride - 1) / 2 has no
     * knob, but center_offset 0 moves the boxes by half a stride. */
    dec.reg_max = 3;
    dec.center_offset = 0.f;
    b.n = 0;
    CHECK(dt_decoder_run(&dec, ts, 4, 0, 0.65f, &b, NULL) == DT_OK && b.n == 1);
    if (b.n == 1)
        CHECK_BOX(b.d[0], 0, 0, 32, 32, 1e-3); /* centre (16, 0): 0, 0, 48->32, 48->32 */
    dec.center_offset = 0.5f;

    /* NanoDet-Plus style: one [1, 20, 2 + 16] tensor, levels concatenated. */
    float *comb = zeros(20 * 18);
    for (int i = 0; i < 16; i++) {
        memcpy(comb + i * 18, c8 + i * 2, 2 * sizeof(float));
        memcpy(comb + i * 18 + 2, r8 + i * 16, 16 * sizeof(float));
    }
    for (int i = 0; i < 4; i++) {
        memcpy(comb + (16 + i) * 18, c16 + i * 2, 2 * sizeof(float));
        memcpy(comb + (16 + i) * 18 + 2, r16 + i * 16, 16 * sizeof(float));
    }
    int64_t dcomb[3] = {1, 20, 18};
    dt_tensor tc = tensor(3, dcomb, comb);
    b.n = 0;
    CHECKF(dt_decoder_run(&dec, &tc, 1, 0, 0.5f, &b, &st) == DT_OK && b.n == 2, "%s", st.msg);
    if (b.n == 2)
        CHECK_BOX(b.d[b.d[0].class_id == 1 ? 0 : 1], 8, 8, 32, 32, 1e-3);

    /* A level missing: shape error. */
    b.n = 0;
    CHECK(dt_decoder_run(&dec, ts, 2, 0, 0.5f, &b, &st) == DT_ESHAPE);
    dt_det_buf_free(&b);
    free(comb);
    free(c8);
    free(r8);
    free(c16);
    free(r16);
}

static void test_yolov5(void)
{
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_YOLOV5, &dec);
    dec.input_w = dec.input_h = 64;
    dec.num_classes = 2;
    /* Decoded rows [1, 3, 7]. */
    float rows[3][7] = {{32, 32, 20, 10, 0.9f, 0.5f, 0.9f}, {10, 10, 4, 4, 0.05f, 1, 0}, {5, 5, 2, 2, 0.8f, 0.6f, 0.1f}};
    int64_t d3[3] = {1, 3, 7};
    dt_tensor t = tensor(3, d3, &rows[0][0]);
    dt_det_buf b = {0};
    CHECK(dt_decoder_run(&dec, &t, 1, 0, 0.3f, &b, NULL) == DT_OK && b.n == 2);
    if (b.n == 2) {
        CHECK(b.d[0].class_id == 1);
        CHECK_NEAR(b.d[0].score, 0.81, 1e-6);
        CHECK_BOX(b.d[0], 22, 27, 42, 37, 1e-5);
        CHECK(b.d[1].class_id == 0);
    }
    /* Raw head [1, 3, 2, 2, 7] for stride 32 (anchors 116x90, 156x198, 373x326), no sigmoid yet. */
    dec.activated = 0;
    float *h = zeros(3 * 2 * 2 * 7);
    for (int i = 0; i < 3 * 4; i++)
        h[i * 7 + 4] = -20.f; /* objectness ~ 0 */
    float *c = h + ((1 * 2 + 1) * 2 + 0) * 7; /* anchor 1, y=1, x=0 */
    c[0] = 0.f;             /* sig 0.5 -> x = (1 - 0.5 + 0) * 32 = 16 */
    c[1] = 0.f;             /* y = (1 - 0.5 + 1) * 32 = 48 */
    c[2] = 0.f;             /* w = (2*0.5)^2 * 156 = 156 */
    c[3] = logit(0.25f);    /* h = (0.5)^2 * 198 = 49.5 */
    c[4] = 20.f;
    c[5] = -20.f;
    c[6] = 20.f;
    int64_t d5[5] = {1, 3, 2, 2, 7};
    t = tensor(5, d5, h);
    b.n = 0;
    dt_status st = {0};
    CHECKF(dt_decoder_run(&dec, &t, 1, 0, 0.5f, &b, &st) == DT_OK && b.n == 1, "%s", st.msg);
    if (b.n == 1) {
        CHECK(b.d[0].class_id == 1);
        CHECK_BOX(b.d[0], 16 - 78, 48 - 24.75, 16 + 78, 48 + 24.75, 1e-3);
    }
    /* Same head as [1, 3*7, 2, 2] (channels-first planes). */
    float *h4 = zeros(3 * 7 * 4);
    for (int a = 0; a < 3; a++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 2; x++)
                for (int k = 0; k < 7; k++)
                    h4[((a * 7 + k) * 2 + y) * 2 + x] = h[((a * 2 + y) * 2 + x) * 7 + k];
    int64_t d4[4] = {1, 21, 2, 2};
    t = tensor(4, d4, h4);
    b.n = 0;
    CHECKF(dt_decoder_run(&dec, &t, 1, 0, 0.5f, &b, &st) == DT_OK && b.n == 1, "%s", st.msg);
    if (b.n == 1)
        CHECK_BOX(b.d[0], 16 - 78, 48 - 24.75, 16 + 78, 48 + 24.75, 1e-3);
    dt_det_buf_free(&b);
    free(h);
    free(h4);
}

static void test_yolov8(void)
{
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_YOLOV8, &dec);
    dec.input_w = dec.input_h = 640;
    dec.num_classes = 3;
    /* [1, 7, 5]: column 2 is a box of class 2 at 0.9. */
    float *p = zeros(7 * 5);
    p[0 * 5 + 2] = 100;
    p[1 * 5 + 2] = 200;
    p[2 * 5 + 2] = 50;
    p[3 * 5 + 2] = 20;
    p[6 * 5 + 2] = 0.9f;
    p[4 * 5 + 4] = 0.2f;
    int64_t d[3] = {1, 7, 5};
    dt_tensor t = tensor(3, d, p);
    dt_det_buf b = {0};
    CHECK(dt_decoder_run(&dec, &t, 1, 0, 0.25f, &b, NULL) == DT_OK && b.n == 1);
    if (b.n == 1) {
        CHECK(b.d[0].class_id == 2);
        CHECK_BOX(b.d[0], 75, 190, 125, 210, 1e-4);
    }
    /* Transposed [1, 5, 7]. */
    float *q = zeros(5 * 7);
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 5; j++)
            q[j * 7 + i] = p[i * 5 + j];
    int64_t dt_[3] = {1, 5, 7};
    t = tensor(3, dt_, q);
    b.n = 0;
    CHECK(dt_decoder_run(&dec, &t, 1, 0, 0.25f, &b, NULL) == DT_OK && b.n == 1);
    if (b.n == 1)
        CHECK_BOX(b.d[0], 75, 190, 125, 210, 1e-4);
    dt_det_buf_free(&b);
    free(p);
    free(q);
}

static void test_ssd(void)
{
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_SSD, &dec);
    dec.input_w = 300;
    dec.input_h = 200;
    dec.num_classes = 2;
    dec.background = 0;
    dec.score_act = DT_SCORE_SOFTMAX;
    dec.ssd_encoded = 1;
    float priors[2 * 4] = {0.5f, 0.5f, 0.2f, 0.4f, 0.1f, 0.1f, 0.1f, 0.1f};
    dec.priors = priors;
    dec.n_priors = 2;
    /* prior 0: dx = 1 -> cx = 0.5 + 1*0.1*0.2 = 0.52; dw = 0 -> w = 0.2; dh = ln2/0.2 -> h = 0.8 */
    float boxes[2 * 4] = {1, 0, 0, logf(2.f) / 0.2f, 0, 0, 0, 0};
    float scores[2 * 3] = {0, 0, 3, 5, 0, 0}; /* prior 0: class column 2 -> id 1; prior 1: background */
    int64_t db[3] = {1, 2, 4}, ds[3] = {1, 2, 3};
    dt_tensor ts[2] = {tensor(3, ds, scores), tensor(3, db, boxes)};
    dt_det_buf b = {0};
    dt_status st = {0};
    CHECKF(dt_decoder_run(&dec, ts, 2, 0, 0.5f, &b, &st) == DT_OK && b.n == 1, "%s", st.msg);
    if (b.n == 1) {
        CHECK(b.d[0].class_id == 1);
        CHECK_NEAR(b.d[0].score, expf(3) / (2 + expf(3)), 1e-5);
        CHECK_BOX(b.d[0], (0.52 - 0.1) * 300, (0.5 - 0.4) * 200, (0.52 + 0.1) * 300, (0.5 + 0.4) * 200, 1e-3);
    }
    /* Decoded, normalised, (y1, x1, y2, x2), scores already probabilities, no background. */
    dt_decoder_defaults(DT_DECODER_SSD, &dec);
    dec.input_w = 300;
    dec.input_h = 200;
    dec.ssd_yx = 1;
    float yx[4] = {0.1f, 0.2f, 0.5f, 0.6f}, sc[2] = {0.1f, 0.7f};
    int64_t dby[3] = {1, 1, 4}, dsy[3] = {1, 1, 2};
    dt_tensor t2[2] = {tensor(3, dby, yx), tensor(3, dsy, sc)};
    b.n = 0;
    CHECK(dt_decoder_run(&dec, t2, 2, 0, 0.5f, &b, NULL) == DT_OK && b.n == 1);
    if (b.n == 1) {
        CHECK(b.d[0].class_id == 1);
        CHECK_BOX(b.d[0], 60, 20, 180, 100, 1e-3);
    }
    /* Encoded without priors of the right count: an error. */
    dec.ssd_encoded = 1;
    dec.n_priors = 0;
    CHECK(dt_decoder_run(&dec, t2, 2, 0, 0.5f, &b, &st) == DT_ESHAPE);
    dt_det_buf_free(&b);
}

static void test_ssd_priors(void)
{
    /* ssd.pytorch PriorBox, one 2x2 map, step 150 on 300: fk = 2, cells at 0.25/0.75;
     * min 60 -> 0.2, max 120 -> sqrt(0.2*0.4), aspect 2 -> two more: 4 per cell. */
    int fm[1] = {2};
    float steps[1] = {150}, mins[1] = {60}, maxs[1] = {120}, ar0[1] = {2};
    const float *ar[1] = {ar0};
    int nar[1] = {1};
    float *p = NULL;
    int n = 0;
    CHECK(dt_ssd_priors(300, 1, fm, steps, mins, maxs, ar, nar, 1, &p, &n, NULL) == DT_OK);
    CHECK(n == 16);
    if (p && n == 16) {
        CHECK_NEAR(p[0], 0.25, 1e-6);
        CHECK_NEAR(p[1], 0.25, 1e-6);
        CHECK_NEAR(p[2], 0.2, 1e-6);
        CHECK_NEAR(p[4 + 2], sqrtf(0.2f * 0.4f), 1e-6);
        CHECK_NEAR(p[8 + 2], 0.2 * sqrt(2.0), 1e-6);
        CHECK_NEAR(p[8 + 3], 0.2 / sqrt(2.0), 1e-6);
        CHECK_NEAR(p[4 * 4 + 0], 0.75, 1e-6); /* second cell, same row */
    }
    free(p);
}

static dt_detection det(int c, float s, float x1, float y1, float x2, float y2)
{
    dt_detection d = {c, s, x1, y1, x2, y2};
    return d;
}

static void test_nms(void)
{
    dt_detection d[6] = {
        det(0, 0.6f, 0, 0, 10, 10),   det(0, 0.9f, 1, 1, 11, 11), /* IoU 81/119 = 0.68 */
        det(1, 0.8f, 0, 0, 10, 10),                                /* other class: kept */
        det(0, 0.7f, 20, 20, 30, 30),                              /* no overlap: kept */
        det(0, 0.5f, 5, 0, 15, 10),                                /* IoU 50/150 with #0, 36/134 with #1 */
        det(0, 0.95f, 100, 100, 100, 120),                         /* zero area: IoU 0 */
    };
    dt_nms_scratch s = {0};
    int n = dt_nms(d, 6, 0.45f, 0, &s, NULL);
    CHECK(n == 5);
    float order[5] = {0.95f, 0.9f, 0.8f, 0.7f, 0.5f};
    for (int i = 0; i < n && i < 5; i++)
        CHECK(d[i].score == order[i]);
    /* A lower IoU threshold also drops the 0.5 box (IoU 0.27 with the 0.9 one). */
    dt_detection e[3] = {det(0, 0.9f, 1, 1, 11, 11), det(0, 0.5f, 5, 0, 15, 10), det(2, 0.4f, 5, 0, 15, 10)};
    CHECK(dt_nms(e, 3, 0.25f, 0, &s, NULL) == 2 && e[1].class_id == 2);
    /* max_det keeps the best. */
    dt_detection f[4] = {det(0, 0.1f, 0, 0, 1, 1), det(1, 0.4f, 0, 0, 1, 1), det(2, 0.3f, 0, 0, 1, 1), det(3, 0.2f, 0, 0, 1, 1)};
    CHECK(dt_nms(f, 4, 0.5f, 2, &s, NULL) == 2 && f[0].score == 0.4f && f[1].score == 0.3f);
    /* Equal scores keep their original order. */
    dt_detection g[3] = {det(0, 0.5f, 0, 0, 1, 1), det(1, 0.5f, 0, 0, 1, 1), det(2, 0.5f, 0, 0, 1, 1)};
    CHECK(dt_nms(g, 3, 0.5f, 0, &s, NULL) == 3 && g[0].class_id == 0 && g[1].class_id == 1 && g[2].class_id == 2);
    CHECK(dt_nms(g, 0, 0.5f, 0, &s, NULL) == 0);
    CHECK_NEAR(dt_box_iou(&d[1], &d[1]), 1.0, 1e-6);
    CHECK(dt_box_iou(&d[0], &d[0]) == 0.f); /* zero area */
    dt_nms_scratch_free(&s);
}

/* The whole post-processing: input pixels -> original pixels (letterbox undone),
 * clip, class filter, NMS, top-k. */
static void test_postprocess(void)
{
    dt_decoder dec;
    dt_decoder_defaults(DT_DECODER_CENTERNET, &dec);
    dec.input_w = dec.input_h = 512;
    dec.num_classes = 80;
    /* Image 1000x500 centred in 512: r = 0.512, content 512x256 at y offset 128. */
    dt_prep_info info = {1000, 500, 0.512f, 0.512f, 0.f, 128.f, 0, 0};
    float rows[5][6] = {
        {51.2f, 128 + 25.6f, 102.4f, 128 + 51.2f, 0.9f, 15}, /* -> 100, 50, 200, 100 */
        {52, 128 + 26, 103, 128 + 52, 0.8f, 15},             /* duplicate: suppressed */
        {400, 100, 600, 300, 0.7f, 16},                       /* overhangs: clipped */
        {0, 0, 10, 100, 0.6f, 2},                             /* inside the padding: dropped */
        {10, 140, 20, 150, 0.5f, 0},                          /* another class */
    };
    int64_t d[3] = {1, 5, 6};
    dt_tensor t = tensor(3, d, &rows[0][0]);
    dt_det_buf b = {0};
    dt_nms_scratch s = {0};
    int n = -1;
    dt_status st = {0};
    CHECK(dt_decode_detections(&dec, &t, 1, 0, &info, 0.3f, 0.5f, 100, NULL, 0, &b, &s, &n, &st) == DT_OK);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(b.d[0].class_id == 15);
        CHECK_BOX(b.d[0], 100, 50, 200, 100, 1e-3);
        CHECK(b.d[1].class_id == 16);
        CHECK_BOX(b.d[1], 400 / 0.512, 0, 1000, (300 - 128) / 0.512, 1e-2);
        CHECK(b.d[2].class_id == 0);
    }
    int keep[1] = {16};
    CHECK(dt_decode_detections(&dec, &t, 1, 0, &info, 0.3f, 0.5f, 100, keep, 1, &b, &s, &n, &st) == DT_OK);
    CHECK(n == 1 && b.d[0].class_id == 16);
    CHECK(dt_decode_detections(&dec, &t, 1, 0, &info, 0.3f, 0.5f, 1, NULL, 0, &b, &s, &n, &st) == DT_OK);
    CHECK(n == 1 && b.d[0].score == 0.9f);
    CHECK(dt_decode_detections(&dec, &t, 1, 0, &info, 0.95f, 0.5f, 100, NULL, 0, &b, &s, &n, &st) == DT_OK);
    CHECK(n == 0);
    dt_det_buf_free(&b);
    dt_nms_scratch_free(&s);
}

static void test_names(void)
{
    CHECK(dt_decoder_type_from_name("nanodet") == DT_DECODER_NANODET);
    CHECK(dt_decoder_type_from_name("yolov7") == DT_DECODER_YOLOV5);
    CHECK(dt_decoder_type_from_name("yolo11") == DT_DECODER_YOLOV8);
    CHECK(dt_decoder_type_from_name("foo") == DT_DECODER_NONE);
    CHECK(!strcmp(dt_decoder_type_name(DT_DECODER_SSD), "ssd"));
    dt_decoder dec;
    memset(&dec, 0, sizeof dec);
    dt_det_buf b = {0};
    dt_status st = {0};
    float x = 0;
    int64_t d[1] = {1};
    dt_tensor t = tensor(1, d, &x);
    CHECK(dt_decoder_run(&dec, &t, 1, 0, 0.5f, &b, &st) == DT_EINVAL);
}

int main(void)
{
    RUN(test_yolox);
    RUN(test_fastestdet);
    RUN(test_centernet);
    RUN(test_nanodet);
    RUN(test_yolov5);
    RUN(test_yolov8);
    RUN(test_ssd);
    RUN(test_ssd_priors);
    RUN(test_nms);
    RUN(test_postprocess);
    RUN(test_names);
    return tl_summary();
}
