/* vbd.c: VBD messages: create (XAPI's checks in XAPI's order and its
 * defaults; never plugs), destroy, hot plug/unplug and CD insert/eject (the
 * driver call on a worker, see hotplug_start), set_mode, assert_attachable; and the driver's view of a VBD (struct
 * xg_disk). World lock held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/log.h"
#include "bg.h"
#include "storage.h"
#include "vm_internal.h"
#include "vm_spec.h"

static bool vm_live(const xapi_vm *vm)
{
    return vm->power_state == XAPI_VM_POWER_STATE_RUNNING ||
           vm->power_state == XAPI_VM_POWER_STATE_PAUSED;
}

/* ---- the driver's view ----------------------------------------------------- */

/* vbd as the driver sees it, holding medium (NULL: empty). */
static bool disk_with(const xapi_vm *vm, const xapi_vbd *vbd, const xapi_vdi *medium,
                      xg_arena *a, struct xg_disk *out, xg_err *err)
{
    int pos = gw_vbd_position(vbd->userdevice);
    if (pos < 0)
        return xapi_err_invalid_device(err, vbd->userdevice);
    bool hvm = gw_vm_dom_type(vm) == XG_DOM_HVM;
    char vdev[16];
    if (hvm && pos < 4)
        snprintf(vdev, sizeof vdev, "hd%c", 'a' + pos);
    else
        gw_vbd_device_name(pos, vdev, sizeof vdev);
    memset(out, 0, sizeof *out);
    out->vdev = xg_arena_strdup(a, vdev);
    out->cdrom = vbd->type == XAPI_VBD_TYPE_CD;
    out->readwrite = vbd->mode == XAPI_VBD_MODE_RW && !out->cdrom;
    out->format = XG_DISK_EMPTY;
    if (!out->vdev)
        return xg_err_internal(err, "out of memory");
    if (!medium)
        return true;
    xapi_sr *sr = xg_store_get(&xapi_class_sr, medium->sr.s);
    if (!sr)
        return xg_err_internal(err, "VBD %s has no VDI", vbd->uuid);
    char path[600];
    if (!gw_vdi_path(medium, path, sizeof path, err))
        return false;
    out->path = xg_arena_strdup(a, path);
    out->format = gw_sr_kind(sr) == GW_SR_ISO ? XG_DISK_RAW : XG_DISK_QCOW2;
    if (!out->path)
        return xg_err_internal(err, "out of memory");
    return true;
}

bool gw_vbd_disk(const xapi_vm *vm, const xapi_vbd *vbd, xg_arena *a,
                 struct xg_disk *out, xg_err *err)
{
    xapi_vdi *vdi = vbd->empty ? NULL : xg_store_get(&xapi_class_vdi, vbd->vdi.s);
    if (!vbd->empty && !vdi)
        return xg_err_internal(err, "VBD %s has no VDI", vbd->uuid);
    return disk_with(vm, vbd, vdi, a, out, err);
}

bool gw_vm_disks(const xapi_vm *vm, xg_arena *a, const struct xg_disk **out,
                 uint32_t *n_out, xg_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (vm->vbds.n == 0)
        return true;
    struct xg_disk *d = xg_arena_alloc(a, vm->vbds.n * sizeof *d);
    if (!d)
        return xg_err_internal(err, "out of memory");
    const xg_ref *b = vm->vbds.items;
    uint32_t n = 0;
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!vbd || !gw_vbd_boots_with(vm, vbd))
            continue;
        if (!vbd->empty) {
            xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vbd->vdi.s);
            xapi_sr *sr = vdi ? xg_store_get(&xapi_class_sr, vdi->sr.s) : NULL;
            if (!sr || !gw_sr_check_plugged(sr, err))
                return false;
        }
        if (!gw_vbd_disk(vm, vbd, a, &d[n], err))
            return false;
        n++;
    }
    *out = d;
    *n_out = n;
    return true;
}

/* ---- create / destroy ---------------------------------------------------------- */

static bool vdi_type_attachable(int t)
{
    switch (t) {
    case XAPI_VDI_TYPE_SYSTEM: case XAPI_VDI_TYPE_USER:
    case XAPI_VDI_TYPE_EPHEMERAL: case XAPI_VDI_TYPE_SUSPEND:
    case XAPI_VDI_TYPE_CRASHDUMP: case XAPI_VDI_TYPE_METADATA:
    case XAPI_VDI_TYPE_RRD: case XAPI_VDI_TYPE_PVS_CACHE:
        return true;
    default:
        return false;
    }
}

/* Position taken by another VBD of vm, through device or userdevice. */
static bool position_used(const xapi_vm *vm, int pos)
{
    const xg_ref *b = vm->vbds.items;
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *o = xg_store_get(&xapi_class_vbd, b[i].s);
        if (o && (gw_vbd_position(o->userdevice) == pos ||
                  (o->device[0] && gw_vbd_position(o->device) == pos)))
            return true;
    }
    return false;
}

bool handle_vbd_create(xg_call *c, const xapi_vbd *args, xg_ref *result_out,
                       xg_err *err)
{
    (void)c;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, args->vm.s);
    if (!vm)
        return xapi_err_handle_invalid(err, "VM", args->vm.s);
    xapi_vdi *vdi = NULL;
    if (!args->empty) {
        vdi = xg_store_get(&xapi_class_vdi, args->vdi.s);
        if (!vdi)
            return xapi_err_handle_invalid(err, "VDI", args->vdi.s);
        if (!vdi_type_attachable(vdi->type))
            return xapi_err_vdi_incompatible_type(
                err, vdi->obj.ref.s,
                gw_enum_name(GW_VDIF(TYPE), vdi->type));
    }
    bool cd = args->type == XAPI_VBD_TYPE_CD;
    if (cd && args->mode != XAPI_VBD_MODE_RO)
        return xapi_err_vbd_cds_must_be_readonly(err);
    if (!cd && args->empty)
        return xapi_err_vbd_not_removable_media(err, "in constructor");
    if (vdi && args->mode == XAPI_VBD_MODE_RW && vdi->read_only)
        return xapi_err_vdi_readonly(err, vdi->obj.ref.s);
    if (args->type == XAPI_VBD_TYPE_FLOPPY && gw_vm_dom_type(vm) != XG_DOM_HVM)
        return xapi_err_not_implemented(err, "Floppy drives are only for HVM guests");
    if (vm->vbds.n >= GW_VBD_MAX_POSITIONS)
        return xapi_err_invalid_device(err, args->userdevice);
    char userdevice[16];
    int pos;
    if (strcmp(args->userdevice, "autodetect") == 0) {
        for (pos = 0; pos < GW_VBD_MAX_POSITIONS && position_used(vm, pos); pos++)
            ;
        if (pos == GW_VBD_MAX_POSITIONS)
            return xapi_err_invalid_device(err, "autodetect");
        snprintf(userdevice, sizeof userdevice, "%d", pos);
    } else {
        pos = gw_vbd_position(args->userdevice);
        if (pos < 0)
            return xapi_err_invalid_device(err, args->userdevice);
        snprintf(userdevice, sizeof userdevice, "%s", args->userdevice);
    }
    if (position_used(vm, pos))
        return xapi_err_device_already_exists(err, userdevice);
    bool suspended = vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED;
    xapi_vbd *vbd = xg_obj_new(&xapi_class_vbd);
    static const uint32_t from_args[] = {
        XAPI_VBD_F_VM, XAPI_VBD_F_BOOTABLE, XAPI_VBD_F_MODE, XAPI_VBD_F_TYPE,
        XAPI_VBD_F_UNPLUGGABLE, XAPI_VBD_F_EMPTY, XAPI_VBD_F_OTHER_CONFIG,
        XAPI_VBD_F_QOS_ALGORITHM_TYPE, XAPI_VBD_F_QOS_ALGORITHM_PARAMS,
    };
    for (size_t i = 0; i < sizeof from_args / sizeof from_args[0]; i++) {
        const xg_field_desc *f = &xapi_class_vbd.fields[from_args[i]];
        gw_init_field(vbd, from_args[i], (const char *)args + f->offset);
    }
    gw_init_ref(vbd, XAPI_VBD_F_VDI, vdi ? vdi->obj.ref.s : XG_REF_NULL);
    gw_init_str(vbd, XAPI_VBD_F_USERDEVICE, userdevice);
    if (suspended) {
        gw_init_str(vbd, XAPI_VBD_F_DEVICE, args->device);
        gw_init_field(vbd, XAPI_VBD_F_CURRENTLY_ATTACHED, &args->currently_attached);
    }
    if (!xg_store_add(vbd, NULL, err)) {
        xg_obj_free(vbd);
        return false;
    }
    gw_vbd_update_allowed_operations(vbd);
    if (vdi)
        gw_vdi_update_allowed_operations(vdi);
    gw_vm_update_allowed_operations(vm);
    *result_out = vbd->obj.ref;
    return true;
}

bool handle_vbd_destroy(xg_call *c, xapi_vbd *self, xg_err *err)
{
    (void)c;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, self->vm.s);
    if (self->currently_attached || self->current_operations.n) {
        char msg[200];
        snprintf(msg, sizeof msg, "VBD '%s' still attached to '%s'", self->uuid,
                 vm ? vm->uuid : "");
        return xapi_err_operation_not_allowed(err, msg);
    }
    xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, self->vdi.s);
    xg_store_remove(self);
    if (vdi)
        gw_vdi_update_allowed_operations(vdi);
    if (vm)
        gw_vm_update_allowed_operations(vm);
    return true;
}

/* ---- hot-plug and media changes ---------------------------------------------- */

static bool need_domain(const xapi_vm *vm, xg_err *err)
{
    if (vm->domid < 0)
        return gw_vm_bad_power_state(vm, "running", err);
    return true;
}

/* A device change in flight: the driver call (hotplug scripts, the guest's
 * frontend, the device model) runs on a worker without the world lock; the
 * VBD is marked busy meanwhile (current_operations) and the record changes
 * afterwards, when the call finishes. */
struct hotplug {
    xg_call *c;
    char vbd[XG_REF_LEN], key[XG_REF_LEN];
    char medium[XG_REF_LEN];    /* insert: the VDI; eject: "" */
    int op;
    uint32_t domid;
    bool force, hvm;
    struct xg_disk disk;        /* strings in c->arena (alive until finish) */
    bool ok;
    xg_err err;
};

/* PV: a CD is a removable blkfront disk: the old one goes, the new one comes.
 * HVM: the emulated drive stays and changes its medium. */
static bool change_medium(struct hotplug *h)
{
    if (h->hvm)
        return gw_drv->dom_cdrom_change(gw_d, h->domid, &h->disk, &h->err);
    xg_err ignore = XG_ERR_INIT;
    gw_drv->dom_disk_remove(gw_d, h->domid, h->disk.vdev, true, &ignore);
    if (h->disk.format == XG_DISK_EMPTY)
        return true;
    return gw_drv->dom_disk_add(gw_d, h->domid, &h->disk, &h->err);
}

static void hotplug_work(void *arg)
{
    struct hotplug *h = arg;
    switch (h->op) {
    case XAPI_VBD_OPERATIONS_PLUG:
        h->ok = gw_drv->dom_disk_add(gw_d, h->domid, &h->disk, &h->err);
        break;
    case XAPI_VBD_OPERATIONS_INSERT: case XAPI_VBD_OPERATIONS_EJECT:
        h->ok = change_medium(h);
        break;
    default:
        h->ok = gw_drv->dom_disk_remove(gw_d, h->domid, h->disk.vdev, h->force, &h->err);
    }
}

static void vdi_changed(const char *ref)
{
    xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, ref);
    if (vdi)
        gw_vdi_update_allowed_operations(vdi);
}

/* The record follows a driver call that worked. */
static void commit(struct hotplug *h, xapi_vbd *vbd)
{
    char old[XG_REF_LEN];
    snprintf(old, sizeof old, "%s", vbd->vdi.s);
    switch (h->op) {
    case XAPI_VBD_OPERATIONS_PLUG: {
        char dev[16];
        gw_vbd_device_name(gw_vbd_position(vbd->userdevice), dev, sizeof dev);
        xapi_vbd_set_device(vbd, dev);
        xapi_vbd_set_currently_attached(vbd, true);
        break;
    }
    case XAPI_VBD_OPERATIONS_INSERT: case XAPI_VBD_OPERATIONS_EJECT:
        xapi_vbd_set_vdi(vbd, h->medium[0] ? h->medium : XG_REF_NULL);
        xapi_vbd_set_empty(vbd, !h->medium[0]);
        vdi_changed(old);
        break;
    default:
        xapi_vbd_set_currently_attached(vbd, false);
    }
}

static void hotplug_done(void *arg)
{
    struct hotplug *h = arg;
    xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, h->vbd);
    xg_err err = XG_ERR_INIT;
    bool ok = h->ok;
    if (vbd) {
        const char *k = h->key;
        xg_store_map_remove(vbd, GW_VBDF(CURRENT_OPERATIONS), &k);
    }
    bool unplug = h->op == XAPI_VBD_OPERATIONS_UNPLUG ||
                  h->op == XAPI_VBD_OPERATIONS_UNPLUG_FORCE;
    if (!ok && unplug)
        xapi_err_device_detach_rejected(&err, "VBD", h->vbd, h->err.param[0]);
    else if (!ok)
        err = h->err;
    if (ok && vbd)
        commit(h, vbd);
    if (vbd) {
        gw_vbd_update_allowed_operations(vbd);
        vdi_changed(vbd->vdi.s);
    }
    xg_call_finish(h->c, ok, &err, NULL);
    free(h);
}

/* Starts op on vbd of the running vm; medium: the VDI an insert puts in
 * (NULL otherwise). */
static bool hotplug_start(xg_call *c, xapi_vbd *vbd, xapi_vm *vm, int op,
                          bool force, const xapi_vdi *medium, xg_err *err)
{
    struct hotplug *h = calloc(1, sizeof *h);
    if (!h)
        return xg_err_internal(err, "out of memory");
    bool media = op == XAPI_VBD_OPERATIONS_INSERT || op == XAPI_VBD_OPERATIONS_EJECT;
    bool ok = media ? disk_with(vm, vbd, medium, c->arena, &h->disk, err)
                    : gw_vbd_disk(vm, vbd, c->arena, &h->disk, err);
    if (!ok) {
        free(h);
        return false;
    }
    h->c = c;
    h->op = op;
    h->force = force;
    h->hvm = gw_vm_dom_type(vm) == XG_DOM_HVM;
    h->domid = (uint32_t)vm->domid;
    snprintf(h->vbd, sizeof h->vbd, "%s", vbd->obj.ref.s);
    snprintf(h->medium, sizeof h->medium, "%s", medium ? medium->obj.ref.s : "");
    gw_op_key(c, h->key);
    const char *k = h->key;
    if (!xg_store_map_add(vbd, GW_VBDF(CURRENT_OPERATIONS), &k, &op, err) ||
        !gw_bg_start(hotplug_work, hotplug_done, h, err)) {
        xg_store_map_remove(vbd, GW_VBDF(CURRENT_OPERATIONS), &k);
        free(h);
        return false;
    }
    xg_call_defer(c);
    gw_vbd_update_allowed_operations(vbd);
    if (medium)
        gw_vdi_update_allowed_operations((xapi_vdi *)medium);
    return true;
}

bool handle_vbd_plug(xg_call *c, xapi_vbd *self, xg_err *err)
{
    xapi_vm *vm = xg_store_get(&xapi_class_vm, self->vm.s);
    if (!gw_vbd_check_op(self, XAPI_VBD_OPERATIONS_PLUG, err) || !need_domain(vm, err))
        return false;
    if (gw_vm_dom_type(vm) == XG_DOM_HVM && self->type != XAPI_VBD_TYPE_CD &&
        self->mode == XAPI_VBD_MODE_RO)
        return xapi_err_disk_vbd_must_be_readwrite_for_hvm(err, self->obj.ref.s);
    if (!self->empty) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, self->vdi.s);
        xapi_sr *sr = vdi ? xg_store_get(&xapi_class_sr, vdi->sr.s) : NULL;
        if (!sr || !gw_sr_check_plugged(sr, err))
            return false;
    }
    if (!gw_drv->dom_disk_add)
        return xapi_err_operation_not_allowed(err, "this driver cannot hot-plug disks");
    return hotplug_start(c, self, vm, XAPI_VBD_OPERATIONS_PLUG, false, NULL, err);
}

static bool unplug(xg_call *c, xapi_vbd *self, bool force, xg_err *err)
{
    xapi_vm *vm = xg_store_get(&xapi_class_vm, self->vm.s);
    int op = force ? XAPI_VBD_OPERATIONS_UNPLUG_FORCE : XAPI_VBD_OPERATIONS_UNPLUG;
    if (!gw_vbd_check_op(self, op, err) || !need_domain(vm, err))
        return false;
    if (!gw_drv->dom_disk_remove)
        return xapi_err_operation_not_allowed(err, "this driver cannot hot-plug disks");
    return hotplug_start(c, self, vm, op, force, NULL, err);
}

bool handle_vbd_unplug(xg_call *c, xapi_vbd *self, xg_err *err)
{
    return unplug(c, self, false, err);
}

bool handle_vbd_unplug_force(xg_call *c, xapi_vbd *self, xg_err *err)
{
    return unplug(c, self, true, err);
}

/* Insert or eject: the record alone when no running domain has the drive;
 * otherwise the driver changes the medium on a worker first. */
static bool media_change(xg_call *c, xapi_vm *vm, xapi_vbd *vbd, int op,
                         xapi_vdi *medium, xg_err *err)
{
    if (vm_live(vm) && vbd->currently_attached && vm->domid >= 0) {
        bool hvm = gw_vm_dom_type(vm) == XG_DOM_HVM;
        if (hvm ? !gw_drv->dom_cdrom_change
                : !gw_drv->dom_disk_remove || !gw_drv->dom_disk_add)
            return xapi_err_operation_not_allowed(err, "this driver cannot change media");
        return hotplug_start(c, vbd, vm, op, false, medium, err);
    }
    char old[XG_REF_LEN];
    snprintf(old, sizeof old, "%s", vbd->vdi.s);
    xapi_vbd_set_vdi(vbd, medium ? medium->obj.ref.s : XG_REF_NULL);
    xapi_vbd_set_empty(vbd, medium == NULL);
    gw_vbd_update_allowed_operations(vbd);
    vdi_changed(old);
    if (medium)
        gw_vdi_update_allowed_operations(medium);
    return true;
}

bool handle_vbd_insert(xg_call *c, xapi_vbd *vbd, xapi_vdi *vdi, xg_err *err)
{
    xapi_vm *vm = xg_store_get(&xapi_class_vm, vbd->vm.s);
    if (vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED)
        return gw_vm_bad_power_state(vm, "halted, running", err);
    if (!gw_vbd_check_op(vbd, XAPI_VBD_OPERATIONS_INSERT, err))
        return false;
    if (!vdi->managed)
        return xapi_err_vdi_not_managed(err, vdi->obj.ref.s);
    return media_change(c, vm, vbd, XAPI_VBD_OPERATIONS_INSERT, vdi, err);
}

bool handle_vbd_eject(xg_call *c, xapi_vbd *vbd, xg_err *err)
{
    xapi_vm *vm = xg_store_get(&xapi_class_vm, vbd->vm.s);
    if (vbd->type != XAPI_VBD_TYPE_CD)
        return xapi_err_vbd_not_removable_media(err, vbd->obj.ref.s);
    if (vbd->empty)
        return xapi_err_vbd_is_empty(err, vbd->obj.ref.s);
    if (vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED)
        return gw_vm_bad_power_state(vm, "halted, running", err);
    if (!gw_vbd_check_op(vbd, XAPI_VBD_OPERATIONS_EJECT, err))
        return false;
    return media_change(c, vm, vbd, XAPI_VBD_OPERATIONS_EJECT, NULL, err);
}

/* ---- the rest ------------------------------------------------------------------------ */

bool handle_vbd_set_mode(xg_call *c, xapi_vbd *self, int value, xg_err *err)
{
    (void)c;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, self->vm.s);
    if (vm->power_state != XAPI_VM_POWER_STATE_HALTED)
        return gw_vm_bad_power_state(vm, "halted", err);
    xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, self->vdi.s);
    if (value == XAPI_VBD_MODE_RW && vdi && vdi->read_only)
        return xapi_err_vdi_readonly(err, vdi->obj.ref.s);
    if (value == XAPI_VBD_MODE_RW && self->type == XAPI_VBD_TYPE_CD)
        return xapi_err_vbd_cds_must_be_readonly(err);
    xapi_vbd_set_mode(self, value);
    gw_vbd_update_allowed_operations(self);
    return true;
}

bool handle_vbd_assert_attachable(xg_call *c, xapi_vbd *self, xg_err *err)
{
    (void)c;
    return gw_vbd_check_op(self, XAPI_VBD_OPERATIONS_ATTACH, err);
}
