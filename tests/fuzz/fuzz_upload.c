/* fuzz_upload.c: libFuzzer target for the size handling of streamed
 * request bodies: PUT /import_raw_vdi (a disk, up to XO's 1 PiB
 * Content-Length closed early), POST /cli and the /console upgrade. The
 * request head goes through http_in.c as conn.c feeds it (reads cut at a
 * step chosen by the first byte); for a raw route the exchange
 * (http_ex.c) is made as conn.c makes it, the rest of the input is fed
 * through its window (xg_http_ex_room/feed, then end of stream) and read
 * back with xg_http_read as the handler reads it.
 * Properties: the handler reads exactly the body the client framed: the
 * bytes after the head, Content-Length of them when one is declared
 * (fewer if the client closes first), all of them on a stream route or an
 * upgrade; a request whose body is framed some other way (Transfer-
 * Encoding) never reaches a raw route, which could not tell where it ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_ex.h"
#include "http_in.h"
#include "http_routes.h"

static void handler(xg_http_ex *x)
{
    (void)x;
}

static bool raw_body(unsigned method, const char *path, size_t len)
{
    const struct xg_http_route_entry *r =
        xg_http_find_route(http_method_str((enum http_method)method), path, len);
    return r && (r->flags & XG_ROUTE_RAW_BODY);
}

static void no_kick(void *conn)
{
    (void)conn;
}

/* The body of one raw-route request: rest (already read with the head)
 * then more, as the connection would read it; returns the bytes the
 * handler read, checked against what the client framed. */
static void run_exchange(struct xg_http_in *h, const struct xg_http_route_entry *route,
                         const uint8_t *more, size_t more_len, size_t step)
{
    size_t rest_len = 0;
    const char *rest = xg_http_in_rest(h, &rest_len);
    const char *path = xg_http_in_path(h);
    enum http_method m = (enum http_method)h->p.method;
    /* what conn.c's handle_route passes (the fields body framing uses) */
    struct xg_http_ex_init in = {
        .route = route,
        .rq = {
            .method = http_method_str(m), .path = path, .query = xg_http_in_query(h),
            .client_addr = "127.0.0.1",
            .content_length = h->has_cl ? (int64_t)h->p.content_length : -1,
            .upgrade = h->p.upgrade, .head = m == HTTP_HEAD,
            .expect_continue = xg_http_in_expects_continue(h),
        },
        .raw_rest = rest, .raw_rest_len = rest_len,
        .kick = no_kick, .conn = NULL,
    };
    if (h->has_te)
        __builtin_trap();                 /* a raw route cannot unframe it */
    xg_http_ex *x = xg_http_ex_new(&in);

    /* the stream the client sent after the head */
    size_t sent_len = rest_len + more_len;
    uint8_t *sent = malloc(sent_len + 1);
    if (rest_len)
        memcpy(sent, rest, rest_len);
    memcpy(sent + rest_len, more, more_len);
    bool unbounded = h->p.upgrade || (route->flags & XG_ROUTE_STREAM);
    size_t want = sent_len;
    if (!unbounded) {
        uint64_t cl = h->has_cl ? h->p.content_length : 0;
        want = cl < sent_len ? (size_t)cl : sent_len;
    }

    uint8_t *got = malloc(sent_len + 1);
    size_t got_len = 0, off = 0;
    bool eof = false;
    for (;;) {
        size_t room = xg_http_ex_room(x);
        if (room > 0 && off < more_len) {
            size_t k = more_len - off < step ? more_len - off : step;
            if (k > room)
                k = room;
            xg_http_ex_feed(x, (const char *)more + off, k);
            off += k;
            continue;
        }
        if (room > 0 && !eof) {
            xg_http_ex_feed_eof(x);       /* the client closed: the body ends */
            eof = true;
            continue;
        }
        /* window full, or the body complete: a read never waits here */
        uint8_t buf[4096];
        ssize_t r = xg_http_read(x, buf, sizeof buf);
        if (r < 0)
            __builtin_trap();
        if (r == 0)
            break;
        if (got_len + (size_t)r > sent_len)
            __builtin_trap();             /* more than the client sent */
        memcpy(got + got_len, buf, (size_t)r);
        got_len += (size_t)r;
    }
    if (got_len != want || memcmp(got, sent, want) != 0)
        __builtin_trap();
    free(got);
    free(sent);
    xg_http_ex_detach(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct xg_http_limits lim = { 8192, 64, 300 * 1024, raw_body };
    static bool routes;
    if (!routes) {
        /* as storage, the CLI and the consoles register them */
        xg_http_route("PUT", "/import_raw_vdi", XG_ROUTE_RAW_BODY, handler);
        xg_http_route("POST", "/cli", XG_ROUTE_PUBLIC | XG_ROUTE_RAW_BODY | XG_ROUTE_STREAM,
                      handler);
        xg_http_route("GET", "/console", XG_ROUTE_RAW_BODY, handler);
        routes = true;
    }
    if (size < 1)
        return 0;
    size_t step = (size_t)(data[0] % 64) * 61 + 1;
    data++;
    size--;
    struct xg_http_in h;
    xg_http_in_init(&h, &lim);
    size_t off = 0;
    while (off < size) {
        size_t room;
        char *p = xg_http_in_space(&h, &room);
        if (!p)
            break;
        size_t k = size - off < step ? size - off : step;
        if (k > room)
            k = room;
        memcpy(p, data + off, k);
        off += k;
        enum xg_http_status s = xg_http_in_feed(&h, k);
        while (s == XG_HTTP_REQUEST) {
            const char *path = xg_http_in_path(&h);
            const struct xg_http_route_entry *r = xg_http_find_route(
                http_method_str((enum http_method)h.p.method), path, strlen(path));
            if (r && (r->flags & XG_ROUTE_RAW_BODY)) {
                /* the rest of the connection is this request's */
                run_exchange(&h, r, data + off, size - off, step);
                xg_http_in_free(&h);
                return 0;
            }
            s = xg_http_in_next(&h);
        }
        if (s == XG_HTTP_ERROR)
            break;
    }
    xg_http_in_free(&h);
    return 0;
}
