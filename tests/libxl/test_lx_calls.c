/* test_lx_calls.c: the libxl driver's call sequences against wrapped libxl
 * entry points (-Wl,--wrap=…, see CMakeLists.txt): which libxl calls each op
 * makes, with which arguments, that every libxl_<type>_init has its
 * _dispose on every path, and how libxl return codes become xg_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libxl_utils.h>

#include "../../handlers/driver/libxl/lx_internal.h"

#define FAKE_CTX ((libxl_ctx *)0x1000)

static int live_dominfo, live_bitmaps;
static void *last_ao;                   /* for_callback of the last create */

/* ===== wrapped libxl ===== */

int __wrap_libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *h)
{
    check_expected(domid);
    return mock_type(int);
}
int __wrap_libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *h)
{
    check_expected(domid);
    return mock_type(int);
}
int __wrap_libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *h)
{
    check_expected(domid);
    return mock_type(int);
}
int __wrap_libxl_domain_shutdown(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *h)
{
    check_expected(domid);
    return mock_type(int);
}
int __wrap_libxl_domain_reboot(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *h)
{
    check_expected(domid);
    return mock_type(int);
}
void __real_libxl_dominfo_init(libxl_dominfo *p);
void __real_libxl_dominfo_dispose(libxl_dominfo *p);
void __wrap_libxl_dominfo_init(libxl_dominfo *p) { live_dominfo++; __real_libxl_dominfo_init(p); }
void __wrap_libxl_dominfo_dispose(libxl_dominfo *p) { live_dominfo--; __real_libxl_dominfo_dispose(p); }
int __wrap_libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info, uint32_t domid)
{
    check_expected(domid);
    int rc = mock_type(int);
    if (rc == 0)
        info->vcpu_max_id = mock_type(uint32_t);
    return rc;
}
int __wrap_libxl_cpu_bitmap_alloc(libxl_ctx *ctx, libxl_bitmap *m, int max)
{
    m->size = (uint32_t)(max + 7) / 8;
    m->map = calloc(m->size, 1);
    live_bitmaps++;
    return 0;
}
void __wrap_libxl_bitmap_dispose(libxl_bitmap *m)
{
    if (m->map)
        live_bitmaps--;
    free(m->map);
    m->map = NULL;
    m->size = 0;
}
int __wrap_libxl_set_vcpuonline(libxl_ctx *ctx, uint32_t domid, libxl_bitmap *m,
                                const libxl_asyncop_how *h)
{
    check_expected(domid);
    int set = 0;
    for (uint32_t i = 0; i < m->size * 8; i++)
        set += libxl_bitmap_test(m, (int)i);
    check_expected(set);
    assert_true(libxl_bitmap_test(m, 0));       /* vcpu 0 always online */
    return mock_type(int);
}
int __wrap_libxl_set_memory_target(libxl_ctx *ctx, uint32_t domid, int64_t kb, int rel, int enf)
{
    check_expected(kb);
    assert_int_equal(rel, 0);
    return mock_type(int);
}
int __wrap_libxl_evenable_domain_death(libxl_ctx *ctx, uint32_t domid, libxl_ev_user u,
                                       libxl_evgen_domain_death **out)
{
    *out = (libxl_evgen_domain_death *)(uintptr_t)(0x2000 + domid);
    return 0;
}
void __wrap_libxl_evdisable_domain_death(libxl_ctx *ctx, libxl_evgen_domain_death *g) { }
int __wrap_libxl_domain_need_memory(libxl_ctx *ctx, libxl_domain_config *c, uint32_t d,
                                    uint64_t *need)
{
    *need = mock_type(uint64_t);
    return 0;
}
int __wrap_libxl_get_free_memory(libxl_ctx *ctx, uint64_t *kb)
{
    *kb = mock_type(uint64_t);
    return 0;
}
int __wrap_libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *c, uint32_t *domid,
                                   const libxl_asyncop_how *how, const libxl_asyncprogress_how *p)
{
    assert_non_null(how);                   /* always asynchronous */
    assert_ptr_equal(how->callback, lx_ao_callback);
    assert_int_equal(c->b_info.max_vcpus, 2);
    last_ao = how->u.for_callback;
    *domid = 7;
    return mock_type(int);
}

/* ===== a driver instance around the fake ctx ===== */

static struct xg_drv *fake_drv(void)
{
    struct xg_drv *d = calloc(1, sizeof *d);
    d->ctx = FAKE_CTX;
    pthread_mutex_init(&d->lock, NULL);
    d->watch = calloc(LX_DOMID_LIMIT, sizeof *d->watch);
    d->waiting = calloc(LX_DOMID_LIMIT, sizeof *d->waiting);
    assert_int_equal(pipe(d->wake), 0);
    return d;
}

static void free_drv(struct xg_drv *d)
{
    while (d->head) {
        struct lx_work *w = d->head;
        d->head = w->next;
        if (w->op)
            lx_op_free(w->op);
        free(w);
    }
    close(d->wake[0]);
    close(d->wake[1]);
    free(d->watch);
    free(d->waiting);
    free(d);
}

struct done_rec { int calls; bool ok; uint32_t domid; xg_err err; };

static void on_done(void *arg, bool ok, const xg_err *err, uint32_t domid)
{
    struct done_rec *r = arg;
    r->calls++;
    r->ok = ok;
    r->domid = domid;
    if (err)
        r->err = *err;
}

/* ===== tests ===== */

static void pause_rc_mapping(void **state)
{
    struct xg_drv *d = fake_drv();
    xg_err err = XG_ERR_INIT;
    expect_value(__wrap_libxl_domain_pause, domid, 5);
    will_return(__wrap_libxl_domain_pause, 0);
    assert_true(lx_dom_pause(d, 5, &err));
    assert_false(xg_err_is_set(&err));

    expect_value(__wrap_libxl_domain_pause, domid, 9);
    will_return(__wrap_libxl_domain_pause, ERROR_DOMAIN_NOTFOUND);
    assert_false(lx_dom_pause(d, 9, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    assert_string_equal(err.param[0], "domain not found: 9");

    /* dom0 is refused before libxl is called (no expectation queued). */
    xg_err_clear(&err);
    assert_false(lx_dom_pause(d, 0, &err));
    assert_false(lx_dom_destroy(d, 0, &err));

    xg_err_clear(&err);
    expect_value(__wrap_libxl_domain_unpause, domid, 5);
    will_return(__wrap_libxl_domain_unpause, ERROR_FAIL);
    assert_false(lx_dom_unpause(d, 5, &err));
    assert_non_null(strstr(err.param[0], "unpause failed"));
    free_drv(d);
}

static void error_table(void **state)
{
    static const struct { int rc; const char *substr; } t[] = {
        { ERROR_DOMAIN_NOTFOUND, "domain not found: 3" },
        { ERROR_DOMAIN_DESTROYED, "domain not found: 3" },
        { ERROR_NOPARAVIRT, "no PV drivers" },
        { ERROR_GUEST_TIMEDOUT, "timed out" },
        { ERROR_TIMEDOUT, "timed out" },
        { ERROR_NOMEM, "out of memory" },
        { ERROR_INVAL, "invalid argument" },
        { ERROR_NI, "not supported" },
        { ERROR_ABORTED, "aborted" },
        { ERROR_LOCK_FAIL, "lock" },
        { ERROR_FAIL, "op failed (libxl fail)" },
        { -999, "op failed (libxl error)" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        xg_err err = XG_ERR_INIT;
        assert_false(lx_err(&err, t[i].rc, "op", 3));
        assert_string_equal(err.code, "INTERNAL_ERROR");
        if (!strstr(err.param[0], t[i].substr))
            fail_msg("rc %d: '%s' lacks '%s'", t[i].rc, err.param[0], t[i].substr);
    }
}

static void vcpus_online_pairs_init_dispose(void **state)
{
    struct xg_drv *d = fake_drv();
    xg_err err = XG_ERR_INIT;
    /* success: 2 of 4 */
    expect_value(__wrap_libxl_domain_info, domid, 4);
    will_return(__wrap_libxl_domain_info, 0);
    will_return(__wrap_libxl_domain_info, 3);
    expect_value(__wrap_libxl_set_vcpuonline, domid, 4);
    expect_value(__wrap_libxl_set_vcpuonline, set, 2);
    will_return(__wrap_libxl_set_vcpuonline, 0);
    assert_true(lx_set_vcpus_online(d, 4, 2, &err));
    assert_int_equal(live_dominfo, 0);
    assert_int_equal(live_bitmaps, 0);
    /* too many: refused after info, before set_vcpuonline */
    expect_value(__wrap_libxl_domain_info, domid, 4);
    will_return(__wrap_libxl_domain_info, 0);
    will_return(__wrap_libxl_domain_info, 3);
    assert_false(lx_set_vcpus_online(d, 4, 5, &err));
    assert_int_equal(live_dominfo, 0);
    /* libxl failure on set: mapped, still disposed */
    xg_err_clear(&err);
    expect_value(__wrap_libxl_domain_info, domid, 4);
    will_return(__wrap_libxl_domain_info, 0);
    will_return(__wrap_libxl_domain_info, 3);
    expect_value(__wrap_libxl_set_vcpuonline, domid, 4);
    expect_value(__wrap_libxl_set_vcpuonline, set, 4);
    will_return(__wrap_libxl_set_vcpuonline, ERROR_INVAL);
    assert_false(lx_set_vcpus_online(d, 4, 4, &err));
    assert_non_null(strstr(err.param[0], "invalid argument"));
    assert_int_equal(live_dominfo, 0);
    assert_int_equal(live_bitmaps, 0);
    /* missing domain */
    xg_err_clear(&err);
    expect_value(__wrap_libxl_domain_info, domid, 6);
    will_return(__wrap_libxl_domain_info, ERROR_DOMAIN_NOTFOUND);
    assert_false(lx_set_vcpus_online(d, 6, 1, &err));
    assert_string_equal(err.param[0], "domain not found: 6");
    assert_int_equal(live_dominfo, 0);
    free_drv(d);
}

static void memory_target_in_kib(void **state)
{
    struct xg_drv *d = fake_drv();
    xg_err err = XG_ERR_INIT;
    expect_value(__wrap_libxl_set_memory_target, kb, 524288);
    will_return(__wrap_libxl_set_memory_target, 0);
    assert_true(lx_set_memory_target(d, 3, 512ull << 20, &err));
    free_drv(d);
}

static void clean_shutdown_waits_for_guest(void **state)
{
    struct xg_drv *d = fake_drv();
    struct done_rec r = { 0 };
    xg_done done = { on_done, &r };
    xg_err err = XG_ERR_INIT;
    /* No PV drivers: libxl's ERROR_NOPARAVIRT, nothing left parked. */
    expect_value(__wrap_libxl_domain_shutdown, domid, 12);
    will_return(__wrap_libxl_domain_shutdown, ERROR_NOPARAVIRT);
    assert_false(lx_dom_shutdown(d, 12, XG_STOP_CLEAN, &done, &err));
    assert_non_null(strstr(err.param[0], "no PV drivers"));
    assert_null(d->waiting[12]);
    assert_int_equal(r.calls, 0);

    /* With drivers: the request is sent, completion waits for the event. */
    expect_value(__wrap_libxl_domain_shutdown, domid, 12);
    will_return(__wrap_libxl_domain_shutdown, 0);
    assert_true(lx_dom_shutdown(d, 12, XG_STOP_CLEAN, &done, &err));
    assert_non_null(d->watch[12]);
    assert_non_null(d->waiting[12]);
    assert_int_equal(r.calls, 0);
    /* A second one while waiting is refused. */
    xg_err_clear(&err);
    assert_false(lx_dom_reboot(d, 12, XG_STOP_CLEAN, &done, &err));
    /* The guest powers off: the driver reaps it (destroy) and reports. */
    expect_value(__wrap_libxl_domain_destroy, domid, 12);
    will_return(__wrap_libxl_domain_destroy, 0);
    lx_ops_on_event(d, 12, LIBXL_SHUTDOWN_REASON_POWEROFF);
    assert_int_equal(r.calls, 1);
    assert_true(r.ok);
    assert_int_equal(r.domid, 12);
    assert_null(d->waiting[12]);

    /* A crash instead of the requested shutdown fails the op. */
    expect_value(__wrap_libxl_domain_shutdown, domid, 13);
    will_return(__wrap_libxl_domain_shutdown, 0);
    assert_true(lx_dom_shutdown(d, 13, XG_STOP_CLEAN, &done, &err));
    lx_ops_on_event(d, 13, LIBXL_SHUTDOWN_REASON_CRASH);
    assert_int_equal(r.calls, 2);
    assert_false(r.ok);
    free_drv(d);
}

static void create_checks_memory_then_goes_async(void **state)
{
    struct xg_drv *d = fake_drv();
    struct done_rec r = { 0 };
    xg_done done = { on_done, &r };
    xg_err err = XG_ERR_INIT;
    struct xg_dom_spec s;
    memset(&s, 0, sizeof s);
    snprintf(s.uuid, sizeof s.uuid, "3f2a6c1e-9d1b-4c8e-a7f0-5b6d7e8f9a0b");
    s.type = XG_DOM_PVH;
    s.kernel = "/boot/k";
    s.mem_static_max = s.mem_dynamic_max = s.mem_target = 1ull << 30;
    s.vcpus_max = s.vcpus_at_startup = 2;

    will_return(__wrap_libxl_domain_need_memory, (uint64_t)1100000);
    will_return(__wrap_libxl_get_free_memory, (uint64_t)1000000);
    assert_false(lx_dom_create(d, &s, &done, &err));
    assert_string_equal(err.code, "HOST_NOT_ENOUGH_FREE_MEMORY");
    assert_int_equal(err.nparams, 2);
    assert_string_equal(err.param[0], "1126400000");
    assert_string_equal(err.param[1], "1024000000");

    xg_err_clear(&err);
    will_return(__wrap_libxl_domain_need_memory, (uint64_t)1100000);
    will_return(__wrap_libxl_get_free_memory, (uint64_t)8000000);
    will_return(__wrap_libxl_domain_create_new, 0);
    assert_true(lx_dom_create(d, &s, &done, &err));
    assert_int_equal(r.calls, 0);          /* completes through the ao callback */

    /* The ao callback only queues (it may run on any thread); the event
     * thread then unpauses the new domain, watches it and reports. */
    assert_null(d->head);
    lx_ao_callback(FAKE_CTX, 0, last_ao);
    assert_non_null(d->head);
    assert_int_equal(r.calls, 0);
    struct lx_work *w = d->head;
    d->head = d->tail = NULL;
    assert_int_equal(w->kind, LX_W_AO_DONE);
    expect_value(__wrap_libxl_domain_unpause, domid, 7);
    will_return(__wrap_libxl_domain_unpause, 0);
    lx_ops_on_ao_done(d, w->op);
    free(w);
    assert_int_equal(r.calls, 1);
    assert_true(r.ok);
    assert_int_equal(r.domid, 7);
    assert_non_null(d->watch[7]);
    xg_err_clear(&err);
    will_return(__wrap_libxl_domain_need_memory, (uint64_t)1);
    will_return(__wrap_libxl_get_free_memory, (uint64_t)8000000);
    will_return(__wrap_libxl_domain_create_new, ERROR_FAIL);
    assert_false(lx_dom_create(d, &s, &done, &err));
    assert_non_null(strstr(err.param[0], "create failed"));
    assert_int_equal(r.calls, 1);          /* a refused start never calls done */
    free_drv(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pause_rc_mapping),
        cmocka_unit_test(error_table),
        cmocka_unit_test(vcpus_online_pairs_init_dispose),
        cmocka_unit_test(memory_target_in_kib),
        cmocka_unit_test(clean_shutdown_waits_for_guest),
        cmocka_unit_test(create_checks_memory_then_goes_async),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
