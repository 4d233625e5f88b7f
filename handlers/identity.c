/* identity.c: the platform identity of the host (see identity.h). */
#include "identity.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "gw.h"
#include "gw_util.h"

#ifndef XG_VERSION               /* set by CMake from the project version */
#define XG_VERSION "0"
#endif

static char brand[64] = "XCP-ng";
static char version[32] = "8.3.0";
static char build[64] = "8.3.0";

void gw_identity_configure(const char *b, const char *v, const char *n)
{
    if (b && *b)
        snprintf(brand, sizeof(brand), "%s", b);
    if (v && *v)
        snprintf(version, sizeof(version), "%s", v);
    if (n && *n)
        snprintf(build, sizeof(build), "%s", n);
}

/* The feature switches of XAPI's licensing (ocaml/xapi-types/features.ml),
 * as an XCP-ng host sets them: every feature available. All are negative
 * ("restrict_…" false) but enable_xha; restrict_vtpm is XCP-ng's own. */
static const char *const restrict_keys[] = {
    "restrict_vlan", "restrict_qos", "restrict_pool_attached_storage", "restrict_netapp",
    "restrict_equalogic", "restrict_pooling", "restrict_marathon", "restrict_email_alerting",
    "restrict_historical_performance", "restrict_wlb", "restrict_rbac", "restrict_dmc",
    "restrict_checkpoint", "restrict_cpu_masking", "restrict_connection", "platform_filter",
    "regular_nag_dialog", "restrict_vmpr", "restrict_vmss", "restrict_intellicache",
    "restrict_gpu", "restrict_dr", "restrict_vif_locking", "restrict_storage_xen_motion",
    "restrict_vgpu", "restrict_integrated_gpu_passthrough", "restrict_vss",
    "restrict_guest_agent_auto_update", "restrict_pci_device_for_auto_update",
    "restrict_xen_motion", "restrict_guest_ip_setting", "restrict_ad", "restrict_nested_virt",
    "restrict_live_patching", "restrict_set_vcpus_number_live", "restrict_pvs_proxy",
    "restrict_igmp_snooping", "restrict_rpu", "restrict_pool_size", "restrict_cbt",
    "restrict_usb_passthrough", "restrict_network_sriov", "restrict_corosync",
    "restrict_zstd_export", "restrict_pool_secret_rotation", "restrict_vtpm",
};
#define NRESTRICT (sizeof(restrict_keys) / sizeof(restrict_keys[0]))
#define MAX_KV (NRESTRICT + 8)

struct kv { const char *k[MAX_KV], *v[MAX_KV]; uint32_t n; };

static void put(struct kv *m, const char *k, const char *v)
{
    if (!v || !*v || m->n == MAX_KV)
        return;                      /* XAPI drops empty values */
    m->k[m->n] = k;
    m->v[m->n] = v;
    m->n++;
}

static void put_features(struct kv *m)
{
    for (size_t i = 0; i < NRESTRICT; i++)
        put(m, restrict_keys[i], "false");
    put(m, "enable_xha", "true");
}

void gw_identity_apply_host(xapi_host *h, const struct xg_host_info *hi, const char *driver)
{
    struct utsname u;
    uname(&u);
    char short_text[32];
    /* "8.3.0" → "8.3" */
    snprintf(short_text, sizeof(short_text), "%s", version);
    char *dot = strchr(short_text, '.');
    if (dot && (dot = strchr(dot + 1, '.')) != NULL)
        *dot = '\0';
    struct kv m = { .n = 0 };
    put(&m, "product_version", version);
    put(&m, "product_version_text", short_text);
    put(&m, "product_version_text_short", short_text);
    put(&m, "platform_name", "XCP");
    put(&m, "platform_version", "3.4.0");     /* XCP-ng 8.3's platform level */
    put(&m, "product_brand", brand);
    put(&m, "build_number", build);
    put(&m, "git_id", "0");
    put(&m, "xapi", "25.33");
    put(&m, "xapi_build", "25.33.1");
    put(&m, "hostname", hi->hostname);
    put(&m, "xen", hi->xen_version);
    put(&m, "linux", hi->linux_release[0] ? hi->linux_release : u.release);
    put(&m, "xencenter_min", "2.21");
    put(&m, "xencenter_max", "2.21");
    put(&m, "network_backend", "bridge");
    put(&m, "db_schema", "5.780");
    /* the gateway itself, in keys no XAPI client reads as the product */
    put(&m, "gateway", "xapi-gateway");
    put(&m, "gateway_version", XG_VERSION);
    put(&m, "driver", driver);
    gw_set_strmap(h, GW_F(h, XAPI_HOST_F_SOFTWARE_VERSION), m.k, m.v, m.n);

    struct kv l = { .n = 0 };
    put_features(&l);
    put(&l, "sku_type", "xcp-ng");
    put(&l, "sku_marketing_name", brand);
    put(&l, "expiry", "30000101T00:00:00Z");
    gw_set_strmap(h, GW_F(h, XAPI_HOST_F_LICENSE_PARAMS), l.k, l.v, l.n);
    if (!h->edition || strcmp(h->edition, "xcp-ng") != 0)
        xapi_host_set_edition(h, "xcp-ng");
}

void gw_identity_apply_pool(xapi_pool *p)
{
    struct kv r = { .n = 0 };
    put_features(&r);
    gw_set_strmap(p, GW_F(p, XAPI_POOL_F_RESTRICTIONS), r.k, r.v, r.n);
}
