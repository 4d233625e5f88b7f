/* sim_internal.h: the sim driver's state, shared by the files of sim/ only.
 *
 * Locking: d->lock guards everything in struct xg_drv except the worker
 * queue (its own lock). Done callbacks and events are always called with no
 * sim lock held, from the worker thread. */
#ifndef XG_SIM_INTERNAL_H
#define XG_SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../driver.h"

#define SIM_DOMID_LIMIT 0x7FF0u     /* DOMID_FIRST_RESERVED: domids are < this */
#define SIM_MAX_PAUSE 254u          /* Xen refuses a 255th toolstack pause (EUSERS) */
#define SIM_NVBDS 2u
#define SIM_NPIFS 1u                 /* eth0: the sim host's one NIC (hostnet_sim.c) */

#define SIM_MAX_DISKS 64

struct sim_dom {
    uint32_t domid;
    uint64_t gen;                   /* creation number: detects a reused domid */
    char uuid[XG_UUID_STR];
    char name[128];
    char distro[32];
    enum xg_dom_type type;
    enum xg_dom_state state;
    enum xg_shutdown_reason reason;
    uint32_t pause_count;           /* Xen's controller_pause_count */
    bool building;                  /* dom_create in flight */
    bool busy;                      /* clean shutdown/reboot/suspend in flight */
    bool pv_drivers;
    bool hostile;
    uint64_t mem_max, mem_target, mem_current, mem_reserved;   /* bytes */
    uint32_t vcpus_max, vcpus_online;
    uint64_t seed;                  /* drives counters and guest data */
    int64_t start_time;             /* wall seconds */
    uint64_t start_ns;              /* monotonic */
    uint64_t stopped_ns;            /* total time not running */
    uint64_t stopped_since;         /* monotonic ns, 0 while running */
    uint64_t prior_run_ns;          /* running time before the sim opened (fixtures) */
    struct sim_disk { char vdev[16]; bool cdrom, loaded; } disks[SIM_MAX_DISKS];
    uint32_t ndisks;                /* block devices (sim_disk.c) */
    uint32_t nics;                  /* bit n: a vif with devid n exists */
};

#define SIM_MAX_NIC_DEVID 31u

/* A fixture guest, found by uuid when the handlers start it later. */
struct sim_fix_index {
    char uuid[XG_UUID_STR];
    uint32_t index;
};

struct sim_job;
typedef void (*sim_job_fn)(struct xg_drv *d, struct sim_job *j, bool closing);

struct sim_job {
    uint64_t when_ns;
    uint64_t seq;                   /* FIFO among equal deadlines */
    sim_job_fn fn;
    uint32_t domid;
    uint64_t gen;
    int arg;
    xg_done done;
    char path[512];                 /* suspend image */
};

struct sim_worker {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool started, stop;
    struct sim_job **heap;
    uint32_t n, cap;
    uint64_t seq;
};

struct xg_drv {
    pthread_mutex_t lock;
    struct sim_dom **doms;          /* indexed by domid: O(1) lookup */
    uint32_t ndoms;
    uint32_t next_domid;            /* Xen hands out domids round-robin */
    uint64_t next_gen;
    uint64_t total_bytes, used_bytes;
    uint32_t ncpus;
    uint64_t boot_ns;
    int64_t boot_wall;
    struct xg_drv_events ev;
    struct xg_drv_config cfg;
    char state_dir[256];
    struct sim_fix_index *fix;      /* fixture uuids, sorted: O(log n) lookup */
    uint32_t nfix;
    struct sim_worker worker;
    struct sim_consoles *consoles;  /* sim_console.c */
};

/* sim_time.c */
uint64_t sim_now_ns(void);
/* Running time of a domain so far (excludes paused/shut-down time). */
uint64_t sim_dom_run_ns(const struct sim_dom *s, uint64_t now);
/* Cumulative seconds of work at utilisation varying around a per-seed mean;
 * strictly increasing in t. */
double sim_work(uint64_t seed, double t);

/* sim_worker.c */
bool sim_worker_start(struct sim_worker *w, struct xg_drv *d, xg_err *err);
/* Stops the thread; pending jobs run with closing = true (their done gets a
 * failure), so every done is called exactly once. */
void sim_worker_stop(struct sim_worker *w, struct xg_drv *d);
/* Queues j (heap-allocated, owned by the worker from now on) to run after
 * delay_ms. */
bool sim_worker_post(struct sim_worker *w, struct sim_job *j, uint32_t delay_ms, xg_err *err);

/* sim_dom.c: the state machine. Called with d->lock held. */
struct sim_dom *sim_dom_get(struct xg_drv *d, uint32_t domid);
/* sim_disk.c: the disks a domain is built with (d->lock held), and the
 * hot-plug ops of the driver table. */
bool sim_disks_build(struct sim_dom *s, const struct xg_disk *disks, uint32_t n,
                     xg_err *err);
bool sim_dom_disk_add(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                      xg_err *err);
bool sim_dom_disk_remove(struct xg_drv *d, uint32_t domid, const char *vdev,
                         bool force, xg_err *err);
bool sim_dom_cdrom_change(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                          xg_err *err);
struct sim_dom *sim_dom_find(struct xg_drv *d, uint32_t domid, xg_err *err);
void sim_dom_fill_info(const struct sim_dom *s, uint64_t now, struct xg_dom_info *out);
void sim_dom_remove(struct xg_drv *d, struct sim_dom *s);
void sim_dom_set_running(struct sim_dom *s, bool running, uint64_t now);
/* Memory a domain of this shape needs (libxl_domain_need_memory-like). */
uint64_t sim_dom_need(enum xg_dom_type type, uint64_t target, uint32_t vcpus);
/* Adds a domain; fails with HOST_NOT_ENOUGH_FREE_MEMORY or when domids run out. */
struct sim_dom *sim_dom_add(struct xg_drv *d, const char *uuid, const char *name,
                            enum xg_dom_type type, uint64_t mem_max, uint64_t target,
                            uint32_t vcpus_max, uint32_t vcpus_online, xg_err *err);

/* sim_dom.c too: the shape of a new domain that is not in the spec (PV
 * drivers, distro, hostility); from the fixture when uuid is one of them. */
void sim_dom_apply_fixture(struct xg_drv *d, struct sim_dom *s);
/* Sorts d->fix[0..nfix) by uuid for sim_dom_apply_fixture's lookup. */
void sim_fix_index_sort(struct xg_drv *d);

/* sim_stats.c */
bool sim_host_info(struct xg_drv *d, struct xg_host_info *out, xg_err *err);
bool sim_host_console(struct xg_drv *d, xg_arena *a, size_t max, char **out, xg_err *err);
bool sim_host_stats(struct xg_drv *d, xg_arena *a, struct xg_host_stats *out, xg_err *err);
bool sim_pcpu_list(struct xg_drv *d, xg_arena *a, struct xg_pcpu_info **out,
                   uint32_t *n_out, xg_err *err);
bool sim_dom_vcpus(struct xg_drv *d, uint32_t domid, xg_arena *a,
                   struct xg_vcpu_info **out, uint32_t *n_out, xg_err *err);
bool sim_dom_stats(struct xg_drv *d, uint32_t domid, xg_arena *a,
                   struct xg_dom_stats *out, xg_err *err);
uint64_t sim_dom_cpu_ns(const struct sim_dom *s, uint64_t now);

/* sim_guest.c */
bool sim_guest_read(struct xg_drv *d, uint32_t domid, const char *path,
                    char *buf, size_t len, xg_err *err);
bool sim_guest_list(struct xg_drv *d, uint32_t domid, const char *path, xg_arena *a,
                    char ***names_out, uint32_t *n_out, uint32_t max, xg_err *err);

/* sim_console.c: the guests' text consoles (own lock and thread). */
struct sim_consoles;
bool sim_consoles_new(struct xg_drv *d);
void sim_consoles_free(struct xg_drv *d);
bool sim_console_open(struct xg_drv *d, uint32_t domid, enum xg_console_kind *kind,
                      int *fd, xg_err *err);
/* The domain is removed (d->lock held): its consoles read EOF. */
void sim_console_gone(struct xg_drv *d, uint32_t domid);

/* sim_ops.c: long operations */
bool sim_dom_create(struct xg_drv *d, const struct xg_dom_spec *spec,
                    const xg_done *done, xg_err *err);
bool sim_dom_shutdown(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                      const xg_done *done, xg_err *err);
bool sim_dom_reboot(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                    const xg_done *done, xg_err *err);
bool sim_dom_suspend(struct xg_drv *d, uint32_t domid, const char *path,
                     const xg_done *done, xg_err *err);

/* sim_nic.c: virtual NIC hot-plug */
void sim_dom_set_nics(struct sim_dom *s, const struct xg_nic_spec *nics, uint32_t n);
bool sim_nic_add(struct xg_drv *d, uint32_t domid, const struct xg_nic_spec *nic,
                 const xg_done *done, xg_err *err);
bool sim_nic_remove(struct xg_drv *d, uint32_t domid, uint32_t devid, bool force,
                    const xg_done *done, xg_err *err);
/* Shared with sim_ops.c: a heap job for s, and its completion. */
struct sim_job *sim_job_new(sim_job_fn fn, const struct sim_dom *s, const xg_done *done);
void sim_job_finish(struct sim_job *j, bool ok, const xg_err *e, uint32_t domid);
struct sim_dom *sim_job_dom(struct xg_drv *d, struct sim_job *j, const char *op, xg_err *e);

#endif
