/* vdi_copy.c: full data copies of disks (VDI.copy, and VM.copy through
 * gw_copy_start). The records and empty destination images are made under
 * the world lock; the data is copied by qemu-img on a worker thread, so no
 * client waits behind it; the call is finished from the worker's
 * completion. World lock held except in copy_work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../server/log.h"
#include "bg.h"
#include "storage.h"

static void copy_work(void *arg)
{
    struct gw_copy_job *j = arg;
    j->ok = true;
    for (uint32_t i = 0; i < j->n && j->ok; i++) {
        struct gw_copy_item *it = &j->items[i];
        if (!gw_image_convert(it->src, it->src_raw, it->dst, it->dst_fresh,
                              j->msg, sizeof j->msg)) {
            XG_ERROR("storage", "copy %s -> %s: %s", it->src, it->dst, j->msg);
            j->ok = false;
        }
    }
}

static void copy_done(void *arg)
{
    struct gw_copy_job *j = arg;
    j->finish(j);
    free(j->items);
    free(j);
}

bool gw_copy_start(struct gw_copy_job *j, xg_err *err)
{
    if (!gw_bg_start(copy_work, copy_done, j, err))
        return false;
    if (j->c)
        xg_call_defer(j->c);
    return true;
}

/* ---- VDI.copy ---------------------------------------------------------------- */

struct vdi_copy_ctx {
    char src[XG_REF_LEN], dst[XG_REF_LEN], op_key[XG_REF_LEN];
    bool created;
};

static void op_mark(xapi_vdi *vdi, const char *key, bool on)
{
    const char *k = key;
    int op = XAPI_VDI_OPERATIONS_COPY;
    xg_err e = XG_ERR_INIT;
    if (on)
        xg_store_map_add(vdi, GW_VDIF(CURRENT_OPERATIONS), &k, &op, &e);
    else
        xg_store_map_remove(vdi, GW_VDIF(CURRENT_OPERATIONS), &k);
    gw_vdi_update_allowed_operations(vdi);
}

static void vdi_copy_finish(struct gw_copy_job *j)
{
    struct vdi_copy_ctx *x = j->ctx;
    xapi_vdi *src = xg_store_get(&xapi_class_vdi, x->src);
    xapi_vdi *dst = xg_store_get(&xapi_class_vdi, x->dst);
    if (src)
        op_mark(src, x->op_key, false);
    xg_err err = XG_ERR_INIT;
    bool ok = j->ok && dst;
    if (!ok) {
        if (dst && x->created) {
            gw_vdi_delete_image(dst);
            gw_vdi_remove(dst);
        }
        xapi_err_vdi_io_error(&err, j->msg[0] ? j->msg : "copy failed");
    } else {
        gw_vdi_refresh_size(dst);
        xapi_sr *sr = xg_store_get(&xapi_class_sr, dst->sr.s);
        if (sr)
            gw_sr_refresh_sizes(sr);
    }
    xg_ref r;
    snprintf(r.s, sizeof r.s, "%s", x->dst);
    xg_call_finish(j->c, ok, &err, &r);
    free(x);
}

xapi_vdi *gw_vdi_copy_target(xapi_vdi *src, xapi_sr *sr, xg_err *err)
{
    if (!gw_sr_check_plugged(sr, err) ||
        !gw_sr_check_room(sr, src->physical_utilisation, err))
        return NULL;
    if (!gw_sr_has_feature(sr, "VDI_CREATE"))
        return xapi_err_sr_operation_not_supported(err, sr->obj.ref.s), NULL;
    xapi_vdi *dst = gw_vdi_new(sr, NULL);
    static const uint32_t fields[] = {
        XAPI_VDI_F_NAME_LABEL, XAPI_VDI_F_NAME_DESCRIPTION,
        XAPI_VDI_F_VIRTUAL_SIZE, XAPI_VDI_F_TYPE, XAPI_VDI_F_SHARABLE,
        XAPI_VDI_F_OTHER_CONFIG, XAPI_VDI_F_XENSTORE_DATA, XAPI_VDI_F_TAGS,
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const xg_field_desc *f = &xapi_class_vdi.fields[fields[i]];
        gw_init_field(dst, fields[i], (const char *)src + f->offset);
    }
    const char *k = "image-format", *v = "qcow2";
    xg_map sm = {(void *)&k, (void *)&v, 1, 1};
    gw_init_field(dst, XAPI_VDI_F_SM_CONFIG, &sm);
    char path[600];
    if (!gw_vdi_path(dst, path, sizeof path, err) ||
        !gw_image_create(path, src->virtual_size, err)) {
        xg_obj_free(dst);
        return NULL;
    }
    if (!gw_vdi_add(dst, err)) {
        unlink(path);
        return NULL;
    }
    return dst;
}

bool gw_copy_item_for(xapi_vdi *src, xapi_vdi *dst, bool fresh,
                      struct gw_copy_item *it, xg_err *err)
{
    xapi_sr *ssr = xg_store_get(&xapi_class_sr, src->sr.s);
    if (!gw_vdi_path(src, it->src, sizeof it->src, err) ||
        !gw_vdi_path(dst, it->dst, sizeof it->dst, err))
        return false;
    it->src_raw = ssr && gw_sr_kind(ssr) == GW_SR_ISO;
    it->dst_fresh = fresh;
    return true;
}

/* Free space of sr (statvfs through the SR's sizes) against what src uses. */
bool gw_sr_check_room(xapi_sr *sr, int64_t bytes, xg_err *err)
{
    gw_sr_refresh_sizes(sr);
    int64_t free_bytes = sr->physical_size - sr->physical_utilisation;
    if (sr->physical_size > 0 && bytes > free_bytes) {
        char req[32], max[32];
        snprintf(req, sizeof req, "%lld", (long long)bytes);
        snprintf(max, sizeof max, "%lld", (long long)free_bytes);
        return xapi_err_sr_full(err, req, max);
    }
    return true;
}

bool handle_vdi_copy(xg_call *c, xapi_vdi *vdi, xapi_sr *sr,
                     xapi_vdi *base_vdi, xapi_vdi *into_vdi,
                     xg_ref *result_out, xg_err *err)
{
    (void)base_vdi;     /* the whole content is copied: same result */
    (void)result_out;   /* answered by vdi_copy_finish */
    if (!gw_vdi_check_op(vdi, XAPI_VDI_OPERATIONS_COPY, err))
        return false;
    if (into_vdi) {
        if (into_vdi->read_only)
            return xapi_err_vdi_readonly(err, into_vdi->obj.ref.s);
        if (into_vdi->virtual_size < vdi->virtual_size) {
            char sz[32];
            snprintf(sz, sizeof sz, "%lld", (long long)vdi->virtual_size);
            return xapi_err_vdi_too_small(err, into_vdi->obj.ref.s, sz);
        }
        if (gw_vdi_attached(into_vdi))
            return xapi_err_vdi_in_use(err, into_vdi->obj.ref.s, "copy");
    }
    xapi_sr *isr = into_vdi ? xg_store_get(&xapi_class_sr, into_vdi->sr.s) : NULL;
    if (isr && !gw_sr_check_room(isr, vdi->physical_utilisation, err))
        return false;
    xapi_vdi *dst = into_vdi ? into_vdi : gw_vdi_copy_target(vdi, sr, err);
    if (!dst)
        return false;
    struct vdi_copy_ctx *x = calloc(1, sizeof *x);
    struct gw_copy_job *j = calloc(1, sizeof *j);
    struct gw_copy_item *it = calloc(1, sizeof *it);
    if (!x || !j || !it || !gw_copy_item_for(vdi, dst, !into_vdi, it, err)) {
        if (!xg_err_is_set(err))
            xg_err_internal(err, "out of memory");
        goto fail;
    }
    snprintf(x->src, sizeof x->src, "%s", vdi->obj.ref.s);
    snprintf(x->dst, sizeof x->dst, "%s", dst->obj.ref.s);
    x->created = !into_vdi;
    gw_op_key(c, x->op_key);
    j->c = c;
    j->items = it;
    j->n = 1;
    j->finish = vdi_copy_finish;
    j->ctx = x;
    if (!gw_copy_start(j, err))
        goto fail;
    op_mark(vdi, x->op_key, true);
    return true;
fail:
    free(x);
    free(j);
    free(it);
    if (!into_vdi) {
        gw_vdi_delete_image(dst);
        gw_vdi_remove(dst);
    }
    return false;
}
