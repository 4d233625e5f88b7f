/* conformance.c: the driver conformance suite. Written against driver.h
 * only, so the same assertions hold for sim and (on a real Xen host) libxl.
 * Every test starts from the environment in *state (struct conf_env). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conformance.h"
#include "../time_scale.h"

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)
#define UNUSED_DOMID 31999u

static void on_done(void *arg, bool ok, const xg_err *err, uint32_t domid)
{
    struct conf_done *c = arg;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    c->ok = ok;
    c->domid = domid;
    if (err)
        c->err = *err;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void conf_done_init(struct conf_done *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
}

xg_done conf_done_of(struct conf_done *c)
{
    return (xg_done){ .fn = on_done, .arg = c };
}

bool conf_done_wait(struct conf_done *c, uint32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (c->calls == 0)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) != 0)
            break;
    bool got = c->calls > 0;
    pthread_mutex_unlock(&c->lock);
    return got;
}

/* a hang guard for one asynchronous operation, not a latency bound */
static uint32_t wait_ms(const struct conf_env *e) { return xg_scaled_ms(e->delay_ms * 20 + 2000); }

void conf_spec(struct xg_dom_spec *s, const char *uuid, enum xg_dom_type t, uint64_t mem)
{
    memset(s, 0, sizeof *s);
    snprintf(s->uuid, sizeof s->uuid, "%s", uuid);
    s->name = "conformance";
    s->type = t;
    s->mem_static_max = s->mem_dynamic_max = s->mem_dynamic_min = s->mem_target = mem;
    s->vcpus_max = 2;
    s->vcpus_at_startup = 2;
    s->kernel = "/boot/vmlinuz";
    s->cmdline = "console=hvc0";
}

uint32_t conf_create(struct conf_env *e, const struct xg_dom_spec *s)
{
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_create(e->d, s, &done, &err));
    assert_true(conf_done_wait(&c, wait_ms(e)));
    assert_int_equal(c.calls, 1);
    assert_true(c.ok);
    return c.domid;
}

static struct xg_dom_info info_of(struct conf_env *e, uint32_t domid)
{
    struct xg_dom_info i;
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_info(e->d, domid, &i, &err));
    assert_int_equal(i.domid, domid);
    return i;
}

static bool gone(struct conf_env *e, uint32_t domid)
{
    struct xg_dom_info i;
    xg_err err = XG_ERR_INIT;
    bool ok = e->drv->dom_info(e->d, domid, &i, &err);
    if (!ok)
        assert_string_equal(err.code, "INTERNAL_ERROR");
    return !ok;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

void conf_host_info(void **state)
{
    struct conf_env *e = *state;
    struct xg_host_info h;
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->host_info(e->d, &h, &err));
    assert_true(h.hostname[0] != '\0');
    assert_true(h.xen_version[0] != '\0');
    assert_non_null(strstr(h.xen_caps, "xen-3.0-x86_64"));
    assert_true(h.nr_cpus > 0);
    assert_int_equal(h.nr_cores * h.threads_per_core, h.nr_cpus);
    assert_true(h.total_bytes > 0);
    assert_true(h.free_bytes <= h.total_bytes);
    assert_true(h.cpu_mhz > 0);
    /* the hypervisor console ring names the version; max keeps the newest */
    char *con = NULL;
    assert_true(e->drv->host_console(e->d, e->a, 64 * 1024, &con, &err));
    assert_non_null(strstr(con, h.xen_version));
    assert_true(e->drv->host_console(e->d, e->a, 16, &con, &err));
    assert_true(strlen(con) <= 16);
    struct xg_pcpu_info *p;
    uint32_t n;
    assert_true(e->drv->pcpu_list(e->d, e->a, &p, &n, &err));
    assert_int_equal(n, h.nr_cpus);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(p[i].cpu, i);
        assert_true(p[i].socket < h.nr_sockets);
    }
}

void conf_dom_list_has_dom0(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_info *v;
    uint32_t n;
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_list(e->d, e->a, &v, &n, &err));
    assert_true(n >= 1);
    bool seen = false;
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].domid != 0)
            continue;
        seen = true;
        assert_string_equal(v[i].name, "Domain-0");
        assert_string_equal(v[i].uuid, "00000000-0000-0000-0000-000000000000");
        assert_int_equal(v[i].state, XG_DOM_RUNNING);
        assert_true(v[i].vcpus_online >= 1);
        assert_true(v[i].mem_current_bytes > 0);
    }
    assert_true(seen);
}

void conf_missing_domid(void **state)
{
    struct conf_env *e = *state;
    const struct xg_driver *x = e->drv;
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    struct xg_dom_info i;
    char buf[64];
    struct xg_vcpu_info *vc;
    struct xg_dom_stats st;
    uint32_t n;
#define EXPECT_MISSING(call) do { xg_err err = XG_ERR_INIT; \
        assert_false(call); assert_string_equal(err.code, "INTERNAL_ERROR"); \
        assert_non_null(strstr(err.param[0], "not found")); } while (0)
    EXPECT_MISSING(x->dom_info(e->d, UNUSED_DOMID, &i, &err));
    EXPECT_MISSING(x->dom_pause(e->d, UNUSED_DOMID, &err));
    EXPECT_MISSING(x->dom_unpause(e->d, UNUSED_DOMID, &err));
    EXPECT_MISSING(x->dom_destroy(e->d, UNUSED_DOMID, &err));
    EXPECT_MISSING(x->dom_set_memory_target(e->d, UNUSED_DOMID, 512 * MiB, &err));
    EXPECT_MISSING(x->dom_set_vcpus_online(e->d, UNUSED_DOMID, 1, &err));
    EXPECT_MISSING(x->dom_vcpus(e->d, UNUSED_DOMID, e->a, &vc, &n, &err));
    EXPECT_MISSING(x->dom_stats(e->d, UNUSED_DOMID, e->a, &st, &err));
    EXPECT_MISSING(x->guest_read(e->d, UNUSED_DOMID, "data/os_name", buf, sizeof buf, &err));
    EXPECT_MISSING(x->dom_shutdown(e->d, UNUSED_DOMID, XG_STOP_CLEAN, &done, &err));
    EXPECT_MISSING(x->dom_shutdown(e->d, UNUSED_DOMID, XG_STOP_HARD, &done, &err));
    EXPECT_MISSING(x->dom_reboot(e->d, UNUSED_DOMID, XG_STOP_CLEAN, &done, &err));
    EXPECT_MISSING(x->dom_suspend(e->d, UNUSED_DOMID, "/nonexistent/img", &done, &err));
#undef EXPECT_MISSING
    /* A failed start never completes. */
    sleep_ms(e->delay_ms + 50);
    assert_int_equal(c.calls, 0);
}

void conf_create_lifecycle(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000001", XG_DOM_PV, 512 * MiB);
    uint32_t domid = conf_create(e, &s);
    assert_true(domid > 0);
    struct xg_dom_info i = info_of(e, domid);
    assert_int_equal(i.state, XG_DOM_RUNNING);
    assert_string_equal(i.uuid, s.uuid);
    assert_int_equal(i.type, XG_DOM_PV);
    assert_int_equal(i.vcpus_online, 2);
    assert_true(i.mem_max_bytes == 512 * MiB);
    assert_true(i.mem_target_bytes == 512 * MiB);
    assert_true(i.mem_current_bytes <= i.mem_max_bytes && i.mem_current_bytes > 500 * MiB);

    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_pause(e->d, domid, &err));
    assert_int_equal(info_of(e, domid).state, XG_DOM_PAUSED);
    assert_true(e->drv->dom_unpause(e->d, domid, &err));
    assert_int_equal(info_of(e, domid).state, XG_DOM_RUNNING);
    /* Xen refuses to unpause a domain the toolstack did not pause. */
    assert_false(e->drv->dom_unpause(e->d, domid, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    xg_err_clear(&err);
    assert_true(e->drv->dom_destroy(e->d, domid, &err));
    assert_true(gone(e, domid));
    assert_false(e->drv->dom_destroy(e->d, domid, &err));
}

void conf_pause_nesting(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000002", XG_DOM_PVH, 256 * MiB);
    uint32_t domid = conf_create(e, &s);
    xg_err err = XG_ERR_INIT;
    /* Pausing a paused domain succeeds on Xen (the pause count nests). */
    assert_true(e->drv->dom_pause(e->d, domid, &err));
    assert_true(e->drv->dom_pause(e->d, domid, &err));
    assert_true(e->drv->dom_unpause(e->d, domid, &err));
    assert_int_equal(info_of(e, domid).state, XG_DOM_PAUSED);
    assert_true(e->drv->dom_unpause(e->d, domid, &err));
    assert_int_equal(info_of(e, domid).state, XG_DOM_RUNNING);
    /* ... but not forever: Xen caps toolstack pauses at 254. */
    int paused = 0;
    while (paused < 300 && e->drv->dom_pause(e->d, domid, &err))
        paused++;
    assert_int_equal(paused, 254);
    assert_string_equal(err.code, "INTERNAL_ERROR");
    xg_err_clear(&err);
    assert_true(e->drv->dom_destroy(e->d, domid, &err));
}

void conf_create_async(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000003", XG_DOM_HVM, 1 * GiB);
    s.kernel = NULL;
    s.boot_order = "cd";
    s.start_paused = true;
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_create(e->d, &s, &done, &err));
    /* Completion is asynchronous: never on the caller's thread. */
    assert_int_equal(c.calls, 0);
    assert_true(conf_done_wait(&c, wait_ms(e)));
    assert_true(c.ok);
    sleep_ms(50);
    assert_int_equal(c.calls, 1);
    struct xg_dom_info i = info_of(e, c.domid);
    assert_int_equal(i.state, XG_DOM_PAUSED);     /* start_paused */
    assert_int_equal(i.type, XG_DOM_HVM);
    assert_true(e->drv->dom_unpause(e->d, c.domid, &err));
    assert_int_equal(info_of(e, c.domid).state, XG_DOM_RUNNING);
    assert_true(e->drv->dom_destroy(e->d, c.domid, &err));
}

void conf_not_enough_memory(void **state)
{
    struct conf_env *e = *state;
    struct xg_host_info h;
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->host_info(e->d, &h, &err));
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000004", XG_DOM_PV, h.free_bytes + GiB);
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    assert_false(e->drv->dom_create(e->d, &s, &done, &err));
    assert_string_equal(err.code, "HOST_NOT_ENOUGH_FREE_MEMORY");
    assert_int_equal(err.nparams, 2);
    unsigned long long needed = strtoull(err.param[0], NULL, 10);
    unsigned long long avail = strtoull(err.param[1], NULL, 10);
    assert_true(needed > avail);
    assert_true(needed >= h.free_bytes + GiB);
    sleep_ms(e->delay_ms + 50);
    assert_int_equal(c.calls, 0);
}

void conf_clean_shutdown(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000005", XG_DOM_PV, 512 * MiB);
    uint32_t domid = conf_create(e, &s);
    struct xg_host_info before, after;
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->host_info(e->d, &before, &err));
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    assert_true(e->drv->dom_shutdown(e->d, domid, XG_STOP_CLEAN, &done, &err));
    assert_int_equal(c.calls, 0);
    /* A second long operation while one is in flight is refused. */
    assert_false(e->drv->dom_reboot(e->d, domid, XG_STOP_CLEAN, &done, &err));
    xg_err_clear(&err);
    assert_true(conf_done_wait(&c, wait_ms(e)));
    assert_true(c.ok);
    assert_int_equal(c.domid, domid);
    assert_true(gone(e, domid));
    assert_true(e->drv->host_info(e->d, &after, &err));
    assert_true(after.free_bytes >= before.free_bytes + 512 * MiB);
}

void conf_hard_shutdown(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000006", XG_DOM_HVM, 512 * MiB);
    uint32_t domid = conf_create(e, &s);
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_pause(e->d, domid, &err));    /* hard works on paused */
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    assert_true(e->drv->dom_shutdown(e->d, domid, XG_STOP_HARD, &done, &err));
    assert_true(conf_done_wait(&c, wait_ms(e)));
    assert_true(c.ok);
    assert_true(gone(e, domid));
}

void conf_reboot_new_domid(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000007", XG_DOM_PV, 512 * MiB);
    uint32_t domid = conf_create(e, &s);
    for (int how = XG_STOP_CLEAN; how <= XG_STOP_HARD; how++) {
        struct conf_done c;
        conf_done_init(&c);
        xg_done done = conf_done_of(&c);
        xg_err err = XG_ERR_INIT;
        assert_true(e->drv->dom_reboot(e->d, domid, (enum xg_stop_how)how, &done, &err));
        assert_true(conf_done_wait(&c, wait_ms(e)));
        assert_true(c.ok);
        /* Xen reboots by building a new domain: new domid, same uuid. */
        assert_int_not_equal(c.domid, domid);
        assert_true(gone(e, domid));
        struct xg_dom_info i = info_of(e, c.domid);
        assert_string_equal(i.uuid, s.uuid);
        assert_int_equal(i.state, XG_DOM_RUNNING);
        domid = c.domid;
    }
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_destroy(e->d, domid, &err));
}

void conf_suspend_resume(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000008", XG_DOM_PVH, 768 * MiB);
    uint32_t domid = conf_create(e, &s);
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_set_vcpus_online(e->d, domid, 1, &err));
    char path[512];
    snprintf(path, sizeof path, "%s/suspend-%u.img", e->tmpdir, domid);
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    assert_true(e->drv->dom_suspend(e->d, domid, path, &done, &err));
    assert_true(conf_done_wait(&c, wait_ms(e)));
    assert_true(c.ok);
    assert_true(gone(e, domid));
    assert_int_equal(access(path, R_OK), 0);

    /* Resume: the image restores the saved shape (1 vcpu online). */
    s.restore_path = path;
    uint32_t again = conf_create(e, &s);
    struct xg_dom_info i = info_of(e, again);
    assert_string_equal(i.uuid, s.uuid);
    assert_int_equal(i.state, XG_DOM_RUNNING);
    assert_int_equal(i.vcpus_online, 1);
    assert_true(i.mem_max_bytes == 768 * MiB);

    /* An image is bound to its VM. */
    struct xg_dom_spec other;
    conf_spec(&other, "11111111-2222-4333-8444-0000000000ff", XG_DOM_PVH, 768 * MiB);
    other.restore_path = path;
    assert_false(e->drv->dom_create(e->d, &other, &done, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    xg_err_clear(&err);
    assert_true(e->drv->dom_destroy(e->d, again, &err));
    unlink(path);
}

void conf_counters_increase(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-000000000009", XG_DOM_PV, 512 * MiB);
    struct xg_nic_spec nic = {.devid = 0, .mac = {0x02, 0, 0, 0, 0, 9}, .bridge = "xenbr0", .mtu = 1500};
    s.nics = &nic;
    s.nnics = 1;
    uint32_t domid = conf_create(e, &s);
    xg_err err = XG_ERR_INIT;
    uint64_t cpu[3], rx[3], tx[3], rd[3], wr[3];
    uint64_t t_first = xg_mono_ns(), t_last;
    for (int k = 0; k < 3; k++) {
        if (k)
            sleep_ms(250);
        cpu[k] = info_of(e, domid).cpu_time_ns;
        struct xg_dom_stats st;
        assert_true(e->drv->dom_stats(e->d, domid, e->a, &st, &err));
        assert_true(st.nvifs >= 1 && st.nvbds >= 1);
        rx[k] = st.vifs[0].rx_bytes;
        tx[k] = st.vifs[0].tx_bytes;
        rd[k] = st.vbds[0].rx_bytes;
        wr[k] = st.vbds[0].tx_bytes;
    }
    t_last = xg_mono_ns();
    for (int k = 1; k < 3; k++) {
        assert_true(cpu[k] > cpu[k - 1]);
        assert_true(rx[k] > rx[k - 1]);
        assert_true(tx[k] > tx[k - 1]);
        assert_true(rd[k] >= rd[k - 1]);
        assert_true(wr[k] >= wr[k - 1]);
    }
    assert_true(rd[2] > rd[0] && wr[2] > wr[0]);
    /* Utilisation varies: two equal intervals do not give equal deltas. */
    assert_true(cpu[2] - cpu[1] != cpu[1] - cpu[0]);
    /* cpu time per vcpu stays below the wall time measured around it (at most 100% per vcpu;
     * the sleeps last longer on a loaded machine, so the bound is measured, not assumed) */
    assert_true(cpu[2] - cpu[0] <= 2ull * (t_last - t_first));

    /* A paused domain does not consume cpu. */
    assert_true(e->drv->dom_pause(e->d, domid, &err));
    uint64_t p0 = info_of(e, domid).cpu_time_ns;
    sleep_ms(100);
    assert_true(info_of(e, domid).cpu_time_ns == p0);
    struct xg_vcpu_info *v;
    uint32_t n;
    assert_true(e->drv->dom_vcpus(e->d, domid, e->a, &v, &n, &err));
    assert_int_equal(n, 2);
    assert_false(v[0].running);
    assert_true(e->drv->dom_destroy(e->d, domid, &err));
}

void conf_host_stats_sane(void **state)
{
    struct conf_env *e = *state;
    struct xg_host_info h;
    struct xg_host_stats a, b;
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->host_info(e->d, &h, &err));
    uint64_t t0 = xg_mono_ns();
    assert_true(e->drv->host_stats(e->d, e->a, &a, &err));
    sleep_ms(200);
    assert_true(e->drv->host_stats(e->d, e->a, &b, &err));
    uint64_t elapsed = xg_mono_ns() - t0;
    assert_true(a.total_bytes == h.total_bytes);
    assert_true(a.free_bytes <= a.total_bytes);
    assert_int_equal(a.ncpus, h.nr_cpus);
    assert_true(a.loadavg >= 0.0 && a.loadavg < 4.0 * h.nr_cpus);
    for (uint32_t c = 0; c < a.ncpus; c++) {
        uint64_t didle = b.pcpus[c].idle_ns - a.pcpus[c].idle_ns;
        assert_true(b.pcpus[c].idle_ns > a.pcpus[c].idle_ns);
        /* idle ≤ elapsed (measured: ~200 ms on a quiet machine), with 10 ms for the
         * granularity of the counters */
        assert_true(didle <= elapsed + 10000000ull);
    }
    for (uint32_t p = 0; p < a.npifs; p++) {
        assert_true(a.pifs[p].name[0] != '\0');
        assert_true(b.pifs[p].rx_bytes > a.pifs[p].rx_bytes);
    }
    /* free = total − what domains hold: creating a guest lowers it. */
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-00000000000a", XG_DOM_PV, 2 * GiB);
    uint32_t domid = conf_create(e, &s);
    assert_true(e->drv->host_stats(e->d, e->a, &b, &err));
    assert_true(b.free_bytes + 2 * GiB <= a.free_bytes);
    assert_true(e->drv->dom_destroy(e->d, domid, &err));
}

void conf_memory_vcpus(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-00000000000b", XG_DOM_PV, 1 * GiB);
    s.vcpus_max = 4;
    s.vcpus_at_startup = 2;
    uint32_t domid = conf_create(e, &s);
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_set_memory_target(e->d, domid, 512 * MiB, &err));
    assert_true(info_of(e, domid).mem_target_bytes == 512 * MiB);
    assert_false(e->drv->dom_set_memory_target(e->d, domid, 2 * GiB, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    xg_err_clear(&err);
    assert_false(e->drv->dom_set_vcpus_online(e->d, domid, 0, &err));
    xg_err_clear(&err);
    assert_false(e->drv->dom_set_vcpus_online(e->d, domid, 5, &err));
    xg_err_clear(&err);
    assert_true(e->drv->dom_set_vcpus_online(e->d, domid, 3, &err));
    struct xg_vcpu_info *v;
    uint32_t n, online = 0;
    assert_true(e->drv->dom_vcpus(e->d, domid, e->a, &v, &n, &err));
    assert_int_equal(n, 4);
    for (uint32_t i = 0; i < n; i++)
        online += v[i].online;
    assert_int_equal(online, 3);
    assert_int_equal(info_of(e, domid).vcpus_online, 3);
    assert_true(e->drv->dom_destroy(e->d, domid, &err));
}

void conf_dom0_protected(void **state)
{
    struct conf_env *e = *state;
    xg_err err = XG_ERR_INIT;
    assert_false(e->drv->dom_pause(e->d, 0, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    xg_err_clear(&err);
    assert_false(e->drv->dom_destroy(e->d, 0, &err));
    xg_err_clear(&err);
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    assert_false(e->drv->dom_shutdown(e->d, 0, XG_STOP_HARD, &done, &err));
    assert_int_equal(info_of(e, 0).state, XG_DOM_RUNNING);
}

/* Waits for one hot-plug completion. */
static bool nic_op(struct conf_env *e, uint32_t domid, const struct xg_nic_spec *add,
                   uint32_t remove_devid, xg_err *err)
{
    struct conf_done c;
    conf_done_init(&c);
    xg_done done = conf_done_of(&c);
    bool ok = add ? e->drv->nic_add(e->d, domid, add, &done, err)
                  : e->drv->nic_remove(e->d, domid, remove_devid, false, &done, err);
    if (!ok)
        return false;
    assert_true(conf_done_wait(&c, wait_ms(e)));
    assert_int_equal(c.calls, 1);
    return c.ok;
}

static bool has_vif(struct conf_env *e, uint32_t domid, uint32_t devid)
{
    struct xg_dom_stats st;
    xg_err err = XG_ERR_INIT;
    assert_true(e->drv->dom_stats(e->d, domid, e->a, &st, &err));
    for (uint32_t i = 0; i < st.nvifs; i++)
        if (st.vifs[i].devid == devid)
            return true;
    return false;
}

void conf_nic_hotplug(void **state)
{
    struct conf_env *e = *state;
    struct xg_dom_spec s;
    conf_spec(&s, "11111111-2222-4333-8444-00000000000a", XG_DOM_PV, 512 * MiB);
    uint32_t domid = conf_create(e, &s);
    assert_false(has_vif(e, domid, 0));         /* built without NICs: none */
    struct xg_nic_spec nic = {.devid = 2, .mac = {0x02, 0, 0, 0, 0, 0x0a}, .bridge = "xenbr0",
                              .mtu = 1500};
    xg_err err = XG_ERR_INIT;
    assert_true(nic_op(e, domid, &nic, 0, &err));
    assert_true(has_vif(e, domid, 2));
    /* a second NIC with the same devid, removing one that is not there */
    assert_false(nic_op(e, domid, &nic, 0, &err));
    xg_err_clear(&err);
    assert_false(nic_op(e, domid, NULL, 5, &err));
    xg_err_clear(&err);
    assert_true(nic_op(e, domid, NULL, 2, &err));
    assert_false(has_vif(e, domid, 2));
    /* dom0 and missing domains refuse */
    assert_false(nic_op(e, 0, &nic, 0, &err));
    xg_err_clear(&err);
    assert_false(nic_op(e, UNUSED_DOMID, &nic, 0, &err));
    xg_err_clear(&err);
    assert_true(e->drv->dom_destroy(e->d, domid, &err));
}
