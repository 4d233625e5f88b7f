/* secureboot.c: Secure Boot readiness as XAPI decides it (ocaml/xapi/
 * xapi_vm.ml get_secureboot_readiness, xapi_pool.ml
 * get_guest_secureboot_readiness). XO reads both to show whether a UEFI
 * guest can boot with Secure Boot.
 *  - VM: BIOS firmware → not_supported; platform:secureboot not true →
 *    disabled; no NVRAM EFI-variables → first_boot; else the keys found in
 *    the variables. The gateway runs no varstored and has no varstore-ls to
 *    list them, so a VM with variables reads as having no PK: setup_mode.
 *  - pool: the .auth files in the varstore directory (varstored's, read
 *    only): PK, KEK and db → ready_no_dbx, plus dbx → ready, else not_ready. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gw.h"
#include "gw_util.h"
#include "secureboot.h"

static char varstore_dir[512] = "/var/lib/varstored";

void gw_secureboot_configure(const char *dir)
{
    if (dir && *dir)
        snprintf(varstore_dir, sizeof(varstore_dir), "%s", dir);
}

/* Vm_platform.is_true: "true"/"1" (any case) is true, anything else the default. */
static bool platform_true(const xapi_vm *vm, const char *key)
{
    const char *v = gw_smap_get(&vm->platform, key);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

bool handle_vm_get_secureboot_readiness(xg_call *c, xapi_vm *vm, int *result_out, xg_err *err)
{
    (void)c;
    const char *fw = gw_smap_get(&vm->hvm_boot_params, "firmware");
    /* XAPI's default firmware is BIOS; any other value is refused */
    if (fw && strcmp(fw, "bios") != 0 && strcmp(fw, "uefi") != 0)
        return xapi_err_invalid_value(err, "HVM-boot-params['firmware']", fw);
    if (!fw || strcmp(fw, "bios") == 0)
        *result_out = XAPI_VM_SECUREBOOT_READINESS_NOT_SUPPORTED;
    else if (!platform_true(vm, "secureboot"))
        *result_out = XAPI_VM_SECUREBOOT_READINESS_DISABLED;
    else if (!gw_smap_get(&vm->nvram, "EFI-variables"))
        *result_out = XAPI_VM_SECUREBOOT_READINESS_FIRST_BOOT;
    else
        *result_out = XAPI_VM_SECUREBOOT_READINESS_SETUP_MODE;
    return true;
}

static bool auth_file(const char *name)
{
    char path[600];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", varstore_dir, name);
    return stat(path, &st) == 0;
}

bool handle_pool_get_guest_secureboot_readiness(xg_call *c, xapi_pool *self, int *result_out,
                                                xg_err *err)
{
    (void)c; (void)self; (void)err;
    bool pk = auth_file("PK.auth"), kek = auth_file("KEK.auth"), db = auth_file("db.auth"),
         dbx = auth_file("dbx.auth");
    if (pk && kek && db)
        *result_out = dbx ? XAPI_POOL_GUEST_SECUREBOOT_READINESS_READY
                          : XAPI_POOL_GUEST_SECUREBOOT_READINESS_READY_NO_DBX;
    else
        *result_out = XAPI_POOL_GUEST_SECUREBOOT_READINESS_NOT_READY;
    return true;
}
