/* test_cuda_host_ops.c — the CUDA backend against the CPU engine, and its
 * GPU benchmark.
 *
 *   test_cuda_host_ops CASES_DIR [--gpu] [FILTER]    every ONNX op case
 *                                                    (tests/onnx_ops, gen.py)
 *   test_cuda_host_ops --model FILE [--batch N] [--gpu] [--no-emu]
 *                                                    a whole model, random input
 *   test_cuda_host_ops --bench FILE [--batch N] [--iters N] [--device cuda:N]
 *                                                    images/s, p50 / p99 (GPU)
 *   test_cuda_host_ops --probe                       exit 0 if a GPU is usable,
 *                                                    else 77 with the reason
 *
 * Without a GPU the plan runs in the host emulator (cu_emu.c: the kernels'
 * element functions, naive loops driven by the exact cuDNN / cuBLAS
 * arguments).  With --gpu (a CUDA build on a machine with a GPU) each case
 * also runs in a real "cuda:0" session.  Cases the backend declines (an op
 * it lacks: the session would run on the CPU) are counted, not failed.
 * Driven by tests/integration/test_cuda_emulated.sh and test_cuda_gpu.sh and
 * bench/gpu_bench.sh; without arguments (as a plain unit test) it skips. */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/npy.h"
#include "engine/cuda/cu_plan.h"
#include "engine/cuda/cuda.h"
#include "engine/engine.h"
#include "engine/graph.h"
#include "engine/passes/passes.h"

#define MAX_IO 16

typedef struct counts {
    int pass, fail, declined, skipped, gpu_pass, gpu_fail;
} counts;

/* |a - b| <= 1e-3 * (1 + |b|) for floats (the GPU target), exact otherwise. */
static int compare(const dt_tensor *a, const dt_tensor *b, char *msg, size_t cap)
{
    if (a->dtype != b->dtype) {
        snprintf(msg, cap, "dtype %s vs %s", dt_dtype_name(a->dtype), dt_dtype_name(b->dtype));
        return 0;
    }
    int64_t n = dt_tensor_numel(a);
    if (n != dt_tensor_numel(b)) {
        snprintf(msg, cap, "%lld vs %lld elements", (long long)n, (long long)dt_tensor_numel(b));
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        if (a->dtype == DT_F32) {
            double x = ((const float *)a->data)[i], y = ((const float *)b->data)[i];
            if (isnan(x) && isnan(y))
                continue;
            if (x == y)
                continue;
            if (!(fabs(x - y) <= 1e-3 * (1.0 + fabs(y)))) {
                snprintf(msg, cap, "element %lld: %.9g vs cpu %.9g", (long long)i, x, y);
                return 0;
            }
        } else {
            size_t es = dt_dtype_size(a->dtype);
            if (memcmp((const char *)a->data + i * es, (const char *)b->data + i * es, es)) {
                snprintf(msg, cap, "element %lld: %lld vs cpu %lld", (long long)i, (long long)dt_tensor_get_i(a, i),
                         (long long)dt_tensor_get_i(b, i));
                return 0;
            }
        }
    }
    return 1;
}

/* The CUDA plan of graph g (batch 1, these inputs) run in the emulator;
 * outputs copied to out[] (data dt_malloc'd). */
static dt_code emulate(const dt_model *m, int n_in, const dt_tensor *inputs, dt_tensor *out, int *n_out, char *why,
                       size_t why_cap, dt_status *st)
{
    dt_graph *g = NULL;
    dt_cu_wpack *wp = NULL;
    dt_cu_plan p;
    memset(&p, 0, sizeof p);
    char *act = NULL, *scr = NULL, *w = NULL;
    size_t ab = 0, so = 0, sb = 0;
    dt_code rc = dt_graph_clone(dt_model_graph(m), &g, st);
    if (rc == DT_OK)
        rc = dt_pass_specialize(g, n_in, inputs, st);
    if (rc == DT_OK)
        rc = dt_pass_fuse(g, st);
    if (rc == DT_OK)
        rc = dt_pass_plan(g, &ab, &so, &sb, st);
    if (rc == DT_OK)
        rc = dt_cu_wpack_create(&wp, st);
    dt_cu_opts o = {0, 1};
    if (rc == DT_OK)
        rc = dt_cu_plan_build(g, ab, &o, wp, &p, why, why_cap, st);
    if (rc == DT_OK) {
        act = dt_calloc(ab + 64, 1);
        scr = dt_calloc(p.scr_bytes + 64, 1);
        w = dt_calloc(dt_cu_wpack_bytes(wp) + 64, 1);
        if (!act || !scr || !w)
            rc = dt_fail(st, DT_ENOMEM, "out of memory");
    }
    if (rc == DT_OK) {
        dt_cu_wpack_write(wp, w);
        char *base[DT_CU_SP_COUNT_] = {NULL, act, w, scr};
        dt_cu_plan_bind(&p, base);
        for (int i = 0; i < p.n_in && i < n_in; i++)
            memcpy(act + p.in[i].off, inputs[i].data, p.in[i].bytes);
        rc = dt_cu_plan_emulate(&p, st);
    }
    if (rc == DT_OK) {
        *n_out = p.n_out;
        for (int i = 0; i < p.n_out && i < MAX_IO; i++) {
            out[i] = p.out[i].shape;
            out[i].data = dt_malloc(p.out[i].bytes + 1);
            if (!out[i].data) {
                rc = dt_fail(st, DT_ENOMEM, "out of memory");
                break;
            }
            memcpy(out[i].data, p.out[i].off < 0 ? p.out[i].const_data : act + p.out[i].off, p.out[i].bytes);
        }
    }
    dt_free(act);
    dt_free(scr);
    dt_free(w);
    dt_cu_plan_clear(&p);
    dt_cu_wpack_free(wp);
    dt_graph_free(g);
    return rc;
}

static int read_inputs(const char *dir, const dt_model *m, dt_tensor *in, int *n_in)
{
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/inputs.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = dt_model_num_inputs(m);
    if (n > MAX_IO) {
        fclose(f);
        return 0;
    }
    memset(in, 0, sizeof(dt_tensor) * MAX_IO);
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(dt_model_input(m, i).name, line) && !in[i].data) {
                snprintf(path, sizeof path, "%s/%s", dir, eq + 1);
                dt_status st;
                if (dt_npy_read(path, &in[i], &st) == DT_OK)
                    got++;
            }
    }
    fclose(f);
    *n_in = n;
    return got == n;
}

static void run_case(const char *root, const char *name, int gpu, counts *c)
{
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    dt_status st;
    dt_status_clear(&st);
    dt_model *m = NULL;
    dt_session *s = NULL;
    dt_tensor in[MAX_IO], emu[MAX_IO];
    int n_in = 0, n_emu = 0;
    memset(emu, 0, sizeof emu);
    memset(in, 0, sizeof in);
    if (dt_model_load(path, DT_FORMAT_ONNX, &m, &st) != DT_OK || !read_inputs(dir, m, in, &n_in)) {
        c->skipped++;
        goto out;
    }
    dt_session_opts so;
    memset(&so, 0, sizeof so);
    so.threads = 1;
    so.max_batch = 1;
    so.n_input_shapes = n_in;
    so.input_shapes = in;
    if (dt_session_create(m, &so, &s, &st) != DT_OK || dt_session_run(s, 1, in, &st) != DT_OK) {
        c->skipped++; /* the CPU engine rejects it (an error case): nothing to compare */
        goto out;
    }
    char why[DT_STATUS_MSG] = "";
    dt_code rc = emulate(m, n_in, in, emu, &n_emu, why, sizeof why, &st);
    if (rc == DT_EUNSUPPORTED && why[0]) {
        c->declined++;
        printf("DECLINED %s: %s\n", name, why);
        goto out;
    }
    int ok = rc == DT_OK && n_emu == dt_session_num_outputs(s);
    char msg[256] = "";
    if (rc != DT_OK)
        snprintf(msg, sizeof msg, "%s", st.msg);
    for (int i = 0; ok && i < n_emu; i++)
        if (!compare(&emu[i], dt_session_output(s, i), msg, sizeof msg)) {
            ok = 0;
            char tmp[256];
            snprintf(tmp, sizeof tmp, "output %d: %s", i, msg);
            memcpy(msg, tmp, sizeof msg);
        }
    if (ok) {
        c->pass++;
    } else {
        c->fail++;
        printf("FAIL %s (emulated): %s\n", name, msg);
    }
    if (gpu) {
        /* the same model in a real CUDA session */
        dt_session *gs = NULL;
        so.device = "cuda:0";
        int gok = dt_session_create(m, &so, &gs, &st) == DT_OK && dt_session_run(gs, 1, in, &st) == DT_OK;
        if (!gok)
            snprintf(msg, sizeof msg, "%s", st.msg);
        for (int i = 0; gok && i < dt_session_num_outputs(s); i++)
            gok = compare(dt_session_output(gs, i), dt_session_output(s, i), msg, sizeof msg);
        if (gok) {
            c->gpu_pass++;
        } else {
            c->gpu_fail++;
            printf("FAIL %s (gpu): %s\n", name, msg);
        }
        dt_session_free(gs);
    }
out:
    for (int i = 0; i < MAX_IO; i++) {
        dt_free(in[i].data);
        dt_free(emu[i].data);
    }
    dt_session_free(s);
    dt_model_free(m);
}

/* ---- whole models ---------------------------------------------------------- */

static int load_model(const char *path, int batch, const char *device, dt_model **m, dt_session **s,
                      dt_tensor *in, int *n_in)
{
    dt_status st;
    *m = NULL;
    *s = NULL;
    if (dt_model_load(path, DT_FORMAT_AUTO, m, &st) != DT_OK) {
        printf("%s: %s\n", path, st.msg);
        return 0;
    }
    dt_session_opts so;
    memset(&so, 0, sizeof so);
    so.threads = 2;
    so.max_batch = batch;
    so.device = device;
    if (dt_session_create(*m, &so, s, &st) != DT_OK) {
        printf("%s on %s: %s\n", path, device ? device : "cpu", st.msg);
        return 0;
    }
    if (dt_session_max_batch(*s) < batch) {
        printf("SKIP %s batch %d: the model runs at most batch %d\n", path, batch, dt_session_max_batch(*s));
        return 2;
    }
    *n_in = dt_model_num_inputs(*m);
    if (*n_in > MAX_IO)
        return 0;
    unsigned seed = 12345;
    for (int i = 0; i < *n_in; i++) {
        if (dt_session_input_shape(*s, batch, i, &in[i], &st) != DT_OK)
            return 0;
        int64_t n = dt_tensor_numel(&in[i]);
        size_t es = dt_dtype_size(in[i].dtype);
        in[i].data = dt_calloc((size_t)n + 1, es);
        if (!in[i].data)
            return 0;
        for (int64_t k = 0; k < n; k++) {
            seed = seed * 1664525u + 1013904223u;
            float v = (float)((seed >> 8) & 0xffffff) / 16777216.0f;
            if (in[i].dtype == DT_F32)
                ((float *)in[i].data)[k] = v;
            else if (in[i].dtype == DT_U8)
                ((uint8_t *)in[i].data)[k] = (uint8_t)(v * 255.f);
        }
    }
    return 1;
}

static int model_mode(const char *path, int batch, int gpu, int emu)
{
    dt_model *m;
    dt_session *s;
    dt_tensor in[MAX_IO], out[MAX_IO];
    int n_in = 0, n_out = 0, ok = 1;
    dt_status st;
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    char msg[256];
    int lm = load_model(path, batch, NULL, &m, &s, in, &n_in);
    if (lm == 2)
        goto out;
    if (lm != 1 || dt_session_run(s, batch, in, &st) != DT_OK) {
        printf("FAIL %s: the CPU engine cannot run it\n", path);
        ok = 0;
        goto out;
    }
    if (emu) {
        char why[DT_STATUS_MSG] = "";
        dt_code rc = emulate(m, n_in, in, out, &n_out, why, sizeof why, &st);
        if (rc == DT_EUNSUPPORTED && why[0]) {
            printf("DECLINED %s: %s (sessions run on the CPU)\n", path, why);
        } else if (rc != DT_OK) {
            printf("FAIL %s batch %d (emulated): %s\n", path, batch, st.msg);
            ok = 0;
        } else {
            for (int i = 0; i < n_out; i++)
                if (!compare(&out[i], dt_session_output(s, i), msg, sizeof msg)) {
                    printf("FAIL %s batch %d (emulated): output %s: %s\n", path, batch, dt_session_output_name(s, i), msg);
                    ok = 0;
                }
            if (ok)
                printf("PASS %s batch %d (emulated)\n", path, batch);
        }
    }
    if (gpu) {
        dt_model *gm;
        dt_session *gs;
        dt_tensor gin[MAX_IO];
        int gn = 0;
        memset(gin, 0, sizeof gin);
        if (load_model(path, batch, "cuda:0", &gm, &gs, gin, &gn) != 1 || dt_session_run(gs, batch, in, &st) != DT_OK) {
            printf("FAIL %s batch %d (gpu): %s\n", path, batch, st.msg);
            ok = 0;
        } else {
            int gok = 1;
            for (int rep = 0; rep < 3 && gok; rep++) { /* eager, graph capture, graph replay */
                if (rep && dt_session_run(gs, batch, in, &st) != DT_OK) {
                    printf("FAIL %s batch %d (gpu run %d): %s\n", path, batch, rep + 1, st.msg);
                    gok = 0;
                }
                for (int i = 0; gok && i < dt_session_num_outputs(s); i++)
                    if (!compare(dt_session_output(gs, i), dt_session_output(s, i), msg, sizeof msg)) {
                        printf("FAIL %s batch %d (gpu run %d on %s): output %s: %s\n", path, batch, rep + 1,
                               dt_session_device(gs), dt_session_output_name(s, i), msg);
                        gok = 0;
                    }
            }
            if (gok)
                printf("PASS %s batch %d (gpu, %s)\n", path, batch, dt_session_device(gs));
            ok = ok && gok;
        }
        for (int i = 0; i < MAX_IO; i++)
            dt_free(gin[i].data);
        dt_session_free(gs);
        dt_model_free(gm);
    }
out:
    for (int i = 0; i < MAX_IO; i++) {
        dt_free(in[i].data);
        dt_free(out[i].data);
    }
    dt_session_free(s);
    dt_model_free(m);
    return ok ? 0 : 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Model-only throughput: inputs copied in, the forward pass, outputs back. */
static int bench_mode(const char *path, int batch, int iters, const char *device)
{
    char why[256];
    if (strncmp(device, "cpu", 3) && !dt_cuda_available(why, sizeof why)) {
        printf("%s\n", why);
        return 77;
    }
    dt_model *m;
    dt_session *s;
    dt_tensor in[MAX_IO];
    int n_in = 0;
    dt_status st;
    memset(in, 0, sizeof in);
    int rc = 1;
    double *t = calloc((size_t)iters, sizeof(double));
    if (!t || load_model(path, batch, device, &m, &s, in, &n_in) != 1)
        goto out;
    for (int i = 0; i < 5; i++) /* warm up: module loading, graph capture */
        if (dt_session_run(s, batch, in, &st) != DT_OK) {
            printf("%s: %s\n", path, st.msg);
            goto out;
        }
    double t0 = now_ms();
    for (int i = 0; i < iters; i++) {
        double a = now_ms();
        if (dt_session_run(s, batch, in, &st) != DT_OK) {
            printf("%s: %s\n", path, st.msg);
            goto out;
        }
        t[i] = now_ms() - a;
    }
    double total = now_ms() - t0;
    qsort(t, (size_t)iters, sizeof *t, cmp_double);
    dt_cuda_stats cs;
    memset(&cs, 0, sizeof cs);
    int dev = 0;
    if (dt_cuda_parse_device(device, &dev, &st) == DT_OK && dev >= 0)
        dt_cuda_device_stats(dev, &cs, &st);
    printf("%s batch %d on %s (%s): %.1f images/s, p50 %.3f ms, p99 %.3f ms per batch (%d runs)\n", path, batch,
           dt_session_device(s), cs.name[0] ? cs.name : "cpu", 1000.0 * batch * iters / total, t[iters / 2],
           t[(int)(iters * 0.99) < iters ? (int)(iters * 0.99) : iters - 1], iters);
    rc = 0;
out:
    for (int i = 0; i < MAX_IO; i++)
        dt_free(in[i].data);
    free(t);
    dt_session_free(s);
    dt_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("driver for tests/integration/test_cuda_*.sh and bench/gpu_bench.sh\n");
        return 77;
    }
    if (!strcmp(argv[1], "--probe")) {
        char why[256];
        int n = dt_cuda_available(why, sizeof why);
        if (n)
            printf("%d CUDA device%s\n", n, n == 1 ? "" : "s");
        else
            printf("%s\n", why);
        return n ? 0 : 77;
    }
    int gpu = 0, batch = 1, iters = 100, emu = 1;
    const char *filter = NULL, *model = NULL, *bench = NULL, *device = "cuda:0";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--gpu"))
            gpu = 1;
        else if (!strcmp(argv[i], "--no-emu"))
            emu = 0;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
            bench = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else if (i > 1)
            filter = argv[i];
    }
    if (batch < 1 || iters < 1)
        return 2;
    if (bench)
        return bench_mode(bench, batch, iters, device);
    if (model)
        return model_mode(model, batch, gpu, emu);
    char path[1024], name[512];
    snprintf(path, sizeof path, "%s/cases.list", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("no %s\n", path);
        return 1;
    }
    counts c;
    memset(&c, 0, sizeof c);
    while (fgets(name, sizeof name, f)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!name[0] || (filter && !strstr(name, filter)))
            continue;
        run_case(argv[1], name, gpu, &c);
    }
    fclose(f);
    printf("emulated: %d passed, %d failed, %d declined (CPU fallback), %d skipped (CPU rejects)\n", c.pass, c.fail,
           c.declined, c.skipped);
    if (gpu)
        printf("gpu: %d passed, %d failed\n", c.gpu_pass, c.gpu_fail);
    return c.fail || c.gpu_fail ? 1 : 0;
}
