/* detectd inspect — what a model is: inputs, outputs, ops, parameters,
 * MACs and the planned arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "engine/graph.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: detectd inspect --model PATH [--batch N] [--json] [--verbose] [--max-model-memory SIZE]\n"
               "Prints the model's inputs and outputs (-1 = symbolic dim), op counts before and after\n"
               "optimisation, parameter count, MACs per image, and the session's memory: the planned\n"
               "arena and folded constants for batch up to N, against the memory limit.\n"
               DT_CLI_MAX_MODEL_MEMORY_HELP);
}

static void print_io(const char *kind, dt_io_info io, int json, int last)
{
    char shape[128];
    dt_shape_str(io.ndim < 0 ? 0 : io.ndim, io.dims, shape, sizeof shape);
    if (json)
        printf("{\"kind\":\"%s\",\"name\":\"%s\",\"dtype\":\"%s\",\"shape\":%s}%s", kind, io.name,
               dt_dtype_name(io.dtype), shape, last ? "" : ",");
    else
        printf("  %-6s %-40s %-8s %s\n", kind, io.name, dt_dtype_name(io.dtype), shape);
}

int dt_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, batch = 1, verbose = 0;
    size_t max_memory = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            batch = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--max-model-memory") && i + 1 < argc) {
            if (!dt_cli_parse_memory("inspect", argv[++i], &max_memory))
                return 2;
        } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            verbose = 1;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!path || batch < 1) {
        usage(stderr);
        return 2;
    }
    dt_status st;
    dt_status_clear(&st);
    dt_model *m = NULL;
    dt_session *s = NULL;
    if (dt_model_load(path, DT_FORMAT_AUTO, &m, &st) != DT_OK) {
        fprintf(stderr, "detectd inspect: %s\n", st.msg);
        return 1;
    }
    const dt_graph *g = dt_model_graph(m);
    int loaded_counts[DT_OP_COUNT_] = {0};
    for (int i = 0; i < g->n_nodes; i++)
        loaded_counts[g->nodes[i].op]++;
    dt_session_opts o = {.threads = 1, .max_batch = batch, .max_memory = max_memory};
    dt_plan_stats ps;
    int have_plan = dt_session_create(m, &o, &s, &st) == DT_OK && dt_session_stats(s, 1, &ps, &st) == DT_OK;
    if (json) {
        printf("{\"model\":\"%s\",\"format\":\"%s\",\"io\":[", path, dt_model_format_name(m));
        int ni = dt_model_num_inputs(m), no = dt_model_num_outputs(m);
        for (int i = 0; i < ni; i++)
            print_io("input", dt_model_input(m, i), 1, i + 1 == ni && no == 0);
        for (int i = 0; i < no; i++)
            print_io("output", dt_model_output(m, i), 1, i + 1 == no);
        printf("],\"nodes\":%d,\"ops\":{", g->n_nodes);
        int first = 1;
        for (int op = 1; op < DT_OP_COUNT_; op++)
            if (loaded_counts[op]) {
                printf("%s\"%s\":%d", first ? "" : ",", dt_op_name((dt_op)op), loaded_counts[op]);
                first = 0;
            }
        printf("}");
        if (have_plan) {
            printf(",\"optimized_nodes\":%d,\"optimized_ops\":{", ps.n_nodes);
            first = 1;
            for (int op = 1; op < 128 && op < DT_OP_COUNT_; op++)
                if (ps.op_counts[op]) {
                    printf("%s\"%s\":%d", first ? "" : ",", dt_op_name((dt_op)op), ps.op_counts[op]);
                    first = 0;
                }
            printf("},\"params\":%lld,\"macs\":%lld,\"weight_bytes\":%zu,\"arena_bytes\":%zu,\"max_batch\":%d,"
                   "\"folded_const_bytes\":%zu,\"max_model_memory\":%zu",
                   (long long)ps.params, (long long)ps.macs, ps.weight_bytes, dt_session_arena_bytes(s),
                   dt_session_max_batch(s), dt_session_const_bytes(s), dt_session_max_memory(s));
        } else {
            printf(",\"plan_error\":\"%s\"", st.msg);
        }
        printf("}\n");
    } else {
        printf("model   %s (%s)\n", path, dt_model_format_name(m));
        for (int i = 0; i < dt_model_num_inputs(m); i++)
            print_io("input", dt_model_input(m, i), 0, 0);
        for (int i = 0; i < dt_model_num_outputs(m); i++)
            print_io("output", dt_model_output(m, i), 0, 0);
        printf("nodes   %d loaded", g->n_nodes);
        if (have_plan)
            printf(", %d after folding and fusion", ps.n_nodes);
        printf("\nops    ");
        for (int op = 1; op < DT_OP_COUNT_; op++)
            if (loaded_counts[op])
                printf(" %s:%d", dt_op_name((dt_op)op), loaded_counts[op]);
        printf("\n");
        if (have_plan) {
            printf("plan   ");
            for (int op = 1; op < 128 && op < DT_OP_COUNT_; op++)
                if (ps.op_counts[op])
                    printf(" %s:%d", dt_op_name((dt_op)op), ps.op_counts[op]);
            printf("\nparams  %lld (%.2f MB of weights)\n", (long long)ps.params, ps.weight_bytes / 1e6);
            printf("macs    %lld (%.3f GMAC per image)\n", (long long)ps.macs, ps.macs / 1e9);
            printf("arena   %zu bytes (%.2f MB) for batch up to %d\n", dt_session_arena_bytes(s),
                   dt_session_arena_bytes(s) / 1e6, dt_session_max_batch(s));
            printf("memory  %.2f MB (arena + %.2f MB of folded constants), limit %.2f MB (--max-model-memory)\n",
                   (dt_session_arena_bytes(s) + dt_session_const_bytes(s)) / 1e6, dt_session_const_bytes(s) / 1e6,
                   dt_session_max_memory(s) / 1e6);
        } else {
            printf("plan    not available: %s\n", st.msg);
        }
        if (have_plan && verbose)
            dt_session_dump(s, 1, stdout);
    }
    int rc = have_plan ? 0 : 1;
    dt_session_free(s);
    dt_model_free(m);
    return rc;
}
