/* vm_objects.c: the objects that hang off a VM at runtime: its VM_metrics
 * (for the VM's whole life), its console (while it has a domain) and its
 * VM_guest_metrics (while a running guest reports through an agent).
 * Keeps them in step with the power state; never talks to the driver except
 * through vm_guest.c for guest data. World lock held. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../server/log.h"
#include "gw_util.h"
#include "net.h"
#include "storage.h"
#include "vm_internal.h"

static int domain_type_of(enum xg_dom_type t)
{
    switch (t) {
    case XG_DOM_HVM: return XAPI_DOMAIN_TYPE_HVM;
    case XG_DOM_PVH: return XAPI_DOMAIN_TYPE_PVH;
    default: return XAPI_DOMAIN_TYPE_PV;
    }
}

static bool is_live(const xapi_vm *vm)
{
    return vm->power_state == XAPI_VM_POWER_STATE_RUNNING ||
           vm->power_state == XAPI_VM_POWER_STATE_PAUSED;
}

static bool vm_is_hvm(const xapi_vm *vm)
{
    if (vm->domain_type == XAPI_DOMAIN_TYPE_HVM)
        return true;
    return vm->domain_type == XAPI_DOMAIN_TYPE_UNSPECIFIED &&
           vm->hvm_boot_policy[0];
}

static bool ensure_metrics(xapi_vm *vm, xg_err *err)
{
    if (xg_store_get(&xapi_class_vm_metrics, vm->metrics.s))
        return true;
    xapi_vm_metrics *m = xg_obj_new(&xapi_class_vm_metrics);
    int64_t now = (int64_t)time(NULL);
    bool live = is_live(vm);
    int64_t mem = live ? vm->memory_dynamic_max : 0;
    int64_t vcpus = live ? vm->vcpus_at_startup : 0;
    bool hvm = live && vm_is_hvm(vm);
    int dt = live ? vm->domain_type : XAPI_DOMAIN_TYPE_UNSPECIFIED;
    gw_init_field(m, XAPI_VM_METRICS_F_MEMORY_ACTUAL, &mem);
    gw_init_field(m, XAPI_VM_METRICS_F_VCPUS_NUMBER, &vcpus);
    gw_init_field(m, XAPI_VM_METRICS_F_INSTALL_TIME, &now);
    gw_init_field(m, XAPI_VM_METRICS_F_LAST_UPDATED, &now);
    gw_init_field(m, XAPI_VM_METRICS_F_HVM, &hvm);
    gw_init_field(m, XAPI_VM_METRICS_F_CURRENT_DOMAIN_TYPE, &dt);
    if (!xg_store_add(m, NULL, err)) {
        xg_obj_free(m);
        return false;
    }
    gw_set_ref(vm, GW_VMF(METRICS), m->obj.ref.s);
    return true;
}

/* Where a client reaches this gateway's /console: host.address and the
 * port actually served, which a URL carries unless it is the default. */
static void console_location(const char *uuid, char *loc, size_t len)
{
    xapi_host *h = gw_host();
    const char *addr = h && h->address[0] ? h->address : "127.0.0.1";
    bool v6 = strchr(addr, ':') != NULL;
    bool tls = xg_cfg.https.set || !xg_cfg.http.set;
    unsigned port = tls ? xg_cfg.https.port : xg_cfg.http.port;
    char portpart[8] = "";
    if (port != (tls ? 443u : 80u))
        snprintf(portpart, sizeof portpart, ":%u", port);
    snprintf(loc, len, "%s://%s%s%s%s/console?uuid=%s", tls ? "https" : "http",
             v6 ? "[" : "", addr, v6 ? "]" : "", portpart, uuid);
}

static bool add_console(xapi_vm *vm, int proto, xg_err *err)
{
    char uuid[XG_UUID_STR], ref[XG_REF_LEN], loc[256];
    gw_random_uuid(uuid);
    snprintf(ref, sizeof ref, "OpaqueRef:%s", uuid);
    console_location(uuid, loc, sizeof loc);
    xapi_console *con = xg_obj_new(&xapi_class_console);
    gw_init_str(con, XAPI_CONSOLE_F_UUID, uuid);
    gw_init_field(con, XAPI_CONSOLE_F_PROTOCOL, &proto);
    gw_init_str(con, XAPI_CONSOLE_F_LOCATION, loc);
    gw_init_ref(con, XAPI_CONSOLE_F_VM, vm->obj.ref.s);
    if (!xg_store_add(con, ref, err)) {
        xg_obj_free(con);
        return false;
    }
    return true;
}

static bool ensure_console(xapi_vm *vm, xg_err *err)
{
    if (vm->consoles.n > 0)
        return true;
    /* As XAPI: `rfb` first (XO Lite opens VM.consoles[0] blindly): qemu's
     * VNC for HVM guests, the text console rendered (vncterm) for PV/PVH
     * guests and dom0, which also have their raw `vt100` text console. */
    if (!add_console(vm, XAPI_CONSOLE_PROTOCOL_RFB, err))
        return false;
    return vm_is_hvm(vm) || add_console(vm, XAPI_CONSOLE_PROTOCOL_VT100, err);
}

static void remove_consoles(xapi_vm *vm)
{
    /* Removing a console updates VM.consoles (maintained relation), so
     * always take the first until none is left. */
    while (vm->consoles.n > 0) {
        xg_ref *refs = vm->consoles.items;
        void *con = xg_store_get(&xapi_class_console, refs[0].s);
        if (!con) {
            XG_WARN("vm", "VM %s: dangling console %s", vm->uuid, refs[0].s);
            xg_set empty = {0};
            xg_store_set(vm, GW_VMF(CONSOLES), &empty);
            break;
        }
        xg_store_remove(con);
    }
}

static void remove_guest_metrics(xapi_vm *vm)
{
    void *gm = xg_store_get(&xapi_class_vm_guest_metrics, vm->guest_metrics.s);
    if (gm)
        xg_store_remove(gm);
    if (gw_ref_is_set(vm->guest_metrics.s))
        gw_set_ref(vm, GW_VMF(GUEST_METRICS), XG_REF_NULL);
}

bool gw_vm_attach_runtime_objects(xapi_vm *vm, xg_err *err)
{
    if (!ensure_metrics(vm, err))
        return false;
    if (!is_live(vm)) {
        gw_vm_runtime_stopped(vm);
        return true;
    }
    if (!ensure_console(vm, err))
        return false;
    gw_vm_refresh_guest_metrics(vm);
    return true;
}

void gw_vm_runtime_stopped(xapi_vm *vm)
{
    gw_vm_vbds_stopped(vm);
    remove_consoles(vm);
    remove_guest_metrics(vm);
    /* a suspended VM keeps its VIFs reserved for the resume */
    gw_vif_set_attached_all(vm, vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED);
    xapi_vm_metrics *m = xg_store_get(&xapi_class_vm_metrics, vm->metrics.s);
    if (m) {
        gw_set_int(m, GW_VMMF(MEMORY_ACTUAL), 0);
        gw_set_int(m, GW_VMMF(VCPUS_NUMBER), 0);
        gw_set_enum(m, GW_VMMF(CURRENT_DOMAIN_TYPE),
                    XAPI_DOMAIN_TYPE_UNSPECIFIED);
        gw_set_time(m, GW_VMMF(LAST_UPDATED), (int64_t)time(NULL));
    }
}

void gw_vm_detach_runtime_objects(xapi_vm *vm)
{
    remove_consoles(vm);
    remove_guest_metrics(vm);
    void *m = xg_store_get(&xapi_class_vm_metrics, vm->metrics.s);
    if (m)
        xg_store_remove(m);
    if (gw_ref_is_set(vm->metrics.s))
        gw_set_ref(vm, GW_VMF(METRICS), XG_REF_NULL);
}

void gw_vm_metrics_seen(xapi_vm *vm, const struct xg_dom_info *di)
{
    xg_err err = XG_ERR_INIT;
    if (!ensure_metrics(vm, &err)) {
        XG_WARN("vm", "VM %s: no metrics: %s", vm->uuid, err.code);
        return;
    }
    xapi_vm_metrics *m = xg_store_get(&xapi_class_vm_metrics, vm->metrics.s);
    if (di->start_time > 0)
        gw_set_time(m, GW_VMMF(START_TIME), di->start_time);
    gw_set_time(m, GW_VMMF(LAST_UPDATED), (int64_t)time(NULL));
    gw_set_int(m, GW_VMMF(VCPUS_NUMBER), di->vcpus_online);
    gw_set_int(m, GW_VMMF(MEMORY_ACTUAL), (int64_t)di->mem_current_bytes);
    gw_set_bool(m, GW_VMMF(HVM), di->type == XG_DOM_HVM);
    gw_set_enum(m, GW_VMMF(CURRENT_DOMAIN_TYPE), domain_type_of(di->type));
}

void gw_vm_metrics_booted(xapi_vm *vm, enum xg_dom_type type)
{
    xg_err err = XG_ERR_INIT;
    if (!ensure_metrics(vm, &err)) {
        XG_WARN("vm", "VM %s: no metrics: %s", vm->uuid, err.code);
        return;
    }
    xapi_vm_metrics *m = xg_store_get(&xapi_class_vm_metrics, vm->metrics.s);
    int64_t now = (int64_t)time(NULL);
    gw_set_time(m, GW_VMMF(START_TIME), now);
    gw_set_time(m, GW_VMMF(LAST_UPDATED), now);
    gw_set_int(m, GW_VMMF(VCPUS_NUMBER), vm->vcpus_at_startup);
    gw_set_int(m, GW_VMMF(MEMORY_ACTUAL), vm->memory_dynamic_max);
    gw_set_bool(m, GW_VMMF(HVM), type == XG_DOM_HVM);
    gw_set_enum(m, GW_VMMF(CURRENT_DOMAIN_TYPE), domain_type_of(type));
    gw_vm_vbds_booted(vm);
}
