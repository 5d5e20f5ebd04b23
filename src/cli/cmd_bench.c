/* detectd bench — model-only latency (and end-to-end latency on an image).
 *
 * Prints one JSON object on stdout:
 *   {"model":..,"threads":..,"batch":..,"model_ms":{"p50","p90","p99","mean","min"},
 *    "cpu_ms":{..} (process CPU time per run: load-independent at 1 thread),
 *    "throughput_ips":..,"gflops":..,"macs":..[,"e2e_ms":{..},"stages_ms":{..}]}
 * With --profile, a per-node and a per-kernel table go to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "engine/cuda/cuda.h"
#include "engine/engine.h"
#include "vision/detector.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: detectd bench --model M [--preset P] [--threads N] [--iterations K] [--warmup W]\n"
            "                     [--batch B] [--shape 1x3x416x416] [--device D] [--profile] [--max-model-memory SIZE]\n"
            "                     [IMAGE]\n"
            "Measures model-only latency on deterministic random input; with IMAGE also the\n"
            "end-to-end latency (decode, preprocess, inference, postprocess) of that image.\n"
            "  --model M       graph file (ONNX / TF.js model.json), manifest, or built-in model name\n"
            "  --preset P      preprocessing preset (for IMAGE with a bare graph file)\n"
            "  --threads N     engine threads (default 1)\n"
            "  --iterations K  timed runs (default 50)\n"
            "  --warmup W      untimed runs first (default 5)\n"
            "  --batch B       batch size (default 1)\n"
            "  --shape DIMS    input shape when the model's spatial dims are symbolic\n"
            "  --device D      cpu (default), cuda or cuda:N (without a usable GPU: a warning, then cpu)\n"
            "  --profile       per-node time table on stderr\n"
            DT_CLI_MAX_MODEL_MEMORY_HELP);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* CPU time of the whole process (all threads, spinning included): with
 * --threads 1 a load-independent view of the work when the machine is shared. */
static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stats {
    double p50, p90, p99, mean, min;
} stats;

/* Sorts v in place. */
static stats summarize(double *v, int n)
{
    stats s = {0, 0, 0, 0, 0};
    if (n <= 0)
        return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    s.mean = sum / n;
    s.min = v[0];
    s.p50 = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.p90 = v[(int)((n - 1) * 0.90 + 0.5)];
    s.p99 = v[(int)((n - 1) * 0.99 + 0.5)];
    return s;
}

static void print_stats(const char *key, stats s)
{
    printf("\"%s\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"mean\":%.3f,\"min\":%.3f}", key, s.p50, s.p90, s.p99,
           s.mean, s.min);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* ---- profile ------------------------------------------------------------- */

typedef struct prof_row {
    const char *op, *node;
    double usec;
    int64_t macs;
} prof_row;

typedef struct prof {
    prof_row *rows;
    int n, cap;
} prof;

static void prof_add(void *arg, const char *op, const char *node, double usec, int64_t macs)
{
    prof *p = arg;
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 256;
        prof_row *r = dt_realloc(p->rows, (size_t)cap * sizeof *r);
        if (!r)
            return;
        p->rows = r;
        p->cap = cap;
    }
    p->rows[p->n++] = (prof_row){op, node, usec, macs};
}

static int cmp_row(const void *a, const void *b)
{
    double x = ((const prof_row *)a)->usec, y = ((const prof_row *)b)->usec;
    return x > y ? -1 : x < y;
}

static void prof_print(prof *p, int runs)
{
    double total = 0;
    for (int i = 0; i < p->n; i++)
        total += p->rows[i].usec;
    if (total <= 0 || runs <= 0)
        return;
    /* per kernel / op type */
    prof_row agg[256];
    int na = 0;
    int count[256];
    for (int i = 0; i < p->n; i++) {
        int k = 0;
        while (k < na && strcmp(agg[k].op, p->rows[i].op))
            k++;
        if (k == na) {
            if (na == 256)
                continue;
            agg[na] = (prof_row){p->rows[i].op, "", 0, 0};
            count[na++] = 0;
        }
        agg[k].usec += p->rows[i].usec;
        agg[k].macs += p->rows[i].macs;
        count[k]++;
    }
    for (int i = 0; i < na; i++)
        agg[i].node = (const char *)(intptr_t)count[i];
    qsort(agg, (size_t)na, sizeof agg[0], cmp_row);
    fprintf(stderr, "\n%-28s %6s %9s %7s %9s\n", "kernel / op", "nodes", "ms/run", "share", "GFLOP/s");
    for (int i = 0; i < na; i++) {
        double ms = agg[i].usec / runs / 1e3;
        fprintf(stderr, "%-28s %6d %9.3f %6.1f%% %9.1f\n", agg[i].op, (int)(intptr_t)agg[i].node, ms,
                100.0 * agg[i].usec / total, agg[i].macs && ms > 0 ? 2.0 * (double)agg[i].macs / ms / 1e6 : 0.0);
    }
    fprintf(stderr, "%-28s %6d %9.3f\n", "total", p->n, total / runs / 1e3);
    qsort(p->rows, (size_t)p->n, sizeof p->rows[0], cmp_row);
    fprintf(stderr, "\n%-28s %-44s %9s %7s %9s\n", "kernel / op", "node", "ms/run", "share", "GFLOP/s");
    for (int i = 0; i < p->n; i++) {
        double ms = p->rows[i].usec / runs / 1e3;
        if (i >= 30) {
            fprintf(stderr, "... %d more nodes\n", p->n - i);
            break;
        }
        fprintf(stderr, "%-28s %-44.44s %9.3f %6.1f%% %9.1f\n", p->rows[i].op, p->rows[i].node ? p->rows[i].node : "",
                ms, 100.0 * p->rows[i].usec / total,
                p->rows[i].macs && ms > 0 ? 2.0 * (double)p->rows[i].macs / ms / 1e6 : 0.0);
    }
}

/* ---- helpers ------------------------------------------------------------- */

static int parse_shape(const char *s, dt_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->dtype = DT_F32;
    while (*s && t->ndim < DT_MAX_DIMS) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v <= 0)
            return 0;
        t->dims[t->ndim++] = v;
        s = end;
        if (*s == 'x' || *s == ',')
            s++;
        else if (*s)
            return 0;
    }
    return t->ndim > 0 && !*s;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = dt_malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        unsigned char *nb = dt_realloc(b, cap * 2);
        if (!nb) {
            dt_free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!b || err) {
        dt_free(b);
        return 0;
    }
    *out = b;
    *len = n;
    return 1;
}

static int is_graph_file(const char *p)
{
    struct stat sb;
    if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    size_t n = strlen(p);
    return !(n > 13 && !strcmp(p + n - 13, ".detectd.json"));
}

int dt_cmd_bench(int argc, char **argv)
{
    const char *model = NULL, *preset = NULL, *image = NULL, *shape_arg = NULL, *device_arg = NULL;
    int threads = 1, iters = 50, warmup = 5, batch = 1, profile = 0;
    size_t max_memory = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(a, "--preset") && i + 1 < argc) {
            preset = argv[++i];
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(a, "--iterations") && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else if (!strcmp(a, "--warmup") && i + 1 < argc) {
            warmup = atoi(argv[++i]);
        } else if (!strcmp(a, "--batch") && i + 1 < argc) {
            batch = atoi(argv[++i]);
        } else if (!strcmp(a, "--shape") && i + 1 < argc) {
            shape_arg = argv[++i];
        } else if (!strcmp(a, "--device") && i + 1 < argc) {
            device_arg = argv[++i];
        } else if (!strcmp(a, "--max-model-memory") && i + 1 < argc) {
            if (!dt_cli_parse_memory("bench", argv[++i], &max_memory))
                return 2;
        } else if (!strcmp(a, "--profile")) {
            profile = 1;
        } else if (a[0] != '-' && !image) {
            image = a;
        } else {
            fprintf(stderr, "detectd bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model || threads < 1 || iters < 1 || warmup < 0 || batch < 1 || batch > 1024) {
        usage(stderr);
        return 2;
    }

    dt_status st;
    dt_status_clear(&st);
    dt_detector *det = NULL;
    dt_detect_ctx *dctx = NULL;
    dt_model *m = NULL;
    dt_session *s = NULL;
    double *times = NULL;
    unsigned char *img = NULL;
    size_t img_len = 0;
    prof pr = {NULL, 0, 0};
    int exit_code = 1;
    dt_tensor shapes[16];
    int n_shapes = 0;

    /* where it runs: "cpu" or "cuda:N" (a GPU asked for but not usable: say why, use the CPU) */
    char device[16], device_why[DT_STATUS_MSG];
    if (dt_cuda_resolve_device(device_arg, 0, device, sizeof device, device_why, sizeof device_why, &st) != DT_OK) {
        fprintf(stderr, "detectd bench: --device: %s\n", st.msg);
        return 2;
    }
    if (device_why[0])
        fprintf(stderr, "detectd bench: --device %s: %s: running on the CPU\n", device_arg, device_why);

    /* the graph: a file directly, else through the detector (names, manifests) */
    const char *graph = model;
    if (image || !is_graph_file(model)) {
        dt_detector_opts dopts = {model, preset, NULL, threads, 1, device, max_memory};
        if (dt_detector_load(&dopts, &det, &st) != DT_OK)
            goto fail;
        graph = dt_detector_graph_path(det);
    }
    if (dt_model_load(graph, DT_FORMAT_AUTO, &m, &st) != DT_OK)
        goto fail;

    /* input shapes: the model's, symbolic spatial dims from --shape or the detector */
    int n_in = dt_model_num_inputs(m);
    int need_override = 0;
    for (int i = 0; i < n_in && i < 16; i++) {
        dt_io_info info = dt_model_input(m, i);
        memset(&shapes[i], 0, sizeof shapes[i]);
        shapes[i].dtype = info.dtype;
        shapes[i].ndim = info.ndim;
        for (int d = 0; d < info.ndim; d++) {
            shapes[i].dims[d] = info.dims[d];
            if (d > 0 && info.dims[d] < 0)
                need_override = 1;
        }
        if (info.ndim > 0)
            shapes[i].dims[0] = batch;
    }
    if (shape_arg) {
        if (!parse_shape(shape_arg, &shapes[0]) || n_in < 1) {
            fprintf(stderr, "detectd bench: bad --shape '%s'\n", shape_arg);
            exit_code = 2;
            goto out;
        }
        shapes[0].dtype = dt_model_input(m, 0).dtype;
        need_override = 1;
    } else if (need_override && det && n_in == 1 && shapes[0].ndim == 4) {
        int w = -1, h = -1;
        dt_detector_input_size(det, &w, &h);
        dt_io_info info = dt_model_input(m, 0);
        int nhwc = info.dims[3] == 3 || info.dims[3] == 1;
        for (int d = 1; d < 4; d++)
            if (shapes[0].dims[d] < 0)
                shapes[0].dims[d] = nhwc ? (d == 1 ? h : w) : (d == 2 ? h : w);
    }
    for (int i = 0; i < n_in && i < 16; i++)
        for (int d = 1; d < shapes[i].ndim; d++)
            if (shapes[i].dims[d] < 0) {
                fprintf(stderr, "detectd bench: input %d has symbolic dims; give --shape\n", i);
                exit_code = 2;
                goto out;
            }
    n_shapes = need_override ? n_in : 0;

    dt_session_opts so;
    memset(&so, 0, sizeof so);
    so.threads = threads;
    so.max_batch = batch;
    so.profile = profile;
    so.device = device;
    so.max_memory = max_memory;
    so.n_input_shapes = n_shapes;
    so.input_shapes = n_shapes ? shapes : NULL;
    if (dt_session_create(m, &so, &s, &st) != DT_OK)
        goto fail;
    if (batch > dt_session_max_batch(s)) {
        dt_fail(&st, DT_ELIMIT, "model runs at most batch %d", dt_session_max_batch(s));
        goto fail;
    }
    /* deterministic input in [0, 1) (floats) or small integers */
    unsigned seed = 12345;
    for (int i = 0; i < n_in; i++) {
        dt_tensor sh;
        if (dt_session_input_shape(s, batch, i, &sh, &st) != DT_OK)
            goto fail;
        void *buf = dt_session_input_buffer(s, batch, i);
        int64_t n = dt_tensor_numel(&sh);
        for (int64_t k = 0; buf && k < n; k++) {
            seed = seed * 1664525u + 1013904223u;
            float v = (float)((seed >> 8) & 0xffff) / 65536.0f;
            switch (sh.dtype) {
            case DT_F32: ((float *)buf)[k] = v; break;
            case DT_I64: ((int64_t *)buf)[k] = (int64_t)(v * 4); break;
            case DT_I32: ((int32_t *)buf)[k] = (int32_t)(v * 4); break;
            case DT_U8: ((uint8_t *)buf)[k] = (uint8_t)(v * 255); break;
            default: break;
            }
        }
    }
    times = dt_malloc((size_t)iters * 2 * sizeof *times);
    if (!times) {
        dt_fail(&st, DT_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < warmup; i++)
        if (dt_session_run(s, batch, NULL, &st) != DT_OK)
            goto fail;
    if (profile)
        dt_session_profile_reset(s);
    for (int i = 0; i < iters; i++) {
        double t0 = now_ms(), c0 = cpu_ms();
        if (dt_session_run(s, batch, NULL, &st) != DT_OK)
            goto fail;
        times[i] = now_ms() - t0;
        times[iters + i] = cpu_ms() - c0;
    }
    stats ms = summarize(times, iters);
    stats cms = summarize(times + iters, iters);
    dt_plan_stats ps;
    memset(&ps, 0, sizeof ps);
    if (dt_session_stats(s, batch, &ps, &st) != DT_OK)
        goto fail;
    if (profile) {
        dt_session_profile(s, batch, prof_add, &pr);
        prof_print(&pr, iters);
    }
    char ran_on[16];
    snprintf(ran_on, sizeof ran_on, "%s", dt_session_device(s));
    dt_session_free(s);
    s = NULL;

    printf("{\"model\":");
    json_str(graph);
    printf(",\"device\":\"%s\",\"threads\":%d,\"batch\":%d,", ran_on, threads, batch);
    print_stats("model_ms", ms);
    printf(",");
    print_stats("cpu_ms", cms);
    printf(",\"throughput_ips\":%.2f,\"gflops\":%.2f,\"macs\":%lld", ms.mean > 0 ? 1000.0 * batch / ms.mean : 0.0,
           ms.p50 > 0 ? 2.0 * (double)ps.macs / (ms.p50 * 1e6) : 0.0, (long long)ps.macs);

    if (image) {
        if (!read_file(image, &img, &img_len)) {
            dt_fail(&st, DT_EIO, "cannot read image '%s'", image);
            printf("}\n");
            goto fail;
        }
        if (dt_detect_ctx_create(det, &dctx, &st) != DT_OK) {
            printf("}\n");
            goto fail;
        }
        double *e2e = dt_malloc((size_t)iters * 5 * sizeof(double));
        if (!e2e) {
            printf("}\n");
            dt_fail(&st, DT_ENOMEM, "out of memory");
            goto fail;
        }
        double *dec = e2e + iters, *pre = dec + iters, *inf = pre + iters, *post = inf + iters;
        dt_detect_params dp;
        memset(&dp, 0, sizeof dp);
        dp.threshold = -1.f;
        dt_detect_result res;
        for (int i = 0; i < warmup + iters; i++) {
            double t0 = now_ms();
            if (dt_detect_bytes(dctx, img, img_len, NULL, &dp, &res, &st) != DT_OK) {
                dt_free(e2e);
                printf("}\n");
                goto fail;
            }
            if (i >= warmup) {
                int k = i - warmup;
                e2e[k] = now_ms() - t0;
                dec[k] = res.timing.decode_ms;
                pre[k] = res.timing.preprocess_ms;
                inf[k] = res.timing.inference_ms;
                post[k] = res.timing.postprocess_ms;
            }
        }
        printf(",");
        print_stats("e2e_ms", summarize(e2e, iters));
        printf(",\"stages_ms\":{\"decode\":%.3f,\"preprocess\":%.3f,\"inference\":%.3f,\"postprocess\":%.3f}",
               summarize(dec, iters).p50, summarize(pre, iters).p50, summarize(inf, iters).p50,
               summarize(post, iters).p50);
        printf(",\"detections\":%d", res.n);
        dt_free(e2e);
    }
    printf("}\n");
    exit_code = 0;
    goto out;
fail:
    fprintf(stderr, "detectd bench: %s\n", st.msg);
    exit_code = 1;
out:
    dt_free(pr.rows);
    dt_free(img);
    dt_free(times);
    dt_session_free(s);
    dt_model_free(m);
    dt_detect_ctx_free(dctx);
    dt_detector_free(det);
    return exit_code;
}
