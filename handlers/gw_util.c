/* gw_util.c: record-filling helpers shared by the handlers. */
#include "gw_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../server/call.h"
#include "../server/random.h"
#include "../server/store.h"

void gw_init_field(void *obj, uint32_t idx, const void *value)
{
    xg_obj_copy_field(obj, GW_F(obj, idx), value);
}

void gw_init_str(void *obj, uint32_t idx, const char *s)
{
    gw_init_field(obj, idx, &s);
}

void gw_init_ref(void *obj, uint32_t idx, const char *ref)
{
    xg_ref r;
    snprintf(r.s, sizeof(r.s), "%s", ref);
    gw_init_field(obj, idx, &r);
}

void gw_set_str(void *obj, const xg_field_desc *f, const char *v)
{
    const char *s = v ? v : "";
    xg_store_set(obj, f, &s);
}

void gw_set_ref(void *obj, const xg_field_desc *f, const char *ref)
{
    xg_ref r;
    snprintf(r.s, sizeof r.s, "%s", ref ? ref : XG_REF_NULL);
    xg_store_set(obj, f, &r);
}

void gw_set_int(void *obj, const xg_field_desc *f, int64_t v) { xg_store_set(obj, f, &v); }
void gw_set_float(void *obj, const xg_field_desc *f, double v) { xg_store_set(obj, f, &v); }
void gw_set_bool(void *obj, const xg_field_desc *f, bool v) { xg_store_set(obj, f, &v); }
void gw_set_enum(void *obj, const xg_field_desc *f, int v) { xg_store_set(obj, f, &v); }
void gw_set_time(void *obj, const xg_field_desc *f, int64_t secs) { xg_store_set(obj, f, &secs); }

void gw_set_strmap(void *obj, const xg_field_desc *f, const char *const *keys,
                   const char *const *vals, uint32_t n)
{
    xg_map m = { .keys = (void *)keys, .vals = (void *)vals, .n = n, .cap = n };
    xg_store_set(obj, f, &m);
}

const char *gw_smap_get(const xg_map *m, const char *key)
{
    char **k = m->keys, **v = m->vals;
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(k[i], key) == 0)
            return v[i];
    return NULL;
}

bool gw_ref_is_set(const char *ref)
{
    return ref && ref[0] && strcmp(ref, XG_REF_NULL) != 0;
}

void gw_random_uuid(char out[37])
{
    xg_random_uuid(out);
}

int64_t gw_now(void)
{
    return (int64_t)time(NULL);
}

void gw_op_key(const struct xg_call *c, char out[XG_REF_LEN])
{
    if (c && c->task) {
        /* the task's own ref, read here rather than through task.c's
         * xg_hook_task_ref: every handler uses this file, so it calls none */
        snprintf(out, XG_REF_LEN, "%s", ((const xg_obj *)c->task)->ref.s);
    } else {
        char u[37];
        gw_random_uuid(u);
        snprintf(out, XG_REF_LEN, "OpaqueRef:%s", u);
    }
}

void gw_op_remove(void *obj, const xg_field_desc *f, int op)
{
    const xg_map *m = (const xg_map *)((const char *)obj + f->offset);
    char *const *keys = m->keys;
    const int *vals = m->vals;
    for (uint32_t i = 0; i < m->n; i++) {
        if (vals[i] != op)
            continue;
        char key[XG_REF_LEN];
        snprintf(key, sizeof key, "%s", keys[i]);
        const char *k = key;
        xg_store_map_remove(obj, f, &k);
        return;
    }
}
