/* hostnet_nl.c: the real host's network through netlink (libnl-route-3):
 * links, their bridge masters and IPv4 addresses from the kernel's caches,
 * NIC facts (speed, duplex, PCI ids) from sysfs, vendor/device names from
 * pci.ids when installed. Bridges are made and removed with RTM_NEWLINK /
 * RTM_DELLINK, never by running ip or brctl: no fork under the world lock,
 * no parsing of a tool's output, and the kernel's own error codes.
 *
 * Everything read is bounded: GW_LINKS_MAX links, sysfs values and pci.ids
 * lines read into fixed buffers. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/route.h>
#include <nftables/libnftables.h>

#include "../../server/log.h"
#include "hostnet.h"

#define AREA "hostnet"
#define PCI_IDS_LINE 512
#define PCI_IDS_LINES_MAX 200000    /* pci.ids has ~40,000 lines */

#define PCI_CACHE 16                /* NIC models remembered */

struct pci_name {
    char vendor_id[8], device_id[8];
    char vendor_name[96], device_name[96];
};

struct hn_net {
    struct gw_hostnet base;
    struct nl_sock *sock;
    char *filters;                  /* the port filter ruleset last applied */
    /* pci.ids is read once per NIC model, not on every resync */
    struct pci_name pci[PCI_CACHE];
    uint32_t npci;
};

/* Reads a one-line sysfs attribute of a link; "" if absent. */
static void sysfs_read(const char *ifname, const char *attr, char *buf, size_t len)
{
    char path[128];
    buf[0] = 0;
    snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, attr);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)len, f))
        buf[0] = 0;
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

/* "0x8086" → "8086" */
static void pci_id(const char *ifname, const char *attr, char out[8])
{
    char v[16];
    sysfs_read(ifname, attr, v, sizeof v);
    const char *p = strncmp(v, "0x", 2) == 0 ? v + 2 : v;
    snprintf(out, 8, "%.4s", p);
}

/* Vendor and device names from pci.ids (lspci's database), if present. */
static void pci_names_read(struct gw_link *l)
{
    static const char *const files[] = {"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"};
    FILE *f = NULL;
    for (size_t i = 0; !f && i < sizeof files / sizeof files[0]; i++)
        f = fopen(files[i], "r");
    if (!f || !l->vendor_id[0])
        goto out;
    char line[PCI_IDS_LINE];
    bool in_vendor = false;
    for (int n = 0; n < PCI_IDS_LINES_MAX && fgets(line, sizeof line, f); n++) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' || !line[0])
            continue;
        if (line[0] != '\t') {
            if (in_vendor)
                break;              /* past our vendor's devices */
            if (strncasecmp(line, l->vendor_id, 4) == 0 && line[4] == ' ') {
                in_vendor = true;
                snprintf(l->vendor_name, sizeof l->vendor_name, "%.95s", line + 6);
            }
        } else if (in_vendor && line[1] != '\t' &&
                   strncasecmp(line + 1, l->device_id, 4) == 0 && line[5] == ' ') {
            snprintf(l->device_name, sizeof l->device_name, "%.95s", line + 7);
            break;
        }
    }
out:
    if (f)
        fclose(f);
}

static void pci_names(struct hn_net *s, struct gw_link *l)
{
    for (uint32_t i = 0; i < s->npci; i++) {
        struct pci_name *p = &s->pci[i];
        if (strcmp(p->vendor_id, l->vendor_id) == 0 && strcmp(p->device_id, l->device_id) == 0) {
            memcpy(l->vendor_name, p->vendor_name, sizeof l->vendor_name);
            memcpy(l->device_name, p->device_name, sizeof l->device_name);
            return;
        }
    }
    pci_names_read(l);
    struct pci_name *p = &s->pci[s->npci < PCI_CACHE ? s->npci++ : PCI_CACHE - 1];
    memcpy(p->vendor_id, l->vendor_id, sizeof p->vendor_id);
    memcpy(p->device_id, l->device_id, sizeof p->device_id);
    memcpy(p->vendor_name, l->vendor_name, sizeof p->vendor_name);
    memcpy(p->device_name, l->device_name, sizeof p->device_name);
}

static void nic_facts(struct hn_net *s, struct gw_link *l)
{
    char v[64], path[128], target[256];
    snprintf(path, sizeof path, "/sys/class/net/%s/device", l->name);
    l->physical = access(path, F_OK) == 0;
    if (!l->physical)
        return;
    sysfs_read(l->name, "speed", v, sizeof v);
    l->speed_mbit = v[0] ? strtoll(v, NULL, 10) : -1;
    sysfs_read(l->name, "duplex", v, sizeof v);
    l->full_duplex = strcmp(v, "full") == 0;
    pci_id(l->name, "device/vendor", l->vendor_id);
    pci_id(l->name, "device/device", l->device_id);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = 0;
        const char *base = strrchr(target, '/');
        snprintf(l->pci_bus_path, sizeof l->pci_bus_path, "%.31s", base ? base + 1 : target);
    }
    pci_names(s, l);
}

/* Backends of guests' vifs and emulated NICs are not host NICs. */
static bool skipped(const char *name)
{
    return strncmp(name, "vif", 3) == 0 || strncmp(name, "tap", 3) == 0;
}

static bool hn_links(struct gw_hostnet *h, xg_arena *a, struct gw_link **out,
                     uint32_t *n_out, xg_err *err)
{
    struct hn_net *s = (struct hn_net *)h;
    struct nl_cache *links = NULL, *addrs = NULL;
    int rc = rtnl_link_alloc_cache(s->sock, AF_UNSPEC, &links);
    if (rc < 0)
        return xg_err_internal(err, "netlink: links: %s", nl_geterror(rc));
    rc = rtnl_addr_alloc_cache(s->sock, &addrs);
    if (rc < 0) {
        nl_cache_free(links);
        return xg_err_internal(err, "netlink: addresses: %s", nl_geterror(rc));
    }
    struct gw_link *l = xg_arena_alloc(a, GW_LINKS_MAX * sizeof *l);
    uint32_t n = 0;
    if (!l) {
        nl_cache_free(links);
        nl_cache_free(addrs);
        return xg_err_internal(err, "hostnet: out of memory");
    }
    for (struct nl_object *o = nl_cache_get_first(links); o && n < GW_LINKS_MAX;
         o = nl_cache_get_next(o)) {
        struct rtnl_link *k = (struct rtnl_link *)o;
        const char *name = rtnl_link_get_name(k);
        unsigned flags = rtnl_link_get_flags(k);
        if (!name || (flags & IFF_LOOPBACK) || skipped(name) ||
            strnlen(name, GW_IFNAMSIZ) >= GW_IFNAMSIZ)
            continue;
        struct gw_link *x = &l[n++];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%s", name);
        x->mtu = rtnl_link_get_mtu(k);
        x->up = (flags & IFF_UP) != 0;
        x->carrier = rtnl_link_get_carrier(k) != 0;
        x->speed_mbit = -1;
        const char *type = rtnl_link_get_type(k);
        x->is_bridge = type && strcmp(type, "bridge") == 0;
        struct nl_addr *mac = rtnl_link_get_addr(k);
        if (mac && nl_addr_get_len(mac) == 6)
            memcpy(x->mac, nl_addr_get_binary_addr(mac), 6);
        int master = rtnl_link_get_master(k);
        if (master > 0 && !rtnl_link_i2name(links, master, x->master, sizeof x->master))
            x->master[0] = 0;
        if (!x->is_bridge)
            nic_facts(s, x);
        int ifindex = rtnl_link_get_ifindex(k);
        for (struct nl_object *ao = nl_cache_get_first(addrs); ao; ao = nl_cache_get_next(ao)) {
            struct rtnl_addr *ad = (struct rtnl_addr *)ao;
            if (rtnl_addr_get_ifindex(ad) != ifindex || rtnl_addr_get_family(ad) != AF_INET)
                continue;
            struct nl_addr *local = rtnl_addr_get_local(ad);
            if (!local || nl_addr_get_len(local) != 4)
                continue;
            inet_ntop(AF_INET, nl_addr_get_binary_addr(local), x->ipv4, sizeof x->ipv4);
            int plen = rtnl_addr_get_prefixlen(ad);
            uint32_t mask = plen <= 0 ? 0 : plen >= 32 ? 0xffffffffu : ~((1u << (32 - plen)) - 1);
            struct in_addr m = {htonl(mask)};
            inet_ntop(AF_INET, &m, x->netmask, sizeof x->netmask);
            break;
        }
    }
    nl_cache_free(links);
    nl_cache_free(addrs);
    *out = l;
    *n_out = n;
    return true;
}

static bool hn_bridge_add(struct gw_hostnet *h, const char *name, uint32_t mtu, xg_err *err)
{
    struct hn_net *s = (struct hn_net *)h;
    if (!gw_ifname_ok(name))
        return xg_err_internal(err, "bridge_add: bad name");
    struct rtnl_link *br = rtnl_link_bridge_alloc();
    if (!br)
        return xg_err_internal(err, "bridge_add: out of memory");
    rtnl_link_set_name(br, name);
    rtnl_link_set_mtu(br, mtu);
    rtnl_link_set_flags(br, IFF_UP);
    int rc = rtnl_link_add(s->sock, br, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(br);
    if (rc < 0) {
        XG_WARN(AREA, "bridge %s: RTM_NEWLINK: %s", name, nl_geterror(rc));
        return xg_err_internal(err, "cannot create bridge %s: %s", name, nl_geterror(rc));
    }
    return true;
}

static bool hn_bridge_del(struct gw_hostnet *h, const char *name, xg_err *err)
{
    struct hn_net *s = (struct hn_net *)h;
    struct rtnl_link *k = NULL;
    int rc = rtnl_link_get_kernel(s->sock, 0, name, &k);
    if (rc < 0)
        return xg_err_internal(err, "no bridge %s: %s", name, nl_geterror(rc));
    const char *type = rtnl_link_get_type(k);
    if (!type || strcmp(type, "bridge") != 0) {
        rtnl_link_put(k);
        return xg_err_internal(err, "%s is not a bridge", name);
    }
    rc = rtnl_link_delete(s->sock, k);
    rtnl_link_put(k);
    if (rc < 0) {
        XG_WARN(AREA, "bridge %s: RTM_DELLINK: %s", name, nl_geterror(rc));
        return xg_err_internal(err, "cannot remove bridge %s: %s", name, nl_geterror(rc));
    }
    return true;
}

/* RTM_NEWLINK on an existing link with only the given changes. */
static bool link_change(struct hn_net *s, const char *name, struct rtnl_link *changes,
                        const char *what, xg_err *err)
{
    struct rtnl_link *k = NULL;
    int rc = rtnl_link_get_kernel(s->sock, 0, name, &k);
    if (rc < 0)
        return xg_err_internal(err, "no link %s: %s", name, nl_geterror(rc));
    rc = rtnl_link_change(s->sock, k, changes, 0);
    rtnl_link_put(k);
    if (rc < 0) {
        XG_WARN(AREA, "%s %s: RTM_NEWLINK: %s", what, name, nl_geterror(rc));
        return xg_err_internal(err, "cannot %s %s: %s", what, name, nl_geterror(rc));
    }
    return true;
}

static bool hn_link_set(struct gw_hostnet *h, const char *name, uint32_t mtu, int up,
                        xg_err *err)
{
    struct rtnl_link *ch = rtnl_link_alloc();
    if (!ch)
        return xg_err_internal(err, "link_set: out of memory");
    if (mtu)
        rtnl_link_set_mtu(ch, mtu);
    if (up > 0)
        rtnl_link_set_flags(ch, IFF_UP);
    else if (up == 0)
        rtnl_link_unset_flags(ch, IFF_UP);
    bool ok = link_change((struct hn_net *)h, name, ch, "configure", err);
    rtnl_link_put(ch);
    return ok;
}

static bool hn_port_move(struct gw_hostnet *h, const char *port, const char *bridge,
                         xg_err *err)
{
    struct hn_net *s = (struct hn_net *)h;
    struct rtnl_link *br = NULL;
    int rc = rtnl_link_get_kernel(s->sock, 0, bridge, &br);
    if (rc < 0)
        return xg_err_internal(err, "no bridge %s: %s", bridge, nl_geterror(rc));
    int master = rtnl_link_get_ifindex(br);
    rtnl_link_put(br);
    struct rtnl_link *ch = rtnl_link_alloc();
    if (!ch)
        return xg_err_internal(err, "port_move: out of memory");
    rtnl_link_set_master(ch, master);
    bool ok = link_change(s, port, ch, "move", err);
    rtnl_link_put(ch);
    return ok;
}

static bool ifindex_of(struct hn_net *s, const char *name, int *out, xg_err *err)
{
    struct rtnl_link *k = NULL;
    int rc = rtnl_link_get_kernel(s->sock, 0, name, &k);
    if (rc < 0)
        return xg_err_internal(err, "no link %s: %s", name, nl_geterror(rc));
    *out = rtnl_link_get_ifindex(k);
    rtnl_link_put(k);
    return true;
}

/* An IPv4 nl_addr from dotted text (validated by the caller). */
static struct nl_addr *ipv4_addr(const char *text, int prefix)
{
    struct in_addr in;
    if (inet_pton(AF_INET, text, &in) != 1)
        return NULL;
    struct nl_addr *a = nl_addr_build(AF_INET, &in, sizeof in);
    if (a)
        nl_addr_set_prefixlen(a, prefix);
    return a;
}

/* Removes the link's IPv4 addresses other than keep (NULL: all). */
static bool drop_ipv4(struct hn_net *s, int ifindex, const struct nl_addr *keep, xg_err *err)
{
    struct nl_cache *addrs = NULL;
    int rc = rtnl_addr_alloc_cache(s->sock, &addrs);
    if (rc < 0)
        return xg_err_internal(err, "addresses: %s", nl_geterror(rc));
    for (struct nl_object *o = nl_cache_get_first(addrs); o && rc >= 0; o = nl_cache_get_next(o)) {
        struct rtnl_addr *ad = (struct rtnl_addr *)o;
        if (rtnl_addr_get_ifindex(ad) != ifindex || rtnl_addr_get_family(ad) != AF_INET)
            continue;
        const struct nl_addr *local = rtnl_addr_get_local(ad);
        if (keep && local && nl_addr_cmp(local, keep) == 0 &&
            rtnl_addr_get_prefixlen(ad) == (int)nl_addr_get_prefixlen(keep))
            continue;
        rc = rtnl_addr_delete(s->sock, ad, 0);
    }
    nl_cache_free(addrs);
    if (rc < 0)
        return xg_err_internal(err, "cannot remove an address: %s", nl_geterror(rc));
    return true;
}

static bool default_route(struct hn_net *s, int ifindex, const char *gateway, xg_err *err)
{
    struct nl_addr *dst = ipv4_addr("0.0.0.0", 0), *gw = ipv4_addr(gateway, 32);
    struct rtnl_route *r = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    int rc = -NLE_NOMEM;
    if (dst && gw && r && nh) {
        rtnl_route_set_family(r, AF_INET);
        rtnl_route_set_dst(r, dst);
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(r, nh);
        nh = NULL;                  /* the route owns it */
        rc = rtnl_route_add(s->sock, r, NLM_F_CREATE | NLM_F_REPLACE);
    }
    if (nh)
        rtnl_route_nh_free(nh);
    if (r)
        rtnl_route_put(r);
    nl_addr_put(dst);
    nl_addr_put(gw);
    if (rc < 0) {
        XG_WARN(AREA, "default route via %s: %s", gateway, nl_geterror(rc));
        return xg_err_internal(err, "cannot route through %s: %s", gateway, nl_geterror(rc));
    }
    return true;
}

static bool hn_ipv4_set(struct gw_hostnet *h, const char *name, const char *ipv4, int prefix,
                        const char *gateway, xg_err *err)
{
    struct hn_net *s = (struct hn_net *)h;
    int ifindex = 0;
    if (!ifindex_of(s, name, &ifindex, err))
        return false;
    struct nl_addr *local = ipv4[0] ? ipv4_addr(ipv4, prefix) : NULL;
    if (ipv4[0] && !local)
        return xg_err_internal(err, "bad address %s", ipv4);
    /* the new address first, so that an unchanged one never goes away */
    bool ok = true;
    if (local) {
        struct rtnl_addr *a = rtnl_addr_alloc();
        int rc = a ? 0 : -NLE_NOMEM;
        if (a) {
            rtnl_addr_set_ifindex(a, ifindex);
            rtnl_addr_set_local(a, local);
            rc = rtnl_addr_add(s->sock, a, NLM_F_REPLACE);
            rtnl_addr_put(a);
        }
        if (rc < 0 && rc != -NLE_EXIST) {
            XG_WARN(AREA, "%s: address %s/%d: %s", name, ipv4, prefix, nl_geterror(rc));
            ok = xg_err_internal(err, "cannot set %s/%d on %s: %s", ipv4, prefix, name,
                                 nl_geterror(rc));
        }
    }
    ok = ok && drop_ipv4(s, ifindex, local, err);
    ok = ok && (!gateway[0] || default_route(s, ifindex, gateway, err));
    nl_addr_put(local);
    return ok;
}

/* The port filters through libnftables (the nft command's own library: one
 * netlink transaction, no process); unchanged filters are not re-applied. */
static bool hn_port_filters(struct gw_hostnet *h, const struct gw_port_filter *f, uint32_t n,
                            xg_err *err)
{
    struct hn_net *s = (struct hn_net *)h;
    char *text = gw_nft_ruleset(f, n);
    if (!text)
        return xg_err_internal(err, "port filters: out of memory");
    if (s->filters && strcmp(s->filters, text) == 0) {
        free(text);
        return true;
    }
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) {
        free(text);
        return xg_err_internal(err, "port filters: out of memory");
    }
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    int rc = nft_run_cmd_from_buffer(ctx, text);
    if (rc != 0) {
        const char *why = nft_ctx_get_error_buffer(ctx);
        XG_WARN(AREA, "port filters (%u ports): nftables: %s", n, why ? why : "failed");
        xg_err_internal(err, "cannot set the VIF filters: %.200s", why ? why : "nftables failed");
        free(text);
        text = NULL;
    } else {
        XG_INFO(AREA, "port filters: %u port(s) filtered", n);
    }
    nft_ctx_free(ctx);
    free(s->filters);
    s->filters = text;              /* NULL after a failure: the next call retries */
    return rc == 0;
}

static void hn_close(struct gw_hostnet *h)
{
    struct hn_net *s = (struct hn_net *)h;
    free(s->filters);
    nl_socket_free(s->sock);
    free(s);
}

static const struct gw_hostnet_ops hn_ops = {
    .name = "netlink",
    .links = hn_links,
    .bridge_add = hn_bridge_add,
    .bridge_del = hn_bridge_del,
    .link_set = hn_link_set,
    .port_move = hn_port_move,
    .ipv4_set = hn_ipv4_set,
    .port_filters = hn_port_filters,
    .close = hn_close,
};

struct gw_hostnet *gw_hostnet_netlink_open(xg_err *err)
{
    struct hn_net *s = calloc(1, sizeof *s);
    if (!s || !(s->sock = nl_socket_alloc())) {
        free(s);
        xg_err_internal(err, "netlink: out of memory");
        return NULL;
    }
    int rc = nl_connect(s->sock, NETLINK_ROUTE);
    if (rc < 0) {
        xg_err_internal(err, "netlink: %s", nl_geterror(rc));
        nl_socket_free(s->sock);
        free(s);
        return NULL;
    }
    s->base.ops = &hn_ops;
    return &s->base;
}
