/* notify.c: see notify.h. */
#include "notify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

void xg_notify_ready(unsigned port)
{
    if (port) {
        char msg[96];
        snprintf(msg, sizeof(msg), "READY=1\nSTATUS=listening on port %u", port);
        sd_notify(0, msg);
    } else {
        sd_notify(0, "READY=1");
    }
}

void xg_notify_reloading(void)
{
    sd_notify(0, "RELOADING=1");
}

void xg_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}
