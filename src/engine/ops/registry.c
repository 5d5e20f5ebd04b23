#include "engine/ops.h"

#include <pthread.h>

/* Built once, read-only afterwards: an op -> definition table merged from the
 * per-group tables. */
static const dt_opdef *g_by_op[DT_OP_COUNT_];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build(void)
{
    const dt_opdef *tables[] = {dt_opdefs_nn, dt_opdefs_eltwise, dt_opdefs_tensor};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const dt_opdef *d = tables[t]; d->op != DT_OP_UNKNOWN; d++)
            if ((unsigned)d->op < DT_OP_COUNT_)
                g_by_op[d->op] = d;
}

const dt_opdef *dt_opdef_get(dt_op op)
{
    pthread_once(&g_once, build);
    if ((unsigned)op >= DT_OP_COUNT_)
        return NULL;
    return g_by_op[op];
}
