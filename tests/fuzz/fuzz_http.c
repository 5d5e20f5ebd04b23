/* fuzz_http.c — the HTTP request path end to end: libmicrohttpd's request
 * parsing plus our routing, header checks (Content-Type, Content-Length),
 * query parsing, body buffering and limits, multipart extraction and the
 * image decoders, all in this process under ASan/UBSan.
 *
 * One server (real dt_server, a fake backend that decodes the image and
 * reports one box) is started at initialisation on a loopback port.  Each
 * input is the raw bytes a client sends on one connection; the harness
 * half-closes the socket and reads the answer until the server closes or
 * 2 s pass.  A dead server (connect refused, a hang) is a crash.
 * The access log is off; other server log lines go to stderr. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "fuzz_util.h"
#include "server/server.h"
#include "vision/image.h"

static dt_server *g_srv;
static int g_port;

static dt_code f_load(void *self, dt_status *st)
{
    (void)self;
    (void)st;
    return DT_OK;
}
static void f_info(void *self, dt_server_model_info *out)
{
    (void)self;
    out->name = "fuzz";
    out->input_w = 64;
    out->input_h = 64;
    out->num_classes = 2;
}
static const char *f_label(void *self, int id)
{
    (void)self;
    return id == 0 ? "cat" : id == 1 ? "dog" : "?";
}
static int f_class_id(void *self, const char *label)
{
    (void)self;
    return !strcmp(label, "cat") ? 0 : !strcmp(label, "dog") ? 1 : -1;
}
static dt_code f_worker_create(void *self, void **w, dt_status *st)
{
    (void)st;
    *w = self;
    return DT_OK;
}
static void f_worker_free(void *self, void *w)
{
    (void)self;
    (void)w;
}
static dt_detection g_det[2];
static dt_code f_detect(void *self, void *w, const void *bytes, size_t len, const dt_image_limits *lim,
                        const dt_detect_params *p, dt_detect_result *out, dt_status *st)
{
    (void)self;
    (void)w;
    (void)p;
    dt_image img;
    dt_image_hint hint = {64, 64, 1};
    dt_code rc = dt_image_decode(bytes, len, lim, &hint, &img, NULL, st);
    if (rc != DT_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->width = img.width;
    out->height = img.height;
    g_det[0] = (dt_detection){0, 0.9f, 0, 0, (float)img.width / 2, (float)img.height / 2};
    g_det[1] = (dt_detection){1, 0.7f, 1, 1, (float)img.width, (float)img.height};
    out->dets = g_det; /* the one worker is the only writer */
    out->n = 2;
    dt_image_release(&img);
    return DT_OK;
}
static void f_destroy(void *self) { (void)self; }
static const dt_server_backend_ops g_ops = {
    .load = f_load, .info = f_info, .label = f_label, .class_id = f_class_id, .worker_create = f_worker_create,
    .worker_free = f_worker_free, .detect = f_detect, .destroy = f_destroy};

static void stop_server(void)
{
    dt_server_free(g_srv);
    g_srv = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    dt_server_config cfg;
    dt_server_config_defaults(&cfg);
    snprintf(cfg.host, sizeof cfg.host, "127.0.0.1");
    cfg.port = 0;
    cfg.max_body_bytes = 256 << 10; /* small limits: reach the 413 paths cheaply */
    cfg.max_pixels = 1 << 20;
    cfg.max_inflight_bytes = 8 << 20;
    cfg.timeout_s = 2;
    cfg.workers = 1;
    cfg.threads = 1;
    cfg.http_threads = 1;
    cfg.queue_size = 4;
    cfg.access_log = 0; /* one line per input would drown the fuzzer's output */
    dt_status st;
    dt_status_clear(&st);
    dt_server_backend be = {&g_ops, NULL};
    if (dt_server_start(&cfg, be, &g_srv, &st) != DT_OK) {
        fprintf(stderr, "fuzz_http: cannot start the server: %s\n", st.msg);
        abort();
    }
    g_port = dt_server_port(g_srv);
    for (int i = 0; dt_server_state_get(g_srv, NULL) != DT_SERVER_READY; i++) {
        if (i > 500)
            abort();
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    atexit(stop_server);
    return 0;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 2;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = -1;
    /* The server must keep accepting: a refusal that lasts 5 s is a crash. */
    for (int tries = 0;; tries++) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            break;
        int e = errno;
        close(fd);
        fd = -1;
        if (tries == 0 || tries == 49)
            fprintf(stderr, "fuzz_http: connect: %s (try %d, %d fds open, server state %d)\n", strerror(e),
                    tries + 1, count_fds(), (int)dt_server_state_get(g_srv, NULL));
        if (tries == 49)
            break;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    FUZZ_ASSERT(fd >= 0); /* the server is alive and accepting */
    double t0 = now_ms();
    size_t off = 0;
    char buf[16384];
    int closed = 0;
    /* Send and read at the same time: the server may answer (and close)
     * before it has read everything. */
    while (!closed && now_ms() - t0 < 2000) {
        struct pollfd p = {fd, (short)(POLLIN | (off < size ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 50) < 0)
            break;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                closed = 1;
        }
        if (!closed && (p.revents & POLLOUT) && off < size) {
            ssize_t n = send(fd, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                off += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                off = size;
            if (off == size)
                shutdown(fd, SHUT_WR);
        }
        if (size == 0 && off == 0) {
            shutdown(fd, SHUT_WR);
            off = 1; /* sent "nothing" */
        }
    }
    close(fd);
    return 0;
}
