/* timer.h: one timer thread for the whole process (event.from timeouts, sim
 * driver completions, task GC, session expiry, metrics ticks).
 * Callbacks run on the timer thread WITHOUT the world lock; they take it if
 * they touch API state. Timers are one-shot; cancel is safe from any thread
 * and guarantees the callback is not running when it returns, unless it is
 * called from that very callback.
 * Ownership: the handle stays valid after the timer fired until
 * xg_timer_cancel(t) frees it, so the owner calls cancel exactly once: before
 * the timer fires, or afterwards (for example from the callback itself). */
#ifndef XG_TIMER_H
#define XG_TIMER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct xg_timer xg_timer;
typedef void (*xg_timer_fn)(void *arg);

bool xg_timer_start(void);            /* starts the thread */
/* Ends the thread at shutdown: waits for the callback in flight, if any,
 * and runs no other one (timers still queued or added later never fire), so
 * what callbacks use (the driver, the store) can be closed afterwards. */
void xg_timer_stop(void);
xg_timer *xg_timer_add(uint64_t delay_ms, xg_timer_fn fn, void *arg);
void xg_timer_cancel(xg_timer *t);    /* frees t; t may have fired already */
/* Cancels t only if it has not started running: true = cancelled and freed;
 * false = its callback is running or about to run (it then owns t and must
 * xg_timer_cancel it itself). Never waits: safe while holding locks the
 * callback may take. */
bool xg_timer_try_cancel(xg_timer *t);
uint64_t xg_now_ms(void);             /* CLOCK_MONOTONIC */
int64_t xg_wall_secs(void);           /* CLOCK_REALTIME seconds */

#endif
