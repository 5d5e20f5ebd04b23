/* test_server_query.c — percent-decoding, query strings, strict numbers and
 * media types (src/server/parse.h). */
#include <stdint.h>

#include "server/parse.h"
#include "testlib.h"

static void test_url_decode(void)
{
    char out[32];
    size_t n = 0;
    dt_status st;
    CHECK(dt_url_decode("a%20b+c", 7, 1, out, sizeof out, &n, &st) == DT_OK);
    CHECK(!strcmp(out, "a b c") && n == 5);
    CHECK(dt_url_decode("a+b", 3, 0, out, sizeof out, &n, &st) == DT_OK && !strcmp(out, "a+b"));
    CHECK(dt_url_decode("%2c%2C%e2%82%ac", 15, 1, out, sizeof out, &n, &st) == DT_OK);
    CHECK(!strcmp(out, ",,\xe2\x82\xac"));
    CHECK(dt_url_decode("", 0, 1, out, sizeof out, &n, &st) == DT_OK && out[0] == 0 && n == 0);
    /* bad and truncated escapes, a decoded NUL, overflow */
    CHECK(dt_url_decode("%zz", 3, 1, out, sizeof out, &n, &st) == DT_EINVAL);
    CHECK(dt_url_decode("%2", 2, 1, out, sizeof out, &n, &st) == DT_EINVAL);
    CHECK(dt_url_decode("%", 1, 1, out, sizeof out, &n, &st) == DT_EINVAL);
    CHECK(dt_url_decode("a%00b", 5, 1, out, sizeof out, &n, &st) == DT_EINVAL);
    CHECK(dt_url_decode("abcd", 4, 1, out, 4, &n, &st) == DT_ELIMIT);
    CHECK(dt_url_decode("abc", 3, 1, out, 4, &n, &st) == DT_OK && !strcmp(out, "abc"));
    /* only the first n bytes are read: no NUL terminator needed */
    const char raw[3] = {'x', '%', '4'};
    CHECK(dt_url_decode(raw, 1, 1, out, sizeof out, &n, &st) == DT_OK && !strcmp(out, "x"));
    CHECK(dt_url_decode(raw, 3, 1, out, sizeof out, &n, &st) == DT_EINVAL);
}

static void test_query_iter(void)
{
    const char *qs = "threshold=0.3&&classes=cat%2Cdog&flag&=v&max_detections=5&x=a+b";
    dt_query_iter it;
    dt_query_init(&it, qs, strlen(qs));
    char k[16], v[32];
    int found;
    dt_status st;
    const char *want[][2] = {{"threshold", "0.3"}, {"classes", "cat,dog"}, {"flag", ""}, {"", "v"},
                             {"max_detections", "5"}, {"x", "a b"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_OK && found);
        CHECKF(!strcmp(k, want[i][0]) && !strcmp(v, want[i][1]), "pair %zu: '%s'='%s'", i, k, v);
    }
    CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_OK && !found);
    CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_OK && !found);

    dt_query_init(&it, NULL, 0);
    CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_OK && !found);
    dt_query_init(&it, "&&&", 3);
    CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_OK && !found);

    /* an error ends the iteration */
    dt_query_init(&it, "a=%G0&b=1", 9);
    CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_EINVAL && !found);
    CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_OK && !found);
    /* key too long for its buffer */
    dt_query_init(&it, "averyveryverylongkey=1", 22);
    CHECK(dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) == DT_ELIMIT);
}

static void test_numbers(void)
{
    dt_status st;
    int64_t i = 0;
    double d = 0;
    CHECK(dt_parse_i64("42", 0, 100, &i, &st) == DT_OK && i == 42);
    CHECK(dt_parse_i64("-3", -5, 5, &i, &st) == DT_OK && i == -3);
    CHECK(dt_parse_i64("101", 0, 100, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_i64(" 4", 0, 100, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_i64("+4", 0, 100, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_i64("4x", 0, 100, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_i64("", 0, 100, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_i64("99999999999999999999", 0, INT64_MAX, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_f64("0.25", 0, 1, &d, &st) == DT_OK && d == 0.25);
    CHECK(dt_parse_f64(".5", 0, 1, &d, &st) == DT_OK && d == 0.5);
    CHECK(dt_parse_f64("1", 0, 1, &d, &st) == DT_OK && d == 1);
    CHECK(dt_parse_f64("1.5", 0, 1, &d, &st) == DT_EINVAL);
    CHECK(dt_parse_f64("nan", 0, 1, &d, &st) == DT_EINVAL);
    CHECK(dt_parse_f64("inf", 0, 1, &d, &st) == DT_EINVAL);
    CHECK(dt_parse_f64("1e999", 0, 1e300, &d, &st) == DT_EINVAL);
    CHECK(dt_parse_f64("0x1p-2", 0, 1, &d, &st) == DT_OK); /* strtod accepts hex floats; harmless */
    CHECK(dt_parse_f64("0.5 ", 0, 1, &d, &st) == DT_EINVAL);
    CHECK(dt_parse_f64("-", -1, 1, &d, &st) == DT_EINVAL);
    CHECK(dt_parse_size("32M", 1, INT64_MAX, &i, &st) == DT_OK && i == 32LL << 20);
    CHECK(dt_parse_size("512k", 1, INT64_MAX, &i, &st) == DT_OK && i == 512LL << 10);
    CHECK(dt_parse_size("2GiB", 1, INT64_MAX, &i, &st) == DT_OK && i == 2LL << 30);
    CHECK(dt_parse_size("7MB", 1, INT64_MAX, &i, &st) == DT_OK && i == 7LL << 20);
    CHECK(dt_parse_size("1000", 1, INT64_MAX, &i, &st) == DT_OK && i == 1000);
    CHECK(dt_parse_size("1T", 1, INT64_MAX, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_size("0", 1, INT64_MAX, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_size("-1", 0, INT64_MAX, &i, &st) == DT_EINVAL);
    CHECK(dt_parse_size("99999999999999G", 0, INT64_MAX, &i, &st) == DT_EINVAL);
    int b = -1;
    CHECK(dt_parse_bool("TRUE", &b, &st) == DT_OK && b == 1);
    CHECK(dt_parse_bool("off", &b, &st) == DT_OK && b == 0);
    CHECK(dt_parse_bool("2", &b, &st) == DT_EINVAL);
}

static void test_media_type(void)
{
    char m[32];
    dt_status st;
    const char *ct = "Image/JPEG; charset=binary";
    CHECK(dt_media_type(ct, strlen(ct), m, sizeof m, &st) == DT_OK && !strcmp(m, "image/jpeg"));
    CHECK(dt_media_type(" image/png ", 11, m, sizeof m, &st) == DT_OK && !strcmp(m, "image/png"));
    CHECK(dt_media_type("image/png", 5, m, sizeof m, &st) == DT_EINVAL); /* only "image" is inside the bounds */
    CHECK(dt_media_type("image", 5, m, sizeof m, &st) == DT_EINVAL);
    CHECK(dt_media_type("/png", 4, m, sizeof m, &st) == DT_EINVAL);
    CHECK(dt_media_type("image/", 6, m, sizeof m, &st) == DT_EINVAL);
    CHECK(dt_media_type("a/b/c", 5, m, sizeof m, &st) == DT_EINVAL);
    CHECK(dt_media_type("image/png x", 11, m, sizeof m, &st) == DT_EINVAL);
    CHECK(dt_media_type("image/jpeg", 10, m, 5, &st) == DT_ELIMIT);
    const char *v;
    size_t vl;
    const char *cd = "form-data; name=\"image\"; filename=\"a \\\"b\\\".jpg\"";
    CHECK(dt_header_param(cd, strlen(cd), "name", &v, &vl, &st) == DT_OK && vl == 5 && !memcmp(v, "image", 5));
    CHECK(dt_header_param(cd, strlen(cd), "FILENAME", &v, &vl, &st) == DT_OK && vl == 11);
    CHECK(dt_header_param(cd, strlen(cd), "size", &v, &vl, &st) == DT_ENOTFOUND);
    CHECK(dt_header_param("form-data", 9, "name", &v, &vl, &st) == DT_ENOTFOUND);
    CHECK(dt_header_param("a; name=\"x", 10, "name", &v, &vl, &st) == DT_EINVAL);
    CHECK(dt_header_param("a; =x", 5, "name", &v, &vl, &st) == DT_EINVAL);
    CHECK(dt_header_param("a; name", 7, "name", &v, &vl, &st) == DT_EINVAL);
    CHECK(dt_header_param("a;; name=x ;", 12, "name", &v, &vl, &st) == DT_OK && vl == 1 && *v == 'x');
    CHECK(dt_header_param("a; name=\"x\\", 11, "name", &v, &vl, &st) == DT_EINVAL); /* escape at the very end */
}

/* Every prefix of some tricky inputs: no crash, no read past the bounds
 * (ASan in `make test-san` checks the latter). */
static void test_prefixes(void)
{
    const char *inputs[] = {"a=%41%4", "k=v&x=%e2%82%ac&&y", "%%%", "+=+&=&"};
    char k[8], v[8];
    dt_status st;
    for (size_t t = 0; t < sizeof inputs / sizeof inputs[0]; t++) {
        size_t n = strlen(inputs[t]);
        for (size_t len = 0; len <= n; len++) {
            char *copy = malloc(len ? len : 1);
            memcpy(copy, inputs[t], len);
            dt_query_iter it;
            dt_query_init(&it, copy, len);
            int found = 1, guard = 0;
            while (found && guard++ < 64)
                if (dt_query_next(&it, k, sizeof k, v, sizeof v, &found, &st) != DT_OK)
                    break;
            CHECK(guard < 64);
            char m[16];
            dt_media_type(copy, len, m, sizeof m, &st);
            free(copy);
        }
    }
}

int main(void)
{
    RUN(test_url_decode);
    RUN(test_query_iter);
    RUN(test_numbers);
    RUN(test_media_type);
    RUN(test_prefixes);
    return tl_summary();
}
