/* lx_errors.c: libxl ERROR_* → xg_err. libxl's codes say little (most
 * failures are ERROR_FAIL with details in libxl's own log, which lx_ctx.c
 * routes into ours), so nearly everything is INTERNAL_ERROR with a message
 * naming the operation; the XAPI-specific errors (VM_MISSING_PV_DRIVERS,
 * HOST_NOT_ENOUGH_FREE_MEMORY) are decided where the context is known. */
#include "lx_internal.h"

#include <inttypes.h>

#include "../../../server/log.h"

bool lx_err(xg_err *err, int rc, const char *what, uint32_t domid)
{
    const char *name = libxl_error_to_string((libxl_error)rc);
    XG_WARN("libxl", "%s (domain %" PRIu32 ") failed: rc=%d (%s)", what, domid, rc,
            name ? name : "?");
    switch (rc) {
    case ERROR_DOMAIN_NOTFOUND:
    case ERROR_DOMAIN_DESTROYED:
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    case ERROR_NOPARAVIRT:
        return xg_err_internal(err, "%s: domain %" PRIu32 " has no PV drivers", what, domid);
    case ERROR_GUEST_TIMEDOUT:
    case ERROR_TIMEDOUT:
        return xg_err_internal(err, "%s: domain %" PRIu32 " timed out", what, domid);
    case ERROR_NOMEM:
        return xg_err_internal(err, "%s: out of memory", what);
    case ERROR_INVAL:
        return xg_err_internal(err, "%s: invalid argument", what);
    case ERROR_NI:
    case ERROR_FEATURE_REMOVED:
        return xg_err_internal(err, "%s: not supported by this Xen", what);
    case ERROR_ABORTED:
        return xg_err_internal(err, "%s: aborted", what);
    case ERROR_LOCK_FAIL:
        return xg_err_internal(err, "%s: could not take the libxl lock", what);
    default:
        return xg_err_internal(err, "%s failed (libxl %s)", what, name ? name : "error");
    }
}
