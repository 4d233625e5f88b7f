/* conn.c: I/O threads, listeners and connections.
 *
 * Each I/O thread runs one epoll loop (edge-triggered); listening sockets
 * are shared with EPOLLEXCLUSIVE so one thread wakes per connection. A
 * connection is a small state machine driven by conn_run():
 *   HANDSHAKE (TLS, never on the accept path) → READ (http_in.c framing)
 *   → CALL (xg_dispatch; the answer may come later from any thread through
 *     on_response, which queues the connection on its loop and pokes the
 *     loop's eventfd) → WRITE (send queue of out chunks; producers resume
 *     below a low-water mark, so memory stays bounded) → READ …
 * Routed HTTP requests (http_routes.h) go READ → EXCH instead: the request
 * becomes an exchange (http_ex.c) that authenticates and runs its handler
 * on a worker thread; the connection stays parked in EXCH, feeding request
 * body bytes to the exchange and sending what the handler writes, woken
 * through the same ready queue as RPC answers.
 * Only one request per connection is in flight: pipelined requests wait in
 * the input buffer until the previous answer is sent. Timeouts are checked
 * by a once-a-second scan of the loop's connections. At the connection cap a
 * loop stops watching the listeners, so excess clients wait in the backlog. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <limits.h>
#include <openssl/err.h>

#include "call.h"
#include "config.h"
#include "http_ex.h"
#include "http_in.h"
#include "http_routes.h"
#include "www.h"
#include "hooks.h"
#include "limits.h"
#include "log.h"
#include "rpc_in.h"
#include "sock_io.h"
#include "timer.h"
#include "transport.h"

#define MAX_LOOPS 64
#define MAX_LISTENERS 4
#define OUT_LOW_WATER (256 * 1024)
#define KEEPALIVE_ADVERTISED_S 60   /* < our idle timeout: the client closes first */
#define SMALL_BODY (16 * 1024)      /* copied behind the headers: one write */

enum src_kind { SRC_LISTENER, SRC_CONN, SRC_EVENTFD };
enum cstate { CS_HANDSHAKE, CS_READ, CS_CALL, CS_WRITE, CS_EXCH };

struct loop;

struct listener {
    enum src_kind kind;
    int fd;
    bool tls;
    bool local;                     /* AF_UNIX: peers identified by SO_PEERCRED */
};

struct conn {
    enum src_kind kind;
    int fd;
    SSL *ssl;
    struct loop *lp;
    struct conn *prev, *next;       /* the loop's connection list */
    struct conn *rnext;             /* the loop's ready queue */
    struct conn *gnext;             /* the loop's graveyard */
    enum cstate st;
    struct xg_http_in in;
    xg_out sendq;
    xg_call *call;                  /* outstanding or streaming call */
    bool call_ready;                /* answered synchronously in dispatch */
    bool streaming, chunked, keep_alive, close_after, dead, http10;
    bool queued;                    /* on the loop's ready queue (lp->mu) */
    bool local_root;                /* uid 0 on the local socket (SO_PEERCRED) */
    bool raw_head;                  /* answer head of a raw stream (101 …) */
    xg_http_ex *ex;                 /* routed request in progress (CS_EXCH) */
    bool ex_done, ex_keep;          /* handler finished; may keep alive */
    uint64_t deadline;              /* handshake / idle / write progress */
    uint64_t req_start, last_read;  /* header and body timeouts */
    char addr[INET6_ADDRSTRLEN];
};

struct loop {
    enum src_kind kind;             /* SRC_EVENTFD: its epoll tag */
    int ep, evfd;
    pthread_t thr;
    pthread_mutex_t mu;
    struct conn *ready_head, *ready_tail;
    struct conn *conns;
    struct conn *grave;             /* closed, freed after this loop turn */
    bool listening;
};

static struct loop loops[MAX_LOOPS];
static unsigned nloops;
static struct listener listeners[MAX_LISTENERS];
static unsigned nlisteners;
static atomic_uint nconns;
static atomic_bool stopping;
static struct xg_http_limits http_limits;

static _Thread_local struct conn *tl_dispatching;

static void conn_run(struct conn *c);

/* ===== listeners ======================================================= */

static void watch_listeners(struct loop *lp, bool on)
{
    if (lp->listening == on)
        return;
    for (unsigned i = 0; i < nlisteners; i++) {
        if (on) {
            struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
                                      .data.ptr = &listeners[i] };
            epoll_ctl(lp->ep, EPOLL_CTL_ADD, listeners[i].fd, &ev);
        } else {
            epoll_ctl(lp->ep, EPOLL_CTL_DEL, listeners[i].fd, NULL);
        }
    }
    lp->listening = on;
}

static void conn_new(struct loop *lp, int fd, bool tls, const struct sockaddr_storage *sa)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->kind = SRC_CONN;
    c->fd = fd;
    c->lp = lp;
    xg_http_in_init(&c->in, &http_limits);
    xg_out_init(&c->sendq);
    if (sa->ss_family == AF_UNIX) {
        /* XAPI trusts local root on its Unix socket: the kernel, not the
         * client, says who the peer is */
        struct ucred cr;
        socklen_t crl = sizeof(cr);
        c->local_root = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0 && cr.uid == 0;
        snprintf(c->addr, sizeof(c->addr), "local");
    } else if (sa->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->addr, sizeof(c->addr));
    } else if (sa->ss_family == AF_INET6) {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a));
        snprintf(c->addr, sizeof(c->addr), "%s",
                 strncmp(a, "::ffff:", 7) == 0 && strchr(a, '.') ? a + 7 : a);
    }
    int one = 1;
    if (sa->ss_family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uint64_t now = xg_now_ms();
    if (tls) {
        c->ssl = xg_tls_ssl_new();
        if (!c->ssl) {
            close(fd);
            free(c);
            atomic_fetch_sub(&nconns, 1);
            return;
        }
        SSL_set_fd(c->ssl, fd);
        SSL_set_accept_state(c->ssl);
        c->st = CS_HANDSHAKE;
        c->deadline = now + XG_TLS_HANDSHAKE_TIMEOUT_MS;
    } else {
        c->st = CS_READ;
        c->deadline = now + xg_cfg.idle_timeout_ms;
    }
    c->next = lp->conns;
    if (lp->conns)
        lp->conns->prev = c;
    lp->conns = c;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                              .data.ptr = c };
    epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev);
    conn_run(c);
}

static void do_accept(struct loop *lp, struct listener *l)
{
    for (;;) {
        if (atomic_load(&nconns) >= xg_cfg.max_connections) {
            /* at the cap: the rest waits in the kernel backlog */
            watch_listeners(lp, false);
            return;
        }
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd = accept4(l->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                XG_WARN("io", "out of file descriptors, pausing accept");
                watch_listeners(lp, false);
            }
            return;                    /* EAGAIN, ECONNABORTED, … */
        }
        atomic_fetch_add(&nconns, 1);
        conn_new(lp, fd, l->tls, &sa);
    }
}

/* ===== closing ======================================================== */

static void conn_free(struct conn *c)
{
    if (c->ex)
        xg_http_ex_detach(c->ex);
    xg_http_in_free(&c->in);
    xg_out_reset(&c->sendq);
    free(c);
}

/* Forgets a connection whose socket is closed or handed over. */
static void conn_unlink(struct conn *c)
{
    struct loop *lp = c->lp;
    c->dead = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        lp->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    atomic_fetch_sub(&nconns, 1);
    /* a slot is free: accept again now, not at the next 1 s tick */
    if (!lp->listening && !atomic_load(&stopping) &&
        atomic_load(&nconns) < xg_cfg.max_connections)
        watch_listeners(lp, true);
    if (c->call && c->st == CS_CALL) {
        /* the call still points at us: freed when its answer arrives */
        return;
    }
    if (c->ex) {
        /* the handler sees its client gone; no kick can follow this */
        xg_http_ex_detach(c->ex);
        c->ex = NULL;
    }
    pthread_mutex_lock(&lp->mu);
    bool queued = c->queued;            /* a late kick of a finished exchange */
    pthread_mutex_unlock(&lp->mu);
    if (queued)
        return;                         /* drain_ready frees it */
    if (c->call)
        xg_call_unref(c->call);
    c->call = NULL;
    /* Not freed here: the caller (conn_run, or a later event of the same
     * epoll batch) may still look at c->dead. */
    c->gnext = lp->grave;
    lp->grave = c;
}

static void conn_close(struct conn *c)
{
    if (c->dead)
        return;
    if (c->ssl) {
        SSL_set_shutdown(c->ssl, SSL_RECEIVED_SHUTDOWN);
        SSL_shutdown(c->ssl);        /* best effort close_notify, never waits */
        SSL_free(c->ssl);
        c->ssl = NULL;
        ERR_clear_error();
    }
    /* Deregister before closing: epoll watches the open file description,
     * and a child forked meanwhile (plugins, qemu-img) holds a copy of it
     * until its exec, so close() alone can leave the registration, and an
     * event would then name this struct after bury() freed it (ASan). */
    epoll_ctl(c->lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    conn_unlink(c);
}

/* The connection leaves HTTP (CONNECT, WebSocket): its socket, TLS session
 * and any bytes that followed the request go to the takeover handler, which
 * answers and serves it on its own thread. It no longer counts against the
 * connection cap: the handler bounds its own streams. */
static void conn_handover(struct conn *c, xg_http_takeover_fn fn, const char *path)
{
    struct xg_http_takeover t = {
        .fd = c->fd, .ssl = c->ssl, .http10 = c->http10,
        .connect = c->in.p.method == HTTP_CONNECT,
        .path = path, .query = xg_http_in_query(&c->in),
        .cookie = xg_http_in_header(&c->in, XG_H_COOKIE),
        .authorization = xg_http_in_header(&c->in, XG_H_AUTHORIZATION),
        .upgrade = xg_http_in_header(&c->in, XG_H_UPGRADE),
        .ws_key = xg_http_in_header(&c->in, XG_H_WS_KEY),
        .ws_version = xg_http_in_header(&c->in, XG_H_WS_VERSION),
        .client_addr = c->addr,
    };
    t.rest = xg_http_in_rest(&c->in, &t.rest_len);
    epoll_ctl(c->lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->ssl = NULL;
    c->fd = -1;
    fn(&t);
    conn_unlink(c);
}

static void bury(struct loop *lp)
{
    struct conn *c = lp->grave, *n;
    lp->grave = NULL;
    for (; c; c = n) {
        n = c->gnext;
        conn_free(c);
    }
}

/* ===== responses ===================================================== */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

/* Header block as xapi writes it (spec/xapi-wire.md §1.3); clen < 0 means
 * no content-length (chunked or close-delimited). */
static void put_headers_cc(struct conn *c, int status, const char *ctype,
                           long long clen, const char *extra, const char *cache_control);

static void put_headers(struct conn *c, int status, const char *ctype,
                        long long clen, const char *extra)
{
    put_headers_cc(c, status, ctype, clen, extra, NULL);
}

/* cache_control NULL: API answers are never cached */
static void put_headers_cc(struct conn *c, int status, const char *ctype,
                           long long clen, const char *extra, const char *cache_control)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "HTTP/1.%d %d %s\r\n", c->http10 ? 0 : 1,
                     status, reason(status));
    if (clen >= 0)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "content-length: %lld\r\n", clen);
    if (c->chunked)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "transfer-encoding: chunked\r\n");
    if (c->raw_head)
        ;                               /* the handler's own Connection/Upgrade */
    else if (c->close_after)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "connection: close\r\n");
    else
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      "connection: keep-alive\r\nkeep-alive: timeout=%u\r\n",
                      KEEPALIVE_ADVERTISED_S);
    if (!cache_control || *cache_control)   /* "": the caller's extra headers have it */
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "cache-control: %s\r\n",
                      cache_control ? cache_control : "no-cache, no-store");
    if (ctype)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "content-type: %s\r\n", ctype);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                  "Access-Control-Allow-Origin: *\r\n"
                  "Access-Control-Allow-Headers: X-Requested-With\r\n");
    if (n > (int)sizeof(buf))
        n = (int)sizeof(buf);
    xg_out_append(&c->sendq, buf, (size_t)n);
    if (extra && *extra)
        xg_out_puts(&c->sendq, extra);
    xg_out_append(&c->sendq, "\r\n", 2);
}

static void simple_response(struct conn *c, int status, bool close)
{
    c->close_after = c->close_after || close;
    c->chunked = false;
    put_headers(c, status, NULL, 0, NULL);
    c->st = CS_WRITE;
    c->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
}

/* Transport-level failure, in xapi's HTML form; hostile text is escaped. */
static void html_500(struct conn *c, const char *msg)
{
    char body[1024];
    int n = snprintf(body, sizeof(body), "<html><body><h1>HTTP 500 internal server error</h1>"
                     "An unexpected error occurred; please wait a while and try again. "
                     "If the problem persists, please contact your support representative."
                     "<h1> Additional information </h1>");
    for (const char *p = msg; *p && n < (int)sizeof(body) - 40; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '<')
            n += snprintf(body + n, sizeof(body) - (size_t)n, "&lt;");
        else if (ch == '>')
            n += snprintf(body + n, sizeof(body) - (size_t)n, "&gt;");
        else if (ch == '&')
            n += snprintf(body + n, sizeof(body) - (size_t)n, "&amp;");
        else if (ch >= 0x20 && ch < 0x7f)
            body[n++] = (char)ch;
    }
    n += snprintf(body + n, sizeof(body) - (size_t)n, "</body></html>");
    c->close_after = true;
    c->chunked = false;
    put_headers(c, 500, "text/html", n, NULL);
    xg_out_append(&c->sendq, body, (size_t)n);
    c->st = CS_WRITE;
    c->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
}

static const char *call_ctype(const xg_call *call)
{
    return call->proto == XG_PROTO_XMLRPC ? "text/xml" : "application/json";
}

/* Moves what the producer wrote into the send queue as one HTTP chunk. */
static void frame_chunk(struct conn *c)
{
    xg_out *o = &c->call->out;
    if (o->total == 0)
        return;
    if (c->chunked) {
        char hdr[24];
        int n = snprintf(hdr, sizeof(hdr), "%zx\r\n", o->total);
        xg_out_append(&c->sendq, hdr, (size_t)n);
        xg_out_move(&c->sendq, o);
        xg_out_append(&c->sendq, "\r\n", 2);
    } else {
        xg_out_move(&c->sendq, o);
    }
}

static void finish_stream(struct conn *c)
{
    if (c->chunked)
        xg_out_append(&c->sendq, "0\r\n\r\n", 5);
    c->streaming = false;
    xg_call_unref(c->call);
    c->call = NULL;
}

/* The call's body is complete (or a producer is installed): queue it. */
static void start_response(struct conn *c)
{
    xg_call *call = c->call;
    c->call_ready = false;
    c->chunked = false;
    c->st = CS_WRITE;
    c->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
    if (call->producer) {
        bool done = xg_call_produce(call);
        if (!done) {
            c->streaming = true;
            if (c->http10)
                c->close_after = true;   /* close-delimited body */
            else
                c->chunked = true;
            put_headers(c, 200, call_ctype(call), -1, NULL);
            frame_chunk(c);
            return;
        }
    }
    size_t total = call->out.total;
    put_headers(c, 200, call_ctype(call), (long long)total, NULL);
    if (total <= SMALL_BODY) {
        for (struct xg_chunk *ch = call->out.head; ch; ch = ch->next)
            xg_out_append(&c->sendq, ch->data + ch->sent, ch->len - ch->sent);
    } else {
        xg_out_move(&c->sendq, &call->out);
    }
    xg_call_unref(call);
    c->call = NULL;
}

/* Queues c for its loop's next turn (any thread; once until drained). */
static void enqueue_ready(struct conn *c)
{
    struct loop *lp = c->lp;
    pthread_mutex_lock(&lp->mu);
    bool was = c->queued;
    if (!was) {
        c->queued = true;
        c->rnext = NULL;
        if (lp->ready_tail)
            lp->ready_tail->rnext = c;
        else
            lp->ready_head = c;
        lp->ready_tail = c;
    }
    pthread_mutex_unlock(&lp->mu);
    if (was)
        return;
    uint64_t one = 1;
    ssize_t w = write(lp->evfd, &one, sizeof(one));
    (void)w;
}

/* Called with the world lock held, from any thread, exactly once per call. */
static void on_response(xg_call *call)
{
    struct conn *c = call->conn;
    if (c == tl_dispatching) {
        c->call_ready = true;         /* answered inside xg_dispatch */
        return;
    }
    enqueue_ready(c);
}

/* Exchanges wake their connection from worker and auth threads. */
static void ex_kick(void *conn)
{
    enqueue_ready(conn);
}

/* ===== requests ======================================================= */

enum io { IO_OK = XG_IO_OK, IO_AGAIN = XG_IO_AGAIN, IO_EOF = XG_IO_EOF };
static enum io io_read(struct conn *c, char *buf, size_t n, size_t *got);

static void handle_rpc(struct conn *c, bool json)
{
    xg_call *call = xg_call_new(json ? XG_PROTO_JSONRPC_V2 : XG_PROTO_XMLRPC);
    const char *body = xg_http_in_body(&c->in);
    size_t len = c->in.body_len;
    struct xg_rpc_req rq;
    char msg[256];
    bool ok = json ? xg_jsonrpc_parse(call->arena, body, len, &rq, msg, sizeof(msg))
                   : xg_xmlrpc_parse(call->arena, body, len, &rq, msg, sizeof(msg));
    if (!ok) {
        xg_call_unref(call);
        XG_DEBUG("http", "%s: parse failure: %s", c->addr, msg);
        html_500(c, msg);
        return;
    }
    if (call->proto != rq.proto) {
        call->proto = rq.proto;        /* JSON v1 or v2: same writer */
    }
    call->method_name = rq.method;
    call->params = rq.params;
    call->nparams = rq.nparams;
    call->json_id = rq.json_id;
    call->json_id_len = rq.json_id_len;
    call->client_addr = xg_arena_strdup(call->arena, c->addr);
    call->local_root = c->local_root;
    const char *task = xg_http_in_header(&c->in, XG_H_TASK_ID);
    call->http_task_id = task ? xg_arena_strdup(call->arena, task) : NULL;
    call->on_response = on_response;
    call->conn = c;
    c->call = call;
    c->call_ready = false;
    c->st = CS_CALL;
    tl_dispatching = c;
    xg_dispatch(call);
    tl_dispatching = NULL;
    if (c->call_ready)
        start_response(c);
}

static void handle_options(struct conn *c)
{
    char extra[600];
    const char *req = xg_http_in_header(&c->in, XG_H_ACRH);
    if (req && strlen(req) < 400)
        snprintf(extra, sizeof(extra), "Access-Control-Allow-Headers: %s, X-Requested-With\r\n"
                 "Access-Control-Allow-Methods: PUT\r\n", req);
    else
        snprintf(extra, sizeof(extra), "Access-Control-Allow-Headers: X-Requested-With\r\n"
                 "Access-Control-Allow-Methods: PUT\r\n");
    /* xapi's preflight: only these three headers, content-length 0 */
    char buf[800];
    int n = snprintf(buf, sizeof(buf), "HTTP/1.%d 200 OK\r\ncontent-length: 0\r\n"
                     "Access-Control-Allow-Origin: *\r\n%s\r\n", c->http10 ? 0 : 1, extra);
    xg_out_append(&c->sendq, buf, (size_t)n);
    c->st = CS_WRITE;
    c->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
}

static const char *method_name(enum http_method m)
{
    return http_method_str(m);
}

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* A routed request: park the connection on an exchange (http_ex.h). */
static void handle_route(struct conn *c, const char *path,
                         const struct xg_http_route_entry *route)
{
    enum http_method m = (enum http_method)c->in.p.method;
    bool raw = route->flags & XG_ROUTE_RAW_BODY;
    size_t rest_len = 0;
    const char *rest = raw ? xg_http_in_rest(&c->in, &rest_len) : NULL;
    struct xg_http_ex_init in = {
        .route = route,
        .rq = {
            .method = method_name(m), .path = path, .query = xg_http_in_query(&c->in),
            .authorization = xg_http_in_header(&c->in, XG_H_AUTHORIZATION),
            .accept = xg_http_in_header(&c->in, XG_H_ACCEPT),
            .cookie = xg_http_in_header(&c->in, XG_H_COOKIE),
            .content_type = xg_http_in_header(&c->in, XG_H_CONTENT_TYPE),
            .client_addr = c->addr, .http10 = c->http10, .local_root = c->local_root,
            .content_length = c->in.has_cl ? (int64_t)c->in.p.content_length : -1,
            .upgrade = c->in.p.upgrade, .head = m == HTTP_HEAD,
            .accept_encoding = xg_http_in_header(&c->in, XG_H_ACCEPT_ENCODING),
            .if_none_match = xg_http_in_header(&c->in, XG_H_IF_NONE_MATCH),
            .if_modified_since = xg_http_in_header(&c->in, XG_H_IF_MODIFIED_SINCE),
            .expect_continue = raw && xg_http_in_expects_continue(&c->in),
        },
        .body = raw ? NULL : xg_http_in_body(&c->in),
        .body_len = raw ? 0 : c->in.body_len,
        .raw_rest = rest, .raw_rest_len = rest_len,
        .kick = ex_kick, .conn = c,
    };
    c->ex = xg_http_ex_new(&in);
    c->ex_done = c->ex_keep = false;
    c->chunked = false;
    c->st = CS_EXCH;
    if (raw)
        c->close_after = true;          /* the body is not framed for reuse */
    xg_http_ex_start(c->ex);
}

/* Moves the handler's output to the send queue; the head goes first. */
static void ex_pump(struct conn *c)
{
    struct xg_http_ex_head h;
    bool have_head = false, keep = false;
    xg_out body;
    xg_out_init(&body);
    if (xg_http_ex_take_continue(c->ex))
        xg_out_append(&c->sendq, CONTINUE_100, sizeof(CONTINUE_100) - 1);   /* before any head */
    bool done = xg_http_ex_take(c->ex, &body, &h, &have_head, &keep);
    if (have_head && h.content_length == XG_HTTP_HEADLESS) {
        c->close_after = true;          /* the handler speaks its own protocol */
        c->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
    } else if (have_head) {
        if (h.content_length == XG_HTTP_RAW ||
            (h.content_length == XG_HTTP_UNSIZED && !h.chunked))
            c->close_after = true;
        c->chunked = h.chunked;
        c->raw_head = h.content_length == XG_HTTP_RAW;
        /* a handler's own Cache-Control replaces the API default */
        bool own_cc = strcasestr(h.extra_headers, "cache-control:") != NULL;
        put_headers_cc(c, h.status, h.content_type,
                       h.content_length >= 0 ? h.content_length : -1, h.extra_headers,
                       own_cc ? "" : NULL);
        c->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
    }
    xg_out_move(&c->sendq, &body);
    if (done) {
        c->ex_done = true;
        c->ex_keep = keep;
    }
}

/* Reads request-body bytes for a raw-body exchange while it has room; the
 * handler is woken once, when this stops. */
static bool ex_read_body(struct conn *c)
{
    static _Thread_local char buf[64 * 1024];
    bool fed = false;
    for (;;) {
        size_t room = xg_http_ex_room(c->ex);
        if (room == 0)
            break;
        size_t got = 0;
        enum io r = io_read(c, buf, room < sizeof(buf) ? room : sizeof(buf), &got);
        if (r == IO_AGAIN)
            break;
        if (r == IO_EOF) {
            /* the client closed its sending side: the body ends here (XO
             * declares a huge length and closes); the answer may still go */
            xg_http_ex_feed_eof(c->ex);
            return true;
        }
        xg_http_ex_feed_quiet(c->ex, buf, got);
        fed = true;
    }
    if (fed)
        xg_http_ex_wake(c->ex);
    return true;
}

static void handle_request(struct conn *c)
{
    c->http10 = xg_http_in_http10(&c->in);
    c->keep_alive = xg_http_in_keep_alive(&c->in);
    c->close_after = !c->keep_alive;
    enum http_method m = (enum http_method)c->in.p.method;
    const char *path = xg_http_in_path(&c->in);
    xg_http_takeover_fn takeover =
        c->in.p.upgrade ? xg_http_find_takeover(path, strlen(path)) : NULL;
    if (takeover && (m == HTTP_CONNECT || m == HTTP_GET)) {
        conn_handover(c, takeover, path);
        return;
    }
    const struct xg_http_route_entry *post_route =
        m == HTTP_POST ? xg_http_find_route("POST", path, strlen(path)) : NULL;
    if (post_route) {
        handle_route(c, path, post_route);    /* POST /cli (xe) */
    } else if (m == HTTP_POST) {
        handle_rpc(c, strcmp(path, "/jsonrpc") == 0);
    } else if (m == HTTP_OPTIONS) {
        handle_options(c);
    } else {
        const struct xg_http_route_entry *r =
            xg_http_find_route(method_name(m), path, strlen(path));
        if (r)
            handle_route(c, path, r);
        else
            simple_response(c, m == HTTP_GET || m == HTTP_HEAD ? 404 : 403, false);
    }
}

static void handle_framing_error(struct conn *c)
{
    int st = c->in.error_status ? c->in.error_status : 400;
    XG_DEBUG("http", "%s: %d %s", c->addr, st, c->in.error_why ? c->in.error_why : "");
    c->http10 = false;
    simple_response(c, st, true);
}

/* ===== I/O ============================================================ */

static enum io io_read(struct conn *c, char *buf, size_t n, size_t *got)
{
    return (enum io)xg_sock_read(c->fd, c->ssl, buf, n, got);
}

/* Writes queued bytes; IO_OK = queue empty. */
static enum io flush(struct conn *c)
{
    bool progress = false;
    enum io r = (enum io)xg_sock_flush(c->fd, c->ssl, &c->sendq, &progress);
    if (progress)
        c->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
    return r;
}

static void after_response(struct conn *c)
{
    if (c->close_after) {
        conn_close(c);
        return;
    }
    c->st = CS_READ;
    uint64_t now = xg_now_ms();
    c->deadline = now + xg_cfg.idle_timeout_ms;
    c->req_start = c->last_read = now;
    enum xg_http_status s = xg_http_in_next(&c->in);
    if (s == XG_HTTP_REQUEST)
        handle_request(c);
    else if (s == XG_HTTP_ERROR)
        handle_framing_error(c);
    else if (!xg_http_in_pending(&c->in))
        xg_http_in_shrink(&c->in);
}

static void conn_run(struct conn *c)
{
    for (;;) {
        if (c->dead)
            return;
        switch (c->st) {
        case CS_HANDSHAKE: {
            ERR_clear_error();
            int r = SSL_do_handshake(c->ssl);
            if (r == 1) {
                c->st = CS_READ;
                c->deadline = xg_now_ms() + xg_cfg.idle_timeout_ms;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            conn_close(c);
            return;
        }
        case CS_READ: {
            size_t room = 0, got = 0;
            char *space = xg_http_in_space(&c->in, &room);
            if (!space)
                return;                 /* cannot happen while reading */
            enum io r = io_read(c, space, room, &got);
            if (r == IO_AGAIN)
                return;
            if (r == IO_EOF) {
                conn_close(c);
                return;
            }
            uint64_t now = xg_now_ms();
            if (!xg_http_in_pending(&c->in))
                c->req_start = now;     /* first byte of a new request */
            c->last_read = now;
            enum xg_http_status s = xg_http_in_feed(&c->in, got);
            if (s == XG_HTTP_REQUEST)
                handle_request(c);
            else if (s == XG_HTTP_ERROR)
                handle_framing_error(c);
            continue;
        }
        case CS_CALL:
            return;
        case CS_EXCH: {
            ex_pump(c);
            enum io r = flush(c);
            if (r == IO_EOF) {
                conn_close(c);
                return;
            }
            xg_http_ex_unsent(c->ex, xg_out_pending(&c->sendq));
            if (!c->ex_done || r == IO_AGAIN) {
                if (!c->ex_done && !ex_read_body(c))
                    return;
                return;
            }
            xg_http_ex_detach(c->ex);
            c->ex = NULL;
            if (!c->ex_keep)
                c->close_after = true;
            after_response(c);
            continue;
        }
        case CS_WRITE: {
            enum io r = flush(c);
            if (r == IO_EOF) {
                conn_close(c);
                return;
            }
            if (c->streaming && xg_out_pending(&c->sendq) < OUT_LOW_WATER) {
                bool done = xg_call_produce(c->call);
                frame_chunk(c);
                if (done)
                    finish_stream(c);
                continue;
            }
            if (r == IO_AGAIN)
                return;
            if (!c->streaming)
                after_response(c);
            continue;
        }
        }
    }
}

/* ===== timeouts ======================================================= */

static void check_timeouts(struct loop *lp)
{
    uint64_t now = xg_now_ms();
    struct conn *c = lp->conns, *next;
    for (; c; c = next) {
        next = c->next;
        switch (c->st) {
        case CS_HANDSHAKE:
        case CS_WRITE:
            if (now >= c->deadline)
                conn_close(c);
            break;
        case CS_READ:
            if (!xg_http_in_pending(&c->in)) {
                if (now >= c->deadline)
                    conn_close(c);     /* idle keep-alive */
            } else if (c->in.headers_done) {
                if (now >= c->req_start + XG_BODY_TIMEOUT_MS) {
                    simple_response(c, 408, true);
                    conn_run(c);
                }
            } else if (now >= c->req_start + xg_cfg.header_total_timeout_ms ||
                       now >= c->last_read + xg_cfg.header_read_timeout_ms) {
                simple_response(c, 408, true);
                conn_run(c);
            }
            break;
        case CS_CALL:
            break;
        case CS_EXCH:
            /* a handler may compute as long as it likes; a client that
             * stops reading its answer is dropped (the handler sees it) */
            if (xg_out_pending(&c->sendq) && now >= c->deadline)
                conn_close(c);
            break;
        }
    }
    if (!lp->listening && !atomic_load(&stopping) &&
        atomic_load(&nconns) < xg_cfg.max_connections)
        watch_listeners(lp, true);
}

/* ===== loop ========================================================== */

static void drain_ready(struct loop *lp)
{
    uint64_t v;
    ssize_t r = read(lp->evfd, &v, sizeof(v));
    (void)r;
    /* One connection at a time off the shared queue, never a detached batch:
     * a worker kicks a connection again while the others of the batch wait,
     * which relinks it through rnext onto the new queue and cut the batch's
     * chain there, so the connections after it were never run and their
     * answers sat unsent (test_http_ex: 8 simultaneous exchanges). Those
     * queued after this turn began wrote the eventfd: the next turn runs them. */
    pthread_mutex_lock(&lp->mu);
    size_t n = 0;
    for (struct conn *q = lp->ready_head; q; q = q->rnext)
        n++;
    pthread_mutex_unlock(&lp->mu);
    while (n--) {
        pthread_mutex_lock(&lp->mu);
        struct conn *c = lp->ready_head;
        if (c) {
            lp->ready_head = c->rnext;
            if (!lp->ready_head)
                lp->ready_tail = NULL;
            c->rnext = NULL;
            c->queued = false;
        }
        pthread_mutex_unlock(&lp->mu);
        if (!c)
            break;
        if (c->dead) {
            if (c->call)
                xg_call_unref(c->call);
            c->call = NULL;
            conn_free(c);
        } else {
            if (c->st == CS_CALL)
                start_response(c);      /* an RPC answer; else an exchange */
            conn_run(c);
        }
    }
}

static void *loop_main(void *arg)
{
    struct loop *lp = arg;
    struct epoll_event evs[64];
    uint64_t next_tick = xg_now_ms() + 1000;
    while (!atomic_load(&stopping)) {
        int n = epoll_wait(lp->ep, evs, 64, 1000);
        for (int i = 0; i < n; i++) {
            enum src_kind *k = evs[i].data.ptr;
            if (*k == SRC_LISTENER) {
                if (!atomic_load(&stopping))
                    do_accept(lp, (struct listener *)k);
            } else if (*k == SRC_EVENTFD) {
                drain_ready(lp);
            } else {
                struct conn *c = (struct conn *)k;
                if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
                    conn_close(c);
                    continue;
                }
                conn_run(c);
            }
        }
        bury(lp);
        uint64_t now = xg_now_ms();
        if (now >= next_tick) {
            next_tick = now + 1000;
            check_timeouts(lp);
            bury(lp);
        }
    }
    /* shutdown: close everything this loop owns */
    watch_listeners(lp, false);
    while (lp->conns)
        conn_close(lp->conns);
    bury(lp);
    return NULL;
}

/* ===== start / stop =================================================== */

/* The local socket (XAPI's /var/lib/xcp/xapi): a stale socket file from
 * an earlier run is replaced; root only (0600). */
static int open_local_listener(const char *path, xg_err *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        xg_err_internal(err, "local socket path too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        xg_err_internal(err, "socket: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    mode_t old = umask(0177);
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    umask(old);
    if (!ok || listen(fd, XG_LISTEN_BACKLOG) != 0) {
        xg_err_internal(err, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int open_listener(const char *addr, unsigned port, xg_err *err, unsigned *bound)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        len = sizeof(*s6);
    } else {
        xg_err_internal(err, "bad listen address %s", addr);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        xg_err_internal(err, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, XG_LISTEN_BACKLOG) != 0) {
        xg_err_internal(err, "cannot listen on %s:%u: %s", addr, port, strerror(errno));
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
    return fd;
}

/* http_in asks at the end of a request's headers whether the route
 * streams its body (no body limit, the raw stream handed over). */
static bool route_raw_body(unsigned method, const char *path, size_t len)
{
    const struct xg_http_route_entry *r =
        xg_http_find_route(http_method_str((enum http_method)method), path, len);
    return (r && (r->flags & XG_ROUTE_RAW_BODY)) || xg_http_find_takeover(path, len);
}

bool xg_io_start(const struct xg_listener_cfg *ls, unsigned nls, SSL_CTX *tls,
                 unsigned nthreads, xg_err *err)
{
    if (tls)
        xg_io_set_tls(tls);
    http_limits.max_header_bytes = xg_cfg.max_header_bytes;
    http_limits.max_header_count = XG_MAX_HEADER_COUNT;
    http_limits.max_body_bytes = xg_cfg.max_body_bytes;
    http_limits.raw_body = route_raw_body;
    if (nthreads == 0)
        nthreads = 1;
    if (nthreads > MAX_LOOPS)
        nthreads = MAX_LOOPS;
    unsigned ports[MAX_LISTENERS];
    for (unsigned i = 0; i < nls && i < MAX_LISTENERS; i++) {
        int fd = ls[i].local_path ? open_local_listener(ls[i].local_path, err)
                                  : open_listener(ls[i].addr, ls[i].port, err, &ports[i]);
        if (fd < 0)
            return false;
        listeners[nlisteners].kind = SRC_LISTENER;
        listeners[nlisteners].fd = fd;
        listeners[nlisteners].tls = ls[i].tls;
        listeners[nlisteners].local = ls[i].local_path != NULL;
        nlisteners++;
    }
    for (unsigned i = 0; i < nthreads; i++) {
        struct loop *lp = &loops[i];
        lp->kind = SRC_EVENTFD;
        lp->ep = epoll_create1(EPOLL_CLOEXEC);
        lp->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (lp->ep < 0 || lp->evfd < 0)
            return xg_err_internal(err, "epoll/eventfd: %s", strerror(errno));
        pthread_mutex_init(&lp->mu, NULL);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = lp };
        epoll_ctl(lp->ep, EPOLL_CTL_ADD, lp->evfd, &ev);
        watch_listeners(lp, true);
    }
    for (unsigned i = 0; i < nthreads; i++) {
        if (pthread_create(&loops[i].thr, NULL, loop_main, &loops[i]) != 0)
            return xg_err_internal(err, "cannot start I/O thread");
        nloops++;
    }
    for (unsigned i = 0; i < nlisteners; i++) {
        if (ls[i].local_path) {
            fprintf(stderr, "listening on unix:%s\n", ls[i].local_path);
            continue;
        }
        const char *a = ls[i].addr;
        bool v6 = strchr(a, ':') != NULL;
        /* the readiness line tests and scripts wait for */
        fprintf(stderr, "listening on %s://%s%s%s:%u\n", ls[i].tls ? "https" : "http",
                v6 ? "[" : "", a, v6 ? "]" : "", ports[i]);
    }
    fflush(stderr);
    return true;
}

void xg_io_stop(void)
{
    atomic_store(&stopping, true);
    for (unsigned i = 0; i < nlisteners; i++)
        close(listeners[i].fd);
    for (unsigned i = 0; i < nloops; i++) {
        uint64_t one = 1;
        ssize_t w = write(loops[i].evfd, &one, sizeof(one));
        (void)w;
    }
    for (unsigned i = 0; i < nloops; i++)
        pthread_join(loops[i].thr, NULL);
    nloops = 0;
    xg_http_workers_stop();
}
