/* xva_source.c: an XVA upload, decompressed on the fly when it is gzip or
 * zstd (XAPI: "if the first 512 bytes do not parse as tar, check for zstd,
 * else assume gzip"; we check both magics and read anything else as
 * plain tar, which then fails on its header). Memory: one input buffer and
 * the decompressor's window, whatever the archive's size. */
#include "xva_source.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "xva.h"

#define IN_BUF (256 * 1024)

enum mode { M_UNKNOWN, M_PLAIN, M_GZIP, M_ZSTD };

struct xva_source {
    xg_http_ex *x;
    enum mode mode;
    bool eof, ended, corrupt;
    long long consumed;
    z_stream z;
    ZSTD_DCtx *zd;
    size_t in_pos, in_len;
    unsigned char in[IN_BUF];
};

struct xva_source *xva_source_new(xg_http_ex *x)
{
    struct xva_source *s = calloc(1, sizeof *s);
    if (s)
        s->x = x;
    return s;
}

void xva_source_free(struct xva_source *s)
{
    if (!s)
        return;
    if (s->mode == M_GZIP)
        inflateEnd(&s->z);
    ZSTD_freeDCtx(s->zd);
    free(s);
}

long long xva_source_consumed(const struct xva_source *s)
{
    return s->consumed;
}

/* Refills the input buffer when empty; false at the end of the body. */
static bool fill(struct xva_source *s)
{
    if (s->in_pos < s->in_len)
        return true;
    if (s->eof)
        return false;
    ssize_t n = xg_http_read(s->x, s->in, IN_BUF);
    if (n <= 0) {
        s->eof = true;
        return false;
    }
    s->in_pos = 0;
    s->in_len = (size_t)n;
    s->consumed += n;
    return true;
}

/* The first bytes decide: zstd and gzip magics, else plain. */
static bool detect(struct xva_source *s)
{
    while (s->in_len < 4 && !s->eof) {
        ssize_t n = xg_http_read(s->x, s->in + s->in_len, IN_BUF - s->in_len);
        if (n <= 0)
            s->eof = true;
        else
            s->in_len += (size_t)n, s->consumed += n;
    }
    static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    if (s->in_len >= 4 && memcmp(s->in, zstd_magic, 4) == 0) {
        s->zd = ZSTD_createDCtx();
        if (!s->zd)
            return false;
        /* a window beyond 128 MiB is refused: bounded memory */
        ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, 27);
        s->mode = M_ZSTD;
    } else if (s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
        if (inflateInit2(&s->z, 15 + 16) != Z_OK)
            return false;
        s->mode = M_GZIP;
    } else {
        s->mode = M_PLAIN;
    }
    return true;
}

/* Up to n decompressed bytes; 0 at the end (or on corruption, flagged). */
static size_t produce(struct xva_source *s, unsigned char *buf, size_t n)
{
    if (s->ended || !fill(s))
        return 0;
    if (s->mode == M_PLAIN) {
        size_t k = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
        memcpy(buf, s->in + s->in_pos, k);
        s->in_pos += k;
        return k;
    }
    for (;;) {
        size_t got;
        if (s->mode == M_GZIP) {
            s->z.next_in = s->in + s->in_pos;
            s->z.avail_in = (uInt)(s->in_len - s->in_pos);
            s->z.next_out = buf;
            s->z.avail_out = (uInt)n;
            int rc = inflate(&s->z, Z_NO_FLUSH);
            s->in_pos = s->in_len - s->z.avail_in;
            got = n - s->z.avail_out;
            if (rc == Z_STREAM_END)
                s->ended = true;
            else if (rc != Z_OK && rc != Z_BUF_ERROR)
                return s->corrupt = true, s->ended = true, 0;
        } else {
            ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
            ZSTD_outBuffer out = {buf, n, 0};
            size_t rc = ZSTD_decompressStream(s->zd, &out, &in);
            s->in_pos = in.pos;
            got = out.pos;
            if (ZSTD_isError(rc))
                return s->corrupt = true, s->ended = true, 0;
        }
        if (got || s->ended || !fill(s))
            return got;
    }
}

bool xva_source_read(struct xva_source *s, void *buf, size_t n, bool *corrupt)
{
    if (s->mode == M_UNKNOWN && !detect(s)) {
        *corrupt = true;
        return false;
    }
    unsigned char *p = buf;
    while (n) {
        size_t k = produce(s, p, n);
        if (!k) {
            *corrupt = s->corrupt;
            return false;
        }
        p += k;
        n -= k;
    }
    return true;
}
