/* main.c: command line, start-up order and shutdown of xapi-gateway.
 *   xapi-gateway [--config FILE] [--https ADDR:PORT] [--http ADDR:PORT]
 *                [--state-dir DIR] [--driver auto|sim|libxl] [--sim-vms N]
 *                [--sim-delay-ms N] [--cert PEM --key PEM] [--auth file|pam]
 *                [--log-level L]            (any config key works as --key)
 *   xapi-gateway passwd USER   (password from XAPI_GATEWAY_PASSWORD or stdin)
 * Order: config → log level → timer → auth → handlers → listeners → I/O.
 * Signals are blocked in every thread and taken by sigwait here, so no
 * handler ever runs in the middle of a lock. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../handlers/handlers.h"
#include "auth.h"
#include "config.h"
#include "log.h"
#include "rpc_in.h"
#include "timer.h"
#include "transport.h"
#include "www.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: xapi-gateway [--config FILE] [--https ADDR:PORT] [--http ADDR:PORT]\n"
            "                    [--state-dir DIR] [--driver auto|sim|libxl] [--sim-vms N]\n"
            "                    [--sim-delay-ms N] [--cert PEM --key PEM] [--auth file|pam]\n"
            "                    [--log-level error|warn|info|debug] [--www DIR|off]\n"
            "       xapi-gateway passwd USER   (password from XAPI_GATEWAY_PASSWORD or stdin)\n");
}

static void die(const char *what, const xg_err *err)
{
    fprintf(stderr, "xapi-gateway: %s: %s%s%s\n", what, err->code ? err->code : "error",
            err->nparams ? ": " : "", err->nparams ? err->param[0] : "");
    exit(1);
}

/* Applies --config first, then every other option (the command line wins).
 * Leaves positional arguments in pos[]. */
static void parse_args(int argc, char **argv, const char **pos, int *npos)
{
    xg_err err = XG_ERR_INIT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            if (!xg_config_load_file(argv[i + 1], &err))
                die("config", &err);
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            if (!xg_config_load_file(argv[i] + 9, &err))
                die("config", &err);
        }
    }
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            exit(0);
        }
        if (strncmp(a, "--", 2) != 0) {
            if (*npos < 8)
                pos[(*npos)++] = a;
            continue;
        }
        char key[64];
        const char *val;
        const char *eq = strchr(a, '=');
        if (eq) {
            snprintf(key, sizeof(key), "%.*s", (int)(eq - a - 2), a + 2);
            val = eq + 1;
        } else {
            if (i + 1 >= argc) {
                usage();
                exit(2);
            }
            snprintf(key, sizeof(key), "%s", a + 2);
            val = argv[++i];
        }
        if (strcmp(key, "config") == 0)
            continue;
        if (!xg_config_set(key, val, &err)) {
            usage();
            die("bad option", &err);
        }
    }
}

/* mkdir -p; the last component gets mode 0700 (it holds keys and hashes). */
static bool make_state_dir(const char *dir)
{
    char p[sizeof(xg_cfg.state_dir)];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return false;
            *s = '/';
        }
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return false;
    return true;
}

static int cmd_passwd(const char *user)
{
    xg_err err = XG_ERR_INIT;
    if (!make_state_dir(xg_cfg.state_dir)) {
        fprintf(stderr, "xapi-gateway: cannot create %s: %s\n", xg_cfg.state_dir, strerror(errno));
        return 1;
    }
    char pw[1024];
    const char *env = getenv("XAPI_GATEWAY_PASSWORD");
    if (env && *env) {
        snprintf(pw, sizeof(pw), "%s", env);
    } else {
        if (!fgets(pw, sizeof(pw), stdin)) {
            fprintf(stderr, "xapi-gateway: no password on stdin\n");
            return 1;
        }
        pw[strcspn(pw, "\r\n")] = '\0';
    }
    if (!*pw) {
        fprintf(stderr, "xapi-gateway: empty password refused\n");
        return 1;
    }
    if (!xg_auth_init(xg_cfg.auth, xg_cfg.state_dir, &err) ||
        !xg_auth_set_password(user, pw, &err))
        die("passwd", &err);
    explicit_bzero(pw, sizeof(pw));
    printf("password set for %s\n", user);
    xg_auth_shutdown();
    return 0;
}

int main(int argc, char **argv)
{
    xg_err err = XG_ERR_INIT;
    const char *pos[8];
    int npos = 0;
    /* scripts wait for "listening on" and the root password: never keep
     * them in a block buffer when stdout is a file or a pipe */
    setvbuf(stdout, NULL, _IOLBF, 0);
    xg_config_defaults();
    parse_args(argc, argv, pos, &npos);

    enum xg_log_level lvl;
    if (xg_log_parse_level(xg_cfg.log_level, &lvl))
        xg_log_threshold = lvl;

    if (npos > 0) {
        if (strcmp(pos[0], "passwd") == 0 && npos == 2)
            return cmd_passwd(pos[1]);
        usage();
        return 2;
    }

    /* every thread inherits this mask; only sigwait below takes them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!make_state_dir(xg_cfg.state_dir)) {
        fprintf(stderr, "xapi-gateway: cannot create %s: %s\n", xg_cfg.state_dir, strerror(errno));
        return 1;
    }
    xg_xmlrpc_in_init();
    if (!xg_timer_start()) {
        fprintf(stderr, "xapi-gateway: cannot start the timer thread\n");
        return 1;
    }
    if (!xg_auth_init(xg_cfg.auth, xg_cfg.state_dir, &err) || !xg_auth_ensure_root(&err))
        die("auth", &err);
    if (!xg_handlers_init(&xg_cfg, &err))
        die("start-up", &err);
    if (!xg_www_open(xg_cfg.www_dir, &err))
        die("www", &err);

    struct xg_listener_cfg ls[2];
    unsigned nls = 0;
    SSL_CTX *ctx = NULL;
    if (xg_cfg.https.set) {
        char cert[1100], key[1100];
        if (xg_cfg.cert_path[0]) {
            snprintf(cert, sizeof(cert), "%s", xg_cfg.cert_path);
            snprintf(key, sizeof(key), "%s", xg_cfg.key_path[0] ? xg_cfg.key_path
                                                                  : xg_cfg.cert_path);
        } else if (!xg_cert_ensure(xg_cfg.state_dir, cert, sizeof(cert), key, sizeof(key), &err)) {
            die("certificate", &err);
        }
        ctx = xg_tls_ctx_new(cert, key, &err);
        if (!ctx)
            die("tls", &err);
        ls[nls++] = (struct xg_listener_cfg){ xg_cfg.https.addr, xg_cfg.https.port, true };
    }
    if (xg_cfg.http.set)
        ls[nls++] = (struct xg_listener_cfg){ xg_cfg.http.addr, xg_cfg.http.port, false };
    if (nls == 0) {
        fprintf(stderr, "xapi-gateway: no listener (--https off and no --http)\n");
        return 1;
    }
    unsigned nthreads = xg_cfg.io_threads;
    if (nthreads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (unsigned)n : 1;
    }
    if (!xg_io_start(ls, nls, ctx, nthreads, &err))
        die("listen", &err);

    int sig = 0;
    for (;;) {
        if (sigwait(&set, &sig) == 0 && sig != SIGHUP)
            break;
    }
    XG_INFO("main", "signal %d: shutting down", sig);
    xg_io_stop();
    xg_www_close();
    xg_handlers_shutdown();
    xg_auth_shutdown();
    /* the timer thread may still serve deferred work of closed calls; the
     * process exits without joining it */
    fflush(stdout);
    fflush(stderr);
    _exit(0);
}
