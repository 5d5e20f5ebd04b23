/* multipart.c — media types, header parameters and multipart/form-data
 * (see parse.h).  The body is parsed in place: parts are slices of it.
 * Every scan is bounded by the length it was given; nothing assumes a NUL. */
#include "server/parse.h"

#include <string.h>
#include <strings.h>

#define HEADER_BLOCK_MAX 8192

static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

static size_t skip_ows(const char *s, size_t i, size_t n)
{
    while (i < n && is_ows((unsigned char)s[i]))
        i++;
    return i;
}

dt_code dt_media_type(const char *ct, size_t len, char *out, size_t cap, dt_status *st)
{
    if (!ct)
        return dt_fail(st, DT_EINVAL, "no media type");
    size_t i = skip_ows(ct, 0, len), start = i, slash = 0;
    int n_slash = 0;
    for (; i < len && ct[i] != ';' && !is_ows((unsigned char)ct[i]); i++) {
        if (ct[i] == '/') {
            n_slash++;
            slash = i;
        } else if (!is_tchar((unsigned char)ct[i])) {
            return dt_fail(st, DT_EINVAL, "malformed media type");
        }
    }
    size_t end = i;
    i = skip_ows(ct, i, len);
    if (n_slash != 1 || slash == start || slash + 1 == end || (i < len && ct[i] != ';'))
        return dt_fail(st, DT_EINVAL, "malformed media type");
    if (end - start + 1 > cap)
        return dt_fail(st, DT_ELIMIT, "media type too long");
    for (size_t k = start; k < end; k++) {
        char c = ct[k];
        out[k - start] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[end - start] = '\0';
    return DT_OK;
}

dt_code dt_header_param(const char *hv, size_t len, const char *name, const char **value, size_t *value_len,
                        dt_status *st)
{
    const char *semi = hv ? memchr(hv, ';', len) : NULL;
    if (!semi)
        return dt_fail(st, DT_ENOTFOUND, "no parameter '%s'", name);
    size_t i = (size_t)(semi - hv) + 1, name_len = strlen(name);
    for (;;) {
        i = skip_ows(hv, i, len);
        if (i >= len)
            break;
        if (hv[i] == ';') { /* tolerate empty parameters ("a; ; b=1") */
            i++;
            continue;
        }
        size_t k0 = i;
        while (i < len && is_tchar((unsigned char)hv[i]))
            i++;
        size_t k1 = i;
        i = skip_ows(hv, i, len);
        if (k1 == k0 || i >= len || hv[i] != '=')
            return dt_fail(st, DT_EINVAL, "malformed header parameter");
        i = skip_ows(hv, i + 1, len);
        size_t v0, v1;
        if (i < len && hv[i] == '"') {
            v0 = ++i;
            while (i < len && hv[i] != '"') {
                if (hv[i] == '\\')
                    i++; /* the escaped character, whatever it is */
                i++;
            }
            if (i >= len)
                return dt_fail(st, DT_EINVAL, "unterminated quoted header parameter");
            v1 = i++;
        } else {
            v0 = i;
            while (i < len && hv[i] != ';' && !is_ows((unsigned char)hv[i]) && hv[i] != '"' &&
                   (unsigned char)hv[i] >= 0x20 && hv[i] != 0x7f)
                i++;
            v1 = i;
        }
        i = skip_ows(hv, i, len);
        if (i < len && hv[i] != ';')
            return dt_fail(st, DT_EINVAL, "malformed header parameter");
        if (k1 - k0 == name_len && !strncasecmp(hv + k0, name, name_len)) {
            *value = hv + v0;
            *value_len = v1 - v0;
            return DT_OK;
        }
        if (i < len)
            i++; /* past ';' */
    }
    return dt_fail(st, DT_ENOTFOUND, "no parameter '%s'", name);
}

static int is_bchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c && strchr("'()+_,-./:=? ", c) != NULL;
}

dt_code dt_multipart_boundary(const char *ct, size_t len, char *out, size_t cap, dt_status *st)
{
    const char *v = NULL;
    size_t vlen = 0;
    dt_code c = dt_header_param(ct, len, "boundary", &v, &vlen, st);
    if (c == DT_ENOTFOUND)
        return dt_fail(st, DT_EINVAL, "multipart Content-Type without a boundary");
    if (c != DT_OK)
        return c;
    if (vlen == 0 || vlen > DT_MULTIPART_MAX_BOUNDARY)
        return dt_fail(st, DT_EINVAL, "multipart boundary must have 1 to %d characters", DT_MULTIPART_MAX_BOUNDARY);
    if (vlen + 1 > cap)
        return dt_fail(st, DT_ELIMIT, "no room for the multipart boundary");
    for (size_t i = 0; i < vlen; i++)
        if (!is_bchar((unsigned char)v[i]))
            return dt_fail(st, DT_EINVAL, "invalid character in the multipart boundary");
    if (v[vlen - 1] == ' ')
        return dt_fail(st, DT_EINVAL, "multipart boundary ends with a space");
    memcpy(out, v, vlen);
    out[vlen] = '\0';
    return DT_OK;
}

dt_code dt_multipart_init(dt_multipart *m, const void *body, size_t len, const char *boundary, dt_status *st)
{
    memset(m, 0, sizeof *m);
    size_t bl = boundary ? strlen(boundary) : 0;
    if (bl == 0 || bl > DT_MULTIPART_MAX_BOUNDARY)
        return dt_fail(st, DT_EINVAL, "bad multipart boundary");
    m->body = body;
    m->len = body ? len : 0;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, boundary, bl);
    m->delim_len = bl + 4;
    return DT_OK;
}

/* Trimmed slice of a header value. */
static void trim(const char **p, size_t *n)
{
    while (*n && is_ows((unsigned char)**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && is_ows((unsigned char)(*p)[*n - 1]))
        (*n)--;
}

static dt_code parse_part_headers(const char *h, size_t n, dt_multipart_part *part, dt_status *st)
{
    size_t i = 0;
    while (i < n) {
        const char *eol = memmem(h + i, n - i, "\r\n", 2);
        size_t line_end = eol ? (size_t)(eol - h) : n;
        const char *line = h + i;
        size_t ll = line_end - i;
        i = eol ? line_end + 2 : n;
        if (ll == 0)
            continue;
        if (is_ows((unsigned char)line[0]))
            return dt_fail(st, DT_ECORRUPT, "folded multipart header");
        const char *colon = memchr(line, ':', ll);
        if (!colon || colon == line)
            return dt_fail(st, DT_ECORRUPT, "malformed multipart header");
        size_t nl = (size_t)(colon - line);
        for (size_t k = 0; k < nl; k++)
            if (!is_tchar((unsigned char)line[k]))
                return dt_fail(st, DT_ECORRUPT, "malformed multipart header name");
        const char *v = colon + 1;
        size_t vl = ll - nl - 1;
        trim(&v, &vl);
        if (nl == 19 && !strncasecmp(line, "Content-Disposition", 19)) {
            const char *val;
            size_t val_len;
            dt_code c = dt_header_param(v, vl, "name", &val, &val_len, st);
            if (c == DT_EINVAL)
                return dt_fail(st, DT_ECORRUPT, "malformed multipart Content-Disposition");
            if (c == DT_OK) {
                part->name = val;
                part->name_len = val_len;
            }
            c = dt_header_param(v, vl, "filename", &val, &val_len, st);
            if (c == DT_OK) {
                part->filename = val;
                part->filename_len = val_len;
            }
        } else if (nl == 12 && !strncasecmp(line, "Content-Type", 12)) {
            part->content_type = v;
            part->content_type_len = vl;
        }
    }
    if (!part->name)
        return dt_fail(st, DT_ECORRUPT, "multipart part without a Content-Disposition name");
    return DT_OK;
}

dt_code dt_multipart_next(dt_multipart *m, dt_multipart_part *part, int *found, dt_status *st)
{
    *found = 0;
    memset(part, 0, sizeof *part);
    if (m->state == 2)
        return DT_OK;
    const char *b = (const char *)m->body;
    const char *dash = m->delim + 2; /* "--boundary" */
    size_t dash_len = m->delim_len - 2;
    if (m->state == 0) {
        /* The body starts with the delimiter or has a preamble before "\r\n--boundary". */
        if (m->len >= dash_len && !memcmp(b, dash, dash_len)) {
            m->pos = 0;
        } else {
            const char *f = m->len ? memmem(b, m->len, m->delim, m->delim_len) : NULL;
            if (!f) {
                m->state = 2;
                return dt_fail(st, DT_ECORRUPT, "multipart body without its boundary");
            }
            m->pos = (size_t)(f - b) + 2;
        }
        m->state = 1;
    }
    size_t p = m->pos + dash_len;
    if (m->len - p >= 2 && b[p] == '-' && b[p + 1] == '-') {
        m->state = 2; /* closing delimiter; the epilogue is ignored */
        return DT_OK;
    }
    while (p < m->len && is_ows((unsigned char)b[p]))
        p++;
    if (m->len - p < 2 || b[p] != '\r' || b[p + 1] != '\n') {
        m->state = 2;
        return dt_fail(st, DT_ECORRUPT, "multipart boundary line not ended by CRLF (truncated body?)");
    }
    size_t h = p + 2, data;
    if (m->len - h >= 2 && b[h] == '\r' && b[h + 1] == '\n') {
        data = h + 2; /* a part with no headers */
    } else {
        size_t window = m->len - h;
        int capped = 0;
        if (window > HEADER_BLOCK_MAX + 4) {
            window = HEADER_BLOCK_MAX + 4;
            capped = 1;
        }
        const char *e = memmem(b + h, window, "\r\n\r\n", 4);
        if (!e) {
            m->state = 2;
            return capped ? dt_fail(st, DT_ELIMIT, "multipart part headers over %d bytes", HEADER_BLOCK_MAX)
                          : dt_fail(st, DT_ECORRUPT, "multipart part headers without an end (truncated body?)");
        }
        dt_code c = parse_part_headers(b + h, (size_t)(e - (b + h)), part, st);
        if (c != DT_OK) {
            m->state = 2;
            return c;
        }
        data = (size_t)(e - b) + 4;
    }
    if (!part->name) {
        m->state = 2;
        return dt_fail(st, DT_ECORRUPT, "multipart part without a Content-Disposition name");
    }
    const char *end = memmem(b + data, m->len - data, m->delim, m->delim_len);
    if (!end) {
        m->state = 2;
        return dt_fail(st, DT_ECORRUPT, "multipart part not closed by its boundary (truncated body?)");
    }
    part->data = m->body + data;
    part->len = (size_t)(end - (b + data));
    m->pos = (size_t)(end - b) + 2;
    *found = 1;
    return DT_OK;
}

dt_code dt_multipart_find(const void *body, size_t len, const char *boundary, const char *field,
                          dt_multipart_part *out, dt_status *st)
{
    dt_multipart m;
    dt_code c = dt_multipart_init(&m, body, len, boundary, st);
    if (c != DT_OK)
        return c;
    size_t fl = strlen(field);
    int have = 0;
    for (;;) {
        dt_multipart_part part;
        int found;
        c = dt_multipart_next(&m, &part, &found, st);
        if (c != DT_OK)
            return c;
        if (!found)
            break;
        if (!have && part.name_len == fl && !memcmp(part.name, field, fl)) {
            *out = part;
            have = 1;
        }
    }
    if (!have)
        return dt_fail(st, DT_ENOTFOUND, "multipart body has no field '%s'", field);
    return DT_OK;
}
