/* test_vision_manifest.c — *.detectd.json parsing (presets, overrides,
 * labels, priors, errors), model name resolution, and, when `make models`
 * has fetched it, the built-in nanodet through the staged API. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <turbojpeg.h>

#include "base/alloc.h"
#include "testlib.h"
#include "vision/detector.h"
#include "vision/manifest.h"

static char g_dir[] = "/tmp/dt_manifest_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_builtin_manifests(void)
{
    /* The committed manifests parse (graph files need not exist for this). */
    dt_manifest m;
    dt_status st = {0};
    CHECKF(dt_manifest_load("models/nanodet.detectd.json", NULL, &m, &st) == DT_OK, "%s", st.msg);
    CHECK(!strcmp(m.name, "nanodet") && !strcmp(m.graph, "models/nanodet/nanodet.json"));
    CHECK(m.format == DT_FORMAT_TFJS && m.pre.resize == DT_RESIZE_AFFINE_CENTER && m.pre.bgr);
    CHECK(m.dec.type == DT_DECODER_NANODET && m.dec.reg_max == 10 && m.dec.n_strides == 3 && m.dec.strides[2] == 32);
    CHECK(m.threshold == 0.5f && m.nms_iou == 0.45f && m.n_labels == 80 && !strcmp(dt_manifest_label(&m, 15), "cat"));
    CHECK(!strcmp(dt_manifest_label(&m, 80), "?"));
    dt_manifest_free(&m);
    CHECKF(dt_manifest_load("models/centernet.detectd.json", NULL, &m, &st) == DT_OK, "%s", st.msg);
    CHECK(m.dec.type == DT_DECODER_CENTERNET && m.pre.nhwc && m.pre.resize == DT_RESIZE_LETTERBOX_CENTER);
    CHECK(m.threshold < 0.5f && m.threshold >= 0.2f && m.nms_iou == 0.5f);
    dt_manifest_free(&m);
}

static void test_overrides(void)
{
    const char *p = write_file("custom.detectd.json",
                               "{\"graph\": \"sub/m.onnx\", \"preset\": \"yolov5\",\n"
                               " \"preprocess\": {\"width\": 320, \"height\": 256, \"channels\": \"bgr\",\n"
                               "   \"layout\": \"nhwc\", \"mean\": [1, 2, 3], \"std\": [4, 5, 6], \"resize\": \"stretch\",\n"
                               "   \"interp\": \"area\", \"pad\": 0, \"scale\": 1},\n"
                               " \"decoder\": {\"activated\": false, \"anchors\": [[1,2,3,4],[5,6,7,8],[9,10,11,12]]},\n"
                               " \"labels\": [\"a\", \"b\"], \"threshold\": 0.25, \"nms_iou\": 0.6, \"max_detections\": 7,\n"
                               " \"notes\": \"free text\", \"_comment\": 1}");
    dt_manifest m;
    dt_status st = {0};
    CHECKF(dt_manifest_load(p, NULL, &m, &st) == DT_OK, "%s", st.msg);
    CHECK(!strcmp(m.name, "custom") && strstr(m.graph, "/sub/m.onnx"));
    CHECK(m.pre.width == 320 && m.pre.height == 256 && m.size_set && m.layout_set && m.pre.nhwc && m.pre.bgr);
    CHECK(m.pre.mean[2] == 3.f && m.pre.std[0] == 4.f && m.pre.resize == DT_RESIZE_STRETCH && m.pre.interp == DT_INTERP_AREA);
    CHECK(m.dec.type == DT_DECODER_YOLOV5 && !m.dec.activated && m.dec.n_anchors == 2 && m.dec.anchors[2][3] == 12.f);
    CHECK(m.n_labels == 2 && !strcmp(dt_manifest_label(&m, 1), "b"));
    CHECK(m.threshold == 0.25f && m.nms_iou == 0.6f && m.max_detections == 7);
    dt_manifest_free(&m);

    /* --preset replaces the manifest's preset (and so the decoder family). */
    p = write_file("plain.detectd.json", "{\"graph\": \"m.onnx\", \"preset\": \"yolox\", \"threshold\": 0.4}");
    CHECK(dt_manifest_load(p, "yolov8", &m, &st) == DT_OK);
    CHECK(m.dec.type == DT_DECODER_YOLOV8 && !strcmp(m.preset, "yolov8") && m.pre.width == 640 && m.threshold == 0.4f);
    dt_manifest_free(&m);

    /* Labels from a names file beside the manifest. */
    write_file("x.names", "one\ntwo\nthree\n\n");
    p = write_file("lab.detectd.json", "{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"labels\": \"x.names\"}");
    CHECKF(dt_manifest_load(p, NULL, &m, &st) == DT_OK, "%s", st.msg);
    CHECK(m.n_labels == 3 && !strcmp(dt_manifest_label(&m, 2), "three"));
    dt_manifest_free(&m);

    /* SSD priors generated from the config. */
    p = write_file("ssd.detectd.json",
                   "{\"graph\": \"g.onnx\", \"preset\": \"ssd\", \"decoder\": {\"encoded\": true, \"background\": 0,"
                   " \"score_activation\": \"softmax\", \"box_order\": \"yxhw\", \"priors\": {\"image_size\": 300,"
                   " \"feature_maps\": [2, 1], \"steps\": [150, 300], \"min_sizes\": [60, 150], \"max_sizes\": [150, 300],"
                   " \"aspect_ratios\": [[2], []]}}}");
    CHECKF(dt_manifest_load(p, NULL, &m, &st) == DT_OK, "%s", st.msg);
    CHECK(m.dec.n_priors == 4 * 4 + 1 * 2 && m.dec.priors == m.priors && m.dec.ssd_yx && m.dec.score_act == DT_SCORE_SOFTMAX);
    dt_manifest_free(&m);
}

static void test_errors(void)
{
    struct { const char *json, *needle; } bad[] = {
        {"{\"preset\": \"yolox\"}", "graph"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"treshold\": 0.4}", "treshold"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"nope\"}", "nope"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"threshold\": 2}", "threshold"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"decoder\": {\"type\": \"rcnn\"}}", "rcnn"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"decoder\": {\"strides\": \"8\"}}", "strides"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"preprocess\": {\"std\": [1, 0, 1]}}", "std"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"preprocess\": {\"layout\": \"chw\"}}", "layout"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"labels\": \"missing.names\"}", "missing.names"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"labels\": [1, 2]}", "labels"},
        {"{\"graph\": \"g.onnx\"}", "preset"},
        {"{\"graph\": \"g.onnx\", \"preset\": \"yolox\", \"preset\": \"yolox\"}", "duplicate"},
        {"[1, 2]", "object"},
        {"{\"graph\": \"g.onnx\",", "line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = write_file("bad.detectd.json", bad[i].json);
        dt_manifest m;
        dt_status st = {0};
        dt_code rc = dt_manifest_load(p, NULL, &m, &st);
        CHECKF(rc != DT_OK && strstr(st.msg, bad[i].needle), "case %zu: rc %d msg '%s'", i, rc, st.msg);
    }
    dt_manifest m;
    dt_status st = {0};
    CHECK(dt_manifest_load("/nonexistent/x.detectd.json", NULL, &m, &st) == DT_ENOTFOUND);
}

static void test_from_graph(void)
{
    dt_manifest m;
    dt_status st = {0};
    CHECK(dt_manifest_from_graph("/x/yolox_nano.onnx", NULL, &m, &st) == DT_OK);
    CHECK(!strcmp(m.preset, "yolox") && !strcmp(m.name, "yolox_nano") && m.dec.type == DT_DECODER_YOLOX);
    dt_manifest_free(&m);
    CHECK(dt_manifest_from_graph("/x/FastestDet.onnx", NULL, &m, &st) == DT_OK);
    CHECK(!strcmp(m.preset, "fastestdet") && m.pre.interp == DT_INTERP_AREA && m.threshold == 0.65f);
    dt_manifest_free(&m);
    CHECK(dt_manifest_from_graph("/x/model.onnx", "yolov8", &m, &st) == DT_OK && m.dec.type == DT_DECODER_YOLOV8);
    dt_manifest_free(&m);
    CHECK(dt_manifest_from_graph("/x/model.onnx", NULL, &m, &st) == DT_EINVAL && strstr(st.msg, "--preset"));
}

static void test_resolution_errors(void)
{
    dt_detector *d = NULL;
    dt_status st = {0};
    dt_detector_opts o = {.model = "no_such_model", .models_dir = g_dir};
    CHECK(dt_detector_load(&o, &d, &st) == DT_ENOTFOUND && d == NULL && strstr(st.msg, "no_such_model"));
    o.model = "/nonexistent/file.onnx";
    CHECK(dt_detector_load(&o, &d, &st) == DT_ENOTFOUND && d == NULL);
    /* A manifest whose graph is missing. */
    write_file("ghost.detectd.json", "{\"graph\": \"ghost/ghost.json\", \"preset\": \"nanodet\"}");
    o.model = "ghost";
    CHECK(dt_detector_load(&o, &d, &st) != DT_OK && d == NULL && strstr(st.msg, "make models"));
}

/* The real default model, when present: full pipeline + the staged API. */
static void test_nanodet_pipeline(void)
{
    if (access("models/nanodet/nanodet.json", R_OK) != 0) {
        fprintf(stderr, "  (models/nanodet missing: run make models; skipped)\n");
        return;
    }
    dt_detector_opts o = {.model = "nanodet", .models_dir = "models", .max_batch = 2};
    dt_detector *d = NULL;
    dt_status st = {0};
    CHECKF(dt_detector_load(&o, &d, &st) == DT_OK, "%s", st.msg);
    if (!d)
        return;
    int w, h;
    dt_detector_input_size(d, &w, &h);
    CHECK(w == 416 && h == 416 && dt_detector_item_floats(d) == 416 * 416 * 3);
    CHECK(!strcmp(dt_detector_name(d), "nanodet") && dt_detector_default_threshold(d) == 0.5f);
    CHECK(dt_detector_class_id(d, "dog") == 16 && dt_detector_class_id(d, "unicorn") == -1);
    CHECK(!strcmp(dt_detector_label(d, 0), "person") && !strcmp(dt_detector_label(d, -1), "?"));
    CHECK(!strcmp(dt_detector_preset(d), "nanodet"));

    /* A synthetic photo: grey with a dark square; whatever is found must be
     * inside the image, and the staged path must equal dt_detect_bytes. */
    int W = 300, H = 200;
    unsigned char *px = malloc((size_t)W * H * 3);
    for (int i = 0; i < W * H; i++)
        memset(px + 3 * i, (i % W > 100 && i % W < 200 && i / W > 50 && i / W < 150) ? 30 : 200, 3);
    tjhandle tj = tjInitCompress();
    unsigned char *jpg = NULL;
    unsigned long jlen = 0;
    tjCompress2(tj, px, W, 0, H, TJPF_RGB, &jpg, &jlen, TJSAMP_444, 90, 0);
    tjDestroy(tj);

    dt_detect_ctx *c = NULL;
    CHECKF(dt_detect_ctx_create(d, &c, &st) == DT_OK, "%s", st.msg);
    if (c) {
        dt_detect_params par = {.threshold = 0.01f};
        dt_detect_result r1;
        CHECKF(dt_detect_bytes(c, jpg, jlen, NULL, &par, &r1, &st) == DT_OK, "%s", st.msg);
        CHECK(r1.width == W && r1.height == H && r1.n > 0 && r1.n <= 100);
        CHECK(r1.timing.inference_ms > 0);
        dt_detection first = r1.n > 0 ? r1.dets[0] : (dt_detection){0};
        int n1 = r1.n;
        for (int i = 0; i < r1.n; i++)
            CHECK(r1.dets[i].x1 >= 0 && r1.dets[i].x2 <= W && r1.dets[i].y1 >= 0 && r1.dets[i].y2 <= H &&
                  r1.dets[i].x2 > r1.dets[i].x1 && (i == 0 || r1.dets[i].score <= r1.dets[i - 1].score));

        /* Staged, batch of 2: both slots the same image. */
        int mb = dt_detect_ctx_max_batch(c);
        int batch = mb >= 2 ? 2 : 1;
        float *in = dt_detect_ctx_input(c, batch);
        dt_prep_info info[2];
        CHECK(in != NULL);
        for (int i = 0; in && i < batch; i++)
            CHECK(dt_detector_prepare(d, jpg, jlen, NULL, in + i * dt_detector_item_floats(d), &info[i], &st) == DT_OK);
        CHECK(info[0].width == W && info[0].height == H);
        CHECKF(dt_detect_ctx_run(c, batch, &st) == DT_OK, "%s", st.msg);
        for (int i = 0; i < batch; i++) {
            dt_detect_result r2;
            CHECK(dt_detect_ctx_decode(c, i, &info[i], &par, &r2, &st) == DT_OK);
            CHECKF(r2.n == n1 && (r2.n == 0 || fabsf(r2.dets[0].score - first.score) < 1e-4f),
                   "item %d: %d vs %d detections", i, r2.n, n1);
        }
        /* Bad bytes: the error of the decoder, the context still usable. */
        dt_detect_result r3;
        CHECK(dt_detect_bytes(c, "GIF89a....", 10, NULL, &par, &r3, &st) == DT_EUNSUPPORTED);
        CHECK(dt_detect_bytes(c, jpg, jlen / 2, NULL, &par, &r3, &st) == DT_ECORRUPT);
        dt_image_limits lim = {1000, 0};
        CHECK(dt_detect_bytes(c, jpg, jlen, &lim, &par, &r3, &st) == DT_ELIMIT);
        CHECK(dt_detect_bytes(c, jpg, jlen, NULL, &par, &r3, &st) == DT_OK && r3.n == n1);
        dt_detect_ctx_free(c);
    }
    tjFree(jpg);
    free(px);
    dt_detector_free(d);
}

static void rm_dir(void)
{
    const char *files[] = {"custom.detectd.json", "plain.detectd.json", "x.names", "lab.detectd.json", "ssd.detectd.json",
                           "bad.detectd.json", "ghost.detectd.json"};
    char p[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

int main(void)
{
    /* Run from the repository root (tests/run.sh does). */
    if (access("models/nanodet.detectd.json", R_OK) != 0 && chdir(getenv("ROOT") ? getenv("ROOT") : ".") != 0)
        return 77;
    if (!mkdtemp(g_dir))
        return 1;
    RUN(test_builtin_manifests);
    RUN(test_overrides);
    RUN(test_errors);
    RUN(test_from_graph);
    RUN(test_resolution_errors);
    RUN(test_nanodet_pipeline);
    rm_dir();
    return tl_summary();
}
