/* storage.h: generic operations on C storage of IDL types (desc.h): deep
 * copy to the heap, free, compare. Used by the store, the decoder's map and
 * set operations and the where-expression evaluator. Private to server/. */
#ifndef XG_STORAGE_H
#define XG_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "desc.h"

/* dst (uninitialised) = heap deep copy of src. */
void xg_storage_copy(const xg_type *t, void *dst, const void *src);
/* Frees heap storage made by xg_storage_copy and zeroes it. */
void xg_storage_free(const xg_type *t, void *p);
bool xg_storage_equal(const xg_type *t, const void *a, const void *b);
/* Element i of a set / key or value i of a map. */
static inline void *xg_set_item(const xg_type *set_t, const xg_set *s, uint32_t i)
{
    return (char *)s->items + (size_t)i * xg_type_storage_size(set_t->elem);
}
static inline void *xg_map_key(const xg_type *map_t, const xg_map *m, uint32_t i)
{
    return (char *)m->keys + (size_t)i * xg_type_storage_size(map_t->key);
}
static inline void *xg_map_val(const xg_type *map_t, const xg_map *m, uint32_t i)
{
    return (char *)m->vals + (size_t)i * xg_type_storage_size(map_t->elem);
}
/* Index of key in map m / elem in set s, or -1. Linear: maps and sets in
 * records are small (guest maps are bounded by limits.h). */
int64_t xg_map_find(const xg_type *map_t, const xg_map *m, const void *key);
int64_t xg_set_find(const xg_type *set_t, const xg_set *s, const void *elem);
/* Heap growth of set/map arrays by one element (copying the element). */
void xg_set_append(const xg_type *set_t, xg_set *s, const void *elem);
void xg_set_delete(const xg_type *set_t, xg_set *s, uint32_t i);
void xg_map_append(const xg_type *map_t, xg_map *m, const void *key, const void *val);
void xg_map_delete(const xg_type *map_t, xg_map *m, uint32_t i);
/* Text form used by where-expressions: as the DB stores it. */
size_t xg_storage_text(const xg_type *t, const void *p, char *buf, size_t len,
                       const char **str_out);

#endif
