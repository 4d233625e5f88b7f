/* task.c: tasks as XAPI keeps them (spec/xapi-wire.md §6): the rows that
 * Async calls (and, transiently, sync calls of async-capable messages) run
 * under, client-made tasks, cancel, and the garbage collector (completed
 * tasks beyond 200 oldest first, completed older than 65 min, pending older
 * than 24 h). Status is always written last, because clients settle on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/hooks.h"
#include "../server/http_routes.h"
#include "../server/limits.h"
#include "../server/log.h"
#include "../server/timer.h"
#include "../server/world.h"
#include "gw.h"
#include "gw_util.h"
#include "tasks.h"

#define GC_PERIOD_MS 30000
#define MAX_PENDING_TASKS 4000

/* Cancellation hooks of running operations, keyed by task object. Few tasks
 * run at once, so a small array scanned linearly is enough and bounded. */
struct canceller { xapi_task *t; gw_cancel_fn fn; void *arg; };
static struct canceller cancellers[256];

static xapi_task *task_new(const char *label, const char *desc, xg_call *c, xg_err *err)
{
    if (xg_store_count(&xapi_class_task) >= MAX_PENDING_TASKS + XG_MAX_TASKS_DONE) {
        xapi_err_too_many_pending_tasks(err);
        return NULL;
    }
    xapi_task *t = xg_obj_new(&xapi_class_task);
    int64_t now = gw_now();
    gw_init_str(t, XAPI_TASK_F_NAME_LABEL, label);
    gw_init_str(t, XAPI_TASK_F_NAME_DESCRIPTION, desc);
    gw_init_field(t, XAPI_TASK_F_CREATED, &now);
    gw_init_str(t, XAPI_TASK_F_TYPE, "<none/>");
    gw_init_str(t, XAPI_TASK_F_BACKTRACE, "()");
    gw_init_ref(t, XAPI_TASK_F_RESIDENT_ON, gw_host()->obj.ref.s);
    if (c && c->session)
        gw_init_ref(t, XAPI_TASK_F_SESSION, ((xg_obj *)c->session)->ref.s);
    if (c && c->http_task_id && xg_store_get(&xapi_class_task, c->http_task_id))
        gw_init_ref(t, XAPI_TASK_F_SUBTASK_OF, c->http_task_id);
    if (!xg_store_add(t, NULL, err)) {
        xg_obj_free(t);
        return NULL;
    }
    return t;
}

bool xg_hook_task_begin(xg_call *c, const char *name, xg_err *err)
{
    xapi_task *t = task_new(name, "", c, err);
    if (!t)
        return false;
    c->task = t;
    return true;
}

const char *xg_hook_task_ref(const xg_call *c)
{
    return c->task ? ((const xg_obj *)c->task)->ref.s : XG_REF_NULL;
}

static void forget_canceller(xapi_task *t)
{
    for (size_t i = 0; i < sizeof(cancellers) / sizeof(cancellers[0]); i++)
        if (cancellers[i].t == t)
            cancellers[i].t = NULL;
}

static void task_complete(xapi_task *t, bool ok, const xg_err *err,
                          const char *result, size_t len)
{
    int64_t now = gw_now();
    forget_canceller(t);
    xg_set none = {0};
    xg_store_set(t, GW_F(t, XAPI_TASK_F_ALLOWED_OPERATIONS), &none);
    gw_set_time(t, GW_F(t, XAPI_TASK_F_FINISHED), now);
    gw_set_float(t, GW_F(t, XAPI_TASK_F_PROGRESS), 1.0);
    int status;
    if (ok) {
        char *r = strndup(result ? result : "", len);
        gw_set_str(t, GW_F(t, XAPI_TASK_F_RESULT), r ? r : "");
        free(r);
        status = XAPI_TASK_STATUS_TYPE_SUCCESS;
    } else {
        const char *items[1 + XG_ERR_MAX_PARAMS];
        items[0] = err->code;
        for (int i = 0; i < err->nparams; i++)
            items[1 + i] = err->param[i];
        xg_set info = { .items = (void *)items, .n = 1u + err->nparams,
                        .cap = 1u + err->nparams };
        xg_store_set(t, GW_F(t, XAPI_TASK_F_ERROR_INFO), &info);
        /* as XAPI turns its Task_cancelled exception into the cancelled
         * state: the one place an error's identity picks an outcome */
        status = strcmp(err->code, XAPI_ERR_TASK_CANCELLED) == 0
                     ? XAPI_TASK_STATUS_TYPE_CANCELLED
                     : XAPI_TASK_STATUS_TYPE_FAILURE;
    }
    gw_set_enum(t, GW_F(t, XAPI_TASK_F_STATUS), status);       /* last: clients settle on it */
    /* task.destroy while it ran only marked it (handle_task_destroy): as
     * XAPI, it goes now that it has ended */
    const xg_map *ops = &t->current_operations;
    for (uint32_t i = 0; i < ops->n; i++)
        if (strcmp(((char *const *)ops->keys)[i], "task") == 0 &&
            ((const int *)ops->vals)[i] == XAPI_TASK_ALLOWED_OPERATIONS_DESTROY) {
            xg_store_remove(t);
            return;
        }
}

void xg_hook_task_end(xg_call *c, bool ok, const xg_err *err,
                      const char *result_xml, size_t len, bool transient)
{
    xapi_task *t = c->task;
    if (!t || !t->obj.in_store)
        return;
    if (transient) {
        forget_canceller(t);
        xg_store_remove(t);
    } else {
        task_complete(t, ok, err, result_xml, len);
    }
    c->task = NULL;
}

/* ---- tasks of HTTP transfers -------------------------------------------- */

bool gw_task_http_begin(const char *label, const char *session_ref,
                        const char *task_id, char ref_out[XG_REF_LEN], xg_err *err)
{
    xapi_task *t = task_id && task_id[0] ? xg_store_get(&xapi_class_task, task_id) : NULL;
    if (t && t->status != XAPI_TASK_STATUS_TYPE_PENDING)
        t = NULL;
    if (!t) {
        t = task_new(label, "", NULL, err);
        if (!t)
            return false;
        if (session_ref && xg_store_get(&xapi_class_session, session_ref))
            gw_set_ref(t, GW_F(t, XAPI_TASK_F_SESSION), session_ref);
    }
    snprintf(ref_out, XG_REF_LEN, "%s", t->obj.ref.s);
    return true;
}

void gw_task_http_progress(const char *ref, double progress)
{
    xapi_task *t = xg_store_get(&xapi_class_task, ref);
    if (t && t->status == XAPI_TASK_STATUS_TYPE_PENDING)
        gw_set_float(t, GW_F(t, XAPI_TASK_F_PROGRESS), progress);
}

void gw_task_http_end(const char *ref, bool ok, const xg_err *err,
                      const char *result_xml)
{
    xapi_task *t = xg_store_get(&xapi_class_task, ref);
    if (t && t->status == XAPI_TASK_STATUS_TYPE_PENDING)
        task_complete(t, ok, err, result_xml, result_xml ? strlen(result_xml) : 0);
}

void gw_task_set_canceller(xg_call *c, gw_cancel_fn fn, void *arg)
{
    xapi_task *t = c->task;
    if (!t)
        return;
    for (size_t i = 0; i < sizeof(cancellers) / sizeof(cancellers[0]); i++) {
        if (!cancellers[i].t || cancellers[i].t == t) {
            cancellers[i] = (struct canceller){ t, fn, arg };
            int op = XAPI_TASK_ALLOWED_OPERATIONS_CANCEL;
            xg_store_set_add(t, GW_F(t, XAPI_TASK_F_ALLOWED_OPERATIONS), &op);
            return;
        }
    }
}

void xg_hook_http_task_end(const struct xg_http_request *rq, int status)
{
    char ref[XG_REF_LEN + 8];
    if (!xg_query_get(rq->query, "task_id", ref, sizeof(ref)))
        return;
    xg_world_lock();
    xapi_task *t = xg_store_get(&xapi_class_task, ref);
    if (t && t->status == XAPI_TASK_STATUS_TYPE_PENDING) {
        xg_err e = XG_ERR_INIT;
        char code[16];
        snprintf(code, sizeof(code), "%d", status);
        xapi_err_internal_error(&e, code);
        task_complete(t, status >= 200 && status < 300, &e, "", 0);
        xg_store_flush(&e);
    }
    xg_world_unlock();
}

/* ---- task.* messages --------------------------------------------------- */

bool handle_task_create(xg_call *c, const char *label, const char *description,
                        xg_ref *result_out, xg_err *err)
{
    xapi_task *t = task_new(label, description, c, err);
    if (!t)
        return false;
    *result_out = t->obj.ref;
    return true;
}

bool handle_task_destroy(xg_call *c, xapi_task *self, xg_err *err)
{
    (void)c; (void)err;
    if (self->status == XAPI_TASK_STATUS_TYPE_PENDING && self->finished == 0) {
        /* XAPI only marks a running task; it is removed when it ends. */
        const char *k = "task";
        int v = XAPI_TASK_ALLOWED_OPERATIONS_DESTROY;
        xg_err dup = XG_ERR_INIT;
        xg_store_map_add(self, GW_F(self, XAPI_TASK_F_CURRENT_OPERATIONS), &k, &v, &dup);
        return true;
    }
    forget_canceller(self);
    xg_store_remove(self);
    return true;
}

bool handle_task_cancel(xg_call *c, xapi_task *task, xg_err *err)
{
    (void)c;
    for (size_t i = 0; i < sizeof(cancellers) / sizeof(cancellers[0]); i++) {
        if (cancellers[i].t == task) {
            struct canceller k = cancellers[i];
            cancellers[i].t = NULL;
            k.fn(k.arg);
            return true;
        }
    }
    if (task->status == XAPI_TASK_STATUS_TYPE_PENDING && task->finished == 0 &&
        strcmp(task->name_label, "") != 0 && strncmp(task->name_label, "Async.", 6) != 0) {
        /* A client-made task: cancelling it just settles it. */
        xg_err e = XG_ERR_INIT;
        xapi_err_task_cancelled(&e, task->obj.ref.s);
        task_complete(task, false, &e, NULL, 0);
        return true;
    }
    return xapi_err_operation_not_allowed(err, "This task cannot be cancelled");
}

/* ---- garbage collection ------------------------------------------------ */

static xg_timer *gc_timer;

static void task_gc(void *arg)
{
    (void)arg;
    xg_timer_cancel(gc_timer);      /* our own, fired handle */
    xg_world_lock();
    int64_t now = gw_now();
    uint32_t done = 0;
    uint64_t cur = 0;
    xapi_task *t;
    /* First pass: age limits, and count what is left completed. */
    while ((t = xg_store_next(&xapi_class_task, &cur)) != NULL) {
        bool pending = t->status == XAPI_TASK_STATUS_TYPE_PENDING;
        if ((pending && now - t->created > XG_TASK_PENDING_TTL_SECS && !t->finished) ||
            (!pending && t->finished && now - t->finished > XG_TASK_DONE_TTL_SECS)) {
            forget_canceller(t);
            xg_store_remove(t);
        } else if (!pending) {
            done++;
        }
    }
    /* Second pass: oldest completed first beyond the cap (creation order is
     * the iteration order, which approximates completion order). */
    cur = 0;
    while (done > XG_MAX_TASKS_DONE && (t = xg_store_next(&xapi_class_task, &cur)) != NULL) {
        if (t->status != XAPI_TASK_STATUS_TYPE_PENDING) {
            xg_store_remove(t);
            done--;
        }
    }
    xg_world_unlock();
    gc_timer = xg_timer_add(GC_PERIOD_MS, task_gc, NULL);
}

void gw_tasks_start(void)
{
    gc_timer = xg_timer_add(GC_PERIOD_MS, task_gc, NULL);
}
