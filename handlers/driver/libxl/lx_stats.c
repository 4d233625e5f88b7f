/* lx_stats.c: domains, vcpus and device counters. Domain facts come from
 * libxl; vif/vbd counters from dom0's netback/blkback sysfs, with the
 * device lists from dom0's backend directories in xenstore (metrics.md
 * §3.3). Counts are bounded by LX_MAX_DEVS whatever xenstore says. */
#include "lx_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../server/log.h"

void lx_fill_info(const libxl_dominfo *i, struct xg_dom_info *out)
{
    memset(out, 0, sizeof *out);
    out->domid = i->domid;
    snprintf(out->uuid, sizeof out->uuid, LIBXL_UUID_FMT, LIBXL_UUID_BYTES(i->uuid));
    out->type = i->domain_type == LIBXL_DOMAIN_TYPE_HVM ? XG_DOM_HVM
              : i->domain_type == LIBXL_DOMAIN_TYPE_PVH ? XG_DOM_PVH : XG_DOM_PV;
    out->state = i->dying ? XG_DOM_DYING : i->shutdown ? XG_DOM_SHUTDOWN
               : i->paused ? XG_DOM_PAUSED : XG_DOM_RUNNING;
    out->reason = XG_SHUTDOWN_NONE;
    if (i->shutdown) {
        switch (i->shutdown_reason) {
        case LIBXL_SHUTDOWN_REASON_POWEROFF: out->reason = XG_SHUTDOWN_POWEROFF; break;
        case LIBXL_SHUTDOWN_REASON_REBOOT: out->reason = XG_SHUTDOWN_REBOOT; break;
        case LIBXL_SHUTDOWN_REASON_SUSPEND: out->reason = XG_SHUTDOWN_SUSPEND; break;
        case LIBXL_SHUTDOWN_REASON_CRASH: out->reason = XG_SHUTDOWN_CRASH; break;
        case LIBXL_SHUTDOWN_REASON_WATCHDOG: out->reason = XG_SHUTDOWN_WATCHDOG; break;
        case LIBXL_SHUTDOWN_REASON_SOFT_RESET: out->reason = XG_SHUTDOWN_SOFT_RESET; break;
        default: break;
        }
    }
    out->mem_current_bytes = i->current_memkb * 1024;
    out->mem_max_bytes = i->max_memkb * 1024;
    out->mem_target_bytes = i->current_memkb * 1024;    /* refined from xenstore below */
    out->vcpus_max = i->vcpu_max_id + 1;
    out->vcpus_online = i->vcpu_online;
    out->cpu_time_ns = i->cpu_time;
    out->ssidref = i->ssidref;
}

/* When the host booted: now minus /proc/uptime, as XAPI computes it. */
static int64_t host_boot_time(void)
{
    FILE *f = fopen("/proc/uptime", "r");
    double up = 0;
    bool ok = f && fscanf(f, "%lf", &up) == 1 && up > 0;
    if (f)
        fclose(f);
    return ok ? (int64_t)time(NULL) - (int64_t)up : 0;
}

/* A domain's start: libxl writes /vm/<uuid>/start_time ("sec.cs") when it
 * builds the domain, found through /local/domain/N/vm (what xl uptime and
 * libxl_vm_get_start_time read); dom0 started with the host. */
static int64_t start_time(struct xg_drv *d, uint32_t domid)
{
    char path[96];
    unsigned int len = 0;
    snprintf(path, sizeof path, "/local/domain/%" PRIu32 "/vm", domid);
    char *vm = d->xs ? xs_read(d->xs, XBT_NULL, path, &len) : NULL;
    int64_t t = 0;
    if (vm && len > 0 && len < 64) {
        snprintf(path, sizeof path, "%.*s/start_time", (int)len, vm);
        char *v = xs_read(d->xs, XBT_NULL, path, &len);
        if (v && len > 0 && len < 24) {
            char buf[24];
            memcpy(buf, v, len);
            buf[len] = '\0';
            t = strtoll(buf, NULL, 10);
        }
        free(v);
    }
    free(vm);
    if (t <= 0 && domid == 0)
        t = host_boot_time();
    return t > 0 ? t : 0;
}

/* Name and memory/target from xenstore (dom0-written, still bounded). */
static void refine(struct xg_drv *d, struct xg_dom_info *o)
{
    char path[96];
    unsigned int len = 0;
    snprintf(path, sizeof path, "/local/domain/%" PRIu32 "/name", o->domid);
    char *v = d->xs ? xs_read(d->xs, XBT_NULL, path, &len) : NULL;
    if (v) {
        snprintf(o->name, sizeof o->name, "%.*s", (int)(len < 127 ? len : 127), v);
        free(v);
    }
    snprintf(path, sizeof path, "/local/domain/%" PRIu32 "/memory/target", o->domid);
    v = d->xs ? xs_read(d->xs, XBT_NULL, path, &len) : NULL;
    if (v && len < 24) {
        char buf[24];
        memcpy(buf, v, len);
        buf[len] = '\0';
        o->mem_target_bytes = strtoull(buf, NULL, 10) * 1024;
    }
    free(v);
    o->start_time = start_time(d, o->domid);
}

bool lx_dom_list(struct xg_drv *d, xg_arena *a, struct xg_dom_info **out,
                 uint32_t *n_out, xg_err *err)
{
    int n = 0;
    libxl_dominfo *l = libxl_list_domain(d->ctx, &n);
    if (!l)
        return xg_err_internal(err, "cannot list domains");
    struct xg_dom_info *v = xg_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        libxl_dominfo_list_free(l, n);
        return xg_err_internal(err, "dom_list: arena exhausted");
    }
    for (int i = 0; i < n; i++) {
        lx_fill_info(&l[i], &v[i]);
        refine(d, &v[i]);
        lx_watch(d, l[i].domid);    /* also domains created behind our back */
    }
    libxl_dominfo_list_free(l, n);
    *out = v;
    *n_out = (uint32_t)n;
    return true;
}

bool lx_dom_info(struct xg_drv *d, uint32_t domid, struct xg_dom_info *out, xg_err *err)
{
    libxl_dominfo i;
    libxl_dominfo_init(&i);
    int rc = libxl_domain_info(d->ctx, &i, domid);
    if (rc == 0) {
        lx_fill_info(&i, out);
        refine(d, out);
    }
    libxl_dominfo_dispose(&i);
    return rc ? lx_err(err, rc, "domain info", domid) : true;
}

bool lx_dom_vcpus(struct xg_drv *d, uint32_t domid, xg_arena *a,
                  struct xg_vcpu_info **out, uint32_t *n_out, xg_err *err)
{
    int nv = 0, ncpu = 0;
    libxl_vcpuinfo *l = libxl_list_vcpu(d->ctx, domid, &nv, &ncpu);
    if (!l)
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    struct xg_vcpu_info *v = xg_arena_alloc(a, (size_t)(nv ? nv : 1) * sizeof *v);
    if (!v) {
        libxl_vcpuinfo_list_free(l, nv);
        return xg_err_internal(err, "dom_vcpus: arena exhausted");
    }
    for (int i = 0; i < nv; i++) {
        v[i].id = l[i].vcpuid;
        v[i].online = l[i].online;
        v[i].running = l[i].running;
        v[i].pcpu = l[i].cpu;
        /* XEN_RUNSTATE_UPDATE can leak into the top bit (metrics.md §3.2). */
        v[i].cpu_time_ns = l[i].vcpu_time & ~(1ull << 63);
    }
    libxl_vcpuinfo_list_free(l, nv);
    *out = v;
    *n_out = (uint32_t)nv;
    return true;
}

static uint64_t sysfs_u64(const char *path)
{
    char buf[32] = "";
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    return strtoull(buf, NULL, 10);
}

/* Device ids under dom0's backend/<kind>/<domid>, at most LX_MAX_DEVS. */
static uint32_t backend_devids(struct xg_drv *d, const char *kind, uint32_t domid,
                               uint32_t *ids)
{
    char path[96];
    unsigned int num = 0, n = 0;
    snprintf(path, sizeof path, "/local/domain/0/backend/%s/%" PRIu32, kind, domid);
    char **dir = d->xs ? xs_directory(d->xs, XBT_NULL, path, &num) : NULL;
    for (unsigned int i = 0; dir && i < num && n < LX_MAX_DEVS; i++) {
        char *end;
        unsigned long id = strtoul(dir[i], &end, 10);
        if (*end == '\0' && end != dir[i] && id < 0x10000000ul)
            ids[n++] = (uint32_t)id;
    }
    free(dir);
    return n;
}

bool lx_dom_stats(struct xg_drv *d, uint32_t domid, xg_arena *a,
                  struct xg_dom_stats *out, xg_err *err)
{
    memset(out, 0, sizeof *out);
    if (domid >= LX_DOMID_LIMIT)
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    libxl_dominfo i;
    libxl_dominfo_init(&i);
    int rc = libxl_domain_info(d->ctx, &i, domid);
    libxl_dominfo_dispose(&i);
    if (rc)
        return lx_err(err, rc, "domain info", domid);
    uint32_t ids[LX_MAX_DEVS];
    char path[160];
    out->vifs = xg_arena_alloc(a, LX_MAX_DEVS * sizeof *out->vifs);
    out->vbds = xg_arena_alloc(a, LX_MAX_DEVS * sizeof *out->vbds);
    if (!out->vifs || !out->vbds)
        return xg_err_internal(err, "dom_stats: arena exhausted");

    out->nvifs = backend_devids(d, "vif", domid, ids);
    for (uint32_t k = 0; k < out->nvifs; k++) {
        struct xg_dev_counters *c = &out->vifs[k];
        c->devid = ids[k];
        snprintf(c->name, sizeof c->name, "%" PRIu32, ids[k]);
        /* Guest's view: what dom0's vif transmits the guest receives. The
         * emulated tap twin of an HVM NIC is added in. */
        const char *pfx[] = { "vif", "tap" };
        for (int p = 0; p < 2; p++) {
            snprintf(path, sizeof path, "/sys/class/net/%s%" PRIu32 ".%" PRIu32
                     "/statistics/tx_bytes", pfx[p], domid, ids[k]);
            c->rx_bytes += sysfs_u64(path);
            snprintf(path, sizeof path, "/sys/class/net/%s%" PRIu32 ".%" PRIu32
                     "/statistics/rx_bytes", pfx[p], domid, ids[k]);
            c->tx_bytes += sysfs_u64(path);
        }
    }
    out->nvbds = backend_devids(d, "vbd", domid, ids);
    for (uint32_t k = 0; k < out->nvbds; k++) {
        struct xg_dev_counters *c = &out->vbds[k];
        c->devid = ids[k];
        snprintf(path, sizeof path, "/local/domain/0/backend/vbd/%" PRIu32 "/%" PRIu32 "/dev",
                 domid, ids[k]);
        unsigned int len = 0;
        char *dev = d->xs ? xs_read(d->xs, XBT_NULL, path, &len) : NULL;
        snprintf(c->name, sizeof c->name, "%.*s", dev ? (int)(len < 15 ? len : 15) : 0,
                 dev ? dev : "");
        free(dev);
        const char *base = "/sys/bus/xen-backend/devices/vbd";
        snprintf(path, sizeof path, "%s-%" PRIu32 "-%" PRIu32 "/statistics/rd_sect", base,
                 domid, ids[k]);
        c->rx_bytes = sysfs_u64(path) * 512;
        snprintf(path, sizeof path, "%s-%" PRIu32 "-%" PRIu32 "/statistics/wr_sect", base,
                 domid, ids[k]);
        c->tx_bytes = sysfs_u64(path) * 512;
        snprintf(path, sizeof path, "%s-%" PRIu32 "-%" PRIu32 "/statistics/rd_req", base,
                 domid, ids[k]);
        c->rd_reqs = sysfs_u64(path);
        snprintf(path, sizeof path, "%s-%" PRIu32 "-%" PRIu32 "/statistics/wr_req", base,
                 domid, ids[k]);
        c->wr_reqs = sysfs_u64(path);
    }
    return true;
}
