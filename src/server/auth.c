/* auth.c — API key files and their constant-time check (auth.h), with a
 * small SHA-256 so the server needs no crypto library of its own. */
#include "server/auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

/* ---- SHA-256 (FIPS 180-4) -------------------------------------------------------- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void dt_sha256(const void *data, size_t len, unsigned char out[DT_SHA256_LEN])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    size_t n = len;
    for (; n >= 64; n -= 64, p += 64)
        sha256_block(h, p);
    unsigned char tail[128];
    memset(tail, 0, sizeof tail);
    if (n)
        memcpy(tail, p, n);
    tail[n] = 0x80;
    size_t tl = n + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tl == 128)
        sha256_block(h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

/* ---- key files ------------------------------------------------------------------- */

/* Largest key file we read: keys are short, a huge file is a mistake. */
#define KEY_FILE_MAX (1 << 20)
#define KEY_MAX_LEN 4096

struct dt_auth_keys {
    int n;
    unsigned char (*digest)[DT_SHA256_LEN];
};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

dt_code dt_auth_keys_parse(const char *text, size_t len, const char *what, dt_auth_keys **out, dt_status *st)
{
    *out = NULL;
    /* Pass 0 counts and checks, pass 1 stores. */
    dt_auth_keys *k = NULL;
    for (int pass = 0; pass < 2; pass++) {
        int n = 0, line = 0;
        size_t i = 0;
        while (i < len) {
            size_t e = i;
            while (e < len && text[e] != '\n')
                e++;
            line++;
            size_t a = i, b = e;
            i = e + 1;
            while (a < b && is_space(text[a]))
                a++;
            while (b > a && is_space(text[b - 1]))
                b--;
            if (a == b || text[a] == '#')
                continue;
            if (pass == 0) {
                if (b - a > KEY_MAX_LEN)
                    return dt_fail(st, DT_EINVAL, "%s: line %d: key longer than %d characters", what, line,
                                   KEY_MAX_LEN);
                for (size_t j = a; j < b; j++)
                    if ((unsigned char)text[j] <= ' ' || (unsigned char)text[j] >= 0x7f)
                        return dt_fail(st, DT_EINVAL,
                                       "%s: line %d: a key is printable ASCII without spaces (it travels in an "
                                       "HTTP header)", what, line);
            } else {
                dt_sha256(text + a, b - a, k->digest[n]);
            }
            n++;
        }
        if (pass == 0) {
            if (n == 0)
                return dt_fail(st, DT_EINVAL, "%s: no API key in it (one key per line; '#' comments)", what);
            k = dt_calloc(1, sizeof *k);
            if (k)
                k->digest = dt_calloc((size_t)n, sizeof *k->digest);
            if (!k || !k->digest) {
                dt_auth_keys_free(k);
                return dt_fail(st, DT_ENOMEM, "out of memory");
            }
            k->n = n;
        }
    }
    *out = k;
    return DT_OK;
}

dt_code dt_auth_keys_load(const char *path, dt_auth_keys **out, dt_status *st)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return dt_fail(st, DT_EIO, "API key file %s: %s", path, strerror(errno));
    char *buf = dt_malloc(KEY_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return dt_fail(st, DT_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, KEY_FILE_MAX + 1, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    dt_code c;
    char what[1100];
    snprintf(what, sizeof what, "API key file %s", path);
    if (err)
        c = dt_fail(st, DT_EIO, "%s: %s", what, strerror(err));
    else if (n > KEY_FILE_MAX)
        c = dt_fail(st, DT_EINVAL, "%s: larger than %d bytes", what, KEY_FILE_MAX);
    else
        c = dt_auth_keys_parse(buf, n, what, out, st);
    /* The file's bytes are keys in clear: do not leave them in freed memory. */
    explicit_bzero(buf, n < KEY_FILE_MAX + 1 ? n : KEY_FILE_MAX + 1);
    dt_free(buf);
    return c;
}

void dt_auth_keys_free(dt_auth_keys *k)
{
    if (!k)
        return;
    dt_free(k->digest);
    dt_free(k);
}

int dt_auth_keys_count(const dt_auth_keys *k) { return k ? k->n : 0; }

int dt_auth_keys_check(const dt_auth_keys *k, const char *key, size_t len)
{
    if (!k || !key || len == 0)
        return 0;
    unsigned char d[DT_SHA256_LEN];
    dt_sha256(key, len, d);
    /* Every key, every byte: no early exit on a match or a mismatch. */
    unsigned match = 0;
    for (int i = 0; i < k->n; i++) {
        unsigned diff = 0;
        for (int j = 0; j < DT_SHA256_LEN; j++)
            diff |= (unsigned)(d[j] ^ k->digest[i][j]);
        match |= (unsigned)((diff - 1) >> 8) & 1u; /* 1 iff diff == 0, without a branch */
    }
    explicit_bzero(d, sizeof d);
    return (int)match;
}
