/* vif.c: VIF.create / destroy / plug / unplug / unplug_force / move with XAPI's
 * rules (xapi_vif.ml, xapi_vif_helpers.ml), the VIFs' part of a VM's life
 * (NICs at start, currently_attached, copies on clone, removal with the VM)
 * and VIF allowed_operations.
 *
 * Hot-plug is a long driver operation: the handler registers the operation
 * in VIF.current_operations, defers the call and finishes it from the
 * driver's completion (world lock taken there), so no client waits on the
 * hotplug scripts. World lock held everywhere else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/hooks.h"
#include "../server/log.h"
#include "../server/world.h"
#include "net.h"
#include "vm_internal.h"
#include "vm_spec.h"

#define AREA "vif"

static xapi_vm *vm_of(const xapi_vif *v)
{
    return xg_store_get(&xapi_class_vm, v->vm.s);
}

static const char *op_name(int op)
{
    return gw_enum_name(GW_VIFF(ALLOWED_OPERATIONS), op);
}

/* ---- allowed operations (Xapi_vif_helpers.valid_operations) ------------ */

static bool vm_has_op(const xapi_vm *vm, int op, char *why, size_t len)
{
    const int *vals = vm->current_operations.vals;
    for (uint32_t i = 0; i < vm->current_operations.n; i++)
        if (vals[i] == op) {
            snprintf(why, len, "Current operation on VM:%s is %s", vm->obj.ref.s,
                     gw_enum_name(GW_VMF(ALLOWED_OPERATIONS), op));
            return true;
        }
    return false;
}

static bool check_op(xapi_vif *v, int op, xg_err *err)
{
    const char *ref = v->obj.ref.s;
    if (v->current_operations.n) {
        /* one operation at a time, so one entry: "{op}" "{task}" */
        int cur = ((const int *)v->current_operations.vals)[0];
        char ops[64], tasks[XG_REF_LEN + 2];
        snprintf(ops, sizeof ops, "{%s}", op_name(cur));
        snprintf(tasks, sizeof tasks, "{%s}", ((char **)v->current_operations.keys)[0]);
        return xapi_err_other_operation_in_progress(err, "VIF", ref, ops, tasks);
    }
    if (op == XAPI_VIF_OPERATIONS_ATTACH)
        return true;
    xapi_vm *vm = vm_of(v);
    if (!vm)
        return xg_err_internal(err, "VIF %s has no VM", v->uuid);
    if (vm->is_control_domain)
        return xapi_err_operation_not_allowed(err, "Control domain does not support hotplug");
    bool running = vm->power_state == XAPI_VM_POWER_STATE_RUNNING;
    if (running && v->currently_attached && op == XAPI_VIF_OPERATIONS_PLUG)
        return xapi_err_device_already_attached(err, ref);
    if (running && !v->currently_attached && op == XAPI_VIF_OPERATIONS_UNPLUG)
        return xapi_err_device_already_detached(err, ref);
    if (!running)
        return gw_vm_bad_power_state(vm, "running", err);
    static const int stopping[] = {XAPI_VM_OPERATIONS_CLEAN_SHUTDOWN,
                                   XAPI_VM_OPERATIONS_HARD_SHUTDOWN,
                                   XAPI_VM_OPERATIONS_SUSPEND, XAPI_VM_OPERATIONS_PAUSE};
    char why[160];
    for (size_t i = 0; i < sizeof stopping / sizeof stopping[0]; i++)
        if (vm_has_op(vm, stopping[i], why, sizeof why))
            return xapi_err_operation_not_allowed(err, why);
    /* HVM guests hot-plug only through PV drivers that claim it */
    if (gw_vm_dom_type(vm) == XG_DOM_HVM) {
        xapi_vm_guest_metrics *gm =
            xg_store_get(&xapi_class_vm_guest_metrics, vm->guest_metrics.s);
        int hp = gm ? gm->can_use_hotplug_vif : XAPI_TRISTATE_TYPE_UNSPECIFIED;
        if (hp == XAPI_TRISTATE_TYPE_NO)
            return xapi_err_operation_not_allowed(err, "VM states it does not support VIF hotplug.");
        if (hp != XAPI_TRISTATE_TYPE_YES && !(gm && gm->pv_drivers_detected))
            return xapi_err_vm_missing_pv_drivers(err, vm->obj.ref.s);
    }
    return true;
}

static void update_allowed(xapi_vif *v)
{
    int ops[XAPI_VIF_OPERATIONS__MAX];
    uint32_t n = 0;
    for (int op = 0; op < XAPI_VIF_OPERATIONS__MAX; op++) {
        xg_err scratch = XG_ERR_INIT;
        if (check_op(v, op, &scratch))
            ops[n++] = op;
    }
    xg_set s = {ops, n, n};
    xg_store_set(v, GW_VIFF(ALLOWED_OPERATIONS), &s);
}

void gw_vif_update_allowed_for_vm(xapi_vm *vm)
{
    xg_ref *refs = vm->vifs.items;
    for (uint32_t i = 0; i < vm->vifs.n; i++) {
        xapi_vif *v = xg_store_get(&xapi_class_vif, refs[i].s);
        if (v)
            update_allowed(v);
    }
}

/* ---- create / destroy ------------------------------------------------------ */

static bool device_in_use(const xapi_vm *vm, const char *device)
{
    xg_ref *refs = vm->vifs.items;
    for (uint32_t i = 0; i < vm->vifs.n; i++) {
        xapi_vif *v = xg_store_get(&xapi_class_vif, refs[i].s);
        if (v && strcmp(v->device, device) == 0)
            return true;
    }
    return false;
}

/* Fields a client gives (RW and RO/constructor, not maintained). */
static void copy_given(xapi_vif *dst, const xapi_vif *src)
{
    for (uint32_t i = 0; i < xapi_class_vif.nfields; i++) {
        const xg_field_desc *f = &xapi_class_vif.fields[i];
        if ((f->qual == XG_Q_RW || f->qual == XG_Q_RO_CONSTRUCTOR) &&
            !(f->flags & (XG_F_INTERNAL | XG_F_MAINTAINED)))
            gw_init_field(dst, i, (const char *)src + f->offset);
    }
}

/* XAPI raises MAC_INVALID [""] when a VM has no mac_seed; VMs made before
 * mac_seed existed (or behind our back) get a random locally administered
 * MAC instead, which the spec allows. */
static void random_mac(char out[18])
{
    char u[XG_UUID_STR];
    gw_random_uuid(u);
    gw_mac_from_seed(u, 0, out);
}

bool gw_vif_make(const xapi_vif *args, xg_ref *result_out, xg_err *err)
{
    xapi_vm *vm = xg_store_get(&xapi_class_vm, args->vm.s);
    if (!vm)
        return xapi_err_handle_invalid(err, "VM", args->vm.s);
    int dev = gw_vif_device_number(args->device);
    if (dev < 0)
        return xapi_err_invalid_device(err, args->device);
    char mac[18];
    bool autogen = false;
    if (!args->mac[0]) {
        const char *seed = gw_smap_get(&vm->other_config, "mac_seed");
        if (seed && seed[0])
            gw_mac_from_seed(seed, dev, mac);
        else
            random_mac(mac);
        autogen = true;
    } else {
        if (!gw_mac_valid(args->mac))
            return xapi_err_mac_invalid(err, args->mac);
        snprintf(mac, sizeof mac, "%s", args->mac);
    }
    if (device_in_use(vm, args->device))
        return xapi_err_device_already_exists(err, args->device);

    xapi_vif_metrics *m = xg_obj_new(&xapi_class_vif_metrics);
    if (!xg_store_add(m, NULL, err)) {
        xg_obj_free(m);
        return false;
    }
    xapi_vif *v = xg_obj_new(&xapi_class_vif);
    copy_given(v, args);
    gw_init_str(v, XAPI_VIF_F_UUID, "");
    gw_init_str(v, XAPI_VIF_F_MAC, mac);
    gw_init_field(v, XAPI_VIF_F_MAC_AUTOGENERATED, &autogen);
    gw_init_ref(v, XAPI_VIF_F_METRICS, m->obj.ref.s);
    /* only a suspended VM's VIF can be created attached (it resumes so) */
    bool attached = args->currently_attached &&
                    vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED;
    gw_init_field(v, XAPI_VIF_F_CURRENTLY_ATTACHED, &attached);
    if (!xg_store_add(v, NULL, err)) {
        xg_obj_free(v);
        xg_store_remove(m);
        return false;
    }
    update_allowed(v);
    XG_INFO(AREA, "VIF %s: VM %s device %s MAC %s", v->uuid, vm->uuid, v->device, mac);
    *result_out = v->obj.ref;
    return true;
}

bool handle_vif_create(xg_call *c, const xapi_vif *args, xg_ref *result_out,
                       xg_err *err)
{
    (void)c;
    return gw_vif_make(args, result_out, err);
}

static void remove_vif(xapi_vif *v)
{
    xapi_vif_metrics *m = xg_store_get(&xapi_class_vif_metrics, v->metrics.s);
    if (m)
        xg_store_remove(m);
    xg_store_remove(v);
}

bool handle_vif_destroy(xg_call *c, xapi_vif *self, xg_err *err)
{
    (void)c;
    xapi_vm *vm = vm_of(self);
    if (vm && self->currently_attached &&
        (vm->power_state == XAPI_VM_POWER_STATE_RUNNING ||
         vm->power_state == XAPI_VM_POWER_STATE_PAUSED))
        return xapi_err_operation_not_allowed(err, "VIF currently attached to a running VM");
    remove_vif(self);
    return true;
}

void gw_vif_destroy_all(xapi_vm *vm)
{
    /* removing a VIF updates VM.VIFs: always take the first */
    while (vm->vifs.n) {
        xg_ref *refs = vm->vifs.items;
        xapi_vif *v = xg_store_get(&xapi_class_vif, refs[0].s);
        if (!v)
            break;
        remove_vif(v);
    }
}

bool gw_vif_copy_all(const xapi_vm *src, xapi_vm *dst, bool keep_mac, xg_err *err)
{
    uint32_t n = src->vifs.n;
    xg_ref *refs = n ? malloc(n * sizeof *refs) : NULL;
    if (n && !refs)
        return xg_err_internal(err, "out of memory");
    if (n)                              /* memcpy(NULL, …, 0) is undefined (UBSan) */
        memcpy(refs, src->vifs.items, n * sizeof *refs);
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++) {
        xapi_vif *v = xg_store_get(&xapi_class_vif, refs[i].s);
        if (!v)
            continue;
        xapi_vif *args = xg_obj_new(&xapi_class_vif);
        copy_given(args, v);
        gw_init_ref(args, XAPI_VIF_F_VM, dst->obj.ref.s);
        gw_init_str(args, XAPI_VIF_F_MAC, keep_mac ? v->mac : "");
        bool f = false;
        gw_init_field(args, XAPI_VIF_F_CURRENTLY_ATTACHED, &f);
        xg_ref r;
        ok = gw_vif_make(args, &r, err);
        xg_obj_free(args);
    }
    free(refs);
    return ok;
}

/* ---- the VM's life ---------------------------------------------------------- */

void gw_vif_set_attached_all(xapi_vm *vm, bool attached)
{
    xg_ref *refs = vm->vifs.items;
    for (uint32_t i = 0; i < vm->vifs.n; i++) {
        xapi_vif *v = xg_store_get(&xapi_class_vif, refs[i].s);
        if (v)
            gw_set_bool(v, GW_VIFF(CURRENTLY_ATTACHED), attached);
    }
    gw_vif_filters_vm_changed(vm);
}

/* kbps (KiB/s, XAPI's ratelimit unit) over netback's default 50 ms slice,
 * as xenopsd converts it. */
static void qos_of(const xapi_vif *v, struct xg_nic_spec *nic)
{
    if (strcmp(v->qos_algorithm_type, "ratelimit") != 0)
        return;
    const char *kbps = gw_smap_get(&v->qos_algorithm_params, "kbps");
    const char *slice = gw_smap_get(&v->qos_algorithm_params, "timeslice_us");
    char *end;
    unsigned long long k = kbps ? strtoull(kbps, &end, 10) : 0;
    if (!kbps || *end || k == 0 || k > (1ull << 32))
        return;
    unsigned long long us = slice ? strtoull(slice, &end, 10) : 0;
    if (!slice || *end || us == 0 || us > 10000000ull)
        us = 50000;
    nic->rate_interval_usecs = (uint32_t)us;
    nic->rate_bytes_per_interval = k * 1024ull * us / 1000000ull;
}

static bool nic_of(const xapi_vm *vm, xapi_vif *v, xg_arena *a, struct xg_nic_spec *nic,
                   xg_err *err)
{
    memset(nic, 0, sizeof *nic);
    int dev = gw_vif_device_number(v->device);
    xapi_network *net = xg_store_get(&xapi_class_network, v->network.s);
    if (dev < 0 || !gw_mac_parse(v->mac, nic->mac))
        return xg_err_internal(err, "VIF %s: bad device or MAC", v->uuid);
    if (!net)
        return xapi_err_handle_invalid(err, "network", v->network.s);
    if (!gw_net_bridge_ready(net, err))
        return false;
    nic->devid = (uint32_t)dev;
    snprintf(nic->bridge, sizeof nic->bridge, "%s", net->bridge);
    const char *mtu = gw_smap_get(&v->other_config, "mtu");
    long m = mtu ? strtol(mtu, NULL, 10) : 0;
    nic->mtu = (uint32_t)(m >= 68 && m <= 65535 ? m : net->mtu > 0 ? net->mtu : 1500);
    if (gw_vm_dom_type(vm) == XG_DOM_HVM) {
        const char *model = gw_smap_get(&vm->platform, "nic_type");
        if (model && model[0] && !(nic->model = xg_arena_strdup(a, model)))
            return xg_err_internal(err, "out of memory");
    }
    qos_of(v, nic);
    return true;
}

bool gw_vif_build_nics(const xapi_vm *vm, xg_arena *a, struct xg_nic_spec **out,
                       uint32_t *n_out, xg_err *err)
{
    uint32_t n = vm->vifs.n;
    *out = NULL;
    *n_out = 0;
    if (!n)
        return true;
    struct xg_nic_spec *nics = xg_arena_alloc(a, n * sizeof *nics);
    if (!nics)
        return xg_err_internal(err, "out of job memory");
    xg_ref *refs = vm->vifs.items;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        xapi_vif *v = xg_store_get(&xapi_class_vif, refs[i].s);
        if (v && !nic_of(vm, v, a, &nics[k++], err))
            return false;
    }
    *out = nics;
    *n_out = k;
    return true;
}

/* ---- hot-plug ----------------------------------------------------------------- */

struct plug_job {
    xg_call *c;
    char vif[XG_REF_LEN];
    int op;
    bool attach;                    /* the state on success */
};

static void op_end(xapi_vif *v, int op)
{
    gw_op_remove(v, GW_VIFF(CURRENT_OPERATIONS), op);
    update_allowed(v);
}

/* Driver thread, world lock not held. */
static void plug_done(void *arg, bool ok, const xg_err *derr, uint32_t domid)
{
    (void)domid;
    struct plug_job *j = arg;
    xg_world_lock();
    xapi_vif *v = xg_store_get(&xapi_class_vif, j->vif);
    if (v) {
        if (ok)
            gw_set_bool(v, GW_VIFF(CURRENTLY_ATTACHED), j->attach);
        op_end(v, j->op);
        xapi_vm *owner = vm_of(v);
        if (ok && owner)
            gw_vif_filters_vm_changed(owner);
        /* the guest's agent reports the new NIC's addresses at once */
        xapi_vm *vm = ok ? vm_of(v) : NULL;
        if (vm && vm->power_state == XAPI_VM_POWER_STATE_RUNNING)
            gw_vm_refresh_guest_metrics(vm);
    }
    xg_err e = XG_ERR_INIT;
    if (!ok && derr)
        e = *derr;
    else if (!ok)
        xg_err_internal(&e, "hot-plug failed");
    XG_INFO(AREA, "VIF %s %s: %s", j->vif, op_name(j->op), ok ? "done" : e.code);
    xg_call_finish(j->c, ok, ok ? NULL : &e, NULL);
    xg_world_unlock();
    free(j);
}

static bool hotplug(xg_call *c, xapi_vif *v, int op, bool force, xg_err *err)
{
    if (!check_op(v, op, err))
        return false;
    xapi_vm *vm = vm_of(v);
    bool plug = op == XAPI_VIF_OPERATIONS_PLUG;
    if (plug ? !gw_drv->nic_add : !gw_drv->nic_remove)
        return xapi_err_operation_not_allowed(err, "The hypervisor driver cannot hot-plug VIFs");
    struct xg_nic_spec nic;
    if (plug && !nic_of(vm, v, c->arena, &nic, err))
        return false;
    struct plug_job *j = calloc(1, sizeof *j);
    if (!j)
        return xg_err_internal(err, "out of memory");
    j->c = c;
    j->op = op;
    j->attach = plug;
    snprintf(j->vif, sizeof j->vif, "%s", v->obj.ref.s);
    char key[XG_REF_LEN];
    gw_op_key(c, key);
    const char *k = key;
    if (!xg_store_map_add(v, GW_VIFF(CURRENT_OPERATIONS), &k, &op, err)) {
        free(j);
        return false;
    }
    update_allowed(v);
    xg_done done = {plug_done, j};
    uint32_t domid = (uint32_t)vm->domid;
    bool ok = plug ? gw_drv->nic_add(gw_d, domid, &nic, &done, err)
                   : gw_drv->nic_remove(gw_d, domid, (uint32_t)gw_vif_device_number(v->device),
                                        force, &done, err);
    if (!ok) {
        op_end(v, op);
        free(j);
        return false;
    }
    xg_call_defer(c);
    return true;
}

bool handle_vif_plug(xg_call *c, xapi_vif *self, xg_err *err)
{
    return hotplug(c, self, XAPI_VIF_OPERATIONS_PLUG, false, err);
}

bool handle_vif_unplug(xg_call *c, xapi_vif *self, xg_err *err)
{
    return hotplug(c, self, XAPI_VIF_OPERATIONS_UNPLUG, false, err);
}

bool handle_vif_unplug_force(xg_call *c, xapi_vif *self, xg_err *err)
{
    return hotplug(c, self, XAPI_VIF_OPERATIONS_UNPLUG, true, err);
}

/* ---- move (Xapi_vif.move) ---------------------------------------------------- */

/* A plugged VIF's backend changes bridge under the guest, which notices
 * nothing (no hot-plug, so it works without PV drivers); a VIF that is not
 * attached only changes its record. */
bool handle_vif_move(xg_call *c, xapi_vif *self, xapi_network *network, xg_err *err)
{
    (void)c;
    xapi_vm *vm = vm_of(self);
    bool active = self->currently_attached && vm &&
                  vm->power_state != XAPI_VM_POWER_STATE_SUSPENDED && vm->domid >= 0;
    if (active) {
        xg_err e = XG_ERR_INIT;
        if (!gw_net_bridge_ready(network, &e))
            return xapi_err_host_cannot_attach_network(err, vm->resident_on.s,
                                                       network->obj.ref.s);
        char port[32];
        int dev = gw_vif_device_number(self->device);
        snprintf(port, sizeof port, "vif%lld.%d", (long long)vm->domid, dev);
        if (!gw_net_port_move(port, network->bridge, err))
            return false;
        /* an HVM guest's emulated NIC (qemu's tap) follows; it is gone
         * once PV drivers took the device over */
        snprintf(port, sizeof port, "vif%lld.%d-emu", (long long)vm->domid, dev);
        if (gw_vm_dom_type(vm) == XG_DOM_HVM && !gw_net_port_move(port, network->bridge, &e))
            XG_INFO(AREA, "VIF %s: no emulated NIC %s to move", self->uuid, port);
    }
    gw_set_ref(self, GW_VIFF(NETWORK), network->obj.ref.s);
    /* network_default now means the new network's default */
    return !active || gw_vif_filters_sync(err);
}

/* Xapi_vm_helpers.allowed_VIF_devices: XAPI offers devices 0-6. */
bool gw_vif_allowed_devices(xg_call *c, const xapi_vm *vm, xg_set *out, xg_err *err)
{
    enum { OFFERED = 7 };
    char **items = xg_arena_alloc(c->arena, OFFERED * sizeof *items);
    if (!items)
        return xg_err_internal(err, "out of call memory");
    uint32_t n = 0;
    for (int d = 0; d < OFFERED; d++) {
        char dev[4];
        snprintf(dev, sizeof dev, "%d", d);
        if (device_in_use(vm, dev))
            continue;
        if (!(items[n++] = xg_arena_strdup(c->arena, dev)))
            return xg_err_internal(err, "out of call memory");
    }
    out->items = items;
    out->n = out->cap = n;
    return true;
}
