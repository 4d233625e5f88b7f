/* nft_rules.c: guest port filters as nftables text, one transaction that
 * replaces the table bridge xapi_gateway (so a half-applied ruleset never
 * exists). The rules are those of XAPI's setup-vif-rules for a Linux bridge
 * (ebtables there): from a locked port, a frame whose source MAC is not the
 * VIF's is dropped; DHCP requests pass; ARP requests and replies and IPv4
 * pass only from an allowed address (a reply also only with the VIF's MAC);
 * everything else is dropped. XAPI lets all IPv6 through on a bridge; here,
 * as with its Open vSwitch rules, IPv6 passes only from an allowed address,
 * plus neighbour discovery. A disabled port gets nothing in or out (XAPI
 * takes it off the bridge). Matching is on the ingress port in the bridge
 * family's prerouting hook, which sees frames for dom0 and for other ports. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostnet.h"

#define TABLE "bridge xapi_gateway"

/* "ADDR" or "ADDR/BITS" of family, re-written canonically into out. */
static bool canonical(int family, const char *in, char *out, size_t len)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(in, '/');
    size_t n = slash ? (size_t)(slash - in) : strlen(in);
    if (n == 0 || n >= sizeof addr)
        return false;
    memcpy(addr, in, n);
    addr[n] = 0;
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(family, addr, bin) != 1 || !inet_ntop(family, bin, addr, sizeof addr))
        return false;
    if (!slash)
        return snprintf(out, len, "%s", addr) < (int)len;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (slash[1] < '0' || slash[1] > '9' || *end || bits < 0 ||
        bits > (family == AF_INET ? 32 : 128))
        return false;
    return snprintf(out, len, "%s/%ld", addr, bits) < (int)len;
}

#define SET_MAX 64                  /* addresses per family and port */
#define SET_TEXT (SET_MAX * (INET6_ADDRSTRLEN + 6) + 8)

/* "{ a, b }" of the valid entries (at most SET_MAX) into out; false when
 * none is valid. */
static bool addr_set(int family, const char *const *v, uint32_t n, char *out, size_t len)
{
    size_t used = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n && k < SET_MAX; i++) {
        char c[INET6_ADDRSTRLEN + 8];
        if (!canonical(family, v[i], c, sizeof c))
            continue;
        used += (size_t)snprintf(out + used, len - used, "%s%s", k ? ", " : "{ ", c);
        k++;
    }
    if (k)
        snprintf(out + used, len - used, " }");
    return k > 0;
}

static void ports(FILE *m, const struct gw_port_filter *f)
{
    fprintf(m, "{ \"%s\"", f->port);
    if (f->tap[0])
        fprintf(m, ", \"%s\"", f->tap);
    fputs(" }", m);
}

/* With no allowed address of a family, nothing of it is accepted: the
 * chain's last rule drops it. */
static void locked(FILE *m, const struct gw_port_filter *f, uint32_t i)
{
    char mac[18], set[SET_TEXT];
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", f->mac[0], f->mac[1],
             f->mac[2], f->mac[3], f->mac[4], f->mac[5]);
    fprintf(m, "add rule " TABLE " port%u ether saddr != %s drop\n", i, mac);
    fprintf(m, "add rule " TABLE " port%u ip protocol udp udp sport 68 udp dport 67 accept\n", i);
    if (addr_set(AF_INET, f->ipv4, f->n4, set, sizeof set)) {
        fprintf(m, "add rule " TABLE " port%u arp operation request arp saddr ip %s accept\n",
                i, set);
        fprintf(m, "add rule " TABLE " port%u arp operation reply arp saddr ether %s "
                   "arp saddr ip %s accept\n", i, mac, set);
        fprintf(m, "add rule " TABLE " port%u ip saddr %s accept\n", i, set);
    }
    if (addr_set(AF_INET6, f->ipv6, f->n6, set, sizeof set)) {
        fprintf(m, "add rule " TABLE " port%u ip6 saddr %s accept\n", i, set);
        fprintf(m, "add rule " TABLE " port%u icmpv6 type { nd-router-solicit, "
                   "nd-neighbor-solicit, nd-neighbor-advert } accept\n", i);
    }
    fprintf(m, "add rule " TABLE " port%u drop\n", i);
}

char *gw_nft_ruleset(const struct gw_port_filter *f, uint32_t n)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    if (!m)
        return NULL;
    /* "add" first so that "delete" never fails on a missing table */
    fputs("add table " TABLE "\ndelete table " TABLE "\n", m);
    if (n) {
        fputs("add table " TABLE "\n", m);
        static const char *const hooks[] = {"prerouting", "forward", "output"};
        for (int k = 0; k < 3; k++)
            fprintf(m, "add chain " TABLE " %s { type filter hook %s priority -200 ; "
                       "policy accept ; }\n", hooks[k], hooks[k]);
    }
    for (uint32_t i = 0; i < n; i++) {
        fprintf(m, "add chain " TABLE " port%u\n", i);
        fputs("add rule " TABLE " prerouting iifname ", m);
        ports(m, &f[i]);
        fprintf(m, " jump port%u\n", i);
        if (f[i].lock == GW_PORT_LOCKED) {
            locked(m, &f[i], i);
            continue;
        }
        fprintf(m, "add rule " TABLE " port%u drop\n", i);
        for (int k = 0; k < 2; k++) {
            fprintf(m, "add rule " TABLE " %s oifname ", k ? "output" : "forward");
            ports(m, &f[i]);
            fputs(" drop\n", m);
        }
    }
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
