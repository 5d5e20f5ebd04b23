/* decode_fastestdet.c — FastestDet: one map [B, 5+C, H, W] (obj already
 * sigmoid, classes already softmax): x/y offset = tanh, w/h = sigmoid as
 * fractions of the input, centre = (cell + offset) / grid,
 * score = obj^0.6 * cls^0.4. */
#include "vision/decode_internal.h"

dt_code dt_decode_fastestdet(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                             dt_det_buf *out, dt_status *st)
{
    (void)n_outs;
    const dt_tensor *t = &outs[0];
    const float *p = dt_dec_item(t, item, 4, "fastestdet", st);
    if (!p)
        return st ? st->code : DT_ESHAPE;
    char sh[96];
    int64_t K = t->dims[1], H = t->dims[2], W = t->dims[3];
    int64_t C = K - 5;
    if (t->ndim != 4 || C < 1 || H <= 0 || W <= 0 || (dec->num_classes > 0 && C != dec->num_classes))
        return dt_fail(st, DT_ESHAPE, "fastestdet: output %s is not [B, 5 + classes, H, W]",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh));
    int64_t plane = H * W;
    dt_code rc = dt_det_buf_reserve(out, plane, st);
    if (rc != DT_OK)
        return rc;
    float iw = (float)dec->input_w, ih = (float)dec->input_h;
    for (int64_t gy = 0; gy < H; gy++) {
        for (int64_t gx = 0; gx < W; gx++) {
            const float *c0 = p + gy * W + gx;
            float obj = c0[0];
            if (!(obj > 0.f))
                continue;
            float best;
            int c = dt_dec_argmax(c0 + 5 * plane, C, plane, &best);
            if (!(best > 0.f))
                continue;
            float score = powf(obj, dec->obj_power) * powf(best, dec->cls_power);
            if (!(score > thr))
                continue;
            float cx = ((float)gx + tanhf(c0[plane])) / (float)W * iw;
            float cy = ((float)gy + tanhf(c0[2 * plane])) / (float)H * ih;
            float w = dt_sigmoid(c0[3 * plane]) * iw, h = dt_sigmoid(c0[4 * plane]) * ih;
            dt_dec_push(out, c, score, cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h);
        }
    }
    return DT_OK;
}
