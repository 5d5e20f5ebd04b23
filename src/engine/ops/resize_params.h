/* resize_params.h — what a Resize / Upsample node asks for, resolved once
 * for every backend: mode, coordinate transform, nearest rounding, output
 * dims, per-axis scales and ROI, and the tap table of a resized axis
 * (input index + weight per output coordinate).  The CPU kernels
 * (nn_resize.c) and the CUDA plan (cuda/cu_plan.c) both use it, so the two
 * backends cannot drift apart.  Implemented in nn_resize.c. */
#ifndef DT_RESIZE_PARAMS_H
#define DT_RESIZE_PARAMS_H

#include <stdint.h>

#include "base/status.h"
#include "engine/graph.h"
#include "engine/tensor.h"

typedef enum dt_rz_mode { DT_RZ_NEAREST, DT_RZ_LINEAR, DT_RZ_CUBIC } dt_rz_mode;
typedef enum dt_rz_ct {
    DT_RZ_CT_HALF_PIXEL, DT_RZ_CT_HALF_PIXEL_SYM, DT_RZ_CT_PYTORCH_HALF_PIXEL, DT_RZ_CT_ALIGN_CORNERS,
    DT_RZ_CT_ASYMMETRIC, DT_RZ_CT_TF_HALF_PIXEL_NN, DT_RZ_CT_TF_CROP_RESIZE
} dt_rz_ct;
typedef enum dt_rz_nm {
    DT_RZ_NM_ROUND_PREFER_FLOOR, DT_RZ_NM_ROUND_PREFER_CEIL, DT_RZ_NM_FLOOR, DT_RZ_NM_CEIL, DT_RZ_NM_SIMPLE
} dt_rz_nm;

typedef struct dt_rz_params {
    dt_rz_mode mode;
    dt_rz_ct ct;
    dt_rz_nm nm;
    float cubic_a, extrap;
    int exclude_outside;
    int rank;
    int64_t in_dims[DT_MAX_DIMS], out_dims[DT_MAX_DIMS]; /* out -1: unknown yet (symbolic input) */
    float scale[DT_MAX_DIMS];
    float roi_s[DT_MAX_DIMS], roi_e[DT_MAX_DIMS];
    uint8_t active[DT_MAX_DIMS]; /* axis needs a tap table (not an identity) */
    int taps;                    /* taps per resized axis: 1 nearest, 2 linear, 4 cubic */
} dt_rz_params;

/* legacy: Upsample or Resize-10 (asymmetric, "simple" nearest).  roi,
 * scales, sizes: the node's constant inputs, NULL when omitted.  Errors
 * name the node. */
dt_code dt_rz_params_get(const dt_node *n, int legacy, int rank, const int64_t *dims, const dt_tensor *roi,
                         const dt_tensor *scales, const dt_tensor *sizes, dt_rz_params *p, dt_status *st);

/* Tap table of axis a: idx/w [out_dims[a] * taps], outside [out_dims[a]]
 * (1 where tf_crop_and_resize samples outside the input: extrapolation). */
void dt_rz_fill_axis(const dt_rz_params *p, int a, int64_t *idx, float *w, uint8_t *outside);

#endif
