/* store_index.c: where the store finds its objects (store_int.h). Per
 * class: a creation-order table (objects and their seq; tombstones
 * compacted once they outnumber live rows, so cursors = seq survive
 * compaction), a uuid hash and a name_label hash (doubly linked chains:
 * many VMs may share a label). Global: the ref hash. Never does work
 * proportional to the number of objects for one object. */
#include <string.h>

#include "store_int.h"

struct table {
    xg_obj **objs;
    uint64_t *seqs;               /* seqs[i] stays valid for tombstones */
    uint32_t n, cap, live;
    xg_obj **by_uuid, **by_name;
    uint32_t nbuckets;            /* for both per-class hashes, power of 2 */
};

static struct {
    bool init;
    struct table *t;
    xg_obj **by_ref;
    uint32_t nref_buckets, nrefs;
    uint64_t seq;
} S;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;            /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static const char *obj_uuid(const xg_obj *o)
{
    if (o->cls->uuid_field < 0)
        return NULL;
    return *(char *const *)xg_store_fptr(o, &o->cls->fields[o->cls->uuid_field]);
}

static const char *obj_label(const xg_obj *o)
{
    if (o->cls->name_label_field < 0)
        return NULL;
    return *(char *const *)xg_store_fptr(o, &o->cls->fields[o->cls->name_label_field]);
}

static struct table *tab(const xg_class_desc *cls)
{
    return &S.t[cls->index];
}

void xg_index_init(void)
{
    S.init = true;
    S.t = xg_store_xcalloc(xg_nclasses, sizeof(*S.t));
    S.nref_buckets = 1024;
    S.by_ref = xg_store_xcalloc(S.nref_buckets, sizeof(*S.by_ref));
}

void xg_index_shutdown(void)
{
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
    }
    free(S.t);
    free(S.by_ref);
    memset(&S, 0, sizeof(S));
}

/* ---- hashes --------------------------------------------------------------- */

static void ref_insert(xg_obj *o)
{
    if (S.nrefs + 1 > S.nref_buckets) {
        uint32_t nb = S.nref_buckets * 2;
        xg_obj **b = xg_store_xcalloc(nb, sizeof(*b));
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
    t->by_uuid = xg_store_xcalloc(nb, sizeof(xg_obj *));
    t->by_name = xg_store_xcalloc(nb, sizeof(xg_obj *));
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
        t->objs = xg_store_xrealloc(t->objs, t->cap * sizeof(*t->objs));
        t->seqs = xg_store_xrealloc(t->seqs, t->cap * sizeof(*t->seqs));
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

/* ---- what store.c calls ------------------------------------------------- */

void xg_index_insert(xg_obj *o)
{
    struct table *t = tab(o->cls);
    o->seq = ++S.seq;
    table_append(t, o);
    if (t->live > t->nbuckets) {
        table_rehash(t, t->live * 2);        /* inserts o too */
    } else {
        uuid_insert(t, o);
        name_insert(t, o);
    }
    ref_insert(o);
}

void xg_index_remove(xg_obj *o)
{
    struct table *t = tab(o->cls);
    uuid_remove(t, o);
    name_remove(t, o);
    ref_remove(o);
    table_remove(t, o);
}

bool xg_index_keyed(const xg_obj *o, const xg_field_desc *f)
{
    const xg_class_desc *cls = o->cls;
    return (cls->uuid_field >= 0 && f == &cls->fields[cls->uuid_field]) ||
           (cls->name_label_field >= 0 && f == &cls->fields[cls->name_label_field]);
}

void xg_index_unkey(xg_obj *o)
{
    uuid_remove(tab(o->cls), o);
    name_remove(tab(o->cls), o);
}

void xg_index_rekey(xg_obj *o)
{
    uuid_insert(tab(o->cls), o);
    name_insert(tab(o->cls), o);
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
