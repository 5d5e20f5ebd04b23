/* fuzz_v2.c — the KServe/Triton v2 inference request parser (api_parse in
 * src/server/api.c): the JSON header, its parameters and outputs, and the one
 * input tensor (BYTES base64 / binary extension, UINT8, FP32 raw tensor).
 *
 * Framing of an input: a 4-byte little-endian Inference-Header-Content-Length
 * (>= 0x80000000: header absent, the whole body is JSON), then the body.
 * The request is built by hand around the server's internal structures
 * (server/internal.h) for a fake model with an 8x8x3 input; what api_parse
 * allocates (v2_id, v2_img, prep) is released here as req_free and
 * sched_release do. */
#include "base/alloc.h"
#include "fuzz_util.h"
#include "server/internal.h"

static mslot g_slot;
static minst g_inst;

static int inside(const void *p, size_t n, const void *base, size_t len)
{
    const uint8_t *q = p, *b = base;
    return q >= b && q <= b + len && n <= (size_t)(b + len - q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_slot.name[0]) {
        snprintf(g_slot.name, sizeof g_slot.name, "fuzz");
        g_inst.slot = &g_slot;
        g_inst.item_floats = 3 * 8 * 8;
        g_inst.info.name = "fuzz";
        g_inst.info.input_w = 8;
        g_inst.info.input_h = 8;
        g_inst.info.num_classes = 2;
        g_inst.staged = 1; /* raw FP32 tensors are accepted only by staged backends */
    }
    fuzz_reader rd = {data, size};
    uint32_t hl = fuzz_u32(&rd);
    req *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->route = R_V2_INFER;
    r->slot = &g_slot;
    r->inst = &g_inst;
    r->threshold = -1;
    r->params.threshold = -1;
    r->v2_header_len = hl >= 0x80000000u ? -1 : (int64_t)hl;
    r->body = malloc(rd.left ? rd.left : 1); /* exact size: no NUL after the JSON */
    if (!r->body)
        abort();
    memcpy(r->body, rd.p, rd.left);
    r->len = r->cap = rd.left;

    dt_status st;
    dt_status_clear(&st);
    dt_code rc = api_parse(r, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK) {
        if (r->raw_tensor) {
            FUZZ_ASSERT(r->prep != NULL);
            volatile float sink = r->prep[g_inst.item_floats - 1];
            (void)sink;
        } else {
            FUZZ_ASSERT(r->img != NULL && r->img_len > 0);
            FUZZ_ASSERT(inside(r->img, r->img_len, r->body, r->len) ||
                        (r->v2_img && inside(r->img, r->img_len, r->v2_img, r->img_len)));
            FUZZ_ASSERT(api_looks_like_image(r->img, r->img_len));
        }
        FUZZ_ASSERT(r->v2_n_out >= 1 && r->v2_n_out <= 2);
        FUZZ_ASSERT(r->params.threshold <= 1.f);
    }
    dt_free(r->v2_id);
    dt_free(r->v2_img);
    dt_free(r->prep); /* the server recycles it into the instance's pool, also after an error */
    free(r->body);
    free(r);
    return 0;
}
