/* sim.h: test hooks of the sim driver, beyond driver.h.
 *
 * The sim never changes a domain at random; tests and the e2e fixtures make
 * guests misbehave on purpose through these hooks, which fire
 * ev->dom_changed exactly like a real guest-initiated event would. */
#ifndef XG_SIM_H
#define XG_SIM_H

#include "../driver.h"

/* The guest of domid shuts itself down (POWEROFF, REBOOT, CRASH, WATCHDOG,
 * SOFT_RESET; SUSPEND is refused as it is a toolstack operation). The domain
 * stays in state SHUTDOWN with that reason until someone destroys it, as on
 * Xen; ev->dom_changed fires from the sim worker thread. d must be a sim
 * driver instance. */
bool sim_inject_guest_shutdown(struct xg_drv *d, uint32_t domid,
                               enum xg_shutdown_reason reason, xg_err *err);

#endif
