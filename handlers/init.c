/* init.c: start-up and shutdown of the XAPI side: state database, driver,
 * objects, built-in templates, sim guests on first start, metrics, timers.
 * Runs before the listeners open (xg_handlers_init) and after they close
 * (xg_handlers_shutdown). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "../server/lifecycle.h"
#include "../server/log.h"
#include "../server/world.h"
#include "driver/sim/sim_fixture.h"
#include "gw.h"
#include "identity.h"
#include "host_power.h"
#include "plugins.h"
#include "secureboot.h"
#include "gw_util.h"
#include "console/console.h"
#include "metrics/metrics.h"
#include "net.h"
#include "objects.h"
#include "persist.h"
#include "persist_load.h"
#include "session_table.h"
#include "storage.h"
#include "tasks.h"
#include "vm_internal.h"

#define GW_SIM_SEED 1u  /* one deterministic sim host everywhere */

/* A fixture guest's one NIC on the host's physical network, attached when
 * the guest runs (the sim booted it with that NIC). */
static bool fixture_vif(xapi_vm *vm, const struct sim_fixture_guest *g, xg_err *err)
{
    xapi_network *net = gw_net_management();
    if (!net)
        return true;
    xapi_vif *args = xg_obj_new(&xapi_class_vif);
    char dev[4];
    snprintf(dev, sizeof dev, "%u", SIM_FIX_NIC_DEVID);
    gw_init_str(args, XAPI_VIF_F_DEVICE, dev);
    gw_init_ref(args, XAPI_VIF_F_NETWORK, net->obj.ref.s);
    gw_init_ref(args, XAPI_VIF_F_VM, vm->obj.ref.s);
    gw_init_field(args, XAPI_VIF_F_MTU, &net->mtu);
    xg_ref ref;
    bool ok = gw_vif_make(args, &ref, err);
    xg_obj_free(args);
    xapi_vif *v = ok ? xg_store_get(&xapi_class_vif, ref.s) : NULL;
    if (v && g->power != SIM_FIX_HALTED)
        gw_set_bool(v, GW_VIFF(CURRENTLY_ATTACHED), true);
    return ok;
}

/* First start on sim: VM records for every fixture guest, halted ones
 * included (a halted VM is not a domain). Running/paused ones are bound to
 * the domains sim created by reconciliation. */
static bool create_sim_guests(uint32_t n, xg_err *err)
{
    for (uint32_t i = 0; i < n; i++) {
        struct sim_fixture_guest g;
        if (!sim_fixture_guest(i, GW_SIM_SEED, &g))
            break;
        if (xg_store_get_by_uuid(&xapi_class_vm, g.uuid))
            continue;
        xapi_vm *vm = xg_obj_new(&xapi_class_vm);
        int64_t smax = (int64_t)g.mem_static_max, dmax = (int64_t)g.mem_dynamic_max;
        int64_t dmin = (int64_t)g.mem_dynamic_min, target = (int64_t)g.mem_target;
        int64_t vmax = g.vcpus_max, vstart = g.vcpus_at_startup;
        int64_t no_domid = -1;          /* bound by reconciliation if it runs */
        int dt = g.type == XG_DOM_HVM ? XAPI_DOMAIN_TYPE_HVM :
                 g.type == XG_DOM_PVH ? XAPI_DOMAIN_TYPE_PVH : XAPI_DOMAIN_TYPE_PV;
        gw_init_str(vm, XAPI_VM_F_UUID, g.uuid);
        gw_init_str(vm, XAPI_VM_F_NAME_LABEL, g.name);
        gw_init_str(vm, XAPI_VM_F_NAME_DESCRIPTION, g.distro);
        gw_init_field(vm, XAPI_VM_F_DOMAIN_TYPE, &dt);
        gw_init_field(vm, XAPI_VM_F_MEMORY_STATIC_MAX, &smax);
        gw_init_field(vm, XAPI_VM_F_MEMORY_DYNAMIC_MAX, &dmax);
        gw_init_field(vm, XAPI_VM_F_MEMORY_DYNAMIC_MIN, &dmin);
        gw_init_field(vm, XAPI_VM_F_MEMORY_STATIC_MIN, &dmin);
        gw_init_field(vm, XAPI_VM_F_MEMORY_TARGET, &target);
        gw_init_field(vm, XAPI_VM_F_VCPUS_MAX, &vmax);
        gw_init_field(vm, XAPI_VM_F_VCPUS_AT_STARTUP, &vstart);
        gw_init_field(vm, XAPI_VM_F_DOMID, &no_domid);
        if (g.type == XG_DOM_HVM) {
            gw_init_str(vm, XAPI_VM_F_HVM_BOOT_POLICY, "BIOS order");
            const char *k[] = { "order" }, *v[] = { "cd" };
            xg_map m = { .keys = (void *)k, .vals = (void *)v, .n = 1, .cap = 1 };
            gw_init_field(vm, XAPI_VM_F_HVM_BOOT_PARAMS, &m);
        } else {
            gw_init_str(vm, XAPI_VM_F_PV_BOOTLOADER, "pygrub");
        }
        /* an even vCPU count is laid out as two sockets, an odd one as one */
        int64_t cores = vmax < 1 ? 1 : vmax;
        if (cores % 2 == 0)
            cores /= 2;
        char cps[24];
        snprintf(cps, sizeof(cps), "%lld", (long long)cores);
        const char *pk[] = { "cores-per-socket", "nx", "acpi", "apic", "pae", "viridian" };
        const char *pv[] = { cps, "true", "1", "true", "true", g.type == XG_DOM_HVM ? "true" : "false" };
        xg_map pm = { .keys = (void *)pk, .vals = (void *)pv, .n = 6, .cap = 6 };
        gw_init_field(vm, XAPI_VM_F_PLATFORM, &pm);
        /* the seed of its VIF's MAC: the same on every sim host */
        const char *ock[] = { "mac_seed" }, *ov[] = { g.uuid };
        xg_map om = { .keys = (void *)ock, .vals = (void *)ov, .n = 1, .cap = 1 };
        gw_init_field(vm, XAPI_VM_F_OTHER_CONFIG, &om);
        if (!xg_store_add(vm, NULL, err)) {
            xg_obj_free(vm);
            return false;
        }
        if (!gw_vm_attach_runtime_objects(vm, err) || !fixture_vif(vm, &g, err))
            return false;
        gw_vm_update_allowed_operations(vm);
    }
    return true;
}

static bool mkdir_p(const char *dir, xg_err *err)
{
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/suspend", dir);
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(sub, 0700) != 0 && errno != EEXIST))
        return xg_err_internal(err, "cannot create state directory %s: %s", dir, strerror(errno));
    return true;
}

bool xg_handlers_init(const struct xg_config *cfg, xg_err *err)
{
    gw_ctx_set_state_dir(cfg->state_dir);
    const char *state_dir = gw_state_dir();
    if (!mkdir_p(state_dir, err))
        return false;
    gw_drv = xg_driver_select(cfg->driver, err);
    if (!gw_drv)
        return false;
    gw_identity_configure(cfg->product_brand, cfg->product_version, cfg->build_number);
    gw_plugins_configure(cfg->plugin_dir, cfg->plugin_timeout_s);
    gw_secureboot_configure(cfg->varstore_dir);
    struct xg_drv_config dc = {
        .state_dir = state_dir, .sim_vms = cfg->sim_vms,
        .sim_delay_ms = cfg->sim_delay_ms, .sim_seed = GW_SIM_SEED,
    };
    bool ok = false;
    gw_vm_follow_domains();
    xg_world_lock();
    xg_store_init();
    if (!gw_persist_open(state_dir, err) || !gw_persist_load_store(err))
        goto out;
    if (!gw_drv->open(&gw_d, &dc, &gw_driver_events, err))
        goto out;
    XG_INFO("init", "driver %s open", gw_drv->name);
    bool first_start = xg_store_count(&xapi_class_host) == 0;
    if (!gw_objects_build(err) || !gw_net_open(err) || !gw_storage_init(err) ||
        !gw_templates_ensure(err))
        goto out;
    if (first_start && strcmp(gw_drv->name, "sim") == 0 && cfg->sim_vms) {
        if (!create_sim_guests(cfg->sim_vms, err))
            goto out;
    }
    gw_objects_finish();
    gw_host_power_start(cfg->host_power, first_start);
    if (!xg_store_flush(err))
        goto out;
    ok = true;
out:
    xg_world_unlock();
    if (!ok)
        return false;
    if (!xg_metrics_init(gw_drv, gw_d, state_dir, err))
        return false;
    if (!xg_console_init(err))
        return false;
    xg_cli_init();
    gw_sessions_start();
    gw_tasks_start();
    gw_objects_start_resync();
    XG_INFO("init", "%u VMs, %u host CPUs", xg_store_count(&xapi_class_vm),
            xg_store_count(&xapi_class_host_cpu));
    return true;
}

void xg_handlers_shutdown(void)
{
    xg_console_shutdown();           /* its streams use the driver */
    xg_metrics_shutdown();
    xg_world_lock();
    xg_err err = XG_ERR_INIT;
    if (!xg_store_flush(&err))
        XG_ERROR("init", "final flush failed: %s", err.param[0]);
    gw_persist_close();
    gw_host_power_stop();
    xg_world_unlock();
    gw_net_close();
    enum xg_after_stop after = xg_lifecycle_after();
    if (gw_d && after != XG_AFTER_EXIT && gw_drv->restarting)
        gw_drv->restarting(gw_d, after == XG_AFTER_REBOOT);
    if (gw_d) {
        gw_drv->close(gw_d);
        gw_d = NULL;
    }
}
