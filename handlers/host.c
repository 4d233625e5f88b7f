/* host.c: host messages (time, methods, memory, enable/disable, dmesg,
 * data sources). The host object itself is built in objects.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/log.h"
#include "gw.h"
#include "gw_util.h"
#include "host_power.h"
#include "metrics/metrics.h"

bool handle_host_get_servertime(xg_call *c, xapi_host *host, int64_t *result_out, xg_err *err)
{
    (void)c; (void)host; (void)err;
    *result_out = gw_now();
    return true;
}

bool handle_host_get_server_localtime(xg_call *c, xapi_host *host, int64_t *result_out,
                                      xg_err *err)
{
    (void)c; (void)host; (void)err;
    /* datetimes carry no zone on our wire; XAPI sends local wall time here */
    time_t now = time(NULL);
    struct tm lt;
    localtime_r(&now, &lt);
    *result_out = (int64_t)now + lt.tm_gmtoff;
    return true;
}

bool handle_host_list_methods(xg_call *c, xg_set *result_out, xg_err *err)
{
    const char **names = xg_arena_alloc(c->arena, sizeof(char *) * (xg_nmethods ? xg_nmethods : 1));
    if (!names)
        return xg_err_internal(err, "out of request memory");
    uint32_t n = 0;
    for (uint32_t i = 0; i < xg_nmethods; i++)
        if (!(xg_methods[i].flags & XG_M_HIDDEN))
            names[n++] = xg_methods[i].name;
    result_out->items = (void *)names;
    result_out->n = result_out->cap = n;
    return true;
}

bool handle_host_compute_free_memory(xg_call *c, xapi_host *host, int64_t *result_out,
                                     xg_err *err)
{
    (void)c; (void)host;
    struct xg_host_info hi;
    if (!gw_drv->host_info(gw_d, &hi, err))
        return false;
    *result_out = (int64_t)hi.free_bytes;
    return true;
}

bool handle_host_enable(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c; (void)err;
    gw_set_bool(host, GW_F(host, XAPI_HOST_F_ENABLED), true);
    gw_host_update_allowed_operations();
    return true;
}

bool handle_host_disable(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c; (void)err;
    gw_set_bool(host, GW_F(host, XAPI_HOST_F_ENABLED), false);
    gw_host_update_allowed_operations();
    return true;
}

#define DMESG_MAX_BYTES (256 * 1024)   /* Xen's console ring is 16-64 KiB by default */

bool handle_host_dmesg(xg_call *c, xapi_host *host, char **result_out, xg_err *err)
{
    (void)host;
    /* the hypervisor's console ring, as XAPI's host.dmesg (not dom0's) */
    return gw_drv->host_console(gw_d, c->arena, DMESG_MAX_BYTES, result_out, err);
}

bool handle_host_query_data_source(xg_call *c, xapi_host *host, const char *data_source,
                                   double *result_out, xg_err *err)
{
    (void)c;
    if (!xg_metrics_query(host->uuid, data_source, result_out))
        return xapi_err_internal_error(err, "Unknown data source");
    return true;
}

bool handle_vm_query_data_source(xg_call *c, xapi_vm *self, const char *data_source,
                                 double *result_out, xg_err *err)
{
    (void)c;
    if (!xg_metrics_query(self->uuid, data_source, result_out))
        return xapi_err_internal_error(err, "Unknown data source");
    return true;
}

/* Xen's sched-gran= boot option (cpu, core or socket; cpu when absent), read
 * from the command line the hypervisor booted with, as XAPI's
 * xen-cmdline --get-xen sched-gran reads the boot entry. */
bool handle_host_get_sched_gran(xg_call *c, xapi_host *self, int *result_out, xg_err *err)
{
    (void)c; (void)self;
    struct xg_host_info hi;
    if (!gw_drv->host_info(gw_d, &hi, err))
        return false;
    *result_out = XAPI_HOST_SCHED_GRAN_CPU;
    for (const char *p = hi.xen_commandline; (p = strstr(p, "sched-gran=")) != NULL; p++) {
        if (p != hi.xen_commandline && p[-1] != ' ')
            continue;
        const char *v = p + strlen("sched-gran=");
        size_t n = strcspn(v, " ");
        if (n == 4 && strncmp(v, "core", 4) == 0)
            *result_out = XAPI_HOST_SCHED_GRAN_CORE;
        else if (n == 6 && strncmp(v, "socket", 6) == 0)
            *result_out = XAPI_HOST_SCHED_GRAN_SOCKET;
        else
            *result_out = XAPI_HOST_SCHED_GRAN_CPU;
    }
    return true;
}

bool handle_host_set_sched_gran(xg_call *c, xapi_host *self, int value, xg_err *err)
{
    (void)c; (void)self; (void)value;
    /* XAPI refuses unless xapi.conf's allow-host-sched-gran-modification is
     * set (off by default); changing the hypervisor's boot line is not the
     * gateway's business */
    return xapi_err_operation_not_allowed(err, "Disabled by xapi.conf");
}
