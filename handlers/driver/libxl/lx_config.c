/* lx_config.c: xg_dom_spec → libxl_domain_config, PURE: no ctx, no I/O, no
 * hypervisor; everything it allocates belongs to the config and is freed by
 * libxl_domain_config_dispose (libxl frees with free(), so we use malloc).
 * Golden-tested in tests/libxl/. */
#include "lx_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../guest_path.h"
#include "../../../server/limits.h"
#include "../../../server/log.h"

static char *dup_or_die(const char *s)
{
    char *r = strdup(s);
    if (!r)
        abort();                    /* real OOM aborts, as everywhere */
    return r;
}

static const char *platform_get(const struct xg_dom_spec *s, const char *key)
{
    for (uint32_t i = 0; i < s->nplatform; i++)
        if (s->platform[i].key && strcmp(s->platform[i].key, key) == 0)
            return s->platform[i].val;
    return NULL;
}

/* XAPI platform booleans are "true"/"false" (older templates use 1/0). */
static bool parse_bool(const char *key, const char *v, bool *out, xg_err *err)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return xg_err_internal(err, "platform:%s must be true or false", key);
    return true;
}

static bool parse_int(const char *key, const char *v, long long lo, long long hi,
                      long long *out, xg_err *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return xg_err_internal(err, "platform:%s must be an integer in [%lld, %lld]", key, lo, hi);
    *out = x;
    return true;
}

static bool set_defbool(const struct xg_dom_spec *s, const char *key, libxl_defbool *db,
                        xg_err *err)
{
    const char *v = platform_get(s, key);
    bool b = false;
    if (!v)
        return true;
    if (!parse_bool(key, v, &b, err))
        return false;
    libxl_defbool_set(db, b);
    return true;
}

static bool set_bitmap(libxl_bitmap *bm, uint32_t bits, uint32_t set)
{
    bm->size = (bits + 7) / 8;
    bm->map = calloc(bm->size, 1);
    if (!bm->map)
        abort();
    for (uint32_t i = 0; i < set; i++)
        bm->map[i / 8] |= (uint8_t)(1u << (i % 8));
    return true;
}

/* "pygrub --foo bar" style argument strings → NULL-terminated list. */
static libxl_string_list split_args(const char *args)
{
    size_t n = 0, len = strlen(args);
    libxl_string_list l = calloc(len / 2 + 2, sizeof *l);
    if (!l)
        abort();
    const char *p = args;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t w = strcspn(p, " ");
        l[n] = strndup(p, w);
        if (!l[n++])
            abort();
        p += w;
    }
    return l;
}

static bool valid_boot_order(const char *o)
{
    size_t n = strlen(o);
    if (n == 0 || n > 4)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("acdn", o[i]) || strchr(o + i + 1, o[i]))
            return false;
    return true;
}

/* key/value list for libxl (k1, v1, k2, v2, …, NULL), bounded. */
static bool kv_list(const struct xg_kv *kv, uint32_t n, uint32_t max, const char *prefix,
                    libxl_key_value_list *out, xg_err *err)
{
    if (n == 0)
        return true;
    if (n > max)
        return xg_err_internal(err, "too many keys (%" PRIu32 ", max %" PRIu32 ")", n, max);
    libxl_key_value_list l = calloc(2 * (size_t)n + 1, sizeof *l);
    if (!l)
        abort();
    *out = l;                       /* owned by the config from here */
    for (uint32_t i = 0; i < n; i++) {
        if (!kv[i].key || !kv[i].val)
            return xg_err_internal(err, "NULL key or value");
        if (!xg_guest_path_ok(kv[i].key, false, err))
            return false;
        if (prefix && strncmp(kv[i].key, prefix, strlen(prefix)) != 0)
            return xg_err_internal(err, "xenstore key must be under %s", prefix);
        if (strlen(kv[i].val) > XG_GUEST_KEY_BYTES)
            return xg_err_internal(err, "value of %s too long", kv[i].key);
        l[2 * i] = dup_or_die(kv[i].key);
        l[2 * i + 1] = dup_or_die(kv[i].val);
    }
    return true;
}

static bool hvm_options(const struct xg_dom_spec *s, libxl_domain_build_info *b, xg_err *err)
{
    const char *order = s->boot_order && s->boot_order[0] ? s->boot_order : "cd";
    if (!valid_boot_order(order))
        return xg_err_internal(err, "HVM boot order '%.16s' is not made of a, c, d, n", order);
    b->u.hvm.boot = dup_or_die(order);
    if (!set_defbool(s, "viridian", &b->u.hvm.viridian, err) ||
        !set_defbool(s, "nx", &b->u.hvm.nx, err) ||
        !set_defbool(s, "pae", &b->u.hvm.pae, err) ||
        !set_defbool(s, "hpet", &b->u.hvm.hpet, err) ||
        !set_defbool(s, "acpi", &b->acpi, err) ||
        !set_defbool(s, "apic", &b->apic, err) ||
        !set_defbool(s, "usb", &b->u.hvm.usb, err))
        return false;
    const char *v;
    long long x;
    if ((v = platform_get(s, "timeoffset"))) {
        /* Seconds relative to UTC; libxl takes the string. */
        if (!parse_int("timeoffset", v, -86400LL * 366 * 100, 86400LL * 366 * 100, &x, err))
            return false;
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", x);
        b->u.hvm.timeoffset = dup_or_die(buf);
    }
    if ((v = platform_get(s, "videoram"))) {
        if (!parse_int("videoram", v, 1, 256, &x, err))
            return false;
        b->video_memkb = (uint64_t)x * 1024;
    }
    if ((v = platform_get(s, "vga"))) {
        if (strcmp(v, "std") == 0)
            b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_STD;
        else if (strcmp(v, "cirrus") == 0)
            b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_CIRRUS;
        else if (strcmp(v, "none") == 0)
            b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_NONE;
        else
            return xg_err_internal(err, "platform:vga must be std, cirrus or none");
    }
    if ((v = platform_get(s, "usb_tablet")) && strcmp(v, "true") == 0)
        b->u.hvm.usbdevice = dup_or_die("tablet");
    return true;
}

static bool device_model(const struct xg_dom_spec *s, libxl_domain_build_info *b, xg_err *err)
{
    const char *v = platform_get(s, "device_model_version");
    if (!v)
        v = platform_get(s, "device-model");     /* XAPI's own key */
    if (!v)
        return true;
    if (strcmp(v, "qemu-xen-traditional") == 0 || strcmp(v, "qemu-trad") == 0)
        b->device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN_TRADITIONAL;
    else if (strcmp(v, "qemu-xen") == 0 || strncmp(v, "qemu-upstream", 13) == 0)
        b->device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
    else
        return xg_err_internal(err, "unknown device model '%.64s'", v);
    return true;
}

bool lx_nic_from_spec(const struct xg_nic_spec *n, enum xg_dom_type type,
                      libxl_device_nic *out, xg_err *err)
{
    if (n->devid > LX_MAX_NICS - 1)
        return xg_err_internal(err, "nic devid %" PRIu32 " out of range", n->devid);
    if (!n->bridge[0] || memchr(n->bridge, 0, sizeof n->bridge) == NULL)
        return xg_err_internal(err, "nic %" PRIu32 " without a bridge", n->devid);
    if (n->mac[0] & 1)
        return xg_err_internal(err, "nic %" PRIu32 ": multicast MAC", n->devid);
    out->devid = (libxl_devid)n->devid;
    memcpy(out->mac, n->mac, 6);
    out->bridge = dup_or_die(n->bridge);
    out->mtu = n->mtu ? (int)n->mtu : 1500;
    if (type == XG_DOM_HVM) {
        out->nictype = LIBXL_NIC_TYPE_VIF_IOEMU;
        if (n->model && n->model[0])
            out->model = dup_or_die(n->model);
    } else {
        out->nictype = LIBXL_NIC_TYPE_VIF;
    }
    if (n->rate_bytes_per_interval) {
        out->rate_bytes_per_interval = n->rate_bytes_per_interval;
        out->rate_interval_usecs = n->rate_interval_usecs;
    }
    return true;
}

bool lx_disk_from_spec(const struct xg_disk *d, libxl_device_disk *out, xg_err *err)
{
    if (!d->vdev || !d->vdev[0] || strlen(d->vdev) > 15)
        return xg_err_internal(err, "disk without a valid vdev");
    out->vdev = dup_or_die(d->vdev);
    switch (d->format) {
    case XG_DISK_QCOW2:
        out->format = LIBXL_DISK_FORMAT_QCOW2;
        out->backend = LIBXL_DISK_BACKEND_QDISK;
        break;
    case XG_DISK_RAW:
        out->format = LIBXL_DISK_FORMAT_RAW;
        out->backend = d->cdrom ? LIBXL_DISK_BACKEND_QDISK : LIBXL_DISK_BACKEND_UNKNOWN;
        break;
    case XG_DISK_EMPTY:
        out->format = LIBXL_DISK_FORMAT_EMPTY;
        out->backend = LIBXL_DISK_BACKEND_QDISK;
        break;
    default:
        return xg_err_internal(err, "disk %s: bad format", d->vdev);
    }
    if (d->format != XG_DISK_EMPTY) {
        if (!d->path || d->path[0] != '/')
            return xg_err_internal(err, "disk %s: image path is not absolute", d->vdev);
        out->pdev_path = dup_or_die(d->path);
    }
    out->readwrite = d->readwrite && !d->cdrom;
    out->is_cdrom = d->cdrom;
    out->removable = d->cdrom;
    return true;
}

bool lx_config_from_spec(const struct xg_dom_spec *s, libxl_domain_config *c, xg_err *err)
{
    libxl_domain_create_info *ci = &c->c_info;
    libxl_domain_build_info *b = &c->b_info;
    libxl_domain_type type;
    switch (s->type) {
    case XG_DOM_PV: type = LIBXL_DOMAIN_TYPE_PV; break;
    case XG_DOM_PVH: type = LIBXL_DOMAIN_TYPE_PVH; break;
    case XG_DOM_HVM: type = LIBXL_DOMAIN_TYPE_HVM; break;
    default: return xg_err_internal(err, "bad domain type %d", (int)s->type);
    }
    ci->type = type;
    libxl_domain_build_info_init_type(b, type);

    if (libxl_uuid_from_string(&ci->uuid, s->uuid) != 0)
        return xg_err_internal(err, "bad uuid '%.40s'", s->uuid);
    /* libxl requires unique names; XAPI's name_label is not, so the domain
     * is named after the uuid unless the caller set a name. */
    ci->name = dup_or_die(s->name && s->name[0] ? s->name : s->uuid);

    uint64_t target = s->mem_target ? s->mem_target : s->mem_dynamic_max;
    if (s->mem_static_max == 0 || target == 0 || target > s->mem_static_max)
        return xg_err_internal(err, "memory target %" PRIu64 " not in (0, %" PRIu64 "]",
                               target, s->mem_static_max);
    b->max_memkb = s->mem_static_max / 1024;
    b->target_memkb = target / 1024;

    if (s->vcpus_max == 0 || s->vcpus_max > LX_MAX_VCPUS ||
        s->vcpus_at_startup == 0 || s->vcpus_at_startup > s->vcpus_max)
        return xg_err_internal(err, "bad vcpus %" PRIu32 "/%" PRIu32,
                               s->vcpus_at_startup, s->vcpus_max);
    b->max_vcpus = (int)s->vcpus_max;
    set_bitmap(&b->avail_vcpus, s->vcpus_max, s->vcpus_at_startup);

    const char *v = platform_get(s, "cores-per-socket");
    if (v) {
        long long cps;
        if (!parse_int("cores-per-socket", v, 1, LX_MAX_VCPUS, &cps, err))
            return false;
        if (s->vcpus_max % (uint32_t)cps != 0)
            return xg_err_internal(err, "VCPUs_max %" PRIu32 " is not a multiple of "
                                   "cores-per-socket %lld", s->vcpus_max, cps);
        /* libxl has no topology knob; the guest sees the default. */
        XG_DEBUG("libxl", "cores-per-socket=%lld accepted, not expressible in libxl", cps);
    }

    bool has_kernel = s->kernel && s->kernel[0];
    bool has_loader = s->bootloader && s->bootloader[0];
    if (s->type == XG_DOM_PV || s->type == XG_DOM_PVH) {
        if (has_kernel) {
            b->kernel = dup_or_die(s->kernel);
            if (s->ramdisk && s->ramdisk[0])
                b->ramdisk = dup_or_die(s->ramdisk);
            if (s->cmdline && s->cmdline[0])
                b->cmdline = dup_or_die(s->cmdline);
        } else if (has_loader) {
            b->bootloader = dup_or_die(s->bootloader);
            if (s->bootloader_args && s->bootloader_args[0])
                b->bootloader_args = split_args(s->bootloader_args);
        } else if (!(s->restore_path && s->restore_path[0])) {
            return xg_err_internal(err, "%s domain without kernel or bootloader",
                                   s->type == XG_DOM_PV ? "PV" : "PVH");
        }
    } else {
        if (!hvm_options(s, b, err))
            return false;
    }
    if (!set_defbool(s, "acpi", &b->acpi, err) || !device_model(s, b, err))
        return false;

    if (!kv_list(s->xenstore, s->nxenstore, LX_MAX_XENSTORE_KEYS, "vm-data", &ci->xsdata, err))
        return false;
    if (!kv_list(s->platform, s->nplatform, LX_MAX_PLATFORM_KEYS, NULL, &ci->platformdata, err))
        return false;
    if (s->nnics > LX_MAX_NICS)
        return xg_err_internal(err, "%" PRIu32 " nics, at most %u", s->nnics, LX_MAX_NICS);
    if (s->nnics) {
        c->nics = calloc(s->nnics, sizeof *c->nics);
        if (!c->nics)
            abort();
        for (uint32_t i = 0; i < s->nnics; i++) {
            libxl_device_nic_init(&c->nics[i]);
            c->num_nics = (int)i + 1;       /* disposed with c from here on */
            if (!lx_nic_from_spec(&s->nics[i], s->type, &c->nics[i], err))
                return false;
        }
    }

    if (s->ndisks > LX_MAX_DISKS)
        return xg_err_internal(err, "%" PRIu32 " disks, at most %u", s->ndisks, LX_MAX_DISKS);
    if (s->ndisks) {
        c->disks = calloc(s->ndisks, sizeof *c->disks);
        if (!c->disks)
            abort();
        for (uint32_t i = 0; i < s->ndisks; i++) {
            libxl_device_disk_init(&c->disks[i]);
            c->num_disks = (int)i + 1;      /* disposed with c from here on */
            if (!lx_disk_from_spec(&s->disks[i], &c->disks[i], err))
                return false;
        }
    }

    /* libxl does not act on these; the gateway decides what follows a
     * shutdown, so libxl is told to just let the domain go. */
    c->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    c->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    c->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    c->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    c->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    return true;
}
