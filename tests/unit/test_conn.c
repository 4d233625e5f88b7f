/* test_conn.c: the transport end to end over real sockets (plain and TLS)
 * with core_stub.c's dispatch: headers as xapi writes them, keep-alive,
 * HTTP/1.0, pipelining, CORS preflight, 403, 500 on parse failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "loopback.h"
#include "transport.h"

static unsigned port_plain, port_tls;
static SSL_CTX *cli;

static int dial(unsigned port)
{
    int fd = loopback_dial(port, 5);
    assert_true(fd >= 0);
    return fd;
}

/* Sends req and reads until `want` bytes or EOF. */
static size_t exchange(int fd, const char *req, size_t reqlen, char *buf, size_t cap, size_t want)
{
    assert_int_equal(send(fd, req, reqlen, 0), (ssize_t)reqlen);
    size_t n = 0;
    while (n < want && n < cap - 1) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (want == (size_t)-1 && strstr(buf, "\r\n\r\n")) {
            /* stop after one response whose length we can see */
            const char *cl = strstr(buf, "content-length: ");
            const char *end = strstr(buf, "\r\n\r\n") + 4;
            if (cl && n >= (size_t)(end - buf) + strtoul(cl + 16, NULL, 10))
                break;
        }
    }
    buf[n] = '\0';
    return n;
}

#define XMLREQ(path, ver) \
    "POST " path " HTTP/" ver "\r\nContent-Type: text/xml\r\nContent-Length: 82\r\n\r\n" \
    "<methodCall><methodName>VM.get_all</methodName><params></params></methodCall>     "

static const char xml_answer[] =
    "HTTP/1.1 200 OK\r\ncontent-length: 91\r\nconnection: keep-alive\r\n"
    "keep-alive: timeout=60\r\ncache-control: no-cache, no-store\r\ncontent-type: text/xml\r\n"
    "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: X-Requested-With\r\n\r\n"
    "<value><struct><member><name>echo</name><value>VM.get_all</value></member></struct></value>";

static void test_xmlrpc_keepalive_pipelined(void **st)
{
    char buf[8192];
    int fd = dial(port_plain);
    exchange(fd, XMLREQ("/xmlrpc", "1.1"), sizeof(XMLREQ("/xmlrpc", "1.1")) - 1, buf,
             sizeof(buf), (size_t)-1);
    assert_string_equal(buf, xml_answer);
    /* two pipelined requests in one write: two answers, in order */
    const char two[] = XMLREQ("/", "1.1") XMLREQ("/RPC2", "1.1");
    size_t n = exchange(fd, two, sizeof(two) - 1, buf, sizeof(buf), 2 * strlen(xml_answer));
    assert_int_equal(n, 2 * strlen(xml_answer));
    assert_memory_equal(buf, xml_answer, strlen(xml_answer));
    close(fd);
}

static void test_json_http10(void **st)
{
    char buf[8192];
    int fd = dial(port_plain);
    const char req[] = "POST /jsonrpc HTTP/1.0\r\nContent-Length: 52\r\n\r\n"
                       "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"pool.get_all\"}    ";
    exchange(fd, req, sizeof(req) - 1, buf, sizeof(buf), 100000);   /* until EOF */
    assert_non_null(strstr(buf, "HTTP/1.0 200 OK\r\n"));
    assert_non_null(strstr(buf, "\r\nconnection: close\r\n"));
    assert_non_null(strstr(buf, "\r\ncontent-type: application/json\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n{\"echo\":\"pool.get_all\"}"));
    close(fd);
}

static void test_options_403_500(void **st)
{
    char buf[8192];
    int fd = dial(port_plain);
    const char opt[] = "OPTIONS /jsonrpc HTTP/1.1\r\nAccess-Control-Request-Headers: content-type\r\n\r\n";
    exchange(fd, opt, sizeof(opt) - 1, buf, sizeof(buf), (size_t)-1);
    assert_string_equal(buf, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nAccess-Control-Allow-Origin: *\r\n"
                             "Access-Control-Allow-Headers: content-type, X-Requested-With\r\n"
                             "Access-Control-Allow-Methods: PUT\r\n\r\n");
    const char get[] = "GET /nothing HTTP/1.1\r\n\r\n";
    exchange(fd, get, sizeof(get) - 1, buf, sizeof(buf), (size_t)-1);
    assert_true(strncmp(buf, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    const char bad[] = "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n<!DOCTYPE";
    exchange(fd, bad, sizeof(bad) - 1, buf, sizeof(buf), 100000);
    assert_true(strncmp(buf, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0);
    assert_non_null(strstr(buf, "content-type: text/html\r\n"));
    assert_non_null(strstr(buf, "connection: close\r\n"));
    close(fd);
    fd = dial(port_plain);
    const char nolen[] = "POST / HTTP/1.1\r\n\r\n";
    exchange(fd, nolen, sizeof(nolen) - 1, buf, sizeof(buf), 100000);
    assert_true(strncmp(buf, "HTTP/1.1 411 Length Required\r\n", 30) == 0);
    close(fd);
}

static void test_tls(void **st)
{
    int fd = dial(port_tls);
    SSL *s = SSL_new(cli);
    SSL_set_fd(s, fd);
    assert_int_equal(SSL_connect(s), 1);
    const char req[] = XMLREQ("/xmlrpc", "1.1");
    assert_int_equal(SSL_write(s, req, sizeof(req) - 1), (int)sizeof(req) - 1);
    char buf[4096];
    size_t n = 0;
    while (n < strlen(xml_answer)) {
        int r = SSL_read(s, buf + n, (int)(sizeof(buf) - 1 - n));
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    assert_string_equal(buf, xml_answer);
    assert_true(SSL_version(s) >= TLS1_2_VERSION);
    SSL_free(s);
    close(fd);
    /* TLS 1.1 is refused */
    fd = dial(port_tls);
    SSL_CTX *old = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
    SSL_CTX_set_security_level(old, 0);
    s = SSL_new(old);
    SSL_set_fd(s, fd);
    assert_int_not_equal(SSL_connect(s), 1);
    SSL_free(s);
    SSL_CTX_free(old);
    close(fd);
}

int main(void)
{
    xg_err err = XG_ERR_INIT;
    char dir[] = "/tmp/xg-conn-XXXXXX", cert[1100], key[1100];
    if (!mkdtemp(dir))
        return 1;
    xg_config_defaults();
    xg_cfg.io_threads = 2;
    if (!xg_cert_ensure(dir, cert, sizeof(cert), key, sizeof(key), &err))
        return 1;
    SSL_CTX *ctx = xg_tls_ctx_new(cert, key, &err);
    if (!ctx)
        return 1;
    cli = SSL_CTX_new(TLS_client_method());
    port_plain = loopback_free_port();
    port_tls = loopback_free_port();
    struct xg_listener_cfg ls[2] = { { "127.0.0.1", port_plain, false },
                                     { "127.0.0.1", port_tls, true } };
    if (!xg_io_start(ls, 2, ctx, 2, &err)) {
        fprintf(stderr, "%s\n", err.param[0]);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xmlrpc_keepalive_pipelined),
        cmocka_unit_test(test_json_http10),
        cmocka_unit_test(test_options_403_500),
        cmocka_unit_test(test_tls),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xg_io_stop();
    char cmd[100];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
