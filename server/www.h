/* www.h: the static web root served at "/" (XAPI serves its www directory
 * there; on XCP-ng that is XO Lite). Files are read through a descriptor walk
 * that refuses "..", dot-files, symlinks and encoded slashes, so no request
 * ever reaches outside the root. Bodies are cached in memory (bounded) and
 * validated by inode/size/mtime on every request; gzip variants are made by
 * a background thread, never on a network thread. */
#ifndef XG_WWW_H
#define XG_WWW_H

#include <stdbool.h>

#include "http_routes.h"
#include "xg_err.h"

/* Opens the root (NULL, "" or "off": disabled). A root that does not exist
 * is not an error (the packaged default may be absent): it logs and
 * disables. */
bool xg_www_open(const char *root, xg_err *err);
bool xg_www_enabled(void);
/* GET or HEAD of rq->path under the root: fills rs (200, 304, 404, 403). */
void xg_www_serve(const struct xg_http_request *rq, struct xg_http_response *rs);
void xg_www_close(void);

#endif
