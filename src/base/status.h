/* status.h — the one error type of detectd.
 *
 * Every fallible function returns a dt_code and, on failure, fills a
 * caller-provided dt_status with a human-readable message.  `assert` is kept
 * for programmer errors only: bad input (a corrupt model, a hostile image,
 * a malformed request) always comes back as a status, never as an abort.
 * One table (dt_code_http) maps codes to HTTP statuses for the server.
 */
#ifndef DT_STATUS_H
#define DT_STATUS_H

#include <stddef.h>

typedef enum dt_code {
    DT_OK = 0,
    DT_EINVAL,       /* bad argument or malformed input */
    DT_ENOMEM,       /* allocation failed (or the injected allocator said no) */
    DT_EIO,          /* file or socket error */
    DT_ENOTFOUND,    /* no such file, model, route or tensor */
    DT_EUNSUPPORTED, /* valid but not supported (operator, format, media type) */
    DT_ECORRUPT,     /* input that claims a format but breaks it */
    DT_ESHAPE,       /* tensor shapes do not agree */
    DT_ELIMIT,       /* over a configured limit (pixels, bytes, batch) */
    DT_EBUSY,        /* queue full / not ready */
    DT_ETIMEOUT,     /* deadline passed */
    DT_EINTERNAL,    /* our own bug */
    DT_CODE_COUNT_
} dt_code;

#define DT_STATUS_MSG 256

typedef struct dt_status {
    dt_code code;
    char msg[DT_STATUS_MSG];
} dt_status;

/* Record an error in `st` (which may be NULL) and return `code`, so callers
 * can write `return dt_fail(st, DT_EINVAL, "bad %s", what);`.  An existing
 * message is overwritten. */
dt_code dt_fail(dt_status *st, dt_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in `st` with more context ("loading x: ...").
 * Returns st->code (or DT_EINTERNAL if st is NULL). */
dt_code dt_wrap(dt_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to DT_OK with an empty message. */
void dt_status_clear(dt_status *st);

/* Stable lower-case name of a code ("invalid", "out_of_memory", ...). */
const char *dt_code_name(dt_code code);

/* The HTTP status a server answers for a code (400, 413, 415, 500, ...). */
int dt_code_http(dt_code code);

#endif
