/* decode_yolov8.c — YOLOv8 / YOLO11: [B, 4+C, N] (or transposed [B, N, 4+C]),
 * cx, cy, w, h in input pixels then C class scores (sigmoid applied). */
#include "vision/decode_internal.h"

dt_code dt_decode_yolov8(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                         dt_det_buf *out, dt_status *st)
{
    (void)n_outs;
    const dt_tensor *t = &outs[0];
    const float *p = dt_dec_item(t, item, 3, "yolov8", st);
    if (!p)
        return st ? st->code : DT_ESHAPE;
    char sh[96];
    if (t->ndim != 3)
        return dt_fail(st, DT_ESHAPE, "yolov8: output %s is not [B, 4 + classes, N]",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh));
    int64_t a = t->dims[1], b = t->dims[2];
    int transposed; /* 1 = [B, N, 4+C] */
    if (dec->num_classes > 0)
        transposed = b == 4 + dec->num_classes && a != 4 + dec->num_classes;
    else
        transposed = a > b;
    int64_t K = transposed ? b : a, N = transposed ? a : b, C = K - 4;
    if (C < 1 || (dec->num_classes > 0 && C != dec->num_classes))
        return dt_fail(st, DT_ESHAPE, "yolov8: output %s does not hold 4 + %d values per box",
                       dt_shape_str(t->ndim, t->dims, sh, sizeof sh), dec->num_classes);
    dt_code rc = dt_det_buf_reserve(out, N, st);
    if (rc != DT_OK)
        return rc;
    int64_t es = transposed ? 1 : N; /* stride between a box's values */
    for (int64_t i = 0; i < N; i++) {
        const float *r = transposed ? p + i * K : p + i;
        float best;
        int c = dt_dec_argmax(r + 4 * es, C, es, &best);
        if (!(best > thr))
            continue;
        float cx = r[0], cy = r[es], w = r[2 * es], h = r[3 * es];
        dt_dec_push(out, c, best, cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h);
    }
    return DT_OK;
}
