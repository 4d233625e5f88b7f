/* vbd_util.c: VBD positions and names, VBD allowed operations with XAPI's
 * rules in XAPI's order (Xapi_vbd_helpers), and the attached state of a
 * VM's VBDs following its domain. World lock held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage.h"
#include "vm_internal.h"
#include "vm_spec.h"

/* ---- positions ---------------------------------------------------------------- */

/* Base-26 letters as Linux names disks: a..z, aa..zz, … */
static int letters_to_n(const char *s)
{
    if (!*s)
        return -1;
    int n = 0;
    for (const char *p = s; *p; p++) {
        if (*p < 'a' || *p > 'z' || n > 1000)
            return -1;
        n = n * 26 + (*p - 'a' + 1);
    }
    return n - 1;
}

int gw_vbd_position(const char *u)
{
    size_t len = strlen(u);
    if (len == 0 || len > 16)
        return -1;
    if (u[0] >= '0' && u[0] <= '9') {
        if (len > 1 && u[0] == '0')
            return -1;
        char *end;
        long n = strtol(u, &end, 10);
        return *end || n < 0 || n >= GW_VBD_MAX_POSITIONS ? -1 : (int)n;
    }
    int n = -1;
    if (strncmp(u, "xvd", 3) == 0)
        n = letters_to_n(u + 3);
    else if (strncmp(u, "hd", 2) == 0 || strncmp(u, "sd", 2) == 0)
        n = letters_to_n(u + 2);
    return n < 0 || n >= GW_VBD_MAX_POSITIONS ? -1 : n;
}

void gw_vbd_device_name(int n, char *buf, size_t len)
{
    char letters[8];
    int i = (int)sizeof letters - 1;
    letters[i] = 0;
    n++;
    while (n > 0 && i > 0) {
        n--;
        letters[--i] = (char)('a' + n % 26);
        n /= 26;
    }
    snprintf(buf, len, "xvd%s", letters + i);
}

/* ---- allowed operations --------------------------------------------------------- */

static const char *op_name(int op)
{
    const xg_enum_desc *e = GW_VBDF(ALLOWED_OPERATIONS)->type->elem->enm;
    return op >= 0 && op < e->n ? e->values[op] : "";
}

static bool vm_has_op(const xapi_vm *vm, int op)
{
    const int *v = vm->current_operations.vals;
    for (uint32_t i = 0; i < vm->current_operations.n; i++)
        if (v[i] == op)
            return true;
    return false;
}

static bool is_hotplug_op(int op)
{
    return op == XAPI_VBD_OPERATIONS_PLUG || op == XAPI_VBD_OPERATIONS_UNPLUG ||
           op == XAPI_VBD_OPERATIONS_UNPLUG_FORCE;
}

/* Another VBD of vdi in use in a way that forbids this one (sharing). */
static bool sharing_conflict(const xapi_vbd *vbd, const xapi_vdi *vdi)
{
    if (vdi->sharable)
        return false;
    const xg_ref *b = vdi->vbds.items;
    for (uint32_t i = 0; i < vdi->vbds.n; i++) {
        xapi_vbd *o = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!o || o == vbd || !o->currently_attached)
            continue;
        if (o->mode == XAPI_VBD_MODE_RW || vbd->mode == XAPI_VBD_MODE_RW)
            return true;
    }
    return false;
}

bool gw_vbd_check_op(xapi_vbd *vbd, int op, xg_err *err)
{
    const char *ref = vbd->obj.ref.s;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, vbd->vm.s);
    if (!vm)
        return xg_err_internal(err, "VBD without VM");
    const xg_map *cur = &vbd->current_operations;
    if (cur->n) {
        const int *cv = cur->vals;
        char *const *ck = cur->keys;
        return xapi_err_other_operation_in_progress(err, "VBD", ref,
                                                    op_name(cv[0]), ck[0]);
    }
    if (op == XAPI_VBD_OPERATIONS_PAUSE || op == XAPI_VBD_OPERATIONS_UNPAUSE) {
        xapi_sr *sr = NULL;
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vbd->vdi.s);
        if (vdi)
            sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
        return xapi_err_sr_operation_not_supported(err, sr ? sr->obj.ref.s : "");
    }
    bool cd = vbd->type == XAPI_VBD_TYPE_CD;
    if (!vbd->unpluggable && (op == XAPI_VBD_OPERATIONS_UNPLUG ||
                              op == XAPI_VBD_OPERATIONS_UNPLUG_FORCE))
        return xapi_err_vbd_not_unpluggable(err, ref);
    bool media = op == XAPI_VBD_OPERATIONS_INSERT || op == XAPI_VBD_OPERATIONS_EJECT;
    if (!cd && media)
        return xapi_err_vbd_not_removable_media(err, ref);
    if (vbd->empty && op == XAPI_VBD_OPERATIONS_EJECT)
        return xapi_err_vbd_is_empty(err, ref);
    if (!vbd->empty && op == XAPI_VBD_OPERATIONS_INSERT)
        return xapi_err_vbd_not_empty(err, ref);
    bool running = vm->power_state == XAPI_VM_POWER_STATE_RUNNING;
    if (running) {
        if (vbd->currently_attached && op == XAPI_VBD_OPERATIONS_PLUG)
            return xapi_err_device_already_attached(err, ref);
        if (!vbd->currently_attached && (op == XAPI_VBD_OPERATIONS_UNPLUG ||
                                         op == XAPI_VBD_OPERATIONS_UNPLUG_FORCE))
            return xapi_err_device_already_detached(err, ref);
    } else if (is_hotplug_op(op)) {
        return gw_vm_bad_power_state(vm, "running", err);
    }
    if ((op == XAPI_VBD_OPERATIONS_PLUG || op == XAPI_VBD_OPERATIONS_UNPLUG) &&
        (vm_has_op(vm, XAPI_VM_OPERATIONS_CLEAN_SHUTDOWN) ||
         vm_has_op(vm, XAPI_VM_OPERATIONS_HARD_SHUTDOWN) ||
         vm_has_op(vm, XAPI_VM_OPERATIONS_SUSPEND) ||
         vm_has_op(vm, XAPI_VM_OPERATIONS_PAUSE))) {
        char msg[128];
        snprintf(msg, sizeof msg, "Current operation on VM:%s is busy", vm->obj.ref.s);
        return xapi_err_operation_not_allowed(err, msg);
    }
    if (running && gw_vm_dom_type(vm) == XG_DOM_HVM && is_hotplug_op(op)) {
        if (cd)
            return xapi_err_operation_not_allowed(err,
                "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected");
        xapi_vm_guest_metrics *gm =
            xg_store_get(&xapi_class_vm_guest_metrics, vm->guest_metrics.s);
        if (!gm || !gm->pv_drivers_detected)
            return xapi_err_vm_missing_pv_drivers(err, vm->obj.ref.s);
    }
    if (cd && media && vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED)
        return gw_vm_bad_power_state(vm, "halted, running", err);
    if (!vbd->empty) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vbd->vdi.s);
        if (!vdi)
            return xg_err_internal(err, "VBD with a vanished VDI");
        if (!vdi->managed)
            return xapi_err_vdi_not_managed(err, ref);
        bool attaching = op == XAPI_VBD_OPERATIONS_ATTACH ||
                         op == XAPI_VBD_OPERATIONS_PLUG ||
                         op == XAPI_VBD_OPERATIONS_INSERT;
        const int *vv = vdi->current_operations.vals;
        char *const *vk = vdi->current_operations.keys;
        for (uint32_t i = 0; attaching && i < vdi->current_operations.n; i++)
            if (vv[i] != XAPI_VDI_OPERATIONS_COPY &&
                vv[i] != XAPI_VDI_OPERATIONS_MIRROR) {
                const xg_enum_desc *e = GW_VDIF(ALLOWED_OPERATIONS)->type->elem->enm;
                return xapi_err_other_operation_in_progress(
                    err, "VDI", vdi->obj.ref.s, e->values[vv[i]], vk[i]);
            }
        if (attaching && !vbd->currently_attached && sharing_conflict(vbd, vdi))
            return xapi_err_vdi_in_use(err, vdi->obj.ref.s, op_name(op));
        if (vbd->mode == XAPI_VBD_MODE_RW && vdi->read_only)
            return xapi_err_vdi_readonly(err, vdi->obj.ref.s);
    }
    return true;
}

void gw_vbd_update_allowed_operations(xapi_vbd *vbd)
{
    int ops[16];
    uint32_t n = 0;
    const xg_enum_desc *e = GW_VBDF(ALLOWED_OPERATIONS)->type->elem->enm;
    for (int op = 0; op < e->n && n < 16; op++) {
        xg_err err = XG_ERR_INIT;
        if (gw_vbd_check_op(vbd, op, &err))
            ops[n++] = op;
    }
    xg_set s = {ops, n, n};
    xapi_vbd_set_allowed_operations(vbd, &s);
}

void gw_vm_vbds_changed(xapi_vm *vm)
{
    const xg_ref *b = vm->vbds.items;
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (vbd)
            gw_vbd_update_allowed_operations(vbd);
    }
}

/* VDIs' allowed operations depend on their VBDs' attachment. */
static void vdi_of_changed(xapi_vbd *vbd)
{
    xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vbd->vdi.s);
    if (vdi)
        gw_vdi_update_allowed_operations(vdi);
}

/* Whether the domain gets this VBD at boot: an empty CD only where a
 * device model emulates the drive (HVM), as XAPI skips them on PV. */
bool gw_vbd_boots_with(const xapi_vm *vm, const xapi_vbd *vbd)
{
    if (gw_vbd_position(vbd->userdevice) < 0)
        return false;
    return !vbd->empty || gw_vm_dom_type(vm) == XG_DOM_HVM;
}

void gw_vm_vbds_booted(xapi_vm *vm)
{
    const xg_ref *b = vm->vbds.items;
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!vbd || !gw_vbd_boots_with(vm, vbd))
            continue;
        char dev[16];
        gw_vbd_device_name(gw_vbd_position(vbd->userdevice), dev, sizeof dev);
        if (strcmp(vbd->device, dev) != 0)
            xapi_vbd_set_device(vbd, dev);
        if (!vbd->currently_attached)
            xapi_vbd_set_currently_attached(vbd, true);
        vdi_of_changed(vbd);
    }
    gw_vm_vbds_changed(vm);
}

void gw_vm_vbds_stopped(xapi_vm *vm)
{
    const xg_ref *b = vm->vbds.items;
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!vbd)
            continue;
        if (vbd->currently_attached)
            xapi_vbd_set_currently_attached(vbd, false);
        vdi_of_changed(vbd);
    }
    gw_vm_vbds_changed(vm);
}
