/* lifecycle.c: see lifecycle.h. */
#include "lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-login.h>

#include "log.h"

extern char **environ;

static atomic_int requested = -1;   /* enum xg_after_stop, -1: none */

enum xg_after_stop xg_lifecycle_after(void)
{
    int v = atomic_load(&requested);
    return v < 0 ? XG_AFTER_EXIT : (enum xg_after_stop)v;
}

bool xg_lifecycle_run(const char *const *argv)
{
    pid_t pid;
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    /* the child must not inherit main's blocked SIGTERM/SIGINT/SIGHUP */
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawnp(&pid, argv[0], NULL, &attr, (char *const *)argv, environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        XG_WARN("lifecycle", "cannot run %s: %s", argv[0], strerror(rc));
        return false;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        XG_WARN("lifecycle", "%s %s failed (status %d)", argv[0], argv[1] ? argv[1] : "",
                status);
        return false;
    }
    return true;
}

/* A systemd service's main process: started by PID 1 with an invocation id.
 * Both are checked because a child of some other service inherits
 * INVOCATION_ID, and restarting that service would be wrong. */
static bool systemd_unit(char **unit)
{
    if (getppid() != 1 || (!getenv("INVOCATION_ID") && !getenv("NOTIFY_SOCKET")))
        return false;
    return sd_pid_get_unit(0, unit) >= 0;
}

struct req { enum xg_after_stop what; unsigned delay_ms; };

static void *stop_later(void *arg)
{
    struct req r = *(struct req *)arg;
    free(arg);
    struct timespec ts = { r.delay_ms / 1000, (long)(r.delay_ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    char *unit = NULL;
    if (r.what != XG_AFTER_EXIT && systemd_unit(&unit)) {
        const char *argv[] = { "systemctl", "--no-block", "restart", unit, NULL };
        XG_INFO("lifecycle", "restarting through systemd (%s)", unit);
        bool queued = xg_lifecycle_run(argv);
        free(unit);
        if (queued)
            return NULL;       /* systemd sends SIGTERM, then starts us again */
        XG_WARN("lifecycle", "systemd did not take the restart: re-executing instead");
    }
    atomic_store(&requested, (int)r.what);
    kill(getpid(), SIGTERM);   /* main's sigwait takes it: the clean stop */
    return NULL;
}

void xg_lifecycle_request(enum xg_after_stop what, unsigned delay_ms)
{
    static atomic_bool once;
    if (atomic_exchange(&once, true))
        return;
    struct req *r = malloc(sizeof *r);
    pthread_t t;
    if (r) {
        r->what = what;
        r->delay_ms = delay_ms;
        if (pthread_create(&t, NULL, stop_later, r) == 0) {
            pthread_detach(t);
            return;
        }
        free(r);
    }
    /* no thread: stop now, the answer may be lost */
    atomic_store(&requested, (int)what);
    kill(getpid(), SIGTERM);
}

void xg_lifecycle_reexec(char **argv)
{
    XG_INFO("lifecycle", "starting again");
    /* listeners, the database, plugin and console pipes: none may survive
     * into the new image (a listener left open would keep the port) */
    syscall(SYS_close_range, 3u, ~0u, 0u);
    /* the new image says why it started (handlers/host_power.c) */
    setenv("XG_STARTED_BY", xg_lifecycle_after() == XG_AFTER_REBOOT ? "reboot" : "restart", 1);
    /* the signal mask carries over: the new image blocks the same signals.
     * argv[0] first, so that a binary upgraded in place is the one that
     * starts; the running image when that name no longer resolves */
    execvp(argv[0], argv);
    execv("/proc/self/exe", argv);
    XG_ERROR("lifecycle", "cannot start again: %s", strerror(errno));
}
