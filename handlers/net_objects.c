/* net_objects.c: the host's links as records. A network per bridge (keyed
 * by bridge name), a PIF and PIF_metrics per physical NIC (keyed by device
 * name) tied to the network of the bridge it is enslaved to; the PIF
 * carrying the host's address is the management PIF. Re-read at start-up
 * and on every resync tick: only changed fields produce events.
 *
 * Bridges of managed networks (network.create) are made on the host when
 * missing (start-up, before a VM start or a hot-plug), as XAPI makes them on
 * demand; unmanaged ones are the administrator's and are never touched. */
#include <stdio.h>
#include <string.h>

#include "../server/log.h"
#include "hostnet/hostnet.h"
#include "net.h"

#define AREA "net"

static struct gw_hostnet *hn;

static void mac_str(const uint8_t m[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static xapi_network *network_by_bridge(const char *bridge)
{
    uint64_t cur = 0;
    xapi_network *n;
    while ((n = xg_store_next(&xapi_class_network, &cur)) != NULL)
        if (strcmp(n->bridge, bridge) == 0)
            return n;
    return NULL;
}

static xapi_pif *pif_by_device(const char *device)
{
    uint64_t cur = 0;
    xapi_pif *p;
    while ((p = xg_store_next(&xapi_class_pif, &cur)) != NULL)
        if (strcmp(p->device, device) == 0)
            return p;
    return NULL;
}

static const struct gw_link *link_named(const struct gw_link *l, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(l[i].name, name) == 0)
            return &l[i];
    return NULL;
}

/* The physical port of a bridge, for XAPI's network naming. */
static const struct gw_link *bridge_port(const struct gw_link *l, uint32_t n, const char *br)
{
    for (uint32_t i = 0; i < n; i++)
        if (l[i].physical && strcmp(l[i].master, br) == 0)
            return &l[i];
    return NULL;
}

/* A network for a bridge found on the host. */
static xapi_network *network_for_bridge(const struct gw_link *br, const struct gw_link *l,
                                        uint32_t n, xg_err *err)
{
    xapi_network *net = xg_obj_new(&xapi_class_network);
    char label[128];
    const struct gw_link *port = bridge_port(l, n, br->name);
    bool internal = strcmp(br->name, GW_INTERNAL_BRIDGE) == 0;
    if (internal)
        snprintf(label, sizeof label, "Host internal management network");
    else if (port)
        snprintf(label, sizeof label, "Pool-wide network associated with %s", port->name);
    else
        snprintf(label, sizeof label, "%s", br->name);
    gw_init_str(net, XAPI_NETWORK_F_NAME_LABEL, label);
    gw_init_str(net, XAPI_NETWORK_F_BRIDGE, br->name);
    int64_t mtu = br->mtu ? br->mtu : 1500;
    gw_init_field(net, XAPI_NETWORK_F_MTU, &mtu);
    /* XAPI manages the bridges of its physical and internal networks; any
     * other bridge is the administrator's */
    bool managed = internal || port;
    gw_init_field(net, XAPI_NETWORK_F_MANAGED, &managed);
    if (internal) {
        const char *k[] = {GW_INTERNAL_KEY}, *v[] = {"true"};
        xg_map m = {.keys = (void *)k, .vals = (void *)v, .n = 1, .cap = 1};
        gw_init_field(net, XAPI_NETWORK_F_OTHER_CONFIG, &m);
    } else if (port) {
        const char *k[] = {"automatic"}, *v[] = {"true"};
        xg_map m = {.keys = (void *)k, .vals = (void *)v, .n = 1, .cap = 1};
        gw_init_field(net, XAPI_NETWORK_F_OTHER_CONFIG, &m);
    }
    if (!xg_store_add(net, NULL, err)) {
        xg_obj_free(net);
        return NULL;
    }
    XG_INFO(AREA, "network %s for bridge %s", net->uuid, br->name);
    return net;
}

static bool sync_metrics(xapi_pif *p, const struct gw_link *nic, xg_err *err)
{
    xapi_pif_metrics *m = xg_store_get(&xapi_class_pif_metrics, p->metrics.s);
    if (!m) {
        m = xg_obj_new(&xapi_class_pif_metrics);
        if (!xg_store_add(m, NULL, err)) {
            xg_obj_free(m);
            return false;
        }
        gw_set_ref(p, GW_PIFF(METRICS), m->obj.ref.s);
    }
    bool changed = m->carrier != nic->carrier || m->speed != nic->speed_mbit ||
                   m->duplex != nic->full_duplex;
    gw_set_bool(m, GW_PIFMF(CARRIER), nic->carrier);
    gw_set_str(m, GW_PIFMF(VENDOR_ID), nic->vendor_id);
    gw_set_str(m, GW_PIFMF(VENDOR_NAME), nic->vendor_name);
    gw_set_str(m, GW_PIFMF(DEVICE_ID), nic->device_id);
    gw_set_str(m, GW_PIFMF(DEVICE_NAME), nic->device_name);
    /* XAPI reports 0 for an unknown speed (link down) */
    gw_set_int(m, GW_PIFMF(SPEED), nic->speed_mbit > 0 ? nic->speed_mbit : 0);
    gw_set_bool(m, GW_PIFMF(DUPLEX), nic->full_duplex);
    gw_set_str(m, GW_PIFMF(PCI_BUS_PATH), nic->pci_bus_path);
    if (changed || m->last_updated == 0)
        gw_set_time(m, GW_PIFMF(LAST_UPDATED), gw_now());
    return true;
}

static bool sync_pif(const struct gw_link *nic, const struct gw_link *l, uint32_t n,
                     xg_err *err)
{
    const struct gw_link *br = nic->master[0] ? link_named(l, n, nic->master) : NULL;
    char bridge[GW_IFNAMSIZ + 8];
    /* an unbridged NIC: the network XAPI would make for it (xenbr<N>),
     * unmanaged and absent until an administrator bridges the NIC */
    if (br)
        snprintf(bridge, sizeof bridge, "%s", br->name);
    else if (strncmp(nic->name, "eth", 3) == 0)
        snprintf(bridge, sizeof bridge, "xenbr%s", nic->name + 3);
    else
        snprintf(bridge, sizeof bridge, "br-%s", nic->name);
    xapi_network *net = network_by_bridge(bridge);
    if (!net) {
        net = xg_obj_new(&xapi_class_network);
        char label[96];
        snprintf(label, sizeof label, "Pool-wide network associated with %s", nic->name);
        gw_init_str(net, XAPI_NETWORK_F_NAME_LABEL, label);
        gw_init_str(net, XAPI_NETWORK_F_BRIDGE, bridge);
        bool f = false;
        gw_init_field(net, XAPI_NETWORK_F_MANAGED, &f);
        if (!xg_store_add(net, NULL, err)) {
            xg_obj_free(net);
            return false;
        }
    }
    xapi_pif *p = pif_by_device(nic->name);
    char mac[18];
    mac_str(nic->mac, mac);
    if (!p) {
        p = xg_obj_new(&xapi_class_pif);
        int64_t vlan = -1, mtu = nic->mtu;
        bool t = true;
        gw_init_str(p, XAPI_PIF_F_DEVICE, nic->name);
        gw_init_ref(p, XAPI_PIF_F_NETWORK, net->obj.ref.s);
        gw_init_ref(p, XAPI_PIF_F_HOST, gw_host()->obj.ref.s);
        gw_init_str(p, XAPI_PIF_F_MAC, mac);
        gw_init_field(p, XAPI_PIF_F_MTU, &mtu);
        gw_init_field(p, XAPI_PIF_F_VLAN, &vlan);
        gw_init_field(p, XAPI_PIF_F_PHYSICAL, &t);
        if (!xg_store_add(p, NULL, err)) {
            xg_obj_free(p);
            return false;
        }
        XG_INFO(AREA, "PIF %s for %s (%s) on %s", p->uuid, nic->name, mac, bridge);
    }
    gw_set_ref(p, GW_PIFF(NETWORK), net->obj.ref.s);
    gw_set_str(p, GW_PIFF(MAC), mac);
    gw_set_int(p, GW_PIFF(MTU), nic->mtu);
    gw_set_bool(p, GW_PIFF(CURRENTLY_ATTACHED), br != NULL && nic->up);
    /* the address lives on the bridge when the NIC is bridged */
    const struct gw_link *ipl = br && br->ipv4[0] ? br : nic;
    const char *host_addr = gw_host()->address;
    bool mgmt = ipl->ipv4[0] && strcmp(ipl->ipv4, host_addr) == 0;
    gw_set_bool(p, GW_PIFF(MANAGEMENT), mgmt);
    gw_set_enum(p, GW_PIFF(IP_CONFIGURATION_MODE),
                ipl->ipv4[0] ? XAPI_IP_CONFIGURATION_MODE_STATIC
                             : XAPI_IP_CONFIGURATION_MODE_NONE);
    gw_set_str(p, GW_PIFF(IP), ipl->ipv4);
    gw_set_str(p, GW_PIFF(NETMASK), ipl->netmask);
    return sync_metrics(p, nic, err);
}

static bool sync(xg_err *err)
{
    xg_arena *a = xg_arena_new(1024 * 1024);
    if (!a)
        return xg_err_internal(err, "out of memory");
    struct gw_link *l = NULL;
    uint32_t n = 0;
    bool ok = hn->ops->links(hn, a, &l, &n, err);
    for (uint32_t i = 0; ok && i < n; i++) {
        if (!l[i].is_bridge)
            continue;
        xapi_network *net = network_by_bridge(l[i].name);
        if (!net && !network_for_bridge(&l[i], l, n, err))
            ok = false;
    }
    for (uint32_t i = 0; ok && i < n; i++)
        if (l[i].physical && !l[i].is_bridge)
            ok = sync_pif(&l[i], l, n, err);
    /* NICs that went away take their PIF (and metrics) with them */
    uint64_t cur = 0;
    xapi_pif *p;
    while (ok && (p = xg_store_next(&xapi_class_pif, &cur)) != NULL) {
        const struct gw_link *nic = link_named(l, n, p->device);
        if (nic && nic->physical)
            continue;
        XG_INFO(AREA, "NIC %s is gone: PIF %s removed", p->device, p->uuid);
        xapi_pif_metrics *m = xg_store_get(&xapi_class_pif_metrics, p->metrics.s);
        if (m)
            xg_store_remove(m);
        xg_store_remove(p);
    }
    xg_arena_free(a);
    return ok;
}

bool gw_net_bridge_exists(const char *name)
{
    xg_arena *a = xg_arena_new(1024 * 1024);
    struct gw_link *l = NULL;
    uint32_t n = 0;
    xg_err err = XG_ERR_INIT;
    bool found = a && hn->ops->links(hn, a, &l, &n, &err) && link_named(l, n, name) &&
                 link_named(l, n, name)->is_bridge;
    xg_arena_free(a);
    return found;
}

bool gw_net_bridge_add(const char *name, int64_t mtu, xg_err *err)
{
    XG_INFO(AREA, "creating bridge %s (MTU %lld)", name, (long long)mtu);
    return hn->ops->bridge_add(hn, name, mtu > 0 ? (uint32_t)mtu : 1500, err);
}

bool gw_net_bridge_del(const char *name, xg_err *err)
{
    XG_INFO(AREA, "removing bridge %s", name);
    return hn->ops->bridge_del(hn, name, err);
}

bool gw_net_bridge_ready(xapi_network *net, xg_err *err)
{
    if (net->bridge[0] && gw_net_bridge_exists(net->bridge))
        return true;
    if (!net->managed || !gw_ifname_ok(net->bridge))
        return xapi_err_bridge_not_available(err, net->bridge);
    xg_err e = XG_ERR_INIT;
    if (!gw_net_bridge_add(net->bridge, net->mtu, &e)) {
        XG_WARN(AREA, "bridge %s: %s", net->bridge, e.nparams ? e.param[0] : e.code);
        return xapi_err_bridge_not_available(err, net->bridge);
    }
    return true;
}

bool gw_net_scan(xg_err *err)
{
    return sync(err);
}

/* Whether PIF.plug enslaves the NIC: not when it is a port of the bridge
 * already, nor when it carries an address itself (an administrator's dom0
 * configuration, not XAPI's): as a bridge port it would lose it. */
static bool should_enslave(const xapi_pif *pif, const xapi_network *net)
{
    bool enslave = true;
    xg_arena *a = xg_arena_new(1024 * 1024);
    struct gw_link *l = NULL;
    uint32_t n = 0;
    xg_err e = XG_ERR_INIT;
    if (a && hn->ops->links(hn, a, &l, &n, &e)) {
        const struct gw_link *nic = link_named(l, n, pif->device);
        if (nic && strcmp(nic->master, net->bridge) == 0)
            enslave = false;
        else if (nic && !nic->master[0] && nic->ipv4[0]) {
            XG_WARN(AREA, "PIF %s: %s carries %s itself: brought up, not bridged", pif->uuid,
                    pif->device, nic->ipv4);
            enslave = false;
        }
    }
    xg_arena_free(a);
    return enslave;
}

bool gw_net_pif_up(const xapi_pif *pif, const xapi_network *net, xg_err *err)
{
    bool enslave = should_enslave(pif, net);
    if (enslave && !gw_net_bridge_exists(net->bridge)) {
        if (!gw_ifname_ok(net->bridge))
            return xapi_err_bridge_not_available(err, net->bridge);
        if (!gw_net_bridge_add(net->bridge, net->mtu, err))
            return false;
    }
    XG_INFO(AREA, "PIF %s: %s up%s%s", pif->uuid, pif->device, enslave ? " on " : "",
            enslave ? net->bridge : "");
    bool ok = (!enslave || hn->ops->port_move(hn, pif->device, net->bridge, err)) &&
              hn->ops->link_set(hn, pif->device, 0, 1, err);
    xg_err e = XG_ERR_INIT;
    return sync(ok ? err : &e) && ok;
}

bool gw_net_pif_down(const xapi_pif *pif, xg_err *err)
{
    XG_INFO(AREA, "PIF %s: %s down", pif->uuid, pif->device);
    bool ok = hn->ops->link_set(hn, pif->device, 0, 0, err);
    xg_err e = XG_ERR_INIT;
    return sync(ok ? err : &e) && ok;
}

bool gw_net_pif_ipv4(const xapi_pif *pif, const xapi_network *net, const char *ipv4,
                     int prefix, const char *gateway, xg_err *err)
{
    const char *link = net && net->bridge[0] && gw_net_bridge_exists(net->bridge) ? net->bridge
                                                                               : pif->device;
    XG_INFO(AREA, "PIF %s: %s address %s/%d%s%s", pif->uuid, link, ipv4[0] ? ipv4 : "(none)",
            prefix, gateway[0] ? " via " : "", gateway);
    bool ok = hn->ops->ipv4_set(hn, link, ipv4, prefix, gateway, err);
    xg_err e = XG_ERR_INIT;
    return sync(ok ? err : &e) && ok;
}

bool gw_net_apply_mtu(const xapi_network *net, int64_t mtu, xg_err *err)
{
    if (!net->bridge[0] || !gw_net_bridge_exists(net->bridge))
        return true;
    XG_INFO(AREA, "bridge %s: MTU %lld", net->bridge, (long long)mtu);
    bool ok = true;
    /* the NICs first: a bridge's MTU follows its ports */
    for (uint32_t i = 0; ok && i < net->pifs.n; i++) {
        const xapi_pif *p = xg_store_get(&xapi_class_pif, ((xg_ref *)net->pifs.items)[i].s);
        if (p)
            ok = hn->ops->link_set(hn, p->device, (uint32_t)mtu, -1, err);
    }
    ok = ok && hn->ops->link_set(hn, net->bridge, (uint32_t)mtu, -1, err);
    xg_err e = XG_ERR_INIT;
    return sync(ok ? err : &e) && ok;
}

bool gw_net_port_filters(const struct gw_port_filter *f, uint32_t n, xg_err *err)
{
    /* guests found running while the objects are built (a restart) get
     * their filters from gw_net_open, which comes after */
    if (!hn)
        return true;
    return hn->ops->port_filters(hn, f, n, err);
}

bool gw_net_port_move(const char *port, const char *bridge, xg_err *err)
{
    XG_INFO(AREA, "moving %s to bridge %s", port, bridge);
    return hn->ops->port_move(hn, port, bridge, err);
}

xapi_network *gw_net_management(void)
{
    uint64_t cur = 0;
    xapi_pif *p;
    while ((p = xg_store_next(&xapi_class_pif, &cur)) != NULL)
        if (p->management)
            return xg_store_get(&xapi_class_network, p->network.s);
    return NULL;
}

bool gw_net_open(xg_err *err)
{
    if (strcmp(gw_drv->name, "sim") == 0)
        hn = gw_hostnet_sim_open(0x5eed, gw_host()->address, err);
    else
        hn = gw_hostnet_netlink_open(err);
    if (!hn)
        return false;
    XG_INFO(AREA, "host network: %s", hn->ops->name);
    if (!sync(err))
        return false;
    /* managed networks of ours whose bridge is gone (host reboot, sim
     * restart) get it back */
    uint64_t cur = 0;
    xapi_network *n;
    while ((n = xg_store_next(&xapi_class_network, &cur)) != NULL) {
        if (!n->managed || n->pifs.n || gw_net_bridge_exists(n->bridge))
            continue;
        xg_err e = XG_ERR_INIT;
        if (!gw_net_bridge_ready(n, &e))
            XG_WARN(AREA, "network %s: bridge %s not made", n->uuid, n->bridge);
    }
    /* the guests that kept running get their filters back; a filter set
     * left by an earlier run is replaced */
    xg_err e = XG_ERR_INIT;
    if (!hn->ops->port_filters(hn, NULL, 0, &e) || !gw_vif_filters_sync(&e))
        XG_WARN(AREA, "VIF filters at start-up: %s", e.nparams ? e.param[0] : e.code);
    return true;
}

void gw_net_sync(void)
{
    if (!hn)
        return;
    xg_err err = XG_ERR_INIT;
    if (!sync(&err))
        XG_WARN(AREA, "host network sync: %s %s", err.code, err.nparams ? err.param[0] : "");
}

void gw_net_close(void)
{
    if (hn)
        hn->ops->close(hn);
    hn = NULL;
}
