/* hostnet.h: the host's network side (NICs, bridges, addresses), which
 * needs no hypervisor. Two implementations: netlink (hostnet_nl.c, the real
 * host through libnl-route-3; used with the libxl driver) and sim
 * (hostnet_sim.c, an in-memory host with two NICs on xenbr0 and xenbr1
 * and a host-internal bridge; used with the sim driver). Handlers turn links
 * into PIF/PIF_metrics/network records (net_objects.c).
 *
 * Calls are short (netlink round trips, sysfs reads) and made with the world
 * lock held. Errors: INTERNAL_ERROR with the reason logged; bridge_add of an
 * existing bridge and bridge_del of a missing one fail. */
#ifndef XG_HOSTNET_H
#define XG_HOSTNET_H

#include <stdbool.h>
#include <stdint.h>

#include "../../server/arena.h"
#include "../../server/xg_err.h"

#define GW_IFNAMSIZ 16              /* IFNAMSIZ, NUL included */
#define GW_LINKS_MAX 256            /* links read from the host, at most */

struct gw_link {
    char name[GW_IFNAMSIZ];
    char master[GW_IFNAMSIZ];       /* bridge this link is enslaved to, or "" */
    uint8_t mac[6];
    uint32_t mtu;
    bool is_bridge;
    bool physical;                  /* a NIC backed by a device (sysfs device/) */
    bool up, carrier;
    int64_t speed_mbit;             /* -1 unknown */
    bool full_duplex;
    char vendor_id[8], device_id[8];        /* "8086" */
    char vendor_name[96], device_name[96];  /* from pci.ids when installed */
    char pci_bus_path[32];          /* "0000:00:19.0" */
    char ipv4[48], netmask[48];     /* first IPv4 address, dotted */
};

/* The traffic filter of a guest's port (VIF locking_mode, as XAPI's
 * setup-vif-rules does it on a Linux bridge). LOCKED: only frames from mac,
 * and of those only DHCP requests, ARP and IPv4 from ipv4, IPv6 from ipv6
 * (with neighbour discovery); DISABLED: nothing in or out. */
enum gw_port_lock { GW_PORT_LOCKED, GW_PORT_DISABLED };
struct gw_port_filter {
    char port[GW_IFNAMSIZ];         /* vif<domid>.<devid> */
    char tap[GW_IFNAMSIZ];          /* an HVM guest's emulated NIC (…-emu), or "" */
    enum gw_port_lock lock;
    uint8_t mac[6];
    const char *const *ipv4; uint32_t n4;   /* addresses or CIDRs; others are skipped */
    const char *const *ipv6; uint32_t n6;
};

/* The whole filter set as one nftables transaction (table bridge
 * xapi_gateway replaced at once; n = 0 removes it); malloc'd text, NULL
 * when out of memory. Entries of ipv4/ipv6 are re-written from their parsed
 * form, so no client string reaches the ruleset. nft_rules.c. */
char *gw_nft_ruleset(const struct gw_port_filter *f, uint32_t n);

struct gw_hostnet;

struct gw_hostnet_ops {
    const char *name;               /* "netlink" | "sim" */
    /* All links (loopback and vif/tap backends excluded), at most
     * GW_LINKS_MAX, in the arena. */
    bool (*links)(struct gw_hostnet *h, xg_arena *a, struct gw_link **out,
                  uint32_t *n_out, xg_err *err);
    /* A bridge with no port, up, with that MTU. */
    bool (*bridge_add)(struct gw_hostnet *h, const char *name, uint32_t mtu, xg_err *err);
    bool (*bridge_del)(struct gw_hostnet *h, const char *name, xg_err *err);
    /* A link's MTU (0 = keep) and administrative state (up < 0 = keep,
     * 0 = down, 1 = up): network.set_MTU, PIF.plug / unplug. */
    bool (*link_set)(struct gw_hostnet *h, const char *name, uint32_t mtu, int up, xg_err *err);
    /* Enslaves a guest's backend link (vif<domid>.<devid>) to bridge:
     * VIF.move of a plugged VIF. */
    bool (*port_move)(struct gw_hostnet *h, const char *port, const char *bridge, xg_err *err);
    /* PIF.reconfigure_ip: the link's IPv4 addresses replaced by ipv4/prefix
     * (ipv4 "" = none left); gateway non-empty = the default route through
     * it on this link. */
    bool (*ipv4_set)(struct gw_hostnet *h, const char *name, const char *ipv4, int prefix,
                     const char *gateway, xg_err *err);
    /* Replaces every guest port filter with these (n = 0: none left). */
    bool (*port_filters)(struct gw_hostnet *h, const struct gw_port_filter *f, uint32_t n,
                         xg_err *err);
    void (*close)(struct gw_hostnet *h);
};

struct gw_hostnet {
    const struct gw_hostnet_ops *ops;
};

/* Opens the real host through netlink; NULL with INTERNAL_ERROR when no
 * netlink socket can be opened. */
struct gw_hostnet *gw_hostnet_netlink_open(xg_err *err);
/* The simulated host: eth0 (MAC derived from seed) on xenbr0 carrying
 * address, eth1 on xenbr1, and the host-internal bridge xenapi. */
struct gw_hostnet *gw_hostnet_sim_open(uint64_t seed, const char *address, xg_err *err);

/* True if name is a bridge name the kernel accepts (1-15 bytes of
 * [A-Za-z0-9_.-]). */
bool gw_ifname_ok(const char *name);

#endif
