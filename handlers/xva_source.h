/* xva_source.h: the body of an XVA upload as a byte source: plain, gzip
 * or zstd (detected from the first bytes, as XAPI's importer does), read
 * in bounded pieces (xva_source.c). HTTP worker thread; no world lock. */
#ifndef XG_XVA_SOURCE_H
#define XG_XVA_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../server/http_routes.h"

struct xva_source;
/* NULL when out of memory. Nothing is read yet. */
struct xva_source *xva_source_new(xg_http_ex *x);
/* Exactly n bytes; false at a premature end (the client closed, stopped
 * sending, or the compressed stream is corrupt: *corrupt says which). */
bool xva_source_read(struct xva_source *s, void *buf, size_t n, bool *corrupt);
/* Bytes of the upload read so far (compressed). */
long long xva_source_consumed(const struct xva_source *s);
void xva_source_free(struct xva_source *s);

#endif
