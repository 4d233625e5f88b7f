/* dom_notify.h: domain changes announced to registered listeners.
 *
 * objects.c notices domains (driver events, the periodic resync, start-up)
 * and announces what it saw here; the VM modules register a listener and
 * decide what a change means for the VM record (power state, runtime
 * objects, actions_after_*). The announcer never names the modules that
 * act, so neither depends on the other. World lock held throughout. */
#ifndef XG_DOM_NOTIFY_H
#define XG_DOM_NOTIFY_H

#include "xapi_types.h"
#include "driver/driver.h"

enum gw_dom_change {
    GW_DOM_ADOPTED,     /* a VM record was just made for a domain we did not
                         * start (dom0, or one made with xl); di is set */
    GW_DOM_SEEN,        /* vm's domain is running or paused (di): every
                         * reconciliation of a live domain announces it */
    GW_DOM_SHUTDOWN,    /* vm's domain has shut down for `reason` */
    GW_DOM_VANISHED,    /* vm's domain no longer exists (xl destroy) */
    GW_DOM_LOST,        /* vm was Running or Paused when the gateway stopped
                         * and no domain came back */
    GW_DOM_GUEST_DUE,   /* vm runs: time to re-read what its guest reports */
};

struct gw_dom_event {
    enum gw_dom_change change;
    xapi_vm *vm;                    /* bound to di's domid when di is set */
    const struct xg_dom_info *di;   /* ADOPTED, SEEN; NULL otherwise */
    enum xg_shutdown_reason reason; /* SHUTDOWN */
};

/* The VM power state a live domain shows (XAPI_VM_POWER_STATE_*). */
static inline int gw_dom_power_state(const struct xg_dom_info *di)
{
    return di->state == XG_DOM_PAUSED ? XAPI_VM_POWER_STATE_PAUSED
                                      : XAPI_VM_POWER_STATE_RUNNING;
}

typedef void (*gw_dom_listener)(const struct gw_dom_event *ev);

/* Registers fn (start-up, before the driver reports anything); listeners
 * run in registration order. Aborts past a small fixed number: a
 * registration bug, not an input. */
void gw_dom_listen(gw_dom_listener fn);
/* Calls every listener with ev. */
void gw_dom_announce(const struct gw_dom_event *ev);

#endif
