/* events.h: event.from / event.next plumbing shared with session.c. */
#ifndef XG_EVENTS_H
#define XG_EVENTS_H

#include "gw.h"

/* Ends every parked event call of session s with SESSION_INVALID. */
void gw_events_session_gone(xapi_session *s);

/* Legacy event.next bookkeeping (event.c). */
void gw_legacy_set_cursor(xapi_session *s, uint64_t gen);
void gw_legacy_forget(xapi_session *s);

#endif
