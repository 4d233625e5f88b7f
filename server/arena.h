/* arena.h: per-request bump allocator (xenstored's talloc-per-request idea).
 *
 * Everything decoded from a request and every temporary of its handler lives
 * in the call's arena and is freed at once when the response is written.
 * Allocation never fails silently: on exhaustion of the arena's byte budget it
 * returns NULL and the caller raises INTERNAL_ERROR; real OOM aborts. */
#ifndef XG_ARENA_H
#define XG_ARENA_H

#include <stddef.h>

typedef struct xg_arena xg_arena;

xg_arena *xg_arena_new(size_t budget_bytes);
void xg_arena_free(xg_arena *a);
void xg_arena_reset(xg_arena *a);          /* keeps the first block for reuse */
void *xg_arena_alloc(xg_arena *a, size_t n);   /* 16-byte aligned, zeroed */
char *xg_arena_strndup(xg_arena *a, const char *s, size_t n);
char *xg_arena_strdup(xg_arena *a, const char *s);
char *xg_arena_printf(xg_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t xg_arena_used(const xg_arena *a);

#endif
