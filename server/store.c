/* store.c: the in-memory object store (see store.h for the contract):
 * records, adding and removing them, writes, persistence and the store's
 * lifecycle. Indexes, relations and events each have their own file
 * (store_int.h says which). Never does per-object work proportional to the
 * number of objects. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "random.h"
#include "storage.h"
#include "store_int.h"

struct forget { const xg_class_desc *cls; xg_ref ref; };

static struct {
    bool init;
    xg_obj **dirty;
    uint32_t ndirty, dirty_cap;
    struct forget *forgets;
    uint32_t nforgets, forgets_cap;
    const struct xg_persist_ops *persist;
} S;

/* ---- lifecycle ---------------------------------------------------------- */

void xg_store_init(void)
{
    if (S.init)
        return;
    S.init = true;
    xg_index_init();
    xg_events_init();
}

void xg_store_shutdown(void)
{
    if (!S.init)
        return;
    xg_rel_shutdown();
    xg_index_shutdown();
    xg_events_shutdown();
    free(S.dirty);
    free(S.forgets);
    memset(&S, 0, sizeof(S));
}

/* ---- records ------------------------------------------------------------ */

void *xg_obj_new(const xg_class_desc *cls)
{
    xg_obj *o = xg_store_xcalloc(1, cls->size);
    o->cls = cls;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        void *p = xg_store_fptr(o, f);
        if (f->flags & XG_F_HAS_DEFAULT) {
            xg_storage_copy(f->type, p, f->default_storage);
        } else if (f->type->kind == XG_K_STRING) {
            static char *const empty = "";
            xg_storage_copy(f->type, p, &empty);
        } else if (f->type->kind == XG_K_REF) {
            memcpy(((xg_ref *)p)->s, XG_REF_NULL, sizeof(XG_REF_NULL));
        }
    }
    return o;
}

void xg_obj_free(void *obj)
{
    xg_obj *o = obj;
    if (!o)
        return;
    for (uint32_t i = 0; i < o->cls->nfields; i++)
        xg_storage_free(o->cls->fields[i].type, xg_store_fptr(o, &o->cls->fields[i]));
    free(o);
}

void xg_obj_copy_field(void *dst, const xg_field_desc *f, const void *src_storage)
{
    void *p = xg_store_fptr(dst, f);
    union { unsigned char b[64]; void *p; int64_t i; double d; } tmp;
    /* copy first: src may alias part of the old value */
    xg_storage_copy(f->type, &tmp, src_storage);
    xg_storage_free(f->type, p);
    memcpy(p, &tmp, xg_type_storage_size(f->type));
}

/* ---- changes and dirtiness ------------------------------------------------ */

static void mark_dirty(xg_obj *o)
{
    if (!(o->cls->flags & XG_C_PERSIST) || o->dirty)
        return;
    if (S.ndirty == S.dirty_cap) {
        S.dirty_cap = S.dirty_cap ? S.dirty_cap * 2 : 64;
        S.dirty = xg_store_xrealloc(S.dirty, S.dirty_cap * sizeof(*S.dirty));
    }
    S.dirty[S.ndirty++] = o;
    o->dirty = true;
}

void xg_store_modified(xg_obj *o, bool persist)
{
    xg_events_modified(o);
    if (persist)
        mark_dirty(o);
}

void xg_store_touch(void *obj)
{
    xg_obj *o = obj;
    if (o->in_store)
        xg_store_modified(o, true);
}

/* ---- add / remove ------------------------------------------------------- */

bool xg_store_add(void *obj, const char *ref_or_null, xg_err *err)
{
    xg_obj *o = obj;
    const xg_class_desc *cls = o->cls;
    if (!(cls->flags & XG_C_STORED))
        return xg_err_internal(err, "%s objects are not stored", cls->name);
    if (o->in_store)
        return xg_err_internal(err, "object already stored");
    if (ref_or_null) {
        size_t n = strlen(ref_or_null);
        if (n == 0 || n >= XG_REF_LEN)
            return xg_err_internal(err, "bad reference for a new %s", cls->name);
        memcpy(o->ref.s, ref_or_null, n + 1);
    } else {
        char u[37];
        xg_random_uuid(u);
        snprintf(o->ref.s, XG_REF_LEN, "OpaqueRef:%s", u);
    }
    if (xg_store_get_any(o->ref.s, NULL))
        return xg_err_internal(err, "duplicate reference %s", o->ref.s);
    if (cls->uuid_field >= 0) {
        char **u = xg_store_fptr(o, &cls->fields[cls->uuid_field]);
        if (!(*u)[0]) {
            char nu[37];
            xg_random_uuid(nu);
            char *const src = nu;
            xg_obj_copy_field(o, &cls->fields[cls->uuid_field], &src);
        } else if (xg_store_get_by_uuid(cls, *u)) {
            return xg_err_internal(err, "duplicate uuid %s for %s", *u, cls->name);
        }
    }
    o->in_store = true;
    xg_index_insert(o);
    xg_events_added(o);
    mark_dirty(o);
    xg_rel_link_all(o, true);
    return true;
}

void xg_store_remove(void *obj)
{
    xg_obj *o = obj;
    if (!o || !o->in_store)
        return;
    const xg_class_desc *cls = o->cls;
    xg_rel_link_all(o, false);
    xg_rel_forget_target(o);
    xg_index_remove(o);
    xg_events_removed(o);
    if (o->dirty) {
        for (uint32_t i = 0; i < S.ndirty; i++)
            if (S.dirty[i] == o) {
                S.dirty[i] = S.dirty[--S.ndirty];
                break;
            }
    }
    if (cls->flags & XG_C_PERSIST) {
        if (S.nforgets == S.forgets_cap) {
            S.forgets_cap = S.forgets_cap ? S.forgets_cap * 2 : 16;
            S.forgets = xg_store_xrealloc(S.forgets, S.forgets_cap * sizeof(*S.forgets));
        }
        S.forgets[S.nforgets].cls = cls;
        S.forgets[S.nforgets].ref = o->ref;
        S.nforgets++;
    }
    o->in_store = false;
    xg_obj_free(o);
}

/* ---- writes ------------------------------------------------------------- */

void xg_store_set(void *obj, const xg_field_desc *f, const void *value)
{
    xg_obj *o = obj;
    void *p = xg_store_fptr(o, f);
    if (xg_storage_equal(f->type, p, value))
        return;
    if (!o->in_store) {
        xg_obj_copy_field(o, f, value);
        return;
    }
    bool keyed = xg_index_keyed(o, f);
    if (keyed)
        xg_index_unkey(o);
    bool rel = xg_rel_is_source(f);
    if (rel)
        xg_rel_link_field(o, f, p, false);
    xg_obj_copy_field(o, f, value);
    if (rel)
        xg_rel_link_field(o, f, p, true);
    if (keyed)
        xg_index_rekey(o);
    xg_store_modified(o, f->flags & XG_F_PERSIST);
}

bool xg_store_map_add(void *obj, const xg_field_desc *f, const void *key,
                      const void *val, xg_err *err)
{
    xg_obj *o = obj;
    xg_map *m = xg_store_fptr(o, f);
    if (xg_map_find(f->type, m, key) >= 0) {
        char buf[64];
        const char *ks;
        xg_storage_text(f->type->key, key, buf, sizeof(buf), &ks);
        return xg_err_set(err, "MAP_DUPLICATE_KEY", 4, o->cls->name, f->name, o->ref.s, ks);
    }
    xg_map_append(f->type, m, key, val);
    if (o->in_store)
        xg_store_modified(o, f->flags & XG_F_PERSIST);
    return true;
}

void xg_store_map_remove(void *obj, const xg_field_desc *f, const void *key)
{
    xg_obj *o = obj;
    xg_map *m = xg_store_fptr(o, f);
    int64_t i = xg_map_find(f->type, m, key);
    if (i < 0)
        return;
    xg_map_delete(f->type, m, (uint32_t)i);
    if (o->in_store)
        xg_store_modified(o, f->flags & XG_F_PERSIST);
}

void xg_store_set_add(void *obj, const xg_field_desc *f, const void *elem)
{
    xg_obj *o = obj;
    xg_set *s = xg_store_fptr(o, f);
    if (xg_set_find(f->type, s, elem) >= 0)
        return;
    xg_set_append(f->type, s, elem);
    if (xg_rel_is_source(f) && o->in_store)
        xg_rel_link_ref(o, f, ((const xg_ref *)elem)->s, true);
    if (o->in_store)
        xg_store_modified(o, f->flags & XG_F_PERSIST);
}

void xg_store_set_remove(void *obj, const xg_field_desc *f, const void *elem)
{
    xg_obj *o = obj;
    xg_set *s = xg_store_fptr(o, f);
    int64_t i = xg_set_find(f->type, s, elem);
    if (i < 0)
        return;
    if (xg_rel_is_source(f) && o->in_store)
        xg_rel_link_ref(o, f, ((const xg_ref *)elem)->s, false);
    xg_set_delete(f->type, s, (uint32_t)i);
    if (o->in_store)
        xg_store_modified(o, f->flags & XG_F_PERSIST);
}

/* ---- persistence -------------------------------------------------------------- */

void xg_store_set_persist(const struct xg_persist_ops *ops)
{
    S.persist = ops;
}

bool xg_store_flush(xg_err *err)
{
    if (!S.ndirty && !S.nforgets)
        return true;
    const struct xg_persist_ops *ops = S.persist;
    for (uint32_t i = 0; i < S.nforgets; i++)
        if (ops)
            ops->forget(S.forgets[i].cls, S.forgets[i].ref.s);
    S.nforgets = 0;
    for (uint32_t i = 0; i < S.ndirty; i++) {
        S.dirty[i]->dirty = false;
        if (ops)
            ops->save(S.dirty[i]);
    }
    S.ndirty = 0;
    return ops ? ops->commit(err) : true;
}
