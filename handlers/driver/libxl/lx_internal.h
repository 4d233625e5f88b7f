/* lx_internal.h: the libxl driver's state, shared by the files of libxl/
 * only. libxl types never leave this directory.
 *
 * Threads: ops run on the caller's thread (world lock held) and only ever
 * make short libxl calls there. Everything slow or callback-driven runs on
 * the driver's event thread (lx_events.c), which owns libxl's event loop
 * and is the only thread that calls done->fn and ev->dom_changed.
 * Locking: d->lock guards the queue and the per-domid tables; it is never
 * held across a libxl call, because libxl may invoke our callbacks from
 * inside any libxl call on any thread. */
#ifndef XG_LX_INTERNAL_H
#define XG_LX_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libxl.h>
#include <xenstore.h>

/* xenctrl.h needs GNU C (anonymous unions): only lx_host.c includes it. */
typedef struct xc_interface_core xc_interface;

#include "../driver.h"

#define LX_DOMID_LIMIT 0x7FF0u       /* DOMID_FIRST_RESERVED */
#define LX_MAX_DEVS 64u              /* vifs/vbds per domain, pifs per host */

enum lx_work_kind {
    LX_W_AO_DONE,        /* an ao callback fired: finish op */
    LX_W_EVENT,          /* a domain shutdown/death event */
    LX_W_HARD_REBOOT,    /* slow work to do on the event thread */
};

enum lx_op_kind { LX_OP_CREATE, LX_OP_SHUTDOWN, LX_OP_HARD_SHUTDOWN,
                  LX_OP_REBOOT, LX_OP_SUSPEND, LX_OP_NIC };

/* One long operation in flight; owned by the driver until done fires. */
struct lx_op {
    struct xg_drv *d;
    enum lx_op_kind kind;
    xg_done done;
    uint32_t domid;                 /* libxl writes it for create */
    int rc;                         /* ao result */
    int fd;                         /* suspend image / restore stream, -1 */
    bool start_paused;
    bool have_config;
    libxl_domain_config config;     /* create / reboot */
    libxl_device_nic nic;           /* nic hot-plug */
    libxl_asyncop_how how;
};

struct lx_work {
    struct lx_work *next;
    enum lx_work_kind kind;
    struct lx_op *op;
    uint32_t domid;
    int shutdown_reason;            /* LIBXL_SHUTDOWN_REASON_*, -1 = death */
};

struct xg_drv {
    libxl_ctx *ctx;
    xentoollog_logger *logger;
    xc_interface *xch;              /* pcpu idle times: libxl has no API */
    struct xs_handle *xs;           /* guest data, backend device lists */
    struct xg_drv_events ev;
    char state_dir[256];

    pthread_mutex_t lock;
    struct lx_work *head, *tail;    /* for the event thread */
    libxl_evgen_domain_death **watch;   /* indexed by domid */
    struct lx_op **waiting;         /* clean shutdown/reboot waiting for the guest */
    int wake[2];                    /* self-pipe into the event thread's poll */
    pthread_t thread;
    bool thread_started, stop;
};

/* lx_ctx.c */
xentoollog_logger *lx_logger_new(void);
void lx_logger_free(xentoollog_logger *lg);

/* lx_errors.c: libxl rc → xg_err; what names the operation for the log. */
bool lx_err(xg_err *err, int rc, const char *what, uint32_t domid);

/* lx_config.c: the pure translation of a spec (see lx_config.h). */

/* lx_events.c */
bool lx_events_start(struct xg_drv *d, xg_err *err);
void lx_events_stop(struct xg_drv *d);
void lx_queue(struct xg_drv *d, struct lx_work *w);
/* Starts the death/shutdown watch of domid if there is none. */
void lx_watch(struct xg_drv *d, uint32_t domid);
/* ao callback: hands the op to the event thread. */
void lx_ao_callback(libxl_ctx *ctx, int rc, void *for_callback);
struct lx_op *lx_op_new(struct xg_drv *d, enum lx_op_kind kind, uint32_t domid,
                        const xg_done *done);
void lx_op_free(struct lx_op *op);
/* Runs on the event thread: completes an op (calls done) and frees it. */
void lx_op_finish(struct lx_op *op, bool ok, const xg_err *err, uint32_t domid);

/* lx_console.c: see driver.h console_open. */
bool lx_console_open(struct xg_drv *d, uint32_t domid, enum xg_console_kind *kind, int *fd,
                     xg_err *err);
/* Where an HVM guest's qemu serves VNC: <state dir>/vnc-<uuid>; false when
 * that does not fit a socket address. */
bool lx_console_vnc_path(struct xg_drv *d, const char *uuid, char *out, size_t len);
/* An HVM guest's qemu serves VNC on that socket (and nowhere else). */
void lx_console_vnc_setup(struct xg_drv *d, const char *uuid, libxl_domain_build_info *b);

/* lx_ops.c: finishing work on the event thread */
void lx_ops_on_ao_done(struct xg_drv *d, struct lx_op *op);
void lx_ops_on_event(struct xg_drv *d, uint32_t domid, int reason);
void lx_ops_hard_reboot(struct xg_drv *d, struct lx_op *op);
bool lx_dom_create(struct xg_drv *d, const struct xg_dom_spec *spec,
                   const xg_done *done, xg_err *err);
bool lx_dom_shutdown(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                     const xg_done *done, xg_err *err);
bool lx_dom_reboot(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                   const xg_done *done, xg_err *err);
bool lx_dom_suspend(struct xg_drv *d, uint32_t domid, const char *path,
                    const xg_done *done, xg_err *err);
bool lx_dom_destroy(struct xg_drv *d, uint32_t domid, xg_err *err);
bool lx_dom_pause(struct xg_drv *d, uint32_t domid, xg_err *err);
bool lx_dom_unpause(struct xg_drv *d, uint32_t domid, xg_err *err);
bool lx_set_memory_target(struct xg_drv *d, uint32_t domid, uint64_t bytes, xg_err *err);
bool lx_set_vcpus_online(struct xg_drv *d, uint32_t domid, uint32_t n, xg_err *err);
/* lx_nic.c */
/* lx_disk.c */
bool lx_disk_add(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk, xg_err *err);
bool lx_disk_remove(struct xg_drv *d, uint32_t domid, const char *vdev, bool force,
                    xg_err *err);
bool lx_cdrom_change(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                     xg_err *err);
bool lx_nic_add(struct xg_drv *d, uint32_t domid, const struct xg_nic_spec *nic,
                const xg_done *done, xg_err *err);
bool lx_nic_remove(struct xg_drv *d, uint32_t domid, uint32_t devid, bool force,
                   const xg_done *done, xg_err *err);

/* lx_host.c */
xc_interface *lx_xc_open(void);
void lx_xc_close(xc_interface *xch);
bool lx_host_console(struct xg_drv *d, xg_arena *a, size_t max, char **out, xg_err *err);
bool lx_host_info(struct xg_drv *d, struct xg_host_info *out, xg_err *err);
bool lx_host_stats(struct xg_drv *d, xg_arena *a, struct xg_host_stats *out, xg_err *err);
bool lx_pcpu_list(struct xg_drv *d, xg_arena *a, struct xg_pcpu_info **out,
                  uint32_t *n_out, xg_err *err);

/* lx_stats.c */
void lx_fill_info(const libxl_dominfo *i, struct xg_dom_info *out);
bool lx_dom_list(struct xg_drv *d, xg_arena *a, struct xg_dom_info **out,
                 uint32_t *n_out, xg_err *err);
bool lx_dom_info(struct xg_drv *d, uint32_t domid, struct xg_dom_info *out, xg_err *err);
bool lx_dom_vcpus(struct xg_drv *d, uint32_t domid, xg_arena *a,
                  struct xg_vcpu_info **out, uint32_t *n_out, xg_err *err);
bool lx_dom_stats(struct xg_drv *d, uint32_t domid, xg_arena *a,
                  struct xg_dom_stats *out, xg_err *err);

/* lx_guest.c */
bool lx_guest_read(struct xg_drv *d, uint32_t domid, const char *path,
                   char *buf, size_t len, xg_err *err);
bool lx_guest_list(struct xg_drv *d, uint32_t domid, const char *path, xg_arena *a,
                   char ***names_out, uint32_t *n_out, uint32_t max, xg_err *err);

#endif
