/* call_priv.h: shared between dispatch.c, call.c and envelope.c only. */
#ifndef XG_CALL_PRIV_H
#define XG_CALL_PRIV_H

#include "call.h"

/* system.listMethods: bare value in XML-RPC, normal success in JSON-RPC. */
void xg_envelope_bare_begin(xg_call *c);
void xg_envelope_bare_end(xg_call *c);
/* Starts the body of a streamed result and runs the producer up to the
 * high-water mark (dispatch, with the world lock held). */
void xg_call_start_stream(xg_call *c);

#endif
