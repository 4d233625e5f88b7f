/* test_lx_config.c: golden tests of the pure spec → libxl_domain_config
 * translation (libvirt's libxlxml2domconfigtest idea). Each fixture spec is
 * translated, dumped with libxl_domain_config_to_json() and compared with
 * golden/<name>.json; XG_REGENERATE=1 rewrites the golden files. Invalid
 * specs must fail with INTERNAL_ERROR and a message naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../handlers/driver/libxl/lx_config.h"

#define MiB (1024ull * 1024ull)

static const char *golden_dir;

static const struct xg_kv hvm_platform[] = {
    { "viridian", "true" }, { "nx", "true" }, { "acpi", "1" }, { "apic", "true" },
    { "pae", "true" }, { "hpet", "false" }, { "timeoffset", "-3600" },
    { "device-model", "qemu-upstream-compat" }, { "cores-per-socket", "2" },
    { "videoram", "8" }, { "vga", "std" }, { "usb", "true" }, { "usb_tablet", "true" },
};
static const struct xg_kv xsdata[] = {
    { "vm-data/mmio-hole-size", "268435456" }, { "vm-data/role", "db" },
};

/* eth0 on the physical network; eth1 on an internal one, rate-limited to
 * 1024 KiB/s over 50 ms slices (what vif.c makes of qos kbps=1024). */
static const struct xg_nic_spec pv_nics[] = {
    { .devid = 0, .mac = {0xee, 0x2f, 0x51, 0x0a, 0x3c, 0x01}, .bridge = "xenbr0", .mtu = 1500 },
    { .devid = 1, .mac = {0x02, 0x16, 0x3e, 0x00, 0x00, 0x02}, .bridge = "xapi0", .mtu = 9000,
      .rate_bytes_per_interval = 52428, .rate_interval_usecs = 50000 },
};
static const struct xg_nic_spec hvm_nics[] = {
    { .devid = 0, .mac = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}, .bridge = "xenbr0", .mtu = 1500,
      .model = "e1000" },
};

/* A qcow2 system disk and an ISO in a CD drive (PV: a removable blkfront
 * disk); on HVM the disk on the first IDE position and an empty CD drive
 * created at build time so that media can be inserted later. */
static const struct xg_disk pv_disks[] = {
    { .vdev = "xvda", .path = "/var/lib/xapi-gateway/sr/0b6c.qcow2",
      .format = XG_DISK_QCOW2, .readwrite = true },
    { .vdev = "xvdd", .path = "/var/lib/xapi-gateway/iso/debian.iso",
      .format = XG_DISK_RAW, .cdrom = true },
};
static const struct xg_disk hvm_disks[] = {
    { .vdev = "hda", .path = "/var/lib/xapi-gateway/sr/77e1.qcow2",
      .format = XG_DISK_QCOW2, .readwrite = true },
    { .vdev = "hdd", .format = XG_DISK_EMPTY, .cdrom = true },
};

static void base(struct xg_dom_spec *s, enum xg_dom_type t)
{
    memset(s, 0, sizeof *s);
    snprintf(s->uuid, sizeof s->uuid, "3f2a6c1e-9d1b-4c8e-a7f0-5b6d7e8f9a0b");
    s->name = "golden";
    s->type = t;
    s->mem_static_max = 2048 * MiB;
    s->mem_dynamic_max = 2048 * MiB;
    s->mem_dynamic_min = 1024 * MiB;
    s->mem_target = 1536 * MiB;
    s->vcpus_max = 4;
    s->vcpus_at_startup = 2;
}

static void spec_named(const char *name, struct xg_dom_spec *s)
{
    if (!strcmp(name, "pv-direct")) {
        base(s, XG_DOM_PV);
        s->kernel = "/var/lib/xen/boot/vmlinuz-6.1";
        s->ramdisk = "/var/lib/xen/boot/initrd-6.1";
        s->cmdline = "root=/dev/xvda1 console=hvc0 quiet";
        s->xenstore = xsdata;
        s->nxenstore = 2;
        s->nics = pv_nics;
        s->nnics = 2;
    } else if (!strcmp(name, "pv-pygrub")) {
        base(s, XG_DOM_PV);
        s->bootloader = "pygrub";
        s->bootloader_args = "--kernel=/boot/vmlinuz  --args=quiet";
        s->disks = pv_disks;
        s->ndisks = 2;
    } else if (!strcmp(name, "pvh")) {
        base(s, XG_DOM_PVH);
        s->kernel = "/var/lib/xen/boot/vmlinuz-pvh";
        s->cmdline = "console=hvc0";
        s->vcpus_max = 8;
        s->vcpus_at_startup = 8;
    } else if (!strcmp(name, "hvm-windows")) {
        base(s, XG_DOM_HVM);
        s->name = NULL;                      /* named after the uuid */
        s->boot_order = "dc";
        s->platform = hvm_platform;
        s->nplatform = sizeof hvm_platform / sizeof hvm_platform[0];
        s->nics = hvm_nics;
        s->nnics = 1;
        s->disks = hvm_disks;
        s->ndisks = 2;
    } else if (!strcmp(name, "hvm-minimal")) {
        base(s, XG_DOM_HVM);
        s->mem_target = 0;                   /* falls back to dynamic_max */
        s->vcpus_max = 1;
        s->vcpus_at_startup = 1;
    } else {
        fail_msg("unknown fixture %s", name);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static void golden(void **state)
{
    const char *name = *state;
    struct xg_dom_spec s;
    spec_named(name, &s);
    libxl_domain_config c;
    libxl_domain_config_init(&c);
    xg_err err = XG_ERR_INIT;
    bool ok = lx_config_from_spec(&s, &c, &err);
    if (!ok)
        fail_msg("%s: %s %s", name, err.code, err.param[0]);
    char *json = libxl_domain_config_to_json(NULL, &c);
    assert_non_null(json);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.json", golden_dir, name);
    if (getenv("XG_REGENERATE")) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(json, f);
        fclose(f);
    }
    char *want = slurp(path);
    if (!want)
        fail_msg("missing %s (run with XG_REGENERATE=1)", path);
    if (strcmp(json, want) != 0) {
        fprintf(stderr, "--- got for %s:\n%s\n", name, json);
        fail_msg("%s differs from %s", name, path);
    }
    free(want);
    free(json);
    libxl_domain_config_dispose(&c);
}

/* A failing translation: INTERNAL_ERROR mentioning what, config disposable. */
static void expect_fail(struct xg_dom_spec *s, const char *what)
{
    libxl_domain_config c;
    libxl_domain_config_init(&c);
    xg_err err = XG_ERR_INIT;
    assert_false(lx_config_from_spec(s, &c, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    if (!strstr(err.param[0], what))
        fail_msg("'%s' does not mention '%s'", err.param[0], what);
    libxl_domain_config_dispose(&c);
}

static void invalid_specs(void **state)
{
    (void)state;
    struct xg_dom_spec s;
    base(&s, XG_DOM_PV);
    expect_fail(&s, "kernel or bootloader");
    spec_named("pv-direct", &s);
    snprintf(s.uuid, sizeof s.uuid, "not-a-uuid");
    expect_fail(&s, "uuid");
    spec_named("pv-direct", &s);
    s.mem_target = s.mem_static_max + 1;
    expect_fail(&s, "memory");
    spec_named("pv-direct", &s);
    s.vcpus_at_startup = 5;
    expect_fail(&s, "vcpus");
    spec_named("pv-direct", &s);
    s.vcpus_max = 1000;
    s.vcpus_at_startup = 1;
    expect_fail(&s, "vcpus");
    spec_named("hvm-minimal", &s);
    s.boot_order = "cz";
    expect_fail(&s, "boot order");
    spec_named("hvm-minimal", &s);
    s.boot_order = "cc";
    expect_fail(&s, "boot order");
    const struct xg_kv bad_bool[] = { { "viridian", "yes" } };
    s.platform = bad_bool;
    s.nplatform = 1;
    s.boot_order = NULL;
    expect_fail(&s, "viridian");
    const struct xg_kv bad_cps[] = { { "cores-per-socket", "3" } };
    spec_named("hvm-windows", &s);
    s.platform = bad_cps;
    s.nplatform = 1;
    expect_fail(&s, "cores-per-socket");
    const struct xg_kv bad_dm[] = { { "device-model", "bochs" } };
    s.platform = bad_dm;
    expect_fail(&s, "device model");
    const struct xg_kv bad_off[] = { { "timeoffset", "12abc" } };
    s.platform = bad_off;
    expect_fail(&s, "timeoffset");
    /* xenstore data: only under vm-data/, valid paths, bounded values. */
    spec_named("pv-direct", &s);
    const struct xg_kv esc[] = { { "vm-data/../../0/x", "1" } };
    s.xenstore = esc;
    s.nxenstore = 1;
    expect_fail(&s, "component");
    const struct xg_kv outside[] = { { "control/shutdown", "poweroff" } };
    s.xenstore = outside;
    expect_fail(&s, "vm-data");
    static char big[2048];
    memset(big, 'x', sizeof big - 1);
    const struct xg_kv bigv[] = { { "vm-data/big", big } };
    s.xenstore = bigv;
    expect_fail(&s, "too long");
    s.nxenstore = 100000;
    expect_fail(&s, "too many");
    /* NICs: a bridge, a unicast MAC, a devid libxl can take, bounded count */
    spec_named("pv-direct", &s);
    struct xg_nic_spec n = pv_nics[0];
    s.nics = &n;
    s.nnics = 1;
    n.bridge[0] = 0;
    expect_fail(&s, "bridge");
    n = pv_nics[0];
    n.mac[0] = 0x01;
    expect_fail(&s, "multicast");
    n = pv_nics[0];
    n.devid = 4096;
    expect_fail(&s, "devid");
    s.nnics = 100000;
    expect_fail(&s, "nics");
    /* disks: a vdev, an absolute image path, a bounded count */
    spec_named("pv-pygrub", &s);
    struct xg_disk dk = pv_disks[0];
    s.disks = &dk;
    s.ndisks = 1;
    dk.vdev = "";
    expect_fail(&s, "vdev");
    dk = pv_disks[0];
    dk.path = "relative.qcow2";
    expect_fail(&s, "absolute");
    s.ndisks = 100000;
    expect_fail(&s, "disks");
}

int main(int argc, char **argv)
{
    golden_dir = argc > 1 ? argv[1] : "golden";
    static const char *names[] = { "pv-direct", "pv-pygrub", "pvh", "hvm-windows", "hvm-minimal" };
    struct CMUnitTest tests[6];
    for (int i = 0; i < 5; i++)
        tests[i] = (struct CMUnitTest){ names[i], golden, NULL, NULL, (void *)names[i] };
    tests[5] = (struct CMUnitTest){ "invalid_specs", invalid_specs, NULL, NULL, NULL };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
