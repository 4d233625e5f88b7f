/* cli_wire.h: XAPI's thin CLI protocol 0.2 (xe, POST /cli), server side:
 * the greeting and the length-prefixed messages of cli_protocol.ml
 * (../shared/spec/xe-cli.md §3). Runs on an HTTP worker over xg_http_read /
 * xg_http_write; never with the world lock held. */
#ifndef XG_CLI_WIRE_H
#define XG_CLI_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "http_routes.h"

#define CLI_GREETING_LEN 35             /* prefix + major + minor, int32 LE */

/* Sends the server greeting, reads the client's; false if it is not 0.x. */
bool cli_wire_handshake(xg_http_ex *x);
/* Is g (CLI_GREETING_LEN bytes) a client greeting of protocol 0.x? */
bool cli_wire_greeting_ok(const unsigned char *g);
bool cli_wire_print(xg_http_ex *x, const char *s, size_t n);
bool cli_wire_stderr(xg_http_ex *x, const char *s);      /* sent as is */
bool cli_wire_error(xg_http_ex *x, const char *code, const char *const *params,
                    unsigned nparams);
bool cli_wire_exit(xg_http_ex *x, int code);
bool cli_wire_prompt(xg_http_ex *x);
/* Load: xe answers Response OK and sends the file as blobs, or Response
 * Failed when it cannot read it (cli_wire_read_response, then
 * cli_wire_read_blobs). */
bool cli_wire_load(xg_http_ex *x, const char *filename);
/* HttpGet / HttpPut: xe downloads url into filename (or uploads filename
 * to url) over a new connection, then answers on this one. */
bool cli_wire_http(xg_http_ex *x, bool get, const char *filename, const char *url);

/* The client's answer to a transfer, heartbeats (Response Wait) skipped:
 * 1 OK, 0 Failed, -1 the client broke the protocol or is gone. */
int cli_wire_read_response(xg_http_ex *x);

/* Reads what the client sends after a Prompt or a Load it accepted: Blob
 * Chunk(n) + n raw bytes ... Blob End, skipping heartbeats (Response Wait).
 * Keeps at most max bytes in buf (*len) and refuses a stream longer than
 * limit; false when the client breaks the protocol, is gone or says
 * Failed. */
bool cli_wire_read_blobs(xg_http_ex *x, char *buf, size_t max, size_t *len, size_t limit);

#endif
