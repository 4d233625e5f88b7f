/* session.c: sessions as XAPI keeps them: login (password checked on the
 * auth pool, never under the world lock), logout, the session check every
 * call goes through, 24 h idle expiry, at most N sessions per user name with
 * the least recently active evicted (not refused), and HTTP auth for the
 * metrics endpoints. Session refs are OpaqueRef:<uuid4> (server/random.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/auth.h"
#include "../server/hooks.h"
#include "../server/http_routes.h"
#include "../server/limits.h"
#include "../server/log.h"
#include "../server/timer.h"
#include "../server/world.h"
#include "events.h"
#include "gw.h"
#include "gw_util.h"
#include "session_table.h"

#define LAST_ACTIVE_REFRESH_SECS 600   /* XAPI refreshes at most this often */
#define EXPIRY_SCAN_MS 30000

/* ---- creating a session ------------------------------------------------ */

static xapi_session *session_create(const char *uname, const char *originator,
                                    xg_err *err)
{
    xapi_session *s = xg_obj_new(&xapi_class_session);
    int64_t now = gw_now();
    bool t = true;
    gw_init_ref(s, XAPI_SESSION_F_THIS_HOST, gw_host()->obj.ref.s);
    gw_init_field(s, XAPI_SESSION_F_LAST_ACTIVE, &now);
    gw_init_field(s, XAPI_SESSION_F_VALIDATION_TIME, &now);
    gw_init_field(s, XAPI_SESSION_F_IS_LOCAL_SUPERUSER, &t);
    gw_init_str(s, XAPI_SESSION_F_AUTH_USER_NAME, uname);
    gw_init_str(s, XAPI_SESSION_F_ORIGINATOR, originator);
    if (!xg_store_add(s, NULL, err)) {
        xg_obj_free(s);
        return NULL;
    }
    /* Evict the least recently active sessions of this user beyond the cap. */
    uint32_t cap = xg_cfg.max_sessions_per_user ? xg_cfg.max_sessions_per_user
                                                : XG_MAX_SESSIONS_PER_USER;
    xapi_session *victim = gw_session_table_add(s, uname, cap);
    for (; victim; victim = gw_session_table_over_cap(s, cap))
        gw_session_destroy(victim);
    return s;
}

void gw_session_destroy(xapi_session *s)
{
    gw_session_table_remove(s);
    gw_events_session_gone(s);
    xg_store_remove(s);
}

/* ---- login ------------------------------------------------------------- */

struct login {
    xg_call *c;
    const char *uname, *originator;
};

static void login_checked(void *arg, bool ok, const xg_err *auth_err)
{
    struct login *l = arg;
    xg_world_lock();
    xg_err err = XG_ERR_INIT;
    xapi_session *s = NULL;
    if (!ok) {
        err = *auth_err;
    } else if ((s = session_create(l->uname, l->originator, &err)) != NULL) {
        XG_INFO("session", "login of %s from %s", l->uname,
                l->c->client_addr ? l->c->client_addr : "?");
    }
    if (s)
        xg_call_finish(l->c, true, NULL, &s->obj.ref);
    else
        xg_call_finish(l->c, false, &err, NULL);
    xg_world_unlock();
}

static bool start_login(xg_call *c, const char *uname, const char *pwd,
                        const char *originator, xg_err *err)
{

    struct login *l = xg_arena_alloc(c->arena, sizeof(*l));
    if (!l)
        return xg_err_internal(err, "out of request memory");
    l->c = c;
    l->uname = uname;
    l->originator = originator;
    xg_call_defer(c);
    xg_auth_check_async(c->client_addr, uname, pwd, login_checked, l);
    return true;
}

/* Root on the local Unix socket (SO_PEERCRED): XAPI trusts it with no
 * password check, whatever credentials it sends (Ansible's
 * xenserver_facts sends empty ones). */
static bool local_root_login(const char *uname, const char *originator,
                             xg_ref *result_out, xg_err *err)
{
    xapi_session *s = session_create(uname, originator, err);
    if (!s)
        return false;
    XG_INFO("session", "login of %s as local root", uname[0] ? uname : "(no name)");
    *result_out = s->obj.ref;
    return true;
}

bool handle_session_login_with_password(xg_call *c, const char *uname, const char *pwd,
                                        const char *version, const char *originator,
                                        xg_ref *result_out, xg_err *err)
{
    (void)version;          /* XAPI ignores the client's API version too */
    if (c->local_root)
        return local_root_login(uname, originator, result_out, err);
    return start_login(c, uname, pwd, originator, err);   /* answered later */
}

bool handle_session_slave_local_login_with_password(xg_call *c, const char *uname,
                                                    const char *pwd, xg_ref *result_out,
                                                    xg_err *err)
{
    if (c->local_root)
        return local_root_login(uname, "", result_out, err);
    return start_login(c, uname, pwd, "", err);
}

bool handle_session_logout(xg_call *c, xg_err *err)
{
    (void)err;
    gw_session_destroy(c->session);
    c->session = NULL;
    return true;
}

bool handle_session_local_logout(xg_call *c, xg_err *err)
{
    return handle_session_logout(c, err);
}

/* The distinct auth_user_sid of open sessions: only externally authenticated
 * users have one, so with local users alone the answer is empty. What matters
 * to clients is that it needs a valid session (XO Lite checks a remembered
 * session with it and logs out on SESSION_INVALID). */
bool handle_session_get_all_subject_identifiers(xg_call *c, xg_set *result_out, xg_err *err)
{
    uint32_t cap = xg_store_count(&xapi_class_session);
    const char **sids = xg_arena_alloc(c->arena, sizeof(char *) * (cap ? cap : 1));
    if (!sids)
        return xg_err_internal(err, "out of request memory");
    uint32_t n = 0;
    uint64_t cur = 0;
    xapi_session *s;
    while ((s = xg_store_next(&xapi_class_session, &cur)) != NULL && n < cap) {
        if (!s->auth_user_sid || !*s->auth_user_sid)
            continue;
        bool seen = false;
        for (uint32_t i = 0; i < n && !seen; i++)
            seen = strcmp(sids[i], s->auth_user_sid) == 0;
        if (!seen)
            sids[n++] = s->auth_user_sid;
    }
    result_out->items = (void *)sids;
    result_out->n = result_out->cap = n;
    return true;
}

/* change_password: the old password is checked on the auth pool, then the
 * new one is hashed there too; neither holds the world lock. */
struct chpw {
    xg_call *c;
    char user[256];
    const char *new_pwd;
};

static void chpw_checked(void *arg, bool ok, const xg_err *auth_err)
{
    struct chpw *p = arg;
    xg_err err = XG_ERR_INIT;
    bool done = ok && xg_auth_set_password(p->user, p->new_pwd, &err);
    if (!ok)
        err = *auth_err;
    xg_world_lock();
    xg_call_finish(p->c, done, done ? NULL : &err, NULL);
    xg_world_unlock();
}

bool handle_session_change_password(xg_call *c, const char *old_pwd, const char *new_pwd,
                                    xg_err *err)
{
    xapi_session *s = c->session;
    struct chpw *p = xg_arena_alloc(c->arena, sizeof(*p));
    if (!p)
        return xg_err_internal(err, "out of request memory");
    p->c = c;
    snprintf(p->user, sizeof(p->user), "%s", s->auth_user_name);
    p->new_pwd = new_pwd;
    xg_call_defer(c);
    xg_auth_check_async(c->client_addr, p->user, old_pwd, chpw_checked, p);
    return true;
}

/* ---- the check every call goes through -------------------------------- */

bool xg_hook_session_check(xg_call *c, const char *ref, xg_err *err)
{
    xapi_session *s = xg_store_get(&xapi_class_session, ref);
    if (!s)
        return xapi_err_session_invalid(err, ref);
    int64_t now = gw_now();
    if (now - s->last_active >= LAST_ACTIVE_REFRESH_SECS) {
        gw_set_time(s, GW_F(s, XAPI_SESSION_F_LAST_ACTIVE), now);
        gw_session_table_touch(s);
    }
    c->session = s;
    c->session_ref = s->obj.ref.s;
    return true;
}

/* ---- expiry ------------------------------------------------------------ */

static xg_timer *expiry_timer;

static void expiry_scan(void *arg)
{
    (void)arg;
    xg_timer_cancel(expiry_timer);      /* our own, fired handle */
    uint32_t idle = xg_cfg.session_idle_secs ? xg_cfg.session_idle_secs
                                             : XG_SESSION_IDLE_SECS;
    xg_world_lock();
    int64_t now = gw_now();
    uint64_t cur = 0;
    xapi_session *s;
    uint32_t n = 0;
    /* Removing while iterating is safe: the cursor skips vanished objects. */
    while ((s = xg_store_next(&xapi_class_session, &cur)) != NULL) {
        if (now - s->last_active > (int64_t)idle) {
            gw_session_destroy(s);
            n++;
        }
    }
    xg_world_unlock();
    if (n)
        XG_INFO("session", "expired %u idle sessions", n);
    expiry_timer = xg_timer_add(EXPIRY_SCAN_MS, expiry_scan, NULL);
}

void gw_sessions_start(void)
{
    expiry_timer = xg_timer_add(EXPIRY_SCAN_MS, expiry_scan, NULL);
}

/* ---- HTTP endpoints ---------------------------------------------------- */

bool xg_hook_http_session(const struct xg_http_request *rq, char *ref_out, size_t ref_len,
                          char *user_out, size_t user_len, xg_err *err)
{
    if (!xg_query_get(rq->query, "session_id", ref_out, ref_len) &&
        !xg_http_cookie_session(rq->cookie, ref_out, ref_len))
        return xapi_err_session_authentication_failed(err, "", "No credentials");
    xg_world_lock();
    xapi_session *s = xg_store_get(&xapi_class_session, ref_out);
    if (s)
        snprintf(user_out, user_len, "%s", s->auth_user_name ? s->auth_user_name : "");
    xg_world_unlock();
    return s ? true : xapi_err_session_invalid(err, ref_out);
}
