/* sim_stats.c: host description and time-varying counters of the sim host.
 * Every counter is sim_work(seed, running time): deterministic per seed,
 * strictly increasing while the domain runs, frozen while it is paused. */
#include "sim_internal.h"
#include "sim_fixture.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SIM_SOCKETS 2u
#define SIM_CORES_PER_SOCKET 8u
#define SIM_THREADS 2u
#define SIM_PAGE 4096ull

static double secs(uint64_t ns) { return (double)ns / 1e9; }

static uint64_t counter(uint64_t seed, uint64_t salt, double t, double scale)
{
    return (uint64_t)(sim_work(seed ^ sim_mix64(salt), t) * scale);
}

uint64_t sim_dom_cpu_ns(const struct sim_dom *s, uint64_t now)
{
    /* Summed over vcpus_max (not online) so the total never goes down when
     * a vcpu is unplugged. */
    double t = secs(sim_dom_run_ns(s, now));
    uint64_t sum = 0;
    for (uint32_t v = 0; v < s->vcpus_max; v++)
        sum += counter(s->seed, 0x1000 + v, t, 1e9);
    return sum;
}

static uint64_t host_up_ns(const struct xg_drv *d, uint64_t now)
{
    return now - d->boot_ns + 3ull * 86400 * 1000000000ull;
}

bool sim_host_info(struct xg_drv *d, struct xg_host_info *out, xg_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t h = sim_mix64(d->cfg.sim_seed ^ 0x686f7374ull);
    snprintf(out->hostname, sizeof out->hostname, "xg-sim-%04" PRIu64, h % 10000);
    snprintf(out->address, sizeof out->address, "127.0.0.1");
    snprintf(out->uuid, sizeof out->uuid, "%08x-%04x-4%03x-a%03x-%012llx",
             (uint32_t)(h >> 32), (uint32_t)(h >> 16) & 0xffff, (uint32_t)h & 0xfff,
             (uint32_t)(h >> 4) & 0xfff, (unsigned long long)(sim_mix64(h) & 0xffffffffffffull));
    snprintf(out->xen_version, sizeof out->xen_version, "4.17.5");
    snprintf(out->xen_caps, sizeof out->xen_caps,
             "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
    snprintf(out->xen_commandline, sizeof out->xen_commandline,
             "dom0_mem=4096M,max:4096M dom0_max_vcpus=8 console=vga");
    snprintf(out->linux_release, sizeof out->linux_release, "6.1.0-28-amd64");
    snprintf(out->cpu_vendor, sizeof out->cpu_vendor, "GenuineIntel");
    snprintf(out->cpu_model_name, sizeof out->cpu_model_name,
             "Intel(R) Xeon(R) Silver 4309Y CPU @ 2.80GHz");
    snprintf(out->cpu_flags, sizeof out->cpu_flags,
             "fpu de tsc msr pae mce cx8 apic sep mca cmov pat clflush acpi mmx fxsr sse "
             "sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc nopl cpuid pni pclmulqdq "
             "monitor ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c "
             "rdrand hypervisor lahf_lm abm 3dnowprefetch fsgsbase bmi1 avx2 bmi2 erms "
             "avx512f avx512dq rdseed adx avx512cd sha_ni avx512bw avx512vl");
    out->cpu_family = 6;
    out->cpu_model = 106;
    out->cpu_stepping = 6;
    out->cpu_mhz = 2800;
    out->nr_sockets = SIM_SOCKETS;
    out->nr_cores = SIM_SOCKETS * SIM_CORES_PER_SOCKET;
    out->threads_per_core = SIM_THREADS;
    out->nr_cpus = d->ncpus;
    out->nr_nodes = SIM_SOCKETS;
    pthread_mutex_lock(&d->lock);
    out->total_bytes = d->total_bytes;
    out->free_bytes = d->total_bytes - d->used_bytes;
    pthread_mutex_unlock(&d->lock);
    snprintf(out->bios_vendor, sizeof out->bios_vendor, "American Megatrends International, LLC.");
    snprintf(out->bios_version, sizeof out->bios_version, "2.1.V1");
    snprintf(out->system_manufacturer, sizeof out->system_manufacturer, "Supermicro");
    snprintf(out->system_product, sizeof out->system_product, "SYS-120U-TNR");
    snprintf(out->chipset_iommu, sizeof out->chipset_iommu, "true");
    out->hvm_capable = true;
    out->pvh_capable = true;
    return true;
}

static void fill_pcpus(struct xg_drv *d, uint64_t now, struct xg_pcpu_info *p)
{
    double up = secs(host_up_ns(d, now));
    for (uint32_t c = 0; c < d->ncpus; c++) {
        p[c].cpu = c;
        p[c].socket = c / (SIM_CORES_PER_SOCKET * SIM_THREADS);
        p[c].node = p[c].socket;
        p[c].core = (c / SIM_THREADS) % SIM_CORES_PER_SOCKET;
        /* idle = uptime − busy; busy utilisation stays below 96%. */
        uint64_t busy = counter(d->cfg.sim_seed, 0x2000 + c, up, 1e9);
        p[c].idle_ns = (uint64_t)(up * 1e9) - busy;
    }
}

bool sim_pcpu_list(struct xg_drv *d, xg_arena *a, struct xg_pcpu_info **out,
                   uint32_t *n_out, xg_err *err)
{
    struct xg_pcpu_info *p = xg_arena_alloc(a, d->ncpus * sizeof *p);
    if (!p)
        return xg_err_internal(err, "pcpu_list: arena exhausted");
    fill_pcpus(d, sim_now_ns(), p);
    *out = p;
    *n_out = d->ncpus;
    return true;
}

bool sim_host_stats(struct xg_drv *d, xg_arena *a, struct xg_host_stats *out, xg_err *err)
{
    memset(out, 0, sizeof *out);
    struct xg_pcpu_info *p = xg_arena_alloc(a, d->ncpus * sizeof *p);
    struct xg_dev_counters *pifs = xg_arena_alloc(a, SIM_NPIFS * sizeof *pifs);
    if (!p || !pifs)
        return xg_err_internal(err, "host_stats: arena exhausted");
    uint64_t now = sim_now_ns();
    fill_pcpus(d, now, p);
    double up = secs(host_up_ns(d, now));
    for (uint32_t i = 0; i < SIM_NPIFS; i++) {
        pifs[i].devid = i;
        snprintf(pifs[i].name, sizeof pifs[i].name, "eth%" PRIu32, i);
        double rate = 40e6;          /* management and guest traffic */
        pifs[i].rx_bytes = counter(d->cfg.sim_seed, 0x3000 + i, up, rate);
        pifs[i].tx_bytes = counter(d->cfg.sim_seed, 0x3100 + i, up, rate * 0.7);
    }
    pthread_mutex_lock(&d->lock);
    out->total_bytes = d->total_bytes;
    out->free_bytes = d->total_bytes - d->used_bytes;
    pthread_mutex_unlock(&d->lock);
    /* loadavg: the derivative of a work curve, i.e. a smooth varying gauge. */
    double t = up, dt = 1.0;
    double u = sim_work(d->cfg.sim_seed ^ 0x6c6f6164ull, t + dt) -
               sim_work(d->cfg.sim_seed ^ 0x6c6f6164ull, t);
    out->loadavg = u * 4.0;
    out->ncpus = d->ncpus;
    out->pcpus = p;
    out->npifs = SIM_NPIFS;
    out->pifs = pifs;
    return true;
}

bool sim_dom_vcpus(struct xg_drv *d, uint32_t domid, xg_arena *a,
                   struct xg_vcpu_info **out, uint32_t *n_out, xg_err *err)
{
    bool ok = false;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (!s)
        goto out;
    struct xg_vcpu_info *v = xg_arena_alloc(a, s->vcpus_max * sizeof *v);
    if (!v) {
        xg_err_internal(err, "dom_vcpus: arena exhausted");
        goto out;
    }
    uint64_t now = sim_now_ns();
    double t = secs(sim_dom_run_ns(s, now));
    for (uint32_t i = 0; i < s->vcpus_max; i++) {
        v[i].id = i;
        v[i].online = i < s->vcpus_online;
        v[i].running = v[i].online && s->state == XG_DOM_RUNNING;
        v[i].pcpu = (uint32_t)((s->seed + i + now / 1000000000ull) % d->ncpus);
        v[i].cpu_time_ns = counter(s->seed, 0x1000 + i, t, 1e9);
    }
    *out = v;
    *n_out = s->vcpus_max;
    ok = true;
out:
    pthread_mutex_unlock(&d->lock);
    return ok;
}

bool sim_dom_stats(struct xg_drv *d, uint32_t domid, xg_arena *a,
                   struct xg_dom_stats *out, xg_err *err)
{
    bool ok = false;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (!s)
        goto out;
    struct xg_dev_counters *vifs = xg_arena_alloc(a, (SIM_MAX_NIC_DEVID + 1) * sizeof *vifs);
    struct xg_dev_counters *vbds = xg_arena_alloc(a, SIM_NVBDS * sizeof *vbds);
    if (!vifs || !vbds) {
        xg_err_internal(err, "dom_stats: arena exhausted");
        goto out;
    }
    double t = secs(sim_dom_run_ns(s, sim_now_ns()));
    bool guest = domid != 0;
    out->nvifs = 0;
    for (uint32_t i = 0; guest && i <= SIM_MAX_NIC_DEVID; i++) {
        if (!(s->nics & (1u << i)))
            continue;                /* only the vifs the domain has */
        struct xg_dev_counters *v = &vifs[out->nvifs++];
        v->devid = i;
        snprintf(v->name, sizeof v->name, "%" PRIu32, i);
        v->rx_bytes = counter(s->seed, 0x4000 + i, t, 3e6);
        v->tx_bytes = counter(s->seed, 0x4100 + i, t, 1e6);
    }
    out->nvbds = guest ? SIM_NVBDS : 0;
    for (uint32_t i = 0; i < out->nvbds; i++) {
        /* xvda: the system disk, busy; xvdb: a data disk, mostly reads. */
        vbds[i].devid = 51712 + 16 * i;
        snprintf(vbds[i].name, sizeof vbds[i].name, "xvd%c", 'a' + (int)i);
        double rate = i == 0 ? 2e6 : 5e5;
        vbds[i].rx_bytes = counter(s->seed, 0x5000 + i, t, rate) & ~511ull;
        vbds[i].tx_bytes = counter(s->seed, 0x5100 + i, t, rate * 0.6) & ~511ull;
        vbds[i].rd_reqs = vbds[i].rx_bytes / 16384;
        vbds[i].wr_reqs = vbds[i].tx_bytes / 8192;
    }
    out->vifs = vifs;
    out->vbds = vbds;
    ok = true;
out:
    pthread_mutex_unlock(&d->lock);
    return ok;
}

/* The simulated hypervisor's console ring: what Xen prints while booting
 * this host, derived from the same facts host_info reports. */
bool sim_host_console(struct xg_drv *d, xg_arena *a, size_t max, char **out, xg_err *err)
{
    struct xg_host_info hi;
    if (!sim_host_info(d, &hi, err))
        return false;
    char *text = xg_arena_printf(a,
        " Xen version %s (Debian %s) (sim) gcc (Debian 12.2.0-14)\n"
        "(XEN) Command line: %s\n"
        "(XEN) CPU Vendor: %s, Family %u, Model %u, Stepping %u\n"
        "(XEN) %s\n"
        "(XEN) System RAM: %llu MiB\n"
        "(XEN) Brought up %u CPUs\n"
        "(XEN) Scheduling granularity: cpu, 1 CPU per sched-resource\n"
        "(XEN) *** Building a PV Dom0 ***\n"
        "(XEN) Dom0 has maximum %u VCPUs\n"
        "(XEN) Initial low memory virq threshold set at 0x4000 pages.\n"
        "(XEN) Scrubbing Free RAM in background\n"
        "(XEN) Xen is relinquishing VGA console.\n"
        "(XEN) Freed 2048kB init memory\n",
        hi.xen_version, hi.xen_version, hi.xen_commandline, hi.cpu_vendor,
        hi.cpu_family, hi.cpu_model, hi.cpu_stepping, hi.cpu_model_name,
        (unsigned long long)(hi.total_bytes >> 20), hi.nr_cpus,
        hi.nr_cpus < 8 ? hi.nr_cpus : 8);
    if (!text)
        return xg_err_internal(err, "out of request memory");
    size_t n = strlen(text);
    *out = n > max ? text + (n - max) : text;
    return true;
}
