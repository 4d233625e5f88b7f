/* xva_tar.c: the ustar headers of XVA archives, written and read. Pure:
 * no I/O, no store. Only what XAPI writes is read (regular files with
 * octal sizes); everything else is refused rather than interpreted. */
#include "xva.h"

#include <stdio.h>
#include <string.h>

static unsigned header_sum(const unsigned char *h)
{
    unsigned sum = 0;
    for (int i = 0; i < XVA_TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum;
}

void xva_tar_header(char hdr[XVA_TAR_BLOCK], const char *name, uint64_t size)
{
    memset(hdr, 0, XVA_TAR_BLOCK);
    snprintf(hdr, 100, "%s", name);
    memcpy(hdr + 100, "0000644", 8);                     /* mode */
    memcpy(hdr + 108, "0000000", 8);                     /* uid */
    memcpy(hdr + 116, "0000000", 8);                     /* gid */
    snprintf(hdr + 124, 12, "%011llo", (unsigned long long)size);
    snprintf(hdr + 136, 12, "%011o", 0u);                /* mtime */
    hdr[156] = '0';
    memcpy(hdr + 257, "ustar", 6);
    memcpy(hdr + 263, "00", 2);
    xva_tar_seal(hdr);
}

void xva_tar_seal(char hdr[XVA_TAR_BLOCK])
{
    unsigned sum = header_sum((const unsigned char *)hdr);
    snprintf(hdr + 148, 8, "%06o", sum);                 /* then NUL, space */
    hdr[155] = ' ';
}

/* An octal field: digits, optionally space/NUL padded on both sides. */
static bool octal(const char *f, size_t len, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < len && f[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 60)
            return false;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < len; i++)
        if (f[i] != ' ' && f[i] != 0)
            return false;
    *out = v;
    return digits > 0;
}

enum xva_tar_kind xva_tar_parse(const char hdr[XVA_TAR_BLOCK],
                                char name[XVA_NAME_MAX], uint64_t *size,
                                char *msg, size_t msglen)
{
    const unsigned char *h = (const unsigned char *)hdr;
    bool zero = true;
    for (int i = 0; i < XVA_TAR_BLOCK && zero; i++)
        zero = h[i] == 0;
    if (zero)
        return XVA_TAR_END;
    uint64_t sum;
    if (!octal(hdr + 148, 8, &sum) || sum != header_sum(h)) {
        snprintf(msg, msglen, "not a tar header (bad checksum)");
        return XVA_TAR_BAD;
    }
    if (memcmp(hdr + 257, "ustar", 5) != 0) {
        snprintf(msg, msglen, "not a ustar header");
        return XVA_TAR_BAD;
    }
    if (hdr[156] != '0' && hdr[156] != 0) {
        snprintf(msg, msglen, "tar member of type '%c' (only files are read)",
                 hdr[156] >= 32 && hdr[156] < 127 ? hdr[156] : '?');
        return XVA_TAR_BAD;
    }
    if (!octal(hdr + 124, 12, size)) {
        snprintf(msg, msglen, "tar member with an unreadable size");
        return XVA_TAR_BAD;
    }
    size_t plen = strnlen(hdr + 345, 155), nlen = strnlen(hdr, 100);
    if (plen) {
        memcpy(name, hdr + 345, plen);
        name[plen] = '/';
        memcpy(name + plen + 1, hdr, nlen);
        name[plen + 1 + nlen] = 0;
    } else {
        memcpy(name, hdr, nlen);
        name[nlen] = 0;
    }
    if (!name[0]) {
        snprintf(msg, msglen, "tar member without a name");
        return XVA_TAR_BAD;
    }
    return XVA_TAR_FILE;
}
