/* rpc_in.h: request body decoders (xmlrpc_in.c, jsonrpc_in.c). Both turn a
 * hostile body into the arena-allocated xg_value view (value.h), enforcing
 * limits.h (nesting, members, params, string bytes). They never touch the
 * world lock, never allocate outside the arena (beyond per-thread scratch)
 * and run on I/O threads. A false return means "transport-level parse
 * failure" (HTTP 500 with the HTML body); msg says why, for that body. */
#ifndef XG_RPC_IN_H
#define XG_RPC_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "call.h"
#include "value.h"

struct xg_rpc_req {
    enum xg_proto proto;
    const char *method;          /* NUL-terminated, in the arena */
    const xg_value *params;      /* array of nparams values */
    uint32_t nparams;
    const char *json_id;         /* raw JSON text of "id" (JSON only) */
    uint32_t json_id_len;
};

bool xg_xmlrpc_parse(xg_arena *a, const char *body, size_t len,
                     struct xg_rpc_req *out, char *msg, size_t msglen);
bool xg_jsonrpc_parse(xg_arena *a, const char *body, size_t len,
                      struct xg_rpc_req *out, char *msg, size_t msglen);

/* One <value> document (an XVA's ova.xml) into *out, with the same
 * grammar and bounds; len is bounded by the caller. */
bool xg_xmlrpc_parse_value(xg_arena *a, const char *doc, size_t len,
                           xg_value *out, char *msg, size_t msglen);

#endif
