/* gw_util.c: record-filling helpers shared by the handlers. */
#include "gw_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

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

void gw_put_str(void *obj, uint32_t idx, const char *s)
{
    xg_store_set(obj, GW_F(obj, idx), &s);
}

void gw_put_ref(void *obj, uint32_t idx, const char *ref)
{
    xg_ref r;
    snprintf(r.s, sizeof(r.s), "%s", ref);
    xg_store_set(obj, GW_F(obj, idx), &r);
}

void gw_put_int(void *obj, uint32_t idx, int64_t v) { xg_store_set(obj, GW_F(obj, idx), &v); }
void gw_put_float(void *obj, uint32_t idx, double v) { xg_store_set(obj, GW_F(obj, idx), &v); }
void gw_put_bool(void *obj, uint32_t idx, bool v) { xg_store_set(obj, GW_F(obj, idx), &v); }
void gw_put_enum(void *obj, uint32_t idx, int v) { xg_store_set(obj, GW_F(obj, idx), &v); }
void gw_put_datetime(void *obj, uint32_t idx, int64_t s) { xg_store_set(obj, GW_F(obj, idx), &s); }

void gw_put_strmap(void *obj, uint32_t idx, const char *const *keys,
                   const char *const *vals, uint32_t n)
{
    xg_map m = { .keys = (void *)keys, .vals = (void *)vals, .n = n, .cap = n };
    xg_store_set(obj, GW_F(obj, idx), &m);
}

const char *gw_put_strmap_lookup(const xg_map *m, const char *key)
{
    char **k = m->keys, **v = m->vals;
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(k[i], key) == 0)
            return v[i];
    return NULL;
}

void gw_new_uuid(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* getrandom on Linux ≥ 3.17 does not fail for 16 bytes once the
         * pool is initialised; fall back to time-based bytes rather than 0s */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(b, &ts, sizeof(ts) < 16 ? sizeof(ts) : 16);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
}

int64_t gw_now(void)
{
    return (int64_t)time(NULL);
}
