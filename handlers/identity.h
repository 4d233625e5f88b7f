/* identity.h: what platform the host says it is. The API level we serve is
 * XCP-ng 8.3's, and clients branch on the brand and versions (Xen
 * Orchestra has ~20 product_brand === 'XCP-ng' checks), so the host reports
 * itself as XCP-ng 8.3 by default, keeps the gateway's own name and version
 * in keys of its own, and licenses every feature as XCP-ng does. */
#ifndef GW_IDENTITY_H
#define GW_IDENTITY_H

#include "xapi_types.h"

struct xg_host_info;

/* From the configuration (product-brand, product-version, build-number). */
void gw_identity_configure(const char *brand, const char *version, const char *build);
/* host.software_version, license_params, edition(s); pool.restrictions. */
void gw_identity_apply_host(xapi_host *h, const struct xg_host_info *hi, const char *driver);
void gw_identity_apply_pool(xapi_pool *p);

#endif
