/* vm_guest.c: VM_guest_metrics from what a running guest's agent writes to
 * xenstore (attr/os, attr/PVAddons, attr/vif, data/meminfo_*, data/os_*,
 * control/feature-*), mapped as xapi_guest_agent.ml does.
 *
 * Guest data is hostile: every value is read into a bounded buffer
 * (XG_GUEST_KEY_BYTES), control bytes are dropped and invalid UTF-8 is
 * replaced, directory names used in keys must be small decimal numbers, and
 * each map holds at most XG_GUEST_KEYS_MAX keys. World lock held; only short
 * driver reads. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../server/limits.h"
#include "../server/log.h"
#include "../server/utf8.h"
#include "gw_util.h"
#include "vm_internal.h"

#define GUEST_ARENA_BYTES (512 * 1024)
#define MAX_VIFS 16                 /* XAPI's allowed VIF device numbers */
#define MAX_ADDRS 16                /* addresses per family per VIF */

struct kvs {
    char *keys[XG_GUEST_KEYS_MAX];
    char *vals[XG_GUEST_KEYS_MAX];
    uint32_t n;
};

struct guest {
    uint32_t domid;
    xg_arena *a;
    bool any;                       /* the guest wrote something we map */
};

/* Copies src (NUL-terminated, at most XG_GUEST_KEY_BYTES) into the arena
 * as valid UTF-8 without control characters. */
static char *clean(xg_arena *a, const char *src)
{
    size_t n = strnlen(src, XG_GUEST_KEY_BYTES);
    char *out = xg_arena_alloc(a, n * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)src;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            if (p[i] >= 0x20 && p[i] != 0x7f)
                out[o++] = (char)p[i];
            i++;
            continue;
        }
        size_t len = xg_utf8_seq(p + i, n - i);
        if (len == 0) {
            memcpy(out + o, XG_UTF8_REPLACEMENT, 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        }
    }
    out[o] = 0;
    return out;
}

/* Reads one guest value; NULL when absent, empty or unreadable (drivers
 * read an absent key as "", and a guest without an agent has none: it
 * must not look like one with empty version strings). */
static char *read_val(struct guest *g, const char *path)
{
    char buf[XG_GUEST_KEY_BYTES + 1];
    xg_err err = XG_ERR_INIT;
    buf[0] = 0;
    if (!gw_drv->guest_read(gw_d, g->domid, path, buf, sizeof buf - 1, &err) || !buf[0])
        return NULL;
    buf[sizeof buf - 1] = 0;
    return clean(g->a, buf);
}

static void put(struct kvs *m, xg_arena *a, const char *key, const char *val)
{
    if (!val || m->n >= XG_GUEST_KEYS_MAX)
        return;
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return;                 /* first source wins */
    char *k = xg_arena_strdup(a, key);
    char *v = xg_arena_strdup(a, val);
    if (!k || !v)
        return;
    m->keys[m->n] = k;
    m->vals[m->n] = v;
    m->n++;
}

static void map_from(struct guest *g, struct kvs *m, const char *const *pairs,
                     size_t npairs)
{
    for (size_t i = 0; i + 1 < npairs; i += 2) {
        char *v = read_val(g, pairs[i]);
        if (v) {
            put(m, g->a, pairs[i + 1], v);
            g->any = true;
        }
    }
}

/* A directory name from the guest that we put into a key: decimal only. */
static bool small_number(const char *s)
{
    size_t n = strnlen(s, 8);
    if (n == 0 || n > 4)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static uint32_t list(struct guest *g, const char *path, char ***names,
                     uint32_t max)
{
    uint32_t n = 0;
    xg_err err = XG_ERR_INIT;
    *names = NULL;
    if (!gw_drv->guest_list(gw_d, g->domid, path, g->a, names, &n, max, &err))
        return 0;
    return n < max ? n : max;
}

/* The older layout (xe-guest-utilities): attr/eth<N>/ip → "<N>/ip" and
 * "<N>/ipv4/0", attr/eth<N>/ipv6/<i>/addr → "<N>/ipv6/<i>"; interface
 * names with XAPI's prefixes (eth, xenbr, eno, ens, emp, enx). */
static void networks_by_ifname(struct guest *g, struct kvs *m)
{
    static const char *const prefixes[] = {"eth", "xenbr", "eno", "ens", "emp", "enx"};
    char **ifs;
    uint32_t ni = list(g, "attr", &ifs, XG_GUEST_KEYS_MAX);
    for (uint32_t i = 0; i < ni; i++) {
        const char *n = NULL;
        for (size_t p = 0; !n && p < sizeof prefixes / sizeof prefixes[0]; p++)
            if (strncmp(ifs[i], prefixes[p], strlen(prefixes[p])) == 0)
                n = ifs[i] + strlen(prefixes[p]);
        if (!n || !small_number(n))
            continue;
        char path[96], key[64];
        snprintf(path, sizeof path, "attr/%s/ip", ifs[i]);
        char *v = read_val(g, path);
        if (v && v[0]) {
            g->any = true;
            snprintf(key, sizeof key, "%s/ip", n);
            put(m, g->a, key, v);
            snprintf(key, sizeof key, "%s/ipv4/0", n);
            put(m, g->a, key, v);
        }
        snprintf(path, sizeof path, "attr/%s/ipv6", ifs[i]);
        char **idx;
        uint32_t nx = list(g, path, &idx, MAX_ADDRS);
        for (uint32_t k = 0; k < nx; k++) {
            if (!small_number(idx[k]))
                continue;
            char vpath[128];
            snprintf(vpath, sizeof vpath, "%s/%s/addr", path, idx[k]);
            if (!(v = read_val(g, vpath)) || !v[0])
                continue;
            g->any = true;
            snprintf(key, sizeof key, "%s/ipv6/%s", n, idx[k]);
            put(m, g->a, key, v);
        }
    }
}

/* attr/vif/<dev>/ipv4/<i> → "<dev>/ipv4/<i>" (and "<dev>/ip" for the first
 * IPv4 address), likewise ipv6; XO reads "0/ip" and "0/ipv4/0". A guest
 * without attr/vif is read in the older layout, as xapi_guest_agent.ml
 * does. */
static void networks(struct guest *g, struct kvs *m)
{
    char **devs;
    uint32_t nd = list(g, "attr/vif", &devs, MAX_VIFS);
    if (nd == 0)
        networks_by_ifname(g, m);
    for (uint32_t d = 0; d < nd; d++) {
        if (!small_number(devs[d]))
            continue;
        static const char *const fam[] = {"ipv4", "ipv6"};
        for (int f = 0; f < 2; f++) {
            char path[96], key[64];
            snprintf(path, sizeof path, "attr/vif/%s/%s", devs[d], fam[f]);
            char **idx;
            uint32_t ni = list(g, path, &idx, MAX_ADDRS);
            for (uint32_t i = 0; i < ni; i++) {
                if (!small_number(idx[i]))
                    continue;
                char vpath[128];
                snprintf(vpath, sizeof vpath, "%s/%s", path, idx[i]);
                char *v = read_val(g, vpath);
                if (!v)
                    continue;
                g->any = true;
                snprintf(key, sizeof key, "%s/%s/%s", devs[d], fam[f], idx[i]);
                put(m, g->a, key, v);
                if (f == 0 && strcmp(idx[i], "0") == 0) {
                    snprintf(key, sizeof key, "%s/ip", devs[d]);
                    put(m, g->a, key, v);
                }
            }
        }
    }
}

/* control/feature-* → other["feature-*"] (what check_op_for_feature reads). */
static void features(struct guest *g, struct kvs *m)
{
    char **names;
    uint32_t n = list(g, "control", &names, XG_GUEST_KEYS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        if (strncmp(names[i], "feature-", 8) != 0 || strlen(names[i]) > 64)
            continue;
        char path[96];
        snprintf(path, sizeof path, "control/%s", names[i]);
        char *v = read_val(g, path);
        char *k = clean(g->a, names[i]);
        if (v && k)
            put(m, g->a, k, v);
    }
}

static bool map_equal(const xg_map *cur, const struct kvs *m)
{
    if (cur->n != m->n)
        return false;
    for (uint32_t i = 0; i < m->n; i++) {
        const char *v = gw_smap_get(cur, m->keys[i]);
        if (!v || strcmp(v, m->vals[i]) != 0)
            return false;
    }
    return true;
}

/* Sets the map if it differs; returns whether it did. */
static bool update_map(void *gm, const xg_field_desc *f, const xg_map *cur,
                       struct kvs *m)
{
    if (map_equal(cur, m))
        return false;
    xg_map v = {m->keys, m->vals, m->n, m->n};
    xg_store_set(gm, f, &v);
    return true;
}

static xapi_vm_guest_metrics *ensure_gm(xapi_vm *vm)
{
    xapi_vm_guest_metrics *gm =
        xg_store_get(&xapi_class_vm_guest_metrics, vm->guest_metrics.s);
    if (gm)
        return gm;
    xg_err err = XG_ERR_INIT;
    gm = xg_obj_new(&xapi_class_vm_guest_metrics);
    if (!xg_store_add(gm, NULL, &err)) {
        XG_WARN("vm", "VM %s: guest metrics: %s", vm->uuid, err.code);
        xg_obj_free(gm);
        return NULL;
    }
    gw_set_ref(vm, GW_VMF(GUEST_METRICS), gm->obj.ref.s);
    return gm;
}

void gw_vm_refresh_guest_metrics(xapi_vm *vm)
{
    static const char *const os_pairs[] = {
        "attr/os/name", "name", "attr/os/uname", "uname",
        "attr/os/distro", "distro", "attr/os/major", "major",
        "attr/os/minor", "minor", "attr/os/spmajor", "spmajor",
        "attr/os/spminor", "spminor",
        "data/os_name", "name", "data/os_uname", "uname",
        "data/os_distro", "distro", "data/os_majorver", "major",
        "data/os_minorver", "minor",
    };
    static const char *const pv_pairs[] = {
        "attr/PVAddons/MajorVersion", "major",
        "attr/PVAddons/MinorVersion", "minor",
        "attr/PVAddons/MicroVersion", "micro",
        "attr/PVAddons/BuildVersion", "build",
    };
    static const char *const mem_pairs[] = {
        "data/meminfo_total", "total", "data/meminfo_free", "free",
    };
    if (vm->power_state != XAPI_VM_POWER_STATE_RUNNING || vm->domid <= 0 ||
        vm->is_control_domain || !gw_drv->guest_read || !gw_drv->guest_list)
        return;

    struct guest g = {(uint32_t)vm->domid, xg_arena_new(GUEST_ARENA_BYTES),
                      false};
    if (!g.a)
        return;
    static struct kvs os, pv, mem, net, other;   /* world lock: one at a time */
    os.n = pv.n = mem.n = net.n = other.n = 0;
    map_from(&g, &os, os_pairs, sizeof os_pairs / sizeof os_pairs[0]);
    map_from(&g, &pv, pv_pairs, sizeof pv_pairs / sizeof pv_pairs[0]);
    map_from(&g, &mem, mem_pairs, sizeof mem_pairs / sizeof mem_pairs[0]);
    networks(&g, &net);
    features(&g, &other);

    if (!g.any) {
        /* No agent: XAPI has no guest metrics for such a guest. */
        xg_arena_free(g.a);
        return;
    }
    xapi_vm_guest_metrics *gm = ensure_gm(vm);
    if (!gm) {
        xg_arena_free(g.a);
        return;
    }
    bool changed = false;
    changed |= update_map(gm, GW_VGMF(OS_VERSION), &gm->os_version, &os);
    changed |= update_map(gm, GW_VGMF(PV_DRIVERS_VERSION),
                          &gm->pv_drivers_version, &pv);
    changed |= update_map(gm, GW_VGMF(MEMORY), &gm->memory, &mem);
    changed |= update_map(gm, GW_VGMF(NETWORKS), &gm->networks, &net);
    changed |= update_map(gm, GW_VGMF(OTHER), &gm->other, &other);
    bool drivers = pv.n > 0 && gw_smap_get(&gm->pv_drivers_version, "major");
    int hotplug = drivers ? XAPI_TRISTATE_TYPE_YES
                          : XAPI_TRISTATE_TYPE_UNSPECIFIED;
    gw_set_bool(gm, GW_VGMF(PV_DRIVERS_DETECTED), drivers);
    /* deprecated: XAPI reports it equal to PV_drivers_detected */
    gw_set_bool(gm, GW_VGMF(PV_DRIVERS_UP_TO_DATE), drivers);
    gw_set_enum(gm, GW_VGMF(CAN_USE_HOTPLUG_VBD), hotplug);
    gw_set_enum(gm, GW_VGMF(CAN_USE_HOTPLUG_VIF), hotplug);
    gw_set_bool(gm, GW_VGMF(LIVE), true);
    /* Only a real change moves last_updated, so idle guests make no
     * events. */
    if (changed || gm->last_updated == 0)
        gw_set_time(gm, GW_VGMF(LAST_UPDATED), (int64_t)time(NULL));
    xg_arena_free(g.a);
}
