/* test_server_jsonw.c — the server's JSON text builder: escaping of hostile
 * strings (they end up in error messages), numbers, and sticky failure
 * under injected out-of-memory. */
#include "base/alloc.h"
#include "server/jsonw.h"
#include "testlib.h"

static char *build(const char *s, size_t n)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_strn(&w, s, n);
    return dt_jsonw_take(&w, NULL);
}

static void test_strings(void)
{
    struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"q\"b\\s/", 6, "\"q\\\"b\\\\s/\""},
        {"a\nb\tc\x01\x7f", 7, "\"a\\u000ab\\u0009c\\u0001\\u007f\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x88", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x88\""},
        {"bad \xff end", 9, "\"bad \\ufffd end\""},
        {"\xc3", 1, "\"\\ufffd\""},                  /* truncated sequence */
        {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},        /* overlong '/' */
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* UTF-16 surrogate */
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"", 0, "\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = build(cases[i].in, cases[i].n);
        CHECKF(got && !strcmp(got, cases[i].want), "case %zu: %s", i, got ? got : "(null)");
        dt_free(got);
    }
}

static void test_numbers(void)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    dt_jsonw_num(&w, 0.5, 4);
    dt_jsonw_raw(&w, ",");
    dt_jsonw_num(&w, 12.0, 3);
    dt_jsonw_raw(&w, ",");
    dt_jsonw_num(&w, -0.00001, 3);
    dt_jsonw_raw(&w, ",");
    dt_jsonw_num(&w, 1.0 / 0.0, 3);
    dt_jsonw_raw(&w, ",");
    dt_jsonw_num(&w, 0.0 / 0.0, 3);
    dt_jsonw_raw(&w, ",");
    dt_jsonw_num(&w, 909.3621, 3);
    dt_jsonw_raw(&w, ",");
    dt_jsonw_num(&w, 1e300, 3); /* does not fit the buffer: still valid JSON */
    size_t n = 0;
    char *s = dt_jsonw_take(&w, &n);
    CHECKF(s && !strcmp(s, "0.5,12,0,0,0,909.362,0") && n == strlen(s), "%s", s ? s : "(null)");
    dt_free(s);
}

static void test_growth_and_printf(void)
{
    dt_jsonw w;
    dt_jsonw_init(&w);
    for (int i = 0; i < 1000; i++)
        dt_jsonw_printf(&w, "%d,", i);
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    dt_jsonw_printf(&w, "%s", big); /* longer than printf's stack buffer */
    size_t n = 0;
    char *s = dt_jsonw_take(&w, &n);
    CHECK(s && n == strlen(s) && !strncmp(s, "0,1,2,", 6) && strstr(s, "999,xxx") && s[n - 1] == 'x');
    dt_free(s);
    dt_jsonw_init(&w);
    s = dt_jsonw_take(&w, &n); /* empty builder: an empty string, not garbage */
    CHECK(s && s[0] == '\0' && n == 0);
    dt_free(s);
}

static void test_oom(void)
{
    for (long k = 0; k < 4; k++) {
        dt_jsonw w;
        dt_jsonw_init(&w);
        dt_alloc_fail_after(k);
        for (int i = 0; i < 200; i++)
            dt_jsonw_str(&w, "a string long enough to make the buffer grow a few times");
        char *s = dt_jsonw_take(&w, NULL);
        dt_alloc_fail_reset();
        CHECKF(s == NULL, "k=%ld", k); /* every growth beyond k fails: the result is refused */
        CHECK(w.buf == NULL && w.len == 0);
    }
}

int main(void)
{
    RUN(test_strings);
    RUN(test_numbers);
    RUN(test_growth_and_printf);
    RUN(test_oom);
    return tl_summary();
}
