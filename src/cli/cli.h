/* cli.h — detectd subcommands.  Each takes argc/argv after the subcommand
 * name and returns the process exit code (0 ok, 1 runtime error, 2 usage). */
#ifndef DT_CLI_H
#define DT_CLI_H

int dt_cmd_serve(int argc, char **argv);
int dt_cmd_detect(int argc, char **argv);
int dt_cmd_infer(int argc, char **argv);
int dt_cmd_bench(int argc, char **argv);
int dt_cmd_inspect(int argc, char **argv);

#endif
