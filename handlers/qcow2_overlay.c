/* qcow2_overlay.c: writes an empty qcow2 (version 3) image over a backing
 * qcow2 file: what `qemu-img create -f qcow2 -F qcow2 -b BASE NEW` makes,
 * without a process. A snapshot or clone makes two overlays per disk; two
 * qemu-img runs per disk put a 4-disk VM.snapshot at ~200 ms, nearly all
 * process start-up, for four clusters of metadata that the format
 * specification (qemu docs/interop/qcow2.txt) fixes completely. Reading
 * and writing data stays qemu's.
 *
 * Layout, 64 KiB clusters: 0 header + backing-format extension + backing
 * name; 1 refcount table (one entry); 2 refcount block (16-bit counts);
 * 3.. the L1 table, all zero (nothing allocated: every read goes to the
 * backing file). The virtual size is the backing image's, read from its
 * header. Any thread; no lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../server/log.h"
#include "storage.h"

#define CLUSTER_BITS 16
#define CLUSTER (1u << CLUSTER_BITS)
#define QCOW2_MAGIC 0x514649fbu
#define EXT_BACKING_FORMAT 0xe2792acau
#define HEADER_LEN 104u

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void be64(unsigned char *p, uint64_t v)
{
    be32(p, (uint32_t)(v >> 32));
    be32(p + 4, (uint32_t)v);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The virtual size in a qcow2 header; false if path is not qcow2. */
static bool backing_size(const char *path, uint64_t *size)
{
    unsigned char h[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = pread(fd, h, sizeof h, 0);
    close(fd);
    if (n != (ssize_t)sizeof h || rd64(h) >> 32 != QCOW2_MAGIC)
        return false;
    *size = rd64(h + 24);
    return *size > 0 && *size <= (uint64_t)GW_VDI_MAX_SIZE;
}

static bool write_all(int fd, const unsigned char *p, size_t n, off_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return true;
}

bool gw_qcow2_overlay(const char *path, const char *backing_path,
                      const char *backing_name, char *msg, size_t len)
{
    uint64_t size;
    size_t name_len = strlen(backing_name);
    if (!backing_size(backing_path, &size)) {
        snprintf(msg, len, "%s is not a qcow2 image", backing_path);
        return false;
    }
    if (name_len == 0 || name_len > 1023) {
        snprintf(msg, len, "backing file name too long");
        return false;
    }
    /* one L1 entry maps CLUSTER/8 clusters */
    uint64_t per_l1 = (uint64_t)CLUSTER * (CLUSTER / 8);
    uint64_t l1_size = (size + per_l1 - 1) / per_l1;
    uint64_t l1_clusters = (l1_size * 8 + CLUSTER - 1) / CLUSTER;
    uint64_t nclusters = 3 + l1_clusters;
    size_t meta = 3 * CLUSTER;
    unsigned char *buf = calloc(1, meta);
    if (!buf) {
        snprintf(msg, len, "out of memory");
        return false;
    }
    unsigned char *h = buf;
    /* header: the backing format extension follows it, then the name */
    size_t ext_off = HEADER_LEN, fmt_len = 5;       /* "qcow2" */
    size_t end_ext = ext_off + 8 + ((fmt_len + 7) & ~(size_t)7);
    size_t name_off = end_ext + 8;
    be32(h, QCOW2_MAGIC);
    be32(h + 4, 3);
    be64(h + 8, name_off);
    be32(h + 16, (uint32_t)name_len);
    be32(h + 20, CLUSTER_BITS);
    be64(h + 24, size);
    be32(h + 36, (uint32_t)l1_size);
    be64(h + 40, 3ull * CLUSTER);                   /* L1 table */
    be64(h + 48, 1ull * CLUSTER);                   /* refcount table */
    be32(h + 56, 1);                                /* its clusters */
    be32(h + 96, 4);                                /* refcount_order: 16 bits */
    be32(h + 100, HEADER_LEN);
    be32(h + ext_off, EXT_BACKING_FORMAT);
    be32(h + ext_off + 4, (uint32_t)fmt_len);
    memcpy(h + ext_off + 8, "qcow2", fmt_len);
    /* end of extensions: type 0, length 0 (already zero) */
    memcpy(h + name_off, backing_name, name_len);
    be64(buf + CLUSTER, 2ull * CLUSTER);            /* refcount block */
    for (uint64_t i = 0; i < nclusters; i++)        /* each used cluster: 1 */
        buf[2 * CLUSTER + 2 * i + 1] = 1;
    bool ok = false;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(msg, len, "cannot create %s: %s", path, strerror(errno));
    } else {
        /* the L1 clusters are zeros: sized, not written */
        ok = write_all(fd, buf, meta, 0) &&
             ftruncate(fd, (off_t)(nclusters * CLUSTER)) == 0;
        if (close(fd) != 0)
            ok = false;
        if (!ok) {
            snprintf(msg, len, "cannot write %s: %s", path, strerror(errno));
            unlink(path);
        }
    }
    free(buf);
    return ok;
}
