/* handlers.h: start-up and shutdown of the XAPI side (objects, driver,
 * database, metrics), called by server/main.c. */
#ifndef XG_HANDLERS_H
#define XG_HANDLERS_H

#include <stdbool.h>
#include "../server/config.h"
#include "../server/xg_err.h"

/* Opens the database and the driver, builds pool/host/VM objects, registers
 * HTTP routes and timers. Runs before the listeners open. */
bool xg_handlers_init(const struct xg_config *cfg, xg_err *err);
/* Flushes state (database, RRDs) and closes the driver. */
void xg_handlers_shutdown(void);

#endif
