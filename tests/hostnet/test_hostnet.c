/* test_hostnet.c: the host network backends. netlink runs inside a network
 * namespace this process makes for itself (unshare(CLONE_NEWNET)), so the
 * machine's own interfaces are never seen or touched; without the right to
 * make one (not root) the netlink tests are skipped. The sim backend is
 * checked against the same expectations. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <nftables/libnftables.h>
#include <unistd.h>

#include "../../handlers/hostnet/hostnet.h"

static bool have_netns;

static const struct gw_link *find(const struct gw_link *l, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(l[i].name, name) == 0)
            return &l[i];
    return NULL;
}

static uint32_t list(struct gw_hostnet *h, xg_arena *a, struct gw_link **l)
{
    uint32_t n = 0;
    xg_err err = XG_ERR_INIT;
    assert_true(h->ops->links(h, a, l, &n, &err));
    return n;
}

/* Rules every backend follows. */
static void common_bridge_rules(struct gw_hostnet *h)
{
    xg_arena *a = xg_arena_new(4 << 20);
    xg_err err = XG_ERR_INIT;
    struct gw_link *l;
    assert_true(h->ops->bridge_add(h, "xgtest0", 1400, &err));
    uint32_t n = list(h, a, &l);
    const struct gw_link *br = find(l, n, "xgtest0");
    assert_non_null(br);
    assert_true(br->is_bridge);
    assert_false(br->physical);
    assert_true(br->up);
    assert_int_equal(br->mtu, 1400);
    assert_false(h->ops->bridge_add(h, "xgtest0", 1500, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    xg_err_clear(&err);
    static const char *const bad[] = {"", "sixteen-chars-xx", "a/b", "..", "sp ace"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(h->ops->bridge_add(h, bad[i], 1500, &err));
        xg_err_clear(&err);
    }
    assert_true(h->ops->bridge_del(h, "xgtest0", &err));
    n = list(h, a, &l);
    assert_null(find(l, n, "xgtest0"));
    assert_false(h->ops->bridge_del(h, "xgtest0", &err));
    xg_err_clear(&err);
    xg_arena_free(a);
}

/* link_set / port_move / ipv4_set, on a bridge with a port and a second
 * bridge, the same on every backend. */
static void common_link_rules(struct gw_hostnet *h, const char *bridge, const char *port,
                              const char *other)
{
    xg_arena *a = xg_arena_new(4 << 20);
    xg_err err = XG_ERR_INIT;
    struct gw_link *l;
    assert_true(h->ops->link_set(h, port, 1400, -1, &err));
    assert_true(h->ops->link_set(h, bridge, 1400, -1, &err));
    uint32_t n = list(h, a, &l);
    assert_int_equal(find(l, n, bridge)->mtu, 1400);
    assert_int_equal(find(l, n, port)->mtu, 1400);
    assert_true(h->ops->link_set(h, port, 0, 0, &err));
    n = list(h, a, &l);
    assert_false(find(l, n, port)->up);
    assert_int_equal(find(l, n, port)->mtu, 1400);          /* 0 keeps it */
    assert_true(h->ops->link_set(h, port, 1500, 1, &err));
    assert_true(h->ops->link_set(h, bridge, 1500, -1, &err));
    n = list(h, a, &l);
    assert_true(find(l, n, port)->up);
    assert_false(h->ops->link_set(h, "xgnone", 1500, 1, &err));
    xg_err_clear(&err);

    assert_true(h->ops->port_move(h, port, other, &err));
    n = list(h, a, &l);
    assert_string_equal(find(l, n, port)->master, other);
    assert_false(h->ops->port_move(h, port, "xgnone", &err));   /* no such bridge */
    xg_err_clear(&err);
    assert_true(h->ops->port_move(h, port, bridge, &err));
    n = list(h, a, &l);
    assert_string_equal(find(l, n, port)->master, bridge);

    assert_true(h->ops->ipv4_set(h, bridge, "203.0.113.5", 25, "", &err));
    n = list(h, a, &l);
    assert_string_equal(find(l, n, bridge)->ipv4, "203.0.113.5");
    assert_string_equal(find(l, n, bridge)->netmask, "255.255.255.128");
    assert_true(h->ops->ipv4_set(h, bridge, "203.0.113.5", 25, "", &err));  /* again: same */
    assert_true(h->ops->ipv4_set(h, bridge, "", 0, "", &err));
    n = list(h, a, &l);
    assert_string_equal(find(l, n, bridge)->ipv4, "");
    xg_arena_free(a);
}

/* The ruleset text: one transaction, only parsed-and-rewritten addresses. */
static void nft_ruleset_text(void **state)
{
    (void)state;
    char *t = gw_nft_ruleset(NULL, 0);
    assert_string_equal(t, "add table bridge xapi_gateway\ndelete table bridge xapi_gateway\n");
    free(t);
    static const char *const v4[] = {"10.0.0.1", "10.0.0.1; flush ruleset", "10.1.0.0/16",
                                     "10.0.0.0/33", "010.0.0.1", "", "10.2.0.0/"};
    static const char *const v6[] = {"FE80::0001", "2001:db8::/64", "::ffff:1.2.3.4/129"};
    struct gw_port_filter f[2] = {
        {.port = "vif5.0", .tap = "vif5.0-emu", .lock = GW_PORT_LOCKED,
         .mac = {0x00, 0x16, 0x3e, 0xaa, 0xbb, 0x01}, .ipv4 = v4, .n4 = 7, .ipv6 = v6, .n6 = 3},
        {.port = "vif6.1", .lock = GW_PORT_DISABLED},
    };
    t = gw_nft_ruleset(f, 2);
    assert_non_null(t);
    assert_non_null(strstr(t, "prerouting iifname { \"vif5.0\", \"vif5.0-emu\" } jump port0\n"));
    assert_non_null(strstr(t, "port0 ether saddr != 00:16:3e:aa:bb:01 drop\n"));
    assert_non_null(strstr(t, "port0 ip saddr { 10.0.0.1, 10.1.0.0/16 } accept\n"));
    assert_non_null(strstr(t, "port0 ip6 saddr { fe80::1, 2001:db8::/64 } accept\n"));
    assert_non_null(strstr(t, "arp operation reply arp saddr ether 00:16:3e:aa:bb:01 "
                              "arp saddr ip { 10.0.0.1, 10.1.0.0/16 } accept\n"));
    assert_null(strstr(t, "flush"));
    assert_null(strstr(t, "/33"));
    assert_non_null(strstr(t, "port1 drop\n"));
    assert_non_null(strstr(t, "forward oifname { \"vif6.1\" } drop\n"));
    assert_non_null(strstr(t, "output oifname { \"vif6.1\" } drop\n"));
    free(t);
    /* locked without an allowed address: only the MAC check, DHCP and the drop */
    struct gw_port_filter bare = {.port = "vif7.0", .lock = GW_PORT_LOCKED};
    t = gw_nft_ruleset(&bare, 1);
    assert_null(strstr(t, "saddr ip"));
    assert_null(strstr(t, "ip saddr"));
    assert_non_null(strstr(t, "port0 drop\n"));
    free(t);
}

static void sim_host(void **state)
{
    (void)state;
    xg_err err = XG_ERR_INIT;
    struct gw_hostnet *h = gw_hostnet_sim_open(0x5eed, "192.0.2.10", &err);
    assert_non_null(h);
    xg_arena *a = xg_arena_new(4 << 20);
    struct gw_link *l;
    uint32_t n = list(h, a, &l);
    const struct gw_link *eth = find(l, n, "eth0"), *br = find(l, n, "xenbr0");
    assert_non_null(eth);
    assert_non_null(br);
    assert_non_null(find(l, n, "xenapi"));
    assert_true(eth->physical && eth->carrier && eth->full_duplex);
    assert_string_equal(eth->master, "xenbr0");
    assert_int_equal(eth->speed_mbit, 1000);
    assert_string_equal(br->ipv4, "192.0.2.10");
    assert_false(h->ops->bridge_del(h, "eth0", &err));     /* not a bridge */
    xg_err_clear(&err);
    /* the second NIC, bridged, without an address */
    assert_string_equal(find(l, n, "eth1")->master, "xenbr1");
    assert_string_equal(find(l, n, "xenbr1")->ipv4, "");
    common_bridge_rules(h);
    common_link_rules(h, "xenbr1", "eth1", "xenapi");
    xg_arena_free(a);
    h->ops->close(h);
}

/* A veth end enslaved to a bridge that carries an address, made with
 * libnl directly (what an administrator's ip commands would do). */
static void make_port_and_address(const char *bridge)
{
    struct nl_sock *s = nl_socket_alloc();
    assert_int_equal(nl_connect(s, NETLINK_ROUTE), 0);
    assert_int_equal(rtnl_link_veth_add(s, "xgport0", "xgpeer0", getpid()), 0);
    struct rtnl_link *port = NULL, *br = NULL;
    assert_int_equal(rtnl_link_get_kernel(s, 0, "xgport0", &port), 0);
    assert_int_equal(rtnl_link_get_kernel(s, 0, bridge, &br), 0);
    assert_int_equal(rtnl_link_enslave(s, br, port), 0);
    struct rtnl_addr *ad = rtnl_addr_alloc();
    struct nl_addr *local = NULL;
    assert_int_equal(nl_addr_parse("198.51.100.7/24", AF_INET, &local), 0);
    rtnl_addr_set_ifindex(ad, rtnl_link_get_ifindex(br));
    rtnl_addr_set_local(ad, local);
    assert_int_equal(rtnl_addr_add(s, ad, 0), 0);
    nl_addr_put(local);
    rtnl_addr_put(ad);
    rtnl_link_put(port);
    rtnl_link_put(br);
    nl_socket_free(s);
}

static void netlink_host(void **state)
{
    (void)state;
    if (!have_netns)
        skip();
    xg_err err = XG_ERR_INIT;
    struct gw_hostnet *h = gw_hostnet_netlink_open(&err);
    assert_non_null(h);
    xg_arena *a = xg_arena_new(4 << 20);
    struct gw_link *l;
    /* a fresh namespace has only lo, which is not a host NIC */
    assert_int_equal(list(h, a, &l), 0);
    common_bridge_rules(h);

    assert_true(h->ops->bridge_add(h, "xgbr1", 1500, &err));
    make_port_and_address("xgbr1");
    uint32_t n = list(h, a, &l);
    const struct gw_link *port = find(l, n, "xgport0"), *br = find(l, n, "xgbr1");
    assert_non_null(port);
    assert_non_null(br);
    assert_string_equal(port->master, "xgbr1");
    assert_false(port->physical);           /* a veth has no device */
    assert_string_equal(br->ipv4, "198.51.100.7");
    assert_string_equal(br->netmask, "255.255.255.0");
    assert_false(h->ops->bridge_del(h, "xgport0", &err));   /* not a bridge */
    xg_err_clear(&err);
    assert_true(h->ops->bridge_add(h, "xgbr2", 1500, &err));
    common_link_rules(h, "xgbr1", "xgport0", "xgbr2");
    /* the default route through a gateway on the bridge's subnet */
    assert_true(h->ops->link_set(h, "xgbr1", 0, 1, &err));
    assert_true(h->ops->ipv4_set(h, "xgbr1", "198.51.100.7", 24, "198.51.100.1", &err));
    struct nl_sock *s = nl_socket_alloc();
    assert_int_equal(nl_connect(s, NETLINK_ROUTE), 0);
    struct nl_cache *routes = NULL;
    assert_int_equal(rtnl_route_alloc_cache(s, AF_INET, 0, &routes), 0);
    bool found = false;
    for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *r = (struct rtnl_route *)o;
        if (nl_addr_get_prefixlen(rtnl_route_get_dst(r)) == 0 && rtnl_route_get_nnexthops(r) == 1) {
            char gw[64];
            nl_addr2str(rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, 0)), gw, sizeof gw);
            found = strcmp(gw, "198.51.100.1") == 0;
        }
    }
    nl_cache_free(routes);
    nl_socket_free(s);
    assert_true(found);
    assert_true(h->ops->bridge_del(h, "xgbr2", &err));

    /* port filters reach the kernel (the bridge family table) and go again */
    static const char *const allowed[] = {"198.51.100.9"};
    struct gw_port_filter f = {.port = "xgport0", .lock = GW_PORT_LOCKED,
                               .mac = {0x02, 0, 0, 0, 0, 9}, .ipv4 = allowed, .n4 = 1};
    assert_true(h->ops->port_filters(h, &f, 1, &err));
    assert_true(h->ops->port_filters(h, &f, 1, &err));      /* unchanged: not re-applied */
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    assert_int_equal(nft_run_cmd_from_buffer(ctx, "list table bridge xapi_gateway"), 0);
    const char *listed = nft_ctx_get_output_buffer(ctx);
    assert_non_null(strstr(listed, "iifname \"xgport0\" jump port0"));
    assert_non_null(strstr(listed, "ip saddr 198.51.100.9 accept"));
    assert_true(h->ops->port_filters(h, NULL, 0, &err));
    assert_int_not_equal(nft_run_cmd_from_buffer(ctx, "list table bridge xapi_gateway"), 0);
    nft_ctx_free(ctx);
    assert_true(h->ops->bridge_del(h, "xgbr1", &err));
    n = list(h, a, &l);
    assert_string_equal(find(l, n, "xgport0")->master, "");  /* its port fell off */
    xg_arena_free(a);
    h->ops->close(h);
}

int main(void)
{
    have_netns = unshare(CLONE_NEWNET) == 0;
    if (!have_netns)
        fprintf(stderr, "no network namespace (not root?): netlink tests skipped\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nft_ruleset_text),
        cmocka_unit_test(sim_host),
        cmocka_unit_test(netlink_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
