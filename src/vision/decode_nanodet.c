/* decode_nanodet.c — NanoDet GFL head.
 *
 * Per level of stride s (grid ceil(W/s) x ceil(H/s), N cells, row-major):
 * class scores [B, N, C] (sigmoid applied) and box distributions
 * [B, N, 4 * (reg_max + 1)] — one softmax over reg_max+1 bins per side
 * (left, top, right, bottom); distance = sum(i * p_i) * s from the cell
 * centre ((col + off) * s, (row + off) * s); boxes clipped to the input.
 * Levels are found by their N (TF.js graphs list outputs in any order).
 * NanoDet-Plus exports one tensor [B, sum N, C + 4 * (reg_max + 1)]. */
#include <string.h>

#include "vision/decode_internal.h"

typedef struct level {
    const float *cls, *reg;
    int64_t cls_step, reg_step; /* floats between consecutive cells */
    int gw, gh, stride;
} level;

static int level_cells(const dt_decoder *dec, int l, int *gw, int *gh)
{
    int s = dec->strides[l];
    *gw = (dec->input_w + s - 1) / s;
    *gh = (dec->input_h + s - 1) / s;
    return *gw * *gh;
}

dt_code dt_decode_nanodet(const dt_decoder *dec, const dt_tensor *outs, int n_outs, int item, float thr,
                          dt_det_buf *out, dt_status *st)
{
    level lv[DT_DECODER_MAX_LEVELS];
    int nl = dec->n_strides;
    int C = dec->num_classes, R = dec->reg_max > 0 ? dec->reg_max + 1 : 0;
    if (nl <= 0 || nl > DT_DECODER_MAX_LEVELS)
        return dt_fail(st, DT_EINVAL, "nanodet: no strides");
    if (C <= 0 && R <= 0)
        return dt_fail(st, DT_EINVAL, "nanodet: set reg_max or the number of classes");
    int64_t total = 0;
    for (int l = 0; l < nl; l++) {
        int gw, gh;
        total += level_cells(dec, l, &gw, &gh);
    }
    /* One combined tensor (NanoDet-Plus) or one class/box pair per level. */
    const dt_tensor *comb = n_outs == 1 && outs[0].ndim == 3 && outs[0].dims[1] == total ? &outs[0] : NULL;
    if (comb) {
        const float *p = dt_dec_item(comb, item, 3, "nanodet", st);
        if (!p)
            return st ? st->code : DT_ESHAPE;
        int64_t K = comb->dims[2];
        if (C <= 0)
            C = (int)(K - 4 * R);
        if (R <= 0) {
            if ((K - C) % 4)
                return dt_fail(st, DT_ESHAPE, "nanodet: %lld values per cell do not split into %d classes + 4 sides",
                               (long long)K, C);
            R = (int)((K - C) / 4);
        }
        if (C < 1 || R < 1 || K != C + 4 * R)
            return dt_fail(st, DT_ESHAPE, "nanodet: %lld values per cell, expected %d classes + 4 x %d bins",
                           (long long)K, C, R);
        int64_t off = 0;
        for (int l = 0; l < nl; l++) {
            int n = level_cells(dec, l, &lv[l].gw, &lv[l].gh);
            lv[l].stride = dec->strides[l];
            lv[l].cls = p + off * K;
            lv[l].reg = p + off * K + C;
            lv[l].cls_step = lv[l].reg_step = K;
            off += n;
        }
    } else {
        for (int l = 0; l < nl; l++) {
            int n = level_cells(dec, l, &lv[l].gw, &lv[l].gh);
            lv[l].stride = dec->strides[l];
            const dt_tensor *ct = NULL, *rt = NULL;
            for (int i = 0; i < n_outs; i++) {
                const dt_tensor *t = &outs[i];
                if (t->ndim != 3 || t->dims[1] != n)
                    continue;
                int64_t k = t->dims[2];
                int is_cls = C > 0 ? k == C : k != 4 * (int64_t)R;
                if (is_cls && !ct)
                    ct = t;
                else if (!is_cls && !rt && (R <= 0 || k == 4 * (int64_t)R))
                    rt = t;
            }
            if (!ct || !rt)
                return dt_fail(st, DT_ESHAPE, "nanodet: no class/box output pair with %d cells for stride %d", n,
                               dec->strides[l]);
            if (C <= 0)
                C = (int)ct->dims[2];
            if (R <= 0) {
                if (rt->dims[2] % 4)
                    return dt_fail(st, DT_ESHAPE, "nanodet: box output of %lld values is not 4 sides",
                                   (long long)rt->dims[2]);
                R = (int)(rt->dims[2] / 4);
            }
            if (ct->dims[2] != C || rt->dims[2] != 4 * (int64_t)R || R < 1 || R > 1024)
                return dt_fail(st, DT_ESHAPE, "nanodet: stride %d outputs have %lld classes / %lld box values",
                               dec->strides[l], (long long)ct->dims[2], (long long)rt->dims[2]);
            lv[l].cls = dt_dec_item(ct, item, 3, "nanodet", st);
            lv[l].reg = dt_dec_item(rt, item, 3, "nanodet", st);
            if (!lv[l].cls || !lv[l].reg)
                return st ? st->code : DT_ESHAPE;
            lv[l].cls_step = C;
            lv[l].reg_step = 4 * (int64_t)R;
        }
    }
    dt_code rc = dt_det_buf_reserve(out, total, st);
    if (rc != DT_OK)
        return rc;
    float W = (float)dec->input_w, H = (float)dec->input_h;
    for (int l = 0; l < nl; l++) {
        const level *L = &lv[l];
        float s = (float)L->stride;
        for (int gy = 0; gy < L->gh; gy++) {
            for (int gx = 0; gx < L->gw; gx++) {
                int64_t cell = (int64_t)gy * L->gw + gx;
                float best;
                int c = dt_dec_argmax(L->cls + cell * L->cls_step, C, 1, &best);
                if (!(best > thr))
                    continue;
                const float *r = L->reg + cell * L->reg_step;
                float dist[4];
                for (int side = 0; side < 4; side++) {
                    const float *b = r + side * R;
                    float m = b[0];
                    for (int i = 1; i < R; i++)
                        m = b[i] > m ? b[i] : m;
                    float sum = 0.f, acc = 0.f;
                    for (int i = 0; i < R; i++) {
                        float e = expf(b[i] - m);
                        sum += e;
                        acc += e * (float)i;
                    }
                    dist[side] = acc / sum * s;
                }
                float cx = ((float)gx + dec->center_offset) * s, cy = ((float)gy + dec->center_offset) * s;
                float x1 = fminf(fmaxf(cx - dist[0], 0.f), W), y1 = fminf(fmaxf(cy - dist[1], 0.f), H);
                float x2 = fminf(fmaxf(cx + dist[2], 0.f), W), y2 = fminf(fmaxf(cy + dist[3], 0.f), H);
                dt_dec_push(out, c, best, x1, y1, x2, y2);
            }
        }
    }
    return DT_OK;
}
