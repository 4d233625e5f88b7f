/* persist_load.h: rebuilding the store from the state database at start. */
#ifndef XG_PERSIST_LOAD_H
#define XG_PERSIST_LOAD_H

#include <stdbool.h>
#include "../server/xg_err.h"

/* World lock held, store empty: re-adds every persisted object under its
 * old ref. Rows that cannot be read are skipped with a warning. */
bool gw_persist_load_store(xg_err *err);

#endif
