/* auth.h — API keys of `detectd serve` (--api-key-file) and the SHA-256
 * they are compared through.
 *
 * A key file holds one key per line; blank lines and lines starting with
 * '#' are ignored, surrounding whitespace (and a CR) is trimmed.  A key is
 * printable ASCII without spaces (it travels in an HTTP header).  Only the
 * keys' SHA-256 digests are kept in memory.
 *
 * Checking a presented key hashes it and compares the digest with every
 * stored digest, without an early exit: the time taken depends on the
 * presented key's length and the number of keys, never on how much of a
 * real key it matches. */
#ifndef DT_SERVER_AUTH_H
#define DT_SERVER_AUTH_H

#include <stddef.h>

#include "base/status.h"

#define DT_SHA256_LEN 32

/* SHA-256 (FIPS 180-4) of len bytes at data into out. */
void dt_sha256(const void *data, size_t len, unsigned char out[DT_SHA256_LEN]);

typedef struct dt_auth_keys dt_auth_keys;

/* Read the key file at `path`.  DT_EIO when it cannot be read, DT_EINVAL
 * when it holds no key or a bad line (the message names the file and the
 * line number, never a key).  *out is owned by the caller
 * (dt_auth_keys_free). */
dt_code dt_auth_keys_load(const char *path, dt_auth_keys **out, dt_status *st);

/* The same from text in memory (`what` names it in messages). */
dt_code dt_auth_keys_parse(const char *text, size_t len, const char *what, dt_auth_keys **out, dt_status *st);

void dt_auth_keys_free(dt_auth_keys *k);

int dt_auth_keys_count(const dt_auth_keys *k);

/* 1 when key[0..len) is one of the keys, in time independent of the keys'
 * contents (see above).  A NULL key or len 0 is never valid. */
int dt_auth_keys_check(const dt_auth_keys *k, const char *key, size_t len);

#endif
