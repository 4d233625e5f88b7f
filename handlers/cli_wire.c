/* cli_wire.c: framing of the thin CLI protocol (see cli_wire.h). */
#include "cli_wire.h"

#include <stdint.h>
#include <string.h>

#include "out.h"

#define GREETING "XenSource thin CLI protocol"
#define KIND_COMMAND 9
#define KIND_RESPONSE 10
#define KIND_BLOB 11
#define CLIENT_FRAME_MAX 64           /* the longest client message is 12 bytes */
enum {
    TAG_PRINT = 0, TAG_LOAD = 1, TAG_PROMPT = 3, TAG_EXIT = 4, TAG_HTTP_GET = 12,
    TAG_HTTP_PUT = 13,
    TAG_ERROR = 14, TAG_PRINT_STDERR = 16,
};
enum { TAG_OK = 5, TAG_FAILED = 6, TAG_CHUNK = 7, TAG_END = 8, TAG_WAIT = 18 };

static void put_u32(xg_out *o, uint32_t v)
{
    unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
    xg_out_append(o, b, 4);
}

static void put_str(xg_out *o, const char *s, size_t n)
{
    put_u32(o, (uint32_t)n);
    xg_out_append(o, s, n);
}

/* Prefixes the payload in `body` with its length and sends it. */
static bool send_frame(xg_http_ex *x, xg_out *body)
{
    xg_out msg;
    xg_out_init(&msg);
    put_u32(&msg, (uint32_t)body->total);
    xg_out_move(&msg, body);
    bool ok = true;
    for (const struct xg_chunk *c = msg.head; c && ok; c = c->next)
        ok = xg_http_write(x, c->data, c->len);
    xg_out_reset(&msg);
    return ok;
}

static void command_head(xg_out *o, uint32_t tag)
{
    xg_out_init(o);
    put_u32(o, KIND_COMMAND);
    put_u32(o, tag);
}

bool cli_wire_handshake(xg_http_ex *x)
{
    static const unsigned char ours[CLI_GREETING_LEN] = GREETING "\0\0\0\0\2\0\0\0";
    if (!xg_http_write(x, ours, sizeof(ours)))
        return false;
    unsigned char theirs[CLI_GREETING_LEN];
    size_t got = 0;
    while (got < sizeof(theirs)) {
        ssize_t r = xg_http_read(x, theirs + got, sizeof(theirs) - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return cli_wire_greeting_ok(theirs);
}

bool cli_wire_greeting_ok(const unsigned char *g)
{
    static const unsigned char major0[4] = {0, 0, 0, 0};
    return memcmp(g, GREETING, strlen(GREETING)) == 0 &&
           memcmp(g + strlen(GREETING), major0, 4) == 0;
}

static bool send_string_command(xg_http_ex *x, uint32_t tag, const char *s, size_t n)
{
    xg_out o;
    command_head(&o, tag);
    put_str(&o, s, n);
    return send_frame(x, &o);
}

bool cli_wire_print(xg_http_ex *x, const char *s, size_t n)
{
    return send_string_command(x, TAG_PRINT, s, n);
}

bool cli_wire_stderr(xg_http_ex *x, const char *s)
{
    return send_string_command(x, TAG_PRINT_STDERR, s, strlen(s));
}

bool cli_wire_error(xg_http_ex *x, const char *code, const char *const *params,
                    unsigned nparams)
{
    xg_out o;
    command_head(&o, TAG_ERROR);
    put_str(&o, code, strlen(code));
    put_u32(&o, nparams);
    for (unsigned i = 0; i < nparams; i++)
        put_str(&o, params[i], strlen(params[i]));
    return send_frame(x, &o);
}

bool cli_wire_exit(xg_http_ex *x, int code)
{
    xg_out o;
    command_head(&o, TAG_EXIT);
    put_u32(&o, (uint32_t)code);
    return send_frame(x, &o);
}

bool cli_wire_prompt(xg_http_ex *x)
{
    xg_out o;
    command_head(&o, TAG_PROMPT);
    return send_frame(x, &o);
}

bool cli_wire_load(xg_http_ex *x, const char *filename)
{
    return send_string_command(x, TAG_LOAD, filename, strlen(filename));
}

bool cli_wire_http(xg_http_ex *x, bool get, const char *filename, const char *url)
{
    xg_out o;
    command_head(&o, get ? TAG_HTTP_GET : TAG_HTTP_PUT);
    put_str(&o, filename, strlen(filename));
    put_str(&o, url, strlen(url));
    return send_frame(x, &o);
}

static bool read_exact(xg_http_ex *x, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = xg_http_read(x, (char *)buf + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static uint32_t get_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The next client message other than a heartbeat: kind, tag and, for a
 * Chunk, its size. false if the client is gone or sends garbage. */
static bool next_message(xg_http_ex *x, uint32_t *kind, uint32_t *tag, uint32_t *size)
{
    for (;;) {
        unsigned char head[4], msg[CLIENT_FRAME_MAX];
        if (!read_exact(x, head, 4))
            return false;
        uint32_t n = get_u32(head);
        if (n < 8 || n > sizeof(msg) || !read_exact(x, msg, n))
            return false;
        *kind = get_u32(msg);
        *tag = get_u32(msg + 4);
        if (*kind == KIND_BLOB && *tag == TAG_CHUNK && n < 12)
            return false;              /* a Chunk without its size */
        *size = n >= 12 ? get_u32(msg + 8) : 0;
        if (*kind != KIND_RESPONSE || *tag != TAG_WAIT)
            return true;               /* a Wait is a heartbeat: skipped */
    }
}

int cli_wire_read_response(xg_http_ex *x)
{
    uint32_t kind, tag, size;
    if (!next_message(x, &kind, &tag, &size) || kind != KIND_RESPONSE)
        return -1;
    return tag == TAG_OK ? 1 : tag == TAG_FAILED ? 0 : -1;
}

bool cli_wire_read_blobs(xg_http_ex *x, char *buf, size_t max, size_t *len, size_t limit)
{
    size_t total = 0;
    *len = 0;
    for (;;) {
        uint32_t kind, tag, size;
        if (!next_message(x, &kind, &tag, &size))
            return false;
        if (kind == KIND_BLOB && tag == TAG_END)
            return true;
        if (kind != KIND_BLOB || tag != TAG_CHUNK)
            return false;              /* Failed, or anything out of place */
        if (size > limit - total)
            return false;
        total += size;
        while (size > 0) {
            char scratch[4096];
            size_t want = size < sizeof(scratch) ? size : sizeof(scratch);
            if (!read_exact(x, scratch, want))
                return false;
            size_t keep = max - *len < want ? max - *len : want;
            memcpy(buf + *len, scratch, keep);
            *len += keep;
            size -= (uint32_t)want;
        }
    }
}
