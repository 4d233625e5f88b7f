/* fuzz_where.c: libFuzzer target for the get_all_records_where expression
 * language (server/where.c), compiled against the real VM class and
 * evaluated on a VM record. Property: whenever E compiles, "not (E)"
 * compiles too and matches exactly when E does not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_util.h"
#include "limits.h"
#include "where.h"
#include "xapi_types.h"

static void *make_vm(void)
{
    xapi_vm *vm = xg_obj_new(&xapi_class_vm);
    gw_init_str(vm, XAPI_VM_F_NAME_LABEL, "web 1");
    gw_init_str(vm, XAPI_VM_F_UUID, "0b6d1cd5-93e2-4b36-9a2f-d4b3c8c7a1e0");
    int ps = XAPI_VM_POWER_STATE_RUNNING;
    gw_init_field(vm, XAPI_VM_F_POWER_STATE, &ps);
    int64_t mem = 1073741824, domid = 7;
    gw_init_field(vm, XAPI_VM_F_MEMORY_STATIC_MAX, &mem);
    gw_init_field(vm, XAPI_VM_F_DOMID, &domid);
    bool tmpl = false;
    gw_init_field(vm, XAPI_VM_F_IS_A_TEMPLATE, &tmpl);
    const char *k[] = {"mac_seed", "xo:tags"}, *v[] = {"4e1c", "a=b c"};
    xg_map m = {.keys = (void *)k, .vals = (void *)v, .n = 2, .cap = 2};
    gw_init_field(vm, XAPI_VM_F_OTHER_CONFIG, &m);
    return vm;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xg_arena *a;
    static void *vm;
    if (!a) {
        a = xg_arena_new(XG_CALL_ARENA_BYTES);
        vm = make_vm();
    }
    if (size > 4096)
        return 0;
    xg_arena_reset(a);
    char *text = malloc(size + 16);
    memcpy(text, data, size);
    text[size] = '\0';
    xg_err err = XG_ERR_INIT;
    xg_where *w = xg_where_compile(a, &xapi_class_vm, text, &err);
    xg_err_clear(&err);
    if (w && strlen(text) == size) {
        bool m = xg_where_match(w, vm);
        char *neg = malloc(size + 16);
        memcpy(neg, "not (", 5);
        memcpy(neg + 5, text, size);
        memcpy(neg + 5 + size, ")", 2);
        xg_where *nw = xg_where_compile(a, &xapi_class_vm, neg, &err);
        xg_err_clear(&err);
        /* the nesting bound may refuse the one level we added */
        if (nw && xg_where_match(nw, vm) == m)
            __builtin_trap();
        free(neg);
    }
    free(text);
    return 0;
}
