/* persist_load.c: rows of the state database back into store objects, with
 * their old refs, through the same decoder that reads client input (the
 * database is ours, but a damaged row must not take the gateway down). */
#include "persist_load.h"

#include <string.h>

#include "../server/arena.h"
#include "../server/log.h"
#include "../server/marshal.h"
#include "../server/store.h"
#include "persist.h"

struct load_ctx {
    xg_arena *a;
    uint32_t loaded, skipped;
};

static void load_row(const xg_class_desc *cls, const char *ref, const xg_value *rec, void *arg)
{
    struct load_ctx *lc = arg;
    void *obj = xg_obj_new(cls);
    for (uint32_t i = 0; i < rec->n; i++) {
        const xg_member *m = &rec->u.members[i];
        const xg_field_desc *f = xg_field_by_name(cls, m->name);
        if (!f || !(f->flags & XG_F_PERSIST) || (f->flags & XG_F_MAINTAINED))
            continue;               /* a field we no longer keep: dropped */
        size_t sz = xg_type_storage_size(f->type);
        void *tmp = xg_arena_alloc(lc->a, sz ? sz : 8);
        xg_err err = XG_ERR_INIT;
        if (!tmp || !xg_decode_in(lc->a, f->type, &m->v, tmp, &err)) {
            XG_WARN("persist", "%s %s: field %s unreadable (%s), default kept",
                    cls->name, ref, f->name, err.code ? err.code : "?");
            continue;
        }
        xg_obj_copy_field(obj, f, tmp);
    }
    xg_err err = XG_ERR_INIT;
    if (!xg_store_add(obj, ref, &err)) {
        XG_WARN("persist", "%s %s not restored: %s", cls->name, ref, err.param[0]);
        xg_obj_free(obj);
        lc->skipped++;
    } else {
        lc->loaded++;
    }
    xg_arena_reset(lc->a);
}

bool gw_persist_load_store(xg_err *err)
{
    struct load_ctx lc = { .a = xg_arena_new(64 * 1024 * 1024) };
    bool ok = gw_persist_load(load_row, &lc, err);
    xg_arena_free(lc.a);
    if (ok)
        xg_store_relink();
    if (ok && (lc.loaded || lc.skipped))
        XG_INFO("persist", "restored %u objects (%u skipped)", lc.loaded, lc.skipped);
    return ok;
}
