/* call.h: one API call in flight (xg_call), as handlers and dispatch see it.
 *
 * Life of a call (docs/ARCHITECTURE.md §request flow):
 *   connection (conn.c) parses the body into params in c->arena, then
 *   xg_dispatch(c) [dispatch.c]: takes the world lock, finds the method,
 *   checks session / param count, runs the generated marshaller, which runs
 *   the handler, writes the envelope into c->out, flushes the store, and
 *   calls c->on_response(c) once the body is complete.
 * A handler that cannot answer now calls xg_call_defer(c) and returns true;
 * whoever finishes the work later (driver completion, timer, event wake-up)
 * calls xg_call_finish() with the world lock held. The same handler serves
 * Class.msg and Async.Class.msg: for Async, dispatch answers the task ref at
 * once and routes the finish into the task (result as an XML-RPC fragment).
 *
 * Threading: every function here requires the world lock (world.h), except
 * xg_call_new/xg_call_unref, which the connection calls without it. */
#ifndef XG_CALL_H
#define XG_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "desc.h"
#include "out.h"
#include "value.h"
#include "writer.h"
#include "xg_err.h"

enum xg_proto { XG_PROTO_XMLRPC, XG_PROTO_JSONRPC_V1, XG_PROTO_JSONRPC_V2 };

typedef struct xg_call xg_call;

/* Incremental result producer (XG_M_STREAM methods, event.from dumps):
 * called repeatedly under the world lock; writes some values into w and
 * returns true when the result is complete. State lives in the call arena.
 * Must not fail half-way (skip vanished objects instead). */
typedef bool (*xg_producer_fn)(xg_call *c, xg_writer *w, void *state);

struct xg_call {
    xg_arena *arena;
    enum xg_proto proto;
    const char *json_id;        /* raw JSON text of "id", echoed verbatim */
    uint32_t json_id_len;
    const char *method_name;    /* as sent */
    const xg_value *params;     /* all wire params, session included */
    uint32_t nparams;
    const xg_method *method;    /* set by dispatch */

    /* Caller identity, filled by dispatch from the session param. */
    void *session;              /* the session record (xapi_session *) or NULL */
    const char *session_ref;
    void *task;                 /* task record this call runs under, or NULL */
    const char *client_addr;    /* "127.0.0.1", "local" on the Unix socket */
    bool local_root;            /* peer is uid 0 on the local Unix socket:
                                 * trusted without a password, as by XAPI */
    const char *http_task_id;   /* task-id header, if any */

    xg_out out;                 /* response body */
    xg_writer w;                /* writes into out in the call's encoding */

    /* Set by the connection; called exactly once when `out` holds the whole
     * body (or a producer is installed), possibly from another thread, with
     * the world lock held: it must only hand the call back to its loop. */
    void (*on_response)(xg_call *c);
    void *conn;

    xg_producer_fn producer;    /* non-NULL: body continues via producer */
    void *producer_state;

    /* dispatch.c private */
    uint32_t refs;
    bool deferred, finished, is_async, responded;
    void *priv;
};

xg_call *xg_call_new(enum xg_proto proto);     /* refs = 1 */
void xg_call_unref(xg_call *c);                /* frees arena and out at 0 */
void xg_call_ref(xg_call *c);

/* For handlers ------------------------------------------------------------ */

/* The answer will come later through xg_call_finish(). */
void xg_call_defer(xg_call *c);
/* Finishes a deferred call. `result` points at the C storage of the
 * method's result type (desc.h), NULL for void; ignored when !ok. */
void xg_call_finish(xg_call *c, bool ok, const xg_err *err, const void *result);
/* For handlers whose result is streamed: installs a producer instead of a
 * result (the envelope around it is written by dispatch). */
void xg_call_stream(xg_call *c, xg_producer_fn fn, void *state);
/* Progress of the task this call runs under (no-op without one). */
void xg_call_progress(xg_call *c, double progress);

/* For the connection ------------------------------------------------------ */

/* Runs the call; takes and releases the world lock itself. */
void xg_dispatch(xg_call *c);
/* Continues a producer until out exceeds XG_OUT_HIGH_WATER or it is done;
 * returns true when the body is complete. Takes the world lock itself. */
bool xg_call_produce(xg_call *c);
/* Protocol envelopes (envelope.c): success prefix/suffix around the value,
 * and the whole failure body, for c->proto. */
void xg_envelope_begin_success(xg_call *c);
void xg_envelope_end_success(xg_call *c);
void xg_envelope_failure(xg_call *c, const xg_err *err);

#endif
