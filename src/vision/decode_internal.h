/* decode_internal.h — shared helpers of the decode_*.c families (vision/ only). */
#ifndef DT_DECODE_INTERNAL_H
#define DT_DECODE_INTERNAL_H

#include <math.h>

#include "vision/decode.h"

dt_code dt_decode_yolox(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                        dt_det_buf *out, dt_status *st);
dt_code dt_decode_fastestdet(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                             dt_det_buf *out, dt_status *st);
dt_code dt_decode_centernet(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                            dt_det_buf *out, dt_status *st);
dt_code dt_decode_nanodet(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                          dt_det_buf *out, dt_status *st);
dt_code dt_decode_yolov5(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                         dt_det_buf *out, dt_status *st);
dt_code dt_decode_yolov8(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                         dt_det_buf *out, dt_status *st);
dt_code dt_decode_ssd(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                      dt_det_buf *out, dt_status *st);

/* The float data of batch item `item` of t (dims[0] is the batch), or NULL
 * with st set: wrong dtype, rank below min_ndim, or item out of range. */
const float *dt_dec_item(const dt_tensor *t, int item, int min_ndim, const char *what, dt_status *st);

/* Index and value of the largest of n floats (first one on ties). */
static inline int dt_dec_argmax(const float *v, int64_t n, int64_t stride, float *best)
{
    int bi = 0;
    float b = v[0];
    for (int64_t i = 1; i < n; i++) {
        float x = v[i * stride];
        if (x > b) {
            b = x;
            bi = (int)i;
        }
    }
    *best = b;
    return bi;
}

static inline float dt_sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

static inline void dt_dec_push(dt_det_buf *b, int cls, float score, float x1, float y1, float x2, float y2)
{
    dt_detection *d = &b->d[b->n++];
    d->class_id = cls;
    d->score = score;
    d->x1 = x1;
    d->y1 = y1;
    d->x2 = x2;
    d->y2 = y2;
}

#endif
