/* hostnet_sim.c: the simulated host's network: two physical NICs (Intel
 * 82574L, 1 Gbit/s full duplex, carrier up), eth0 enslaved to xenbr0, which
 * carries the host's address, and eth1 to xenbr1, and the host-internal
 * management bridge xenapi. Bridges made by network.create live in memory and obey the same
 * rules as the netlink backend (name unique, bounded count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostnet.h"

#include "../../server/random.h"

struct sim_net {
    struct gw_hostnet base;
    char *filters;                  /* the port filter ruleset, made but not enforced */
    struct gw_link links[GW_LINKS_MAX];
    uint32_t n;
};

static struct gw_link *find(struct sim_net *s, const char *name)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->links[i].name, name) == 0)
            return &s->links[i];
    return NULL;
}

static bool sim_links(struct gw_hostnet *h, xg_arena *a, struct gw_link **out,
                      uint32_t *n_out, xg_err *err)
{
    struct sim_net *s = (struct sim_net *)h;
    struct gw_link *l = xg_arena_alloc(a, (s->n ? s->n : 1) * sizeof *l);
    if (!l)
        return xg_err_internal(err, "hostnet: out of memory");
    memcpy(l, s->links, s->n * sizeof *l);
    *out = l;
    *n_out = s->n;
    return true;
}

static bool sim_bridge_add(struct gw_hostnet *h, const char *name, uint32_t mtu, xg_err *err)
{
    struct sim_net *s = (struct sim_net *)h;
    if (!gw_ifname_ok(name))
        return xg_err_internal(err, "bridge_add: bad name");
    if (find(s, name))
        return xg_err_internal(err, "bridge_add: %s exists", name);
    if (s->n >= GW_LINKS_MAX)
        return xg_err_internal(err, "bridge_add: too many links");
    struct gw_link *l = &s->links[s->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->is_bridge = true;
    l->up = true;
    l->mtu = mtu ? mtu : 1500;
    l->speed_mbit = -1;
    /* Linux gives a port-less bridge a random locally administered MAC */
    l->mac[0] = 0x02;
    xg_random_bytes(l->mac + 1, 5);
    return true;
}

static bool sim_bridge_del(struct gw_hostnet *h, const char *name, xg_err *err)
{
    struct sim_net *s = (struct sim_net *)h;
    struct gw_link *l = find(s, name);
    if (!l || !l->is_bridge)
        return xg_err_internal(err, "bridge_del: no bridge %s", name);
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->links[i].master, name) == 0)
            s->links[i].master[0] = 0;          /* ports fall off, as in Linux */
    *l = s->links[--s->n];
    return true;
}

static bool sim_link_set(struct gw_hostnet *h, const char *name, uint32_t mtu, int up,
                         xg_err *err)
{
    struct gw_link *l = find((struct sim_net *)h, name);
    if (!l)
        return xg_err_internal(err, "no link %s", name);
    if (mtu)
        l->mtu = mtu;
    if (up >= 0) {
        l->up = up > 0;
        /* a NIC's carrier needs the link up; the simulated cable is plugged */
        if (l->physical)
            l->carrier = l->up;
    }
    return true;
}

/* A NIC of the sim host gets its new master; the sim lists no guest
 * backends (as the netlink side skips them), so moving one needs only its
 * new bridge to exist. */
static bool sim_port_move(struct gw_hostnet *h, const char *port, const char *bridge,
                          xg_err *err)
{
    struct sim_net *s = (struct sim_net *)h;
    struct gw_link *br = find(s, bridge);
    if (!br || !br->is_bridge)
        return xg_err_internal(err, "no bridge %s to move %s to", bridge, port);
    struct gw_link *l = find(s, port);
    if (l && l->is_bridge)
        return xg_err_internal(err, "cannot enslave bridge %s", port);
    if (l)
        snprintf(l->master, sizeof l->master, "%s", bridge);
    else if (strncmp(port, "vif", 3) != 0)
        return xg_err_internal(err, "no link %s", port);
    return true;
}

static bool sim_ipv4_set(struct gw_hostnet *h, const char *name, const char *ipv4, int prefix,
                         const char *gateway, xg_err *err)
{
    (void)gateway;                  /* the sim host routes nothing */
    struct gw_link *l = find((struct sim_net *)h, name);
    if (!l)
        return xg_err_internal(err, "no link %s", name);
    snprintf(l->ipv4, sizeof l->ipv4, "%s", ipv4);
    l->netmask[0] = 0;
    if (ipv4[0]) {
        uint32_t m = prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
        snprintf(l->netmask, sizeof l->netmask, "%u.%u.%u.%u", m >> 24, (m >> 16) & 255,
                 (m >> 8) & 255, m & 255);
    }
    return true;
}

/* The sim host has no kernel to enforce them: the ruleset is made (so its
 * construction is exercised with the sim's guests) and kept. */
static bool sim_port_filters(struct gw_hostnet *h, const struct gw_port_filter *f, uint32_t n,
                             xg_err *err)
{
    struct sim_net *s = (struct sim_net *)h;
    char *text = gw_nft_ruleset(f, n);
    if (!text)
        return xg_err_internal(err, "port filters: out of memory");
    free(s->filters);
    s->filters = text;
    return true;
}

static void sim_close(struct gw_hostnet *h)
{
    free(((struct sim_net *)h)->filters);
    free(h);
}

static const struct gw_hostnet_ops sim_ops = {
    .name = "sim",
    .links = sim_links,
    .bridge_add = sim_bridge_add,
    .bridge_del = sim_bridge_del,
    .link_set = sim_link_set,
    .port_move = sim_port_move,
    .ipv4_set = sim_ipv4_set,
    .port_filters = sim_port_filters,
    .close = sim_close,
};

/* A physical NIC (Intel 82574L, 1 Gbit/s full duplex, cable plugged) with
 * its bridge, which takes the NIC's MAC. */
static struct gw_link *add_nic(struct sim_net *s, int index, uint64_t seed)
{
    struct gw_link *eth = &s->links[s->n++];
    snprintf(eth->name, sizeof eth->name, "eth%d", index);
    snprintf(eth->master, sizeof eth->master, "xenbr%d", index);
    /* a vendor (Intel) OUI and a host part from the seed */
    const uint8_t mac[6] = {0x00, 0x1b, 0x21, (uint8_t)(seed >> 16),
                            (uint8_t)(seed >> 8), (uint8_t)(seed + index)};
    memcpy(eth->mac, mac, 6);
    eth->mtu = 1500;
    eth->physical = eth->up = eth->carrier = eth->full_duplex = true;
    eth->speed_mbit = 1000;
    snprintf(eth->vendor_id, sizeof eth->vendor_id, "8086");
    snprintf(eth->device_id, sizeof eth->device_id, "10d3");
    snprintf(eth->vendor_name, sizeof eth->vendor_name, "Intel Corporation");
    snprintf(eth->device_name, sizeof eth->device_name, "82574L Gigabit Network Connection");
    snprintf(eth->pci_bus_path, sizeof eth->pci_bus_path, "0000:%02x:00.0", 2 + index);

    struct gw_link *br = &s->links[s->n++];
    snprintf(br->name, sizeof br->name, "xenbr%d", index);
    memcpy(br->mac, mac, 6);
    br->mtu = 1500;
    br->is_bridge = br->up = br->carrier = true;
    br->speed_mbit = -1;
    return br;
}

struct gw_hostnet *gw_hostnet_sim_open(uint64_t seed, const char *address, xg_err *err)
{
    struct sim_net *s = calloc(1, sizeof *s);
    if (!s) {
        xg_err_internal(err, "hostnet: out of memory");
        return NULL;
    }
    s->base.ops = &sim_ops;
    struct gw_link *br0 = add_nic(s, 0, seed);
    snprintf(br0->ipv4, sizeof br0->ipv4, "%s", address && address[0] ? address : "127.0.0.1");
    snprintf(br0->netmask, sizeof br0->netmask, "255.255.255.0");
    add_nic(s, 1, seed);            /* a second NIC, bridged, without an address */

    struct gw_link *in = &s->links[s->n++];
    snprintf(in->name, sizeof in->name, "xenapi");
    const uint8_t imac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(in->mac, imac, 6);
    in->mtu = 1500;
    in->is_bridge = in->up = true;
    in->speed_mbit = -1;
    snprintf(in->ipv4, sizeof in->ipv4, "169.254.0.1");
    snprintf(in->netmask, sizeof in->netmask, "255.255.0.0");
    return &s->base;
}

bool gw_ifname_ok(const char *name)
{
    size_t n = strnlen(name, GW_IFNAMSIZ);
    if (n == 0 || n >= GW_IFNAMSIZ)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}
