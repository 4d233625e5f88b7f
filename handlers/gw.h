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

/* The driver in use (set once at start-up, read-only after). */
extern const struct xg_driver *gw_drv;
extern struct xg_drv *gw_d;

xapi_pool *gw_pool(void);
xapi_host *gw_host(void);
xapi_vm *gw_dom0(void);

/* domid ↔ VM: O(1) both ways. The VM's `domid` field is kept in step. */
xapi_vm *gw_vm_by_domid(uint32_t domid);
void gw_vm_bind_domid(xapi_vm *vm, int64_t domid);   /* -1 = no domain */

/* Re-reads one domain from the driver and reflects it in its VM (power
 * state, metrics, consoles, guest metrics); creates a VM for a domain made
 * behind our back; handles a domain that vanished. (objects.c) */
void gw_reconcile_domain(uint32_t domid);
/* Full resync with dom_list (start-up and periodic). (objects.c) */
void gw_reconcile_all(void);
/* Called (world lock held) when a VM's domain has shut down on its own or
 * after an operation: applies actions_after_* as XAPI does. (vm_lifecycle.c) */
void gw_vm_domain_stopped(xapi_vm *vm, enum xg_shutdown_reason reason);

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

/* State directory (for suspend images). */
const char *gw_state_dir(void);

#endif
