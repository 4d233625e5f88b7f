/* vm_spec.c: translates a VM record into the driver's struct xg_dom_spec
 * and performs XAPI's pre-boot checks on it (assert_can_boot_here as far as
 * one host without storage or networks goes). Pure except for the host's
 * free memory, read from the driver. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "storage.h"
#include "vm_internal.h"
#include "net.h"
#include "vm_spec.h"

static bool kv_of_map(xg_arena *a, const xg_map *m, const struct xg_kv **out,
                      uint32_t *n_out, xg_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (m->n == 0)
        return true;
    struct xg_kv *kv = xg_arena_alloc(a, m->n * sizeof *kv);
    if (!kv)
        return xg_err_internal(err, "out of job memory (map)");
    char **keys = m->keys, **vals = m->vals;
    for (uint32_t i = 0; i < m->n; i++) {
        kv[i].key = xg_arena_strdup(a, keys[i]);
        kv[i].val = xg_arena_strdup(a, vals[i]);
        if (!kv[i].key || !kv[i].val)
            return xg_err_internal(err, "out of job memory (map)");
    }
    *out = kv;
    *n_out = m->n;
    return true;
}

bool gw_vm_check_memory_order(int64_t smin, int64_t dmin, int64_t dmax,
                              int64_t smax, xg_err *err)
{
    if (smin < 0 || !(smin <= dmin && dmin <= dmax && dmax <= smax))
        return xapi_err_memory_constraint_violation_order(err);
    return true;
}

/* Xapi_vm_helpers.validate_vcpus: the message text is XAPI's. */
bool gw_vm_check_vcpus(int64_t max, int64_t at_startup, xg_err *err)
{
    char v[24];
    if (max < 1) {
        snprintf(v, sizeof v, "%" PRId64, max);
        return xapi_err_invalid_value(
            err, "VCPU values must satisfy: 0 < VCPUs_max", v);
    }
    if (at_startup < 1) {
        snprintf(v, sizeof v, "%" PRId64, at_startup);
        return xapi_err_invalid_value(
            err, "VCPU values must satisfy: 0 < VCPUs_at_startup", v);
    }
    if (at_startup > max) {
        snprintf(v, sizeof v, "%" PRId64, at_startup);
        return xapi_err_invalid_value(
            err, "VCPU values must satisfy: VCPUs_at_startup ≤ VCPUs_max", v);
    }
    return true;
}

static bool host_can_hvm(void)
{
    xapi_host *h = gw_host();
    if (!h || h->capabilities.n == 0)
        return true;            /* unknown: let the driver decide */
    char **caps = h->capabilities.items;
    for (uint32_t i = 0; i < h->capabilities.n; i++)
        if (strncmp(caps[i], "hvm", 3) == 0)
            return true;
    return false;
}

bool gw_vm_assert_bootable(const xapi_vm *vm, xg_arena *a, xg_err *err)
{
    const char *ref = vm->obj.ref.s;
    if (!gw_vm_check_memory_order(vm->memory_static_min,
                                  vm->memory_dynamic_min,
                                  vm->memory_dynamic_max,
                                  vm->memory_static_max, err))
        return false;
    if (vm->vcpus_max < 1)
        return xapi_err_vm_no_vcpus(err, ref);
    if (!gw_vm_check_vcpus(vm->vcpus_max, vm->vcpus_at_startup, err))
        return false;
    if (gw_vm_dom_type(vm) == XG_DOM_HVM && !host_can_hvm())
        return xapi_err_vm_hvm_required(err, ref);

    /* XAPI's Memory_check: the domain is built at dynamic_max plus its
     * overhead, and must fit into what the host has free now. */
    struct xg_host_stats hs;
    memset(&hs, 0, sizeof hs);
    if (!gw_drv->host_stats(gw_d, a, &hs, err))
        return false;
    uint64_t need = (uint64_t)vm->memory_dynamic_max +
                    (uint64_t)(vm->memory_overhead > 0 ? vm->memory_overhead : 0);
    if (need > hs.free_bytes) {
        char n[24], f[24];
        snprintf(n, sizeof n, "%" PRIu64, need);
        snprintf(f, sizeof f, "%" PRIu64, hs.free_bytes);
        return xapi_err_host_not_enough_free_memory(err, n, f);
    }
    return true;
}

bool gw_vm_build_spec(const xapi_vm *vm, xg_arena *a, bool start_paused,
                      struct xg_dom_spec *s, xg_err *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->uuid, sizeof s->uuid, "%s", vm->uuid);
    s->type = gw_vm_dom_type(vm);
    s->mem_static_max = (uint64_t)vm->memory_static_max;
    s->mem_dynamic_max = (uint64_t)vm->memory_dynamic_max;
    s->mem_dynamic_min = (uint64_t)vm->memory_dynamic_min;
    /* No ballooning daemon decides a lower target: start at dynamic_max. */
    s->mem_target = (uint64_t)vm->memory_dynamic_max;
    s->vcpus_max = (uint32_t)vm->vcpus_max;
    s->vcpus_at_startup = (uint32_t)vm->vcpus_at_startup;
    s->start_paused = start_paused;

#define DUP(dst, src) do { \
        if ((src)[0]) { (dst) = xg_arena_strdup(a, (src)); \
            if (!(dst)) return xg_err_internal(err, "out of job memory"); } \
    } while (0)
    DUP(s->name, vm->name_label);
    if (!s->name)
        s->name = "";
    if (s->type != XG_DOM_HVM) {
        DUP(s->kernel, vm->pv_kernel);
        DUP(s->ramdisk, vm->pv_ramdisk);
        DUP(s->cmdline, vm->pv_args);
        DUP(s->bootloader, vm->pv_bootloader);
        DUP(s->bootloader_args, vm->pv_bootloader_args);
    } else {
        const char *order = gw_smap_get(&vm->hvm_boot_params, "order");
        /* xenopsd's default when the template says nothing */
        s->boot_order = xg_arena_strdup(a, order && order[0] ? order : "cd");
        if (!s->boot_order)
            return xg_err_internal(err, "out of job memory");
    }
#undef DUP
    if (!kv_of_map(a, &vm->platform, &s->platform, &s->nplatform, err) ||
        !gw_vm_disks(vm, a, &s->disks, &s->ndisks, err))
        return false;
    if (!gw_vif_build_nics(vm, a, (struct xg_nic_spec **)&s->nics, &s->nnics, err))
        return false;
    return kv_of_map(a, &vm->xenstore_data, &s->xenstore, &s->nxenstore, err);
}
