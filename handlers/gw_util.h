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
/* After it is in the store: xg_store_set with the same conveniences. */
void gw_put_str(void *obj, uint32_t idx, const char *s);
void gw_put_ref(void *obj, uint32_t idx, const char *ref);
void gw_put_int(void *obj, uint32_t idx, int64_t v);
void gw_put_float(void *obj, uint32_t idx, double v);
void gw_put_bool(void *obj, uint32_t idx, bool v);
void gw_put_enum(void *obj, uint32_t idx, int v);
void gw_put_datetime(void *obj, uint32_t idx, int64_t secs);
/* String map helpers on a store object (replace whole map). */
void gw_put_strmap(void *obj, uint32_t idx, const char *const *keys,
                   const char *const *vals, uint32_t n);
/* Map lookup: value of key in a (string -> string) map, or NULL. */
const char *gw_put_strmap_lookup(const xg_map *m, const char *key);

void gw_new_uuid(char out[37]);
int64_t gw_now(void);

#endif
