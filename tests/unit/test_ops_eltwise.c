/* Unit tests of the elementwise ops (ops/eltwise.c): shape inference and the
 * reference kernels against naive double / int64 computations written
 * independently here, over every broadcast pattern and dtype they support. */
#include "ops_harness.h"
/* ---- unary float ops ---------------------------------------------------- */

typedef struct uref {
    dt_op op;
    double lo, hi;
    double (*f)(double);
} uref;

static double r_relu(double x) { return x > 0 ? x : 0; }
static double r_leaky(double x) { return x >= 0 ? x : 0.1 * x; }
static double r_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double r_hsig(double x) { double y = 0.3 * x + 0.4; return y < 0 ? 0 : y > 1 ? 1 : y; }
static double r_hswish(double x) { double y = x / 6 + 0.5; return x * (y < 0 ? 0 : y > 1 ? 1 : y); }
static double r_neg(double x) { return -x; }
static double r_recip(double x) { return 1 / x; }
static double r_softplus(double x) { return log(1 + exp(x)); }
static double r_elu(double x) { return x >= 0 ? x : 0.7 * (exp(x) - 1); }
static double r_selu(double x)
{
    const double a = 1.67326319217681884765625, g = 1.05070102214813232421875;
    return x > 0 ? g * x : g * (a * exp(x) - a);
}
static double r_mish(double x) { return x * tanh(log(1 + exp(x))); }
static double r_sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
static double r_round(double x) /* half to even, written out */
{
    double f = floor(x), d = x - f;
    if (d > 0.5)
        return f + 1;
    if (d < 0.5)
        return f;
    return fmod(f, 2) == 0 ? f : f + 1;
}

static void test_unary_float(void)
{
    const uref ops[] = {
        {DT_OP_Relu, -5, 5, r_relu}, {DT_OP_LeakyRelu, -5, 5, r_leaky}, {DT_OP_Sigmoid, -12, 12, r_sigmoid},
        {DT_OP_HardSigmoid, -5, 5, r_hsig}, {DT_OP_HardSwish, -5, 5, r_hswish}, {DT_OP_Tanh, -5, 5, tanh},
        {DT_OP_Sqrt, 0, 10, sqrt}, {DT_OP_Exp, -10, 10, exp}, {DT_OP_Log, 0.01, 100, log},
        {DT_OP_Abs, -5, 5, fabs}, {DT_OP_Neg, -5, 5, r_neg}, {DT_OP_Reciprocal, 0.1, 5, r_recip},
        {DT_OP_Floor, -5, 5, floor}, {DT_OP_Ceil, -5, 5, ceil}, {DT_OP_Round, -5, 5, r_round},
        {DT_OP_Erf, -3, 3, erf}, {DT_OP_Softplus, -15, 15, r_softplus}, {DT_OP_Elu, -5, 5, r_elu},
        {DT_OP_Selu, -5, 5, r_selu}, {DT_OP_Mish, -8, 8, r_mish}, {DT_OP_Sign, -5, 5, r_sign},
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (int big = 0; big < 2; big++) {
            gnew();
            int64_t n = big ? 7 * 5715 : 37;
            double *v = malloc(sizeof(double) * (size_t)n);
            for (int64_t i = 0; i < n; i++)
                v[i] = (float)rnd(ops[k].lo, ops[k].hi);
            v[0] = ops[k].lo;
            v[1] = ops[k].hi;
            int x = big ? var(DT_F32, 2, D(7, 5715), v) : var(DT_F32, 3, D(1, 37, 1), v);
            int64_t total = n;
            int y = outv();
            int nd = mk(ops[k].op, "u", 1, &x, 1, &y);
            if (ops[k].op == DT_OP_LeakyRelu)
                dt_node_set_float(G, nd, "alpha", 0.1f, NULL);
            if (ops[k].op == DT_OP_HardSigmoid) {
                dt_node_set_float(G, nd, "alpha", 0.3f, NULL);
                dt_node_set_float(G, nd, "beta", 0.4f, NULL);
            }
            if (ops[k].op == DT_OP_Elu)
                dt_node_set_float(G, nd, "alpha", 0.7f, NULL);
            dt_status st;
            dt_code rc = exec_pool(nd, big ? g_pool : NULL, &st);
            CHECKF(rc == DT_OK, "%s: %s", dt_op_name(ops[k].op), st.msg);
            CHECK(g_out[0].dtype == DT_F32);
            CHECK(big ? same_shape(0, 2, D(7, 5715)) : same_shape(0, 3, D(1, 37, 1)));
            int bad = 0;
            for (int64_t i = 0; i < total && !bad; i++) {
                double xi = ((float *)g_feed[x])[i];
                double want = ops[k].f(xi), got = outf(0, i);
                if (!close_enough(got, want, 2e-5)) {
                    bad = 1;
                    CHECKF(0, "%s(%g) = %g, want %g", dt_op_name(ops[k].op), xi, got, want);
                }
            }
            free(v);
            gfree();
        }
    }
}

static void test_round_half_even(void)
{
    gnew();
    double v[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 3.5000001, -3.7, 1e7 + 0.5};
    int x = cst(DT_F32, 1, D(10), v), y = outv();
    int nd = mk(DT_OP_Round, "r", 1, &x, 1, &y);
    dt_status st;
    CHECK(exec(nd, &st) == DT_OK);
    double want[] = {0, 2, 2, -0.0, -2, -2, 2, 4, -4, 1e7};
    for (int i = 0; i < 10; i++)
        CHECKF(outf(0, i) == want[i], "round(%g) = %g", v[i], outf(0, i));
    CHECK(signbit(outf(0, 3)));
    gfree();
}

static void test_unary_int(void)
{
    dt_dtype types[] = {DT_I32, DT_I64};
    dt_op ops[] = {DT_OP_Abs, DT_OP_Neg, DT_OP_Sign, DT_OP_Relu};
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < 4; k++) {
            gnew();
            double v[] = {-7, 0, 5, -1, 123456, -98765};
            int x = cst(types[t], 2, D(2, 3), v), y = outv();
            int nd = mk(ops[k], "ui", 1, &x, 1, &y);
            dt_status st;
            CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
            CHECK(g_out[0].dtype == types[t]);
            for (int i = 0; i < 6; i++) {
                int64_t a = (int64_t)v[i], w = 0;
                switch (ops[k]) {
                case DT_OP_Abs: w = a < 0 ? -a : a; break;
                case DT_OP_Neg: w = -a; break;
                case DT_OP_Sign: w = (a > 0) - (a < 0); break;
                default: w = a > 0 ? a : 0; break;
                }
                CHECKF(outi(0, i) == w, "%s %s(%lld) = %lld", dt_dtype_name(types[t]), dt_op_name(ops[k]),
                       (long long)a, (long long)outi(0, i));
            }
            gfree();
        }
    }
    /* two's complement wrap of INT_MIN, not a trap */
    gnew();
    int32_t m = INT32_MIN;
    int32_t *b = malloc(4);
    *b = m;
    int x = var_buf(DT_I32, 0, NULL, b), y = outv();
    int nd = mk(DT_OP_Neg, "n", 1, &x, 1, &y);
    dt_status st;
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(outi(0, 0) == INT32_MIN);
    gfree();
}

static void test_not_identity_dropout(void)
{
    gnew();
    double v[] = {1, 0, 0, 1, 1};
    int x = cst(DT_BOOL, 1, D(5), v), y = outv();
    int nd = mk(DT_OP_Not, "not", 1, &x, 1, &y);
    dt_status st;
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(g_out[0].dtype == DT_BOOL);
    for (int i = 0; i < 5; i++)
        CHECK(outi(0, i) == !v[i]);
    gfree();

    dt_dtype types[] = {DT_F32, DT_I64, DT_I32, DT_U8, DT_BOOL};
    for (int t = 0; t < 5; t++) {
        gnew();
        double w[] = {1, 0, 3, 1, 2, 1};
        int a = cst(types[t], 2, D(3, 2), w), b = outv();
        nd = mk(DT_OP_Identity, "id", 1, &a, 1, &b);
        CHECK(exec(nd, &st) == DT_OK);
        CHECK(g_out[0].dtype == types[t] && same_shape(0, 2, D(3, 2)));
        for (int i = 0; i < 6; i++)
            CHECK(outf(0, i) == (types[t] == DT_BOOL ? w[i] != 0 : w[i]));
        gfree();
    }

    for (int opset = 7; opset <= 13; opset += 6) {
        gnew();
        double w[] = {1.5, -2, 3};
        int a = cst(DT_F32, 1, D(3), w);
        int outs[2] = {outv(), outv()};
        nd = mk(DT_OP_Dropout, "drop", 1, &a, 2, outs);
        G->nodes[nd].opset = opset;
        dt_node_set_float(G, nd, "ratio", 0.5f, NULL);
        CHECK(exec(nd, &st) == DT_OK);
        CHECK(g_out[1].dtype == (opset >= 10 ? DT_BOOL : DT_F32));
        for (int i = 0; i < 3; i++) {
            CHECK(outf(0, i) == w[i]);
            CHECK(outf(1, i) == (opset >= 12)); /* ORT's zero-filled mask before opset 12 */
        }
        gfree();
    }
}

/* ---- Clip --------------------------------------------------------------- */

static void test_clip(void)
{
    dt_status st;
    double v[] = {-3, -1, 0, 0.5, 2, 7};
    /* opset 6: attributes */
    gnew();
    int x = cst(DT_F32, 1, D(6), v), y = outv();
    int nd = mk(DT_OP_Clip, "c6", 1, &x, 1, &y);
    G->nodes[nd].opset = 6;
    dt_node_set_float(G, nd, "min", -1.5f, NULL);
    dt_node_set_float(G, nd, "max", 1.f, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    for (int i = 0; i < 6; i++)
        CHECK(outf(0, i) == fmin(fmax(v[i], -1.5), 1.0));
    gfree();

    /* opset 11+: inputs, each optional; min > max gives max */
    struct { int has_lo, has_hi; double lo, hi; } cases[] = {
        {1, 1, -1, 2}, {1, 0, 0, 0}, {0, 1, 0, 0.25}, {0, 0, 0, 0}, {1, 1, 3, 1},
    };
    dt_dtype types[] = {DT_F32, DT_I32, DT_I64};
    for (int t = 0; t < 3; t++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            gnew();
            int in[3];
            in[0] = cst(types[t], 2, D(2, 3), v);
            in[1] = cases[c].has_lo ? cst(types[t], 0, NULL, &cases[c].lo) : -1;
            in[2] = cases[c].has_hi ? cst(types[t], 0, NULL, &cases[c].hi) : -1;
            int o = outv();
            nd = mk(DT_OP_Clip, "c", 3, in, 1, &o);
            CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
            for (int i = 0; i < 6; i++) {
                double xv = types[t] == DT_F32 ? v[i] : (double)(int64_t)v[i];
                double lo = types[t] == DT_F32 ? cases[c].lo : (double)(int64_t)cases[c].lo;
                double hi = types[t] == DT_F32 ? cases[c].hi : (double)(int64_t)cases[c].hi;
                double w = xv;
                if (cases[c].has_lo && w < lo)
                    w = lo;
                if (cases[c].has_hi && w > hi)
                    w = hi;
                CHECKF(outf(0, i) == w, "%s case %zu: clip(%g) = %g want %g", dt_dtype_name(types[t]), c, xv,
                       outf(0, i), w);
            }
            gfree();
        }
    }
    /* a non-scalar bound is an error, and a dtype mismatch too */
    gnew();
    double two[] = {0, 1};
    int in[3] = {cst(DT_F32, 1, D(6), v), cst(DT_F32, 1, D(2), two), -1};
    int o = outv();
    nd = mk(DT_OP_Clip, "badclip", 3, in, 1, &o);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    CHECK(strstr(st.msg, "badclip") != NULL);
    gfree();
    gnew();
    int in2[2] = {cst(DT_F32, 1, D(6), v), cst(DT_I64, 0, NULL, two)};
    o = outv();
    nd = mk(DT_OP_Clip, "badclip2", 2, in2, 1, &o);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
}

/* ---- Cast --------------------------------------------------------------- */

static void test_cast(void)
{
    dt_status st;
    /* float -> ints: truncation toward zero */
    double fv[] = {-2.7, -1.5, -0.2, 0, 0.9, 1.5, 2.5, 100.99, -100.99, 127.4};
    struct { int to; dt_dtype dt; } tos[] = {{7, DT_I64}, {6, DT_I32}, {3, DT_I8}, {9, DT_BOOL}, {1, DT_F32}};
    for (size_t t = 0; t < sizeof tos / sizeof tos[0]; t++) {
        gnew();
        int x = cst(DT_F32, 2, D(2, 5), fv), y = outv();
        int nd = mk(DT_OP_Cast, "cast", 1, &x, 1, &y);
        dt_node_set_int(G, nd, "to", tos[t].to, NULL);
        CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
        CHECK(g_out[0].dtype == tos[t].dt && same_shape(0, 2, D(2, 5)));
        for (int i = 0; i < 10; i++) {
            double f = (float)fv[i];
            double w = tos[t].dt == DT_BOOL ? (f != 0) : tos[t].dt == DT_F32 ? f : trunc(f);
            CHECKF(outf(0, i) == w, "cast %g to %s = %g", f, dt_dtype_name(tos[t].dt), outf(0, i));
        }
        gfree();
    }
    /* uint8 */
    gnew();
    double uv[] = {0, 1.9, 200.5, 255};
    int x = cst(DT_F32, 1, D(4), uv), y = outv();
    int nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "to", 2, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(g_out[0].dtype == DT_U8);
    CHECK(outi(0, 0) == 0 && outi(0, 1) == 1 && outi(0, 2) == 200 && outi(0, 3) == 255);
    gfree();

    /* ints / bool -> float and narrowing int64 -> int32 wraps */
    gnew();
    int64_t *iv = malloc(5 * 8);
    int64_t src[] = {-3, 0, 7, (int64_t)1 << 33 | 5, -((int64_t)1 << 40)};
    memcpy(iv, src, sizeof src);
    x = var_buf(DT_I64, 1, D(5), iv);
    y = outv();
    nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "to", 6, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    for (int i = 0; i < 5; i++)
        CHECK(outi(0, i) == (int32_t)(uint32_t)(uint64_t)src[i]);
    gfree();

    dt_dtype from[] = {DT_I64, DT_I32, DT_U8, DT_I8, DT_BOOL};
    int from_onnx[] = {7, 6, 2, 3, 9};
    for (int a = 0; a < 5; a++) {
        for (int b = 0; b < 5; b++) {
            gnew();
            double v[] = {0, 1, 5, 100, 1};
            x = cst(from[a], 1, D(5), v);
            y = outv();
            nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
            dt_node_set_int(G, nd, "to", from_onnx[b], NULL);
            CHECK(exec(nd, &st) == DT_OK);
            CHECK(g_out[0].dtype == from[b]);
            for (int i = 0; i < 5; i++) {
                double in = from[a] == DT_BOOL ? (v[i] != 0) : v[i];
                double w = from[b] == DT_BOOL ? (in != 0) : in;
                CHECKF(outf(0, i) == w, "%s->%s %g: %g", dt_dtype_name(from[a]), dt_dtype_name(from[b]), in,
                       outf(0, i));
            }
            gfree();
        }
        /* to float */
        gnew();
        double v[] = {0, 1, 5, 100};
        x = cst(from[a], 1, D(4), v);
        y = outv();
        nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
        dt_node_set_int(G, nd, "to", 1, NULL);
        CHECK(exec(nd, &st) == DT_OK);
        CHECK(g_out[0].dtype == DT_F32);
        for (int i = 0; i < 4; i++)
            CHECK(outf(0, i) == (from[a] == DT_BOOL ? (v[i] != 0) : v[i]));
        gfree();
    }
    /* negative int8 -> int64 sign-extends; int64 -> uint8 keeps low bits */
    gnew();
    double nv[] = {-1, -128, 127};
    x = cst(DT_I8, 1, D(3), nv);
    y = outv();
    nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "to", 7, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(outi(0, 0) == -1 && outi(0, 1) == -128 && outi(0, 2) == 127);
    gfree();
    gnew();
    double wv[] = {-1, 256 + 7, 1000};
    x = cst(DT_I64, 1, D(3), wv);
    y = outv();
    nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "to", 2, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(outi(0, 0) == 255 && outi(0, 1) == 7 && outi(0, 2) == (1000 & 255));
    gfree();

    /* float16 target: float32 storage rounded to half; float64 -> float32 */
    gnew();
    double hv[] = {1.0 / 3.0, 65504, 1e-3, 70000};
    x = cst(DT_F32, 1, D(4), hv);
    y = outv();
    nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "to", 10, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(g_out[0].dtype == DT_F32);
    CHECK(outf(0, 0) == 0.333251953125);
    CHECK(outf(0, 1) == 65504);
    CHECK(fabs(outf(0, 2) - 1e-3) < 1e-6 && outf(0, 2) != (float)1e-3);
    CHECK(isinf(outf(0, 3)));
    gfree();
    gnew();
    x = cst(DT_F32, 1, D(4), hv);
    y = outv();
    nd = mk(DT_OP_Cast, "c", 1, &x, 1, &y);
    dt_node_set_int(G, nd, "to", 11, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(g_out[0].dtype == DT_F32 && outf(0, 0) == (float)(1.0 / 3.0));
    gfree();

    /* missing / unsupported "to" */
    gnew();
    x = cst(DT_F32, 1, D(4), hv);
    y = outv();
    nd = mk(DT_OP_Cast, "nocast", 1, &x, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "nocast"));
    dt_node_set_int(G, nd, "to", 8, NULL); /* string */
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED);
    gfree();
}

/* ---- binary ops against naive broadcasting ------------------------------ */

/* Index into an input of shape (nd, d) for output flat index e of (ond, od). */
static int64_t bidx(int ond, const int64_t *od, int nd, const int64_t *d, int64_t e)
{
    int64_t idx[DT_MAX_DIMS];
    for (int i = ond - 1; i >= 0; i--) {
        idx[i] = e % od[i];
        e /= od[i];
    }
    int64_t off = 0;
    for (int j = 0; j < nd; j++) {
        int i = ond - nd + j;
        off = off * d[j] + (d[j] == 1 ? 0 : idx[i]);
    }
    return off;
}

static double wrap_to(dt_dtype t, double v)
{
    if (t == DT_I32)
        return (double)(int32_t)(uint32_t)(int64_t)v;
    return v;
}

/* Naive semantics, written from the spec. */
static double ref_bin(dt_op op, dt_dtype t, double a, double b, int fmodv)
{
    int isint = t != DT_F32;
    switch (op) {
    case DT_OP_Add: return a + b;
    case DT_OP_Sub: return a - b;
    case DT_OP_Mul: return a * b;
    case DT_OP_Div:
        if (isint)
            return b == 0 ? 0 : trunc(a / b);
        return (float)a / (float)b;
    case DT_OP_Min: return a < b ? a : b;
    case DT_OP_Max: return a > b ? a : b;
    case DT_OP_Pow: return isint ? trunc(pow(a, b)) : pow(a, b);
    case DT_OP_Mod:
        if (b == 0)
            return isint ? 0 : fmod(a, b);
        if (fmodv)
            return fmod(a, b);
        return a - b * floor(a / b);
    case DT_OP_FloorDiv:
        if (isint)
            return b == 0 ? 0 : floor(a / b);
        return floor((float)a / (float)b);
    case DT_OP_PRelu: return a < 0 ? a * b : a;
    case DT_OP_Equal: return a == b;
    case DT_OP_Greater: return a > b;
    case DT_OP_Less: return a < b;
    case DT_OP_GreaterOrEqual: return a >= b;
    case DT_OP_LessOrEqual: return a <= b;
    case DT_OP_And: return (a != 0) && (b != 0);
    case DT_OP_Or: return (a != 0) || (b != 0);
    case DT_OP_Xor: return (a != 0) != (b != 0);
    default: return NAN;
    }
}

typedef struct bshape {
    int na;
    int64_t a[DT_MAX_DIMS];
    int nb;
    int64_t b[DT_MAX_DIMS];
} bshape;

static const bshape g_shapes[] = {
    {3, {2, 3, 4}, 3, {2, 3, 4}},        /* same */
    {3, {2, 3, 4}, 0, {0}},              /* scalar right */
    {0, {0}, 3, {2, 3, 4}},              /* scalar left */
    {3, {2, 3, 5}, 1, {5}},              /* row */
    {4, {2, 3, 4, 5}, 4, {1, 3, 1, 1}},  /* channel */
    {4, {2, 3, 4, 5}, 3, {3, 1, 1}},     /* channel, lower rank */
    {3, {2, 1, 4}, 3, {1, 3, 1}},        /* outer product style */
    {2, {3, 1}, 2, {1, 5}},
    {1, {1}, 1, {5}},
    {3, {2, 0, 3}, 1, {3}},              /* zero-size */
    {2, {4, 5}, 3, {2, 1, 5}},           /* left lower rank */
    {4, {2, 3, 1, 5}, 3, {3, 4, 1}},
    {3, {1, 1, 1}, 1, {1}},
    {3, {1, 3, 1}, 3, {2, 1, 4}},
    {2, {7, 1}, 1, {1}},
    {3, {3, 203, 97}, 2, {203, 1}},      /* large: multiple parallel chunks, partial rows */
    {1, {70001}, 0, {0}},                /* large scalar broadcast */
    {2, {2, 40000}, 2, {2, 40000}},      /* large same shape */
    {3, {1, 1, 33}, 3, {1000, 1, 1}},    /* large, inner broadcast on a */
};

static void run_binary_case(dt_op op, dt_dtype t, const bshape *s, int fmodv, dt_pool *pool, int opset)
{
    gnew();
    int64_t na = dt_shape_numel(s->na, s->a), nb = dt_shape_numel(s->nb, s->b);
    double *va = malloc(sizeof(double) * (size_t)(na + 1)), *vb = malloc(sizeof(double) * (size_t)(nb + 1));
    int isint = t == DT_I32 || t == DT_I64;
    for (int64_t i = 0; i < na; i++)
        va[i] = t == DT_BOOL ? rndi(0, 1) : isint ? rndi(-20, 20) : (float)rnd(-4, 4);
    for (int64_t i = 0; i < nb; i++) {
        vb[i] = t == DT_BOOL ? rndi(0, 1) : isint ? rndi(-9, 9) : (float)rnd(-4, 4);
        if (!isint && t != DT_BOOL && fabs(vb[i]) < 0.05)
            vb[i] = 0.5;
    }
    if (op == DT_OP_Pow) {
        for (int64_t i = 0; i < na; i++)
            va[i] = isint ? rndi(-4, 4) : (float)rnd(0.1, 3);
        for (int64_t i = 0; i < nb; i++)
            vb[i] = isint ? rndi(0, 5) : (float)rnd(-2, 2);
    }
    int in[2] = {var(t, s->na, s->a, va), var(t, s->nb, s->b, vb)};
    int y = outv();
    int nd = mk(op, "bin", 2, in, 1, &y);
    G->nodes[nd].opset = opset;
    if (op == DT_OP_Mod)
        dt_node_set_int(G, nd, "fmod", fmodv, NULL);
    dt_status st;
    dt_code rc = exec_pool(nd, pool, &st);
    CHECKF(rc == DT_OK, "%s %s: %s", dt_op_name(op), dt_dtype_name(t), st.msg);
    if (rc) {
        free(va);
        free(vb);
        gfree();
        return;
    }
    int ond = s->na > s->nb ? s->na : s->nb;
    int64_t od[DT_MAX_DIMS];
    for (int i = 0; i < ond; i++) {
        int64_t da = i < ond - s->na ? 1 : s->a[i - (ond - s->na)];
        int64_t db = i < ond - s->nb ? 1 : s->b[i - (ond - s->nb)];
        od[i] = da == 1 ? db : da;
    }
    CHECKF(same_shape(0, ond, od), "%s shape", dt_op_name(op));
    int cmp = op == DT_OP_Equal || op == DT_OP_Greater || op == DT_OP_Less || op == DT_OP_GreaterOrEqual ||
              op == DT_OP_LessOrEqual;
    CHECK(g_out[0].dtype == (cmp ? DT_BOOL : t));
    int64_t total = dt_shape_numel(ond, od);
    int bad = 0;
    for (int64_t e = 0; e < total && !bad; e++) {
        double a = va[bidx(ond, od, s->na, s->a, e)], b = vb[bidx(ond, od, s->nb, s->b, e)];
        if (t == DT_F32) {
            a = (float)a;
            b = (float)b;
        }
        double w = ref_bin(op, t, a, b, fmodv);
        if (!cmp && t != DT_BOOL)
            w = wrap_to(t, w);
        double got = outf(0, e);
        double tol = t == DT_F32 ? (op == DT_OP_Pow ? 2e-6 : (op == DT_OP_Mod ? 1e-5 : 1e-6)) : 0;
        if (op == DT_OP_FloorDiv && t == DT_F32)
            tol = 0;
        if (!close_enough(got, t == DT_F32 && !cmp ? (float)w : w, tol)) {
            bad = 1;
            CHECKF(0, "%s %s shape#%d fmod=%d: f(%g, %g) = %g, want %g (elem %lld)", dt_op_name(op), dt_dtype_name(t),
                   (int)(s - g_shapes), fmodv, a, b, got, w, (long long)e);
        }
    }
    free(va);
    free(vb);
    gfree();
}

static void test_binary_broadcast(void)
{
    dt_op arith[] = {DT_OP_Add, DT_OP_Sub, DT_OP_Mul, DT_OP_Div, DT_OP_Min, DT_OP_Max, DT_OP_Pow, DT_OP_Mod,
                     DT_OP_FloorDiv, DT_OP_Equal, DT_OP_Greater, DT_OP_Less, DT_OP_GreaterOrEqual,
                     DT_OP_LessOrEqual};
    dt_dtype types[] = {DT_F32, DT_I32, DT_I64};
    size_t ns = sizeof g_shapes / sizeof g_shapes[0];
    for (size_t k = 0; k < sizeof arith / sizeof arith[0]; k++)
        for (int t = 0; t < 3; t++)
            for (size_t s = 0; s < ns; s++)
                for (int fm = 0; fm < (arith[k] == DT_OP_Mod ? 2 : 1); fm++)
                    run_binary_case(arith[k], types[t], &g_shapes[s], fm, s % 2 ? g_pool : NULL, 17);
    dt_op logic[] = {DT_OP_And, DT_OP_Or, DT_OP_Xor, DT_OP_Equal};
    for (size_t k = 0; k < 4; k++)
        for (size_t s = 0; s < ns; s++)
            run_binary_case(logic[k], DT_BOOL, &g_shapes[s], 0, g_pool, 17);
}

/* Specific integer semantics that random data may miss. */
static void test_int_division(void)
{
    double a[] = {7, -7, 7, -7, 6, -6, 0, 5, INT32_MIN};
    double b[] = {2, 2, -2, -2, 3, 3, 4, 0, -1};
    /* Div truncates, Mod fmod=0 follows the divisor, fmod=1 the dividend,
     * FloorDiv floors; a zero divisor yields 0; INT_MIN / -1 wraps. */
    double div[] = {3, -3, -3, 3, 2, -2, 0, 0, INT32_MIN};
    double mod0[] = {1, 1, -1, -1, 0, 0, 0, 0, 0};
    double mod1[] = {1, -1, 1, -1, 0, 0, 0, 0, 0};
    double fdiv[] = {3, -4, -4, 3, 2, -2, 0, 0, INT32_MIN};
    struct { dt_op op; int fm; const double *w; } cases[] = {
        {DT_OP_Div, 0, div}, {DT_OP_Mod, 0, mod0}, {DT_OP_Mod, 1, mod1}, {DT_OP_FloorDiv, 0, fdiv}};
    dt_dtype types[] = {DT_I32, DT_I64};
    for (int t = 0; t < 2; t++) {
        for (int c = 0; c < 4; c++) {
            gnew();
            int in[2] = {cst(types[t], 1, D(9), a), cst(types[t], 1, D(9), b)};
            int y = outv();
            int nd = mk(cases[c].op, "div", 2, in, 1, &y);
            dt_node_set_int(G, nd, "fmod", cases[c].fm, NULL);
            dt_status st;
            CHECK(exec(nd, &st) == DT_OK);
            for (int i = 0; i < 9; i++) {
                double w = cases[c].w[i];
                if (types[t] == DT_I64 && i == 8 && cases[c].op != DT_OP_Mod)
                    w = -(double)INT32_MIN;
                CHECKF(outf(0, i) == w, "%s %s fmod=%d: %g, %g -> %g want %g", dt_dtype_name(types[t]),
                       dt_op_name(cases[c].op), cases[c].fm, a[i], b[i], outf(0, i), w);
            }
            gfree();
        }
    }
    /* float Mod: fmod=1 is C fmod; fmod=0 takes the divisor's sign */
    gnew();
    double fa[] = {5.5, -5.5, 5.5, -5.5}, fb[] = {2, 2, -2, -2};
    int in[2] = {cst(DT_F32, 1, D(4), fa), cst(DT_F32, 1, D(4), fb)};
    int y = outv();
    int nd = mk(DT_OP_Mod, "fm", 2, in, 1, &y);
    dt_node_set_int(G, nd, "fmod", 1, NULL);
    dt_status st;
    CHECK(exec(nd, &st) == DT_OK);
    double w1[] = {1.5, -1.5, 1.5, -1.5}, w0[] = {1.5, 0.5, -0.5, -1.5};
    for (int i = 0; i < 4; i++)
        CHECK(outf(0, i) == w1[i]);
    dt_node_set_int(G, nd, "fmod", 0, NULL);
    CHECK(exec(nd, &st) == DT_OK);
    for (int i = 0; i < 4; i++)
        CHECK(outf(0, i) == w0[i]);
    gfree();
}

static void test_pow_mixed(void)
{
    /* float base with int exponent; int base with int exponent; x^2 fast path */
    dt_status st;
    dt_dtype et[] = {DT_I32, DT_I64, DT_F32};
    for (int e = 0; e < 3; e++) {
        gnew();
        double base[] = {-2, 1.5, 3, 0.5, -1}, ex[] = {3, 2, 0, -1, 2};
        int in[2] = {cst(DT_F32, 1, D(5), base), cst(et[e], 1, D(5), ex)};
        int y = outv();
        int nd = mk(DT_OP_Pow, "p", 2, in, 1, &y);
        CHECK(exec(nd, &st) == DT_OK);
        CHECK(g_out[0].dtype == DT_F32);
        for (int i = 0; i < 5; i++)
            CHECK_NEAR(outf(0, i), pow(base[i], ex[i]), 1e-6);
        gfree();
    }
    gnew();
    double base[] = {-2, 3, 5, 0, 10}, ex[] = {3, 2, 0, 4, 9};
    int in[2] = {cst(DT_I64, 1, D(5), base), cst(DT_I64, 1, D(5), ex)};
    int y = outv();
    int nd = mk(DT_OP_Pow, "p", 2, in, 1, &y);
    CHECK(exec(nd, &st) == DT_OK);
    CHECK(g_out[0].dtype == DT_I64);
    for (int i = 0; i < 5; i++)
        CHECK(outi(0, i) == (int64_t)pow(base[i], ex[i]));
    gfree();
    gnew();
    double xs[] = {-3, 0.5, 4, -0.25};
    double two = 2;
    int in2[2] = {cst(DT_F32, 2, D(2, 2), xs), cst(DT_F32, 0, NULL, &two)};
    y = outv();
    nd = mk(DT_OP_Pow, "sq", 2, in2, 1, &y);
    CHECK(exec(nd, &st) == DT_OK);
    for (int i = 0; i < 4; i++)
        CHECK(outf(0, i) == xs[i] * xs[i]);
    gfree();
}

static void test_prelu(void)
{
    dt_status st;
    dt_dtype types[] = {DT_F32, DT_I32, DT_I64};
    for (int t = 0; t < 3; t++) {
        /* slope per channel [C,1,1] on NCHW and a scalar slope */
        for (int sc = 0; sc < 2; sc++) {
            gnew();
            double x[2 * 3 * 2 * 2], sl[3] = {2, -1, 3};
            for (int i = 0; i < 24; i++)
                x[i] = (i % 5) - 2;
            int in[2] = {cst(types[t], 4, D(2, 3, 2, 2), x),
                         sc ? cst(types[t], 1, D(1), sl) : cst(types[t], 3, D(3, 1, 1), sl)};
            int y = outv();
            int nd = mk(DT_OP_PRelu, "prelu", 2, in, 1, &y);
            CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
            CHECK(same_shape(0, 4, D(2, 3, 2, 2)));
            for (int i = 0; i < 24; i++) {
                double s = sc ? sl[0] : sl[(i / 4) % 3];
                CHECK(outf(0, i) == (x[i] < 0 ? x[i] * s : x[i]));
            }
            gfree();
        }
    }
    /* slope that would grow X is rejected */
    gnew();
    double x[3] = {1, 2, 3}, sl[6] = {0};
    int in[2] = {cst(DT_F32, 1, D(3), x), cst(DT_F32, 2, D(2, 3), sl)};
    int y = outv();
    int nd = mk(DT_OP_PRelu, "badprelu", 2, in, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "badprelu"));
    gfree();
}

/* ---- variadic ----------------------------------------------------------- */

static void test_variadic(void)
{
    dt_op ops[] = {DT_OP_Sum, DT_OP_Mean, DT_OP_Max, DT_OP_Min};
    dt_dtype types[] = {DT_F32, DT_I32, DT_I64};
    const int64_t *shp[3] = {D(2, 3, 4), D(3, 1), D(4)};
    int nds[3] = {3, 2, 1};
    for (int k = 0; k < 4; k++) {
        for (int t = 0; t < 3; t++) {
            if (ops[k] == DT_OP_Mean && t > 0)
                continue;
            for (int nin = 1; nin <= 3; nin++) {
                for (int order = 0; order < 2; order++) {
                    gnew();
                    double v[3][24];
                    int in[3];
                    for (int j = 0; j < nin; j++) {
                        int s = order ? (nin - 1 - j) : j; /* exercise a smaller first input too */
                        for (int i = 0; i < 24; i++)
                            v[j][i] = t ? rndi(-9, 9) : (float)rnd(-5, 5);
                        in[j] = cst(types[t], nds[s], shp[s], v[j]);
                    }
                    int y = outv();
                    int nd = mk(ops[k], "var", nin, in, 1, &y);
                    dt_status st;
                    CHECKF(exec_pool(nd, g_pool, &st) == DT_OK, "%s", st.msg);
                    int ond = 0;
                    int64_t od[3];
                    for (int j = 0; j < nin; j++) {
                        int s = order ? (nin - 1 - j) : j;
                        if (nds[s] > ond) {
                            ond = nds[s];
                            memcpy(od, shp[s], sizeof(int64_t) * (size_t)ond);
                        }
                    }
                    if (nin >= 2) { /* shapes {2,3,4},{3,1} -> {2,3,4}; {3,1},{4}->{3,4} */
                        int has0 = 0, has1 = 0, has2 = 0;
                        for (int j = 0; j < nin; j++) {
                            int s = order ? (nin - 1 - j) : j;
                            has0 |= s == 0;
                            has1 |= s == 1;
                            has2 |= s == 2;
                        }
                        if (has0) {
                            ond = 3;
                            memcpy(od, shp[0], 24);
                        } else if (has1 && has2) {
                            ond = 2;
                            od[0] = 3;
                            od[1] = 4;
                        }
                    }
                    CHECK(same_shape(0, ond, od));
                    int64_t total = dt_shape_numel(ond, od);
                    for (int64_t e = 0; e < total; e++) {
                        double acc = 0;
                        for (int j = 0; j < nin; j++) {
                            int s = order ? (nin - 1 - j) : j;
                            double a = v[j][bidx(ond, od, nds[s], shp[s], e)];
                            if (!t)
                                a = (float)a;
                            if (j == 0)
                                acc = a;
                            else if (ops[k] == DT_OP_Max)
                                acc = a > acc ? a : acc;
                            else if (ops[k] == DT_OP_Min)
                                acc = a < acc ? a : acc;
                            else
                                acc += a;
                        }
                        if (ops[k] == DT_OP_Mean)
                            acc /= nin;
                        CHECKF(close_enough(outf(0, e), acc, 1e-6), "%s %s nin=%d: %g want %g",
                               dt_op_name(ops[k]), dt_dtype_name(types[t]), nin, outf(0, e), acc);
                    }
                    gfree();
                }
            }
        }
    }
}

/* ---- Where -------------------------------------------------------------- */

static void test_where(void)
{
    struct { int nc; int64_t c[4]; int nx; int64_t x[4]; int ny; int64_t y[4]; } shapes[] = {
        {2, {3, 4}, 2, {3, 4}, 2, {3, 4}},
        {1, {4}, 2, {3, 4}, 0, {0}},
        {2, {3, 1}, 1, {4}, 2, {1, 4}},
        {3, {2, 1, 4}, 2, {3, 1}, 0, {0}},
        {0, {0}, 2, {3, 4}, 2, {3, 4}},
        {2, {300, 1}, 1, {70}, 2, {300, 70}},
    };
    dt_dtype types[] = {DT_F32, DT_I64, DT_I32, DT_BOOL, DT_U8};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int t = 0; t < 5; t++) {
            gnew();
            int64_t nc = dt_shape_numel(shapes[s].nc, shapes[s].c), nx = dt_shape_numel(shapes[s].nx, shapes[s].x),
                    ny = dt_shape_numel(shapes[s].ny, shapes[s].y);
            double *vc = malloc(8 * (size_t)nc), *vx = malloc(8 * (size_t)nx), *vy = malloc(8 * (size_t)ny);
            for (int64_t i = 0; i < nc; i++)
                vc[i] = rndi(0, 1);
            for (int64_t i = 0; i < nx; i++)
                vx[i] = types[t] == DT_BOOL ? 1 : rndi(0, 100);
            for (int64_t i = 0; i < ny; i++)
                vy[i] = types[t] == DT_BOOL ? 0 : -rndi(1, 100) * (types[t] == DT_U8 ? -1 : 1);
            int in[3] = {var(DT_BOOL, shapes[s].nc, shapes[s].c, vc), var(types[t], shapes[s].nx, shapes[s].x, vx),
                         var(types[t], shapes[s].ny, shapes[s].y, vy)};
            int o = outv();
            int nd = mk(DT_OP_Where, "where", 3, in, 1, &o);
            dt_status st;
            CHECKF(exec_pool(nd, g_pool, &st) == DT_OK, "%s", st.msg);
            CHECK(g_out[0].dtype == types[t]);
            int ond = g_out[0].ndim;
            const int64_t *od = g_out[0].dims;
            int64_t total = dt_shape_numel(ond, od);
            int bad = 0;
            for (int64_t e = 0; e < total && !bad; e++) {
                double c = vc[bidx(ond, od, shapes[s].nc, shapes[s].c, e)];
                double w = c ? vx[bidx(ond, od, shapes[s].nx, shapes[s].x, e)]
                             : vy[bidx(ond, od, shapes[s].ny, shapes[s].y, e)];
                if (types[t] == DT_U8)
                    w = (uint8_t)w;
                if (outf(0, e) != w) {
                    bad = 1;
                    CHECKF(0, "where shape %zu %s elem %lld: %g want %g", s, dt_dtype_name(types[t]), (long long)e,
                           outf(0, e), w);
                }
            }
            free(vc);
            free(vx);
            free(vy);
            gfree();
        }
    }
    /* condition must be bool; X/Y dtypes must agree; shapes must broadcast */
    gnew();
    double v[4] = {1, 0, 1, 0};
    int in[3] = {cst(DT_F32, 1, D(4), v), cst(DT_F32, 1, D(4), v), cst(DT_F32, 1, D(4), v)};
    int o = outv();
    int nd = mk(DT_OP_Where, "w1", 3, in, 1, &o);
    dt_status st;
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED);
    gfree();
    gnew();
    int in2[3] = {cst(DT_BOOL, 1, D(4), v), cst(DT_F32, 1, D(4), v), cst(DT_I64, 1, D(4), v)};
    o = outv();
    nd = mk(DT_OP_Where, "w2", 3, in2, 1, &o);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
    gnew();
    int in3[3] = {cst(DT_BOOL, 1, D(4), v), cst(DT_F32, 1, D(3), v), cst(DT_F32, 1, D(4), v)};
    o = outv();
    nd = mk(DT_OP_Where, "w3", 3, in3, 1, &o);
    CHECK(exec(nd, &st) == DT_ESHAPE && strstr(st.msg, "w3"));
    gfree();
}

/* ---- errors, legacy forms and unknown dims ------------------------------ */

static void test_errors(void)
{
    dt_status st;
    double v[12] = {0};
    /* incompatible shapes */
    gnew();
    int in[2] = {cst(DT_F32, 2, D(3, 4), v), cst(DT_F32, 1, D(3), v)};
    int y = outv();
    int nd = mk(DT_OP_Add, "addbad", 2, in, 1, &y);
    CHECK(exec(nd, &st) == DT_ESHAPE);
    CHECK(strstr(st.msg, "addbad") != NULL);
    gfree();
    /* mixed dtypes */
    gnew();
    int in2[2] = {cst(DT_F32, 1, D(3), v), cst(DT_I64, 1, D(3), v)};
    y = outv();
    nd = mk(DT_OP_Mul, "mulmix", 2, in2, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL && strstr(st.msg, "mulmix"));
    gfree();
    /* unsupported dtype for the op */
    gnew();
    int x = cst(DT_I64, 1, D(3), v);
    y = outv();
    nd = mk(DT_OP_Sqrt, "sqrti", 1, &x, 1, &y);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED && strstr(st.msg, "sqrti"));
    gfree();
    gnew();
    int in3[2] = {cst(DT_F32, 1, D(3), v), cst(DT_F32, 1, D(3), v)};
    y = outv();
    nd = mk(DT_OP_And, "andf", 2, in3, 1, &y);
    CHECK(exec(nd, &st) == DT_EUNSUPPORTED);
    gfree();
    /* wrong arity */
    gnew();
    x = cst(DT_F32, 1, D(3), v);
    y = outv();
    nd = mk(DT_OP_Add, "add1", 1, &x, 1, &y);
    CHECK(exec(nd, &st) == DT_EINVAL);
    gfree();
    /* kernel given shapes that do not broadcast into its output: error, no crash */
    gnew();
    int in4[2] = {cst(DT_F32, 1, D(4), v), cst(DT_F32, 1, D(4), v)};
    y = outv();
    nd = mk(DT_OP_Add, "k", 2, in4, 1, &y);
    CHECK(infer_only(nd, &st) == DT_OK);
    {
        const dt_opdef *d = dt_opdef_get(DT_OP_Add);
        float a[4] = {0}, b[5] = {0}, o[4];
        dt_tensor ta = {DT_F32, 1, {4}, a}, tb = {DT_F32, 1, {5}, b}, to = {DT_F32, 1, {4}, o};
        const dt_tensor *ins[2] = {&ta, &tb};
        dt_tensor *outs[1] = {&to};
        dt_kctx ctx = {NULL, NULL, 0};
        CHECK(d->ref(&G->nodes[nd], ins, 2, outs, 1, &ctx, &st) == DT_ESHAPE);
    }
    gfree();
}

static void test_legacy_and_unknown(void)
{
    dt_status st;
    /* opset 6 Add with broadcast=1, axis=1: B [3] aligns with A's dim 1 */
    gnew();
    double a[24], b[3] = {100, 200, 300};
    for (int i = 0; i < 24; i++)
        a[i] = i;
    int in[2] = {cst(DT_F32, 3, D(2, 3, 4), a), cst(DT_F32, 1, D(3), b)};
    int y = outv();
    int nd = mk(DT_OP_Add, "legacy", 2, in, 1, &y);
    G->nodes[nd].opset = 6;
    dt_node_set_int(G, nd, "broadcast", 1, NULL);
    dt_node_set_int(G, nd, "axis", 1, NULL);
    CHECKF(exec(nd, &st) == DT_OK, "%s", st.msg);
    CHECK(same_shape(0, 3, D(2, 3, 4)));
    for (int i = 0; i < 24; i++)
        CHECK(outf(0, i) == a[i] + b[(i / 4) % 3]);
    gfree();
    /* unknown dims propagate through infer */
    gnew();
    int p = dt_graph_add_value(G, "p", DT_F32, 3, D(-1, 3, 1), &st);
    int q = dt_graph_add_value(G, "q", DT_F32, 2, D(1, 5), &st);
    int in2[2] = {p, q};
    y = outv();
    nd = mk(DT_OP_Mul, "unk", 2, in2, 1, &y);
    CHECK(infer_only(nd, &st) == DT_OK);
    CHECK(G->values[y].ndim == 3 && G->values[y].dims[0] == -1 && G->values[y].dims[1] == 3 &&
          G->values[y].dims[2] == 5);
    int r = dt_graph_add_value(G, "r", DT_F32, -1, NULL, &st);
    int y2 = outv();
    int nd2 = mk(DT_OP_Relu, "unkrank", 1, &r, 1, &y2);
    CHECK(infer_only(nd2, &st) == DT_OK && G->values[y2].ndim == -1);
    gfree();
}

int main(void)
{
    dt_status st;
    if (dt_pool_create(2, &g_pool, &st) != DT_OK) {
        fprintf(stderr, "pool: %s\n", st.msg);
        return 1;
    }
    RUN(test_unary_float);
    RUN(test_round_half_even);
    RUN(test_unary_int);
    RUN(test_not_identity_dropout);
    RUN(test_clip);
    RUN(test_cast);
    RUN(test_binary_broadcast);
    RUN(test_int_division);
    RUN(test_pow_mixed);
    RUN(test_prelu);
    RUN(test_variadic);
    RUN(test_where);
    RUN(test_errors);
    RUN(test_legacy_and_unknown);
    dt_pool_free(g_pool);
    return tl_summary();
}
