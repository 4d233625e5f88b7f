/* nbd_stream.c: see nbd_stream.h.
 *
 * Why not nbdcopy: from a pipe it runs synchronously, one request at a
 * time, and every byte crosses two more copies (into the pipe, out of it)
 * and a third process; measured, that path was most of an import's time
 * (docs/PERFORMANCE.md). Here the worker reads the body straight into a
 * request buffer and keeps GW_NBD_DEPTH requests queued on the socket, whose
 * send buffer is raised so that they all fit: qemu-nbd works on one while
 * the worker receives the next, and no poll is needed to push them out. */
#include "nbd_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <libnbd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../server/log.h"
#include "gw.h"

#define ENV "/usr/bin/env"
#define QEMU_NBD "/usr/bin/qemu-nbd"
#define ZERO_GRAIN (64 * 1024)          /* qcow2's cluster size */
#define GRAINS (GW_NBD_REQUEST / ZERO_GRAIN)
#define STALL_MS (5 * 60 * 1000)        /* no request completes this long: I/O failure */
#define PROGRESS_EVERY (64LL << 20)
#define SOCK_BUF (GW_NBD_REQUEST * (GW_NBD_DEPTH + 1))
#define BUFS_SIZE ((size_t)GW_NBD_REQUEST * GW_NBD_DEPTH)

struct slot {
    char *buf;
    int64_t off;
    size_t len;
    int64_t cookie[GRAINS];             /* commands filling or draining buf */
    int ncookies;
};

struct gw_nbd {
    struct nbd_handle *h;
    int64_t size;
    bool writable, can_zero;
    struct slot slot[GW_NBD_DEPTH];
};

static bool nbd_failed(xg_err *err, const char *what)
{
    XG_WARN("storage", "%s: %s", what, nbd_get_error() ? nbd_get_error() : "failed");
    return xapi_err_vdi_io_error(err, "Device I/O errors");
}

/* Room for every request in flight in the socket itself: qemu-nbd reads a
 * request whole and the worker never waits to push one out. Raised above
 * the system maximum where we may (root), else as far as it allows. */
static void widen_socket(struct nbd_handle *h)
{
    int fd = nbd_aio_get_fd(h), sz = SOCK_BUF;
    if (fd < 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

/* The filesystem of path takes O_DIRECT (tmpfs, for one, does not). */
static bool direct_io_works(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

struct gw_nbd *gw_nbd_open(const char *path, const char *format, bool writable, xg_err *err)
{
    struct gw_nbd *n = calloc(1, sizeof *n);
    if (!n) {
        xg_err_internal(err, "out of memory");
        return NULL;
    }
    n->writable = writable;
    /* mapped, not malloc'ed: the worker thread's malloc arena would keep
     * the 4 MiB after the transfer (the gateway's RSS stayed 8 MiB higher) */
    char *bufs = mmap(NULL, BUFS_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (bufs == MAP_FAILED) {
        xg_err_internal(err, "out of memory");
        free(n);
        return NULL;
    }
    for (int i = 0; i < GW_NBD_DEPTH; i++)
        n->slot[i].buf = bufs + (size_t)i * GW_NBD_REQUEST;
    /* qemu-nbd's default cache mode writes through every request; the
     * final flush makes the data durable instead. Writes bypass the page
     * cache (O_DIRECT) where the filesystem allows it: copying each byte
     * into the page cache was most of qemu-nbd's time, and the data goes
     * to the disk anyway (1 GiB into qcow2: 1.7-1.9 s with the page cache,
     * 0.9-1.1 s without, sync included). qemu-nbd allocates a
     * bounce buffer per request: at 1 MiB glibc would mmap, fault in and
     * unmap each one (a fifth of its time, measured); a higher mmap
     * threshold keeps them in its heap. env execs in place, so qemu-nbd
     * keeps the pid that socket activation names. */
    const char *mode = !writable ? "-r" : direct_io_works(path) ? "--cache=none"
                                                                 : "--cache=writeback";
    char *argv[] = {ENV, "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432", QEMU_NBD,
                    "-f", (char *)format, (char *)mode, (char *)path, NULL};
    n->h = nbd_create();
    if (!n->h || nbd_connect_systemd_socket_activation(n->h, argv) != 0) {
        nbd_failed(err, "cannot start qemu-nbd");
        gw_nbd_close(n, false);
        return NULL;
    }
    widen_socket(n->h);
    n->size = nbd_get_size(n->h);
    n->can_zero = nbd_can_zero(n->h) == 1;
    if (n->size < 0) {
        nbd_failed(err, "qemu-nbd");
        gw_nbd_close(n, false);
        return NULL;
    }
    return n;
}

int64_t gw_nbd_size(const struct gw_nbd *n)
{
    return n->size;
}

/* Waits for every command of s; false (err set) if one failed or nothing
 * moved for STALL_MS. */
static bool slot_wait(struct gw_nbd *n, struct slot *s, xg_err *err)
{
    bool ok = true;
    for (int i = 0; i < s->ncookies; i++) {
        int r;
        while ((r = nbd_aio_command_completed(n->h, (uint64_t)s->cookie[i])) == 0) {
            int p = nbd_poll(n->h, STALL_MS);
            if (p == 0) {
                XG_WARN("storage", "qemu-nbd answered nothing for %d s", STALL_MS / 1000);
                nbd_kill_subprocess(n->h, SIGKILL);
            }
            if (p <= 0) {
                r = -1;
                break;
            }
        }
        if (r < 0 && ok)
            ok = nbd_failed(err, "qemu-nbd request");
    }
    s->ncookies = 0;
    return ok;
}

/* Replies already in: handled without waiting. */
static void pump(struct gw_nbd *n)
{
    while (nbd_poll(n->h, 0) > 0)
        ;
}

static bool all_zero(const char *p, size_t len)
{
    return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* Queues s->len bytes of s->buf at s->off: runs of whole zero grains as
 * zero writes (left unallocated), the rest as data. */
static bool slot_write(struct gw_nbd *n, struct slot *s, xg_err *err)
{
    size_t at = 0;
    while (at < s->len) {
        bool zero = n->can_zero && all_zero(s->buf + at, s->len - at < ZERO_GRAIN
                                                             ? s->len - at : ZERO_GRAIN);
        size_t end = at;
        do {
            size_t g = s->len - end < ZERO_GRAIN ? s->len - end : ZERO_GRAIN;
            if (end > at && n->can_zero && all_zero(s->buf + end, g) != zero)
                break;
            end += g;
        } while (end < s->len);
        int64_t c = zero ? nbd_aio_zero(n->h, end - at, (uint64_t)(s->off + (int64_t)at),
                                        NBD_NULL_COMPLETION, 0)
                         : nbd_aio_pwrite(n->h, s->buf + at, end - at,
                                          (uint64_t)(s->off + (int64_t)at),
                                          NBD_NULL_COMPLETION, 0);
        if (c < 0)
            return nbd_failed(err, "qemu-nbd write");
        s->cookie[s->ncookies++] = c;
        at = end;
    }
    pump(n);
    return true;
}

/* Fills buf with up to cap body bytes: fewer only at the end of the body.
 * -1 if the client stopped sending. */
static ssize_t read_full(xg_http_ex *x, char *buf, size_t cap)
{
    size_t have = 0;
    while (have < cap) {
        ssize_t r = xg_http_read(x, buf + have, cap - have);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        have += (size_t)r;
    }
    return (ssize_t)have;
}

bool gw_nbd_from_http(struct gw_nbd *n, xg_http_ex *x, int64_t limit, const char *vdi_ref,
                      gw_nbd_progress_fn *progress, void *ctx, int64_t *got, xg_err *err)
{
    int64_t off = 0, next_progress = PROGRESS_EVERY;
    bool ok = true;
    for (int i = 0; ok; i = (i + 1) % GW_NBD_DEPTH) {
        struct slot *s = &n->slot[i];
        if (!slot_wait(n, s, err)) {
            ok = false;
            break;
        }
        ssize_t r = read_full(x, s->buf, GW_NBD_REQUEST);
        if (r < 0) {
            ok = xapi_err_vdi_io_error(err, "the client stopped sending");
            break;
        }
        if (r == 0)
            break;
        if (off + r > limit) {
            ok = xapi_err_vdi_too_small(err, vdi_ref, "");
            break;
        }
        s->off = off;
        s->len = (size_t)r;
        ok = slot_write(n, s, err);
        off += r;
        if (off >= next_progress && progress) {
            next_progress = off + PROGRESS_EVERY;
            progress(ctx, off);
        }
    }
    for (int i = 0; i < GW_NBD_DEPTH; i++)
        if (!slot_wait(n, &n->slot[i], err))
            ok = false;
    *got = off;
    return ok;
}

/* Queues the read of the next range of the image into s. */
static bool slot_read(struct gw_nbd *n, struct slot *s, int64_t *queued, int64_t size,
                      xg_err *err)
{
    s->off = *queued;
    s->len = size - *queued < GW_NBD_REQUEST ? (size_t)(size - *queued) : GW_NBD_REQUEST;
    int64_t c = nbd_aio_pread(n->h, s->buf, s->len, (uint64_t)s->off, NBD_NULL_COMPLETION, 0);
    if (c < 0)
        return nbd_failed(err, "qemu-nbd read");
    s->cookie[0] = c;
    s->ncookies = 1;
    *queued += (int64_t)s->len;
    return true;
}

bool gw_nbd_to_http(struct gw_nbd *n, xg_http_ex *x, int64_t size,
                    gw_nbd_progress_fn *progress, void *ctx, xg_err *err)
{
    if (size > n->size)
        return xapi_err_vdi_io_error(err, "Device I/O errors");
    int64_t queued = 0, sent = 0, next_progress = PROGRESS_EVERY;
    bool ok = true;
    /* GW_NBD_DEPTH reads ahead, sent in ring order; a sent buffer is
     * refilled with the range after the last one queued. Holes come back
     * from qemu-nbd as structured-reply hole chunks: no data crosses the
     * socket for them. */
    for (int i = 0; ok && i < GW_NBD_DEPTH && queued < size; i++)
        ok = slot_read(n, &n->slot[i], &queued, size, err);
    for (int i = 0; ok && sent < size; i = (i + 1) % GW_NBD_DEPTH) {
        struct slot *s = &n->slot[i];
        if (!slot_wait(n, s, err)) {
            ok = false;
        } else if (!xg_http_write(x, s->buf, s->len)) {
            ok = xapi_err_vdi_io_error(err, "the client stopped reading");
        } else {
            sent += (int64_t)s->len;
            if (queued < size)
                ok = slot_read(n, s, &queued, size, err);
            if (sent >= next_progress && progress) {
                next_progress = sent + PROGRESS_EVERY;
                progress(ctx, sent);
            }
        }
    }
    for (int i = 0; i < GW_NBD_DEPTH; i++)
        if (!slot_wait(n, &n->slot[i], err))
            ok = false;
    return ok;
}

bool gw_nbd_close(struct gw_nbd *n, bool ok)
{
    if (!n)
        return ok;
    if (n->h) {
        if (ok && n->writable && nbd_flush(n->h, 0) != 0) {
            XG_WARN("storage", "qemu-nbd flush: %s", nbd_get_error());
            ok = false;
        }
        if (ok)
            nbd_shutdown(n->h, 0);
        else
            nbd_kill_subprocess(n->h, SIGKILL);
        nbd_close(n->h);            /* reaps qemu-nbd */
    }
    munmap(n->slot[0].buf, BUFS_SIZE);
    free(n);
    return ok;
}
