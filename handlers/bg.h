/* bg.h: long host-side work (disk copies, transfers) on its own thread, so
 * that it never holds the world lock or a network thread.
 *
 * gw_bg_start (world lock held) starts work(arg) on a new thread without the
 * lock; when it returns, done(arg) runs with the world lock held. The
 * number of jobs at once is bounded. */
#ifndef XG_BG_H
#define XG_BG_H

#include <stdbool.h>
#include "../server/xg_err.h"

#define GW_BG_MAX_JOBS 16

bool gw_bg_start(void (*work)(void *arg), void (*done)(void *arg), void *arg,
                 xg_err *err);

#endif
