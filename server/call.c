/* call.c: life of an xg_call (call.h): creation, references, deferral,
 * the one place a call is finished (result or error → envelope, or → task
 * for Async), and streamed results. */
#include "call.h"

#include <stdlib.h>
#include <string.h>

#include "call_priv.h"
#include "hooks.h"
#include "limits.h"
#include "log.h"
#include "marshal.h"
#include "store.h"
#include "world.h"

xg_call *xg_call_new(enum xg_proto proto)
{
    xg_call *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->arena = xg_arena_new(XG_CALL_ARENA_BYTES);
    c->proto = proto;
    xg_out_init(&c->out);
    if (proto == XG_PROTO_XMLRPC)
        xg_writer_init_xml(&c->w, &c->out);
    else
        xg_writer_init_json(&c->w, &c->out);
    c->refs = 1;
    return c;
}

void xg_call_ref(xg_call *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

void xg_call_unref(xg_call *c)
{
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    xg_out_reset(&c->out);
    xg_arena_free(c->arena);
    free(c);
}

void xg_call_defer(xg_call *c)
{
    c->deferred = true;
}

void xg_call_stream(xg_call *c, xg_producer_fn fn, void *state)
{
    c->producer = fn;
    c->producer_state = state;
}

void xg_call_progress(xg_call *c, double progress)
{
    xg_obj *task = c->task;
    if (!task || !task->in_store)
        return;
    const xg_field_desc *f = xg_field_by_name(task->cls, "progress");
    if (f && f->type->kind == XG_K_FLOAT)
        xg_store_set(task, f, &progress);
}

void xg_call_return(xg_call *c, const void *result)
{
    if (!c->deferred && !c->finished && !c->producer)
        xg_call_finish(c, true, NULL, result);
}

/* The XML-RPC <value> fragment a task's result holds (spec §6), even for
 * JSON-RPC callers. malloc'd. */
static char *result_xml(const xg_call *c, const void *result, size_t *len)
{
    xg_out tmp;
    xg_writer w;
    xg_out_init(&tmp);
    xg_writer_init_xml(&w, &tmp);
    const xg_type *t = c->method ? c->method->result : NULL;
    if (t && result)
        xg_write_value(&w, t, result);
    else
        xg_write_cstr(&w, "");
    char *s = xg_out_strdup(&tmp, len);
    xg_out_reset(&tmp);
    return s;
}

static void end_task(xg_call *c, bool ok, const xg_err *err, const void *result,
                     bool transient)
{
    size_t len = 0;
    char *xml = ok ? result_xml(c, result, &len) : NULL;
    xg_hook_task_end(c, ok, err, xml ? xml : "", len, transient);
    free(xml);
}

static void respond(xg_call *c)
{
    if (c->responded)
        return;
    c->responded = true;
    if (c->on_response)
        c->on_response(c);
}

void xg_call_finish(xg_call *c, bool ok, const xg_err *err, const void *result)
{
    if (c->finished)
        return;
    if (ok && c->producer && !c->is_async) {
        /* a deferred call that answers with a stream (event.from woken) */
        xg_call_start_stream(c);
        return;
    }
    c->finished = true;
    xg_err ferr = XG_ERR_INIT;
    if (c->is_async) {
        end_task(c, ok, err, result, false);
        if (!xg_store_flush(&ferr))
            XG_ERROR("dispatch", "state flush after %s failed: %s", c->method_name,
                     ferr.nparams ? ferr.param[0] : ferr.code);
        xg_call_unref(c);        /* the reference dispatch took for the task */
        return;
    }
    if (c->task) {
        end_task(c, ok, err, result, true);
        c->task = NULL;
    }
    /* durable before acknowledged: a failed flush turns success into error */
    if (!xg_store_flush(&ferr) && ok) {
        ok = false;
        err = &ferr;
    }
    xg_out_reset(&c->out);
    if (ok) {
        xg_envelope_begin_success(c);
        const xg_type *t = c->method ? c->method->result : NULL;
        if (t && result)
            xg_write_value(&c->w, t, result);
        else
            xg_write_cstr(&c->w, "");
        xg_envelope_end_success(c);
    } else {
        xg_envelope_failure(c, err);
    }
    respond(c);
}

/* Runs the producer until out holds XG_OUT_HIGH_WATER unsent bytes. */
static bool run_producer(xg_call *c)
{
    while (c->producer) {
        if (c->producer(c, &c->w, c->producer_state)) {
            c->producer = NULL;
            xg_envelope_end_success(c);
            return true;
        }
        if (xg_out_pending(&c->out) >= XG_OUT_HIGH_WATER)
            return false;
    }
    return true;
}

void xg_call_start_stream(xg_call *c)
{
    xg_err ferr = XG_ERR_INIT;
    c->finished = true;
    if (c->task) {
        /* the transient task of a streamed call ends when the stream starts */
        end_task(c, true, NULL, NULL, true);
        c->task = NULL;
    }
    if (!xg_store_flush(&ferr)) {
        c->producer = NULL;
        xg_out_reset(&c->out);
        xg_envelope_failure(c, &ferr);
        respond(c);
        return;
    }
    xg_out_reset(&c->out);
    xg_envelope_begin_success(c);
    run_producer(c);
    respond(c);
}

bool xg_call_produce(xg_call *c)
{
    xg_world_lock();
    bool done = run_producer(c);
    xg_world_unlock();
    return done;
}
