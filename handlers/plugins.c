/* plugins.c: host.call_plugin with XAPI's plugin ABI (ocaml/xapi/
 * xapi_plugins.ml), so XCP-ng's plugins (updater.py, raid.py, smartctl.py…)
 * run unchanged:
 *   - only a name that is an entry of the plugin directory, else
 *     XENAPI_MISSING_PLUGIN [name];
 *   - run with one argument, the XML-RPC methodCall of fn with params
 *     [session ref, struct of string args];
 *   - stdout is an XML-RPC methodResponse holding one string (read by
 *     plugin_response.c); a fault gives
 *     XENAPI_PLUGIN_FAILURE [fault, code, reason], a non-zero exit
 *     [non-zero exit, stdout, stderr], a signal [signal: SIGxxx, stdout,
 *     stderr], unreadable output [failed to parse plugin output, stdout, why].
 * Plugins run on worker threads, never on a network thread nor under the
 * world lock: at most XG_PLUGIN_MAX_RUNNING at once, XG_PLUGIN_MAX_QUEUED
 * waiting, each killed (its whole process group) after the timeout or when
 * its output passes XG_PLUGIN_OUTPUT_BYTES. */
#include "plugins.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../server/limits.h"
#include "../server/log.h"
#include "../server/world.h"
#include "gw.h"
#include "plugin_response.h"

struct job {
    struct job *next;
    xg_call *c;
    char *path;                 /* plugin executable */
    char *arg;                  /* the methodCall */
};

struct run {                    /* what one plugin process did */
    char *out;
    size_t out_len;
    char log[XG_PLUGIN_LOG_BYTES + 1];
    size_t log_len;
    int status;                 /* waitpid status */
    bool spawned, timed_out, too_much;
    int spawn_errno;
};

static char plugin_dir[512] = "/etc/xapi.d/plugins";
static unsigned timeout_s = XG_PLUGIN_TIMEOUT_S;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct job *queue_head, *queue_tail;
static unsigned running, queued;

void gw_plugins_configure(const char *dir, unsigned timeout)
{
    if (dir && *dir)
        snprintf(plugin_dir, sizeof(plugin_dir), "%s", dir);
    if (timeout)
        timeout_s = timeout;
}

/* ===== the argument: an XML-RPC methodCall ============================ */

static void put_escaped(xg_out *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': xg_out_puts(o, "&amp;"); break;
        case '<': xg_out_puts(o, "&lt;"); break;
        case '>': xg_out_puts(o, "&gt;"); break;
        default: xg_out_putc(o, *s);
        }
    }
}

static void put_string(xg_out *o, const char *s)
{
    xg_out_puts(o, "<value><string>");
    put_escaped(o, s);
    xg_out_puts(o, "</string></value>");
}

static char *method_call(const char *fn, const char *session, const xg_map *args, size_t *len)
{
    xg_out o;
    xg_out_init(&o);
    xg_out_puts(&o, "<?xml version=\"1.0\"?><methodCall><methodName>");
    put_escaped(&o, fn);
    xg_out_puts(&o, "</methodName><params><param>");
    put_string(&o, session);
    xg_out_puts(&o, "</param><param><value><struct>");
    const char *const *k = args->keys, *const *v = args->vals;
    for (uint32_t i = 0; i < args->n; i++) {
        xg_out_puts(&o, "<member><name>");
        put_escaped(&o, k[i]);
        xg_out_puts(&o, "</name>");
        put_string(&o, v[i]);
        xg_out_puts(&o, "</member>");
    }
    xg_out_puts(&o, "</struct></value></param></params></methodCall>");
    char *s = xg_out_strdup(&o, len);
    xg_out_reset(&o);
    return s;
}

/* ===== running one plugin ============================================ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is there; false at EOF or error. */
static bool drain(int fd, struct run *r, bool is_out)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN;
        if (n == 0)
            return false;
        if (is_out) {
            if (r->out_len + (size_t)n > XG_PLUGIN_OUTPUT_BYTES) {
                r->too_much = true;
                return false;
            }
            memcpy(r->out + r->out_len, buf, (size_t)n);
            r->out_len += (size_t)n;
        } else {
            size_t room = XG_PLUGIN_LOG_BYTES - r->log_len;
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(r->log + r->log_len, buf, take);
            r->log_len += take;
        }
    }
}

static void run_plugin(const struct job *j, struct run *r)
{
    int out[2] = { -1, -1 }, err[2] = { -1, -1 };
    r->out = malloc(XG_PLUGIN_OUTPUT_BYTES + 1);
    if (!r->out || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        r->spawn_errno = errno ? errno : ENOMEM;
        goto closed;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&at);
    /* its own process group, so a timeout kills what it started too; the
     * gateway's blocked and ignored signals are not inherited */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    char *argv[] = { j->path, j->arg, NULL };
    char *envp[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "HOME=/", "LANG=C.UTF-8", NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, j->path, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(out[1]);
    close(err[1]);
    out[1] = err[1] = -1;
    if (rc != 0) {
        r->spawn_errno = rc;
        goto closed;
    }
    r->spawned = true;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            r->timed_out = true;
            break;
        }
        struct pollfd p[2] = { { out_open ? out[0] : -1, POLLIN, 0 },
                               { err_open ? err[0] : -1, POLLIN, 0 } };
        int n = poll(p, 2, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR)
            break;
        if (out_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            out_open = drain(out[0], r, true);
        if (err_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            err_open = drain(err[0], r, false);
        if (r->too_much)
            break;
    }
    /* whatever is left of the group goes: a timed-out or flooding plugin,
     * or children it left holding our pipes */
    kill(-pid, SIGKILL);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
        ;
closed:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (err[i] >= 0)
            close(err[i]);
    }
    if (r->out)
        r->out[r->out_len] = '\0';
    r->log[r->log_len] = '\0';
}

/* ===== the answer ===================================================== */

/* Output quoted in an error is bounded (and cut on a UTF-8 boundary). */
static const char *quoted(xg_arena *a, const char *s, size_t n)
{
    if (n > XG_PLUGIN_ERROR_BYTES) {
        n = XG_PLUGIN_ERROR_BYTES;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *q = xg_arena_alloc(a, n + 1);
    if (!q)
        return "";
    memcpy(q, s, n);
    q[n] = '\0';
    return q;
}

static bool failure(xg_err *err, xg_arena *a, const char *status, const struct run *r,
                    const char *log)
{
    return xapi_err_xenapi_plugin_failure(err, status, quoted(a, r->out ? r->out : "", r->out_len),
                                          quoted(a, log, strlen(log)));
}

/* Interprets what the plugin did: true with *result set, or false with err. */
static bool answer(const struct run *r, xg_arena *a, char **result, xg_err *err)
{
    char why[160];
    if (!r->spawned) {
        snprintf(why, sizeof(why), "cannot run the plugin: %s", strerror(r->spawn_errno));
        return failure(err, a, "non-zero exit", r, why);
    }
    if (r->timed_out || r->too_much) {
        snprintf(why, sizeof(why), r->timed_out ? "killed after %u s" : "killed: output over %u bytes",
                 r->timed_out ? timeout_s : XG_PLUGIN_OUTPUT_BYTES);
        return failure(err, a, "signal: SIGKILL", r, why);
    }
    if (WIFSIGNALED(r->status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(r->status));
        char sig[48];
        snprintf(sig, sizeof(sig), "signal: SIG%s", abbrev ? abbrev : "UNKNOWN");
        return failure(err, a, sig, r, r->log);
    }
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
        return failure(err, a, "non-zero exit", r, r->log);
    struct gw_plugin_reply rep;
    switch (gw_plugin_read_reply(a, r->out, r->out_len, &rep)) {
    case GW_PLUGIN_OK:
        *result = (char *)rep.text;
        return true;
    case GW_PLUGIN_FAULT: {
        char code[24];
        snprintf(code, sizeof(code), "%d", (int)rep.fault_code);
        return xapi_err_xenapi_plugin_failure(err, "fault", code, quoted(a, rep.text, rep.len));
    }
    case GW_PLUGIN_UNEXPECTED:
        return failure(err, a, "unexpected XMLRPC result", r, "");
    default:
        return failure(err, a, "failed to parse plugin output", r, rep.why);
    }
}

/* ===== workers ======================================================== */

static void finish(struct job *j, const struct run *r)
{
    xg_world_lock();
    xg_err err = XG_ERR_INIT;
    char *result = NULL;
    if (answer(r, j->c->arena, &result, &err))
        xg_call_finish(j->c, true, NULL, &result);
    else
        xg_call_finish(j->c, false, &err, NULL);
    xg_world_unlock();
}

static void *worker(void *arg)
{
    struct job *j = arg;
    while (j) {
        struct run *r = calloc(1, sizeof(*r));
        if (r)
            run_plugin(j, r);
        if (r) {
            finish(j, r);
        } else {
            xg_world_lock();
            xg_err err = XG_ERR_INIT;
            xg_err_internal(&err, "out of memory running a plugin");
            xg_call_finish(j->c, false, &err, NULL);
            xg_world_unlock();
        }
        if (r)
            free(r->out);
        free(r);
        xg_call_unref(j->c);
        free(j->path);
        free(j->arg);
        free(j);
        pthread_mutex_lock(&mu);
        j = queue_head;
        if (j) {
            queue_head = j->next;
            if (!queue_head)
                queue_tail = NULL;
            queued--;
        } else {
            running--;
        }
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

/* Starts a worker for j, or queues it; false when both are full. */
static bool submit(struct job *j)
{
    pthread_mutex_lock(&mu);
    bool ok = true;
    if (running < XG_PLUGIN_MAX_RUNNING) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, worker, j) == 0)
            running++;
        else
            ok = false;
        pthread_attr_destroy(&at);
    } else if (queued < XG_PLUGIN_MAX_QUEUED) {
        j->next = NULL;
        if (queue_tail)
            queue_tail->next = j;
        else
            queue_head = j;
        queue_tail = j;
        queued++;
    } else {
        ok = false;
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

/* ===== the API ======================================================== */

/* XAPI accepts exactly the names listed in the plugin directory. */
static bool plugin_path(const char *name, char *path, size_t n)
{
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strlen(name) > 255)
        return false;
    if ((size_t)snprintf(path, n, "%s/%s", plugin_dir, name) >= n)
        return false;
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool handle_host_call_plugin(xg_call *c, xapi_host *host, const char *plugin, const char *fn,
                             const xg_map *args, char **result_out, xg_err *err)
{
    (void)host;
    (void)result_out;
    char path[800];
    if (!plugin_path(plugin, path, sizeof(path)))
        return xapi_err_xenapi_missing_plugin(err, plugin);
    size_t len = 0;
    char *arg = method_call(fn, c->session_ref ? c->session_ref : XG_REF_NULL, args, &len);
    if (!arg)
        return xg_err_internal(err, "out of memory");
    if (len > XG_PLUGIN_ARG_BYTES) {
        free(arg);
        return xapi_err_xenapi_plugin_failure(err, "non-zero exit", "",
                                              "arguments too large for a command line");
    }
    struct job *j = calloc(1, sizeof(*j));
    if (j)
        j->path = strdup(path);
    if (!j || !j->path) {
        if (j)
            free(j);
        free(arg);
        return xg_err_internal(err, "out of memory");
    }
    j->arg = arg;
    j->c = c;
    xg_call_ref(c);
    /* the worker finishes the call under the world lock, so it cannot
     * before this handler returns: deferring after submitting is safe */
    if (!submit(j)) {
        xg_call_unref(c);
        free(j->path);
        free(j->arg);
        free(j);
        return xapi_err_too_many_pending_tasks(err);
    }
    xg_call_defer(c);
    return true;
}
