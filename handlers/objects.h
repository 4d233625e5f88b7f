/* objects.h: building host-side objects and reconciliation (objects.c). */
#ifndef XG_OBJECTS_H
#define XG_OBJECTS_H

#include "gw.h"

extern const struct xg_drv_events gw_driver_events;
/* World lock held; driver open. Builds or refreshes pool, host, host_cpu,
 * host_metrics and dom0, then reconciles every domain. */
bool gw_objects_build(xg_err *err);
void gw_objects_start_resync(void);

#endif
