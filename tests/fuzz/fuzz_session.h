/* fuzz_session.h — the engine half of the model fuzzers (fuzz_onnx.c,
 * fuzz_tfjs.c): a model file is untrusted input to shape inference,
 * constant folding and planning, not only to its parser.
 *
 * fuzz_session takes a graph that loaded (and its ownership), wraps it as a
 * model, creates a reference session under a 64 MiB memory limit (model
 * bombs must be refused, never allocated, and a session must stay within
 * the limit) and, when the plan is small, runs it once on its zeroed
 * inputs.  Every outcome must be a session or a clean error. */
#ifndef DT_FUZZ_SESSION_H
#define DT_FUZZ_SESSION_H

#include "engine/engine.h"
#include "fuzz_util.h"

static inline void fuzz_session(struct dt_graph *g, dt_model_format fmt)
{
    dt_status st;
    dt_status_clear(&st);
    dt_model *m = NULL;
    dt_code rc = dt_model_from_graph(g, fmt, &m, &st);
    fuzz_check_status(rc, &st);
    if (rc != DT_OK)
        return;
    dt_session_opts o = {.threads = 1, .max_batch = 1, .reference = 1, .max_memory = (size_t)64 << 20};
    dt_session *s = NULL;
    rc = dt_session_create(m, &o, &s, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK) {
        FUZZ_ASSERT(dt_session_arena_bytes(s) + dt_session_const_bytes(s) <= o.max_memory);
        dt_plan_stats ps;
        /* a few million MACs at most: a slow input is not a finding */
        if (dt_session_stats(s, 1, &ps, &st) == DT_OK && ps.macs >= 0 && ps.macs < 4000000) {
            rc = dt_session_run(s, 1, NULL, &st);
            fuzz_check_status(rc, &st);
        }
    }
    dt_session_free(s);
    dt_model_free(m);
}

#endif
