/* test_multipart.c — the multipart/form-data parser (src/server/parse.h):
 * well-formed bodies from real clients, every kind of breakage, and every
 * truncation of a valid body (each must fail cleanly, never crash). */
#include "server/parse.h"
#include "testlib.h"

#define B "----detectdBoundary7MA4YWxk"

/* The shape curl -F and browsers send: text field, file field, close. */
static const char BODY[] =
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"threshold\"\r\n"
    "\r\n"
    "0.3\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"image\"; filename=\"cat.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n"
    "\r\n"
    "\xff\xd8\xff\xe0\r\n--not-the-boundary\r\n\x00\x01\xff\xd9\r\n"
    "--" B "--\r\n"
    "epilogue is ignored";

static const char IMG[] = "\xff\xd8\xff\xe0\r\n--not-the-boundary\r\n\x00\x01\xff\xd9";

static void test_boundary(void)
{
    char b[DT_MULTIPART_MAX_BOUNDARY + 1];
    dt_status st;
    const char *ct = "multipart/form-data; boundary=" B;
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_OK && !strcmp(b, B));
    ct = "multipart/form-data; charset=utf-8; BOUNDARY=\"a b'c\"";
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_OK && !strcmp(b, "a b'c"));
    ct = "multipart/form-data";
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_EINVAL);
    ct = "multipart/form-data; boundary=";
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_EINVAL);
    ct = "multipart/form-data; boundary=\"\"";
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_EINVAL);
    ct = "multipart/form-data; boundary=\"ends with space \"";
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_EINVAL);
    ct = "multipart/form-data; boundary=\"bad\\\\char\"";
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_EINVAL);
    ct = "multipart/form-data; boundary=\"unterminated";
    CHECK(dt_multipart_boundary(ct, strlen(ct), b, sizeof b, &st) == DT_EINVAL);
    char longct[200];
    snprintf(longct, sizeof longct, "multipart/form-data; boundary=%071d", 0);
    CHECK(dt_multipart_boundary(longct, strlen(longct), b, sizeof b, &st) == DT_EINVAL);
    snprintf(longct, sizeof longct, "multipart/form-data; boundary=%070d", 0);
    CHECK(dt_multipart_boundary(longct, strlen(longct), b, sizeof b, &st) == DT_OK && strlen(b) == 70);
}

static void test_iterate(void)
{
    dt_multipart m;
    dt_status st;
    CHECK(dt_multipart_init(&m, BODY, sizeof BODY - 1, B, &st) == DT_OK);
    dt_multipart_part p;
    int found;
    CHECK(dt_multipart_next(&m, &p, &found, &st) == DT_OK && found);
    CHECK(p.name_len == 9 && !memcmp(p.name, "threshold", 9));
    CHECK(p.len == 3 && !memcmp(p.data, "0.3", 3));
    CHECK(p.filename == NULL && p.content_type == NULL);
    CHECK(dt_multipart_next(&m, &p, &found, &st) == DT_OK && found);
    CHECK(p.name_len == 5 && !memcmp(p.name, "image", 5));
    CHECK(p.filename_len == 7 && !memcmp(p.filename, "cat.jpg", 7));
    CHECK(p.content_type_len == 10 && !memcmp(p.content_type, "image/jpeg", 10));
    CHECK(p.len == sizeof IMG - 1 && !memcmp(p.data, IMG, p.len));
    CHECK(dt_multipart_next(&m, &p, &found, &st) == DT_OK && !found);
    CHECK(dt_multipart_next(&m, &p, &found, &st) == DT_OK && !found);
}

static void test_find(void)
{
    dt_multipart_part p;
    dt_status st;
    CHECK(dt_multipart_find(BODY, sizeof BODY - 1, B, "image", &p, &st) == DT_OK);
    CHECK(p.len == sizeof IMG - 1 && !memcmp(p.data, IMG, p.len));
    CHECK(dt_multipart_find(BODY, sizeof BODY - 1, B, "file", &p, &st) == DT_ENOTFOUND);
    CHECK(dt_multipart_find(BODY, sizeof BODY - 1, "otherboundary", "image", &p, &st) == DT_ECORRUPT);
    /* preamble, transport padding, an empty part, a part with no headers */
    const char *b2 = "preamble\r\n--xyz  \t\r\n"
                     "content-disposition: form-data; name=image\r\n\r\n"
                     "\r\n--xyz\r\n\r\nno headers\r\n--xyz--";
    CHECK(dt_multipart_find(b2, strlen(b2), "xyz", "image", &p, &st) == DT_ECORRUPT); /* the 2nd part has no name */
    const char *b3 = "preamble\r\n--xyz  \t\r\n"
                     "content-disposition: form-data; name=image\r\n\r\n"
                     "\r\n--xyz--";
    CHECK(dt_multipart_find(b3, strlen(b3), "xyz", "image", &p, &st) == DT_OK && p.len == 0);
    /* the first of two parts with the same name wins */
    const char *b4 = "--q\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nA\r\n"
                     "--q\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nBB\r\n--q--\r\n";
    CHECK(dt_multipart_find(b4, strlen(b4), "q", "image", &p, &st) == DT_OK && p.len == 1 && p.data[0] == 'A');
}

static void test_broken(void)
{
    dt_multipart_part p;
    dt_status st;
    static const char *const bad[] = {
        "",                                                                      /* empty */
        "no boundary anywhere",                                                  /* no delimiter */
        "--q",                                                                   /* delimiter, then nothing */
        "--qX\r\n",                                                              /* junk after the boundary */
        "--q\nContent-Disposition: form-data; name=image\n\nx\n--q--",          /* LF only */
        "--q\r\nContent-Disposition: form-data; name=image\r\nx\r\n--q--",      /* headers never end */
        "--q\r\nContent-Disposition: form-data; name=image\r\n\r\nxxxxx",        /* not closed */
        "--q\r\nContent-Disposition: form-data; name=image\r\n\r\nxx\r\n--q",   /* closing "--" missing */
        "--q\r\nContent-Disposition: form-data\r\n\r\nxx\r\n--q--",             /* no name */
        "--q\r\nContent-Disposition: form-data; name=\"im\r\n\r\nxx\r\n--q--",  /* unterminated quote */
        "--q\r\nBad Header: x\r\n\r\nxx\r\n--q--",                               /* space in a header name */
        "--q\r\n: x\r\n\r\nxx\r\n--q--",                                         /* empty header name */
        "--q\r\nContent-Disposition: form-data;\r\n name=image\r\n\r\nx\r\n--q--", /* folded header */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dt_code c = dt_multipart_find(bad[i], strlen(bad[i]), "q", "image", &p, &st);
        CHECKF(c == DT_ECORRUPT || c == DT_EINVAL, "case %zu: %s", i, dt_code_name(c));
    }
    /* a header block over 8 KiB is refused as over a limit */
    size_t n = 20000;
    char *big = malloc(n);
    size_t o = (size_t)snprintf(big, n, "--q\r\nX-Pad: ");
    while (o < 12000)
        big[o++] = 'a';
    o += (size_t)snprintf(big + o, n - o, "\r\nContent-Disposition: form-data; name=image\r\n\r\nx\r\n--q--");
    CHECK(dt_multipart_find(big, o, "q", "image", &p, &st) == DT_ELIMIT);
    free(big);
    CHECK(dt_multipart_find(NULL, 0, "q", "image", &p, &st) == DT_ECORRUPT);
    dt_multipart m;
    CHECK(dt_multipart_init(&m, "x", 1, "", &st) == DT_EINVAL);
}

/* Every truncation of the valid body is an error (or, for the cuts inside
 * the epilogue, the full answer), each on an exactly-sized heap copy so a
 * read past the end trips ASan. */
static void test_truncations(void)
{
    size_t full = sizeof BODY - 1;
    static const char close_delim[] = "--" B "--";
    const char *at = memmem(BODY, full, close_delim, sizeof close_delim - 1); /* BODY holds NULs */
    size_t closed = (size_t)(at - BODY) + sizeof close_delim - 1;
    for (size_t len = 0; len <= full; len++) {
        unsigned char *copy = malloc(len ? len : 1);
        memcpy(copy, BODY, len);
        dt_multipart_part p;
        dt_status st;
        dt_code c = dt_multipart_find(copy, len, B, "image", &p, &st);
        if (len >= closed)
            CHECKF(c == DT_OK && p.len == sizeof IMG - 1, "len %zu: %s", len, dt_code_name(c));
        else
            CHECKF(c == DT_ECORRUPT, "len %zu: %s (%s)", len, dt_code_name(c), st.msg);
        free(copy);
    }
}

/* Deterministic random mutations of the valid body: the parser must
 * return (any code) and any part it returns must lie inside the body. */
static void test_mutations(void)
{
    unsigned seed = 12345;
    size_t full = sizeof BODY - 1;
    for (int iter = 0; iter < 3000; iter++) {
        unsigned char *copy = malloc(full);
        memcpy(copy, BODY, full);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1664525u + 1013904223u;
            size_t at = (seed >> 8) % full;
            seed = seed * 1664525u + 1013904223u;
            copy[at] = (unsigned char)(seed >> 24);
        }
        dt_multipart m;
        dt_status st;
        dt_multipart_init(&m, copy, full, B, &st);
        for (int guard = 0; guard < 16; guard++) {
            dt_multipart_part p;
            int found = 0;
            if (dt_multipart_next(&m, &p, &found, &st) != DT_OK || !found)
                break;
            CHECK(p.data >= copy && p.data + p.len <= copy + full);
            CHECK((const unsigned char *)p.name >= copy && (const unsigned char *)p.name + p.name_len <= copy + full);
        }
        free(copy);
    }
}

int main(void)
{
    RUN(test_boundary);
    RUN(test_iterate);
    RUN(test_find);
    RUN(test_broken);
    RUN(test_truncations);
    RUN(test_mutations);
    return tl_summary();
}
