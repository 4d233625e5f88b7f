/* http_routes.c: the table of HTTP routes (filled before the listeners
 * open, read-only afterwards, so lookups take no lock) and the helpers that
 * read a request: query string, Basic credentials, session cookie. The
 * exchange API is in http_ex.c. */
#include "http_routes.h"

#include <string.h>

#include "log.h"

#define MAX_ROUTES 64

static struct xg_http_route_entry routes[MAX_ROUTES];
static unsigned nroutes;

static void add_route(struct xg_http_route_entry r)
{
    for (unsigned i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, r.method) == 0 && strcmp(routes[i].path, r.path) == 0) {
            routes[i] = r;
            return;
        }
    }
    if (nroutes == MAX_ROUTES) {
        XG_ERROR("http", "route table full, %s %s not registered", r.method, r.path);
        return;
    }
    routes[nroutes++] = r;
}

void xg_http_route(const char *method, const char *path, unsigned flags,
                   xg_http_handler fn)
{
    add_route((struct xg_http_route_entry){ method, path, flags, fn, NULL });
}

void xg_http_register_get_flags(const char *path, unsigned flags, xg_http_get_fn fn)
{
    add_route((struct xg_http_route_entry){ "GET", path, flags, NULL, fn });
}

void xg_http_register_get(const char *path, xg_http_get_fn fn)
{
    xg_http_register_get_flags(path, 0, fn);
}

/* "/a/b" matches the pattern "/a/b", and "/a/\*" matches "/a/" and below. */
static size_t match_len(const char *pattern, const char *path, size_t len)
{
    size_t pl = strlen(pattern);
    if (pl >= 2 && pattern[pl - 2] == '/' && pattern[pl - 1] == '*')
        return len >= pl - 1 && memcmp(pattern, path, pl - 1) == 0 ? pl - 1 : 0;
    return pl == len && memcmp(pattern, path, len) == 0 ? pl + 1 : 0;   /* exact beats prefix */
}

const struct xg_http_route_entry *xg_http_find_route(const char *method,
                                                     const char *path, size_t len)
{
    /* HEAD is served by the GET route */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    const struct xg_http_route_entry *best = NULL;
    size_t best_len = 0;
    for (unsigned i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, m) != 0)
            continue;
        size_t n = match_len(routes[i].path, path, len);
        if (n > best_len) {
            best = &routes[i];
            best_len = n;
        }
    }
    return best;
}

static struct { const char *path; xg_http_takeover_fn fn; } takeovers[4];
static unsigned ntakeovers;

void xg_http_register_takeover(const char *path, xg_http_takeover_fn fn)
{
    if (ntakeovers == sizeof(takeovers) / sizeof(takeovers[0])) {
        XG_ERROR("http", "takeover table full, %s not registered", path);
        return;
    }
    takeovers[ntakeovers].path = path;
    takeovers[ntakeovers].fn = fn;
    ntakeovers++;
}

xg_http_takeover_fn xg_http_find_takeover(const char *path, size_t len)
{
    for (unsigned i = 0; i < ntakeovers; i++)
        if (strlen(takeovers[i].path) == len && memcmp(takeovers[i].path, path, len) == 0)
            return takeovers[i].fn;
    return NULL;
}

int xg_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) into buf (truncating to len-1), '+' = space. */
static void decode(const char *s, size_t n, char *buf, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && xg_hex_value(s[i + 1]) >= 0 &&
                   xg_hex_value(s[i + 2]) >= 0) {
            c = (char)(xg_hex_value(s[i + 1]) * 16 + xg_hex_value(s[i + 2]));
            i += 2;
        }
        buf[k++] = c;
    }
    if (len)
        buf[k] = '\0';
}

bool xg_query_next(const char *query, const char *name, size_t *pos,
                   char *buf, size_t len)
{
    size_t nl = strlen(name);
    const char *p = query + *pos;
    while (*p) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        bool match = (size_t)(kend - p) == nl && memcmp(p, name, nl) == 0;
        const char *next = amp ? amp + 1 : end;
        if (match) {
            if (eq)
                decode(eq + 1, (size_t)(end - eq - 1), buf, len);
            else if (len)
                buf[0] = '\0';
            *pos = (size_t)(next - query);
            return true;
        }
        p = next;
    }
    *pos = (size_t)(p - query);
    return false;
}

bool xg_query_get(const char *query, const char *name, char *buf, size_t len)
{
    size_t pos = 0;
    return xg_query_next(query, name, &pos, buf, len);
}

/* ---- credentials a GET request carries (session.c checks them) ---------- */

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

bool xg_http_basic_decode(const char *in, char *out, size_t len)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (len == 0)
        return false;
    for (; *in && *in != '='; in++) {
        int v = b64val((unsigned char)*in);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= len)
                return false;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return memchr(out, '\0', o) == NULL;
}

bool xg_http_cookie_session(const char *cookie, char *buf, size_t len)
{
    const char *p = cookie ? strstr(cookie, "session_id=") : NULL;
    if (!p)
        return false;
    p += strlen("session_id=");
    size_t n = strcspn(p, "; ");
    if (n == 0 || n >= len)
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return true;
}
