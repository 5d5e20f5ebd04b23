/* Unit tests of the tensor manipulation ops (ops/tensor.c): shape inference
 * and reference kernels against naive index arithmetic written here, with
 * negative axes, clamped slices, every opset form and the error paths. */
#include "ops_harness.h"
static void unravel(int64_t e, int nd, const int64_t *d, int64_t *idx)
{
    for (int i = nd - 1; i >= 0; i--) {
        idx[i] = e % d[i];
        e /= d[i];
    }
}

static int64_t ravel(const int64_t *idx, int nd, const int64_t *d)
{
    int64_t off = 0;
    for (int i = 0; i < nd; i++)
        off = off * d[i] + idx[i];
    return off;
}

static double *seq(int64_t n, double start)
{
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        v[i] = start + (double)i;
    return v;
}

static int i64c(int n, const int64_t *v) /* int64 1-D constant */
{
    dt_status st;
    return dt_graph_add_const(G, NULL, DT_I64, 1, (int64_t[]){n}, v, &st);
}

/* ---- Concat ------------------------------------------------------------- */

static void test_concat(void)
{
    struct { int nd; int64_t a[4], b[4], c[4]; int axis; } cases[] = {
        {2, {2, 3}, {4, 3}, {1, 3}, 0},
        {2, {2, 3}, {2, 1}, {2, 5}, 1},
        {3, {2, 3, 4}, {2, 3, 1}, {2, 3, 2}, -1},
        {3, {2, 3, 4}, {2, 0, 4}, {2, 2, 4}, -2},  /* a zero-size input */
        {1, {5}, {0}, {3}, 0},
        {4, {1, 2, 2, 2}, {1, 3, 2, 2}, {1, 1, 2, 2}, 1},
    };
    dt_dtype types[] = {DT_F32, DT_I64, DT_I32, DT_BOOL, DT_U8};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int t = 0; t < 5; t++) {
            gnew();
            const int64_t *sh[3] = {cases[c].a, cases[c].b, cases[c].c};
            double *v[3];
            int in[3];
            for (int k = 0; k < 3; k++) {
                int64_t n = dt_shape_numel(cases[c].nd, sh[k]);
                v[k] = seq(n, 1000.0 * k);
                for (int64_t i = 0; i < n; i++)
                    v[k][i] = types[t] == DT_BOOL ? (double)((int64_t)v[k][i] % 3 == 0)
                              : types[t] == DT_U8 ? (double)((int64_t)v[k][i] % 251) : v[k][i];
                in[k] = cst(types[t], cases[c].nd, sh[k], v[k]);
            }
            int y = outv();
            int nd = mk(DT_OP_Concat, "cat", 3, in, 1, &y);
            dt_node_set_int(G, nd, "axis", cases[c].axis, NULL);
            dt_status st;
            CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
            int ax = cases[c].axis < 0 ? cases[c].axis + cases[c].nd : cases[c].axis;
            int64_t od[4];
            memcpy(od, cases[c].a, sizeof od);
            od[ax] = cases[c].a[ax] + cases[c].b[ax] + cases[c].c[ax];
            CHECK(same_shape(0, cases[c].nd, od) && g_out[0].dtype == types[t]);
            int64_t total = dt_shape_numel(cases[c].nd, od), idx[4];
            for (int64_t e = 0; e < total; e++) {
                unravel(e, cases[c].nd, od, idx);
                int k = 0;
                while (idx[ax] >= sh[k][ax]) {
                    idx[ax] -= sh[k][ax];
                    k++;
                }
                CHECK(outf(0, e) == v[k][ravel(idx, cases[c].nd, sh[k])]);
            }
            for (int k = 0; k < 3; k++)
                free(v[k]);
            gfree();
        }
    }
    /* mismatched dims / rank / dtype / axis */
    dt_status st;
    double z[64] = {0};
    struct { int nb; int64_t b[3]; dt_dtype tb; int axis; dt_code want; } bad[] = {
        {2, {2, 4}, DT_F32, 0, DT_ESHAPE},
        {3, {2, 3, 1}, DT_F32, 0, DT_ESHAPE},
        {2, {2, 3}, DT_I64, 0, DT_EINVAL},
        {2, {2, 3}, DT_F32, 2, DT_EINVAL},
        {2, {2, 3}, DT_F32, -3, DT_EINVAL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gnew();
        int in[2] = {cst(DT_F32, 2, D(3, 3), z), cst(bad[i].tb, bad[i].nb, bad[i].b, z)};
        int y = outv();
        int nd = mk(DT_OP_Concat, "badcat", 2, in, 1, &y);
        dt_node_set_int(G, nd, "axis", bad[i].axis, NULL);
        CHECKF(exec(nd, &st) == bad[i].want, "case %zu: %s", i, st.msg);
        CHECK(strstr(st.msg, "badcat") != NULL);
        gfree();
    }
    /* missing axis at opset >= 4 */
    gnew();
    int in[2] = {cst(DT_F32, 1, D(3), z), cst(DT_F32, 1, D(3), z)};
    int y = outv();
    int nd = mk(DT_OP_Concat, "noaxis", 2, in, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
}

/* ---- Split -------------------------------------------------------------- */

static void check_split(int nd, const int64_t *xd, int axis, int nout, const int64_t *sizes, const double *v)
{
    int64_t off = 0;
    for (int k = 0; k < nout; k++) {
        int64_t od[8];
        memcpy(od, xd, sizeof(int64_t) * (size_t)nd);
        od[axis] = sizes[k];
        CHECKF(same_shape(k, nd, od), "split output %d shape", k);
        int64_t total = dt_shape_numel(nd, od), idx[8];
        for (int64_t e = 0; e < total; e++) {
            unravel(e, nd, od, idx);
            idx[axis] += off;
            CHECK(outf(k, e) == v[ravel(idx, nd, xd)]);
        }
        off += sizes[k];
    }
}

static void test_split(void)
{
    dt_status st;
    double *v = seq(2 * 6 * 3, 0);
    /* equal split (any opset), axis 1 */
    for (int opset = 11; opset <= 18; opset += 7) {
        gnew();
        int x = cst(DT_F32, 3, D(2, 6, 3), v);
        int outs[3] = {outv(), outv(), outv()};
        int nd = mk(DT_OP_Split, "split", 1, &x, 3, outs);
        G->nodes[nd].opset = opset;
        dt_node_set_int(G, nd, "axis", -2, NULL);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        check_split(3, D(2, 6, 3), 1, 3, D(2, 2, 2), v);
        gfree();
    }
    /* opset 11: attribute sizes */
    gnew();
    int x = cst(DT_F32, 3, D(2, 6, 3), v);
    int outs[3] = {outv(), outv(), outv()};
    int nd = mk(DT_OP_Split, "split", 1, &x, 3, outs);
    G->nodes[nd].opset = 11;
    dt_node_set_int(G, nd, "axis", 1, NULL);
    dt_node_set_ints(G, nd, "split", D(1, 0, 5), 3, NULL);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    check_split(3, D(2, 6, 3), 1, 3, D(1, 0, 5), v);
    gfree();
    /* opset 13: input sizes, int32 too */
    for (int t = 0; t < 2; t++) {
        gnew();
        double sz[2] = {2, 1};
        int in[2] = {cst(DT_I64, 3, D(2, 6, 3), v), cst(t ? DT_I32 : DT_I64, 1, D(2), sz)};
        int o2[2] = {outv(), outv()};
        nd = mk(DT_OP_Split, "split", 2, in, 2, o2);
        G->nodes[nd].opset = 13;
        dt_node_set_int(G, nd, "axis", 2, NULL);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        check_split(3, D(2, 6, 3), 2, 2, D(2, 1), v);
        CHECK(g_out[0].dtype == DT_I64);
        gfree();
    }
    /* opset 18: num_outputs with an uneven last chunk (7 -> 3, 3, 1) */
    gnew();
    double *w = seq(7, 10);
    x = cst(DT_F32, 1, D(7), w);
    int o3[3] = {outv(), outv(), outv()};
    nd = mk(DT_OP_Split, "split", 1, &x, 3, o3);
    G->nodes[nd].opset = 18;
    dt_node_set_int(G, nd, "num_outputs", 3, NULL);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    check_split(1, D(7), 0, 3, D(3, 3, 1), w);
    gfree();
    /* errors: uneven equal split, wrong sum, non-constant sizes, axis out of range */
    gnew();
    x = cst(DT_F32, 1, D(7), w);
    int o4[2] = {outv(), outv()};
    nd = mk(DT_OP_Split, "sp_uneven", 1, &x, 2, o4);
    CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "sp_uneven"));
    gfree();
    gnew();
    double bad[2] = {3, 3};
    int in[2] = {cst(DT_F32, 1, D(7), w), cst(DT_I64, 1, D(2), bad)};
    int o5[2] = {outv(), outv()};
    nd = mk(DT_OP_Split, "sp_sum", 2, in, 2, o5);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    gfree();
    gnew();
    int in2[2] = {cst(DT_F32, 1, D(7), w), var(DT_I64, 1, D(2), bad)};
    int o6[2] = {outv(), outv()};
    nd = mk(DT_OP_Split, "sp_var", 2, in2, 2, o6);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED && strstr(st.msg, "sp_var"));
    gfree();
    gnew();
    x = cst(DT_F32, 1, D(7), w);
    int o7[1] = {outv()};
    nd = mk(DT_OP_Split, "sp_axis", 1, &x, 1, o7);
    dt_node_set_int(G, nd, "axis", 1, NULL);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
    free(w);
    free(v);
}

/* ---- Slice -------------------------------------------------------------- */

/* Reference: the elements a Python-style loop visits (ONNX clamping is
 * Python's slice.indices). */
static int64_t ref_slice_idx(int64_t d, int64_t s, int64_t e, int64_t step, int64_t *out)
{
    int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? d : d - 1;
    if (s < 0)
        s = s < -d ? lo : s + d;
    else if (s > hi)
        s = hi;
    if (s < lo)
        s = lo;
    if (e < 0)
        e = e < -d ? lo : e + d;
    else if (e > hi)
        e = hi;
    if (e < lo)
        e = lo;
    int64_t n = 0;
    for (int64_t i = s; step > 0 ? i < e : i > e;) {
        out[n++] = i;
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step))
            break;
        i += step;
    }
    return n;
}

typedef struct slice_case {
    int nd;
    int64_t dims[4];
    int cnt;
    int64_t starts[4], ends[4], axes[4], steps[4];
    int has_axes, has_steps;
} slice_case;

static void run_slice(const slice_case *c, int opset, dt_dtype idx_t, dt_dtype dt)
{
    gnew();
    int64_t n = dt_shape_numel(c->nd, c->dims);
    double *v = seq(n, 1);
    int in[5] = {cst(dt, c->nd, c->dims, v), -1, -1, -1, -1};
    int nin = 1;
    if (opset >= 10) {
        double s[4], e[4], a[4], p[4];
        for (int i = 0; i < c->cnt; i++) {
            s[i] = (double)c->starts[i];
            e[i] = (double)c->ends[i];
            a[i] = (double)c->axes[i];
            p[i] = (double)c->steps[i];
        }
        /* INT64 extremes do not survive a trip through double: build directly */
        dt_status st;
        if (idx_t == DT_I64) {
            in[1] = dt_graph_add_const(G, NULL, DT_I64, 1, (int64_t[]){c->cnt}, c->starts, &st);
            in[2] = dt_graph_add_const(G, NULL, DT_I64, 1, (int64_t[]){c->cnt}, c->ends, &st);
            if (c->has_axes)
                in[3] = dt_graph_add_const(G, NULL, DT_I64, 1, (int64_t[]){c->cnt}, c->axes, &st);
            if (c->has_steps)
                in[4] = dt_graph_add_const(G, NULL, DT_I64, 1, (int64_t[]){c->cnt}, c->steps, &st);
        } else {
            for (int i = 0; i < c->cnt; i++) { /* clamp to int32 like an int32 model would */
                s[i] = s[i] > INT32_MAX ? INT32_MAX : s[i] < INT32_MIN ? INT32_MIN : s[i];
                e[i] = e[i] > INT32_MAX ? INT32_MAX : e[i] < INT32_MIN ? INT32_MIN : e[i];
                p[i] = p[i] > INT32_MAX ? INT32_MAX : p[i] < INT32_MIN ? INT32_MIN : p[i];
            }
            in[1] = cst(DT_I32, 1, (int64_t[]){c->cnt}, s);
            in[2] = cst(DT_I32, 1, (int64_t[]){c->cnt}, e);
            if (c->has_axes)
                in[3] = cst(DT_I32, 1, (int64_t[]){c->cnt}, a);
            if (c->has_steps)
                in[4] = cst(DT_I32, 1, (int64_t[]){c->cnt}, p);
        }
        nin = c->has_steps ? 5 : c->has_axes ? 4 : 3;
    }
    int y = outv();
    int nd = mk(DT_OP_Slice, "slice", nin, in, 1, &y);
    G->nodes[nd].opset = opset;
    if (opset < 10) {
        dt_node_set_ints(G, nd, "starts", c->starts, c->cnt, NULL);
        dt_node_set_ints(G, nd, "ends", c->ends, c->cnt, NULL);
        if (c->has_axes)
            dt_node_set_ints(G, nd, "axes", c->axes, c->cnt, NULL);
    }
    dt_status st;
    dt_code rc = exec_pool(nd, g_pool, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc) {
        free(v);
        gfree();
        return;
    }
    /* expected index lists per dim */
    static int64_t lists[4][4096];
    int64_t cnts[4];
    for (int i = 0; i < c->nd; i++) {
        cnts[i] = c->dims[i];
        for (int64_t j = 0; j < c->dims[i]; j++)
            lists[i][j] = j;
    }
    for (int j = 0; j < c->cnt; j++) {
        int ax = (int)(c->has_axes ? (c->axes[j] < 0 ? c->axes[j] + c->nd : c->axes[j]) : j);
        int64_t s = c->starts[j], e = c->ends[j], p = c->has_steps ? c->steps[j] : 1;
        if (idx_t == DT_I32) {
            s = s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : s;
            e = e > INT32_MAX ? INT32_MAX : e < INT32_MIN ? INT32_MIN : e;
            p = p > INT32_MAX ? INT32_MAX : p < INT32_MIN ? INT32_MIN : p;
        }
        cnts[ax] = ref_slice_idx(c->dims[ax], s, e, p, lists[ax]);
    }
    CHECKF(same_shape(0, c->nd, cnts), "slice shape (opset %d)", opset);
    int64_t total = dt_shape_numel(c->nd, cnts), idx[4], src[4];
    for (int64_t e = 0; e < total; e++) {
        unravel(e, c->nd, cnts, idx);
        for (int i = 0; i < c->nd; i++)
            src[i] = lists[i][idx[i]];
        double want = v[ravel(src, c->nd, c->dims)];
        if (dt == DT_U8)
            want = (uint8_t)want;
        if (outf(0, e) != want) {
            CHECKF(0, "slice elem %lld: %g want %g", (long long)e, outf(0, e), want);
            break;
        }
    }
    free(v);
    gfree();
}

static void test_slice(void)
{
    const int64_t MX = INT64_MAX, MN = INT64_MIN;
    slice_case cases[] = {
        {2, {5, 7}, 2, {1, 2}, {4, 6}, {0, 1}, {1, 1}, 0, 0},
        {2, {5, 7}, 1, {-3}, {-1}, {1}, {1}, 1, 0},
        {2, {5, 7}, 1, {0}, {MX}, {-1}, {2}, 1, 1},
        {2, {5, 7}, 1, {MX}, {MN}, {1}, {-1}, 1, 1},       /* full reverse */
        {2, {5, 7}, 1, {-1}, {MN}, {0}, {-2}, 1, 1},
        {2, {5, 7}, 2, {MN, 100}, {MX, -100}, {0, 1}, {1, -3}, 1, 1},
        {3, {3, 4, 5}, 3, {0, 1, 4}, {3, 4, 0}, {0, 1, 2}, {2, 2, -1}, 1, 1},
        {3, {3, 4, 5}, 1, {10}, {20}, {2}, {1}, 1, 1},     /* empty: start past the end */
        {3, {3, 4, 5}, 1, {2}, {2}, {1}, {1}, 1, 1},       /* empty: start == end */
        {3, {3, 4, 5}, 1, {-100}, {100}, {-1}, {MX}, 1, 1}, /* huge step: one element */
        {3, {3, 4, 5}, 1, {100}, {-100}, {-1}, {MN}, 1, 1}, /* huge negative step */
        {1, {9}, 1, {7}, {1}, {0}, {-3}, 1, 1},
        {4, {2, 3, 4, 5}, 2, {1, -2}, {2, MX}, {-3, -1}, {1, 1}, 1, 1},
        {3, {40, 30, 50}, 2, {1, 3}, {39, 48}, {0, 2}, {2, 5}, 1, 1}, /* large enough for several chunks */
    };
    size_t nc = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < nc; i++) {
        run_slice(&cases[i], 13, DT_I64, DT_F32);
        run_slice(&cases[i], 13, DT_I32, DT_I64);
        run_slice(&cases[i], 11, DT_I64, DT_U8);
        if (!cases[i].has_steps || (cases[i].steps[0] == 1 && (cases[i].cnt < 2 || cases[i].steps[1] == 1)))
            run_slice(&cases[i], 9, DT_I64, DT_F32);
    }
    /* errors: zero step, repeated axis, axis out of range, non-constant starts */
    dt_status st;
    double z[35] = {0};
    struct { double s, e, a, p; } bad[] = {{0, 1, 0, 0}, {0, 1, 2, 1}, {0, 1, -3, 1}};
    for (int i = 0; i < 3; i++) {
        gnew();
        int in[5] = {cst(DT_F32, 2, D(5, 7), z), cst(DT_I64, 1, D(1), &bad[i].s), cst(DT_I64, 1, D(1), &bad[i].e),
                     cst(DT_I64, 1, D(1), &bad[i].a), cst(DT_I64, 1, D(1), &bad[i].p)};
        int y = outv();
        int nd = mk(DT_OP_Slice, "badslice", 5, in, 1, &y);
        CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "badslice"));
        gfree();
    }
    gnew();
    double s2[2] = {0, 0}, e2[2] = {1, 1}, a2[2] = {1, -1};
    int in[4] = {cst(DT_F32, 2, D(5, 7), z), cst(DT_I64, 1, D(2), s2), cst(DT_I64, 1, D(2), e2),
                 cst(DT_I64, 1, D(2), a2)};
    int y = outv();
    int nd = mk(DT_OP_Slice, "dupaxis", 4, in, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
    gnew();
    int in2[3] = {cst(DT_F32, 2, D(5, 7), z), var(DT_I64, 1, D(1), s2), cst(DT_I64, 1, D(1), e2)};
    y = outv();
    nd = mk(DT_OP_Slice, "varslice", 3, in2, 1, &y);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED && strstr(st.msg, "varslice"));
    gfree();
    gnew();
    int in3[3] = {cst(DT_F32, 2, D(5, 7), z), cst(DT_I64, 1, D(2), s2), cst(DT_I64, 1, D(1), e2)};
    y = outv();
    nd = mk(DT_OP_Slice, "lenslice", 3, in3, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
}

/* ---- Reshape family ----------------------------------------------------- */

static void test_reshape(void)
{
    dt_status st;
    double *v = seq(24, 0);
    struct { int n; int64_t shape[5]; int allowzero; int ond; int64_t od[5]; dt_code want; } cases[] = {
        {2, {4, 6}, 0, 2, {4, 6}, DT_OK},
        {3, {0, -1, 2}, 0, 3, {2, 6, 2}, DT_OK},   /* 0 copies the input dim */
        {1, {-1}, 0, 1, {24}, DT_OK},
        {4, {2, 0, 2, -1}, 0, 4, {2, 3, 2, 2}, DT_OK},
        {5, {1, 2, 1, 12, 1}, 0, 5, {1, 2, 1, 12, 1}, DT_OK},
        {2, {5, -1}, 0, 0, {0}, DT_ESHAPE},
        {2, {-1, -1}, 0, 0, {0}, DT_ESHAPE},
        {2, {4, 5}, 0, 0, {0}, DT_ESHAPE},
        {2, {-2, 12}, 0, 0, {0}, DT_ESHAPE},
        {2, {0, 12}, 1, 0, {0}, DT_ESHAPE},        /* allowzero: a real 0 */
        {4, {1, 1, 1, 0}, 0, 0, {0}, DT_ESHAPE},   /* 0 past the input rank */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gnew();
        int in[2] = {cst(DT_F32, 3, D(2, 3, 4), v), i64c(cases[c].n, cases[c].shape)};
        int y = outv();
        int nd = mk(DT_OP_Reshape, "reshape", 2, in, 1, &y);
        dt_node_set_int(G, nd, "allowzero", cases[c].allowzero, NULL);
        dt_code rc = exec(nd, &st);
        CHECKF(rc == cases[c].want, "case %zu: %s", c, st.msg);
        if (rc == DT_OK) {
            CHECK(same_shape(0, cases[c].ond, cases[c].od));
            for (int i = 0; i < 24; i++)
                CHECK(outf(0, i) == v[i]);
        } else {
            CHECK(strstr(st.msg, "reshape") != NULL);
        }
        gfree();
    }
    /* allowzero on an empty tensor; opset 1..4 attribute form; non-constant shape */
    gnew();
    int in[2] = {cst(DT_F32, 2, D(0, 3), v), i64c(2, D(3, 0))};
    int y = outv();
    int nd = mk(DT_OP_Reshape, "r0", 2, in, 1, &y);
    dt_node_set_int(G, nd, "allowzero", 1, NULL);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    CHECK(same_shape(0, 2, D(3, 0)));
    gfree();
    gnew();
    int x = cst(DT_I64, 3, D(2, 3, 4), v);
    y = outv();
    nd = mk(DT_OP_Reshape, "r4", 1, &x, 1, &y);
    G->nodes[nd].opset = 4;
    dt_node_set_ints(G, nd, "shape", D(-1, 4), 2, NULL);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    CHECK(same_shape(0, 2, D(6, 4)) && g_out[0].dtype == DT_I64 && outi(0, 23) == 23);
    gfree();
    gnew();
    double sh[2] = {6, 4};
    int in2[2] = {cst(DT_F32, 3, D(2, 3, 4), v), var(DT_I64, 1, D(2), sh)};
    y = outv();
    nd = mk(DT_OP_Reshape, "rvar", 2, in2, 1, &y);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED && strstr(st.msg, "rvar"));
    gfree();

    /* Flatten */
    for (int axis = -3; axis <= 3; axis++) {
        gnew();
        x = cst(DT_F32, 3, D(2, 3, 4), v);
        y = outv();
        nd = mk(DT_OP_Flatten, "flat", 1, &x, 1, &y);
        dt_node_set_int(G, nd, "axis", axis, NULL);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        int a = axis < 0 ? axis + 3 : axis;
        int64_t d0 = 1;
        for (int i = 0; i < a; i++)
            d0 *= (int64_t[]){2, 3, 4}[i];
        CHECK(same_shape(0, 2, (int64_t[]){d0, 24 / d0}));
        CHECK(outf(0, 17) == 17);
        gfree();
    }
    gnew();
    x = cst(DT_F32, 3, D(2, 3, 4), v);
    y = outv();
    nd = mk(DT_OP_Flatten, "flatbad", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "axis", 4, NULL);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
    free(v);
}

static void test_squeeze_unsqueeze(void)
{
    dt_status st;
    double *v = seq(6, 0);
    for (int opset = 11; opset <= 13; opset += 2) {
        /* Squeeze with axes (negative too) */
        gnew();
        int x = cst(DT_F32, 5, D(1, 2, 1, 3, 1), v);
        int ax = i64c(2, D(0, -1));
        int in[2] = {x, ax};
        int y = outv();
        int nd = mk(DT_OP_Squeeze, "sq", opset >= 13 ? 2 : 1, in, 1, &y);
        G->nodes[nd].opset = opset;
        if (opset < 13)
            dt_node_set_ints(G, nd, "axes", D(0, -1), 2, NULL);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        CHECK(same_shape(0, 3, D(2, 1, 3)));
        for (int i = 0; i < 6; i++)
            CHECK(outf(0, i) == v[i]);
        gfree();
        /* no axes: all ones */
        gnew();
        x = cst(DT_F32, 5, D(1, 2, 1, 3, 1), v);
        y = outv();
        nd = mk(DT_OP_Squeeze, "sq", 1, &x, 1, &y);
        G->nodes[nd].opset = opset;
        CHECK(exec(nd, &st) == DT_OK);
        CHECK(same_shape(0, 2, D(2, 3)));
        gfree();
        /* squeezing a non-1 dim fails */
        gnew();
        x = cst(DT_F32, 2, D(2, 3), v);
        int in2[2] = {x, i64c(1, D(1))};
        y = outv();
        nd = mk(DT_OP_Squeeze, "sqbad", opset >= 13 ? 2 : 1, in2, 1, &y);
        G->nodes[nd].opset = opset;
        if (opset < 13)
            dt_node_set_ints(G, nd, "axes", D(1), 1, NULL);
        CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "sqbad"));
        gfree();
        /* Unsqueeze: axes refer to the output rank, any order, negative */
        struct { int n; int64_t axes[3]; int ond; int64_t od[5]; } uc[] = {
            {1, {0}, 3, {1, 2, 3}},
            {2, {-1, 0}, 4, {1, 2, 3, 1}},
            {3, {4, 1, 0}, 5, {1, 1, 2, 3, 1}},
            {1, {2}, 3, {2, 3, 1}},
        };
        for (int c = 0; c < 4; c++) {
            gnew();
            x = cst(DT_BOOL, 2, D(2, 3), v);
            int in3[2] = {x, i64c(uc[c].n, uc[c].axes)};
            y = outv();
            nd = mk(DT_OP_Unsqueeze, "unsq", opset >= 13 ? 2 : 1, in3, 1, &y);
            G->nodes[nd].opset = opset;
            if (opset < 13)
                dt_node_set_ints(G, nd, "axes", uc[c].axes, uc[c].n, NULL);
            CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
            CHECK(same_shape(0, uc[c].ond, uc[c].od) && g_out[0].dtype == DT_BOOL);
            for (int i = 0; i < 6; i++)
                CHECK(outi(0, i) == (v[i] != 0));
            gfree();
        }
        /* duplicate / out of range axes */
        int64_t bad[2][2] = {{0, 0}, {0, 4}};
        for (int b = 0; b < 2; b++) {
            gnew();
            x = cst(DT_F32, 2, D(2, 3), v);
            int in4[2] = {x, i64c(2, bad[b])};
            y = outv();
            nd = mk(DT_OP_Unsqueeze, "unsqbad", opset >= 13 ? 2 : 1, in4, 1, &y);
            G->nodes[nd].opset = opset;
            if (opset < 13)
                dt_node_set_ints(G, nd, "axes", bad[b], 2, NULL);
            CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "unsqbad"));
            gfree();
        }
    }
    free(v);
}

/* ---- Transpose ---------------------------------------------------------- */

static void test_transpose(void)
{
    struct { int nd; int64_t d[6]; int has_perm; int64_t perm[6]; } cases[] = {
        {2, {3, 5}, 0, {0}},
        {2, {3, 5}, 1, {0, 1}},
        {3, {2, 3, 4}, 1, {2, 0, 1}},
        {3, {2, 3, 4}, 0, {0}},
        {4, {2, 3, 4, 5}, 1, {0, 2, 3, 1}},   /* NCHW -> NHWC */
        {4, {2, 3, 4, 5}, 1, {0, 3, 1, 2}},   /* NHWC -> NCHW */
        {5, {2, 1, 3, 1, 4}, 1, {4, 3, 2, 1, 0}},
        {6, {2, 2, 3, 2, 1, 3}, 1, {5, 0, 4, 1, 3, 2}},
        {3, {64, 70, 33}, 1, {1, 2, 0}},
        {1, {7}, 0, {0}},
        {3, {2, 0, 3}, 1, {2, 1, 0}},
    };
    dt_dtype types[] = {DT_F32, DT_I64, DT_U8};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int t = 0; t < 3; t++) {
            gnew();
            int64_t n = dt_shape_numel(cases[c].nd, cases[c].d);
            double *v = seq(n, 0);
            if (types[t] == DT_U8)
                for (int64_t i = 0; i < n; i++)
                    v[i] = (double)((int64_t)v[i] % 256);
            int x = cst(types[t], cases[c].nd, cases[c].d, v), y = outv();
            int nd = mk(DT_OP_Transpose, "tr", 1, &x, 1, &y);
            int64_t perm[6];
            for (int i = 0; i < cases[c].nd; i++)
                perm[i] = cases[c].has_perm ? cases[c].perm[i] : cases[c].nd - 1 - i;
            if (cases[c].has_perm)
                dt_node_set_ints(G, nd, "perm", perm, cases[c].nd, NULL);
            dt_status st;
            CHECKF(exec_pool(nd, g_pool, &st) == DT_OK, "%s", st.msg);
            int64_t od[6], idx[6], src[6];
            for (int i = 0; i < cases[c].nd; i++)
                od[i] = cases[c].d[perm[i]];
            CHECK(same_shape(0, cases[c].nd, od));
            for (int64_t e = 0; e < n; e++) {
                unravel(e, cases[c].nd, od, idx);
                for (int i = 0; i < cases[c].nd; i++)
                    src[perm[i]] = idx[i];
                if (outf(0, e) != v[ravel(src, cases[c].nd, cases[c].d)]) {
                    CHECKF(0, "transpose case %zu elem %lld", c, (long long)e);
                    break;
                }
            }
            free(v);
            gfree();
        }
    }
    dt_status st;
    double z[6] = {0};
    int64_t bad[3][3] = {{0, 1, 1}, {0, 1, 3}, {0, 1, -1}};
    for (int b = 0; b < 3; b++) {
        gnew();
        int x = cst(DT_F32, 3, D(1, 2, 3), z), y = outv();
        int nd = mk(DT_OP_Transpose, "trbad", 1, &x, 1, &y);
        dt_node_set_ints(G, nd, "perm", bad[b], 3, NULL);
        CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "trbad"));
        gfree();
    }
    gnew();
    int x = cst(DT_F32, 3, D(1, 2, 3), z), y = outv();
    int nd = mk(DT_OP_Transpose, "trlen", 1, &x, 1, &y);
    dt_node_set_ints(G, nd, "perm", D(1, 0), 2, NULL);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
}

/* ---- Gather / GatherElements / ScatterND -------------------------------- */

static void test_gather(void)
{
    struct { int nd; int64_t d[4]; int axis; int ni; int64_t id[3]; double idx[12]; } cases[] = {
        {2, {5, 3}, 0, 1, {4}, {0, 4, -1, -5}},
        {2, {5, 3}, 1, 2, {2, 2}, {2, 0, -1, 1}},
        {3, {2, 3, 4}, -1, 0, {0}, {-2}},             /* scalar index drops the axis */
        {3, {2, 3, 4}, 1, 3, {2, 1, 2}, {0, 2, 1, 1}},
        {1, {6}, 0, 1, {0}, {0}},                     /* empty indices */
        {4, {2, 3, 2, 2}, -3, 1, {5}, {2, 1, 0, -3, -1}},
    };
    dt_dtype types[] = {DT_F32, DT_I64, DT_I32, DT_U8, DT_BOOL};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int t = 0; t < 5; t++) {
            for (int it = 0; it < 2; it++) {
                for (int vi = 0; vi < 2; vi++) { /* constant or fed indices */
                    gnew();
                    int64_t n = dt_shape_numel(cases[c].nd, cases[c].d);
                    double *v = seq(n, 1);
                    for (int64_t i = 0; i < n; i++)
                        v[i] = types[t] == DT_BOOL ? (double)((int64_t)v[i] % 2) : v[i];
                    dt_dtype ixt = it ? DT_I32 : DT_I64;
                    int in[2] = {cst(types[t], cases[c].nd, cases[c].d, v),
                                 vi ? var(ixt, cases[c].ni, cases[c].id, cases[c].idx)
                                    : cst(ixt, cases[c].ni, cases[c].id, cases[c].idx)};
                    int y = outv();
                    int nd = mk(DT_OP_Gather, "gather", 2, in, 1, &y);
                    dt_node_set_int(G, nd, "axis", cases[c].axis, NULL);
                    dt_status st;
                    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
                    int ax = cases[c].axis < 0 ? cases[c].axis + cases[c].nd : cases[c].axis;
                    int ond = cases[c].nd - 1 + cases[c].ni, k = 0;
                    int64_t od[8], idx[8], src[4];
                    for (int i = 0; i < ax; i++)
                        od[k++] = cases[c].d[i];
                    for (int i = 0; i < cases[c].ni; i++)
                        od[k++] = cases[c].id[i];
                    for (int i = ax + 1; i < cases[c].nd; i++)
                        od[k++] = cases[c].d[i];
                    CHECK(same_shape(0, ond, od) && g_out[0].dtype == types[t]);
                    int64_t total = dt_shape_numel(ond, od);
                    for (int64_t e = 0; e < total; e++) {
                        unravel(e, ond, od, idx);
                        for (int i = 0; i < ax; i++)
                            src[i] = idx[i];
                        int64_t ii = ravel(idx + ax, cases[c].ni, cases[c].id);
                        int64_t g = (int64_t)cases[c].idx[ii];
                        src[ax] = g < 0 ? g + cases[c].d[ax] : g;
                        for (int i = ax + 1; i < cases[c].nd; i++)
                            src[i] = idx[i - 1 + cases[c].ni];
                        CHECK(outf(0, e) == v[ravel(src, cases[c].nd, cases[c].d)]);
                    }
                    free(v);
                    gfree();
                }
            }
        }
    }
    /* out of range: infer catches constant indices, the kernel fed ones */
    dt_status st;
    double z[6] = {0}, oob[2] = {1, 3}, oobn[1] = {-4};
    for (int vi = 0; vi < 2; vi++) {
        for (int which = 0; which < 2; which++) {
            gnew();
            const double *ix = which ? oobn : oob;
            int ni = which ? 1 : 2;
            int in[2] = {cst(DT_F32, 2, D(3, 2), z),
                         vi ? var(DT_I64, 1, (int64_t[]){ni}, ix) : cst(DT_I64, 1, (int64_t[]){ni}, ix)};
            int y = outv();
            int nd = mk(DT_OP_Gather, "gatherbad", 2, in, 1, &y);
            CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "gatherbad"));
            gfree();
        }
    }
    gnew();
    int in[2] = {cst(DT_F32, 2, D(3, 2), z), cst(DT_F32, 1, D(1), z)};
    int y = outv();
    int nd = mk(DT_OP_Gather, "gatherf", 2, in, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
}

static void test_gather_elements(void)
{
    dt_status st;
    struct { int nd; int64_t d[3]; int axis; int64_t id[3]; } cases[] = {
        {2, {3, 4}, 0, {2, 4}},
        {2, {3, 4}, 1, {3, 2}},
        {2, {3, 4}, -1, {2, 5}},       /* indices longer than data along the axis */
        {3, {2, 3, 4}, 1, {2, 2, 3}},  /* indices smaller on other dims */
        {3, {2, 3, 4}, -3, {3, 3, 4}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int it = 0; it < 2; it++) {
            gnew();
            int nd = cases[c].nd;
            int ax = cases[c].axis < 0 ? cases[c].axis + nd : cases[c].axis;
            int64_t n = dt_shape_numel(nd, cases[c].d), ni = dt_shape_numel(nd, cases[c].id);
            double *v = seq(n, 1), *ix = malloc(8 * (size_t)ni);
            for (int64_t i = 0; i < ni; i++) {
                int64_t k = cases[c].d[ax];
                ix[i] = (double)((i * 7 + 3) % (2 * k) - k); /* [-k, k) */
            }
            int in[2] = {cst(DT_F32, nd, cases[c].d, v), cst(it ? DT_I32 : DT_I64, nd, cases[c].id, ix)};
            int y = outv();
            int node = mk(DT_OP_GatherElements, "ge", 2, in, 1, &y);
            dt_node_set_int(G, node, "axis", cases[c].axis, NULL);
            CHECKF(exec(node, &st) == DT_OK, "%s", st.msg);
            CHECK(same_shape(0, nd, cases[c].id));
            int64_t idx[3];
            for (int64_t e = 0; e < ni; e++) {
                unravel(e, nd, cases[c].id, idx);
                int64_t g = (int64_t)ix[e];
                idx[ax] = g < 0 ? g + cases[c].d[ax] : g;
                CHECK(outf(0, e) == v[ravel(idx, nd, cases[c].d)]);
            }
            free(v);
            free(ix);
            gfree();
        }
    }
    gnew();
    double z[12] = {0}, bad[2] = {0, 4};
    int in[2] = {cst(DT_F32, 2, D(3, 4), z), var(DT_I64, 2, D(1, 2), bad)};
    int y = outv();
    int nd = mk(DT_OP_GatherElements, "gebad", 2, in, 1, &y);
    dt_node_set_int(G, nd, "axis", 1, NULL);
    CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "gebad"));
    gfree();
    gnew();
    int in2[2] = {cst(DT_F32, 2, D(3, 4), z), var(DT_I64, 1, D(2), bad)};
    y = outv();
    nd = mk(DT_OP_GatherElements, "gerank", 2, in2, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    gfree();
}

static void test_scatter_nd(void)
{
    dt_status st;
    /* data [4,3,2]; indices [..., k] for k = 1, 2, 3 */
    struct { int ni; int64_t id[3]; double idx[12]; } cases[] = {
        {2, {2, 1}, {3, -4}},                  /* k=1: rows */
        {2, {3, 2}, {0, 1, 3, 2, -1, 0}},      /* k=2 */
        {3, {2, 1, 3}, {1, 2, 1, 0, 0, 0}},    /* k=3, batch dims */
        {1, {2}, {2, 1}},                      /* indices rank 1 */
    };
    int64_t dd[3] = {4, 3, 2};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gnew();
        double *v = seq(24, 0);
        int k = (int)cases[c].id[cases[c].ni - 1];
        int un = cases[c].ni - 1 + 3 - k;
        int64_t ud[4];
        int j = 0;
        for (int i = 0; i < cases[c].ni - 1; i++)
            ud[j++] = cases[c].id[i];
        for (int i = k; i < 3; i++)
            ud[j++] = dd[i];
        int64_t nu = dt_shape_numel(un, ud);
        double *u = seq(nu, 100);
        int in[3] = {cst(DT_F32, 3, dd, v), cst(DT_I64, cases[c].ni, cases[c].id, cases[c].idx), cst(DT_F32, un, ud, u)};
        int y = outv();
        int nd = mk(DT_OP_ScatterND, "snd", 3, in, 1, &y);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        CHECK(same_shape(0, 3, dd));
        /* naive: apply updates to a copy */
        double want[24];
        memcpy(want, v, sizeof want);
        int64_t nupd = dt_shape_numel(cases[c].ni - 1, cases[c].id), slice = dt_shape_numel(3 - k, dd + k);
        for (int64_t q = 0; q < nupd; q++) {
            int64_t idx[3] = {0, 0, 0};
            for (int i = 0; i < k; i++) {
                int64_t g = (int64_t)cases[c].idx[q * k + i];
                idx[i] = g < 0 ? g + dd[i] : g;
            }
            int64_t base = ravel(idx, 3, dd);
            for (int64_t s = 0; s < slice; s++)
                want[base + s] = u[q * slice + s];
        }
        for (int i = 0; i < 24; i++)
            CHECK(outf(0, i) == want[i]);
        free(v);
        free(u);
        gfree();
    }
    /* errors: bad updates shape, out-of-range index, reduction */
    gnew();
    double z[24] = {0}, ix[1] = {4};
    int in[3] = {cst(DT_F32, 3, dd, z), var(DT_I64, 2, D(1, 1), ix), cst(DT_F32, 3, D(1, 3, 2), z)};
    int y = outv();
    int nd = mk(DT_OP_ScatterND, "sndbad", 3, in, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "sndbad"));
    dt_node_set_string(G, nd, "reduction", "add", NULL);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED);
    gfree();
    gnew();
    int in2[3] = {cst(DT_F32, 3, dd, z), cst(DT_I64, 2, D(1, 1), ix), cst(DT_F32, 2, D(3, 2), z)};
    y = outv();
    nd = mk(DT_OP_ScatterND, "sndshape", 3, in2, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    gfree();
}

/* ---- Shape / Size / ConstantOfShape / Expand / Tile / Range ------------- */

static void test_shape_size(void)
{
    dt_status st;
    double z[64] = {0};
    struct { int opset; int has_s, has_e; int64_t s, e; int64_t first, len; } cases[] = {
        {13, 0, 0, 0, 0, 0, 4}, {15, 1, 0, 1, 0, 1, 3}, {15, 0, 1, 0, -1, 0, 3}, {15, 1, 1, -3, -1, 1, 2},
        {15, 1, 1, -10, 10, 0, 4}, {15, 1, 1, 3, 1, 3, 0}, {13, 1, 1, 1, 2, 0, 4}, /* attrs ignored before 15 */
    };
    int64_t d[4] = {2, 0, 5, 7};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gnew();
        int x = var(DT_F32, 4, d, z), y = outv();
        int nd = mk(DT_OP_Shape, "shape", 1, &x, 1, &y);
        G->nodes[nd].opset = cases[c].opset;
        if (cases[c].has_s)
            dt_node_set_int(G, nd, "start", cases[c].s, NULL);
        if (cases[c].has_e)
            dt_node_set_int(G, nd, "end", cases[c].e, NULL);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        CHECK(g_out[0].dtype == DT_I64 && same_shape(0, 1, (int64_t[]){cases[c].len}));
        for (int64_t i = 0; i < cases[c].len; i++)
            CHECK(outi(0, i) == d[cases[c].first + i]);
        gfree();
    }
    gnew();
    int x = var(DT_U8, 3, D(3, 4, 5), z), y = outv();
    int nd = mk(DT_OP_Size, "size", 1, &x, 1, &y);
    CHECK(exec(nd, &st) == DT_OK && g_out[0].dtype == DT_I64 && g_out[0].ndim == 0 && outi(0, 0) == 60);
    gfree();
}

static void test_constant_of_shape(void)
{
    dt_status st;
    struct { dt_dtype t; float v; } cases[] = {{DT_F32, 0}, {DT_F32, 2.5f}, {DT_I64, 7}, {DT_I32, -3},
                                               {DT_BOOL, 1}, {DT_U8, 200}, {DT_I8, -5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gnew();
        int s = i64c(3, D(2, 1, 3)), y = outv();
        int nd = mk(DT_OP_ConstantOfShape, "cos", 1, &s, 1, &y);
        if (c != 0) {
            dt_node_set_float(G, nd, "value", cases[c].v, NULL);
            dt_node_set_int(G, nd, "value_dtype", cases[c].t, NULL);
        }
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        CHECK(g_out[0].dtype == cases[c].t && same_shape(0, 3, D(2, 1, 3)));
        for (int i = 0; i < 6; i++)
            CHECK(outf(0, i) == (cases[c].t == DT_U8 ? 200 : cases[c].v));
        gfree();
    }
    /* empty shape -> scalar; zero dim -> empty; negative -> error; non-constant -> unsupported */
    gnew();
    int s = dt_graph_add_const(G, NULL, DT_I64, 1, D(0), NULL, &st), y = outv();
    int nd = mk(DT_OP_ConstantOfShape, "cos0", 1, &s, 1, &y);
    dt_node_set_float(G, nd, "value", 4, NULL);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    CHECK(g_out[0].ndim == 0 && outf(0, 0) == 4);
    gfree();
    gnew();
    s = i64c(2, D(3, 0));
    y = outv();
    nd = mk(DT_OP_ConstantOfShape, "cosz", 1, &s, 1, &y);
    CHECK(exec(nd, &st) == DT_OK && same_shape(0, 2, D(3, 0)));
    gfree();
    gnew();
    s = i64c(2, D(3, -1));
    y = outv();
    nd = mk(DT_OP_ConstantOfShape, "cosneg", 1, &s, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "cosneg"));
    gfree();
    gnew();
    double two[2] = {2, 2};
    s = var(DT_I64, 1, D(2), two);
    y = outv();
    nd = mk(DT_OP_ConstantOfShape, "cosvar", 1, &s, 1, &y);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED && strstr(st.msg, "cosvar"));
    gfree();
}

static void test_expand_tile(void)
{
    dt_status st;
    struct { int nx; int64_t x[4]; int ns; int64_t s[4]; int no; int64_t o[4]; } ex[] = {
        {2, {3, 1}, 2, {3, 4}, 2, {3, 4}},
        {1, {4}, 3, {2, 3, 4}, 3, {2, 3, 4}},
        {2, {3, 1}, 3, {2, 1, 6}, 3, {2, 3, 6}},     /* shape smaller than input on a dim: bidirectional */
        {3, {2, 1, 4}, 1, {1}, 3, {2, 1, 4}},
        {0, {0}, 2, {2, 3}, 2, {2, 3}},
        {2, {1, 5}, 2, {0, 5}, 2, {0, 5}},
        {4, {1, 3, 1, 1}, 4, {8, 3, 50, 40}, 4, {8, 3, 50, 40}},
    };
    for (size_t c = 0; c < sizeof ex / sizeof ex[0]; c++) {
        gnew();
        int64_t n = dt_shape_numel(ex[c].nx, ex[c].x);
        double *v = seq(n, 1);
        int in[2] = {cst(DT_I32, ex[c].nx, ex[c].x, v), i64c(ex[c].ns, ex[c].s)};
        int y = outv();
        int nd = mk(DT_OP_Expand, "expand", 2, in, 1, &y);
        CHECKF(exec_pool(nd, g_pool, &st) == DT_OK, "%s", st.msg);
        CHECK(same_shape(0, ex[c].no, ex[c].o) && g_out[0].dtype == DT_I32);
        int64_t total = dt_shape_numel(ex[c].no, ex[c].o), idx[4], src[4];
        for (int64_t e = 0; e < total; e++) {
            unravel(e, ex[c].no, ex[c].o, idx);
            for (int j = 0; j < ex[c].nx; j++)
                src[j] = ex[c].x[j] == 1 ? 0 : idx[ex[c].no - ex[c].nx + j];
            if (outf(0, e) != v[ravel(src, ex[c].nx, ex[c].x)]) {
                CHECKF(0, "expand case %zu elem %lld", c, (long long)e);
                break;
            }
        }
        free(v);
        gfree();
    }
    gnew();
    double z[6] = {0};
    int in[2] = {cst(DT_F32, 2, D(2, 3), z), i64c(2, D(2, 4))};
    int y = outv();
    int nd = mk(DT_OP_Expand, "expbad", 2, in, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "expbad"));
    gfree();

    /* Tile */
    struct { int n; int64_t x[4], r[4]; } tc[] = {
        {1, {3}, {4}}, {2, {2, 3}, {2, 1}}, {2, {2, 3}, {1, 3}}, {3, {2, 1, 3}, {2, 3, 2}},
        {2, {2, 3}, {0, 2}}, {4, {1, 2, 3, 2}, {2, 1, 1, 3}}, {2, {30, 40}, {5, 7}},
    };
    for (size_t c = 0; c < sizeof tc / sizeof tc[0]; c++) {
        gnew();
        int64_t n = dt_shape_numel(tc[c].n, tc[c].x);
        double *v = seq(n, 1);
        int in2[2] = {cst(DT_F32, tc[c].n, tc[c].x, v), i64c(tc[c].n, tc[c].r)};
        y = outv();
        nd = mk(DT_OP_Tile, "tile", 2, in2, 1, &y);
        CHECKF(exec_pool(nd, g_pool, &st) == DT_OK, "%s", st.msg);
        int64_t od[4], idx[4];
        for (int i = 0; i < tc[c].n; i++)
            od[i] = tc[c].x[i] * tc[c].r[i];
        CHECK(same_shape(0, tc[c].n, od));
        int64_t total = dt_shape_numel(tc[c].n, od);
        for (int64_t e = 0; e < total; e++) {
            unravel(e, tc[c].n, od, idx);
            for (int i = 0; i < tc[c].n; i++)
                idx[i] %= tc[c].x[i];
            if (outf(0, e) != v[ravel(idx, tc[c].n, tc[c].x)]) {
                CHECKF(0, "tile case %zu elem %lld", c, (long long)e);
                break;
            }
        }
        free(v);
        gfree();
    }
    gnew();
    int in3[2] = {cst(DT_F32, 2, D(2, 3), z), i64c(1, D(2))};
    y = outv();
    nd = mk(DT_OP_Tile, "tilebad", 2, in3, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "tilebad"));
    gfree();
    gnew();
    int in4[2] = {cst(DT_F32, 2, D(2, 3), z), i64c(2, D(2, -1))};
    y = outv();
    nd = mk(DT_OP_Tile, "tileneg", 2, in4, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    gfree();
}

static void test_range(void)
{
    dt_status st;
    struct { dt_dtype t; double s, l, d; } cases[] = {
        {DT_F32, 0, 5, 1}, {DT_F32, 1, 2, 0.1}, {DT_F32, 10, 4, -3}, {DT_F32, 0, 0, 1}, {DT_F32, 5, 0, 1},
        {DT_F32, -2.5, 2.5, 0.5}, {DT_I64, 0, 10, 3}, {DT_I64, 10, -10, -4}, {DT_I64, 3, 3, 1},
        {DT_I32, -5, 5, 2}, {DT_I32, 7, 0, -7}, {DT_I64, 0, 1, 100},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gnew();
        int in[3] = {cst(cases[c].t, 0, NULL, &cases[c].s), cst(cases[c].t, 0, NULL, &cases[c].l),
                     cst(cases[c].t, 0, NULL, &cases[c].d)};
        int y = outv();
        int nd = mk(DT_OP_Range, "range", 3, in, 1, &y);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        /* reference: numpy's arange semantics, values accumulated in the input type */
        double s = cases[c].s, l = cases[c].l, d = cases[c].d;
        if (cases[c].t == DT_F32) {
            s = (float)s;
            l = (float)l;
            d = (float)d;
        }
        double diff = cases[c].t == DT_F32 ? (double)(float)(l - s) : l - s;
        int64_t n = (int64_t)ceil(diff / d);
        if (n < 0)
            n = 0;
        CHECK(g_out[0].dtype == cases[c].t && same_shape(0, 1, &n));
        float acc = (float)s;
        for (int64_t i = 0; i < n; i++) {
            double w = cases[c].t == DT_F32 ? acc : s + (double)i * d;
            CHECKF(outf(0, i) == w, "range case %zu elem %lld: %g want %g", c, (long long)i, outf(0, i), w);
            acc += (float)d;
        }
        gfree();
    }
    gnew();
    double zero = 0, one = 1;
    int in[3] = {cst(DT_F32, 0, NULL, &zero), cst(DT_F32, 0, NULL, &one), cst(DT_F32, 0, NULL, &zero)};
    int y = outv();
    int nd = mk(DT_OP_Range, "range0", 3, in, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "range0"));
    gfree();
    gnew();
    int in2[3] = {cst(DT_F32, 0, NULL, &zero), var(DT_F32, 0, NULL, &one), cst(DT_F32, 0, NULL, &one)};
    y = outv();
    nd = mk(DT_OP_Range, "rangevar", 3, in2, 1, &y);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED && strstr(st.msg, "rangevar"));
    gfree();
    gnew();
    int in3[3] = {cst(DT_F32, 0, NULL, &zero), cst(DT_I64, 0, NULL, &one), cst(DT_F32, 0, NULL, &one)};
    y = outv();
    nd = mk(DT_OP_Range, "rangemix", 3, in3, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
}

/* ---- NonZero / DepthToSpace / SpaceToDepth / SparseToDense -------------- */

static void test_nonzero(void)
{
    dt_status st;
    double v[12] = {0, 1, 0, 2, 0, 0, 3, 0, 0, 0, 4, 5};
    dt_dtype types[] = {DT_F32, DT_I64, DT_BOOL};
    for (int t = 0; t < 3; t++) {
        gnew();
        int x = cst(types[t], 3, D(2, 3, 2), v), y = outv();
        int nd = mk(DT_OP_NonZero, "nz", 1, &x, 1, &y);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        CHECK(g_out[0].dtype == DT_I64 && same_shape(0, 2, D(3, 5)));
        int j = 0;
        for (int64_t e = 0; e < 12; e++) {
            if (v[e] == 0)
                continue;
            int64_t idx[3];
            unravel(e, 3, D(2, 3, 2), idx);
            for (int i = 0; i < 3; i++)
                CHECK(outi(0, i * 5 + j) == idx[i]);
            j++;
        }
        gfree();
    }
    gnew();
    int x = var(DT_F32, 1, D(12), v), y = outv();
    int nd = mk(DT_OP_NonZero, "nzvar", 1, &x, 1, &y);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED && strstr(st.msg, "nzvar"));
    gfree();
}

static void test_depth_space(void)
{
    dt_status st;
    /* DepthToSpace: [N, C, H, W] -> [N, C/b^2, H*b, W*b], ONNX formulas */
    int64_t N = 2, C = 8, H = 3, W = 2, b = 2, c2 = C / (b * b);
    for (int crd = 0; crd < 2; crd++) {
        for (int nhwc = 0; nhwc < 2; nhwc++) {
            gnew();
            double *v = seq(N * C * H * W, 0);
            int x = nhwc ? cst(DT_F32, 4, (int64_t[]){N, H, W, C}, v) : cst(DT_F32, 4, (int64_t[]){N, C, H, W}, v);
            int y = outv();
            int nd = mk(DT_OP_DepthToSpace, "d2s", 1, &x, 1, &y);
            dt_node_set_int(G, nd, "blocksize", b, NULL);
            if (crd)
                dt_node_set_string(G, nd, "mode", "CRD", NULL);
            if (nhwc)
                dt_node_set_string(G, nd, "layout", "NHWC", NULL);
            CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
            int64_t od[4] = {N, c2, H * b, W * b};
            if (nhwc) {
                od[1] = H * b;
                od[2] = W * b;
                od[3] = c2;
            }
            CHECK(same_shape(0, 4, od));
            for (int64_t n = 0; n < N; n++)
                for (int64_t c = 0; c < c2; c++)
                    for (int64_t h = 0; h < H * b; h++)
                        for (int64_t w = 0; w < W * b; w++) {
                            int64_t i = h % b, j = w % b;
                            int64_t ci = crd ? c * b * b + i * b + j : (i * b + j) * c2 + c;
                            int64_t src = nhwc ? ((n * H + h / b) * W + w / b) * C + ci
                                               : ((n * C + ci) * H + h / b) * W + w / b;
                            int64_t dst = nhwc ? ((n * H * b + h) * W * b + w) * c2 + c
                                               : ((n * c2 + c) * H * b + h) * W * b + w;
                            CHECK(outf(0, dst) == v[src]);
                        }
            free(v);
            gfree();
        }
    }
    /* SpaceToDepth: out[n, (i*b + j)*C + c, h, w] = in[n, c, h*b + i, w*b + j] */
    int64_t Cs = 3, Hs = 4, Ws = 6;
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        gnew();
        double *v = seq(N * Cs * Hs * Ws, 0);
        int x = nhwc ? cst(DT_I64, 4, (int64_t[]){N, Hs, Ws, Cs}, v) : cst(DT_I64, 4, (int64_t[]){N, Cs, Hs, Ws}, v);
        int y = outv();
        int nd = mk(DT_OP_SpaceToDepth, "s2d", 1, &x, 1, &y);
        dt_node_set_int(G, nd, "blocksize", b, NULL);
        if (nhwc)
            dt_node_set_string(G, nd, "layout", "NHWC", NULL);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        int64_t Co = Cs * b * b, Ho = Hs / b, Wo = Ws / b;
        CHECK(nhwc ? same_shape(0, 4, (int64_t[]){N, Ho, Wo, Co}) : same_shape(0, 4, (int64_t[]){N, Co, Ho, Wo}));
        for (int64_t n = 0; n < N; n++)
            for (int64_t co = 0; co < Co; co++)
                for (int64_t h = 0; h < Ho; h++)
                    for (int64_t w = 0; w < Wo; w++) {
                        int64_t c = co % Cs, ij = co / Cs, i = ij / b, j = ij % b;
                        int64_t src = nhwc ? ((n * Hs + h * b + i) * Ws + w * b + j) * Cs + c
                                           : ((n * Cs + c) * Hs + h * b + i) * Ws + w * b + j;
                        int64_t dst = nhwc ? ((n * Ho + h) * Wo + w) * Co + co : ((n * Co + co) * Ho + h) * Wo + w;
                        CHECK(outi(0, dst) == (int64_t)v[src]);
                    }
        free(v);
        gfree();
    }
    double z[48] = {0};
    gnew();
    int x = cst(DT_F32, 4, D(1, 3, 2, 2), z), y = outv();
    int nd = mk(DT_OP_DepthToSpace, "d2sbad", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "blocksize", 2, NULL);
    CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "d2sbad"));
    gfree();
    gnew();
    x = cst(DT_F32, 4, D(1, 3, 3, 2), z);
    y = outv();
    nd = mk(DT_OP_SpaceToDepth, "s2dbad", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "blocksize", 2, NULL);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    gfree();
    gnew();
    x = cst(DT_F32, 3, D(4, 2, 2), z);
    y = outv();
    nd = mk(DT_OP_DepthToSpace, "d2s3", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "blocksize", 2, NULL);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    gfree();
}

static void test_sparse_to_dense(void)
{
    dt_status st;
    /* 2-D indices, vector values */
    gnew();
    double ix[6] = {0, 1, 2, 3, 1, 0}, vals[3] = {5, 6, 7}, def = -1;
    int in[4] = {cst(DT_I64, 2, D(3, 2), ix), i64c(2, D(3, 4)), cst(DT_F32, 1, D(3), vals), cst(DT_F32, 0, NULL, &def)};
    int y = outv();
    int nd = mk(DT_OP_SparseToDense, "s2dn", 4, in, 1, &y);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    CHECK(same_shape(0, 2, D(3, 4)) && g_out[0].dtype == DT_F32);
    for (int i = 0; i < 12; i++) {
        double w = i == 1 ? 5 : i == 11 ? 6 : i == 4 ? 7 : -1;
        CHECK(outf(0, i) == w);
    }
    gfree();
    /* 1-D indices, scalar value, int32 */
    gnew();
    double ix1[3] = {4, 0, 2}, one = 9, zero = 0;
    int in2[4] = {cst(DT_I32, 1, D(3), ix1), i64c(1, D(6)), cst(DT_I32, 0, NULL, &one), cst(DT_I32, 0, NULL, &zero)};
    y = outv();
    nd = mk(DT_OP_SparseToDense, "s2dn1", 4, in2, 1, &y);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    CHECK(same_shape(0, 1, D(6)) && g_out[0].dtype == DT_I32);
    for (int i = 0; i < 6; i++)
        CHECK(outi(0, i) == ((i == 4 || i == 0 || i == 2) ? 9 : 0));
    gfree();
    /* out of range index (fed) -> error; rank mismatch -> shape error */
    gnew();
    double bad[2] = {0, 4};
    int in3[4] = {var(DT_I64, 2, D(1, 2), bad), i64c(2, D(3, 4)), cst(DT_F32, 0, NULL, &one), cst(DT_F32, 0, NULL, &zero)};
    y = outv();
    nd = mk(DT_OP_SparseToDense, "s2dnbad", 4, in3, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "s2dnbad"));
    gfree();
    gnew();
    int in4[4] = {cst(DT_I64, 2, D(1, 2), bad), i64c(3, D(3, 4, 5)), cst(DT_F32, 0, NULL, &one),
                  cst(DT_F32, 0, NULL, &zero)};
    y = outv();
    nd = mk(DT_OP_SparseToDense, "s2dnrank", 4, in4, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    gfree();
}

/* Kernels must reject (not overrun) outputs that disagree with their inputs. */
static void test_kernel_guards(void)
{
    dt_status st;
    float a[6] = {0}, o[6];
    dt_tensor ta = {DT_F32, 2, {2, 3}, a}, to = {DT_F32, 2, {3, 3}, o};
    const dt_tensor *ins[1] = {&ta};
    dt_tensor *outs[1] = {&to};
    dt_kctx ctx = {NULL, NULL, 0};
    gnew();
    int x = outv(), y = outv();
    int nd = mk(DT_OP_Reshape, "rg", 1, &x, 1, &y);
    const dt_opdef *d = dt_opdef_get(DT_OP_Reshape);
    CHECK(d->ref(&G->nodes[nd], ins, 1, outs, 1, &ctx, &st) == DT_ESHAPE);
    nd = mk(DT_OP_Transpose, "tg", 1, &x, 1, &y);
    d = dt_opdef_get(DT_OP_Transpose);
    CHECK(d->ref(&G->nodes[nd], ins, 1, outs, 1, &ctx, &st) == DT_ESHAPE);
    gfree();
}

int main(void)
{
    dt_status st;
    if (dt_pool_create(2, &g_pool, &st) != DT_OK) {
        fprintf(stderr, "pool: %s\n", st.msg);
        return 1;
    }
    RUN(test_concat);
    RUN(test_split);
    RUN(test_slice);
    RUN(test_reshape);
    RUN(test_squeeze_unsqueeze);
    RUN(test_transpose);
    RUN(test_gather);
    RUN(test_gather_elements);
    RUN(test_scatter_nd);
    RUN(test_shape_size);
    RUN(test_constant_of_shape);
    RUN(test_expand_tile);
    RUN(test_range);
    RUN(test_nonzero);
    RUN(test_depth_space);
    RUN(test_sparse_to_dense);
    RUN(test_kernel_guards);
    dt_pool_free(g_pool);
    return tl_summary();
}
