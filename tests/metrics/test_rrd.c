/* test_rrd.c: RRD arithmetic against hand-computed expectations (spec
 * metrics.md §1.2–§1.4, xapi-rrd's unit tests). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../handlers/metrics/rrd.h"

#define T0 1200000.0                 /* a multiple of 60 s */
#define A5 0                         /* VM layout archive indexes */
#define A60 1

static struct rrd *one(enum rrd_layout l, const char *name, enum rrd_ds_type t,
                       double min, double max)
{
    struct rrd *r = rrd_create(l, T0);
    struct rrd_ds_def d = {name, t, min, max};
    assert_int_equal(rrd_add_ds(r, &d, T0), 0);
    return r;
}

static void upd_f(struct rrd *r, double t, double v, bool inverse)
{
    struct rrd_in in[1] = {{{RRD_V_F64, 0, v}, inverse}};
    rrd_update(r, t, in, false);
}

static void upd_i(struct rrd *r, double t, int64_t v)
{
    struct rrd_in in[1] = {{{RRD_V_I64, v, 0}, false}};
    rrd_update(r, t, in, false);
}

static void upd_unknown(struct rrd *r, double t)
{
    struct rrd_in in[1] = {{{RRD_V_UNKNOWN, 0, 0}, false}};
    rrd_update(r, t, in, false);
}

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-6 * (fabs((double)(b)) + 1))

static void gauge_constant(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_VM, "memory", RRD_GAUGE, 0, INFINITY);
    for (int i = 1; i <= 24; i++)
        upd_f(r, T0 + 5 * i, 42, false);
    for (int i = 0; i < 24; i++)
        NEAR(rrd_peek(r, A5, 0, i), 42);
    assert_true(isnan(rrd_peek(r, A5, 0, 24)));
    NEAR(rrd_peek(r, A60, 0, 0), 42);
    NEAR(rrd_peek(r, A60, 0, 1), 42);
    assert_true(isnan(rrd_peek(r, A60, 0, 2)));
    NEAR(rrd_latest(r, 0), 42);
    rrd_free(r);
}

static void derive_rate_first_nan(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_VM, "vif_0_rx", RRD_DERIVE, 0, INFINITY);
    for (int i = 1; i <= 12; i++)
        upd_i(r, T0 + 5 * i, 1000000 + 5000 * i);
    /* no previous reading: the first PDP is NaN, never a spike */
    assert_true(isnan(rrd_peek(r, A5, 0, 11)));
    for (int i = 0; i < 11; i++)
        NEAR(rrd_peek(r, A5, 0, i), 1000);
    /* 1 unknown of 12 ≤ xff 0.5, so a value; rrd.ml renormalises only what
     * was accumulated when the NaN came (nothing yet), so later PDPs still
     * count 1/12 each: 11 × 1000 / 12, as XAPI graphs it. */
    NEAR(rrd_peek(r, A60, 0, 0), 11000.0 / 12);
    rrd_free(r);
}

static void absolute_rate(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_VM, "iops", RRD_ABSOLUTE, 0, INFINITY);
    for (int i = 1; i <= 3; i++)
        upd_f(r, T0 + 5 * i, 300, false);
    NEAR(rrd_peek(r, A5, 0, 0), 60);
    NEAR(rrd_peek(r, A5, 0, 2), 60);
    rrd_free(r);
}

static void heartbeat_expiry(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_VM, "memory", RRD_GAUGE, 0, INFINITY);
    for (int i = 1; i <= 10; i++)
        upd_f(r, T0 + 5 * i, 7, false);
    upd_f(r, T0 + 50 + 400, 7, false);         /* 400 s > 300 s heartbeat */
    for (int i = 0; i < 80; i++)
        assert_true(isnan(rrd_peek(r, A5, 0, i)));
    NEAR(rrd_peek(r, A5, 0, 80), 7);
    upd_f(r, T0 + 455, 7, false);
    NEAR(rrd_peek(r, A5, 0, 0), 7);
    rrd_free(r);
}

static void counter_reset(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_VM, "vbd_xvda_read", RRD_DERIVE, 0, INFINITY);
    upd_i(r, T0 + 5, 1000);
    upd_i(r, T0 + 10, 2000);
    upd_i(r, T0 + 15, 500);                     /* went backwards */
    upd_i(r, T0 + 20, 1500);
    NEAR(rrd_peek(r, A5, 0, 2), 200);
    assert_true(isnan(rrd_peek(r, A5, 0, 1)));
    NEAR(rrd_peek(r, A5, 0, 0), 200);
    /* a reboot (new_rrd): NaN rather than a delta across domains */
    struct rrd_in in[1] = {{{RRD_V_I64, 10, 0}, false}};
    rrd_update(r, T0 + 25, in, true);
    assert_true(isnan(rrd_peek(r, A5, 0, 0)));
    upd_i(r, T0 + 30, 1010);
    NEAR(rrd_peek(r, A5, 0, 0), 200);
    rrd_free(r);
}

static void inverse_and_caps(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_HOST, "cpu0", RRD_DERIVE, 0, 1);
    double idle = 100;
    upd_f(r, T0 + 5, idle, true);
    idle += 0.25 * 5;
    upd_f(r, T0 + 10, idle, true);
    NEAR(rrd_peek(r, A5, 0, 0), 0.75);         /* 1 - idle fraction */
    idle += 1.02 * 5;                           /* idle a bit over 100%: 0, not NaN */
    upd_f(r, T0 + 15, idle, true);
    NEAR(rrd_peek(r, A5, 0, 0), 0.0);
    idle += 1.5 * 5;                            /* nonsense: NaN */
    upd_f(r, T0 + 20, idle, true);
    assert_true(isnan(rrd_peek(r, A5, 0, 0)));
    rrd_free(r);

    r = one(RRD_LAYOUT_VM, "cpu0", RRD_DERIVE, 0, 1);
    upd_f(r, T0 + 5, 10, false);
    upd_f(r, T0 + 10, 10 + 1.03 * 5, false);    /* CA-411679: capped to max */
    NEAR(rrd_peek(r, A5, 0, 0), 1.0);
    upd_f(r, T0 + 15, 10 + 1.03 * 5 + 1.2 * 5, false);
    assert_true(isnan(rrd_peek(r, A5, 0, 0)));
    rrd_free(r);
}

static void min_max_average(void **st)
{
    /* Host layout: AVERAGE/1, then AVERAGE, MIN, MAX per coarser timescale. */
    struct rrd *r = one(RRD_LAYOUT_HOST, "loadavg", RRD_GAUGE, 0, INFINITY);
    assert_int_equal(r->nrra, 10);
    assert_int_equal(r->rra[2].cf, RRD_MIN);
    assert_int_equal(r->rra[3].cf, RRD_MAX);
    for (int i = 1; i <= 12; i++)
        upd_f(r, T0 + 5 * i, i, false);
    NEAR(rrd_peek(r, 1, 0, 0), 6.5);
    NEAR(rrd_peek(r, 2, 0, 0), 1);
    NEAR(rrd_peek(r, 3, 0, 0), 12);
    rrd_free(r);
}

static void xff(void **st)
{
    /* 5 known PDPs of 12: 7 unknown > 0.5*12 → NaN for a VM (xff 0.5)… */
    struct rrd *vm = one(RRD_LAYOUT_VM, "memory", RRD_GAUGE, 0, INFINITY);
    struct rrd *host = one(RRD_LAYOUT_HOST, "memory_free_kib", RRD_GAUGE, 0, INFINITY);
    for (int i = 1; i <= 12; i++) {
        if (i <= 5) {
            upd_f(vm, T0 + 5 * i, 10, false);
            upd_f(host, T0 + 5 * i, 10, false);
        } else {
            upd_unknown(vm, T0 + 5 * i);
            upd_unknown(host, T0 + 5 * i);
        }
    }
    assert_true(isnan(rrd_peek(vm, A60, 0, 0)));
    /* …but any known PDP makes the host's 1-minute CDP (xff 1.0) */
    NEAR(rrd_peek(host, 1, 0, 0), 10);
    NEAR(rrd_peek(host, 2, 0, 0), 10);
    rrd_free(vm);
    rrd_free(host);
}

static void add_remove_ds(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_VM, "memory", RRD_GAUGE, 0, INFINITY);
    for (int i = 1; i <= 3; i++)
        upd_f(r, T0 + 5 * i, 1, false);
    struct rrd_ds_def vif = {"vif_1_rx", RRD_DERIVE, 0, INFINITY};
    assert_int_equal(rrd_add_ds(r, &vif, T0 + 15), 1);
    assert_int_equal(rrd_add_ds(r, &vif, T0 + 15), 1);     /* idempotent */
    /* the new source's current minute already missed 3 PDPs */
    assert_int_equal(r->ds[1].cdp[A60].unknown, 3);
    struct rrd_in in[2] = {{{RRD_V_F64, 0, 2}, false}, {{RRD_V_I64, 100, 0}, false}};
    rrd_update(r, T0 + 20, in, false);
    in[0].v.f = 3;
    in[1].v.i = 600;
    rrd_update(r, T0 + 25, in, false);
    NEAR(rrd_peek(r, A5, 0, 0), 3);
    NEAR(rrd_peek(r, A5, 0, 2), 1);             /* old data kept */
    NEAR(rrd_peek(r, A5, 1, 0), 100);
    assert_true(isnan(rrd_peek(r, A5, 1, 1)));
    assert_true(isnan(rrd_peek(r, A5, 1, 2)));
    assert_true(rrd_remove_ds(r, "memory"));
    assert_int_equal(r->nds, 1);
    NEAR(rrd_peek(r, A5, 0, 0), 100);
    assert_false(rrd_remove_ds(r, "memory"));
    rrd_free(r);
}

static void clock_backwards_and_wrap(void **st)
{
    struct rrd *r = one(RRD_LAYOUT_VM, "memory", RRD_GAUGE, 0, INFINITY);
    upd_f(r, T0 + 5, 1, false);
    upd_f(r, T0 - 100, 2, false);               /* no crash, nothing absurd */
    upd_f(r, T0 + 10, 3, false);
    for (int i = 1; i <= 300; i++)              /* wrap the 120-row ring */
        upd_f(r, T0 + 10 + 5 * i, i, false);
    NEAR(rrd_peek(r, A5, 0, 0), 300);
    NEAR(rrd_peek(r, A5, 0, 119), 181);
    rrd_free(r);
}

static void formatting(void **st)
{
    char b[40];
    rrd_fmt(b, 0.0); assert_string_equal(b, "0.0");
    rrd_fmt(b, 1.0); assert_string_equal(b, "1");
    rrd_fmt(b, NAN); assert_string_equal(b, "NaN");
    rrd_fmt(b, INFINITY); assert_string_equal(b, "Infinity");
    rrd_fmt(b, -INFINITY); assert_string_equal(b, "-Infinity");
    rrd_fmt(b, (double)(float)0.0123); assert_string_equal(b, "0.0122999995946884");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gauge_constant),
        cmocka_unit_test(derive_rate_first_nan),
        cmocka_unit_test(absolute_rate),
        cmocka_unit_test(heartbeat_expiry),
        cmocka_unit_test(counter_reset),
        cmocka_unit_test(inverse_and_caps),
        cmocka_unit_test(min_max_average),
        cmocka_unit_test(xff),
        cmocka_unit_test(add_remove_ds),
        cmocka_unit_test(clock_backwards_and_wrap),
        cmocka_unit_test(formatting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
