/* test_faults_fuzz.c — bugs the fuzzers found (tests/fuzz/crashers/), each
 * as a unit test that states the contract the input broke.  The raw inputs
 * are replayed by tests/fuzz/run.sh too; these tests run in every build
 * (no clang needed) and name the function at fault.
 *
 *   v2_uint8_shape_allocation   api_parse (src/server/api.c, v2_parse_input,
 *                               UINT8 JSON data): the declared shape sized an
 *                               allocation before the data was counted, so a
 *                               100-byte request asked for 1 TiB (503 instead
 *                               of 400; ASan: allocation-size-too-big).
 *                               Crasher: tests/fuzz/crashers/v2/uint8_shape_2p40_alloc
 *                               (fixed in api.c: count is checked against r->len)
 *   float_index_to_int          dt_tensor_get_i (src/engine/tensor.c:96): a float
 *                               element that is NaN, infinite or beyond int64 was cast
 *                               to int64_t, undefined behaviour (UBSan: "nan is outside
 *                               the range of representable values"; x86 gives INT64_MIN,
 *                               so 1e30 became a huge negative index).  Reached from a
 *                               model file: TF.js StridedSlice/Slice/Reshape... with a
 *                               float32 constant as begin/end/shape (tfjs.c const_ints).
 *                               Crasher: tests/fuzz/crashers/tfjs/stridedslice_float_nan_begin
 *   resize_scale_overflow       rz_params_get (src/engine/ops/nn_resize.c): a Resize
 *                               scale of 1e30 made the output dim a float beyond int64,
 *                               cast to int64_t (UBSan: "2.67474e+32 is outside the range
 *                               of representable values of type 'long'"), found once
 *                               fuzz_onnx created sessions.  Now DT_ELIMIT.
 *                               Crasher: tests/fuzz/crashers/onnx/resize_scale_float_to_int_overflow
 *   slice_negative_step_empty   slice_params (src/engine/ops/tensor.c): a negative step
 *                               over an axis of size 0 clamped start to 0 and counted one
 *                               element, so k_slice read past an empty input (ASan:
 *                               heap-buffer-overflow in sc_rows), found once fuzz_tfjs
 *                               created sessions (StridedSlice of a [0,8,8,4] input).
 *                               Crasher: tests/fuzz/crashers/tfjs/stridedslice_negative_step_empty_axis */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/engine.h"
#include "engine/graph.h"
#include "engine/loaders/loaders.h"
#include "engine/tensor.h"
#include "server/internal.h"
#include "testlib.h"

/* A v2 request for a fake staged model with an 8x8x3 input (as fuzz_v2.c). */
static dt_code v2_parse(const char *json, dt_status *st, req **out)
{
    static mslot slot;
    static minst inst;
    snprintf(slot.name, sizeof slot.name, "m");
    inst.slot = &slot;
    inst.item_floats = 3 * 8 * 8;
    inst.info.input_w = inst.info.input_h = 8;
    inst.staged = 1;
    req *r = calloc(1, sizeof *r);
    r->route = R_V2_INFER;
    r->slot = &slot;
    r->inst = &inst;
    r->v2_header_len = -1;
    r->len = r->cap = strlen(json);
    r->body = malloc(r->len);
    memcpy(r->body, json, r->len);
    dt_status_clear(st);
    *out = r;
    return api_parse(r, st);
}

static void v2_free(req *r)
{
    dt_free(r->v2_id);
    dt_free(r->v2_img);
    dt_free(r->prep);
    free(r->body);
    free(r);
}

static void v2_uint8_shape_allocation(void)
{
    /* shape claims 2^40-1 values, data holds 2: malformed (400), not out of memory */
    static const char *const cases[] = {
        "{\"inputs\":[{\"name\":\"i\",\"datatype\":\"UINT8\",\"shape\":[1099511627775],\"data\":[1,2]}]}",
        "{\"inputs\":[{\"name\":\"i\",\"datatype\":\"UINT8\",\"shape\":[65536,65536],\"data\":[255,216,255]}]}",
        "{\"inputs\":[{\"name\":\"i\",\"datatype\":\"UINT8\",\"shape\":[100000000],\"data\":[]}]}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dt_status st;
        req *r;
        dt_code rc = v2_parse(cases[i], &st, &r);
        CHECKF(rc == DT_EINVAL, "case %zu: %s (%s), want invalid: the shape must not size an allocation beyond "
                                "what the request holds", i, dt_code_name(rc), st.msg);
        v2_free(r);
    }
    /* and the honest request still parses */
    dt_status st;
    req *r;
    dt_code rc = v2_parse("{\"inputs\":[{\"name\":\"i\",\"datatype\":\"UINT8\",\"shape\":[4],"
                          "\"data\":[255,216,255,0]}]}", &st, &r);
    CHECKF(rc == DT_OK && r->img_len == 4, "%s", st.msg);
    v2_free(r);
}

static void float_index_to_int(void)
{
    /* The conversion must be defined for every float (the sanitizer job runs
     * this under UBSan) and keep the sign of out-of-range values. */
    float f[5] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f};
    dt_tensor t = {.dtype = DT_F32, .ndim = 1, .dims = {5}, .data = f};
    int64_t v[5];
    for (int i = 0; i < 5; i++)
        v[i] = dt_tensor_get_i(&t, i);
    CHECKF(v[1] > 0 && v[3] > 0, "+inf -> %lld, 1e30 -> %lld: a huge positive index turned negative",
           (long long)v[1], (long long)v[3]);
    CHECKF(v[2] < 0 && v[4] < 0, "-inf -> %lld, -1e30 -> %lld", (long long)v[2], (long long)v[4]);
    (void)v[0];

    /* the model that reached it: an error or a graph, never UB */
    FILE *fp = fopen("tests/fuzz/crashers/tfjs/stridedslice_float_nan_begin", "rb");
    if (!fp) {
        fprintf(stderr, "  (crasher file not found: run from the repository root)\n");
        return;
    }
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    size_t jl = n >= 4 ? (size_t)buf[0] | (size_t)buf[1] << 8 | (size_t)buf[2] << 16 | (size_t)buf[3] << 24 : 0;
    CHECK(n >= 4 && jl <= n - 4);
    if (n < 4 || jl > n - 4)
        return;
    dt_graph *g = NULL;
    dt_status st;
    dt_code rc = dt_load_tfjs_buffer((const char *)buf + 4, jl, buf + 4 + jl, n - 4 - jl, &g, &st);
    CHECK(rc == DT_OK ? g != NULL : g == NULL);
    dt_graph_free(g);
}

/* Resize of x [1,1,2,2] by `scales`, as a session: its create status. */
static dt_code resize_session(const float *scales, dt_status *st)
{
    dt_graph *g = dt_graph_create();
    int64_t xd[4] = {1, 1, 2, 2}, sd[1] = {4};
    int x = dt_graph_add_value(g, "x", DT_F32, 4, xd, st);
    int sc = dt_graph_add_const(g, "scales", DT_F32, 1, sd, scales, st);
    int y = dt_graph_add_value(g, "y", DT_F32, -1, NULL, st);
    int in[3] = {x, -1, sc};
    int nd = dt_graph_add_node(g, DT_OP_Resize, "resize", 3, in, 1, &y, st);
    CHECK(x >= 0 && sc >= 0 && y >= 0 && nd >= 0);
    CHECK(dt_graph_mark_input(g, x, st) == DT_OK && dt_graph_mark_output(g, y, st) == DT_OK);
    CHECK(dt_node_set_string(g, nd, "mode", "nearest", st) == DT_OK);
    g->nodes[nd].opset = 13;
    dt_model *m = NULL;
    dt_code rc = dt_model_from_graph(g, DT_FORMAT_ONNX, &m, st);
    CHECK(rc == DT_OK);
    dt_session *s = NULL;
    dt_session_opts o = {.threads = 1, .reference = 1};
    rc = dt_session_create(m, &o, &s, st);
    dt_session_free(s);
    dt_model_free(m);
    return rc;
}

static void resize_scale_overflow(void)
{
    /* a float output dim past int64 is an over-the-limit error, not UB
     * (the sanitizer job runs this under UBSan) */
    const float huge[2][4] = {{1.f, 1.f, 1e30f, 1e30f}, {1.f, 1.f, INFINITY, 2.f}};
    for (int i = 0; i < 2; i++) {
        dt_status st;
        dt_status_clear(&st);
        dt_code rc = resize_session(huge[i], &st);
        CHECKF(rc == DT_ELIMIT, "case %d: %s (%s), want over_limit", i, dt_code_name(rc), st.msg);
    }
    /* and an honest upscale still plans */
    const float ok[4] = {1.f, 1.f, 2.f, 3.f};
    dt_status st;
    dt_status_clear(&st);
    CHECKF(resize_session(ok, &st) == DT_OK, "%s", st.msg);
}

static void slice_negative_step_empty(void)
{
    /* x [0,3] sliced with step -1 on both axes: [0,3], nothing read */
    dt_status st;
    dt_status_clear(&st);
    dt_graph *g = dt_graph_create();
    int64_t xd[2] = {0, 3}, vd[1] = {2};
    const int64_t starts[2] = {-1, -1}, ends[2] = {INT64_MIN, INT64_MIN}, axes[2] = {0, 1}, steps[2] = {-1, -1};
    int x = dt_graph_add_value(g, "x", DT_F32, 2, xd, &st);
    int in[5] = {x, dt_graph_add_const(g, "starts", DT_I64, 1, vd, starts, &st),
                 dt_graph_add_const(g, "ends", DT_I64, 1, vd, ends, &st),
                 dt_graph_add_const(g, "axes", DT_I64, 1, vd, axes, &st),
                 dt_graph_add_const(g, "steps", DT_I64, 1, vd, steps, &st)};
    int y = dt_graph_add_value(g, "y", DT_F32, -1, NULL, &st);
    int nd = dt_graph_add_node(g, DT_OP_Slice, "slice", 5, in, 1, &y, &st);
    CHECK(nd >= 0 && dt_graph_mark_input(g, x, &st) == DT_OK && dt_graph_mark_output(g, y, &st) == DT_OK);
    g->nodes[nd].opset = 13;
    dt_model *m = NULL;
    CHECK(dt_model_from_graph(g, DT_FORMAT_ONNX, &m, &st) == DT_OK);
    dt_session *s = NULL;
    dt_session_opts o = {.threads = 1, .reference = 1};
    dt_code rc = dt_session_create(m, &o, &s, &st);
    CHECKF(rc == DT_OK, "%s", st.msg);
    if (rc == DT_OK) {
        CHECKF(dt_session_run(s, 1, NULL, &st) == DT_OK, "%s", st.msg);
        const dt_tensor *out = dt_session_output(s, 0);
        CHECKF(out && out->ndim == 2 && out->dims[0] == 0 && out->dims[1] == 3,
               "slice of an empty axis with step -1: got %lld x %lld, want 0 x 3",
               out ? (long long)out->dims[0] : -1LL, out && out->ndim > 1 ? (long long)out->dims[1] : -1LL);
    }
    dt_session_free(s);
    dt_model_free(m);
}

int main(void)
{
    RUN(v2_uint8_shape_allocation);
    RUN(float_index_to_int);
    RUN(resize_scale_overflow);
    RUN(slice_negative_step_empty);
    return tl_summary();
}
