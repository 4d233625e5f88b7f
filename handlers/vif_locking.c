/* vif_locking.c: VIF.set_locking_mode and the ipv4_allowed / ipv6_allowed
 * setters with xapi_vif.ml's checks: an allowed entry is an address or a
 * CIDR of the right family (Helpers.assert_is_valid_ip_addr), a set is
 * de-duplicated (Listext.setify). As XAPI's change_locking_config, each
 * change is stored, then the host's filters are refreshed (vif_filter.c).
 * World lock held. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define ALLOWED_MAX 64              /* addresses per family and VIF */

/* Ipaddr's Prefix.of_string: ADDR/BITS with BITS in the family's range. */
static bool is_cidr(int family, const char *text)
{
    const char *slash = strchr(text, '/');
    char addr[INET6_ADDRSTRLEN + 1];
    size_t n = slash ? (size_t)(slash - text) : 0;
    if (!slash || n == 0 || n >= sizeof addr || !slash[1])
        return false;
    memcpy(addr, text, n);
    addr[n] = 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    unsigned char buf[sizeof(struct in6_addr)];
    return !*end && slash[1] >= '0' && slash[1] <= '9' && bits >= 0 &&
           bits <= (family == AF_INET ? 32 : 128) && inet_pton(family, addr, buf) == 1;
}

static bool allowed_ok(int family, const char *field, const char *value, xg_err *err)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(family, value, buf) == 1 || is_cidr(family, value))
        return true;
    return xapi_err_invalid_ip_address_specified(err, field);
}

/* Xapi_vif.refresh_filtering_rules: only an attached VIF has filters. */
static bool refilter(const xapi_vif *v, xg_err *err)
{
    return !v->currently_attached || gw_vif_filters_sync(err);
}

static bool set_allowed(xg_call *c, xapi_vif *self, int family, const xg_field_desc *f,
                        const xg_set *value, xg_err *err)
{
    const char *field = f->name;
    char **in = value->items, **out = xg_arena_alloc(c->arena, (value->n + 1) * sizeof *out);
    if (!out)
        return xg_err_internal(err, "out of call memory");
    uint32_t n = 0;
    for (uint32_t i = 0; i < value->n; i++) {
        bool dup = false;
        for (uint32_t j = 0; j < n && !dup; j++)
            dup = strcmp(out[j], in[i]) == 0;
        if (!dup)
            out[n++] = in[i];
    }
    if (n > ALLOWED_MAX)
        return xapi_err_invalid_value(err, field, "too many addresses");
    for (uint32_t i = 0; i < n; i++)
        if (!allowed_ok(family, field, out[i], err))
            return false;
    xg_set s = {out, n, n};
    xg_store_set(self, f, &s);
    return refilter(self, err);
}

static bool add_allowed(xapi_vif *self, int family, const xg_field_desc *f, const char *value,
                        xg_err *err)
{
    if (!allowed_ok(family, f->name, value, err))
        return false;
    const xg_set *cur = (const xg_set *)((const char *)self + f->offset);
    if (cur->n >= ALLOWED_MAX)
        return xapi_err_invalid_value(err, f->name, "too many addresses");
    xg_store_set_add(self, f, &value);
    return refilter(self, err);
}

bool handle_vif_set_locking_mode(xg_call *c, xapi_vif *self, int value, xg_err *err)
{
    (void)c;
    gw_set_enum(self, GW_VIFF(LOCKING_MODE), value);
    return refilter(self, err);
}

bool handle_vif_set_ipv4_allowed(xg_call *c, xapi_vif *self, const xg_set *value, xg_err *err)
{
    return set_allowed(c, self, AF_INET, GW_VIFF(IPV4_ALLOWED), value, err);
}

bool handle_vif_set_ipv6_allowed(xg_call *c, xapi_vif *self, const xg_set *value, xg_err *err)
{
    return set_allowed(c, self, AF_INET6, GW_VIFF(IPV6_ALLOWED), value, err);
}

bool handle_vif_add_ipv4_allowed(xg_call *c, xapi_vif *self, const char *value, xg_err *err)
{
    (void)c;
    return add_allowed(self, AF_INET, GW_VIFF(IPV4_ALLOWED), value, err);
}

bool handle_vif_add_ipv6_allowed(xg_call *c, xapi_vif *self, const char *value, xg_err *err)
{
    (void)c;
    return add_allowed(self, AF_INET6, GW_VIFF(IPV6_ALLOWED), value, err);
}

bool handle_vif_remove_ipv4_allowed(xg_call *c, xapi_vif *self, const char *value, xg_err *err)
{
    (void)c;
    xg_store_set_remove(self, GW_VIFF(IPV4_ALLOWED), &value);
    return refilter(self, err);
}

bool handle_vif_remove_ipv6_allowed(xg_call *c, xapi_vif *self, const char *value, xg_err *err)
{
    (void)c;
    xg_store_set_remove(self, GW_VIFF(IPV6_ALLOWED), &value);
    return refilter(self, err);
}
