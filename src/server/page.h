/* page.h — the web page and other files embedded into the binary from
 * src/server/assets/ (tools/embed.sh), with the headers they are served
 * with.  GET / answers index.html.
 *
 * Caching: "no-cache" plus a strong ETag of the file's bytes, so a browser
 * revalidates every time (cheap 304) and never shows a page older than the
 * binary.  The CSP allows the page's own inline script and style and
 * nothing from anywhere else (connect-src 'self' for /v1/detect, blob:
 * images for the chosen photo). */
#ifndef DT_SERVER_PAGE_H
#define DT_SERVER_PAGE_H

#include <stddef.h>

#define DT_PAGE_CSP                                                                                       \
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "           \
    "img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "               \
    "frame-ancestors 'none'"
#define DT_PAGE_CACHE_CONTROL "no-cache"

typedef struct dt_page {
    const char *name;
    const unsigned char *data;
    size_t size;
    const char *content_type; /* from the file name's extension */
    char etag[24];            /* "\"<16 hex digits>\"" of the bytes */
} dt_page;

/* The embedded file `name` ("index.html"); 0 when there is none. */
int dt_page_find(const char *name, dt_page *out);

/* Whether an If-None-Match header value (may be NULL) matches `etag`:
 * "*", or a comma-separated list of (possibly weak W/) entity tags. */
int dt_page_etag_matches(const char *if_none_match, const char *etag);

#endif
