/* vm_query.c: VM messages that answer questions or re-check state without
 * changing the guest: assert_operation_valid, update_allowed_operations,
 * free device slots, possible hosts, assert_can_boot_here, and the guest
 * signals (sysrq, triggers) the driver interface cannot deliver.
 * World lock held. */
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "vm_disks.h"
#include "vm_internal.h"
#include "vm_spec.h"

bool handle_vm_assert_operation_valid(xg_call *c, xapi_vm *self, int op,
                                      xg_err *err)
{
    (void)c;
    return gw_vm_check_op(self, op, err);
}

bool handle_vm_update_allowed_operations(xg_call *c, xapi_vm *self,
                                         xg_err *err)
{
    (void)c;
    (void)err;
    gw_vm_update_allowed_operations(self);
    return true;
}

/* Xapi_vm_helpers.allowed_VBD_devices: HVM guests without PV drivers see
 * four IDE slots, the rest sixteen xvd slots; minus those in use. */
bool handle_vm_get_allowed_vbd_devices(xg_call *c, xapi_vm *vm,
                                       xg_set *result_out, xg_err *err)
{
    bool hvm = gw_vm_dom_type(vm) == XG_DOM_HVM;
    xapi_vm_guest_metrics *gm =
        xg_store_get(&xapi_class_vm_guest_metrics, vm->guest_metrics.s);
    bool pv_drivers = gm && gm->pv_drivers_detected;
    return gw_vm_allowed_vbd_devices(c, vm, hvm && !pv_drivers ? 4 : 16,
                                     result_out, err);
}

/* Xapi_vm_helpers.allowed_VIF_devices: 0-6 minus those in use (vif.c). */
bool handle_vm_get_allowed_vif_devices(xg_call *c, xapi_vm *vm,
                                       xg_set *result_out, xg_err *err)
{
    return gw_vif_allowed_devices(c, vm, result_out, err);
}

static bool can_boot_here(xg_call *c, xapi_vm *vm, xapi_host *host, xg_err *err)
{
    if (host != gw_host())
        return xapi_err_host_offline(err, host->obj.ref.s);
    return gw_vm_assert_bootable(vm, c->arena, err);
}

bool handle_vm_assert_can_boot_here(xg_call *c, xapi_vm *self, xapi_host *host,
                                    xg_err *err)
{
    return can_boot_here(c, self, host, err);
}

bool handle_vm_get_possible_hosts(xg_call *c, xapi_vm *vm, xg_set *result_out,
                                  xg_err *err)
{
    result_out->items = NULL;
    result_out->n = result_out->cap = 0;
    xapi_host *h = gw_host();
    xg_err probe = XG_ERR_INIT;
    if (!h || !can_boot_here(c, vm, h, &probe))
        return true;
    xg_ref *items = xg_arena_alloc(c->arena, sizeof *items);
    if (!items)
        return xg_err_internal(err, "out of call memory");
    items[0] = h->obj.ref;
    result_out->items = items;
    result_out->n = result_out->cap = 1;
    return true;
}

/* XAPI delivers these by writing the guest's control/ keys in xenstore; the
 * driver interface can only read guest data, so the power-state check is
 * made and then the call is refused as XAPI refuses what it lacks. */
bool handle_vm_send_sysrq(xg_call *c, xapi_vm *vm, const char *key,
                          xg_err *err)
{
    (void)c;
    (void)key;
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_SEND_SYSRQ, err))
        return false;
    return xapi_err_not_implemented(err, "VM.send_sysrq");
}

bool handle_vm_send_trigger(xg_call *c, xapi_vm *vm, const char *trigger,
                            xg_err *err)
{
    (void)c;
    (void)trigger;
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_SEND_TRIGGER, err))
        return false;
    return xapi_err_not_implemented(err, "VM.send_trigger");
}
