/* metrics.h — lock-free counters and histograms for GET /metrics, written
 * out in the Prometheus text exposition format (version 0.0.4).
 *
 * Observations are atomic adds, so the request path never takes a lock for
 * metrics.  A histogram keeps one counter per bucket (not cumulative);
 * rendering sums them into the cumulative `le` buckets Prometheus expects,
 * so a scrape that races an observation can only be off by that one
 * observation, never inconsistent (_count is derived from the buckets).
 */
#ifndef DT_SERVER_METRICS_H
#define DT_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "server/jsonw.h"

#define DT_HIST_MAX_BUCKETS 20

typedef struct dt_hist {
    const double *le; /* upper bounds, ascending (static storage) */
    int n;
    _Atomic uint64_t counts[DT_HIST_MAX_BUCKETS + 1]; /* [n] = above the last bound (+Inf) */
    _Atomic uint64_t sum_bits;                        /* a double, updated by CAS */
} dt_hist;

/* Bucket sets: latencies in seconds, batch sizes in items. */
extern const double DT_HIST_SECONDS[];
extern const int DT_HIST_SECONDS_N;
extern const double DT_HIST_BATCH[];
extern const int DT_HIST_BATCH_N;

void dt_hist_init(dt_hist *h, const double *le, int n);
void dt_hist_observe(dt_hist *h, double v);
uint64_t dt_hist_count(const dt_hist *h);

/* "# HELP name help\n# TYPE name type\n" */
void dt_metric_family(dt_jsonw *w, const char *name, const char *type, const char *help);
/* One sample line: name{labels} value ("labels" without braces; "" = none). */
void dt_metric_sample(dt_jsonw *w, const char *name, const char *labels, double v);
/* The _bucket/_sum/_count lines of one histogram series. */
void dt_hist_render(dt_jsonw *w, const char *name, const char *labels, const dt_hist *h);

/* Resident set size of this process from /proc/self/statm (0 if unknown). */
int64_t dt_process_rss_bytes(void);

#endif
