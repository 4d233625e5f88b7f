/* xva_sink.h: the byte stream of an export, whole-archive compressed as
 * XAPI's use_compression asks (gzip through zlib, zstd through libzstd),
 * written to the client in bounded pieces (xva_sink.c). HTTP worker
 * thread; no world lock. */
#ifndef XG_XVA_SINK_H
#define XG_XVA_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "../server/http_routes.h"

enum xva_compression { XVA_PLAIN, XVA_GZIP, XVA_ZSTD, XVA_COMPRESSION_BAD };

/* use_compression=true|gzip → gzip, zstd → zstd, false or "" → none. */
enum xva_compression xva_compression_parse(const char *s);

struct xva_sink;
/* NULL when out of memory. */
struct xva_sink *xva_sink_new(xg_http_ex *x, enum xva_compression c);
/* false once the client is gone (then every later call fails too). */
bool xva_sink_write(struct xva_sink *s, const void *p, size_t n);
/* Flushes the compressor's end; false if the client is gone. */
bool xva_sink_finish(struct xva_sink *s);
void xva_sink_free(struct xva_sink *s);

#endif
