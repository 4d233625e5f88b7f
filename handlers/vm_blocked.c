/* vm_blocked.c: VM.blocked_operations setters. They change what the VM
 * allows, so allowed_operations is recomputed with them (clients grey out
 * blocked buttons from it). */
#include "gw.h"
#include "gw_util.h"

#define BLOCKED(vm) GW_F(vm, XAPI_VM_F_BLOCKED_OPERATIONS)

bool handle_vm_set_blocked_operations(xg_call *c, xapi_vm *self, const xg_map *value,
                                      xg_err *err)
{
    (void)c; (void)err;
    xg_store_set(self, BLOCKED(self), value);
    gw_vm_update_allowed_operations(self);
    return true;
}

bool handle_vm_add_to_blocked_operations(xg_call *c, xapi_vm *self, int key,
                                         const char *value, xg_err *err)
{
    (void)c;
    if (!xg_store_map_add(self, BLOCKED(self), &key, &value, err))
        return false;
    gw_vm_update_allowed_operations(self);
    return true;
}

bool handle_vm_remove_from_blocked_operations(xg_call *c, xapi_vm *self, int key,
                                              xg_err *err)
{
    (void)c; (void)err;
    xg_store_map_remove(self, BLOCKED(self), &key);
    gw_vm_update_allowed_operations(self);
    return true;
}
