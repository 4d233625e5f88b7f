/* lx_disk.c: block devices of a running domain, as `xl block-attach`,
 * `block-detach` and `cd-insert` do it. These calls are synchronous
 * (ao_how NULL): libxl returns once the backend is connected or gone. */
#include "lx_internal.h"
#include "lx_config.h"

#include <inttypes.h>
#include <string.h>

#include <libxl_utils.h>

static bool guest_domid(uint32_t domid, const char *what, xg_err *err)
{
    if (domid == 0)
        return xg_err_internal(err, "%s: not on domain 0", what);
    if (domid >= LX_DOMID_LIMIT)
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    return true;
}

bool lx_disk_add(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk, xg_err *err)
{
    if (!guest_domid(domid, "disk add", err))
        return false;
    libxl_device_disk dd;
    libxl_device_disk_init(&dd);
    bool ok = lx_disk_from_spec(disk, &dd, err);
    if (ok) {
        int rc = libxl_device_disk_add(d->ctx, domid, &dd, NULL);
        if (rc)
            ok = lx_err(err, rc, "disk add", domid);
    }
    libxl_device_disk_dispose(&dd);
    return ok;
}

bool lx_disk_remove(struct xg_drv *d, uint32_t domid, const char *vdev, bool force,
                    xg_err *err)
{
    if (!guest_domid(domid, "disk remove", err))
        return false;
    libxl_device_disk dd;
    libxl_device_disk_init(&dd);
    bool ok = true;
    int rc = libxl_vdev_to_device_disk(d->ctx, domid, vdev, &dd);
    if (rc) {
        ok = xg_err_internal(err, "disk remove: no %s in domain %" PRIu32, vdev, domid);
    } else {
        /* remove waits for the guest's blkfront to let go; destroy does not */
        rc = force ? libxl_device_disk_destroy(d->ctx, domid, &dd, NULL)
                   : libxl_device_disk_remove(d->ctx, domid, &dd, NULL);
        if (rc)
            ok = lx_err(err, rc, "disk remove", domid);
    }
    libxl_device_disk_dispose(&dd);
    return ok;
}

bool lx_cdrom_change(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                     xg_err *err)
{
    if (!guest_domid(domid, "cd change", err))
        return false;
    libxl_device_disk dd;
    libxl_device_disk_init(&dd);
    bool ok = lx_disk_from_spec(disk, &dd, err);
    if (ok) {
        int rc = libxl_cdrom_insert(d->ctx, domid, &dd, NULL);
        if (rc)
            ok = lx_err(err, rc, "cd change", domid);
    }
    libxl_device_disk_dispose(&dd);
    return ok;
}
