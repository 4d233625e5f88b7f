/* service.c: the console thread. It owns every /console stream after the
 * I/O thread handed it over: answers the HTTP request (101 for WebSocket,
 * 200 for CONNECT, or the refusal), then serves RFB from a shared text
 * screen or relays a device model's VNC server, with level-triggered epoll
 * and non-blocking sockets only.
 *
 * Flow control per viewer: client bytes are read only while its queue
 * holds less than XG_CONSOLE_VIEWER_OUT_BYTES; RFB rectangles are made only
 * below CONS_LOW_WATER; a relayed VNC server is read only below it too. So
 * a viewer that stops reading stops costing anything beyond its queue and
 * never holds back the screen or other viewers. The world lock is taken
 * only inside xg_console_hook_resolve, briefly, at connection time. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "../../server/http_routes.h"
#include "../../server/limits.h"
#include "../../server/log.h"
#include "../../server/sock_io.h"
#include "../../server/timer.h"
#include "cons_internal.h"
#include "console.h"

#define CONS_LOW_WATER (64 * 1024)
#define READ_CHUNK (16 * 1024)
#define SOURCE_READ_BUDGET (64 * 1024)   /* guest bytes per wake, for fairness */

enum tag { TAG_WAKE, TAG_VIEWER, TAG_BACKEND, TAG_SOURCE };

/* A handed-over connection waiting for the console thread. */
struct handoff {
    struct handoff *next;
    int fd;
    SSL *ssl;
    bool connect, ws_ok, ws_version_ok;
    char ws_accept[29];
    char *query, *cookie;
    char addr[48];
    char *rest;
    size_t rest_len;
};

/* A guest's text console, shared by its viewers. */
struct source {
    enum tag tag;
    struct source *next;
    int fd;
    uint32_t domid;
    char vm_uuid[XG_UUID_STR];
    struct cons_term *term;
    unsigned nviewers;
    uint64_t idle_since;             /* last viewer left (ms), for lingering */
    bool want_out;
};

struct backend {
    enum tag tag;
    struct cons_viewer *v;
};

struct cons_viewer {
    enum tag tag;
    struct cons_viewer *prev, *next;  /* all viewers */
    struct cons_viewer *tnext;        /* viewers of the same source */
    int fd;
    SSL *ssl;
    bool ws;
    struct cons_ws wsd;
    struct source *src;               /* text console, or NULL when relaying */
    bool raw;                         /* vt100: the text itself, not RFB */
    struct cons_rfb rfb;
    int bfd;                          /* relayed VNC server, or -1 */
    struct backend be;
    xg_out out;                       /* to the client, framed */
    xg_out stage;                     /* payload before framing */
    xg_out to_backend;                /* relay: client bytes for the VNC server */
    bool closing;                     /* flush what is queued, then close */
    bool established;
    uint32_t events, bevents;         /* what epoll watches now */
    uint64_t deadline;                /* handshake, closing or write stall */
    char addr[48];
};

static struct {
    int ep, wake;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    pthread_mutex_t mu;
    struct handoff *queue;            /* from I/O threads */
    atomic_uint streams;              /* handed over and not yet closed */
    struct cons_viewer *viewers;
    struct source *sources;
    enum tag wake_tag;
} S = { .ep = -1, .wake = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .wake_tag = TAG_WAKE };

/* ===== small helpers ================================================== */

static void free_ssl(SSL *ssl)
{
    if (!ssl)
        return;
    SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
}

static void watch(int fd, void *tag, uint32_t *cur, uint32_t want)
{
    if (*cur == want)
        return;
    struct epoll_event ev = { .events = want, .data.ptr = tag };
    epoll_ctl(S.ep, *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    *cur = want;
}

/* ===== sources ======================================================= */

static struct source *source_find(uint32_t domid, const char *uuid)
{
    for (struct source *s = S.sources; s; s = s->next)
        if (s->domid == domid && strcmp(s->vm_uuid, uuid) == 0 && s->fd >= 0)
            return s;
    return NULL;
}

static void viewer_close(struct cons_viewer *v);

static void source_close(struct source *s)
{
    /* the stream ends with the console: every viewer goes */
    while (cons_term_viewers(s->term))
        viewer_close(cons_term_viewers(s->term));
    for (struct source **pp = &S.sources; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    close(s->fd);
    cons_term_free(s->term);
    free(s);
}

static void source_watch(struct source *s)
{
    struct epoll_event ev = { .events = EPOLLIN | (cons_term_has_input(s->term) ? EPOLLOUT : 0),
                              .data.ptr = s };
    epoll_ctl(S.ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* The screen of source arg changed: every viewer of it redraws the cells. */
static void source_damage(void *arg, int row, int c0, int c1)
{
    struct source *s = arg;
    if (!s->term)
        return;                      /* cons_term_new draws the blank screen */
    for (struct cons_viewer *v = cons_term_viewers(s->term); v; v = v->tnext)
        cons_rfb_damage(&v->rfb, row, c0, c1);
}

static struct source *source_open(const struct xg_console_target *t, int fd)
{
    struct source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->term = cons_term_new(source_damage, s);
    if (!s->term) {
        free(s);
        return NULL;
    }
    s->tag = TAG_SOURCE;
    s->fd = fd;
    s->domid = t->domid;
    memcpy(s->vm_uuid, t->vm_uuid, sizeof s->vm_uuid);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
    epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev);
    s->next = S.sources;
    S.sources = s;
    return s;
}

/* ===== viewers: output =============================================== */

static void viewer_commit(struct cons_viewer *v)
{
    if (v->ws)
        cons_ws_frame(&v->out, &v->stage);
    else
        xg_out_move(&v->out, &v->stage);
}

static void viewer_pump(struct cons_viewer *v)
{
    if (!v->src || v->raw || v->closing)
        return;
    while (xg_out_pending(&v->out) < CONS_LOW_WATER) {
        size_t before = v->stage.total;
        cons_rfb_pump(&v->rfb, v->src->term, &v->stage);
        if (v->stage.total == before)
            break;
        viewer_commit(v);
    }
}

static bool viewer_has_more(const struct cons_viewer *v)
{
    return v->src && !v->raw && !v->closing && v->rfb.sending;
}

static void viewer_rewatch(struct cons_viewer *v)
{
    size_t pending = xg_out_pending(&v->out);
    uint32_t want = 0;
    if (!v->closing && pending < XG_CONSOLE_VIEWER_OUT_BYTES)
        want |= EPOLLIN;
    if (pending || viewer_has_more(v))
        want |= EPOLLOUT;
    watch(v->fd, v, &v->events, want ? want : EPOLLRDHUP);
    if (v->bfd >= 0) {
        uint32_t bw = 0;
        if (!v->closing && pending < CONS_LOW_WATER)
            bw |= EPOLLIN;
        if (xg_out_pending(&v->to_backend))
            bw |= EPOLLOUT;
        watch(v->bfd, &v->be, &v->bevents, bw ? bw : EPOLLRDHUP);
    }
}

/* Sends what is queued; false when the viewer is gone. */
static bool viewer_flush(struct cons_viewer *v)
{
    bool progress = false;
    enum xg_io r = xg_sock_flush(v->fd, v->ssl, &v->out, &progress);
    if (r == XG_IO_EOF) {
        viewer_close(v);
        return false;
    }
    uint64_t now = xg_now_ms();
    if (progress && v->established && !v->closing)
        v->deadline = now + XG_WRITE_TIMEOUT_MS;
    if (r == XG_IO_OK && v->closing) {
        viewer_close(v);
        return false;
    }
    return true;
}

static void viewer_refuse(struct cons_viewer *v, int status, const char *reason)
{
    xg_out_printf(&v->out, "HTTP/1.1 %d %s\r\ncontent-length: 0\r\nconnection: close\r\n"
                  "cache-control: no-cache, no-store\r\n\r\n", status, reason);
    v->closing = true;
    v->deadline = xg_now_ms() + XG_CONSOLE_HANDSHAKE_MS;
}

/* ===== viewers: input ================================================ */

static bool deliver(void *arg, uint8_t *p, size_t n)
{
    struct cons_viewer *v = arg;
    if (v->src && v->raw) {
        cons_term_send(v->src->term, (const char *)p, n);
        source_watch(v->src);
        return true;
    }
    if (v->src) {
        if (!cons_rfb_input(&v->rfb, v->src->term, p, n, &v->stage))
            return false;
        viewer_commit(v);
        if (cons_term_has_input(v->src->term))
            source_watch(v->src);
        return true;
    }
    xg_out_append(&v->to_backend, p, n);
    return true;
}

static void viewer_read(struct cons_viewer *v)
{
    uint8_t buf[READ_CHUNK];
    while (!v->closing && xg_out_pending(&v->out) < XG_CONSOLE_VIEWER_OUT_BYTES &&
           xg_out_pending(&v->to_backend) < XG_CONSOLE_VIEWER_OUT_BYTES) {
        size_t got = 0;
        enum xg_io r = xg_sock_read(v->fd, v->ssl, (char *)buf, sizeof buf, &got);
        if (r == XG_IO_AGAIN)
            break;
        if (r == XG_IO_EOF) {
            viewer_close(v);
            return;
        }
        bool ok = v->ws ? cons_ws_input(&v->wsd, buf, got, &v->out, deliver, v)
                        : deliver(v, buf, got);
        if (!ok) {
            XG_INFO("console", "%s: protocol error, closing", v->addr);
            viewer_close(v);
            return;
        }
        if (v->ws && v->wsd.closed) {
            v->closing = true;       /* our close frame is queued */
            v->deadline = xg_now_ms() + XG_CONSOLE_HANDSHAKE_MS;
        }
        if (v->src && !v->raw && !v->established && cons_rfb_ready(&v->rfb)) {
            v->established = true;
            v->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
        }
    }
}

static void viewer_backend_io(struct cons_viewer *v, uint32_t events)
{
    if (xg_out_pending(&v->to_backend)) {
        bool progress = false;
        if (xg_sock_flush(v->bfd, NULL, &v->to_backend, &progress) == XG_IO_EOF) {
            viewer_close(v);
            return;
        }
    }
    char buf[READ_CHUNK];
    while (!v->closing && xg_out_pending(&v->out) < CONS_LOW_WATER) {
        size_t got = 0;
        enum xg_io r = xg_sock_read(v->bfd, NULL, buf, sizeof buf, &got);
        if (r == XG_IO_AGAIN)
            break;
        if (r == XG_IO_EOF) {
            /* the device model went away (the VM stopped): so does the stream */
            if (v->ws)
                cons_ws_close_frame(&v->out);
            v->closing = true;
            v->deadline = xg_now_ms() + XG_CONSOLE_HANDSHAKE_MS;
            break;
        }
        xg_out_append(&v->stage, buf, got);
        viewer_commit(v);
    }
    (void)events;
}

static void viewer_close(struct cons_viewer *v)
{
    if (v->src) {
        struct source *s = v->src;
        struct cons_viewer **pp = NULL, *head = cons_term_viewers(s->term);
        if (head == v) {
            cons_term_set_viewers(s->term, v->tnext);
        } else {
            for (struct cons_viewer *p = head; p; p = p->tnext) {
                if (p->tnext == v) {
                    pp = &p->tnext;
                    break;
                }
            }
            if (pp)
                *pp = v->tnext;
        }
        if (--s->nviewers == 0)
            s->idle_since = xg_now_ms();
        v->src = NULL;
    }
    if (v->prev)
        v->prev->next = v->next;
    else
        S.viewers = v->next;
    if (v->next)
        v->next->prev = v->prev;
    free_ssl(v->ssl);
    close(v->fd);
    if (v->bfd >= 0)
        close(v->bfd);
    xg_out_reset(&v->out);
    xg_out_reset(&v->stage);
    xg_out_reset(&v->to_backend);
    free(v);
    atomic_fetch_sub(&S.streams, 1);
}

static void viewer_io(struct cons_viewer *v, uint32_t events)
{
    if (!viewer_flush(v))
        return;
    if (!v->closing && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
        viewer_read(v);
    else if (!v->closing && v->ssl && SSL_pending(v->ssl) > 0)
        viewer_read(v);              /* TLS holds decrypted bytes epoll cannot see */
}

/* Every event ends here: produce and send while the socket takes it (a
 * bounded number of rounds, then the next writable event continues), and
 * watch the right things. */
static void viewer_settle(struct cons_viewer *v)
{
    for (int round = 0; round < 16; round++) {
        viewer_pump(v);
        if (!viewer_flush(v))
            return;
        if (xg_out_pending(&v->out) || !viewer_has_more(v))
            break;
    }
    viewer_rewatch(v);
}

/* ===== new streams ==================================================== */

static struct cons_viewer *viewer_new(struct handoff *h)
{
    struct cons_viewer *v = calloc(1, sizeof *v);
    if (!v)
        abort();
    v->tag = TAG_VIEWER;
    v->fd = h->fd;
    v->ssl = h->ssl;
    v->bfd = -1;
    v->be.tag = TAG_BACKEND;
    v->be.v = v;
    v->ws = !h->connect;
    cons_ws_init(&v->wsd);
    xg_out_init(&v->out);
    xg_out_init(&v->stage);
    xg_out_init(&v->to_backend);
    v->deadline = xg_now_ms() + XG_CONSOLE_HANDSHAKE_MS;
    memcpy(v->addr, h->addr, sizeof v->addr);
    v->next = S.viewers;
    if (S.viewers)
        S.viewers->prev = v;
    S.viewers = v;
    return v;
}

static void answer_ok(struct cons_viewer *v, const struct handoff *h)
{
    if (h->connect)
        xg_out_puts(&v->out, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
                             "Cache-Control: no-cache, no-store\r\n\r\n");
    else
        /* XAPI always answers "binary", which both XO clients offer */
        xg_out_printf(&v->out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                      "Sec-WebSocket-Protocol: binary\r\n\r\n", h->ws_accept);
}

static void attach_text(struct cons_viewer *v, const struct xg_console_target *t, int fd)
{
    struct source *s = fd >= 0 ? source_open(t, fd) : source_find(t->domid, t->vm_uuid);
    if (!s) {
        if (fd >= 0)
            close(fd);
        viewer_refuse(v, 500, "Internal Server Error");
        return;
    }
    v->src = s;
    v->tnext = cons_term_viewers(s->term);
    cons_term_set_viewers(s->term, v);
    s->nviewers++;
    v->raw = t->raw_text;
    if (v->raw) {
        v->established = true;       /* no handshake: the text flows at once */
        v->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
    } else {
        cons_rfb_init(&v->rfb, &v->stage);
    }
}

static void start_stream(struct handoff *h)
{
    struct cons_viewer *v = viewer_new(h);
    struct xg_console_target t;
    int st = !h->connect && !h->ws_version_ok ? 426 : !h->connect && !h->ws_ok ? 400 : 0;
    if (st == 0)
        st = xg_console_hook_resolve(h->query, h->cookie, &t);
    if (st == 426) {
        xg_out_puts(&v->out, "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                             "content-length: 0\r\nconnection: close\r\n\r\n");
        v->closing = true;
    } else if (st) {
        const char *why = st == 400 ? "Bad Request" : st == 401 ? "Unauthorized"
                        : st == 403 ? "Forbidden" : st == 404 ? "Not Found" : "Error";
        XG_INFO("console", "%s: refused with %d", v->addr, st);
        viewer_refuse(v, st, why);
    } else {
        int fd = -1;
        enum xg_console_kind kind = XG_CONSOLE_TEXT;
        xg_err err = XG_ERR_INIT;
        bool shared = source_find(t.domid, t.vm_uuid) != NULL;
        if (!shared && !xg_console_hook_open(&t, &kind, &fd, &err)) {
            XG_INFO("console", "%s: domain %u: no console: %s", v->addr, t.domid,
                    err.nparams > 0 ? err.param[0] : err.code);
            xg_err_clear(&err);
            viewer_refuse(v, 404, "Not Found");
        } else if (kind == XG_CONSOLE_RFB && t.raw_text) {
            close(fd);                   /* a graphical console has no text stream */
            viewer_refuse(v, 404, "Not Found");
        } else {
            answer_ok(v, h);
            if (kind == XG_CONSOLE_RFB) {
                v->bfd = fd;
                v->established = true;
                v->deadline = xg_now_ms() + XG_WRITE_TIMEOUT_MS;
            } else {
                attach_text(v, &t, shared ? -1 : fd);
            }
            XG_INFO("console", "%s: %s console of domain %u (%s)", v->addr,
                    kind == XG_CONSOLE_RFB ? "VNC" : t.raw_text ? "vt100" : "text", t.domid,
                    h->connect ? "CONNECT" : "WebSocket");
        }
    }
    viewer_commit(v);
    if (!viewer_flush(v))
        return;
    /* bytes the client sent right behind its request */
    if (h->rest_len && !v->closing) {
        bool ok = v->ws ? cons_ws_input(&v->wsd, (uint8_t *)h->rest, h->rest_len, &v->out,
                                        deliver, v)
                        : deliver(v, (uint8_t *)h->rest, h->rest_len);
        if (!ok) {
            viewer_close(v);
            return;
        }
    }
    viewer_io(v, EPOLLIN);
    for (struct cons_viewer *p = S.viewers; p; p = p->next)
        if (p == v) {
            viewer_settle(v);
            break;
        }
}

static void handoff_free(struct handoff *h)
{
    free(h->query);
    free(h->cookie);
    free(h->rest);
    free(h);
}

/* ===== the thread ===================================================== */

/* The guest's bytes as they are, to its vt100 viewers; a viewer whose
 * queue is full misses them (a text console has no flow control back to
 * the guest, and one slow reader must not hold the others). */
static void raw_forward(struct source *s, const char *buf, size_t n)
{
    for (struct cons_viewer *v = cons_term_viewers(s->term); v; v = v->tnext) {
        if (!v->raw || v->closing || xg_out_pending(&v->out) >= XG_CONSOLE_VIEWER_OUT_BYTES)
            continue;
        xg_out_append(&v->stage, buf, n);
        viewer_commit(v);
    }
}

static void source_io(struct source *s, uint32_t events)
{
    char buf[READ_CHUNK];
    size_t budget = SOURCE_READ_BUDGET;
    bool gone = false;
    if (cons_term_has_input(s->term)) {
        char keys[READ_CHUNK];
        size_t n = cons_term_take_input(s->term, keys, sizeof keys);
        ssize_t w = write(s->fd, keys, n);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            gone = true;
        /* what did not fit is dropped: a guest not reading its console */
    }
    while (!gone && budget > 0) {
        ssize_t r = read(s->fd, buf, sizeof buf);
        if (r > 0) {
            cons_term_feed(s->term, buf, (size_t)r);
            raw_forward(s, buf, (size_t)r);
            budget -= (size_t)r < budget ? (size_t)r : budget;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        gone = true;                 /* EOF, or EIO on a pty: the domain is gone */
    }
    if (gone || (events & (EPOLLHUP | EPOLLERR) && budget == SOURCE_READ_BUDGET)) {
        XG_INFO("console", "domain %u: console closed", s->domid);
        source_close(s);
        return;
    }
    source_watch(s);
    for (struct cons_viewer *v = cons_term_viewers(s->term), *n; v; v = n) {
        n = v->tnext;
        viewer_settle(v);
    }
}

static bool is_viewer(struct cons_viewer *v)
{
    for (struct cons_viewer *p = S.viewers; p; p = p->next)
        if (p == v)
            return true;
    return false;
}

static void check_timers(void)
{
    uint64_t now = xg_now_ms();
    for (struct cons_viewer *v = S.viewers, *n; v; v = n) {
        n = v->next;
        bool stalled = xg_out_pending(&v->out) > 0 || !v->established || v->closing;
        if (stalled && now >= v->deadline) {
            XG_INFO("console", "%s: timed out", v->addr);
            viewer_close(v);
        } else if (!stalled) {
            v->deadline = now + XG_WRITE_TIMEOUT_MS;
        }
    }
    for (struct source *s = S.sources, *n; s; s = n) {
        n = s->next;
        if (s->nviewers == 0 && now >= s->idle_since + XG_CONSOLE_LINGER_MS)
            source_close(s);
    }
}

static void take_handoffs(void)
{
    uint64_t v;
    ssize_t r = read(S.wake, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&S.mu);
    struct handoff *h = S.queue;
    S.queue = NULL;
    pthread_mutex_unlock(&S.mu);
    /* oldest first */
    struct handoff *rev = NULL;
    while (h) {
        struct handoff *n = h->next;
        h->next = rev;
        rev = h;
        h = n;
    }
    for (h = rev; h; h = rev) {
        rev = h->next;
        start_stream(h);
        handoff_free(h);
    }
}

static void *console_main(void *arg)
{
    (void)arg;
    struct epoll_event evs[64];
    uint64_t next_tick = xg_now_ms() + 1000;
    while (!atomic_load(&S.stop)) {
        int n = epoll_wait(S.ep, evs, 64, 1000);
        for (int i = 0; i < n; i++) {
            enum tag *tag = evs[i].data.ptr;
            uint32_t e = evs[i].events;
            switch (*tag) {
            case TAG_WAKE:
                take_handoffs();
                break;
            case TAG_SOURCE:
                source_io((struct source *)tag, e);
                break;
            case TAG_VIEWER: {
                struct cons_viewer *v = (struct cons_viewer *)tag;
                if (!is_viewer(v))
                    break;           /* closed earlier in this batch */
                viewer_io(v, e);
                if (is_viewer(v))
                    viewer_settle(v);
                break;
            }
            case TAG_BACKEND: {
                struct cons_viewer *v = ((struct backend *)tag)->v;
                if (!is_viewer(v))
                    break;
                viewer_backend_io(v, e);
                if (is_viewer(v))
                    viewer_settle(v);
                break;
            }
            }
        }
        uint64_t now = xg_now_ms();
        if (now >= next_tick) {
            next_tick = now + 1000;
            check_timers();
        }
    }
    while (S.viewers)
        viewer_close(S.viewers);
    while (S.sources)
        source_close(S.sources);
    return NULL;
}

/* ===== hand-over (I/O threads) ======================================= */

static char *dup_or_empty(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

static void refuse_now(const struct xg_http_takeover *t)
{
    /* best effort, never blocks: the client may not even read it */
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n"
                               "connection: close\r\n\r\n";
    size_t put = 0;
    xg_sock_write(t->fd, (SSL *)t->ssl, busy, sizeof busy - 1, &put);
    free_ssl((SSL *)t->ssl);
    close(t->fd);
}

static void on_takeover(const struct xg_http_takeover *t)
{
    if (atomic_fetch_add(&S.streams, 1) >= XG_CONSOLE_MAX_VIEWERS || atomic_load(&S.stop)) {
        atomic_fetch_sub(&S.streams, 1);
        XG_WARN("console", "%s: %u console streams open already, refused", t->client_addr,
                XG_CONSOLE_MAX_VIEWERS);
        refuse_now(t);
        return;
    }
    struct handoff *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    h->fd = t->fd;
    h->ssl = (SSL *)t->ssl;
    h->connect = t->connect;
    if (!t->connect) {
        h->ws_version_ok = t->ws_version && strcmp(t->ws_version, "13") == 0;
        h->ws_ok = t->upgrade && strcasecmp(t->upgrade, "websocket") == 0 && t->ws_key &&
                   cons_ws_accept(t->ws_key, h->ws_accept);
    }
    h->query = dup_or_empty(t->query);
    h->cookie = dup_or_empty(t->cookie);
    snprintf(h->addr, sizeof h->addr, "%s", t->client_addr ? t->client_addr : "");
    if (t->rest_len) {
        h->rest = malloc(t->rest_len);
        if (!h->rest)
            abort();
        memcpy(h->rest, t->rest, t->rest_len);
        h->rest_len = t->rest_len;
    }
    pthread_mutex_lock(&S.mu);
    h->next = S.queue;
    S.queue = h;
    pthread_mutex_unlock(&S.mu);
    uint64_t one = 1;
    ssize_t w = write(S.wake, &one, sizeof one);
    (void)w;
}

bool xg_console_init(xg_err *err)
{
    S.ep = epoll_create1(EPOLL_CLOEXEC);
    S.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (S.ep < 0 || S.wake < 0)
        return xg_err_internal(err, "console: epoll/eventfd: %s", strerror(errno));
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &S.wake_tag };
    epoll_ctl(S.ep, EPOLL_CTL_ADD, S.wake, &ev);
    if (pthread_create(&S.thread, NULL, console_main, NULL) != 0)
        return xg_err_internal(err, "console: cannot start its thread");
    S.running = true;
    xg_http_register_takeover("/console", on_takeover);
    return true;
}

void xg_console_shutdown(void)
{
    if (!S.running)
        return;
    atomic_store(&S.stop, true);
    uint64_t one = 1;
    ssize_t w = write(S.wake, &one, sizeof one);
    (void)w;
    pthread_join(S.thread, NULL);
    S.running = false;
    pthread_mutex_lock(&S.mu);
    struct handoff *h = S.queue;
    S.queue = NULL;
    pthread_mutex_unlock(&S.mu);
    for (struct handoff *n; h; h = n) {
        n = h->next;
        free_ssl(h->ssl);
        close(h->fd);
        handoff_free(h);
    }
}
