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
 *                               Crasher: tests/fuzz/crashers/v2/uint8_shape_2p40_alloc */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
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

int main(void)
{
    RUN(v2_uint8_shape_allocation);
    return tl_summary();
}
