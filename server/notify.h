/* notify.h: readiness and state for the service manager (systemd's
 * Type=notify through libsystemd's sd_notify; a no-op when the gateway was
 * not started by systemd, i.e. NOTIFY_SOCKET is unset). */
#ifndef XG_NOTIFY_H
#define XG_NOTIFY_H

/* READY=1 once every listener accepts (port 0: keep the last status). */
void xg_notify_ready(unsigned port);
/* RELOADING=1 while SIGHUP's reload runs. */
void xg_notify_reloading(void);
/* STOPPING=1 when shutdown starts. */
void xg_notify_stopping(void);

#endif
