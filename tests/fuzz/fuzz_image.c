/* fuzz_image.c — the sniffing image decoder (JPEG, PNG, WebP, BMP, EXIF).
 *
 * Each input is probed, decoded at full size, and (JPEG) decoded again with
 * a small size hint so the DCT-scaling path runs too.  The pixel limit is
 * lowered to 4 Mpx so the fuzzer spends its time in parsers, not memsets;
 * a bigger header must come back as DT_ELIMIT. */
#include "base/alloc.h"
#include "fuzz_util.h"
#include "vision/image.h"

static void check_image(dt_code rc, const dt_status *st, const dt_image *img, const dt_image_limits *lim)
{
    fuzz_check_status(rc, st);
    if (rc != DT_OK) {
        FUZZ_ASSERT(img->rgb == NULL && img->width == 0 && img->height == 0);
        return;
    }
    FUZZ_ASSERT(img->rgb != NULL && img->width > 0 && img->height > 0);
    FUZZ_ASSERT((int64_t)img->width * img->height <= lim->max_pixels);
    /* Touch both ends of the buffer: ASan checks it is as big as claimed. */
    size_t n = (size_t)img->width * (size_t)img->height * 3;
    volatile uint8_t sink = img->rgb[0] ^ img->rgb[n - 1];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_status st;
    dt_status_clear(&st);
    dt_image_format fmt;
    int pw = 0, ph = 0;
    dt_code prc = dt_image_probe(data, size, &fmt, &pw, &ph, &st);
    fuzz_check_status(prc, &st);
    FUZZ_ASSERT(fmt == dt_image_sniff(data, size));

    dt_image_limits lim = {.max_pixels = 4 << 20, .max_side = 16384};
    dt_image img;
    dt_image_info info;
    dt_status_clear(&st);
    dt_code rc = dt_image_decode(data, size, &lim, NULL, &img, &info, &st);
    check_image(rc, &st, &img, &lim);
    if (rc == DT_OK) {
        /* Full-size decode: the decoded size is the reported size, which
         * the header-only probe agrees with. */
        FUZZ_ASSERT(prc == DT_OK);
        FUZZ_ASSERT(info.width == img.width && info.height == img.height);
        FUZZ_ASSERT(pw == info.width && ph == info.height);
        FUZZ_ASSERT(info.orientation >= 1 && info.orientation <= 8);
    }
    dt_image_release(&img);

    if (fmt == DT_IMAGE_JPEG) {
        dt_image_hint hint = {.width = 48, .height = 32, .keep_ratio = (int)(size & 1)};
        dt_status_clear(&st);
        rc = dt_image_decode(data, size, &lim, &hint, &img, &info, &st);
        check_image(rc, &st, &img, &lim);
        if (rc == DT_OK) {
            FUZZ_ASSERT(info.scale_denom == 1 || info.scale_denom == 2 || info.scale_denom == 4 ||
                        info.scale_denom == 8);
            FUZZ_ASSERT(img.width <= info.width && img.height <= info.height);
        }
        dt_image_release(&img);
    }

    /* The EXIF reader on its own (inputs starting "Exif\0\0" reach it). */
    int o = dt_exif_orientation(data, size);
    FUZZ_ASSERT(o >= 1 && o <= 8);
    return 0;
}
