/* random.c: see random.h. */
#include "random.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"

void xg_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        /* ENOSYS, EFAULT, …: no CSPRNG, nothing safe to hand out */
        XG_ERROR("random", "getrandom failed: %s", r < 0 ? strerror(errno) : "no bytes");
        fprintf(stderr, "xapi-gateway: getrandom failed: %s\n",
                r < 0 ? strerror(errno) : "no bytes");
        abort();
    }
}

void xg_random_uuid(char out[37])
{
    unsigned char b[16];
    xg_random_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);    /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);    /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
}
