/* lx_qmp.c: the one thing libxl cannot do for us with a disk: switch a
 * running device model (the qemu-system-xen libxl started as a domain's
 * qdisk backend) to a new copy-on-write overlay, for a live VDI snapshot.
 * It speaks QMP on libxl's own monitor socket of the domain
 * (<run dir>/qmp-libxl-<domid>): query-block finds the disk's active node by
 * the image it has open, blockdev-snapshot-sync (mode "existing") makes the
 * given overlay the new top; qemu drains in-flight I/O first, so the old
 * image is a crash-consistent point in time.
 * Everything from the socket is bounded (line length, time). Blocking: the
 * caller is on a worker without the world lock. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "lx_internal.h"

#define QMP_RUN_DIR "/var/run/xen"
#define QMP_LINE_MAX (256 * 1024)
#define QMP_TIMEOUT_MS 30000

struct qmp {
    int fd;
    int64_t deadline_ms;
    char *buf;                  /* QMP_LINE_MAX + 1 */
    size_t len;                 /* bytes buffered */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool wait_fd(struct qmp *q, short ev, xg_err *err)
{
    for (;;) {
        int64_t left = q->deadline_ms - now_ms();
        if (left <= 0)
            return xg_err_internal(err, "device model: no answer in time");
        struct pollfd p = {q->fd, ev, 0};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return xg_err_internal(err, "device model: poll: %s", strerror(errno));
    }
}

static bool send_all(struct qmp *q, const char *s, xg_err *err)
{
    size_t n = strlen(s);
    while (n) {
        if (!wait_fd(q, POLLOUT, err))
            return false;
        ssize_t w = send(q->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return xg_err_internal(err, "device model: send: %s", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* The next line (without its "\r\n"), NUL-terminated in q->buf; consumed
 * by the following call. */
static char *read_line(struct qmp *q, size_t *consumed, xg_err *err)
{
    if (*consumed) {
        memmove(q->buf, q->buf + *consumed, q->len - *consumed);
        q->len -= *consumed;
        *consumed = 0;
    }
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        if (nl) {
            *nl = 0;
            *consumed = (size_t)(nl - q->buf) + 1;
            if (nl > q->buf && nl[-1] == '\r')
                nl[-1] = 0;
            return q->buf;
        }
        if (q->len == QMP_LINE_MAX) {
            xg_err_internal(err, "device model: answer longer than %d bytes", QMP_LINE_MAX);
            return NULL;
        }
        if (!wait_fd(q, POLLIN, err))
            return NULL;
        ssize_t r = recv(q->fd, q->buf + q->len, QMP_LINE_MAX - q->len, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0) {
            xg_err_internal(err, "device model: monitor closed");
            return NULL;
        }
        q->len += (size_t)r;
    }
}

static yajl_val member(yajl_val obj, const char *key)
{
    const char *path[] = {key, NULL};
    return obj ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

/* Runs one command (a JSON object text); *ret gets the parsed answer (free
 * with yajl_tree_free), whose "return" member holds the result. */
static bool qmp_exec(struct qmp *q, const char *cmd, yajl_val *ret, xg_err *err)
{
    *ret = NULL;
    if (!send_all(q, cmd, err))
        return false;
    size_t consumed = 0;
    for (int lines = 0; lines < 1000; lines++) {
        char *line = read_line(q, &consumed, err);
        if (!line)
            return false;
        char ebuf[128];
        yajl_val v = yajl_tree_parse(line, ebuf, sizeof ebuf);
        if (!v || !YAJL_IS_OBJECT(v)) {
            yajl_tree_free(v);
            return xg_err_internal(err, "device model: unreadable answer");
        }
        yajl_val e = member(v, "error");
        if (e) {
            yajl_val desc = member(e, "desc");
            xg_err_internal(err, "device model: %.200s",
                            YAJL_IS_STRING(desc) ? YAJL_GET_STRING(desc) : "error");
            yajl_tree_free(v);
            return false;
        }
        if (member(v, "return")) {
            memmove(q->buf, q->buf + consumed, q->len - consumed);
            q->len -= consumed;
            *ret = v;
            return true;
        }
        yajl_tree_free(v);          /* an event: not ours */
    }
    return xg_err_internal(err, "device model: no answer among its events");
}

static bool qmp_open(struct qmp *q, uint32_t domid, xg_err *err)
{
    memset(q, 0, sizeof *q);
    q->fd = -1;
    q->deadline_ms = now_ms() + QMP_TIMEOUT_MS;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, QMP_RUN_DIR "/qmp-libxl-%" PRIu32, domid);
    q->buf = malloc(QMP_LINE_MAX + 1);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (!q->buf || q->fd < 0)
        return xg_err_internal(err, "device model: out of resources");
    if (connect(q->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
        return xg_err_internal(err, "domain %" PRIu32 " has no device model monitor: %s",
                               domid, strerror(errno));
    /* the greeting, then capabilities negotiation */
    size_t consumed = 0;
    if (!read_line(q, &consumed, err))
        return false;
    memmove(q->buf, q->buf + consumed, q->len - consumed);
    q->len -= consumed;
    yajl_val r;
    if (!qmp_exec(q, "{\"execute\":\"qmp_capabilities\"}\n", &r, err))
        return false;
    yajl_tree_free(r);
    return true;
}

static void qmp_close(struct qmp *q)
{
    if (q->fd >= 0)
        close(q->fd);
    free(q->buf);
}

/* s as a JSON string body; false if it has characters we never put in a
 * path (quotes, backslashes, control characters). */
static bool plain(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return false;
    return true;
}

/* The node name of the active layer of the one disk whose top image is
 * image, or whose top is an earlier overlay (file name starting with
 * prefix). More than one such disk (an HVM guest's emulated and PV views
 * of one image) is refused: switching one would corrupt the other. */
static bool find_node(struct qmp *q, const char *image, const char *prefix,
                      char *node, size_t len, xg_err *err)
{
    yajl_val r;
    if (!qmp_exec(q, "{\"execute\":\"query-block\"}\n", &r, err))
        return false;
    yajl_val arr = member(r, "return");
    int found = 0;
    for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
        yajl_val ins = member(arr->u.array.values[i], "inserted");
        yajl_val file = member(ins, "file"), name = member(ins, "node-name");
        if (!YAJL_IS_STRING(file) || !YAJL_IS_STRING(name))
            continue;
        const char *f = YAJL_GET_STRING(file);
        if (strcmp(f, image) == 0 || strncmp(f, prefix, strlen(prefix)) == 0) {
            snprintf(node, len, "%s", YAJL_GET_STRING(name));
            found++;
        }
    }
    yajl_tree_free(r);
    if (found == 1)
        return true;
    if (found)
        return xg_err_internal(err, "%d devices have %s open", found, image);
    return xg_err_internal(err, "the device model has no disk %s open", image);
}

bool lx_disk_snapshot(struct xg_drv *d, uint32_t domid, const char *image,
                      const char *prefix, const char *overlay, xg_err *err)
{
    (void)d;
    if (domid == 0 || domid >= LX_DOMID_LIMIT)
        return xg_err_internal(err, "disk snapshot: bad domain %" PRIu32, domid);
    if (!plain(image) || !plain(prefix) || !plain(overlay) || strlen(overlay) > 900)
        return xg_err_internal(err, "disk snapshot: unusable path");
    struct qmp q;
    char node[128], snap[40], cmd[1200];
    bool ok = qmp_open(&q, domid, err) &&
              find_node(&q, image, prefix, node, sizeof node, err) && plain(node);
    if (ok) {
        unsigned char rnd[8] = {0};
        FILE *f = fopen("/dev/urandom", "rbe");
        if (!f || fread(rnd, 1, sizeof rnd, f) != sizeof rnd)
            ok = xg_err_internal(err, "disk snapshot: no random bytes");
        if (f)
            fclose(f);
        snprintf(snap, sizeof snap, "xg-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    }
    yajl_val r = NULL;
    if (ok) {
        snprintf(cmd, sizeof cmd,
                 "{\"execute\":\"blockdev-snapshot-sync\",\"arguments\":{\"node-name\":\"%s\","
                 "\"snapshot-file\":\"%s\",\"snapshot-node-name\":\"%s\",\"format\":\"qcow2\","
                 "\"mode\":\"existing\"}}\n", node, overlay, snap);
        ok = qmp_exec(&q, cmd, &r, err);
    }
    yajl_tree_free(r);
    qmp_close(&q);
    return ok;
}
