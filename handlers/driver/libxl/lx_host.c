/* lx_host.c: host facts from libxl (physinfo, version, topology), dom0's
 * /proc and /sys (cpuinfo, loadavg, DMI, NICs) and libxenctrl (pcpu idle
 * time, which libxl does not expose). Files are read with fixed buffers. */
#include "lx_internal.h"

#include <xenctrl.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../../../server/log.h"

/* First line of a small file, trimmed, into buf; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

static void cpuinfo(struct xg_host_info *h)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *v = colon + 1 + (colon[1] == ' ');
        v[strcspn(v, "\n")] = '\0';
        if (!strncmp(line, "vendor_id", 9) && !h->cpu_vendor[0])
            snprintf(h->cpu_vendor, sizeof h->cpu_vendor, "%s", v);
        else if (!strncmp(line, "model name", 10) && !h->cpu_model_name[0])
            snprintf(h->cpu_model_name, sizeof h->cpu_model_name, "%s", v);
        else if (!strncmp(line, "cpu family", 10) && !h->cpu_family)
            h->cpu_family = (uint32_t)strtoul(v, NULL, 10);
        else if (!strncmp(line, "model\t", 6) && !h->cpu_model)
            h->cpu_model = (uint32_t)strtoul(v, NULL, 10);
        else if (!strncmp(line, "stepping", 8) && !h->cpu_stepping)
            h->cpu_stepping = (uint32_t)strtoul(v, NULL, 10);
        else if (!strncmp(line, "flags", 5) && !h->cpu_flags[0])
            snprintf(h->cpu_flags, sizeof h->cpu_flags, "%s", v);
    }
    fclose(f);
}

static void mgmt_address(char *buf, size_t len)
{
    struct ifaddrs *ifa = NULL;
    buf[0] = '\0';
    if (getifaddrs(&ifa) != 0)
        return;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        if (!strncmp(i->ifa_name, "vif", 3) || !strncmp(i->ifa_name, "tap", 3))
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, (socklen_t)len);
        break;
    }
    freeifaddrs(ifa);
}

bool lx_host_info(struct xg_drv *d, struct xg_host_info *out, xg_err *err)
{
    libxl_physinfo pi;
    libxl_physinfo_init(&pi);
    memset(out, 0, sizeof *out);
    int rc = libxl_get_physinfo(d->ctx, &pi);
    if (rc) {
        libxl_physinfo_dispose(&pi);
        return lx_err(err, rc, "get physinfo", 0);
    }
    const libxl_version_info *vi = libxl_get_version_info(d->ctx);
    uint64_t page = vi && vi->pagesize ? vi->pagesize : 4096;
    if (vi) {
        snprintf(out->xen_version, sizeof out->xen_version, "%d.%d%s", vi->xen_version_major,
                 vi->xen_version_minor, vi->xen_version_extra ? vi->xen_version_extra : "");
        snprintf(out->xen_caps, sizeof out->xen_caps, "%s",
                 vi->capabilities ? vi->capabilities : "");
        snprintf(out->xen_commandline, sizeof out->xen_commandline, "%s",
                 vi->commandline ? vi->commandline : "");
    }
    gethostname(out->hostname, sizeof out->hostname - 1);
    mgmt_address(out->address, sizeof out->address);
    read_line("/sys/class/dmi/id/product_uuid", out->uuid, sizeof out->uuid);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(out->linux_release, sizeof out->linux_release, "%s", u.release);
    cpuinfo(out);
    out->cpu_mhz = pi.cpu_khz / 1000;
    out->nr_cpus = pi.nr_cpus;
    out->threads_per_core = pi.threads_per_core ? pi.threads_per_core : 1;
    out->nr_cores = pi.nr_cpus / out->threads_per_core;
    out->nr_sockets = pi.cores_per_socket ? out->nr_cores / pi.cores_per_socket : 1;
    out->nr_nodes = pi.nr_nodes;
    out->total_bytes = pi.total_pages * page;
    out->free_bytes = pi.free_pages * page;
    out->scrub_bytes = pi.scrub_pages * page;
    read_line("/sys/class/dmi/id/bios_vendor", out->bios_vendor, sizeof out->bios_vendor);
    read_line("/sys/class/dmi/id/bios_version", out->bios_version, sizeof out->bios_version);
    read_line("/sys/class/dmi/id/sys_vendor", out->system_manufacturer,
              sizeof out->system_manufacturer);
    read_line("/sys/class/dmi/id/product_name", out->system_product, sizeof out->system_product);
    snprintf(out->chipset_iommu, sizeof out->chipset_iommu, "%s",
             pi.cap_hvm_directio ? "true" : "false");
    out->hvm_capable = pi.cap_hvm;
    out->pvh_capable = pi.cap_hvm && pi.cap_hap;
    libxl_physinfo_dispose(&pi);
    return true;
}

xc_interface *lx_xc_open(void)
{
    return xc_interface_open(NULL, NULL, 0);
}

void lx_xc_close(xc_interface *xch)
{
    if (xch)
        xc_interface_close(xch);
}

/* pcpu topology from libxl, idle time from xc_getcpuinfo. */
static bool pcpus(struct xg_drv *d, xg_arena *a, struct xg_pcpu_info **out, uint32_t *n_out,
                  xg_err *err)
{
    int n = 0;
    libxl_cputopology *t = libxl_get_cpu_topology(d->ctx, &n);
    if (!t || n <= 0)
        return xg_err_internal(err, "cannot read the cpu topology");
    bool ok = false;
    xc_cpuinfo_t *ci = NULL;
    struct xg_pcpu_info *p = xg_arena_alloc(a, (size_t)n * sizeof *p);
    if (!p) {
        xg_err_internal(err, "pcpu list: arena exhausted");
        goto out;
    }
    ci = calloc((size_t)n, sizeof *ci);
    if (!ci)
        abort();
    int got = 0;
    if (!d->xch || xc_getcpuinfo(d->xch, n, ci, &got) != 0)
        got = 0;                    /* topology without idle times */
    for (int i = 0; i < n; i++) {
        p[i].cpu = (uint32_t)i;
        p[i].core = t[i].core;
        p[i].socket = t[i].socket;
        p[i].node = t[i].node;
        p[i].idle_ns = i < got ? ci[i].idletime : 0;
    }
    *out = p;
    *n_out = (uint32_t)n;
    ok = true;
out:
    free(ci);
    libxl_cputopology_list_free(t, n);
    return ok;
}

bool lx_pcpu_list(struct xg_drv *d, xg_arena *a, struct xg_pcpu_info **out,
                  uint32_t *n_out, xg_err *err)
{
    return pcpus(d, a, out, n_out, err);
}

static uint64_t read_u64(const char *path)
{
    char buf[32];
    read_line(path, buf, sizeof buf);
    return strtoull(buf, NULL, 10);
}

/* Physical NICs: /sys/class/net entries backed by a device. */
static bool pifs(xg_arena *a, struct xg_dev_counters **out, uint32_t *n_out, xg_err *err)
{
    struct xg_dev_counters *v = xg_arena_alloc(a, LX_MAX_DEVS * sizeof *v);
    if (!v)
        return xg_err_internal(err, "host stats: arena exhausted");
    uint32_t n = 0;
    DIR *dir = opendir("/sys/class/net");
    struct dirent *e;
    while (dir && n < LX_MAX_DEVS && (e = readdir(dir))) {
        char path[512];
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof v[n].name)
            continue;
        snprintf(path, sizeof path, "/sys/class/net/%s/device", e->d_name);
        if (access(path, F_OK) != 0)
            continue;
        v[n].devid = n;
        snprintf(v[n].name, sizeof v[n].name, "%.15s", e->d_name);
        snprintf(path, sizeof path, "/sys/class/net/%s/statistics/rx_bytes", e->d_name);
        v[n].rx_bytes = read_u64(path);
        snprintf(path, sizeof path, "/sys/class/net/%s/statistics/tx_bytes", e->d_name);
        v[n].tx_bytes = read_u64(path);
        n++;
    }
    if (dir)
        closedir(dir);
    *out = v;
    *n_out = n;
    return true;
}

bool lx_host_stats(struct xg_drv *d, xg_arena *a, struct xg_host_stats *out, xg_err *err)
{
    memset(out, 0, sizeof *out);
    libxl_physinfo pi;
    libxl_physinfo_init(&pi);
    int rc = libxl_get_physinfo(d->ctx, &pi);
    if (rc) {
        libxl_physinfo_dispose(&pi);
        return lx_err(err, rc, "get physinfo", 0);
    }
    const libxl_version_info *vi = libxl_get_version_info(d->ctx);
    uint64_t page = vi && vi->pagesize ? vi->pagesize : 4096;
    out->total_bytes = pi.total_pages * page;
    out->free_bytes = pi.free_pages * page;
    libxl_physinfo_dispose(&pi);
    char la[64];
    read_line("/proc/loadavg", la, sizeof la);
    out->loadavg = strtod(la, NULL);
    if (!pcpus(d, a, &out->pcpus, &out->ncpus, err))
        return false;
    return pifs(a, &out->pifs, &out->npifs, err);
}

bool lx_host_console(struct xg_drv *d, xg_arena *a, size_t max, char **out, xg_err *err)
{
    /* read without clearing: other readers (xl dmesg) see the same ring */
    libxl_xen_console_reader *cr = libxl_xen_console_read_start(d->ctx, 0);
    if (!cr)
        return xg_err_internal(err, "cannot read the Xen console ring");
    char *buf = xg_arena_alloc(a, max + 1);
    if (!buf) {
        libxl_xen_console_read_finish(d->ctx, cr);
        return xg_err_internal(err, "out of request memory");
    }
    size_t len = 0;
    char *line;
    int rc;
    while ((rc = libxl_xen_console_read_line(d->ctx, cr, &line)) > 0) {
        size_t n = strlen(line);
        if (n > max)
            line += n - max, n = max;
        if (len + n > max) {             /* keep the newest bytes */
            size_t drop = len + n - max;
            memmove(buf, buf + drop, len - drop);
            len -= drop;
        }
        memcpy(buf + len, line, n);
        len += n;
    }
    libxl_xen_console_read_finish(d->ctx, cr);
    if (rc < 0)
        return lx_err(err, rc, "read Xen console", 0);
    buf[len] = '\0';
    *out = buf;
    return true;
}
