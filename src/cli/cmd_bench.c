#include <stdio.h>

#include "cli/cli.h"

int dt_cmd_bench(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "detectd bench: not built yet\n");
    return 1;
}
