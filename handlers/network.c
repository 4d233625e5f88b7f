/* network.c: network.create / destroy / set_default_locking_mode / set_MTU
 * as xapi_network.ml does them, with the bridge made and removed on the host
 * (hostnet) for managed networks and its MTU applied. World lock held. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../server/log.h"
#include "hostnet/hostnet.h"
#include "net.h"

#define MTU_MIN 68                  /* IPv4's minimum */
#define MTU_MAX 9216                /* jumbo frames */
#define AUTO_BRIDGES_MAX 1024       /* xapi0 … xapi1023 */
/* Each network is a bridge on the host: bounded, and below GW_LINKS_MAX so
 * that the host's link list always holds our own bridges. */
#define NETWORKS_MAX 192

static bool mtu_ok(int64_t mtu, xg_err *err)
{
    if (mtu >= MTU_MIN && mtu <= MTU_MAX)
        return true;
    char v[24];
    snprintf(v, sizeof v, "%" PRId64, mtu);
    return xapi_err_invalid_value(err, "MTU", v);
}

static bool bridge_taken(const char *name)
{
    uint64_t cur = 0;
    xapi_network *n;
    while ((n = xg_store_next(&xapi_class_network, &cur)) != NULL)
        if (strcmp(n->bridge, name) == 0)
            return true;
    return gw_net_bridge_exists(name);
}

/* XAPI's reserved prefixes: its own bridges and the kernel's/Xen's links. */
static bool bridge_name_allowed(const char *name)
{
    static const char *const reserved[] = {"xen", "xapi", "vif", "tap", "eth"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strncmp(name, reserved[i], strlen(reserved[i])) == 0)
            return false;
    return gw_ifname_ok(name);
}

static bool pick_bridge(char out[GW_IFNAMSIZ], xg_err *err)
{
    for (int i = 0; i < AUTO_BRIDGES_MAX; i++) {
        snprintf(out, GW_IFNAMSIZ, "xapi%d", i);
        if (!bridge_taken(out))
            return true;
    }
    return xg_err_internal(err, "no free bridge name");
}

bool handle_network_create(xg_call *c, const xapi_network *args,
                           xg_ref *result_out, xg_err *err)
{
    (void)c;
    char bridge[GW_IFNAMSIZ];
    if (xg_store_count(&xapi_class_network) >= NETWORKS_MAX)
        return xapi_err_operation_not_allowed(err, "This host has reached its limit of networks");
    if (!args->bridge[0]) {
        if (!pick_bridge(bridge, err))
            return false;
    } else {
        if (!bridge_name_allowed(args->bridge))
            return xapi_err_invalid_value(err, "bridge", args->bridge);
        if (bridge_taken(args->bridge))
            return xapi_err_bridge_name_exists(err, args->bridge);
        snprintf(bridge, sizeof bridge, "%s", args->bridge);
    }
    int64_t mtu = args->mtu <= 0 ? 1500 : args->mtu;
    if (!mtu_ok(mtu, err))
        return false;
    if (args->managed && !gw_net_bridge_add(bridge, mtu, err))
        return false;
    xapi_network *net = xg_obj_new(&xapi_class_network);
    for (uint32_t i = 0; i < xapi_class_network.nfields; i++) {
        const xg_field_desc *f = &xapi_class_network.fields[i];
        if ((f->qual == XG_Q_RW || f->qual == XG_Q_RO_CONSTRUCTOR) &&
            !(f->flags & (XG_F_INTERNAL | XG_F_MAINTAINED)))
            gw_init_field(net, i, (const char *)args + f->offset);
    }
    gw_init_str(net, XAPI_NETWORK_F_UUID, "");
    gw_init_str(net, XAPI_NETWORK_F_BRIDGE, bridge);
    gw_init_field(net, XAPI_NETWORK_F_MTU, &mtu);
    if (!xg_store_add(net, NULL, err)) {
        xg_obj_free(net);
        xg_err ignore = XG_ERR_INIT;
        if (args->managed)
            gw_net_bridge_del(bridge, &ignore);
        return false;
    }
    *result_out = net->obj.ref;
    return true;
}

/* Refs of a ref set as error params (XAPI lists them all; we keep as many
 * as an error holds). */
static bool refs_error(xg_err *err, const char *code, const xg_set *refs,
                       bool (*pick)(const char *ref))
{
    const char *p[XG_ERR_MAX_PARAMS];
    int n = 0;
    for (uint32_t i = 0; i < refs->n && n < XG_ERR_MAX_PARAMS; i++) {
        const char *r = ((xg_ref *)refs->items)[i].s;
        if (!pick || pick(r))
            p[n++] = r;
    }
    return xg_err_setv(err, code, n, p);
}

static bool vif_reserved(const char *ref)
{
    xapi_vif *v = xg_store_get(&xapi_class_vif, ref);
    return v && v->currently_attached;
}

bool handle_network_destroy(xg_call *c, xapi_network *self, xg_err *err)
{
    (void)c;
    xg_set *vifs = &self->vifs;
    for (uint32_t i = 0; i < vifs->n; i++)
        if (vif_reserved(((xg_ref *)vifs->items)[i].s))
            /* the list of attached VIFs: the typed constructor takes one */
            return refs_error(err, XAPI_ERR_NETWORK_CONTAINS_VIF, vifs, vif_reserved);
    if (self->pifs.n)
        return refs_error(err, XAPI_ERR_NETWORK_CONTAINS_PIF, &self->pifs, NULL);
    const char *internal = gw_smap_get(&self->other_config, GW_INTERNAL_KEY);
    if (internal && strcmp(internal, "true") == 0)
        return xapi_err_cannot_destroy_system_network(err, self->obj.ref.s);
    /* unplugged VIFs go with their network */
    while (self->vifs.n) {
        xapi_vif *v = xg_store_get(&xapi_class_vif, ((xg_ref *)self->vifs.items)[0].s);
        if (!v)
            break;
        xapi_vif_metrics *m = xg_store_get(&xapi_class_vif_metrics, v->metrics.s);
        if (m)
            xg_store_remove(m);
        xg_store_remove(v);
    }
    if (self->managed && self->bridge[0] && gw_net_bridge_exists(self->bridge) &&
        !gw_net_bridge_del(self->bridge, err))
        return false;
    xg_store_remove(self);
    return true;
}

bool handle_network_set_default_locking_mode(xg_call *c, xapi_network *network,
                                             int value, xg_err *err)
{
    (void)c;
    gw_set_enum(network, GW_NETF(DEFAULT_LOCKING_MODE), value);
    return gw_vif_filters_sync(err);     /* its VIFs in network_default mode */
}

/* XAPI stores the MTU and applies it when the network's PIFs are next
 * brought up; here the bridge and its NICs take it at once (guests' VIFs
 * take it at their next plug, as in XAPI). */
bool handle_network_set_mtu(xg_call *c, xapi_network *self, int64_t value, xg_err *err)
{
    (void)c;
    if (!mtu_ok(value, err))
        return false;
    if (self->managed && !gw_net_apply_mtu(self, value, err))
        return false;
    gw_set_int(self, GW_NETF(MTU), value);
    return true;
}
