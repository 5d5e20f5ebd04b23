/* test_server_config.c — `detectd serve` configuration: defaults, the
 * article's variables, DETECTD_* variables, flags, and their precedence. */
#include <ctype.h>

#include "server/server.h"
#include "testlib.h"

static void test_defaults(void)
{
    dt_server_config c;
    dt_server_config_defaults(&c);
    dt_status st;
    CHECK(!strcmp(c.host, "0.0.0.0") && c.port == 8080 && !strcmp(c.entry_point, "/predict"));
    CHECK(c.threshold == 0.5 && !strcmp(c.model, "nanodet") && !strcmp(c.device, "cpu"));
    CHECK(c.workers == 1 && c.queue_size > 0 && c.max_body_bytes > 0 && c.max_pixels > 0);
    CHECK(dt_server_config_check(&c, &st) == DT_OK);
}

static void test_article_env(void)
{
    dt_server_config c;
    dt_server_config_defaults(&c);
    dt_status st;
    char *env[] = {"REST_HOST=127.0.0.1", "REST_PORT=9000", "REST_ENTRY_POINT=/detect-it",
                   "PROBABILITY_MORE=0.7", "MODEL_PREFIX=centernet", "MODEL_EDGE=512",
                   "MODEL_CONTEXT_GPU=true", "MODEL_EPOCH=3", "UNRELATED=1", "REST_PORTX=1", NULL};
    CHECK(dt_server_config_env(&c, env, &st) == DT_OK);
    CHECK(!strcmp(c.host, "127.0.0.1") && c.port == 9000 && !strcmp(c.entry_point, "/detect-it"));
    CHECK(c.threshold == 0.7 && !strcmp(c.model, "centernet") && c.model_edge == 512);
    CHECK(!strcmp(c.device, "cuda") && c.model_epoch_set);
    char *env2[] = {"MODEL_CONTEXT_GPU=false", NULL};
    CHECK(dt_server_config_env(&c, env2, &st) == DT_OK && !strcmp(c.device, "cpu"));
}

static void test_detectd_env_wins(void)
{
    dt_server_config c;
    dt_server_config_defaults(&c);
    dt_status st;
    /* order in the environment must not matter: DETECTD_* wins */
    char *env[] = {"DETECTD_PORT=7000", "REST_PORT=9000", "DETECTD_THRESHOLD=0.25", "PROBABILITY_MORE=0.9",
                   "DETECTD_MAX_BODY_BYTES=8M", "DETECTD_MAX_PIXELS=1000000", "DETECTD_MAX_CONNECTIONS=10",
                   "DETECTD_TIMEOUT_S=5", "DETECTD_WORKERS=3", "DETECTD_THREADS=2", "DETECTD_MODELS_DIR=/m",
                   "DETECTD_MODEL=/m/x.onnx", "MODEL_PREFIX=ignored", "DETECTD_QUEUE_SIZE=7",
                   "DETECTD_HTTP_THREADS=4", "DETECTD_DEVICE=cpu", "MODEL_CONTEXT_GPU=1",
                   "DETECTD_HOST=", /* empty = unset */ NULL};
    CHECK(dt_server_config_env(&c, env, &st) == DT_OK);
    CHECK(c.port == 7000 && c.threshold == 0.25 && c.max_body_bytes == 8LL << 20 && c.max_pixels == 1000000);
    CHECK(c.max_connections == 10 && c.timeout_s == 5 && c.workers == 3 && c.threads == 2);
    CHECK(!strcmp(c.models_dir, "/m") && !strcmp(c.model, "/m/x.onnx") && c.queue_size == 7);
    CHECK(c.http_threads == 4 && !strcmp(c.device, "cpu") && !strcmp(c.host, "0.0.0.0"));
}

static void test_bad_env(void)
{
    dt_status st;
    const char *cases[] = {"REST_PORT=http", "REST_PORT=70000", "PROBABILITY_MORE=1.5", "DETECTD_WORKERS=0",
                           "DETECTD_MAX_BODY_BYTES=lots", "MODEL_CONTEXT_GPU=maybe", "DETECTD_DEVICE=tpu",
                           "DETECTD_THRESHOLD=nan"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dt_server_config c;
        dt_server_config_defaults(&c);
        char *env[] = {(char *)cases[i], NULL};
        dt_status_clear(&st);
        CHECKF(dt_server_config_env(&c, env, &st) == DT_EINVAL, "%s", cases[i]);
        /* the message names the variable */
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(strchr(cases[i], '=') - cases[i]), cases[i]);
        CHECKF(strstr(st.msg, name) != NULL, "'%s' does not name %s", st.msg, name);
    }
}

static void test_flags(void)
{
    dt_server_config c;
    dt_server_config_defaults(&c);
    dt_status st;
    char *env[] = {"DETECTD_PORT=7000", "REST_ENTRY_POINT=/x", NULL};
    CHECK(dt_server_config_env(&c, env, &st) == DT_OK);
    char *argv[] = {"serve", "--port", "0", "--threshold=0.35", "--model", "yolox", "--max-body-bytes", "1M",
                    "--entry-point=/predict2", "--device", "gpu", "--workers", "2", NULL};
    int help = 1;
    CHECK(dt_server_config_args(&c, 13, argv, &help, &st) == DT_OK && !help);
    CHECK(c.port == 0 && c.threshold == 0.35 && !strcmp(c.model, "yolox") && c.max_body_bytes == 1 << 20);
    CHECK(!strcmp(c.entry_point, "/predict2") && !strcmp(c.device, "cuda") && c.workers == 2);

    char *h[] = {"serve", "--port", "1", "--help", "--bogus", NULL};
    CHECK(dt_server_config_args(&c, 5, h, &help, &st) == DT_OK && help);

    char *bad1[] = {"serve", "--bogus", "1", NULL};
    CHECK(dt_server_config_args(&c, 3, bad1, &help, &st) == DT_EINVAL && strstr(st.msg, "--bogus"));
    char *bad2[] = {"serve", "--port", NULL};
    CHECK(dt_server_config_args(&c, 2, bad2, &help, &st) == DT_EINVAL && strstr(st.msg, "--port"));
    char *bad3[] = {"serve", "--port=abc", NULL};
    CHECK(dt_server_config_args(&c, 2, bad3, &help, &st) == DT_EINVAL && strstr(st.msg, "--port"));
    char *bad4[] = {"serve", "positional", NULL};
    CHECK(dt_server_config_args(&c, 2, bad4, &help, &st) == DT_EINVAL);
    char *bad5[] = {"serve", "--port-x=1", NULL};
    CHECK(dt_server_config_args(&c, 2, bad5, &help, &st) == DT_EINVAL);
}

static void test_check(void)
{
    dt_server_config c;
    dt_status st;
    dt_server_config_defaults(&c);
    snprintf(c.entry_point, sizeof c.entry_point, "predict");
    CHECK(dt_server_config_check(&c, &st) == DT_EINVAL);
    snprintf(c.entry_point, sizeof c.entry_point, "/p?x=1");
    CHECK(dt_server_config_check(&c, &st) == DT_EINVAL);
    dt_server_config_defaults(&c);
    c.max_inflight_bytes = c.max_body_bytes - 1;
    CHECK(dt_server_config_check(&c, &st) == DT_EINVAL);
}

/* --help lists every flag with its DETECTD_<FLAG> variable, named by the
 * rule (upper case, '-' -> '_'), and the article's variables. */
static void test_usage(void)
{
    char buf[16384];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    dt_server_config_usage(f);
    fclose(f);
    buf[sizeof buf - 1] = '\0';
    const char *line = buf;
    int flags = 0;
    while ((line = strstr(line, "  --")) != NULL) {
        line += 4;
        char flag[64], env[80] = "DETECTD_";
        size_t n = 0;
        while (line[n] && line[n] != ' ' && n < sizeof flag - 1) {
            flag[n] = line[n];
            n++;
        }
        flag[n] = '\0';
        for (size_t i = 0; i < n; i++)
            env[8 + i] = flag[i] == '-' ? '_' : (char)toupper((unsigned char)flag[i]);
        env[8 + n] = '\0';
        CHECKF(strstr(buf, env) != NULL, "--%s: %s not documented", flag, env);
        flags++;
    }
    CHECK(flags >= 15);
    const char *must[] = {"REST_HOST", "REST_PORT", "REST_ENTRY_POINT", "PROBABILITY_MORE", "MODEL_PREFIX",
                          "MODEL_EDGE", "MODEL_CONTEXT_GPU", "MODEL_EPOCH", "DETECTD_MAX_PIXELS", "--help"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        CHECKF(strstr(buf, must[i]) != NULL, "%s missing from --help", must[i]);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_article_env);
    RUN(test_detectd_env_wins);
    RUN(test_bad_env);
    RUN(test_flags);
    RUN(test_check);
    RUN(test_usage);
    return tl_summary();
}
