/* tasks.h: task helpers for handlers (task.c). World lock held. */
#ifndef XG_TASKS_H
#define XG_TASKS_H

#include "gw.h"

/* Makes the task of call c cancellable: task.cancel will call fn(arg) (with
 * the world lock held); the operation then finishes with TASK_CANCELLED or
 * normally. */
typedef void (*gw_cancel_fn)(void *arg);
void gw_task_set_canceller(xg_call *c, gw_cancel_fn fn, void *arg);
void gw_tasks_start(void);

/* Tasks of HTTP transfers (no xg_call): the pending task the client named
 * with task_id, else a new one in session_ref; ended with a result (an
 * XML-RPC <value> fragment) or an error. */
bool gw_task_http_begin(const char *label, const char *session_ref,
                        const char *task_id, char ref_out[XG_REF_LEN], xg_err *err);
void gw_task_http_progress(const char *ref, double progress);
void gw_task_http_end(const char *ref, bool ok, const xg_err *err,
                      const char *result_xml);

#endif
