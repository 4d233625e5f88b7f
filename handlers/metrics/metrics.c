/* metrics.c: module state and life cycle: the registry, the 5 s timer that
 * drives sampler_tick, persistence at shutdown and VM halt, and the query
 * used by host/VM.query_data_source. */
#include "metrics.h"
#include "metrics_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../server/log.h"
#include "../../server/timer.h"

#define TICK_ARENA_BYTES (64u << 20)   /* 1,000 VMs use a few MB */
#define TICK_OFFSET_MS 500             /* sample just after each 5 s boundary */

static struct {
    bool up;
    struct mreg reg;
    const struct xg_driver *drv;
    struct xg_drv *d;
    char rrd_dir[4096];
    xg_arena *arena;
    pthread_mutex_t mu;                /* timer pointer and stopping flag */
    pthread_mutex_t tick_mu;           /* one tick at a time; shutdown waits */
    xg_timer *timer;
    bool stopping;
} M = {.mu = PTHREAD_MUTEX_INITIALIZER, .tick_mu = PTHREAD_MUTEX_INITIALIZER};

struct mreg *metrics_reg(void) { return &M.reg; }
const char *metrics_rrd_dir(void) { return M.rrd_dir[0] ? M.rrd_dir : NULL; }

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Delay to the next wall-clock multiple of 5 s plus the offset, so PDPs
 * line up with XAPI's and with other hosts'. */
static uint64_t next_delay_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    uint64_t period = RRD_STEP * 1000;
    uint64_t next = (now_ms / period + 1) * period + TICK_OFFSET_MS;
    if (next - now_ms < 1000)          /* too close: one period later */
        next += period;
    return next - now_ms;
}

static void on_tick(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&M.mu);
    xg_timer *self = M.timer;          /* fired: its handle is ours to free */
    M.timer = NULL;
    pthread_mutex_unlock(&M.mu);
    if (self)
        xg_timer_cancel(self);
    pthread_mutex_lock(&M.tick_mu);
    if (!M.stopping) {
        xg_arena_reset(M.arena);
        sampler_tick(&M.reg, M.drv, M.d, metrics_rrd_dir(), wall_now(), M.arena, NULL);
    }
    pthread_mutex_unlock(&M.tick_mu);
    pthread_mutex_lock(&M.mu);
    M.timer = M.stopping ? NULL : xg_timer_add(next_delay_ms(), on_tick, NULL);
    pthread_mutex_unlock(&M.mu);
}

static bool mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}

bool xg_metrics_init(const struct xg_driver *drv, struct xg_drv *d,
                     const char *state_dir, xg_err *err)
{
    if (M.up)
        return xg_err_internal(err, "metrics: already initialised");
    M.drv = drv;
    M.d = d;
    M.rrd_dir[0] = '\0';
    if (state_dir && state_dir[0]) {
        int n = snprintf(M.rrd_dir, sizeof(M.rrd_dir), "%s/rrd", state_dir);
        if (n < 0 || (size_t)n >= sizeof(M.rrd_dir))
            return xg_err_internal(err, "metrics: state dir path too long");
        if (!mkdir_p(M.rrd_dir))
            return xg_err_internal(err, "metrics: cannot create %s: %s", M.rrd_dir,
                                   strerror(errno));
    }
    mreg_init(&M.reg);
    M.arena = xg_arena_new(TICK_ARENA_BYTES);
    /* The host RRD is loaded by the first tick, which learns the host uuid
     * from the identity hook; VM RRDs when their domains appear. */
    metrics_http_register();
    M.stopping = false;
    M.up = true;
    /* The first tick right away but on the timer thread: it loads every
     * persisted VM RRD (seconds for thousands of VMs), which must not delay
     * listening; the host RRD exists once it has run. */
    pthread_mutex_lock(&M.mu);
    xg_timer *first = xg_timer_add(0, on_tick, NULL);
    M.timer = first;
    pthread_mutex_unlock(&M.mu);
    if (!first) {
        M.up = false;
        xg_arena_free(M.arena);
        mreg_destroy(&M.reg);
        return xg_err_internal(err, "metrics: cannot start the sampler timer");
    }
    XG_INFO("metrics", "sampler started, RRDs in %s", M.rrd_dir[0] ? M.rrd_dir : "(memory only)");
    return true;
}

static void save(const char *uuid, const struct rrd *r)
{
    xg_err err = XG_ERR_INIT;
    if (metrics_rrd_dir() && r && uuid[0] && !rrd_file_save(M.rrd_dir, uuid, r, &err))
        XG_WARN("metrics", "persisting RRD %s: %s", uuid, err.param[0]);
}

void xg_metrics_shutdown(void)
{
    if (!M.up)
        return;
    pthread_mutex_lock(&M.mu);
    M.stopping = true;
    xg_timer *t = M.timer;
    M.timer = NULL;
    pthread_mutex_unlock(&M.mu);
    if (t)
        xg_timer_cancel(t);
    pthread_mutex_lock(&M.tick_mu);    /* waits for a tick in flight */
    pthread_rwlock_wrlock(&M.reg.lock);
    rrd_file_bulk(metrics_rrd_dir(), true);
    save(M.reg.host.uuid, M.reg.host.rrd);
    for (uint32_t i = 0; i < M.reg.nvm; i++)
        if (!M.reg.vm[i]->halted)
            save(M.reg.vm[i]->uuid, M.reg.vm[i]->rrd);
    rrd_file_bulk(metrics_rrd_dir(), false);
    pthread_rwlock_unlock(&M.reg.lock);
    pthread_mutex_unlock(&M.tick_mu);
    /* Routes stay registered (they cannot be removed) and see an empty module. */
    pthread_rwlock_wrlock(&M.reg.lock);
    M.up = false;
    pthread_rwlock_unlock(&M.reg.lock);
    xg_arena_free(M.arena);
    M.arena = NULL;
}

void xg_metrics_vm_halted(const char *vm_uuid)
{
    if (!M.up || !vm_uuid)
        return;
    struct mbuf b = {0};
    char uuid[XG_UUID_STR];
    snprintf(uuid, sizeof(uuid), "%s", vm_uuid);
    pthread_rwlock_wrlock(&M.reg.lock);
    struct mentry *e = mreg_find(&M.reg, uuid);
    if (e && !e->halted) {
        struct msink s;
        ms_init(&s, mbuf_sink, &b);
        rrd_dump_xml(&s, e->rrd, true);
        ms_flush(&s);
        e->halted = true;              /* the sampler drops it next tick */
    }
    pthread_rwlock_unlock(&M.reg.lock);
    if (b.p && metrics_rrd_dir()) {
        xg_err err = XG_ERR_INIT;
        if (!rrd_file_write(M.rrd_dir, uuid, b.p, b.len, &err))
            XG_WARN("metrics", "persisting RRD %s: %s", uuid, err.param[0]);
    }
    mbuf_free(&b);
}

bool xg_metrics_query(const char *owner_uuid, const char *ds_name, double *out)
{
    if (!M.up || !owner_uuid || !ds_name)
        return false;
    bool ok = false;
    pthread_rwlock_rdlock(&M.reg.lock);
    const struct rrd *r = NULL;
    if (M.reg.host.rrd && strcmp(M.reg.host.uuid, owner_uuid) == 0) {
        r = M.reg.host.rrd;
    } else {
        const struct mentry *e = mreg_find(&M.reg, owner_uuid);
        if (e && !e->halted)
            r = e->rrd;
    }
    int i = r ? rrd_find_ds(r, ds_name) : -1;
    if (i >= 0) {
        *out = rrd_latest(r, (uint32_t)i);
        ok = true;
    }
    pthread_rwlock_unlock(&M.reg.lock);
    return ok;
}
