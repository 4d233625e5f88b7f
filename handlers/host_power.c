/* host_power.c: the host's own lifecycle, as ocaml/xapi/xapi_host.ml has it
 * for a pool of one host:
 * - evacuate: the only enabled host is this one, so every resident guest is
 *   a NO_HOSTS_AVAILABLE [vm] (compute_evacuation_plan_no_wlb with no
 *   target); an empty host evacuates at once.
 * - reboot/shutdown: refused while the host is enabled (HOST_NOT_DISABLED,
 *   valid_operations); then, after a pause that lets the answer leave, the
 *   machine reboots or powers off through systemd (libxl driver, only with
 *   host-power = on, so that no test ever reboots the machine it runs on).
 *   With the sim driver they are simulated: the simulated host's domains
 *   end with the gateway process, which starts again (reboot) or ends
 *   (shutdown).
 * - restart_agent: the gateway restarts (server/lifecycle.h); sessions end,
 *   as XAPI keeps none across a restart (session is PersistNothing).
 * - get_uncooperative_resident_VMs: XAPI's answer since it was deprecated,
 *   the empty set.
 * - get_server_certificate: the leaf certificate served right now.
 * - get_system_status_capabilities: xen-bugtool's capabilities document. */
#include "host_power.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../server/lifecycle.h"
#include "../server/log.h"
#include "../server/served_cert.h"
#include "gw.h"
#include "gw_util.h"
#include "messages.h"

#define POWER_DELAY_MS 2000u     /* XAPI waits 10 s before shutdown -r; the answer needs far less */
#define RESTART_DELAY_MS 1000u   /* XAPI's restart_agent thread waits 1 s */
#define CERT_PEM_MAX (64 * 1024)

static bool power_on_host;       /* host-power = on */

static bool is_sim(void)
{
    return strcmp(gw_drv->name, "sim") == 0;
}

void gw_host_update_allowed_operations(void)
{
    xapi_host *h = gw_host();
    if (!h)
        return;
    int ops[XAPI_HOST_ALLOWED_OPERATIONS__MAX];
    uint32_t n = 0;
    ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_PROVISION;
    ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_EVACUATE;
    ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_VM_START;
    ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_VM_RESUME;
    ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_VM_MIGRATE;
    ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_ENABLE;
    /* the host must be disabled before reboots or shutdowns (and, here,
     * the machine's power must be ours to control); power_on needs a host
     * thought down */
    if (!h->enabled && (is_sim() || power_on_host)) {
        ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_REBOOT;
        ops[n++] = XAPI_HOST_ALLOWED_OPERATIONS_SHUTDOWN;
    }
    xg_set s = { ops, n, n };
    xg_store_set(h, GW_F(h, XAPI_HOST_F_ALLOWED_OPERATIONS), &s);
}

/* ---- evacuation --------------------------------------------------------- */

/* Resident guests (not the control domain) of host, in store order. */
static uint32_t resident_guests(const xapi_host *host, const char **out, uint32_t cap)
{
    uint32_t n = 0;
    const xg_ref *refs = host->resident_vms.items;
    for (uint32_t i = 0; i < host->resident_vms.n && n < cap; i++) {
        const xapi_vm *vm = xg_store_get(&xapi_class_vm, refs[i].s);
        if (vm && !vm->is_control_domain)
            out[n++] = refs[i].s;
    }
    return n;
}

bool handle_host_evacuate(xg_call *c, xapi_host *host, xapi_network *network,
                          int64_t evacuate_batch_size, xg_err *err)
{
    (void)c; (void)network; (void)evacuate_batch_size;
    const char *vm;
    if (resident_guests(host, &vm, 1) > 0)
        return xg_err_set(err, XAPI_ERR_NO_HOSTS_AVAILABLE, 1, vm);
    return true;
}

bool handle_host_assert_can_evacuate(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c;
    /* XAPI's "Miami style" encoding: code,params per VM, joined by | */
    char all[XG_ERR_PARAM_LEN] = "";
    size_t used = 0;
    const char *vms[64];
    uint32_t n = resident_guests(host, vms, 64);
    for (uint32_t i = 0; i < n && used < sizeof(all); i++)
        used += (size_t)snprintf(all + used, sizeof(all) - used, "%s%s,%s", i ? "|" : "",
                                 XAPI_ERR_NO_HOSTS_AVAILABLE, vms[i]);
    return n ? xapi_err_cannot_evacuate_host(err, all) : true;
}

/* ---- power -------------------------------------------------------------- */

static void *power_later(void *arg)
{
    const char *verb = arg;   /* "reboot" | "poweroff": static strings */
    struct timespec ts = { POWER_DELAY_MS / 1000, (long)(POWER_DELAY_MS % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    const char *argv[] = { "systemctl", verb, NULL };
    XG_INFO("host", "systemctl %s", verb);
    if (!xg_lifecycle_run(argv))
        XG_ERROR("host", "the init system refused to %s the host", verb);
    return NULL;
}

static bool power(xapi_host *host, bool reboot, xg_err *err)
{
    if (host->enabled)
        return xapi_err_host_not_disabled(err);
    if (is_sim()) {
        XG_INFO("host", "simulated host %s", reboot ? "reboot" : "power-off");
        xg_lifecycle_request(reboot ? XG_AFTER_REBOOT : XG_AFTER_EXIT, POWER_DELAY_MS);
        return true;
    }
    if (!power_on_host)
        return xapi_err_operation_not_allowed(
            err, "host-power is off in the gateway's configuration (set host-power = on to let "
                 "the API reboot or power off this machine)");
    pthread_t t;
    if (pthread_create(&t, NULL, power_later, (void *)(reboot ? "reboot" : "poweroff")) != 0)
        return xg_err_internal(err, "cannot start the %s", reboot ? "reboot" : "power-off");
    pthread_detach(t);
    return true;
}

bool handle_host_reboot(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c;
    return power(host, true, err);
}

bool handle_host_shutdown(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c;
    return power(host, false, err);
}

bool handle_host_restart_agent(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c; (void)host; (void)err;
    XG_INFO("host", "restart_agent: the gateway restarts");
    xg_lifecycle_request(XG_AFTER_RESTART, RESTART_DELAY_MS);
    return true;
}

/* ---- queries ------------------------------------------------------------ */

bool handle_host_get_uncooperative_resident_vms(xg_call *c, xapi_host *self,
                                                xg_set *result_out, xg_err *err)
{
    (void)c; (void)self; (void)err;
    result_out->items = NULL;
    result_out->n = result_out->cap = 0;
    return true;
}

bool handle_host_get_server_certificate(xg_call *c, xapi_host *host, char **result_out,
                                        xg_err *err)
{
    (void)host;
    char *pem = xg_arena_alloc(c->arena, CERT_PEM_MAX);
    if (!pem)
        return xg_err_internal(err, "out of request memory");
    if (xg_tls_served_cert_pem(pem, CERT_PEM_MAX) == 0)
        return xg_err_internal(err, "no TLS certificate is served (--https off)");
    *result_out = pem;
    return true;
}

bool handle_host_get_system_status_capabilities(xg_call *c, xapi_host *host,
                                                char **result_out, xg_err *err)
{
    (void)host;
    /* xen-bugtool --capabilities prints one <capability key=… pii=…
     * min-size=… …/> per entry a status report can hold. The gateway serves
     * no status report download (/system-status), so it offers no entry:
     * listing xen-bugtool's would promise a report nobody can fetch. The
     * document is what xen-bugtool prints for an empty list (minidom's
     * toprettyxml). */
    *result_out = xg_arena_strdup(c->arena,
                                  "<?xml version=\"1.0\" ?>\n<system-status-capabilities/>\n");
    return *result_out ? true : xg_err_internal(err, "out of request memory");
}

/* ---- start-up ----------------------------------------------------------- */

/* <state_dir>/agent-running exists while the gateway runs: found at start,
 * the previous run did not stop cleanly. */
static void running_marker(char *out, size_t n)
{
    snprintf(out, n, "%s/agent-running", gw_state_dir());
}

/* Why this start is not the first: the lifecycle restart that asked for it
 * (XG_STARTED_BY, set just before the re-exec), else the marker. */
static const char *start_reason(bool unclean)
{
    const char *by = getenv("XG_STARTED_BY");
    if (by && strcmp(by, "restart") == 0)
        return "host.restart_agent";
    if (by && strcmp(by, "reboot") == 0)
        return "host.reboot (simulated host)";
    return unclean ? "the previous run ended without a clean stop (crash, kill or power loss)"
                   : "after a clean stop";
}

void gw_host_power_start(const char *power_mode, bool first_start)
{
    power_on_host = strcmp(power_mode, "on") == 0;
    char marker[600];
    running_marker(marker, sizeof marker);
    bool unclean = access(marker, F_OK) == 0;
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    xapi_host *h = gw_host();
    if (!h)
        return;
    if (!h->enabled)
        gw_set_bool(h, GW_F(h, XAPI_HOST_F_ENABLED), true);
    gw_host_update_allowed_operations();
    if (!first_start) {
        /* XAPI posts nothing when its toolstack starts; XO's host logs are
         * where an administrator looks for why the agent went away */
        char body[256];
        const char *ver = gw_smap_get(&h->software_version, "gateway_version");
        snprintf(body, sizeof body, "xapi-gateway %s started again: %s", ver ? ver : "",
                 start_reason(unclean));
        gw_message_post(GW_MSG_TOOLSTACK_RESTARTED, XAPI_CLS_HOST, h->uuid, body);
    }
    unsetenv("XG_STARTED_BY");
}

void gw_host_power_stop(void)
{
    char marker[600];
    running_marker(marker, sizeof marker);
    unlink(marker);
}
