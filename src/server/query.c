/* query.c — percent-decoding, query strings and strict number parsing
 * (see parse.h).  Everything here reads only inside the bounds it is
 * given and writes only inside the caller's buffers. */
#include "server/parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

dt_code dt_url_decode(const char *s, size_t n, int plus_space, char *out, size_t cap, size_t *out_len,
                      dt_status *st)
{
    if (!out || cap == 0)
        return dt_fail(st, DT_ELIMIT, "no room to decode into");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3)
                return dt_fail(st, DT_EINVAL, "truncated %%-escape");
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return dt_fail(st, DT_EINVAL, "bad %%-escape");
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        /* A NUL would silently cut the value short for every C consumer. */
        if (c == 0)
            return dt_fail(st, DT_EINVAL, "NUL byte in a query value");
        if (o + 1 >= cap)
            return dt_fail(st, DT_ELIMIT, "query key or value longer than %zu bytes", cap - 1);
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return DT_OK;
}

void dt_query_init(dt_query_iter *it, const char *qs, size_t len)
{
    it->p = qs ? qs : "";
    it->end = it->p + (qs ? len : 0);
}

dt_code dt_query_next(dt_query_iter *it, char *key, size_t kcap, char *val, size_t vcap, int *found,
                      dt_status *st)
{
    *found = 0;
    while (it->p < it->end) {
        const char *seg = it->p;
        const char *amp = memchr(seg, '&', (size_t)(it->end - seg));
        const char *seg_end = amp ? amp : it->end;
        it->p = amp ? amp + 1 : it->end;
        if (seg == seg_end)
            continue;
        const char *eq = memchr(seg, '=', (size_t)(seg_end - seg));
        const char *kend = eq ? eq : seg_end;
        dt_code c = dt_url_decode(seg, (size_t)(kend - seg), 1, key, kcap, NULL, st);
        if (c == DT_OK)
            c = eq ? dt_url_decode(eq + 1, (size_t)(seg_end - eq - 1), 1, val, vcap, NULL, st)
                   : dt_url_decode("", 0, 1, val, vcap, NULL, st);
        if (c != DT_OK) {
            it->p = it->end;
            return c;
        }
        *found = 1;
        return DT_OK;
    }
    return DT_OK;
}

dt_code dt_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, dt_status *st)
{
    if (!s || !*s)
        return dt_fail(st, DT_EINVAL, "empty number");
    /* strtoll accepts leading spaces and '+': we want exactly digits. */
    const char *d = s + (*s == '-');
    if (*d < '0' || *d > '9')
        return dt_fail(st, DT_EINVAL, "'%.40s' is not an integer", s);
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return dt_fail(st, DT_EINVAL, "'%.40s' is not an integer", s);
    if (errno == ERANGE || v < min || v > max)
        return dt_fail(st, DT_EINVAL, "%.40s is out of range [%lld, %lld]", s, (long long)min, (long long)max);
    *out = v;
    return DT_OK;
}

dt_code dt_parse_f64(const char *s, double min, double max, double *out, dt_status *st)
{
    if (!s || !*s)
        return dt_fail(st, DT_EINVAL, "empty number");
    const char *d = s + (*s == '-');
    if (!((*d >= '0' && *d <= '9') || (*d == '.' && d[1] >= '0' && d[1] <= '9')))
        return dt_fail(st, DT_EINVAL, "'%.40s' is not a number", s);
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return dt_fail(st, DT_EINVAL, "'%.40s' is not a number", s);
    if (v < min || v > max)
        return dt_fail(st, DT_EINVAL, "%.40s is out of range [%g, %g]", s, min, max);
    *out = v;
    return DT_OK;
}

dt_code dt_parse_size(const char *s, int64_t min, int64_t max, int64_t *out, dt_status *st)
{
    if (!s || *s < '0' || *s > '9')
        return dt_fail(st, DT_EINVAL, "'%.40s' is not a byte count", s ? s : "");
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return dt_fail(st, DT_EINVAL, "%.40s is out of range", s);
    int shift = 0;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return dt_fail(st, DT_EINVAL, "'%.40s' is not a byte count (suffix K, M or G)", s);
        }
        const char *rest = end + 1;
        if (*rest && strcasecmp(rest, "iB") != 0 && strcasecmp(rest, "B") != 0)
            return dt_fail(st, DT_EINVAL, "'%.40s' is not a byte count (suffix K, M or G)", s);
    }
    if (shift && v > (UINT64_MAX >> shift))
        return dt_fail(st, DT_EINVAL, "%.40s is out of range", s);
    v <<= shift;
    if (v > (unsigned long long)INT64_MAX || (int64_t)v < min || (int64_t)v > max)
        return dt_fail(st, DT_EINVAL, "%.40s is out of range [%lld, %lld]", s, (long long)min, (long long)max);
    *out = (int64_t)v;
    return DT_OK;
}

dt_code dt_parse_bool(const char *s, int *out, dt_status *st)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; s && i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return DT_OK;
        }
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return DT_OK;
        }
    }
    return dt_fail(st, DT_EINVAL, "'%.40s' is not a boolean (true/false)", s ? s : "");
}
