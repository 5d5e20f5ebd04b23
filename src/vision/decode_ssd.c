/* decode_ssd.c — SSD-style heads: boxes [B, N, 4] and scores [B, N, C'].
 *
 * Boxes are either decoded corners (x1, y1, x2, y2, or y1, x1, y2, x2 with
 * ssd_yx; normalised 0..1 or input pixels) or offsets against prior boxes
 * (cx, cy, w, h normalised) with variances:
 *   cx = pcx + dx * v0 * pw,  w = pw * exp(dw * v1)   (same for y / h)
 * Scores may still need a sigmoid or a softmax; a background column, if
 * any, is skipped and the class ids of the columns after it shift down. */
#include "vision/decode_internal.h"

dt_code dt_decode_ssd(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                      dt_det_buf *out, dt_status *st)
{
    const dt_tensor *bt = NULL, *stt = NULL;
    for (int i = 0; i < n_outs; i++) {
        const dt_tensor *t = &outs[i];
        if (t->ndim != 3)
            continue;
        if (t->dims[2] == 4 && !bt)
            bt = t;
        else if (!stt)
            stt = t;
    }
    if (!bt || !stt || bt->dims[1] != stt->dims[1])
        return dt_fail(st, DT_ESHAPE, "ssd: expected boxes [B, N, 4] and scores [B, N, C] outputs");
    const float *bp = dt_dec_item(bt, item, 3, "ssd boxes", st);
    const float *sp = dt_dec_item(stt, item, 3, "ssd scores", st);
    if (!bp || !sp)
        return st ? st->code : DT_ESHAPE;
    int64_t N = bt->dims[1], K = stt->dims[2];
    int bg = dec->background;
    if (K < 1 || bg >= K || (K - (bg >= 0)) < 1)
        return dt_fail(st, DT_ESHAPE, "ssd: %lld score columns with background column %d", (long long)K, bg);
    if (dec->num_classes > 0 && K - (bg >= 0) != dec->num_classes)
        return dt_fail(st, DT_ESHAPE, "ssd: %lld score columns, expected %d classes%s", (long long)K,
                       dec->num_classes, bg >= 0 ? " + background" : "");
    if (dec->ssd_encoded && (!dec->priors || dec->n_priors != N))
        return dt_fail(st, DT_ESHAPE, "ssd: %lld boxes but %d prior boxes", (long long)N, dec->n_priors);
    dt_code rc = dt_det_buf_reserve(out, N, st);
    if (rc != DT_OK)
        return rc;
    float W = (float)dec->input_w, H = (float)dec->input_h;
    for (int64_t i = 0; i < N; i++) {
        const float *s = sp + i * K;
        float m = s[0], sum = 0.f;
        if (dec->score_act == DT_SCORE_SOFTMAX) {
            for (int64_t k = 1; k < K; k++)
                m = s[k] > m ? s[k] : m;
            for (int64_t k = 0; k < K; k++)
                sum += expf(s[k] - m);
        }
        int best_k = -1;
        float best = 0.f;
        for (int64_t k = 0; k < K; k++) {
            if (k == bg)
                continue;
            if (best_k < 0 || s[k] > best) {
                best = s[k];
                best_k = (int)k;
            }
        }
        if (dec->score_act == DT_SCORE_SOFTMAX)
            best = expf(best - m) / sum;
        else if (dec->score_act == DT_SCORE_SIGMOID)
            best = dt_sigmoid(best);
        if (!(best > thr))
            continue;
        int cls = bg >= 0 && best_k > bg ? best_k - 1 : best_k;
        const float *b = bp + i * 4;
        int yx = dec->ssd_yx;
        float x1, y1, x2, y2;
        if (dec->ssd_encoded) {
            const float *pr = dec->priors + i * 4;
            float dx = yx ? b[1] : b[0], dy = yx ? b[0] : b[1];
            float dw = yx ? b[3] : b[2], dh = yx ? b[2] : b[3];
            float cx = pr[0] + dx * dec->variance[0] * pr[2];
            float cy = pr[1] + dy * dec->variance[0] * pr[3];
            float w = pr[2] * expf(dw * dec->variance[1]), h = pr[3] * expf(dh * dec->variance[1]);
            x1 = (cx - 0.5f * w) * W;
            y1 = (cy - 0.5f * h) * H;
            x2 = (cx + 0.5f * w) * W;
            y2 = (cy + 0.5f * h) * H;
        } else {
            x1 = yx ? b[1] : b[0];
            y1 = yx ? b[0] : b[1];
            x2 = yx ? b[3] : b[2];
            y2 = yx ? b[2] : b[3];
            if (dec->ssd_normalized) {
                x1 *= W;
                x2 *= W;
                y1 *= H;
                y2 *= H;
            }
        }
        dt_dec_push(out, cls, best, x1, y1, x2, y2);
    }
    return DT_OK;
}
