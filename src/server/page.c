/* page.c — lookup of the embedded assets (build/gen/assets.c). */
#include "server/page.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Defined by the generated build/gen/assets.c; NULL-name terminated. */
typedef struct dt_asset {
    const char *name;
    const unsigned char *data;
    size_t size;
} dt_asset;
extern const dt_asset dt_assets[];

static const char *type_for(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".svg", "image/svg+xml"},
        {".png", "image/png"}, {".ico", "image/x-icon"}, {".json", "application/json; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

int dt_page_find(const char *name, dt_page *out)
{
    for (const dt_asset *a = dt_assets; name && a->name; a++) {
        if (strcmp(a->name, name) != 0)
            continue;
        /* FNV-1a 64: the ETag changes whenever the embedded bytes do. */
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < a->size; i++)
            h = (h ^ a->data[i]) * 0x100000001b3ULL;
        out->name = a->name;
        out->data = a->data;
        out->size = a->size;
        out->content_type = type_for(a->name);
        snprintf(out->etag, sizeof out->etag, "\"%016llx\"", (unsigned long long)h);
        return 1;
    }
    return 0;
}

int dt_page_etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return 0;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2; /* weak comparison is what If-None-Match uses */
        const char *q = p;
        while (*q && *q != ',')
            q++;
        size_t n = (size_t)(q - p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == elen && !memcmp(p, etag, n))
            return 1;
        p = q;
    }
    return 0;
}
