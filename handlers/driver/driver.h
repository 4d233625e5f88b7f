/* driver.h: THE backend interface; the only way handlers reach a hypervisor.
 *
 * It speaks hypervisor terms (domid, bytes, vcpus, shutdown reasons), never
 * XAPI terms: handlers own refs, power-state rules, records and which XAPI
 * error to raise. Two implementations pass the same conformance tests:
 * sim (handlers/driver/sim/, an in-process simulated Xen host, the default
 * off Xen) and libxl (handlers/driver/libxl/, real Xen; libxl types never
 * leave that directory).
 *
 * Threading: ops are called with the world lock held and must not block for
 * long (no domain build, no suspend on the caller's thread). Long operations
 * take an xg_done and complete later from a driver thread, WITHOUT the world
 * lock held (the callback takes it). A driver must never call back into the
 * handlers while holding its own internal lock.
 * Errors: drivers raise xg_err with XAPI wire codes where one fits
 * (HOST_NOT_ENOUGH_FREE_MEMORY, BOOTLOADER_FAILED, …) and INTERNAL_ERROR
 * otherwise, logging the details (libxl rc, errno). */
#ifndef XG_DRIVER_H
#define XG_DRIVER_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../server/arena.h"
#include "../../server/xg_err.h"

#define XG_UUID_STR 37

struct xg_drv;                       /* a driver instance (opaque) */

enum xg_dom_type { XG_DOM_PV, XG_DOM_PVH, XG_DOM_HVM };

/* Xen's domain states as libxl reports them, folded. */
enum xg_dom_state {
    XG_DOM_RUNNING,     /* running or blocked */
    XG_DOM_PAUSED,
    XG_DOM_SHUTDOWN,    /* shut down, see reason; still exists until destroyed */
    XG_DOM_DYING,
};

/* SHUTDOWN_* of xen/sched.h */
enum xg_shutdown_reason {
    XG_SHUTDOWN_POWEROFF, XG_SHUTDOWN_REBOOT, XG_SHUTDOWN_SUSPEND,
    XG_SHUTDOWN_CRASH, XG_SHUTDOWN_WATCHDOG, XG_SHUTDOWN_SOFT_RESET,
    XG_SHUTDOWN_NONE,
};

enum xg_stop_how { XG_STOP_CLEAN, XG_STOP_HARD };

struct xg_host_info {
    char hostname[256];
    char address[64];               /* management IPv4/IPv6 address */
    char uuid[XG_UUID_STR];         /* stable host identity if the platform has one, else "" */
    char xen_version[64];           /* "4.17.5" */
    char xen_caps[256];             /* "xen-3.0-x86_64 hvm-3.0-x86_32 …" */
    char xen_commandline[512];
    char linux_release[128];        /* dom0 kernel, uname -r */
    char cpu_vendor[64], cpu_model_name[128], cpu_flags[1024];
    uint32_t cpu_family, cpu_model, cpu_stepping, cpu_mhz;
    uint32_t nr_cpus, nr_cores, nr_sockets, threads_per_core, nr_nodes;
    uint64_t total_bytes, free_bytes;
    uint64_t scrub_bytes;
    char bios_vendor[64], bios_version[64], system_manufacturer[64], system_product[64];
    char chipset_iommu[8];          /* "true"/"false" */
    bool hvm_capable, pvh_capable;
};

struct xg_pcpu_info {
    uint32_t cpu, core, socket, node;
    uint64_t idle_ns;               /* cumulative idle time */
};

struct xg_dom_info {
    uint32_t domid;
    char uuid[XG_UUID_STR];
    char name[128];
    enum xg_dom_type type;
    enum xg_dom_state state;
    enum xg_shutdown_reason reason; /* when state == SHUTDOWN */
    uint64_t mem_current_bytes, mem_max_bytes, mem_target_bytes;
    uint32_t vcpus_max, vcpus_online;
    uint64_t cpu_time_ns;           /* all vcpus */
    int64_t start_time;             /* wall seconds, 0 if unknown */
    uint32_t ssidref;
};

struct xg_vcpu_info { uint32_t id; bool online, running; uint32_t pcpu; uint64_t cpu_time_ns; };

/* vif counters are the guest's view (rx = bytes the guest received, i.e.
 * dom0's vif tx_bytes), which is what XAPI's vif_N_rx/_tx report. */
struct xg_dev_counters {            /* cumulative since device creation */
    uint32_t devid;                 /* vif N / vbd device number */
    char name[16];                  /* "xvda", "0" */
    uint64_t rx_bytes, tx_bytes;    /* vif; for vbd: read/write bytes */
    uint64_t rd_reqs, wr_reqs;      /* vbd */
};

struct xg_dom_stats {
    uint32_t nvifs, nvbds;
    struct xg_dev_counters *vifs, *vbds;   /* arena-allocated */
};

struct xg_host_stats {
    uint64_t total_bytes, free_bytes;
    double loadavg;
    uint32_t ncpus;
    struct xg_pcpu_info *pcpus;            /* arena-allocated */
    uint32_t npifs;
    struct xg_dev_counters *pifs;          /* name = "eth0" */
};

struct xg_kv { const char *key, *val; };

/* A block device of a domain (from a VBD). Disk images are files the
 * handlers manage: qcow2 for disk SRs, raw for ISOs. */
enum xg_disk_format { XG_DISK_RAW, XG_DISK_QCOW2, XG_DISK_EMPTY };
struct xg_disk {
    const char *vdev;               /* "xvda", or "hda".."hdd" for HVM IDE */
    const char *path;               /* absolute image path; NULL when EMPTY */
    enum xg_disk_format format;
    bool readwrite;
    bool cdrom;                     /* removable: insert/eject with dom_cdrom_change */
};
/* A virtual NIC: the backend vif<domid>.<devid> joins bridge. */
struct xg_nic_spec {
    uint32_t devid;                 /* guest eth<devid> order, VIF.device */
    uint8_t mac[6];
    char bridge[16];                /* IFNAMSIZ */
    uint32_t mtu;
    const char *model;              /* HVM emulated model; NULL = default */
    uint64_t rate_bytes_per_interval;   /* 0 = no rate limit */
    uint32_t rate_interval_usecs;
};

/* What console_open gives: the guest's text stream, or an RFB server. */
enum xg_console_kind { XG_CONSOLE_TEXT, XG_CONSOLE_RFB };

/* What to build: translated by handlers from the VM record. */
struct xg_dom_spec {
    char uuid[XG_UUID_STR];
    const char *name;
    enum xg_dom_type type;
    uint64_t mem_static_max, mem_dynamic_max, mem_dynamic_min, mem_target;
    uint32_t vcpus_max, vcpus_at_startup;
    const char *kernel, *ramdisk, *cmdline;        /* PV/PVH direct boot */
    const char *bootloader, *bootloader_args;      /* PV_bootloader, e.g. pygrub */
    const char *boot_order;                        /* HVM_boot_params "order" */
    const struct xg_kv *platform; uint32_t nplatform;
    const struct xg_kv *xenstore; uint32_t nxenstore;   /* VM.xenstore_data */
    const struct xg_nic_spec *nics; uint32_t nnics;
    bool start_paused;
    const char *restore_path;                      /* resume from this file */
    const struct xg_disk *disks; uint32_t ndisks;  /* from the VM's VBDs */
};

/* Completion of a long operation; runs on a driver thread without the world
 * lock. err is NULL on success. */
typedef struct xg_done {
    void (*fn)(void *arg, bool ok, const xg_err *err, uint32_t domid);
    void *arg;
} xg_done;

/* Upward notifications; run on a driver thread without the world lock. */
struct xg_drv_events {
    /* Something happened to domid (shutdown with a reason, death, creation
     * behind our back): the receiver re-reads dom_info and reconciles. */
    void (*dom_changed)(void *arg, uint32_t domid);
    void *arg;
};

struct xg_drv_config {
    const char *state_dir;          /* suspend images live under it */
    uint32_t sim_vms;               /* sim: guests created at open */
    uint32_t sim_delay_ms;          /* sim: duration of long operations */
    uint64_t sim_seed;
};

struct xg_driver {
    const char *name;               /* "sim" | "libxl" */
    bool (*open)(struct xg_drv **out, const struct xg_drv_config *cfg,
                 const struct xg_drv_events *ev, xg_err *err);
    void (*close)(struct xg_drv *d);
    /* Optional (NULL: nothing to do). The gateway is about to close the
     * driver and start again in place: after restart_agent (host_reboot
     * false: the hypervisor's domains outlive the agent) or a simulated
     * host reboot (true: they do not). A real hypervisor needs nothing;
     * a simulated one hands its domains over to the next open. */
    void (*restarting)(struct xg_drv *d, bool host_reboot);

    bool (*host_info)(struct xg_drv *d, struct xg_host_info *out, xg_err *err);
    bool (*host_stats)(struct xg_drv *d, xg_arena *a, struct xg_host_stats *out, xg_err *err);
    bool (*pcpu_list)(struct xg_drv *d, xg_arena *a, struct xg_pcpu_info **out,
                      uint32_t *n_out, xg_err *err);
    /* The hypervisor's console ring (what `xl dmesg` shows), NUL-terminated
     * in the arena; when longer than max bytes the newest max are kept. */
    bool (*host_console)(struct xg_drv *d, xg_arena *a, size_t max, char **out, xg_err *err);

    /* All existing domains, dom0 included. */
    bool (*dom_list)(struct xg_drv *d, xg_arena *a, struct xg_dom_info **out,
                     uint32_t *n_out, xg_err *err);
    bool (*dom_info)(struct xg_drv *d, uint32_t domid, struct xg_dom_info *out, xg_err *err);
    bool (*dom_vcpus)(struct xg_drv *d, uint32_t domid, xg_arena *a,
                      struct xg_vcpu_info **out, uint32_t *n_out, xg_err *err);
    bool (*dom_stats)(struct xg_drv *d, uint32_t domid, xg_arena *a,
                      struct xg_dom_stats *out, xg_err *err);

    /* Long operations: done->fn is called exactly once when they return true
     * (also when the driver closes first: then with ok = false); never when
     * they return false. On success:
     *  - dom_create: domid is the new domain, running (or paused if
     *    spec->start_paused). While it is being built the domain already
     *    exists, paused by the builder; unpausing it then fails.
     *  - dom_shutdown: the domain is gone (CLEAN: the guest shut down and the
     *    driver destroyed it, as xl does; HARD: destroyed).
     *  - dom_reboot: Xen has no reboot; the old domain is gone and domid is
     *    the NEW domain (same uuid), running.
     *  - dom_suspend: the image is written and the domain is gone; resume is
     *    dom_create with spec->restore_path.
     * CLEAN shutdown/reboot of an HVM guest without PV drivers fails at once
     * with INTERNAL_ERROR (libxl's ERROR_NOPARAVIRT); handlers check the
     * guest's PV drivers and control/feature-* keys first (vm_ops.c) and
     * answer VM_LACKS_FEATURE, as XAPI. A second long operation on a domain that has
     * one in flight fails (except HARD shutdown, which wins). A guest that
     * stops on its own (crash, poweroff from inside) stays in state SHUTDOWN
     * with its reason and fires ev->dom_changed; the handlers destroy it. */
    bool (*dom_create)(struct xg_drv *d, const struct xg_dom_spec *spec,
                       const xg_done *done, xg_err *err);
    bool (*dom_shutdown)(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                         const xg_done *done, xg_err *err);
    bool (*dom_reboot)(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                       const xg_done *done, xg_err *err);
    /* Saves memory to path, then destroys the domain. */
    bool (*dom_suspend)(struct xg_drv *d, uint32_t domid, const char *path,
                        const xg_done *done, xg_err *err);

    /* Short operations. */
    bool (*dom_destroy)(struct xg_drv *d, uint32_t domid, xg_err *err);
    bool (*dom_pause)(struct xg_drv *d, uint32_t domid, xg_err *err);
    bool (*dom_unpause)(struct xg_drv *d, uint32_t domid, xg_err *err);
    bool (*dom_set_memory_target)(struct xg_drv *d, uint32_t domid, uint64_t bytes, xg_err *err);
    bool (*dom_set_vcpus_online)(struct xg_drv *d, uint32_t domid, uint32_t n, xg_err *err);

    /* Block devices of a running domain. disk_add hot-plugs a disk;
     * disk_remove unplugs vdev (force: without waiting for the guest, which
     * may otherwise refuse: then DEVICE_DETACH_REJECTED); cdrom_change puts
     * disk's medium (or none, format EMPTY) into the existing drive vdev.
     * disk_add/disk_remove may block (hotplug scripts, the guest's
     * frontend): handlers call them from a worker WITHOUT the world lock,
     * so they must be safe against concurrent driver calls. */
    bool (*dom_disk_add)(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                         xg_err *err);
    bool (*dom_disk_remove)(struct xg_drv *d, uint32_t domid, const char *vdev,
                            bool force, xg_err *err);
    bool (*dom_cdrom_change)(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                             xg_err *err);
    /* Hot-plug of a virtual NIC into a running domain (long: hotplug
     * scripts run); done->fn gets the domid. nic_remove: force = destroy
     * without asking the guest. Both fail with INTERNAL_ERROR when the
     * domain is gone; removing a NIC that is not there is an error. */
    bool (*nic_add)(struct xg_drv *d, uint32_t domid, const struct xg_nic_spec *nic,
                    const xg_done *done, xg_err *err);
    bool (*nic_remove)(struct xg_drv *d, uint32_t domid, uint32_t devid, bool force,
                       const xg_done *done, xg_err *err);

    /* Guest data (xenstore under /local/domain/<domid>/). Values are
     * hostile: bounded by len, callers validate UTF-8. path is relative
     * (see guest_path.h: at most 256 bytes, xenstore's characters, no "."
     * or ".." components), else INTERNAL_ERROR. buf always gets a NUL: a
     * longer value is cut to len-1 bytes, an embedded NUL ends it, and an
     * absent key reads as "" (returns true). Keys written by guest agents:
     * data/os_{name,uname,distro,majorver,minorver},
     * attr/os/{name,distro,major,minor,uname},
     * attr/PVAddons/{Major,Minor,Micro,Build}Version, attr/vif/N/ipv4/M,
     * data/meminfo_{free,total} (KiB), control/feature-{poweroff,reboot,suspend}. */
    bool (*guest_read)(struct xg_drv *d, uint32_t domid, const char *path,
                       char *buf, size_t len, xg_err *err);
    /* Names of the children of path ("" = the domain's root), at most max
     * of them (more are silently dropped); an absent path has no children. */
    bool (*guest_list)(struct xg_drv *d, uint32_t domid, const char *path, xg_arena *a,
                       char ***names_out, uint32_t *n_out, uint32_t max, xg_err *err);

    /* A new connection to the domain's console, as a non-blocking fd the
     * caller owns: TEXT = the guest's text console (bytes both ways: the
     * pty xenconsoled made, or the sim guest), RFB = the device model's own
     * VNC server (HVM guests, a Unix socket). It ends (EOF/HUP) when the
     * domain goes away. Unlike the other ops, called WITHOUT the world lock,
     * from the console thread: implementations take their own locks. */
    bool (*console_open)(struct xg_drv *d, uint32_t domid, enum xg_console_kind *kind,
                         int *fd, xg_err *err);
};

extern const struct xg_driver xg_driver_sim;     /* test hooks: sim/sim.h;
                                                    guests: sim/sim_fixture.h */
extern const struct xg_driver xg_driver_libxl;

/* HOST_NOT_ENOUGH_FREE_MEMORY [needed; available] (bytes): the one XAPI
 * error drivers raise themselves (they build without the generated
 * constructors; tools/check-errors.sh allows this one place). */
static inline bool xg_drv_err_no_memory(xg_err *err, uint64_t need, uint64_t avail)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%" PRIu64, need);
    snprintf(b, sizeof b, "%" PRIu64, avail);
    return xg_err_set(err, "HOST_NOT_ENOUGH_FREE_MEMORY", 2, a, b);
}

/* select.c: "auto" picks libxl when /proc/xen/capabilities contains
 * control_d, else sim, and logs which and why. "libxl" without Xen fails. */
const struct xg_driver *xg_driver_select(const char *want, xg_err *err);

#endif
