/* session_table.h: per-user-name lists of sessions in last-active order, so
 * that the per-user cap evicts the least recently active session in O(1)
 * (XAPI: 500 per user name, oldest evicted, not refused). World lock held. */
#ifndef XG_SESSION_TABLE_H
#define XG_SESSION_TABLE_H

#include <stdint.h>
#include "gw.h"

/* Adds s under user; when that user then has more than cap sessions, returns
 * the least recently active one (the caller destroys it), else NULL. */
xapi_session *gw_session_table_add(xapi_session *s, const char *user, uint32_t cap);
/* With s already added: the least recently active other session of s's
 * user while that user has more than cap sessions, else NULL. */
xapi_session *gw_session_table_over_cap(xapi_session *s, uint32_t cap);
void gw_session_table_remove(xapi_session *s);
void gw_session_table_touch(xapi_session *s);     /* now most recently active */
void gw_session_destroy(xapi_session *s);         /* session.c */
void gw_sessions_start(void);                     /* session.c: expiry timer */

#endif
