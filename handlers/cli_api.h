/* cli_api.h: xe's commands call the XAPI API in process, as xapi's CLI
 * server calls its own API: the same dispatch, checks, tasks, events and
 * errors as any client, so a command does no XAPI semantics of its own.
 * A request is written as JSON-RPC with the project's writer, read by the
 * JSON-RPC reader, dispatched, waited for on the calling HTTP worker (never
 * an I/O thread) and its answer read back with yajl's tree parser.
 * Never call with the world lock held. */
#ifndef XG_CLI_API_H
#define XG_CLI_API_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "desc.h"
#include "out.h"
#include "writer.h"

#define CLI_FAIL_PARAMS 8

/* Why a command failed: an API error as the wire carries it (code and
 * string params), or, when text is set, a CLI-level message. */
struct cli_fail {
    char text[1024];                   /* "Error: No matching VMs found" */
    char code[128];
    char params[CLI_FAIL_PARAMS][256];
    unsigned nparams;
};

typedef struct cli_api {
    const char *addr;                  /* the xe client's address (throttling, logs) */
    char session[XG_REF_LEN];
} cli_api;

/* One request being written: cli_req_begin, then the parameters after the
 * session with xg_write_* on q->w, then cli_req_send. */
typedef struct cli_req {
    xg_out body;
    xg_writer w;
} cli_req;

void cli_req_begin(cli_req *q, const cli_api *api, const char *method, bool with_session);
/* Sends q and waits for the answer. Returns the parsed response document
 * (free with yajl_tree_free) and points *result at its result, or NULL with
 * f filled. */
yajl_val cli_req_send(cli_req *q, const cli_api *api, yajl_val *result, struct cli_fail *f);

/* session.login_with_password(user, password, "1.0", "cli"): the password is
 * hashed on the auth pool with its per-address throttling. */
bool cli_api_login(cli_api *api, const char *user, const char *password, struct cli_fail *f);
void cli_api_logout(cli_api *api);

/* method(session, args...): `types` says what the args are, one letter
 * each: 's' a string, 'b' a bool (int), 'i' an int64_t. Returns the
 * response (free with yajl_tree_free) with *result pointing in it, or NULL
 * with f set. */
yajl_val cli_api_get(const cli_api *api, yajl_val *result, struct cli_fail *f,
                     const char *method, const char *types, ...);
/* Same for a call whose result is a string (a new object's ref) or
 * nothing: the string is copied into out unless out is NULL. */
bool cli_api_call(const cli_api *api, char *out, size_t outlen, struct cli_fail *f,
                  const char *method, const char *types, ...);
/* event.from([cls], *token, timeout): waits for a change of class cls (or
 * the timeout) and moves token on; the events themselves are not kept. */
bool cli_api_event_from(const cli_api *api, const char *cls, char *token, size_t tokenlen,
                        double timeout, struct cli_fail *f);
/* The string member `name` of a record, "" if absent. */
const char *cli_json_str(yajl_val record, const char *name);

/* A CLI-level failure ("Error: <msg>" once printed). */
bool cli_fail_msg(struct cli_fail *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What an OCaml failwith in xapi's CLI server shows: INTERNAL_ERROR with
 * the message "Failure: <msg>". */
bool cli_fail_internal(struct cli_fail *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
