/* perfmon.h: XAPI's perfmon alarms on other_config:perfmon (perfmon.c). */
#ifndef GW_PERFMON_H
#define GW_PERFMON_H

#include <stdbool.h>
#include <stdint.h>

#include "../server/arena.h"
#include "metrics/metrics.h"

/* One <variable> of a config. */
#define GW_PERFMON_MAX_VARS 16
struct gw_perfmon_var {
    char name[64];
    double level;
    bool low;                      /* sense "low": bad below the level */
    int64_t period_s, inhibit_s, priority;
    char pretty[2048];             /* the <variable> element as perfmon prints it */
};

/* The variables of a perfmon config (a client's string, read in a; host:
 * the host's config, where memory_free_kib defaults to sense low); 0 when
 * it is malformed. Pure: unit tests and fuzz_perfmon drive it alone. */
uint32_t gw_perfmon_read_config(xg_arena *a, const char *text, bool host,
                                struct gw_perfmon_var vars[GW_PERFMON_MAX_VARS]);

/* One metrics tick: evaluates the host's and the running VMs' perfmon
 * configs against these samples and posts ALARM messages. World lock held. */
void gw_perfmon_tick(const struct xg_metrics_host_sample *h,
                     const struct xg_metrics_vm_sample *vms, uint32_t n);

#endif
