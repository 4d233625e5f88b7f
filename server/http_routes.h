/* http_routes.h: plain HTTP GET endpoints besides RPC (metrics: /rrd_updates,
 * /host_rrd, /vm_rrd, /metrics). Routes are registered at start-up, before
 * the listeners open. A handler runs on an I/O thread WITHOUT the world lock
 * (it takes it to read API state) and fills the response. */
#ifndef XG_HTTP_ROUTES_H
#define XG_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "out.h"

struct xg_http_request {
    const char *method;              /* "GET" */
    const char *path;                /* "/rrd_updates" (no query) */
    const char *query;               /* raw query string without '?', or "" */
    const char *authorization;       /* header value or NULL */
    const char *accept;              /* header value or NULL */
    const char *cookie;              /* header value or NULL */
    const char *client_addr;
    bool http10;
    bool head;                       /* HEAD: headers only (web root) */
    const char *accept_encoding;     /* web root: gzip, conditional GET */
    const char *if_none_match;
    const char *if_modified_since;
};

struct xg_http_response {
    int status;                      /* 200, 400, 401, 404 … */
    const char *content_type;        /* static string */
    xg_out body;
    char extra_headers[512];         /* "WWW-Authenticate: …\r\n", may be empty */
    bool close;                      /* Connection: close after it */
    const char *cache_control;       /* static string; NULL: no-cache, no-store */
};

typedef void (*xg_http_get_fn)(const struct xg_http_request *rq,
                               struct xg_http_response *rs);

void xg_http_register_get(const char *path, xg_http_get_fn fn);
xg_http_get_fn xg_http_find_get(const char *path);
/* Query helpers: next value of `name` after *pos (start with 0), percent-
 * decoded into buf; false when there are no more. */
bool xg_query_next(const char *query, const char *name, size_t *pos,
                   char *buf, size_t len);
bool xg_query_get(const char *query, const char *name, char *buf, size_t len);
/* Credentials: the base64 text after "Basic " decoded into out as
 * "user:password" (false when malformed, too long for len or holding a NUL
 * byte); the session_id=… of a Cookie header (false when absent or longer
 * than len-1). */
bool xg_http_basic_decode(const char *b64, char *out, size_t len);
bool xg_http_cookie_session(const char *cookie, char *buf, size_t len);

#endif
