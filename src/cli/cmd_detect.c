#include <stdio.h>

#include "cli/cli.h"

int dt_cmd_detect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "detectd detect: not built yet\n");
    return 1;
}
