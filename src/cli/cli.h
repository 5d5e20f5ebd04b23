/* cli.h — detectd subcommands.  Each takes argc/argv after the subcommand
 * name and returns the process exit code (0 ok, 1 runtime error, 2 usage). */
#ifndef DT_CLI_H
#define DT_CLI_H

int dt_cmd_serve(int argc, char **argv);
int dt_cmd_detect(int argc, char **argv);
int dt_cmd_infer(int argc, char **argv);
int dt_cmd_bench(int argc, char **argv);
int dt_cmd_inspect(int argc, char **argv);

/* --max-model-memory SIZE (shared by serve's table and the other commands):
 * a byte count with K/M/G suffixes, 64K..1T.  Prints the error naming `cmd`
 * and returns 0 on a bad value. */
#define DT_CLI_MAX_MODEL_MEMORY_HELP                                                                       \
    "  --max-model-memory SIZE  most memory one model session may plan (activations + folded\n"           \
    "                        constants; K/M/G suffixes; default 1G); a model needing more fails to load\n"
int dt_cli_parse_memory(const char *cmd, const char *val, size_t *out);

#endif
