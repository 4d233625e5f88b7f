/* http_ex.h: the connection's side of an HTTP route exchange (private to
 * server/; handlers use http_routes.h). conn.c creates an exchange for a
 * routed request, parks the connection, feeds it request-body bytes and
 * sends what the handler wrote; http_ex.c authenticates (auth pool for
 * Basic), runs the handler on a worker thread and frames its answer.
 *
 * Threads: the exchange is shared by the connection's I/O thread, an auth
 * pool thread and one HTTP worker; everything mutable is under its mutex.
 * `kick(conn)` is how the other threads wake the I/O thread; it is never
 * called after xg_http_ex_detach returned. */
#ifndef XG_HTTP_EX_H
#define XG_HTTP_EX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_routes.h"
#include "out.h"

struct xg_http_ex_init {
    const struct xg_http_route_entry *route;
    struct xg_http_request rq;       /* strings are copied */
    const char *body;                /* buffered body (non-raw routes) */
    size_t body_len;
    const char *raw_rest;            /* raw routes: body bytes already read */
    size_t raw_rest_len;
    void (*kick)(void *conn);
    void *conn;
};

/* The head of the answer, handed to the connection once. */
struct xg_http_ex_head {
    int status;
    const char *content_type;        /* NULL = none */
    int64_t content_length;          /* or XG_HTTP_UNSIZED / XG_HTTP_RAW */
    const char *extra_headers;
    bool chunked;
};

xg_http_ex *xg_http_ex_new(const struct xg_http_ex_init *in);
/* Authenticates and queues the handler; the answer arrives via kick. */
void xg_http_ex_start(xg_http_ex *x);

/* Connection side, on its I/O thread. */
/* Request-body bytes the exchange can take now (0: window full or body
 * complete). */
size_t xg_http_ex_room(xg_http_ex *x);
void xg_http_ex_feed(xg_http_ex *x, const char *p, size_t n);
/* xg_http_ex_feed without waking the handler, for a loop that feeds all it
 * can read now and then calls xg_http_ex_wake once: a handler streaming a
 * disk wakes once per window, not once per socket read. */
void xg_http_ex_feed_quiet(xg_http_ex *x, const char *p, size_t n);
void xg_http_ex_wake(xg_http_ex *x);
/* The client closed its sending side: the body ends here. */
void xg_http_ex_feed_eof(xg_http_ex *x);
/* True once when a "100 Continue" is due: the request expects it and the
 * handler has started reading a body none of which has arrived. The
 * connection writes it before anything else of the answer. */
bool xg_http_ex_take_continue(xg_http_ex *x);
/* Moves what the handler wrote into sendq; *head is filled (and true
 * returned in *have_head) the first time the answer's head is available.
 * Returns true once the handler has finished and everything was taken;
 * *keep_alive then says whether the connection may serve another request. */
bool xg_http_ex_take(xg_http_ex *x, xg_out *sendq, struct xg_http_ex_head *head,
                     bool *have_head, bool *keep_alive);
/* Bytes still queued at the connection (wakes a writer below the mark). */
void xg_http_ex_unsent(xg_http_ex *x, size_t unsent);
/* The connection is done with the exchange (answered, or closed: the
 * handler then sees the client gone). Drops the connection's reference. */
void xg_http_ex_detach(xg_http_ex *x);

/* Start/stop of the worker pool (conn.c's xg_io_start / xg_io_stop). */
void xg_http_workers_stop(void);

#endif
