/* detectd — one binary, several subcommands over one library. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/parse.h"

int dt_cli_parse_memory(const char *cmd, const char *val, size_t *out)
{
    dt_status st;
    int64_t v;
    dt_status_clear(&st);
    if (dt_parse_size(val, 1LL << 16, 1LL << 40, &v, &st) != DT_OK) {
        fprintf(stderr, "detectd %s: --max-model-memory: %s\n", cmd, st.msg);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} g_cmds[] = {
    {"serve", dt_cmd_serve, "run the HTTP detection server"},
    {"detect", dt_cmd_detect, "detect objects in image files, one JSON line per image"},
    {"infer", dt_cmd_infer, "run a model on .npy inputs, write .npy outputs"},
    {"bench", dt_cmd_bench, "measure model and end-to-end latency"},
    {"inspect", dt_cmd_inspect, "print a model's inputs, outputs, ops, parameters and memory plan"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: detectd COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        fprintf(f, "  %-8s %s\n", g_cmds[i].name, g_cmds[i].help);
    fprintf(f, "\n'detectd COMMAND --help' documents each command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof g_cmds / sizeof g_cmds[0]; i++)
        if (!strcmp(argv[1], g_cmds[i].name))
            return g_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "detectd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
