/* test_sampler.c: the sampler over a fake driver: XAPI data-source names,
 * units and values, publication, archive on disappearance, reload; and the
 * cost of one tick for 1,000 domains (printed, not asserted); a host with
 * more domains than any fixed cap. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "doubles.h"

#define T0 1200000.0

static xg_arena *A;

static void tick(struct mreg *g, const char *dir, double t, struct sampler_cost *c)
{
    fake.clock = t;
    xg_arena_reset(A);
    fake_identity(A);
    sampler_tick(g, &fake_driver, NULL, dir, t, A, c);
}

static double val(const struct rrd *r, const char *ds)
{
    int i = rrd_find_ds(r, ds);
    if (i < 0)
        fail_msg("missing DS %s", ds);
    return rrd_latest(r, (uint32_t)i);
}

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-6 * (fabs((double)(b)) + 1))

static void names_and_values(void **st)
{
    struct mreg g;
    mreg_init(&g);
    fake = (struct fake_host){.ndoms = 3, .npcpus = 4, .nvcpus = 2, .nvifs = 1, .nvbds = 1};
    for (int k = 1; k <= 3; k++)
        tick(&g, NULL, T0 + 5 * k, NULL);
    const struct rrd *h = g.host.rrd;
    assert_non_null(h);
    assert_string_equal(g.host.uuid, "2f4c1a7e-0000-4000-8000-000000000001");
    const char *host_ds[] = {"cpu0", "cpu1", "cpu2", "cpu3", "cpu_avg", "loadavg", "hostload",
                             "running_vcpus", "running_domains", "memory_total_kib",
                             "memory_free_kib", "pif_eth0_rx", "pif_eth0_tx", "pif_aggr_rx",
                             "pif_aggr_tx"};
    assert_int_equal(h->nds, sizeof(host_ds) / sizeof(host_ds[0]));
    for (size_t i = 0; i < sizeof(host_ds) / sizeof(host_ds[0]); i++)
        assert_string_equal(h->ds[i].name, host_ds[i]);
    NEAR(val(h, "cpu0"), 0.1);
    NEAR(val(h, "cpu3"), 0.4);
    NEAR(val(h, "cpu_avg"), 0.25);
    NEAR(val(h, "loadavg"), 0.5);
    NEAR(val(h, "running_vcpus"), 3);       /* vCPU 0 of each domain runs */
    NEAR(val(h, "hostload"), 0.75);
    NEAR(val(h, "memory_total_kib"), 16 * 1024 * 1024);
    NEAR(val(h, "memory_free_kib"), 4 * 1024 * 1024);
    NEAR(val(h, "pif_eth0_rx"), 1000);
    NEAR(val(h, "pif_aggr_tx"), 2000);

    assert_int_equal(g.nvm, 3);
    char u[XG_UUID_STR];
    fake_uuid(1, u);
    const struct mentry *e = mreg_find(&g, u);
    assert_non_null(e);
    assert_string_equal(e->name, "vm1");
    const char *vm_ds[] = {"cpu0", "cpu1", "cpu_usage", "memory", "memory_target",
                           "memory_internal_free", "vif_0_rx", "vif_0_tx", "vbd_xvda_read",
                           "vbd_xvda_write", "vbd_xvda_iops_read", "vbd_xvda_iops_write",
                           "vbd_xvda_iops_total"};
    assert_int_equal(e->rrd->nds, sizeof(vm_ds) / sizeof(vm_ds[0]));
    for (size_t i = 0; i < sizeof(vm_ds) / sizeof(vm_ds[0]); i++)
        assert_string_equal(e->rrd->ds[i].name, vm_ds[i]);
    NEAR(val(e->rrd, "cpu0"), 0.25);
    NEAR(val(e->rrd, "cpu_usage"), 0.25);
    NEAR(val(e->rrd, "memory"), 1 << 30);                 /* bytes */
    NEAR(val(e->rrd, "memory_internal_free"), 524288);    /* KiB */
    NEAR(val(e->rrd, "vif_0_rx"), 300);                   /* = backend tx */
    NEAR(val(e->rrd, "vif_0_tx"), 100);
    NEAR(val(e->rrd, "vbd_xvda_read"), 4096);
    NEAR(val(e->rrd, "vbd_xvda_iops_total"), 5);
    /* dom0 under the control domain's VM uuid, without guest-agent data */
    fake_uuid(0, u);
    e = mreg_find(&g, u);
    assert_non_null(e);
    assert_int_equal(rrd_find_ds(e->rrd, "memory_internal_free"), -1);
    /* the first sample of every counter was NaN, not a spike */
    assert_true(isnan(rrd_peek(e->rrd, 0, (uint32_t)rrd_find_ds(e->rrd, "cpu0"), 2)));

    assert_int_equal(test_pub_host.memory_total_bytes, 16ull << 30);
    assert_int_equal(test_pub_nvms, 3);
    NEAR(test_pub_util0, 0.25);
    assert_int_equal(test_pub_mem0, 1ull << 30);

    /* paused: memory is not reported → NaN; a VIF appears at run time */
    fake.paused1 = true;
    fake.nvifs = 2;
    tick(&g, NULL, T0 + 20, NULL);
    fake_uuid(1, u);
    e = mreg_find(&g, u);
    assert_true(isnan(val(e->rrd, "memory")));
    assert_true(rrd_find_ds(e->rrd, "vif_1_rx") >= 0);
    NEAR(val(e->rrd, "vif_0_rx"), 300);
    mreg_destroy(&g);
}

static void archive_and_reload(void **st)
{
    char dir[] = "/tmp/xg-metrics-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct mreg g;
    mreg_init(&g);
    fake = (struct fake_host){.ndoms = 3, .npcpus = 2, .nvcpus = 1, .nvifs = 1, .nvbds = 0};
    for (int k = 1; k <= 4; k++)
        tick(&g, dir, T0 + 5 * k, NULL);
    fake.ndoms = 2;                              /* vm2 vanished */
    tick(&g, dir, T0 + 25, NULL);
    assert_int_equal(g.nvm, 3);                  /* one grace tick */
    tick(&g, dir, T0 + 30, NULL);
    assert_int_equal(g.nvm, 2);
    char u[XG_UUID_STR], path[256];
    fake_uuid(2, u);
    snprintf(path, sizeof(path), "%s/%s.gz", dir, u);
    assert_int_equal(access(path, R_OK), 0);
    fake.ndoms = 3;                              /* back: history reloaded */
    tick(&g, dir, T0 + 35, NULL);
    const struct mentry *e = mreg_find(&g, u);
    assert_non_null(e);
    int m = rrd_find_ds(e->rrd, "memory");
    assert_true(m >= 0);
    NEAR(rrd_peek(e->rrd, 0, (uint32_t)m, 3), 1 << 30);  /* the row of T0+20 */
    mreg_destroy(&g);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void tick_cost_1000(void **st)
{
    struct mreg g;
    mreg_init(&g);
    fake = (struct fake_host){.ndoms = 1000, .npcpus = 16, .nvcpus = 2, .nvifs = 1, .nvbds = 1};
    struct sampler_cost c;
    for (int k = 1; k <= 2; k++)
        tick(&g, NULL, T0 + 5 * k, &c);
    uint64_t rd = 0, up = 0;
    const int N = 20;
    for (int k = 3; k < 3 + N; k++) {
        tick(&g, NULL, T0 + 5 * k, &c);
        rd += c.read_ns;
        up += c.update_ns;
    }
    assert_int_equal(c.ndoms, 1000);
    print_message("tick for 1000 domains (fake driver, 13 DS/VM): read+build %.1f us, "
                  "locked update %.1f us => %.1f us per 100 VMs\n",
                  rd / 1e3 / N, up / 1e3 / N, (rd + up) / 1e3 / N / 10);
    mreg_destroy(&g);
}

/* No fixed cap: every domain of a host larger than any old limit (4,096)
 * gets its RRD, is found by uuid and is published. */
static void more_vms_than_any_cap(void **st)
{
    (void)st;
    struct mreg g;
    mreg_init(&g);
    const uint32_t n = 5000;
    fake = (struct fake_host){.ndoms = n, .npcpus = 16, .nvcpus = 1, .nvifs = 1, .nvbds = 1};
    for (int k = 1; k <= 2; k++)
        tick(&g, NULL, T0 + 5 * k, NULL);
    assert_int_equal(g.nvm, n);
    assert_int_equal(test_pub_nvms, n);
    for (uint32_t i = 0; i < n; i += 499) {
        char u[XG_UUID_STR];
        fake_uuid(i, u);
        const struct mentry *e = mreg_find(&g, u);
        assert_non_null(e);
        assert_int_equal(e->domid, i);
    }
    char last[XG_UUID_STR];
    fake_uuid(n - 1, last);
    mreg_remove(&g, mreg_find(&g, last));
    assert_null(mreg_find(&g, last));
    assert_int_equal(g.nvm, n - 1);
    mreg_destroy(&g);
}

int main(void)
{
    A = xg_arena_new(64u << 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_values),
        cmocka_unit_test(archive_and_reload),
        cmocka_unit_test(tick_cost_1000),
        cmocka_unit_test(more_vms_than_any_cap),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xg_arena_free(A);
    return rc;
}
