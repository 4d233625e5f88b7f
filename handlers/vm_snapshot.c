/* vm_snapshot.c: VM.snapshot and VM.revert, as XAPI's Xapi_vm_clone.clone
 * (Disk_op_snapshot) and Xapi_vm_snapshot.revert do them (spec
 * storage-network-console.md §4.2-§4.3): a snapshot is a halted template
 * VM whose disks are copy-on-write snapshots of the live ones; reverting
 * gives the live VM clones of those disks and the snapshot's configuration.
 * The snapshot tree is kept in VM.parent: the live VM points at its latest
 * snapshot, which points at the one before. World lock held. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "vm_disks.h"
#include "vm_internal.h"

/* Fields a revert leaves alone although the snapshot has them (XAPI's
 * exception list, for the fields gw_vm_copy_fields would carry). The name
 * stays the live VM's: the snapshot's own is the one given at snapshot
 * time, and it is a template only because it is a snapshot. */
static bool kept_on_revert(uint32_t idx)
{
    static const uint32_t kept[] = {
        XAPI_VM_F_NAME_LABEL, XAPI_VM_F_NAME_DESCRIPTION, XAPI_VM_F_IS_A_TEMPLATE,
        XAPI_VM_F_IS_DEFAULT_TEMPLATE, XAPI_VM_F_TAGS, XAPI_VM_F_AFFINITY,
        XAPI_VM_F_HA_ALWAYS_RUN,
    };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (kept[i] == idx)
            return true;
    return false;
}

static void set_snapshot_info(xapi_vm *snap, const xapi_vm *src)
{
    const char *keys[] = {"power-state-at-snapshot", "disk-snapshot-type"};
    const char *vals[] = {gw_enum_name(GW_VMF(POWER_STATE), src->power_state),
                          "crash_consistent"};
    xg_map m = {(void *)keys, (void *)vals, 2, 2};
    gw_init_field(snap, XAPI_VM_F_SNAPSHOT_INFO, &m);
}

/* Disks of a running VM are snapshotted while it runs: on sim nothing
 * writes them; on libxl the storage layer refuses an attached disk
 * (VDI_IN_USE) rather than give an inconsistent image. */
bool handle_vm_snapshot(xg_call *c, xapi_vm *vm, const char *new_name,
                        const xg_set *ignore_vdis, xg_ref *result_out,
                        xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_SNAPSHOT, err))
        return false;
    xapi_vm *snap = xg_obj_new(&xapi_class_vm);
    gw_vm_copy_fields(snap, vm);
    bool yes = true, no = false;
    int64_t now = (int64_t)time(NULL);
    gw_init_str(snap, XAPI_VM_F_NAME_LABEL, new_name);
    gw_init_field(snap, XAPI_VM_F_IS_A_SNAPSHOT, &yes);
    gw_init_field(snap, XAPI_VM_F_IS_A_TEMPLATE, &yes);
    gw_init_field(snap, XAPI_VM_F_IS_DEFAULT_TEMPLATE, &no);
    gw_init_field(snap, XAPI_VM_F_HA_ALWAYS_RUN, &no);
    gw_init_ref(snap, XAPI_VM_F_SNAPSHOT_OF, vm->obj.ref.s);
    gw_init_field(snap, XAPI_VM_F_SNAPSHOT_TIME, &now);
    gw_init_ref(snap, XAPI_VM_F_PARENT, vm->parent.s);
    gw_init_field(snap, XAPI_VM_F_BIOS_STRINGS, &vm->bios_strings);
    set_snapshot_info(snap, vm);
    if (!gw_vm_add_halted(snap, result_out, err))
        return false;
    snap = xg_store_get(&xapi_class_vm, result_out->s);
    const char *k = "default_template";
    xg_store_map_remove(snap, GW_VMF(OTHER_CONFIG), &k);
    if (!gw_vm_snapshot_disks(vm, snap, ignore_vdis, err))
        return false;   /* snap discarded with what was made for it */
    /* snapshots keep the MACs: reverting gives the guest its NICs back */
    if (!gw_vif_copy_all(vm, snap, true, err))
        return false;
    gw_set_ref(vm, GW_VMF(PARENT), snap->obj.ref.s);
    gw_vm_update_allowed_operations(snap);
    gw_vm_update_allowed_operations(vm);
    return true;
}

/* Removed from XAPI (spec §4.2); XO never calls it. */
bool handle_vm_snapshot_with_quiesce(xg_call *c, xapi_vm *vm,
                                     const char *new_name, xg_ref *result_out,
                                     xg_err *err)
{
    (void)c;
    (void)vm;
    (void)new_name;
    (void)result_out;
    return xapi_err_message_removed(err);
}

static void revert_fields(xapi_vm *vm, const xapi_vm *snap)
{
    for (uint32_t i = 0; i < xapi_class_vm.nfields; i++) {
        const xg_field_desc *f = &xapi_class_vm.fields[i];
        if ((f->qual == XG_Q_RW || f->qual == XG_Q_RO_CONSTRUCTOR) &&
            !(f->flags & (XG_F_INTERNAL | XG_F_MAINTAINED)) && !kept_on_revert(i))
            xg_store_set(vm, f, (const char *)snap + f->offset);
    }
    gw_set_bool(vm, GW_VMF(HA_ALWAYS_RUN), false);
}

/* The live VM must be halted: its disks are swapped under it. XAPI's table
 * allows every state but then fails on attached VBDs; refusing up front is
 * the clear form of that (spec §4.3). */
bool handle_vm_revert(xg_call *c, xapi_vm *snap, xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(snap, XAPI_VM_OPERATIONS_REVERT, err))
        return false;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, snap->snapshot_of.s);
    if (!vm)    /* XAPI would rebuild it from snapshot_metadata */
        return xapi_err_vm_revert_failed(err, snap->obj.ref.s,
                                         snap->snapshot_of.s);
    if (vm->power_state != XAPI_VM_POWER_STATE_HALTED)
        return gw_vm_bad_power_state(vm, "halted", err);
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_REVERTING, err))
        return false;
    if (!gw_vm_revert_disks(snap, vm, err))
        return false;
    gw_vif_destroy_all(vm);
    if (!gw_vif_copy_all(snap, vm, true, err))
        return false;
    revert_fields(vm, snap);
    gw_set_ref(vm, GW_VMF(PARENT), snap->obj.ref.s);
    gw_vm_update_allowed_operations(vm);
    gw_vm_update_allowed_operations(snap);
    return true;
}
