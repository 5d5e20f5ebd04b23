/* decode.c — decoder dispatch, candidate buffer, NMS, SSD priors. */
#include "vision/decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "vision/decode_internal.h"

static const char *const g_type_names[] = {
    [DT_DECODER_NONE] = "none",         [DT_DECODER_YOLOX] = "yolox",   [DT_DECODER_FASTESTDET] = "fastestdet",
    [DT_DECODER_CENTERNET] = "centernet", [DT_DECODER_NANODET] = "nanodet", [DT_DECODER_YOLOV5] = "yolov5",
    [DT_DECODER_YOLOV8] = "yolov8",     [DT_DECODER_SSD] = "ssd",
};

const char *dt_decoder_type_name(dt_decoder_type t)
{
    return (unsigned)t < sizeof g_type_names / sizeof g_type_names[0] ? g_type_names[t] : "?";
}

dt_decoder_type dt_decoder_type_from_name(const char *name)
{
    if (!name)
        return DT_DECODER_NONE;
    if (!strcmp(name, "yolov7"))
        return DT_DECODER_YOLOV5;
    if (!strcmp(name, "yolo11"))
        return DT_DECODER_YOLOV8;
    for (int t = DT_DECODER_YOLOX; t <= DT_DECODER_SSD; t++)
        if (!strcmp(name, g_type_names[t]))
            return (dt_decoder_type)t;
    return DT_DECODER_NONE;
}

void dt_decoder_defaults(dt_decoder_type type, dt_decoder *d)
{
    memset(d, 0, sizeof *d);
    d->type = type;
    d->center_offset = 0.5f;
    d->activated = 1;
    d->obj_power = 0.6f;
    d->cls_power = 0.4f;
    d->variance[0] = 0.1f;
    d->variance[1] = 0.2f;
    d->background = -1;
    d->ssd_normalized = 1;
    if (type == DT_DECODER_YOLOX || type == DT_DECODER_NANODET || type == DT_DECODER_YOLOV5) {
        d->n_strides = 3;
        d->strides[0] = 8;
        d->strides[1] = 16;
        d->strides[2] = 32;
    }
    if (type == DT_DECODER_YOLOV5) {
        /* YOLOv5 P3-P5 anchors (yolov5s.yaml). */
        static const float a[3][6] = {{10, 13, 16, 30, 33, 23}, {30, 61, 62, 45, 59, 119}, {116, 90, 156, 198, 373, 326}};
        d->n_anchors = 3;
        for (int l = 0; l < 3; l++)
            memcpy(d->anchors[l], a[l], sizeof a[l]);
    }
}

dt_code dt_det_buf_reserve(dt_det_buf *b, int64_t extra, dt_status *st)
{
    if (extra < 0 || extra > INT32_MAX / 2 || b->n > INT32_MAX / 2 - extra)
        return dt_fail(st, DT_ELIMIT, "too many candidate boxes (%lld)", (long long)extra);
    int64_t need = (int64_t)b->n + extra;
    if (need <= b->cap)
        return DT_OK;
    int64_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    dt_detection *d = dt_realloc(b->d, (size_t)cap * sizeof *d);
    if (!d)
        return dt_fail(st, DT_ENOMEM, "out of memory for %lld candidate boxes", (long long)need);
    b->d = d;
    b->cap = (int)cap;
    return DT_OK;
}

void dt_det_buf_free(dt_det_buf *b)
{
    if (!b)
        return;
    dt_free(b->d);
    memset(b, 0, sizeof *b);
}

const float *dt_dec_item(const dt_tensor *t, int item, int min_ndim, const char *what, dt_status *st)
{
    char sh[96];
    if (!t || !t->data) {
        dt_fail(st, DT_ESHAPE, "%s: missing output", what);
        return NULL;
    }
    if (t->dtype != DT_F32) {
        dt_fail(st, DT_ESHAPE, "%s: output is %s, expected float32", what, dt_dtype_name(t->dtype));
        return NULL;
    }
    int64_t numel = dt_tensor_numel(t);
    if (t->ndim < min_ndim || numel < 0 || t->dims[0] <= 0 || item < 0 || item >= t->dims[0]) {
        dt_fail(st, DT_ESHAPE, "%s: unexpected output shape %s for batch item %d", what,
                dt_shape_str(t->ndim, t->dims, sh, sizeof sh), item);
        return NULL;
    }
    return (const float *)t->data + (numel / t->dims[0]) * item;
}

dt_code dt_decoder_run(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float threshold,
                       dt_det_buf *out, dt_status *st)
{
    if (!dec || !outs || n_outs <= 0 || !out)
        return dt_fail(st, DT_EINVAL, "decoder: no outputs");
    if (dec->input_w <= 0 || dec->input_h <= 0)
        return dt_fail(st, DT_EINVAL, "decoder: input size not set");
    switch (dec->type) {
    case DT_DECODER_YOLOX: return dt_decode_yolox(dec, outs, n_outs, item, threshold, out, st);
    case DT_DECODER_FASTESTDET: return dt_decode_fastestdet(dec, outs, n_outs, item, threshold, out, st);
    case DT_DECODER_CENTERNET: return dt_decode_centernet(dec, outs, n_outs, item, threshold, out, st);
    case DT_DECODER_NANODET: return dt_decode_nanodet(dec, outs, n_outs, item, threshold, out, st);
    case DT_DECODER_YOLOV5: return dt_decode_yolov5(dec, outs, n_outs, item, threshold, out, st);
    case DT_DECODER_YOLOV8: return dt_decode_yolov8(dec, outs, n_outs, item, threshold, out, st);
    case DT_DECODER_SSD: return dt_decode_ssd(dec, outs, n_outs, item, threshold, out, st);
    default: return dt_fail(st, DT_EINVAL, "decoder: no decoder type set");
    }
}

/* ---- NMS ------------------------------------------------------------------- */

float dt_box_iou(const dt_detection *a, const dt_detection *b)
{
    float iw = fminf(a->x2, b->x2) - fmaxf(a->x1, b->x1);
    float ih = fminf(a->y2, b->y2) - fmaxf(a->y1, b->y1);
    if (iw <= 0.f || ih <= 0.f)
        return 0.f;
    float inter = iw * ih;
    float uni = (a->x2 - a->x1) * (a->y2 - a->y1) + (b->x2 - b->x1) * (b->y2 - b->y1) - inter;
    return uni > 0.f ? inter / uni : 0.f;
}

typedef struct nms_key {
    float score;
    int cls;
    int idx;
} nms_key;

/* class ascending, then score descending, then original order (stability). */
static int cmp_class_score(const void *pa, const void *pb)
{
    const nms_key *a = pa, *b = pb;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_score(const void *pa, const void *pb)
{
    const nms_key *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

void dt_nms_scratch_free(dt_nms_scratch *s)
{
    if (!s)
        return;
    dt_free(s->mem);
    s->mem = NULL;
    s->cap = 0;
}

int dt_nms(dt_detection *d, int n, float iou, int max_det, dt_nms_scratch *s, dt_status *st)
{
    if (n <= 0)
        return 0;
    size_t need = (size_t)n * (sizeof(nms_key) + 1 + sizeof(dt_detection)) + 64;
    if (s->cap < need) {
        void *m = dt_realloc(s->mem, need);
        if (!m) {
            dt_fail(st, DT_ENOMEM, "NMS: out of memory for %d boxes", n);
            return -1;
        }
        s->mem = m;
        s->cap = need;
    }
    dt_detection *tmp = s->mem;
    nms_key *keys = (nms_key *)(tmp + n);
    uint8_t *gone = (uint8_t *)(keys + n);
    for (int i = 0; i < n; i++) {
        keys[i].score = d[i].score;
        keys[i].cls = d[i].class_id;
        keys[i].idx = i;
        gone[i] = 0;
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_class_score);
    int kept = 0;
    for (int a = 0; a < n;) {
        int b = a;
        while (b < n && keys[b].cls == keys[a].cls)
            b++;
        for (int i = a; i < b; i++) {
            if (gone[i])
                continue;
            const dt_detection *di = &d[keys[i].idx];
            for (int j = i + 1; j < b; j++)
                if (!gone[j] && dt_box_iou(di, &d[keys[j].idx]) > iou)
                    gone[j] = 1;
        }
        for (int i = a; i < b; i++)
            if (!gone[i])
                keys[kept++] = keys[i];
        a = b;
    }
    qsort(keys, (size_t)kept, sizeof *keys, cmp_score);
    if (max_det > 0 && kept > max_det)
        kept = max_det;
    for (int i = 0; i < kept; i++)
        tmp[i] = d[keys[i].idx];
    memcpy(d, tmp, (size_t)kept * sizeof *d);
    return kept;
}

/* ---- SSD priors -------------------------------------------------------------- */

dt_code dt_ssd_priors(int image_size, int n_maps, const int *feature_maps, const float *steps,
                      const float *min_sizes, const float *max_sizes, const float *const *aspect,
                      const int *n_aspect, int clip, float **out, int *n_out, dt_status *st)
{
    *out = NULL;
    *n_out = 0;
    if (image_size <= 0 || n_maps <= 0)
        return dt_fail(st, DT_EINVAL, "SSD priors: invalid image size or no feature maps");
    int64_t total = 0;
    for (int k = 0; k < n_maps; k++) {
        if (feature_maps[k] <= 0 || feature_maps[k] > 1024 || steps[k] <= 0 || min_sizes[k] <= 0 ||
            n_aspect[k] < 0 || n_aspect[k] > 16)
            return dt_fail(st, DT_EINVAL, "SSD priors: invalid parameters for feature map %d", k);
        total += (int64_t)feature_maps[k] * feature_maps[k] * (1 + (max_sizes ? 1 : 0) + 2 * n_aspect[k]);
    }
    if (total > 10000000)
        return dt_fail(st, DT_ELIMIT, "SSD priors: %lld boxes is too many", (long long)total);
    float *p = dt_malloc((size_t)total * 4 * sizeof *p);
    if (!p)
        return dt_fail(st, DT_ENOMEM, "SSD priors: out of memory");
    float *q = p;
    for (int k = 0; k < n_maps; k++) {
        int f = feature_maps[k];
        double fk = image_size / (double)steps[k];
        double sk = min_sizes[k] / (double)image_size;
        for (int i = 0; i < f; i++) {
            for (int j = 0; j < f; j++) {
                double cx = (j + 0.5) / fk, cy = (i + 0.5) / fk;
                double box[2 + 2 * 16][2];
                int nb = 0;
                box[nb][0] = sk;
                box[nb++][1] = sk;
                if (max_sizes) {
                    double s2 = sqrt(sk * (max_sizes[k] / (double)image_size));
                    box[nb][0] = s2;
                    box[nb++][1] = s2;
                }
                for (int a = 0; a < n_aspect[k]; a++) {
                    double r = sqrt((double)aspect[k][a]);
                    box[nb][0] = sk * r;
                    box[nb++][1] = sk / r;
                    box[nb][0] = sk / r;
                    box[nb++][1] = sk * r;
                }
                for (int b = 0; b < nb; b++) {
                    float v[4] = {(float)cx, (float)cy, (float)box[b][0], (float)box[b][1]};
                    for (int c = 0; c < 4; c++) {
                        if (clip)
                            v[c] = v[c] < 0.f ? 0.f : v[c] > 1.f ? 1.f : v[c];
                        *q++ = v[c];
                    }
                }
            }
        }
    }
    *out = p;
    *n_out = (int)total;
    return DT_OK;
}

/* ---- full post-processing ---------------------------------------------------- */

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

dt_code dt_decode_detections(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item,
                             const dt_prep_info *info, float threshold, float iou, int max_det,
                             const int *classes, int n_classes, dt_det_buf *cands, dt_nms_scratch *nms,
                             int *n_out, dt_status *st)
{
    *n_out = 0;
    cands->n = 0;
    dt_code rc = dt_decoder_run(dec, outs, n_outs, item, threshold, cands, st);
    if (rc != DT_OK)
        return rc;
    /* Class filter, back to original pixels, clip to the image, then NMS:
     * in image pixels so a stretched input does not distort the overlaps,
     * and on clipped boxes as the reference pipelines do (boxes hanging
     * over the border overlap more once clipped). */
    float sx = info->scale_x > 0.f ? info->scale_x : 1.f, sy = info->scale_y > 0.f ? info->scale_y : 1.f;
    float W = (float)info->width, H = (float)info->height;
    int n = 0;
    for (int k = 0; k < cands->n; k++) {
        dt_detection e = cands->d[k];
        if (classes && n_classes > 0) {
            int keep = 0;
            for (int j = 0; j < n_classes && !keep; j++)
                keep = classes[j] == e.class_id;
            if (!keep)
                continue;
        }
        e.x1 = clampf((e.x1 - info->offset_x) / sx, 0.f, W);
        e.x2 = clampf((e.x2 - info->offset_x) / sx, 0.f, W);
        e.y1 = clampf((e.y1 - info->offset_y) / sy, 0.f, H);
        e.y2 = clampf((e.y2 - info->offset_y) / sy, 0.f, H);
        if (!(e.x2 > e.x1) || !(e.y2 > e.y1)) /* entirely outside the image (or NaN) */
            continue;
        cands->d[n++] = e;
    }
    int kept = dt_nms(cands->d, n, iou, max_det, nms, st);
    if (kept < 0)
        return st ? st->code : DT_ENOMEM;
    cands->n = kept;
    *n_out = kept;
    return DT_OK;
}
