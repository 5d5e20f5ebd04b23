/* fuzz_npy.c — dt_npy_parse (NumPy .npy v1/v2/v3). */
#include "base/alloc.h"
#include "base/npy.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_status st;
    dt_status_clear(&st);
    dt_tensor t;
    dt_code rc = dt_npy_parse(data, size, &t, &st);
    fuzz_check_status(rc, &st);
    if (rc != DT_OK) {
        FUZZ_ASSERT(t.data == NULL);
        return 0;
    }
    FUZZ_ASSERT(t.data != NULL && t.ndim >= 0 && t.ndim <= DT_MAX_DIMS);
    int64_t numel = dt_tensor_numel(&t);
    FUZZ_ASSERT(numel >= 0);
    size_t nb = dt_tensor_nbytes(&t);
    FUZZ_ASSERT(nb <= size); /* the data came from the input */
    if (nb) {
        volatile uint8_t sink = ((uint8_t *)t.data)[0] ^ ((uint8_t *)t.data)[nb - 1];
        (void)sink;
    }
    dt_free(t.data);
    return 0;
}
