/* lifecycle.h: the gateway stopping or starting again because the API asked
 * (host.restart_agent, host.reboot/shutdown), with the same clean stop as
 * SIGTERM (main.c).
 *
 * A restart goes through systemd when the gateway is a systemd service
 * (`systemctl --no-block restart UNIT`: systemd stops us with SIGTERM and
 * starts us again, keeping its own view of the service right); otherwise,
 * or when systemctl fails, the process re-executes itself in place (same
 * pid, same arguments, same stdout) after the clean stop. */
#ifndef XG_LIFECYCLE_H
#define XG_LIFECYCLE_H

#include <stdbool.h>

enum xg_after_stop {
    XG_AFTER_EXIT,      /* the process ends (SIGTERM, host power-off on sim) */
    XG_AFTER_RESTART,   /* it starts again (host.restart_agent) */
    XG_AFTER_REBOOT,    /* it starts again as after a reboot of the host
                           (simulated hosts lose their domains) */
};

/* Asks for a clean stop followed by what, after delay_ms (so that the answer
 * of the call that asked leaves first). Any thread, any lock; the first
 * request wins. */
void xg_lifecycle_request(enum xg_after_stop what, unsigned delay_ms);

/* main.c, after the clean stop: what was asked (XG_AFTER_EXIT if nothing). */
enum xg_after_stop xg_lifecycle_after(void);

/* main.c: starts the executable again (argv[0], else the running image)
 * with argv, every descriptor but stdin/stdout/stderr closed. Returns only
 * if exec failed (logged). */
void xg_lifecycle_reexec(char **argv);

/* Runs the init system's command line (argv[0] looked up in PATH) and
 * waits for it; true when it exited 0. For host.reboot/shutdown on a real
 * host ("systemctl reboot"). */
bool xg_lifecycle_run(const char *const *argv);

#endif
