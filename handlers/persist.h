/* persist.h: the state database (persist.c). World lock required. */
#ifndef XG_PERSIST_H
#define XG_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include "../server/desc.h"
#include "../server/xg_err.h"

bool gw_persist_open(const char *state_dir, xg_err *err);
void gw_persist_close(void);
/* Calls fn for every stored row, oldest first; rec is a struct of the
 * persisted fields (wire names), valid during the call only. */
typedef void (*gw_persist_row_fn)(const xg_class_desc *cls, const char *ref,
                                  const xg_value *rec, void *arg);
bool gw_persist_load(gw_persist_row_fn fn, void *arg, xg_err *err);
bool gw_persist_meta_get(const char *key, char *buf, size_t len);
bool gw_persist_meta_set(const char *key, const char *value, xg_err *err);

#endif
