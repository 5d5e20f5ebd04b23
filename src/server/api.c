/* api.c — the bodies and answers of each API the server speaks:
 *   the article's POST /predict       {"prediction":[{objectClass, probability, x, y, width, height}]}
 *   detectd's POST /v1/detect         {"model", "width", "height", "objects":[...], "timing_ms"}
 *   KServe / Triton v2 infer          JSON tensors and the binary tensor data extension
 *   DeepStack / CodeProject.AI        {"success":true, "predictions":[{label, confidence, x_min, ...}], ...}
 *
 * v2 conventions (documented in README.md):
 *   input   one tensor: BYTES [1] holding the encoded image (JSON: the
 *           element is base64 text, as KServe clients send images; binary:
 *           Triton's 4-byte little-endian length + bytes), or UINT8 [n] the
 *           encoded image bytes, or FP32 the model input tensor itself
 *           (already preprocessed; boxes then come in model-input pixels).
 *   outputs "detections" FP32 [N,6] = x1, y1, x2, y2, score, class id
 *           (original-image pixels) and "labels" BYTES [N].
 *   parameters (request level) "threshold", "max_detections",
 *           "binary_data_output".
 */
#include "server/internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

int api_looks_like_image(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return 1;
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return 1;
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return 1;
    if (n >= 14 && p[0] == 'B' && p[1] == 'M')
        return 1;
    return 0;
}

char *api_error_body(const req *r, const char *msg, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, r && r->api == API_DS ? "{\"success\":false,\"error\":" : "{\"error\":");
    dt_jsonw_str(&w, msg);
    dt_jsonw_raw(&w, "}");
    return dt_jsonw_take(&w, len);
}

static const char *label_of(const req *r, int class_id)
{
    const minst *in = r->inst;
    return in->be.ops->label(in->be.self, class_id);
}

static const char *model_name_of(const req *r)
{
    if (r->inst && r->inst->info.name)
        return r->inst->info.name;
    return r->slot ? r->slot->name : "";
}

static int keep(const req *r, const dt_detection *d)
{
    /* In float, as the model's scores are: min_confidence 0.9 keeps 0.9f. */
    return r->threshold_ge ? d->score >= (float)r->threshold : d->score > r->threshold;
}

static int clampi(long v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : (int)v; }

/* ---- the article and /v1/detect ---------------------------------------------------- */

static char *render_predict(const dt_detect_result *res, const req *r, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"prediction\":[");
    int first = 1;
    for (int i = 0; i < res->n; i++) {
        const dt_detection *d = &res->dets[i];
        if (!keep(r, d))
            continue;
        int x0 = clampi(lroundf(d->x1), 0, res->width), y0 = clampi(lroundf(d->y1), 0, res->height);
        int x1 = clampi(lroundf(d->x2), x0, res->width), y1 = clampi(lroundf(d->y2), y0, res->height);
        dt_jsonw_raw(&w, first ? "{\"objectClass\":" : ",{\"objectClass\":");
        first = 0;
        dt_jsonw_str(&w, label_of(r, d->class_id));
        dt_jsonw_raw(&w, ",\"probability\":");
        dt_jsonw_num(&w, d->score, 4);
        dt_jsonw_printf(&w, ",\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d}", x0, y0, x1 - x0, y1 - y0);
    }
    dt_jsonw_raw(&w, "]}");
    return dt_jsonw_take(&w, len);
}

/* The object schema of `detectd detect` (cmd_detect.c): pixels and
 * milliseconds to 3 decimals, scores to 6. */
static char *render_detect(const dt_detect_result *res, const req *r, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"model\":");
    dt_jsonw_str(&w, model_name_of(r));
    dt_jsonw_printf(&w, ",\"width\":%d,\"height\":%d,\"objects\":[", res->width, res->height);
    int n = 0;
    for (int i = 0; i < res->n && n < r->params.max_detections; i++) {
        const dt_detection *d = &res->dets[i];
        if (!keep(r, d))
            continue;
        float x1 = fminf(fmaxf(d->x1, 0), (float)res->width), y1 = fminf(fmaxf(d->y1, 0), (float)res->height);
        float x2 = fminf(fmaxf(d->x2, x1), (float)res->width), y2 = fminf(fmaxf(d->y2, y1), (float)res->height);
        dt_jsonw_raw(&w, n ? ",{\"label\":" : "{\"label\":");
        n++;
        dt_jsonw_str(&w, label_of(r, d->class_id));
        dt_jsonw_printf(&w, ",\"class_id\":%d,\"score\":", d->class_id);
        dt_jsonw_num(&w, d->score, 6);
        dt_jsonw_raw(&w, ",\"box\":{\"x\":");
        dt_jsonw_num(&w, x1, 3);
        dt_jsonw_raw(&w, ",\"y\":");
        dt_jsonw_num(&w, y1, 3);
        dt_jsonw_raw(&w, ",\"width\":");
        dt_jsonw_num(&w, x2 - x1, 3);
        dt_jsonw_raw(&w, ",\"height\":");
        dt_jsonw_num(&w, y2 - y1, 3);
        dt_jsonw_raw(&w, "}}");
    }
    const dt_detect_timing *t = &res->timing;
    dt_jsonw_raw(&w, "],\"timing_ms\":{\"queue\":");
    dt_jsonw_num(&w, r->queue_ms, 3);
    dt_jsonw_raw(&w, ",\"decode\":");
    dt_jsonw_num(&w, t->decode_ms, 3);
    dt_jsonw_raw(&w, ",\"preprocess\":");
    dt_jsonw_num(&w, t->preprocess_ms, 3);
    dt_jsonw_raw(&w, ",\"inference\":");
    dt_jsonw_num(&w, t->inference_ms, 3);
    dt_jsonw_raw(&w, ",\"postprocess\":");
    dt_jsonw_num(&w, t->postprocess_ms, 3);
    dt_jsonw_raw(&w, ",\"total\":");
    dt_jsonw_num(&w, dt_now_ms() - r->t_body, 3);
    dt_jsonw_raw(&w, "}}");
    return dt_jsonw_take(&w, len);
}

static const char *draw_label(const void *ctx, int class_id) { return label_of(ctx, class_id); }

/* ?render=jpeg: the photo with the same objects the JSON answer would list
 * drawn on it (decoded again at full size: boxes are in original pixels). */
static char *render_jpeg(const dt_detect_result *res, req *r, size_t *len, dt_status *st)
{
    dt_detection *kept = dt_malloc((size_t)(res->n > 0 ? res->n : 1) * sizeof *kept);
    if (!kept) {
        dt_fail(st, DT_ENOMEM, "out of memory");
        return NULL;
    }
    int n = 0;
    for (int i = 0; i < res->n && n < r->params.max_detections; i++)
        if (keep(r, &res->dets[i]))
            kept[n++] = res->dets[i];
    dt_draw_opts o = {.font = r->srv->font, .label = draw_label, .label_ctx = r};
    dt_image_limits lim = {.max_pixels = r->srv->cfg.max_pixels, .max_side = 0};
    unsigned char *jpg = NULL;
    dt_code c = dt_render_detections(r->img, r->img_len, &lim, kept, n, &o, 90, &jpg, len, st);
    dt_free(kept);
    if (c != DT_OK)
        return NULL;
    r->resp_type = "image/jpeg";
    return (char *)jpg;
}

/* ---- DeepStack / CodeProject.AI ------------------------------------------------------ */

static char *render_ds(const dt_detect_result *res, const req *r, size_t *len)
{
    int n = 0;
    for (int i = 0; i < res->n && n < r->params.max_detections; i++)
        n += keep(r, &res->dets[i]);
    dt_jsonw w;
    dt_jsonw_init(&w);
    /* "Found dog, cat" as CodeProject.AI words it: each label once. */
    dt_jsonw_raw(&w, "{\"success\":true,\"message\":");
    char msg[512];
    size_t ml = 0;
    if (n == 0)
        snprintf(msg, sizeof msg, "No objects found");
    else
        ml = (size_t)snprintf(msg, sizeof msg, "Found ");
    int shown = 0;
    for (int i = 0, k = 0; i < res->n && k < n && ml < sizeof msg - 1; i++) {
        if (!keep(r, &res->dets[i]))
            continue;
        k++;
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= keep(r, &res->dets[j]) && res->dets[j].class_id == res->dets[i].class_id;
        if (seen)
            continue;
        ml += (size_t)snprintf(msg + ml, sizeof msg - ml, "%s%s", shown ? ", " : "", label_of(r, res->dets[i].class_id));
        shown++;
    }
    dt_jsonw_str(&w, msg);
    dt_jsonw_raw(&w, ",\"predictions\":[");
    int k = 0;
    for (int i = 0; i < res->n && k < n; i++) {
        const dt_detection *d = &res->dets[i];
        if (!keep(r, d))
            continue;
        int x0 = clampi(lroundf(d->x1), 0, res->width), y0 = clampi(lroundf(d->y1), 0, res->height);
        int x1 = clampi(lroundf(d->x2), x0, res->width), y1 = clampi(lroundf(d->y2), y0, res->height);
        dt_jsonw_raw(&w, k++ ? ",{\"label\":" : "{\"label\":");
        dt_jsonw_str(&w, label_of(r, d->class_id));
        dt_jsonw_raw(&w, ",\"confidence\":");
        dt_jsonw_num(&w, d->score, 6);
        dt_jsonw_printf(&w, ",\"x_min\":%d,\"y_min\":%d,\"x_max\":%d,\"y_max\":%d}", x0, y0, x1, y1);
    }
    const dt_detect_timing *t = &res->timing;
    double process = t->decode_ms + t->preprocess_ms + t->inference_ms + t->postprocess_ms;
    char ts[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    dt_jsonw_printf(&w, "],\"count\":%d,\"command\":\"detect\",\"moduleId\":\"detectd\",\"moduleName\":", n);
    char mod[128];
    snprintf(mod, sizeof mod, "detectd (%s)", model_name_of(r));
    dt_jsonw_str(&w, mod);
    const minst *in = r->inst;
    const char *dev = in && r->srv->ext.device && in->n_wctx > 0 && in->wctx[0]
                          ? r->srv->ext.device(in->be.self, in->wctx[0])
                          : NULL;
    int gpu = dev && !strncmp(dev, "cuda", 4);
    dt_jsonw_printf(&w, ",\"executionProvider\":\"%s\",\"canUseGPU\":%s,\"inferenceDevice\":\"%s\",\"inferenceMs\":",
                    gpu ? "CUDA" : "CPU", gpu ? "true" : "false", gpu ? "GPU" : "CPU");
    dt_jsonw_printf(&w, "%ld,\"processMs\":%ld,\"analysisRoundTripMs\":%ld,\"processedBy\":", lround(t->inference_ms),
                    lround(process), lround(dt_now_ms() - r->t0));
    dt_jsonw_str(&w, r->srv->hostname);
    dt_jsonw_raw(&w, ",\"timestampUTC\":");
    dt_jsonw_str(&w, ts);
    dt_jsonw_raw(&w, ",\"requestId\":");
    dt_jsonw_str(&w, r->id);
    dt_jsonw_raw(&w, "}");
    return dt_jsonw_take(&w, len);
}

/* ---- KServe / Triton v2: the request ------------------------------------------------- */

enum { FLAT_STR, FLAT_F32, FLAT_U8 };

typedef struct flat {
    int kind;
    size_t n, cap;        /* elements seen; capacity of f / u8 */
    float *f;
    unsigned char *u8;
    json_t *str;          /* the first string */
    int bad;              /* an element of the wrong type */
} flat;

/* Row-major walk over nested "data" arrays (KServe allows both flat and
 * nested), bounded in depth. */
static void flat_walk(json_t *v, int depth, flat *fl)
{
    if (json_is_array(v)) {
        if (depth > 8) {
            fl->bad = 1;
            return;
        }
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            flat_walk(e, depth + 1, fl);
            if (fl->bad)
                return;
        }
        return;
    }
    switch (fl->kind) {
    case FLAT_STR:
        if (!json_is_string(v)) {
            fl->bad = 1;
            return;
        }
        if (!fl->str)
            fl->str = v;
        break;
    case FLAT_F32:
        if (!json_is_number(v)) {
            fl->bad = 1;
            return;
        }
        if (fl->n < fl->cap)
            fl->f[fl->n] = (float)json_number_value(v);
        break;
    case FLAT_U8: {
        json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;
        if (x < 0 || x > 255) {
            fl->bad = 1;
            return;
        }
        if (fl->n < fl->cap)
            fl->u8[fl->n] = (unsigned char)x;
        break;
    }
    }
    fl->n++;
}

static int b64v(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Standard or URL-safe base64, padding optional, whitespace ignored, a
 * "data:<type>;base64," prefix allowed (what browsers produce). */
static dt_code b64_decode(const char *s, size_t n, unsigned char **out, size_t *out_len, dt_status *st)
{
    *out = NULL;
    *out_len = 0;
    if (n > 5 && !memcmp(s, "data:", 5)) {
        const char *c = memchr(s, ',', n);
        if (!c)
            return dt_fail(st, DT_EINVAL, "data: URL without a comma");
        n -= (size_t)(c + 1 - s);
        s = c + 1;
    }
    unsigned char *buf = dt_malloc(n / 4 * 3 + 4);
    if (!buf)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t o = 0, chars = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64v(c);
        if (v < 0 || pad) {
            dt_free(buf);
            return dt_fail(st, DT_EINVAL, "BYTES data must be base64 text of the image (byte %zu is not base64)", i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        chars++;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (chars % 4 == 1 || pad > 2) {
        dt_free(buf);
        return dt_fail(st, DT_EINVAL, "BYTES data is not valid base64 (truncated)");
    }
    *out = buf;
    *out_len = o;
    return DT_OK;
}

static int get_bool(json_t *params, const char *key, int def)
{
    json_t *v = params ? json_object_get(params, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : def;
}

static dt_code v2_parse_outputs(req *r, json_t *root, int all_binary, dt_status *st)
{
    json_t *outs = json_object_get(root, "outputs");
    r->v2_outputs = r->v2_binary = 0;
    r->v2_n_out = 0;
    if (!outs) {
        r->v2_outputs = V2_OUT_DETECTIONS | V2_OUT_LABELS;
        r->v2_order[0] = V2_OUT_DETECTIONS;
        r->v2_order[1] = V2_OUT_LABELS;
        r->v2_n_out = 2;
        r->v2_binary = all_binary ? r->v2_outputs : 0;
        return DT_OK;
    }
    if (!json_is_array(outs))
        return dt_fail(st, DT_EINVAL, "\"outputs\" must be an array");
    size_t i;
    json_t *o;
    json_array_foreach(outs, i, o)
    {
        json_t *nm = json_is_object(o) ? json_object_get(o, "name") : NULL;
        if (!json_is_string(nm))
            return dt_fail(st, DT_EINVAL, "outputs[%zu] needs a \"name\"", i);
        const char *name = json_string_value(nm);
        int bit = !strcmp(name, "detections") ? V2_OUT_DETECTIONS : !strcmp(name, "labels") ? V2_OUT_LABELS : 0;
        if (!bit)
            return dt_fail(st, DT_EINVAL, "unknown output '%.60s' (outputs: \"detections\" FP32 [N,6] = x1,y1,x2,y2,"
                                          "score,class and \"labels\" BYTES [N])", name);
        if (r->v2_outputs & bit)
            continue;
        r->v2_outputs |= bit;
        r->v2_order[r->v2_n_out++] = bit;
        if (get_bool(json_object_get(o, "parameters"), "binary_data", all_binary))
            r->v2_binary |= bit;
    }
    if (!r->v2_outputs)
        return dt_fail(st, DT_EINVAL, "\"outputs\" is empty");
    return DT_OK;
}

static dt_code v2_parse_params(req *r, json_t *params, dt_status *st)
{
    if (!params)
        return DT_OK;
    if (!json_is_object(params))
        return dt_fail(st, DT_EINVAL, "\"parameters\" must be an object");
    json_t *t = json_object_get(params, "threshold");
    if (!t)
        t = json_object_get(params, "min_confidence");
    if (t) {
        double v = json_is_number(t) ? json_number_value(t) : -1;
        if (!(v >= 0 && v <= 1))
            return dt_fail(st, DT_EINVAL, "parameter threshold must be a number in [0, 1]");
        r->threshold = v;
        r->params.threshold = (float)v;
    }
    json_t *m = json_object_get(params, "max_detections");
    if (m) {
        json_int_t v = json_is_integer(m) ? json_integer_value(m) : 0;
        if (v < 1 || v > 10000)
            return dt_fail(st, DT_EINVAL, "parameter max_detections must be an integer in [1, 10000]");
        r->params.max_detections = (int)v;
    }
    return DT_OK;
}

/* The one input tensor: an encoded image (BYTES / UINT8) or the model's
 * own input (FP32). `bin`/`bin_len`: the binary section after the JSON. */
static dt_code v2_parse_input(req *r, json_t *in, const unsigned char *bin, size_t bin_len, dt_status *st)
{
    minst *mi = r->inst;
    json_t *jn = json_object_get(in, "name"), *jd = json_object_get(in, "datatype");
    json_t *jshape = json_object_get(in, "shape");
    if (!json_is_string(jn) || !json_is_string(jd) || !json_is_array(jshape))
        return dt_fail(st, DT_EINVAL, "an input needs \"name\", \"datatype\" and \"shape\"");
    const char *name = json_string_value(jn), *dtype = json_string_value(jd);
    int64_t count = 1;
    size_t i;
    json_t *d;
    char shape_txt[96] = "[";
    json_array_foreach(jshape, i, d)
    {
        json_int_t v = json_is_integer(d) ? json_integer_value(d) : -1;
        if (v < 0 || v > (1LL << 40) || (v > 0 && count > (1LL << 40) / v))
            return dt_fail(st, DT_EINVAL, "input '%.40s': bad shape", name);
        count *= v;
        size_t l = strlen(shape_txt);
        snprintf(shape_txt + l, sizeof shape_txt - l, "%s%lld", i ? "," : "", (long long)v);
    }
    strncat(shape_txt, "]", sizeof shape_txt - strlen(shape_txt) - 1);
    json_t *ip = json_object_get(in, "parameters");
    json_t *jsz = json_is_object(ip) ? json_object_get(ip, "binary_data_size") : NULL;
    int binary = jsz != NULL;
    int64_t bsize = 0;
    if (binary) {
        bsize = json_is_integer(jsz) ? json_integer_value(jsz) : -1;
        if (bsize < 0 || (uint64_t)bsize != bin_len)
            return dt_fail(st, DT_EINVAL, "input '%.40s': binary_data_size %lld does not match the %zu bytes after "
                                          "the JSON header", name, (long long)bsize, bin_len);
    } else if (bin_len) {
        return dt_fail(st, DT_EINVAL, "%zu bytes follow the JSON header but no input has binary_data_size", bin_len);
    }
    json_t *data = json_object_get(in, "data");
    if (!binary && !data)
        return dt_fail(st, DT_EINVAL, "input '%.40s' has neither \"data\" nor binary_data_size", name);

    if (!strcmp(dtype, "BYTES")) {
        if (count != 1)
            return dt_fail(st, DT_EINVAL, "input '%.40s': shape %s holds %lld images; send one image per request "
                                          "(shape [1]): the server batches concurrent requests itself",
                           name, shape_txt, (long long)count);
        if (binary) {
            /* Triton: 4-byte little-endian length, then the bytes.  A bare
             * image is accepted too (some clients skip the length). */
            uint32_t l = bin_len >= 4 ? (uint32_t)bin[0] | (uint32_t)bin[1] << 8 | (uint32_t)bin[2] << 16 |
                                            (uint32_t)bin[3] << 24
                                      : 0;
            if (bin_len >= 4 && (uint64_t)l + 4 == bin_len) {
                r->img = bin + 4;
                r->img_len = l;
            } else if (api_looks_like_image(bin, bin_len)) {
                r->img = bin;
                r->img_len = bin_len;
            } else {
                return dt_fail(st, DT_EINVAL, "input '%.40s': BYTES binary data must be a 4-byte little-endian "
                                              "length followed by the image", name);
            }
        } else {
            flat fl = {.kind = FLAT_STR};
            flat_walk(data, 0, &fl);
            if (fl.bad || fl.n != 1 || !fl.str)
                return dt_fail(st, DT_EINVAL, "input '%.40s': BYTES \"data\" must be one string, the image in "
                                              "base64", name);
            dt_code rc = b64_decode(json_string_value(fl.str), json_string_length(fl.str), &r->v2_img, &r->img_len, st);
            if (rc != DT_OK)
                return dt_wrap(st, "input '%.40s'", name);
            r->img = r->v2_img;
        }
    } else if (!strcmp(dtype, "UINT8")) {
        if (binary) {
            if ((uint64_t)count != bin_len)
                return dt_fail(st, DT_EINVAL, "input '%.40s': shape %s does not match its %zu bytes", name,
                               shape_txt, bin_len);
            r->img = bin;
            r->img_len = bin_len;
        } else {
            /* Each JSON value takes at least a byte of the body: a bigger
             * shape is a lie, not something to allocate for. */
            if ((uint64_t)count > r->len)
                return dt_fail(st, DT_EINVAL, "input '%.40s': shape %s holds more values than the request has bytes",
                               name, shape_txt);
            r->v2_img = dt_malloc(count > 0 ? (size_t)count : 1);
            if (!r->v2_img)
                return dt_fail(st, DT_ENOMEM, "out of memory");
            flat fl = {.kind = FLAT_U8, .cap = (size_t)count, .u8 = r->v2_img};
            flat_walk(data, 0, &fl);
            if (fl.bad || fl.n != (size_t)count)
                return dt_fail(st, DT_EINVAL, "input '%.40s': UINT8 \"data\" must be %lld integers 0..255", name,
                               (long long)count);
            r->img = r->v2_img;
            r->img_len = (size_t)count;
        }
    } else if (!strcmp(dtype, "FP32")) {
        if (!mi->staged)
            return dt_fail(st, DT_EUNSUPPORTED, "this backend takes encoded images only (BYTES or UINT8)");
        if ((uint64_t)count != mi->item_floats)
            return dt_fail(st, DT_EINVAL, "input '%.40s': an FP32 input is the model's own input tensor of %zu floats "
                                          "(%dx%d, 3 channels, batch 1); shape %s holds %lld",
                           name, mi->item_floats, mi->info.input_w, mi->info.input_h, shape_txt, (long long)count);
        if (json_array_size(jshape) > 1 && json_integer_value(json_array_get(jshape, 0)) != 1)
            return dt_fail(st, DT_EINVAL, "input '%.40s': one tensor per request (batch 1)", name);
        r->prep = dt_aligned_alloc(mi->item_floats * sizeof(float));
        if (!r->prep)
            return dt_fail(st, DT_ENOMEM, "out of memory");
        if (binary) {
            if (bin_len != mi->item_floats * sizeof(float))
                return dt_fail(st, DT_EINVAL, "input '%.40s': %zu bytes for %zu FP32 values", name, bin_len,
                               mi->item_floats);
            memcpy(r->prep, bin, bin_len); /* little-endian on every platform we build for */
        } else {
            flat fl = {.kind = FLAT_F32, .cap = mi->item_floats, .f = r->prep};
            flat_walk(data, 0, &fl);
            if (fl.bad || fl.n != mi->item_floats)
                return dt_fail(st, DT_EINVAL, "input '%.40s': FP32 \"data\" must be %zu numbers", name,
                               mi->item_floats);
        }
        for (size_t k = 0; k < mi->item_floats; k++)
            if (!isfinite(r->prep[k]))
                return dt_fail(st, DT_EINVAL, "input '%.40s': value %zu is not finite", name, k);
        r->raw_tensor = 1;
        memset(&r->prep_info, 0, sizeof r->prep_info);
        r->prep_info.width = mi->info.input_w;
        r->prep_info.height = mi->info.input_h;
        r->prep_info.scale_x = r->prep_info.scale_y = 1.f;
        return DT_OK;
    } else {
        return dt_fail(st, DT_EINVAL, "input '%.40s': datatype %.20s is not supported (BYTES: the encoded image; "
                                      "UINT8: its bytes; FP32: the model input tensor)", name, dtype);
    }
    if (r->img_len == 0 || !api_looks_like_image(r->img, r->img_len))
        return dt_fail(st, DT_EINVAL, "input '%.40s' is not a JPEG, PNG, WebP or BMP image", name);
    return DT_OK;
}

dt_code api_parse(req *r, dt_status *st)
{
    if (r->route != R_V2_INFER)
        return DT_OK;
    size_t hl = r->v2_header_len >= 0 ? (size_t)r->v2_header_len : r->len;
    if (hl > r->len)
        return dt_fail(st, DT_EINVAL, "Inference-Header-Content-Length %zu is beyond the %zu-byte body", hl, r->len);
    if (hl == 0)
        return dt_fail(st, DT_EINVAL, "empty inference request");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)r->body, hl, JSON_REJECT_DUPLICATES, &jerr);
    if (!root && json_error_code(&jerr) == json_error_out_of_memory)
        return dt_fail(st, DT_ENOMEM, "out of memory parsing the inference request");
    if (!root)
        return dt_fail(st, DT_EINVAL, "inference request is not valid JSON: %s (line %d, column %d)", jerr.text,
                       jerr.line, jerr.column);
    dt_code rc = DT_OK;
    json_t *inputs = json_object_get(root, "inputs"), *id = json_object_get(root, "id");
    json_t *params = json_object_get(root, "parameters");
    if (!json_is_object(root)) {
        rc = dt_fail(st, DT_EINVAL, "inference request must be a JSON object");
    } else if (id && !json_is_string(id)) {
        rc = dt_fail(st, DT_EINVAL, "\"id\" must be a string");
    } else if (!json_is_array(inputs) || json_array_size(inputs) != 1 || !json_is_object(json_array_get(inputs, 0))) {
        rc = dt_fail(st, DT_EINVAL, "\"inputs\" must hold exactly one tensor: the image as BYTES [1] (see GET "
                                    "/v2/models/%s)", r->slot->name);
    }
    if (rc == DT_OK && id) {
        r->v2_id = dt_strndup(json_string_value(id), json_string_length(id) < 256 ? json_string_length(id) : 256);
        if (!r->v2_id)
            rc = dt_fail(st, DT_ENOMEM, "out of memory");
    }
    if (rc == DT_OK)
        rc = v2_parse_params(r, params, st);
    if (rc == DT_OK)
        rc = v2_parse_outputs(r, root, get_bool(json_is_object(params) ? params : NULL, "binary_data_output", 0), st);
    if (rc == DT_OK)
        rc = v2_parse_input(r, json_array_get(inputs, 0), r->body + hl, r->len - hl, st);
    json_decref(root);
    return rc;
}

/* ---- KServe / Triton v2: the answer ---------------------------------------------------- */

static char *render_v2(const dt_detect_result *res, req *r, size_t *len)
{
    int n = 0;
    for (int i = 0; i < res->n && n < r->params.max_detections; i++)
        n += keep(r, &res->dets[i]);
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"model_name\":");
    dt_jsonw_str(&w, r->slot->name);
    dt_jsonw_raw(&w, ",\"model_version\":\"1\"");
    if (r->v2_id) {
        dt_jsonw_raw(&w, ",\"id\":");
        dt_jsonw_str(&w, r->v2_id);
    }
    dt_jsonw_printf(&w, ",\"parameters\":{\"image_width\":%d,\"image_height\":%d},\"outputs\":[", res->width,
                    res->height);
    size_t label_bytes = 0;
    for (int i = 0, k = 0; i < res->n && k < n; i++)
        if (keep(r, &res->dets[i])) {
            label_bytes += 4 + strlen(label_of(r, res->dets[i].class_id));
            k++;
        }
    for (int o = 0; o < r->v2_n_out; o++) {
        int bit = r->v2_order[o];
        if (o)
            dt_jsonw_raw(&w, ",");
        if (bit == V2_OUT_DETECTIONS)
            dt_jsonw_printf(&w, "{\"name\":\"detections\",\"datatype\":\"FP32\",\"shape\":[%d,6]", n);
        else
            dt_jsonw_printf(&w, "{\"name\":\"labels\",\"datatype\":\"BYTES\",\"shape\":[%d]", n);
        if (r->v2_binary & bit) {
            size_t bytes = bit == V2_OUT_DETECTIONS ? (size_t)n * 6 * sizeof(float) : label_bytes;
            dt_jsonw_printf(&w, ",\"parameters\":{\"binary_data_size\":%zu}}", bytes);
            continue;
        }
        dt_jsonw_raw(&w, ",\"data\":[");
        for (int i = 0, k = 0; i < res->n && k < n; i++) {
            const dt_detection *d = &res->dets[i];
            if (!keep(r, d))
                continue;
            if (k++)
                dt_jsonw_raw(&w, ",");
            if (bit == V2_OUT_DETECTIONS) {
                float v[6] = {d->x1, d->y1, d->x2, d->y2, d->score, (float)d->class_id};
                for (int j = 0; j < 6; j++) {
                    if (j)
                        dt_jsonw_raw(&w, ",");
                    dt_jsonw_num(&w, v[j], j == 4 ? 6 : 3);
                }
            } else {
                dt_jsonw_str(&w, label_of(r, d->class_id));
            }
        }
        dt_jsonw_raw(&w, "]}");
    }
    dt_jsonw_raw(&w, "]}");
    if (!r->v2_binary)
        return dt_jsonw_take(&w, len);
    /* The binary tensor data extension: JSON header, then the binary
     * outputs in the order they are listed. */
    r->resp_header_len = (int64_t)w.len;
    for (int o = 0; o < r->v2_n_out; o++) {
        int bit = r->v2_order[o];
        if (!(r->v2_binary & bit))
            continue;
        for (int i = 0, k = 0; i < res->n && k < n; i++) {
            const dt_detection *d = &res->dets[i];
            if (!keep(r, d))
                continue;
            k++;
            if (bit == V2_OUT_DETECTIONS) {
                float v[6] = {d->x1, d->y1, d->x2, d->y2, d->score, (float)d->class_id};
                dt_jsonw_bytes(&w, v, sizeof v);
            } else {
                const char *l = label_of(r, d->class_id);
                uint32_t ln = (uint32_t)strlen(l);
                unsigned char le[4] = {(unsigned char)ln, (unsigned char)(ln >> 8), (unsigned char)(ln >> 16),
                                       (unsigned char)(ln >> 24)};
                dt_jsonw_bytes(&w, le, 4);
                dt_jsonw_bytes(&w, l, ln);
            }
        }
    }
    r->resp_type = "application/octet-stream";
    return dt_jsonw_take(&w, len);
}

char *api_render(req *r, const dt_detect_result *res, size_t *len, int *status, dt_status *st)
{
    *status = 200;
    switch (r->route) {
    case R_PREDICT: return render_predict(res, r, len);
    case R_DETECT: return r->render ? render_jpeg(res, r, len, st) : render_detect(res, r, len);
    case R_V2_INFER: return render_v2(res, r, len);
    case R_DS_DETECT: return render_ds(res, r, len);
    default: dt_fail(st, DT_EINTERNAL, "no renderer for this route"); return NULL;
    }
}

/* ---- KServe / Triton v2: metadata ------------------------------------------------------- */

char *api_v2_server_meta(dt_server *s, size_t *len)
{
    (void)s;
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"name\":\"detectd\",\"version\":\"1.0.0\",\"extensions\":[\"binary_tensor_data\","
                     "\"model_repository\"]}");
    return dt_jsonw_take(&w, len);
}

char *api_v2_model_meta(dt_server *s, mslot *m, size_t *len)
{
    (void)s;
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "{\"name\":");
    dt_jsonw_str(&w, m->name);
    dt_jsonw_raw(&w, ",\"versions\":[\"1\"],\"platform\":\"detectd\","
                     "\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1]}],"
                     "\"outputs\":[{\"name\":\"detections\",\"datatype\":\"FP32\",\"shape\":[-1,6]},"
                     "{\"name\":\"labels\",\"datatype\":\"BYTES\",\"shape\":[-1]}]}");
    return dt_jsonw_take(&w, len);
}

char *api_v2_index(dt_server *s, size_t *len)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_raw(&w, "[");
    for (int i = 0; i < s->n_slots; i++) {
        dt_status why;
        dt_server_state st = slot_state(s, &s->slots[i], &why);
        dt_jsonw_raw(&w, i ? ",{\"name\":" : "{\"name\":");
        dt_jsonw_str(&w, s->slots[i].name);
        dt_jsonw_printf(&w, ",\"version\":\"1\",\"state\":\"%s\"",
                        st == DT_SERVER_READY ? "READY" : st == DT_SERVER_FAILED ? "UNAVAILABLE" : "LOADING");
        if (st == DT_SERVER_FAILED) {
            dt_jsonw_raw(&w, ",\"reason\":");
            dt_jsonw_str(&w, why.msg);
        }
        dt_jsonw_raw(&w, "}");
    }
    dt_jsonw_raw(&w, "]");
    return dt_jsonw_take(&w, len);
}
