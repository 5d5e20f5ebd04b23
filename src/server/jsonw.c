/* jsonw.c — see jsonw.h. */
#include "server/jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

void dt_jsonw_init(dt_jsonw *w) { memset(w, 0, sizeof *w); }

static int reserve(dt_jsonw *w, size_t extra)
{
    if (w->failed)
        return 0;
    if (w->len + extra + 1 <= w->cap)
        return 1;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            w->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    char *nb = dt_realloc(w->buf, cap);
    if (!nb) {
        w->failed = 1;
        return 0;
    }
    w->buf = nb;
    w->cap = cap;
    return 1;
}

static void append(dt_jsonw *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void dt_jsonw_raw(dt_jsonw *w, const char *s) { append(w, s, strlen(s)); }

void dt_jsonw_bytes(dt_jsonw *w, const void *p, size_t n) { append(w, p, n); }

void dt_jsonw_printf(dt_jsonw *w, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        w->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        append(w, small, (size_t)n);
        return;
    }
    if (!reserve(w, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(w->buf + w->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
    else return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void dt_jsonw_strn(dt_jsonw *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    append(w, "\"", 1);
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            append(w, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            append(w, e, 6);
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                append(w, "\\ufffd", 6);
                i++;
            } else {
                append(w, s + i, l);
                i += l;
            }
        }
    }
    append(w, "\"", 1);
}

void dt_jsonw_str(dt_jsonw *w, const char *s) { dt_jsonw_strn(w, s ? s : "", s ? strlen(s) : 0); }

void dt_jsonw_num(dt_jsonw *w, double v, int decimals)
{
    if (!isfinite(v))
        v = 0;
    char b[64];
    int n = snprintf(b, sizeof b, "%.*f", decimals, v);
    if (n <= 0 || (size_t)n >= sizeof b) {
        append(w, "0", 1);
        return;
    }
    /* Trim trailing zeros ("0.5000" -> "0.5", "12.00" -> "12"); "-0" -> "0". */
    if (strchr(b, '.')) {
        while (n > 0 && b[n - 1] == '0')
            n--;
        if (n > 0 && b[n - 1] == '.')
            n--;
    }
    b[n] = '\0';
    if (!strcmp(b, "-0"))
        append(w, "0", 1);
    else
        append(w, b, (size_t)n);
}

char *dt_jsonw_take(dt_jsonw *w, size_t *len)
{
    char *out = NULL;
    if (!w->failed && reserve(w, 0)) {
        w->buf[w->len] = '\0';
        out = w->buf;
        if (len)
            *len = w->len;
        w->buf = NULL;
    }
    dt_jsonw_free(w);
    return out;
}

void dt_jsonw_free(dt_jsonw *w)
{
    dt_free(w->buf);
    dt_jsonw_init(w);
}
