/* vdi.c: VDI messages over real image files: create, destroy, resize,
 * snapshot, clone, forget, update and the setters, with XAPI's checks in
 * XAPI's order. VDI.copy is in vdi_copy.c (it runs on a worker).
 * World lock held. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../server/log.h"
#include "storage.h"
#include "vm_internal.h"

static int64_t round_up_512(int64_t n)
{
    return (n + 511) / 512 * 512;
}

bool handle_vdi_create(xg_call *c, const xapi_vdi *args, xg_ref *result_out,
                       xg_err *err)
{
    (void)c;
    xapi_sr *sr = xg_store_get(&xapi_class_sr, args->sr.s);
    if (!sr)
        return xapi_err_handle_invalid(err, "SR", args->sr.s);
    if (args->type == XAPI_VDI_TYPE_CBT_METADATA)
        return xapi_err_vdi_incompatible_type(err, "", "cbt_metadata");
    if (!gw_sr_check_plugged(sr, err))
        return false;
    if (!gw_sr_has_feature(sr, "VDI_CREATE"))
        return xapi_err_sr_operation_not_supported(err, sr->obj.ref.s);
    if (args->virtual_size < 0) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)args->virtual_size);
        return xapi_err_invalid_value(err, "virtual_size", v);
    }
    if (args->virtual_size > GW_VDI_MAX_SIZE) {
        char req[32], max[32];
        snprintf(req, sizeof req, "%lld", (long long)args->virtual_size);
        snprintf(max, sizeof max, "%lld", (long long)GW_VDI_MAX_SIZE);
        return xapi_err_sr_full(err, req, max);
    }
    int64_t size = round_up_512(args->virtual_size);
    xapi_vdi *vdi = gw_vdi_new(sr, NULL);
    char path[600];
    if (!gw_vdi_path(vdi, path, sizeof path, err) ||
        !gw_image_create(path, size, err)) {
        xg_obj_free(vdi);
        return false;
    }
    static const uint32_t from_args[] = {
        XAPI_VDI_F_NAME_LABEL, XAPI_VDI_F_NAME_DESCRIPTION, XAPI_VDI_F_TYPE,
        XAPI_VDI_F_SHARABLE, XAPI_VDI_F_READ_ONLY, XAPI_VDI_F_OTHER_CONFIG,
        XAPI_VDI_F_XENSTORE_DATA, XAPI_VDI_F_SM_CONFIG, XAPI_VDI_F_TAGS,
    };
    for (size_t i = 0; i < sizeof from_args / sizeof from_args[0]; i++) {
        const xg_field_desc *f = &xapi_class_vdi.fields[from_args[i]];
        gw_init_field(vdi, from_args[i], (const char *)args + f->offset);
    }
    gw_init_field(vdi, XAPI_VDI_F_VIRTUAL_SIZE, &size);
    int64_t alloc = gw_image_allocated(path);
    gw_init_field(vdi, XAPI_VDI_F_PHYSICAL_UTILISATION, &alloc);
    char uuid[XG_UUID_STR];
    snprintf(uuid, sizeof uuid, "%s", vdi->uuid);
    if (!gw_vdi_add(vdi, err)) {
        unlink(path);
        return false;
    }
    vdi = xg_store_get_by_uuid(&xapi_class_vdi, uuid);
    const char *k = "image-format", *v = "qcow2";
    xg_store_map_remove(vdi, GW_VDIF(SM_CONFIG), &k);
    if (!xg_store_map_add(vdi, GW_VDIF(SM_CONFIG), &k, &v, err))
        return false;
    *result_out = vdi->obj.ref;
    return true;
}

bool handle_vdi_destroy(xg_call *c, xapi_vdi *self, xg_err *err)
{
    (void)c;
    xapi_sr *sr = xg_store_get(&xapi_class_sr, self->sr.s);
    if (!gw_vdi_check_op(self, XAPI_VDI_OPERATIONS_DESTROY, err) ||
        !gw_sr_check_plugged(sr, err))
        return false;
    gw_vdi_delete_image(self);
    gw_vdi_remove(self);
    return true;
}

bool handle_vdi_forget(xg_call *c, xapi_vdi *vdi, xg_err *err)
{
    (void)c;
    if (!gw_vdi_check_op(vdi, XAPI_VDI_OPERATIONS_FORGET, err))
        return false;
    gw_vdi_remove(vdi);
    return true;
}

static bool resize(xapi_vdi *vdi, int64_t size, int op, xg_err *err)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    if (!gw_vdi_check_op(vdi, op, err) || !gw_sr_check_plugged(sr, err))
        return false;
    if (size > GW_VDI_MAX_SIZE) {
        char req[32], max[32];
        snprintf(req, sizeof req, "%lld", (long long)size);
        snprintf(max, sizeof max, "%lld", (long long)GW_VDI_MAX_SIZE);
        return xapi_err_sr_full(err, req, max);
    }
    size = round_up_512(size);
    if (size < vdi->virtual_size)
        return xapi_err_sr_backend_failure(err, "79", "",
                                           "shrinking a VDI is not supported");
    char path[600];
    if (size > vdi->virtual_size &&
        (!gw_vdi_path(vdi, path, sizeof path, err) ||
         !gw_image_resize(path, size, err)))
        return false;
    xapi_vdi_set_virtual_size(vdi, size);
    gw_vdi_refresh_size(vdi);
    gw_sr_refresh_sizes(sr);
    return true;
}

bool handle_vdi_resize(xg_call *c, xapi_vdi *vdi, int64_t size, xg_err *err)
{
    (void)c;
    return resize(vdi, size, XAPI_VDI_OPERATIONS_RESIZE, err);
}

bool handle_vdi_resize_online(xg_call *c, xapi_vdi *vdi, int64_t size,
                              xg_err *err)
{
    (void)c;
    return resize(vdi, size, XAPI_VDI_OPERATIONS_RESIZE_ONLINE, err);
}

static bool cow(xapi_vdi *vdi, bool snapshot, xg_ref *result_out, xg_err *err)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    if (!gw_sr_check_plugged(sr, err) ||
        !gw_vdi_check_op(vdi, snapshot ? XAPI_VDI_OPERATIONS_SNAPSHOT :
                         XAPI_VDI_OPERATIONS_CLONE, err))
        return false;
    xapi_vdi *child = gw_vdi_cow_child(vdi, snapshot, err);
    if (!child)
        return false;
    gw_vdi_update_allowed_operations(vdi);
    *result_out = child->obj.ref;
    return true;
}

bool handle_vdi_snapshot(xg_call *c, xapi_vdi *vdi, const xg_map *driver_params,
                         xg_ref *result_out, xg_err *err)
{
    (void)c;
    (void)driver_params;
    return cow(vdi, true, result_out, err);
}

bool handle_vdi_clone(xg_call *c, xapi_vdi *vdi, const xg_map *driver_params,
                      xg_ref *result_out, xg_err *err)
{
    (void)c;
    (void)driver_params;
    return cow(vdi, false, result_out, err);
}

bool handle_vdi_update(xg_call *c, xapi_vdi *vdi, xg_err *err)
{
    (void)c;
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    if (!gw_vdi_check_op(vdi, XAPI_VDI_OPERATIONS_UPDATE, err) ||
        !gw_sr_check_plugged(sr, err))
        return false;
    gw_vdi_refresh_size(vdi);
    return true;
}

/* ---- setters ----------------------------------------------------------------- */

bool handle_vdi_set_name_label(xg_call *c, xapi_vdi *self, const char *value,
                               xg_err *err)
{
    (void)c;
    (void)err;
    xapi_vdi_set_name_label(self, value);
    return true;
}

bool handle_vdi_set_name_description(xg_call *c, xapi_vdi *self,
                                     const char *value, xg_err *err)
{
    (void)c;
    (void)err;
    xapi_vdi_set_name_description(self, value);
    return true;
}

static void vbds_changed(xapi_vdi *vdi)
{
    const xg_ref *b = vdi->vbds.items;
    for (uint32_t i = 0; i < vdi->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (vbd)
            gw_vbd_update_allowed_operations(vbd);
    }
    gw_vdi_update_allowed_operations(vdi);
}

bool handle_vdi_set_sharable(xg_call *c, xapi_vdi *self, bool value,
                             xg_err *err)
{
    (void)c;
    (void)err;
    xapi_vdi_set_sharable(self, value);
    vbds_changed(self);
    return true;
}

bool handle_vdi_set_read_only(xg_call *c, xapi_vdi *self, bool value,
                              xg_err *err)
{
    (void)c;
    (void)err;
    xapi_vdi_set_read_only(self, value);
    vbds_changed(self);
    return true;
}

bool handle_vdi_set_allow_caching(xg_call *c, xapi_vdi *self, bool value,
                                  xg_err *err)
{
    (void)c;
    (void)err;
    xapi_vdi_set_allow_caching(self, value);
    return true;
}

bool handle_vdi_set_on_boot(xg_call *c, xapi_vdi *self, int value, xg_err *err)
{
    (void)c;
    if (!gw_vdi_check_op(self, XAPI_VDI_OPERATIONS_SET_ON_BOOT, err))
        return false;
    xapi_vdi_set_on_boot(self, value);
    gw_vdi_update_allowed_operations(self);
    return true;
}
