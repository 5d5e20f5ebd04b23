/* fuse.c — fusions on a specialised graph.
 *
 * Every pattern requires the intermediate value to have exactly one consumer
 * and not be a graph output, so the rewrite never changes what a caller can
 * observe.  Constants created here (folded BN weights) are new blobs: the
 * model's shared weights are never modified in place. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/ops/op_util.h"
#include "engine/passes/passes.h"

typedef struct fuse_ctx {
    dt_graph *g;
    int *uses;     /* live consumers per value (+1 if graph output) */
    int *consumer; /* the last consumer node seen per value */
    int changed;   /* a rewrite happened in this sweep */
} fuse_ctx;

/* Recount consumers; called after every rewrite, so it also marks the sweep
 * as having changed something. */
static dt_code count_uses(fuse_ctx *c, dt_status *st)
{
    dt_graph *g = c->g;
    c->changed = 1;
    dt_free(c->uses);
    dt_free(c->consumer);
    c->uses = dt_calloc((size_t)g->n_values + 1, sizeof(int));
    c->consumer = dt_calloc((size_t)g->n_values + 1, sizeof(int));
    if (!c->uses || !c->consumer)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) {
                c->uses[n->in[k]]++;
                c->consumer[n->in[k]] = i;
            }
    }
    for (int i = 0; i < g->n_outputs; i++)
        c->uses[g->outputs[i]] += 1000000; /* never fuse away an output */
    return DT_OK;
}

/* The only consumer of value v, or NULL. */
static dt_node *sole_consumer(fuse_ctx *c, int v)
{
    if (v < 0 || c->uses[v] != 1)
        return NULL;
    return &c->g->nodes[c->consumer[v]];
}

/* Replace every use of value `from` by `to` in live nodes. */
static void replace_uses(dt_graph *g, int from, int to)
{
    for (int i = 0; i < g->n_nodes; i++) {
        dt_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == from)
                n->in[k] = to;
    }
}

/* Node n takes over the output of node m (m is removed): the fused node now
 * writes m's output value, so names of downstream values do not change. */
static void take_output(dt_graph *g, dt_node *n, dt_node *m)
{
    g->values[m->out[0]].producer = -1; /* set again below */
    int old = n->out[0];
    n->out[0] = m->out[0];
    g->values[m->out[0]].producer = (int)(n - g->nodes);
    m->dead = 1;
    (void)old;
}

static int is_spatial_conv(const dt_node *n)
{
    return n->op == DT_OP_Conv;
}

static int layout_nhwc(const dt_node *n)
{
    return strcmp(dt_attr_str(n, "layout", "NCHW"), "NHWC") == 0;
}

/* auto_pad SAME/VALID → explicit pads, so Pad folding can add to them. */
static dt_code explicit_pads(dt_graph *g, int ni, dt_status *st)
{
    dt_node *n = &g->nodes[ni];
    const char *ap = dt_attr_str(n, "auto_pad", "NOTSET");
    if (!strcmp(ap, "NOTSET"))
        return DT_OK;
    dt_value *x = dt_node_in(g, n, 0), *w = dt_node_in(g, n, 1);
    if (!x || !w || x->ndim != 4 || w->ndim != 4)
        return DT_OK;
    int nhwc = layout_nhwc(n);
    int64_t in_h = nhwc ? x->dims[1] : x->dims[2], in_w = nhwc ? x->dims[2] : x->dims[3];
    int64_t k[2] = {w->dims[2], w->dims[3]};
    int cnt;
    const int64_t *s = dt_attr_ints(n, "strides", &cnt);
    int64_t strides[2] = {s && cnt == 2 ? s[0] : 1, s && cnt == 2 ? s[1] : 1};
    const int64_t *d = dt_attr_ints(n, "dilations", &cnt);
    int64_t dil[2] = {d && cnt == 2 ? d[0] : 1, d && cnt == 2 ? d[1] : 1};
    int64_t pads[4] = {0, 0, 0, 0};
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t in[2] = {in_h, in_w};
        for (int a = 0; a < 2; a++) {
            int64_t out = (in[a] + strides[a] - 1) / strides[a];
            int64_t need = (out - 1) * strides[a] + (k[a] - 1) * dil[a] + 1 - in[a];
            if (need < 0)
                need = 0;
            int64_t small = need / 2, big = need - need / 2;
            if (!strcmp(ap, "SAME_UPPER")) {
                pads[a] = small;
                pads[a + 2] = big;
            } else {
                pads[a] = big;
                pads[a + 2] = small;
            }
        }
    }
    dt_code rc = dt_node_set_ints(g, ni, "pads", pads, 4, st);
    if (rc == DT_OK)
        rc = dt_node_set_string(g, ni, "auto_pad", "NOTSET", st);
    return rc;
}

/* A constant-mode Pad's 8 pads and fill value (TF.js / ONNX forms); 0 when
 * the pads are not static, negative, or given with axes. */
static int pad_read(dt_graph *g, const dt_node *p, int64_t pads[8], double *value)
{
    if (p->op != DT_OP_Pad || strcmp(dt_attr_str(p, "mode", "constant"), "constant"))
        return 0;
    dt_value *x = dt_node_in(g, p, 0);
    if (!x || x->ndim != 4)
        return 0;
    *value = 0.0;
    if (p->opset < 11) {
        int np = 0;
        const int64_t *a = dt_attr_ints(p, "pads", &np);
        if (!a || np != 8)
            return 0;
        memcpy(pads, a, 8 * sizeof(int64_t));
        *value = dt_attr_float(p, "value", 0.f);
    } else {
        dt_value *pv = dt_node_in(g, p, 1);
        if (!pv || !pv->buf || dt_shape_numel(pv->ndim, pv->dims) != 8)
            return 0;
        if (dt_node_in(g, p, 3))
            return 0; /* axes form: keep it simple */
        dt_tensor t = dt_value_view(pv);
        for (int i = 0; i < 8; i++)
            pads[i] = dt_tensor_get_i(&t, i);
        dt_value *cv = dt_node_in(g, p, 2);
        if (cv) {
            if (!cv->buf)
                return 0;
            dt_tensor ct = dt_value_view(cv);
            if (dt_tensor_numel(&ct) > 0)
                *value = dt_tensor_get_f(&ct, 0);
        }
    }
    for (int a = 0; a < 8; a++)
        if (pads[a] < 0)
            return 0;
    return 1;
}

/* Add a spatial-only Pad's pads to node n's "pads" and make n read the
 * Pad's input; the Pad dies. */
static dt_code pad_absorb(fuse_ctx *c, int ni, dt_node *n, const int64_t pads[8], int nhwc, dt_status *st)
{
    dt_graph *g = c->g;
    int ha = nhwc ? 1 : 2, wa = nhwc ? 2 : 3;
    int cnt;
    const int64_t *cp = dt_attr_ints(n, "pads", &cnt);
    int64_t np4[4] = {0, 0, 0, 0};
    if (cp && cnt == 4)
        memcpy(np4, cp, sizeof np4);
    np4[0] += pads[ha];
    np4[1] += pads[wa];
    np4[2] += pads[ha + 4];
    np4[3] += pads[wa + 4];
    int ci = (int)(n - g->nodes);
    dt_code rc = dt_node_set_ints(g, ci, "pads", np4, 4, st);
    if (rc != DT_OK)
        return rc;
    n = &g->nodes[ci];
    dt_node *p = &g->nodes[ni];
    n->in[0] = p->in[0];
    p->dead = 1;
    return count_uses(c, st);
}

static int pad_spatial_only(const int64_t pads[8], int nhwc)
{
    int ha = nhwc ? 1 : 2, wa = nhwc ? 2 : 3;
    for (int a = 0; a < 4; a++)
        if (a != ha && a != wa && (pads[a] != 0 || pads[a + 4] != 0))
            return 0;
    return 1;
}

/* Pad (constant 0, spatial only) → Conv pads. */
static dt_code fold_pad(fuse_ctx *c, int ni, dt_status *st)
{
    dt_graph *g = c->g;
    dt_node *p = &g->nodes[ni];
    int64_t pads[8];
    double value;
    if (!pad_read(g, p, pads, &value) || value != 0.0)
        return DT_OK;
    dt_node *conv = sole_consumer(c, p->out[0]);
    if (!conv || !is_spatial_conv(conv) || conv->in[0] != p->out[0])
        return DT_OK;
    if (strcmp(dt_attr_str(conv, "auto_pad", "NOTSET"), "NOTSET"))
        return DT_OK;
    int nhwc = layout_nhwc(conv);
    if (!pad_spatial_only(pads, nhwc))
        return DT_OK;
    return pad_absorb(c, ni, conv, pads, nhwc, st);
}

/* Pad (constant -inf, spatial only) → MaxPool pads: MaxPool's padding never
 * wins a max, exactly like -inf.  Only while every window keeps a real
 * element (pads < kernel), with floor rounding and no Indices output. */
static dt_code fold_pad_maxpool(fuse_ctx *c, int ni, dt_status *st)
{
    dt_graph *g = c->g;
    dt_node *p = &g->nodes[ni];
    int64_t pads[8];
    double value;
    if (!pad_read(g, p, pads, &value) || !(isinf(value) && value < 0))
        return DT_OK;
    dt_node *mp = sole_consumer(c, p->out[0]);
    if (!mp || mp->op != DT_OP_MaxPool || mp->in[0] != p->out[0] || (mp->n_out > 1 && mp->out[1] >= 0))
        return DT_OK;
    const char *ap = dt_attr_str(mp, "auto_pad", "NOTSET");
    int valid = !strcmp(ap, "VALID");
    if ((!valid && strcmp(ap, "NOTSET")) || dt_attr_int(mp, "ceil_mode", 0) != 0)
        return DT_OK;
    int cnt;
    const int64_t *k = dt_attr_ints(mp, "kernel_shape", &cnt);
    if (!k || cnt != 2)
        return DT_OK;
    const int64_t *d = dt_attr_ints(mp, "dilations", &cnt);
    if (d && (cnt != 2 || d[0] != 1 || d[1] != 1))
        return DT_OK;
    int nhwc = layout_nhwc(mp);
    int ha = nhwc ? 1 : 2, wa = nhwc ? 2 : 3;
    const int64_t *cp = dt_attr_ints(mp, "pads", &cnt);
    int64_t old[4] = {0, 0, 0, 0};
    if (cp && cnt == 4 && !valid)
        memcpy(old, cp, sizeof old);
    if (!pad_spatial_only(pads, nhwc) || old[0] + pads[ha] >= k[0] || old[2] + pads[ha + 4] >= k[0] ||
        old[1] + pads[wa] >= k[1] || old[3] + pads[wa + 4] >= k[1])
        return DT_OK;
    if (valid) {
        int mi = (int)(mp - g->nodes);
        dt_code rc = dt_node_set_ints(g, mi, "pads", old, 4, st);
        if (rc == DT_OK)
            rc = dt_node_set_string(g, mi, "auto_pad", "NOTSET", st);
        if (rc != DT_OK)
            return rc;
        mp = &g->nodes[mi];
    }
    return pad_absorb(c, ni, mp, pads, nhwc, st);
}

/* Make room for a bias input on a Conv that has none. */
static dt_code conv_bias_slot(dt_node *conv, dt_status *st)
{
    if (conv->n_in >= 3)
        return DT_OK;
    int *in = dt_realloc(conv->in, 3 * sizeof(int));
    if (!in)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    in[2] = -1;
    if (conv->n_in < 2)
        in[1] = -1;
    conv->in = in;
    conv->n_in = 3;
    return DT_OK;
}

/* BatchNormalization after Conv (NCHW or NHWC, channel = output channel):
 * W' = W * g/sqrt(v+eps), b' = (b - m) * g/sqrt(v+eps) + beta. */
static dt_code fold_bn(fuse_ctx *c, int ni, dt_status *st)
{
    dt_graph *g = c->g;
    dt_node *conv = &g->nodes[ni];
    if (conv->op != DT_OP_Conv || dt_attr_str(conv, "activation", NULL))
        return DT_OK;
    dt_node *bn = sole_consumer(c, conv->out[0]);
    if (!bn || bn->op != DT_OP_BatchNormalization || bn->in[0] != conv->out[0] || bn->n_out != 1)
        return DT_OK;
    if (layout_nhwc(bn) != layout_nhwc(conv))
        return DT_OK;
    dt_value *w = dt_node_in(g, conv, 1), *b = dt_node_in(g, conv, 2);
    dt_value *sc = dt_node_in(g, bn, 1), *bi = dt_node_in(g, bn, 2), *me = dt_node_in(g, bn, 3),
             *va = dt_node_in(g, bn, 4);
    if (!w || !w->buf || w->dtype != DT_F32 || (b && (!b->buf || b->dtype != DT_F32)))
        return DT_OK;
    if (!sc || !bi || !me || !va || !sc->buf || !bi->buf || !me->buf || !va->buf)
        return DT_OK;
    if (sc->dtype != DT_F32 || bi->dtype != DT_F32 || me->dtype != DT_F32 || va->dtype != DT_F32)
        return DT_OK;
    int64_t cout = w->dims[0];
    if (dt_shape_numel(sc->ndim, sc->dims) != cout || dt_shape_numel(bi->ndim, bi->dims) != cout ||
        dt_shape_numel(me->ndim, me->dims) != cout || dt_shape_numel(va->ndim, va->dims) != cout)
        return DT_OK;
    float eps = dt_attr_float(bn, "epsilon", 1e-5f);
    int64_t wn = dt_shape_numel(w->ndim, w->dims);
    int64_t per = wn / cout;
    dt_buf *nw = dt_buf_new((size_t)wn * sizeof(float));
    dt_buf *nb = dt_buf_new((size_t)cout * sizeof(float));
    if (!nw || !nb) {
        dt_buf_unref(nw);
        dt_buf_unref(nb);
        return dt_fail(st, DT_ENOMEM, "out of memory fusing BatchNormalization");
    }
    const float *W = w->buf->data, *B = b ? b->buf->data : NULL;
    const float *S = sc->buf->data, *Bi = bi->buf->data, *M = me->buf->data, *V = va->buf->data;
    float *NW = nw->data, *NB = nb->data;
    for (int64_t o = 0; o < cout; o++) {
        float f = S[o] / sqrtf(V[o] + eps);
        for (int64_t i = 0; i < per; i++)
            NW[o * per + i] = W[o * per + i] * f;
        NB[o] = ((B ? B[o] : 0.f) - M[o]) * f + Bi[o];
    }
    char name[64];
    snprintf(name, sizeof name, "_dt_bnw%d", g->n_values);
    int wid = dt_graph_add_const_buf(g, name, DT_F32, w->ndim, w->dims, nw, st);
    if (wid < 0) {
        dt_buf_unref(nb);
        return st->code;
    }
    snprintf(name, sizeof name, "_dt_bnb%d", g->n_values);
    int64_t bd[1] = {cout};
    int bid = dt_graph_add_const_buf(g, name, DT_F32, 1, bd, nb, st);
    if (bid < 0)
        return st->code;
    conv = &g->nodes[ni];
    bn = &g->nodes[c->consumer[conv->out[0]]];
    if (conv_bias_slot(conv, st) != DT_OK)
        return st->code;
    conv->in[1] = wid;
    conv->in[2] = bid;
    take_output(g, conv, bn);
    return count_uses(c, st);
}

/* A constant Add of a per-output-channel vector after Conv → bias. */
static dt_code fold_bias_add(fuse_ctx *c, int ni, dt_status *st)
{
    dt_graph *g = c->g;
    dt_node *conv = &g->nodes[ni];
    if (conv->op != DT_OP_Conv || dt_attr_str(conv, "activation", NULL))
        return DT_OK;
    dt_node *add = sole_consumer(c, conv->out[0]);
    if (!add || add->op != DT_OP_Add || add->n_in != 2)
        return DT_OK;
    int other = add->in[0] == conv->out[0] ? add->in[1] : add->in[0];
    if (other < 0 || other == conv->out[0])
        return DT_OK;
    dt_value *bv = &g->values[other];
    dt_value *w = dt_node_in(g, conv, 1);
    dt_value *y = &g->values[conv->out[0]];
    if (!bv->buf || bv->dtype != DT_F32 || !w || y->ndim != 4)
        return DT_OK;
    int64_t cout = w->dims[0];
    if (dt_shape_numel(bv->ndim, bv->dims) != cout)
        return DT_OK;
    /* the constant must broadcast along the channel axis only */
    int nhwc = layout_nhwc(conv);
    int caxis = nhwc ? 3 : 1;
    for (int d = 0; d < bv->ndim; d++) {
        int ax = 4 - bv->ndim + d;
        if (bv->dims[d] != 1 && ax != caxis)
            return DT_OK;
    }
    if (bv->ndim > 4)
        return DT_OK;
    dt_buf *nb = dt_buf_new((size_t)cout * sizeof(float));
    if (!nb)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    dt_value *ob = dt_node_in(g, conv, 2);
    const float *A = bv->buf->data;
    for (int64_t o = 0; o < cout; o++)
        ((float *)nb->data)[o] = A[o] + (ob && ob->buf ? ((const float *)ob->buf->data)[o] : 0.f);
    if (ob && !ob->buf) {
        dt_buf_unref(nb);
        return DT_OK;
    }
    char name[64];
    snprintf(name, sizeof name, "_dt_bias%d", g->n_values);
    int64_t bd[1] = {cout};
    int bid = dt_graph_add_const_buf(g, name, DT_F32, 1, bd, nb, st);
    if (bid < 0)
        return st->code;
    conv = &g->nodes[ni];
    add = &g->nodes[c->consumer[conv->out[0]]];
    if (conv_bias_slot(conv, st) != DT_OK)
        return st->code;
    conv->in[2] = bid;
    take_output(g, conv, add);
    return count_uses(c, st);
}

/* Read a scalar constant input, or return 0. */
static int const_scalar(dt_graph *g, const dt_node *n, int i, float *out)
{
    dt_value *v = dt_node_in(g, n, i);
    if (!v || !v->buf || dt_shape_numel(v->ndim, v->dims) != 1)
        return 0;
    dt_tensor t = dt_value_view(v);
    *out = (float)dt_tensor_get_f(&t, 0);
    return 1;
}


static int perm_is(const dt_node *t, const int64_t *want)
{
    int cnt;
    const int64_t *p = dt_attr_ints(t, "perm", &cnt);
    if (!p || cnt != 4)
        return 0;
    for (int i = 0; i < 4; i++)
        if (p[i] != want[i])
            return 0;
    return 1;
}

/* Transpose(NCHW→NHWC) → Conv/Pool(NHWC) → Transpose(NHWC→NCHW), as
 * onnx-tf exports every layer, is the same op in NCHW on the original
 * tensor; likewise a Resize over the NHWC tensor's axes (1, 2).  Removing both transposes lets Pad folding and activation fusion
 * see through, and saves two full copies per layer. */
static dt_code fold_transpose_sandwich(fuse_ctx *c, int ni, dt_status *st)
{
    static const int64_t to_nhwc[4] = {0, 2, 3, 1}, to_nchw[4] = {0, 3, 1, 2};
    dt_graph *g = c->g;
    dt_node *n = &g->nodes[ni];
    int cnt;
    const int64_t *ax = n->op == DT_OP_Resize ? dt_attr_ints(n, "axes", &cnt) : NULL;
    /* a Resize over axes (1, 2) of the NHWC tensor is one over (2, 3) of the NCHW one */
    int resize = ax && cnt == 2 && ax[0] == 1 && ax[1] == 2;
    if (n->op != DT_OP_Conv && n->op != DT_OP_MaxPool && n->op != DT_OP_AveragePool && !resize)
        return DT_OK;
    if ((!resize && !layout_nhwc(n)) || n->in[0] < 0 || n->n_out != 1)
        return DT_OK;
    int tp = g->values[n->in[0]].producer;
    if (tp < 0 || c->uses[n->in[0]] != 1)
        return DT_OK;
    dt_node *t1 = &g->nodes[tp];
    if (t1->op != DT_OP_Transpose || !perm_is(t1, to_nhwc))
        return DT_OK;
    dt_node *t2 = sole_consumer(c, n->out[0]);
    if (!t2 || t2->op != DT_OP_Transpose || !perm_is(t2, to_nchw))
        return DT_OK;
    static const int64_t hw_nchw[2] = {2, 3};
    dt_code rc = resize ? dt_node_set_ints(g, ni, "axes", hw_nchw, 2, st) : dt_node_set_string(g, ni, "layout", "NCHW", st);
    if (rc != DT_OK)
        return rc;
    n = &g->nodes[ni];
    t1 = &g->nodes[tp];
    t2 = &g->nodes[c->consumer[n->out[0]]];
    n->in[0] = t1->in[0];
    t1->dead = 1;
    /* the fused node now produces t2's (NCHW) output */
    take_output(g, n, t2);
    return count_uses(c, st);
}

static int near(float a, float b) { return fabsf(a - b) <= 1e-5f * (1.f + fabsf(b)); }

/* Scalar constant operand of a binary node whose other operand is v;
 * returns 1 and the constant, or 0. */
static int binary_with_const(dt_graph *g, const dt_node *n, int v, float *k)
{
    if (n->n_in != 2)
        return 0;
    int other = n->in[0] == v ? 1 : (n->in[1] == v ? 0 : -1);
    if (other < 0)
        return 0;
    return const_scalar(g, n, other, k);
}

static int clip_bounds(dt_graph *g, const dt_node *m, float *lo, float *hi)
{
    if (m->op == DT_OP_Relu) {
        *lo = 0.f;
        *hi = INFINITY;
        return 1;
    }
    if (m->op != DT_OP_Clip)
        return 0;
    *lo = dt_attr_float(m, "min", -INFINITY);
    *hi = dt_attr_float(m, "max", INFINITY);
    if (dt_node_in(g, m, 1) && !const_scalar(g, m, 1, lo))
        return 0;
    if (dt_node_in(g, m, 2) && !const_scalar(g, m, 2, hi))
        return 0;
    return 1;
}

/* relu6(y + 3) / 6 in its exported spellings: y → Add(3) → Clip(0,6) →
 * Mul(1/6) | Div(6).  Returns the last node of the chain or NULL. */
static dt_node *match_hsig_chain(fuse_ctx *c, int y)
{
    dt_graph *g = c->g;
    float k, lo, hi;
    dt_node *add = sole_consumer(c, y);
    if (!add || add->op != DT_OP_Add || !binary_with_const(g, add, y, &k) || !near(k, 3.f))
        return NULL;
    dt_node *clip = sole_consumer(c, add->out[0]);
    if (!clip || clip->in[0] != add->out[0] || !clip_bounds(g, clip, &lo, &hi) || !near(lo, 0.f) || !near(hi, 6.f))
        return NULL;
    dt_node *sc = sole_consumer(c, clip->out[0]);
    if (!sc)
        return NULL;
    if (sc->op == DT_OP_Mul && binary_with_const(g, sc, clip->out[0], &k) && near(k, 1.f / 6.f))
        return sc;
    if (sc->op == DT_OP_Div && sc->in[0] == clip->out[0] && const_scalar(g, sc, 1, &k) && near(k, 6.f))
        return sc;
    return NULL;
}

/* HardSigmoid / HardSwish spelled out with Add, Clip, Mul, Div after a Conv:
 *   hsig:  y → Add(3) → Clip(0,6) → Mul(1/6)
 *   hswish A (TF):  Mul(Mul(y, 1/6), Clip(Add(y, 3), 0, 6))
 *   hswish B (torch): Div(Mul(y, Clip(Add(y, 3), 0, 6)), 6) or Mul(y, hsig(y)) */
static dt_code fold_hard_act(fuse_ctx *c, int ni, dt_status *st)
{
    dt_graph *g = c->g;
    dt_node *n = &g->nodes[ni];
    if ((n->op != DT_OP_Conv && n->op != DT_OP_Gemm) || dt_attr_str(n, "activation", NULL))
        return DT_OK;
    int y = n->out[0];
    dt_node *last = NULL;
    dt_act kind = DT_ACT_NONE;
    dt_node *dead[4] = {0};
    int nd = 0;
    float k, kalpha = 0.f, kbeta = 0.f;
    if (c->uses[y] == 1) {
        last = match_hsig_chain(c, y);
        if (!last)
            return DT_OK;
        kind = DT_ACT_HARDSIGMOID;
        dt_node *add = sole_consumer(c, y);
        dead[nd++] = add;
        dead[nd++] = sole_consumer(c, add->out[0]);
    } else if (c->uses[y] == 2) {
        dt_node *users[2];
        int nu = 0;
        for (int i = 0; i < g->n_nodes && nu < 2; i++) {
            dt_node *u = &g->nodes[i];
            if (u->dead)
                continue;
            for (int j = 0; j < u->n_in; j++)
                if (u->in[j] == y) {
                    users[nu++] = u;
                    break;
                }
        }
        if (nu != 2)
            return DT_OK;
        dt_node *add = users[0]->op == DT_OP_Add ? users[0] : users[1];
        dt_node *other = add == users[0] ? users[1] : users[0];
        float ka;
        if (add->op != DT_OP_Add || !binary_with_const(g, add, y, &ka) || !isfinite(ka))
            return DT_OK;
        dt_node *clip = sole_consumer(c, add->out[0]);
        float lo, hi;
        if (!clip || clip->in[0] != add->out[0] || !clip_bounds(g, clip, &lo, &hi))
            return DT_OK;
        int std3 = near(ka, 3.f) && near(lo, 0.f) && near(hi, 6.f);
        int r = clip->out[0];
        if (other->op == DT_OP_Mul && binary_with_const(g, other, y, &k) && isfinite(k) &&
            ((std3 && near(k, 1.f / 6.f)) || (lo == 0.f && hi == 6.f))) {
            /* A: Mul(Mul(y,1/6), relu6); other constants (TF.js's fp16-rounded
             * 1/6): HardSwishK, the same three ops in the same order */
            dt_node *fin = sole_consumer(c, other->out[0]);
            if (!fin || fin->op != DT_OP_Mul || sole_consumer(c, r) != fin || fin->n_in != 2)
                return DT_OK;
            if (!((fin->in[0] == other->out[0] && fin->in[1] == r) || (fin->in[1] == other->out[0] && fin->in[0] == r)))
                return DT_OK;
            dead[nd++] = add;
            dead[nd++] = clip;
            dead[nd++] = other;
            last = fin;
            if (!(std3 && near(k, 1.f / 6.f))) {
                kind = DT_ACT_HARDSWISH_K;
                kalpha = k;
                kbeta = ka;
            }
        } else if (!std3) {
            return DT_OK;
        } else if (other->op == DT_OP_Mul && other->n_in == 2 &&
                   ((other->in[0] == y && other->in[1] == r) || (other->in[1] == y && other->in[0] == r)) &&
                   sole_consumer(c, r) == other) {
            /* B: Div(Mul(y, relu6), 6) or Mul(Mul(y, relu6), 1/6) */
            dt_node *fin = sole_consumer(c, other->out[0]);
            if (!fin)
                return DT_OK;
            int ok = (fin->op == DT_OP_Div && fin->in[0] == other->out[0] && const_scalar(g, fin, 1, &k) &&
                      near(k, 6.f)) ||
                     (fin->op == DT_OP_Mul && binary_with_const(g, fin, other->out[0], &k) && near(k, 1.f / 6.f));
            if (!ok)
                return DT_OK;
            dead[nd++] = add;
            dead[nd++] = clip;
            dead[nd++] = other;
            last = fin;
        } else {
            return DT_OK;
        }
        if (kind == DT_ACT_NONE)
            kind = DT_ACT_HARDSWISH;
    } else {
        return DT_OK;
    }
    float alpha = kind == DT_ACT_HARDSIGMOID ? 1.f / 6.f : kind == DT_ACT_HARDSWISH_K ? kalpha : 0.f;
    float beta = kind == DT_ACT_HARDSIGMOID ? 0.5f : kind == DT_ACT_HARDSWISH_K ? kbeta : 0.f;
    int li = (int)(last - g->nodes);
    int didx[4];
    for (int i = 0; i < nd; i++)
        didx[i] = (int)(dead[i] - g->nodes);
    dt_code rc = dt_node_set_string(g, ni, "activation", dt_act_name(kind), st);
    if (rc == DT_OK)
        rc = dt_node_set_float(g, ni, "act_alpha", alpha, st);
    if (rc == DT_OK)
        rc = dt_node_set_float(g, ni, "act_beta", beta, st);
    if (rc != DT_OK)
        return rc;
    for (int i = 0; i < nd; i++)
        g->nodes[didx[i]].dead = 1;
    take_output(g, &g->nodes[ni], &g->nodes[li]);
    return count_uses(c, st);
}

/* Activation after Conv/Gemm → fused attrs. */
static dt_code fold_act(fuse_ctx *c, int ni, dt_status *st)
{
    dt_graph *g = c->g;
    dt_node *n = &g->nodes[ni];
    if (n->op != DT_OP_Conv && n->op != DT_OP_Gemm)
        return DT_OK;
    if (dt_attr_str(n, "activation", NULL))
        return DT_OK;
    int y = n->out[0];
    dt_act kind = DT_ACT_NONE;
    float alpha = 0.f, beta = 0.f;
    dt_node *m = NULL;
    if (c->uses[y] == 2) {
        /* SiLU: Mul(y, Sigmoid(y)) */
        dt_node *sig = NULL, *mul = NULL;
        for (int i = 0; i < g->n_nodes; i++) {
            dt_node *k = &g->nodes[i];
            if (k->dead)
                continue;
            for (int j = 0; j < k->n_in; j++)
                if (k->in[j] == y) {
                    if (k->op == DT_OP_Sigmoid)
                        sig = k;
                    else if (k->op == DT_OP_Mul)
                        mul = k;
                }
        }
        if (!sig || !mul || mul->n_in != 2 || c->uses[sig->out[0]] != 1)
            return DT_OK;
        if (!((mul->in[0] == y && mul->in[1] == sig->out[0]) || (mul->in[1] == y && mul->in[0] == sig->out[0])))
            return DT_OK;
        sig->dead = 1;
        kind = DT_ACT_SILU;
        m = mul;
    } else {
        m = sole_consumer(c, y);
        if (!m || m->in[0] != y)
            return DT_OK;
        switch (m->op) {
        case DT_OP_Relu: kind = DT_ACT_RELU; break;
        case DT_OP_Sigmoid: kind = DT_ACT_SIGMOID; break;
        case DT_OP_Tanh: kind = DT_ACT_TANH; break;
        case DT_OP_HardSwish: kind = DT_ACT_HARDSWISH; break;
        case DT_OP_Mish: kind = DT_ACT_MISH; break;
        case DT_OP_LeakyRelu:
            kind = DT_ACT_LEAKYRELU;
            alpha = dt_attr_float(m, "alpha", 0.01f);
            break;
        case DT_OP_HardSigmoid:
            kind = DT_ACT_HARDSIGMOID;
            alpha = dt_attr_float(m, "alpha", 0.2f);
            beta = dt_attr_float(m, "beta", 0.5f);
            break;
        case DT_OP_Clip:
            kind = DT_ACT_CLIP;
            if (m->opset < 11) {
                alpha = dt_attr_float(m, "min", -INFINITY);
                beta = dt_attr_float(m, "max", INFINITY);
            } else {
                alpha = -INFINITY;
                beta = INFINITY;
                if (dt_node_in(g, m, 1) && !const_scalar(g, m, 1, &alpha))
                    return DT_OK;
                if (dt_node_in(g, m, 2) && !const_scalar(g, m, 2, &beta))
                    return DT_OK;
                /* attr form may also appear on TF.js-translated nodes */
                if (!dt_node_in(g, m, 1))
                    alpha = dt_attr_float(m, "min", alpha);
                if (!dt_node_in(g, m, 2))
                    beta = dt_attr_float(m, "max", beta);
            }
            break;
        default: return DT_OK;
        }
    }
    dt_code rc = dt_node_set_string(g, ni, "activation", dt_act_name(kind), st);
    if (rc == DT_OK)
        rc = dt_node_set_float(g, ni, "act_alpha", alpha, st);
    if (rc == DT_OK)
        rc = dt_node_set_float(g, ni, "act_beta", beta, st);
    if (rc != DT_OK)
        return rc;
    take_output(g, &g->nodes[ni], m);
    return count_uses(c, st);
}

/* Identity / Dropout: consumers read the input directly; an Identity onto a
 * graph output is folded into its input's producer instead. */
static dt_code drop_identity(fuse_ctx *c, int ni, dt_status *st)
{
    dt_graph *g = c->g;
    dt_node *n = &g->nodes[ni];
    if (n->op != DT_OP_Identity && n->op != DT_OP_Dropout)
        return DT_OK;
    if (n->n_out > 1 && c->uses[n->out[1]] > 0)
        return DT_OK;
    int y = n->out[0], x = n->in[0];
    if (x < 0)
        return DT_OK;
    if (g->values[y].is_output) {
        /* a graph output: the producer of x writes y instead (no copy), when
         * x is an ordinary intermediate of a live node */
        dt_value *xv = &g->values[x];
        int pi = xv->producer;
        if (n->op != DT_OP_Identity || pi < 0 || xv->is_output || xv->is_input || xv->buf ||
            g->nodes[pi].dead)
            return DT_OK;
        dt_node *p = &g->nodes[pi];
        int k = 0;
        while (k < p->n_out && p->out[k] != x)
            k++;
        if (k == p->n_out)
            return DT_OK;
        n->dead = 1;
        replace_uses(g, x, y);
        p->out[k] = y;
        g->values[y].producer = pi;
        xv->producer = -1;
        return count_uses(c, st);
    }
    replace_uses(g, y, x);
    n->dead = 1;
    return count_uses(c, st);
}

static dt_code explicit_pads_p(fuse_ctx *c, int ni, dt_status *st)
{
    return c->g->nodes[ni].op == DT_OP_Conv ? explicit_pads(c->g, ni, st) : DT_OK;
}

dt_code dt_pass_fuse(dt_graph *g, dt_status *st)
{
    /* Order matters: bias and BN first (they sit between a conv and its
     * transposes), then transposes, then Pad (now adjacent to the conv),
     * then activations. */
    typedef dt_code (*pass_fn)(fuse_ctx *, int, dt_status *);
    static const pass_fn passes[] = {drop_identity, explicit_pads_p, fold_bn, fold_bias_add,
                                     fold_transpose_sandwich, fold_pad, fold_pad_maxpool, fold_hard_act,
                                     fold_act};
    fuse_ctx c = {g, NULL, NULL, 0};
    dt_code rc = count_uses(&c, st);
    /* Sweep each pattern until it stops matching: a conv can absorb a
     * chain (bias Add, another Add, then Clip). */
    for (size_t p = 0; rc == DT_OK && p < sizeof passes / sizeof passes[0]; p++) {
        int sweeps = 0;
        do {
            c.changed = 0;
            for (int i = 0; rc == DT_OK && i < g->n_nodes; i++)
                if (!g->nodes[i].dead)
                    rc = passes[p](&c, i, st);
        } while (rc == DT_OK && c.changed && ++sweeps < 8);
    }
    dt_free(c.uses);
    dt_free(c.consumer);
    if (rc != DT_OK)
        return rc;
    return dt_pass_dce(g, st);
}
