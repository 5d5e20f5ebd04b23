/* cu_kernels.cu — the CUDA backend's own kernels.
 *
 * Each kernel is a grid-stride loop over output elements (or lines) calling
 * the element function of cu_kern.h that the host emulator also runs, so the
 * index math is the tested one; the parameter struct is passed by value.
 * TopK is the exception with real device-side structure: one block per
 * (line, chunk) selects the chunk's k best with k rounds of a block-wide
 * arg-best, and further passes merge the candidates. */
#include <cuda_runtime.h>

#include "engine/cuda/cu_launch.h"

#define THREADS 256

static unsigned blocks_for(int64_t n)
{
    int64_t b = (n + THREADS - 1) / THREADS;
    if (b < 1)
        b = 1;
    return b > 1048576 ? 1048576u : (unsigned)b; /* grid-stride loops cover the rest */
}

#define GRID_LOOP(i, n)                                                                            \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)gridDim.x * blockDim.x)

__global__ void k_unary(dt_cu_unary p, const void *x, void *y)
{
    GRID_LOOP(i, p.n) dt_cu_unary_elem(&p, x, y, i);
}

/* The common case on its own: float in, float out, no casts. */
__global__ void k_unary_f32(dt_cu_unary p, const float *x, float *y)
{
    GRID_LOOP(i, p.n) y[i] = dt_cu_unary_f(&p, x[i]);
}

__global__ void k_binary(dt_cu_binary p, const void *a, const void *b, void *y)
{
    GRID_LOOP(i, p.bc.n) dt_cu_binary_elem(&p, a, b, y, i);
}

__global__ void k_where(dt_cu_where p, const void *c, const void *x, const void *yv, void *o)
{
    GRID_LOOP(i, p.bc.n) dt_cu_where_elem(&p, c, x, yv, o, i);
}

template <typename T>
__global__ void k_copy(dt_cu_copy p, const T *src, T *dst)
{
    GRID_LOOP(i, p.n)
    {
        int64_t so, dof;
        dt_cu_copy_offsets(&p, i, &so, &dof);
        dst[dof] = src[so];
    }
}

__global__ void k_chan(dt_cu_chan p, const float *x, float *y, const float *scale, const float *bias)
{
    GRID_LOOP(i, p.n) y[i] = dt_cu_chan_elem(&p, scale, bias, x[i], i);
}

__global__ void k_pool(dt_cu_pool p, const float *x, float *y)
{
    GRID_LOOP(i, p.n) y[i] = dt_cu_pool_elem(&p, x, i);
}

__global__ void k_resize(dt_cu_resize p, const float *x, float *y, const uint8_t *tab)
{
    GRID_LOOP(i, p.n) y[i] = dt_cu_resize_elem(&p, x, tab, i);
}

__global__ void k_pad(dt_cu_pad p, const void *x, void *y)
{
    GRID_LOOP(i, p.n) dt_cu_pad_elem(&p, x, y, i);
}

__global__ void k_softmax(dt_cu_softmax p, const float *x, float *y)
{
    GRID_LOOP(i, p.lines) dt_cu_softmax_line(&p, x, y, i);
}

__global__ void k_reduce(dt_cu_reduce p, const void *x, void *y)
{
    GRID_LOOP(i, p.n) dt_cu_reduce_elem(&p, x, y, i);
}

__global__ void k_arg(dt_cu_arg p, const void *x, int64_t *y)
{
    GRID_LOOP(i, p.lines) y[i] = dt_cu_arg_line(&p, x, i);
}

__global__ void k_gather(dt_cu_gather p, const void *x, const void *idx, void *y, unsigned int *err, unsigned node)
{
    GRID_LOOP(i, p.n)
    {
        if (!dt_cu_gather_elem(&p, x, idx, y, i))
            atomicCAS(err, 0u, node + 1u);
    }
}

__global__ void k_gather_el(dt_cu_gather_el p, const void *x, const void *idx, void *y, unsigned int *err,
                            unsigned node)
{
    GRID_LOOP(i, p.n)
    {
        if (!dt_cu_gather_el_elem(&p, x, idx, y, i))
            atomicCAS(err, 0u, node + 1u);
    }
}

__global__ void k_instnorm(dt_cu_norm p, const float *x, float *y, const float *scale, const float *bias)
{
    GRID_LOOP(i, p.n) dt_cu_instnorm_plane(&p, x, y, scale, bias, i);
}

__global__ void k_lrn(dt_cu_norm p, const float *x, float *y)
{
    GRID_LOOP(i, p.n) y[i] = dt_cu_lrn_elem(&p, x, i);
}

/* One block per (line, group) of a TopK pass. */
__global__ void k_topk_pass(dt_cu_topk p, int pass, const void *x, const dt_cu_topk_cand *src,
                            dt_cu_topk_cand *dst, void *yv, int64_t *yi)
{
    __shared__ dt_cu_topk_cand sh[DT_CU_TOPK_CHUNK];
    __shared__ int red[THREADS];
    const int64_t groups = p.groups[pass], cnt = p.count[pass], next = p.count[pass + 1];
    const int last = pass == p.n_pass - 1, is_i64 = p.dt == DT_CU_I64;
    const int tid = threadIdx.x;
    for (int64_t blk = blockIdx.x; blk < p.lines * groups; blk += gridDim.x) {
        const int64_t line = blk / groups, g = blk % groups;
        const int64_t lo = g * DT_CU_TOPK_CHUNK;
        const int m = (int)(lo + DT_CU_TOPK_CHUNK < cnt ? DT_CU_TOPK_CHUNK : cnt - lo);
        for (int j = tid; j < m; j += THREADS)
            sh[j] = pass ? src[line * cnt + lo + j] : dt_cu_topk_load(&p, x, line, lo + j);
        __syncthreads();
        for (int64_t r = 0; r < p.k; r++) {
            int best = -1;
            for (int j = tid; j < m; j += THREADS)
                if (sh[j].idx >= 0 && (best < 0 || dt_cu_topk_before(&sh[j], &sh[best], is_i64, p.largest)))
                    best = j;
            red[tid] = best;
            __syncthreads();
            for (int w = THREADS / 2; w > 0; w >>= 1) {
                if (tid < w) {
                    int a = red[tid], b = red[tid + w];
                    if (b >= 0 && (a < 0 || dt_cu_topk_before(&sh[b], &sh[a], is_i64, p.largest)))
                        red[tid] = b;
                }
                __syncthreads();
            }
            if (tid == 0) {
                int b = red[0];
                dt_cu_topk_cand c;
                if (b >= 0) {
                    c = sh[b];
                    sh[b].idx = -1;
                } else {
                    c.v.i = 0;
                    c.idx = -1;
                }
                if (last)
                    dt_cu_topk_store(&p, yv, yi, line, r, &c);
                else
                    dst[line * next + g * p.k + r] = c;
            }
            __syncthreads();
        }
    }
}

__global__ void k_bias_relu(int64_t n, int64_t K, int64_t inner, float *y, const float *bias)
{
    GRID_LOOP(i, n)
    {
        float v = y[i] + bias[(i / inner) % K];
        y[i] = v > 0.f ? v : 0.f;
    }
}

static int launch_copy(const dt_cu_step *s, cudaStream_t st)
{
    const dt_cu_copy &p = s->u.c;
    unsigned g = blocks_for(p.n);
    switch (p.es) {
    case 1: k_copy<uint8_t><<<g, THREADS, 0, st>>>(p, (const uint8_t *)s->ptr[0], (uint8_t *)s->ptr[1]); break;
    case 2: k_copy<uint16_t><<<g, THREADS, 0, st>>>(p, (const uint16_t *)s->ptr[0], (uint16_t *)s->ptr[1]); break;
    case 4: k_copy<uint32_t><<<g, THREADS, 0, st>>>(p, (const uint32_t *)s->ptr[0], (uint32_t *)s->ptr[1]); break;
    default: k_copy<uint64_t><<<g, THREADS, 0, st>>>(p, (const uint64_t *)s->ptr[0], (uint64_t *)s->ptr[1]); break;
    }
    return (int)cudaGetLastError();
}

static int launch_topk(const dt_cu_step *s, cudaStream_t st)
{
    const dt_cu_topk &p = s->u.tk;
    size_t bsz = dt_cu_topk_buf_bytes(&p);
    dt_cu_topk_cand *buf[2] = {(dt_cu_topk_cand *)s->ptr[3], (dt_cu_topk_cand *)((char *)s->ptr[3] + bsz)};
    for (int pass = 0; pass < p.n_pass; pass++) {
        int64_t blocks = p.lines * p.groups[pass];
        unsigned g = blocks > 1048576 ? 1048576u : (unsigned)blocks;
        k_topk_pass<<<g, THREADS, 0, st>>>(p, pass, s->ptr[0], pass ? buf[(pass - 1) & 1] : NULL, buf[pass & 1],
                                           s->ptr[1], (int64_t *)s->ptr[2]);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess)
            return (int)e;
    }
    return 0;
}

extern "C" int dt_cu_launch(const dt_cu_step *s, void *stream, unsigned int *err_flag)
{
    cudaStream_t st = (cudaStream_t)stream;
    switch (s->kind) {
    case DT_CU_NOP: return 0;
    case DT_CU_MEMCPY:
        return (int)cudaMemcpyAsync(s->ptr[1], s->ptr[0], (size_t)s->bytes, cudaMemcpyDeviceToDevice, st);
    case DT_CU_UNARY: {
        const dt_cu_unary &p = s->u.u;
        if (p.src == DT_CU_F32 && p.dst == DT_CU_F32 && p.op != DT_CU_U_CAST && p.op != DT_CU_U_FILL)
            k_unary_f32<<<blocks_for(p.n), THREADS, 0, st>>>(p, (const float *)s->ptr[0], (float *)s->ptr[1]);
        else
            k_unary<<<blocks_for(p.n), THREADS, 0, st>>>(p, s->ptr[0], s->ptr[1]);
        break;
    }
    case DT_CU_BINARY:
        k_binary<<<blocks_for(s->u.b.bc.n), THREADS, 0, st>>>(s->u.b, s->ptr[0], s->ptr[1], s->ptr[2]);
        break;
    case DT_CU_WHERE:
        k_where<<<blocks_for(s->u.w.bc.n), THREADS, 0, st>>>(s->u.w, s->ptr[0], s->ptr[1], s->ptr[2], s->ptr[3]);
        break;
    case DT_CU_COPY: return launch_copy(s, st);
    case DT_CU_CHAN:
        k_chan<<<blocks_for(s->u.ch.n), THREADS, 0, st>>>(s->u.ch, (const float *)s->ptr[0], (float *)s->ptr[1],
                                                            (const float *)s->ptr[2], (const float *)s->ptr[3]);
        break;
    case DT_CU_POOL:
        k_pool<<<blocks_for(s->u.p.n), THREADS, 0, st>>>(s->u.p, (const float *)s->ptr[0], (float *)s->ptr[1]);
        break;
    case DT_CU_RESIZE:
        k_resize<<<blocks_for(s->u.r.n), THREADS, 0, st>>>(s->u.r, (const float *)s->ptr[0], (float *)s->ptr[1],
                                                             (const uint8_t *)s->ptr[2]);
        break;
    case DT_CU_PAD: k_pad<<<blocks_for(s->u.pd.n), THREADS, 0, st>>>(s->u.pd, s->ptr[0], s->ptr[1]); break;
    case DT_CU_SOFTMAX:
        k_softmax<<<blocks_for(s->u.sm.lines), THREADS, 0, st>>>(s->u.sm, (const float *)s->ptr[0],
                                                                   (float *)s->ptr[1]);
        break;
    case DT_CU_REDUCE: k_reduce<<<blocks_for(s->u.rd.n), THREADS, 0, st>>>(s->u.rd, s->ptr[0], s->ptr[1]); break;
    case DT_CU_ARG:
        k_arg<<<blocks_for(s->u.a.lines), THREADS, 0, st>>>(s->u.a, s->ptr[0], (int64_t *)s->ptr[1]);
        break;
    case DT_CU_GATHER:
        k_gather<<<blocks_for(s->u.g.n), THREADS, 0, st>>>(s->u.g, s->ptr[0], s->ptr[1], s->ptr[2], err_flag,
                                                             (unsigned)s->node);
        break;
    case DT_CU_GATHER_EL:
        k_gather_el<<<blocks_for(s->u.ge.n), THREADS, 0, st>>>(s->u.ge, s->ptr[0], s->ptr[1], s->ptr[2], err_flag,
                                                                 (unsigned)s->node);
        break;
    case DT_CU_NORM:
        if (s->u.nm.lrn)
            k_lrn<<<blocks_for(s->u.nm.n), THREADS, 0, st>>>(s->u.nm, (const float *)s->ptr[0], (float *)s->ptr[1]);
        else
            k_instnorm<<<blocks_for(s->u.nm.n), THREADS, 0, st>>>(s->u.nm, (const float *)s->ptr[0],
                                                                   (float *)s->ptr[1], (const float *)s->ptr[2],
                                                                   (const float *)s->ptr[3]);
        break;
    case DT_CU_TOPK: return launch_topk(s, st);
    default: return (int)cudaErrorInvalidValue;
    }
    return (int)cudaGetLastError();
}

extern "C" int dt_cu_launch_bias_relu(const dt_cu_conv *c, float *y, const float *bias, void *stream)
{
    int64_t n = (int64_t)c->N * c->K * c->P * c->Q;
    int64_t inner = c->nhwc ? 1 : (int64_t)c->P * c->Q;
    k_bias_relu<<<blocks_for(n), THREADS, 0, (cudaStream_t)stream>>>(n, c->K, inner, y, bias);
    return (int)cudaGetLastError();
}
