/* test_http_ex.c: the route exchange API (http_routes.h) over real sockets:
 * authentication (no credentials → 401, session_id, Basic on the auth pool),
 * a streamed request body far above the RPC body limit (Content-Length and
 * XO's huge-length-then-close form), a streamed unsized answer (chunked),
 * HEAD through a GET route, and keep-alive after a complete answer. */
#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "config.h"
#include "http_routes.h"
#include "loopback.h"
#include "transport.h"

#define BIG_BODY (5u * 1024 * 1024)     /* > XG_MAX_BODY_BYTES */
#define STREAM_BYTES (8u * 1024 * 1024)

static unsigned port;

static int dial(void)
{
    int fd = loopback_dial(port, 20);
    assert_true(fd >= 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        c += w;
        n -= (size_t)w;
    }
}

/* Reads one response whose body is content-length framed (or up to EOF);
 * headers only for a HEAD. */
static size_t read_response_head(int fd, char *buf, size_t cap, bool head_only)
{
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        const char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strstr(buf, "content-length: ");
        if (end && head_only)
            break;
        if (end && cl && cl < end && n >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
            break;
    }
    buf[n] = '\0';
    return n;
}

static size_t read_response(int fd, char *buf, size_t cap)
{
    return read_response_head(fd, buf, cap, false);
}

/* ---- the routes under test -------------------------------------------- */

/* Counts the body and sums its bytes: proves every byte arrived, in order. */
static void upload(xg_http_ex *x)
{
    static _Thread_local char buf[100000];
    uint64_t n = 0, sum = 0;
    ssize_t r;
    while ((r = xg_http_read(x, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < r; i++)
            sum = sum * 31 + (unsigned char)buf[i];
        n += (uint64_t)r;
    }
    char out[128];
    snprintf(out, sizeof(out), "%s n=%llu sum=%llu user=%s", r == 0 ? "end" : "error",
             (unsigned long long)n, (unsigned long long)sum, xg_http_req(x)->user);
    xg_http_reply(x, 200, "text/plain", out);
}

static void stream(xg_http_ex *x)
{
    static char block[65536];
    memset(block, 'z', sizeof(block));
    assert_true(xg_http_respond(x, 200, "application/octet-stream", XG_HTTP_UNSIZED, ""));
    for (unsigned i = 0; i < STREAM_BYTES / sizeof(block); i++)
        if (!xg_http_write(x, block, sizeof(block)))
            return;
}

/* Handlers that each wait (up to 5 s) until RENDEZVOUS of them run at once:
 * requests arriving together must not queue behind one another. */
#define RENDEZVOUS 8
static pthread_mutex_t rv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rv_cv = PTHREAD_COND_INITIALIZER;
static unsigned rv_inside;

static void rendezvous(xg_http_ex *x)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&rv_mu);
    rv_inside++;
    pthread_cond_broadcast(&rv_cv);
    bool met = true;
    while (rv_inside < RENDEZVOUS && met)
        met = pthread_cond_timedwait(&rv_cv, &rv_mu, &until) == 0 || rv_inside >= RENDEZVOUS;
    pthread_mutex_unlock(&rv_mu);
    xg_http_reply(x, 200, "text/plain", met ? "met" : "alone");
}

static void hello(const struct xg_http_request *rq, struct xg_http_response *rs)
{
    xg_out_printf(&rs->body, "hello %s", rq->user);
}

static uint64_t expect_sum(size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = sum * 31 + (unsigned char)('a' + i % 26);
    return sum;
}

static char *pattern(size_t n)
{
    char *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + i % 26);
    return p;
}

/* ---- tests ------------------------------------------------------------ */

/* Sends req on fd and checks the answer's status line and that its text
 * contains want (NULL: anything). */
static void expect(int fd, const char *req, const char *status, const char *want)
{
    char buf[4096];
    send_all(fd, req, strlen(req));
    read_response(fd, buf, sizeof(buf));
    assert_true(strncmp(buf, status, strlen(status)) == 0);
    if (want)
        assert_non_null(strstr(buf, want));
}

static void test_auth(void **st)
{
    (void)st;
    static const char ses[] = "GET /hello?session_id=OpaqueRef:ok HTTP/1.1\r\n\r\n";
    int fd = dial();
    expect(fd, "GET /hello HTTP/1.1\r\n\r\n", "HTTP/1.1 401 ",
           "WWW-Authenticate: Basic realm=\"xapi\"\r\n");
    /* kept alive after the 401; a session in the query is accepted */
    expect(fd, ses, "HTTP/1.1 200 ", "\r\n\r\nhello root");
    expect(fd, "GET /hello?session_id=OpaqueRef:nope HTTP/1.1\r\n\r\n", "HTTP/1.1 401 ", NULL);
    /* Basic: alice:secret (base64), checked on the auth pool */
    expect(fd, "GET /hello HTTP/1.1\r\nAuthorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n",
           "HTTP/1.1 200 ", "\r\n\r\nhello alice");
    expect(fd, "GET /hello HTTP/1.1\r\nAuthorization: Basic YWxpY2U6d3Jvbmc=\r\n\r\n",
           "HTTP/1.1 401 ", NULL);
    expect(fd, "GET /hello HTTP/1.1\r\nAuthorization: Basic !!!\r\n\r\n", "HTTP/1.1 401 ", NULL);
    /* HEAD through the GET route: the length, no body */
    char buf[4096];
    const char head[] = "HEAD /hello?session_id=OpaqueRef:ok HTTP/1.1\r\n\r\n";
    send_all(fd, head, sizeof(head) - 1);
    size_t n = read_response_head(fd, buf, sizeof(buf), true);
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(buf, "content-length: 10\r\n"));
    assert_int_equal(n, (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf));
    /* and the connection is still in step: no body bytes followed */
    expect(fd, ses, "HTTP/1.1 200 ", "\r\n\r\nhello root");
    close(fd);
}

static void test_put_streamed_body(void **st)
{
    (void)st;
    char *body = pattern(BIG_BODY);
    char head[256], buf[4096];
    int fd = dial();
    int k = snprintf(head, sizeof(head), "PUT /upload?session_id=OpaqueRef:ok HTTP/1.1\r\n"
                     "Content-Length: %u\r\n\r\n", BIG_BODY);
    send_all(fd, head, (size_t)k);
    send_all(fd, body, BIG_BODY);
    read_response(fd, buf, sizeof(buf));
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    char want[128];
    snprintf(want, sizeof(want), "end n=%u sum=%llu user=root", BIG_BODY,
             (unsigned long long)expect_sum(BIG_BODY));
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "connection: close\r\n"));
    close(fd);

    /* XO's form: a 1 PiB length, then the client closes its sending side */
    fd = dial();
    k = snprintf(head, sizeof(head), "PUT /upload?session_id=OpaqueRef:ok HTTP/1.1\r\n"
                 "Content-Length: 1125899906842624\r\n\r\n");
    send_all(fd, head, (size_t)k);
    send_all(fd, body, BIG_BODY / 5);
    shutdown(fd, SHUT_WR);
    read_response(fd, buf, sizeof(buf));
    snprintf(want, sizeof(want), "end n=%u sum=%llu", BIG_BODY / 5,
             (unsigned long long)expect_sum(BIG_BODY / 5));
    assert_non_null(strstr(buf, want));
    close(fd);

    /* unauthenticated: 401 without reading the body */
    fd = dial();
    k = snprintf(head, sizeof(head), "PUT /upload HTTP/1.1\r\nContent-Length: %u\r\n\r\n",
                 BIG_BODY);
    send_all(fd, head, (size_t)k);
    read_response(fd, buf, sizeof(buf));
    assert_true(strncmp(buf, "HTTP/1.1 401 ", 13) == 0);
    close(fd);
    free(body);
}

static void test_streamed_answer(void **st)
{
    (void)st;
    int fd = dial();
    const char req[] = "GET /stream?session_id=OpaqueRef:ok HTTP/1.1\r\n\r\n";
    send_all(fd, req, sizeof(req) - 1);
    /* read it all, de-chunking as we go */
    size_t cap = 256 * 1024, len = 0, body = 0;   /* > one 64 KiB chunk */
    char *buf = malloc(cap + 1);
    bool head_done = false, end = false;
    size_t pos = 0;
    while (!end) {
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        assert_true(r > 0);
        len += (size_t)r;
        buf[len] = '\0';
        if (!head_done) {
            char *e = strstr(buf, "\r\n\r\n");
            if (!e)
                continue;
            assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
            assert_non_null(strstr(buf, "transfer-encoding: chunked\r\n"));
            pos = (size_t)(e + 4 - buf);
            head_done = true;
        }
        for (;;) {                       /* whole chunks available at pos */
            char *crlf = memmem(buf + pos, len - pos, "\r\n", 2);
            if (!crlf)
                break;
            size_t sz = strtoul(buf + pos, NULL, 16);
            size_t need = (size_t)(crlf + 2 - buf) + sz + 2;
            if (len < need)
                break;
            for (size_t i = 0; i < sz; i++)
                assert_int_equal(crlf[2 + i], 'z');
            body += sz;
            pos = need;
            if (sz == 0) {
                end = true;
                break;
            }
        }
        memmove(buf, buf + pos, len - pos);   /* keep the partial chunk only */
        len -= pos;
        pos = 0;
    }
    assert_int_equal(body, STREAM_BYTES);
    free(buf);
    close(fd);
}

/* Expect: 100-continue (curl, on uploads over 1 MiB): the 100 comes once the
 * handler reads, before any body byte is sent; a refusal comes without it;
 * a client that sent body bytes with the head gets no 100. */
static void test_expect_continue(void **st)
{
    (void)st;
    char buf[4096];
    char *body = pattern(1000);
    int fd = dial();
    static const char head[] = "PUT /upload?session_id=OpaqueRef:ok HTTP/1.1\r\n"
                               "Content-Length: 1000\r\nExpect: 100-Continue\r\n\r\n";
    send_all(fd, head, sizeof(head) - 1);
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    size_t n = 0;
    while (n < sizeof(cont) - 1) {       /* the socket's timeout is the hang guard */
        ssize_t r = recv(fd, buf + n, sizeof(cont) - 1 - n, 0);
        assert_true(r > 0);
        n += (size_t)r;
    }
    assert_memory_equal(buf, cont, sizeof(cont) - 1);
    send_all(fd, body, 1000);
    read_response(fd, buf, sizeof(buf));
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    char want[128];
    snprintf(want, sizeof(want), "end n=1000 sum=%llu", (unsigned long long)expect_sum(1000));
    assert_non_null(strstr(buf, want));
    close(fd);

    fd = dial();                          /* refused: the final answer, no 100 */
    static const char anon[] = "PUT /upload HTTP/1.1\r\nContent-Length: 1000\r\n"
                               "Expect: 100-continue\r\n\r\n";
    send_all(fd, anon, sizeof(anon) - 1);
    read_response(fd, buf, sizeof(buf));
    assert_true(strncmp(buf, "HTTP/1.1 401 ", 13) == 0);
    close(fd);

    fd = dial();                          /* the body came with the head: no 100 */
    char *both = malloc(sizeof(head) - 1 + 1000);
    memcpy(both, head, sizeof(head) - 1);
    memcpy(both + sizeof(head) - 1, body, 1000);
    send_all(fd, both, sizeof(head) - 1 + 1000);
    free(both);
    read_response(fd, buf, sizeof(buf));
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(buf, want));
    close(fd);
    free(body);
}

/* One worker is idle (the earlier tests' are); RENDEZVOUS requests come at
 * once: each must get a worker, none may wait for one that was signalled
 * for an earlier request and is still waking (it counted as idle, so no
 * thread was started). The window is microseconds here, so this test
 * rarely sees the old race; it holds the property. */
static void test_simultaneous_requests_each_get_a_worker(void **st)
{
    (void)st;
    static const char req[] = "GET /rendezvous?session_id=OpaqueRef:ok HTTP/1.1\r\n\r\n";
    for (int round = 0; round < 10; round++) {
        int fds[RENDEZVOUS];
        rv_inside = 0;
        for (int i = 0; i < RENDEZVOUS; i++)
            fds[i] = dial();
        for (int i = 0; i < RENDEZVOUS; i++)
            send_all(fds[i], req, sizeof(req) - 1);
        for (int i = 0; i < RENDEZVOUS; i++) {
            char buf[4096];
            read_response(fds[i], buf, sizeof(buf));
            if (!strstr(buf, "\r\n\r\nmet"))
                fprintf(stderr, "round %d request %d: [%s]\n", round, i, buf);
            assert_non_null(strstr(buf, "\r\n\r\nmet"));
            close(fds[i]);
        }
    }
}

int main(void)
{
    xg_err err = XG_ERR_INIT;
    char dir[] = "/tmp/xg-httpex-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    xg_config_defaults();
    if (!xg_auth_init("file", dir, &err) || !xg_auth_set_password("alice", "secret", &err))
        return 1;
    xg_http_route("PUT", "/upload", XG_ROUTE_RAW_BODY, upload);
    xg_http_route("GET", "/stream", 0, stream);
    xg_http_register_get("/hello", hello);
    xg_http_route("GET", "/rendezvous", 0, rendezvous);
    port = loopback_free_port();
    struct xg_listener_cfg ls[1] = { { "127.0.0.1", port, false } };
    if (!xg_io_start(ls, 1, NULL, 2, &err)) {
        fprintf(stderr, "%s\n", err.param[0]);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_put_streamed_body),
        cmocka_unit_test(test_streamed_answer),
        cmocka_unit_test(test_simultaneous_requests_each_get_a_worker),
        cmocka_unit_test(test_expect_continue),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xg_io_stop();
    xg_auth_shutdown();
    char cmd[100];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
