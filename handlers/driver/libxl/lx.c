/* lx.c: the libxl driver's table, open and close. Open follows libvirt's
 * libxlDriverConfigInit: logger, libxl_ctx_alloc, version check; any
 * failure disables the driver with a clear message. */
#include "lx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../server/log.h"

static void lx_close(struct xg_drv *d)
{
    if (!d)
        return;
    if (d->ctx)
        lx_events_stop(d);
    if (d->ctx)
        libxl_ctx_free(d->ctx);
    lx_xc_close(d->xch);
    if (d->xs)
        xs_close(d->xs);
    lx_logger_free(d->logger);
    free(d->watch);
    free(d->waiting);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static bool lx_open(struct xg_drv **out, const struct xg_drv_config *cfg,
                    const struct xg_drv_events *ev, xg_err *err)
{
    struct xg_drv *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    pthread_mutex_init(&d->lock, NULL);
    d->wake[0] = d->wake[1] = -1;
    d->watch = calloc(LX_DOMID_LIMIT, sizeof *d->watch);
    d->waiting = calloc(LX_DOMID_LIMIT, sizeof *d->waiting);
    if (!d->watch || !d->waiting)
        abort();
    if (ev)
        d->ev = *ev;
    snprintf(d->state_dir, sizeof d->state_dir, "%s", cfg->state_dir ? cfg->state_dir : "");
    d->logger = lx_logger_new();
    int rc = libxl_ctx_alloc(&d->ctx, LIBXL_VERSION, 0, d->logger);
    if (rc) {
        d->ctx = NULL;
        XG_ERROR("libxl", "libxl_ctx_alloc failed (rc=%d): is this a Xen dom0, running as root?",
                 rc);
        lx_close(d);
        return xg_err_internal(err, "libxl driver: cannot open libxenlight (not dom0, or not root)");
    }
    const libxl_version_info *vi = libxl_get_version_info(d->ctx);
    if (!vi) {
        lx_close(d);
        return xg_err_internal(err, "libxl driver: cannot read the Xen version");
    }
    d->xs = xs_open(0);
    if (!d->xs)
        XG_WARN("libxl", "xs_open failed: guest data and device stats unavailable");
    d->xch = lx_xc_open();
    if (!d->xch)
        XG_WARN("libxl", "xc_interface_open failed: pcpu idle times unavailable");
    if (!lx_events_start(d, err)) {
        lx_close(d);
        return false;
    }
    XG_INFO("libxl", "libxl driver on Xen %d.%d%s", vi->xen_version_major,
            vi->xen_version_minor, vi->xen_version_extra ? vi->xen_version_extra : "");
    *out = d;
    return true;
}

const struct xg_driver xg_driver_libxl = {
    .name = "libxl",
    .open = lx_open,
    .close = lx_close,
    .host_info = lx_host_info,
    .host_stats = lx_host_stats,
    .pcpu_list = lx_pcpu_list,
    .host_console = lx_host_console,
    .dom_list = lx_dom_list,
    .dom_info = lx_dom_info,
    .dom_vcpus = lx_dom_vcpus,
    .dom_stats = lx_dom_stats,
    .dom_create = lx_dom_create,
    .dom_shutdown = lx_dom_shutdown,
    .dom_reboot = lx_dom_reboot,
    .dom_suspend = lx_dom_suspend,
    .dom_destroy = lx_dom_destroy,
    .dom_pause = lx_dom_pause,
    .dom_unpause = lx_dom_unpause,
    .dom_set_memory_target = lx_set_memory_target,
    .dom_set_vcpus_online = lx_set_vcpus_online,
    .nic_add = lx_nic_add,
    .nic_remove = lx_nic_remove,
    .dom_disk_add = lx_disk_add,
    .dom_disk_remove = lx_disk_remove,
    .dom_cdrom_change = lx_cdrom_change,
    .guest_read = lx_guest_read,
    .guest_list = lx_guest_list,
    .console_open = lx_console_open,
};
