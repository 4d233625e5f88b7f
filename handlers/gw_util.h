/* gw_util.h: small helpers for filling records (gw_util.c). World lock held. */
#ifndef XG_GW_UTIL_H
#define XG_GW_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include "../server/desc.h"
#include "../server/xg_err.h"

/* Field of obj's class by index (generated XAPI_<CLASS>_F_<FIELD>). */
#define GW_F(obj, idx) (&((const xg_obj *)(obj))->cls->fields[(idx)])

/* Before the object is added to the store (no events): deep-copy a value in. */
void gw_init_field(void *obj, uint32_t idx, const void *value);
void gw_init_str(void *obj, uint32_t idx, const char *s);
void gw_init_ref(void *obj, uint32_t idx, const char *ref);
/* After it is in the store: xg_store_set (event + persistence) with typed
 * values; f is a field of obj's class (GW_F(obj, XAPI_<CLASS>_F_<FIELD>)). */
void gw_set_str(void *obj, const xg_field_desc *f, const char *v);   /* NULL = "" */
void gw_set_ref(void *obj, const xg_field_desc *f, const char *ref); /* NULL = OpaqueRef:NULL */
void gw_set_int(void *obj, const xg_field_desc *f, int64_t v);
void gw_set_float(void *obj, const xg_field_desc *f, double v);
void gw_set_bool(void *obj, const xg_field_desc *f, bool v);
void gw_set_enum(void *obj, const xg_field_desc *f, int v);
void gw_set_time(void *obj, const xg_field_desc *f, int64_t secs);
/* Replaces a (string -> string) map with n key/value pairs. */
void gw_set_strmap(void *obj, const xg_field_desc *f, const char *const *keys,
                   const char *const *vals, uint32_t n);
/* Value of key in a (string -> string) map, NULL when absent. */
const char *gw_smap_get(const xg_map *m, const char *key);
/* True when ref is a usable reference (not "", not OpaqueRef:NULL). */
bool gw_ref_is_set(const char *ref);

/* current_operations bookkeeping shared by every class that has it.
 * gw_op_key: XAPI keys an operation by the task the call runs under; a call
 * without one (internal) gets a fresh dummy reference, as XAPI's internal
 * contexts do. gw_op_remove: drops the first entry of op from the
 * (string -> enum) map f of obj. */
struct xg_call;
void gw_op_key(const struct xg_call *c, char out[XG_REF_LEN]);
void gw_op_remove(void *obj, const xg_field_desc *f, int op);

/* Fresh random uuid4 (getrandom). */
void gw_random_uuid(char out[37]);
int64_t gw_now(void);

#endif
