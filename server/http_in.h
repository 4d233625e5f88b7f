/* http_in.h: HTTP/1.x request framing over Debian's http-parser, without
 * sockets (so it is unit-tested and fuzzed alone). One xg_http_in per
 * connection: bytes go in, complete requests come out one at a time, in
 * order (pipelined bytes wait in the buffer until xg_http_in_next).
 * Enforces: header block bytes and count (431), Content-Length required on
 * POST (411), body limit from Content-Length before reading it (413),
 * Transfer-Encoding refused (411 alone, 400 with Content-Length: request
 * bodies must be framed by Content-Length, as xapi requires), malformed
 * input (400). Memory: buffer allocated on first byte, grown only as far as
 * a declared body needs, released when a connection goes idle. */
#ifndef XG_HTTP_IN_H
#define XG_HTTP_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

enum xg_hdr {
    XG_H_AUTHORIZATION, XG_H_COOKIE, XG_H_ACCEPT, XG_H_TASK_ID,
    XG_H_ACRH,                  /* access-control-request-headers */
    XG_H_CONTENT_TYPE,
    XG_H_ACCEPT_ENCODING, XG_H_IF_NONE_MATCH, XG_H_IF_MODIFIED_SINCE,   /* web root */
    XG_H_UPGRADE, XG_H_WS_KEY, XG_H_WS_VERSION,   /* WebSocket handshake */
    XG_H_EXPECT,                /* 100-continue on streamed uploads */
    XG_H_COUNT
};

enum xg_http_status {
    XG_HTTP_MORE,               /* need more bytes */
    XG_HTTP_REQUEST,            /* a complete request is ready */
    XG_HTTP_ERROR,              /* answer error_status and close */
};

struct xg_http_limits {
    uint32_t max_header_bytes, max_header_count, max_body_bytes;
    /* Optional: true if the request (method as http_parser's enum, path
     * without query) streams its body: then the request is complete at the
     * end of its headers, no body limit applies, Upgrade/CONNECT are
     * allowed, and the bytes after the headers are the caller's
     * (xg_http_in_rest); the connection cannot be reused afterwards. */
    bool (*raw_body)(unsigned method, const char *path, size_t len);
};

struct xg_http_in {
    http_parser p;
    struct xg_http_limits lim;
    char *buf;
    size_t cap, len;            /* allocated, received */
    size_t parsed;              /* bytes consumed by the parser */
    size_t msg_start;           /* offset of the current message */
    /* current request */
    bool in_msg, headers_done, complete, has_cl, has_te, hdr_overflow, raw;
    size_t url_off, url_len, body_off, body_len;
    size_t hv_off[XG_H_COUNT], hv_len[XG_H_COUNT];
    int cur_hdr;                /* header whose value is being read, or -1 */
    bool in_field;
    char field[40];
    uint8_t field_len;
    uint32_t nheaders;
    int error_status;
    const char *error_why;
};

void xg_http_in_init(struct xg_http_in *h, const struct xg_http_limits *lim);
void xg_http_in_free(struct xg_http_in *h);
/* Room to read into (allocates or grows the buffer); NULL/0 = buffer full
 * of unconsumed requests: stop reading until xg_http_in_next. */
char *xg_http_in_space(struct xg_http_in *h, size_t *room);
/* n more bytes were written at the space pointer; parse them. */
enum xg_http_status xg_http_in_feed(struct xg_http_in *h, size_t n);
/* Done with the current request: drop it, then parse buffered bytes. */
enum xg_http_status xg_http_in_next(struct xg_http_in *h);
/* Unparsed or partial bytes are buffered (a request has begun). */
bool xg_http_in_pending(const struct xg_http_in *h);
/* Frees the buffer when nothing is buffered (idle keep-alive). */
void xg_http_in_shrink(struct xg_http_in *h);

/* Accessors for the current complete request. Strings are NUL-terminated
 * in place (the parser has consumed the bytes they overwrite). */
const char *xg_http_in_path(struct xg_http_in *h);    /* without query */
const char *xg_http_in_query(struct xg_http_in *h);   /* "" if none */
const char *xg_http_in_header(struct xg_http_in *h, enum xg_hdr which);  /* or NULL */
static inline const char *xg_http_in_body(const struct xg_http_in *h)
{
    return h->buf + h->body_off;
}
static inline bool xg_http_in_http10(const struct xg_http_in *h)
{
    return h->p.http_major == 1 && h->p.http_minor == 0;
}
bool xg_http_in_keep_alive(const struct xg_http_in *h);
/* "Expect: 100-continue" (RFC 7231 5.1.1, the one expectation there is) on an
 * HTTP/1.1 request with a body: curl sends it with uploads over 1 MiB and
 * waits a second for the 100 before sending the body anyway. */
bool xg_http_in_expects_continue(struct xg_http_in *h);
/* Raw-body requests: the bytes received after the headers. */
const char *xg_http_in_rest(const struct xg_http_in *h, size_t *len);

#endif
