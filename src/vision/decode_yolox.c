/* decode_yolox.c — YOLOX: rows (cx, cy, w, h, obj, C class scores) over the
 * stride-8/16/32 grids in order, row-major; obj and cls already sigmoid.
 * xy = (out + grid) * stride, wh = exp(out) * stride, score = obj * cls. */
#include "vision/decode_internal.h"

dt_code dt_decode_yolox(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                        dt_det_buf *out, dt_status *st)
{
    const dt_tensor *t = &outs[0];
    for (int i = 0; i < n_outs; i++)
        if (outs[i].ndim == 3) {
            t = &outs[i];
            break;
        }
    const float *p = dt_dec_item(t, item, 3, "yolox", st);
    if (!p)
        return st ? st->code : DT_ESHAPE;
    char sh[96];
    int64_t N = t->dims[1], K = t->dims[2];
    int64_t C = K - 5;
    if (t->ndim != 3 || C < 1 || (dec->num_classes > 0 && C != dec->num_classes))
        return dt_fail(st, DT_ESHAPE, "yolox: output %s is not [B, N, 5 + classes]",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh));
    int64_t expect = 0;
    for (int l = 0; l < dec->n_strides; l++)
        expect += (int64_t)(dec->input_h / dec->strides[l]) * (dec->input_w / dec->strides[l]);
    if (!dec->decoded && N != expect)
        return dt_fail(st, DT_ESHAPE, "yolox: output has %lld rows, the %dx%d grids of the strides give %lld",
                       (long long)N, dec->input_w, dec->input_h, (long long)expect);
    dt_code rc = dt_det_buf_reserve(out, N, st);
    if (rc != DT_OK)
        return rc;
    int64_t row = 0;
    int levels = dec->decoded ? 1 : dec->n_strides;
    for (int l = 0; l < levels; l++) {
        int s = dec->decoded ? 1 : dec->strides[l];
        int gw = dec->decoded ? (int)N : dec->input_w / s, gh = dec->decoded ? 1 : dec->input_h / s;
        for (int gy = 0; gy < gh; gy++) {
            for (int gx = 0; gx < gw; gx++, row++) {
                const float *r = p + row * K;
                float obj = r[4];
                if (!(obj > thr)) /* cls <= 1, so obj bounds the score */
                    continue;
                float best;
                int c = dt_dec_argmax(r + 5, C, 1, &best);
                float score = obj * best;
                if (!(score > thr))
                    continue;
                float cx, cy, w, h;
                if (dec->decoded) {
                    cx = r[0];
                    cy = r[1];
                    w = r[2];
                    h = r[3];
                } else {
                    cx = (r[0] + (float)gx) * (float)s;
                    cy = (r[1] + (float)gy) * (float)s;
                    w = expf(r[2]) * (float)s;
                    h = expf(r[3]) * (float)s;
                }
                dt_dec_push(out, c, score, cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h);
            }
        }
    }
    return DT_OK;
}
