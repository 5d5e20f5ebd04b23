#include <stdio.h>

#include "cli/cli.h"

int dt_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "detectd serve: not built yet\n");
    return 1;
}
