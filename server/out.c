/* out.c: the chunk chain behind every response. Chunks are recycled through
 * a small per-thread free list so that steady-state serving never mallocs;
 * a chunk freed on another thread (deferred calls) simply joins that
 * thread's list, which is capped so no thread hoards memory. */
#include "out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

#define FREE_LIST_MAX 32

static _Thread_local struct xg_chunk *free_list;
static _Thread_local unsigned free_count;

static struct xg_chunk *chunk_get(void)
{
    struct xg_chunk *c = free_list;
    if (c) {
        free_list = c->next;
        free_count--;
    } else {
        c = malloc(sizeof(*c) + XG_OUT_CHUNK_BYTES);
        if (!c)
            abort();
    }
    c->next = NULL;
    c->len = 0;
    c->sent = 0;
    return c;
}

static void chunk_put(struct xg_chunk *c)
{
    if (free_count >= FREE_LIST_MAX) {
        free(c);
        return;
    }
    c->next = free_list;
    free_list = c;
    free_count++;
}

void xg_out_init(xg_out *o)
{
    o->head = o->tail = NULL;
    o->total = 0;
}

void xg_out_append(xg_out *o, const void *p, size_t n)
{
    const char *s = p;
    o->total += n;
    while (n > 0) {
        struct xg_chunk *t = o->tail;
        if (!t || t->len == XG_OUT_CHUNK_BYTES) {
            t = chunk_get();
            if (o->tail)
                o->tail->next = t;
            else
                o->head = t;
            o->tail = t;
        }
        size_t room = XG_OUT_CHUNK_BYTES - t->len;
        size_t k = n < room ? n : room;
        memcpy(t->data + t->len, s, k);
        t->len += (uint32_t)k;
        s += k;
        n -= k;
    }
}

void xg_out_putc(xg_out *o, char ch)
{
    struct xg_chunk *t = o->tail;
    if (t && t->len < XG_OUT_CHUNK_BYTES) {
        t->data[t->len++] = ch;
        o->total++;
        return;
    }
    xg_out_append(o, &ch, 1);
}

void xg_out_puts(xg_out *o, const char *s)
{
    xg_out_append(o, s, strlen(s));
}

void xg_out_printf(xg_out *o, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(buf)) {
        xg_out_append(o, buf, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    xg_out_append(o, big, (size_t)n);
    free(big);
}

char *xg_out_strdup(const xg_out *o, size_t *len_out)
{
    size_t n = 0;
    for (const struct xg_chunk *c = o->head; c; c = c->next)
        n += c->len - c->sent;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    size_t k = 0;
    for (const struct xg_chunk *c = o->head; c; c = c->next) {
        memcpy(s + k, c->data + c->sent, c->len - c->sent);
        k += c->len - c->sent;
    }
    s[k] = '\0';
    if (len_out)
        *len_out = k;
    return s;
}

void xg_out_reset(xg_out *o)
{
    struct xg_chunk *c = o->head;
    while (c) {
        struct xg_chunk *n = c->next;
        chunk_put(c);
        c = n;
    }
    xg_out_init(o);
}

void xg_out_move(xg_out *dst, xg_out *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->total += src->total;
    xg_out_init(src);
}

void xg_out_drop_sent(xg_out *o)
{
    struct xg_chunk *c;
    while ((c = o->head) && c->sent == c->len) {
        o->head = c->next;
        if (!o->head)
            o->tail = NULL;
        o->total -= c->len;
        chunk_put(c);
    }
}

size_t xg_out_pending(const xg_out *o)
{
    size_t n = 0;
    for (const struct xg_chunk *c = o->head; c; c = c->next)
        n += c->len - c->sent;
    return n;
}
