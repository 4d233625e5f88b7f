/* sm.c: the storage drivers this host serves, as SM records, and the
 * feature lookups XAPI bases SR/VDI allowed operations on. One record per
 * SR type, created at start-up if absent (refs stay stable across restarts
 * since SM rows persist). The features listed are the ones the handlers
 * really implement. World lock held. */
#include <string.h>

#include "storage.h"

struct feature { const char *name; int64_t version; };

struct sm_def {
    const char *type, *name, *desc;
    const struct feature *features;
    uint32_t nfeatures;
    const char *const *config;      /* device_config key, help text pairs */
    uint32_t nconfig;
};

static const struct feature file_features[] = {
    {"SR_PROBE", 1}, {"SR_UPDATE", 1}, {"SR_SCAN", 1}, {"SR_ATTACH", 1},
    {"SR_DETACH", 1}, {"SR_CREATE", 1}, {"SR_DELETE", 1},
    {"VDI_CREATE", 1}, {"VDI_DELETE", 1}, {"VDI_ATTACH", 1},
    {"VDI_DETACH", 1}, {"VDI_CLONE", 1}, {"VDI_SNAPSHOT", 1},
    {"VDI_RESIZE", 1}, {"VDI_UPDATE", 1}, {"VDI_ACTIVATE", 1},
    {"VDI_DEACTIVATE", 1}, {"THIN_PROVISIONING", 1},
};
static const struct feature iso_features[] = {
    {"SR_SCAN", 1}, {"SR_ATTACH", 1}, {"SR_DETACH", 1}, {"SR_CREATE", 1},
    {"SR_DELETE", 1}, {"SR_UPDATE", 1}, {"VDI_ATTACH", 1}, {"VDI_DETACH", 1},
};
static const char *const dir_config[] = {
    "location", "Absolute path of the directory holding the images",
};

static const struct sm_def defs[] = {
    [GW_SR_FILE] = {"file", "Local file SR",
                    "SR as a directory of qcow2 images (copy-on-write "
                    "snapshots and clones through backing files)",
                    file_features, sizeof file_features / sizeof file_features[0],
                    dir_config, 2},
    [GW_SR_ISO] = {"iso", "ISO",
                   "Read-only library of *.iso files in a directory",
                   iso_features, sizeof iso_features / sizeof iso_features[0],
                   dir_config, 2},
};

enum gw_sr_kind gw_sr_kind_of_type(const char *type)
{
    for (int k = 0; k < GW_SR_UNKNOWN; k++)
        if (strcmp(defs[k].type, type) == 0)
            return (enum gw_sr_kind)k;
    return GW_SR_UNKNOWN;
}

enum gw_sr_kind gw_sr_kind(const xapi_sr *sr)
{
    return gw_sr_kind_of_type(sr->type);
}

bool gw_sr_has_feature(const xapi_sr *sr, const char *feature)
{
    enum gw_sr_kind k = gw_sr_kind(sr);
    if (k == GW_SR_UNKNOWN)
        return false;
    for (uint32_t i = 0; i < defs[k].nfeatures; i++)
        if (strcmp(defs[k].features[i].name, feature) == 0)
            return true;
    return false;
}

static bool present(const char *type)
{
    uint64_t cur = 0;
    xapi_sm *sm;
    while ((sm = xg_store_next(&xapi_class_sm, &cur)) != NULL)
        if (strcmp(sm->type, type) == 0)
            return true;
    return false;
}

static bool make(const struct sm_def *d, xg_err *err)
{
    xapi_sm *sm = xg_obj_new(&xapi_class_sm);
    const char *fk[32], *ck[8], *cv[8];
    int64_t fv[32];
    for (uint32_t i = 0; i < d->nfeatures && i < 32; i++) {
        fk[i] = d->features[i].name;
        fv[i] = d->features[i].version;
    }
    for (uint32_t i = 0; i + 1 < d->nconfig && i / 2 < 8; i += 2) {
        ck[i / 2] = d->config[i];
        cv[i / 2] = d->config[i + 1];
    }
    xg_map features = {(void *)fk, (void *)fv, d->nfeatures, d->nfeatures};
    xg_map config = {(void *)ck, (void *)cv, d->nconfig / 2, d->nconfig / 2};
    xg_set caps = {(void *)fk, d->nfeatures, d->nfeatures};
    gw_init_str(sm, XAPI_SM_F_TYPE, d->type);
    gw_init_str(sm, XAPI_SM_F_NAME_LABEL, d->name);
    gw_init_str(sm, XAPI_SM_F_NAME_DESCRIPTION, d->desc);
    gw_init_str(sm, XAPI_SM_F_VENDOR, "xapi-gateway");
    gw_init_str(sm, XAPI_SM_F_COPYRIGHT, "xapi-gateway contributors");
    gw_init_str(sm, XAPI_SM_F_VERSION, "1.0");
    gw_init_str(sm, XAPI_SM_F_REQUIRED_API_VERSION, "1.0");
    gw_init_field(sm, XAPI_SM_F_CONFIGURATION, &config);
    gw_init_field(sm, XAPI_SM_F_CAPABILITIES, &caps);
    gw_init_field(sm, XAPI_SM_F_FEATURES, &features);
    if (!xg_store_add(sm, NULL, err)) {
        xg_obj_free(sm);
        return false;
    }
    return true;
}

bool gw_sm_ensure(xg_err *err)
{
    for (int k = 0; k < GW_SR_UNKNOWN; k++)
        if (!present(defs[k].type) && !make(&defs[k], err))
            return false;
    return true;
}

bool handle_sr_get_supported_types(xg_call *c, xg_set *result_out, xg_err *err)
{
    const char **types = xg_arena_alloc(c->arena, GW_SR_UNKNOWN * sizeof *types);
    if (!types)
        return xg_err_internal(err, "out of memory");
    for (int k = 0; k < GW_SR_UNKNOWN; k++)
        types[k] = defs[k].type;
    result_out->items = types;
    result_out->n = result_out->cap = GW_SR_UNKNOWN;
    return true;
}
