/* net.h: networks, PIFs and VIFs shared by the network files
 * (net_objects.c, network.c, vif.c, vif_mac.c) and their callers in the VM
 * code. World lock held throughout. */
#ifndef XG_NET_H
#define XG_NET_H

#include "gw.h"
#include "gw_util.h"

#define GW_NETF(F)  (&xapi_class_network.fields[XAPI_NETWORK_F_##F])
#define GW_PIFF(F)  (&xapi_class_pif.fields[XAPI_PIF_F_##F])
#define GW_PIFMF(F) (&xapi_class_pif_metrics.fields[XAPI_PIF_METRICS_F_##F])
#define GW_VIFF(F)  (&xapi_class_vif.fields[XAPI_VIF_F_##F])

/* XAPI's name for the host-internal management bridge and its marker. */
#define GW_INTERNAL_BRIDGE "xenapi"
#define GW_INTERNAL_KEY "is_host_internal_management_network"
#define GW_VIF_DEVICE_MAX 63        /* VIF.device: decimal 0..this */

/* net_objects.c ------------------------------------------------------------ */
/* Opens the host network backend (netlink with libxl, sim with sim) and
 * reflects it: a network per bridge, a PIF (+ PIF_metrics) per NIC, the
 * bridges of managed networks re-made. Start-up, after gw_objects_build. */
bool gw_net_open(xg_err *err);
void gw_net_close(void);
/* Re-reads the host (link state, carrier, addresses); periodic. */
void gw_net_sync(void);
/* The bridge exists now: made for a managed network, else
 * BRIDGE_NOT_AVAILABLE [bridge]. Before a VM start or a hot-plug. */
bool gw_net_bridge_ready(xapi_network *net, xg_err *err);
/* Bridge made / removed on the host by network.create / destroy. */
bool gw_net_bridge_add(const char *name, int64_t mtu, xg_err *err);
bool gw_net_bridge_del(const char *name, xg_err *err);
bool gw_net_bridge_exists(const char *name);
/* PIF.scan: the host re-read now (sync's errors returned). */
bool gw_net_scan(xg_err *err);
/* PIF.plug / unplug on the host: the NIC enslaved to its network's bridge
 * (made if missing) and up, or down; then the records re-read. */
bool gw_net_pif_up(const xapi_pif *pif, const xapi_network *net, xg_err *err);
bool gw_net_pif_down(const xapi_pif *pif, xg_err *err);
/* PIF.reconfigure_ip on the host: the address (ipv4 "" = none) on the
 * network's bridge, or on the NIC when it is not bridged, and the default
 * route through gateway when non-empty; then the records re-read. */
bool gw_net_pif_ipv4(const xapi_pif *pif, const xapi_network *net, const char *ipv4,
                     int prefix, const char *gateway, xg_err *err);
/* network.set_MTU on the host: the bridge and its NICs, when the bridge
 * exists (else it is made with the MTU when first needed). */
bool gw_net_apply_mtu(const xapi_network *net, int64_t mtu, xg_err *err);
/* VIF.move of a plugged VIF: the guest's backend moves to bridge. */
bool gw_net_port_move(const char *port, const char *bridge, xg_err *err);

/* vif_filter.c ----------------------------------------------------------------- */
/* The host's VIF filters (locking_mode) rebuilt from the records. */
bool gw_vif_filters_sync(xg_err *err);
/* The same, failures logged (the records stay as they are). */
void gw_vif_filters_refresh(void);
/* After vm started or stopped: refreshed when it matters. */
void gw_vif_filters_vm_changed(const xapi_vm *vm);
/* net_objects.c: the set handed to the host network backend. */
struct gw_port_filter;
bool gw_net_port_filters(const struct gw_port_filter *f, uint32_t n, xg_err *err);

/* vif_mac.c (pure) ---------------------------------------------------------- */
/* Xapi_vif_helpers.gen_mac: MD5 chained 2*device+1 times over seed. */
void gw_mac_from_seed(const char *seed, int device, char out[18]);
/* Helpers.is_valid_MAC: six two-digit hex groups separated by ':'. */
bool gw_mac_valid(const char *mac);
/* Parses a valid MAC into bytes. */
bool gw_mac_parse(const char *mac, uint8_t out[6]);
/* Decimal VIF device number 0..GW_VIF_DEVICE_MAX, else -1. */
int gw_vif_device_number(const char *device);

/* vif.c ---------------------------------------------------------------------- */
/* The VM's VIFs as driver NICs (bridges made ready) for a start. */
bool gw_vif_build_nics(const xapi_vm *vm, xg_arena *a, struct xg_nic_spec **out,
                       uint32_t *n_out, xg_err *err);
/* All VIFs of vm attached (booted with them) or detached (domain gone). */
void gw_vif_set_attached_all(xapi_vm *vm, bool attached);
/* Re-derives allowed_operations of vm's VIFs after a VM change. */
void gw_vif_update_allowed_for_vm(xapi_vm *vm);
/* Removes vm's VIFs (VM.destroy). */
void gw_vif_destroy_all(xapi_vm *vm);
/* Copies src's VIFs to dst: same MAC (snapshot) or regenerated from dst's
 * mac_seed (clone, copy). */
bool gw_vif_copy_all(const xapi_vm *src, xapi_vm *dst, bool keep_mac, xg_err *err);
/* VM.get_allowed_VIF_devices: "0".."6" not used by a VIF of vm. */
bool gw_vif_allowed_devices(xg_call *c, const xapi_vm *vm, xg_set *out, xg_err *err);
/* A new VIF on vm (VIF.create's rules); result_out its ref. */
bool gw_vif_make(const xapi_vif *args, xg_ref *result_out, xg_err *err);
/* Network of the host's management PIF (sim fixtures put guests on it). */
xapi_network *gw_net_management(void);

#endif
