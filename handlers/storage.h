/* storage.h: what the storage handlers (sm.c, sr*.c, pbd.c, vdi*.c, vbd*.c,
 * vm_disks.c) share. Storage is host-side and real on every driver: a disk
 * SR is a directory of qcow2 images named <uuid>.qcow2, an ISO SR a directory
 * of *.iso files. Names from clients never reach a path: images are named by
 * uuids we generate, ISO files by names read from the directory.
 * Everything requires the world lock unless stated otherwise. */
#ifndef XG_STORAGE_H
#define XG_STORAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gw.h"
#include "gw_util.h"

#define GW_SRF(F)  (&xapi_class_sr.fields[XAPI_SR_F_##F])
#define GW_PBDF(F) (&xapi_class_pbd.fields[XAPI_PBD_F_##F])
#define GW_VDIF(F) (&xapi_class_vdi.fields[XAPI_VDI_F_##F])
#define GW_VBDF(F) (&xapi_class_vbd.fields[XAPI_VBD_F_##F])

/* Bounds on what clients can ask for. */
#define GW_VDI_MAX_SIZE (64LL << 40)      /* qcow2's own limit is larger */
#define GW_VBD_MAX_POSITIONS 255          /* userdevice "0".."254" */

/* SR kinds served (sm.c) ------------------------------------------------- */
enum gw_sr_kind { GW_SR_FILE, GW_SR_ISO, GW_SR_UNKNOWN };
enum gw_sr_kind gw_sr_kind_of_type(const char *type);
enum gw_sr_kind gw_sr_kind(const xapi_sr *sr);
/* SM.features of the driver serving sr has `feature`. */
bool gw_sr_has_feature(const xapi_sr *sr, const char *feature);
/* The SM records, one per kind; created if absent. */
bool gw_sm_ensure(xg_err *err);

/* PBD.plug: checks the directory, attaches, refreshes sizes. (sr.c) */
bool gw_pbd_plug(xapi_pbd *pbd, xg_err *err);

/* SR helpers (sr_util.c) -------------------------------------------------- */
/* The directory of sr from its PBD on this host (device_config location);
 * NULL when the SR has no PBD here. */
const char *gw_sr_dir(const xapi_sr *sr);
/* The PBD of sr on this host, or NULL. */
xapi_pbd *gw_sr_pbd(const xapi_sr *sr);
/* SR_HAS_NO_PBDS unless the SR is plugged on this host. */
bool gw_sr_check_plugged(const xapi_sr *sr, xg_err *err);
/* Re-reads physical_size / physical_utilisation (statvfs) and recomputes
 * virtual_allocation. */
void gw_sr_refresh_sizes(xapi_sr *sr);
void gw_sr_update_allowed_operations(xapi_sr *sr);
/* Reconciles the VDIs of an ISO SR with its directory. */
bool gw_sr_scan_iso(xapi_sr *sr, xg_err *err);
/* The same in two steps, so that the directory is read without the world
 * lock: gw_iso_list_dir (any thread; false if the directory is unreadable)
 * lists the *.iso files, gw_sr_scan_iso_apply (world lock) reconciles. */
struct gw_iso_file {
    char name[256];
    int64_t size, allocated;
};
struct gw_iso_list {
    struct gw_iso_file *files;          /* heap */
    uint32_t n;
    bool complete;                      /* every entry read (not cut at the bound) */
};
bool gw_iso_list_dir(const char *dir, struct gw_iso_list *out);
void gw_iso_list_free(struct gw_iso_list *l);
bool gw_sr_scan_iso_apply(xapi_sr *sr, const struct gw_iso_list *l, xg_err *err);
/* First start: the local disk SR and ISO library, pool defaults; every
 * start: SM records, re-plug, the HTTP transfer routes. */
bool gw_storage_init(xg_err *err);
/* /import_raw_vdi and /export_raw_vdi (vdi_http.c). */
void gw_vdi_http_register(void);

/* <dir>/<location>.qcow2 for disk SRs, <dir>/<location> for ISO SRs; built
 * from uuids only. */
bool gw_vdi_path(const xapi_vdi *vdi, char *buf, size_t len, xg_err *err);

/* Image files (image.c) --------------------------------------------------- */
/* qemu-img wrappers: short metadata operations, run synchronously. */
bool gw_image_create(const char *path, int64_t size, xg_err *err);
bool gw_image_overlay(const char *path, const char *backing_name, xg_err *err);
bool gw_image_resize(const char *path, int64_t size, xg_err *err);
/* An empty qcow2 v3 image at path (created, never overwritten) over the
 * qcow2 image backing_path, referred to by backing_name (relative), of its
 * virtual size (qcow2_overlay.c). false with msg. Any thread. */
bool gw_qcow2_overlay(const char *path, const char *backing_path,
                      const char *backing_name, char *msg, size_t len);
/* Starts argv (absolute argv[0]) with its stdin (child_reads) or stdout on
 * the other end of *fd; stderr to /dev/null. -1 on failure. Any thread. */
pid_t gw_spawn_piped(const char *const *argv, bool child_reads, int *fd);
/* A qcow2 image's virtual size and backing file name ("" if none); false
 * if it is unreadable or keeps its data in another file. */
/* `qemu-img info --output=json -f fmt path` into out (NUL-terminated); false if
 * qemu-img failed or its answer did not fit. */
bool gw_image_info_json(const char *path, const char *fmt, char *out, size_t cap);
bool gw_image_info(const char *path, int64_t *vsize, char *backing, size_t blen);
/* Bytes allocated on disk (st_blocks), -1 if the file is gone. */
int64_t gw_image_allocated(const char *path);
/* Runs argv (argv[0] an absolute path) with stdin from /dev/null, waits at
 * most timeout_ms (then kills it), and captures at most len-1 bytes of its
 * stderr into msg. Any thread, no lock. */
bool gw_run_tool(const char *const *argv, int64_t timeout_ms, char *msg,
                 size_t len);
/* Copies the data of src (qcow2 chain, or raw) into the existing qcow2 dst
 * (dst_fresh: dst is all zeroes, so zero blocks stay unallocated). Long:
 * call without the world lock (gw_copy_start). */
#define GW_COPY_TIMEOUT_MS (6LL * 3600 * 1000)
bool gw_image_convert(const char *src, bool src_raw, const char *dst,
                      bool dst_fresh, char *msg, size_t len);

/* Background disk copies (vdi_copy.c) ------------------------------------- */
struct gw_copy_item {
    char src[600], dst[600];
    bool src_raw, dst_fresh;
};
struct gw_copy_job {
    xg_call *c;                 /* deferred call to finish, or NULL */
    struct gw_copy_item *items; /* heap, freed with the job */
    uint32_t n;
    bool ok;                    /* set by the worker */
    char msg[512];
    /* World lock held, after the copies: finishes c, frees ctx. */
    void (*finish)(struct gw_copy_job *j);
    void *ctx;
};
/* Defers j->c and copies on a worker; j (heap) is freed after finish. */
bool gw_copy_start(struct gw_copy_job *j, xg_err *err);
/* Fills an item copying src's data into dst (dst_fresh: a new image). */
bool gw_copy_item_for(xapi_vdi *src, xapi_vdi *dst, bool dst_fresh,
                      struct gw_copy_item *it, xg_err *err);
/* A new empty image in sr shaped like src (XAPI's list of copied fields),
 * added; checks that sr is plugged, can create VDIs and has room. */
xapi_vdi *gw_vdi_copy_target(xapi_vdi *src, xapi_sr *sr, xg_err *err);
/* SR_FULL unless sr has bytes free. */
bool gw_sr_check_room(xapi_sr *sr, int64_t bytes, xg_err *err);

/* VDIs (vdi_util.c) -------------------------------------------------------- */
bool gw_vdi_check_op(xapi_vdi *vdi, int op, xg_err *err);
void gw_vdi_update_allowed_operations(xapi_vdi *vdi);
/* True when a VBD of vdi is attached to a running or paused VM. */
bool gw_vdi_attached(const xapi_vdi *vdi);
/* One HTTP import writes a VDI at a time (vdi_writers.c): claim waits up to
 * timeout_s for another to release it; false if it did not. Never with
 * the world lock held. */
bool gw_vdi_writer_claim(const char *ref, int timeout_s);
void gw_vdi_writer_release(const char *ref);
/* Refreshes physical_utilisation from the file. */
void gw_vdi_refresh_size(xapi_vdi *vdi);
/* New record in sr with a fresh uuid = location; not yet added. */
xapi_vdi *gw_vdi_new(xapi_sr *sr, const char *uuid);
/* Adds a new record, recomputes the SR's allocation; frees it on failure. */
bool gw_vdi_add(xapi_vdi *vdi, xg_err *err);
/* Removes the record and every VBD pointing at it (XAPI semantics). */
void gw_vdi_remove(xapi_vdi *vdi);
/* Deletes the image of vdi, then the hidden bases nobody needs any more. */
void gw_vdi_delete_image(xapi_vdi *vdi);
/* The driver cannot snapshot vdi as it is: attached to a running qemu. */
bool gw_vdi_snapshot_needs_quiet(const xapi_vdi *vdi);
/* A copy-on-write child of vdi (clone or snapshot), already added. */
xapi_vdi *gw_vdi_cow_child(xapi_vdi *vdi, bool snapshot, xg_err *err);

/* VBDs (vbd_util.c) -------------------------------------------------------- */
bool gw_vbd_check_op(xapi_vbd *vbd, int op, xg_err *err);
void gw_vbd_update_allowed_operations(xapi_vbd *vbd);
/* Whether the domain gets this VBD at boot (empty CDs only on HVM). */
bool gw_vbd_boots_with(const xapi_vm *vm, const xapi_vbd *vbd);
/* The driver's view of vbd (strings in a). */
bool gw_vbd_disk(const xapi_vm *vm, const xapi_vbd *vbd, xg_arena *a,
                 struct xg_disk *out, xg_err *err);
/* The disks of vm for a domain build (dom_spec.disks). */
bool gw_vm_disks(const xapi_vm *vm, xg_arena *a, const struct xg_disk **out,
                 uint32_t *n_out, xg_err *err);
/* Allowed ops of every VBD of vm (after a power-state change). */
void gw_vm_vbds_changed(xapi_vm *vm);
/* The running domain got its disks / lost them: currently_attached and
 * device of the VM's VBDs follow. */
void gw_vm_vbds_booted(xapi_vm *vm);
void gw_vm_vbds_stopped(xapi_vm *vm);
/* Position of a userdevice ("0".."254", xvdX, hdX, sdX); -1 if invalid. */
int gw_vbd_position(const char *userdevice);
/* "xvd" + base-26 letters for position n. */
void gw_vbd_device_name(int n, char *buf, size_t len);

#endif
