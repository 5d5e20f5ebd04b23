/* parse.h — the server's small parsers of untrusted text: query strings,
 * percent-encoding, media types, multipart/form-data bodies and numbers.
 *
 * They never allocate, never read outside [p, p + len), never need a NUL
 * terminator on their input (the number parsers excepted: they take the C
 * strings of flags and decoded query values), and report every malformed input as a
 * dt_code (DT_EINVAL, DT_ECORRUPT, DT_ELIMIT), so each one can be handed
 * to a fuzzer as it is.  Outputs are either caller buffers (always
 * NUL-terminated on success) or slices pointing into the caller's input.
 */
#ifndef DT_SERVER_PARSE_H
#define DT_SERVER_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

/* ---- percent-encoding and query strings ----------------------------------- */

/* Decode `n` bytes of application/x-www-form-urlencoded text into `out`
 * (capacity `cap`, NUL-terminated).  '+' becomes a space when plus_space.
 * DT_EINVAL on a bad or truncated %XX escape or a decoded NUL byte,
 * DT_ELIMIT when the result does not fit.  *out_len (may be NULL) gets the
 * decoded length. */
dt_code dt_url_decode(const char *s, size_t n, int plus_space, char *out, size_t cap, size_t *out_len,
                      dt_status *st);

/* Iterator over "k1=v1&k2=v2" (no leading '?').  Keeps pointers into the
 * caller's string, which must outlive it. */
typedef struct dt_query_iter {
    const char *p, *end;
} dt_query_iter;

void dt_query_init(dt_query_iter *it, const char *qs, size_t len);

/* Decode the next pair into key/val (NUL-terminated).  Empty segments
 * ("a=1&&b=2") are skipped; a key without '=' gets the value "".  *found
 * is 0 at the end.  Errors as dt_url_decode; the iterator is then
 * unusable. */
dt_code dt_query_next(dt_query_iter *it, char *key, size_t kcap, char *val, size_t vcap, int *found,
                      dt_status *st);

/* ---- numbers (strict: the whole string, no spaces, in range) ---------------- */

/* Decimal integer in [min, max]. */
dt_code dt_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, dt_status *st);
/* Finite decimal number in [min, max]. */
dt_code dt_parse_f64(const char *s, double min, double max, double *out, dt_status *st);
/* Byte count with an optional binary suffix: "1048576", "512K", "32M", "2G"
 * (also "KiB"/"MiB"/"GiB", case-insensitive), in [min, max]. */
dt_code dt_parse_size(const char *s, int64_t min, int64_t max, int64_t *out, dt_status *st);
/* true/false, 1/0, yes/no, on/off (case-insensitive). */
dt_code dt_parse_bool(const char *s, int *out, dt_status *st);

/* ---- media types ----------------------------------------------------------------- */

/* The media type of a Content-Type value, lower-cased, without parameters:
 * "Image/JPEG; q=1" -> "image/jpeg".  DT_EINVAL if it is not type/subtype. */
dt_code dt_media_type(const char *ct, size_t len, char *out, size_t cap, dt_status *st);

/* A parameter of a header value such as Content-Type or
 * Content-Disposition ("form-data; name=\"image\"; filename=\"a.jpg\"").
 * Looks for `name` (case-insensitive) among the ';'-separated parameters
 * after the first token; `value` is unquoted but backslash escapes are
 * kept raw (the slice points into `hv`).  Returns DT_ENOTFOUND if absent,
 * DT_EINVAL on a malformed parameter list. */
dt_code dt_header_param(const char *hv, size_t len, const char *name, const char **value, size_t *value_len,
                        dt_status *st);

/* ---- multipart/form-data (RFC 7578 / RFC 2046) ------------------------------------ */

#define DT_MULTIPART_MAX_BOUNDARY 70

/* The boundary parameter of a multipart Content-Type, into out[cap]
 * (cap >= DT_MULTIPART_MAX_BOUNDARY + 1).  DT_EINVAL when missing, empty,
 * longer than 70 characters or made of characters RFC 2046 forbids. */
dt_code dt_multipart_boundary(const char *ct, size_t len, char *out, size_t cap, dt_status *st);

/* One part; every pointer is a slice into the body given to
 * dt_multipart_init (NULL/0 when the header is absent). */
typedef struct dt_multipart_part {
    const char *name;
    size_t name_len;
    const char *filename;
    size_t filename_len;
    const char *content_type;
    size_t content_type_len;
    const unsigned char *data;
    size_t len;
} dt_multipart_part;

typedef struct dt_multipart {
    const unsigned char *body;
    size_t len;
    size_t pos;     /* at the next "--boundary" line */
    char delim[DT_MULTIPART_MAX_BOUNDARY + 5]; /* "\r\n--" + boundary */
    size_t delim_len;
    int state;      /* 0 = before the first part, 1 = inside, 2 = done */
} dt_multipart;

/* Start iterating over `body` (kept, not copied). */
dt_code dt_multipart_init(dt_multipart *m, const void *body, size_t len, const char *boundary, dt_status *st);

/* Next part into *part; *found = 0 after the closing delimiter.
 * DT_ECORRUPT when the body breaks the format (no opening or closing
 * delimiter, headers without an end, a part without Content-Disposition
 * name); DT_ELIMIT when a part's header block is over 8 KiB. */
dt_code dt_multipart_next(dt_multipart *m, dt_multipart_part *part, int *found, dt_status *st);

/* The first part named `field`.  The whole body is validated up to the
 * closing delimiter, so a truncated upload is an error even when the field
 * came first.  DT_ENOTFOUND when there is no such field. */
dt_code dt_multipart_find(const void *body, size_t len, const char *boundary, const char *field,
                          dt_multipart_part *out, dt_status *st);

#endif
