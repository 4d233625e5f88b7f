/* vm_disks.h: the disks side of VM messages (vm_disks.c). World lock held. */
#ifndef XG_VM_DISKS_H
#define XG_VM_DISKS_H

#include "storage.h"

/* Removes the VM's VBDs (its VDIs stay, as XAPI's VM.destroy). */
void gw_vm_remove_vbds(xapi_vm *vm);
/* dst gets src's VBDs: disks as copy-on-write clones, CDs as they are. On
 * failure dst (already added) is discarded with what was made for it. */
bool gw_vm_clone_disks(xapi_vm *src, xapi_vm *dst, xg_err *err);
/* dst gets src's VBDs with snapshots of its disks (is_a_snapshot,
 * snapshot_of the live VDI), except those in ignore; CDs as they are. On
 * failure dst is discarded. */
bool gw_vm_snapshot_disks(xapi_vm *src, xapi_vm *dst, const xg_set *ignore,
                          xg_err *err);
/* vm's VBDs are replaced by ones like snap's, on fresh clones of snap's
 * disks; vm's disks that snap holds a snapshot of are destroyed, others
 * only detached. On failure before vm is touched, vm is as it was. */
bool gw_vm_revert_disks(xapi_vm *snap, xapi_vm *vm, xg_err *err);
/* dst gets src's VBDs with full copies of the disks into sr (NULL: each
 * disk's own SR) made on a worker; c is deferred and finished with dst's
 * ref. On failure dst is discarded. */
bool gw_vm_copy_disks(xg_call *c, xapi_vm *src, xapi_vm *dst, xapi_sr *sr,
                      xg_err *err);
/* Removes vm (a snapshot or a half-made VM) with its VBDs, VIFs and the
 * disks only it uses (snapshot VDIs made for it). */
void gw_vm_discard_with_disks(xapi_vm *vm);
/* Creates the disks of a template's other_config:disks XML. */
bool gw_vm_provision_disks(xapi_vm *vm, const char *xml, xg_err *err);
/* The positions 0..slots-1 no VBD of vm uses, as decimal strings. */
bool gw_vm_allowed_vbd_devices(xg_call *c, const xapi_vm *vm, int slots,
                               xg_set *out, xg_err *err);

#endif
