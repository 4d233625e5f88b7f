/* vif_filter.c: VIF locking_mode enforced on the host. The filters of every
 * attached VIF of a running guest whose effective mode (network_default →
 * its network's default_locking_mode) is locked or disabled are rebuilt
 * from the records and handed to hostnet as one set, which replaces the
 * previous one atomically (nftables on a real host; made but not enforced
 * on the sim host). Rebuilt whenever an input changes: a guest starts or
 * stops, a VIF is hot-plugged, unplugged or moved, a locking field or a
 * network's default changes, and at start-up. World lock held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/log.h"
#include "hostnet/hostnet.h"
#include "net.h"
#include "vm_internal.h"
#include "vm_spec.h"

#define AREA "vif"

static bool any_filtered;           /* the last set was not empty */

static int effective_mode(const xapi_vif *v)
{
    if (v->locking_mode != XAPI_VIF_LOCKING_MODE_NETWORK_DEFAULT)
        return v->locking_mode;
    const xapi_network *n = xg_store_get(&xapi_class_network, v->network.s);
    return n && n->default_locking_mode == XAPI_NETWORK_DEFAULT_LOCKING_MODE_DISABLED
               ? XAPI_VIF_LOCKING_MODE_DISABLED
               : XAPI_VIF_LOCKING_MODE_UNLOCKED;
}

static bool filtered(const xapi_vif *v, const xapi_vm **vm_out)
{
    int mode = effective_mode(v);
    if (!v->currently_attached ||
        (mode != XAPI_VIF_LOCKING_MODE_LOCKED && mode != XAPI_VIF_LOCKING_MODE_DISABLED))
        return false;
    const xapi_vm *vm = xg_store_get(&xapi_class_vm, v->vm.s);
    if (!vm || vm->domid < 0 || vm->is_control_domain ||
        (vm->power_state != XAPI_VM_POWER_STATE_RUNNING &&
         vm->power_state != XAPI_VM_POWER_STATE_PAUSED))
        return false;
    *vm_out = vm;
    return true;
}

bool gw_vif_filters_sync(xg_err *err)
{
    uint32_t cap = 0, n = 0;
    uint64_t cur = 0;
    const xapi_vif *v;
    const xapi_vm *vm;
    while ((v = xg_store_next(&xapi_class_vif, &cur)) != NULL)
        cap += filtered(v, &vm);
    if (!cap && !any_filtered)
        return true;
    struct gw_port_filter *f = calloc(cap ? cap : 1, sizeof *f);
    if (!f)
        return xg_err_internal(err, "out of memory");
    cur = 0;
    while (n < cap && (v = xg_store_next(&xapi_class_vif, &cur)) != NULL) {
        int dev = gw_vif_device_number(v->device);
        if (!filtered(v, &vm) || dev < 0 || !gw_mac_parse(v->mac, f[n].mac))
            continue;
        /* netback's and qemu's names for the guest's ports */
        char port[32], tap[40];
        snprintf(port, sizeof port, "vif%lld.%d", (long long)vm->domid, dev);
        snprintf(tap, sizeof tap, "%s-emu", port);
        if (strlen(tap) >= sizeof f[n].tap)
            continue;
        memcpy(f[n].port, port, strlen(port) + 1);
        if (gw_vm_dom_type(vm) == XG_DOM_HVM)
            memcpy(f[n].tap, tap, strlen(tap) + 1);
        f[n].lock = effective_mode(v) == XAPI_VIF_LOCKING_MODE_LOCKED ? GW_PORT_LOCKED
                                                                      : GW_PORT_DISABLED;
        f[n].ipv4 = (const char *const *)v->ipv4_allowed.items;
        f[n].n4 = v->ipv4_allowed.n;
        f[n].ipv6 = (const char *const *)v->ipv6_allowed.items;
        f[n].n6 = v->ipv6_allowed.n;
        n++;
    }
    bool ok = gw_net_port_filters(f, n, err);
    free(f);
    if (ok)
        any_filtered = n > 0;
    return ok;
}

void gw_vif_filters_refresh(void)
{
    xg_err err = XG_ERR_INIT;
    if (!gw_vif_filters_sync(&err))
        XG_WARN(AREA, "VIF filters: %s %s", err.code, err.nparams ? err.param[0] : "");
}

void gw_vif_filters_vm_changed(const xapi_vm *vm)
{
    bool mine = false;
    for (uint32_t i = 0; i < vm->vifs.n && !mine; i++) {
        const xapi_vif *v = xg_store_get(&xapi_class_vif, ((xg_ref *)vm->vifs.items)[i].s);
        mine = v && effective_mode(v) != XAPI_VIF_LOCKING_MODE_UNLOCKED;
    }
    /* a start or stop of a guest without filtered VIFs changes nothing,
     * unless filters exist (a domid may have been reused) */
    if (mine || any_filtered)
        gw_vif_filters_refresh();
}
