/* pif.c: PIF.scan / plug / unplug / reconfigure_ip as xapi_pif.ml does them
 * on a host that is its own pool (no bonds, VLANs, tunnels, SR-IOV, HA or
 * clustering here): the checks in XAPI's order, then the NIC brought up on
 * its network's bridge or down, or its address changed, through hostnet,
 * and the records re-read from the host so currently_attached, MTU, IP and
 * PIF_metrics say what the host now has. World lock held. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "hostnet/hostnet.h"
#include "net.h"

#define DNS_MAX 1024                /* PIF.DNS: comma-separated addresses */

bool handle_pif_scan(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c;
    (void)host;                     /* the only host */
    return gw_net_scan(err);
}

bool handle_pif_plug(xg_call *c, xapi_pif *self, xg_err *err)
{
    (void)c;
    if (!self->managed)
        return xapi_err_pif_unmanaged(err, self->obj.ref.s);
    const xapi_network *net = xg_store_get(&xapi_class_network, self->network.s);
    if (!net)
        return xg_err_internal(err, "PIF %s has no network", self->uuid);
    return gw_net_pif_up(self, net, err);
}

/* Xapi_network_attach_helpers.assert_network_has_no_vifs_in_use_on_me. */
static bool vifs_in_use(const xapi_network *net, xg_err *err)
{
    for (uint32_t i = 0; i < net->vifs.n; i++) {
        const xapi_vif *v = xg_store_get(&xapi_class_vif, ((xg_ref *)net->vifs.items)[i].s);
        if (v && v->currently_attached)
            return xapi_err_vif_in_use(err, net->obj.ref.s, v->obj.ref.s);
    }
    return true;
}

bool handle_pif_unplug(xg_call *c, xapi_pif *self, xg_err *err)
{
    (void)c;
    if (!self->managed)
        return xapi_err_pif_unmanaged(err, self->obj.ref.s);
    if (self->management)
        return xapi_err_pif_is_management_iface(err, self->obj.ref.s);
    const xapi_network *net = xg_store_get(&xapi_class_network, self->network.s);
    if (net && !vifs_in_use(net, err))
        return false;
    if (self->disallow_unplug)
        return xapi_err_pif_does_not_allow_unplug(err, self->obj.ref.s);
    return gw_net_pif_down(self, err);
}

/* ---- reconfigure_ip (Xapi_pif.reconfigure_ip) ------------------------------ */

static bool is_ip(int family, const char *text)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(family, text, buf) == 1;
}

/* The prefix length of a contiguous netmask, else -1. */
static int prefix_of(const char *netmask)
{
    struct in_addr m;
    if (inet_pton(AF_INET, netmask, &m) != 1)
        return -1;
    uint32_t v = ntohl(m.s_addr);
    int n = 0;
    while (n < 32 && (v & (0x80000000u >> n)))
        n++;
    return n == 32 || (v << n) == 0 ? n : -1;
}

/* restrict_to: the entries of the comma-separated list dns of one family,
 * appended to out. */
static void dns_of_family(const char *dns, int family, char *out, size_t len)
{
    const char *p = dns;
    while (*p) {
        size_t n = strcspn(p, ",");
        char one[INET6_ADDRSTRLEN + 1];
        if (n && n < sizeof one) {
            memcpy(one, p, n);
            one[n] = 0;
            size_t used = strlen(out);
            if (is_ip(family, one) && used + n + 2 < len)
                snprintf(out + used, len - used, "%s%s", used ? "," : "", one);
        }
        p += n + (p[n] == ',');
    }
}

bool handle_pif_reconfigure_ip(xg_call *c, xapi_pif *self, int mode, const char *ip,
                               const char *netmask, const char *gateway, const char *dns,
                               xg_err *err)
{
    (void)c;
    if (!self->managed)
        return xapi_err_pif_unmanaged(err, self->obj.ref.s);
    bool is_static = mode == XAPI_IP_CONFIGURATION_MODE_STATIC;
    if (is_static && !is_ip(AF_INET, ip))
        return xapi_err_invalid_ip_address_specified(err, "IP");
    if (is_static && !is_ip(AF_INET, netmask))
        return xapi_err_invalid_ip_address_specified(err, "netmask");
    const char *const params[][2] = {{"IP", ip}, {"netmask", netmask}, {"gateway", gateway}};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (params[i][1][0] && !is_ip(AF_INET, params[i][1]))
            return xapi_err_invalid_ip_address_specified(err, params[i][0]);
    if (self->management && mode == XAPI_IP_CONFIGURATION_MODE_NONE &&
        self->primary_address_type == XAPI_PRIMARY_ADDRESS_TYPE_IPV4)
        return xapi_err_pif_is_management_iface(err, self->obj.ref.s);
    /* XAPI's networkd runs a DHCP client; the gateway does not, and an
     * address nobody asks for would be a lie */
    if (mode == XAPI_IP_CONFIGURATION_MODE_DHCP)
        return xapi_err_operation_not_allowed(
            err, "DHCP needs a DHCP client on the host; the gateway sets static addresses");
    int prefix = is_static ? prefix_of(netmask) : 0;
    if (prefix < 0)
        return xapi_err_invalid_ip_address_specified(err, "netmask");

    char dns_out[DNS_MAX] = "";
    dns_of_family(dns, AF_INET, dns_out, sizeof dns_out);
    dns_of_family(self->dns, AF_INET6, dns_out, sizeof dns_out);
    bool was_management = self->management;
    const xapi_network *net = xg_store_get(&xapi_class_network, self->network.s);
    /* the default route belongs to the management interface */
    const char *route = is_static && was_management ? gateway : "";
    if (was_management && is_static && strcmp(ip, gw_host()->address) != 0) {
        /* the host's address follows its management interface */
        gw_set_str(gw_host(), &xapi_class_host.fields[XAPI_HOST_F_ADDRESS], ip);
    }
    if (!gw_net_pif_ipv4(self, net, is_static ? ip : "", prefix, route, err))
        return false;
    gw_set_str(self, GW_PIFF(GATEWAY), is_static ? gateway : "");
    gw_set_str(self, GW_PIFF(DNS), dns_out);
    return true;
}
