/* hooks.h: the XAPI semantics the generic server needs, implemented in
 * handlers/ (session.c, task.c). Declared here so that server/ never includes
 * per-class generated headers. All run with the world lock held. */
#ifndef XG_HOOKS_H
#define XG_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "call.h"

/* Validates ref as a live session; sets c->session/c->session_ref and
 * refreshes last_active. SESSION_INVALID [ref] otherwise. */
bool xg_hook_session_check(xg_call *c, const char *ref, xg_err *err);
/* Creates the task row a call runs under (name = wire name of the call),
 * sets c->task. TOO_MANY_PENDING_TASKS when full. */
bool xg_hook_task_begin(xg_call *c, const char *name, xg_err *err);
/* Ends c->task: success with result_xml (an XML-RPC <value> fragment, or ""
 * for void) or failure with err (TASK_CANCELLED → cancelled). For a sync
 * call's transient task, also removes it. */
void xg_hook_task_end(xg_call *c, bool ok, const xg_err *err,
                      const char *result_xml, size_t len, bool transient);
/* The task ref string of c->task (for the Async answer). */
const char *xg_hook_task_ref(const xg_call *c);

struct xg_http_request;
/* HTTP routes authenticate like XAPI: a session named by the `session_id`
 * query parameter or cookie (checked here), or Basic auth (checked by the
 * framework on the auth pool). Writes the session ref and its user name.
 * Takes the world lock itself; call without it (from an HTTP worker). */
bool xg_hook_http_session(const struct xg_http_request *rq, char *ref_out, size_t ref_len,
                          char *user_out, size_t user_len, xg_err *err);

/* After a route handler answered: a `task_id` query parameter names a task
 * the client made for this request (XO's getResource); it is settled from
 * the HTTP status (2xx success, else failure). Call without the world lock. */
void xg_hook_http_task_end(const struct xg_http_request *rq, int status);

#endif
