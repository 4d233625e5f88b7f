/* sim_guest.c: the xenstore subtree a guest agent writes under
 * /local/domain/<domid>/, generated on demand from the domain's shape (no
 * storage). Keys follow xe-guest-utilities / xen-guest-agent (data/os_X,
 * attr/os/X, attr/PVAddons/X, attr/vif/N/ipv4/M, data/meminfo_X) and the
 * kernel's control/feature-X nodes. The fixture's hostile guest adds invalid
 * UTF-8, a 100 KB value and 5,000 keys so callers' bounds get exercised; the
 * driver itself only ever returns what fits in len / max. */
#include "sim_internal.h"
#include "sim_fixture.h"
#include "../guest_path.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN XG_GUEST_PATH_MAX
#define HOSTILE_BIG_BYTES (100 * 1024)
#define HOSTILE_MANY 5000u

struct os_text { const char *distro, *name, *uname, *major, *minor; };

static const struct os_text oses[] = {
    { "debian", "Debian GNU/Linux 12 (bookworm)", "6.1.0-28-amd64", "12", "8" },
    { "ubuntu", "Ubuntu 22.04.4 LTS", "5.15.0-107-generic", "22", "04" },
    { "rhel", "Rocky Linux 9.4 (Blue Onyx)", "5.14.0-427.13.1.el9_4.x86_64", "9", "4" },
    { "windows", "Microsoft Windows Server 2022 Standard|C:\\Windows|\\Device\\Harddisk0\\Partition2",
      "10.0.20348", "10", "0" },
    { "alpine", "Alpine Linux v3.20", "6.6.31-0-virt", "3", "20" },
    { "freebsd", "FreeBSD 14.0-RELEASE", "14.0-RELEASE", "14", "0" },
    { "centos", "CentOS Linux 7 (Core)", "3.10.0-1160.el7.x86_64", "7", "9" },
};

static const struct os_text *os_of(const struct sim_dom *s)
{
    for (size_t i = 0; i < sizeof oses / sizeof oses[0]; i++)
        if (strcmp(oses[i].distro, s->distro) == 0)
            return &oses[i];
    return &oses[0];
}

/* The fixed keys in depth-first order (so a directory's children are
 * contiguous, which guest_list relies on to de-duplicate in O(1)). */
enum key {
    K_ATTR_OS_DISTRO, K_ATTR_OS_MAJOR, K_ATTR_OS_MINOR, K_ATTR_OS_NAME, K_ATTR_OS_UNAME,
    K_PV_BUILD, K_PV_INSTALLED, K_PV_MAJOR, K_PV_MICRO, K_PV_MINOR,
    K_VIF_IPV4, K_VIF_IPV6,
    K_FEAT_POWEROFF, K_FEAT_REBOOT, K_FEAT_SUSPEND,
    K_MEM_FREE, K_MEM_TOTAL, K_OS_DISTRO, K_OS_MAJOR, K_OS_MINOR, K_OS_NAME, K_OS_UNAME,
    K_UPDATED,
    K_FIXED
};

static const char *const key_path[K_FIXED] = {
    "attr/os/distro", "attr/os/major", "attr/os/minor", "attr/os/name", "attr/os/uname",
    "attr/PVAddons/BuildVersion", "attr/PVAddons/Installed", "attr/PVAddons/MajorVersion",
    "attr/PVAddons/MicroVersion", "attr/PVAddons/MinorVersion",
    "attr/vif/0/ipv4/0", "attr/vif/0/ipv6/0",
    "control/feature-poweroff", "control/feature-reboot", "control/feature-suspend",
    "data/meminfo_free", "data/meminfo_total", "data/os_distro", "data/os_majorver",
    "data/os_minorver", "data/os_name", "data/os_uname",
    "data/updated",
};

/* Hostile extras, after the fixed keys (data/ comes after data/os_* in
 * order only loosely; they live under data/hostile/ which is its own dir). */
#define K_HOSTILE_BIG K_FIXED
#define K_HOSTILE_MANY (K_FIXED + 1)

static uint32_t nkeys(const struct sim_dom *s)
{
    if (!s->pv_drivers || s->building || s->domid == 0)
        return 0;
    return K_FIXED + (s->hostile ? 1 + HOSTILE_MANY : 0);
}

/* The agent reports addresses only for the NIC the guest has (eth0). */
static bool key_present(const struct sim_dom *s, uint32_t k)
{
    if (k == K_VIF_IPV4 || k == K_VIF_IPV6)
        return (s->nics & 1u) != 0;
    return true;
}

/* CentOS 7 guests run the old xe-guest-utilities, which publish addresses
 * per interface name (attr/eth0/ip) instead of per vif. */
static const char *fixed_path(const struct sim_dom *s, uint32_t k)
{
    if (strcmp(s->distro, "centos") == 0) {
        if (k == K_VIF_IPV4)
            return "attr/eth0/ip";
        if (k == K_VIF_IPV6)
            return "attr/eth0/ipv6/0/addr";
    }
    return key_path[k];
}

static void key_name(const struct sim_dom *s, uint32_t k, char *path, size_t n)
{
    if (k < K_FIXED)
        snprintf(path, n, "%s", fixed_path(s, k));
    else if (k == K_HOSTILE_BIG)
        snprintf(path, n, "data/hostile/big");
    else
        snprintf(path, n, "data/hostile/many/k%05" PRIu32, k - K_HOSTILE_MANY);
}

/* Writes the value of key k, truncated to fit buf (always NUL-terminated). */
static void key_value(const struct sim_dom *s, uint64_t now, uint32_t k, char *buf, size_t len)
{
    const struct os_text *os = os_of(s);
    uint64_t total_kib = s->mem_current / 1024;
    bool win = strcmp(s->distro, "windows") == 0;
    /* Hostile guest: invalid UTF-8 (stray continuation bytes, an overlong
     * "/", a UTF-16 surrogate) and control characters. */
    if (s->hostile && (k == K_OS_NAME || k == K_ATTR_OS_NAME)) {
        snprintf(buf, len, "Debian \xff\xfe GNU\xc0\xaf Linux \xed\xa0\x80\x01\x1b[2J");
        return;
    }
    if (s->hostile && k == K_VIF_IPV4) {
        snprintf(buf, len, "999.1.1.1\x01<script>");
        return;
    }
    switch (k) {
    case K_ATTR_OS_DISTRO: case K_OS_DISTRO: snprintf(buf, len, "%s", os->distro); break;
    case K_ATTR_OS_MAJOR: case K_OS_MAJOR: snprintf(buf, len, "%s", os->major); break;
    case K_ATTR_OS_MINOR: case K_OS_MINOR: snprintf(buf, len, "%s", os->minor); break;
    case K_ATTR_OS_NAME: case K_OS_NAME: snprintf(buf, len, "%s", os->name); break;
    case K_ATTR_OS_UNAME: case K_OS_UNAME: snprintf(buf, len, "%s", os->uname); break;
    case K_PV_BUILD: snprintf(buf, len, "%s", win ? "137" : "1"); break;
    case K_PV_INSTALLED: snprintf(buf, len, "1"); break;
    case K_PV_MAJOR: snprintf(buf, len, "%s", win ? "9" : "8"); break;
    case K_PV_MICRO: snprintf(buf, len, "0"); break;
    case K_PV_MINOR: snprintf(buf, len, "%s", win ? "4" : "4"); break;
    case K_VIF_IPV4:
        snprintf(buf, len, "10.%u.%u.%u", (unsigned)(s->seed >> 8) % 200 + 1,
                 (unsigned)(s->domid >> 8) & 0xff, (unsigned)s->domid & 0xff);
        break;
    case K_VIF_IPV6:
        snprintf(buf, len, "fe80::216:3eff:fe%02x:%02x%02x", (unsigned)(s->seed & 0xff),
                 (unsigned)(s->domid >> 8) & 0xff, (unsigned)s->domid & 0xff);
        break;
    case K_FEAT_POWEROFF: case K_FEAT_REBOOT: case K_FEAT_SUSPEND:
        snprintf(buf, len, "1");
        break;
    case K_MEM_TOTAL: snprintf(buf, len, "%" PRIu64, total_kib); break;
    case K_MEM_FREE: {
        /* 20%..60% free, drifting with the guest's activity. */
        double w = sim_work(s->seed ^ 0x667265ull, (double)now / 1e9);
        uint64_t pct = 20 + (uint64_t)(w * 100.0) % 41;
        snprintf(buf, len, "%" PRIu64, total_kib * pct / 100);
        break;
    }
    case K_UPDATED: snprintf(buf, len, "1"); break;
    default:
        if (k == K_HOSTILE_BIG) {
            size_t n = len - 1 < HOSTILE_BIG_BYTES ? len - 1 : HOSTILE_BIG_BYTES;
            memset(buf, 'A', n);
            buf[n] = '\0';
        } else {
            snprintf(buf, len, "v%05" PRIu32, k - K_HOSTILE_MANY);
        }
    }
}

/* Index of the key with exactly this path, or UINT32_MAX. */
static uint32_t find_key(const struct sim_dom *s, const char *path)
{
    uint32_t n = nkeys(s);
    if (n == 0)
        return UINT32_MAX;
    for (uint32_t k = 0; k < K_FIXED; k++)
        if (strcmp(fixed_path(s, k), path) == 0)
            return k;
    if (!s->hostile)
        return UINT32_MAX;
    if (strcmp(path, "data/hostile/big") == 0)
        return K_HOSTILE_BIG;
    unsigned idx;
    char tail;
    if (sscanf(path, "data/hostile/many/k%5u%c", &idx, &tail) == 1 && idx < HOSTILE_MANY &&
        strlen(path) == strlen("data/hostile/many/k00000"))
        return K_HOSTILE_MANY + idx;
    return UINT32_MAX;
}

bool sim_guest_read(struct xg_drv *d, uint32_t domid, const char *path,
                    char *buf, size_t len, xg_err *err)
{
    if (len == 0)
        return xg_err_internal(err, "guest_read: empty buffer");
    if (!xg_guest_path_ok(path, false, err))
        return false;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (s) {
        uint32_t k = find_key(s, path);
        buf[0] = '\0';              /* absent reads as empty, see driver.h */
        if (k != UINT32_MAX && key_present(s, k))
            key_value(s, sim_now_ns(), k, buf, len);
    }
    pthread_mutex_unlock(&d->lock);
    return s != NULL;
}

bool sim_guest_list(struct xg_drv *d, uint32_t domid, const char *path, xg_arena *a,
                    char ***names_out, uint32_t *n_out, uint32_t max, xg_err *err)
{
    if (!xg_guest_path_ok(path, true, err))
        return false;
    bool ok = false;
    size_t plen = strlen(path);
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (!s)
        goto out;
    uint32_t n = nkeys(s), cnt = 0;
    char **names = xg_arena_alloc(a, (size_t)(max ? max : 1) * sizeof *names);
    if (!names) {
        xg_err_internal(err, "guest_list: arena exhausted");
        goto out;
    }
    char full[PATH_MAX_LEN + 32];
    const char *last = NULL;
    size_t last_len = 0;
    for (uint32_t k = 0; k < n && cnt < max; k++) {
        if (!key_present(s, k))
            continue;
        key_name(s, k, full, sizeof full);
        const char *rest = full;
        if (plen) {
            if (strncmp(full, path, plen) != 0 || full[plen] != '/')
                continue;
            rest = full + plen + 1;
        }
        size_t clen = strcspn(rest, "/");
        if (last && clen == last_len && memcmp(last, rest, clen) == 0)
            continue;
        char *c = xg_arena_strndup(a, rest, clen);
        if (!c) {
            xg_err_internal(err, "guest_list: arena exhausted");
            goto out;
        }
        names[cnt++] = c;
        last = c;
        last_len = clen;
    }
    *names_out = names;
    *n_out = cnt;
    ok = true;
out:
    pthread_mutex_unlock(&d->lock);
    return ok;
}
