/* ctx.c: the process context (ctx.h). Plain storage: it calls nothing in
 * handlers/, only the store, so any module may read it. */
#include <stdio.h>

#include "../server/store.h"
#include "ctx.h"

const struct xg_driver *gw_drv;
struct xg_drv *gw_d;

static char state_dir[512];
static xapi_pool *the_pool;
static xapi_host *the_host;
static xapi_vm *the_dom0;
static xapi_vm *by_domid[GW_MAX_DOMID];

const char *gw_state_dir(void) { return state_dir; }

void gw_ctx_set_state_dir(const char *dir)
{
    snprintf(state_dir, sizeof(state_dir), "%s", dir);
}

xapi_pool *gw_pool(void) { return the_pool; }
xapi_host *gw_host(void) { return the_host; }
xapi_vm *gw_dom0(void) { return the_dom0; }
void gw_ctx_set_pool(xapi_pool *p) { the_pool = p; }
void gw_ctx_set_host(xapi_host *h) { the_host = h; }
void gw_ctx_set_dom0(xapi_vm *vm) { the_dom0 = vm; }

xapi_vm *gw_vm_by_domid(uint32_t domid)
{
    return domid < GW_MAX_DOMID ? by_domid[domid] : NULL;
}

void gw_vm_bind_domid(xapi_vm *vm, int64_t domid)
{
    if (vm->domid >= 0 && vm->domid < GW_MAX_DOMID && by_domid[vm->domid] == vm)
        by_domid[vm->domid] = NULL;
    if (domid >= 0 && domid < GW_MAX_DOMID)
        by_domid[domid] = vm;
    if (vm->domid != domid)
        xg_store_set(vm, &xapi_class_vm.fields[XAPI_VM_F_DOMID], &domid);
}
