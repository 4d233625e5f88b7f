/* openmetrics.c: GET /metrics in OpenMetrics 1.0 or Prometheus 0.0.4 text
 * (spec metrics.md §7.7). Names follow XO's xo-server-openmetrics so that
 * existing dashboards work. Rates come from the newest 5 s row; counters
 * are the raw cumulative readings (better for PromQL rate()). */
#include "metrics_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum src { LATEST, RAW };

struct family {
    const char *name;                /* without _total */
    bool counter;
    const char *unit;                /* "" if none */
    const char *help;
    bool host;                       /* owner: host RRD, else VMs */
    const char *prefix, *suffix;     /* DS name = prefix X suffix */
    const char *label;               /* label for X, NULL: exact name */
    bool digits;                     /* X must be a number */
    enum src src;
    double scale;
};

static const struct family FAM[] = {
    {"xcp_host_cpu_core_usage", false, "", "Physical CPU usage (fraction)", true,
     "cpu", "", "core", true, LATEST, 1},
    {"xcp_host_cpu_idle_seconds", true, "seconds", "Physical CPU idle time", true,
     "cpu", "", "cpu", true, RAW, 1},
    {"xcp_host_cpu_average", false, "", "Average physical CPU usage (fraction)", true,
     "cpu_avg", "", NULL, false, LATEST, 1},
    {"xcp_host_load_average", false, "", "Host load average", true,
     "loadavg", "", NULL, false, LATEST, 1},
    {"xcp_host_memory_total_bytes", false, "bytes", "Host total memory in bytes", true,
     "memory_total_kib", "", NULL, false, LATEST, 1024},
    {"xcp_host_memory_free_bytes", false, "bytes", "Host free memory in bytes", true,
     "memory_free_kib", "", NULL, false, LATEST, 1024},
    {"xcp_host_network_receive_bytes", true, "bytes", "Bytes received by a physical interface", true,
     "pif_", "_rx", "interface", false, RAW, 1},
    {"xcp_host_network_transmit_bytes", true, "bytes", "Bytes sent by a physical interface", true,
     "pif_", "_tx", "interface", false, RAW, 1},
    {"xcp_vm_cpu_usage", false, "", "VM CPU usage (fraction of its vCPUs)", false,
     "cpu_usage", "", NULL, false, LATEST, 1},
    {"xcp_vm_cpu_core_usage", false, "", "vCPU usage (fraction)", false,
     "cpu", "", "core", true, LATEST, 1},
    {"xcp_vm_cpu_seconds", true, "seconds", "vCPU time", false,
     "cpu", "", "vcpu", true, RAW, 1},
    {"xcp_vm_memory_bytes", false, "bytes", "Memory allocated to the domain", false,
     "memory", "", NULL, false, LATEST, 1},
    {"xcp_vm_memory_target_bytes", false, "bytes", "Balloon target", false,
     "memory_target", "", NULL, false, LATEST, 1},
    {"xcp_vm_memory_internal_free_bytes", false, "bytes", "Free memory reported by the guest", false,
     "memory_internal_free", "", NULL, false, LATEST, 1024},
    {"xcp_vm_network_receive_bytes", true, "bytes", "Bytes received by the VM on a VIF", false,
     "vif_", "_rx", "vif", true, RAW, 1},
    {"xcp_vm_network_transmit_bytes", true, "bytes", "Bytes sent by the VM on a VIF", false,
     "vif_", "_tx", "vif", true, RAW, 1},
    {"xcp_vm_disk_read_bytes", true, "bytes", "Bytes read from a virtual disk", false,
     "vbd_", "_read", "device", false, RAW, 1},
    {"xcp_vm_disk_write_bytes", true, "bytes", "Bytes written to a virtual disk", false,
     "vbd_", "_write", "device", false, RAW, 1},
    {"xcp_vm_disk_iops_read", false, "", "Read requests per second", false,
     "vbd_", "_iops_read", "device", false, LATEST, 1},
    {"xcp_vm_disk_iops_write", false, "", "Write requests per second", false,
     "vbd_", "_iops_write", "device", false, LATEST, 1},
};

/* X of name = prefix X suffix, into x; false if it does not match. */
static bool match(const struct family *f, const char *name, char *x, size_t len)
{
    size_t np = strlen(f->prefix), ns = strlen(f->suffix), n = strlen(name);
    if (!f->label)
        return strcmp(name, f->prefix) == 0;
    if (n <= np + ns || strncmp(name, f->prefix, np) || strcmp(name + n - ns, f->suffix))
        return false;
    size_t xl = n - np - ns;
    if (xl >= len)
        return false;
    memcpy(x, name + np, xl);
    x[xl] = '\0';
    for (size_t i = 0; i < xl; i++) {
        if (f->digits && (x[i] < '0' || x[i] > '9'))
            return false;
        if (!f->digits && x[i] == '_' && strcmp(f->prefix, "pif_") != 0)
            return false;              /* vbd_xvda_iops_read is not a read counter */
    }
    return strcmp(x, "aggr") != 0;
}

static void label_val(struct msink *s, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\') ms_puts(s, "\\\\");
        else if (*v == '"') ms_puts(s, "\\\"");
        else if (*v == '\n') ms_puts(s, "\\n");
        else ms_put(s, v, 1);
    }
}

static void value(struct msink *s, double v)
{
    if (isnan(v)) ms_puts(s, "NaN");
    else if (isinf(v)) ms_puts(s, v > 0 ? "+Inf" : "-Inf");
    else ms_printf(s, "%.17g", v);
}

static void samples(struct msink *s, const struct family *f, const struct rrd *r,
                    const char *uuid, const char *name)
{
    char x[64];
    for (uint32_t d = 0; d < r->nds; d++) {
        const struct rrd_ds *ds = &r->ds[d];
        if (!match(f, ds->name, x, sizeof(x)))
            continue;
        double v;
        if (f->src == RAW) {
            if (ds->last.kind == RRD_V_UNKNOWN)
                continue;
            v = ds->last.kind == RRD_V_I64 ? (double)ds->last.i : ds->last.f;
        } else {
            v = rrd_latest(r, d);
        }
        ms_puts(s, f->name);
        if (f->counter)
            ms_puts(s, "_total");
        ms_puts(s, "{uuid=\"");
        label_val(s, uuid);
        ms_puts(s, "\",name_label=\"");
        label_val(s, name);
        if (f->label) {
            ms_printf(s, "\",%s=\"", f->label);
            label_val(s, x);
        }
        ms_puts(s, "\"} ");
        value(s, v * f->scale);
        ms_puts(s, "\n");
    }
}

void om_write(struct msink *s, const struct mreg *g, const char *host_uuid, bool openmetrics)
{
    for (size_t i = 0; i < sizeof(FAM) / sizeof(FAM[0]); i++) {
        const struct family *f = &FAM[i];
        const char *total = f->counter && !openmetrics ? "_total" : "";
        ms_printf(s, "# TYPE %s%s %s\n", f->name, total, f->counter ? "counter" : "gauge");
        if (openmetrics && f->unit[0])
            ms_printf(s, "# UNIT %s %s\n", f->name, f->unit);
        ms_printf(s, "# HELP %s%s %s\n", f->name, total, f->help);
        if (f->host) {
            if (g->host.rrd)
                samples(s, f, g->host.rrd, host_uuid, g->hostname);
            continue;
        }
        for (uint32_t k = 0; k < g->nvm; k++)
            if (!g->vm[k]->halted)
                samples(s, f, g->vm[k]->rrd, g->vm[k]->uuid, g->vm[k]->name);
    }
    if (openmetrics)
        ms_puts(s, "# EOF\n");
}
