/* store.c: the in-memory object store (see store.h for the contract).
 *
 * Per class: a creation-order table (objects + their seq, tombstones
 * compacted once they outnumber live rows, so cursors = seq survive
 * compaction), a uuid hash and a name_label hash (doubly linked chains: many
 * VMs may share a label). Global: a ref hash, the change list ordered by
 * gen_modified (an object moves to the tail on every write), a bounded ring
 * of deletions, the dirty list for persistence and parked waiters.
 * Never does per-object work proportional to the number of objects. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "arena.h"
#include "limits.h"
#include "log.h"
#include "marshal.h"
#include "random.h"
#include "storage.h"

struct table {
    xg_obj **objs;
    uint64_t *seqs;               /* seqs[i] stays valid for tombstones */
    uint32_t n, cap, live;
    xg_obj **by_uuid, **by_name;
    uint32_t nbuckets;            /* for both per-class hashes, power of 2 */
    void **defaults;              /* decoded IDL defaults per field (heap) */
};

struct deletion {
    const xg_class_desc *cls;
    xg_ref ref;
    uint64_t gen_created, gen_deleted;
};

struct forget { const xg_class_desc *cls; xg_ref ref; };

static struct {
    bool init;
    struct table *t;
    xg_obj **by_ref;
    uint32_t nref_buckets, nrefs;
    uint64_t gen, seq;
    xg_obj *chg_head, *chg_tail;
    struct deletion *hist;        /* ring */
    uint32_t hist_cap, hist_limit, hist_n, hist_first;
    uint64_t hist_start;
    xg_obj **dirty;
    uint32_t ndirty, dirty_cap;
    struct forget *forgets;
    uint32_t nforgets, forgets_cap;
    const struct xg_persist_ops *persist;
    uint8_t *hit;
    bool any_hit;
    xg_waiter *waiters;
    xg_arena *scratch;
} S;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;            /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void *fptr(const void *obj, const xg_field_desc *f)
{
    return (char *)obj + f->offset;
}

static const char *obj_uuid(const xg_obj *o)
{
    if (o->cls->uuid_field < 0)
        return NULL;
    return *(char *const *)fptr(o, &o->cls->fields[o->cls->uuid_field]);
}

static const char *obj_label(const xg_obj *o)
{
    if (o->cls->name_label_field < 0)
        return NULL;
    return *(char *const *)fptr(o, &o->cls->fields[o->cls->name_label_field]);
}

static struct table *tab(const xg_class_desc *cls)
{
    return &S.t[cls->index];
}

/* ---- lifecycle ---------------------------------------------------------- */

void xg_store_init(void)
{
    if (S.init)
        return;
    S.init = true;
    S.t = xcalloc(xg_nclasses, sizeof(*S.t));
    S.nref_buckets = 1024;
    S.by_ref = xcalloc(S.nref_buckets, sizeof(*S.by_ref));
    S.hit = xcalloc(xg_nclasses, 1);
    if (!S.hist_limit)
        S.hist_limit = XG_EVENT_HISTORY_DELS;
    S.scratch = xg_arena_new(1 << 20);
}

static void rel_index_free(void);

void xg_store_shutdown(void)
{
    if (!S.init)
        return;
    rel_index_free();
    for (uint32_t c = 0; c < xg_nclasses; c++) {
        struct table *t = &S.t[c];
        for (uint32_t i = 0; i < t->n; i++)
            if (t->objs[i]) {
                t->objs[i]->in_store = false;
                xg_obj_free(t->objs[i]);
            }
        free(t->objs);
        free(t->seqs);
        free(t->by_uuid);
        free(t->by_name);
        if (t->defaults) {
            const xg_class_desc *cls = xg_classes[c];
            for (uint32_t f = 0; f < cls->nfields; f++)
                if (t->defaults[f]) {
                    xg_storage_free(cls->fields[f].type, t->defaults[f]);
                    free(t->defaults[f]);
                }
            free(t->defaults);
        }
    }
    free(S.t);
    free(S.by_ref);
    free(S.hist);
    free(S.dirty);
    free(S.forgets);
    free(S.hit);
    xg_arena_free(S.scratch);
    uint32_t limit = S.hist_limit;
    memset(&S, 0, sizeof(S));
    S.hist_limit = limit;
}

void xg_store_set_history_limit(uint32_t n)
{
    S.hist_limit = n ? n : 1;
}

/* ---- records ------------------------------------------------------------ */

/* Heap copies of the decoded IDL defaults of a class, made once. */
static void **class_defaults(const xg_class_desc *cls)
{
    struct table *t = tab(cls);
    if (t->defaults)
        return t->defaults;
    t->defaults = xcalloc(cls->nfields ? cls->nfields : 1, sizeof(void *));
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        if (!(f->flags & XG_F_HAS_DEFAULT))
            continue;
        union { unsigned char b[64]; void *p; int64_t i; double d; } tmp;
        xg_err err = XG_ERR_INIT;
        if (!xg_decode_in(S.scratch, f->type, f->default_value, &tmp, &err)) {
            /* the generator checked every default against its type */
            XG_ERROR("store", "default of %s.%s: %s", cls->name, f->name,
                     err.nparams ? err.param[0] : "?");
            continue;
        }
        t->defaults[i] = xcalloc(1, xg_type_storage_size(f->type));
        xg_storage_copy(f->type, t->defaults[i], &tmp);
        xg_arena_reset(S.scratch);
    }
    return t->defaults;
}

void *xg_obj_new(const xg_class_desc *cls)
{
    xg_obj *o = xcalloc(1, cls->size);
    o->cls = cls;
    void **defs = (cls->flags & XG_C_STORED) && S.init ? class_defaults(cls) : NULL;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        void *p = fptr(o, f);
        if (defs && defs[i]) {
            xg_storage_copy(f->type, p, defs[i]);
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
        xg_storage_free(o->cls->fields[i].type, fptr(o, &o->cls->fields[i]));
    free(o);
}

void xg_obj_copy_field(void *dst, const xg_field_desc *f, const void *src_storage)
{
    void *p = fptr(dst, f);
    union { unsigned char b[64]; void *p; int64_t i; double d; } tmp;
    /* copy first: src may alias part of the old value */
    xg_storage_copy(f->type, &tmp, src_storage);
    xg_storage_free(f->type, p);
    memcpy(p, &tmp, xg_type_storage_size(f->type));
}

/* ---- hashes --------------------------------------------------------------- */

static void ref_insert(xg_obj *o)
{
    if (S.nrefs + 1 > S.nref_buckets) {
        uint32_t nb = S.nref_buckets * 2;
        xg_obj **b = xcalloc(nb, sizeof(*b));
        for (uint32_t i = 0; i < S.nref_buckets; i++)
            for (xg_obj *x = S.by_ref[i], *nx; x; x = nx) {
                nx = x->next_by_ref;
                uint32_t h = hash_str(x->ref.s) & (nb - 1);
                x->next_by_ref = b[h];
                b[h] = x;
            }
        free(S.by_ref);
        S.by_ref = b;
        S.nref_buckets = nb;
    }
    uint32_t h = hash_str(o->ref.s) & (S.nref_buckets - 1);
    o->next_by_ref = S.by_ref[h];
    S.by_ref[h] = o;
    S.nrefs++;
}

static void ref_remove(xg_obj *o)
{
    xg_obj **pp = &S.by_ref[hash_str(o->ref.s) & (S.nref_buckets - 1)];
    for (; *pp; pp = &(*pp)->next_by_ref)
        if (*pp == o) {
            *pp = o->next_by_ref;
            S.nrefs--;
            return;
        }
}

static void uuid_insert(struct table *t, xg_obj *o)
{
    const char *u = obj_uuid(o);
    if (!u)
        return;
    uint32_t h = hash_str(u) & (t->nbuckets - 1);
    o->next_by_uuid = t->by_uuid[h];
    t->by_uuid[h] = o;
}

static void uuid_remove(struct table *t, xg_obj *o)
{
    const char *u = obj_uuid(o);
    if (!u)
        return;
    xg_obj **pp = &t->by_uuid[hash_str(u) & (t->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next_by_uuid)
        if (*pp == o) {
            *pp = o->next_by_uuid;
            return;
        }
}

static void name_insert(struct table *t, xg_obj *o)
{
    const char *l = obj_label(o);
    if (!l)
        return;
    uint32_t h = hash_str(l) & (t->nbuckets - 1);
    o->prev_by_name = NULL;
    o->next_by_name = t->by_name[h];
    if (o->next_by_name)
        o->next_by_name->prev_by_name = o;
    t->by_name[h] = o;
}

static void name_remove(struct table *t, xg_obj *o)
{
    const char *l = obj_label(o);
    if (!l)
        return;
    if (o->prev_by_name)
        o->prev_by_name->next_by_name = o->next_by_name;
    else
        t->by_name[hash_str(l) & (t->nbuckets - 1)] = o->next_by_name;
    if (o->next_by_name)
        o->next_by_name->prev_by_name = o->prev_by_name;
    o->next_by_name = o->prev_by_name = NULL;
}

/* Keeps buckets >= live rows so chains stay short. */
static void table_rehash(struct table *t, uint32_t want)
{
    uint32_t nb = t->nbuckets ? t->nbuckets : 16;
    while (nb < want)
        nb *= 2;
    if (nb == t->nbuckets)
        return;
    free(t->by_uuid);
    free(t->by_name);
    t->by_uuid = xcalloc(nb, sizeof(xg_obj *));
    t->by_name = xcalloc(nb, sizeof(xg_obj *));
    t->nbuckets = nb;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->objs[i]) {
            uuid_insert(t, t->objs[i]);
            name_insert(t, t->objs[i]);
        }
}

/* ---- creation-order table -------------------------------------------- */

static void table_append(struct table *t, xg_obj *o)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->objs = xrealloc(t->objs, t->cap * sizeof(*t->objs));
        t->seqs = xrealloc(t->seqs, t->cap * sizeof(*t->seqs));
    }
    o->slot = t->n;
    t->objs[t->n] = o;
    t->seqs[t->n] = o->seq;
    t->n++;
    t->live++;
}

static void table_compact(struct table *t)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->objs[i]) {
            t->objs[j] = t->objs[i];
            t->seqs[j] = t->seqs[i];
            t->objs[j]->slot = j;
            j++;
        }
    t->n = j;
}

static void table_remove(struct table *t, xg_obj *o)
{
    t->objs[o->slot] = NULL;
    t->live--;
    uint32_t dead = t->n - t->live;
    if (dead > 64 && dead > t->live)
        table_compact(t);
}

/* ---- changes, events, dirtiness ------------------------------------------- */

static void chg_unlink(xg_obj *o)
{
    if (o->chg_prev)
        o->chg_prev->chg_next = o->chg_next;
    else if (S.chg_head == o)
        S.chg_head = o->chg_next;
    if (o->chg_next)
        o->chg_next->chg_prev = o->chg_prev;
    else if (S.chg_tail == o)
        S.chg_tail = o->chg_prev;
    o->chg_prev = o->chg_next = NULL;
}

static void chg_append(xg_obj *o)
{
    o->chg_prev = S.chg_tail;
    o->chg_next = NULL;
    if (S.chg_tail)
        S.chg_tail->chg_next = o;
    else
        S.chg_head = o;
    S.chg_tail = o;
}

static void mark_dirty(xg_obj *o)
{
    if (!(o->cls->flags & XG_C_PERSIST) || o->dirty)
        return;
    if (S.ndirty == S.dirty_cap) {
        S.dirty_cap = S.dirty_cap ? S.dirty_cap * 2 : 64;
        S.dirty = xrealloc(S.dirty, S.dirty_cap * sizeof(*S.dirty));
    }
    S.dirty[S.ndirty++] = o;
    o->dirty = true;
}

static void modified(xg_obj *o, bool persist)
{
    o->gen_modified = ++S.gen;
    if (o->cls->flags & XG_C_EVENTS) {
        chg_unlink(o);
        chg_append(o);
    }
    if (persist)
        mark_dirty(o);
    S.hit[o->cls->index] = 1;
    S.any_hit = true;
}

void xg_store_touch(void *obj)
{
    xg_obj *o = obj;
    if (o->in_store)
        modified(o, true);
}

static void history_add(xg_obj *o, uint64_t gen_deleted)
{
    if (S.hist_n == S.hist_limit) {          /* forget the oldest deletion */
        S.hist_start = S.hist[S.hist_first].gen_deleted;
        S.hist_first = (S.hist_first + 1) % S.hist_cap;
        S.hist_n--;
    }
    if (S.hist_n == S.hist_cap) {            /* grow the ring, unrolled */
        uint32_t nc = S.hist_cap ? S.hist_cap * 2 : 256;
        if (nc > S.hist_limit)
            nc = S.hist_limit;
        struct deletion *h = xcalloc(nc, sizeof(*h));
        for (uint32_t i = 0; i < S.hist_n; i++)
            h[i] = S.hist[(S.hist_first + i) % S.hist_cap];
        free(S.hist);
        S.hist = h;
        S.hist_cap = nc;
        S.hist_first = 0;
    }
    struct deletion *d = &S.hist[(S.hist_first + S.hist_n) % S.hist_cap];
    d->cls = o->cls;
    d->ref = o->ref;
    d->gen_created = o->gen_created;
    d->gen_deleted = gen_deleted;
    S.hist_n++;
}

/* ---- relations ------------------------------------------------------------ */

/* Position of each member in the maintained sets, so that adding and
 * removing a member is O(1) (host.resident_VMs of 10,000 VMs would make
 * mass starts and deletions quadratic otherwise). Keyed by (member, set
 * field, target); open addressing with tombstones, rebuilt on growth.
 * Removal swaps the last member into the hole: XAPI sets have no order. */
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
    RP = xcalloc(rp_cap, sizeof(*RP));
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

static void rel_index_free(void)
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

/* o's ref field f (f->inverse = maintained set on the target) gained or lost
 * target: update the target's set and give it a mod event. */
static void rel_update(xg_obj *o, const xg_field_desc *f, const char *target, bool add)
{
    xg_obj *tgt = xg_store_get(f->inverse_cls, target);
    if (!tgt)
        return;
    const xg_field_desc *inv = f->inverse;
    xg_set *s = fptr(tgt, inv);
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
    modified(tgt, inv->flags & XG_F_PERSIST);
}

/* A target leaves the store: forget where its members sat in its sets. */
static void rel_forget_target(xg_obj *tgt)
{
    const xg_class_desc *cls = tgt->cls;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *inv = &cls->fields[i];
        if (!(inv->flags & XG_F_MAINTAINED) || inv->type->kind != XG_K_SET)
            continue;
        const xg_set *s = fptr(tgt, inv);
        const xg_ref *items = s->items;
        for (uint32_t k = 0; k < s->n; k++) {
            xg_obj *m = xg_store_get_any(items[k].s, NULL);
            struct relpos *e = m ? rp_find(m, inv, tgt) : NULL;
            if (e)
                rp_del(e);
        }
    }
}

static bool is_relation_source(const xg_field_desc *f)
{
    return f->inverse && !(f->flags & XG_F_MAINTAINED);
}

/* Calls rel_update for every target ref in the storage p of field f. */
static void rel_each(xg_obj *o, const xg_field_desc *f, const void *p, bool add)
{
    if (f->type->kind == XG_K_REF) {
        const char *r = ((const xg_ref *)p)->s;
        if (r[0] && strcmp(r, XG_REF_NULL) != 0)
            rel_update(o, f, r, add);
    } else if (f->type->kind == XG_K_SET) {
        const xg_set *s = p;
        for (uint32_t i = 0; i < s->n; i++)
            rel_update(o, f, ((const xg_ref *)xg_set_item(f->type, s, i))->s, add);
    }
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
    struct table *t = tab(cls);
    if (cls->uuid_field >= 0) {
        char **u = fptr(o, &cls->fields[cls->uuid_field]);
        if (!(*u)[0]) {
            char nu[37];
            xg_random_uuid(nu);
            char *const src = nu;
            xg_obj_copy_field(o, &cls->fields[cls->uuid_field], &src);
        } else if (xg_store_get_by_uuid(cls, *u)) {
            return xg_err_internal(err, "duplicate uuid %s for %s", *u, cls->name);
        }
    }
    o->seq = ++S.seq;
    o->gen_created = o->gen_modified = ++S.gen;
    o->in_store = true;
    table_append(t, o);
    if (t->live > t->nbuckets) {
        table_rehash(t, t->live * 2);        /* inserts o too */
    } else {
        uuid_insert(t, o);
        name_insert(t, o);
    }
    ref_insert(o);
    if (cls->flags & XG_C_EVENTS)
        chg_append(o);
    mark_dirty(o);
    S.hit[cls->index] = 1;
    S.any_hit = true;
    for (uint32_t i = 0; i < cls->nfields; i++)
        if (is_relation_source(&cls->fields[i]))
            rel_each(o, &cls->fields[i], fptr(o, &cls->fields[i]), true);
    return true;
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
            for (uint32_t i = 0; i < cls->nfields; i++)
                if (is_relation_source(&cls->fields[i]))
                    rel_each(o, &cls->fields[i], fptr(o, &cls->fields[i]), true);
    }
}

void xg_store_remove(void *obj)
{
    xg_obj *o = obj;
    if (!o || !o->in_store)
        return;
    const xg_class_desc *cls = o->cls;
    struct table *t = tab(cls);
    for (uint32_t i = 0; i < cls->nfields; i++)
        if (is_relation_source(&cls->fields[i]))
            rel_each(o, &cls->fields[i], fptr(o, &cls->fields[i]), false);
    rel_forget_target(o);
    uuid_remove(t, o);
    name_remove(t, o);
    ref_remove(o);
    table_remove(t, o);
    uint64_t g = ++S.gen;
    if (cls->flags & XG_C_EVENTS) {
        chg_unlink(o);
        history_add(o, g);
    }
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
            S.forgets = xrealloc(S.forgets, S.forgets_cap * sizeof(*S.forgets));
        }
        S.forgets[S.nforgets].cls = cls;
        S.forgets[S.nforgets].ref = o->ref;
        S.nforgets++;
    }
    S.hit[cls->index] = 1;
    S.any_hit = true;
    o->in_store = false;
    xg_obj_free(o);
}

/* ---- lookup --------------------------------------------------------------- */

void *xg_store_get_any(const char *ref, const xg_class_desc **cls_out)
{
    if (!S.init || !ref)
        return NULL;
    for (xg_obj *o = S.by_ref[hash_str(ref) & (S.nref_buckets - 1)]; o; o = o->next_by_ref)
        if (strcmp(o->ref.s, ref) == 0) {
            if (cls_out)
                *cls_out = o->cls;
            return o;
        }
    return NULL;
}

void *xg_store_get(const xg_class_desc *cls, const char *ref)
{
    const xg_class_desc *c = NULL;
    void *o = xg_store_get_any(ref, &c);
    return c == cls ? o : NULL;
}

void *xg_store_get_by_uuid(const xg_class_desc *cls, const char *uuid)
{
    struct table *t;
    if (!S.init || cls->uuid_field < 0 || !uuid || !(t = tab(cls))->nbuckets)
        return NULL;
    for (xg_obj *o = t->by_uuid[hash_str(uuid) & (t->nbuckets - 1)]; o; o = o->next_by_uuid)
        if (strcmp(obj_uuid(o), uuid) == 0)
            return o;
    return NULL;
}

void xg_store_each_by_name(const xg_class_desc *cls, const char *label,
                           void (*fn)(void *obj, void *arg), void *arg)
{
    struct table *t;
    if (!S.init || cls->name_label_field < 0 || !(t = tab(cls))->nbuckets)
        return;
    for (xg_obj *o = t->by_name[hash_str(label) & (t->nbuckets - 1)], *nx; o; o = nx) {
        nx = o->next_by_name;
        if (strcmp(obj_label(o), label) == 0)
            fn(o, arg);
    }
}

uint32_t xg_store_count(const xg_class_desc *cls)
{
    return S.init ? tab(cls)->live : 0;
}

void *xg_store_next(const xg_class_desc *cls, uint64_t *cursor)
{
    if (!S.init)
        return NULL;
    struct table *t = tab(cls);
    uint32_t lo = 0, hi = t->n;                 /* first seq > *cursor */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->seqs[mid] <= *cursor)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < t->n; lo++)
        if (t->objs[lo]) {
            *cursor = t->seqs[lo];
            return t->objs[lo];
        }
    if (t->n)
        *cursor = t->seqs[t->n - 1];
    return NULL;
}

const xg_field_desc *xg_field_by_name(const xg_class_desc *cls, const char *name)
{
    for (uint32_t i = 0; i < cls->nfields; i++)
        if (strcmp(cls->fields[i].name, name) == 0)
            return &cls->fields[i];
    return NULL;
}

/* ---- writes ------------------------------------------------------------- */

void xg_store_set(void *obj, const xg_field_desc *f, const void *value)
{
    xg_obj *o = obj;
    void *p = fptr(o, f);
    if (xg_storage_equal(f->type, p, value))
        return;
    if (!o->in_store) {
        xg_obj_copy_field(o, f, value);
        return;
    }
    struct table *t = tab(o->cls);
    bool idx = (o->cls->uuid_field >= 0 && f == &o->cls->fields[o->cls->uuid_field]) ||
               (o->cls->name_label_field >= 0 && f == &o->cls->fields[o->cls->name_label_field]);
    if (idx) {
        uuid_remove(t, o);
        name_remove(t, o);
    }
    bool rel = is_relation_source(f);
    if (rel)
        rel_each(o, f, p, false);
    xg_obj_copy_field(o, f, value);
    if (rel)
        rel_each(o, f, p, true);
    if (idx) {
        uuid_insert(t, o);
        name_insert(t, o);
    }
    modified(o, f->flags & XG_F_PERSIST);
}

bool xg_store_map_add(void *obj, const xg_field_desc *f, const void *key,
                      const void *val, xg_err *err)
{
    xg_obj *o = obj;
    xg_map *m = fptr(o, f);
    if (xg_map_find(f->type, m, key) >= 0) {
        char buf[64];
        const char *ks;
        xg_storage_text(f->type->key, key, buf, sizeof(buf), &ks);
        return xg_err_set(err, "MAP_DUPLICATE_KEY", 4, o->cls->name, f->name, o->ref.s, ks);
    }
    xg_map_append(f->type, m, key, val);
    if (o->in_store)
        modified(o, f->flags & XG_F_PERSIST);
    return true;
}

void xg_store_map_remove(void *obj, const xg_field_desc *f, const void *key)
{
    xg_obj *o = obj;
    xg_map *m = fptr(o, f);
    int64_t i = xg_map_find(f->type, m, key);
    if (i < 0)
        return;
    xg_map_delete(f->type, m, (uint32_t)i);
    if (o->in_store)
        modified(o, f->flags & XG_F_PERSIST);
}

void xg_store_set_add(void *obj, const xg_field_desc *f, const void *elem)
{
    xg_obj *o = obj;
    xg_set *s = fptr(o, f);
    if (xg_set_find(f->type, s, elem) >= 0)
        return;
    xg_set_append(f->type, s, elem);
    if (is_relation_source(f) && o->in_store)
        rel_update(o, f, ((const xg_ref *)elem)->s, true);
    if (o->in_store)
        modified(o, f->flags & XG_F_PERSIST);
}

void xg_store_set_remove(void *obj, const xg_field_desc *f, const void *elem)
{
    xg_obj *o = obj;
    xg_set *s = fptr(o, f);
    int64_t i = xg_set_find(f->type, s, elem);
    if (i < 0)
        return;
    if (is_relation_source(f) && o->in_store)
        rel_update(o, f, ((const xg_ref *)elem)->s, false);
    xg_set_delete(f->type, s, (uint32_t)i);
    if (o->in_store)
        modified(o, f->flags & XG_F_PERSIST);
}

/* ---- events ---------------------------------------------------------------- */

uint64_t xg_store_generation(void)
{
    return S.gen;
}

uint64_t xg_store_history_start(void)
{
    return S.hist_start;
}

bool xg_store_changes(uint64_t since, const uint8_t *class_mask,
                      bool (*fn)(const xg_change *ch, void *arg), void *arg,
                      xg_err *err)
{
    if (since < S.hist_start)
        return xg_err_set(err, "EVENTS_LOST", 0);
    /* live objects changed after since: a suffix of the change list */
    xg_obj *o = S.chg_tail;
    while (o && o->gen_modified > since)
        o = o->chg_prev;
    o = o ? o->chg_next : S.chg_head;
    /* deletions after since: a suffix of the ring (sorted by gen) */
    uint32_t lo = 0, hi = S.hist_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (S.hist[(S.hist_first + mid) % S.hist_cap].gen_deleted <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t d = lo;
    while (o || d < S.hist_n) {
        const struct deletion *del = d < S.hist_n ?
            &S.hist[(S.hist_first + d) % S.hist_cap] : NULL;
        xg_change ch;
        if (o && (!del || o->gen_modified < del->gen_deleted)) {
            xg_obj *cur = o;
            o = o->chg_next;
            if (!class_mask[cur->cls->index])
                continue;
            ch.op = cur->gen_created > since ? XG_CHG_ADD : XG_CHG_MOD;
            ch.cls = cur->cls;
            ch.ref = cur->ref.s;
            ch.obj = cur;
            ch.gen = cur->gen_modified;
        } else {
            d++;
            if (del->gen_created > since || !class_mask[del->cls->index])
                continue;             /* born and gone inside the window */
            ch.op = XG_CHG_DEL;
            ch.cls = del->cls;
            ch.ref = del->ref.s;
            ch.obj = NULL;
            ch.gen = del->gen_deleted;
        }
        if (!fn(&ch, arg))
            break;
    }
    return true;
}

/* ---- waiters ---------------------------------------------------------------- */

void xg_store_park(xg_waiter *w)
{
    if (w->parked)
        return;
    w->prev = NULL;
    w->next = S.waiters;
    if (S.waiters)
        S.waiters->prev = w;
    S.waiters = w;
    w->parked = true;
}

void xg_store_unpark(xg_waiter *w)
{
    if (!w->parked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        S.waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->parked = false;
}

void xg_store_run_wakeups(void)
{
    /* A wake() may write (and so hit again) or re-park: a few rounds, then
     * the rest waits for the next unlock. */
    for (int round = 0; round < 4 && S.any_hit; round++) {
        S.any_hit = false;
        xg_waiter *wake_list = NULL;
        for (xg_waiter *w = S.waiters, *nx; w; w = nx) {
            nx = w->next;
            bool hit = false;
            for (uint32_t c = 0; c < xg_nclasses && !hit; c++)
                hit = S.hit[c] && w->class_mask[c];
            if (!hit)
                continue;
            xg_store_unpark(w);
            w->next = wake_list;         /* reuse the link while unparked */
            wake_list = w;
        }
        memset(S.hit, 0, xg_nclasses);
        while (wake_list) {
            xg_waiter *w = wake_list;
            wake_list = w->next;
            w->next = NULL;
            w->wake(w);
        }
    }
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
