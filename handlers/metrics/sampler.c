/* sampler.c: one 5 s tick. Reads the driver without any lock, turns raw
 * counters into XAPI's data sources (spec metrics.md §3 names and units),
 * records them under the registry's write lock, then publishes summary
 * values to the lead's objects and writes due RRD files, again unlocked.
 * Only this code (and vm_halted's flag) mutates the registry, so lookups
 * here need no lock; readers on other threads take it shared. */
#include "metrics.h"
#include "metrics_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../server/log.h"

#define MAX_VCPUS 512
#define MAX_DEVS 64                   /* VIFs or VBDs per domain, PIFs per host */
#define PERSIST_SECS 300.0            /* periodic write of each RRD */
#define GRACE_TICKS 2                 /* a vanished domain's RRD waits one tick */

struct reading {
    const char *name;
    enum rrd_ds_type type;
    double min, max;
    struct rrd_in in;
};

struct rset {
    struct reading *r;
    uint32_t n, cap;
    int *idx;                         /* resolved DS index per reading */
};

struct dsamp {
    const char *uuid, *name;
    uint32_t domid;
    uint32_t online, nvcpus;
    uint64_t mem;
    struct mentry *e;
    struct rrd *fresh;                /* new entry's RRD, built outside the lock */
    bool loaded;                      /* fresh came from disk */
    struct rset rs;
    double *util;                     /* [nvcpus] after the update */
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct reading *add(struct rset *s, xg_arena *a, const char *name,
                           enum rrd_ds_type type, double min, double max)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 32;
        struct reading *p = xg_arena_alloc(a, cap * sizeof(*p));
        if (!p)
            return NULL;
        if (s->n)
            memcpy(p, s->r, s->n * sizeof(*p));
        s->r = p;
        s->cap = cap;
    }
    struct reading *r = &s->r[s->n++];
    r->name = name;
    r->type = type;
    r->min = min;
    r->max = max;
    r->in.inverse = false;
    r->in.v.kind = RRD_V_UNKNOWN;
    return r;
}

static void f64(struct rset *s, xg_arena *a, const char *name, enum rrd_ds_type t,
                double min, double max, double v, bool inverse)
{
    struct reading *r = add(s, a, name, t, min, max);
    if (r) {
        r->in.v.kind = RRD_V_F64;
        r->in.v.f = v;
        r->in.inverse = inverse;
    }
}

static void i64(struct rset *s, xg_arena *a, const char *name, enum rrd_ds_type t, uint64_t v)
{
    struct reading *r = add(s, a, name, t, 0, INFINITY);
    if (r) {
        r->in.v.kind = RRD_V_I64;
        r->in.v.i = (int64_t)(v & INT64_MAX);
    }
}

static bool ignored_uuid(const char *u)
{
    /* xenopsd's temporary domains and nil handles, as XAPI skips them. */
    return !u[0] || !strncmp(u, "00000000-0000-0000", 18) || !strncmp(u, "deadbeef-dead-beef", 18);
}

static int cmp_id(const void *a, const void *b)
{
    const struct xg_metrics_dom_id *x = a, *y = b;
    return x->domid < y->domid ? -1 : x->domid > y->domid;
}

static const struct xg_metrics_dom_id *find_id(const struct xg_metrics_identity *id, uint32_t domid)
{
    struct xg_metrics_dom_id key = {.domid = domid};
    return id->ndoms ? bsearch(&key, id->doms, id->ndoms, sizeof(key), cmp_id) : NULL;
}

static void host_readings(struct rset *s, xg_arena *a, const struct xg_host_stats *h,
                          uint32_t running_vcpus, uint32_t running_doms)
{
    double idle_sum = 0;
    uint32_t ncpu = h->ncpus < 4096 ? h->ncpus : 4096;
    for (uint32_t i = 0; i < ncpu; i++) {
        double idle = (double)h->pcpus[i].idle_ns / 1e9;
        idle_sum += idle;
        f64(s, a, xg_arena_printf(a, "cpu%u", h->pcpus[i].cpu), RRD_DERIVE, 0, 1, idle, true);
    }
    if (ncpu)
        f64(s, a, "cpu_avg", RRD_DERIVE, 0, 1, idle_sum / ncpu, true);
    f64(s, a, "loadavg", RRD_GAUGE, 0, INFINITY, h->loadavg, false);
    if (ncpu)
        f64(s, a, "hostload", RRD_GAUGE, 0, INFINITY, (double)running_vcpus / ncpu, false);
    f64(s, a, "running_vcpus", RRD_GAUGE, 0, INFINITY, running_vcpus, false);
    f64(s, a, "running_domains", RRD_GAUGE, 0, INFINITY, running_doms, false);
    i64(s, a, "memory_total_kib", RRD_GAUGE, h->total_bytes / 1024);
    i64(s, a, "memory_free_kib", RRD_GAUGE, h->free_bytes / 1024);
    uint64_t rx = 0, tx = 0;
    uint32_t npif = h->npifs < MAX_DEVS ? h->npifs : MAX_DEVS;
    for (uint32_t i = 0; i < npif; i++) {
        const struct xg_dev_counters *p = &h->pifs[i];
        i64(s, a, xg_arena_printf(a, "pif_%.15s_rx", p->name), RRD_DERIVE, p->rx_bytes);
        i64(s, a, xg_arena_printf(a, "pif_%.15s_tx", p->name), RRD_DERIVE, p->tx_bytes);
        rx += p->rx_bytes;
        tx += p->tx_bytes;
    }
    if (npif) {
        i64(s, a, "pif_aggr_rx", RRD_DERIVE, rx);
        i64(s, a, "pif_aggr_tx", RRD_DERIVE, tx);
    }
}

/* Reads one domain and fills its readings; false to skip it this tick. */
static bool dom_readings(const struct xg_driver *drv, struct xg_drv *d, xg_arena *a,
                         const struct xg_dom_info *di, struct dsamp *ds, uint32_t *running_vcpus)
{
    xg_err err = XG_ERR_INIT;
    struct xg_vcpu_info *v = NULL;
    uint32_t nv = 0;
    if (!drv->dom_vcpus(d, di->domid, a, &v, &nv, &err))
        nv = 0;                       /* vanished meanwhile: no vCPU figures */
    if (nv > MAX_VCPUS)
        nv = MAX_VCPUS;
    ds->nvcpus = nv;
    ds->online = di->vcpus_online;
    ds->mem = di->mem_current_bytes;
    struct rset *s = &ds->rs;
    /* cpu<N> readings come first: their DS indexes give VCPUs_utilisation. */
    for (uint32_t i = 0; i < nv; i++) {
        f64(s, a, xg_arena_printf(a, "cpu%u", v[i].id), RRD_DERIVE, 0, 1,
            (double)(v[i].cpu_time_ns & ~(1ull << 63)) / 1e9, false);
        if (v[i].online && v[i].running)
            (*running_vcpus)++;
    }
    if (di->vcpus_online)
        f64(s, a, "cpu_usage", RRD_DERIVE, 0, 1,
            (double)di->cpu_time_ns / (1e9 * di->vcpus_online), false);
    /* CA-34383: a paused domain's memory is not reported. */
    if (di->state != XG_DOM_PAUSED)
        i64(s, a, "memory", RRD_GAUGE, di->mem_current_bytes);
    i64(s, a, "memory_target", RRD_GAUGE, di->mem_target_bytes);
    char buf[64];
    err = (xg_err)XG_ERR_INIT;
    if (drv->guest_read && drv->guest_read(d, di->domid, "data/meminfo_free", buf, sizeof(buf), &err)) {
        char *end;
        unsigned long long kib = strtoull(buf, &end, 10);
        if (end != buf)
            i64(s, a, "memory_internal_free", RRD_GAUGE, kib);
    }
    struct xg_dom_stats st = {0};
    err = (xg_err)XG_ERR_INIT;
    if (drv->dom_stats(d, di->domid, a, &st, &err)) {
        uint32_t nvif = st.nvifs < MAX_DEVS ? st.nvifs : MAX_DEVS;
        for (uint32_t i = 0; i < nvif; i++) {
            const struct xg_dev_counters *c = &st.vifs[i];
            /* Backend counters seen from dom0: the guest receives what dom0
             * transmits, so rx and tx swap (XAPI does the same). */
            i64(s, a, xg_arena_printf(a, "vif_%u_rx", c->devid), RRD_DERIVE, c->tx_bytes);
            i64(s, a, xg_arena_printf(a, "vif_%u_tx", c->devid), RRD_DERIVE, c->rx_bytes);
        }
        uint32_t nvbd = st.nvbds < MAX_DEVS ? st.nvbds : MAX_DEVS;
        for (uint32_t i = 0; i < nvbd; i++) {
            const struct xg_dev_counters *c = &st.vbds[i];
            char dev[16];
            snprintf(dev, sizeof(dev), "%.15s", c->name[0] ? c->name : "unknown");
            i64(s, a, xg_arena_printf(a, "vbd_%s_read", dev), RRD_DERIVE, c->rx_bytes);
            i64(s, a, xg_arena_printf(a, "vbd_%s_write", dev), RRD_DERIVE, c->tx_bytes);
            /* Request rates as DERIVE of the cumulative counters: the same
             * requests/s XAPI's ABSOLUTE sources show, without keeping the
             * previous reading here. */
            i64(s, a, xg_arena_printf(a, "vbd_%s_iops_read", dev), RRD_DERIVE, c->rd_reqs);
            i64(s, a, xg_arena_printf(a, "vbd_%s_iops_write", dev), RRD_DERIVE, c->wr_reqs);
            i64(s, a, xg_arena_printf(a, "vbd_%s_iops_total", dev), RRD_DERIVE,
                c->rd_reqs + c->wr_reqs);
        }
    }
    return true;
}

/* Resolves each reading to a DS index (adding new sources: a VM gained a
 * VIF) and records the update. Readings keep a stable order tick to tick,
 * so reading k is usually DS k: one strcmp instead of a search. */
static void apply(struct rrd *r, struct rset *s, xg_arena *a, double now, bool new_rrd)
{
    s->idx = xg_arena_alloc(a, (s->n ? s->n : 1) * sizeof(int));
    if (!s->idx)
        return;
    for (uint32_t k = 0; k < s->n; k++) {
        const struct reading *rd = &s->r[k];
        int i = (k < r->nds && strcmp(r->ds[k].name, rd->name) == 0) ? (int)k
                                                                      : rrd_find_ds(r, rd->name);
        if (i < 0) {
            struct rrd_ds_def def = {rd->name, rd->type, rd->min, rd->max};
            i = rrd_add_ds(r, &def, now);
        }
        s->idx[k] = i;
    }
    struct rrd_in *in = xg_arena_alloc(a, (r->nds ? r->nds : 1) * sizeof(*in));
    if (!in)
        return;
    /* Zeroed: every DS not reported this tick is RRD_V_UNKNOWN → NaN. */
    for (uint32_t k = 0; k < s->n; k++)
        if (s->idx[k] >= 0)
            in[s->idx[k]] = s->r[k].in;
    rrd_update(r, now, in, new_rrd);
}

struct pending_write { char uuid[XG_UUID_STR]; struct mbuf xml; };

static void dump_to(struct pending_write *w, const struct mentry *e)
{
    snprintf(w->uuid, sizeof(w->uuid), "%s", e->uuid);
    w->xml = (struct mbuf){0};
    struct msink s;
    ms_init(&s, mbuf_sink, &w->xml);
    rrd_dump_xml(&s, e->rrd, true);
    ms_flush(&s);
}

static void write_all(const char *dir, struct pending_write *w, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        xg_err err = XG_ERR_INIT;
        if (dir && !rrd_file_write(dir, w[i].uuid, w[i].xml.p, w[i].xml.len, &err))
            XG_WARN("metrics", "persisting RRD %s: %s", w[i].uuid, err.param[0]);
        mbuf_free(&w[i].xml);
    }
}

void sampler_tick(struct mreg *g, const struct xg_driver *drv, struct xg_drv *d,
                  const char *rrd_dir, double now, xg_arena *a, struct sampler_cost *cost)
{
    uint64_t t0 = mono_ns();
    struct xg_metrics_identity id = {0};
    if (!xg_metrics_hook_identity(a, &id) || !id.host_uuid)
        return;
    if (id.ndoms)
        qsort(id.doms, id.ndoms, sizeof(*id.doms), cmp_id);

    xg_err err = XG_ERR_INIT;
    struct xg_host_stats hs = {0};
    bool have_host = drv->host_stats(d, a, &hs, &err);
    if (!have_host)
        XG_WARN("metrics", "host_stats: %s", err.nparams ? err.param[0] : err.code);
    struct xg_dom_info *doms = NULL;
    uint32_t ndoms = 0;
    err = (xg_err)XG_ERR_INIT;
    if (!drv->dom_list(d, a, &doms, &ndoms, &err)) {
        XG_WARN("metrics", "dom_list: %s", err.nparams ? err.param[0] : err.code);
        ndoms = 0;
    }
    struct dsamp *ds = xg_arena_alloc(a, (ndoms ? ndoms : 1) * sizeof(*ds));
    if (!ds)
        return;
    uint32_t n = 0, running_vcpus = 0, running_doms = 0;
    for (uint32_t i = 0; i < ndoms; i++) {
        const struct xg_dom_info *di = &doms[i];
        if (di->state != XG_DOM_RUNNING && di->state != XG_DOM_PAUSED)
            continue;
        if (di->state == XG_DOM_RUNNING)
            running_doms++;
        const struct xg_metrics_dom_id *known = find_id(&id, di->domid);
        struct dsamp *s = &ds[n];
        memset(s, 0, sizeof(*s));
        if (known && known->vm_uuid) {
            s->uuid = known->vm_uuid;
            s->name = known->name_label ? known->name_label : di->name;
        } else if (di->domid != 0 && !ignored_uuid(di->uuid)) {
            s->uuid = xg_arena_strdup(a, di->uuid);
            s->name = xg_arena_strdup(a, di->name);
        } else {
            continue;                 /* dom0 without a control-domain VM yet */
        }
        s->domid = di->domid;
        if (dom_readings(drv, d, a, di, s, &running_vcpus))
            n++;
    }
    struct rset hr = {0};
    if (have_host)
        host_readings(&hr, a, &hs, running_vcpus, running_doms);

    /* New VMs: load their archive (or start one) before taking the lock. */
    for (uint32_t i = 0; i < n; i++) {
        struct mentry *e = mreg_find(g, ds[i].uuid);
        ds[i].e = e;
        pthread_rwlock_rdlock(&g->lock);
        bool halted = e && e->halted;
        pthread_rwlock_unlock(&g->lock);
        if (e && !halted)
            continue;
        xg_err lerr = XG_ERR_INIT;
        ds[i].fresh = NULL;
        if (rrd_dir && !rrd_file_load(rrd_dir, ds[i].uuid, &ds[i].fresh, &lerr))
            XG_WARN("metrics", "RRD of %s not loaded: %s", ds[i].uuid, lerr.param[0]);
        ds[i].loaded = ds[i].fresh != NULL;
        if (!ds[i].fresh)
            ds[i].fresh = rrd_create(RRD_LAYOUT_VM, now);
    }
    struct rrd *host_fresh = NULL;
    if (!g->host.rrd) {
        xg_err lerr = XG_ERR_INIT;
        if (rrd_dir && !rrd_file_load(rrd_dir, id.host_uuid, &host_fresh, &lerr))
            XG_WARN("metrics", "host RRD not loaded: %s", lerr.param[0]);
        if (!host_fresh)
            host_fresh = rrd_create(RRD_LAYOUT_HOST, now);
    }
    uint64_t t1 = mono_ns();

    struct pending_write *pw = NULL;
    uint32_t npw = 0;
    pthread_rwlock_wrlock(&g->lock);
    if (host_fresh) {
        g->host.rrd = host_fresh;
        g->host.saved_at = now;
    }
    snprintf(g->host.uuid, sizeof(g->host.uuid), "%s", id.host_uuid);
    snprintf(g->hostname, sizeof(g->hostname), "%s", id.hostname ? id.hostname : "");
    if (have_host)
        apply(g->host.rrd, &hr, a, now, false);
    for (uint32_t i = 0; i < g->nvm; i++)
        g->vm[i]->missing++;
    for (uint32_t i = 0; i < n; i++) {
        struct dsamp *s = &ds[i];
        struct mentry *e = s->e;
        bool new_rrd = false;
        if (s->fresh) {
            if (e && e->halted) {
                mreg_remove(g, e);
                e = NULL;
            } else if (e) {           /* halted between the phases: next tick */
                rrd_free(s->fresh);
                continue;
            }
            e = calloc(1, sizeof(*e));
            if (!e)
                abort();
            snprintf(e->uuid, sizeof(e->uuid), "%s", s->uuid);
            e->rrd = s->fresh;
            e->domid = s->domid;
            /* Spread periodic writes over the persistence period. */
            e->saved_at = now - (double)((g->nvm * 7) % (uint32_t)PERSIST_SECS);
            mreg_add(g, e);
            new_rrd = s->loaded;      /* counters do not continue a file's */
        } else if (e->halted) {
            continue;
        }
        if (e->domid != s->domid) {   /* rebooted: counters restarted */
            e->domid = s->domid;
            new_rrd = true;
        }
        snprintf(e->name, sizeof(e->name), "%s", s->name);
        e->missing = 0;
        s->e = e;
        apply(e->rrd, &s->rs, a, now, new_rrd);
        s->util = xg_arena_alloc(a, (s->nvcpus ? s->nvcpus : 1) * sizeof(double));
        for (uint32_t k = 0; s->util && s->rs.idx && k < s->nvcpus && k < s->rs.n; k++)
            s->util[k] = s->rs.idx[k] >= 0 ? rrd_latest(e->rrd, (uint32_t)s->rs.idx[k]) : NAN;
    }
    /* Domains gone for GRACE_TICKS: archive and forget (halted ones were
     * written by xg_metrics_vm_halted already). */
    for (uint32_t i = 0; i < g->nvm;) {
        struct mentry *e = g->vm[i];
        if (e->halted || e->missing >= GRACE_TICKS) {
            if (!e->halted) {
                if (!pw)
                    pw = calloc(g->nvm, sizeof(*pw));
                if (pw)
                    dump_to(&pw[npw++], e);
            }
            mreg_remove(g, e);
            continue;
        }
        i++;
    }
    pthread_rwlock_unlock(&g->lock);
    uint64_t t2 = mono_ns();
    if (cost) {
        cost->read_ns = t1 - t0;
        cost->update_ns = t2 - t1;
        cost->ndoms = n;
    }
    write_all(rrd_dir, pw, npw);
    free(pw);

    /* Publish to host_metrics / VM_metrics (the lead takes the world lock). */
    struct xg_metrics_host_sample hsamp = {hs.total_bytes, hs.free_bytes};
    struct xg_metrics_vm_sample *vs = xg_arena_alloc(a, (n ? n : 1) * sizeof(*vs));
    uint32_t nvs = 0;
    for (uint32_t i = 0; vs && i < n; i++) {
        if (!ds[i].e || !ds[i].util)
            continue;
        vs[nvs++] = (struct xg_metrics_vm_sample){ds[i].uuid, ds[i].domid, ds[i].mem,
                                                  ds[i].online, ds[i].nvcpus, ds[i].util};
    }
    if (have_host)
        xg_metrics_hook_publish(&hsamp, vs, nvs);

    /* Periodic persistence, a slice per tick so no tick writes everything. */
    if (!rrd_dir)
        return;
    pthread_rwlock_rdlock(&g->lock);
    uint32_t budget = g->nvm / (uint32_t)(PERSIST_SECS / RRD_STEP) + 1;
    struct pending_write *due = calloc(budget + 1, sizeof(*due));
    uint32_t ndue = 0;
    if (due && g->host.rrd && now - g->host.saved_at >= PERSIST_SECS) {
        dump_to(&due[ndue++], &g->host);
        g->host.saved_at = now;      /* only the sampler touches saved_at */
    }
    for (uint32_t i = 0; due && i < g->nvm && ndue <= budget; i++) {
        struct mentry *e = g->vm[i];
        if (!e->halted && now - e->saved_at >= PERSIST_SECS) {
            dump_to(&due[ndue++], e);
            e->saved_at = now;
        }
    }
    pthread_rwlock_unlock(&g->lock);
    write_all(rrd_dir, due, ndue);
    free(due);
}
