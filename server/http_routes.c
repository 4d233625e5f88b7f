/* http_routes.c: the table of GET endpoints (filled before the listeners
 * open, read-only afterwards, so lookups take no lock) and the query-string
 * helpers the metrics handlers use. */
#include "http_routes.h"

#include <string.h>

#include "log.h"

#define MAX_ROUTES 32

static struct { const char *path; xg_http_get_fn fn; } routes[MAX_ROUTES];
static unsigned nroutes;

void xg_http_register_get(const char *path, xg_http_get_fn fn)
{
    for (unsigned i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].path, path) == 0) {
            routes[i].fn = fn;
            return;
        }
    }
    if (nroutes == MAX_ROUTES) {
        XG_ERROR("http", "route table full, %s not registered", path);
        return;
    }
    routes[nroutes].path = path;
    routes[nroutes].fn = fn;
    nroutes++;
}

xg_http_get_fn xg_http_find_get(const char *path)
{
    for (unsigned i = 0; i < nroutes; i++)
        if (strcmp(routes[i].path, path) == 0)
            return routes[i].fn;
    return NULL;
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

xg_http_takeover_fn xg_http_find_takeover(const char *path)
{
    for (unsigned i = 0; i < ntakeovers; i++)
        if (strcmp(takeovers[i].path, path) == 0)
            return takeovers[i].fn;
    return NULL;
}

static int hexval(char c)
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
        } else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
                   hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
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
