/* vm_spec.h: VM record → driver domain spec, and the pre-boot checks
 * (vm_spec.c). World lock held. */
#ifndef XG_VM_SPEC_H
#define XG_VM_SPEC_H

#include "vm_internal.h"

/* MEMORY_CONSTRAINT_VIOLATION_ORDER unless smin ≤ dmin ≤ dmax ≤ smax. */
bool gw_vm_check_memory_order(int64_t smin, int64_t dmin, int64_t dmax,
                              int64_t smax, xg_err *err);
/* INVALID_VALUE with XAPI's validate_vcpus wording unless
 * 0 < at_startup ≤ max. */
bool gw_vm_check_vcpus(int64_t max, int64_t at_startup, xg_err *err);
/* Memory order, VCPUs, HVM capability, host free memory
 * (HOST_NOT_ENOUGH_FREE_MEMORY [needed; available]). a: scratch. */
bool gw_vm_assert_bootable(const xapi_vm *vm, xg_arena *a, xg_err *err);
/* Fills s with copies (in a) of everything the driver needs. */
bool gw_vm_build_spec(const xapi_vm *vm, xg_arena *a, bool start_paused,
                      struct xg_dom_spec *s, xg_err *err);

#endif
