/* decode_centernet.c — CenterNet (TF.js export): [B, K, 6] rows of
 * x1, y1, x2, y2 (input pixels), score, class index. */
#include "vision/decode_internal.h"

dt_code dt_decode_centernet(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                            dt_det_buf *out, dt_status *st)
{
    const dt_tensor *t = &outs[0];
    for (int i = 0; i < n_outs; i++)
        if (outs[i].ndim == 3 && outs[i].dims[2] == 6) {
            t = &outs[i];
            break;
        }
    const float *p = dt_dec_item(t, item, 3, "centernet", st);
    if (!p)
        return st ? st->code : DT_ESHAPE;
    char sh[96];
    if (t->ndim != 3 || t->dims[2] != 6)
        return dt_fail(st, DT_ESHAPE, "centernet: output %s is not [B, K, 6]",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh));
    int64_t K = t->dims[1];
    dt_code rc = dt_det_buf_reserve(out, K, st);
    if (rc != DT_OK)
        return rc;
    for (int64_t k = 0; k < K; k++) {
        const float *r = p + k * 6;
        if (!(r[4] > thr))
            continue;
        float cf = r[5];
        if (!(cf >= 0.f) || cf > 1e6f)
            continue;
        int c = (int)lrintf(cf);
        if (dec->num_classes > 0 && c >= dec->num_classes)
            continue;
        dt_dec_push(out, c, r[4], r[0], r[1], r[2], r[3]);
    }
    return DT_OK;
}
