/* fuzz_manifest.c — the model manifest parser (*.detectd.json).
 *
 * dt_manifest_load reads a path, so each input is written to a private
 * temp directory that also holds a labels file and an SSD priors file the
 * manifest may name ("labels": "labels.names", "priors_file": "priors.bin").
 * Run with stdin closed or /dev/null: a manifest may name any path. */
#include <stdlib.h>
#include <unistd.h>

#include "base/alloc.h"
#include "fuzz_util.h"
#include "vision/manifest.h"

static char g_dir[64], g_path[128];

static void put(const char *name, const void *data, size_t n)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n)
        abort();
    fclose(f);
}

static void cleanup(void)
{
    static const char *const names[] = {"m.detectd.json", "labels.names", "priors.bin", "empty.names"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_mkdtemp(g_dir, sizeof g_dir, "manifest");
    snprintf(g_path, sizeof g_path, "%s/m.detectd.json", g_dir);
    const char labels[] = "cat\ndog\n\nperson\r\n\n";
    put("labels.names", labels, sizeof labels - 1);
    put("empty.names", "", 0);
    float pri[8 * 4];
    for (int i = 0; i < 32; i++)
        pri[i] = (float)(i % 4) * 0.25f + 0.1f;
    put("priors.bin", pri, sizeof pri);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    put("m.detectd.json", data, size);
    dt_status st;
    dt_status_clear(&st);
    dt_manifest m;
    dt_code rc = dt_manifest_load(g_path, NULL, &m, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK) {
        FUZZ_ASSERT(m.graph != NULL && m.name != NULL);
        FUZZ_ASSERT(m.n_labels >= 1);
        for (int i = -1; i <= m.n_labels; i++)
            FUZZ_ASSERT(dt_manifest_label(&m, i) != NULL);
        if (m.dec.n_priors > 0) {
            volatile float sink = m.dec.priors[4 * m.dec.n_priors - 1];
            (void)sink;
        }
        dt_manifest_free(&m);
    }
    /* The same text with a preset forced (the --preset path). */
    dt_status_clear(&st);
    rc = dt_manifest_load(g_path, (size & 1) ? "yolox" : "ssd", &m, &st);
    fuzz_check_status(rc, &st);
    if (rc == DT_OK)
        dt_manifest_free(&m);
    return 0;
}
