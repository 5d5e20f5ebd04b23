#include "base/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

dt_code dt_file_read(const char *path, size_t max_bytes, void **data, size_t *len, dt_status *st)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_fail(st, errno == ENOENT ? DT_ENOTFOUND : DT_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return dt_fail(st, DT_EIO, "cannot seek '%s'", path);
    }
    long sz = ftell(f);
    if (sz < 0) {
        fclose(f);
        return dt_fail(st, DT_EIO, "cannot size '%s' (is it a directory?)", path);
    }
    if ((unsigned long)sz > max_bytes) {
        fclose(f);
        return dt_fail(st, DT_ELIMIT, "'%s' is %ld bytes, over the %zu-byte limit", path, sz, max_bytes);
    }
    rewind(f);
    char *buf = dt_malloc((size_t)sz + 1);
    if (!buf) {
        fclose(f);
        return dt_fail(st, DT_ENOMEM, "out of memory reading '%s'", path);
    }
    size_t got = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    if (got != (size_t)sz) {
        dt_free(buf);
        return dt_fail(st, DT_EIO, "short read on '%s'", path);
    }
    buf[sz] = '\0';
    *data = buf;
    *len = (size_t)sz;
    return DT_OK;
}

static dt_dtype descr_dtype(const char *d)
{
    static const struct { const char *s; dt_dtype t; } map[] = {
        {"<f4", DT_F32}, {"<f8", DT_F64}, {"<f2", DT_F16}, {"<i8", DT_I64}, {"<i4", DT_I32},
        {"|u1", DT_U8},  {"|i1", DT_I8},  {"|b1", DT_BOOL}, {"<u1", DT_U8}, {"<b1", DT_BOOL},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].s, d))
            return map[i].t;
    return DT_UNDEF;
}

static const char *dtype_descr(dt_dtype t)
{
    switch (t) {
    case DT_F32: return "<f4";
    case DT_F64: return "<f8";
    case DT_F16: return "<f2";
    case DT_I64: return "<i8";
    case DT_I32: return "<i4";
    case DT_U8: return "|u1";
    case DT_I8: return "|i1";
    case DT_BOOL: return "|b1";
    default: return NULL;
    }
}

/* Find the value text after 'key': in the header dict. */
static const char *dict_value(const char *h, const char *key)
{
    const char *p = strstr(h, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\'' || *p == '"')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

dt_code dt_npy_parse(const void *bytes, size_t len, dt_tensor *out, dt_status *st)
{
    memset(out, 0, sizeof *out);
    const unsigned char *b = bytes;
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return dt_fail(st, DT_ECORRUPT, "not a .npy file (bad magic)");
    int major = b[6];
    size_t hlen, hoff;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hoff = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return dt_fail(st, DT_ECORRUPT, ".npy header truncated");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        hoff = 12;
    } else {
        return dt_fail(st, DT_EUNSUPPORTED, ".npy version %d not supported", major);
    }
    if (hlen > len - hoff || hlen > 65536)
        return dt_fail(st, DT_ECORRUPT, ".npy header truncated");
    char h[65537];
    memcpy(h, b + hoff, hlen);
    h[hlen] = '\0';
    const char *d = dict_value(h, "descr");
    if (!d || (*d != '\'' && *d != '"'))
        return dt_fail(st, DT_ECORRUPT, ".npy header has no descr");
    char descr[16] = {0};
    d++;
    for (int i = 0; i < 15 && d[i] && d[i] != '\'' && d[i] != '"'; i++)
        descr[i] = d[i];
    dt_dtype t = descr_dtype(descr);
    if (t == DT_UNDEF)
        return dt_fail(st, DT_EUNSUPPORTED, ".npy dtype '%s' not supported", descr);
    const char *fo = dict_value(h, "fortran_order");
    if (fo && !strncmp(fo, "True", 4))
        return dt_fail(st, DT_EUNSUPPORTED, ".npy in Fortran order is not supported (use C order)");
    const char *sh = dict_value(h, "shape");
    if (!sh || *sh != '(')
        return dt_fail(st, DT_ECORRUPT, ".npy header has no shape");
    sh++;
    int nd = 0;
    while (*sh && *sh != ')') {
        while (*sh == ' ' || *sh == ',')
            sh++;
        if (*sh == ')')
            break;
        char *end;
        errno = 0;
        long long v = strtoll(sh, &end, 10);
        if (end == sh || v < 0 || errno)
            return dt_fail(st, DT_ECORRUPT, ".npy shape is malformed");
        if (nd >= DT_MAX_DIMS)
            return dt_fail(st, DT_EUNSUPPORTED, ".npy has more than %d dims", DT_MAX_DIMS);
        out->dims[nd++] = v;
        sh = end;
        while (*sh == 'L' || *sh == ' ')
            sh++;
        if (*sh == ',')
            sh++;
    }
    out->ndim = nd;
    out->dtype = t;
    size_t need = dt_tensor_nbytes(out);
    int64_t numel = dt_tensor_numel(out);
    if (numel < 0 || (numel > 0 && need == 0))
        return dt_fail(st, DT_ECORRUPT, ".npy shape overflows");
    if (need > len - hoff - hlen)
        return dt_fail(st, DT_ECORRUPT, ".npy data truncated: need %zu bytes, have %zu", need, len - hoff - hlen);
    out->data = dt_malloc(need ? need : 1);
    if (!out->data)
        return dt_fail(st, DT_ENOMEM, "out of memory reading .npy");
    memcpy(out->data, b + hoff + hlen, need);
    return DT_OK;
}

dt_code dt_npy_read(const char *path, dt_tensor *out, dt_status *st)
{
    void *data;
    size_t len;
    memset(out, 0, sizeof *out);
    dt_code rc = dt_file_read(path, (size_t)1 << 34, &data, &len, st);
    if (rc != DT_OK)
        return rc;
    rc = dt_npy_parse(data, len, out, st);
    dt_free(data);
    if (rc != DT_OK)
        dt_wrap(st, "%s", path);
    return rc;
}

dt_code dt_npy_write(const char *path, const dt_tensor *t, dt_status *st)
{
    const char *descr = dtype_descr(t->dtype);
    if (!descr)
        return dt_fail(st, DT_EUNSUPPORTED, "cannot write dtype %s to .npy", dt_dtype_name(t->dtype));
    char shape[256] = "";
    size_t o = 0;
    for (int i = 0; i < t->ndim; i++)
        o += (size_t)snprintf(shape + o, sizeof shape - o, "%lld,%s", (long long)t->dims[i],
                              (t->ndim > 1 && i + 1 < t->ndim) ? " " : "");
    if (t->ndim > 1 && o > 0 && shape[o - 1] == ',')
        shape[--o] = '\0';
    char header[512];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f)
        return dt_fail(st, DT_EIO, "cannot write '%s': %s", path, strerror(errno));
    unsigned short hl = (unsigned short)(n + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    size_t nb = dt_tensor_nbytes(t);
    if (ok && nb)
        ok = fwrite(t->data, 1, nb, f) == nb;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        return dt_fail(st, DT_EIO, "error writing '%s'", path);
    return DT_OK;
}
