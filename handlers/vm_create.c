/* vm_create.c: VM records coming and going: VM.create (validated as XAPI
 * validates a record), VM.destroy (its VDIs stay), VM.clone / VM.copy of
 * halted VMs with their disks (vm_disks.c) and VM.provision of templates.
 * World lock. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../server/log.h"
#include "gw_util.h"
#include "net.h"
#include "vm_disks.h"
#include "vm_internal.h"
#include "vm_spec.h"

/* XAPI derives one from the other when the client says nothing. */
static int derived_domain_type(const char *hvm_boot_policy)
{
    return hvm_boot_policy[0] ? XAPI_DOMAIN_TYPE_HVM : XAPI_DOMAIN_TYPE_PV;
}

/* Fields a client may give or a copy carries over: everything that is not
 * maintained by the server at runtime. */
static bool copied_field(const xg_field_desc *f)
{
    return (f->qual == XG_Q_RW || f->qual == XG_Q_RO_CONSTRUCTOR) &&
           !(f->flags & (XG_F_INTERNAL | XG_F_MAINTAINED));
}

void gw_vm_copy_fields(xapi_vm *dst, const xapi_vm *src)
{
    for (uint32_t i = 0; i < xapi_class_vm.nfields; i++) {
        const xg_field_desc *f = &xapi_class_vm.fields[i];
        if (copied_field(f))
            gw_init_field(dst, i, (const char *)src + f->offset);
    }
}

bool gw_vm_add_halted(xapi_vm *vm, xg_ref *result_out, xg_err *err)
{
    int halted = XAPI_VM_POWER_STATE_HALTED;
    int64_t no_domid = -1;
    gw_init_field(vm, XAPI_VM_F_POWER_STATE, &halted);
    gw_init_field(vm, XAPI_VM_F_DOMID, &no_domid);
    gw_init_ref(vm, XAPI_VM_F_SUSPEND_VDI, XG_REF_NULL);
    gw_init_str(vm, XAPI_VM_F_UUID, "");        /* the store makes one */
    if (vm->domain_type == XAPI_DOMAIN_TYPE_UNSPECIFIED) {
        int dt = derived_domain_type(vm->hvm_boot_policy);
        gw_init_field(vm, XAPI_VM_F_DOMAIN_TYPE, &dt);
    }
    if (!xg_store_add(vm, NULL, err)) {
        xg_obj_free(vm);
        return false;
    }
    if (!gw_vm_attach_runtime_objects(vm, err)) {
        gw_vm_detach_runtime_objects(vm);
        xg_store_remove(vm);
        return false;
    }
    /* XAPI gives every new VM the seed its VIFs' MACs derive from */
    if (!gw_smap_get(&vm->other_config, "mac_seed")) {
        char seed[XG_UUID_STR];
        gw_random_uuid(seed);
        const char *k = "mac_seed", *v = seed;
        xg_store_map_add(vm, GW_VMF(OTHER_CONFIG), &k, &v, err);
    }
    gw_vm_update_allowed_operations(vm);
    *result_out = vm->obj.ref;
    return true;
}

bool handle_vm_create(xg_call *c, const xapi_vm *args, xg_ref *result_out,
                      xg_err *err)
{
    (void)c;
    if (!gw_vm_check_memory_order(args->memory_static_min,
                                  args->memory_dynamic_min,
                                  args->memory_dynamic_max,
                                  args->memory_static_max, err) ||
        !gw_vm_check_vcpus(args->vcpus_max, args->vcpus_at_startup, err))
        return false;
    xapi_vm *vm = xg_obj_new(&xapi_class_vm);
    gw_vm_copy_fields(vm, args);
    return gw_vm_add_halted(vm, result_out, err);
}

bool handle_vm_destroy(xg_call *c, xapi_vm *self, xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(self, XAPI_VM_OPERATIONS_DESTROY, err))
        return false;
    if (self->power_state == XAPI_VM_POWER_STATE_SUSPENDED) {
        char path[600];
        if (gw_vm_suspend_path(self, path, sizeof path, err))
            unlink(path);
        xg_err_clear(err);
    }
    /* Xapi_vm.destroy: my children (snapshots taken after me, or the live
     * VM whose latest snapshot I am) now hang from my own parent. */
    while (self->children.n) {
        const xg_ref *ch = self->children.items;
        xapi_vm *child = xg_store_get(&xapi_class_vm, ch[self->children.n - 1].s);
        if (!child)
            break;
        gw_set_ref(child, GW_VMF(PARENT), self->parent.s);
    }
    /* a checkpoint's memory image goes with it, as in XAPI */
    xapi_vdi *mem = self->is_a_snapshot ?
        xg_store_get(&xapi_class_vdi, self->suspend_vdi.s) : NULL;
    if (mem) {
        gw_vdi_delete_image(mem);
        gw_vdi_remove(mem);
    }
    gw_vm_remove_vbds(self);
    gw_vm_detach_runtime_objects(self);
    gw_vif_destroy_all(self);
    gw_vm_bind_domid(self, -1);     /* the domid table must not keep a freed record */
    xg_store_remove(self);
    return true;
}

/* Xapi_vm_clone.copy_vm_record: keys that must not follow a copy. */
static void filter_other_config(xapi_vm *vm, xg_arena *a)
{
    static const char *const drop[] = {"default_template", "mac_seed"};
    char **keys = vm->other_config.keys, **vals = vm->other_config.vals;
    uint32_t n = vm->other_config.n, m = 0;
    const char **k = xg_arena_alloc(a, (n + 1) * sizeof *k);
    const char **v = xg_arena_alloc(a, (n + 1) * sizeof *v);
    if (!k || !v)
        return;
    for (uint32_t i = 0; i < n; i++) {
        bool keep = true;
        for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
            if (strcmp(keys[i], drop[d]) == 0)
                keep = false;
        if (keep) {
            k[m] = keys[i];
            v[m] = vals[i];
            m++;
        }
    }
    if (m == n)
        return;
    xg_map nm = {(void *)k, (void *)v, m, m};
    gw_init_field(vm, XAPI_VM_F_OTHER_CONFIG, &nm);
}

static bool clone_common(xg_call *c, xapi_vm *src, const char *new_name,
                         int op, bool set_parent, xg_ref *result_out,
                         xg_err *err)
{
    if (!gw_vm_check_op(src, op, err))
        return false;
    xapi_vm *vm = xg_obj_new(&xapi_class_vm);
    gw_vm_copy_fields(vm, src);
    gw_init_str(vm, XAPI_VM_F_NAME_LABEL, new_name);
    filter_other_config(vm, c->arena);
    /* Runtime fields XAPI carries over on a copy. */
    gw_init_field(vm, XAPI_VM_F_BIOS_STRINGS, &src->bios_strings);
    if (src->generation_id[0]) {
        char gen[XG_UUID_STR];
        gw_random_uuid(gen);
        gw_init_str(vm, XAPI_VM_F_GENERATION_ID, gen);
    }
    if (set_parent)
        gw_init_ref(vm, XAPI_VM_F_PARENT, src->obj.ref.s);
    if (!gw_vm_add_halted(vm, result_out, err))
        return false;
    /* the copy's VIFs get MACs from its own new seed */
    return gw_vif_copy_all(src, xg_store_get(&xapi_class_vm, result_out->s), false, err);
}

/* A template's clone stays a template (non-default), as in XAPI; clients
 * then provision it and clear is_a_template. */
bool handle_vm_clone(xg_call *c, xapi_vm *vm, const char *new_name,
                     xg_ref *result_out, xg_err *err)
{
    if (!clone_common(c, vm, new_name, XAPI_VM_OPERATIONS_CLONE, true,
                      result_out, err))
        return false;
    return gw_vm_clone_disks(vm, xg_store_get(&xapi_class_vm, result_out->s), err);
}

/* sr NULL ("" or OpaqueRef:NULL on the wire, as XO sends): each disk is
 * copied into its own SR. The data is copied on a worker; the call answers
 * when it is done. */
bool handle_vm_copy(xg_call *c, xapi_vm *vm, const char *new_name,
                    xapi_sr *sr, xg_ref *result_out, xg_err *err)
{
    if (!clone_common(c, vm, new_name, XAPI_VM_OPERATIONS_COPY, false,
                      result_out, err))
        return false;
    return gw_vm_copy_disks(c, vm, xg_store_get(&xapi_class_vm, result_out->s),
                            sr, err);
}

/* VM.provision creates the disks other_config:disks describes
 * (<provision><disk .../></provision>) and then drops the key. As XAPI's
 * Xapi_vm.provision, the result is a VM, no longer a template (XO's and
 * Ansible's new-VM paths start it right after). */
bool handle_vm_provision(xg_call *c, xapi_vm *vm, xg_err *err)
{
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_PROVISION, err))
        return false;
    const char *disks = gw_smap_get(&vm->other_config, "disks");
    if (disks && !gw_vm_provision_disks(vm, disks, err))
        return false;
    if (disks) {
        const char *k = "disks";
        xg_store_map_remove(vm, GW_VMF(OTHER_CONFIG), &k);
    }
    return handle_vm_set_is_a_template(c, vm, false, err);
}

/* XAPI answers the record of the last boot for a running VM; this gateway
 * does not keep a second copy, and a VM's boot-relevant fields that change
 * while it runs only take effect at the next boot, so the current record is
 * what the running domain was built from except for those pending edits. */
bool handle_vm_get_boot_record(xg_call *c, xapi_vm *self,
                               const xapi_vm **result_out, xg_err *err)
{
    (void)c;
    (void)err;
    *result_out = self;
    return true;
}
