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
#include "lifecycle.h"
#include "limits.h"
#include "log.h"
#include "notify.h"
#include "rpc_in.h"
#include "timer.h"
#include "transport.h"
#include "www.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: xapi-gateway [--config FILE] [--OPTION VALUE]...\n"
            "  or:  xapi-gateway [--config FILE] --check-config | --dump-config\n"
            "  or:  xapi-gateway [--config FILE] passwd USER\n"
            "  or:  xapi-gateway --version | --help\n"
            "\n"
            "Serves the XAPI management API (XML-RPC and JSON-RPC over HTTPS) of this Xen host.\n"
            "\n"
            "Options (each is also a config file key, without the dashes):\n"
            "  --config FILE                    read settings from FILE first; the command line wins\n"
            "  --check-config                   validate the configuration and exit (0 if valid)\n"
            "  --dump-config                    print every setting as a commented config file\n");
    xg_config_print_options(out);
    fprintf(out,
            "\n"
            "Signals: SIGTERM and SIGINT shut down cleanly; SIGHUP re-reads the config file and\n"
            "reloads the TLS certificate and the log level without dropping connections.\n");
}

static void die(const char *what, const xg_err *err)
{
    fprintf(stderr, "xapi-gateway: %s: %s%s%s\n", what, err->code ? err->code : "error",
            err->nparams ? ": " : "", err->nparams ? err->param[0] : "");
    exit(1);
}

enum run_mode { RUN_SERVE, RUN_CHECK_CONFIG, RUN_DUMP_CONFIG };

static const char *config_path;   /* --config FILE, re-read on SIGHUP */

/* Applies defaults, then --config, then every other option (the command line
 * wins) to cfg. Leaves positional arguments in pos[]; returns false with err
 * set on a bad setting. */
static bool parse_args(struct xg_config *cfg, int argc, char **argv, const char **pos,
                       int *npos, enum run_mode *mode, xg_err *err)
{
    xg_config_defaults_in(cfg);
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path) {
            config_path = path;
            if (!xg_config_load_file_in(cfg, path, err))
                return false;
        }
    }
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--version") == 0) {
            printf("xapi-gateway %s\n", XG_VERSION);
            exit(0);
        }
        if (strcmp(a, "--check-config") == 0) {
            *mode = RUN_CHECK_CONFIG;
            continue;
        }
        if (strcmp(a, "--dump-config") == 0) {
            *mode = RUN_DUMP_CONFIG;
            continue;
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
                usage(stderr);
                exit(2);
            }
            snprintf(key, sizeof(key), "%s", a + 2);
            val = argv[++i];
        }
        if (strcmp(key, "config") == 0)
            continue;
        if (!xg_config_set_in(cfg, key, val, err))
            return false;
    }
    return true;
}

/* What --check-config verifies beyond the syntax: files named by the
 * configuration are readable. */
static bool check_files(const struct xg_config *cfg, xg_err *err)
{
    const char *files[] = { cfg->cert_path, cfg->key_path };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (files[i][0] && access(files[i], R_OK) != 0)
            return xg_err_internal(err, "cannot read %s: %s", files[i], strerror(errno));
    return true;
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

/* The TLS context from the configured certificate, or the self-signed one
 * in the state dir (made on the first start). */
static SSL_CTX *load_tls(const struct xg_config *cfg, xg_err *err)
{
    char cert[1100], key[1100];
    if (cfg->cert_path[0]) {
        snprintf(cert, sizeof(cert), "%s", cfg->cert_path);
        snprintf(key, sizeof(key), "%s", cfg->key_path[0] ? cfg->key_path : cfg->cert_path);
    } else if (!xg_cert_ensure(cfg->state_dir, cert, sizeof(cert), key, sizeof(key), err)) {
        return NULL;
    }
    return xg_tls_ctx_new(cert, key, err);
}

/* SIGHUP: re-read the command line and config file into a scratch copy and
 * apply what can change while running: the log level and the TLS
 * certificate (new connections get it; open ones keep theirs). Listeners,
 * state dir and driver need a restart. A bad file changes nothing. */
static void reload(int argc, char **argv, bool tls)
{
    xg_notify_reloading();
    static struct xg_config fresh;   /* only the signal loop uses it */
    const char *pos[8];
    int npos = 0;
    enum run_mode mode = RUN_SERVE;
    xg_err err = XG_ERR_INIT;
    if (!parse_args(&fresh, argc, argv, pos, &npos, &mode, &err)) {
        XG_ERROR("main", "reload: configuration refused, nothing changed: %s",
                 err.nparams ? err.param[0] : "error");
        xg_notify_ready(0);
        return;
    }
    enum xg_log_level lvl;
    if (xg_log_parse_level(fresh.log_level, &lvl))
        xg_log_threshold = lvl;
    if (tls) {
        SSL_CTX *ctx = load_tls(&fresh, &err);
        if (ctx) {
            xg_io_set_tls(ctx);
            XG_INFO("main", "reload: TLS certificate reloaded");
        } else {
            XG_ERROR("main", "reload: certificate refused, keeping the old one: %s",
                     err.nparams ? err.param[0] : "error");
        }
    }
    XG_INFO("main", "reload done (log level %s)", fresh.log_level);
    xg_notify_ready(0);
}

/* --local-socket: "auto" is XAPI's own path on a Xen host (where on-host
 * tools such as Ansible's xenserver_facts look for it) and off elsewhere. */
static const char *local_socket_path(const char *cfg)
{
    if (!cfg[0] || strcmp(cfg, "off") == 0)
        return NULL;
    if (strcmp(cfg, "auto") != 0)
        return cfg;
    char caps[256] = "";
    FILE *f = fopen("/proc/xen/capabilities", "r");
    if (f) {
        if (!fgets(caps, sizeof(caps), f))
            caps[0] = '\0';
        fclose(f);
    }
    return strstr(caps, "control_d") ? XG_XAPI_LOCAL_SOCKET : NULL;
}

static bool make_parent_dir(const char *path)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return true;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(dir, 0755) == 0 || errno == EEXIST;
}

int main(int argc, char **argv)
{
    xg_err err = XG_ERR_INIT;
    const char *pos[8];
    int npos = 0;
    /* scripts wait for "listening on" and the root password: never keep
     * them in a block buffer when stdout is a file or a pipe */
    setvbuf(stdout, NULL, _IOLBF, 0);
    enum run_mode mode = RUN_SERVE;
    if (!parse_args(&xg_cfg, argc, argv, pos, &npos, &mode, &err)) {
        usage(stderr);
        die("bad option", &err);
    }
    if (mode == RUN_DUMP_CONFIG) {
        xg_config_dump(stdout);
        return 0;
    }
    if (mode == RUN_CHECK_CONFIG) {
        if (!check_files(&xg_cfg, &err))
            die("config", &err);
        printf("configuration OK\n");
        return 0;
    }

    enum xg_log_level lvl;
    if (xg_log_parse_level(xg_cfg.log_level, &lvl))
        xg_log_threshold = lvl;

    if (npos > 0) {
        if (strcmp(pos[0], "passwd") == 0 && npos == 2)
            return cmd_passwd(pos[1]);
        usage(stderr);
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
    /* every GET no API route takes: a file of the web root, else 404 */
    xg_http_register_get_flags("/*", XG_ROUTE_PUBLIC, xg_www_serve);

    struct xg_listener_cfg ls[3];
    unsigned nls = 0;
    SSL_CTX *ctx = NULL;
    if (xg_cfg.https.set) {
        ctx = load_tls(&xg_cfg, &err);
        if (!ctx)
            die("tls", &err);
        ls[nls++] = (struct xg_listener_cfg){ xg_cfg.https.addr, xg_cfg.https.port, true };
    }
    if (xg_cfg.http.set)
        ls[nls++] = (struct xg_listener_cfg){ xg_cfg.http.addr, xg_cfg.http.port, false };
    const char *local = local_socket_path(xg_cfg.local_socket);
    if (local && !make_parent_dir(local)) {
        fprintf(stderr, "xapi-gateway: cannot create the directory of %s: %s\n", local,
                strerror(errno));
        return 1;
    }
    if (local)
        ls[nls++] = (struct xg_listener_cfg){ "", 0, false, local };
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

    xg_notify_ready(xg_cfg.https.set ? xg_cfg.https.port : xg_cfg.http.port);

    int sig = 0;
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        reload(argc, argv, ctx != NULL);
    }
    XG_INFO("main", "signal %d: shutting down", sig);
    xg_notify_stopping();
    xg_io_stop();
    /* Timer callbacks (the 10 s domain resync, session expiry, task gc,
     * event timeouts) use the driver and the store: they must have ended
     * before either is closed. A resync firing while the driver was being
     * closed crashed the gateway on SIGTERM (SIGSEGV under load). Stopping
     * waits for the callback in flight, if any, and runs no other. */
    xg_timer_stop();
    /* a login finishing on the auth pool writes a session: before the store
     * is flushed and closed */
    xg_auth_shutdown();
    xg_www_close();
    xg_handlers_shutdown();
    /* the process exits, or becomes a new image (host.restart_agent) */
    fflush(stdout);
    fflush(stderr);
    if (xg_lifecycle_after() != XG_AFTER_EXIT)
        xg_lifecycle_reexec(argv);
    _exit(0);
}
