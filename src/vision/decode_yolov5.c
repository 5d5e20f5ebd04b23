/* decode_yolov5.c — YOLOv5 / YOLOv7.
 *
 * Common exports give one tensor [B, N, 5+C] of decoded rows: cx, cy, w, h
 * (input pixels), objectness, class scores; score = obj * cls.  Raw exports
 * give one head per stride, [B, A, H, W, 5+C] or [B, A*(5+C), H, W], decoded
 * with the level's anchors: xy = (2*sig - 0.5 + cell) * stride,
 * wh = (2*sig)^2 * anchor.  activated = 0 means the graph did not apply the
 * sigmoid, so we do. */
#include "vision/decode_internal.h"

static inline float act(const dt_decoder *dec, float v) { return dec->activated ? v : dt_sigmoid(v); }

static dt_code decode_rows(const dt_decoder *dec, const dt_tensor *t, int item, float thr, dt_det_buf *out,
                           dt_status *st)
{
    const float *p = dt_dec_item(t, item, 3, "yolov5", st);
    if (!p)
        return st ? st->code : DT_ESHAPE;
    int64_t N = t->dims[1], K = t->dims[2], C = K - 5;
    char sh[96];
    if (C < 1 || (dec->num_classes > 0 && C != dec->num_classes))
        return dt_fail(st, DT_ESHAPE, "yolov5: output %s is not [B, N, 5 + classes]",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh));
    dt_code rc = dt_det_buf_reserve(out, N, st);
    if (rc != DT_OK)
        return rc;
    for (int64_t i = 0; i < N; i++) {
        const float *r = p + i * K;
        float obj = act(dec, r[4]);
        if (!(obj > thr))
            continue;
        float best;
        int c = dt_dec_argmax(r + 5, C, 1, &best);
        float score = obj * act(dec, best); /* sigmoid is monotonic: argmax unchanged */
        if (!(score > thr))
            continue;
        float cx = r[0], cy = r[1], w = r[2], h = r[3];
        dt_dec_push(out, c, score, cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h);
    }
    return DT_OK;
}

static dt_code decode_head(const dt_decoder *dec, const dt_tensor *t, int item, float thr, dt_det_buf *out,
                           dt_status *st)
{
    const float *p = dt_dec_item(t, item, 4, "yolov5", st);
    if (!p)
        return st ? st->code : DT_ESHAPE;
    char sh[96];
    int A = dec->n_anchors;
    int64_t H, W, K;
    int five = t->ndim == 5;
    if (five) {
        H = t->dims[2];
        W = t->dims[3];
        K = t->dims[4];
        if (t->dims[1] != A)
            return dt_fail(st, DT_ESHAPE, "yolov5: head %s has %lld anchors, the manifest %d",
                           dt_shape_str(t->ndim, t->dims, sh, sizeof sh), (long long)t->dims[1], A);
    } else {
        H = t->dims[2];
        W = t->dims[3];
        if (A <= 0 || t->dims[1] % A)
            return dt_fail(st, DT_ESHAPE, "yolov5: head %s does not split into %d anchors",
                           dt_shape_str(t->ndim, t->dims, sh, sizeof sh), A);
        K = t->dims[1] / A;
    }
    int64_t C = K - 5;
    if (H <= 0 || W <= 0 || C < 1 || (dec->num_classes > 0 && C != dec->num_classes))
        return dt_fail(st, DT_ESHAPE, "yolov5: head %s is not [B, A, H, W, 5 + classes]",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh));
    int stride = (int)(dec->input_h / H);
    int l = -1;
    for (int i = 0; i < dec->n_strides; i++)
        if (dec->strides[i] == stride)
            l = i;
    if (l < 0)
        return dt_fail(st, DT_ESHAPE, "yolov5: head %s (stride %d) matches no configured stride",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh), stride);
    dt_code rc = dt_det_buf_reserve(out, A * H * W, st);
    if (rc != DT_OK)
        return rc;
    int64_t plane = H * W;
    for (int a = 0; a < A; a++) {
        for (int64_t gy = 0; gy < H; gy++) {
            for (int64_t gx = 0; gx < W; gx++) {
                /* 5-D: values contiguous per cell; 4-D: one plane per value. */
                const float *r = five ? p + ((a * H + gy) * W + gx) * K : p + a * K * plane + gy * W + gx;
                int64_t es = five ? 1 : plane;
                float obj = act(dec, r[4 * es]);
                if (!(obj > thr))
                    continue;
                float best;
                int c = dt_dec_argmax(r + 5 * es, C, es, &best);
                float score = obj * act(dec, best);
                if (!(score > thr))
                    continue;
                float sx = act(dec, r[0]), sy = act(dec, r[es]), sw = act(dec, r[2 * es]), shh = act(dec, r[3 * es]);
                float cx = (sx * 2.f - 0.5f + (float)gx) * (float)stride;
                float cy = (sy * 2.f - 0.5f + (float)gy) * (float)stride;
                float w = (sw * 2.f) * (sw * 2.f) * dec->anchors[l][2 * a];
                float h = (shh * 2.f) * (shh * 2.f) * dec->anchors[l][2 * a + 1];
                dt_dec_push(out, c, score, cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h);
            }
        }
    }
    return DT_OK;
}

dt_code dt_decode_yolov5(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                         dt_det_buf *out, dt_status *st)
{
    for (int i = 0; i < n_outs; i++)
        if (outs[i].ndim == 3)
            return decode_rows(dec, &outs[i], item, thr, out, st);
    int used = 0;
    for (int i = 0; i < n_outs; i++) {
        if (outs[i].ndim != 4 && outs[i].ndim != 5)
            continue;
        dt_code rc = decode_head(dec, &outs[i], item, thr, out, st);
        if (rc != DT_OK)
            return rc;
        used++;
    }
    if (!used)
        return dt_fail(st, DT_ESHAPE, "yolov5: no [B, N, 5+C] output and no detection heads");
    return DT_OK;
}
