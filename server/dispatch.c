/* dispatch.c: runs one call: finds the method, checks the parameter count
 * (with defaults) and the session, starts the task of async-capable
 * messages, runs the generated marshaller and makes sure exactly one answer
 * (or task result) comes out. Never parses bodies: params arrive decoded. */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_priv.h"
#include "hooks.h"
#include "log.h"
#include "marshal.h"
#include "world.h"

static void list_methods(xg_call *c)
{
    xg_envelope_bare_begin(c);
    c->w.ops->begin_array(&c->w);
    for (uint32_t i = 0; i < xg_nmethods; i++)
        if (!(xg_methods[i].flags & XG_M_HIDDEN))
            xg_write_cstr(&c->w, xg_methods[i].name);
    c->w.ops->end_array(&c->w);
    xg_envelope_bare_end(c);
}

static bool count_mismatch(xg_call *c, const xg_method *m, int64_t received, xg_err *err)
{
    char exp[24], rec[24];
    snprintf(exp, sizeof(exp), "%u", (unsigned)(m->nparams - m->ndefaults));
    snprintf(rec, sizeof(rec), "%lld", (long long)received);
    /* XAPI names the message without its Async. prefix */
    return xg_err_set(err, "MESSAGE_PARAMETER_COUNT_MISMATCH", 3, m->sync_name, exp, rec);
}

static bool unknown_method(const char *name, xg_err *err)
{
    bool async = strncmp(name, "Async.", 6) == 0;
    if (async && xg_method_find(name + 6)) {
        char msg[XG_ERR_PARAM_LEN];
        snprintf(msg, sizeof(msg), "No async mode for this operation (rpc: %s)", name + 6);
        return xg_err_set(err, "Fault", 1, msg);
    }
    return xg_err_set(err, "MESSAGE_METHOD_UNKNOWN", 1, async ? name + 6 : name);
}

/* The declared params after the session, missing defaulted ones filled in;
 * extra trailing params are dropped (XAPI ignores them for messages with
 * defaults). */
static const xg_value *full_params(xg_call *c, const xg_method *m, uint32_t skip,
                                   uint32_t given, xg_err *err)
{
    if (m->nparams == 0)
        return c->params + skip;
    if (given >= m->nparams)
        return c->params + skip;
    xg_value *p = xg_arena_alloc(c->arena, sizeof(*p) * m->nparams);
    if (!p) {
        xg_err_internal(err, "out of call memory");
        return NULL;
    }
    memcpy(p, c->params + skip, sizeof(*p) * given);
    uint32_t first_default = m->nparams - m->ndefaults;
    for (uint32_t i = given; i < m->nparams; i++)
        p[i] = m->defaults[i - first_default];
    return p;
}

/* An Async call whose handler streams: the task result is the whole value
 * as an XML-RPC fragment, so run the producer to the end here. */
static void finish_async_stream(xg_call *c)
{
    xg_out tmp;
    xg_writer w;
    xg_out_init(&tmp);
    xg_writer_init_xml(&w, &tmp);
    while (!c->producer(c, &w, c->producer_state))
        ;
    c->producer = NULL;
    size_t len;
    char *xml = xg_out_strdup(&tmp, &len);
    xg_out_reset(&tmp);
    c->finished = true;
    xg_hook_task_end(c, true, NULL, xml, len, false);
    free(xml);
    xg_call_unref(c);
}

static void run(xg_call *c, const xg_method *m, xg_err *err)
{
    bool sess = m->flags & XG_M_SESSION;
    int64_t received = (int64_t)c->nparams - (sess ? 1 : 0);
    int64_t required = m->nparams - m->ndefaults;
    bool count_ok = m->ndefaults ? received >= required : received == m->nparams;
    if (!count_ok) {
        count_mismatch(c, m, received, err);
        return;
    }
    if (sess) {
        const xg_value *s = &c->params[0];
        if (s->t != XG_V_STRING) {
            xg_err_internal(err, "Failure(\"Expected string (ref), got a %s\")",
                            xg_vtype_name(s->t));
            return;
        }
        if (!xg_hook_session_check(c, s->u.s, err))
            return;
    }
    uint32_t given = (uint32_t)received;
    const xg_value *params = full_params(c, m, sess ? 1 : 0, given, err);
    if (!params)
        return;

    const char *task_ref = NULL;
    if (m->flags & XG_M_TASK) {
        if (!xg_hook_task_begin(c, c->method_name, err))
            return;
        if (m->flags & XG_M_ASYNC) {
            task_ref = xg_arena_strdup(c->arena, xg_hook_task_ref(c));
            if (!task_ref) {
                xg_err tmp = XG_ERR_INIT;
                xg_err_internal(&tmp, "out of call memory");
                xg_hook_task_end(c, false, &tmp, "", 0, false);
                *err = tmp;
                return;
            }
            c->is_async = true;
            xg_call_ref(c);            /* dropped when the task ends */
        }
    }
    xg_err herr = XG_ERR_INIT;
    bool ok = m->fn(c, params, m->data, &herr);
    if (!ok) {
        if (!herr.code)
            xg_err_internal(&herr, "%s failed without an error", m->sync_name);
        xg_call_finish(c, false, &herr, NULL);
    } else if (c->producer && !c->finished) {
        if (c->is_async)
            finish_async_stream(c);
        else
            xg_call_start_stream(c);
    } else if (!c->finished && !c->deferred) {
        /* a marshaller always returns or defers; keep the promise anyway */
        xg_err_internal(&herr, "%s returned no result", m->sync_name);
        xg_call_finish(c, false, &herr, NULL);
    }
    if (task_ref) {
        /* Async: the answer is the task, whatever the handler did. A
         * deferred handler finishes later into the task, so `finished`
         * stays as the handler left it. */
        xg_out_reset(&c->out);
        xg_envelope_begin_success(c);
        xg_write_cstr(&c->w, task_ref);
        xg_envelope_end_success(c);
        xg_err ferr = XG_ERR_INIT;
        if (!xg_store_flush(&ferr))
            XG_ERROR("dispatch", "state flush failed: %s", ferr.nparams ? ferr.param[0] : "");
        c->responded = true;
        if (c->on_response)
            c->on_response(c);
    }
}

void xg_dispatch(xg_call *c)
{
    xg_world_lock();
    xg_err err = XG_ERR_INIT;
    const char *name = c->method_name ? c->method_name : "";
    const xg_method *m = NULL;
    if (strcmp(name, "system.listMethods") == 0) {
        list_methods(c);
        c->finished = c->responded = true;
        if (c->on_response)
            c->on_response(c);
        xg_world_unlock();
        return;
    }
    if (strcmp(name, "system.isAlive") == 0) {
        /* echoes its first parameter, like XAPI */
        static const xg_type str = {.kind = XG_K_STRING, .spelling = "string"};
        static const xg_method alive = {.name = "system.isAlive", .result = &str};
        const char *echo = c->nparams && c->params[0].t == XG_V_STRING ? c->params[0].u.s : "";
        c->method = &alive;
        xg_call_finish(c, true, NULL, &echo);
        xg_world_unlock();
        return;
    }
    m = xg_method_find(name);
    if (!m) {
        unknown_method(name, &err);
    } else {
        c->method = m;
        run(c, m, &err);
    }
    if (err.code && !c->finished)
        xg_call_finish(c, false, &err, NULL);
    xg_world_unlock();
}
