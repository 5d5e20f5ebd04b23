/* manifest.c — *.detectd.json parsing (jansson) and preset defaults. */
#include "vision/manifest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/alloc.h"
#include "vision/labels.h"

#define MAX_LABELS 100000

/* Preset -> decoder family, default threshold and NMS IoU. */
static dt_code preset_defaults(const char *preset, dt_manifest *m, dt_status *st)
{
    dt_code rc = dt_preprocess_preset(preset, &m->pre, st);
    if (rc != DT_OK)
        return rc;
    dt_decoder_defaults(dt_decoder_type_from_name(preset), &m->dec);
    m->threshold = 0.5f;
    m->nms_iou = 0.45f;
    m->max_detections = 100;
    if (!strcmp(preset, "centernet")) {
        m->threshold = 0.3f; /* its scores run low: ~0.4-0.5 on clear subjects */
        m->nms_iou = 0.5f;
    } else if (!strcmp(preset, "fastestdet")) {
        m->threshold = 0.65f; /* FastestDet's own demo threshold */
    }
    dt_free(m->preset);
    m->preset = dt_strdup(preset);
    return m->preset ? DT_OK : dt_fail(st, DT_ENOMEM, "out of memory");
}

void dt_manifest_free(dt_manifest *m)
{
    if (!m)
        return;
    dt_free(m->name);
    dt_free(m->graph);
    dt_free(m->preset);
    dt_free(m->priors);
    if (m->labels)
        for (int i = 0; i < m->n_labels; i++)
            dt_free(m->labels[i]);
    dt_free(m->labels);
    memset(m, 0, sizeof *m);
}

const char *dt_manifest_label(const dt_manifest *m, int i)
{
    if (i < 0 || i >= m->n_labels)
        return "?";
    return m->labels ? m->labels[i] : m->builtin_labels[i];
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Directory part of path ("." when none), into buf. */
static void dir_name(const char *p, char *buf, size_t cap)
{
    const char *s = strrchr(p, '/');
    if (!s)
        snprintf(buf, cap, ".");
    else if (s == p)
        snprintf(buf, cap, "/");
    else
        snprintf(buf, cap, "%.*s", (int)(s - p), p);
}

static char *join_path(const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return dt_strdup(rel);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *s = dt_malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, rel);
    return s;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* ---- JSON helpers ------------------------------------------------------------ */

static int free_text_key(const char *k)
{
    return k[0] == '_' || !strcmp(k, "notes") || !strcmp(k, "source") || !strcmp(k, "license") ||
           !strcmp(k, "description");
}

static dt_code check_keys(json_t *obj, const char *where, const char *const *allowed, dt_status *st)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = free_text_key(k);
        for (int i = 0; !ok && allowed[i]; i++)
            ok = !strcmp(k, allowed[i]);
        if (!ok)
            return dt_fail(st, DT_EINVAL, "%s: unknown key \"%s\"", where, k);
    }
    return DT_OK;
}

static dt_code get_num(json_t *obj, const char *key, const char *where, double lo, double hi, double *out,
                       int *present, dt_status *st)
{
    json_t *v = json_object_get(obj, key);
    if (present)
        *present = v != NULL;
    if (!v)
        return DT_OK;
    if (!json_is_number(v))
        return dt_fail(st, DT_EINVAL, "%s: \"%s\" must be a number", where, key);
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return dt_fail(st, DT_EINVAL, "%s: \"%s\" = %g is out of range [%g, %g]", where, key, d, lo, hi);
    *out = d;
    return DT_OK;
}

static dt_code get_bool(json_t *obj, const char *key, const char *where, int *out, dt_status *st)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return DT_OK;
    if (!json_is_boolean(v))
        return dt_fail(st, DT_EINVAL, "%s: \"%s\" must be true or false", where, key);
    *out = json_is_true(v);
    return DT_OK;
}

static const char *get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A numeric array of exactly n (n > 0) or 1..max (n == 0) entries. */
static dt_code get_floats(json_t *obj, const char *key, const char *where, int n, int max, float *out, int *count,
                          dt_status *st)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return DT_OK;
    size_t sz = json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_array(v) || (n > 0 && sz != (size_t)n) || (n == 0 && (sz < 1 || sz > (size_t)max)))
        return dt_fail(st, DT_EINVAL, "%s: \"%s\" must be an array of %s%d numbers", where, key, n ? "" : "1 to ",
                       n ? n : max);
    for (size_t i = 0; i < sz; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_number(e))
            return dt_fail(st, DT_EINVAL, "%s: \"%s\"[%zu] is not a number", where, key, i);
        out[i] = (float)json_number_value(e);
    }
    if (count)
        *count = (int)sz;
    return DT_OK;
}

/* ---- sections ------------------------------------------------------------------ */

static dt_code parse_preprocess(json_t *o, dt_manifest *m, dt_status *st)
{
    static const char *const keys[] = {"width", "height", "resize", "interp", "pad", "channels", "layout",
                                       "scale", "mean", "std", "round_size", "by_factor", NULL};
    const char *w = "manifest preprocess";
    if (!json_is_object(o))
        return dt_fail(st, DT_EINVAL, "%s: must be an object", w);
    dt_code rc = check_keys(o, w, keys, st);
    dt_preprocess *p = &m->pre;
    double d;
    int has_w = 0, has_h = 0;
    if (rc == DT_OK && (rc = get_num(o, "width", w, 1, 8192, &d, &has_w, st)) == DT_OK && has_w)
        p->width = (int)d;
    if (rc == DT_OK && (rc = get_num(o, "height", w, 1, 8192, &d, &has_h, st)) == DT_OK && has_h)
        p->height = (int)d;
    m->size_set = has_w || has_h;
    int has = 0;
    if (rc == DT_OK && (rc = get_num(o, "pad", w, 0, 255, &d, &has, st)) == DT_OK && has)
        p->pad = (float)d;
    if (rc == DT_OK && (rc = get_num(o, "scale", w, -1e6, 1e6, &d, &has, st)) == DT_OK && has)
        p->scale = (float)d;
    if (rc == DT_OK)
        rc = get_floats(o, "mean", w, 3, 3, p->mean, NULL, st);
    if (rc == DT_OK)
        rc = get_floats(o, "std", w, 3, 3, p->std, NULL, st);
    if (rc == DT_OK)
        rc = get_bool(o, "round_size", w, &p->round_size, st);
    if (rc == DT_OK)
        rc = get_bool(o, "by_factor", w, &p->by_factor, st);
    if (rc != DT_OK)
        return rc;
    for (int c = 0; c < 3; c++)
        if (p->std[c] == 0.f)
            return dt_fail(st, DT_EINVAL, "%s: std must not be 0", w);
    const char *s;
    if ((s = get_str(o, "resize"))) {
        int r = dt_resize_mode_from_name(s);
        if (r < 0)
            return dt_fail(st, DT_EINVAL, "%s: resize \"%s\" (stretch, letterbox, letterbox_center, affine_center)",
                           w, s);
        p->resize = (dt_resize_mode)r;
    }
    if ((s = get_str(o, "interp"))) {
        if (!strcmp(s, "linear"))
            p->interp = DT_INTERP_LINEAR;
        else if (!strcmp(s, "area"))
            p->interp = DT_INTERP_AREA;
        else
            return dt_fail(st, DT_EINVAL, "%s: interp \"%s\" (linear, area)", w, s);
    }
    if ((s = get_str(o, "channels"))) {
        if (strcmp(s, "rgb") && strcmp(s, "bgr"))
            return dt_fail(st, DT_EINVAL, "%s: channels \"%s\" (rgb, bgr)", w, s);
        p->bgr = !strcmp(s, "bgr");
    }
    if ((s = get_str(o, "layout"))) {
        if (strcmp(s, "nchw") && strcmp(s, "nhwc"))
            return dt_fail(st, DT_EINVAL, "%s: layout \"%s\" (nchw, nhwc)", w, s);
        p->nhwc = !strcmp(s, "nhwc");
        m->layout_set = 1;
    }
    return DT_OK;
}

static dt_code load_priors_file(const char *path, dt_manifest *m, dt_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_fail(st, DT_ENOTFOUND, "manifest decoder: cannot open priors_file %s", path);
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    rewind(f);
    if (n <= 0 || n % 16 || n > 64L << 20) {
        fclose(f);
        return dt_fail(st, DT_ECORRUPT, "manifest decoder: priors_file %s is not N x 4 float32", path);
    }
    float *p = dt_malloc((size_t)n);
    if (!p) {
        fclose(f);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    size_t got = fread(p, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        dt_free(p);
        return dt_fail(st, DT_EIO, "manifest decoder: short read on %s", path);
    }
    m->priors = p;
    m->dec.priors = p;
    m->dec.n_priors = (int)(n / 16);
    return DT_OK;
}

static dt_code parse_priors(json_t *o, dt_manifest *m, dt_status *st)
{
    static const char *const keys[] = {"image_size", "feature_maps", "steps", "min_sizes", "max_sizes",
                                       "aspect_ratios", "clip", NULL};
    const char *w = "manifest decoder priors";
    if (!json_is_object(o))
        return dt_fail(st, DT_EINVAL, "%s: must be an object", w);
    dt_code rc = check_keys(o, w, keys, st);
    double isz = 0;
    int has = 0;
    if (rc == DT_OK)
        rc = get_num(o, "image_size", w, 1, 8192, &isz, &has, st);
    if (rc != DT_OK)
        return rc;
    if (!has)
        return dt_fail(st, DT_EINVAL, "%s: image_size is required", w);
    enum { MAXM = 16 };
    float fm[MAXM], steps[MAXM], mins[MAXM], maxs[MAXM];
    int nf = 0, ns = 0, nmin = 0, nmax = 0;
    if ((rc = get_floats(o, "feature_maps", w, 0, MAXM, fm, &nf, st)) != DT_OK ||
        (rc = get_floats(o, "steps", w, 0, MAXM, steps, &ns, st)) != DT_OK ||
        (rc = get_floats(o, "min_sizes", w, 0, MAXM, mins, &nmin, st)) != DT_OK ||
        (rc = get_floats(o, "max_sizes", w, 0, MAXM, maxs, &nmax, st)) != DT_OK)
        return rc;
    if (nf == 0 || ns != nf || nmin != nf || (nmax && nmax != nf))
        return dt_fail(st, DT_EINVAL, "%s: feature_maps, steps, min_sizes (and max_sizes) must have equal lengths",
                       w);
    float ar[MAXM][16];
    const float *arp[MAXM];
    int nar[MAXM] = {0};
    json_t *a = json_object_get(o, "aspect_ratios");
    if (a && (!json_is_array(a) || json_array_size(a) != (size_t)nf))
        return dt_fail(st, DT_EINVAL, "%s: aspect_ratios must hold one array per feature map", w);
    int ifm[MAXM];
    for (int k = 0; k < nf; k++) {
        ifm[k] = (int)fm[k];
        arp[k] = ar[k];
        json_t *e = a ? json_array_get(a, (size_t)k) : NULL;
        if (!e)
            continue;
        if (!json_is_array(e) || json_array_size(e) > 16)
            return dt_fail(st, DT_EINVAL, "%s: aspect_ratios[%d] must be an array of at most 16 numbers", w, k);
        for (size_t i = 0; i < json_array_size(e); i++) {
            json_t *x = json_array_get(e, i);
            if (!json_is_number(x) || json_number_value(x) <= 0)
                return dt_fail(st, DT_EINVAL, "%s: aspect_ratios[%d][%zu] must be a positive number", w, k, i);
            ar[k][nar[k]++] = (float)json_number_value(x);
        }
    }
    int clip = 1;
    if ((rc = get_bool(o, "clip", w, &clip, st)) != DT_OK)
        return rc;
    float *pri = NULL;
    int np = 0;
    rc = dt_ssd_priors((int)isz, nf, ifm, steps, mins, nmax ? maxs : NULL, arp, nar, clip, &pri, &np, st);
    if (rc != DT_OK)
        return rc;
    m->priors = pri;
    m->dec.priors = pri;
    m->dec.n_priors = np;
    return DT_OK;
}

static dt_code parse_decoder(json_t *o, const char *dir, dt_manifest *m, dt_status *st)
{
    static const char *const keys[] = {"type", "strides", "reg_max", "center_offset", "decoded", "activated",
                                       "anchors", "obj_power", "cls_power", "num_classes", "encoded",
                                       "box_order", "normalized", "variance", "background",
                                       "score_activation", "priors", "priors_file", NULL};
    const char *w = "manifest decoder";
    if (!json_is_object(o))
        return dt_fail(st, DT_EINVAL, "%s: must be an object", w);
    dt_code rc = check_keys(o, w, keys, st);
    if (rc != DT_OK)
        return rc;
    const char *type = get_str(o, "type");
    if (type) {
        dt_decoder_type t = dt_decoder_type_from_name(type);
        if (t == DT_DECODER_NONE)
            return dt_fail(st, DT_EINVAL,
                           "%s: unknown type \"%s\" (yolox, fastestdet, centernet, nanodet, yolov5, yolov7, yolov8, "
                           "yolo11, ssd)",
                           w, type);
        if (t != m->dec.type)
            dt_decoder_defaults(t, &m->dec);
    }
    dt_decoder *d = &m->dec;
    if (d->type == DT_DECODER_NONE)
        return dt_fail(st, DT_EINVAL, "%s: no type (and no preset to take it from)", w);
    float tmp[DT_DECODER_MAX_LEVELS];
    int n = 0;
    if ((rc = get_floats(o, "strides", w, 0, DT_DECODER_MAX_LEVELS, tmp, &n, st)) != DT_OK)
        return rc;
    if (n) {
        d->n_strides = n;
        for (int i = 0; i < n; i++) {
            if (tmp[i] < 1 || tmp[i] > 1024)
                return dt_fail(st, DT_EINVAL, "%s: stride %g out of range", w, tmp[i]);
            d->strides[i] = (int)tmp[i];
        }
    }
    double v;
    int has;
#define NUM(key, lo, hi, field, cast)                                                                       \
    do {                                                                                                    \
        if ((rc = get_num(o, key, w, lo, hi, &v, &has, st)) != DT_OK)                                       \
            return rc;                                                                                      \
        if (has)                                                                                            \
            d->field = (cast)v;                                                                             \
    } while (0)
    NUM("reg_max", 1, 1023, reg_max, int);
    NUM("center_offset", 0, 1, center_offset, float);
    NUM("obj_power", 0, 16, obj_power, float);
    NUM("cls_power", 0, 16, cls_power, float);
    NUM("num_classes", 1, MAX_LABELS, num_classes, int);
    NUM("background", -1, MAX_LABELS, background, int);
#undef NUM
    if ((rc = get_bool(o, "decoded", w, &d->decoded, st)) != DT_OK ||
        (rc = get_bool(o, "activated", w, &d->activated, st)) != DT_OK ||
        (rc = get_bool(o, "encoded", w, &d->ssd_encoded, st)) != DT_OK ||
        (rc = get_bool(o, "normalized", w, &d->ssd_normalized, st)) != DT_OK ||
        (rc = get_floats(o, "variance", w, 2, 2, d->variance, NULL, st)) != DT_OK)
        return rc;
    const char *s;
    if ((s = get_str(o, "box_order"))) {
        if (!strcmp(s, "xyxy") || !strcmp(s, "xywh"))
            d->ssd_yx = 0;
        else if (!strcmp(s, "yxyx") || !strcmp(s, "yxhw"))
            d->ssd_yx = 1;
        else
            return dt_fail(st, DT_EINVAL, "%s: box_order \"%s\" (xyxy, yxyx, xywh, yxhw)", w, s);
    }
    if ((s = get_str(o, "score_activation"))) {
        if (!strcmp(s, "none"))
            d->score_act = DT_SCORE_NONE;
        else if (!strcmp(s, "sigmoid"))
            d->score_act = DT_SCORE_SIGMOID;
        else if (!strcmp(s, "softmax"))
            d->score_act = DT_SCORE_SOFTMAX;
        else
            return dt_fail(st, DT_EINVAL, "%s: score_activation \"%s\" (none, sigmoid, softmax)", w, s);
    }
    json_t *an = json_object_get(o, "anchors");
    if (an) {
        size_t nl = json_is_array(an) ? json_array_size(an) : 0;
        if (!nl || nl > DT_DECODER_MAX_LEVELS)
            return dt_fail(st, DT_EINVAL, "%s: anchors must be an array of per-level [w, h, ...] arrays", w);
        int per = -1;
        for (size_t l = 0; l < nl; l++) {
            json_t *lv = json_array_get(an, l);
            size_t k = json_is_array(lv) ? json_array_size(lv) : 0;
            if (!k || k % 2 || k > DT_DECODER_MAX_ANCHORS * 2 || (per >= 0 && (int)k != per))
                return dt_fail(st, DT_EINVAL, "%s: anchors[%zu] must hold the same number of (w, h) pairs per level",
                               w, l);
            per = (int)k;
            for (size_t i = 0; i < k; i++) {
                json_t *x = json_array_get(lv, i);
                if (!json_is_number(x))
                    return dt_fail(st, DT_EINVAL, "%s: anchors[%zu][%zu] is not a number", w, l, i);
                d->anchors[l][i] = (float)json_number_value(x);
            }
        }
        d->n_anchors = per / 2;
        if ((int)nl != d->n_strides)
            return dt_fail(st, DT_EINVAL, "%s: %zu anchor levels for %d strides", w, nl, d->n_strides);
    }
    json_t *pr = json_object_get(o, "priors");
    const char *pf = get_str(o, "priors_file");
    if (pr && pf)
        return dt_fail(st, DT_EINVAL, "%s: give priors or priors_file, not both", w);
    if (pr)
        return parse_priors(pr, m, st);
    if (pf) {
        char *path = join_path(dir, pf);
        if (!path)
            return dt_fail(st, DT_ENOMEM, "out of memory");
        rc = load_priors_file(path, m, st);
        dt_free(path);
        return rc;
    }
    return DT_OK;
}

static dt_code set_labels_array(json_t *a, dt_manifest *m, dt_status *st)
{
    size_t n = json_array_size(a);
    if (n < 1 || n > MAX_LABELS)
        return dt_fail(st, DT_EINVAL, "manifest: labels must hold 1 to %d names", MAX_LABELS);
    m->labels = dt_calloc(n, sizeof *m->labels);
    if (!m->labels)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    m->n_labels = (int)n;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e))
            return dt_fail(st, DT_EINVAL, "manifest: labels[%zu] is not a string", i);
        if (!(m->labels[i] = dt_strdup(json_string_value(e))))
            return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    return DT_OK;
}

/* A names file: one label per line (blank trailing lines ignored). */
static dt_code load_labels_file(const char *path, dt_manifest *m, dt_status *st)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return dt_fail(st, DT_ENOTFOUND, "manifest: cannot open labels file %s", path);
    char line[512];
    int cap = 0;
    dt_code rc = DT_OK;
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (m->n_labels >= MAX_LABELS) {
            rc = dt_fail(st, DT_ELIMIT, "manifest: more than %d labels in %s", MAX_LABELS, path);
            break;
        }
        if (m->n_labels == cap) {
            int nc = cap ? cap * 2 : 128;
            char **l = dt_realloc(m->labels, (size_t)nc * sizeof *l);
            if (!l) {
                rc = dt_fail(st, DT_ENOMEM, "out of memory");
                break;
            }
            m->labels = l;
            cap = nc;
        }
        if (!(m->labels[m->n_labels] = dt_strdup(line))) {
            rc = dt_fail(st, DT_ENOMEM, "out of memory");
            break;
        }
        m->n_labels++;
    }
    fclose(f);
    while (rc == DT_OK && m->n_labels > 0 && !m->labels[m->n_labels - 1][0])
        dt_free(m->labels[--m->n_labels]);
    if (rc == DT_OK && m->n_labels == 0)
        rc = dt_fail(st, DT_EINVAL, "manifest: labels file %s is empty", path);
    return rc;
}

static dt_code set_builtin_labels(const char *name, dt_manifest *m, dt_status *st)
{
    int n;
    const char *const *l = dt_labels_builtin(name, &n);
    if (!l)
        return dt_fail(st, DT_ENOTFOUND, "unknown built-in labels \"%s\"", name);
    m->builtin_labels = l;
    m->n_labels = n;
    return DT_OK;
}

static dt_code parse_root(json_t *root, const char *path, const char *preset_override, dt_manifest *m,
                          dt_status *st)
{
    static const char *const keys[] = {"name", "graph", "format", "preset", "preprocess", "decoder",
                                       "labels", "threshold", "nms_iou", "max_detections", NULL};
    if (!json_is_object(root))
        return dt_fail(st, DT_EINVAL, "manifest must be a JSON object");
    dt_code rc = check_keys(root, "manifest", keys, st);
    if (rc != DT_OK)
        return rc;
    char dir[4096];
    dir_name(path, dir, sizeof dir);

    const char *graph = get_str(root, "graph");
    if (!graph || !graph[0])
        return dt_fail(st, DT_EINVAL, "manifest: \"graph\" (the model file) is required");
    if (!(m->graph = join_path(dir, graph)))
        return dt_fail(st, DT_ENOMEM, "out of memory");
    const char *name = get_str(root, "name");
    if (!name) {
        const char *b = base_name(path);
        size_t n = strlen(b);
        if (ends_with(b, ".detectd.json"))
            n -= strlen(".detectd.json");
        m->name = dt_strndup(b, n);
    } else {
        m->name = dt_strdup(name);
    }
    if (!m->name)
        return dt_fail(st, DT_ENOMEM, "out of memory");

    const char *fmt = get_str(root, "format");
    if (!fmt || !strcmp(fmt, "auto"))
        m->format = DT_FORMAT_AUTO;
    else if (!strcmp(fmt, "onnx"))
        m->format = DT_FORMAT_ONNX;
    else if (!strcmp(fmt, "tfjs"))
        m->format = DT_FORMAT_TFJS;
    else
        return dt_fail(st, DT_EINVAL, "manifest: format \"%s\" (onnx, tfjs, auto)", fmt);

    const char *preset = preset_override ? preset_override : get_str(root, "preset");
    json_t *dec = json_object_get(root, "decoder");
    if (preset) {
        if ((rc = preset_defaults(preset, m, st)) != DT_OK)
            return rc;
    } else {
        if (!json_object_get(root, "preprocess") || !dec)
            return dt_fail(st, DT_EINVAL, "manifest: without \"preset\", \"preprocess\" and \"decoder\" are required");
        dt_preprocess_preset("yolox", &m->pre, NULL);
        memset(&m->dec, 0, sizeof m->dec);
        m->threshold = 0.5f;
        m->nms_iou = 0.45f;
        m->max_detections = 100;
    }
    json_t *pp = json_object_get(root, "preprocess");
    if (pp && (rc = parse_preprocess(pp, m, st)) != DT_OK)
        return rc;
    if (dec && (rc = parse_decoder(dec, dir, m, st)) != DT_OK)
        return rc;

    double v;
    int has;
    if ((rc = get_num(root, "threshold", "manifest", 0, 1, &v, &has, st)) != DT_OK)
        return rc;
    if (has)
        m->threshold = (float)v;
    if ((rc = get_num(root, "nms_iou", "manifest", 0, 1, &v, &has, st)) != DT_OK)
        return rc;
    if (has)
        m->nms_iou = (float)v;
    if ((rc = get_num(root, "max_detections", "manifest", 1, 100000, &v, &has, st)) != DT_OK)
        return rc;
    if (has)
        m->max_detections = (int)v;

    json_t *lab = json_object_get(root, "labels");
    if (!lab)
        return set_builtin_labels("coco", m, st);
    if (json_is_array(lab))
        return set_labels_array(lab, m, st);
    if (!json_is_string(lab))
        return dt_fail(st, DT_EINVAL, "manifest: labels must be \"coco\", an array of names or a names file");
    const char *ls = json_string_value(lab);
    int n;
    if (dt_labels_builtin(ls, &n))
        return set_builtin_labels(ls, m, st);
    char *lp = join_path(dir, ls);
    if (!lp)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    rc = load_labels_file(lp, m, st);
    dt_free(lp);
    return rc;
}

dt_code dt_manifest_load(const char *path, const char *preset, dt_manifest *m, dt_status *st)
{
    memset(m, 0, sizeof *m);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        FILE *f = fopen(path, "r");
        if (!f)
            return dt_fail(st, DT_ENOTFOUND, "manifest %s: cannot open", path);
        fclose(f);
        return dt_fail(st, json_error_code(&je) == json_error_out_of_memory ? DT_ENOMEM : DT_EINVAL,
                       "manifest %s: line %d: %s", path, je.line, je.text);
    }
    dt_code rc = parse_root(root, path, preset, m, st);
    json_decref(root);
    if (rc != DT_OK) {
        dt_wrap(st, "manifest %s", path);
        dt_manifest_free(m);
    }
    return rc;
}

/* Case-insensitive substring test for guessing a preset from a file name. */
static int contains_ci(const char *s, const char *sub)
{
    size_t n = strlen(sub);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == sub[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

dt_code dt_manifest_from_graph(const char *graph, const char *preset, dt_manifest *m, dt_status *st)
{
    memset(m, 0, sizeof *m);
    const char *b = base_name(graph);
    if (!preset) {
        static const char *const guess[] = {"yolox", "fastestdet", "nanodet", "centernet", "yolov5",
                                            "yolov7", "yolov8", "yolo11", "ssd", NULL};
        for (int i = 0; guess[i] && !preset; i++)
            if (contains_ci(b, guess[i]))
                preset = guess[i];
        if (!preset)
            return dt_fail(st, DT_EINVAL,
                           "%s: cannot tell the model family from the file name; give --preset (yolox, fastestdet, "
                           "centernet, nanodet, yolov5, yolov7, yolov8, yolo11, ssd) or a .detectd.json manifest",
                           graph);
    }
    dt_code rc = preset_defaults(preset, m, st);
    if (rc == DT_OK && !(m->graph = dt_strdup(graph)))
        rc = dt_fail(st, DT_ENOMEM, "out of memory");
    if (rc == DT_OK) {
        const char *dot = strrchr(b, '.');
        m->name = dt_strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
        if (!m->name)
            rc = dt_fail(st, DT_ENOMEM, "out of memory");
    }
    if (rc == DT_OK)
        rc = set_builtin_labels("coco", m, st);
    if (rc == DT_OK && m->dec.type == DT_DECODER_NONE)
        rc = dt_fail(st, DT_EINVAL, "preset %s has no decoder", preset);
    if (rc != DT_OK)
        dt_manifest_free(m);
    return rc;
}
