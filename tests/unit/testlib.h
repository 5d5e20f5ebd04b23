/* testlib.h — the tiny harness of the C unit tests.
 * A test program defines test functions, lists them in main with RUN(fn),
 * and returns tl_summary().  Exit 0 = pass, 1 = failures, 77 = skipped. */
#ifndef DT_TESTLIB_H
#define DT_TESTLIB_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tl_failed_checks, tl_tests, tl_tests_failed, tl_cur_failed;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
            tl_failed_checks++;                                                     \
            tl_cur_failed = 1;                                                      \
        }                                                                           \
    } while (0)

#define CHECKF(cond, ...)                                                           \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                           \
            fprintf(stderr, "\n");                                                  \
            tl_failed_checks++;                                                     \
            tl_cur_failed = 1;                                                      \
        }                                                                           \
    } while (0)

#define CHECK_NEAR(a, b, tol) CHECKF(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g (tol %g)", (double)(a), (double)(b), (double)(tol))

#define RUN(fn)                                                                     \
    do {                                                                            \
        tl_cur_failed = 0;                                                          \
        tl_tests++;                                                                 \
        fn();                                                                       \
        if (tl_cur_failed)                                                          \
            tl_tests_failed++;                                                      \
        fprintf(stderr, "%s %s\n", tl_cur_failed ? "not ok" : "ok", #fn);           \
    } while (0)

static inline int tl_summary(void)
{
    fprintf(stderr, "%d/%d tests passed\n", tl_tests - tl_tests_failed, tl_tests);
    return tl_tests_failed ? 1 : 0;
}

/* Deterministic pseudo-random floats in [lo, hi) for kernel tests. */
static inline float tl_randf(unsigned *state, float lo, float hi)
{
    *state = *state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)((*state >> 8) & 0xffffff) / 16777216.0f;
}

#endif
