/* sim_handover.h: the sim host's domains across a restart of the gateway in
 * place (sim_handover.c). */
#ifndef XG_SIM_HANDOVER_H
#define XG_SIM_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>

struct xg_drv;

enum sim_boot {
    SIM_BOOT_FIRST,          /* no handover: the fixtures' guests run */
    SIM_BOOT_AGENT_RESTART,  /* the previous agent's domains were restored */
    SIM_BOOT_REBOOTED,       /* the host rebooted: nothing runs but dom0 */
};

/* The driver's restarting op: writes the handover (d->lock taken inside). */
void sim_restarting(struct xg_drv *d, bool host_reboot);
/* At open, after dom0 and before the fixtures: reads and removes the
 * handover; restores the domains it lists (AGENT_RESTART). */
enum sim_boot sim_handover_take(struct xg_drv *d, uint64_t now);

#endif
