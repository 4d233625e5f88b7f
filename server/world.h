/* world.h: the one lock over all API state (store, sessions, tasks, events,
 * driver calls made by handlers).
 *
 * I/O threads parse and encrypt without it; dispatch, producers, driver
 * completions and timers take it. Hold it briefly: never across network I/O
 * or a blocking hypervisor call. xg_world_unlock() runs the store's pending
 * event wake-ups before releasing. */
#ifndef XG_WORLD_H
#define XG_WORLD_H

#include <stdbool.h>

void xg_world_lock(void);
void xg_world_unlock(void);
bool xg_world_locked_by_me(void);   /* for assertions */

#endif
