/* fuzz_cli.c: libFuzzer target for what xe sends to POST /cli: the client
 * greeting of the thin CLI protocol (cli_wire.c), the request body, the
 * command line (cli_parse.c), the command lookup and its required
 * parameters (cli_records.c, cli_ops.c) as cli.c runs them, and the
 * messages xe sends back after a Prompt (cli_wire_read_blobs: Blob Chunk,
 * Blob End, Response Wait heartbeats) or a transfer (cli_wire_read_response:
 * Response OK/Failed), read from the stream as the handler reads them. The input: the 35-byte greeting, the body's length (u16 LE),
 * the body, then the client's answer to a Prompt.
 * Properties: the greeting is accepted exactly when it is the protocol's
 * prefix with major version 0; whatever body parses, rendered back one
 * argument per line ("key=value", "--key" where a key could only have come
 * from a flag) parses to the same command (values are C strings: what
 * follows a NUL in a line is not part of one); an answer that is read is
 * the protocol's: its bytes are the Chunk payloads up to Blob End as the
 * protocol frames them, within the limit, truncated to the buffer; a
 * transfer's outcome is the first message other than a heartbeat. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_wire.h"
#include "http_ex.h"

static struct cli_cmd cmd, again;

/* The command rendered as xe would have sent it. */
static char *render(const struct cli_cmd *c, size_t *len)
{
    size_t cap = strlen(c->name) + 3;
    for (unsigned i = 0; i < c->nargs; i++)
        cap += strlen(c->args[i].key) + strlen(c->args[i].value) + 5;
    char *out = malloc(cap), *p = out;
    p += sprintf(p, "%s\r\n", c->name);
    for (unsigned i = 0; i < c->nargs; i++) {
        const char *k = c->args[i].key;
        if (strchr(k, '=') || k[0] == '-') {
            if (strcmp(c->args[i].value, "true") != 0)
                __builtin_trap();          /* only a flag makes such a key */
            p += sprintf(p, "--%s\r\n", k);
        } else {
            p += sprintf(p, "%s=%s\r\n", k, c->args[i].value);
        }
    }
    /* no '\n' after the last line (its "\r" stays: the parser strips one) */
    *len = (size_t)(p - out) - 1;
    out[*len] = '\0';
    return out;
}

static bool same(const struct cli_cmd *a, const struct cli_cmd *b)
{
    if (strcmp(a->name, b->name) != 0 || a->nargs != b->nargs || a->minimal != b->minimal)
        return false;
    for (unsigned i = 0; i < a->nargs; i++)
        if (strcmp(a->args[i].key, b->args[i].key) != 0 ||
            strcmp(a->args[i].value, b->args[i].value) != 0)
            return false;
    return true;
}

static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The answer as the protocol frames it (cli_protocol.ml): Chunk payloads
 * up to Blob End, Response Wait skipped. false: not a complete answer. */
static bool expected_answer(const uint8_t *p, size_t n, uint8_t *out, size_t *len)
{
    size_t at = 0;
    *len = 0;
    for (;;) {
        if (n - at < 4 || u32(p + at) < 8 || n - at - 4 < u32(p + at))
            return false;
        uint32_t flen = u32(p + at), kind = u32(p + at + 4), tag = u32(p + at + 8);
        const uint8_t *f = p + at + 4;
        at += 4 + flen;
        if (kind == 10 && tag == 18)
            continue;
        if (kind == 11 && tag == 8)
            return true;
        if (kind != 11 || tag != 7 || flen < 12 || n - at < u32(f + 8))
            return false;
        memcpy(out + *len, p + at, u32(f + 8));
        *len += u32(f + 8);
        at += u32(f + 8);
    }
}

static void no_kick(void *conn)
{
    (void)conn;
}

static void unused_handler(xg_http_ex *x)
{
    (void)x;
}

/* The first message other than Response Wait, as the protocol frames it:
 * 1 Response OK, 0 Response Failed, -1 anything else or incomplete. */
static int expected_response(const uint8_t *p, size_t n)
{
    for (size_t at = 0;;) {
        if (n - at < 4 || u32(p + at) < 8 || n - at - 4 < u32(p + at))
            return -1;
        uint32_t kind = u32(p + at + 4), tag = u32(p + at + 8);
        at += 4 + u32(p + at);
        if (kind == 10 && tag == 18)
            continue;
        return kind == 10 && tag == 5 ? 1 : kind == 10 && tag == 6 ? 0 : -1;
    }
}

/* An exchange whose stream holds p, as the connection fills it (the
 * client then closes). */
static xg_http_ex *stream_of(const uint8_t *p, size_t n)
{
    static const struct xg_http_route_entry *route;
    if (!route) {
        xg_http_route("POST", "/cli-fuzz", XG_ROUTE_RAW_BODY | XG_ROUTE_STREAM, unused_handler);
        route = xg_http_find_route("POST", "/cli-fuzz", 9);
    }
    struct xg_http_ex_init in = {
        .route = route,
        .rq = {.method = "POST", .path = "/cli-fuzz", .query = "", .client_addr = "127.0.0.1",
               .content_length = -1},
        .raw_rest = (const char *)p, .raw_rest_len = n, .kick = no_kick,
    };
    xg_http_ex *x = xg_http_ex_new(&in);
    xg_http_ex_feed_eof(x);
    return x;
}

/* What cli_user_says_yes reads after its Prompt, and what a transfer
 * (HttpGet/HttpPut) reads as the client's outcome, from the same bytes. */
static void read_answer(const uint8_t *p, size_t n)
{
    xg_http_ex *x = stream_of(p, n);
    int r = cli_wire_read_response(x);
    /* our reader takes no message longer than 64 bytes: it may refuse
     * more, never accept what the protocol does not say */
    if (r != -1 && r != expected_response(p, n))
        __builtin_trap();
    xg_http_ex_detach(x);
    x = stream_of(p, n);
    /* the sizes cli.c uses, and a small limit that some answers pass */
    size_t max = n & 1 ? 255 : 16, limit = n & 2 ? 64 * 1024 : 8;
    static char buf[256];
    static uint8_t want[200 * 1024];
    size_t len = 0, want_len = 0;
    if (cli_wire_read_blobs(x, buf, max, &len, limit)) {
        if (!expected_answer(p, n, want, &want_len) || want_len > limit ||
            len != (want_len < max ? want_len : max) || memcmp(buf, want, len) != 0)
            __builtin_trap();
    }
    xg_http_ex_detach(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < CLI_GREETING_LEN + 2 || size > 200 * 1024)
        return 0;
    static const unsigned char prefix[] = "XenSource thin CLI protocol\0\0\0\0";
    bool ok = cli_wire_greeting_ok(data);
    if (ok != (memcmp(data, prefix, sizeof prefix - 1) == 0))
        __builtin_trap();

    size_t len = (size_t)data[CLI_GREETING_LEN] | (size_t)data[CLI_GREETING_LEN + 1] << 8;
    size_t at = CLI_GREETING_LEN + 2;
    if (len > size - at)
        len = size - at;
    char *body = malloc(len + 1);
    memcpy(body, data + at, len);
    body[len] = '\0';
    read_answer(data + at + len, size - at - len);
    memset(&cmd, 0, sizeof cmd);
    if (cli_parse(body, len, &cmd)) {
        const char *missing = NULL;
        if (!cli_records_check(&cmd, &missing))
            (void)cli_ops_check(&cmd, &missing);
        (void)cli_arg(&cmd, "username");
        size_t n = 0;
        char *text = render(&cmd, &n);
        memset(&again, 0, sizeof again);
        if (!cli_parse(text, n, &again) || !same(&cmd, &again))
            __builtin_trap();
        free(text);
    }
    free(body);
    return 0;
}
