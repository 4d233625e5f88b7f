/* lx_config.h: the PURE translation xg_dom_spec → libxl_domain_config.
 * No ctx, no I/O, no Xen: golden-tested in tests/libxl/. */
#ifndef XG_LX_CONFIG_H
#define XG_LX_CONFIG_H

#include <libxl.h>

#include "../driver.h"

#define LX_MAX_VCPUS 128u
#define LX_MAX_XENSTORE_KEYS 256u
#define LX_MAX_PLATFORM_KEYS 128u
#define LX_MAX_NICS 64u
#define LX_MAX_DISKS 64u

/* out must have been libxl_domain_config_init'ed; the caller disposes it on
 * every path (libxl's rule), also when this fails. Unknown platform keys are
 * ignored; known ones with bad values fail with INTERNAL_ERROR. */
bool lx_config_from_spec(const struct xg_dom_spec *spec, libxl_domain_config *out, xg_err *err);
/* One NIC for a domain of that type; out libxl_device_nic_init'ed, disposed
 * by the caller. PV/PVH: a netfront vif; HVM: an emulated NIC (model) that
 * PV drivers replace with the vif. */
bool lx_nic_from_spec(const struct xg_nic_spec *n, enum xg_dom_type type,
                      libxl_device_nic *out, xg_err *err);
/* One block device; out libxl_device_disk_init'ed, disposed by the caller.
 * qcow2 and empty drives go to qdisk (qemu xen-block: PHY takes raw only),
 * raw images to whatever libxl picks (PHY through the block script). CDs
 * are removable and read-only. */
bool lx_disk_from_spec(const struct xg_disk *d, libxl_device_disk *out, xg_err *err);

#endif
