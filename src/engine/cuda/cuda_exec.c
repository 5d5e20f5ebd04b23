/* cuda_exec.c — the CUDA executor: device memory, uploads, cuDNN / cuBLAS
 * setup, per-batch CUDA Graphs, runs, device statistics.
 *
 * Built with DT_HAVE_CUDA (the Makefile defines it when nvcc and cuDNN are
 * found); without it every entry point reports that the build has no CUDA.
 *
 * Environment knobs, read when a session is created:
 *   DETECTD_CUDA_TF32=1    let cuDNN / cuBLAS use TF32 tensor cores (faster,
 *                          about 1e-3 relative error instead of fp32's 1e-6)
 *   DETECTD_CUDA_GRAPHS=0  no CUDA Graph capture (every run enqueues its steps)
 *   DETECTD_CUDNN_FIND=1   time cuDNN's algorithms at load (cudnnFind...Ex)
 *                          instead of taking its heuristic's first choice
 *   DETECTD_CUDA_FUSE=0    no cudnnConvolutionBiasActivationForward
 *   DETECTD_CUDNN_WS_MB=N  largest workspace a convolution may use (256)
 */
#include "engine/cuda/cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "engine/cuda/cu_plan.h"

#ifdef DT_HAVE_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <dlfcn.h>

#include "engine/cuda/cu_launch.h"

typedef struct conv_rt {
    cudnnTensorDescriptor_t x, y, b;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t cd;
    cudnnActivationDescriptor_t act;
    int unfused; /* cuDNN refused the fused call: conv, then our bias + relu */
} conv_rt;

typedef struct xplan {
    dt_cu_plan p;
    conv_rt *conv;          /* per step (descriptors for conv steps only) */
    cudaGraphExec_t gexec;
    int graph;              /* 0 not yet, 1 captured, -1 not capturable */
    long runs;
} xplan;

struct dt_cuda_exec {
    int dev, n_plans;
    xplan *plans;
    dt_cu_layout lay;
    char *dmem;             /* the one device block */
    char *pinned;           /* inputs and outputs; the status word after them */
    size_t pinned_bytes;
    unsigned *hflag;
    cudaStream_t stream;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    int graphs, find;
    size_t ws_limit;
    char *why;              /* create only: where a decline is explained */
    size_t why_cap;
};

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

static const char *node_name(const xplan *x, const dt_cu_step *s)
{
    const dt_graph *g = x->p.g;
    return s->node >= 0 && s->node < g->n_nodes && g->nodes[s->node].name ? g->nodes[s->node].name : "?";
}

static dt_code cuda_fail(dt_status *st, cudaError_t e, const char *what)
{
    return dt_fail(st, e == cudaErrorMemoryAllocation ? DT_ENOMEM : DT_EIO, "%s failed: %s (%s)", what,
                   cudaGetErrorName(e), cudaGetErrorString(e));
}

static dt_code dnn_fail(dt_status *st, cudnnStatus_t e, const char *what, const char *node)
{
    return dt_fail(st, e == CUDNN_STATUS_ALLOC_FAILED ? DT_ENOMEM : DT_EIO, "%s failed: %s (node '%s')", what,
                   cudnnGetErrorString(e), node);
}

static dt_code blas_fail(dt_status *st, cublasStatus_t e, const char *what, const char *node)
{
    return dt_fail(st, e == CUBLAS_STATUS_ALLOC_FAILED ? DT_ENOMEM : DT_EIO, "%s failed: %s (node '%s')", what,
                   cublasGetStatusString(e), node);
}

#define CU(call, what)                                                                             \
    do {                                                                                           \
        cudaError_t ce_ = (call);                                                                  \
        if (ce_ != cudaSuccess)                                                                    \
            return cuda_fail(st, ce_, what);                                                       \
    } while (0)
#define DNN(call, what, node)                                                                      \
    do {                                                                                           \
        cudnnStatus_t ds_ = (call);                                                                \
        if (ds_ != CUDNN_STATUS_SUCCESS)                                                           \
            return dnn_fail(st, ds_, what, node);                                                  \
    } while (0)

int dt_cuda_built(void) { return 1; }

int dt_cuda_available(char *why, size_t cap)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n <= 0) {
        if (why && cap)
            snprintf(why, cap, "no usable GPU: %s", e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device");
        return 0;
    }
    return n;
}

/* ---- device statistics ---------------------------------------------------- */

/* NVML, loaded at run time so the binary does not need libnvidia-ml. */
typedef struct nvml_util {
    unsigned int gpu, memory;
} nvml_util;
typedef struct nvml_mem {
    unsigned long long total, free, used;
} nvml_mem;

static int nvml_query(const char *bus_id, dt_cuda_stats *out)
{
    void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return 0;
    int (*init)(void) = (int (*)(void))dlsym(h, "nvmlInit_v2");
    int (*shutdown)(void) = (int (*)(void))dlsym(h, "nvmlShutdown");
    int (*by_bus)(const char *, void **) = (int (*)(const char *, void **))dlsym(h, "nvmlDeviceGetHandleByPciBusId_v2");
    int (*util)(void *, nvml_util *) = (int (*)(void *, nvml_util *))dlsym(h, "nvmlDeviceGetUtilizationRates");
    int (*mem)(void *, nvml_mem *) = (int (*)(void *, nvml_mem *))dlsym(h, "nvmlDeviceGetMemoryInfo");
    int ok = 0;
    if (init && shutdown && by_bus && util && mem && init() == 0) {
        void *d = NULL;
        nvml_util u;
        nvml_mem m;
        if (by_bus(bus_id, &d) == 0 && mem(d, &m) == 0) {
            out->mem_total = (size_t)m.total;
            out->mem_used = (size_t)m.used;
            out->util_pct = util(d, &u) == 0 ? (int)u.gpu : -1;
            out->from_nvml = 1;
            ok = 1;
        }
        shutdown();
    }
    dlclose(h);
    return ok;
}

dt_code dt_cuda_device_stats(int dev, dt_cuda_stats *out, dt_status *st)
{
    memset(out, 0, sizeof *out);
    out->util_pct = -1;
    char why[160];
    int n = dt_cuda_available(why, sizeof why);
    if (n == 0)
        return dt_fail(st, DT_EUNSUPPORTED, "%s", why);
    if (dev < 0 || dev >= n)
        return dt_fail(st, DT_EINVAL, "no CUDA device %d (%d found)", dev, n);
    struct cudaDeviceProp pr;
    if (cudaGetDeviceProperties(&pr, dev) == cudaSuccess)
        snprintf(out->name, sizeof out->name, "%s", pr.name);
    char bus[32];
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, dev) == cudaSuccess && nvml_query(bus, out))
        return DT_OK;
    size_t fr = 0, tot = 0;
    CU(cudaSetDevice(dev), "cudaSetDevice");
    CU(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
    out->mem_total = tot;
    out->mem_used = tot - fr;
    return DT_OK;
}

/* ---- load ------------------------------------------------------------------ */

static int is_tensor_op(cudnnMathType_t m)
{
    return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

/* cuDNN cannot run this convolution: the session runs on the CPU instead. */
static dt_code conv_decline(dt_cuda_exec *e, const xplan *x, const dt_cu_step *s, const char *what, dt_status *st)
{
    const dt_cu_conv *c = &s->u.cv;
    const char *nm = node_name(x, s);
    if (e->why && e->why_cap)
        snprintf(e->why, e->why_cap, "node '%s': cuDNN has %s (%s, group %d, %dx%d kernel)", nm, what,
                 c->nhwc ? "NHWC" : "NCHW", c->group, c->R, c->S);
    return dt_fail(st, DT_EUNSUPPORTED, "CUDA backend: node '%s': cuDNN has %s", nm, what);
}

/* First usable entry of a cuDNN algorithm list: within the workspace limit
 * and, for fp32, not rounding through TF32; else any fp32 one. */
#define PICK_ALGO(perf, got, math, limit, pick)                                                     \
    do {                                                                                           \
        (pick) = -1;                                                                               \
        for (int pass_ = 0; pass_ < 2 && (pick) < 0; pass_++)                                      \
            for (int i_ = 0; i_ < (got) && (pick) < 0; i_++)                                       \
                if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && ((math) || !is_tensor_op((perf)[i_].mathType)) && \
                    (pass_ || (perf)[i_].memory <= (limit)))                                       \
                    (pick) = i_;                                                                   \
    } while (0)

/* ConvTranspose: the backward-data algorithm, chosen the same way. */
static dt_code convt_algo(dt_cuda_exec *e, xplan *x, int si, dt_status *st)
{
    dt_cu_step *s = &x->p.steps[si];
    dt_cu_conv *c = &s->u.cv;
    conv_rt *r = &x->conv[si];
    const char *nm = node_name(x, s);
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int got = 0, pick;
    DNN(cudnnGetConvolutionBackwardDataAlgorithm_v7(e->dnn, r->w, r->y, r->cd, r->x,
                                                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf),
        "cudnnGetConvolutionBackwardDataAlgorithm_v7", nm);
    PICK_ALGO(perf, got, c->math, e->ws_limit, pick);
    if (pick < 0)
        return conv_decline(e, x, s, "no fp32 backward-data algorithm for this transposed convolution", st);
    cudnnConvolutionBwdDataAlgo_t algo = perf[pick].algo;
    DNN(cudnnSetConvolutionMathType(r->cd, perf[pick].mathType), "cudnnSetConvolutionMathType", nm);
    size_t ws = 0;
    cudnnStatus_t ds = cudnnGetConvolutionBackwardDataWorkspaceSize(e->dnn, r->w, r->y, r->cd, r->x, algo, &ws);
    if (ds == CUDNN_STATUS_NOT_SUPPORTED)
        return conv_decline(e, x, s, "no workspace size for its backward-data algorithm", st);
    if (ds != CUDNN_STATUS_SUCCESS)
        return dnn_fail(st, ds, "cudnnGetConvolutionBackwardDataWorkspaceSize", nm);
    c->algo = (int)algo;
    c->ws_bytes = ws;
    size_t need = (size_t)c->ws_off + (ws + DT_CU_ALIGN - 1) / DT_CU_ALIGN * DT_CU_ALIGN;
    if (need > s->scr_bytes)
        s->scr_bytes = need;
    return DT_OK;
}

static dt_code conv_prepare(dt_cuda_exec *e, xplan *x, int si, dt_status *st)
{
    dt_cu_step *s = &x->p.steps[si];
    dt_cu_conv *c = &s->u.cv;
    conv_rt *r = &x->conv[si];
    const char *nm = node_name(x, s);
    dt_cu_conv_desc d;
    dt_cu_conv_desc_get(c, &d);
    cudnnTensorFormat_t xf = d.x_nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    cudnnTensorFormat_t wf = d.w_nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    DNN(cudnnCreateTensorDescriptor(&r->x), "cudnnCreateTensorDescriptor", nm);
    DNN(cudnnCreateTensorDescriptor(&r->y), "cudnnCreateTensorDescriptor", nm);
    DNN(cudnnCreateFilterDescriptor(&r->w), "cudnnCreateFilterDescriptor", nm);
    DNN(cudnnCreateConvolutionDescriptor(&r->cd), "cudnnCreateConvolutionDescriptor", nm);
    DNN(cudnnSetTensor4dDescriptor(r->x, xf, CUDNN_DATA_FLOAT, d.x_dims[0], d.x_dims[1], d.x_dims[2], d.x_dims[3]),
        "cudnnSetTensor4dDescriptor", nm);
    DNN(cudnnSetTensor4dDescriptor(r->y, xf, CUDNN_DATA_FLOAT, d.y_dims[0], d.y_dims[1], d.y_dims[2], d.y_dims[3]),
        "cudnnSetTensor4dDescriptor", nm);
    DNN(cudnnSetFilter4dDescriptor(r->w, CUDNN_DATA_FLOAT, wf, d.w_dims[0], d.w_dims[1], d.w_dims[2], d.w_dims[3]),
        "cudnnSetFilter4dDescriptor", nm);
    DNN(cudnnSetConvolution2dDescriptor(r->cd, d.pad[0], d.pad[1], d.str[0], d.str[1], d.dil[0], d.dil[1],
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor", nm);
    DNN(cudnnSetConvolutionGroupCount(r->cd, d.group), "cudnnSetConvolutionGroupCount", nm);
    DNN(cudnnSetConvolutionMathType(r->cd, c->math ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH),
        "cudnnSetConvolutionMathType", nm);
    int on, oc, oh, ow;
    DNN(cudnnGetConvolution2dForwardOutputDim(r->cd, r->x, r->w, &on, &oc, &oh, &ow),
        "cudnnGetConvolution2dForwardOutputDim", nm);
    if (on != d.y_dims[0] || oc != d.y_dims[1] || oh != d.y_dims[2] || ow != d.y_dims[3])
        return dt_fail(st, DT_EINTERNAL, "cuDNN computes a %dx%dx%dx%d output, the graph %dx%dx%dx%d (node '%s')", on,
                       oc, oh, ow, d.y_dims[0], d.y_dims[1], d.y_dims[2], d.y_dims[3], nm);
    if (c->fuse_relu) {
        DNN(cudnnCreateTensorDescriptor(&r->b), "cudnnCreateTensorDescriptor", nm);
        DNN(cudnnSetTensor4dDescriptor(r->b, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, d.y_dims[1], 1, 1),
            "cudnnSetTensor4dDescriptor", nm);
        DNN(cudnnCreateActivationDescriptor(&r->act), "cudnnCreateActivationDescriptor", nm);
        DNN(cudnnSetActivationDescriptor(r->act, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
            "cudnnSetActivationDescriptor", nm);
    }
    if (c->transposed)
        return convt_algo(e, x, si, st);
    /* the heuristic's best algorithm within the workspace limit (and, for
     * fp32, one that does not round through TF32) */
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0, pick;
    DNN(cudnnGetConvolutionForwardAlgorithm_v7(e->dnn, r->x, r->w, r->cd, r->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got,
                                               perf),
        "cudnnGetConvolutionForwardAlgorithm_v7", nm);
    PICK_ALGO(perf, got, c->math, e->ws_limit, pick);
    if (pick < 0)
        return conv_decline(e, x, s, "no fp32 algorithm for this convolution", st);
    cudnnConvolutionFwdAlgo_t algo = perf[pick].algo;
    DNN(cudnnSetConvolutionMathType(r->cd, perf[pick].mathType), "cudnnSetConvolutionMathType", nm);
    size_t ws = 0;
    cudnnStatus_t ds = cudnnGetConvolutionForwardWorkspaceSize(e->dnn, r->x, r->w, r->cd, r->y, algo, &ws);
    if (ds == CUDNN_STATUS_NOT_SUPPORTED)
        return conv_decline(e, x, s, "no workspace size for its algorithm", st);
    if (ds != CUDNN_STATUS_SUCCESS)
        return dnn_fail(st, ds, "cudnnGetConvolutionForwardWorkspaceSize", nm);
    c->algo = (int)algo;
    c->ws_bytes = ws;
    size_t need = (size_t)c->ws_off + (ws + DT_CU_ALIGN - 1) / DT_CU_ALIGN * DT_CU_ALIGN;
    if (need > s->scr_bytes)
        s->scr_bytes = need;
    return DT_OK;
}

/* DETECTD_CUDNN_FIND=1: time the algorithms on the real buffers (once the
 * device block exists), keeping the fastest that fits the workspace. */
static dt_code conv_find(dt_cuda_exec *e, xplan *x, int si, dt_status *st)
{
    dt_cu_step *s = &x->p.steps[si];
    dt_cu_conv *c = &s->u.cv;
    conv_rt *r = &x->conv[si];
    const char *nm = node_name(x, s);
    size_t avail = x->p.scr_bytes > (size_t)c->ws_off ? x->p.scr_bytes - (size_t)c->ws_off : 0;
    char *ws = e->dmem + e->lay.scr_off + c->ws_off;
    int got = 0;
    if (c->transposed) {
        cudnnConvolutionBwdDataAlgoPerf_t bp[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        DNN(cudnnFindConvolutionBackwardDataAlgorithmEx(e->dnn, r->w, s->ptr[1], r->y, s->ptr[0], r->cd, r->x,
                                                        s->ptr[3], CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, bp, ws,
                                                        avail),
            "cudnnFindConvolutionBackwardDataAlgorithmEx", nm);
        for (int i = 0; i < got; i++)
            if (bp[i].status == CUDNN_STATUS_SUCCESS && bp[i].memory <= avail &&
                (c->math || !is_tensor_op(bp[i].mathType))) {
                DNN(cudnnSetConvolutionMathType(r->cd, bp[i].mathType), "cudnnSetConvolutionMathType", nm);
                c->algo = (int)bp[i].algo;
                c->ws_bytes = bp[i].memory;
                break;
            }
        return DT_OK;
    }
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    DNN(cudnnFindConvolutionForwardAlgorithmEx(e->dnn, r->x, s->ptr[0], r->w, s->ptr[1], r->cd, r->y, s->ptr[3],
                                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf, ws, avail),
        "cudnnFindConvolutionForwardAlgorithmEx", nm);
    for (int i = 0; i < got; i++) {
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= avail &&
            (c->math || !is_tensor_op(perf[i].mathType))) {
            DNN(cudnnSetConvolutionMathType(r->cd, perf[i].mathType), "cudnnSetConvolutionMathType", nm);
            c->algo = (int)perf[i].algo;
            c->ws_bytes = perf[i].memory;
            break;
        }
    }
    return DT_OK;
}

static void exec_release(dt_cuda_exec *e)
{
    for (int b = 0; b < e->n_plans; b++) {
        xplan *x = &e->plans[b];
        if (x->conv)
            for (int i = 0; i < x->p.n_steps; i++) {
                conv_rt *r = &x->conv[i];
                if (r->x)
                    cudnnDestroyTensorDescriptor(r->x);
                if (r->y)
                    cudnnDestroyTensorDescriptor(r->y);
                if (r->b)
                    cudnnDestroyTensorDescriptor(r->b);
                if (r->w)
                    cudnnDestroyFilterDescriptor(r->w);
                if (r->cd)
                    cudnnDestroyConvolutionDescriptor(r->cd);
                if (r->act)
                    cudnnDestroyActivationDescriptor(r->act);
            }
        if (x->gexec)
            cudaGraphExecDestroy(x->gexec);
        dt_free(x->conv);
        dt_cu_plan_clear(&x->p);
    }
    if (e->blas)
        cublasDestroy(e->blas);
    if (e->dnn)
        cudnnDestroy(e->dnn);
    if (e->stream)
        cudaStreamDestroy(e->stream);
    if (e->dmem)
        cudaFree(e->dmem);
    if (e->pinned)
        cudaFreeHost(e->pinned);
}

void dt_cuda_exec_free(dt_cuda_exec *e)
{
    if (!e)
        return;
    cudaSetDevice(e->dev);
    exec_release(e);
    dt_free(e->plans);
    dt_free(e);
}

/* Everything after translation; e->plans[0..n) are built. */
static dt_code exec_setup(dt_cuda_exec *e, dt_cu_wpack *wp, int tf32, dt_status *st)
{
    CU(cudaStreamCreateWithFlags(&e->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    DNN(cudnnCreate(&e->dnn), "cudnnCreate", "-");
    DNN(cudnnSetStream(e->dnn, e->stream), "cudnnSetStream", "-");
    cublasStatus_t bs = cublasCreate(&e->blas);
    if (bs == CUBLAS_STATUS_SUCCESS)
        bs = cublasSetStream(e->blas, e->stream);
    if (bs == CUBLAS_STATUS_SUCCESS)
        bs = cublasSetMathMode(e->blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    if (bs != CUBLAS_STATUS_SUCCESS)
        return blas_fail(st, bs, "cublasCreate", "-");
    size_t act = 0, scr = 0;
    for (int b = 0; b < e->n_plans; b++) {
        xplan *x = &e->plans[b];
        x->conv = dt_calloc((size_t)x->p.n_steps + 1, sizeof(conv_rt));
        if (!x->conv)
            return dt_fail(st, DT_ENOMEM, "out of memory");
        for (int i = 0; i < x->p.n_steps; i++)
            if (x->p.steps[i].kind == DT_CU_CONV || x->p.steps[i].kind == DT_CU_CONVT) {
                dt_code rc = conv_prepare(e, x, i, st);
                if (rc != DT_OK)
                    return rc;
                if (x->p.steps[i].scr_bytes > x->p.scr_bytes)
                    x->p.scr_bytes = x->p.steps[i].scr_bytes;
            }
        if (x->p.act_bytes > act)
            act = x->p.act_bytes;
        if (x->p.scr_bytes > scr)
            scr = x->p.scr_bytes;
    }
    int major = 8;
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, e->dev);
    size_t blas_ws = (size_t)(major >= 9 ? 32 : 4) << 20; /* cuBLAS's recommendation */
    size_t wbytes = dt_cu_wpack_bytes(wp);
    dt_code rc = dt_cu_layout_compute(wbytes, act, scr, blas_ws, &e->lay, st);
    if (rc != DT_OK)
        return rc;
    cudaError_t ce = cudaMalloc((void **)&e->dmem, e->lay.total);
    if (ce != cudaSuccess) {
        e->dmem = NULL;
        size_t fr = 0, tot = 0;
        cudaGetLastError();
        cudaMemGetInfo(&fr, &tot);
        return dt_fail(st, ce == cudaErrorMemoryAllocation ? DT_ENOMEM : DT_EIO,
                       "cudaMalloc of %zu MiB (weights %zu, activations %zu, scratch %zu) failed: %s "
                       "(%zu of %zu MiB free on cuda:%d)",
                       e->lay.total >> 20, wbytes >> 20, act >> 20, scr >> 20, cudaGetErrorString(ce), fr >> 20,
                       tot >> 20, e->dev);
    }
    CU(cudaMemset(e->dmem, 0, e->lay.total), "cudaMemset");
    /* weights, once */
    void *img = dt_malloc(wbytes ? wbytes : 1);
    if (!img)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    dt_cu_wpack_write(wp, img);
    ce = cudaMemcpy(e->dmem + e->lay.w_off, img, wbytes, cudaMemcpyHostToDevice);
    dt_free(img);
    if (ce != cudaSuccess)
        return cuda_fail(st, ce, "uploading the weights");
    char *base[DT_CU_SP_COUNT_] = {NULL, e->dmem + e->lay.act_off, e->dmem + e->lay.w_off, e->dmem + e->lay.scr_off};
    for (int b = 0; b < e->n_plans; b++)
        dt_cu_plan_bind(&e->plans[b].p, base);
    bs = cublasSetWorkspace(e->blas, e->dmem + e->lay.blas_off, blas_ws);
    if (bs != CUBLAS_STATUS_SUCCESS)
        return blas_fail(st, bs, "cublasSetWorkspace", "-");
    /* pinned inputs / outputs, then the status word */
    xplan *xp = e->plans;
    dt_cu_plan *plans = dt_calloc((size_t)e->n_plans, sizeof *plans);
    if (!plans)
        return dt_fail(st, DT_ENOMEM, "out of memory");
    for (int b = 0; b < e->n_plans; b++)
        plans[b] = xp[b].p;
    rc = dt_cu_io_layout(plans, e->n_plans, &e->pinned_bytes, st);
    for (int b = 0; b < e->n_plans; b++)
        xp[b].p = plans[b]; /* host_off filled in */
    dt_free(plans);
    if (rc != DT_OK)
        return rc;
    ce = cudaHostAlloc((void **)&e->pinned, e->pinned_bytes + DT_CU_ALIGN, cudaHostAllocDefault);
    if (ce != cudaSuccess) {
        e->pinned = NULL;
        return cuda_fail(st, ce, "cudaHostAlloc (pinned input/output buffers)");
    }
    memset(e->pinned, 0, e->pinned_bytes + DT_CU_ALIGN);
    e->hflag = (unsigned *)(e->pinned + e->pinned_bytes);
    if (e->find)
        for (int b = 0; b < e->n_plans; b++)
            for (int i = 0; i < e->plans[b].p.n_steps; i++)
                if ((e->plans[b].p.steps[i].kind == DT_CU_CONV || e->plans[b].p.steps[i].kind == DT_CU_CONVT) &&
                    (rc = conv_find(e, &e->plans[b], i, st)) != DT_OK)
                    return rc;
    return DT_OK;
}

dt_code dt_cuda_exec_create(int dev, dt_graph *const *graphs, const size_t *act_bytes, int n_plans,
                            dt_cuda_exec **out, char *why, size_t why_cap, dt_status *st)
{
    *out = NULL;
    if (why && why_cap)
        why[0] = '\0';
    char no[160];
    int n = dt_cuda_available(no, sizeof no);
    if (n == 0)
        return dt_fail(st, DT_EUNSUPPORTED, "cuda:%d requested: %s", dev, no);
    if (dev >= n)
        return dt_fail(st, DT_EUNSUPPORTED, "cuda:%d requested: %d CUDA device%s found", dev, n, n == 1 ? "" : "s");
    CU(cudaSetDevice(dev), "cudaSetDevice");
    dt_cuda_exec *e = dt_calloc(1, sizeof *e);
    dt_cu_wpack *wp = NULL;
    if (!e || !(e->plans = dt_calloc((size_t)(n_plans > 0 ? n_plans : 1), sizeof(xplan)))) {
        dt_free(e);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    e->dev = dev;
    e->why = why;
    e->why_cap = why_cap;
    e->graphs = env_int("DETECTD_CUDA_GRAPHS", 1) != 0;
    e->find = env_int("DETECTD_CUDNN_FIND", 0) != 0;
    int ws_mb = env_int("DETECTD_CUDNN_WS_MB", 256);
    e->ws_limit = (size_t)(ws_mb > 0 ? ws_mb : 0) << 20;
    dt_cu_opts o;
    o.tf32 = env_int("DETECTD_CUDA_TF32", 0) != 0;
    o.fuse_relu = env_int("DETECTD_CUDA_FUSE", 1) != 0;
    dt_code rc = dt_cu_wpack_create(&wp, st);
    for (int b = 0; rc == DT_OK && b < n_plans; b++) {
        rc = dt_cu_plan_build(graphs[b], act_bytes[b], &o, wp, &e->plans[b].p, why, why_cap, st);
        if (rc == DT_OK)
            e->n_plans = b + 1;
    }
    if (rc == DT_OK)
        rc = exec_setup(e, wp, o.tf32, st);
    dt_cu_wpack_free(wp);
    e->why = NULL;
    e->why_cap = 0;
    if (rc != DT_OK) {
        dt_cuda_exec_free(e);
        return rc;
    }
    *out = e;
    return DT_OK;
}

dt_code dt_cuda_exec_io(dt_cuda_exec *e, int batch, dt_tensor *inputs, int n_in, dt_tensor *outputs, int n_out,
                        dt_status *st)
{
    if (batch < 1 || batch > e->n_plans)
        return dt_fail(st, DT_ELIMIT, "batch %d not available", batch);
    const dt_cu_plan *p = &e->plans[batch - 1].p;
    for (int i = 0; i < n_in && i < p->n_in; i++) {
        inputs[i] = p->in[i].shape;
        inputs[i].data = e->pinned + p->in[i].host_off;
    }
    for (int i = 0; i < n_out && i < p->n_out; i++) {
        outputs[i] = p->out[i].shape;
        outputs[i].data = p->out[i].off < 0 ? (void *)p->out[i].const_data : e->pinned + p->out[i].host_off;
    }
    return DT_OK;
}

/* ---- run ------------------------------------------------------------------- */

static dt_code run_conv(dt_cuda_exec *e, xplan *x, int si, dt_status *st)
{
    dt_cu_step *s = &x->p.steps[si];
    dt_cu_conv *c = &s->u.cv;
    conv_rt *r = &x->conv[si];
    const char *nm = node_name(x, s);
    const float one = 1.f, zero = 0.f;
    void *ws = c->ws_bytes ? e->dmem + e->lay.scr_off + c->ws_off : NULL;
    if (c->transposed) {
        DNN(cudnnConvolutionBackwardData(e->dnn, &one, r->w, s->ptr[1], r->y, s->ptr[0], r->cd,
                                         (cudnnConvolutionBwdDataAlgo_t)c->algo, ws, c->ws_bytes, &zero, r->x,
                                         s->ptr[3]),
            "cudnnConvolutionBackwardData", nm);
        return DT_OK;
    }
    cudnnConvolutionFwdAlgo_t algo = (cudnnConvolutionFwdAlgo_t)c->algo;
    if (c->fuse_relu && !r->unfused) {
        cudnnStatus_t ds = cudnnConvolutionBiasActivationForward(e->dnn, &one, r->x, s->ptr[0], r->w, s->ptr[1], r->cd,
                                                                 algo, ws, c->ws_bytes, &zero, r->y, s->ptr[3], r->b,
                                                                 s->ptr[2], r->act, r->y, s->ptr[3]);
        if (ds == CUDNN_STATUS_SUCCESS)
            return DT_OK;
        if (ds != CUDNN_STATUS_NOT_SUPPORTED)
            return dnn_fail(st, ds, "cudnnConvolutionBiasActivationForward", nm);
        r->unfused = 1; /* this algorithm has no fused form: conv, then bias + relu */
    }
    DNN(cudnnConvolutionForward(e->dnn, &one, r->x, s->ptr[0], r->w, s->ptr[1], r->cd, algo, ws, c->ws_bytes, &zero,
                                r->y, s->ptr[3]),
        "cudnnConvolutionForward", nm);
    if (c->fuse_relu) {
        int ce = dt_cu_launch_bias_relu(c, s->ptr[3], s->ptr[2], e->stream);
        if (ce)
            return dt_fail(st, DT_EIO, "bias + relu kernel failed: %s (node '%s')", cudaGetErrorString((cudaError_t)ce), nm);
    }
    return DT_OK;
}

static dt_code run_gemm(dt_cuda_exec *e, xplan *x, const dt_cu_step *s, dt_status *st)
{
    const dt_cu_gemm *g = &s->u.gm;
    dt_cu_blas_args a;
    dt_code rc = dt_cu_gemm_blas_args(g, &a, st);
    if (rc != DT_OK)
        return rc;
    cublasOperation_t of = a.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N, os = a.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N;
    for (int o = 0; o < g->n_outer; o++) {
        const float *B = (const float *)s->ptr[1] + g->ob[o], *A = (const float *)s->ptr[0] + g->oa[o];
        float *Y = (float *)s->ptr[2] + g->oy[o];
        cublasStatus_t bs;
        if (a.batch == 1)
            bs = cublasSgemm(e->blas, of, os, a.m, a.n, a.k, &g->alpha, B, a.ld_first, A, a.ld_second, &g->beta, Y,
                             a.ldc);
        else
            bs = cublasSgemmStridedBatched(e->blas, of, os, a.m, a.n, a.k, &g->alpha, B, a.ld_first, a.stride_first, A,
                                           a.ld_second, a.stride_second, &g->beta, Y, a.ldc, a.stride_c, a.batch);
        if (bs != CUBLAS_STATUS_SUCCESS)
            return blas_fail(st, bs, a.batch == 1 ? "cublasSgemm" : "cublasSgemmStridedBatched", node_name(x, s));
    }
    return DT_OK;
}

/* Enqueue one forward pass: inputs up, every step, outputs and the status
 * word down. */
static dt_code enqueue(dt_cuda_exec *e, xplan *x, dt_status *st)
{
    unsigned *dflag = (unsigned *)(e->dmem + e->lay.flag_off);
    char *act = e->dmem + e->lay.act_off;
    CU(cudaMemsetAsync(dflag, 0, sizeof(unsigned), e->stream), "cudaMemsetAsync");
    for (int i = 0; i < x->p.n_in; i++)
        if (x->p.in[i].bytes && x->p.in[i].off >= 0)
            CU(cudaMemcpyAsync(act + x->p.in[i].off, e->pinned + x->p.in[i].host_off, x->p.in[i].bytes,
                               cudaMemcpyHostToDevice, e->stream),
               "uploading an input");
    for (int i = 0; i < x->p.n_steps; i++) {
        const dt_cu_step *s = &x->p.steps[i];
        dt_code rc = DT_OK;
        if (s->kind == DT_CU_CONV || s->kind == DT_CU_CONVT) {
            rc = run_conv(e, x, i, st);
        } else if (s->kind == DT_CU_GEMM) {
            rc = run_gemm(e, x, s, st);
        } else {
            int ce = dt_cu_launch(s, e->stream, dflag);
            if (ce)
                rc = dt_fail(st, DT_EIO, "%s kernel failed: %s (node '%s')", dt_cu_kind_name(s->kind),
                             cudaGetErrorString((cudaError_t)ce), node_name(x, s));
        }
        if (rc != DT_OK)
            return rc;
    }
    for (int i = 0; i < x->p.n_out; i++)
        if (x->p.out[i].bytes && x->p.out[i].off >= 0)
            CU(cudaMemcpyAsync(e->pinned + x->p.out[i].host_off, act + x->p.out[i].off, x->p.out[i].bytes,
                               cudaMemcpyDeviceToHost, e->stream),
               "downloading an output");
    CU(cudaMemcpyAsync(e->hflag, dflag, sizeof(unsigned), cudaMemcpyDeviceToHost, e->stream), "cudaMemcpyAsync");
    return DT_OK;
}

/* Capture the pass into a CUDA Graph (second run of a batch size, after the
 * first has loaded every module); on any failure run without graphs. */
static dt_code capture_and_launch(dt_cuda_exec *e, xplan *x, dt_status *st)
{
    cudaGraph_t g = NULL;
    dt_status tmp;
    dt_status_clear(&tmp);
    cudaError_t ce = cudaStreamBeginCapture(e->stream, cudaStreamCaptureModeThreadLocal);
    if (ce == cudaSuccess) {
        dt_code rc = enqueue(e, x, &tmp);
        ce = cudaStreamEndCapture(e->stream, &g);
        if (rc != DT_OK && ce == cudaSuccess)
            ce = cudaErrorStreamCaptureInvalidated;
    }
    if (ce == cudaSuccess && g)
        ce = cudaGraphInstantiate(&x->gexec, g, 0);
    if (g)
        cudaGraphDestroy(g);
    if (ce != cudaSuccess) {
        cudaGetLastError(); /* clear it: capture problems are not fatal */
        x->gexec = NULL;
        x->graph = -1;
        return enqueue(e, x, st);
    }
    x->graph = 1;
    CU(cudaGraphLaunch(x->gexec, e->stream), "cudaGraphLaunch");
    return DT_OK;
}

dt_code dt_cuda_exec_run(dt_cuda_exec *e, int batch, dt_status *st)
{
    if (batch < 1 || batch > e->n_plans)
        return dt_fail(st, DT_ELIMIT, "batch %d not available (max %d)", batch, e->n_plans);
    xplan *x = &e->plans[batch - 1];
    CU(cudaSetDevice(e->dev), "cudaSetDevice");
    dt_code rc;
    if (x->graph == 1) {
        cudaError_t ce = cudaGraphLaunch(x->gexec, e->stream);
        rc = ce == cudaSuccess ? DT_OK : cuda_fail(st, ce, "cudaGraphLaunch");
    } else if (e->graphs && x->graph == 0 && x->runs > 0) {
        rc = capture_and_launch(e, x, st);
    } else {
        rc = enqueue(e, x, st);
    }
    cudaError_t ce = cudaStreamSynchronize(e->stream);
    if (rc != DT_OK)
        return rc;
    if (ce != cudaSuccess)
        return dt_fail(st, ce == cudaErrorMemoryAllocation ? DT_ENOMEM : DT_EIO,
                       "running batch %d on cuda:%d failed: %s (%s)", batch, e->dev, cudaGetErrorName(ce),
                       cudaGetErrorString(ce));
    x->runs++;
    if (*e->hflag) {
        unsigned nd = *e->hflag - 1;
        const dt_graph *g = x->p.g;
        return dt_fail(st, DT_EINVAL, "node '%s' (%s): index out of range",
                       nd < (unsigned)g->n_nodes ? g->nodes[nd].name : "?",
                       nd < (unsigned)g->n_nodes ? dt_op_name(g->nodes[nd].op) : "?");
    }
    return DT_OK;
}

size_t dt_cuda_exec_device_bytes(const dt_cuda_exec *e) { return e->lay.total; }

const char *dt_cuda_exec_kernel(const dt_cuda_exec *e, int batch, int node)
{
    if (batch < 1 || batch > e->n_plans)
        return NULL;
    return dt_cu_plan_kernel(&e->plans[batch - 1].p, node);
}

#else /* !DT_HAVE_CUDA */

int dt_cuda_built(void) { return 0; }

int dt_cuda_available(char *why, size_t cap)
{
    if (why && cap)
        snprintf(why, cap, "this build has no CUDA backend (nvcc or cuDNN not found at build time)");
    return 0;
}

dt_code dt_cuda_device_stats(int dev, dt_cuda_stats *out, dt_status *st)
{
    (void)dev;
    (void)out;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend");
}

dt_code dt_cuda_exec_create(int dev, dt_graph *const *graphs, const size_t *act_bytes, int n_plans,
                            dt_cuda_exec **out, char *why, size_t why_cap, dt_status *st)
{
    (void)dev;
    (void)graphs;
    (void)act_bytes;
    (void)n_plans;
    (void)why;
    (void)why_cap;
    *out = NULL;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend (nvcc or cuDNN not found at build time)");
}

void dt_cuda_exec_free(dt_cuda_exec *e) { (void)e; }

dt_code dt_cuda_exec_io(dt_cuda_exec *e, int batch, dt_tensor *inputs, int n_in, dt_tensor *outputs, int n_out,
                        dt_status *st)
{
    (void)e;
    (void)batch;
    (void)inputs;
    (void)n_in;
    (void)outputs;
    (void)n_out;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend");
}

dt_code dt_cuda_exec_run(dt_cuda_exec *e, int batch, dt_status *st)
{
    (void)e;
    (void)batch;
    return dt_fail(st, DT_EUNSUPPORTED, "this build has no CUDA backend");
}

size_t dt_cuda_exec_device_bytes(const dt_cuda_exec *e)
{
    (void)e;
    return 0;
}

const char *dt_cuda_exec_kernel(const dt_cuda_exec *e, int batch, int node)
{
    (void)e;
    (void)batch;
    (void)node;
    return NULL;
}

#endif
