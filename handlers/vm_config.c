/* vm_config.c: VM settings whose setters have effects (the IDL's `effect`
 * fields and the memory / VCPU messages): each checks its vm_operations
 * value as XAPI does, validates the constraint XAPI enforces, applies the
 * change to a running domain where XAPI would (balloon target, online
 * VCPUs) and writes the record through the store. World lock held; only
 * short driver calls. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vm_internal.h"
#include "vm_spec.h"

static bool running(const xapi_vm *vm)
{
    return vm->domid >= 0 && (vm->power_state == XAPI_VM_POWER_STATE_RUNNING ||
                              vm->power_state == XAPI_VM_POWER_STATE_PAUSED);
}

static void refresh(xapi_vm *vm)
{
    gw_vm_update_allowed_operations(vm);
}

/* Writes the four memory fields (unchanged ones make no event). */
static void put_memory(xapi_vm *vm, int64_t smin, int64_t smax, int64_t dmin,
                       int64_t dmax)
{
    gw_set_int(vm, GW_VMF(MEMORY_STATIC_MIN), smin);
    gw_set_int(vm, GW_VMF(MEMORY_STATIC_MAX), smax);
    gw_set_int(vm, GW_VMF(MEMORY_DYNAMIC_MIN), dmin);
    gw_set_int(vm, GW_VMF(MEMORY_DYNAMIC_MAX), dmax);
}

/* With no ballooning daemon the guest is given the top of its dynamic
 * range. */
static bool retarget(xapi_vm *vm, int64_t target, xg_err *err)
{
    if (!running(vm) || vm->is_control_domain)
        return true;
    if (!gw_drv->dom_set_memory_target(gw_d, (uint32_t)vm->domid,
                                       (uint64_t)target, err))
        return false;
    gw_set_int(vm, GW_VMF(MEMORY_TARGET), target);
    return true;
}

static bool memory_change(xapi_vm *vm, int op, int64_t smin, int64_t smax,
                          int64_t dmin, int64_t dmax, xg_err *err)
{
    if (!gw_vm_check_op(vm, op, err) ||
        !gw_vm_check_memory_order(smin, dmin, dmax, smax, err))
        return false;
    if (dmax != vm->memory_dynamic_max && !retarget(vm, dmax, err))
        return false;
    put_memory(vm, smin, smax, dmin, dmax);
    refresh(vm);
    return true;
}

bool handle_vm_set_memory_dynamic_range(xg_call *c, xapi_vm *self,
                                        int64_t min, int64_t max, xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_DYNAMIC_RANGE,
                         self->memory_static_min, self->memory_static_max,
                         min, max, err);
}

bool handle_vm_set_memory_static_range(xg_call *c, xapi_vm *self, int64_t min,
                                       int64_t max, xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_STATIC_RANGE, min,
                         max, self->memory_dynamic_min,
                         self->memory_dynamic_max, err);
}

bool handle_vm_set_memory_limits(xg_call *c, xapi_vm *self, int64_t static_min,
                                 int64_t static_max, int64_t dynamic_min,
                                 int64_t dynamic_max, xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_MEMORY_LIMITS,
                         static_min, static_max, dynamic_min, dynamic_max,
                         err);
}

/* Since ely: static_max = dynamic_min = dynamic_max = value. */
bool handle_vm_set_memory(xg_call *c, xapi_vm *self, int64_t value,
                          xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_MEMORY_LIMITS,
                         self->memory_static_min, value, value, value, err);
}

bool handle_vm_set_memory_static_max(xg_call *c, xapi_vm *self, int64_t value,
                                     xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_STATIC_RANGE,
                         self->memory_static_min, value,
                         self->memory_dynamic_min, self->memory_dynamic_max,
                         err);
}

bool handle_vm_set_memory_static_min(xg_call *c, xapi_vm *self, int64_t value,
                                     xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_STATIC_RANGE, value,
                         self->memory_static_max, self->memory_dynamic_min,
                         self->memory_dynamic_max, err);
}

bool handle_vm_set_memory_dynamic_max(xg_call *c, xapi_vm *self, int64_t value,
                                      xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_DYNAMIC_RANGE,
                         self->memory_static_min, self->memory_static_max,
                         self->memory_dynamic_min, value, err);
}

bool handle_vm_set_memory_dynamic_min(xg_call *c, xapi_vm *self, int64_t value,
                                      xg_err *err)
{
    (void)c;
    return memory_change(self, XAPI_VM_OPERATIONS_CHANGING_DYNAMIC_RANGE,
                         self->memory_static_min, self->memory_static_max,
                         value, self->memory_dynamic_max, err);
}

/* Deprecated in XAPI but served: moves the balloon target of a running VM
 * within its dynamic range. */
bool handle_vm_set_memory_target_live(xg_call *c, xapi_vm *self,
                                      int64_t target, xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(self, XAPI_VM_OPERATIONS_CHANGING_MEMORY_LIVE, err))
        return false;
    if (target < self->memory_dynamic_min || target > self->memory_dynamic_max)
        return xapi_err_memory_constraint_violation(
            err, "dynamic_min ≤ target ≤ dynamic_max");
    if (!gw_drv->dom_set_memory_target(gw_d, (uint32_t)self->domid,
                                       (uint64_t)target, err))
        return false;
    gw_set_int(self, GW_VMF(MEMORY_TARGET), target);
    return true;
}

bool handle_vm_set_vcpus_number_live(xg_call *c, xapi_vm *self, int64_t nvcpu,
                                     xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(self, XAPI_VM_OPERATIONS_CHANGING_VCPUS_LIVE, err))
        return false;
    if (nvcpu < 1 || nvcpu > self->vcpus_max) {
        char v[24];
        snprintf(v, sizeof v, "%" PRId64, nvcpu);
        return xapi_err_invalid_value(err, "nvcpu", v);
    }
    if (!gw_drv->dom_set_vcpus_online(gw_d, (uint32_t)self->domid,
                                      (uint32_t)nvcpu, err))
        return false;
    /* XAPI records the live count as the count for the next boot too. */
    gw_set_int(self, GW_VMF(VCPUS_AT_STARTUP), nvcpu);
    xapi_vm_metrics *m = xg_store_get(&xapi_class_vm_metrics, self->metrics.s);
    if (m)
        gw_set_int(m, GW_VMMF(VCPUS_NUMBER), nvcpu);
    refresh(self);
    return true;
}

bool handle_vm_set_vcpus_max(xg_call *c, xapi_vm *self, int64_t value,
                             xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(self, XAPI_VM_OPERATIONS_CHANGING_VCPUS, err) ||
        !gw_vm_check_vcpus(value, self->vcpus_at_startup, err))
        return false;
    gw_set_int(self, GW_VMF(VCPUS_MAX), value);
    refresh(self);
    return true;
}

bool handle_vm_set_vcpus_at_startup(xg_call *c, xapi_vm *self, int64_t value,
                                    xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(self, XAPI_VM_OPERATIONS_CHANGING_VCPUS, err) ||
        !gw_vm_check_vcpus(self->vcpus_max, value, err))
        return false;
    gw_set_int(self, GW_VMF(VCPUS_AT_STARTUP), value);
    refresh(self);
    return true;
}

/* Xapi_vm.set_is_a_template: making a template is an operation on a halted
 * VM; turning one back into a VM counts as its install time. */
bool handle_vm_set_is_a_template(xg_call *c, xapi_vm *self, bool value,
                                 xg_err *err)
{
    (void)c;
    if (value == self->is_a_template)
        return true;
    if (value) {
        if (!gw_vm_check_op(self, XAPI_VM_OPERATIONS_MAKE_INTO_TEMPLATE, err))
            return false;
        /* A template has no guest: forget what the last one reported. */
        void *gm = xg_store_get(&xapi_class_vm_guest_metrics,
                                self->guest_metrics.s);
        if (gm)
            xg_store_remove(gm);
        gw_set_ref(self, GW_VMF(GUEST_METRICS), XG_REF_NULL);
    } else {
        xapi_vm_metrics *m =
            xg_store_get(&xapi_class_vm_metrics, self->metrics.s);
        if (m)
            gw_set_time(m, GW_VMMF(INSTALL_TIME), (int64_t)time(NULL));
        gw_set_bool(self, GW_VMF(IS_DEFAULT_TEMPLATE), false);
    }
    gw_set_bool(self, GW_VMF(IS_A_TEMPLATE), value);
    refresh(self);
    return true;
}

/* Takes effect when the guest next stops; nothing to tell a domain. */
bool handle_vm_set_actions_after_crash(xg_call *c, xapi_vm *self, int value,
                                       xg_err *err)
{
    (void)c;
    (void)err;
    gw_set_enum(self, GW_VMF(ACTIONS_AFTER_CRASH), value);
    return true;
}

/* HVM_boot_policy and domain_type describe the same choice; XAPI keeps them
 * consistent whichever is set. Both take effect at the next boot. */
bool handle_vm_set_hvm_boot_policy(xg_call *c, xapi_vm *self,
                                   const char *value, xg_err *err)
{
    (void)c;
    (void)err;
    gw_set_enum(self, GW_VMF(DOMAIN_TYPE),
                value[0] ? XAPI_DOMAIN_TYPE_HVM : XAPI_DOMAIN_TYPE_PV);
    gw_set_str(self, GW_VMF(HVM_BOOT_POLICY), value);
    refresh(self);
    return true;
}

bool handle_vm_set_domain_type(xg_call *c, xapi_vm *self, int value,
                               xg_err *err)
{
    (void)c;
    if (value == XAPI_DOMAIN_TYPE_UNSPECIFIED)
        return xapi_err_invalid_value(err, "domain_type", "unspecified");
    gw_set_enum(self, GW_VMF(DOMAIN_TYPE), value);
    gw_set_str(self, GW_VMF(HVM_BOOT_POLICY),
               value == XAPI_DOMAIN_TYPE_HVM ? "BIOS order" : "");
    refresh(self);
    return true;
}
