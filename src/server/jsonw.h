/* jsonw.h — a tiny append-only JSON text builder for the server's answers.
 *
 * The buffer grows with dt_realloc.  An allocation failure is sticky: the
 * builder stops appending and dt_jsonw_take returns NULL, so callers check
 * once at the end instead of after every append.
 */
#ifndef DT_SERVER_JSONW_H
#define DT_SERVER_JSONW_H

#include <stddef.h>

typedef struct dt_jsonw {
    char *buf;
    size_t len, cap;
    int failed;
} dt_jsonw;

void dt_jsonw_init(dt_jsonw *w);
/* Raw text, appended as is (for punctuation and keys we write ourselves). */
void dt_jsonw_raw(dt_jsonw *w, const char *s);
/* Arbitrary bytes, NULs included (the binary tail of a v2 answer). */
void dt_jsonw_bytes(dt_jsonw *w, const void *p, size_t n);
void dt_jsonw_printf(dt_jsonw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal: quoted, with control characters, quotes and
 * backslashes escaped; invalid UTF-8 bytes become U+FFFD. */
void dt_jsonw_str(dt_jsonw *w, const char *s);
void dt_jsonw_strn(dt_jsonw *w, const char *s, size_t n);
/* A number; non-finite values (never valid JSON) are written as 0. */
void dt_jsonw_num(dt_jsonw *w, double v, int decimals);
/* Hand the NUL-terminated text to the caller (release with dt_free);
 * NULL if any append failed.  The builder is reset either way. */
char *dt_jsonw_take(dt_jsonw *w, size_t *len);
void dt_jsonw_free(dt_jsonw *w);

#endif
