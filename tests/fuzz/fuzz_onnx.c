/* fuzz_onnx.c — the ONNX loader (dt_load_onnx_buffer) on hostile model bytes,
 * then a session on what loads.
 *
 * External data is allowed, relative to a private temp directory holding
 * one small weights file, so location/offset/length handling and the path
 * escape checks are fuzzed too.  A graph that loads must be well formed:
 * every id a node or the graph names is in range.  Then it goes through
 * the engine: a session, or a clean error (fuzz_session.h). */
#include <stdlib.h>
#include <unistd.h>

#include "base/alloc.h"
#include "engine/loaders/loaders.h"
#include "fuzz_session.h"
#include "fuzz_util.h"

static char g_dir[64];

static void cleanup(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/weights.bin", g_dir);
    unlink(p);
    rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_mkdtemp(g_dir, sizeof g_dir, "onnx");
    char p[128];
    snprintf(p, sizeof p, "%s/weights.bin", g_dir);
    FILE *f = fopen(p, "wb");
    if (!f)
        abort();
    for (int i = 0; i < 4096; i++)
        fputc(i * 7, f);
    fclose(f);
    atexit(cleanup);
    return 0;
}

static void check_graph(const dt_graph *g)
{
    FUZZ_ASSERT(g->n_values >= 0 && g->n_nodes >= 0);
    for (int i = 0; i < g->n_inputs; i++)
        FUZZ_ASSERT(g->inputs[i] >= 0 && g->inputs[i] < g->n_values);
    for (int i = 0; i < g->n_outputs; i++)
        FUZZ_ASSERT(g->outputs[i] >= 0 && g->outputs[i] < g->n_values);
    for (int n = 0; n < g->n_nodes; n++) {
        const dt_node *nd = &g->nodes[n];
        for (int i = 0; i < nd->n_in; i++)
            FUZZ_ASSERT(nd->in[i] >= -1 && nd->in[i] < g->n_values);
        for (int i = 0; i < nd->n_out; i++)
            FUZZ_ASSERT(nd->out[i] >= 0 && nd->out[i] < g->n_values);
    }
    for (int v = 0; v < g->n_values; v++) {
        const dt_value *val = &g->values[v];
        FUZZ_ASSERT(val->ndim >= -1 && val->ndim <= DT_MAX_DIMS);
        if (val->buf) {
            dt_tensor t = dt_value_view(val);
            size_t nb = dt_tensor_nbytes(&t);
            FUZZ_ASSERT(nb <= val->buf->size);
            if (nb) {
                volatile uint8_t sink = ((uint8_t *)val->buf->data)[nb - 1];
                (void)sink;
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_status st;
    dt_status_clear(&st);
    dt_graph *g = (dt_graph *)1;
    dt_code rc = dt_load_onnx_buffer(data, size, g_dir, &g, &st);
    fuzz_check_status(rc, &st);
    if (rc != DT_OK) {
        FUZZ_ASSERT(g == NULL);
        return 0;
    }
    FUZZ_ASSERT(g != NULL);
    check_graph(g);
    fuzz_session(g, DT_FORMAT_ONNX);
    return 0;
}
