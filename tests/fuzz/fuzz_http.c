/* fuzz_http.c: libFuzzer target for the HTTP request side: http_in.c
 * framing (the input is split into reads at a step chosen by its first
 * byte, then every request is taken in order, as conn.c does), and for each
 * complete request what the server reads from it next (http_routes.c): the
 * route its method and path select, the query string, Basic credentials and
 * the session cookie. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http_in.h"
#include "http_routes.h"

static void get_route(const struct xg_http_request *rq, struct xg_http_response *rs) {}

/* The kinds of routes the gateway registers: exact, prefix, other methods. */
static void register_routes(void)
{
    xg_http_register_get("/rrd_updates", get_route);
    xg_http_register_get_flags("/metrics", XG_ROUTE_PUBLIC, get_route);
    xg_http_register_get("/www/*", get_route);
    xg_http_route("PUT", "/import_raw_vdi", XG_ROUTE_RAW_BODY, NULL);
    xg_http_route("GET", "/console", XG_ROUTE_RAW_BODY, NULL);
    xg_http_route("POST", "/cli", 0, NULL);
}

/* As conn.c asks at the end of the headers: does the route stream its body? */
static bool raw_body(unsigned method, const char *path, size_t len)
{
    const struct xg_http_route_entry *r =
        xg_http_find_route(http_method_str((enum http_method)method), path, len);
    return r && (r->flags & XG_ROUTE_RAW_BODY);
}

static void read_request(struct xg_http_in *h)
{
    const char *path = xg_http_in_path(h);
    (void)xg_http_find_route(http_method_str((enum http_method)h->p.method), path,
                             strlen(path));
    const char *q = xg_http_in_query(h);
    for (int i = 0; i < XG_H_COUNT; i++)
        (void)xg_http_in_header(h, (enum xg_hdr)i);
    /* the names the handlers ask for; small buffers reach the truncation */
    static const char *const names[] = {"session_id", "start", "cf", "vm_uuid", "json", ""};
    char val[40];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t pos = 0;
        for (int k = 0; k < 8 && xg_query_next(q, names[i], &pos, val, sizeof val); k++)
            ;
    }
    (void)xg_query_get(q, "uuid", val, 1);
    const char *auth = xg_http_in_header(h, XG_H_AUTHORIZATION);
    char cred[512];
    if (auth && strncasecmp(auth, "Basic ", 6) == 0 &&
        xg_http_basic_decode(auth + 6, cred, sizeof cred) && strlen(cred) >= sizeof cred)
        __builtin_trap();
    char ref[80];
    if (xg_http_cookie_session(xg_http_in_header(h, XG_H_COOKIE), ref, sizeof ref) &&
        (!ref[0] || strlen(ref) >= sizeof ref))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct xg_http_limits lim = { 8192, 64, 300 * 1024, raw_body };
    static bool routes;
    if (!routes) {
        register_routes();
        routes = true;
    }
    struct xg_http_in h;
    xg_http_in_init(&h, &lim);
    size_t step = size ? (data[0] % 64) + 1 : 1;
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
        bool streamed = false;
        while (s == XG_HTTP_REQUEST && !streamed) {
            read_request(&h);
            const char *path = xg_http_in_path(&h);
            streamed = raw_body(h.p.method, path, strlen(path));
            if (streamed) {
                /* the rest of the stream is the route's: the connection ends */
                size_t n;
                const char *rest = xg_http_in_rest(&h, &n);
                if (n && !rest)
                    __builtin_trap();
                break;
            }
            s = xg_http_in_next(&h);
        }
        if (streamed)
            break;
        if (s == XG_HTTP_ERROR)
            break;
    }
    xg_http_in_free(&h);
    return 0;
}
