/* doubles.c: log, hooks and a deterministic fake driver for the tests. */
#include "doubles.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../server/log.h"

enum xg_log_level xg_log_threshold = XG_LOG_WARN;

void xg_log(enum xg_log_level lvl, const char *area, const char *fmt, ...)
{
    if (lvl > xg_log_threshold)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", area);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

struct xg_metrics_identity test_identity;
struct xg_metrics_host_sample test_pub_host;
uint32_t test_pub_nvms;
double test_pub_util0;
uint64_t test_pub_mem0;

bool xg_metrics_hook_identity(xg_arena *a, struct xg_metrics_identity *out)
{
    *out = test_identity;
    if (test_identity.ndoms) {
        out->doms = xg_arena_alloc(a, test_identity.ndoms * sizeof(*out->doms));
        memcpy(out->doms, test_identity.doms, test_identity.ndoms * sizeof(*out->doms));
    }
    return true;
}

void xg_metrics_hook_publish(const struct xg_metrics_host_sample *h,
                             const struct xg_metrics_vm_sample *vms, uint32_t n)
{
    test_pub_host = *h;
    test_pub_nvms = n;
    test_pub_util0 = n && vms[0].nvcpus ? vms[0].vcpus_utilisation[0] : -1;
    test_pub_mem0 = n ? vms[0].memory_actual_bytes : 0;
}

/* ------------------------------------------------------------ fake driver */

struct fake_host fake;

void fake_uuid(uint32_t i, char out[XG_UUID_STR])
{
    snprintf(out, XG_UUID_STR, "8d3b6a52-1111-4222-8333-%012u", i);
}

void fake_identity(xg_arena *a)
{
    static struct xg_metrics_dom_id ids[8192];
    static char uuids[8192][XG_UUID_STR], names[8192][32];
    test_identity.host_uuid = "2f4c1a7e-0000-4000-8000-000000000001";
    test_identity.hostname = "testhost";
    test_identity.ndoms = fake.ndoms;
    test_identity.doms = ids;
    for (uint32_t i = 0; i < fake.ndoms && i < 8192; i++) {
        fake_uuid(i, uuids[i]);
        snprintf(names[i], sizeof(names[i]), i ? "vm%u" : "Control domain", i);
        ids[i] = (struct xg_metrics_dom_id){i, uuids[i], names[i]};
    }
    (void)a;
}

static bool host_stats(struct xg_drv *d, xg_arena *a, struct xg_host_stats *out, xg_err *err)
{
    memset(out, 0, sizeof(*out));
    out->total_bytes = 16ull << 30;
    out->free_bytes = 4ull << 30;
    out->loadavg = 0.5;
    out->ncpus = fake.npcpus;
    out->pcpus = xg_arena_alloc(a, fake.npcpus * sizeof(*out->pcpus));
    for (uint32_t i = 0; i < fake.npcpus; i++) {
        out->pcpus[i].cpu = i;
        /* pCPU i idles (0.9 - 0.1 i) of the time */
        out->pcpus[i].idle_ns = (uint64_t)(fake.clock * (0.9 - 0.1 * i) * 1e9);
    }
    out->npifs = 1;
    out->pifs = xg_arena_alloc(a, sizeof(*out->pifs));
    snprintf(out->pifs[0].name, sizeof(out->pifs[0].name), "eth0");
    out->pifs[0].rx_bytes = (uint64_t)(fake.clock * 1000);
    out->pifs[0].tx_bytes = (uint64_t)(fake.clock * 2000);
    return true;
}

static bool dom_list(struct xg_drv *d, xg_arena *a, struct xg_dom_info **out,
                     uint32_t *n, xg_err *err)
{
    *out = xg_arena_alloc(a, (fake.ndoms ? fake.ndoms : 1) * sizeof(**out));
    for (uint32_t i = 0; i < fake.ndoms; i++) {
        struct xg_dom_info *di = &(*out)[i];
        di->domid = i;
        if (i)
            fake_uuid(i, di->uuid);   /* dom0's Xen handle stays nil */
        snprintf(di->name, sizeof(di->name), "dom%u", i);
        di->state = (i == 1 && fake.paused1) ? XG_DOM_PAUSED : XG_DOM_RUNNING;
        di->mem_current_bytes = 1ull << 30;
        di->mem_target_bytes = 1ull << 30;
        di->vcpus_max = di->vcpus_online = fake.nvcpus;
        /* each vCPU busy 25% */
        di->cpu_time_ns = (uint64_t)(fake.clock * 0.25 * fake.nvcpus * 1e9);
    }
    *n = fake.ndoms;
    return true;
}

static bool dom_vcpus(struct xg_drv *d, uint32_t domid, xg_arena *a,
                      struct xg_vcpu_info **out, uint32_t *n, xg_err *err)
{
    *out = xg_arena_alloc(a, (fake.nvcpus ? fake.nvcpus : 1) * sizeof(**out));
    for (uint32_t i = 0; i < fake.nvcpus; i++)
        (*out)[i] = (struct xg_vcpu_info){i, true, i == 0, i, (uint64_t)(fake.clock * 0.25 * 1e9)};
    *n = fake.nvcpus;
    return true;
}

static bool dom_stats(struct xg_drv *d, uint32_t domid, xg_arena *a,
                      struct xg_dom_stats *out, xg_err *err)
{
    out->nvifs = fake.nvifs;
    out->nvbds = fake.nvbds;
    out->vifs = xg_arena_alloc(a, (fake.nvifs + 1) * sizeof(*out->vifs));
    out->vbds = xg_arena_alloc(a, (fake.nvbds + 1) * sizeof(*out->vbds));
    for (uint32_t i = 0; i < fake.nvifs; i++) {
        out->vifs[i].devid = i;
        /* dom0's view: backend rx = guest tx */
        out->vifs[i].rx_bytes = (uint64_t)(fake.clock * 100);
        out->vifs[i].tx_bytes = (uint64_t)(fake.clock * 300);
    }
    for (uint32_t i = 0; i < fake.nvbds; i++) {
        out->vbds[i].devid = 51712 + 16 * i;
        snprintf(out->vbds[i].name, sizeof(out->vbds[i].name), "xvd%c", 'a' + (int)i);
        out->vbds[i].rx_bytes = (uint64_t)(fake.clock * 4096);
        out->vbds[i].tx_bytes = (uint64_t)(fake.clock * 8192);
        out->vbds[i].rd_reqs = (uint64_t)(fake.clock * 2);
        out->vbds[i].wr_reqs = (uint64_t)(fake.clock * 3);
    }
    return true;
}

static bool guest_read(struct xg_drv *d, uint32_t domid, const char *path,
                       char *buf, size_t len, xg_err *err)
{
    if (strcmp(path, "data/meminfo_free") || domid == 0) {
        buf[0] = '\0';                  /* absent reads as empty (driver.h) */
        return true;
    }
    snprintf(buf, len, "%u", 524288u);
    return true;
}

const struct xg_driver fake_driver = {
    .name = "fake",
    .host_stats = host_stats,
    .dom_list = dom_list,
    .dom_vcpus = dom_vcpus,
    .dom_stats = dom_stats,
    .guest_read = guest_read,
};
