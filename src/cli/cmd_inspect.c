#include <stdio.h>

#include "cli/cli.h"

int dt_cmd_inspect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "detectd inspect: not built yet\n");
    return 1;
}
