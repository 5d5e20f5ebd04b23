/* cmd_serve.c — `detectd serve`: configuration from the environment and
 * flags, then the server until SIGINT/SIGTERM (graceful: stop accepting,
 * finish in-flight requests within --drain-timeout-s, exit 0) or a failed
 * first model load (exit 1).  SIGHUP reloads every model from disk (a
 * model that fails to load keeps serving its previous version). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "server/server.h"

extern char **environ;

/* A closed stdin, stdout or stderr hands its number to the next socket or
 * file opened: log lines written to "stderr" would then land in a client's
 * connection.  Point each closed one at /dev/null before opening anything.
 * (A stderr that fails, e.g. on a full disk, is fine: log lines are then
 * dropped and serving goes on.) */
static void guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", O_RDWR);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
}

int dt_cmd_serve(int argc, char **argv)
{
    guard_std_fds();
    dt_server_config cfg;
    dt_status st;
    dt_status_clear(&st);
    dt_server_config_defaults(&cfg);
    int help = 0;
    if (dt_server_config_env(&cfg, environ, &st) != DT_OK || dt_server_config_args(&cfg, argc, argv, &help, &st) != DT_OK ||
        (!help && dt_server_config_check(&cfg, &st) != DT_OK)) {
        fprintf(stderr, "detectd serve: %s\n", st.msg);
        return 2;
    }
    if (help) {
        dt_server_config_usage(stdout);
        return 0;
    }

    /* Block the stop signals in every thread (the ones started below
     * inherit the mask) and take them synchronously here: no handler, no
     * async-signal-safety concerns. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    dt_server_backend be;
    if (dt_server_backend_detector(&cfg, &be, &st) != DT_OK) {
        fprintf(stderr, "detectd serve: %s\n", st.msg);
        return 1;
    }
    dt_server *srv = NULL;
    if (dt_server_start_ex(&cfg, be, dt_server_backend_detector_ext(), &srv, &st) != DT_OK) {
        dt_server_log("error", "%s", st.msg);
        return st.code == DT_EINVAL ? 2 : 1; /* a bad setting is a usage error */
    }
    int rc = 0;
    for (;;) {
        struct timespec tick = {0, 200 * 1000000L};
        int sig = sigtimedwait(&stop, NULL, &tick);
        if (sig == SIGHUP) {
            dt_server_log("info", "SIGHUP received: reloading every model");
            if (dt_server_reload(srv, NULL, &st) != DT_OK)
                dt_server_log("warn", "reload not started: %s", st.msg);
            if (dt_server_reload_keys(srv, &st) != DT_OK)
                dt_server_log("error", "API keys not reloaded, the previous keys stay: %s", st.msg);
            continue;
        }
        if (sig == SIGINT || sig == SIGTERM) {
            dt_server_log("info", "%s received", sig == SIGINT ? "SIGINT" : "SIGTERM");
            break;
        }
        if (sig < 0 && errno != EAGAIN && errno != EINTR) {
            dt_server_log("error", "sigtimedwait: %s", strerror(errno));
            rc = 1;
            break;
        }
        if (dt_server_state_get(srv, &st) == DT_SERVER_FAILED) {
            rc = 1;
            break;
        }
    }
    dt_server_free(srv);
    return rc;
}
