/* guest_path.h: validation of a path under /local/domain/<domid>/ given to
 * guest_read/guest_list. Shared by every driver so they refuse the same
 * things: relative, at most XG_GUEST_PATH_MAX bytes, xenstore's character
 * set, no empty, "." or ".." components. */
#ifndef XG_GUEST_PATH_H
#define XG_GUEST_PATH_H

#include <stdbool.h>
#include <string.h>

#include "../../server/xg_err.h"

#define XG_GUEST_PATH_MAX 256

static inline bool xg_guest_path_ok(const char *path, bool allow_empty, xg_err *err)
{
    size_t n = strnlen(path, XG_GUEST_PATH_MAX + 1);
    if (n > XG_GUEST_PATH_MAX || (n == 0 && !allow_empty))
        return xg_err_internal(err, "guest path too long or empty");
    const char *comp = path;
    for (size_t i = 0; i <= n && n > 0; i++) {
        char c = path[i];
        if (c == '/' || c == '\0') {
            size_t clen = (size_t)(path + i - comp);
            if (clen == 0 || (clen == 1 && comp[0] == '.') ||
                (clen == 2 && comp[0] == '.' && comp[1] == '.'))
                return xg_err_internal(err, "bad guest path component");
            comp = path + i + 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '@' || c == '.'))
            return xg_err_internal(err, "bad character in guest path");
    }
    return true;
}

#endif
