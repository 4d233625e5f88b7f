/* gw.h: state and helpers shared by the hand-written handlers.
 *
 * Everything here requires the world lock unless stated otherwise.
 * Generated API used throughout handlers/ (build/generated/xapi_types.h):
 * record structs `xapi_<class>` (first member `xg_obj obj`), field index
 * constants `XAPI_<CLASS>_F_<FIELD>`, class descriptors `xapi_class_<class>`,
 * typed setters `xapi_<class>_set_<field>(obj, value)` that go through
 * xg_store_set (event + persistence), enums `XAPI_<ENUM>_<VALUE>`. */
#ifndef XG_GW_H
#define XG_GW_H

#include <stdbool.h>
#include <stdint.h>

#include "xapi_types.h"
#include "xapi_errors.h"
#include "xapi_handlers.h"
#include "../server/call.h"
#include "../server/config.h"
#include "../server/store.h"
#include "driver/driver.h"
/* The driver, the state directory, pool/host/dom0, domid ↔ VM. */
#include "ctx.h"

/* VM operations bookkeeping (vm_ops.c): checks in XAPI's order
 * (blocked_operations, power state, concurrency, template, …) and raises the
 * exact XAPI error; begin/end keep current_operations and
 * allowed_operations true at every moment. */
bool gw_vm_check_op(xapi_vm *vm, int op /* XAPI_VM_OPERATIONS_* */, xg_err *err);
bool gw_vm_op_begin(xg_call *c, xapi_vm *vm, int op, xg_err *err);
void gw_vm_op_end(xapi_vm *vm, int op);
void gw_vm_update_allowed_operations(xapi_vm *vm);

/* Creates the VM_metrics (and, for running VMs, console) objects a new VM
 * needs; returns false on store failure. (vm_objects.c) */
bool gw_vm_attach_runtime_objects(xapi_vm *vm, xg_err *err);
void gw_vm_detach_runtime_objects(xapi_vm *vm);

#endif
