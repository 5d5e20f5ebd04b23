#include <stdio.h>

#include "cli/cli.h"

int dt_cmd_infer(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "detectd infer: not built yet\n");
    return 1;
}
