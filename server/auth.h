/* auth.h: user authentication for session.login_with_password and HTTP
 * Basic auth. --auth file: salted hashes (yescrypt, via libcrypt) in
 * <state_dir>/users, one "name:hash" per line, written atomically;
 * --auth pam: PAM service "xapi", like XAPI. Checks run on the caller's
 * thread and cost the hash's time (~13 ms yescrypt): callers must not hold
 * the world lock. */
#ifndef XG_AUTH_H
#define XG_AUTH_H

#include <stdbool.h>
#include "xg_err.h"

bool xg_auth_init(const char *mode, const char *state_dir, xg_err *err);
/* On first start (no users file): root's password from
 * XAPI_GATEWAY_ROOT_PASSWORD or generated and printed once. */
bool xg_auth_ensure_root(xg_err *err);
/* true = good credentials; false with SESSION_AUTHENTICATION_FAILED
 * [user, "Authentication failure"] otherwise. */
bool xg_auth_check(const char *user, const char *password, xg_err *err);
/* The same check on the auth worker pool (at most one thread per core), so
 * that logins never hold the world lock nor an I/O thread for the hash time.
 * Per source address: one check at a time, and after repeated failures a
 * growing delay before the next (auth.c), so a guesser cannot occupy the
 * pool. cb runs on a pool thread (or the caller's, when refused at once)
 * without the world lock; err is NULL when ok. */
void xg_auth_check_async(const char *client_addr, const char *user, const char *password,
                         void (*cb)(void *arg, bool ok, const xg_err *err),
                         void *arg);
bool xg_auth_set_password(const char *user, const char *password, xg_err *err);

#endif
