/* test_page.c — the embedded web page and its ETag matching. */
#include "server/page.h"
#include "testlib.h"

static void test_index(void)
{
    dt_page p;
    CHECK(dt_page_find("index.html", &p));
    CHECK(p.size > 1000);
    CHECK(!strcmp(p.content_type, "text/html; charset=utf-8"));
    CHECK(strlen(p.etag) == 18 && p.etag[0] == '"' && p.etag[17] == '"');
    CHECK(memmem(p.data, p.size, "/v1/detect", 10) != NULL);
    /* Self-contained: nothing loaded from another origin. */
    CHECK(memmem(p.data, p.size, "http://", 7) == NULL && memmem(p.data, p.size, "https://", 8) == NULL);
    CHECK(memmem(p.data, p.size, "<script src", 11) == NULL);
    dt_page q;
    CHECK(dt_page_find("index.html", &q) && !strcmp(p.etag, q.etag));
    CHECK(!dt_page_find("nope.html", &q));
    CHECK(!dt_page_find("../index.html", &q));
    CHECK(!dt_page_find(NULL, &q));
}

static void test_etag(void)
{
    const char *e = "\"0123456789abcdef\"";
    CHECK(dt_page_etag_matches(e, e));
    CHECK(dt_page_etag_matches("*", e));
    CHECK(dt_page_etag_matches("W/\"0123456789abcdef\"", e));
    CHECK(dt_page_etag_matches("\"x\", \"0123456789abcdef\" ", e));
    CHECK(!dt_page_etag_matches("\"x\", \"y\"", e));
    CHECK(!dt_page_etag_matches("", e));
    CHECK(!dt_page_etag_matches(NULL, e));
    CHECK(!dt_page_etag_matches("\"0123456789abcde\"", e));
}

int main(void)
{
    RUN(test_index);
    RUN(test_etag);
    return tl_summary();
}
