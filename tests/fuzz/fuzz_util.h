/* fuzz_util.h — shared bits of the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * Every harness hands untrusted bytes to one parser and checks the parser's
 * own contract on the way out: an error is a dt_code with a message, never
 * a crash, and everything allocated is released (LeakSanitizer checks at
 * exit and, with -detect_leaks=1, after inputs that grew the heap).
 */
#ifndef DT_FUZZ_UTIL_H
#define DT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken contract is a crash for libFuzzer: print why and abort. */
#define FUZZ_ASSERT(cond)                                                                 \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz contract broken at %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                               \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* A failing call must say what failed: a known code and a NUL-terminated message. */
static inline void fuzz_check_status(dt_code rc, const dt_status *st)
{
    FUZZ_ASSERT(rc >= DT_OK && rc < DT_CODE_COUNT_);
    if (rc != DT_OK) {
        FUZZ_ASSERT(st->code == rc);
        FUZZ_ASSERT(memchr(st->msg, '\0', sizeof st->msg) != NULL);
    }
}

/* A private temp directory, on tmpfs when there is one (rewriting a file on
 * ext4 with discard costs milliseconds per input). */
static inline void fuzz_mkdtemp(char *buf, size_t cap, const char *tag)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(buf, cap, "%s/dt-fuzz-%s-XXXXXX", base, tag);
    if (!mkdtemp(buf))
        abort();
}

/* Take n bytes from a cursor over the input (for harnesses that split it). */
typedef struct fuzz_reader {
    const uint8_t *p;
    size_t left;
} fuzz_reader;

static inline uint32_t fuzz_u32(fuzz_reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4 && r->left; i++, r->p++, r->left--)
        v |= (uint32_t)r->p[0] << (8 * i);
    return v;
}

#endif
