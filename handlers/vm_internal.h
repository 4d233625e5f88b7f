/* vm_internal.h: helpers shared by the VM handler files (vm_*.c) only.
 *
 * Field writes go through xg_store_set on the generated field descriptors so
 * that every change produces its event and reaches persistence; nothing here
 * writes a record member directly. Everything requires the world lock. */
#ifndef XG_VM_INTERNAL_H
#define XG_VM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "gw.h"
#include "gw_util.h"

/* Field descriptor of a generated class by field index constant. */
#define GW_VMF(F)  (&xapi_class_vm.fields[XAPI_VM_F_##F])
#define GW_VMMF(F) (&xapi_class_vm_metrics.fields[XAPI_VM_METRICS_F_##F])
#define GW_VGMF(F) (&xapi_class_vm_guest_metrics.fields[XAPI_VM_GUEST_METRICS_F_##F])
#define GW_CONF(F) (&xapi_class_console.fields[XAPI_CONSOLE_F_##F])

/* Wire spelling of an enum value of field f ("Halted"); "" if out of range. */
const char *gw_enum_name(const xg_field_desc *f, int v);
/* Lowercase copy of s into buf (for VM_BAD_POWER_STATE params). */
const char *gw_lower(const char *s, char *buf, size_t len);

/* domain_type, or HVM_boot_policy when unspecified. */
enum xg_dom_type gw_vm_dom_type(const xapi_vm *vm);

/* VM_BAD_POWER_STATE [vm; expected; actual] with expected already joined. */
bool gw_vm_bad_power_state(const xapi_vm *vm, const char *expected, xg_err *err);

/* In-flight lifecycle operations (vm_lifecycle.c). */
bool gw_vm_has_inflight(const xapi_vm *vm);
/* A VM's domain has shut down on its own or after an operation: applies
 * actions_after_* as XAPI does. (vm_lifecycle.c) */
void gw_vm_domain_stopped(xapi_vm *vm, enum xg_shutdown_reason reason);
/* Registers the listener that makes VM records follow their domains
 * (vm_follow.c); init calls it before the driver opens. */
void gw_vm_follow_domains(void);

/* Runtime objects (vm_objects.c) ----------------------------------------- */
/* Sets VM_metrics after a boot: start_time now, VCPUs, memory, domain type. */
void gw_vm_metrics_booted(xapi_vm *vm, enum xg_dom_type type);
/* First sight of a domain we did not boot (running before the gateway
 * started, or made behind its back): VM_metrics from the driver's facts,
 * start_time the domain's real start. */
void gw_vm_metrics_seen(xapi_vm *vm, const struct xg_dom_info *di);
/* Removes the console and guest metrics of a VM that has no domain. */
void gw_vm_runtime_stopped(xapi_vm *vm);

/* Guest data (vm_guest.c). */
void gw_vm_refresh_guest_metrics(xapi_vm *vm);

/* Suspend image path of vm into buf (gw_state_dir()/suspend/<uuid>). */
bool gw_vm_suspend_path(const xapi_vm *vm, char *buf, size_t len, xg_err *err);

/* Checkpoints (vm_snapshot.c, vm_lifecycle.c). The guest of vm has just
 * been suspended for checkpoint c (deferred): snapshot its disks, keep its
 * memory image as the checkpoint's suspend VDI, resume it; c finishes
 * with the checkpoint's ref or an error. */
void gw_vm_checkpoint_suspended(xg_call *c, xapi_vm *vm, const char *name,
                                bool keep_memory, const xg_set *ignore);
/* VM.snapshot of a running guest whose disks the driver cannot snapshot
 * under it (libxl: qemu holds the qcow2 open): the guest is suspended
 * meanwhile, then resumed (spec §4.2 (b)). */
bool gw_vm_snapshot_suspended(xg_call *c, xapi_vm *vm, const char *name,
                              const xg_set *ignore, xg_err *err);
/* Resumes suspended vm for c; c finishes with result (a VM ref), or with
 * *after when set, or VM_CHECKPOINT_RESUME_FAILED. false: already finished. */
bool gw_vm_checkpoint_resume(xg_call *c, xapi_vm *vm, const char *result,
                             const xg_err *after);

/* Records (vm_create.c) -------------------------------------------------- */
/* dst gets every field of src a client may set or a copy carries over. */
void gw_vm_copy_fields(xapi_vm *dst, const xapi_vm *src);
/* Adds vm (not yet stored, fields copied in) as a new halted VM with its
 * runtime objects; on failure vm is freed. */
bool gw_vm_add_halted(xapi_vm *vm, xg_ref *result_out, xg_err *err);

/* Templates (vm_templates.c): called once by init. */
bool gw_templates_ensure(xg_err *err);

#endif
