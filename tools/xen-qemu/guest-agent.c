/* guest-agent.c: the test guest's stand-in for xen-guest-agent: writes
 * key/value pairs under the guest's own xenstore home (relative paths, e.g.
 * attr/vif/0/ipv4/0) through the xenbus device, with the xenstore wire
 * protocol (struct xsd_sockmsg + "path\0value", XS_WRITE). Built static by
 * build-image.sh for the busybox initramfs, which has no xenstore tools.
 * Usage: xg-agent PATH VALUE [PATH VALUE]... ; exit 0 when every write was
 * acknowledged. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define XS_WRITE 11u
#define XS_ERROR 16u

struct msg_hdr {
    uint32_t type, req_id, tx_id, len;
};

static int full_write(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int xs_write(int fd, uint32_t id, const char *path, const char *value)
{
    char body[4096];
    size_t pl = strlen(path) + 1, vl = strlen(value);
    if (pl + vl > sizeof body)
        return -1;
    memcpy(body, path, pl);
    memcpy(body + pl, value, vl);
    struct msg_hdr h = {XS_WRITE, id, 0, (uint32_t)(pl + vl)};
    /* the xenbus device takes one whole message per write */
    char out[sizeof h + sizeof body];
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, body, pl + vl);
    if (full_write(fd, out, sizeof h + pl + vl) != 0)
        return -1;
    struct msg_hdr r;
    char reply[256];
    if (read(fd, &r, sizeof r) != (ssize_t)sizeof r || r.len > sizeof reply)
        return -1;
    if (r.len && read(fd, reply, r.len) != (ssize_t)r.len)
        return -1;
    return r.type == XS_ERROR ? -1 : 0;
}

int main(int argc, char **argv)
{
    int fd = open("/dev/xen/xenbus", O_RDWR);
    if (fd < 0)
        fd = open("/proc/xen/xenbus", O_RDWR);
    if (fd < 0) {
        perror("xg-agent: xenbus");
        return 1;
    }
    int rc = 0;
    for (int i = 1; i + 1 < argc; i += 2)
        if (xs_write(fd, (uint32_t)i, argv[i], argv[i + 1]) != 0) {
            fprintf(stderr, "xg-agent: write %s failed\n", argv[i]);
            rc = 1;
        }
    close(fd);
    return rc;
}
