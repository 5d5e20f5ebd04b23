/* detectd infer — run a model on .npy inputs and write every output as .npy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/npy.h"
#include "cli/cli.h"
#include "engine/engine.h"

#define MAX_INPUTS 16

static void usage(FILE *f)
{
    fprintf(f,
            "usage: detectd infer --model PATH [--input NAME=FILE.npy | --input FILE.npy]... --outdir DIR\n"
            "                     [--threads N] [--reference] [--device cpu|cuda:N] [--max-model-memory SIZE]\n"
            "Runs the graph on NumPy .npy inputs (C order; dtype must match the model input) and writes\n"
            "DIR/<output name>.npy for every graph output ('/' and ':' in names become '_').\n"
            "  --model PATH   ONNX file or TF.js model.json\n"
            "  --input        an input tensor; with a single graph input the name may be omitted\n"
            "  --outdir DIR   created if missing\n"
            "  --threads N    engine threads (default 1)\n"
            "  --reference    use only the reference kernels (the oracle)\n"
            "  --device D     cpu (default) or cuda:N where the build has CUDA\n"
            DT_CLI_MAX_MODEL_MEMORY_HELP);
}

int dt_cmd_infer(int argc, char **argv)
{
    const char *model_path = NULL, *outdir = NULL, *device = NULL;
    const char *in_names[MAX_INPUTS];
    const char *in_files[MAX_INPUTS];
    int n_in = 0, threads = 1, reference = 0;
    size_t max_memory = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--model") && i + 1 < argc) {
            model_path = argv[++i];
        } else if (!strcmp(a, "--outdir") && i + 1 < argc) {
            outdir = argv[++i];
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(a, "--device") && i + 1 < argc) {
            device = argv[++i];
        } else if (!strcmp(a, "--max-model-memory") && i + 1 < argc) {
            if (!dt_cli_parse_memory("infer", argv[++i], &max_memory))
                return 2;
        } else if (!strcmp(a, "--reference")) {
            reference = 1;
        } else if (!strcmp(a, "--input") && i + 1 < argc) {
            if (n_in >= MAX_INPUTS) {
                fprintf(stderr, "detectd infer: too many inputs (max %d)\n", MAX_INPUTS);
                return 2;
            }
            const char *v = argv[++i];
            const char *eq = strchr(v, '=');
            in_names[n_in] = NULL;
            in_files[n_in] = v;
            if (eq && !strstr(v, ".npy=")) {
                /* NAME=FILE: split on the last '=' before the file part */
                static char namebuf[MAX_INPUTS][512];
                size_t k = (size_t)(eq - v);
                if (k >= sizeof namebuf[0])
                    k = sizeof namebuf[0] - 1;
                memcpy(namebuf[n_in], v, k);
                namebuf[n_in][k] = '\0';
                in_names[n_in] = namebuf[n_in];
                in_files[n_in] = eq + 1;
            }
            n_in++;
        } else {
            fprintf(stderr, "detectd infer: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model_path || !outdir || threads < 1) {
        usage(stderr);
        return 2;
    }
    dt_status st;
    dt_status_clear(&st);
    dt_model *m = NULL;
    dt_session *s = NULL;
    dt_tensor tensors[MAX_INPUTS];
    memset(tensors, 0, sizeof tensors);
    int rc_exit = 1;
    if (dt_model_load(model_path, DT_FORMAT_AUTO, &m, &st) != DT_OK)
        goto fail;
    int n_model_in = dt_model_num_inputs(m);
    if (n_model_in > MAX_INPUTS) {
        dt_fail(&st, DT_EUNSUPPORTED, "model has %d inputs (max %d)", n_model_in, MAX_INPUTS);
        goto fail;
    }
    if (n_in != n_model_in) {
        dt_fail(&st, DT_EINVAL, "model has %d input(s), %d given", n_model_in, n_in);
        goto fail;
    }
    /* order the given inputs as the model's */
    int taken[MAX_INPUTS] = {0};
    for (int i = 0; i < n_model_in; i++) {
        dt_io_info info = dt_model_input(m, i);
        int src = -1;
        for (int k = 0; k < n_in && src < 0; k++)
            if (!taken[k] && in_names[k] && !strcmp(in_names[k], info.name))
                src = k;
        for (int k = 0; k < n_in && src < 0; k++)
            if (!taken[k] && !in_names[k])
                src = k;
        if (src < 0) {
            dt_fail(&st, DT_EINVAL, "no --input given for model input '%s'", info.name);
            goto fail;
        }
        taken[src] = 1;
        if (dt_npy_read(in_files[src], &tensors[i], &st) != DT_OK)
            goto fail;
        if (tensors[i].dtype != info.dtype) {
            dt_fail(&st, DT_EINVAL, "input '%s' must be %s, '%s' holds %s", info.name, dt_dtype_name(info.dtype),
                    in_files[src], dt_dtype_name(tensors[i].dtype));
            goto fail;
        }
    }
    dt_session_opts o = {.threads = threads, .max_batch = 1, .reference = reference,
                         .n_input_shapes = n_model_in, .input_shapes = tensors, .device = device,
                         .max_memory = max_memory};
    if (dt_session_create(m, &o, &s, &st) != DT_OK)
        goto fail;
    if (dt_session_run(s, 1, tensors, &st) != DT_OK)
        goto fail;
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        dt_fail(&st, DT_EIO, "cannot create '%s': %s", outdir, strerror(errno));
        goto fail;
    }
    for (int i = 0; i < dt_session_num_outputs(s); i++) {
        char name[512], path[1024];
        snprintf(name, sizeof name, "%s", dt_session_output_name(s, i));
        for (char *c = name; *c; c++)
            if (*c == '/' || *c == ':')
                *c = '_';
        snprintf(path, sizeof path, "%s/%s.npy", outdir, name);
        if (dt_npy_write(path, dt_session_output(s, i), &st) != DT_OK)
            goto fail;
    }
    rc_exit = 0;
fail:
    if (rc_exit)
        fprintf(stderr, "detectd infer: %s (%s)\n", st.msg, dt_code_name(st.code));
    for (int i = 0; i < MAX_INPUTS; i++)
        dt_free(tensors[i].data);
    dt_session_free(s);
    dt_model_free(m);
    return rc_exit;
}
