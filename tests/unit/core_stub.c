/* core_stub.c: a test double for the core (call.c/dispatch.c) so that the
 * transport's units link and can be driven without the real dispatcher.
 * xg_dispatch answers every call at once with {"echo": method_name}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "http_routes.h"
#include "limits.h"

xg_call *xg_call_new(enum xg_proto proto)
{
    xg_call *c = calloc(1, sizeof(*c));
    c->arena = xg_arena_new(XG_CALL_ARENA_BYTES);
    c->proto = proto;
    c->refs = 1;
    xg_out_init(&c->out);
    return c;
}

void xg_call_ref(xg_call *c) { c->refs++; }

void xg_call_unref(xg_call *c)
{
    if (--c->refs)
        return;
    xg_arena_free(c->arena);
    xg_out_reset(&c->out);
    free(c);
}

void xg_dispatch(xg_call *c)
{
    if (c->proto == XG_PROTO_XMLRPC)
        xg_writer_init_xml(&c->w, &c->out);
    else
        xg_writer_init_json(&c->w, &c->out);
    c->w.ops->begin_struct(&c->w);
    c->w.ops->member(&c->w, "echo", 4);
    xg_write_cstr(&c->w, c->method_name);
    c->w.ops->end_struct(&c->w);
    c->on_response(c);
}

bool xg_call_produce(xg_call *c) { return true; }

struct xg_http_request;

/* GET handlers settle an XO getResource task; no tasks in these tests. */
void xg_hook_http_task_end(const struct xg_http_request *rq, int status)
{
    (void)rq;
    (void)status;
}

/* HTTP routes: the only valid session is "OpaqueRef:ok". */
bool xg_hook_http_session(const struct xg_http_request *rq, char *ref_out, size_t ref_len,
                          char *user_out, size_t user_len, xg_err *err)
{
    if (!xg_query_get(rq->query, "session_id", ref_out, ref_len) ||
        strcmp(ref_out, "OpaqueRef:ok") != 0)
        return xg_err_set(err, "SESSION_INVALID", 1, ref_out);
    snprintf(user_out, user_len, "root");
    return true;
}
