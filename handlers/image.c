/* image.c: the image files behind VDIs, through Debian's qemu-img.
 *
 * Format: qcow2. Snapshots and clones are copy-on-write through backing
 * files (a new overlay per child, milliseconds whatever the disk size),
 * qemu's xen-block (qdisk) backend reads it directly under libxl, and
 * qemu-img converts to and from raw/vpc for transfers. Backing references
 * are written relative (the bare file name) so an SR directory can move.
 * Paths are built from SR directories and VDI locations we made (uuids) or
 * read from the SR directory (ISO files), never from client strings. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../server/log.h"
#include "storage.h"

#define QEMU_IMG "/usr/bin/qemu-img"
#define TOOL_TIMEOUT_MS 60000     /* metadata operations: a hang guard */

extern char **environ;

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool gw_run_tool(const char *const *argv, int64_t timeout_ms, char *msg,
                 size_t len)
{
    int pfd[2];
    msg[0] = 0;
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(msg, len, "pipe: %s", strerror(errno));
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        snprintf(msg, len, "cannot run %s: %s", argv[0], strerror(rc));
        return false;
    }
    size_t got = 0;
    int64_t deadline = ms_now() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        int left = (int)(deadline - ms_now());
        if (left <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        char tmp[512];
        ssize_t n = read(pfd[0], tmp, sizeof tmp);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && got + 1 < len; i++)
            msg[got++] = tmp[i] == '\n' ? ' ' : tmp[i];
        msg[got] = 0;
    }
    close(pfd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out) {
        snprintf(msg, len, "%s timed out", argv[0]);
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (!msg[0])
            snprintf(msg, len, "%s failed (status %d)", argv[0], status);
        return false;
    }
    return true;
}

static bool run(const char *const *argv, xg_err *err)
{
    char msg[512];
    if (gw_run_tool(argv, TOOL_TIMEOUT_MS, msg, sizeof msg))
        return true;
    XG_ERROR("storage", "%s %s: %s", argv[0], argv[1], msg);
    return xapi_err_sr_backend_failure(err, "1", "", msg);
}

bool gw_image_create(const char *path, int64_t size, xg_err *err)
{
    char sz[32];
    snprintf(sz, sizeof sz, "%" PRId64, size);
    const char *argv[] = {QEMU_IMG, "create", "-q", "-f", "qcow2", "-o",
                          "lazy_refcounts=on", path, sz, NULL};
    return run(argv, err);
}

/* Written directly (qcow2_overlay.c): no process per overlay. */
bool gw_image_overlay(const char *path, const char *backing_name, xg_err *err)
{
    char backing[700], msg[512];
    const char *slash = strrchr(path, '/');
    int dir = slash ? (int)(slash - path) : 0;
    snprintf(backing, sizeof backing, "%.*s%s%s", dir, path, slash ? "/" : "", backing_name);
    if (gw_qcow2_overlay(path, backing, backing_name, msg, sizeof msg))
        return true;
    XG_ERROR("storage", "overlay %s: %s", path, msg);
    return xapi_err_sr_backend_failure(err, "1", "", msg);
}

bool gw_image_resize(const char *path, int64_t size, xg_err *err)
{
    char sz[32];
    snprintf(sz, sizeof sz, "%" PRId64, size);
    const char *argv[] = {QEMU_IMG, "resize", "-q", "-f", "qcow2", path, sz, NULL};
    return run(argv, err);
}

bool gw_image_convert(const char *src, bool src_raw, const char *dst,
                      bool dst_fresh, char *msg, size_t len)
{
    const char *argv[] = {QEMU_IMG, "convert", "-n", "-f",
                          src_raw ? "raw" : "qcow2", "-O", "qcow2", src, dst,
                          dst_fresh ? "--target-is-zero" : NULL, NULL};
    return gw_run_tool(argv, GW_COPY_TIMEOUT_MS, msg, len);
}

/* Starts argv with its stdin (child_reads) or stdout connected to *fd. */
pid_t gw_spawn_piped(const char *const *argv, bool child_reads, int *fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (child_reads) {
        posix_spawn_file_actions_adddup2(&fa, p[0], 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    } else {
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    }
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(child_reads ? p[0] : p[1]);
    fcntl(child_reads ? p[1] : p[0], F_SETPIPE_SZ, 1 << 20);   /* fewer wake-ups */
    if (rc != 0) {
        close(child_reads ? p[1] : p[0]);
        return -1;
    }
    *fd = child_reads ? p[1] : p[0];
    return pid;
}

bool gw_image_info_json(const char *path, const char *fmt, char *out, size_t cap)
{
    const char *argv[] = {QEMU_IMG, "info", "--output=json", "-f", fmt, path, NULL};
    int fd;
    pid_t pid = gw_spawn_piped(argv, false, &fd);
    if (pid < 0 || cap == 0)
        return false;
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, out + n, cap - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    out[n] = 0;
    close(fd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && n < cap - 1;
}

bool gw_image_info(const char *path, int64_t *vsize, char *backing, size_t blen)
{
    char out[16384];
    if (!gw_image_info_json(path, "qcow2", out, sizeof out))
        return false;
    const char *v = strstr(out, "\"virtual-size\": ");
    if (!v || sscanf(v + 16, "%" SCNd64, vsize) != 1)
        return false;
    backing[0] = 0;
    const char *b = strstr(out, "\"backing-filename\": \"");
    if (b) {
        b += 21;
        const char *e = strchr(b, '"');
        if (!e || (size_t)(e - b) >= blen)
            return false;
        memcpy(backing, b, (size_t)(e - b));
        backing[e - b] = 0;
    }
    return !strstr(out, "\"data-file\"");
}

int64_t gw_image_allocated(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (int64_t)st.st_blocks * 512;
}
