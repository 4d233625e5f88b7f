/* host_power.h: the host's own lifecycle (host_power.c). */
#ifndef GW_HOST_POWER_H
#define GW_HOST_POWER_H

#include <stdbool.h>

/* At start-up, world lock held, after the objects are built: the host is
 * enabled again (as XAPI re-enables it when its agent starts), its
 * allowed_operations computed, and the start recorded as a message when
 * this is not the first start. power: the host-power setting (off|on). */
void gw_host_power_start(const char *power, bool first_start);
/* At a clean stop: the next start is not told of an unclean end. */
void gw_host_power_stop(void);
/* allowed_operations of the host from its state (XAPI's valid_operations
 * for a pool of one). World lock held. */
void gw_host_update_allowed_operations(void);

#endif
