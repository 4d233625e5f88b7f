/* store_rel.c: maintained relations (store_int.h). A ref field with an
 * inverse (VBD.VM) feeds a set on its target (VM.VBDs) that clients only
 * read; every add, remove and write of a source keeps the target's set and
 * its event in step.
 *
 * Position of each member in the maintained sets, so that adding and
 * removing a member is O(1) (host.resident_VMs of 10,000 VMs would make
 * mass starts and deletions quadratic otherwise). Keyed by (member, set
 * field, target); open addressing with tombstones, rebuilt on growth.
 * Removal swaps the last member into the hole: XAPI sets have no order. */
#include <string.h>

#include "storage.h"
#include "store_int.h"

struct relpos {
    xg_obj *member, *tgt;             /* member NULL: free; TOMB: deleted */
    const xg_field_desc *inv;
    uint32_t idx;
};
#define RELPOS_TOMB ((xg_obj *)1)
static struct relpos *RP;
static size_t rp_cap, rp_used;        /* used counts tombstones too */

static size_t rp_hash(const xg_obj *m, const xg_field_desc *f, const xg_obj *t)
{
    uint64_t x = (uint64_t)(uintptr_t)m * 0x9E3779B97F4A7C15ULL;
    x ^= (uint64_t)(uintptr_t)f * 0xC2B2AE3D27D4EB4FULL;
    x ^= (uint64_t)(uintptr_t)t * 0x165667B19E3779F9ULL;
    return (size_t)(x ^ (x >> 29));
}

static struct relpos *rp_find(const xg_obj *m, const xg_field_desc *f, const xg_obj *t)
{
    if (!rp_cap)
        return NULL;
    for (size_t i = rp_hash(m, f, t) & (rp_cap - 1);; i = (i + 1) & (rp_cap - 1)) {
        struct relpos *e = &RP[i];
        if (!e->member)
            return NULL;
        if (e->member == m && e->inv == f && e->tgt == t)
            return e;
    }
}

static void rp_put(xg_obj *m, const xg_field_desc *f, xg_obj *t, uint32_t idx);

static void rp_grow(void)
{
    struct relpos *old = RP;
    size_t old_cap = rp_cap;
    rp_cap = old_cap ? old_cap * 2 : 256;
    RP = xg_store_xcalloc(rp_cap, sizeof(*RP));
    rp_used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].member && old[i].member != RELPOS_TOMB)
            rp_put(old[i].member, old[i].inv, old[i].tgt, old[i].idx);
    free(old);
}

static void rp_put(xg_obj *m, const xg_field_desc *f, xg_obj *t, uint32_t idx)
{
    if ((rp_used + 1) * 2 > rp_cap)
        rp_grow();
    size_t i = rp_hash(m, f, t) & (rp_cap - 1);
    while (RP[i].member && RP[i].member != RELPOS_TOMB)
        i = (i + 1) & (rp_cap - 1);
    if (!RP[i].member)
        rp_used++;
    RP[i] = (struct relpos){ m, t, f, idx };
}

void xg_rel_shutdown(void)
{
    free(RP);
    RP = NULL;
    rp_cap = rp_used = 0;
}

static void rp_del(struct relpos *e)
{
    e->member = RELPOS_TOMB;
    e->tgt = NULL;
    e->inv = NULL;
}

void xg_rel_link_ref(xg_obj *o, const xg_field_desc *f, const char *target, bool add)
{
    xg_obj *tgt = xg_store_get(f->inverse_cls, target);
    if (!tgt)
        return;
    const xg_field_desc *inv = f->inverse;
    xg_set *s = xg_store_fptr(tgt, inv);
    struct relpos *e = rp_find(o, inv, tgt);
    if (add) {
        if (e)
            return;
        xg_set_append(inv->type, s, &o->ref);
        rp_put(o, inv, tgt, s->n - 1);
    } else {
        if (!e)
            return;
        uint32_t i = e->idx, last = s->n - 1;
        rp_del(e);
        xg_ref *items = s->items;
        if (i != last) {
            items[i] = items[last];
            xg_obj *moved = xg_store_get_any(items[i].s, NULL);
            struct relpos *me = moved ? rp_find(moved, inv, tgt) : NULL;
            if (me)
                me->idx = i;
        }
        s->n--;
    }
    xg_store_modified(tgt, inv->flags & XG_F_PERSIST);
}

void xg_rel_forget_target(xg_obj *tgt)
{
    const xg_class_desc *cls = tgt->cls;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *inv = &cls->fields[i];
        if (!(inv->flags & XG_F_MAINTAINED) || inv->type->kind != XG_K_SET)
            continue;
        const xg_set *s = xg_store_fptr(tgt, inv);
        const xg_ref *items = s->items;
        for (uint32_t k = 0; k < s->n; k++) {
            xg_obj *m = xg_store_get_any(items[k].s, NULL);
            struct relpos *e = m ? rp_find(m, inv, tgt) : NULL;
            if (e)
                rp_del(e);
        }
    }
}

bool xg_rel_is_source(const xg_field_desc *f)
{
    return f->inverse && !(f->flags & XG_F_MAINTAINED);
}

void xg_rel_link_field(xg_obj *o, const xg_field_desc *f, const void *p, bool add)
{
    if (f->type->kind == XG_K_REF) {
        const char *r = ((const xg_ref *)p)->s;
        if (r[0] && strcmp(r, XG_REF_NULL) != 0)
            xg_rel_link_ref(o, f, r, add);
    } else if (f->type->kind == XG_K_SET) {
        const xg_set *s = p;
        for (uint32_t i = 0; i < s->n; i++)
            xg_rel_link_ref(o, f, ((const xg_ref *)xg_set_item(f->type, s, i))->s, add);
    }
}

void xg_rel_link_all(xg_obj *o, bool add)
{
    const xg_class_desc *cls = o->cls;
    for (uint32_t i = 0; i < cls->nfields; i++)
        if (xg_rel_is_source(&cls->fields[i]))
            xg_rel_link_field(o, &cls->fields[i], xg_store_fptr(o, &cls->fields[i]), add);
}

void xg_store_relink(void)
{
    for (uint32_t c = 0; c < xg_nclasses; c++) {
        const xg_class_desc *cls = xg_classes[c];
        if (!(cls->flags & XG_C_STORED))
            continue;
        uint64_t cur = 0;
        xg_obj *o;
        while ((o = xg_store_next(cls, &cur)) != NULL)
            xg_rel_link_all(o, true);
    }
}
