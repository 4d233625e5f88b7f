/* perfmon.h: XAPI's perfmon alarms on other_config:perfmon (perfmon.c). */
#ifndef GW_PERFMON_H
#define GW_PERFMON_H

#include <stdint.h>

#include "metrics/metrics.h"

/* One metrics tick: evaluates the host's and the running VMs' perfmon
 * configs against these samples and posts ALARM messages. World lock held. */
void gw_perfmon_tick(const struct xg_metrics_host_sample *h,
                     const struct xg_metrics_vm_sample *vms, uint32_t n);

#endif
