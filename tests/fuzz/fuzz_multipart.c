/* fuzz_multipart.c — multipart/form-data: the boundary parameter of the
 * Content-Type and the body parser (dt_multipart_*, server/parse.h).
 *
 * Input: the Content-Type header value, '\n', then the body.  When the
 * header yields no boundary the body is still parsed with a fixed one
 * ("b0undary"), so body mutations are never wasted. */
#include "base/alloc.h"
#include "fuzz_util.h"
#include "server/parse.h"

static int in_body(const void *p, size_t n, const uint8_t *body, size_t len)
{
    if (!p)
        return n == 0;
    const uint8_t *q = p;
    return q >= body && q <= body + len && n <= (size_t)(body + len - q);
}

static void check_part(const dt_multipart_part *pt, const uint8_t *body, size_t len)
{
    FUZZ_ASSERT(in_body(pt->name, pt->name_len, body, len));
    FUZZ_ASSERT(in_body(pt->filename, pt->filename_len, body, len));
    FUZZ_ASSERT(in_body(pt->content_type, pt->content_type_len, body, len));
    FUZZ_ASSERT(in_body(pt->data, pt->len, body, len));
    if (pt->content_type) {
        char mt[64];
        dt_status st;
        dt_status_clear(&st);
        dt_code rc = dt_media_type(pt->content_type, pt->content_type_len, mt, sizeof mt, &st);
        fuzz_check_status(rc, &st);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hl = nl ? (size_t)(nl - data) : size;
    size_t bl = nl ? size - hl - 1 : 0;
    /* Exact-size heap copies: the parsers must not need a NUL or read past. */
    char *hv = malloc(hl ? hl : 1);
    uint8_t *body = malloc(bl ? bl : 1);
    if (!hv || !body)
        abort();
    memcpy(hv, data, hl);
    if (bl)
        memcpy(body, nl + 1, bl);

    dt_status st;
    dt_status_clear(&st);
    char boundary[DT_MULTIPART_MAX_BOUNDARY + 1];
    dt_code rc = dt_multipart_boundary(hv, hl, boundary, sizeof boundary, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK)
        FUZZ_ASSERT(strlen(boundary) >= 1 && strlen(boundary) <= DT_MULTIPART_MAX_BOUNDARY);
    else
        strcpy(boundary, "b0undary");

    dt_multipart m;
    dt_status_clear(&st);
    rc = dt_multipart_init(&m, body, bl, boundary, &st);
    fuzz_check_status(rc, &st);
    for (int i = 0; rc == DT_OK && i < 100000; i++) {
        dt_multipart_part pt;
        int found = 0;
        dt_status_clear(&st);
        rc = dt_multipart_next(&m, &pt, &found, &st);
        fuzz_check_status(rc, &st);
        if (rc != DT_OK || !found)
            break;
        check_part(&pt, body, bl);
        FUZZ_ASSERT(i < 99999); /* every part consumes input: no endless loop */
    }

    dt_multipart_part pt;
    dt_status_clear(&st);
    rc = dt_multipart_find(body, bl, boundary, "image", &pt, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK) {
        check_part(&pt, body, bl);
        FUZZ_ASSERT(pt.name_len == 5 && !memcmp(pt.name, "image", 5));
    }

    /* Parameters of the header value, as the server looks them up. */
    static const char *const params[] = {"boundary", "name", "filename", "charset"};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        const char *v = NULL;
        size_t vl = 0;
        dt_status_clear(&st);
        rc = dt_header_param(hv, hl, params[i], &v, &vl, &st);
        fuzz_check_status(rc, &st);
        if (rc == DT_OK)
            FUZZ_ASSERT(in_body(v, vl, (const uint8_t *)hv, hl));
    }
    free(hv);
    free(body);
    return 0;
}
