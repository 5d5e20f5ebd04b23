/* fuzz_tfjs.c — the TF.js graph-model loader (dt_load_tfjs_buffer), then a
 * session on what loads (fuzz_session.h).
 *
 * Framing of an input: a 4-byte little-endian length L, then L bytes of
 * model.json, then the concatenated weight shards (the rest).  L larger
 * than what follows takes everything as JSON.  tfjs_frame.py (and
 * gen_corpus.py) write seeds in this framing. */
#include "base/alloc.h"
#include "engine/loaders/loaders.h"
#include "fuzz_session.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    size_t jl = fuzz_u32(&r);
    if (jl > r.left)
        jl = r.left;
    /* Exact-size copies (no NUL after the JSON), so any over-read is seen. */
    char *json = malloc(jl ? jl : 1);
    size_t wl = r.left - jl;
    uint8_t *w = malloc(wl ? wl : 1);
    if (!json || !w)
        abort();
    memcpy(json, r.p, jl);
    memcpy(w, r.p + jl, wl);

    dt_status st;
    dt_status_clear(&st);
    dt_graph *g = (dt_graph *)1;
    dt_code rc = dt_load_tfjs_buffer(json, jl, w, wl, &g, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK) {
        FUZZ_ASSERT(g != NULL);
        for (int n = 0; n < g->n_nodes; n++) {
            const dt_node *nd = &g->nodes[n];
            for (int i = 0; i < nd->n_in; i++)
                FUZZ_ASSERT(nd->in[i] >= -1 && nd->in[i] < g->n_values);
            for (int i = 0; i < nd->n_out; i++)
                FUZZ_ASSERT(nd->out[i] >= 0 && nd->out[i] < g->n_values);
        }
        fuzz_session(g, DT_FORMAT_TFJS);
    } else {
        FUZZ_ASSERT(g == NULL);
    }
    free(json);
    free(w);
    return 0;
}
