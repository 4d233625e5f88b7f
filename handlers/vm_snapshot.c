/* vm_snapshot.c: VM.snapshot and VM.revert, as XAPI's Xapi_vm_clone.clone
 * (Disk_op_snapshot) and Xapi_vm_snapshot.revert do them (spec
 * storage-network-console.md §4.2-§4.3): a snapshot is a halted template
 * VM whose disks are copy-on-write snapshots of the live ones; reverting
 * gives the live VM clones of those disks and the snapshot's configuration.
 * The snapshot tree is kept in VM.parent: the live VM points at its latest
 * snapshot, which points at the one before. World lock held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../server/log.h"
#include "bg.h"
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

static void set_snapshot_info(xapi_vm *snap, int power_state)
{
    const char *keys[] = {"power-state-at-snapshot", "disk-snapshot-type"};
    const char *vals[] = {gw_enum_name(GW_VMF(POWER_STATE), power_state),
                          "crash_consistent"};
    xg_map m = {(void *)keys, (void *)vals, 2, 2};
    gw_init_field(snap, XAPI_VM_F_SNAPSHOT_INFO, &m);
}

/* The snapshot record, its disks and VIFs (Xapi_vm_clone.clone); the
 * source's state at the time is power_state. On failure nothing is left. */
static bool make_snapshot(xapi_vm *vm, const char *new_name, const xg_set *ignore_vdis,
                          int power_state, xg_ref *result_out, xg_err *err)
{
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
    set_snapshot_info(snap, power_state);
    if (!gw_vm_add_halted(snap, result_out, err))
        return false;
    snap = xg_store_get(&xapi_class_vm, result_out->s);
    const char *k = "default_template";
    xg_store_map_remove(snap, GW_VMF(OTHER_CONFIG), &k);
    if (!gw_vm_snapshot_disks(vm, snap, ignore_vdis, err))
        return false;   /* snap discarded with what was made for it */
    /* snapshots keep the MACs: reverting gives the guest its NICs back */
    if (!gw_vif_copy_all(vm, snap, true, err)) {
        gw_vm_discard_with_disks(snap);
        return false;
    }
    gw_set_ref(vm, GW_VMF(PARENT), snap->obj.ref.s);
    gw_vm_update_allowed_operations(snap);
    gw_vm_update_allowed_operations(vm);
    return true;
}

/* A disk of vm (not in ignore) that the driver cannot snapshot while the
 * guest runs (gw_vdi_cow_child's rule: a running qemu writes through its
 * open descriptor). */
static bool disks_need_quiet(const xapi_vm *vm, const xg_set *ignore)
{
    const xg_ref *b = vm->vbds.items;
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        xapi_vdi *vdi = vbd && vbd->type != XAPI_VBD_TYPE_CD && !vbd->empty ?
            xg_store_get(&xapi_class_vdi, vbd->vdi.s) : NULL;
        if (!vdi || !gw_vdi_snapshot_needs_quiet(vdi))
            continue;
        bool skipped = false;
        const xg_ref *r = ignore ? ignore->items : NULL;
        for (uint32_t k = 0; ignore && k < ignore->n && !skipped; k++)
            skipped = strcmp(r[k].s, vdi->obj.ref.s) == 0;
        if (!skipped)
            return true;
    }
    return false;
}

/* Disks of a running VM: on sim nothing writes them, they are snapshotted
 * as they are. Under libxl qemu holds them open and writes through its
 * descriptor, so the guest is suspended while they are snapshotted and
 * then resumed (spec §4.2 (b)): consistent, at the cost of a pause as long
 * as a save and restore. Pausing alone would not do: qemu's cache and
 * open descriptor would keep writing into what becomes the shared base. */
bool handle_vm_snapshot(xg_call *c, xapi_vm *vm, const char *new_name,
                        const xg_set *ignore_vdis, xg_ref *result_out,
                        xg_err *err)
{
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_SNAPSHOT, err))
        return false;
    if (vm->power_state == XAPI_VM_POWER_STATE_RUNNING && disks_need_quiet(vm, ignore_vdis))
        return gw_vm_snapshot_suspended(c, vm, new_name, ignore_vdis, err);
    return make_snapshot(vm, new_name, ignore_vdis, vm->power_state, result_out, err);
}

/* ---- VM.checkpoint: after the suspend (vm_lifecycle.c) ------------------------- */

/* A memory image moved between the suspend directory (raw, what the
 * driver reads and writes) and a VDI (qcow2), on a worker. */
struct mem_copy {
    xg_call *c;
    char vm[XG_REF_LEN], snap[XG_REF_LEN];
    char src[600], dst[600];
    bool to_vdi;
    xapi_vdi *vdi;              /* to_vdi: the suspend VDI, added when done */
    bool ok;
    char msg[256];
};

static void mem_copy_work(void *arg)
{
    struct mem_copy *m = arg;
    const char *argv[] = {"/usr/bin/qemu-img", "convert", "-f", m->to_vdi ? "raw" : "qcow2",
                          "-O", m->to_vdi ? "qcow2" : "raw", m->src, m->dst, NULL};
    m->ok = gw_run_tool(argv, GW_COPY_TIMEOUT_MS, m->msg, sizeof m->msg);
    if (!m->ok)
        unlink(m->dst);
}

static xapi_sr *suspend_sr(void)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, gw_pool()->suspend_image_sr.s);
    if (!sr || gw_sr_kind(sr) != GW_SR_FILE)
        sr = xg_store_get(&xapi_class_sr, gw_pool()->default_sr.s);
    return sr && gw_sr_kind(sr) == GW_SR_FILE ? sr : NULL;
}

/* The memory image is in the checkpoint: resume the guest. */
static void checkpoint_kept(void *arg)
{
    struct mem_copy *m = arg;
    xg_err err = XG_ERR_INIT;
    xapi_vm *snap = xg_store_get(&xapi_class_vm, m->snap);
    if (m->ok && snap && gw_vdi_add(m->vdi, &err)) {
        gw_vdi_refresh_size(m->vdi);
        gw_set_ref(snap, GW_VMF(SUSPEND_VDI), m->vdi->obj.ref.s);
        gw_set_enum(snap, GW_VMF(POWER_STATE), XAPI_VM_POWER_STATE_SUSPENDED);
        gw_vm_update_allowed_operations(snap);
    } else {
        if (m->ok) {
            unlink(m->dst);         /* gw_vdi_add freed the record */
        } else {
            XG_WARN("vm", "checkpoint %s: memory image not kept: %s", m->snap, m->msg);
            xg_obj_free(m->vdi);
        }
        if (snap)
            gw_vm_discard_with_disks(snap);
        xg_err_clear(&err);
        xapi_err_vm_checkpoint_suspend_failed(&err, m->vm);
        m->snap[0] = 0;
    }
    xapi_vm *vm = xg_store_get(&xapi_class_vm, m->vm);
    if (vm)
        gw_vm_checkpoint_resume(m->c, vm, m->snap, xg_err_is_set(&err) ? &err : NULL);
    else if (m->c) {
        xg_err_clear(&err);
        xapi_err_handle_invalid(&err, "VM", m->vm);
        xg_call_finish(m->c, false, &err, NULL);
    }
    free(m);
}

void gw_vm_checkpoint_suspended(xg_call *c, xapi_vm *vm, const char *name,
                                bool keep_memory, const xg_set *ignore)
{
    xg_err err = XG_ERR_INIT;
    xg_ref snap;
    if (!keep_memory) {
        /* a snapshot taken while the guest is suspended: no memory kept */
        bool ok = make_snapshot(vm, name, ignore, XAPI_VM_POWER_STATE_RUNNING, &snap, &err);
        gw_vm_checkpoint_resume(c, vm, ok ? snap.s : NULL, ok ? NULL : &err);
        return;
    }
    struct mem_copy *m = calloc(1, sizeof *m);
    xapi_sr *sr = suspend_sr();
    struct stat st;
    if (!m) {
        xg_err_internal(&err, "out of memory");
        goto fail;
    }
    if (!sr) {
        xapi_err_vm_checkpoint_suspend_failed(&err, vm->obj.ref.s);
        goto fail;
    }
    /* the guest is suspended: its disks are quiet and match the image */
    if (!make_snapshot(vm, name, NULL, XAPI_VM_POWER_STATE_RUNNING, &snap, &err))
        goto fail;
    m->c = c;
    m->to_vdi = true;
    snprintf(m->vm, sizeof m->vm, "%s", vm->obj.ref.s);
    snprintf(m->snap, sizeof m->snap, "%s", snap.s);
    m->vdi = gw_vdi_new(sr, NULL);
    int type = XAPI_VDI_TYPE_SUSPEND;
    char label[300];
    snprintf(label, sizeof label, "Suspend image of %s", name);
    gw_init_str(m->vdi, XAPI_VDI_F_NAME_LABEL, label);
    gw_init_field(m->vdi, XAPI_VDI_F_TYPE, &type);
    const char *k = "image-format", *v = "qcow2";
    xg_map sm = {(void *)&k, (void *)&v, 1, 1};
    gw_init_field(m->vdi, XAPI_VDI_F_SM_CONFIG, &sm);
    if (!gw_vm_suspend_path(vm, m->src, sizeof m->src, &err) ||
        !gw_vdi_path(m->vdi, m->dst, sizeof m->dst, &err) || stat(m->src, &st) != 0) {
        xg_obj_free(m->vdi);
        gw_vm_discard_with_disks(xg_store_get(&xapi_class_vm, snap.s));
        xg_err_clear(&err);
        xapi_err_vm_checkpoint_suspend_failed(&err, vm->obj.ref.s);
        goto fail;
    }
    int64_t size = ((int64_t)st.st_size + 511) / 512 * 512;
    gw_init_field(m->vdi, XAPI_VDI_F_VIRTUAL_SIZE, &size);
    if (gw_bg_start(mem_copy_work, checkpoint_kept, m, &err))
        return;
    xg_obj_free(m->vdi);
    gw_vm_discard_with_disks(xg_store_get(&xapi_class_vm, snap.s));
fail:
    free(m);
    gw_vm_checkpoint_resume(c, vm, NULL, &err);
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

/* A checkpoint's memory image is back in the suspend directory: the VM
 * is Suspended, as XAPI leaves it (the caller resumes it, as XO does). */
static void memory_reverted(void *arg)
{
    struct mem_copy *m = arg;
    xg_err err = XG_ERR_INIT;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, m->vm);
    if (m->ok && vm) {
        gw_set_enum(vm, GW_VMF(POWER_STATE), XAPI_VM_POWER_STATE_SUSPENDED);
        gw_vm_update_allowed_operations(vm);
    } else {
        XG_WARN("vm", "revert to %s: memory image: %s", m->snap, m->msg);
        xapi_err_vm_revert_failed(&err, m->snap, m->vm);
    }
    xg_call_finish(m->c, m->ok && vm, &err, NULL);
    free(m);
}

static bool revert_memory(xg_call *c, xapi_vm *snap, xapi_vm *vm, xapi_vdi *mem,
                          xg_err *err)
{
    struct mem_copy *m = calloc(1, sizeof *m);
    if (!m)
        return xg_err_internal(err, "out of memory");
    m->c = c;
    snprintf(m->vm, sizeof m->vm, "%s", vm->obj.ref.s);
    snprintf(m->snap, sizeof m->snap, "%s", snap->obj.ref.s);
    if (!gw_vdi_path(mem, m->src, sizeof m->src, err) ||
        !gw_vm_suspend_path(vm, m->dst, sizeof m->dst, err) ||
        !gw_bg_start(mem_copy_work, memory_reverted, m, err)) {
        free(m);
        return false;
    }
    xg_call_defer(c);
    return true;
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
    xapi_vdi *mem = xg_store_get(&xapi_class_vdi, snap->suspend_vdi.s);
    if (snap->power_state == XAPI_VM_POWER_STATE_SUSPENDED && mem)
        return revert_memory(c, snap, vm, mem, err);
    return true;
}
