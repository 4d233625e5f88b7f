/* vm_util.c: small helpers the VM handler files share (enum names, the
 * domain type a VM boots as, VM_BAD_POWER_STATE parameters, suspend image
 * paths); field writes and uuids are the common ones of gw_util.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "vm_internal.h"

const char *gw_enum_name(const xg_field_desc *f, int v)
{
    const xg_type *t = f->type;
    /* Sets and maps of enums: the enum is the element type. */
    while (t && t->kind != XG_K_ENUM)
        t = t->elem;
    if (!t || !t->enm || v < 0 || v >= t->enm->n)
        return "";
    return t->enm->values[v];
}

const char *gw_lower(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = 0;
    return buf;
}

bool gw_vm_bad_power_state(const xapi_vm *vm, const char *expected, xg_err *err)
{
    char actual[32];
    gw_lower(gw_enum_name(GW_VMF(POWER_STATE), vm->power_state), actual,
             sizeof actual);
    return xapi_err_vm_bad_power_state(err, vm->obj.ref.s, expected, actual);
}

bool gw_vm_suspend_path(const xapi_vm *vm, char *buf, size_t len, xg_err *err)
{
    int n = snprintf(buf, len, "%s/suspend/%s", gw_state_dir(), vm->uuid);
    if (n < 0 || (size_t)n >= len)
        return xg_err_internal(err, "suspend image path too long");
    return true;
}

enum xg_dom_type gw_vm_dom_type(const xapi_vm *vm)
{
    switch (vm->domain_type) {
    case XAPI_DOMAIN_TYPE_HVM: return XG_DOM_HVM;
    case XAPI_DOMAIN_TYPE_PVH: return XG_DOM_PVH;
    /* pv_in_pvh runs a PV kernel; the driver has no shim mode, so the
     * guest is built as the PV guest it is. */
    case XAPI_DOMAIN_TYPE_PV:
    case XAPI_DOMAIN_TYPE_PV_IN_PVH: return XG_DOM_PV;
    default:
        /* unspecified: XAPI derives it from HVM_boot_policy */
        return vm->hvm_boot_policy[0] ? XG_DOM_HVM : XG_DOM_PV;
    }
}
