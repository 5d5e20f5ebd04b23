#include "base/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

dt_code dt_fail(dt_status *st, dt_code code, const char *fmt, ...)
{
    if (st) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->msg, sizeof st->msg, fmt, ap);
        va_end(ap);
        st->code = code;
    }
    return code;
}

dt_code dt_wrap(dt_status *st, const char *fmt, ...)
{
    if (!st)
        return DT_EINTERNAL;
    char prefix[DT_STATUS_MSG];
    char old[DT_STATUS_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, st->msg, sizeof old);
    snprintf(st->msg, sizeof st->msg, "%s: %s", prefix, old);
    if (st->code == DT_OK)
        st->code = DT_EINTERNAL;
    return st->code;
}

void dt_status_clear(dt_status *st)
{
    if (st) {
        st->code = DT_OK;
        st->msg[0] = '\0';
    }
}

const char *dt_code_name(dt_code code)
{
    static const char *const names[DT_CODE_COUNT_] = {
        [DT_OK] = "ok",
        [DT_EINVAL] = "invalid",
        [DT_ENOMEM] = "out_of_memory",
        [DT_EIO] = "io_error",
        [DT_ENOTFOUND] = "not_found",
        [DT_EUNSUPPORTED] = "unsupported",
        [DT_ECORRUPT] = "corrupt",
        [DT_ESHAPE] = "shape_mismatch",
        [DT_ELIMIT] = "over_limit",
        [DT_EBUSY] = "busy",
        [DT_ETIMEOUT] = "timeout",
        [DT_EINTERNAL] = "internal",
    };
    if ((unsigned)code >= DT_CODE_COUNT_)
        return "unknown";
    return names[code];
}

int dt_code_http(dt_code code)
{
    switch (code) {
    case DT_OK: return 200;
    case DT_EINVAL: return 400;
    case DT_ECORRUPT: return 400;
    case DT_ESHAPE: return 400;
    case DT_ENOTFOUND: return 404;
    case DT_EUNSUPPORTED: return 415;
    case DT_ELIMIT: return 413;
    case DT_EBUSY: return 503;
    case DT_ETIMEOUT: return 504;
    case DT_ENOMEM: return 503;
    case DT_EIO: return 500;
    case DT_EINTERNAL: return 500;
    default: return 500;
    }
}
