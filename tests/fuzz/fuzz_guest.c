/* fuzz_guest.c: libFuzzer target for what a guest writes to xenstore as
 * VM_guest_metrics reads it (handlers/vm_guest.c: the sanitiser, the bounds
 * on keys and maps, the directory names used in keys). The input is the
 * guest's tree, one "path=value" per line; a fake driver serves it with the
 * real drivers' contract (driver.h guest_read/guest_list, guest_path.h).
 * Property: every key and value that reaches the record is valid UTF-8
 * without control bytes, within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "driver/guest_path.h"
#include "gw.h"
#include "limits.h"
#include "store.h"
#include "utf8.h"
#include "vm_internal.h"
#include "world.h"

#define MAX_ENTRIES 512

static struct { const char *path, *val; } tree[MAX_ENTRIES];
static uint32_t ntree;

static bool fake_read(struct xg_drv *d, uint32_t domid, const char *path, char *buf,
                      size_t len, xg_err *err)
{
    if (!xg_guest_path_ok(path, false, err))
        return false;
    buf[0] = '\0';
    for (uint32_t i = 0; i < ntree; i++)
        if (strcmp(tree[i].path, path) == 0) {
            size_t n = strnlen(tree[i].val, len - 1);
            memcpy(buf, tree[i].val, n);
            buf[n] = '\0';
            break;
        }
    return true;
}

static bool fake_list(struct xg_drv *d, uint32_t domid, const char *path, xg_arena *a,
                      char ***names_out, uint32_t *n_out, uint32_t max, xg_err *err)
{
    if (!xg_guest_path_ok(path, true, err))
        return false;
    size_t plen = strlen(path);
    char **names = xg_arena_alloc(a, (size_t)(max ? max : 1) * sizeof *names);
    if (!names)
        return xg_err_internal(err, "arena exhausted");
    uint32_t n = 0;
    for (uint32_t i = 0; i < ntree && n < max; i++) {
        const char *p = tree[i].path;
        if (plen && (strncmp(p, path, plen) != 0 || p[plen] != '/'))
            continue;
        const char *c = plen ? p + plen + 1 : p;
        size_t clen = strcspn(c, "/");
        bool dup = false;
        for (uint32_t k = 0; k < n && !dup; k++)
            dup = strlen(names[k]) == clen && memcmp(names[k], c, clen) == 0;
        if (dup || clen == 0)
            continue;
        names[n] = xg_arena_alloc(a, clen + 1);
        if (!names[n])
            return xg_err_internal(err, "arena exhausted");
        memcpy(names[n], c, clen);
        names[n][clen] = '\0';
        n++;
    }
    *names_out = names;
    *n_out = n;
    return true;
}

static struct xg_driver fake = {.name = "fuzz", .guest_read = fake_read,
                                .guest_list = fake_list};

static void check_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        __builtin_trap();
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            __builtin_trap();
        size_t k = p[i] < 0x80 ? 1 : xg_utf8_seq(p + i, n - i);
        if (!k)
            __builtin_trap();
        i += k;
    }
}

static void check_map(const xg_map *m)
{
    if (m->n > XG_GUEST_KEYS_MAX)
        __builtin_trap();
    for (uint32_t i = 0; i < m->n; i++) {
        check_text(((char **)m->keys)[i], 3 * XG_GUEST_KEY_BYTES);
        check_text(((char **)m->vals)[i], 3 * XG_GUEST_KEY_BYTES);
    }
}

static xapi_vm *setup(void)
{
    xg_store_init();
    gw_drv = &fake;
    xapi_vm *vm = xg_obj_new(&xapi_class_vm);
    int ps = XAPI_VM_POWER_STATE_RUNNING;
    int64_t domid = 5;
    gw_init_field(vm, XAPI_VM_F_POWER_STATE, &ps);
    gw_init_field(vm, XAPI_VM_F_DOMID, &domid);
    xg_err err = XG_ERR_INIT;
    xg_world_lock();
    if (!xg_store_add(vm, NULL, &err))
        abort();
    xg_world_unlock();
    return vm;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xapi_vm *vm;
    if (!vm)
        vm = setup();
    if (size > 256 * 1024)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    ntree = 0;
    for (char *line = text, *next; line && ntree < MAX_ENTRIES; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        tree[ntree].path = line;
        tree[ntree].val = eq + 1;
        ntree++;
    }
    xg_world_lock();
    gw_vm_refresh_guest_metrics(vm);
    xapi_vm_guest_metrics *gm =
        xg_store_get(&xapi_class_vm_guest_metrics, vm->guest_metrics.s);
    if (gm) {
        check_map(&gm->os_version);
        check_map(&gm->pv_drivers_version);
        check_map(&gm->memory);
        check_map(&gm->networks);
        check_map(&gm->other);
    }
    xg_world_unlock();
    free(text);
    return 0;
}
