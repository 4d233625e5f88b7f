/* objects.c: the pool, host, host_cpu, host_metrics and control-domain
 * objects built from the driver (published in ctx.h), and reconciliation of
 * domains with VM objects (driver events plus a periodic resync): it binds
 * domids and announces what it sees (dom_notify.h), so that domains
 * created, destroyed, paused or shut down behind our back (xl) are
 * reflected by the VM modules that listen; it never calls them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/log.h"
#include "../server/timer.h"
#include "../server/world.h"
#include "ctx.h"
#include "dom_notify.h"
#include "gw_util.h"
#include "identity.h"
#include "net.h"
#include "objects.h"

#define MAX_DOMID GW_MAX_DOMID
#define RESYNC_MS 10000
#define GUEST_REFRESH_PER_TICK 64   /* ≈ 6 guests/s: a 1,000-VM host every ~2.6 min */

static void announce(enum gw_dom_change change, xapi_vm *vm,
                     const struct xg_dom_info *di, enum xg_shutdown_reason reason)
{
    struct gw_dom_event ev = { .change = change, .vm = vm, .di = di, .reason = reason };
    gw_dom_announce(&ev);
}

/* ---- identity ----------------------------------------------------------- */

static void find_identity(void)
{
    uint64_t cur = 0;
    gw_ctx_set_pool(xg_store_next(&xapi_class_pool, &cur));
    cur = 0;
    gw_ctx_set_host(xg_store_next(&xapi_class_host, &cur));
    cur = 0;
    xapi_vm *vm;
    gw_ctx_set_dom0(NULL);
    while ((vm = xg_store_next(&xapi_class_vm, &cur)) != NULL)
        if (vm->is_control_domain)
            gw_ctx_set_dom0(vm);
}

static void put_kv(xg_arena *a, const char ***k, const char ***v, uint32_t *n,
                   const char *key, const char *val)
{
    (void)a;
    if (!val || !*val)
        return;                      /* XAPI drops empty values */
    (*k)[*n] = key;
    (*v)[*n] = val;
    (*n)++;
}

static void set_host_facts(const struct xg_host_info *hi, xg_arena *a)
{
    xapi_host *h = gw_host();
    const char *k[40], *v[40], **kp = k, **vp = v;
    uint32_t n = 0;
    gw_identity_apply_host(h, hi, gw_drv->name);

    char cnt[16], sockets[16], speed[32], fam[16], model[16], step[16];
    snprintf(cnt, sizeof(cnt), "%u", hi->nr_cpus);
    snprintf(sockets, sizeof(sockets), "%u", hi->nr_sockets ? hi->nr_sockets : 1);
    snprintf(speed, sizeof(speed), "%u.000", hi->cpu_mhz);
    snprintf(fam, sizeof(fam), "%u", hi->cpu_family);
    snprintf(model, sizeof(model), "%u", hi->cpu_model);
    snprintf(step, sizeof(step), "%u", hi->cpu_stepping);
    n = 0;
    put_kv(a, &kp, &vp, &n, "cpu_count", cnt);
    put_kv(a, &kp, &vp, &n, "socket_count", sockets);
    put_kv(a, &kp, &vp, &n, "vendor", hi->cpu_vendor);
    put_kv(a, &kp, &vp, &n, "speed", speed);
    put_kv(a, &kp, &vp, &n, "modelname", hi->cpu_model_name);
    put_kv(a, &kp, &vp, &n, "family", fam);
    put_kv(a, &kp, &vp, &n, "model", model);
    put_kv(a, &kp, &vp, &n, "stepping", step);
    put_kv(a, &kp, &vp, &n, "flags", hi->cpu_flags);
    gw_set_strmap(h, GW_F(h, XAPI_HOST_F_CPU_INFO), k, v, n);

    n = 0;
    put_kv(a, &kp, &vp, &n, "iommu", hi->chipset_iommu[0] ? hi->chipset_iommu : "false");
    gw_set_strmap(h, GW_F(h, XAPI_HOST_F_CHIPSET_INFO), k, v, n);

    n = 0;
    put_kv(a, &kp, &vp, &n, "bios-vendor", hi->bios_vendor);
    put_kv(a, &kp, &vp, &n, "bios-version", hi->bios_version);
    put_kv(a, &kp, &vp, &n, "system-manufacturer", hi->system_manufacturer);
    put_kv(a, &kp, &vp, &n, "system-product-name", hi->system_product);
    gw_set_strmap(h, GW_F(h, XAPI_HOST_F_BIOS_STRINGS), k, v, n);

    /* capabilities: the hypervisor's list, one word each */
    char caps[256];
    snprintf(caps, sizeof(caps), "%s", hi->xen_caps);
    const char *items[32];
    uint32_t ni = 0;
    for (char *save = NULL, *t = strtok_r(caps, " ", &save); t && ni < 32;
         t = strtok_r(NULL, " ", &save))
        items[ni++] = t;
    xg_set capset = { .items = (void *)items, .n = ni, .cap = ni };
    xg_store_set(h, GW_F(h, XAPI_HOST_F_CAPABILITIES), &capset);

    gw_set_str(h, GW_F(h, XAPI_HOST_F_HOSTNAME), hi->hostname);
    gw_set_str(h, GW_F(h, XAPI_HOST_F_ADDRESS), hi->address[0] ? hi->address : "127.0.0.1");
    gw_set_int(h, GW_F(h, XAPI_HOST_F_API_VERSION_MAJOR), 2);
    gw_set_int(h, GW_F(h, XAPI_HOST_F_API_VERSION_MINOR), 21);
    gw_set_str(h, GW_F(h, XAPI_HOST_F_API_VERSION_VENDOR), "XenSource");
    gw_set_str(h, GW_F(h, XAPI_HOST_F_SCHED_POLICY), "credit");
    const char *bl[] = { "pygrub", "eliloader" };
    xg_set bls = { .items = (void *)bl, .n = 2, .cap = 2 };
    xg_store_set(h, GW_F(h, XAPI_HOST_F_SUPPORTED_BOOTLOADERS), &bls);
    /* the operations this gateway really performs on a host */
    int ops[] = { XAPI_HOST_ALLOWED_OPERATIONS_PROVISION,
                  XAPI_HOST_ALLOWED_OPERATIONS_VM_START,
                  XAPI_HOST_ALLOWED_OPERATIONS_VM_RESUME };
    xg_set opset = { .items = ops, .n = 3, .cap = 3 };
    xg_store_set(h, GW_F(h, XAPI_HOST_F_ALLOWED_OPERATIONS), &opset);
}

static bool ensure_pool_and_host(const struct xg_host_info *hi, xg_arena *a, xg_err *err)
{
    if (!gw_host()) {
        xapi_host *h = xg_obj_new(&xapi_class_host);
        if (hi->uuid[0])
            gw_init_str(h, XAPI_HOST_F_UUID, hi->uuid);
        gw_init_str(h, XAPI_HOST_F_NAME_LABEL, hi->hostname);
        gw_init_str(h, XAPI_HOST_F_NAME_DESCRIPTION, "Default install");
        bool t = true;
        gw_init_field(h, XAPI_HOST_F_ENABLED, &t);
        if (!xg_store_add(h, NULL, err)) {
            xg_obj_free(h);
            return false;
        }
        gw_ctx_set_host(h);
    }
    if (!gw_pool()) {
        xapi_pool *p = xg_obj_new(&xapi_class_pool);
        gw_init_ref(p, XAPI_POOL_F_MASTER, gw_host()->obj.ref.s);
        if (!xg_store_add(p, NULL, err)) {
            xg_obj_free(p);
            return false;
        }
        gw_ctx_set_pool(p);
    }
    xapi_pool *pool = gw_pool();
    if (strcmp(pool->master.s, gw_host()->obj.ref.s) != 0)
        gw_set_ref(pool, GW_F(pool, XAPI_POOL_F_MASTER), gw_host()->obj.ref.s);
    set_host_facts(hi, a);
    gw_identity_apply_pool(gw_pool());
    return true;
}

static bool ensure_host_metrics(const struct xg_host_info *hi, xg_err *err)
{
    xapi_host *h = gw_host();
    xapi_host_metrics *m = xg_store_get(&xapi_class_host_metrics, h->metrics.s);
    if (!m) {
        m = xg_obj_new(&xapi_class_host_metrics);
        if (!xg_store_add(m, NULL, err)) {
            xg_obj_free(m);
            return false;
        }
        gw_set_ref(h, GW_F(h, XAPI_HOST_F_METRICS), m->obj.ref.s);
    }
    gw_set_int(m, GW_F(m, XAPI_HOST_METRICS_F_MEMORY_TOTAL), (int64_t)hi->total_bytes);
    gw_set_int(m, GW_F(m, XAPI_HOST_METRICS_F_MEMORY_FREE), (int64_t)hi->free_bytes);
    gw_set_bool(m, GW_F(m, XAPI_HOST_METRICS_F_LIVE), true);
    gw_set_time(m, GW_F(m, XAPI_HOST_METRICS_F_LAST_UPDATED), gw_now());
    return true;
}

static bool ensure_host_cpus(const struct xg_host_info *hi, xg_arena *a, xg_err *err)
{
    struct xg_pcpu_info *pcpus = NULL;
    uint32_t n = 0;
    if (!gw_drv->pcpu_list(gw_d, a, &pcpus, &n, err))
        return false;
    /* index existing rows by number; rebuild what does not match */
    uint64_t cur = 0;
    xapi_host_cpu *c;
    xapi_host_cpu **have = xg_arena_alloc(a, sizeof(*have) * (n ? n : 1));
    if (!have)
        return xg_err_internal(err, "out of memory");
    while ((c = xg_store_next(&xapi_class_host_cpu, &cur)) != NULL) {
        if (c->number >= 0 && (uint32_t)c->number < n && !have[c->number])
            have[c->number] = c;
        else
            xg_store_remove(c);
    }
    char step[16];
    snprintf(step, sizeof(step), "%u", hi->cpu_stepping);
    for (uint32_t i = 0; i < n; i++) {
        c = have[i];
        if (!c) {
            c = xg_obj_new(&xapi_class_host_cpu);
            int64_t num = pcpus[i].cpu;
            gw_init_field(c, XAPI_HOST_CPU_F_NUMBER, &num);
            gw_init_ref(c, XAPI_HOST_CPU_F_HOST, gw_host()->obj.ref.s);
            if (!xg_store_add(c, NULL, err)) {
                xg_obj_free(c);
                return false;
            }
        }
        gw_set_ref(c, GW_F(c, XAPI_HOST_CPU_F_HOST), gw_host()->obj.ref.s);
        gw_set_str(c, GW_F(c, XAPI_HOST_CPU_F_VENDOR), hi->cpu_vendor);
        gw_set_int(c, GW_F(c, XAPI_HOST_CPU_F_SPEED), hi->cpu_mhz);
        gw_set_str(c, GW_F(c, XAPI_HOST_CPU_F_MODELNAME), hi->cpu_model_name);
        gw_set_int(c, GW_F(c, XAPI_HOST_CPU_F_FAMILY), hi->cpu_family);
        gw_set_int(c, GW_F(c, XAPI_HOST_CPU_F_MODEL), hi->cpu_model);
        gw_set_str(c, GW_F(c, XAPI_HOST_CPU_F_STEPPING), step);
        gw_set_str(c, GW_F(c, XAPI_HOST_CPU_F_FLAGS), hi->cpu_flags);
    }
    return true;
}

/* ---- VMs for domains ------------------------------------------------------ */

static int domain_type_of(enum xg_dom_type t)
{
    switch (t) {
    case XG_DOM_HVM: return XAPI_DOMAIN_TYPE_HVM;
    case XG_DOM_PVH: return XAPI_DOMAIN_TYPE_PVH;
    default: return XAPI_DOMAIN_TYPE_PV;
    }
}

/* A VM record for a domain we did not start (dom0 at first start, or one
 * made with xl behind our back). */
static xapi_vm *vm_for_foreign_domain(const struct xg_dom_info *di, bool control,
                                      xg_err *err)
{
    xapi_vm *vm = xg_obj_new(&xapi_class_vm);
    char name[192];
    if (control)
        snprintf(name, sizeof(name), "Control domain on host: %s", gw_host()->hostname);
    else
        snprintf(name, sizeof(name), "%s", di->name[0] ? di->name : "unnamed domain");
    int64_t mem = (int64_t)di->mem_max_bytes;
    int64_t target = (int64_t)(di->mem_target_bytes ? di->mem_target_bytes : di->mem_current_bytes);
    int64_t vmax = di->vcpus_max, vnow = di->vcpus_online;
    int ps = gw_dom_power_state(di), dt = domain_type_of(di->type);
    bool t = true;
    char uuid[XG_UUID_STR];
    /* dom0's domain uuid is all zeroes; XAPI gives its VM a real uuid */
    if (control || !di->uuid[0] || strcmp(di->uuid, "00000000-0000-0000-0000-000000000000") == 0)
        gw_random_uuid(uuid);
    else
        snprintf(uuid, sizeof(uuid), "%s", di->uuid);
    gw_init_str(vm, XAPI_VM_F_UUID, uuid);
    gw_init_str(vm, XAPI_VM_F_NAME_LABEL, name);
    if (control) {
        gw_init_str(vm, XAPI_VM_F_NAME_DESCRIPTION, "The domain which manages physical devices and manages other domains");
        gw_init_field(vm, XAPI_VM_F_IS_CONTROL_DOMAIN, &t);
    }
    gw_init_field(vm, XAPI_VM_F_POWER_STATE, &ps);
    gw_init_field(vm, XAPI_VM_F_DOMAIN_TYPE, &dt);
    gw_init_field(vm, XAPI_VM_F_MEMORY_STATIC_MAX, &mem);
    gw_init_field(vm, XAPI_VM_F_MEMORY_DYNAMIC_MAX, &mem);
    gw_init_field(vm, XAPI_VM_F_MEMORY_DYNAMIC_MIN, &target);
    gw_init_field(vm, XAPI_VM_F_MEMORY_STATIC_MIN, &target);
    gw_init_field(vm, XAPI_VM_F_MEMORY_TARGET, &target);
    gw_init_field(vm, XAPI_VM_F_VCPUS_MAX, &vmax);
    gw_init_field(vm, XAPI_VM_F_VCPUS_AT_STARTUP, &vnow);
    gw_init_ref(vm, XAPI_VM_F_RESIDENT_ON, gw_host()->obj.ref.s);
    /* platform carries the topology clients show (XO: cores-per-socket):
     * dom0 mirrors the host's sockets when its vCPUs divide evenly; a
     * domain made behind our back says nothing, so one core per socket */
    int64_t cps = 1;
    struct xg_host_info hi;
    xg_err ignore = XG_ERR_INIT;
    if (control && gw_drv->host_info(gw_d, &hi, &ignore) && hi.nr_sockets &&
        hi.nr_cores >= hi.nr_sockets && vmax % (hi.nr_cores / hi.nr_sockets) == 0)
        cps = hi.nr_cores / hi.nr_sockets;
    char cps_s[24];
    snprintf(cps_s, sizeof(cps_s), "%lld", (long long)cps);
    const char *pk[] = { "cores-per-socket" }, *pv[] = { cps_s };
    xg_map pm = { .keys = (void *)pk, .vals = (void *)pv, .n = 1, .cap = 1 };
    gw_init_field(vm, XAPI_VM_F_PLATFORM, &pm);
    if (!xg_store_add(vm, NULL, err)) {
        xg_obj_free(vm);
        return NULL;
    }
    gw_vm_bind_domid(vm, di->domid);
    if (control)
        gw_ctx_set_dom0(vm);
    announce(GW_DOM_ADOPTED, vm, di, XG_SHUTDOWN_NONE);
    XG_INFO("objects", "domain %u (%s) appeared: VM %s", di->domid, name, uuid);
    return vm;
}

static void reconcile_info(const struct xg_dom_info *di)
{
    xapi_vm *vm = gw_vm_by_domid(di->domid);
    if (!vm && di->domid != 0)
        vm = xg_store_get_by_uuid(&xapi_class_vm, di->uuid);
    if (!vm && di->domid == 0)
        vm = gw_dom0();
    if (!vm) {
        if (di->state == XG_DOM_DYING)
            return;
        xg_err err = XG_ERR_INIT;
        vm = vm_for_foreign_domain(di, di->domid == 0, &err);
        if (!vm)
            XG_WARN("objects", "no VM for domain %u: %s", di->domid, err.code);
        return;
    }
    if (vm->domid != di->domid)
        gw_vm_bind_domid(vm, di->domid);
    switch (di->state) {
    case XG_DOM_SHUTDOWN:
        announce(GW_DOM_SHUTDOWN, vm, NULL, di->reason);
        break;
    case XG_DOM_RUNNING:
    case XG_DOM_PAUSED:
        announce(GW_DOM_SEEN, vm, di, XG_SHUTDOWN_NONE);
        break;
    case XG_DOM_DYING:
        break;
    }
}

static void domain_vanished(xapi_vm *vm)
{
    announce(GW_DOM_VANISHED, vm, NULL, XG_SHUTDOWN_NONE);
}

void gw_reconcile_domain(uint32_t domid)
{
    struct xg_dom_info di;
    xg_err err = XG_ERR_INIT;
    if (gw_drv->dom_info(gw_d, domid, &di, &err)) {
        reconcile_info(&di);
        return;
    }
    xapi_vm *vm = gw_vm_by_domid(domid);
    if (vm)
        domain_vanished(vm);
}

void gw_reconcile_all(void)
{
    xg_arena *a = xg_arena_new(64 * 1024 * 1024);
    struct xg_dom_info *doms = NULL;
    uint32_t n = 0;
    xg_err err = XG_ERR_INIT;
    if (!gw_drv->dom_list(gw_d, a, &doms, &n, &err)) {
        XG_WARN("objects", "dom_list failed: %s %s", err.code, err.param[0]);
        xg_arena_free(a);
        return;
    }
    static uint8_t seen[MAX_DOMID];
    memset(seen, 0, sizeof(seen));
    for (uint32_t i = 0; i < n; i++) {
        if (doms[i].domid < MAX_DOMID)
            seen[doms[i].domid] = 1;
        reconcile_info(&doms[i]);
    }
    for (uint32_t d = 1; d < MAX_DOMID; d++)
        if (gw_vm_by_domid(d) && !seen[d])
            domain_vanished(gw_vm_by_domid(d));
    xg_arena_free(a);
}

/* Driver notifications arrive on a driver thread without the world lock. */
static void on_dom_changed(void *arg, uint32_t domid)
{
    (void)arg;
    xg_world_lock();
    gw_reconcile_domain(domid);
    xg_world_unlock();
}

static xg_timer *resync_timer;

static void resync_tick(void *arg)
{
    (void)arg;
    xg_timer_cancel(resync_timer);      /* our own, fired handle */
    xg_world_lock();
    gw_reconcile_all();
    gw_net_sync();
    /* Guest agents write when they like: refresh what they report, a
     * bounded slice per tick (round robin over domids), because guest data
     * reads are xenstore round trips made under the world lock. */
    static uint32_t next_domid = 1;
    uint32_t done = 0;
    for (uint32_t scanned = 0; scanned < MAX_DOMID && done < GUEST_REFRESH_PER_TICK;
         scanned++) {
        uint32_t d = next_domid;
        next_domid = next_domid + 1 < MAX_DOMID ? next_domid + 1 : 1;
        xapi_vm *vm = gw_vm_by_domid(d);
        if (vm && vm->power_state == XAPI_VM_POWER_STATE_RUNNING) {
            announce(GW_DOM_GUEST_DUE, vm, NULL, XG_SHUTDOWN_NONE);
            done++;
        }
    }
    xg_world_unlock();
    resync_timer = xg_timer_add(RESYNC_MS, resync_tick, NULL);
}

const struct xg_drv_events gw_driver_events = { .dom_changed = on_dom_changed };

bool gw_objects_build(xg_err *err)
{
    xg_arena *a = xg_arena_new(16 * 1024 * 1024);
    struct xg_host_info hi;
    memset(&hi, 0, sizeof(hi));
    bool ok = gw_drv->host_info(gw_d, &hi, err);
    if (ok) {
        find_identity();
        /* domids in persisted VMs are stale: a domain only exists now */
        uint64_t cur = 0;
        xapi_vm *vm;
        while ((vm = xg_store_next(&xapi_class_vm, &cur)) != NULL)
            if (vm->domid >= 0 && !vm->is_control_domain)
                gw_set_int(vm, GW_F(vm, XAPI_VM_F_DOMID), -1);
        ok = ensure_pool_and_host(&hi, a, err) && ensure_host_metrics(&hi, err) &&
             ensure_host_cpus(&hi, a, err);
    }
    if (ok && gw_dom0())
        gw_vm_bind_domid(gw_dom0(), 0);
    xg_arena_free(a);
    return ok;
}

static void set_other_config(void *obj, const xg_field_desc *f, const char *key,
                             const char *val)
{
    xg_err err = XG_ERR_INIT;
    xg_store_map_remove(obj, f, &key);
    if (!xg_store_map_add(obj, f, &key, &val, &err))
        XG_WARN("objects", "other_config:%s: %s", key, err.code);
}

/* host.other_config boot_time and agent_start_time, written at every start
 * as XAPI's dbsync does (OCaml string_of_float of whole seconds: "N.");
 * the host booted when its control domain did. XO shows both. */
static void record_start_times(void)
{
    struct xg_dom_info di;
    xg_err err = XG_ERR_INIT;
    char v[32];
    const xg_field_desc *f = GW_F(gw_host(), XAPI_HOST_F_OTHER_CONFIG);
    if (gw_drv->dom_info(gw_d, 0, &di, &err) && di.start_time > 0) {
        snprintf(v, sizeof(v), "%lld.", (long long)di.start_time);
        set_other_config(gw_host(), f, "boot_time", v);
    }
    snprintf(v, sizeof(v), "%lld.", (long long)time(NULL));
    set_other_config(gw_host(), f, "agent_start_time", v);
}

void gw_objects_finish(void)
{
    gw_reconcile_all();
    record_start_times();
    /* persisted Running/Paused VMs whose domain did not come back were halted
     * (or destroyed) while we were down */
    uint64_t cur = 0;
    xapi_vm *vm;
    while ((vm = xg_store_next(&xapi_class_vm, &cur)) != NULL)
        if (!vm->is_control_domain && vm->domid < 0 &&
            (vm->power_state == XAPI_VM_POWER_STATE_RUNNING ||
             vm->power_state == XAPI_VM_POWER_STATE_PAUSED)) {
            XG_INFO("objects", "VM %s: its domain is gone: Halted", vm->uuid);
            announce(GW_DOM_LOST, vm, NULL, XG_SHUTDOWN_NONE);
        }
    xapi_host *h = gw_host();
    xapi_vm *dom0 = gw_dom0();
    if (dom0 && strcmp(h->control_domain.s, dom0->obj.ref.s) != 0)
        gw_set_ref(h, GW_F(h, XAPI_HOST_F_CONTROL_DOMAIN), dom0->obj.ref.s);
}

void gw_objects_start_resync(void)
{
    resync_timer = xg_timer_add(RESYNC_MS, resync_tick, NULL);
}
