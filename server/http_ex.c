/* http_ex.c: HTTP route exchanges (see http_routes.h for the model and
 * http_ex.h for the connection's side): authentication as XAPI does it
 * (session_id query/cookie, or Basic checked on the auth pool), the worker
 * pool the handlers run on, and the blocking read/write calls that let a
 * handler stream in bounded memory while its I/O thread stays free.
 * Never touches a socket: the connection moves the bytes. */
#include "http_ex.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "http_routes.h"
#include "hooks.h"
#include "limits.h"
#include "log.h"

#define IN_WINDOW (256 * 1024)          /* request body bytes buffered ahead */
#define BODY_UNBOUNDED UINT64_MAX       /* Upgrade / CONNECT streams */
#define PASSWORD_MAX 1024
#define UNAUTHORISED_HEADERS "WWW-Authenticate: Basic realm=\"xapi\"\r\n"

struct xg_http_ex {
    atomic_uint refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    xg_http_ex *qnext;                  /* worker queue */

    /* read-only after xg_http_ex_new */
    const struct xg_http_route_entry *route;
    struct xg_http_request rq;
    char *strings;                      /* backing store of rq's strings */
    bool head_only;                     /* HEAD: body bytes dropped */
    char user[256];
    char session_ref[128];

    /* request body (mu) */
    char *in;
    size_t in_cap, in_off, in_len;
    uint64_t body_left;                 /* not yet handed in by the connection */
    bool body_seen;                     /* a body byte arrived: no 100 is due any more */
    bool continue_due, continue_sent;   /* Expect: 100-continue (rq.expect_continue) */

    /* answer (mu) */
    bool answered, head_taken, done, keep_alive, want_close;
    bool aborted;                /* xg_http_abort: no end of body, close */
    struct xg_http_ex_head head;
    char ctype[128];
    char *extra;
    int64_t body_written;
    xg_out out;                         /* written, not yet taken */
    size_t unsent;                      /* taken, not yet on the wire */

    /* connection link (mu) */
    bool gone;
    void (*kick)(void *conn);
    void *conn;
};

static void ex_unref(xg_http_ex *x)
{
    if (atomic_fetch_sub(&x->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    xg_out_reset(&x->out);
    free(x->strings);
    free(x->in);
    free(x->extra);
    free(x);
}

/* Caller holds mu. */
static void kick_locked(xg_http_ex *x)
{
    if (x->conn && x->kick)
        x->kick(x->conn);
}

/* Caller holds mu. Expect: 100-continue and the body is wanted: the client
 * waits for the 100 (curl, one second) before sending any of it. */
static void continue_if_due(xg_http_ex *x)
{
    if (x->rq.expect_continue && !x->continue_sent && !x->body_seen) {
        x->continue_sent = x->continue_due = true;
        kick_locked(x);
    }
}

/* ---- creation ---------------------------------------------------------- */

static size_t slen(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *keep(char **p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*p, s, n);
    const char *r = *p;
    *p += n;
    return r;
}

xg_http_ex *xg_http_ex_new(const struct xg_http_ex_init *in)
{
    xg_http_ex *x = calloc(1, sizeof(*x));
    if (!x)
        abort();
    atomic_init(&x->refs, 1);
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    xg_out_init(&x->out);
    x->route = in->route;
    const struct xg_http_request *r = &in->rq;
    size_t n = slen(r->method) + slen(r->path) + slen(r->query) + slen(r->authorization) +
               slen(r->accept) + slen(r->cookie) + slen(r->content_type) +
               slen(r->client_addr);
    x->strings = malloc(n ? n : 1);
    if (!x->strings)
        abort();
    char *p = x->strings;
    x->rq = *r;
    x->rq.method = keep(&p, r->method);
    x->rq.path = keep(&p, r->path);
    x->rq.query = keep(&p, r->query ? r->query : "");
    x->rq.authorization = keep(&p, r->authorization);
    x->rq.accept = keep(&p, r->accept);
    x->rq.cookie = keep(&p, r->cookie);
    x->rq.content_type = keep(&p, r->content_type);
    x->rq.client_addr = keep(&p, r->client_addr ? r->client_addr : "");
    if (!x->rq.query)
        x->rq.query = "";
    x->rq.user = "";
    x->rq.session_ref = NULL;
    x->head_only = strcmp(x->rq.method, "HEAD") == 0;

    size_t pre = in->route->flags & XG_ROUTE_RAW_BODY ? in->raw_rest_len : in->body_len;
    if (in->route->flags & XG_ROUTE_RAW_BODY) {
        x->body_left = r->upgrade || (in->route->flags & XG_ROUTE_STREAM) ? BODY_UNBOUNDED
                                  : (uint64_t)(r->content_length > 0 ? r->content_length : 0);
        if (pre > x->body_left)
            pre = (size_t)x->body_left;     /* bytes beyond the body are not ours */
        x->body_left -= pre;
        x->body_seen = pre > 0;
    }
    x->in_cap = pre > IN_WINDOW ? pre : IN_WINDOW;
    if (!(in->route->flags & XG_ROUTE_RAW_BODY))
        x->in_cap = pre;
    x->in = malloc(x->in_cap ? x->in_cap : 1);
    if (!x->in)
        abort();
    memcpy(x->in, in->route->flags & XG_ROUTE_RAW_BODY ? in->raw_rest : in->body, pre);
    x->in_len = pre;
    x->kick = in->kick;
    x->conn = in->conn;
    return x;
}

/* ---- answering --------------------------------------------------------- */

bool xg_http_respond(xg_http_ex *x, int status, const char *content_type,
                     int64_t content_length, const char *extra_headers)
{
    pthread_mutex_lock(&x->mu);
    if (x->answered) {
        pthread_mutex_unlock(&x->mu);
        return false;
    }
    /* a success answered before the body (import_raw_vdi's 200 with its
     * task) means the body is wanted: the 100 goes first */
    if (status < 300)
        continue_if_due(x);
    x->answered = true;
    x->head.status = status;
    if (content_type) {
        snprintf(x->ctype, sizeof(x->ctype), "%s", content_type);
        x->head.content_type = x->ctype;
    }
    x->extra = strdup(extra_headers ? extra_headers : "");
    if (!x->extra)
        abort();
    x->head.extra_headers = x->extra;
    x->head.content_length = content_length;
    x->head.chunked = content_length == XG_HTTP_UNSIZED && !x->rq.http10 && !x->head_only;
    kick_locked(x);
    pthread_mutex_unlock(&x->mu);
    return true;
}

/* Caller holds mu: appends with chunk framing where the answer is chunked. */
static void append_locked(xg_http_ex *x, const void *data, size_t n)
{
    if (x->head.chunked) {
        char hdr[24];
        int k = snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
        xg_out_append(&x->out, hdr, (size_t)k);
        xg_out_append(&x->out, data, n);
        xg_out_append(&x->out, "\r\n", 2);
    } else {
        xg_out_append(&x->out, data, n);
    }
}

bool xg_http_write(xg_http_ex *x, const void *data, size_t n)
{
    pthread_mutex_lock(&x->mu);
    bool ok = x->answered && !x->gone && x->head.content_length != XG_HTTP_NO_BODY;
    if (!x->answered)
        XG_ERROR("http", "%s: body written before the answer's head", x->rq.path);
    if (ok && n > 0 && !x->head_only) {
        append_locked(x, data, n);
        x->body_written += (int64_t)n;
        kick_locked(x);
        /* back-pressure: this worker waits, the I/O thread does not */
        while (!x->gone && x->out.total + x->unsent > XG_OUT_HIGH_WATER)
            pthread_cond_wait(&x->cv, &x->mu);
        ok = !x->gone;
    } else if (ok && x->head_only) {
        x->body_written += (int64_t)n;
    }
    pthread_mutex_unlock(&x->mu);
    return ok;
}

bool xg_http_reply(xg_http_ex *x, int status, const char *content_type, const char *body)
{
    size_t n = strlen(body);
    return xg_http_respond(x, status, content_type, (int64_t)n, "") &&
           xg_http_write(x, body, n);
}

void xg_http_abort(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    x->aborted = true;
    x->want_close = true;
    pthread_mutex_unlock(&x->mu);
}

bool xg_http_gone(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    bool g = x->gone;
    pthread_mutex_unlock(&x->mu);
    return g;
}

const struct xg_http_request *xg_http_req(const xg_http_ex *x)
{
    return &x->rq;
}

/* The handler returned: close the body, decide keep-alive, wake the loop. */
static void finish(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    if (!x->answered) {
        pthread_mutex_unlock(&x->mu);
        XG_ERROR("http", "%s %s: handler returned without an answer", x->rq.method, x->rq.path);
        xg_http_reply(x, 500, "text/plain", "Internal error\n");
        pthread_mutex_lock(&x->mu);
    }
    if (x->head.chunked && !x->aborted)
        xg_out_append(&x->out, "0\r\n\r\n", 5);
    int64_t cl = x->head.content_length;
    x->keep_alive = !(x->route->flags & XG_ROUTE_RAW_BODY) && cl != XG_HTTP_RAW &&
                    cl != XG_HTTP_HEADLESS && !x->want_close &&
                    (cl >= 0 ? x->body_written == cl
                             : cl == XG_HTTP_NO_BODY || x->head.chunked || x->head_only);
    x->done = true;
    kick_locked(x);
    pthread_mutex_unlock(&x->mu);
}

/* ---- request body ------------------------------------------------------ */

ssize_t xg_http_read(xg_http_ex *x, void *buf, size_t n)
{
    pthread_mutex_lock(&x->mu);
    if (!x->answered)
        continue_if_due(x);             /* the handler wants the body */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += XG_BODY_TIMEOUT_MS / 1000;
    ssize_t r = -1;
    for (;;) {
        if (x->in_len > x->in_off) {
            size_t k = x->in_len - x->in_off;
            if (k > n)
                k = n;
            memcpy(buf, x->in + x->in_off, k);
            x->in_off += k;
            if (x->in_off == x->in_len) {
                x->in_off = x->in_len = 0;
                kick_locked(x);         /* room again: the loop reads on */
            }
            r = (ssize_t)k;
            break;
        }
        if (x->body_left == 0) {
            r = 0;
            break;
        }
        if (x->gone)
            break;
        if (pthread_cond_timedwait(&x->cv, &x->mu, &until) == ETIMEDOUT) {
            XG_DEBUG("http", "%s: request body timed out", x->rq.client_addr);
            break;
        }
    }
    pthread_mutex_unlock(&x->mu);
    return r;
}

size_t xg_http_ex_room(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    size_t room = 0;
    if (x->body_left > 0 && !x->done) {
        if (x->in_off == x->in_len)
            x->in_off = x->in_len = 0;
        room = x->in_cap - x->in_len;
        if (room > x->body_left)
            room = (size_t)x->body_left;
    }
    pthread_mutex_unlock(&x->mu);
    return room;
}

static void feed(xg_http_ex *x, const char *p, size_t n, bool wake)
{
    pthread_mutex_lock(&x->mu);
    if (n > x->in_cap - x->in_len)
        n = x->in_cap - x->in_len;
    if (n > x->body_left)
        n = (size_t)x->body_left;
    memcpy(x->in + x->in_len, p, n);
    x->in_len += n;
    x->body_left -= n;
    if (n)
        x->body_seen = true;
    if (wake)
        pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

void xg_http_ex_feed(xg_http_ex *x, const char *p, size_t n)
{
    feed(x, p, n, true);
}

void xg_http_ex_feed_quiet(xg_http_ex *x, const char *p, size_t n)
{
    feed(x, p, n, false);
}

void xg_http_ex_wake(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

void xg_http_ex_feed_eof(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    x->body_left = 0;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

/* ---- connection side --------------------------------------------------- */

bool xg_http_ex_take(xg_http_ex *x, xg_out *sendq, struct xg_http_ex_head *head,
                     bool *have_head, bool *keep_alive)
{
    pthread_mutex_lock(&x->mu);
    *have_head = false;
    if (x->answered && !x->head_taken) {
        *head = x->head;
        x->head_taken = *have_head = true;
    }
    bool done = false;
    if (x->head_taken) {
        x->unsent += x->out.total;
        xg_out_move(sendq, &x->out);
        done = x->done;
        *keep_alive = x->keep_alive;
    }
    pthread_mutex_unlock(&x->mu);
    return done;
}

bool xg_http_ex_take_continue(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    bool due = x->continue_due;
    x->continue_due = false;
    pthread_mutex_unlock(&x->mu);
    return due;
}

void xg_http_ex_unsent(xg_http_ex *x, size_t unsent)
{
    pthread_mutex_lock(&x->mu);
    x->unsent = unsent;
    if (x->out.total + unsent <= XG_OUT_HIGH_WATER / 2)
        pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

void xg_http_ex_detach(xg_http_ex *x)
{
    pthread_mutex_lock(&x->mu);
    x->gone = true;
    x->conn = NULL;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    ex_unref(x);
}

/* ---- worker pool ------------------------------------------------------- */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static xg_http_ex *pool_head, *pool_tail;
static unsigned nthreads, nidle, nqueued;
static bool pool_stopping;

static void run_buffered_get(xg_http_ex *x)
{
    struct xg_http_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.status = 200;
    rs.content_type = "text/plain";
    xg_out_init(&rs.body);
    x->route->get_fn(&x->rq, &rs);
    rs.extra_headers[sizeof(rs.extra_headers) - 1] = '\0';
    char extra[sizeof(rs.extra_headers) + 160];
    snprintf(extra, sizeof(extra), "%s", rs.extra_headers);
    if (rs.cache_control) {
        size_t k = strlen(extra);
        snprintf(extra + k, sizeof(extra) - k, "cache-control: %s\r\n", rs.cache_control);
    }
    if (rs.status == 304)
        xg_out_reset(&rs.body);
    if (xg_http_respond(x, rs.status, rs.status == 304 ? NULL : rs.content_type,
                        rs.status == 304 ? XG_HTTP_NO_BODY : (int64_t)rs.body.total, extra)) {
        for (struct xg_chunk *ch = rs.body.head; ch; ch = ch->next)
            if (!xg_http_write(x, ch->data, ch->len))
                break;
    }
    xg_out_reset(&rs.body);
    if (rs.close) {
        pthread_mutex_lock(&x->mu);
        x->want_close = true;
        pthread_mutex_unlock(&x->mu);
    }
}

static void unauthorised(xg_http_ex *x)
{
    static const char body[] = "Unauthorised\n";
    xg_http_respond(x, 401, "text/plain", (int64_t)sizeof(body) - 1, UNAUTHORISED_HEADERS);
    xg_http_write(x, body, sizeof(body) - 1);
}

static void serve(xg_http_ex *x)
{
    bool public = x->route->flags & XG_ROUTE_PUBLIC;
    if (!public && x->user[0] == '\0') {
        /* no Basic user: a session named in the query or the cookie */
        xg_err err = XG_ERR_INIT;
        if (!xg_hook_http_session(&x->rq, x->session_ref, sizeof(x->session_ref),
                                  x->user, sizeof(x->user), &err)) {
            unauthorised(x);
            finish(x);
            return;
        }
        x->rq.session_ref = x->session_ref;
    }
    x->rq.user = x->user;
    if (x->route->get_fn)
        run_buffered_get(x);
    else
        x->route->fn(x);
    int status = x->answered ? x->head.status : 500;
    finish(x);
    xg_hook_http_task_end(&x->rq, status);
}

static void *worker_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool_mu);
    for (;;) {
        while (!pool_head && !pool_stopping) {
            nidle++;
            pthread_cond_wait(&pool_cv, &pool_mu);
            nidle--;
        }
        if (!pool_head)
            break;
        xg_http_ex *x = pool_head;
        nqueued--;
        pool_head = x->qnext;
        if (!pool_head)
            pool_tail = NULL;
        pthread_mutex_unlock(&pool_mu);
        serve(x);
        ex_unref(x);
        pthread_mutex_lock(&pool_mu);
    }
    nthreads--;
    pthread_cond_broadcast(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
    return NULL;
}

static void submit(xg_http_ex *x)
{
    pthread_mutex_lock(&pool_mu);
    x->qnext = NULL;
    if (pool_tail)
        pool_tail->qnext = x;
    else
        pool_head = x;
    pool_tail = x;
    /* an idle worker signalled for an earlier request still counts as idle
     * until it wakes: a thread is started whenever the queue outgrows the
     * idle workers, or this request would wait behind that one */
    if (++nqueued > nidle && nthreads < XG_HTTP_WORKERS_MAX && !pool_stopping) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &a, worker_main, NULL) == 0)
            nthreads++;
        else
            XG_WARN("http", "cannot start an HTTP worker; the request waits");
        pthread_attr_destroy(&a);
    }
    pthread_cond_signal(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
}

void xg_http_workers_stop(void)
{
    pthread_mutex_lock(&pool_mu);
    pool_stopping = true;
    pthread_cond_broadcast(&pool_cv);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;                  /* handlers see their clients gone */
    while (nthreads > 0)
        if (pthread_cond_timedwait(&pool_cv, &pool_mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&pool_mu);
}

/* ---- authentication ---------------------------------------------------- */

static void basic_checked(void *arg, bool ok, const xg_err *err)
{
    (void)err;
    xg_http_ex *x = arg;
    if (ok) {
        submit(x);                      /* the worker reference is the auth one */
        return;
    }
    unauthorised(x);
    finish(x);
    ex_unref(x);
}

void xg_http_ex_start(xg_http_ex *x)
{
    const char *a = x->rq.authorization;
    bool basic = !(x->route->flags & XG_ROUTE_PUBLIC) && a && strncasecmp(a, "Basic ", 6) == 0;
    char q[8];
    /* a session reference wins over Basic, as in XAPI */
    if (basic && (xg_query_get(x->rq.query, "session_id", q, sizeof(q)) ||
                  (x->rq.cookie && strstr(x->rq.cookie, "session_id="))))
        basic = false;
    atomic_fetch_add(&x->refs, 1);      /* the auth pool's or the worker's */
    if (x->rq.local_root && !(x->route->flags & XG_ROUTE_PUBLIC)) {
        memcpy(x->user, "root", 5);     /* XAPI's preauth of local root */
        submit(x);
        return;
    }
    if (!basic) {
        submit(x);
        return;
    }
    char cred[sizeof(x->user) + PASSWORD_MAX];
    char *colon = NULL;
    if (xg_http_basic_decode(a + 6, cred, sizeof(cred)))
        colon = strchr(cred, ':');
    if (!colon) {
        unauthorised(x);
        finish(x);
        ex_unref(x);
        return;
    }
    *colon = '\0';
    if (strlen(cred) >= sizeof(x->user)) {
        unauthorised(x);
        finish(x);
        ex_unref(x);
        return;
    }
    memcpy(x->user, cred, strlen(cred) + 1);
    /* the connection stays parked until the pool answers */
    xg_auth_check_async(x->rq.client_addr, cred, colon + 1, basic_checked, x);
    explicit_bzero(cred, sizeof(cred));
}
