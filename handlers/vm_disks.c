/* vm_disks.c: the disks side of VM messages: the VBDs a destroyed VM
 * leaves (its VDIs stay, as in XAPI), VM.clone and VM.snapshot
 * (copy-on-write children of each disk), VM.revert (clones of a snapshot's
 * disks), VM.copy (full copies on a worker, into one SR or each disk's
 * own), VM.provision (the disks a template's other_config:disks asks for)
 * and VM.get_allowed_VBD_devices. World lock held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/log.h"
#include "net.h"
#include "storage.h"
#include "vm_disks.h"
#include "vm_internal.h"

#define GW_PROVISION_MAX_DISKS 16

void gw_vm_remove_vbds(xapi_vm *vm)
{
    while (vm->vbds.n) {
        const xg_ref *b = vm->vbds.items;
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[vm->vbds.n - 1].s);
        if (!vbd)
            break;
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vbd->vdi.s);
        xg_store_remove(vbd);
        if (vdi)
            gw_vdi_update_allowed_operations(vdi);
    }
}

/* A VBD of dst like src's, holding vdi_ref (NULL: empty). */
static bool add_vbd_like(const xapi_vbd *src, xapi_vm *dst, const char *vdi_ref,
                         xg_err *err)
{
    xapi_vbd *vbd = xg_obj_new(&xapi_class_vbd);
    static const uint32_t fields[] = {
        XAPI_VBD_F_USERDEVICE, XAPI_VBD_F_BOOTABLE, XAPI_VBD_F_MODE,
        XAPI_VBD_F_TYPE, XAPI_VBD_F_UNPLUGGABLE, XAPI_VBD_F_OTHER_CONFIG,
        XAPI_VBD_F_QOS_ALGORITHM_TYPE, XAPI_VBD_F_QOS_ALGORITHM_PARAMS,
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const xg_field_desc *f = &xapi_class_vbd.fields[fields[i]];
        gw_init_field(vbd, fields[i], (const char *)src + f->offset);
    }
    bool empty = vdi_ref == NULL;
    gw_init_field(vbd, XAPI_VBD_F_EMPTY, &empty);
    gw_init_ref(vbd, XAPI_VBD_F_VDI, vdi_ref ? vdi_ref : XG_REF_NULL);
    gw_init_ref(vbd, XAPI_VBD_F_VM, dst->obj.ref.s);
    if (!xg_store_add(vbd, NULL, err)) {
        xg_obj_free(vbd);
        return false;
    }
    gw_vbd_update_allowed_operations(vbd);
    xapi_vdi *vdi = vdi_ref ? xg_store_get(&xapi_class_vdi, vdi_ref) : NULL;
    if (vdi)
        gw_vdi_update_allowed_operations(vdi);
    return true;
}

/* Disks are cloned (or copied), CDs keep their medium. */
static bool is_disk(const xapi_vbd *vbd)
{
    return vbd->type != XAPI_VBD_TYPE_CD && !vbd->empty;
}

/* Undoes a half-made VM: its VBDs, the VDIs made for it, the record. */
static void discard_vm(xapi_vm *vm, char (*made)[XG_REF_LEN], uint32_t nmade)
{
    gw_vm_remove_vbds(vm);
    for (uint32_t i = 0; i < nmade; i++) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, made[i]);
        if (vdi) {
            gw_vdi_delete_image(vdi);
            gw_vdi_remove(vdi);
        }
    }
    gw_vm_detach_runtime_objects(vm);
    xg_store_remove(vm);
}

void gw_vm_discard_with_disks(xapi_vm *vm)
{
    if (!vm)
        return;
    uint32_t n = vm->vbds.n;
    char (*made)[XG_REF_LEN] = calloc(n ? n : 1, XG_REF_LEN);
    for (uint32_t i = 0; made && i < n; i++) {
        const xg_ref *b = vm->vbds.items;
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        xapi_vdi *vdi = vbd && is_disk(vbd) ? xg_store_get(&xapi_class_vdi, vbd->vdi.s) : NULL;
        if (vdi && vdi->vbds.n == 1)
            snprintf(made[i], XG_REF_LEN, "%s", vdi->obj.ref.s);
    }
    gw_vif_destroy_all(vm);
    discard_vm(vm, made, made ? n : 0);
    free(made);
}

static bool in_set(const xg_set *s, const char *ref)
{
    const xg_ref *r = s ? s->items : NULL;
    for (uint32_t i = 0; s && i < s->n; i++)
        if (strcmp(r[i].s, ref) == 0)
            return true;
    return false;
}

/* dst gets VBDs like src's: disk VBD i holds disk_for[i] (skipped when
 * "": a disk left out), CDs keep their medium. The one VBD-copy step of
 * snapshot, clone and revert. */
static bool add_vbds_like(xapi_vm *src, xapi_vm *dst,
                          char (*disk_for)[XG_REF_LEN], xg_err *err)
{
    for (uint32_t i = 0; i < src->vbds.n; i++) {
        const xg_ref *b = src->vbds.items;
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!vbd)
            continue;
        if (is_disk(vbd) && !disk_for[i][0])
            continue;
        const char *vdi_ref = is_disk(vbd) ? disk_for[i] :
                              vbd->empty ? NULL : vbd->vdi.s;
        if (!add_vbd_like(vbd, dst, vdi_ref, err))
            return false;
    }
    return true;
}

/* dst gets src's VBDs with copy-on-write children of the disks (snapshots
 * or clones); disks in skip are left out, CDs keep their medium. */
static bool cow_disks(xapi_vm *src, xapi_vm *dst, bool snapshot,
                      const xg_set *skip, xg_err *err)
{
    uint32_t n = src->vbds.n;
    char (*made)[XG_REF_LEN] = calloc(n ? n : 1, XG_REF_LEN);
    if (!made)
        return xg_err_internal(err, "out of memory");
    bool ok = false;
    for (uint32_t i = 0; i < n; i++) {
        const xg_ref *b = src->vbds.items;
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!vbd || !is_disk(vbd) || (snapshot && in_set(skip, vbd->vdi.s)))
            continue;
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vbd->vdi.s);
        if (vdi && snapshot &&
            !gw_vdi_check_op(vdi, XAPI_VDI_OPERATIONS_SNAPSHOT, err))
            goto out;
        xapi_vdi *child = vdi ? gw_vdi_cow_child(vdi, snapshot, err) : NULL;
        if (!child)
            goto out;
        snprintf(made[i], XG_REF_LEN, "%s", child->obj.ref.s);
        gw_vdi_update_allowed_operations(vdi);
    }
    ok = add_vbds_like(src, dst, made, err);
out:
    if (!ok)
        discard_vm(dst, made, n);
    free(made);
    return ok;
}

bool gw_vm_clone_disks(xapi_vm *src, xapi_vm *dst, xg_err *err)
{
    return cow_disks(src, dst, false, NULL, err);
}

bool gw_vm_snapshot_disks(xapi_vm *src, xapi_vm *dst, const xg_set *ignore,
                          xg_err *err)
{
    return cow_disks(src, dst, true, ignore, err);
}

/* ---- VM.revert ------------------------------------------------------------------ */

/* The VDI of vm's disk VBD that snapshot VDI s was taken of, or NULL. */
static xapi_vdi *live_of(const xapi_vm *vm, const xapi_vdi *s)
{
    const xg_ref *b = vm->vbds.items;
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (vbd && is_disk(vbd) && strcmp(vbd->vdi.s, s->snapshot_of.s) == 0)
            return xg_store_get(&xapi_class_vdi, vbd->vdi.s);
    }
    return NULL;
}

/* Other snapshots of old now count as snapshots of its replacement. */
static void repoint_snapshots(xapi_vdi *old, const char *new_ref)
{
    while (old->snapshots.n) {
        const xg_ref *s = old->snapshots.items;
        xapi_vdi *o = xg_store_get(&xapi_class_vdi, s[old->snapshots.n - 1].s);
        if (!o)
            break;
        gw_set_ref(o, &xapi_class_vdi.fields[XAPI_VDI_F_SNAPSHOT_OF], new_ref);
    }
}

bool gw_vm_revert_disks(xapi_vm *snap, xapi_vm *vm, xg_err *err)
{
    uint32_t n = snap->vbds.n;
    char (*made)[XG_REF_LEN] = calloc(n ? n : 1, XG_REF_LEN);
    char (*olds)[XG_REF_LEN] = calloc(n ? n : 1, XG_REF_LEN);
    bool ok = false;
    if (!made || !olds) {
        xg_err_internal(err, "out of memory");
        goto out;
    }
    /* 1. clones of the snapshot's disks: nothing of vm is touched yet, so
     * a failure here leaves it as it was. */
    const xg_ref *b = snap->vbds.items;
    for (uint32_t i = 0; i < n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        xapi_vdi *s = vbd && is_disk(vbd) ?
            xg_store_get(&xapi_class_vdi, vbd->vdi.s) : NULL;
        if (!s)
            continue;
        xapi_vdi *clone = gw_vdi_cow_child(s, false, err);
        if (!clone) {
            for (uint32_t k = 0; k < i; k++) {
                xapi_vdi *v = made[k][0] ?
                    xg_store_get(&xapi_class_vdi, made[k]) : NULL;
                if (v) {
                    gw_vdi_delete_image(v);
                    gw_vdi_remove(v);
                }
            }
            goto out;
        }
        gw_vdi_update_allowed_operations(s);
        snprintf(made[i], XG_REF_LEN, "%s", clone->obj.ref.s);
        xapi_vdi *live = live_of(vm, s);
        if (live)
            snprintf(olds[i], XG_REF_LEN, "%s", live->obj.ref.s);
    }
    /* 2. vm's VBDs go; the disks the snapshot has a copy of go with them
     * (their snapshots now hang from the clone), disks added after the
     * snapshot are only detached. */
    gw_vm_remove_vbds(vm);
    for (uint32_t i = 0; i < n; i++) {
        xapi_vdi *old = olds[i][0] ? xg_store_get(&xapi_class_vdi, olds[i]) : NULL;
        if (!old)
            continue;
        repoint_snapshots(old, made[i]);
        gw_vdi_delete_image(old);
        gw_vdi_remove(old);
    }
    /* 3. VBDs like the snapshot's, on the clones; CDs as they are. */
    if (!add_vbds_like(snap, vm, made, err))
        goto out;
    ok = true;
out:
    free(made);
    free(olds);
    return ok;
}

/* ---- VM.copy -------------------------------------------------------------------- */

struct vm_copy_ctx {
    char vm[XG_REF_LEN];
    uint32_t nmade;
    char (*made)[XG_REF_LEN];
};

static void vm_copy_finish(struct gw_copy_job *j)
{
    struct vm_copy_ctx *x = j->ctx;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, x->vm);
    xg_err err = XG_ERR_INIT;
    bool ok = j->ok && vm;
    if (!ok) {
        if (vm)
            discard_vm(vm, x->made, x->nmade);
        xapi_err_vdi_io_error(&err, j->msg[0] ? j->msg : "copy failed");
    } else {
        for (uint32_t i = 0; i < x->nmade; i++) {
            xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, x->made[i]);
            if (vdi)
                gw_vdi_refresh_size(vdi);
        }
    }
    xg_ref r;
    snprintf(r.s, sizeof r.s, "%s", x->vm);
    xg_call_finish(j->c, ok, &err, &r);
    free(x->made);
    free(x);
}

bool gw_vm_copy_disks(xg_call *c, xapi_vm *src, xapi_vm *dst, xapi_sr *sr,
                      xg_err *err)
{
    uint32_t n = src->vbds.n;
    struct vm_copy_ctx *x = calloc(1, sizeof *x);
    struct gw_copy_job *j = calloc(1, sizeof *j);
    struct gw_copy_item *items = calloc(n ? n : 1, sizeof *items);
    char (*made)[XG_REF_LEN] = calloc(n ? n : 1, XG_REF_LEN);
    uint32_t nmade = 0;
    if (!x || !j || !items || !made) {
        xg_err_internal(err, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        const xg_ref *b = src->vbds.items;
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!vbd)
            continue;
        const char *vdi_ref = vbd->empty ? NULL : vbd->vdi.s;
        if (is_disk(vbd)) {
            xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vbd->vdi.s);
            xapi_sr *to = sr ? sr : vdi ? xg_store_get(&xapi_class_sr, vdi->sr.s) : NULL;
            if (!vdi || !to) {
                xg_err_internal(err, "VBD %s has no VDI", vbd->uuid);
                goto fail;
            }
            if (!gw_vdi_check_op(vdi, XAPI_VDI_OPERATIONS_COPY, err))
                goto fail;
            xapi_vdi *copy = gw_vdi_copy_target(vdi, to, err);
            if (!copy)
                goto fail;
            snprintf(made[nmade++], XG_REF_LEN, "%s", copy->obj.ref.s);
            if (!gw_copy_item_for(vdi, copy, true, &items[j->n++], err))
                goto fail;
            vdi_ref = copy->obj.ref.s;
        }
        if (!add_vbd_like(vbd, dst, vdi_ref, err))
            goto fail;
    }
    snprintf(x->vm, sizeof x->vm, "%s", dst->obj.ref.s);
    x->made = made;
    x->nmade = nmade;
    j->c = c;
    j->items = items;
    j->finish = vm_copy_finish;
    j->ctx = x;
    if (!gw_copy_start(j, err))
        goto fail;
    return true;
fail:
    discard_vm(dst, made, nmade);
    free(x);
    free(j);
    free(items);
    free(made);
    return false;
}

/* ---- VM.provision ------------------------------------------------------------------ */

struct disk_req {
    char device[16], sr[64], type[16];
    int64_t size;
    bool bootable;
};

/* Value of attr="…" inside one <disk …/> element (no entities in XAPI's). */
static bool attr(const char *el, const char *end, const char *name, char *out,
                 size_t len)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %s=\"", name);
    const char *p = strstr(el, pat);
    if (!p || p >= end)
        return false;
    p += strlen(pat);
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q || (size_t)(q - p) >= len)
        return false;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = 0;
    return true;
}

/* Parses <provision><disk device="0" size="…" sr="" bootable="true"
 * type="system"/>…</provision>; INVALID_VALUE on anything else. */
static bool parse_disks(const char *xml, struct disk_req *out, uint32_t *n_out,
                        xg_err *err)
{
    uint32_t n = 0;
    const char *p = xml;
    while ((p = strstr(p, "<disk")) != NULL) {
        const char *end = strchr(p, '>');
        if (!end || n >= GW_PROVISION_MAX_DISKS)
            return xapi_err_invalid_value(err, "other_config:disks", "too many or malformed disks");
        struct disk_req *d = &out[n];
        char size[32] = "", boot[8] = "";
        memset(d, 0, sizeof *d);
        if (!attr(p, end, "device", d->device, sizeof d->device) ||
            !attr(p, end, "size", size, sizeof size))
            return xapi_err_invalid_value(err, "other_config:disks", "disk without device or size");
        attr(p, end, "sr", d->sr, sizeof d->sr);
        attr(p, end, "type", d->type, sizeof d->type);
        attr(p, end, "bootable", boot, sizeof boot);
        char *e;
        d->size = strtoll(size, &e, 10);
        if (*e || d->size < 0 || d->size > GW_VDI_MAX_SIZE ||
            gw_vbd_position(d->device) < 0)
            return xapi_err_invalid_value(err, "other_config:disks", size);
        d->bootable = strcmp(boot, "true") == 0;
        n++;
        p = end;
    }
    *n_out = n;
    return true;
}

static int vdi_type_of(const char *t)
{
    const xg_enum_desc *e = GW_VDIF(TYPE)->type->enm;
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->values[i], t) == 0)
            return i;
    return XAPI_VDI_TYPE_SYSTEM;
}

static bool provision_one(xapi_vm *vm, const struct disk_req *d,
                          char made[XG_REF_LEN], xg_err *err)
{
    xapi_sr *sr = d->sr[0] ? xg_store_get_by_uuid(&xapi_class_sr, d->sr) : NULL;
    if (!sr)
        sr = xg_store_get(&xapi_class_sr, gw_pool()->default_sr.s);
    if (!sr)
        return xapi_err_operation_not_allowed(err, "no SR for the template's disks (pool.default_SR is not set)");
    if (!gw_sr_check_plugged(sr, err))
        return false;
    if (!gw_sr_has_feature(sr, "VDI_CREATE"))
        return xapi_err_sr_operation_not_supported(err, sr->obj.ref.s);
    xapi_vdi *vdi = gw_vdi_new(sr, NULL);
    int64_t size = (d->size + 511) / 512 * 512;
    int type = vdi_type_of(d->type[0] ? d->type : "system");
    gw_init_str(vdi, XAPI_VDI_F_NAME_LABEL, vm->name_label);
    gw_init_str(vdi, XAPI_VDI_F_NAME_DESCRIPTION, "Created by template provisioner");
    gw_init_field(vdi, XAPI_VDI_F_VIRTUAL_SIZE, &size);
    gw_init_field(vdi, XAPI_VDI_F_TYPE, &type);
    const char *k = "image-format", *v = "qcow2";
    xg_map sm = {(void *)&k, (void *)&v, 1, 1};
    gw_init_field(vdi, XAPI_VDI_F_SM_CONFIG, &sm);
    char path[600];
    if (!gw_vdi_path(vdi, path, sizeof path, err) ||
        !gw_image_create(path, size, err)) {
        xg_obj_free(vdi);
        return false;
    }
    if (!gw_vdi_add(vdi, err))
        return false;
    snprintf(made, XG_REF_LEN, "%s", vdi->obj.ref.s);
    gw_vdi_refresh_size(vdi);
    xapi_vbd *vbd = xg_obj_new(&xapi_class_vbd);
    int disk = XAPI_VBD_TYPE_DISK, rw = XAPI_VBD_MODE_RW;
    bool no = false, yes = true;
    const char *ok = "owner", *ov = "";
    xg_map oc = {(void *)&ok, (void *)&ov, 1, 1};
    gw_init_ref(vbd, XAPI_VBD_F_VM, vm->obj.ref.s);
    gw_init_ref(vbd, XAPI_VBD_F_VDI, vdi->obj.ref.s);
    gw_init_str(vbd, XAPI_VBD_F_USERDEVICE, d->device);
    gw_init_field(vbd, XAPI_VBD_F_BOOTABLE, &d->bootable);
    gw_init_field(vbd, XAPI_VBD_F_MODE, &rw);
    gw_init_field(vbd, XAPI_VBD_F_TYPE, &disk);
    gw_init_field(vbd, XAPI_VBD_F_EMPTY, &no);
    gw_init_field(vbd, XAPI_VBD_F_UNPLUGGABLE, &yes);
    gw_init_field(vbd, XAPI_VBD_F_OTHER_CONFIG, &oc);
    if (!xg_store_add(vbd, NULL, err)) {
        xg_obj_free(vbd);
        return false;
    }
    gw_vbd_update_allowed_operations(vbd);
    gw_vdi_update_allowed_operations(vdi);
    return true;
}

bool gw_vm_provision_disks(xapi_vm *vm, const char *xml, xg_err *err)
{
    struct disk_req reqs[GW_PROVISION_MAX_DISKS];
    uint32_t n = 0;
    if (!parse_disks(xml, reqs, &n, err))
        return false;
    char made[GW_PROVISION_MAX_DISKS][XG_REF_LEN];
    uint32_t nmade = 0;
    for (uint32_t i = 0; i < n; i++) {
        const xg_ref *b = vm->vbds.items;
        int pos = gw_vbd_position(reqs[i].device);
        for (uint32_t k = 0; k < vm->vbds.n; k++) {
            xapi_vbd *o = xg_store_get(&xapi_class_vbd, b[k].s);
            if (o && gw_vbd_position(o->userdevice) == pos) {
                xapi_err_device_already_exists(err, reqs[i].device);
                goto fail;
            }
        }
        if (!provision_one(vm, &reqs[i], made[nmade], err))
            goto fail;
        nmade++;
    }
    return true;
fail:
    for (uint32_t i = 0; i < nmade; i++) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, made[i]);
        if (vdi) {
            gw_vdi_delete_image(vdi);
            gw_vdi_remove(vdi);
        }
    }
    return false;
}

/* ---- allowed devices ----------------------------------------------------------------- */

bool gw_vm_allowed_vbd_devices(xg_call *c, const xapi_vm *vm, int slots,
                               xg_set *out, xg_err *err)
{
    char **items = xg_arena_alloc(c->arena, (size_t)slots * sizeof *items);
    if (!items)
        return xg_err_internal(err, "out of memory");
    uint32_t n = 0;
    for (int pos = 0; pos < slots; pos++) {
        bool used = false;
        const xg_ref *b = vm->vbds.items;
        for (uint32_t i = 0; i < vm->vbds.n && !used; i++) {
            xapi_vbd *o = xg_store_get(&xapi_class_vbd, b[i].s);
            used = o && (gw_vbd_position(o->userdevice) == pos ||
                         (o->device[0] && gw_vbd_position(o->device) == pos));
        }
        if (used)
            continue;
        char buf[16];
        snprintf(buf, sizeof buf, "%d", pos);
        items[n] = xg_arena_strdup(c->arena, buf);
        if (!items[n])
            return xg_err_internal(err, "out of memory");
        n++;
    }
    out->items = items;
    out->n = out->cap = n;
    return true;
}
