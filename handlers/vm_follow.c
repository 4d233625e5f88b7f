/* vm_follow.c: VM records follow their domains. The listener for what
 * objects.c announces (dom_notify.h): it decides what a domain change means
 * for the VM (power state, resident_on, runtime objects, allowed
 * operations, actions_after_*); an operation of ours in flight owns its
 * VM, and its completion decides instead. World lock held. */
#include "../server/log.h"
#include "dom_notify.h"
#include "vm_internal.h"

#define AREA "vm_follow"

static bool live(const xapi_vm *vm)
{
    return vm->power_state == XAPI_VM_POWER_STATE_RUNNING ||
           vm->power_state == XAPI_VM_POWER_STATE_PAUSED;
}

static void runtime_seen(xapi_vm *vm, const struct xg_dom_info *di)
{
    xg_err err = XG_ERR_INIT;
    if (!gw_vm_attach_runtime_objects(vm, &err))
        XG_WARN(AREA, "VM %s: runtime objects: %s", vm->uuid, err.code);
    gw_vm_metrics_seen(vm, di);
    gw_vm_update_allowed_operations(vm);
}

static void domain_seen(xapi_vm *vm, const struct xg_dom_info *di)
{
    int ps = gw_dom_power_state(di);
    /* a power state loaded from the database may already match while the
     * runtime fields (resident_on, consoles) are not set yet: the first
     * sight of a domain after a restart sets them too */
    if (vm->power_state == ps && gw_ref_is_set(vm->resident_on.s))
        return;
    if (vm->power_state != ps)
        gw_set_enum(vm, GW_VMF(POWER_STATE), ps);
    if (!gw_ref_is_set(vm->resident_on.s))
        gw_set_ref(vm, GW_VMF(RESIDENT_ON), gw_host()->obj.ref.s);
    runtime_seen(vm, di);
}

static void domain_vanished(xapi_vm *vm)
{
    if (vm->is_control_domain)
        return;
    if (live(vm)) {
        XG_INFO(AREA, "domain %lld of VM %s vanished", (long long)vm->domid, vm->uuid);
        /* destroyed behind our back (xl destroy): XAPI shows it Halted */
        gw_vm_domain_stopped(vm, XG_SHUTDOWN_NONE);
    } else {
        gw_vm_bind_domid(vm, -1);
    }
}

/* Running or Paused when the gateway stopped, and no domain came back:
 * halted (or destroyed) while we were down. */
static void domain_lost(xapi_vm *vm)
{
    gw_set_enum(vm, GW_VMF(POWER_STATE), XAPI_VM_POWER_STATE_HALTED);
    gw_set_ref(vm, GW_VMF(RESIDENT_ON), XG_REF_NULL);
    gw_vm_runtime_stopped(vm);
    gw_vm_update_allowed_operations(vm);
}

static void on_domain(const struct gw_dom_event *ev)
{
    xapi_vm *vm = ev->vm;
    switch (ev->change) {
    case GW_DOM_ADOPTED:
        runtime_seen(vm, ev->di);
        return;
    case GW_DOM_GUEST_DUE:
        gw_vm_refresh_guest_metrics(vm);
        return;
    case GW_DOM_LOST:
        domain_lost(vm);
        return;
    default:
        break;
    }
    if (gw_vm_has_inflight(vm))
        return;                      /* the operation's completion decides */
    switch (ev->change) {
    case GW_DOM_SEEN:
        domain_seen(vm, ev->di);
        break;
    case GW_DOM_SHUTDOWN:
        gw_vm_domain_stopped(vm, ev->reason);
        break;
    case GW_DOM_VANISHED:
        domain_vanished(vm);
        break;
    default:
        break;
    }
}

void gw_vm_follow_domains(void)
{
    gw_dom_listen(on_domain);
}
