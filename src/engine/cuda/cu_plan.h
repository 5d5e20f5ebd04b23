/* cu_plan.h — host side of the CUDA backend: translation of a specialised,
 * memory-planned graph into device steps, the weights pack, the layout of
 * the device block and pinned buffers, cuDNN / cuBLAS argument translation,
 * and a host emulator of every step.
 *
 * None of this needs CUDA: it is compiled into every build, and
 * tests/unit/test_cuda_host*.c check it on the CPU (the emulator runs the
 * kernels' element functions from cu_kern.h, and naive loops driven by the
 * exact cuDNN / cuBLAS arguments, against the reference kernels).
 */
#ifndef DT_CU_PLAN_H
#define DT_CU_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "engine/cuda/cu_kern.h"
#include "engine/graph.h"
#include "engine/tensor.h"

/* ---- weights pack ----------------------------------------------------------
 * Every constant a step reads (graph constants, and blobs derived at load:
 * NHWC filters, BatchNormalization coefficients, Resize tap tables) gets a
 * 256-byte aligned offset in the weights region.  Identical blobs are
 * stored once (plans of different batch sizes share their weights). */
typedef struct dt_cu_wpack dt_cu_wpack;
dt_code dt_cu_wpack_create(dt_cu_wpack **out, dt_status *st);
void dt_cu_wpack_free(dt_cu_wpack *w);
/* Offset of the blob, or -1 (st set).  copy = 0 keeps a pointer (the data
 * must outlive the pack), 1 copies. */
int64_t dt_cu_wpack_add(dt_cu_wpack *w, const void *data, size_t size, int copy, dt_status *st);
size_t dt_cu_wpack_bytes(const dt_cu_wpack *w);
int dt_cu_wpack_count(const dt_cu_wpack *w);
/* Write the packed image (dt_cu_wpack_bytes bytes; gaps zeroed). */
void dt_cu_wpack_write(const dt_cu_wpack *w, void *dst);

/* ---- plans ----------------------------------------------------------------- */

typedef struct dt_cu_io {
    int vid;
    dt_tensor shape;          /* dtype and dims (data unused) */
    int64_t off;              /* arena byte offset; -1 for a constant output */
    size_t bytes;
    const void *const_data;   /* constant outputs */
    size_t host_off;          /* offset in the pinned buffer */
} dt_cu_io;

typedef struct dt_cu_opts {
    int tf32;          /* allow TF32 tensor cores in cuDNN / cuBLAS */
    int fuse_relu;     /* use cudnnConvolutionBiasActivationForward for bias + relu */
} dt_cu_opts;

typedef struct dt_cu_plan {
    const dt_graph *g;
    dt_cu_step *steps;
    int n_steps, cap_steps;
    int *node_step;           /* first step of each node, -1 when it has none */
    int n_nodes;
    size_t act_bytes;         /* activation region this plan uses */
    size_t scr_bytes;         /* largest step scratch */
    dt_cu_io *in, *out;
    int n_in, n_out;
} dt_cu_plan;

/* Translate graph g (specialised, planned; act_bytes from dt_pass_plan).
 * DT_EUNSUPPORTED with `why` set: a node the backend cannot run.  On any
 * error the plan is cleared. */
dt_code dt_cu_plan_build(const dt_graph *g, size_t act_bytes, const dt_cu_opts *o, dt_cu_wpack *wp, dt_cu_plan *p,
                         char *why, size_t why_cap, dt_status *st);
void dt_cu_plan_clear(dt_cu_plan *p);

/* Resolve every step operand to base[space] + offset (device or host). */
void dt_cu_plan_bind(dt_cu_plan *p, char *const *base);

const char *dt_cu_kind_name(int kind);
/* Name of what runs node `node` ("cudnn_conv", ...), NULL when nothing. */
const char *dt_cu_plan_kernel(const dt_cu_plan *p, int node);

/* ---- layouts --------------------------------------------------------------- */

/* The device block: [weights | activations | scratch | cuBLAS workspace |
 * status word], every region 256-byte aligned. */
typedef struct dt_cu_layout {
    size_t w_off, act_off, scr_off, blas_off, flag_off, total;
} dt_cu_layout;
dt_code dt_cu_layout_compute(size_t weights, size_t act, size_t scr, size_t blas_ws, dt_cu_layout *l,
                             dt_status *st);

/* Pinned buffer: each plan's inputs then outputs at aligned offsets (plans
 * share the buffer; a session runs one batch at a time).  Sets host_off of
 * every io and the total. */
dt_code dt_cu_io_layout(dt_cu_plan *plans, int n, size_t *pinned_bytes, dt_status *st);

/* ---- library arguments ----------------------------------------------------- */

/* cuDNN descriptors of a convolution step, as given to cudnnSet*, in the
 * forward convolution's terms x -> y (a ConvTranspose step runs backward
 * data: its input is y, its output x). */
typedef struct dt_cu_conv_desc {
    int x_nhwc, w_nhwc;            /* tensor format of x / y, filter format */
    int x_dims[4], y_dims[4];      /* N, C, H, W */
    int w_dims[4];                 /* K, C / group, R, S */
    int pad[2], str[2], dil[2];
    int group;
} dt_cu_conv_desc;
void dt_cu_conv_desc_get(const dt_cu_conv *c, dt_cu_conv_desc *d);

/* Column-major cublasSgemmStridedBatched arguments for a row-major GEMM:
 * C' = op(first) op(second) with first = B, second = A, C' = Y^T. */
typedef struct dt_cu_blas_args {
    int trans_first, trans_second;  /* 0 = N, 1 = T */
    int m, n, k;
    int ld_first, ld_second, ldc;
    int64_t stride_first, stride_second, stride_c;
    int batch;
} dt_cu_blas_args;
dt_code dt_cu_gemm_blas_args(const dt_cu_gemm *g, dt_cu_blas_args *a, dt_status *st);

/* TopK passes for lines of length L (k <= DT_CU_TOPK_MAXK); scratch bytes
 * for the two candidate buffers. */
dt_code dt_cu_topk_plan(int64_t lines, int64_t L, int64_t k, dt_cu_topk *p, size_t *scratch, dt_status *st);

/* ---- host emulator --------------------------------------------------------- */

/* Run one step / a whole plan on the CPU with the plan bound to host
 * memory.  Also the definition the GPU kernels are tested against. */
dt_code dt_cu_step_emulate(const dt_cu_step *s, const dt_graph *g, dt_status *st);
dt_code dt_cu_plan_emulate(const dt_cu_plan *p, dt_status *st);

#endif
