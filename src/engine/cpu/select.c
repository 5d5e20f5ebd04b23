/* select.c — picks a fast CPU kernel per node (cpu.h). */
#include "engine/cpu/cpu.h"

#include <pthread.h>

#include "engine/cpu/conv.h"
#include "engine/cpu/misc_fast.h"

const dt_cpu_kernel *dt_cpu_select(const dt_graph *g, const dt_node *n)
{
    if (!g || !n)
        return NULL;
    switch (n->op) {
    case DT_OP_Conv:
        return dt_cpu_conv_select(g, n);
    case DT_OP_MaxPool:
    case DT_OP_AveragePool:
        return dt_cpu_maxpool_select(g, n);
    case DT_OP_Resize:
        return dt_cpu_resize_select(g, n);
    case DT_OP_Slice:
        return dt_cpu_slice_select(g, n);
    case DT_OP_TopK:
        return dt_cpu_topk_select(g, n);
    case DT_OP_ReduceMean:
    case DT_OP_ReduceSum:
        return dt_cpu_reduce_select(g, n);
    case DT_OP_Relu:
    case DT_OP_Clip:
    case DT_OP_Sigmoid:
    case DT_OP_HardSigmoid:
    case DT_OP_HardSwish:
    case DT_OP_LeakyRelu:
    case DT_OP_Tanh:
    case DT_OP_Add:
    case DT_OP_Sub:
    case DT_OP_Mul:
    case DT_OP_Div:
    case DT_OP_Softmax:
    case DT_OP_Equal:
    case DT_OP_Cast:
        return dt_cpu_eltwise_select(g, n);
    default:
        return NULL;
    }
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
    g_feat.avx512bf16 = __builtin_cpu_supports("avx512bf16");
    g_feat.avx512vnni = __builtin_cpu_supports("avx512vnni");
}

const dt_cpu_features *dt_cpu_features_get(void)
{
    pthread_once(&g_feat_once, detect);
    return &g_feat;
}
