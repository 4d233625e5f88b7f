/* test_http_in.c: HTTP framing rules of http_in.c (keep-alive, HTTP/1.0,
 * limits, Content-Length / Transfer-Encoding cases, pipelining, garbage). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_in.h"

static const struct xg_http_limits lim = { 8192, 64, 300 * 1024 };

static enum xg_http_status feed(struct xg_http_in *h, const char *s, size_t n)
{
    enum xg_http_status st = XG_HTTP_MORE;
    while (n) {
        size_t room;
        char *p = xg_http_in_space(h, &room);
        assert_non_null(p);
        size_t k = n < room ? n : room;
        memcpy(p, s, k);
        st = xg_http_in_feed(h, k);
        s += k;
        n -= k;
        if (st != XG_HTTP_MORE)
            break;
    }
    return st;
}

#define FEED(h, s) feed((h), (s), strlen(s))

static void test_post_keepalive(void **st)
{
    struct xg_http_in h;
    xg_http_in_init(&h, &lim);
    assert_int_equal(FEED(&h, "POST /xmlrpc HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                              "task-id: OpaqueRef:1\r\n\r\nhello"), XG_HTTP_REQUEST);
    assert_string_equal(xg_http_in_path(&h), "/xmlrpc");
    assert_int_equal(h.body_len, 5);
    assert_memory_equal(xg_http_in_body(&h), "hello", 5);
    assert_true(xg_http_in_keep_alive(&h));
    assert_false(xg_http_in_http10(&h));
    assert_string_equal(xg_http_in_header(&h, XG_H_TASK_ID), "OpaqueRef:1");
    assert_null(xg_http_in_header(&h, XG_H_COOKIE));
    assert_int_equal(xg_http_in_next(&h), XG_HTTP_MORE);
    assert_false(xg_http_in_pending(&h));
    xg_http_in_free(&h);
}

static void test_http10_and_close(void **st)
{
    struct xg_http_in h;
    xg_http_in_init(&h, &lim);
    assert_int_equal(FEED(&h, "POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), XG_HTTP_REQUEST);
    assert_true(xg_http_in_http10(&h));
    assert_false(xg_http_in_keep_alive(&h));
    xg_http_in_free(&h);
    xg_http_in_init(&h, &lim);
    assert_int_equal(FEED(&h, "POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
                     XG_HTTP_REQUEST);
    assert_false(xg_http_in_keep_alive(&h));
    xg_http_in_free(&h);
}

static void expect_error_on(const struct xg_http_limits *l, const char *req, size_t n, int status)
{
    struct xg_http_in h;
    xg_http_in_init(&h, l);
    assert_int_equal(feed(&h, req, n), XG_HTTP_ERROR);
    assert_int_equal(h.error_status, status);
    xg_http_in_free(&h);
}

#define expect_error(req, status) expect_error_on(&lim, (req), strlen(req), (status))
#define expect_error_lit(req, status) expect_error_on(&lim, (req), sizeof(req) - 1, (status))
/* the same on the limits of a server with raw-body routes */
#define expect_raw_error(l, req, status) expect_error_on((l), (req), strlen(req), (status))

static void test_length_rules(void **st)
{
    expect_error("POST / HTTP/1.1\r\nHost: x\r\n\r\n", 411);
    expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 307201\r\n\r\n", 413);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    /* whitespace before the colon (RFC 7230 3.2.4): http_parser reads these
     * as the framing headers; "Content-Length :2^63+x" hung the network
     * thread doubling a buffer size past 2^64 (fuzz_upload) */
    expect_error("POST / HTTP/1.1\r\nContent-Length :11258999099906842624\r\n\r\nb", 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello", 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length\t: 5\r\n\r\nhello", 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nX Y: 1\r\n\r\n", 400);
}

static void test_header_limits(void **st)
{
    char big[10000];
    int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
    memset(big + n, 'a', 9000);
    big[n + 9000] = '\0';
    expect_error(big, 431);
    char many[4000];
    n = snprintf(many, sizeof(many), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 70; i++)
        n += snprintf(many + n, sizeof(many) - (size_t)n, "H%d: v\r\n", i);
    snprintf(many + n, sizeof(many) - (size_t)n, "\r\n");
    expect_error(many, 431);
}

static void test_garbage(void **st)
{
    expect_error("\x16\x03\x01\x02\x00garbage\r\n\r\n", 400);
    expect_error_lit("GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n", 400);
    expect_error_lit("POST /\0 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400);
    struct xg_http_in h;
    xg_http_in_init(&h, &lim);
    static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    assert_int_equal(feed(&h, nul, sizeof(nul) - 1), XG_HTTP_ERROR);
    xg_http_in_free(&h);
}

/* CONNECT and Upgrade end HTTP on a path that takes the raw stream: the
 * request comes out flagged, the bytes behind it are left for the protocol
 * that follows, never parsed; elsewhere they are refused. */
static bool console_raw(unsigned method, const char *path, size_t len)
{
    (void)method;
    return len == 8 && memcmp(path, "/console", 8) == 0;
}

static void test_upgrade(void **st)
{
    struct xg_http_limits rl = lim;
    rl.raw_body = console_raw;
    struct xg_http_in h;
    xg_http_in_init(&h, &rl);
    assert_int_equal(FEED(&h, "CONNECT /console?uuid=u HTTP/1.0\r\nCookie: session_id=s\r\n\r\n"
                              "RFB 003.008\n"), XG_HTTP_REQUEST);
    assert_true(h.raw);
    assert_true(h.p.upgrade);
    assert_int_equal(h.p.method, HTTP_CONNECT);
    assert_string_equal(xg_http_in_path(&h), "/console");
    assert_string_equal(xg_http_in_query(&h), "uuid=u");
    assert_string_equal(xg_http_in_header(&h, XG_H_COOKIE), "session_id=s");
    size_t n = 0;
    const char *rest = xg_http_in_rest(&h, &n);
    assert_int_equal(n, 12);
    assert_memory_equal(rest, "RFB 003.008\n", 12);
    xg_http_in_free(&h);

    xg_http_in_init(&h, &rl);
    assert_int_equal(FEED(&h, "GET /console HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n"), XG_HTTP_REQUEST);
    assert_true(h.p.upgrade);
    assert_string_equal(xg_http_in_header(&h, XG_H_UPGRADE), "websocket");
    assert_string_equal(xg_http_in_header(&h, XG_H_WS_KEY), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_string_equal(xg_http_in_header(&h, XG_H_WS_VERSION), "13");
    xg_http_in_free(&h);

    /* a streamed body is read up to Content-Length: a chunked one would
     * pass for an empty body, so it is refused (fuzz_upload's first
     * finding: a chunked PUT /import_raw_vdi imported nothing and succeeded) */
    expect_raw_error(&rl, "GET /console HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n0\r\n\r\n", 403);
    expect_raw_error(&rl, "GET /console HTTP/1.1\r\nContent-Length: 5\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400);

    /* a length the exchange's int64_t cannot hold is refused, not read as
     * an empty body (fuzz_upload: 2^63 + x imported nothing); INT64_MAX is
     * taken, and on a body route any length past the bound gets its 413 */
    expect_raw_error(&rl, "GET /console HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", 400);
    expect_raw_error(&rl, "GET /console HTTP/1.1\r\nContent-Length: 11258999099906842624\r\n\r\n", 400);
    xg_http_in_init(&h, &rl);
    assert_int_equal(FEED(&h, "GET /console HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n"),
                     XG_HTTP_REQUEST);
    assert_true(h.raw);
    assert_int_equal(h.p.content_length, INT64_MAX);
    xg_http_in_free(&h);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", 413);

    /* Expect: 100-continue counts on an HTTP/1.1 request with a body only */
    static const struct { const char *req; bool want; } ex[] = {
        { "PUT /console HTTP/1.1\r\nContent-Length: 5\r\nExpect:  100-Continue \r\n\r\n", true },
        { "PUT /console HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continues\r\n\r\n", false },
        { "PUT /console HTTP/1.1\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n", false },
        { "PUT /console HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", false },
        { "PUT /console HTTP/1.1\r\nContent-Length: 5\r\n\r\n", false },
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        xg_http_in_init(&h, &rl);
        assert_int_equal(FEED(&h, ex[i].req), XG_HTTP_REQUEST);
        assert_int_equal(xg_http_in_expects_continue(&h), ex[i].want);
        xg_http_in_free(&h);
    }

    /* another path: no other protocol is served */
    xg_http_in_init(&h, &rl);
    assert_int_equal(FEED(&h, "GET /metrics HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
                     XG_HTTP_ERROR);
    assert_int_equal(h.error_status, 400);
    xg_http_in_free(&h);
}

static void test_pipelining_and_split(void **st)
{
    struct xg_http_in h;
    xg_http_in_init(&h, &lim);
    const char *two = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                      "POST /jsonrpc?x=1 HTTP/1.1\r\nContent-Length: 2\r\n\r\nde"
                      "GET /rrd_updates?start=5&cf=AVERAGE HTTP/1.1\r\n\r\n";
    assert_int_equal(FEED(&h, two), XG_HTTP_REQUEST);
    assert_string_equal(xg_http_in_path(&h), "/a");
    assert_memory_equal(xg_http_in_body(&h), "abc", 3);
    assert_int_equal(xg_http_in_next(&h), XG_HTTP_REQUEST);
    assert_string_equal(xg_http_in_path(&h), "/jsonrpc");
    assert_string_equal(xg_http_in_query(&h), "x=1");
    assert_memory_equal(xg_http_in_body(&h), "de", 2);
    assert_int_equal(xg_http_in_next(&h), XG_HTTP_REQUEST);
    assert_int_equal(h.p.method, HTTP_GET);
    assert_string_equal(xg_http_in_query(&h), "start=5&cf=AVERAGE");
    assert_string_equal(xg_http_in_path(&h), "/rrd_updates");
    assert_int_equal(xg_http_in_next(&h), XG_HTTP_MORE);
    xg_http_in_free(&h);

    /* one byte at a time, with a body larger than the initial buffer */
    xg_http_in_init(&h, &lim);
    char req[20000];
    int n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: 10000\r\n\r\n");
    memset(req + n, 'z', 10000);
    n += 10000;
    enum xg_http_status s = XG_HTTP_MORE;
    for (int i = 0; i < n; i++) {
        s = feed(&h, req + i, 1);
        if (i < n - 1)
            assert_int_equal(s, XG_HTTP_MORE);
    }
    assert_int_equal(s, XG_HTTP_REQUEST);
    assert_int_equal(h.body_len, 10000);
    assert_int_equal(xg_http_in_body(&h)[9999], 'z');
    assert_int_equal(xg_http_in_next(&h), XG_HTTP_MORE);
    xg_http_in_shrink(&h);
    assert_null(h.buf);
    xg_http_in_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_keepalive),
        cmocka_unit_test(test_http10_and_close),
        cmocka_unit_test(test_length_rules),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_upgrade),
        cmocka_unit_test(test_pipelining_and_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
