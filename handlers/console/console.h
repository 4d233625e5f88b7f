/* console.h: the /console endpoint (spec/storage-network-console.md §3):
 * graphical consoles over WebSocket (RFC 6455, subprotocol "binary") and
 * HTTP CONNECT, as XO Lite, noVNC and xo-server open them.
 *
 * The I/O thread that parsed the request hands the socket over
 * (xg_http_register_takeover) to ONE console thread, which authenticates,
 * finds the console, answers and then streams RFB:
 *  - text consoles (PV/PVH guests, dom0, every sim guest): the guest's text
 *    stream goes into a libvterm terminal whose screen is served by our RFB
 *    server (term.c, rfb.c); keys go back to the guest as bytes;
 *  - HVM guests: the device model's own VNC server (a Unix socket), relayed
 *    byte for byte;
 *  - `vt100` consoles: the guest's text stream itself, both ways (what
 *    XAPI's raw text port gives).
 * Bounds (limits.h, documented in docs/CONSOLES.md): XG_CONSOLE_MAX_VIEWERS
 * streams process-wide; per viewer at most XG_CONSOLE_VIEWER_OUT_BYTES
 * queued for the client (RFB updates are made only when the client asked
 * and its queue drained, so a viewer that never reads costs that much and
 * no more, and slows nobody). */
#ifndef XG_CONSOLE_H
#define XG_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../server/xg_err.h"
#include "../driver/driver.h"

bool xg_console_init(xg_err *err);
void xg_console_shutdown(void);
/* The domain stopped: its console streams close. Any thread, any lock. */
void xg_console_domain_gone(uint32_t domid);

/* ---- what the console module asks of the XAPI side (console_glue.c) ---- */
struct xg_console_target {
    uint32_t domid;
    char vm_uuid[XG_UUID_STR];
    bool raw_text;                   /* a vt100 console: the text stream itself */
};
/* Authenticates (session_id from the query or the cookie) and resolves
 * uuid=/ref= (a VM: its first console, or a console) to a running domain. Takes the world lock
 * itself. Returns 0, or the HTTP status to refuse with (400 bad target,
 * 401 no valid session, 404 no such console or not running). */
int xg_console_hook_resolve(const char *query, const char *cookie,
                            struct xg_console_target *out);
/* Opens the domain's console through the driver (without the world lock). */
bool xg_console_hook_open(const struct xg_console_target *t, enum xg_console_kind *kind,
                          int *fd, xg_err *err);

#endif
