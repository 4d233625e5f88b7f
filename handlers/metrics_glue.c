/* metrics_glue.c: what the metrics module asks of the XAPI side: who the
 * host and its domains are, and reflecting samples into host_metrics and
 * VM_metrics (only on change, so that an idle host does not flood event.from
 * clients, and at the coarse precision XAPI shows). */
#include <math.h>
#include <string.h>

#include "../server/world.h"
#include "gw.h"
#include "gw_util.h"
#include "metrics/metrics.h"
#include "perfmon.h"

bool xg_metrics_hook_identity(xg_arena *a, struct xg_metrics_identity *out)
{
    xg_world_lock();
    xapi_host *h = gw_host();
    bool ok = h != NULL;
    if (ok) {
        out->host_uuid = xg_arena_strdup(a, h->uuid);
        out->hostname = xg_arena_strdup(a, h->hostname);
        uint32_t cap = xg_store_count(&xapi_class_vm);
        out->doms = xg_arena_alloc(a, sizeof(*out->doms) * (cap ? cap : 1));
        out->ndoms = 0;
        ok = out->host_uuid && out->hostname && out->doms;
        uint64_t cur = 0;
        xapi_vm *vm;
        while (ok && (vm = xg_store_next(&xapi_class_vm, &cur)) != NULL) {
            if (vm->domid < 0 || out->ndoms >= cap)
                continue;
            struct xg_metrics_dom_id *d = &out->doms[out->ndoms++];
            d->domid = (uint32_t)vm->domid;
            d->vm_uuid = xg_arena_strdup(a, vm->uuid);
            d->name_label = xg_arena_strdup(a, vm->name_label);
            ok = d->vm_uuid && d->name_label;
        }
    }
    xg_world_unlock();
    return ok;
}

static void publish_vm(const struct xg_metrics_vm_sample *s, int64_t now)
{
    xapi_vm *vm = gw_vm_by_domid(s->domid);
    if (!vm || strcmp(vm->uuid, s->vm_uuid) != 0)
        return;                       /* the domain changed hands meanwhile */
    xapi_vm_metrics *m = xg_store_get(&xapi_class_vm_metrics, vm->metrics.s);
    if (!m)
        return;
    bool changed = false;
    if (m->memory_actual != (int64_t)s->memory_actual_bytes) {
        gw_set_int(m, GW_F(m, XAPI_VM_METRICS_F_MEMORY_ACTUAL), (int64_t)s->memory_actual_bytes);
        changed = true;
    }
    if (m->vcpus_number != (int64_t)s->vcpus_number) {
        gw_set_int(m, GW_F(m, XAPI_VM_METRICS_F_VCPUS_NUMBER), s->vcpus_number);
        changed = true;
    }
    /* VCPUs_utilisation: (int -> float) map, vcpu number → fraction */
    int64_t keys[64];
    double vals[64];
    uint32_t n = s->nvcpus < 64 ? s->nvcpus : 64;
    bool util_changed = m->vcpus_utilisation.n != n;
    for (uint32_t i = 0; i < n; i++) {
        keys[i] = i;
        /* XAPI rounds nothing; we keep 4 decimals so that noise in the last
         * bits of a ratio does not count as a change */
        vals[i] = isnan(s->vcpus_utilisation[i]) ? 0.0
                                                 : round(s->vcpus_utilisation[i] * 1e4) / 1e4;
        if (!util_changed && (((int64_t *)m->vcpus_utilisation.keys)[i] != keys[i] ||
                              ((double *)m->vcpus_utilisation.vals)[i] != vals[i]))
            util_changed = true;
    }
    if (util_changed) {
        xg_map u = { .keys = keys, .vals = vals, .n = n, .cap = n };
        xg_store_set(m, GW_F(m, XAPI_VM_METRICS_F_VCPUS_UTILISATION), &u);
        changed = true;
    }
    if (changed)
        gw_set_time(m, GW_F(m, XAPI_VM_METRICS_F_LAST_UPDATED), now);
}

void xg_metrics_hook_publish(const struct xg_metrics_host_sample *h,
                             const struct xg_metrics_vm_sample *vms, uint32_t n)
{
    int64_t now = gw_now();
    xg_world_lock();
    xapi_host *host = gw_host();
    xapi_host_metrics *hm = host ? xg_store_get(&xapi_class_host_metrics, host->metrics.s) : NULL;
    if (hm && (hm->memory_total != (int64_t)h->memory_total_bytes ||
               hm->memory_free != (int64_t)h->memory_free_bytes)) {
        gw_set_int(hm, GW_F(hm, XAPI_HOST_METRICS_F_MEMORY_TOTAL), (int64_t)h->memory_total_bytes);
        gw_set_int(hm, GW_F(hm, XAPI_HOST_METRICS_F_MEMORY_FREE), (int64_t)h->memory_free_bytes);
        gw_set_time(hm, GW_F(hm, XAPI_HOST_METRICS_F_LAST_UPDATED), now);
    }
    for (uint32_t i = 0; i < n; i++)
        publish_vm(&vms[i], now);
    gw_perfmon_tick(h, vms, n);
    xg_err err = XG_ERR_INIT;
    xg_store_flush(&err);
    xg_world_unlock();
}
