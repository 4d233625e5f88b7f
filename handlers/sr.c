/* sr.c: SR messages (create, introduce, forget, destroy, scan, update,
 * setters) with XAPI's checks in XAPI's order, and the storage a fresh host
 * starts with: "Local storage" (a file SR in the state directory, plugged,
 * pool.default_SR / suspend_image_SR / crash_dump_SR) and an ISO library.
 * World lock held; SR.create and SR.destroy do their file work on a worker. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../server/log.h"
#include "bg.h"
#include "storage.h"
#include "xva.h"

#define GW_SR_PATH_MAX 400

static bool uuid_ok(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char ch = s[i];
        if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') ||
                                 (ch >= 'a' && ch <= 'f') ||
                                 (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

/* An absolute, normalised directory path an administrator gave. */
static bool location_ok(const char *loc)
{
    size_t n = strlen(loc);
    return loc[0] == '/' && n < GW_SR_PATH_MAX && !strstr(loc, "/../") &&
           !strstr(loc, "/./") && !(n >= 3 && strcmp(loc + n - 3, "/..") == 0);
}

static xapi_sr *new_sr(const char *uuid, const char *name, const char *desc,
                       const char *type, const char *content_type, bool shared,
                       const xg_map *sm_config)
{
    xapi_sr *sr = xg_obj_new(&xapi_class_sr);
    gw_init_str(sr, XAPI_SR_F_UUID, uuid ? uuid : "");
    gw_init_str(sr, XAPI_SR_F_NAME_LABEL, name);
    gw_init_str(sr, XAPI_SR_F_NAME_DESCRIPTION, desc);
    gw_init_str(sr, XAPI_SR_F_TYPE, type);
    gw_init_str(sr, XAPI_SR_F_CONTENT_TYPE, content_type);
    gw_init_field(sr, XAPI_SR_F_SHARED, &shared);
    if (sm_config)
        gw_init_field(sr, XAPI_SR_F_SM_CONFIG, sm_config);
    return sr;
}

static xapi_pbd *add_pbd(xapi_sr *sr, const char *location, xg_err *err)
{
    xapi_pbd *pbd = xg_obj_new(&xapi_class_pbd);
    const char *k = "location";
    xg_map dc = {(void *)&k, (void *)&location, 1, 1};
    gw_init_ref(pbd, XAPI_PBD_F_HOST, gw_host()->obj.ref.s);
    gw_init_ref(pbd, XAPI_PBD_F_SR, sr->obj.ref.s);
    gw_init_field(pbd, XAPI_PBD_F_DEVICE_CONFIG, &dc);
    if (!xg_store_add(pbd, NULL, err)) {
        xg_obj_free(pbd);
        return NULL;
    }
    return pbd;
}

/* What attaching an SR of this kind needs from its directory. */
static bool attach_dir(enum gw_sr_kind kind, const char *dir, bool create,
                       xg_err *err)
{
    struct stat st;
    if (create && kind == GW_SR_FILE && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return xapi_err_sr_backend_failure(err, "1", "", strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return xapi_err_sr_backend_failure(err, "1", "",
                                           "the SR directory does not exist");
    if (access(dir, kind == GW_SR_FILE ? R_OK | W_OK | X_OK : R_OK | X_OK) != 0)
        return xapi_err_sr_backend_failure(err, "1", "",
                                           "the SR directory is not accessible");
    return true;
}

bool gw_pbd_plug(xapi_pbd *pbd, xg_err *err)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, pbd->sr.s);
    if (!sr)
        return xg_err_internal(err, "PBD without SR");
    enum gw_sr_kind kind = gw_sr_kind(sr);
    if (kind == GW_SR_UNKNOWN)
        return xapi_err_sr_unknown_driver(err, sr->type);
    const char *loc = gw_smap_get(&pbd->device_config, "location");
    if (!loc || !location_ok(loc))
        return xapi_err_sr_backend_failure(err, "1", "",
            "device_config:location must be an absolute directory path");
    if (!attach_dir(kind, loc, false, err))
        return false;
    if (!pbd->currently_attached)
        xapi_pbd_set_currently_attached(pbd, true);
    gw_sr_refresh_sizes(sr);
    gw_sr_update_allowed_operations(sr);
    return true;
}

/* ---- SR.create / introduce ------------------------------------------------ */

/* SR.create in flight: the directory work (mkdir, access checks, reading
 * an ISO directory) runs on a worker without the world lock; the records
 * are made afterwards. The strings and the map's items are the call's
 * (c->arena), alive until it finishes; the map header is copied. */
struct sr_create {
    xg_call *c;
    enum gw_sr_kind kind;
    const char *loc, *name, *desc, *type, *content_type;
    xg_map sm_config;
    bool shared;
    bool ok;
    xg_err err;
    struct gw_iso_list isos;
};

static void forget_records(xapi_sr *sr);

static void sr_create_work(void *arg)
{
    struct sr_create *x = arg;
    x->ok = attach_dir(x->kind, x->loc, true, &x->err);
    if (x->ok && x->kind == GW_SR_ISO && !gw_iso_list_dir(x->loc, &x->isos))
        x->ok = xapi_err_sr_backend_failure(&x->err, "1", "",
                                            "cannot read the SR directory");
}

static void sr_create_done(void *arg)
{
    struct sr_create *x = arg;
    xg_err err = XG_ERR_INIT;
    bool ok = x->ok;
    xg_ref result = {""};
    xapi_sr *sr = NULL;
    xapi_pbd *pbd = NULL;
    if (!ok)
        err = x->err;
    if (ok) {
        sr = new_sr(NULL, x->name, x->desc, x->type,
                    x->content_type[0] ? x->content_type :
                    x->kind == GW_SR_ISO ? "iso" : "user", x->shared, &x->sm_config);
        if (!xg_store_add(sr, NULL, &err)) {
            xg_obj_free(sr);
            sr = NULL;
            ok = false;
        }
    }
    if (ok) {
        pbd = add_pbd(sr, x->loc, &err);
        ok = pbd && (x->kind != GW_SR_ISO || gw_sr_scan_iso_apply(sr, &x->isos, &err));
    }
    if (ok) {
        xapi_pbd_set_currently_attached(pbd, true);
        gw_sr_refresh_sizes(sr);
        gw_sr_update_allowed_operations(sr);
        XG_INFO("storage", "SR %s (%s) created at %s", sr->uuid, x->type, x->loc);
        result = sr->obj.ref;
    } else if (sr) {
        forget_records(sr);      /* its VDIs, its PBD and itself: nothing half-made */
    }
    xg_call_finish(x->c, ok, &err, &result);
    gw_iso_list_free(&x->isos);
    free(x);
}

bool handle_sr_create(xg_call *c, xapi_host *host, const xg_map *device_config,
                      int64_t physical_size, const char *name_label,
                      const char *name_description, const char *type,
                      const char *content_type, bool shared,
                      const xg_map *sm_config, xg_ref *result_out, xg_err *err)
{
    (void)physical_size;
    (void)host;     /* a single host: the SR is attached here */
    (void)result_out;
    enum gw_sr_kind kind = gw_sr_kind_of_type(type);
    if (kind == GW_SR_UNKNOWN)
        return xapi_err_sr_unknown_driver(err, type);
    const char *loc = gw_smap_get(device_config, "location");
    if (!loc || !location_ok(loc))
        return xapi_err_invalid_value(err, "device_config:location",
                                      loc ? loc : "");
    struct sr_create *x = calloc(1, sizeof *x);
    if (!x)
        return xg_err_internal(err, "out of memory");
    *x = (struct sr_create){
        .c = c, .kind = kind, .loc = loc, .name = name_label,
        .desc = name_description, .type = type, .content_type = content_type,
        .sm_config = *sm_config, .shared = shared, .err = XG_ERR_INIT,
    };
    if (!gw_bg_start(sr_create_work, sr_create_done, x, err)) {
        free(x);
        return false;
    }
    xg_call_defer(c);
    return true;
}

bool handle_sr_introduce(xg_call *c, const char *uuid, const char *name_label,
                         const char *name_description, const char *type,
                         const char *content_type, bool shared,
                         const xg_map *sm_config, xg_ref *result_out,
                         xg_err *err)
{
    (void)c;
    if (uuid[0] && !uuid_ok(uuid))
        return xapi_err_uuid_invalid(err, "SR", uuid);
    if (uuid[0] && xg_store_get_by_uuid(&xapi_class_sr, uuid))
        return xapi_err_sr_uuid_exists(err, uuid);
    char lower[64];
    snprintf(lower, sizeof lower, "%s", type);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (gw_sr_kind_of_type(lower) == GW_SR_UNKNOWN)
        return xapi_err_sr_unknown_driver(err, type);
    xapi_sr *sr = new_sr(uuid, name_label, name_description, lower,
                         content_type, shared, sm_config);
    int64_t unknown = -1;
    gw_init_field(sr, XAPI_SR_F_PHYSICAL_SIZE, &unknown);
    gw_init_field(sr, XAPI_SR_F_PHYSICAL_UTILISATION, &unknown);
    if (!xg_store_add(sr, NULL, err)) {
        xg_obj_free(sr);
        return false;
    }
    gw_sr_update_allowed_operations(sr);
    *result_out = sr->obj.ref;
    return true;
}

/* ---- forget / destroy ---------------------------------------------------- */

static bool check_op(xapi_sr *sr, int op, xg_err *err)
{
    const char *ref = sr->obj.ref.s;
    const char *feat = NULL;
    if (op == XAPI_STORAGE_OPERATIONS_UPDATE)
        feat = "SR_UPDATE";
    if (feat && !gw_sr_has_feature(sr, feat))
        return xapi_err_sr_operation_not_supported(err, ref);
    const xg_ref *p = sr->pbds.items;
    if (op == XAPI_STORAGE_OPERATIONS_DESTROY ||
        op == XAPI_STORAGE_OPERATIONS_FORGET) {
        for (uint32_t i = 0; i < sr->pbds.n; i++) {
            xapi_pbd *pbd = xg_store_get(&xapi_class_pbd, p[i].s);
            if (pbd && pbd->currently_attached)
                return xapi_err_sr_has_pbd(err, ref);
        }
    }
    if (op == XAPI_STORAGE_OPERATIONS_DESTROY) {
        if (sr->pbds.n == 0)
            return xapi_err_sr_has_no_pbds(err, ref);
        const xg_ref *v = sr->vdis.items;
        for (uint32_t i = 0; i < sr->vdis.n; i++) {
            xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
            if (vdi && vdi->managed && vdi->type != XAPI_VDI_TYPE_RRD)
                return xapi_err_sr_not_empty(err);
        }
    }
    if (sr->current_operations.n) {
        char *const *k = sr->current_operations.keys;
        const int *o = sr->current_operations.vals;
        const xg_enum_desc *e = GW_SRF(ALLOWED_OPERATIONS)->type->elem->enm;
        return xapi_err_other_operation_in_progress(err, "SR", ref,
                                                    e->values[o[0]], k[0]);
    }
    return true;
}

static void forget_records(xapi_sr *sr)
{
    while (sr->vdis.n) {
        const xg_ref *v = sr->vdis.items;
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[sr->vdis.n - 1].s);
        if (!vdi)
            break;
        gw_vdi_remove(vdi);
    }
    while (sr->pbds.n) {
        const xg_ref *p = sr->pbds.items;
        xapi_pbd *pbd = xg_store_get(&xapi_class_pbd, p[sr->pbds.n - 1].s);
        if (!pbd)
            break;
        xg_store_remove(pbd);
    }
    xapi_pool *pool = gw_pool();
    if (strcmp(pool->default_sr.s, sr->obj.ref.s) == 0)
        xapi_pool_set_default_sr(pool, XG_REF_NULL);
    if (strcmp(pool->suspend_image_sr.s, sr->obj.ref.s) == 0)
        xapi_pool_set_suspend_image_sr(pool, XG_REF_NULL);
    if (strcmp(pool->crash_dump_sr.s, sr->obj.ref.s) == 0)
        xapi_pool_set_crash_dump_sr(pool, XG_REF_NULL);
    xapi_host *host = gw_host();
    if (strcmp(host->suspend_image_sr.s, sr->obj.ref.s) == 0)
        xapi_host_set_suspend_image_sr(host, XG_REF_NULL);
    if (strcmp(host->crash_dump_sr.s, sr->obj.ref.s) == 0)
        xapi_host_set_crash_dump_sr(host, XG_REF_NULL);
    xg_store_remove(sr);
}

bool handle_sr_forget(xg_call *c, xapi_sr *sr, xg_err *err)
{
    (void)c;
    if (!check_op(sr, XAPI_STORAGE_OPERATIONS_FORGET, err))
        return false;
    forget_records(sr);
    return true;
}

/* SR.destroy in flight: the files go on a worker without the world lock
 * (a large image takes a while to unlink); the SR is marked busy meanwhile
 * and its records are forgotten afterwards. The images left are hidden
 * bases nobody needs once every managed VDI is gone; the directory goes if
 * it is then empty. ISO files are the user's and stay. */
struct sr_destroy {
    xg_call *c;
    char sr[XG_REF_LEN], key[XG_REF_LEN], uuid[XG_UUID_STR];
    char dir[GW_SR_PATH_MAX];
    char (*files)[600];         /* heap */
    uint32_t nfiles;
};

static void sr_destroy_work(void *arg)
{
    struct sr_destroy *x = arg;
    for (uint32_t i = 0; i < x->nfiles; i++)
        unlink(x->files[i]);
    if (x->dir[0] && rmdir(x->dir) != 0)
        XG_WARN("storage", "SR %s: directory %s kept: %s", x->uuid, x->dir,
                strerror(errno));
}

static void sr_destroy_done(void *arg)
{
    struct sr_destroy *x = arg;
    xapi_sr *sr = xg_store_get(&xapi_class_sr, x->sr);
    if (sr) {
        const char *k = x->key;
        xg_store_map_remove(sr, GW_SRF(CURRENT_OPERATIONS), &k);
        XG_INFO("storage", "SR %s destroyed", sr->uuid);
        forget_records(sr);
    }
    xg_err err = XG_ERR_INIT;
    xg_call_finish(x->c, true, &err, NULL);
    free(x->files);
    free(x);
}

bool handle_sr_destroy(xg_call *c, xapi_sr *sr, xg_err *err)
{
    if (!check_op(sr, XAPI_STORAGE_OPERATIONS_DESTROY, err))
        return false;
    const char *ind = gw_smap_get(&sr->other_config, "indestructible");
    if (ind && strcmp(ind, "true") == 0)
        return xapi_err_sr_indestructible(err, sr->obj.ref.s);
    struct sr_destroy *x = calloc(1, sizeof *x);
    if (!x || !(x->files = calloc(sr->vdis.n ? sr->vdis.n : 1, sizeof *x->files))) {
        free(x);
        return xg_err_internal(err, "out of memory");
    }
    x->c = c;
    snprintf(x->sr, sizeof x->sr, "%s", sr->obj.ref.s);
    snprintf(x->uuid, sizeof x->uuid, "%s", sr->uuid);
    xapi_pbd *pbd = gw_sr_pbd(sr);
    const char *loc = pbd ? gw_smap_get(&pbd->device_config, "location") : NULL;
    if (gw_sr_kind(sr) == GW_SR_FILE && loc && location_ok(loc)) {
        snprintf(x->dir, sizeof x->dir, "%s", loc);
        const xg_ref *v = sr->vdis.items;
        for (uint32_t i = 0; i < sr->vdis.n; i++) {
            xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
            if (vdi && snprintf(x->files[x->nfiles], sizeof x->files[0], "%s/%s.qcow2",
                                x->dir, vdi->location) < (int)sizeof x->files[0])
                x->nfiles++;
        }
    }
    gw_op_key(c, x->key);
    const char *k = x->key;
    int op = XAPI_STORAGE_OPERATIONS_DESTROY;
    if (!xg_store_map_add(sr, GW_SRF(CURRENT_OPERATIONS), &k, &op, err) ||
        !gw_bg_start(sr_destroy_work, sr_destroy_done, x, err)) {
        xg_store_map_remove(sr, GW_SRF(CURRENT_OPERATIONS), &k);
        free(x->files);
        free(x);
        return false;
    }
    xg_call_defer(c);
    gw_sr_update_allowed_operations(sr);
    return true;
}

/* ---- scan / update / setters --------------------------------------------- */

/* An image <uuid>.qcow2 put in the SR directory by hand becomes a VDI
 * (XAPI's scan: managed, sm_config from the image); one whose backing file
 * is not a sibling image is left alone. */
static void introduce_image(xapi_sr *sr, const char *dir, const char *name)
{
    char uuid[XG_UUID_STR], path[600], backing[128];
    size_t n = strlen(name);
    if (n != 36 + 6 || strcmp(name + 36, ".qcow2") != 0)
        return;
    memcpy(uuid, name, 36);
    uuid[36] = 0;
    if (!uuid_ok(uuid) || xg_store_get_by_uuid(&xapi_class_vdi, uuid))
        return;
    int64_t vsize = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!gw_image_info(path, &vsize, backing, sizeof backing) || vsize < 0 ||
        (backing[0] && (strchr(backing, '/') || strlen(backing) != 42))) {
        XG_WARN("storage", "SR %s: %s is not an image this SR can use", sr->uuid, name);
        return;
    }
    xapi_vdi *vdi = gw_vdi_new(sr, uuid);
    char parent[XG_UUID_STR];
    snprintf(parent, sizeof parent, "%.36s", backing);
    const char *k[] = {"image-format", "vhd-parent"};
    const char *v[] = {"qcow2", parent};
    xg_map sm = {(void *)k, (void *)v, backing[0] ? 2 : 1, 2};
    gw_init_field(vdi, XAPI_VDI_F_SM_CONFIG, &sm);
    gw_init_field(vdi, XAPI_VDI_F_VIRTUAL_SIZE, &vsize);
    xg_err e = XG_ERR_INIT;
    if (gw_vdi_add(vdi, &e)) {
        gw_vdi_refresh_size(xg_store_get_by_uuid(&xapi_class_vdi, uuid));
        XG_INFO("storage", "SR %s: found image %s", sr->uuid, name);
    }
}

/* Disk SR: images deleted by hand take their VDI records with them; images
 * added by hand are introduced. */
static void scan_file(xapi_sr *sr)
{
    const char *dir = gw_sr_dir(sr);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *de;
    uint32_t seen = 0;
    while (d && (de = readdir(d)) != NULL && seen++ < 100000)
        introduce_image(sr, dir, de->d_name);
    if (d)
        closedir(d);
    const xg_ref *v = sr->vdis.items;
    for (uint32_t i = sr->vdis.n; i-- > 0;) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
        char path[600];
        xg_err e = XG_ERR_INIT;
        if (!vdi || !gw_vdi_path(vdi, path, sizeof path, &e))
            continue;
        if (gw_image_allocated(path) < 0) {
            XG_WARN("storage", "VDI %s: image gone, forgetting it", vdi->uuid);
            gw_vdi_remove(vdi);
            v = sr->vdis.items;
        } else {
            gw_vdi_refresh_size(vdi);
        }
    }
}

bool handle_sr_scan(xg_call *c, xapi_sr *sr, xg_err *err)
{
    (void)c;
    if (!check_op(sr, XAPI_STORAGE_OPERATIONS_SCAN, err) ||
        !gw_sr_check_plugged(sr, err))
        return false;
    if (gw_sr_kind(sr) == GW_SR_ISO) {
        if (!gw_sr_scan_iso(sr, err))
            return false;
    } else {
        scan_file(sr);
    }
    const char *k = "dirty";
    xg_store_map_remove(sr, GW_SRF(OTHER_CONFIG), &k);
    gw_sr_refresh_sizes(sr);
    gw_sr_update_allowed_operations(sr);
    return true;
}

bool handle_sr_update(xg_call *c, xapi_sr *sr, xg_err *err)
{
    (void)c;
    if (!check_op(sr, XAPI_STORAGE_OPERATIONS_UPDATE, err) ||
        !gw_sr_check_plugged(sr, err))
        return false;
    gw_sr_refresh_sizes(sr);
    return true;
}

bool handle_sr_set_shared(xg_call *c, xapi_sr *sr, bool value, xg_err *err)
{
    (void)c;
    (void)err;
    xapi_sr_set_shared(sr, value);
    return true;
}

bool handle_sr_set_name_label(xg_call *c, xapi_sr *sr, const char *value,
                              xg_err *err)
{
    (void)c;
    (void)err;
    xapi_sr_set_name_label(sr, value);
    return true;
}

bool handle_sr_set_name_description(xg_call *c, xapi_sr *sr, const char *value,
                                    xg_err *err)
{
    (void)c;
    (void)err;
    xapi_sr_set_name_description(sr, value);
    return true;
}

/* ---- PBD ------------------------------------------------------------------ */

bool handle_pbd_create(xg_call *c, const xapi_pbd *args, xg_ref *result_out,
                       xg_err *err)
{
    (void)c;
    xapi_sr *sr = xg_store_get(&xapi_class_sr, args->sr.s);
    if (!sr)
        return xapi_err_handle_invalid(err, "SR", args->sr.s);
    if (!xg_store_get(&xapi_class_host, args->host.s))
        return xapi_err_handle_invalid(err, "host", args->host.s);
    const xg_ref *p = sr->pbds.items;
    for (uint32_t i = 0; i < sr->pbds.n; i++) {
        xapi_pbd *o = xg_store_get(&xapi_class_pbd, p[i].s);
        if (o && strcmp(o->host.s, args->host.s) == 0)
            return xapi_err_pbd_exists(err, sr->obj.ref.s, args->host.s,
                                       o->obj.ref.s);
    }
    xapi_pbd *pbd = xg_obj_new(&xapi_class_pbd);
    gw_init_ref(pbd, XAPI_PBD_F_HOST, args->host.s);
    gw_init_ref(pbd, XAPI_PBD_F_SR, args->sr.s);
    gw_init_field(pbd, XAPI_PBD_F_DEVICE_CONFIG, &args->device_config);
    gw_init_field(pbd, XAPI_PBD_F_OTHER_CONFIG, &args->other_config);
    if (!xg_store_add(pbd, NULL, err)) {
        xg_obj_free(pbd);
        return false;
    }
    gw_sr_update_allowed_operations(sr);
    *result_out = pbd->obj.ref;
    return true;
}

bool handle_pbd_destroy(xg_call *c, xapi_pbd *self, xg_err *err)
{
    (void)c;
    if (self->currently_attached)
        return xapi_err_operation_not_allowed(err, "PBD is currently attached");
    xapi_sr *sr = xg_store_get(&xapi_class_sr, self->sr.s);
    xg_store_remove(self);
    if (sr)
        gw_sr_update_allowed_operations(sr);
    return true;
}

bool handle_pbd_plug(xg_call *c, xapi_pbd *self, xg_err *err)
{
    (void)c;
    return gw_pbd_plug(self, err);
}

bool handle_pbd_unplug(xg_call *c, xapi_pbd *self, xg_err *err)
{
    (void)c;
    xapi_sr *sr = xg_store_get(&xapi_class_sr, self->sr.s);
    if (sr) {
        const xg_ref *v = sr->vdis.items;
        for (uint32_t i = 0; i < sr->vdis.n; i++) {
            xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
            if (vdi && gw_vdi_attached(vdi))
                return xapi_err_vdi_in_use(err, vdi->obj.ref.s, "unplug");
        }
    }
    if (self->currently_attached)
        xapi_pbd_set_currently_attached(self, false);
    if (sr)
        gw_sr_update_allowed_operations(sr);
    return true;
}

/* ---- first start ------------------------------------------------------------ */

static bool make_sr(const char *name, const char *type, const char *ctype,
                    const char *dir, const char *i18n, xapi_sr **out,
                    xg_err *err)
{
    enum gw_sr_kind kind = gw_sr_kind_of_type(type);
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        !attach_dir(kind, dir, false, err))
        return xg_err_internal(err, "cannot create SR directory %s", dir);
    xapi_sr *sr = new_sr(NULL, name, "", type, ctype, false, NULL);
    const char *k[] = {"i18n-key", "i18n-original-value-name_label"};
    const char *v[] = {i18n, name};
    xg_map oc = {(void *)k, (void *)v, 2, 2};
    gw_init_field(sr, XAPI_SR_F_OTHER_CONFIG, &oc);
    if (!xg_store_add(sr, NULL, err)) {
        xg_obj_free(sr);
        return false;
    }
    xapi_pbd *pbd = add_pbd(sr, dir, err);
    if (!pbd || !gw_pbd_plug(pbd, err))
        return false;
    XG_INFO("storage", "created SR \"%s\" (%s) at %s", name, type, dir);
    *out = sr;
    return true;
}

/* Re-attaches every PBD of this host that was plugged (sizes may have
 * changed while we were down); an SR whose directory vanished stays
 * unplugged. */
static void replug_all(void)
{
    uint64_t cur = 0;
    xapi_pbd *pbd;
    while ((pbd = xg_store_next(&xapi_class_pbd, &cur)) != NULL) {
        xg_err e = XG_ERR_INIT;
        if (pbd->currently_attached && !gw_pbd_plug(pbd, &e)) {
            XG_WARN("storage", "PBD %s: %s %s", pbd->uuid, e.code, e.param[2]);
            xapi_pbd_set_currently_attached(pbd, false);
        }
    }
    cur = 0;
    xapi_sr *sr;
    while ((sr = xg_store_next(&xapi_class_sr, &cur)) != NULL)
        gw_sr_update_allowed_operations(sr);
}

bool gw_storage_init(xg_err *err)
{
    gw_vdi_http_register();
    gw_xva_export_register();
    gw_xva_import_register();
    if (!gw_sm_ensure(err))
        return false;
    if (xg_store_count(&xapi_class_sr) > 0) {
        replug_all();
        return true;
    }
    char local[600], iso[600];
    if (xg_cfg.local_sr_dir[0])
        snprintf(local, sizeof local, "%s", xg_cfg.local_sr_dir);
    else
        snprintf(local, sizeof local, "%s/sr", gw_state_dir());
    if (!location_ok(local))
        return xg_err_internal(err, "local-sr must be an absolute directory path");
    snprintf(iso, sizeof iso, "%s/iso", gw_state_dir());
    xapi_sr *sr, *isosr;
    if (!make_sr("Local storage", "file", "user", local, "local-storage", &sr, err) ||
        !make_sr("ISO library", "iso", "iso", iso, "iso-library", &isosr, err) ||
        !gw_sr_scan_iso(isosr, err))
        return false;
    xapi_pool *pool = gw_pool();
    xapi_pool_set_default_sr(pool, sr->obj.ref.s);
    xapi_pool_set_suspend_image_sr(pool, sr->obj.ref.s);
    xapi_pool_set_crash_dump_sr(pool, sr->obj.ref.s);
    xapi_host_set_suspend_image_sr(gw_host(), sr->obj.ref.s);
    xapi_host_set_crash_dump_sr(gw_host(), sr->obj.ref.s);
    return true;
}
