/* msink.c: a small buffer in front of any byte consumer, so that formatters
 * write numbers and tags without caring where the bytes go. */
#include "metrics_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ms_init(struct msink *s, void (*flush)(void *, const char *, size_t), void *ctx)
{
    s->flush = flush;
    s->ctx = ctx;
    s->n = 0;
}

void ms_flush(struct msink *s)
{
    if (s->n)
        s->flush(s->ctx, s->buf, s->n);
    s->n = 0;
}

void ms_put(struct msink *s, const char *p, size_t n)
{
    if (n > sizeof(s->buf) - s->n) {
        ms_flush(s);
        if (n > sizeof(s->buf)) {
            s->flush(s->ctx, p, n);
            return;
        }
    }
    memcpy(s->buf + s->n, p, n);
    s->n += n;
}

void ms_puts(struct msink *s, const char *str)
{
    ms_put(s, str, strlen(str));
}

void ms_printf(struct msink *s, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    ms_put(s, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void ms_num(struct msink *s, double v)
{
    char b[40];
    ms_put(s, b, rrd_fmt(b, v));
}

void ms_xml_text(struct msink *s, const char *str)
{
    for (const char *p = str; *p; p++) {
        switch (*p) {
        case '<': ms_puts(s, "&lt;"); break;
        case '>': ms_puts(s, "&gt;"); break;
        case '&': ms_puts(s, "&amp;"); break;
        case '"': ms_puts(s, "&quot;"); break;
        case '\'': ms_puts(s, "&apos;"); break;
        default:
            /* Control bytes are illegal in XML 1.0: drop them. */
            if ((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n')
                ms_put(s, p, 1);
        }
    }
}

void ms_json_str(struct msink *s, const char *str)
{
    ms_put(s, "\"", 1);
    for (const char *p = str; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            ms_put(s, e, 2);
        } else if (c < 0x20) {
            ms_printf(s, "\\u%04x", c);
        } else {
            ms_put(s, p, 1);
        }
    }
    ms_put(s, "\"", 1);
}

void mbuf_sink(void *ctx, const char *p, size_t n)
{
    struct mbuf *b = ctx;
    if (b->over || (b->max && b->len + n > b->max)) {
        b->over = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            abort();
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void mbuf_free(struct mbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
