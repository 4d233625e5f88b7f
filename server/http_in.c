/* http_in.c: request framing (see http_in.h for the rules). http-parser
 * callbacks record offsets into the connection's buffer; the parser is
 * paused at each message end so that pipelined requests are served one at
 * a time, in order. */
#include "http_in.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INITIAL_CAP 4096
#define SLACK 4096          /* room for the next pipelined request's start */

static const char *const hdr_names[XG_H_COUNT] = {
    [XG_H_AUTHORIZATION] = "authorization",
    [XG_H_COOKIE] = "cookie",
    [XG_H_ACCEPT] = "accept",
    [XG_H_TASK_ID] = "task-id",
    [XG_H_ACRH] = "access-control-request-headers",
    [XG_H_CONTENT_TYPE] = "content-type",
    [XG_H_ACCEPT_ENCODING] = "accept-encoding",
    [XG_H_IF_NONE_MATCH] = "if-none-match",
    [XG_H_IF_MODIFIED_SINCE] = "if-modified-since",
    [XG_H_UPGRADE] = "upgrade",
    [XG_H_WS_KEY] = "sec-websocket-key",
    [XG_H_WS_VERSION] = "sec-websocket-version",
    [XG_H_EXPECT] = "expect",
};

#define H(p) ((struct xg_http_in *)(p)->data)

static void reset_request(struct xg_http_in *h)
{
    h->in_msg = h->headers_done = h->complete = false;
    h->has_cl = h->has_te = h->hdr_overflow = h->raw = false;
    h->url_off = h->url_len = h->body_off = h->body_len = 0;
    for (int i = 0; i < XG_H_COUNT; i++)
        h->hv_off[i] = h->hv_len[i] = 0;
    h->cur_hdr = -1;
    h->in_field = false;
    h->field_len = 0;
    h->nheaders = 0;
}

static int on_message_begin(http_parser *p)
{
    struct xg_http_in *h = H(p);
    reset_request(h);
    h->in_msg = true;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct xg_http_in *h = H(p);
    if (h->url_len == 0)
        h->url_off = (size_t)(at - h->buf);
    h->url_len += n;
    return 0;
}

static int fail(struct xg_http_in *h, int status, const char *why)
{
    h->error_status = status;
    h->error_why = why;
    return -1;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct xg_http_in *h = H(p);
    if (!h->in_field) {
        h->in_field = true;
        h->field_len = 0;
        h->hdr_overflow = false;
        if (++h->nheaders > (uint32_t)h->lim.max_header_count)
            return fail(h, 431, "too many header fields");
    }
    /* RFC 7230 3.2.4: whitespace before the colon gets a 400. http_parser
     * (not strict) takes "Content-Length :" for the length while a name
     * compare would not: the framing would differ between the two */
    if (memchr(at, ' ', n) || memchr(at, '\t', n))
        return fail(h, 400, "whitespace in a header field name");
    for (size_t i = 0; i < n; i++) {
        if ((size_t)h->field_len + 1 >= sizeof(h->field)) {
            h->hdr_overflow = true;      /* longer than any name we use */
            break;
        }
        h->field[h->field_len++] = at[i];
    }
    return 0;
}

static void field_done(struct xg_http_in *h)
{
    h->in_field = false;
    h->cur_hdr = -1;
    if (h->hdr_overflow)
        return;
    h->field[h->field_len] = '\0';
    if (strcasecmp(h->field, "content-length") == 0)
        h->has_cl = true;
    else if (strcasecmp(h->field, "transfer-encoding") == 0)
        h->has_te = true;
    for (int i = 0; i < XG_H_COUNT; i++) {
        if (strcasecmp(h->field, hdr_names[i]) == 0) {
            /* first occurrence wins; a repeated one is ignored */
            if (h->hv_len[i] == 0 && h->hv_off[i] == 0)
                h->cur_hdr = i;
            break;
        }
    }
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct xg_http_in *h = H(p);
    if (h->in_field)
        field_done(h);
    if (h->cur_hdr >= 0) {
        if (h->hv_off[h->cur_hdr] == 0)
            h->hv_off[h->cur_hdr] = (size_t)(at - h->buf);
        h->hv_len[h->cur_hdr] += n;
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct xg_http_in *h = H(p);
    if (h->in_field)
        field_done(h);                  /* a field without value */
    h->headers_done = true;
    /* the body is framed as the parser frames it, whatever names we matched */
    h->has_cl = (p->flags & F_CONTENTLENGTH) != 0;
    h->has_te = h->has_te || p->uses_transfer_encoding || (p->flags & F_CHUNKED);
    /* http_parser takes any length below 2^64; the exchange keeps it in an
     * int64_t, where one past INT64_MAX would turn negative and a streamed
     * upload would be read as empty (fuzz_upload, CI of stop 25) */
    if (h->has_cl && p->content_length > (uint64_t)INT64_MAX)
        return fail(h, 400, "Content-Length out of range");
    if (h->lim.raw_body && h->url_len) {
        const char *u = h->buf + h->url_off;
        const char *q = memchr(u, '?', h->url_len);
        size_t n = q ? (size_t)(q - u) : h->url_len;
        if (h->lim.raw_body(p->method, u, n)) {
            /* the route reads the body as it comes, up to Content-Length:
             * a chunked one would be taken for an empty body (a lost
             * upload), so it is refused, with XAPI's 403 for import_raw_vdi */
            if (h->has_te)
                return fail(h, h->has_cl ? 400 : 403, "Transfer-Encoding on a streamed request");
            h->raw = true;
            return 1;                   /* skip the body: it is the caller's */
        }
    }
    if (h->has_te)
        return fail(h, h->has_cl ? 400 : 411, "Transfer-Encoding on a request");
    if (p->method == HTTP_POST && !h->has_cl)
        return fail(h, 411, "Content-Length required");
    if (h->has_cl && p->content_length > h->lim.max_body_bytes)
        return fail(h, 413, "body too large");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct xg_http_in *h = H(p);
    if (h->body_len == 0)
        h->body_off = (size_t)(at - h->buf);
    h->body_len += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct xg_http_in *h = H(p);
    h->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void xg_http_in_init(struct xg_http_in *h, const struct xg_http_limits *lim)
{
    memset(h, 0, sizeof(*h));
    h->lim = *lim;
    http_parser_init(&h->p, HTTP_REQUEST);
    h->p.data = h;
    reset_request(h);
}

void xg_http_in_free(struct xg_http_in *h)
{
    free(h->buf);
    h->buf = NULL;
    h->cap = h->len = 0;
}

static size_t max_cap(const struct xg_http_in *h)
{
    return (size_t)h->lim.max_header_bytes + h->lim.max_body_bytes + SLACK;
}

static void grow(struct xg_http_in *h, size_t want)
{
    if (want <= h->cap)
        return;
    if (want > max_cap(h))
        want = max_cap(h);              /* and no doubling past it can wrap */
    size_t cap = h->cap ? h->cap : INITIAL_CAP;
    while (cap < want)
        cap *= 2;
    if (cap > max_cap(h))
        cap = max_cap(h);
    char *b = realloc(h->buf, cap);
    if (!b)
        abort();
    h->buf = b;
    h->cap = cap;
}

char *xg_http_in_space(struct xg_http_in *h, size_t *room)
{
    if (h->len == h->cap)
        grow(h, h->cap + 1);
    *room = h->cap - h->len;
    return *room ? h->buf + h->len : NULL;
}

static enum xg_http_status run(struct xg_http_in *h)
{
    if (h->error_status)
        return XG_HTTP_ERROR;
    if (h->complete)
        return XG_HTTP_REQUEST;
    if (h->parsed < h->len) {
        size_t n = http_parser_execute(&h->p, &settings, h->buf + h->parsed,
                                       h->len - h->parsed);
        h->parsed += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&h->p);
        if (e != HPE_OK && e != HPE_PAUSED) {
            if (!h->error_status) {
                h->error_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
                h->error_why = http_errno_description(e);
            }
            return XG_HTTP_ERROR;
        }
        if (h->p.upgrade && !h->raw) {   /* CONNECT or Upgrade: only raw routes */
            h->error_status = 400;
            h->error_why = "upgrade not supported";
            return XG_HTTP_ERROR;
        }
        if (h->complete)
            return XG_HTTP_REQUEST;
    }
    if (!h->headers_done) {
        /* bytes of this message so far, leading CRLFs included */
        if (h->len - h->msg_start > h->lim.max_header_bytes) {
            h->error_status = 431;
            h->error_why = "header block too large";
            return XG_HTTP_ERROR;
        }
    } else {
        /* make room for the whole declared body before it arrives */
        grow(h, h->parsed + (size_t)h->p.content_length);
    }
    return XG_HTTP_MORE;
}

enum xg_http_status xg_http_in_feed(struct xg_http_in *h, size_t n)
{
    h->len += n;
    return run(h);
}

enum xg_http_status xg_http_in_next(struct xg_http_in *h)
{
    if (h->error_status)
        return XG_HTTP_ERROR;
    /* drop the finished message; pipelined bytes move to the front */
    size_t rest = h->len - h->parsed;
    if (rest)
        memmove(h->buf, h->buf + h->parsed, rest);
    h->len = rest;
    h->parsed = 0;
    h->msg_start = 0;
    reset_request(h);
    http_parser_pause(&h->p, 0);
    return run(h);
}

bool xg_http_in_expects_continue(struct xg_http_in *h)
{
    const char *v = xg_http_in_header(h, XG_H_EXPECT);
    if (!v || xg_http_in_http10(h) || !h->has_cl || h->p.content_length == 0)
        return false;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n == 12 && strncasecmp(v, "100-continue", 12) == 0;
}

bool xg_http_in_pending(const struct xg_http_in *h)
{
    return h->len > h->parsed || h->in_msg;
}

void xg_http_in_shrink(struct xg_http_in *h)
{
    if (h->len == 0 && !h->in_msg) {
        free(h->buf);
        h->buf = NULL;
        h->cap = 0;
        h->parsed = 0;
        h->msg_start = 0;
    }
}

static char *url_str(struct xg_http_in *h)
{
    char *u = h->buf + h->url_off;
    u[h->url_len] = '\0';             /* overwrites the space before HTTP/x */
    return u;
}

const char *xg_http_in_path(struct xg_http_in *h)
{
    if (h->url_len == 0)
        return "/";
    char *u = url_str(h);
    char *q = strchr(u, '?');
    if (q)
        *q = '\0';
    return u;
}

const char *xg_http_in_query(struct xg_http_in *h)
{
    if (h->url_len == 0)
        return "";
    char *u = h->buf + h->url_off;
    /* the path accessor may have cut the string at '?' already */
    size_t n = strnlen(u, h->url_len);
    if (n < h->url_len)
        return u + n + 1;
    char *q = strchr(url_str(h), '?');
    if (!q)
        return "";
    *q = '\0';
    return q + 1;
}

const char *xg_http_in_header(struct xg_http_in *h, enum xg_hdr which)
{
    if (h->hv_off[which] == 0)
        return NULL;
    char *v = h->buf + h->hv_off[which];
    v[h->hv_len[which]] = '\0';       /* overwrites the CR after the value */
    return v;
}

bool xg_http_in_keep_alive(const struct xg_http_in *h)
{
    if (h->p.http_major != 1 || h->p.http_minor == 0)
        return false;
    return http_should_keep_alive(&h->p) != 0;
}

const char *xg_http_in_rest(const struct xg_http_in *h, size_t *len)
{
    *len = h->len - h->parsed;
    return h->buf + h->parsed;
}
