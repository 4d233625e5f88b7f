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

static void hn_close(struct gw_hostnet *h)
{
    struct hn_net *s = (struct hn_net *)h;
    nl_socket_free(s->sock);
    free(s);
}

static const struct gw_hostnet_ops hn_ops = {
    .name = "netlink",
    .links = hn_links,
    .bridge_add = hn_bridge_add,
    .bridge_del = hn_bridge_del,
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
