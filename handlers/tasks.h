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

#endif
