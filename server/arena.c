/* arena.c: per-request bump allocator. Blocks grow geometrically up to the
 * budget; the first block is kept across resets so that a connection serving
 * many small calls allocates nothing in steady state. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct xg_arena {
    struct block *head;      /* current block (newest) */
    size_t budget, total;
};

#define FIRST_BLOCK 8192

static struct block *block_new(size_t size)
{
    struct block *b = malloc(sizeof(*b) + size);
    if (!b)
        abort();                       /* real OOM: nothing sane to do */
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

xg_arena *xg_arena_new(size_t budget_bytes)
{
    xg_arena *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    a->budget = budget_bytes;
    a->head = block_new(FIRST_BLOCK);
    a->total = FIRST_BLOCK;
    return a;
}

static void free_chain(struct block *b)
{
    while (b) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
}

void xg_arena_free(xg_arena *a)
{
    if (!a)
        return;
    free_chain(a->head);
    free(a);
}

void xg_arena_reset(xg_arena *a)
{
    struct block *b = a->head, *first = b;
    /* keep the oldest (smallest) block: it is last in the chain */
    while (first->next)
        first = first->next;
    while (b != first) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
    first->used = 0;
    a->head = first;
    a->total = first->size;
}

void *xg_arena_alloc(xg_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct block *b = a->head;
    if (b->size - b->used < n) {
        size_t size = b->size * 2;
        if (size < n)
            size = n;
        if (a->total + size > a->budget) {
            if (a->total + n > a->budget)
                return NULL;
            size = n;
        }
        b = block_new(size);
        b->next = a->head;
        a->head = b;
        a->total += size;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *xg_arena_strndup(xg_arena *a, const char *s, size_t n)
{
    char *p = xg_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xg_arena_strdup(xg_arena *a, const char *s)
{
    return xg_arena_strndup(a, s, strlen(s));
}

char *xg_arena_printf(xg_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = xg_arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t xg_arena_used(const xg_arena *a)
{
    size_t used = 0;
    for (const struct block *b = a->head; b; b = b->next)
        used += b->used;
    return used;
}
