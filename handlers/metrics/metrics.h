/* metrics.h: the metrics module (RRDs like xcp-rrdd, /rrd_updates,
 * /host_rrd, /vm_rrd, /metrics) as seen by the rest of the gateway.
 *
 * Threads: the sampler runs every 5 s on the timer thread and calls the
 * driver WITHOUT the world lock (the driver's read-only ops host_stats,
 * dom_list, dom_vcpus, dom_stats, guest_read must therefore be callable
 * concurrently with handlers). It takes the world lock only through the two
 * hooks below. HTTP handlers run on HTTP workers (http_routes.h) and never
 * touch the world lock.
 *
 * Units follow XAPI (spec metrics.md §3): host memory_*_kib in KiB; VM
 * memory and memory_target in bytes, memory_internal_free in KiB; rates per
 * second; CPU as fractions 0..1. VIF counters from the driver are the
 * backend (dom0) interface's own rx/tx, so vif_N_rx = driver tx_bytes. */
#ifndef XG_METRICS_H
#define XG_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../server/arena.h"
#include "../../server/xg_err.h"
#include "../driver/driver.h"

/* ---- implemented here ---------------------------------------------------- */

/* Loads the persisted host RRD from <state_dir>/rrd/, registers GET
 * /rrd_updates, /host_rrd, /host_rrds, /vm_rrd, /vm_rrds and /metrics, and
 * starts the 5 s sampler on the timer thread (xg_timer_start must have run).
 * VM RRDs are loaded from disk when their domain is first seen. */
bool xg_metrics_init(const struct xg_driver *drv, struct xg_drv *d,
                     const char *state_dir, xg_err *err);
/* Stops the sampler and persists every RRD (atomically). */
void xg_metrics_shutdown(void);
/* The VM stopped (halt, suspend, migrate away): its RRD is written to disk
 * now and leaves memory; it comes back when the VM runs again. Safe with the
 * world lock held. */
void xg_metrics_vm_halted(const char *vm_uuid);
/* Newest 5 s AVERAGE value of a data source of the host or of a running
 * VM (host/VM.query_data_source). False if unknown; *out may be NaN. */
bool xg_metrics_query(const char *owner_uuid, const char *ds_name, double *out);

/* ---- hooks implemented by the lead (handlers/) --------------------------- */

struct xg_metrics_dom_id {
    uint32_t domid;
    const char *vm_uuid;             /* VM record uuid (dom0: the control domain's) */
    const char *name_label;
};

struct xg_metrics_identity {
    const char *host_uuid;
    const char *hostname;
    struct xg_metrics_dom_id *doms;  /* in the arena */
    uint32_t ndoms;
};

/* Host identity and the domains known to the API, copied into arena a.
 * Takes the world lock inside. False: skip this tick. */
bool xg_metrics_hook_identity(xg_arena *a, struct xg_metrics_identity *out);

struct xg_metrics_host_sample {
    uint64_t memory_total_bytes, memory_free_bytes;
};

struct xg_metrics_vm_sample {
    const char *vm_uuid;
    uint32_t domid;
    uint64_t memory_actual_bytes;
    uint32_t vcpus_number;           /* online vCPUs */
    uint32_t nvcpus;
    const double *vcpus_utilisation; /* [nvcpus] fraction 0..1 per vCPU, NaN unknown */
};

/* After each tick that read the host (h is never NULL), from the timer thread without any metrics lock held; the
 * arrays live only for the call. The lead takes the world lock and updates
 * host_metrics / VM_metrics only where values changed. */
void xg_metrics_hook_publish(const struct xg_metrics_host_sample *h,
                             const struct xg_metrics_vm_sample *vms, uint32_t n);

#endif
