/* ctx.h: what the process runs against: the driver, the state directory,
 * this host's pool, host and control-domain records, and the domid ↔ VM
 * map. Set at start-up by init.c and objects.c, read everywhere; ctx.c
 * depends on nothing else in handlers/, so reading it never ties a module
 * to the ones that fill it. Everything requires the world lock unless
 * stated otherwise. */
#ifndef XG_CTX_H
#define XG_CTX_H

#include <stdint.h>

#include "xapi_types.h"
#include "driver/driver.h"

/* Domain ids at or above this are Xen's reserved ones (DOMID_FIRST_RESERVED). */
#define GW_MAX_DOMID 0x7ff0

/* The driver in use (set once at start-up, read-only after: no lock). */
extern const struct xg_driver *gw_drv;
extern struct xg_drv *gw_d;

/* State directory (database, suspend images, SRs); set once by init. */
const char *gw_state_dir(void);
void gw_ctx_set_state_dir(const char *dir);

/* This host's records (NULL until objects.c found or made them). */
xapi_pool *gw_pool(void);
xapi_host *gw_host(void);
xapi_vm *gw_dom0(void);
void gw_ctx_set_pool(xapi_pool *p);
void gw_ctx_set_host(xapi_host *h);
void gw_ctx_set_dom0(xapi_vm *vm);

/* domid ↔ VM: O(1) both ways. The VM's `domid` field is kept in step. */
xapi_vm *gw_vm_by_domid(uint32_t domid);
void gw_vm_bind_domid(xapi_vm *vm, int64_t domid);   /* -1 = no domain */

#endif
