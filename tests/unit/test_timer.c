/* test_timer.c: the timer thread's ordering, cancel and shutdown guarantees
 * (server/timer.c). Shutdown closes the driver and the store after
 * xg_timer_stop: a callback still running then crashed the gateway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <time.h>
#include <cmocka.h>

#include "../../server/timer.h"

static atomic_int order[8];
static atomic_int nfired;

static void record(void *arg)
{
    int i = atomic_fetch_add(&nfired, 1);
    if (i < 8)
        atomic_store(&order[i], (int)(intptr_t)arg);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void wait_fired(int n)
{
    /* a hang guard only: the callbacks are due within 30 ms */
    for (int i = 0; i < 60000 && atomic_load(&nfired) < n; i++)
        sleep_ms(1);
}

static void fires_in_due_order(void **state)
{
    (void)state;
    atomic_store(&nfired, 0);
    xg_timer *c = xg_timer_add(30, record, (void *)3);
    xg_timer *a = xg_timer_add(10, record, (void *)1);
    xg_timer *b = xg_timer_add(20, record, (void *)2);
    wait_fired(3);
    assert_int_equal(atomic_load(&nfired), 3);
    assert_int_equal(atomic_load(&order[0]), 1);
    assert_int_equal(atomic_load(&order[1]), 2);
    assert_int_equal(atomic_load(&order[2]), 3);
    xg_timer_cancel(a);
    xg_timer_cancel(b);
    xg_timer_cancel(c);
}

static void cancelled_timer_never_fires(void **state)
{
    (void)state;
    atomic_store(&nfired, 0);
    xg_timer *t = xg_timer_add(20, record, (void *)9);
    xg_timer_cancel(t);
    xg_timer *probe = xg_timer_add(40, record, (void *)1);
    wait_fired(1);
    assert_int_equal(atomic_load(&nfired), 1);
    assert_int_equal(atomic_load(&order[0]), 1);
    xg_timer_cancel(probe);
}

static atomic_bool slow_started, slow_ended;

static void slow(void *arg)
{
    (void)arg;
    atomic_store(&slow_started, true);
    sleep_ms(300);
    atomic_store(&slow_ended, true);
}

/* Stop must not return while a callback runs, and nothing runs after it. */
static void stop_waits_for_the_callback_in_flight(void **state)
{
    (void)state;
    atomic_store(&nfired, 0);
    xg_timer *s = xg_timer_add(0, slow, NULL);
    for (int i = 0; i < 60000 && !atomic_load(&slow_started); i++)
        sleep_ms(1);
    assert_true(atomic_load(&slow_started));
    xg_timer *later = xg_timer_add(0, record, (void *)7);   /* due now, behind slow */
    xg_timer_stop();
    assert_true(atomic_load(&slow_ended));
    xg_timer *after = xg_timer_add(0, record, (void *)8);
    sleep_ms(100);
    assert_int_equal(atomic_load(&nfired), 0);
    xg_timer_cancel(s);
    xg_timer_cancel(later);
    xg_timer_cancel(after);
}

int main(void)
{
    if (!xg_timer_start())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_in_due_order),
        cmocka_unit_test(cancelled_timer_never_fires),
        cmocka_unit_test(stop_waits_for_the_callback_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
