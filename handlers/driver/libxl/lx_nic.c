/* lx_nic.c: NIC hot-plug of a running domain, as `xl network-attach` /
 * `network-detach` do it, but as libxl asynchronous operations: the vif
 * backend and its hotplug script (vif-bridge) run while the caller goes on,
 * and the completion comes back through the event thread. */
#include "lx_internal.h"
#include "lx_config.h"

#include <inttypes.h>
#include <string.h>

#include <libxl_utils.h>

static bool running_guest(struct xg_drv *d, uint32_t domid, const char *what, xg_err *err)
{
    if (domid == 0)
        return xg_err_internal(err, "%s: domain 0 has no hot-pluggable vifs", what);
    if (domid >= LX_DOMID_LIMIT)
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    libxl_dominfo info;
    libxl_dominfo_init(&info);
    int rc = libxl_domain_info(d->ctx, &info, domid);
    bool ok = rc == 0 && !info.shutdown && !info.dying;
    libxl_dominfo_dispose(&info);
    if (rc)
        return lx_err(err, rc, what, domid);
    if (!ok)
        return xg_err_internal(err, "%s: domain %" PRIu32 " is shutting down", what, domid);
    return true;
}

bool lx_nic_add(struct xg_drv *d, uint32_t domid, const struct xg_nic_spec *nic,
                const xg_done *done, xg_err *err)
{
    if (!running_guest(d, domid, "nic add", err))
        return false;
    struct lx_op *op = lx_op_new(d, LX_OP_NIC, domid, done);
    /* hot-plugged NICs are PV only: there is no emulated one to add */
    if (!lx_nic_from_spec(nic, XG_DOM_PV, &op->nic, err)) {
        lx_op_free(op);
        return false;
    }
    libxl_device_nic probe;
    libxl_device_nic_init(&probe);
    bool exists = libxl_devid_to_device_nic(d->ctx, domid, (int)nic->devid, &probe) == 0;
    libxl_device_nic_dispose(&probe);
    if (exists) {
        lx_op_free(op);
        return xg_err_internal(err, "nic add: vif %" PRIu32 ".%" PRIu32 " exists", domid,
                               nic->devid);
    }
    int rc = libxl_device_nic_add(d->ctx, domid, &op->nic, &op->how);
    if (rc) {
        lx_op_free(op);
        return lx_err(err, rc, "nic add", domid);
    }
    return true;
}

bool lx_nic_remove(struct xg_drv *d, uint32_t domid, uint32_t devid, bool force,
                   const xg_done *done, xg_err *err)
{
    if (!running_guest(d, domid, "nic remove", err))
        return false;
    struct lx_op *op = lx_op_new(d, LX_OP_NIC, domid, done);
    int rc = libxl_devid_to_device_nic(d->ctx, domid, (int)devid, &op->nic);
    if (rc) {
        lx_op_free(op);
        return xg_err_internal(err, "nic remove: no vif %" PRIu32 ".%" PRIu32, domid, devid);
    }
    /* remove asks the guest's netfront to let go; destroy does not wait */
    rc = force ? libxl_device_nic_destroy(d->ctx, domid, &op->nic, &op->how)
               : libxl_device_nic_remove(d->ctx, domid, &op->nic, &op->how);
    if (rc) {
        lx_op_free(op);
        return lx_err(err, rc, "nic remove", domid);
    }
    return true;
}
