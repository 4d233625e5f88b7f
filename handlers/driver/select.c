/* select.c: picks the driver. "auto" uses libxl on a Xen control domain
 * (/proc/xen/capabilities contains "control_d", as libvirt's
 * libxlDriverShouldLoad checks) and sim everywhere else; it logs which and
 * why. Never opens the driver itself. */
#include "driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../server/log.h"

#ifndef XG_CAPS_PATH
#define XG_CAPS_PATH "/proc/xen/capabilities"
#endif

/* Sets *why and returns whether this is a Xen control domain. */
static bool on_control_domain(const char **why)
{
    char buf[256];
    FILE *f = fopen(XG_CAPS_PATH, "re");
    if (!f) {
        *why = errno == ENOENT ? XG_CAPS_PATH " does not exist (not running on Xen, "
                                 "or xenfs not mounted)"
                               : XG_CAPS_PATH " is not readable";
        return false;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!strstr(buf, "control_d")) {
        *why = XG_CAPS_PATH " lacks control_d (a Xen guest, not dom0)";
        return false;
    }
    *why = XG_CAPS_PATH " contains control_d";
    return true;
}

static const struct xg_driver *libxl_driver(void)
{
#ifdef XG_HAVE_LIBXL
    return &xg_driver_libxl;
#else
    return NULL;
#endif
}

const struct xg_driver *xg_driver_select(const char *want, xg_err *err)
{
    const char *why = "";
    if (!want || strcmp(want, "auto") == 0) {
        bool xen = on_control_domain(&why);
        if (xen && libxl_driver()) {
            XG_INFO("driver", "using libxl: %s", why);
            return libxl_driver();
        }
        if (xen)
            why = "on a Xen control domain, but built without libxenlight";
        XG_INFO("driver", "using sim: %s", why);
        return &xg_driver_sim;
    }
    if (strcmp(want, "sim") == 0) {
        XG_INFO("driver", "using sim: requested");
        return &xg_driver_sim;
    }
    if (strcmp(want, "libxl") == 0) {
        if (!libxl_driver()) {
            XG_ERROR("driver", "libxl requested but this build has no libxenlight");
            xg_err_internal(err, "driver libxl: built without libxenlight");
            return NULL;
        }
        if (!on_control_domain(&why)) {
            XG_ERROR("driver", "libxl requested but this is not a Xen control domain: %s", why);
            xg_err_internal(err, "driver libxl: not a Xen control domain (%s)", why);
            return NULL;
        }
        XG_INFO("driver", "using libxl: requested, %s", why);
        return libxl_driver();
    }
    XG_ERROR("driver", "unknown driver '%.64s' (auto, sim, libxl)", want);
    xg_err_internal(err, "unknown driver '%.64s': expected auto, sim or libxl", want);
    return NULL;
}
