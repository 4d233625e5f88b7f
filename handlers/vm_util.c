/* vm_util.c: small typed helpers the VM handler files share (field writes
 * through the store, map lookups, enum names, random uuids). No XAPI
 * semantics live here. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "vm_internal.h"

void gw_set_str(void *obj, const xg_field_desc *f, const char *v)
{
    const char *s = v ? v : "";
    xg_store_set(obj, f, &s);
}

void gw_set_int(void *obj, const xg_field_desc *f, int64_t v)
{
    xg_store_set(obj, f, &v);
}

void gw_set_bool(void *obj, const xg_field_desc *f, bool v)
{
    xg_store_set(obj, f, &v);
}

void gw_set_enum(void *obj, const xg_field_desc *f, int v)
{
    xg_store_set(obj, f, &v);
}

void gw_set_float(void *obj, const xg_field_desc *f, double v)
{
    xg_store_set(obj, f, &v);
}

void gw_set_time(void *obj, const xg_field_desc *f, int64_t secs)
{
    xg_store_set(obj, f, &secs);
}

void gw_set_ref(void *obj, const xg_field_desc *f, const char *ref)
{
    xg_ref r;
    snprintf(r.s, sizeof r.s, "%s", ref ? ref : XG_REF_NULL);
    xg_store_set(obj, f, &r);
}

const char *gw_smap_get(const xg_map *m, const char *key)
{
    char **keys = m->keys, **vals = m->vals;
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(keys[i], key) == 0)
            return vals[i];
    return NULL;
}

bool gw_ref_is_set(const char *ref)
{
    return ref && ref[0] && strcmp(ref, XG_REF_NULL) != 0;
}

const char *gw_enum_name(const xg_field_desc *f, int v)
{
    const xg_type *t = f->type;
    /* Sets and maps of enums: the enum is the element type. */
    while (t && t->kind != XG_K_ENUM)
        t = t->elem;
    if (!t || !t->enm || v < 0 || v >= t->enm->n)
        return "";
    return t->enm->values[v];
}

const char *gw_lower(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = 0;
    return buf;
}

void gw_random_uuid(char out[XG_UUID_STR])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);    /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);    /* RFC 4122 variant */
    snprintf(out, XG_UUID_STR,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
}

bool gw_vm_bad_power_state(const xapi_vm *vm, const char *expected, xg_err *err)
{
    char actual[32];
    gw_lower(gw_enum_name(GW_VMF(POWER_STATE), vm->power_state), actual,
             sizeof actual);
    return xapi_err_vm_bad_power_state(err, vm->obj.ref.s, expected, actual);
}

bool gw_vm_suspend_path(const xapi_vm *vm, char *buf, size_t len, xg_err *err)
{
    int n = snprintf(buf, len, "%s/suspend/%s", gw_state_dir(), vm->uuid);
    if (n < 0 || (size_t)n >= len)
        return xg_err_internal(err, "suspend image path too long");
    return true;
}
