/* sim.c: the sim driver's table, open/close, listing and the short
 * operations. A simulated Xen host in the spirit of libvirt's test driver:
 * full state machine, Xen's failures, no randomness (see sim.h for the
 * hooks that make guests misbehave). Never calls back with d->lock held. */
#include "sim.h"
#include "sim_fixture.h"
#include "sim_handover.h"
#include "sim_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../server/log.h"

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)
#define SIM_DOM0_MEM (4 * GiB)
#define SIM_DOM0_VCPUS 8u
#define SIM_HEADROOM (64 * GiB)      /* free memory left after the fixtures */

static void add_dom0(struct xg_drv *d, uint64_t now)
{
    struct sim_dom *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->domid = 0;
    s->gen = ++d->next_gen;
    snprintf(s->uuid, sizeof s->uuid, "00000000-0000-0000-0000-000000000000");
    snprintf(s->name, sizeof s->name, "Domain-0");
    snprintf(s->distro, sizeof s->distro, "debian");
    s->type = XG_DOM_PV;
    s->state = XG_DOM_RUNNING;
    s->reason = XG_SHUTDOWN_NONE;
    s->pv_drivers = true;
    s->mem_max = s->mem_target = s->mem_current = s->mem_reserved = SIM_DOM0_MEM;
    s->vcpus_max = s->vcpus_online = SIM_DOM0_VCPUS;
    s->seed = sim_mix64(d->cfg.sim_seed ^ 0xd0d0ull);
    s->start_ns = now;
    s->prior_run_ns = 3ull * 86400 * 1000000000ull;   /* host up three days */
    s->start_time = d->boot_wall;
    d->doms[0] = s;
    d->ndoms++;
    d->used_bytes += SIM_DOM0_MEM;
}

/* The fixtures' index; their guests run only on the host's first boot (a
 * handover or a reboot decides otherwise). */
static bool add_fixtures(struct xg_drv *d, uint64_t now, bool run, xg_err *err)
{
    uint32_t n = d->cfg.sim_vms;
    d->fix = calloc(n ? n : 1, sizeof *d->fix);
    if (!d->fix)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        struct sim_fixture_guest g;
        sim_fixture_guest(i, d->cfg.sim_seed, &g);
        memcpy(d->fix[i].uuid, g.uuid, sizeof g.uuid);
        d->fix[i].index = i;
        if (g.power == SIM_FIX_HALTED || !run)
            continue;
        struct sim_dom *s = sim_dom_add(d, g.uuid, g.name, g.type, g.mem_static_max,
                                        g.mem_target, g.vcpus_max, g.vcpus_at_startup, err);
        if (!s)
            return false;
        s->pv_drivers = g.pv_drivers;
        s->hostile = g.hostile;
        snprintf(s->distro, sizeof s->distro, "%s", g.distro);
        s->nics = 1u << SIM_FIX_NIC_DEVID;   /* booted with its one NIC */
        /* Pre-existing guests have been up for a while already, though
         * not longer than the host (three days, see add_dom0). */
        uint64_t age_s = 600 + sim_mix64(s->seed) % (3 * 86400 - 1200);
        s->prior_run_ns = age_s * 1000000000ull;
        s->start_time -= (int64_t)age_s;
        if (g.power == SIM_FIX_RUNNING) {
            s->pause_count = 0;
            s->state = XG_DOM_RUNNING;
            sim_dom_set_running(s, true, now);
        }
    }
    d->nfix = n;
    sim_fix_index_sort(d);
    return true;
}

static void sim_close(struct xg_drv *d);

static bool sim_open(struct xg_drv **out, const struct xg_drv_config *cfg,
                     const struct xg_drv_events *ev, xg_err *err)
{
    if (cfg->sim_vms > SIM_FIXTURE_MAX || cfg->sim_vms >= SIM_DOMID_LIMIT - 1)
        return xg_err_internal(err, "sim: at most %u guests", SIM_DOMID_LIMIT - 2);
    struct xg_drv *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->doms = calloc(SIM_DOMID_LIMIT, sizeof *d->doms);
    if (!d->doms)
        abort();
    pthread_mutex_init(&d->lock, NULL);
    if (!sim_consoles_new(d))
        abort();
    d->cfg = *cfg;
    snprintf(d->state_dir, sizeof d->state_dir, "%s", cfg->state_dir ? cfg->state_dir : "");
    d->cfg.state_dir = d->state_dir;
    if (ev)
        d->ev = *ev;
    d->next_domid = 1;
    d->ncpus = 32;
    uint64_t now = sim_now_ns();
    d->boot_ns = now;
    d->boot_wall = (int64_t)time(NULL) - 3 * 86400;

    /* Size the host to hold dom0 and every fixture domain plus headroom,
     * rounded to 16 GiB like real DIMM configurations. */
    uint64_t need = SIM_DOM0_MEM + SIM_HEADROOM;
    for (uint32_t i = 0; i < cfg->sim_vms; i++) {
        struct sim_fixture_guest g;
        sim_fixture_guest(i, cfg->sim_seed, &g);
        if (g.power != SIM_FIX_HALTED)
            need += sim_dom_need(g.type, g.mem_target, g.vcpus_max);
    }
    d->total_bytes = (need + 16 * GiB - 1) / (16 * GiB) * (16 * GiB);

    enum sim_boot boot = sim_handover_take(d, now);
    if (boot == SIM_BOOT_REBOOTED)
        d->boot_wall = (int64_t)time(NULL);
    add_dom0(d, now);
    if (boot == SIM_BOOT_REBOOTED)
        d->doms[0]->prior_run_ns = 0;
    if (!add_fixtures(d, now, boot == SIM_BOOT_FIRST, err)) {
        sim_close(d);
        return false;
    }
    if (!sim_worker_start(&d->worker, d, err)) {
        sim_close(d);
        return false;
    }
    XG_INFO("sim", "sim host: %" PRIu32 " domains (%" PRIu32 " guests described), "
            "%" PRIu64 " MiB, seed %" PRIu64, d->ndoms, cfg->sim_vms,
            (uint64_t)(d->total_bytes / MiB), cfg->sim_seed);
    *out = d;
    return true;
}

static void sim_close(struct xg_drv *d)
{
    if (!d)
        return;
    sim_worker_stop(&d->worker, d);   /* pending dones fire (failed) first */
    sim_consoles_free(d);
    for (uint32_t i = 0; i < SIM_DOMID_LIMIT; i++)
        free(d->doms[i]);
    free(d->doms);
    free(d->fix);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static bool sim_dom_list(struct xg_drv *d, xg_arena *a, struct xg_dom_info **out,
                         uint32_t *n_out, xg_err *err)
{
    pthread_mutex_lock(&d->lock);
    uint32_t n = d->ndoms, k = 0;
    struct xg_dom_info *v = xg_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        pthread_mutex_unlock(&d->lock);
        return xg_err_internal(err, "dom_list: arena exhausted (%" PRIu32 " domains)", n);
    }
    uint64_t now = sim_now_ns();
    for (uint32_t i = 0; i < SIM_DOMID_LIMIT && k < n; i++)
        if (d->doms[i])
            sim_dom_fill_info(d->doms[i], now, &v[k++]);
    pthread_mutex_unlock(&d->lock);
    *out = v;
    *n_out = k;
    return true;
}

static bool sim_dom_info(struct xg_drv *d, uint32_t domid, struct xg_dom_info *out, xg_err *err)
{
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (s)
        sim_dom_fill_info(s, sim_now_ns(), out);
    pthread_mutex_unlock(&d->lock);
    return s != NULL;
}

/* Lookup for an operation that dom0 must refuse (Xen will not let the
 * control domain pause or destroy itself: EINVAL/EPERM). */
static struct sim_dom *find_guest(struct xg_drv *d, uint32_t domid, const char *op, xg_err *err)
{
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (s && domid == 0) {
        XG_INFO("sim", "%s refused for domain 0", op);
        xg_err_internal(err, "%s: not permitted on domain 0", op);
        return NULL;
    }
    return s;
}

static bool sim_dom_destroy(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = find_guest(d, domid, "destroy", err);
    if (s)
        sim_dom_remove(d, s);      /* any pending job finds its gen gone */
    pthread_mutex_unlock(&d->lock);
    return s != NULL;
}

static bool sim_dom_pause(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    bool ok = false;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = find_guest(d, domid, "pause", err);
    if (!s)
        goto out;
    /* Xen counts toolstack pauses: pausing a paused domain succeeds, up to
     * 254 nested pauses (then EUSERS, which libxl reports as ERROR_FAIL). */
    if (s->pause_count >= SIM_MAX_PAUSE) {
        XG_INFO("sim", "pause of domain %" PRIu32 ": too many pauses (EUSERS)", domid);
        xg_err_internal(err, "pausing domain %" PRIu32 " failed: Too many users", domid);
        goto out;
    }
    s->pause_count++;
    if (s->state == XG_DOM_RUNNING) {
        s->state = XG_DOM_PAUSED;
        sim_dom_set_running(s, false, sim_now_ns());
    }
    ok = true;
out:
    pthread_mutex_unlock(&d->lock);
    return ok;
}

static bool sim_dom_unpause(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    bool ok = false;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = find_guest(d, domid, "unpause", err);
    if (!s)
        goto out;
    /* Xen refuses to unpause past what the toolstack paused (EINVAL); a
     * domain still being built holds the builder's pause, not ours. */
    if (s->pause_count == 0 || (s->building && s->pause_count == 1)) {
        XG_INFO("sim", "unpause of domain %" PRIu32 ": not paused (EINVAL)", domid);
        xg_err_internal(err, "unpausing domain %" PRIu32 " failed: Invalid argument", domid);
        goto out;
    }
    s->pause_count--;
    if (s->pause_count == 0 && s->state == XG_DOM_PAUSED) {
        s->state = XG_DOM_RUNNING;
        sim_dom_set_running(s, true, sim_now_ns());
    }
    ok = true;
out:
    pthread_mutex_unlock(&d->lock);
    return ok;
}

static bool sim_set_memory_target(struct xg_drv *d, uint32_t domid, uint64_t bytes, xg_err *err)
{
    bool ok = false;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (!s)
        goto out;
    /* libxl_set_memory_target refuses a target above the maximum (ERROR_INVAL). */
    if (bytes > s->mem_max || bytes < 16 * MiB) {
        xg_err_internal(err, "memory target %" PRIu64 " out of range for domain %" PRIu32
                        " (max %" PRIu64 ")", bytes, domid, s->mem_max);
        goto out;
    }
    s->mem_target = bytes;
    if (domid != 0) {
        /* The balloon gets what the host can give. */
        uint64_t free_b = d->total_bytes - d->used_bytes;
        uint64_t grow = bytes > s->mem_current ? bytes - s->mem_current : 0;
        s->mem_current = grow > free_b ? s->mem_current + free_b : bytes;
        uint64_t need = sim_dom_need(s->type, s->mem_current, s->vcpus_max);
        d->used_bytes = d->used_bytes - s->mem_reserved + need;
        s->mem_reserved = need;
    } else {
        s->mem_current = bytes;
    }
    ok = true;
out:
    pthread_mutex_unlock(&d->lock);
    return ok;
}

static bool sim_set_vcpus_online(struct xg_drv *d, uint32_t domid, uint32_t n, xg_err *err)
{
    bool ok = false;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (!s)
        goto out;
    if (n == 0 || n > s->vcpus_max) {
        xg_err_internal(err, "domain %" PRIu32 ": %" PRIu32 " vcpus requested, max is %" PRIu32,
                        domid, n, s->vcpus_max);
        goto out;
    }
    if (s->state == XG_DOM_SHUTDOWN) {
        xg_err_internal(err, "domain %" PRIu32 " has shut down", domid);
        goto out;
    }
    s->vcpus_online = n;
    ok = true;
out:
    pthread_mutex_unlock(&d->lock);
    return ok;
}

/* ===== Test hooks (sim.h) ===== */

static void inject_fire(struct xg_drv *d, struct sim_job *j, bool closing)
{
    if (!closing && d->ev.dom_changed)
        d->ev.dom_changed(d->ev.arg, j->domid);
}

bool sim_inject_guest_shutdown(struct xg_drv *d, uint32_t domid,
                               enum xg_shutdown_reason reason, xg_err *err)
{
    if (reason == XG_SHUTDOWN_SUSPEND || reason == XG_SHUTDOWN_NONE)
        return xg_err_internal(err, "sim: a guest cannot inject shutdown reason %d", (int)reason);
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = find_guest(d, domid, "inject shutdown", err);
    bool ok = s && s->state == XG_DOM_RUNNING;
    if (s && !ok)
        xg_err_internal(err, "sim: domain %" PRIu32 " is not running", domid);
    if (ok) {
        s->state = XG_DOM_SHUTDOWN;
        s->reason = reason;
        sim_dom_set_running(s, false, sim_now_ns());
    }
    pthread_mutex_unlock(&d->lock);
    if (!ok)
        return false;
    struct sim_job *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    j->fn = inject_fire;
    j->domid = domid;
    return sim_worker_post(&d->worker, j, 0, err);
}

const struct xg_driver xg_driver_sim = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .restarting = sim_restarting,
    .host_info = sim_host_info,
    .host_stats = sim_host_stats,
    .pcpu_list = sim_pcpu_list,
    .host_console = sim_host_console,
    .dom_list = sim_dom_list,
    .dom_info = sim_dom_info,
    .dom_vcpus = sim_dom_vcpus,
    .dom_stats = sim_dom_stats,
    .dom_create = sim_dom_create,
    .dom_shutdown = sim_dom_shutdown,
    .dom_reboot = sim_dom_reboot,
    .dom_suspend = sim_dom_suspend,
    .dom_destroy = sim_dom_destroy,
    .dom_pause = sim_dom_pause,
    .dom_unpause = sim_dom_unpause,
    .dom_set_memory_target = sim_set_memory_target,
    .dom_set_vcpus_online = sim_set_vcpus_online,
    .dom_disk_add = sim_dom_disk_add,
    .dom_disk_remove = sim_dom_disk_remove,
    .dom_cdrom_change = sim_dom_cdrom_change,
    .nic_add = sim_nic_add,
    .nic_remove = sim_nic_remove,
    .guest_read = sim_guest_read,
    .guest_list = sim_guest_list,
    .console_open = sim_console_open,
};
