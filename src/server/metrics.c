/* metrics.c — see metrics.h. */
#include "server/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const double DT_HIST_SECONDS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                  0.5,   1,      2.5,   5,    10,    30,   60};
const int DT_HIST_SECONDS_N = (int)(sizeof DT_HIST_SECONDS / sizeof DT_HIST_SECONDS[0]);
const double DT_HIST_BATCH[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
const int DT_HIST_BATCH_N = (int)(sizeof DT_HIST_BATCH / sizeof DT_HIST_BATCH[0]);

void dt_hist_init(dt_hist *h, const double *le, int n)
{
    memset(h, 0, sizeof *h);
    h->le = le;
    h->n = n < DT_HIST_MAX_BUCKETS ? n : DT_HIST_MAX_BUCKETS;
    double zero = 0;
    uint64_t bits;
    memcpy(&bits, &zero, sizeof bits);
    atomic_store(&h->sum_bits, bits);
}

void dt_hist_observe(dt_hist *h, double v)
{
    if (!isfinite(v))
        return;
    int i = 0;
    while (i < h->n && v > h->le[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed), nb;
    do {
        double d;
        memcpy(&d, &old, sizeof d);
        d += v;
        memcpy(&nb, &d, sizeof nb);
    } while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old, nb, memory_order_relaxed,
                                                    memory_order_relaxed));
}

uint64_t dt_hist_count(const dt_hist *h)
{
    uint64_t n = 0;
    for (int i = 0; i <= h->n; i++)
        n += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
    return n;
}

void dt_metric_family(dt_jsonw *w, const char *name, const char *type, const char *help)
{
    dt_jsonw_printf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Prometheus floats: integers without a fraction, others with enough digits. */
static void put_value(dt_jsonw *w, double v)
{
    if (isinf(v))
        dt_jsonw_raw(w, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
        dt_jsonw_raw(w, "NaN");
    else if (v == floor(v) && fabs(v) < 1e15)
        dt_jsonw_printf(w, "%.0f", v);
    else
        dt_jsonw_printf(w, "%.9g", v);
}

void dt_metric_sample(dt_jsonw *w, const char *name, const char *labels, double v)
{
    if (labels && *labels)
        dt_jsonw_printf(w, "%s{%s} ", name, labels);
    else
        dt_jsonw_printf(w, "%s ", name);
    put_value(w, v);
    dt_jsonw_raw(w, "\n");
}

void dt_hist_render(dt_jsonw *w, const char *name, const char *labels, const dt_hist *h)
{
    const char *sep = labels && *labels ? "," : "";
    const char *lab = labels ? labels : "";
    uint64_t cum = 0;
    for (int i = 0; i <= h->n; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        dt_jsonw_printf(w, "%s_bucket{%s%sle=\"", name, lab, sep);
        if (i < h->n)
            put_value(w, h->le[i]);
        else
            dt_jsonw_raw(w, "+Inf");
        dt_jsonw_printf(w, "\"} %llu\n", (unsigned long long)cum);
    }
    uint64_t bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    double sum;
    memcpy(&sum, &bits, sizeof sum);
    char full[160];
    snprintf(full, sizeof full, "%s_sum", name);
    dt_metric_sample(w, full, lab, sum);
    snprintf(full, sizeof full, "%s_count", name);
    dt_metric_sample(w, full, lab, (double)cum);
}

int64_t dt_process_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    long long size = 0, resident = 0;
    int ok = fscanf(f, "%lld %lld", &size, &resident) == 2;
    fclose(f);
    if (!ok)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    return (int64_t)resident * (page > 0 ? page : 4096);
}
