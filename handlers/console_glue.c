/* console_glue.c: what the console module (handlers/console/) asks of the
 * XAPI side: who may open which console, and the driver call that opens it.
 * As XAPI's /console handler: the session comes from the session_id query
 * parameter or cookie (what noVNC, XO Lite and xo-server send; Basic
 * credentials are not taken here, so that no password is ever hashed on the
 * console thread); uuid= or ref= names a VM (its first console) or a
 * console; the VM must be running. */
#include <string.h>

#include "../server/hooks.h"
#include "../server/http_routes.h"
#include "../server/world.h"
#include "console/console.h"
#include "gw.h"

static xapi_vm *vm_of_target(const char *query, int *status, bool *raw_text)
{
    char key[XG_REF_LEN + 16];
    xapi_console *con = NULL;
    xapi_vm *vm = NULL;
    if (xg_query_get(query, "uuid", key, sizeof key)) {
        vm = xg_store_get_by_uuid(&xapi_class_vm, key);
        if (!vm)
            con = xg_store_get_by_uuid(&xapi_class_console, key);
    } else if (xg_query_get(query, "ref", key, sizeof key)) {
        vm = xg_store_get(&xapi_class_vm, key);
        if (!vm)
            con = xg_store_get(&xapi_class_console, key);
    } else {
        *status = 400;               /* neither uuid nor ref */
        return NULL;
    }
    if (con) {
        vm = xg_store_get(&xapi_class_vm, con->vm.s);
        *raw_text = con->protocol == XAPI_CONSOLE_PROTOCOL_VT100;
    }
    if (!vm) {
        *status = 404;
        return NULL;
    }
    return vm;
}

int xg_console_hook_resolve(const char *query, const char *cookie,
                            struct xg_console_target *out)
{
    struct xg_http_request rq = { .method = "GET", .path = "/console", .query = query,
                                  .cookie = cookie && *cookie ? cookie : NULL };
    char ref[XG_REF_LEN + 16], user[256];
    xg_err err = XG_ERR_INIT;
    if (!xg_hook_http_session(&rq, ref, sizeof ref, user, sizeof user, &err)) {
        xg_err_clear(&err);
        return 401;
    }
    int status = 0;
    xg_world_lock();
    bool raw_text = false;
    xapi_vm *vm = vm_of_target(query, &status, &raw_text);
    if (vm && (vm->power_state != XAPI_VM_POWER_STATE_RUNNING || vm->domid < 0))
        status = 404;                /* halted, paused or suspended: no console */
    if (vm && !status) {
        out->domid = (uint32_t)vm->domid;
        out->raw_text = raw_text;
        memcpy(out->vm_uuid, vm->uuid, sizeof out->vm_uuid);
    }
    xg_world_unlock();
    return status;
}

bool xg_console_hook_open(const struct xg_console_target *t, enum xg_console_kind *kind,
                          int *fd, xg_err *err)
{
    if (!gw_drv->console_open)
        return xg_err_internal(err, "the %s driver has no consoles", gw_drv->name);
    return gw_drv->console_open(gw_d, t->domid, kind, fd, err);
}
