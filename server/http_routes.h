/* http_routes.h: HTTP endpoints besides RPC (/rrd_updates, /metrics, and
 * whatever else registers: disk import/export, consoles, the web root).
 *
 * The request path, for every route (docs/ARCHITECTURE.md §HTTP routes):
 *   1. the I/O thread frames the request (http_in.c) and finds the route;
 *   2. unless the route is XG_ROUTE_PUBLIC, the client is authenticated as
 *      XAPI does it: `session_id` query parameter or cookie (a store lookup),
 *      or HTTP Basic. Basic passwords are hashed on the bounded auth pool
 *      (auth.h: per-address throttling) while the connection is parked; an
 *      I/O thread never hashes. Failure: 401 with WWW-Authenticate, written
 *      by the framework (the handler never runs);
 *   3. the handler runs on an HTTP worker thread (never an I/O thread, never
 *      with the world lock held on entry). It may block: on the disk, on
 *      the world lock, on its own client through xg_http_read/xg_http_write,
 *      which park the worker, not the I/O thread. Each running exchange
 *      holds one worker; workers are started on demand up to a cap
 *      (XG_HTTP_WORKERS_MAX), excess exchanges wait in FIFO order;
 *   4. when the handler returns, the connection goes back to its I/O thread:
 *      keep-alive if the response was complete and the body fully framed,
 *      closed otherwise.
 *
 * Routes are registered at start-up, before the listeners open, and never
 * change afterwards (lookups take no lock). A path ending in "/\*" matches
 * every path under it (the longest match wins; exact paths first). A GET
 * route also answers HEAD: the framework drops the body bytes. */
#ifndef XG_HTTP_ROUTES_H
#define XG_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "out.h"

/* Route flags. */
#define XG_ROUTE_PUBLIC   1u   /* no authentication (static web root) */
#define XG_ROUTE_RAW_BODY 2u   /* the request body is not buffered by the
                                * framing layer: the handler streams it with
                                * xg_http_read (PUT of a disk image: no size
                                * limit; Upgrade / CONNECT: the raw stream
                                * after the headers). The connection closes
                                * after such an exchange. */
#define XG_ROUTE_STREAM   4u   /* with RAW_BODY: the stream goes on after the
                                * Content-Length body (xe's POST /cli: the
                                * request body, then the thin-CLI protocol on
                                * the same connection); xg_http_read returns
                                * every byte, the handler frames the body. */

struct xg_http_request {
    const char *method;              /* "GET", "HEAD", "PUT", … */
    const char *path;                /* "/rrd_updates" (no query) */
    const char *query;               /* raw query string without '?', or "" */
    const char *authorization;       /* header value or NULL */
    const char *accept;              /* header value or NULL */
    const char *cookie;              /* header value or NULL */
    const char *content_type;        /* header value or NULL */
    const char *client_addr;
    int64_t content_length;          /* declared request body, -1 if none */
    bool http10;
    bool upgrade;                    /* CONNECT or Upgrade: raw stream follows */
    bool local_root;                 /* uid 0 on the local Unix socket: trusted */
    const char *user;                /* authenticated user, "" on public routes */
    const char *session_ref;         /* the session used, NULL with Basic auth */
    bool head;                       /* HEAD: headers only (web root) */
    const char *accept_encoding;     /* web root: gzip, conditional GET */
    const char *if_none_match;
    const char *if_modified_since;
    bool expect_continue;            /* "Expect: 100-continue" on a streamed body: the
                                      * 100 goes out when the handler first reads it */
};

typedef struct xg_http_ex xg_http_ex;   /* one request/response exchange */

/* A route handler. Runs on an HTTP worker thread (see above); must answer
 * with xg_http_respond (an exchange that returns without answering gets a
 * 500). Everything of the request stays valid until it returns. */
typedef void (*xg_http_handler)(xg_http_ex *x);

void xg_http_route(const char *method, const char *path, unsigned flags,
                   xg_http_handler fn);

const struct xg_http_request *xg_http_req(const xg_http_ex *x);

/* Request body (Content-Length framed; raw stream on Upgrade/CONNECT):
 * up to n bytes into buf. Returns > 0 bytes read, 0 at the end of the body
 * (Content-Length reached, or the client closed its sending side: XO
 * declares a huge length and closes when done; count what you got), -1
 * when the client is gone or sent nothing for XG_BODY_TIMEOUT_MS. Only
 * XG_ROUTE_RAW_BODY routes stream; on other routes the body (bounded by
 * the RPC body limit) was read before the handler ran and is returned by
 * the same call. */
ssize_t xg_http_read(xg_http_ex *x, void *buf, size_t n);

/* Content length of a response without a known size: chunked on HTTP/1.1,
 * close-delimited on HTTP/1.0. */
#define XG_HTTP_UNSIZED (-1)
/* Raw stream (101 Switching Protocols, 200 to CONNECT): no framing, the
 * connection closes when the handler returns. */
#define XG_HTTP_RAW (-2)
/* No body and no Content-Length (304 Not Modified). */
#define XG_HTTP_NO_BODY (-3)
/* No HTTP answer at all: the handler's bytes go on the wire as written
 * (xe's thin-CLI protocol starts right after the request), then close. */
#define XG_HTTP_HEADLESS (-4)

/* Sends the status line and headers (Connection, CORS and
 * "Cache-Control: no-cache, no-store" are added, the latter unless
 * extra_headers has its own). content_type may be NULL; extra_headers is ""
 * or lines each ending in "\r\n". Once per exchange; false if already
 * answered. */
bool xg_http_respond(xg_http_ex *x, int status, const char *content_type,
                     int64_t content_length, const char *extra_headers);
/* Appends body bytes. Blocks (this worker only) while more than
 * XG_OUT_HIGH_WATER bytes wait for the client, so a transfer streams in
 * bounded memory. false when the client is gone or stopped reading for
 * XG_WRITE_TIMEOUT_MS: the handler should give up. */
bool xg_http_write(xg_http_ex *x, const void *data, size_t n);
/* A whole short answer: respond + write. */
bool xg_http_reply(xg_http_ex *x, int status, const char *content_type,
                   const char *body);
/* A streamed answer failed half-way: the body is left unterminated (no
 * last chunk) and the connection closes, so the client sees a truncated
 * transfer, never a complete-looking one (XO checks for this). */
void xg_http_abort(xg_http_ex *x);
/* The client is gone: long producers poll it between steps. */
bool xg_http_gone(xg_http_ex *x);

/* ---- buffered GET handlers (the simple case) ---------------------------- */

struct xg_http_response {
    int status;                      /* 200, 400, 404 … */
    const char *content_type;        /* static string */
    xg_out body;
    char extra_headers[512];         /* "Name: value\r\n" lines, may be empty */
    bool close;                      /* Connection: close after it */
    const char *cache_control;       /* static string; NULL: no-cache, no-store */
};

typedef void (*xg_http_get_fn)(const struct xg_http_request *rq,
                               struct xg_http_response *rs);

/* Registers a GET route whose handler fills a response in memory (on a
 * worker thread, like every handler); flags as for xg_http_route. */
void xg_http_register_get(const char *path, xg_http_get_fn fn);
void xg_http_register_get_flags(const char *path, unsigned flags, xg_http_get_fn fn);

/* ---- framework side (conn.c) ------------------------------------------- */

struct xg_http_route_entry {
    const char *method, *path;
    unsigned flags;
    xg_http_handler fn;
    xg_http_get_fn get_fn;           /* buffered GET handlers */
};
/* The route for method and path (path of len bytes, no query), or NULL. */
const struct xg_http_route_entry *xg_http_find_route(const char *method,
                                                     const char *path,
                                                     size_t len);

/* ---- streams that leave HTTP ------------------------------------------ */

/* A path whose CONNECT and WebSocket Upgrade requests leave HTTP for good
 * (consoles): instead of an exchange on a worker thread, which a stream
 * lasting hours would hold, the I/O thread detaches the connection and
 * hands its socket to the handler, which owns it from then on (answers the
 * request itself, authenticates, serves it on its own thread, bounds its
 * own streams). The handler runs on the I/O thread: it must only copy what
 * it needs and queue the work, never block. Strings and `rest` are valid
 * during the call only. */
struct ssl_st;
struct xg_http_takeover {
    int fd;                          /* non-blocking, owned by the handler */
    struct ssl_st *ssl;              /* TLS session on fd, or NULL (plain) */
    bool connect;                    /* CONNECT, else GET with Upgrade */
    bool http10;
    const char *path, *query, *cookie, *authorization;
    const char *upgrade, *ws_key, *ws_version;   /* headers or NULL */
    const char *client_addr;
    const char *rest;                /* bytes received after the headers */
    size_t rest_len;
};
typedef void (*xg_http_takeover_fn)(const struct xg_http_takeover *t);
void xg_http_register_takeover(const char *path, xg_http_takeover_fn fn);
/* The takeover for path (len bytes, no query), or NULL. */
xg_http_takeover_fn xg_http_find_takeover(const char *path, size_t len);

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
/* Value of one hex digit (percent-encoding), or -1. */
int xg_hex_value(char c);

#endif
