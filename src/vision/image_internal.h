/* image_internal.h — per-format decoders behind dt_image_decode (vision/ only).
 *
 * Each decoder reads the header, fills info->width/height (after orientation)
 * and, unless probe_only, checks the limits, allocates out->rgb and decodes.
 * On error it frees what it took and leaves out zeroed. */
#ifndef DT_IMAGE_INTERNAL_H
#define DT_IMAGE_INTERNAL_H

#include "vision/image.h"

dt_code dt_image_decode_jpeg(const uint8_t *b, size_t len, const dt_image_limits *lim, const dt_image_hint *hint,
                             int probe_only, dt_image *out, dt_image_info *info, dt_status *st);
dt_code dt_image_decode_png(const uint8_t *b, size_t len, const dt_image_limits *lim, int probe_only,
                            dt_image *out, dt_image_info *info, dt_status *st);
dt_code dt_image_decode_webp(const uint8_t *b, size_t len, const dt_image_limits *lim, int probe_only,
                             dt_image *out, dt_image_info *info, dt_status *st);
dt_code dt_image_decode_bmp(const uint8_t *b, size_t len, const dt_image_limits *lim, int probe_only,
                            dt_image *out, dt_image_info *info, dt_status *st);

static inline uint32_t dt_rd_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t dt_rd_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t dt_rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint16_t dt_rd_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

#endif
