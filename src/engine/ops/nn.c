#include "engine/ops.h"

const dt_opdef dt_opdefs_nn[] = {
    {DT_OP_UNKNOWN, NULL, NULL},
};
