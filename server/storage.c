/* storage.c: deep copy / free / compare of C storage, walking xg_type.
 * Heap storage belongs to store records; arena storage (decoded params) is
 * never freed here. Real OOM aborts, as everywhere in the server. */
#include "storage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writer.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s ? s : "");
    char *p = xmalloc(n + 1);
    memcpy(p, s ? s : "", n + 1);
    return p;
}

void xg_storage_copy(const xg_type *t, void *dst, const void *src)
{
    switch (t->kind) {
    case XG_K_STRING:
        *(char **)dst = xstrdup(*(char *const *)src);
        break;
    case XG_K_SET: {
        const xg_set *s = src;
        xg_set *d = dst;
        size_t es = xg_type_storage_size(t->elem);
        d->n = d->cap = s->n;
        d->items = s->n ? xmalloc(es * s->n) : NULL;
        for (uint32_t i = 0; i < s->n; i++)
            xg_storage_copy(t->elem, (char *)d->items + i * es, (char *)s->items + i * es);
        break;
    }
    case XG_K_MAP: {
        const xg_map *s = src;
        xg_map *d = dst;
        size_t ks = xg_type_storage_size(t->key), vs = xg_type_storage_size(t->elem);
        d->n = d->cap = s->n;
        d->keys = s->n ? xmalloc(ks * s->n) : NULL;
        d->vals = s->n ? xmalloc(vs * s->n) : NULL;
        for (uint32_t i = 0; i < s->n; i++) {
            xg_storage_copy(t->key, (char *)d->keys + i * ks, (char *)s->keys + i * ks);
            xg_storage_copy(t->elem, (char *)d->vals + i * vs, (char *)s->vals + i * vs);
        }
        break;
    }
    case XG_K_RECORD:          /* records are never stored inside records */
        *(void **)dst = *(void *const *)src;
        break;
    default:
        memcpy(dst, src, xg_type_storage_size(t));
        break;
    }
}

void xg_storage_free(const xg_type *t, void *p)
{
    switch (t->kind) {
    case XG_K_STRING:
        free(*(char **)p);
        *(char **)p = NULL;
        break;
    case XG_K_SET: {
        xg_set *s = p;
        size_t es = xg_type_storage_size(t->elem);
        for (uint32_t i = 0; i < s->n; i++)
            xg_storage_free(t->elem, (char *)s->items + i * es);
        free(s->items);
        memset(s, 0, sizeof(*s));
        break;
    }
    case XG_K_MAP: {
        xg_map *m = p;
        size_t ks = xg_type_storage_size(t->key), vs = xg_type_storage_size(t->elem);
        for (uint32_t i = 0; i < m->n; i++) {
            xg_storage_free(t->key, (char *)m->keys + i * ks);
            xg_storage_free(t->elem, (char *)m->vals + i * vs);
        }
        free(m->keys);
        free(m->vals);
        memset(m, 0, sizeof(*m));
        break;
    }
    default:
        break;
    }
}

bool xg_storage_equal(const xg_type *t, const void *a, const void *b)
{
    switch (t->kind) {
    case XG_K_STRING:
        return strcmp(*(char *const *)a, *(char *const *)b) == 0;
    case XG_K_INT: case XG_K_DATETIME:
        return *(const int64_t *)a == *(const int64_t *)b;
    case XG_K_FLOAT:
        return memcmp(a, b, sizeof(double)) == 0;
    case XG_K_BOOL:
        return *(const bool *)a == *(const bool *)b;
    case XG_K_ENUM:
        return *(const int *)a == *(const int *)b;
    case XG_K_REF:
        return strcmp(((const xg_ref *)a)->s, ((const xg_ref *)b)->s) == 0;
    case XG_K_SET: {
        const xg_set *x = a, *y = b;
        if (x->n != y->n)
            return false;
        for (uint32_t i = 0; i < x->n; i++)
            if (!xg_storage_equal(t->elem, xg_set_item(t, x, i), xg_set_item(t, y, i)))
                return false;
        return true;
    }
    case XG_K_MAP: {
        const xg_map *x = a, *y = b;
        if (x->n != y->n)
            return false;
        for (uint32_t i = 0; i < x->n; i++)
            if (!xg_storage_equal(t->key, xg_map_key(t, x, i), xg_map_key(t, y, i)) ||
                !xg_storage_equal(t->elem, xg_map_val(t, x, i), xg_map_val(t, y, i)))
                return false;
        return true;
    }
    case XG_K_RECORD:
        return *(void *const *)a == *(void *const *)b;
    case XG_K_VOID:
        break;
    }
    return true;
}

int64_t xg_map_find(const xg_type *map_t, const xg_map *m, const void *key)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (xg_storage_equal(map_t->key, xg_map_key(map_t, m, i), key))
            return i;
    return -1;
}

int64_t xg_set_find(const xg_type *set_t, const xg_set *s, const void *elem)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (xg_storage_equal(set_t->elem, xg_set_item(set_t, s, i), elem))
            return i;
    return -1;
}

static void *grow(void *p, uint32_t *cap, uint32_t need, size_t es)
{
    if (need <= *cap)
        return p;
    uint32_t nc = *cap ? *cap * 2 : 4;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, (size_t)nc * es);
    if (!q)
        abort();
    *cap = nc;
    return q;
}

void xg_set_append(const xg_type *set_t, xg_set *s, const void *elem)
{
    size_t es = xg_type_storage_size(set_t->elem);
    s->items = grow(s->items, &s->cap, s->n + 1, es);
    xg_storage_copy(set_t->elem, (char *)s->items + s->n * es, elem);
    s->n++;
}

/* Keeps order (clients see sets as lists). */
void xg_set_delete(const xg_type *set_t, xg_set *s, uint32_t i)
{
    size_t es = xg_type_storage_size(set_t->elem);
    char *base = s->items;
    xg_storage_free(set_t->elem, base + i * es);
    memmove(base + i * es, base + (i + 1) * es, (size_t)(s->n - i - 1) * es);
    s->n--;
}

void xg_map_append(const xg_type *map_t, xg_map *m, const void *key, const void *val)
{
    size_t ks = xg_type_storage_size(map_t->key), vs = xg_type_storage_size(map_t->elem);
    uint32_t cap = m->cap;
    m->keys = grow(m->keys, &cap, m->n + 1, ks);
    cap = m->cap;
    m->vals = grow(m->vals, &cap, m->n + 1, vs);
    m->cap = cap;
    xg_storage_copy(map_t->key, (char *)m->keys + m->n * ks, key);
    xg_storage_copy(map_t->elem, (char *)m->vals + m->n * vs, val);
    m->n++;
}

void xg_map_delete(const xg_type *map_t, xg_map *m, uint32_t i)
{
    size_t ks = xg_type_storage_size(map_t->key), vs = xg_type_storage_size(map_t->elem);
    char *k = m->keys, *v = m->vals;
    xg_storage_free(map_t->key, k + i * ks);
    xg_storage_free(map_t->elem, v + i * vs);
    memmove(k + i * ks, k + (i + 1) * ks, (size_t)(m->n - i - 1) * ks);
    memmove(v + i * vs, v + (i + 1) * vs, (size_t)(m->n - i - 1) * vs);
    m->n--;
}

size_t xg_storage_text(const xg_type *t, const void *p, char *buf, size_t len,
                       const char **str_out)
{
    *str_out = buf;
    switch (t->kind) {
    case XG_K_STRING:
        *str_out = *(char *const *)p;
        return strlen(*str_out);
    case XG_K_REF:
        *str_out = ((const xg_ref *)p)->s;
        return strlen(*str_out);
    case XG_K_ENUM: {
        int v = *(const int *)p;
        *str_out = (v >= 0 && v < t->enm->n) ? t->enm->values[v] : "";
        return strlen(*str_out);
    }
    case XG_K_INT:
        return (size_t)snprintf(buf, len, "%" PRId64, *(const int64_t *)p);
    case XG_K_FLOAT: {
        char tmp[40];
        size_t n = xg_fmt_double(tmp, *(const double *)p);
        snprintf(buf, len, "%.*s", (int)n, tmp);
        return strlen(buf);
    }
    case XG_K_BOOL:
        *str_out = *(const bool *)p ? "true" : "false";
        return strlen(*str_out);
    case XG_K_DATETIME: {
        char tmp[32];
        size_t n = xg_fmt_datetime(tmp, *(const int64_t *)p);
        snprintf(buf, len, "%.*s", (int)n, tmp);
        return strlen(buf);
    }
    default:
        buf[0] = '\0';
        return 0;
    }
}
