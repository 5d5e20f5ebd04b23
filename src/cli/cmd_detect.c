/* cmd_detect.c — `detectd detect`: one JSON line per image file.
 *
 * The detector is loaded once and one context runs every image in order.
 * An image that fails (unreadable, corrupt, over the limits) gives a JSON
 * line with "error" and the run goes on; the exit status is 1 if any image
 * failed, 2 for a usage error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "vision/detector.h"
#include "vision/draw.h"

#define MAX_FILE_BYTES (512L << 20)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: detectd detect [OPTIONS] IMAGE...\n"
            "\n"
            "Detects objects in each image (JPEG, PNG, WebP, BMP) and prints one JSON line per image:\n"
            "  {\"image\":PATH,\"width\":W,\"height\":H,\"model\":NAME,\n"
            "   \"objects\":[{\"label\":\"cat\",\"class_id\":15,\"score\":0.93,\n"
            "                \"box\":{\"x\":X,\"y\":Y,\"width\":BW,\"height\":BH}}, ...],\n"
            "   \"timing_ms\":{\"decode\":..,\"preprocess\":..,\"inference\":..,\"postprocess\":..}}\n"
            "Boxes are in pixels of the original image (after EXIF orientation), best score first.\n"
            "An image that cannot be processed gives {\"image\":PATH,\"error\":MESSAGE,\"code\":CODE}\n"
            "and the exit status is 1 at the end; 2 means bad options.\n"
            "\n"
            "options:\n"
            "  --model NAME|PATH     built-in model name (nanodet [default], centernet), a manifest\n"
            "                        (*.detectd.json), a model directory, or a bare graph file\n"
            "                        (.onnx / TF.js model.json) used with --preset\n"
            "  --preset P            preprocessing + decoding preset for a bare graph file, or to\n"
            "                        override a manifest's: yolox, fastestdet, centernet, nanodet,\n"
            "                        yolov5, yolov7, yolov8, yolo11, ssd (guessed from the file name\n"
            "                        when omitted)\n"
            "  --threshold T         minimum score, 0..1 (default: the model's, e.g. nanodet 0.5,\n"
            "                        centernet 0.3)\n"
            "  --max-detections N    at most N objects per image (default 100)\n"
            "  --nms-iou X           IoU above which NMS drops a box of the same class (default: the\n"
            "                        model's, 0.45 or 0.5)\n"
            "  --classes A,B,...     keep only these classes (names or numeric ids)\n"
            "  --threads N           inference threads (default 1)\n"
            "  --device D            cpu (default), cuda or cuda:N (without a usable GPU: a warning,\n"
            "                        then the CPU)\n"
            "  --models-dir D        where built-in names are looked up (default $DETECTD_MODELS_DIR,\n"
            "                        else ./models)\n"
            "  --max-pixels N        refuse images with more pixels (default 50000000)\n"
            "  --max-side N          refuse images wider or taller (default 32768)\n"
            DT_CLI_MAX_MODEL_MEMORY_HELP
            "  --render OUT.jpg      also write the image with the boxes and labels drawn on it\n"
            "                        (JPEG; one IMAGE only; font: $DETECTD_FONT, else DejaVu Sans Bold)\n"
            "  -h, --help            this help\n"
            "\n"
            "Built-in models are fetched by `make models`.  Example:\n"
            "  detectd detect --model centernet photo.jpg\n"
            "  detectd detect --model ../shared/models/yolox_nano.onnx --preset yolox --threshold 0.3 a.jpg b.png\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int parse_float(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

/* Read a whole file (bounded). */
static dt_code read_file(const char *path, uint8_t **out, size_t *len, dt_status *st)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_fail(st, errno == ENOENT ? DT_ENOTFOUND : DT_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return dt_fail(st, DT_EIO, "%s is not a regular file", path);
    }
    if (sb.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return dt_fail(st, DT_ELIMIT, "%s is larger than %ld bytes", path, MAX_FILE_BYTES);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *b = dt_malloc(n ? n : 1);
    if (!b) {
        fclose(f);
        return dt_fail(st, DT_ENOMEM, "out of memory reading %s", path);
    }
    size_t got = fread(b, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != n) {
        dt_free(b);
        return dt_fail(st, DT_EIO, "error reading %s", path);
    }
    *out = b;
    *len = n;
    return DT_OK;
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(7));
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    fflush(stdout);
}

/* Round to 3 decimals: enough for pixels and milliseconds, short to read. */
static json_t *num3(double v) { return json_real((double)(long long)(v * 1000.0 + (v < 0 ? -0.5 : 0.5)) / 1000.0); }

static json_t *result_json(const char *path, const dt_detector *d, const dt_detect_result *r)
{
    json_t *objs = json_array();
    for (int i = 0; i < r->n; i++) {
        const dt_detection *e = &r->dets[i];
        json_t *box = json_pack("{s:o,s:o,s:o,s:o}", "x", num3(e->x1), "y", num3(e->y1), "width",
                                num3(e->x2 - e->x1), "height", num3(e->y2 - e->y1));
        json_array_append_new(objs, json_pack("{s:s,s:i,s:f,s:o}", "label", dt_detector_label(d, e->class_id),
                                              "class_id", e->class_id, "score",
                                              (double)(long long)(e->score * 1e6 + 0.5) / 1e6, "box", box));
    }
    json_t *t = json_pack("{s:o,s:o,s:o,s:o}", "decode", num3(r->timing.decode_ms), "preprocess",
                          num3(r->timing.preprocess_ms), "inference", num3(r->timing.inference_ms), "postprocess",
                          num3(r->timing.postprocess_ms));
    return json_pack("{s:s,s:i,s:i,s:s,s:o,s:o}", "image", path, "width", r->width, "height", r->height, "model",
                     dt_detector_name(d), "objects", objs, "timing_ms", t);
}

static void print_error(const char *path, const dt_status *st)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "image", path, "error", st->msg, "code", dt_code_name(st->code));
    print_json(o);
    json_decref(o);
}

/* "--classes cat,dog,3" -> class ids (names resolved against the model). */
static int parse_classes(const dt_detector *d, const char *spec, int **ids, int *n)
{
    *ids = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = spec; *p; p++)
        cap += *p == ',';
    int *v = dt_calloc(cap, sizeof *v);
    if (!v)
        return 0;
    char *copy = dt_strdup(spec);
    if (!copy) {
        dt_free(v);
        return 0;
    }
    int k = 0, ok = 1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long id;
        int c = dt_detector_class_id(d, tok);
        if (c < 0 && parse_int(tok, 0, dt_detector_num_classes(d) - 1, &id))
            c = (int)id;
        if (c < 0) {
            fprintf(stderr, "detectd detect: --classes: unknown class '%s' for model %s\n", tok, dt_detector_name(d));
            ok = 0;
            break;
        }
        v[k++] = c;
    }
    dt_free(copy);
    if (!ok || k == 0) {
        if (ok)
            fprintf(stderr, "detectd detect: --classes: empty list\n");
        dt_free(v);
        return 0;
    }
    *ids = v;
    *n = k;
    return 1;
}

/* --render: the annotated image; a missing font only loses the labels. */
static int render_file(const char *out, const void *bytes, size_t len, const dt_image_limits *lim,
                       const dt_detector *d, const dt_detect_result *res)
{
    dt_status st = {0};
    dt_font *font = NULL;
    if (dt_font_create(NULL, &font, &st) != DT_OK)
        fprintf(stderr, "detectd detect: %s; drawing boxes without labels\n", st.msg);
    dt_draw_opts o = {.font = font, .label = dt_draw_detector_label, .label_ctx = d};
    unsigned char *jpg = NULL;
    size_t jlen = 0;
    dt_code c = dt_render_detections(bytes, len, lim, res->dets, res->n, &o, 90, &jpg, &jlen, &st);
    dt_font_free(font);
    if (c != DT_OK) {
        fprintf(stderr, "detectd detect: --render: %s\n", st.msg);
        return 0;
    }
    FILE *f = fopen(out, "wb");
    int ok = f && fwrite(jpg, 1, jlen, f) == jlen;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "detectd detect: --render: cannot write %s: %s\n", out, strerror(errno));
    dt_free(jpg);
    return ok;
}

int dt_cmd_detect(int argc, char **argv)
{
    enum { O_MODEL = 256, O_PRESET, O_THR, O_MAXDET, O_NMS, O_CLASSES, O_THREADS, O_MODELS_DIR, O_MAXPIX, O_MAXSIDE, O_RENDER,
           O_DEVICE, O_MAXMEM };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL},
        {"preset", required_argument, 0, O_PRESET},
        {"threshold", required_argument, 0, O_THR},
        {"max-detections", required_argument, 0, O_MAXDET},
        {"nms-iou", required_argument, 0, O_NMS},
        {"classes", required_argument, 0, O_CLASSES},
        {"threads", required_argument, 0, O_THREADS},
        {"models-dir", required_argument, 0, O_MODELS_DIR},
        {"max-pixels", required_argument, 0, O_MAXPIX},
        {"max-side", required_argument, 0, O_MAXSIDE},
        {"render", required_argument, 0, O_RENDER},
        {"device", required_argument, 0, O_DEVICE},
        {"max-model-memory", required_argument, 0, O_MAXMEM},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    dt_detector_opts dopt = {0};
    dt_detect_params par = {.threshold = -1.f};
    dt_image_limits lim = {0};
    const char *classes = NULL;
    const char *render = NULL;
    long iv;
    double fv;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: dopt.model = optarg; break;
        case O_PRESET: dopt.preset = optarg; break;
        case O_MODELS_DIR: dopt.models_dir = optarg; break;
        case O_CLASSES: classes = optarg; break;
        case O_RENDER: render = optarg; break;
        case O_DEVICE: dopt.device = optarg; break;
        case O_THR:
            if (!parse_float(optarg, 0, 1, &fv))
                goto bad_value;
            par.threshold = (float)fv;
            break;
        case O_NMS:
            if (!parse_float(optarg, 0, 1, &fv) || fv <= 0)
                goto bad_value;
            par.nms_iou = (float)fv;
            break;
        case O_MAXDET:
            if (!parse_int(optarg, 1, 100000, &iv))
                goto bad_value;
            par.max_detections = (int)iv;
            break;
        case O_THREADS:
            if (!parse_int(optarg, 1, 256, &iv))
                goto bad_value;
            dopt.threads = (int)iv;
            break;
        case O_MAXPIX:
            if (!parse_int(optarg, 1, (long)4e12, &iv))
                goto bad_value;
            lim.max_pixels = iv;
            break;
        case O_MAXSIDE:
            if (!parse_int(optarg, 1, 1 << 30, &iv))
                goto bad_value;
            lim.max_side = (int)iv;
            break;
        case O_MAXMEM:
            if (!dt_cli_parse_memory("detect", optarg, &dopt.max_memory))
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "detectd detect: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        continue;
    bad_value:
        fprintf(stderr, "detectd detect: invalid value '%s' for %s\n", optarg, argv[optind - 1]);
        return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "detectd detect: no image given\n");
        usage(stderr);
        return 2;
    }

    if (render && argc - optind != 1) {
        fprintf(stderr, "detectd detect: --render takes one IMAGE\n");
        return 2;
    }
    dt_status st = {0};
    dt_detector *d = NULL;
    dt_detect_ctx *ctx = NULL;
    if (dt_detector_load(&dopt, &d, &st) != DT_OK || dt_detect_ctx_create(d, &ctx, &st) != DT_OK) {
        fprintf(stderr, "detectd detect: %s\n", st.msg);
        dt_detector_free(d);
        return 1;
    }
    if (dt_detector_device_note(d)[0])
        fprintf(stderr, "detectd detect: --device %s: %s: running on the CPU\n", dopt.device,
                dt_detector_device_note(d));
    int *class_ids = NULL;
    if (classes) {
        if (!parse_classes(d, classes, &class_ids, &par.n_classes)) {
            dt_detect_ctx_free(ctx);
            dt_detector_free(d);
            return 2;
        }
        par.classes = class_ids;
    }

    int failed = 0;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        uint8_t *bytes = NULL;
        size_t len = 0;
        dt_detect_result res;
        dt_status_clear(&st);
        if (read_file(path, &bytes, &len, &st) != DT_OK ||
            dt_detect_bytes(ctx, bytes, len, &lim, &par, &res, &st) != DT_OK) {
            print_error(path, &st);
            failed = 1;
        } else {
            json_t *o = result_json(path, d, &res);
            print_json(o);
            json_decref(o);
            if (render && !render_file(render, bytes, len, &lim, d, &res))
                failed = 1;
        }
        dt_free(bytes);
    }
    dt_free(class_ids);
    dt_detect_ctx_free(ctx);
    dt_detector_free(d);
    return failed ? 1 : 0;
}
