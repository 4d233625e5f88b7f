/* lx_guest.c: guest data from xenstore under /local/domain/<domid>/.
 * Everything here is written by the guest: values are cut to len, lists to
 * max entries and names to XG_GUEST_PATH_MAX; nothing is interpreted. */
#include "lx_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../guest_path.h"
#include "../../../server/log.h"

static bool full_path(uint32_t domid, const char *path, char *buf, size_t n, xg_err *err)
{
    if (domid >= LX_DOMID_LIMIT)
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    snprintf(buf, n, "/local/domain/%" PRIu32 "%s%s", domid, path[0] ? "/" : "", path);
    return true;
}

bool lx_guest_read(struct xg_drv *d, uint32_t domid, const char *path,
                   char *buf, size_t len, xg_err *err)
{
    char full[XG_GUEST_PATH_MAX + 32];
    if (len == 0)
        return xg_err_internal(err, "guest_read: empty buffer");
    if (!xg_guest_path_ok(path, false, err) || !full_path(domid, path, full, sizeof full, err))
        return false;
    if (!d->xs)
        return xg_err_internal(err, "xenstore is not available");
    unsigned int vlen = 0;
    char *v = xs_read(d->xs, XBT_NULL, full, &vlen);
    buf[0] = '\0';
    if (!v) {
        if (errno == ENOENT)
            return true;            /* absent reads as empty, see driver.h */
        XG_INFO("libxl", "xs_read %s: %s", full, strerror(errno));
        return xg_err_internal(err, "cannot read guest data");
    }
    size_t n = vlen < len - 1 ? vlen : len - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    free(v);
    return true;
}

bool lx_guest_list(struct xg_drv *d, uint32_t domid, const char *path, xg_arena *a,
                   char ***names_out, uint32_t *n_out, uint32_t max, xg_err *err)
{
    char full[XG_GUEST_PATH_MAX + 32];
    if (!xg_guest_path_ok(path, true, err) || !full_path(domid, path, full, sizeof full, err))
        return false;
    if (!d->xs)
        return xg_err_internal(err, "xenstore is not available");
    unsigned int num = 0;
    char **dir = xs_directory(d->xs, XBT_NULL, full, &num);
    if (!dir && errno != ENOENT) {
        XG_INFO("libxl", "xs_directory %s: %s", full, strerror(errno));
        return xg_err_internal(err, "cannot list guest data");
    }
    uint32_t n = dir ? (num < max ? num : max) : 0;
    char **names = xg_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *names);
    bool ok = names != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        names[i] = xg_arena_strndup(a, dir[i], strnlen(dir[i], XG_GUEST_PATH_MAX));
        ok = names[i] != NULL;
    }
    free(dir);
    if (!ok)
        return xg_err_internal(err, "guest_list: arena exhausted");
    *names_out = names;
    *n_out = n;
    return true;
}
