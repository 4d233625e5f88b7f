/* store.h: the in-memory object store, generic over the class descriptors.
 *
 * Every served object (sessions, tasks, VMs, …) is a generated record struct
 * whose first member is an xg_obj header. The store owns objects once added;
 * handlers get borrowed pointers valid while they hold the world lock.
 * Lookups by ref and uuid are O(1) hash lookups, name_label lookups hash to a
 * bucket, iteration is in creation order with a resumable cursor, and every
 * write bumps a global generation so that event.from can answer "what changed
 * since token T" by walking a list ordered by modification generation
 * (O(changes), never a scan of all objects). Deletions are remembered in a
 * bounded history. All functions require the world lock. */
#ifndef XG_STORE_H
#define XG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desc.h"
#include "xg_err.h"

typedef struct xg_obj {
    const xg_class_desc *cls;
    xg_ref ref;
    uint64_t seq;                 /* creation order, for cursors */
    uint64_t gen_created;
    uint64_t gen_modified;
    struct xg_obj *chg_prev, *chg_next;   /* change list, by gen_modified */
    struct xg_obj *next_by_ref, *next_by_uuid, *next_by_name;
    struct xg_obj *prev_by_name;  /* many objects may share a label: O(1) unlink */
    uint32_t slot;                /* position in the class table */
    bool in_store, dirty;
} xg_obj;

/* Lifecycle ---------------------------------------------------------------- */
void xg_store_init(void);
void xg_store_shutdown(void);                   /* frees everything */

/* New record of cls: zeroed, then every field set to its IDL default or to
 * the empty value of its kind ("" , OpaqueRef:NULL, {}, []). Not yet added. */
void *xg_obj_new(const xg_class_desc *cls);
void xg_obj_free(void *obj);                    /* deep free of a detached record */
/* Deep copy of field values from a (possibly arena-allocated, decoded)
 * record into a store record; used by create and by persistence reload. */
void xg_obj_copy_field(void *dst, const xg_field_desc *f, const void *src_storage);

/* Adds obj: ref = given or fresh "OpaqueRef:<uuid4>" (CSPRNG); an empty uuid
 * field is filled with a fresh uuid4. Records an `add` event. Fails with
 * INTERNAL_ERROR on duplicate ref/uuid. */
bool xg_store_add(void *obj, const char *ref_or_null, xg_err *err);
/* Re-derives every maintained relation set from the ref fields that feed it
 * (idempotent). After loading persisted objects, whose order may put a
 * source (VIF.network) before its target (the network). */
void xg_store_relink(void);
/* Removes and frees obj; records a `del` event; maintained relation sets on
 * referenced objects are updated (mod events for them). */
void xg_store_remove(void *obj);

/* Lookup ------------------------------------------------------------------- */
void *xg_store_get(const xg_class_desc *cls, const char *ref);
void *xg_store_get_any(const char *ref, const xg_class_desc **cls_out);
void *xg_store_get_by_uuid(const xg_class_desc *cls, const char *uuid);
/* Calls fn for each object of cls whose name_label equals label. */
void xg_store_each_by_name(const xg_class_desc *cls, const char *label,
                           void (*fn)(void *obj, void *arg), void *arg);
uint32_t xg_store_count(const xg_class_desc *cls);
/* Iteration in creation order: start with *cursor = 0; returns NULL at end.
 * Safe across releases of the world lock (objects removed meanwhile are
 * skipped, objects added meanwhile appear at the end). */
void *xg_store_next(const xg_class_desc *cls, uint64_t *cursor);

/* Writes -------------------------------------------------------------------- */
/* Replaces field f of obj with a deep copy of *value (C storage of f's type),
 * frees the old value, maintains indexes (uuid, name_label) and relations,
 * records a `mod` event (unless the value is unchanged) and marks the object
 * for persistence. */
void xg_store_set(void *obj, const xg_field_desc *f, const void *value);
/* After changing fields in place: records `mod` and marks dirty. */
void xg_store_touch(void *obj);
/* Map/set element operations with XAPI's semantics (spec §4.2). */
bool xg_store_map_add(void *obj, const xg_field_desc *f, const void *key,
                      const void *val, xg_err *err);     /* MAP_DUPLICATE_KEY */
void xg_store_map_remove(void *obj, const xg_field_desc *f, const void *key);
void xg_store_set_add(void *obj, const xg_field_desc *f, const void *elem);
void xg_store_set_remove(void *obj, const xg_field_desc *f, const void *elem);
const xg_field_desc *xg_field_by_name(const xg_class_desc *cls, const char *name);

/* Events -------------------------------------------------------------------- */
enum xg_change_op { XG_CHG_ADD, XG_CHG_MOD, XG_CHG_DEL };

typedef struct xg_change {
    enum xg_change_op op;
    const xg_class_desc *cls;
    const char *ref;
    void *obj;                    /* NULL for DEL */
    uint64_t gen;
} xg_change;

uint64_t xg_store_generation(void);      /* last generation handed out */
/* Oldest generation for which deletions are still known. */
uint64_t xg_store_history_start(void);
/* Bound on remembered deletions (default XG_EVENT_HISTORY_DELS); for tests. */
void xg_store_set_history_limit(uint32_t n);
/* Calls fn for every object of a class in class_mask (indexed by
 * xg_class_desc.index) changed after `since`, coalesced per object:
 * created after since → ADD; existing at since and modified → MOD; existing
 * and deleted → DEL; created and deleted within the window → nothing.
 * Newest changes are visited last. Stops early when fn returns false.
 * Returns false with EVENTS_LOST if since < xg_store_history_start(). */
bool xg_store_changes(uint64_t since, const uint8_t *class_mask,
                      bool (*fn)(const xg_change *ch, void *arg), void *arg,
                      xg_err *err);

/* Parked readers (event.from, event.next). A waiter's wake() runs with the
 * world lock held, inside xg_world_unlock() of the writer whose change
 * touched a class in its mask; it must be quick (finish the call or
 * re-park). */
typedef struct xg_waiter {
    uint8_t *class_mask;          /* xg_nclasses entries */
    void (*wake)(struct xg_waiter *w);
    struct xg_waiter *prev, *next;
    bool parked;
} xg_waiter;
void xg_store_park(xg_waiter *w);
void xg_store_unpark(xg_waiter *w);
/* Called by world.c before unlocking: wakes waiters hit since last time. */
void xg_store_run_wakeups(void);

/* Persistence ------------------------------------------------------------- */
/* persist.c registers these; the store calls them for XG_C_PERSIST classes. */
struct xg_persist_ops {
    void (*save)(void *obj);                                 /* add or change */
    void (*forget)(const xg_class_desc *cls, const char *ref);
    bool (*commit)(xg_err *err);     /* end of a call: make it durable */
};
void xg_store_set_persist(const struct xg_persist_ops *ops);
/* Flushes dirty persistent objects (calls save for each, then commit). Called
 * by dispatch before a response is released, so an acknowledged write is on
 * disk. */
bool xg_store_flush(xg_err *err);

#endif
