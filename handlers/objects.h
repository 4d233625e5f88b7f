/* objects.h: building host-side objects and reconciliation (objects.c). */
#ifndef XG_OBJECTS_H
#define XG_OBJECTS_H

#include "gw.h"

extern const struct xg_drv_events gw_driver_events;
/* World lock held; driver open. Builds or refreshes pool, host, host_cpu,
 * host_metrics; dom0 and domains come with gw_objects_finish(). */
bool gw_objects_build(xg_err *err);
/* After VM records exist (first-start fixtures): reconcile every domain and
 * point host.control_domain at dom0. */
void gw_objects_finish(void);
void gw_objects_start_resync(void);
/* Re-reads one domain from the driver and announces what changed
 * (dom_notify.h): a VM made for a domain made behind our back, a shutdown,
 * a domain that vanished. */
void gw_reconcile_domain(uint32_t domid);
/* Full resync with dom_list (start-up and periodic). */
void gw_reconcile_all(void);

#endif
