/* sim_dom.c: domains of the sim host: the domid table, memory accounting,
 * the folded Xen state, and the fixture facts of a domain made later.
 * Callers hold d->lock; nothing here calls out. */
#include "sim_internal.h"
#include "sim_fixture.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../server/log.h"

#define MiB (1024ull * 1024ull)

static int fix_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sim_fix_index *)a)->uuid,
                  ((const struct sim_fix_index *)b)->uuid);
}

void sim_fix_index_sort(struct xg_drv *d)
{
    qsort(d->fix, d->nfix, sizeof *d->fix, fix_cmp);
}

void sim_dom_apply_fixture(struct xg_drv *d, struct sim_dom *s)
{
    struct sim_fix_index key;
    memcpy(key.uuid, s->uuid, sizeof key.uuid);
    const struct sim_fix_index *f = d->nfix
        ? bsearch(&key, d->fix, d->nfix, sizeof *d->fix, fix_cmp) : NULL;
    struct sim_fixture_guest g;
    if (f && sim_fixture_guest(f->index, d->cfg.sim_seed, &g)) {
        s->pv_drivers = g.pv_drivers;
        s->hostile = g.hostile;
        snprintf(s->distro, sizeof s->distro, "%s", g.distro);
        return;
    }
    /* A VM the handlers made: PV and PVH kernels have PV control; HVM
     * guests are assumed to have their drivers installed. */
    s->pv_drivers = true;
    s->hostile = false;
    snprintf(s->distro, sizeof s->distro, "%s",
             s->type == XG_DOM_HVM ? "windows" : "debian");
}

struct sim_dom *sim_dom_get(struct xg_drv *d, uint32_t domid)
{
    return domid < SIM_DOMID_LIMIT ? d->doms[domid] : NULL;
}

struct sim_dom *sim_dom_find(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    struct sim_dom *s = sim_dom_get(d, domid);
    if (!s) {
        /* What libxl says for a missing domain (ERROR_DOMAIN_NOTFOUND). */
        XG_INFO("sim", "domain %" PRIu32 " not found", domid);
        xg_err_internal(err, "domain not found: %" PRIu32, domid);
    }
    return s;
}

uint64_t sim_dom_need(enum xg_dom_type type, uint64_t target, uint32_t vcpus)
{
    /* Like libxl_domain_need_memory: the target plus shadow/p2m overhead
     * (about 1 MiB per vcpu and 1/256 of RAM), plus video RAM for HVM. */
    uint64_t need = target + (uint64_t)vcpus * MiB + target / 256;
    if (type == XG_DOM_HVM)
        need += 8 * MiB;
    return need;
}

void sim_dom_set_running(struct sim_dom *s, bool running, uint64_t now)
{
    if (running && s->stopped_since) {
        /* a `now` read before the domain was made (start-up fixtures) must
         * not wrap: that froze pre-existing guests' counters (flat 0 %) */
        if (now > s->stopped_since)
            s->stopped_ns += now - s->stopped_since;
        s->stopped_since = 0;
    } else if (!running && !s->stopped_since) {
        s->stopped_since = now ? now : 1;
    }
}

static void fmt_bytes(char *buf, size_t n, uint64_t v)
{
    snprintf(buf, n, "%" PRIu64, v);
}

struct sim_dom *sim_dom_add(struct xg_drv *d, const char *uuid, const char *name,
                            enum xg_dom_type type, uint64_t mem_max, uint64_t target,
                            uint32_t vcpus_max, uint32_t vcpus_online, xg_err *err)
{
    uint64_t need = sim_dom_need(type, target, vcpus_max);
    uint64_t avail = d->total_bytes - d->used_bytes;
    if (need > avail) {
        char a[32], b[32];
        fmt_bytes(a, sizeof a, need);
        fmt_bytes(b, sizeof b, avail);
        XG_INFO("sim", "create %s: needs %s bytes, %s free", name, a, b);
        xg_drv_err_no_memory(err, need, avail);
        return NULL;
    }
    if (d->ndoms >= SIM_DOMID_LIMIT - 1) {
        xg_err_internal(err, "no free domid");
        return NULL;
    }
    /* Round-robin like Xen: the next free domid after the last one given. */
    uint32_t domid = d->next_domid;
    while (d->doms[domid] || domid == 0)
        domid = domid + 1 >= SIM_DOMID_LIMIT ? 1 : domid + 1;
    d->next_domid = domid + 1 >= SIM_DOMID_LIMIT ? 1 : domid + 1;

    struct sim_dom *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->domid = domid;
    s->gen = ++d->next_gen;
    snprintf(s->uuid, sizeof s->uuid, "%s", uuid);
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    s->type = type;
    s->state = XG_DOM_PAUSED;       /* Xen creates domains paused ... */
    s->pause_count = 1;             /* ... by one toolstack pause */
    s->reason = XG_SHUTDOWN_NONE;
    s->mem_max = mem_max;
    s->mem_target = target;
    s->mem_current = target;
    s->mem_reserved = need;
    s->vcpus_max = vcpus_max;
    s->vcpus_online = vcpus_online;
    s->seed = sim_mix64(d->cfg.sim_seed ^ sim_mix64(((uint64_t)domid << 32) ^ s->gen));
    s->start_time = (int64_t)time(NULL);
    s->start_ns = sim_now_ns();
    s->stopped_since = s->start_ns;
    d->doms[domid] = s;
    d->ndoms++;
    d->used_bytes += need;
    return s;
}

void sim_dom_remove(struct xg_drv *d, struct sim_dom *s)
{
    if (d->consoles)
        sim_console_gone(d, s->domid);
    d->doms[s->domid] = NULL;
    d->ndoms--;
    d->used_bytes -= s->mem_reserved;
    free(s);
}

void sim_dom_fill_info(const struct sim_dom *s, uint64_t now, struct xg_dom_info *out)
{
    memset(out, 0, sizeof *out);
    out->domid = s->domid;
    memcpy(out->uuid, s->uuid, sizeof out->uuid);
    snprintf(out->name, sizeof out->name, "%s", s->name);
    out->type = s->type;
    out->state = s->state;
    out->reason = s->state == XG_DOM_SHUTDOWN ? s->reason : XG_SHUTDOWN_NONE;
    /* The balloon driver keeps current a little below the target. */
    uint64_t wobble = s->mem_current / 400;
    double w = sim_work(s->seed ^ 0x6d656dull, (double)now / 1e9);
    uint64_t dip = wobble ? (uint64_t)(w * 1e6) % wobble : 0;
    out->mem_current_bytes = s->domid == 0 ? s->mem_current : s->mem_current - dip;
    out->mem_max_bytes = s->mem_max;
    out->mem_target_bytes = s->mem_target;
    out->vcpus_max = s->vcpus_max;
    out->vcpus_online = s->vcpus_online;
    out->cpu_time_ns = sim_dom_cpu_ns(s, now);
    out->start_time = s->start_time;
}
