/* vdi_util.c: VDI bookkeeping shared by the VDI, SR and VM handlers:
 * allowed operations with XAPI's checks in XAPI's order, records coming and
 * going (with their VBDs, as XAPI does), and copy-on-write children.
 *
 * Copy-on-write layout (as XAPI's file SRs do with VHD): to snapshot or
 * clone A, A's image becomes a hidden read-only base B (managed=false,
 * rename only, no data copied), and both A and the new child are fresh
 * overlays on B. sm_config:vhd-parent names the parent's uuid (XO reads
 * chains from it). When the last child of a hidden base goes, the base goes
 * too. World lock held. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../server/log.h"
#include "storage.h"
#include "vm_internal.h"

/* ---- allowed operations ---------------------------------------------------- */

static const char *feature_of(int op)
{
    switch (op) {
    case XAPI_VDI_OPERATIONS_SNAPSHOT: return "VDI_SNAPSHOT";
    case XAPI_VDI_OPERATIONS_DESTROY: return "VDI_DELETE";
    case XAPI_VDI_OPERATIONS_RESIZE: return "VDI_RESIZE";
    case XAPI_VDI_OPERATIONS_RESIZE_ONLINE: return "VDI_RESIZE_ONLINE";
    case XAPI_VDI_OPERATIONS_CLONE: return "VDI_CLONE";
    case XAPI_VDI_OPERATIONS_UPDATE: return "VDI_UPDATE";
    case XAPI_VDI_OPERATIONS_GENERATE_CONFIG: return "VDI_GENERATE_CONFIG";
    case XAPI_VDI_OPERATIONS_MIRROR: return "VDI_MIRROR";
    case XAPI_VDI_OPERATIONS_ENABLE_CBT:
    case XAPI_VDI_OPERATIONS_DISABLE_CBT:
    case XAPI_VDI_OPERATIONS_DATA_DESTROY:
    case XAPI_VDI_OPERATIONS_LIST_CHANGED_BLOCKS: return "VDI_CONFIG_CBT";
    case XAPI_VDI_OPERATIONS_SET_ON_BOOT: return "VDI_RESET_ON_BOOT";
    default: return NULL;
    }
}

static bool allowed_while_attached(int op)
{
    switch (op) {
    case XAPI_VDI_OPERATIONS_SNAPSHOT: case XAPI_VDI_OPERATIONS_CLONE:
    case XAPI_VDI_OPERATIONS_RESIZE_ONLINE: case XAPI_VDI_OPERATIONS_MIRROR:
    case XAPI_VDI_OPERATIONS_ENABLE_CBT: case XAPI_VDI_OPERATIONS_DISABLE_CBT:
    case XAPI_VDI_OPERATIONS_DATA_DESTROY:
        return true;
    default:
        return false;
    }
}

static const char *op_name(int op)
{
    const xg_enum_desc *e = GW_VDIF(ALLOWED_OPERATIONS)->type->elem->enm;
    return op >= 0 && op < e->n ? e->values[op] : "";
}

static bool vbd_live(const xapi_vbd *vbd)
{
    return vbd->currently_attached;
}

bool gw_vdi_attached(const xapi_vdi *vdi)
{
    const xg_ref *b = vdi->vbds.items;
    for (uint32_t i = 0; i < vdi->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (vbd && vbd_live(vbd))
            return true;
    }
    return false;
}

/* Attached read-write somewhere (copy is allowed with RO attachments). */
static bool attached_rw(const xapi_vdi *vdi)
{
    const xg_ref *b = vdi->vbds.items;
    for (uint32_t i = 0; i < vdi->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (vbd && vbd_live(vbd) && vbd->mode == XAPI_VBD_MODE_RW)
            return true;
    }
    return false;
}

bool gw_vdi_check_op(xapi_vdi *vdi, int op, xg_err *err)
{
    const char *ref = vdi->obj.ref.s;
    const xg_map *cur = &vdi->current_operations;
    const int *cv = cur->vals;
    char *const *ck = cur->keys;
    for (uint32_t i = 0; i < cur->n; i++)
        if (cv[i] != XAPI_VDI_OPERATIONS_COPY)
            return xapi_err_other_operation_in_progress(err, "VDI", ref,
                                                        op_name(cv[i]), ck[i]);
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    if (!sr)
        return xg_err_internal(err, "VDI without SR");
    if (op == XAPI_VDI_OPERATIONS_RESIZE && !gw_sr_check_plugged(sr, err))
        return false;
    if (!vdi->managed)
        return xapi_err_vdi_not_managed(err, ref);
    if (op == XAPI_VDI_OPERATIONS_COPY ? attached_rw(vdi) :
        !allowed_while_attached(op) && gw_vdi_attached(vdi))
        return xapi_err_vdi_in_use(err, ref, op_name(op));
    const char *feat = feature_of(op);
    if (feat && !gw_sr_has_feature(sr, feat))
        return xapi_err_sr_operation_not_supported(err, sr->obj.ref.s);
    if (vdi->type == XAPI_VDI_TYPE_CBT_METADATA &&
        op != XAPI_VDI_OPERATIONS_DESTROY && op != XAPI_VDI_OPERATIONS_FORGET)
        return xapi_err_vdi_incompatible_type(err, ref, "cbt_metadata");
    if (op == XAPI_VDI_OPERATIONS_SNAPSHOT && vdi->sharable)
        return xapi_err_vdi_is_sharable(err, ref);
    if ((op == XAPI_VDI_OPERATIONS_SNAPSHOT || op == XAPI_VDI_OPERATIONS_COPY) &&
        vdi->on_boot == XAPI_ON_BOOT_RESET)
        return xapi_err_vdi_on_boot_mode_incompatible_with_operation(err);
    if (op == XAPI_VDI_OPERATIONS_SNAPSHOT && cur->n)
        return xapi_err_operation_not_allowed(
            err, "Snapshot operation not allowed during copy.");
    return true;
}

void gw_vdi_update_allowed_operations(xapi_vdi *vdi)
{
    int ops[32];
    uint32_t n = 0;
    const xg_enum_desc *e = GW_VDIF(ALLOWED_OPERATIONS)->type->elem->enm;
    for (int op = 0; op < e->n && n < 32; op++) {
        if (op == XAPI_VDI_OPERATIONS_BLOCKED ||
            op == XAPI_VDI_OPERATIONS_FORCE_UNLOCK)
            continue;
        xg_err err = XG_ERR_INIT;
        if (gw_vdi_check_op(vdi, op, &err))
            ops[n++] = op;
    }
    xg_set s = {ops, n, n};
    xapi_vdi_set_allowed_operations(vdi, &s);
}

/* ---- records ------------------------------------------------------------------ */

void gw_vdi_refresh_size(xapi_vdi *vdi)
{
    char path[600];
    xg_err err = XG_ERR_INIT;
    if (!gw_vdi_path(vdi, path, sizeof path, &err))
        return;
    int64_t a = gw_image_allocated(path);
    if (a >= 0 && a != vdi->physical_utilisation)
        xapi_vdi_set_physical_utilisation(vdi, a);
    if ((a < 0) != vdi->missing)
        xapi_vdi_set_missing(vdi, a < 0);
}

xapi_vdi *gw_vdi_new(xapi_sr *sr, const char *uuid)
{
    xapi_vdi *vdi = xg_obj_new(&xapi_class_vdi);
    char u[XG_UUID_STR];
    if (!uuid) {
        gw_random_uuid(u);
        uuid = u;
    }
    bool yes = true;
    int user = XAPI_VDI_TYPE_USER;
    gw_init_str(vdi, XAPI_VDI_F_UUID, uuid);
    gw_init_str(vdi, XAPI_VDI_F_LOCATION, uuid);
    gw_init_ref(vdi, XAPI_VDI_F_SR, sr->obj.ref.s);
    gw_init_field(vdi, XAPI_VDI_F_MANAGED, &yes);
    gw_init_field(vdi, XAPI_VDI_F_TYPE, &user);
    return vdi;
}

bool gw_vdi_add(xapi_vdi *vdi, xg_err *err)
{
    if (!xg_store_add(vdi, NULL, err)) {
        xg_obj_free(vdi);
        return false;
    }
    gw_vdi_update_allowed_operations(vdi);
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    if (sr)
        gw_sr_refresh_sizes(sr);
    return true;
}

void gw_vdi_remove(xapi_vdi *vdi)
{
    /* CD drives holding it become empty; other VBDs go (VDI.destroy). */
    while (vdi->vbds.n) {
        const xg_ref *b = vdi->vbds.items;
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[vdi->vbds.n - 1].s);
        if (!vbd)
            break;
        xapi_vm *vm = xg_store_get(&xapi_class_vm, vbd->vm.s);
        if (vbd->type == XAPI_VBD_TYPE_CD) {
            xapi_vbd_set_vdi(vbd, XG_REF_NULL);
            xapi_vbd_set_empty(vbd, true);
            gw_vbd_update_allowed_operations(vbd);
        } else {
            xg_store_remove(vbd);
        }
        if (vm)
            gw_vm_update_allowed_operations(vm);
    }
    uint64_t cur = 0;
    xapi_vm *vm;
    if (vdi->type == XAPI_VDI_TYPE_SUSPEND)
        while ((vm = xg_store_next(&xapi_class_vm, &cur)) != NULL)
            if (strcmp(vm->suspend_vdi.s, vdi->obj.ref.s) == 0)
                xapi_vm_set_suspend_vdi(vm, XG_REF_NULL);
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    xg_store_remove(vdi);
    if (sr)
        gw_sr_refresh_sizes(sr);
}

static xapi_vdi *by_uuid_in(const xapi_sr *sr, const char *uuid)
{
    xapi_vdi *v = xg_store_get_by_uuid(&xapi_class_vdi, uuid);
    return v && strcmp(v->sr.s, sr->obj.ref.s) == 0 ? v : NULL;
}

static bool has_children(const xapi_sr *sr, const char *uuid)
{
    const xg_ref *v = sr->vdis.items;
    for (uint32_t i = 0; i < sr->vdis.n; i++) {
        xapi_vdi *o = xg_store_get(&xapi_class_vdi, v[i].s);
        const char *p = o ? gw_smap_get(&o->sm_config, "vhd-parent") : NULL;
        if (p && strcmp(p, uuid) == 0)
            return true;
    }
    return false;
}

void gw_vdi_delete_image(xapi_vdi *vdi)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    char path[600];
    xg_err err = XG_ERR_INIT;
    if (!sr || gw_sr_kind(sr) != GW_SR_FILE ||
        !gw_vdi_path(vdi, path, sizeof path, &err))
        return;
    if (unlink(path) != 0)
        XG_WARN("storage", "VDI %s: cannot delete %s", vdi->uuid, path);
    const char *p = gw_smap_get(&vdi->sm_config, "vhd-parent");
    char parent[XG_UUID_STR];
    snprintf(parent, sizeof parent, "%s", p ? p : "");
    /* The caller still holds vdi's record; it no longer counts as a child. */
    const char *k = "vhd-parent";
    xg_store_map_remove(vdi, GW_VDIF(SM_CONFIG), &k);
    while (parent[0]) {
        xapi_vdi *base = by_uuid_in(sr, parent);
        if (!base || base->managed || has_children(sr, parent))
            break;
        p = gw_smap_get(&base->sm_config, "vhd-parent");
        snprintf(parent, sizeof parent, "%s", p ? p : "");
        if (gw_vdi_path(base, path, sizeof path, &err))
            unlink(path);
        XG_INFO("storage", "hidden base %s no longer needed", base->uuid);
        gw_vdi_remove(base);
    }
}

/* ---- copy-on-write children ------------------------------------------------- */

static void set_parent(xapi_vdi *vdi, const char *parent_uuid)
{
    const char *k = "vhd-parent";
    if (parent_uuid) {
        xg_err e = XG_ERR_INIT;
        xg_store_map_remove(vdi, GW_VDIF(SM_CONFIG), &k);
        xg_store_map_add(vdi, GW_VDIF(SM_CONFIG), &k, &parent_uuid, &e);
    }
}

/* Fields a snapshot or clone takes from its source (XAPI's list). */
static void copy_identity(xapi_vdi *dst, const xapi_vdi *src)
{
    static const uint32_t fields[] = {
        XAPI_VDI_F_NAME_LABEL, XAPI_VDI_F_NAME_DESCRIPTION, XAPI_VDI_F_TYPE,
        XAPI_VDI_F_SHARABLE, XAPI_VDI_F_READ_ONLY, XAPI_VDI_F_OTHER_CONFIG,
        XAPI_VDI_F_XENSTORE_DATA, XAPI_VDI_F_ON_BOOT, XAPI_VDI_F_ALLOW_CACHING,
        XAPI_VDI_F_TAGS, XAPI_VDI_F_VIRTUAL_SIZE,
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const xg_field_desc *f = &xapi_class_vdi.fields[fields[i]];
        gw_init_field(dst, fields[i], (const char *)src + f->offset);
    }
}

static void init_image_format(xapi_vdi *vdi, const char *parent_uuid)
{
    const char *k[] = {"image-format", "vhd-parent"};
    const char *v[] = {"qcow2", parent_uuid};
    xg_map m = {(void *)k, (void *)v, parent_uuid ? 2 : 1, 2};
    gw_init_field(vdi, XAPI_VDI_F_SM_CONFIG, &m);
}

/* A running qemu keeps writing through its open descriptor, which the
 * rename in gw_vdi_cow_child would turn into the shared base: only the
 * simulated domains (which open nothing) may be snapshotted while attached. */
bool gw_vdi_snapshot_needs_quiet(const xapi_vdi *vdi)
{
    return gw_vdi_attached(vdi) && strcmp(gw_drv->name, "sim") != 0;
}

xapi_vdi *gw_vdi_cow_child(xapi_vdi *vdi, bool snapshot, xg_err *err)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    const char *dir = sr ? gw_sr_dir(sr) : NULL;
    if (!dir)
        return xapi_err_sr_has_no_pbds(err, vdi->sr.s), NULL;
    if (gw_vdi_snapshot_needs_quiet(vdi))
        return xapi_err_vdi_in_use(err, vdi->obj.ref.s,
                                   snapshot ? "snapshot" : "clone"), NULL;
    char base_uuid[XG_UUID_STR], child_uuid[XG_UUID_STR];
    char src[600], base[600], child[600], base_name[64];
    gw_random_uuid(base_uuid);
    gw_random_uuid(child_uuid);
    if (!gw_vdi_path(vdi, src, sizeof src, err))
        return NULL;
    snprintf(base, sizeof base, "%s/%s.qcow2", dir, base_uuid);
    snprintf(child, sizeof child, "%s/%s.qcow2", dir, child_uuid);
    snprintf(base_name, sizeof base_name, "%s.qcow2", base_uuid);
    if (rename(src, base) != 0)
        return xapi_err_sr_backend_failure(err, "1", "", "cannot rename the image"), NULL;
    if (!gw_image_overlay(src, base_name, err)) {
        rename(base, src);
        return NULL;
    }
    if (!gw_image_overlay(child, base_name, err)) {
        unlink(src);
        rename(base, src);
        return NULL;
    }
    const char *old_parent = gw_smap_get(&vdi->sm_config, "vhd-parent");
    xapi_vdi *b = gw_vdi_new(sr, base_uuid);
    bool no = false, yes = true;
    copy_identity(b, vdi);
    gw_init_str(b, XAPI_VDI_F_NAME_LABEL, "base copy");
    gw_init_str(b, XAPI_VDI_F_NAME_DESCRIPTION, "");
    gw_init_field(b, XAPI_VDI_F_MANAGED, &no);
    gw_init_field(b, XAPI_VDI_F_READ_ONLY, &yes);
    init_image_format(b, old_parent);
    xapi_vdi *ch = gw_vdi_new(sr, child_uuid);
    copy_identity(ch, vdi);
    init_image_format(ch, base_uuid);
    if (snapshot) {
        int64_t now = (int64_t)time(NULL);
        gw_init_field(ch, XAPI_VDI_F_IS_A_SNAPSHOT, &yes);
        gw_init_ref(ch, XAPI_VDI_F_SNAPSHOT_OF, vdi->obj.ref.s);
        gw_init_field(ch, XAPI_VDI_F_SNAPSHOT_TIME, &now);
    }
    if (!gw_vdi_add(b, err)) {
        xg_obj_free(ch);
        unlink(child);
        return NULL;
    }
    set_parent(vdi, base_uuid);
    if (!gw_vdi_add(ch, err)) {
        unlink(child);
        return NULL;
    }
    gw_vdi_refresh_size(b);
    gw_vdi_refresh_size(vdi);
    gw_vdi_refresh_size(ch);
    return ch;
}
