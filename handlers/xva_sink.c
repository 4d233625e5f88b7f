/* xva_sink.c: an export's bytes to the client, optionally compressed.
 * Memory is two fixed buffers whatever the archive's size; compression
 * runs on the HTTP worker that streams the export. */
#include "xva_sink.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define OUT_BUF (256 * 1024)

struct xva_sink {
    xg_http_ex *x;
    enum xva_compression c;
    bool failed;
    z_stream z;
    ZSTD_CCtx *zc;
    unsigned char out[OUT_BUF];
};

enum xva_compression xva_compression_parse(const char *s)
{
    if (!s[0] || strcmp(s, "false") == 0)
        return XVA_PLAIN;
    if (strcmp(s, "true") == 0 || strcmp(s, "gzip") == 0)
        return XVA_GZIP;
    if (strcmp(s, "zstd") == 0)
        return XVA_ZSTD;
    return XVA_COMPRESSION_BAD;
}

struct xva_sink *xva_sink_new(xg_http_ex *x, enum xva_compression c)
{
    struct xva_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->x = x;
    s->c = c;
    if (c == XVA_GZIP &&
        deflateInit2(&s->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(s);
        return NULL;
    }
    if (c == XVA_ZSTD) {
        s->zc = ZSTD_createCCtx();
        if (!s->zc) {
            free(s);
            return NULL;
        }
        /* level 1 and 2 worker-free: a disk compresses at disk speed */
        ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, 1);
        ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1);
    }
    return s;
}

static bool put(struct xva_sink *s, const void *p, size_t n)
{
    if (!s->failed && n && !xg_http_write(s->x, p, n))
        s->failed = true;
    return !s->failed;
}

static bool gz(struct xva_sink *s, const void *p, size_t n, int flush)
{
    s->z.next_in = (unsigned char *)(uintptr_t)p;
    s->z.avail_in = (uInt)n;
    int rc;
    do {
        s->z.next_out = s->out;
        s->z.avail_out = OUT_BUF;
        rc = deflate(&s->z, flush);
        if (rc == Z_STREAM_ERROR)
            return s->failed = true, false;
        if (!put(s, s->out, OUT_BUF - s->z.avail_out))
            return false;
    } while (s->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return true;
}

static bool zs(struct xva_sink *s, const void *p, size_t n, ZSTD_EndDirective end)
{
    ZSTD_inBuffer in = {p, n, 0};
    size_t left;
    do {
        ZSTD_outBuffer out = {s->out, OUT_BUF, 0};
        left = ZSTD_compressStream2(s->zc, &out, &in, end);
        if (ZSTD_isError(left))
            return s->failed = true, false;
        if (!put(s, s->out, out.pos))
            return false;
    } while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
    return true;
}

bool xva_sink_write(struct xva_sink *s, const void *p, size_t n)
{
    if (s->failed)
        return false;
    switch (s->c) {
    case XVA_GZIP:
        return gz(s, p, n, Z_NO_FLUSH);
    case XVA_ZSTD:
        return zs(s, p, n, ZSTD_e_continue);
    default:
        return put(s, p, n);
    }
}

bool xva_sink_finish(struct xva_sink *s)
{
    if (s->failed)
        return false;
    if (s->c == XVA_GZIP)
        return gz(s, NULL, 0, Z_FINISH);
    if (s->c == XVA_ZSTD)
        return zs(s, NULL, 0, ZSTD_e_end);
    return true;
}

void xva_sink_free(struct xva_sink *s)
{
    if (!s)
        return;
    if (s->c == XVA_GZIP)
        deflateEnd(&s->z);
    ZSTD_freeCCtx(s->zc);
    free(s);
}
