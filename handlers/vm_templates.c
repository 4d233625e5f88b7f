/* vm_templates.c: the built-in default templates (is_default_template), so
 * that the usual client path clone → provision → set_is_a_template(false) →
 * start works on a fresh host. Created once, identified by reference_label,
 * then persisted like any VM; never rewritten if present. World lock held. */
#include <stdio.h>
#include <string.h>

#include "../server/log.h"
#include "gw_util.h"
#include "vm_internal.h"

#define MiB (1024LL * 1024)
#define GiB (1024LL * MiB)

struct kv { const char *k, *v; };

struct tmpl {
    const char *label;              /* reference_label: stable identity */
    const char *name, *desc;
    int domain_type;
    const char *hvm_boot_policy, *boot_order;
    const char *bootloader;
    int64_t smin, dmax;
    int64_t vcpus;
    bool linux_;
    const char *install_methods;
};

/* What XAPI's create_templates gives a recent Linux guest: 1 GiB, one
 * VCPU (cores-per-socket set so that XO does not write it on every event),
 * restart on crash. */
static const struct tmpl tmpls[] = {
    {"generic-linux-pv", "Generic Linux PV",
     "Template for a PV Linux guest booted by its own bootloader (pygrub).",
     XAPI_DOMAIN_TYPE_PV, "", NULL, "pygrub", 256 * MiB, 1 * GiB, 1, true,
     "cdrom,nfs,http,ftp"},
    {"generic-linux-pvh", "Generic Linux PVH",
     "Template for a PVH Linux guest (no device model).",
     XAPI_DOMAIN_TYPE_PVH, "", NULL, "pygrub", 256 * MiB, 1 * GiB, 1, true,
     "cdrom,nfs,http,ftp"},
    {"generic-linux-hvm", "Generic Linux HVM (install media)",
     "Template for an HVM Linux guest installed from a CD/DVD image.",
     XAPI_DOMAIN_TYPE_HVM, "BIOS order", "dc", NULL, 512 * MiB, 2 * GiB, 2,
     true, "cdrom"},
    {"other-install-media", "Other install media",
     "Template for any other HVM guest installed from a CD/DVD image.",
     XAPI_DOMAIN_TYPE_HVM, "BIOS order", "dc", NULL, 512 * MiB, 2 * GiB, 2,
     false, "cdrom"},
};

static const struct kv hvm_platform[] = {
    {"acpi", "1"}, {"apic", "true"}, {"cores-per-socket", "1"},
    {"device-model", "qemu-upstream-compat"}, {"hpet", "true"}, {"nx", "true"},
    {"pae", "true"}, {"timeoffset", "0"}, {"videoram", "8"},
    {"viridian", "false"},
};
static const struct kv pv_platform[] = {{"cores-per-socket", "1"}};

static const char recommendations[] =
    "<restrictions>"
    "<restriction field=\"memory-static-max\" max=\"137438953472\"/>"
    "<restriction field=\"vcpus-max\" max=\"32\"/>"
    "<restriction property=\"number-of-vbds\" max=\"255\"/>"
    "<restriction property=\"number-of-vifs\" max=\"7\"/>"
    "</restrictions>";

static void init_map(void *obj, uint32_t idx, const struct kv *kv, uint32_t n)
{
    const char *keys[16], *vals[16];
    for (uint32_t i = 0; i < n && i < 16; i++) {
        keys[i] = kv[i].k;
        vals[i] = kv[i].v;
    }
    xg_map m = {(void *)keys, (void *)vals, n, n};
    gw_init_field(obj, idx, &m);
}

static bool present(const char *label)
{
    uint64_t cur = 0;
    xapi_vm *vm;
    while ((vm = xg_store_next(&xapi_class_vm, &cur)) != NULL)
        if (vm->is_a_template && strcmp(vm->reference_label, label) == 0)
            return true;
    return false;
}

static bool make(const struct tmpl *t, xg_err *err)
{
    xapi_vm *vm = xg_obj_new(&xapi_class_vm);
    bool yes = true;
    int halted = XAPI_VM_POWER_STATE_HALTED;
    int destroy = XAPI_ON_NORMAL_EXIT_DESTROY;
    int restart = XAPI_ON_NORMAL_EXIT_RESTART;
    int crash = XAPI_ON_CRASH_BEHAVIOUR_RESTART;
    int64_t one = 1, none = -1;
    gw_init_str(vm, XAPI_VM_F_NAME_LABEL, t->name);
    gw_init_str(vm, XAPI_VM_F_NAME_DESCRIPTION, t->desc);
    gw_init_str(vm, XAPI_VM_F_REFERENCE_LABEL, t->label);
    gw_init_field(vm, XAPI_VM_F_IS_A_TEMPLATE, &yes);
    gw_init_field(vm, XAPI_VM_F_IS_DEFAULT_TEMPLATE, &yes);
    gw_init_field(vm, XAPI_VM_F_POWER_STATE, &halted);
    gw_init_field(vm, XAPI_VM_F_DOMID, &none);
    gw_init_field(vm, XAPI_VM_F_USER_VERSION, &one);
    gw_init_field(vm, XAPI_VM_F_DOMAIN_TYPE, &t->domain_type);
    gw_init_str(vm, XAPI_VM_F_HVM_BOOT_POLICY, t->hvm_boot_policy);
    gw_init_field(vm, XAPI_VM_F_MEMORY_STATIC_MIN, &t->smin);
    gw_init_field(vm, XAPI_VM_F_MEMORY_DYNAMIC_MIN, &t->dmax);
    gw_init_field(vm, XAPI_VM_F_MEMORY_DYNAMIC_MAX, &t->dmax);
    gw_init_field(vm, XAPI_VM_F_MEMORY_STATIC_MAX, &t->dmax);
    gw_init_field(vm, XAPI_VM_F_MEMORY_TARGET, &t->dmax);
    gw_init_field(vm, XAPI_VM_F_VCPUS_MAX, &t->vcpus);
    gw_init_field(vm, XAPI_VM_F_VCPUS_AT_STARTUP, &t->vcpus);
    gw_init_field(vm, XAPI_VM_F_ACTIONS_AFTER_SHUTDOWN, &destroy);
    gw_init_field(vm, XAPI_VM_F_ACTIONS_AFTER_REBOOT, &restart);
    gw_init_field(vm, XAPI_VM_F_ACTIONS_AFTER_CRASH, &crash);
    gw_init_str(vm, XAPI_VM_F_RECOMMENDATIONS, recommendations);
    if (t->bootloader)
        gw_init_str(vm, XAPI_VM_F_PV_BOOTLOADER, t->bootloader);
    if (t->domain_type == XAPI_DOMAIN_TYPE_HVM) {
        struct kv order = {"order", t->boot_order};
        init_map(vm, XAPI_VM_F_HVM_BOOT_PARAMS, &order, 1);
        init_map(vm, XAPI_VM_F_PLATFORM, hvm_platform,
                 sizeof hvm_platform / sizeof hvm_platform[0]);
    } else {
        init_map(vm, XAPI_VM_F_PLATFORM, pv_platform, 1);
    }
    /* The other_config keys XAPI's templates carry and XO reads. */
    struct kv oc[] = {
        {"default_template", "true"},
        {"install-methods", t->install_methods},
        {"base_template_name", t->name},
        {"linux_template", "true"},
    };
    init_map(vm, XAPI_VM_F_OTHER_CONFIG, oc, t->linux_ ? 4 : 3);
    if (!xg_store_add(vm, NULL, err)) {
        xg_obj_free(vm);
        return false;
    }
    if (!gw_vm_attach_runtime_objects(vm, err))
        return false;
    gw_vm_update_allowed_operations(vm);
    XG_INFO("vm", "created default template \"%s\"", t->name);
    return true;
}

bool gw_templates_ensure(xg_err *err)
{
    for (size_t i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++)
        if (!present(tmpls[i].label) && !make(&tmpls[i], err))
            return false;
    return true;
}
