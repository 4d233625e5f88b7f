/* dom_notify.c: the listener list of dom_notify.h. Calls nothing but the
 * listeners it was given. */
#include <stdlib.h>

#include "../server/log.h"
#include "dom_notify.h"

#define MAX_LISTENERS 8

static gw_dom_listener listeners[MAX_LISTENERS];
static unsigned n_listeners;

void gw_dom_listen(gw_dom_listener fn)
{
    for (unsigned i = 0; i < n_listeners; i++)
        if (listeners[i] == fn)
            return;                  /* a second start-up in one process */
    if (n_listeners == MAX_LISTENERS) {
        XG_ERROR("dom_notify", "more than %d domain listeners", MAX_LISTENERS);
        abort();
    }
    listeners[n_listeners++] = fn;
}

void gw_dom_announce(const struct gw_dom_event *ev)
{
    for (unsigned i = 0; i < n_listeners; i++)
        listeners[i](ev);
}
