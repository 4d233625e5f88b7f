/* store_int.h: what the store's files tell each other; included by
 * server/store*.c only. The store is one module in four files, one job
 * each:
 *   store.c         records, add/remove, writes, persistence, lifecycle;
 *   store_index.c   the per-class creation-order tables and the ref, uuid
 *                   and name_label hashes, and every lookup over them;
 *   store_rel.c     maintained relations (the back-reference sets such as
 *                   VM.VBDs fed by VBD.VM) and their O(1) position index;
 *   store_events.c  generations, the change list, the deletion history,
 *                   event.from's query and the parked waiters.
 * All of it under the world lock, like the public API. */
#ifndef XG_STORE_INT_H
#define XG_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "store.h"

static inline void *xg_store_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static inline void *xg_store_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* The storage of field f inside obj. */
static inline void *xg_store_fptr(const void *obj, const xg_field_desc *f)
{
    return (char *)obj + f->offset;
}

/* store.c: o changed (event, and persistence when persist). */
void xg_store_modified(xg_obj *o, bool persist);

/* store_index.c ------------------------------------------------------------ */
void xg_index_init(void);
/* Frees the tables and every object still in them. */
void xg_index_shutdown(void);
/* Gives o its creation seq and makes it findable by ref, uuid, label. */
void xg_index_insert(xg_obj *o);
void xg_index_remove(xg_obj *o);
/* Around a write to field f of o: a uuid or name_label change re-hashes. */
bool xg_index_keyed(const xg_obj *o, const xg_field_desc *f);
void xg_index_unkey(xg_obj *o);
void xg_index_rekey(xg_obj *o);

/* store_rel.c -------------------------------------------------------------- */
void xg_rel_shutdown(void);
/* f is a ref or set(ref) field that feeds a maintained set on its target. */
bool xg_rel_is_source(const xg_field_desc *f);
/* Every target named by o's source fields gains (add) or loses o. */
void xg_rel_link_all(xg_obj *o, bool add);
/* o's source field f (f->inverse = maintained set on the target) gained or
 * lost target: the target's set follows, with a mod event. */
void xg_rel_link_ref(xg_obj *o, const xg_field_desc *f, const char *target, bool add);
/* The targets named by the storage p of source field f gain or lose o. */
void xg_rel_link_field(xg_obj *o, const xg_field_desc *f, const void *p, bool add);
/* o leaves the store: forget where its members sat in its own sets. */
void xg_rel_forget_target(xg_obj *o);

/* store_events.c ----------------------------------------------------------- */
void xg_events_init(void);
void xg_events_shutdown(void);      /* keeps the history limit */
/* o was added / modified / is being removed: a new generation, o's place in
 * the change list or the deletion history, its class marked for waiters. */
void xg_events_added(xg_obj *o);
void xg_events_modified(xg_obj *o);
void xg_events_removed(xg_obj *o);

#endif
