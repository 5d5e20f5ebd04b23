#include "engine/cpu/cpu.h"

#include <pthread.h>

const dt_cpu_kernel *dt_cpu_select(const dt_graph *g, const dt_node *n)
{
    (void)g;
    (void)n;
    return NULL;
}

static dt_cpu_features g_feat;
static pthread_once_t g_feat_once = PTHREAD_ONCE_INIT;

static void detect(void)
{
    __builtin_cpu_init();
    g_feat.avx2 = __builtin_cpu_supports("avx2");
    g_feat.fma = __builtin_cpu_supports("fma");
    g_feat.avx512f = __builtin_cpu_supports("avx512f");
    g_feat.avx512bw = __builtin_cpu_supports("avx512bw");
    g_feat.avx512vl = __builtin_cpu_supports("avx512vl");
    g_feat.avx512vnni = __builtin_cpu_supports("avx512vnni");
}

const dt_cpu_features *dt_cpu_features_get(void)
{
    pthread_once(&g_feat_once, detect);
    return &g_feat;
}
