/* fuzz_query.c — the server's text parsers (server/parse.h): query strings
 * and percent-decoding, the strict number/size/bool parsers fed with the
 * decoded values (as the routes do), and media types.
 *
 * Input: the query string (without '?'), then optionally '\n' and a
 * Content-Type value. */
#include "base/alloc.h"
#include "fuzz_util.h"
#include "server/parse.h"

static void parse_value(const char *v)
{
    dt_status st;
    int64_t i;
    double d;
    int b;
    dt_status_clear(&st);
    dt_code rc = dt_parse_i64(v, 1, 10000, &i, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK)
        FUZZ_ASSERT(i >= 1 && i <= 10000);
    dt_status_clear(&st);
    rc = dt_parse_i64(v, INT64_MIN, INT64_MAX, &i, &st);
    fuzz_check_status(rc, &st);
    dt_status_clear(&st);
    rc = dt_parse_f64(v, 0, 1, &d, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK)
        FUZZ_ASSERT(d >= 0 && d <= 1);
    dt_status_clear(&st);
    rc = dt_parse_size(v, 0, (int64_t)1 << 40, &i, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK)
        FUZZ_ASSERT(i >= 0 && i <= (int64_t)1 << 40);
    dt_status_clear(&st);
    rc = dt_parse_bool(v, &b, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK)
        FUZZ_ASSERT(b == 0 || b == 1);
}

static void iterate(const char *qs, size_t n, size_t kcap, size_t vcap)
{
    char *key = malloc(kcap), *val = malloc(vcap);
    if (!key || !val)
        abort();
    dt_query_iter it;
    dt_query_init(&it, qs, n);
    for (int i = 0; i <= (int)n + 1; i++) {
        dt_status st;
        dt_status_clear(&st);
        int found = -1;
        dt_code rc = dt_query_next(&it, key, kcap, val, vcap, &found, &st);
        fuzz_check_status(rc, &st);
        if (rc != DT_OK || !found)
            break;
        FUZZ_ASSERT(found == 1);
        FUZZ_ASSERT(strlen(key) < kcap && strlen(val) < vcap);
        parse_value(val);
        FUZZ_ASSERT(i <= (int)n); /* every pair consumes input */
    }
    free(key);
    free(val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ql = nl ? (size_t)(nl - data) : size;
    size_t cl = nl ? size - ql - 1 : 0;
    char *qs = malloc(ql ? ql : 1), *ct = malloc(cl ? cl : 1);
    if (!qs || !ct)
        abort();
    memcpy(qs, data, ql);
    if (cl)
        memcpy(ct, nl + 1, cl);

    iterate(qs, ql, 64, 4096); /* the server's buffers */
    iterate(qs, ql, 2, 3);     /* tiny ones: the DT_ELIMIT paths */

    for (int plus = 0; plus < 2; plus++) {
        char out[256];
        size_t olen = 0;
        dt_status st;
        dt_status_clear(&st);
        dt_code rc = dt_url_decode(qs, ql, plus, out, sizeof out, &olen, &st);
        fuzz_check_status(rc, &st);
        if (rc == DT_OK)
            FUZZ_ASSERT(olen < sizeof out && strlen(out) == olen && olen <= ql);
    }

    char mt[64];
    dt_status st;
    dt_status_clear(&st);
    dt_code rc = dt_media_type(ct, cl, mt, sizeof mt, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK) {
        FUZZ_ASSERT(strchr(mt, '/') != NULL && strlen(mt) < sizeof mt);
        for (const char *p = mt; *p; p++)
            FUZZ_ASSERT(!(*p >= 'A' && *p <= 'Z'));
    }
    free(qs);
    free(ct);
    return 0;
}
