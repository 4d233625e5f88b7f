/* sr_util.c: facts about SRs that several handlers need: where an SR and
 * its VDIs' images live on this host, whether it is plugged, its sizes from
 * the filesystem, its allowed operations as XAPI computes them
 * (storage_operations rules), and the ISO directory scan. World lock held
 * (but see gw_iso_list_dir). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "../server/log.h"
#include "storage.h"

#define GW_ISO_SCAN_MAX 10000     /* files considered per scan */

xapi_pbd *gw_sr_pbd(const xapi_sr *sr)
{
    const xg_ref *p = sr->pbds.items;
    const char *host = gw_host()->obj.ref.s;
    for (uint32_t i = 0; i < sr->pbds.n; i++) {
        xapi_pbd *pbd = xg_store_get(&xapi_class_pbd, p[i].s);
        if (pbd && strcmp(pbd->host.s, host) == 0)
            return pbd;
    }
    return NULL;
}

const char *gw_sr_dir(const xapi_sr *sr)
{
    xapi_pbd *pbd = gw_sr_pbd(sr);
    if (!pbd)
        return NULL;
    const char *loc = gw_smap_get(&pbd->device_config, "location");
    return loc && loc[0] == '/' ? loc : NULL;
}

bool gw_vdi_path(const xapi_vdi *vdi, char *buf, size_t len, xg_err *err)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
    const char *dir = sr ? gw_sr_dir(sr) : NULL;
    if (!dir)
        return xapi_err_sr_has_no_pbds(err, vdi->sr.s);
    if (!vdi->location[0] || strchr(vdi->location, '/') ||
        strcmp(vdi->location, ".") == 0 || strcmp(vdi->location, "..") == 0)
        return xg_err_internal(err, "VDI %s has an unusable location", vdi->uuid);
    int n = gw_sr_kind(sr) == GW_SR_ISO
        ? snprintf(buf, len, "%s/%s", dir, vdi->location)
        : snprintf(buf, len, "%s/%s.qcow2", dir, vdi->location);
    if (n < 0 || (size_t)n >= len)
        return xg_err_internal(err, "path of VDI %s too long", vdi->uuid);
    return true;
}

bool gw_sr_check_plugged(const xapi_sr *sr, xg_err *err)
{
    xapi_pbd *pbd = gw_sr_pbd(sr);
    if (!pbd || !pbd->currently_attached)
        return xapi_err_sr_has_no_pbds(err, sr->obj.ref.s);
    return true;
}

void gw_sr_refresh_sizes(xapi_sr *sr)
{
    int64_t alloc = 0;
    const xg_ref *v = sr->vdis.items;
    for (uint32_t i = 0; i < sr->vdis.n; i++) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
        if (vdi)
            alloc += vdi->virtual_size;
    }
    if (sr->virtual_allocation != alloc)
        xapi_sr_set_virtual_allocation(sr, alloc);
    const char *dir = gw_sr_dir(sr);
    struct statvfs st;
    if (!dir || statvfs(dir, &st) != 0)
        return;
    int64_t total = (int64_t)st.f_blocks * (int64_t)st.f_frsize;
    int64_t used = (int64_t)(st.f_blocks - st.f_bfree) * (int64_t)st.f_frsize;
    if (sr->physical_size != total)
        xapi_sr_set_physical_size(sr, total);
    if (sr->physical_utilisation != used)
        xapi_sr_set_physical_utilisation(sr, used);
}

/* storage_operations → the SM feature it needs (NULL: none). */
static const char *feature_of(int op)
{
    switch (op) {
    case XAPI_STORAGE_OPERATIONS_VDI_CREATE: return "VDI_CREATE";
    case XAPI_STORAGE_OPERATIONS_VDI_DESTROY: return "VDI_DELETE";
    case XAPI_STORAGE_OPERATIONS_VDI_RESIZE: return "VDI_RESIZE";
    case XAPI_STORAGE_OPERATIONS_VDI_INTRODUCE: return "VDI_INTRODUCE";
    case XAPI_STORAGE_OPERATIONS_VDI_SNAPSHOT: return "VDI_SNAPSHOT";
    case XAPI_STORAGE_OPERATIONS_VDI_MIRROR: return "VDI_MIRROR";
    case XAPI_STORAGE_OPERATIONS_VDI_ENABLE_CBT:
    case XAPI_STORAGE_OPERATIONS_VDI_DISABLE_CBT:
    case XAPI_STORAGE_OPERATIONS_VDI_DATA_DESTROY:
    case XAPI_STORAGE_OPERATIONS_VDI_LIST_CHANGED_BLOCKS: return "VDI_CONFIG_CBT";
    case XAPI_STORAGE_OPERATIONS_VDI_SET_ON_BOOT: return "VDI_RESET_ON_BOOT";
    case XAPI_STORAGE_OPERATIONS_UPDATE: return "SR_UPDATE";
    default: return NULL;
    }
}

static bool any_pbd_attached(const xapi_sr *sr)
{
    const xg_ref *p = sr->pbds.items;
    for (uint32_t i = 0; i < sr->pbds.n; i++) {
        xapi_pbd *pbd = xg_store_get(&xapi_class_pbd, p[i].s);
        if (pbd && pbd->currently_attached)
            return true;
    }
    return false;
}

static bool has_managed_vdis(const xapi_sr *sr)
{
    const xg_ref *v = sr->vdis.items;
    for (uint32_t i = 0; i < sr->vdis.n; i++) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
        if (vdi && vdi->managed && vdi->type != XAPI_VDI_TYPE_RRD)
            return true;
    }
    return false;
}

/* XAPI's Xapi_sr_operations rules, first error wins. */
static bool sr_op_ok(const xapi_sr *sr, int op)
{
    const char *feat = feature_of(op);
    if (feat && !gw_sr_has_feature(sr, feat))
        return false;
    if ((op == XAPI_STORAGE_OPERATIONS_DESTROY ||
         op == XAPI_STORAGE_OPERATIONS_FORGET) && any_pbd_attached(sr))
        return false;
    if (op == XAPI_STORAGE_OPERATIONS_DESTROY &&
        (sr->pbds.n == 0 || has_managed_vdis(sr)))
        return false;
    if (sr->current_operations.n && op != XAPI_STORAGE_OPERATIONS_PLUG)
        return false;
    return true;
}

void gw_sr_update_allowed_operations(xapi_sr *sr)
{
    int ops[32];
    uint32_t n = 0;
    const xg_enum_desc *e = GW_SRF(ALLOWED_OPERATIONS)->type->elem->enm;
    for (int op = 0; op < e->n && n < 32; op++)
        if (sr_op_ok(sr, op))
            ops[n++] = op;
    xg_set s = {ops, n, n};
    xapi_sr_set_allowed_operations(sr, &s);
}

/* ---- ISO SR scan -------------------------------------------------------- */

static bool iso_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && n < 256 && name[0] != '.' &&
           strcasecmp(name + n - 4, ".iso") == 0;
}

static xapi_vdi *vdi_by_location(const xapi_sr *sr, const char *loc)
{
    const xg_ref *v = sr->vdis.items;
    for (uint32_t i = 0; i < sr->vdis.n; i++) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
        if (vdi && strcmp(vdi->location, loc) == 0)
            return vdi;
    }
    return NULL;
}

void gw_iso_list_free(struct gw_iso_list *l)
{
    free(l->files);
    l->files = NULL;
    l->n = 0;
}

bool gw_iso_list_dir(const char *dir, struct gw_iso_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *de;
    uint32_t cap = 0;
    bool ok = true;
    while (ok && (de = readdir(d)) != NULL && out->n < GW_ISO_SCAN_MAX) {
        if (!iso_name_ok(de->d_name))
            continue;
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct gw_iso_file *f = realloc(out->files, cap * sizeof *f);
            if (!f) {
                ok = false;
                break;
            }
            out->files = f;
        }
        struct gw_iso_file *f = &out->files[out->n++];
        snprintf(f->name, sizeof f->name, "%s", de->d_name);
        f->size = st.st_size;
        f->allocated = (int64_t)st.st_blocks * 512;
    }
    out->complete = de == NULL;
    closedir(d);
    if (!ok)
        gw_iso_list_free(out);
    return ok;
}

static bool listed(const struct gw_iso_list *l, const char *name)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (strcmp(l->files[i].name, name) == 0)
            return true;
    return false;
}

bool gw_sr_scan_iso_apply(xapi_sr *sr, const struct gw_iso_list *l, xg_err *err)
{
    for (uint32_t i = 0; i < l->n; i++) {
        const struct gw_iso_file *f = &l->files[i];
        xapi_vdi *vdi = vdi_by_location(sr, f->name);
        if (vdi) {
            if (vdi->virtual_size != f->size)
                xapi_vdi_set_virtual_size(vdi, f->size);
            if (vdi->missing)
                xapi_vdi_set_missing(vdi, false);
            if (vdi->physical_utilisation != f->allocated)
                xapi_vdi_set_physical_utilisation(vdi, f->allocated);
            continue;
        }
        vdi = gw_vdi_new(sr, NULL);
        bool yes = true;
        gw_init_str(vdi, XAPI_VDI_F_LOCATION, f->name);
        gw_init_str(vdi, XAPI_VDI_F_NAME_LABEL, f->name);
        gw_init_field(vdi, XAPI_VDI_F_READ_ONLY, &yes);
        gw_init_field(vdi, XAPI_VDI_F_VIRTUAL_SIZE, &f->size);
        gw_init_field(vdi, XAPI_VDI_F_PHYSICAL_UTILISATION, &f->allocated);
        if (!gw_vdi_add(vdi, err))
            return false;
    }
    /* Files removed by hand: their VDIs go (XAPI's scan semantics), once
     * the whole directory was seen. */
    const xg_ref *v = sr->vdis.items;
    for (uint32_t i = sr->vdis.n; l->complete && i-- > 0;) {
        xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, v[i].s);
        if (vdi && !listed(l, vdi->location)) {
            gw_vdi_remove(vdi);
            v = sr->vdis.items;
        }
    }
    return true;
}

bool gw_sr_scan_iso(xapi_sr *sr, xg_err *err)
{
    const char *dir = gw_sr_dir(sr);
    if (!dir)
        return xapi_err_sr_has_no_pbds(err, sr->obj.ref.s);
    struct gw_iso_list l;
    if (!gw_iso_list_dir(dir, &l))
        return xapi_err_sr_backend_failure(err, "1", "", "cannot read the SR directory");
    bool ok = gw_sr_scan_iso_apply(sr, &l, err);
    gw_iso_list_free(&l);
    return ok;
}
