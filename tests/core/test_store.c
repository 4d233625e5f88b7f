/* test_store.c: the object store at scale (10,000 objects): lookups,
 * cursors across deletes and compaction, change coalescing, EVENTS_LOST,
 * relation maintenance, waiters and persistence flushing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "store.h"
#include "world.h"
#include "xapi_types.h"

#define N 10000

static int setup(void **state)
{
    xg_store_set_history_limit(0);       /* back to 1: reset below */
    xg_store_set_history_limit(65536);
    xg_store_init();
    return 0;
}

static int teardown(void **state)
{
    xg_store_shutdown();
    return 0;
}

static xapi_vm *add_vm(const char *label)
{
    xg_err err = XG_ERR_INIT;
    xapi_vm *vm = xapi_vm_new();
    xapi_vm_set_name_label(vm, label);
    assert_true(xg_store_add(vm, NULL, &err));
    return vm;
}

static void test_defaults_and_ids(void **state)
{
    xapi_vm *vm = add_vm("a");
    assert_string_equal(vm->name_label, "a");
    assert_int_equal(vm->power_state, XAPI_VM_POWER_STATE_HALTED);
    assert_true(vm->ratio == 1.5);
    assert_int_equal(vm->other_config.n, 1);
    assert_string_equal(((char **)vm->other_config.keys)[0], "k");
    assert_string_equal(vm->resident_on.s, "OpaqueRef:NULL");
    assert_int_equal(vm->domid, -1);
    assert_int_equal(vm->start_time, 0);
    assert_int_equal(vm->tags.n, 0);
    /* the descriptors carry the defaults as typed C storage, generated:
     * nothing parses default text when a record is made */
    const xg_field_desc *ps = &xapi_class_vm.fields[XAPI_VM_F_POWER_STATE];
    assert_int_equal(*(const int *)ps->default_storage, XAPI_VM_POWER_STATE_HALTED);
    const xg_map *oc = xapi_class_vm.fields[XAPI_VM_F_OTHER_CONFIG].default_storage;
    assert_int_equal(oc->n, 1);
    assert_string_equal(((const char *const *)oc->vals)[0], "v");
    assert_true(*(const double *)xapi_class_vm.fields[XAPI_VM_F_RATIO].default_storage == 1.5);
    assert_int_equal(strlen(vm->uuid), 36);
    assert_int_equal(strncmp(vm->obj.ref.s, "OpaqueRef:", 10), 0);
    assert_ptr_equal(xapi_vm_get(vm->obj.ref.s), vm);
    assert_ptr_equal(xg_store_get_by_uuid(&xapi_class_vm, vm->uuid), vm);
    assert_null(xg_store_get(&xapi_class_host, vm->obj.ref.s));
    xg_err err = XG_ERR_INIT;
    xapi_vm *dup = xapi_vm_new();
    assert_false(xg_store_add(dup, vm->obj.ref.s, &err));
    assert_string_equal(err.code, "INTERNAL_ERROR");
    xg_obj_free(dup);
}

static int count_cb;
static void count_one(void *obj, void *arg)
{
    count_cb++;
}

static void test_scale_lookups_and_cursor(void **state)
{
    static xapi_vm *vms[N];
    char label[32];
    for (int i = 0; i < N; i++) {
        snprintf(label, sizeof(label), "vm-%d", i % 100);
        vms[i] = add_vm(label);
    }
    assert_int_equal(xg_store_count(&xapi_class_vm), N);
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(xapi_vm_get(vms[i]->obj.ref.s), vms[i]);
        assert_ptr_equal(xg_store_get_by_uuid(&xapi_class_vm, vms[i]->uuid), vms[i]);
    }
    count_cb = 0;
    xg_store_each_by_name(&xapi_class_vm, "vm-7", count_one, NULL);
    assert_int_equal(count_cb, N / 100);

    /* a cursor half-way, then delete most objects (forcing compaction) */
    uint64_t cur = 0;
    for (int i = 0; i < N / 2; i++)
        assert_ptr_equal(xg_store_next(&xapi_class_vm, &cur), vms[i]);
    for (int i = 0; i < N; i++)
        if (i % 10 != 0)
            xg_store_remove(vms[i]);
    xapi_vm *late = add_vm("late");
    int seen = 0;
    xapi_vm *o;
    int expect = N / 2;
    while ((o = xg_store_next(&xapi_class_vm, &cur))) {
        if (o == late)
            break;
        assert_ptr_equal(o, vms[expect]);
        expect += 10;
        seen++;
    }
    assert_ptr_equal(o, late);
    assert_int_equal(seen, N / 2 / 10);
    count_cb = 0;
    xg_store_each_by_name(&xapi_class_vm, "vm-7", count_one, NULL);
    assert_int_equal(count_cb, 0);
    count_cb = 0;
    xg_store_each_by_name(&xapi_class_vm, "vm-10", count_one, NULL);
    assert_int_equal(count_cb, N / 100);
}

struct seen { int add, mod, del; char last_op[8]; };
static bool on_change(const xg_change *ch, void *arg)
{
    struct seen *s = arg;
    if (ch->op == XG_CHG_ADD)
        s->add++;
    else if (ch->op == XG_CHG_MOD)
        s->mod++;
    else
        s->del++;
    return true;
}

static void test_change_coalescing(void **state)
{
    uint8_t mask[16] = {0};
    mask[xapi_class_vm.index] = 1;
    xapi_vm *a = add_vm("a"), *b = add_vm("b"), *c = add_vm("c");
    uint64_t t0 = xg_store_generation();
    xapi_vm *d = add_vm("d");             /* add, then modified: add */
    xapi_vm_set_name_label(d, "d2");
    xapi_vm_set_name_label(a, "a2");      /* modified twice: one mod */
    xapi_vm_set_name_label(a, "a3");
    xapi_vm_set_name_label(b, "b");       /* unchanged value: no event */
    xg_store_remove(c);                   /* del */
    xapi_vm *e = add_vm("e");             /* born and gone: nothing */
    xg_store_remove(e);
    struct seen s = {0};
    xg_err err = XG_ERR_INIT;
    assert_true(xg_store_changes(t0, mask, on_change, &s, &err));
    assert_int_equal(s.add, 1);
    assert_int_equal(s.mod, 1);
    assert_int_equal(s.del, 1);
    /* nothing since now */
    memset(&s, 0, sizeof(s));
    assert_true(xg_store_changes(xg_store_generation(), mask, on_change, &s, &err));
    assert_int_equal(s.add + s.mod + s.del, 0);
    /* masked class sees nothing */
    uint8_t none[16] = {0};
    assert_true(xg_store_changes(t0, none, on_change, &s, &err));
    assert_int_equal(s.add + s.mod + s.del, 0);
}

static void test_events_lost(void **state)
{
    xg_store_shutdown();
    xg_store_set_history_limit(8);
    xg_store_init();
    uint8_t mask[16] = {0};
    mask[xapi_class_vm.index] = 1;
    uint64_t t0 = xg_store_generation();
    for (int i = 0; i < 20; i++)
        xg_store_remove(add_vm("x"));
    struct seen s = {0};
    xg_err err = XG_ERR_INIT;
    assert_false(xg_store_changes(t0, mask, on_change, &s, &err));
    assert_string_equal(err.code, "EVENTS_LOST");
    assert_int_equal(err.nparams, 0);
    xg_err_clear(&err);
    assert_true(xg_store_changes(xg_store_history_start(), mask, on_change, &s, &err));
}

static void test_relations(void **state)
{
    xg_err err = XG_ERR_INIT;
    xapi_host *h1 = xapi_host_new(), *h2 = xapi_host_new();
    assert_true(xg_store_add(h1, NULL, &err));
    assert_true(xg_store_add(h2, NULL, &err));
    xapi_vm *v1 = add_vm("v1"), *v2 = add_vm("v2");
    uint8_t mask[16] = {0};
    mask[xapi_class_host.index] = 1;
    uint64_t t0 = xg_store_generation();
    xapi_vm_set_resident_on(v1, h1->obj.ref.s);
    xapi_vm_set_resident_on(v2, h1->obj.ref.s);
    assert_int_equal(h1->resident_vms.n, 2);
    struct seen s = {0};
    assert_true(xg_store_changes(t0, mask, on_change, &s, &err));
    assert_int_equal(s.mod, 1);            /* host h1 got mod events, coalesced */
    xapi_vm_set_resident_on(v1, h2->obj.ref.s);
    assert_int_equal(h1->resident_vms.n, 1);
    assert_string_equal(((xg_ref *)h1->resident_vms.items)[0].s, v2->obj.ref.s);
    assert_int_equal(h2->resident_vms.n, 1);
    xg_store_remove(v2);
    assert_int_equal(h1->resident_vms.n, 0);
    /* created already pointing at h2 */
    xapi_vm *v3 = xapi_vm_new();
    xapi_vm_set_resident_on(v3, h2->obj.ref.s);
    assert_true(xg_store_add(v3, NULL, &err));
    assert_int_equal(h2->resident_vms.n, 2);
}

static int wakes;
static void on_wake(xg_waiter *w)
{
    wakes++;
}

static void test_waiters(void **state)
{
    uint8_t mask[16] = {0};
    mask[xapi_class_host.index] = 1;
    xg_waiter w = {.class_mask = mask, .wake = on_wake};
    xg_world_lock();
    xg_store_park(&w);
    add_vm("not watched");
    xg_world_unlock();
    assert_int_equal(wakes, 0);
    assert_true(w.parked);
    xg_world_lock();
    xg_err err = XG_ERR_INIT;
    xapi_host *h = xapi_host_new();
    assert_true(xg_store_add(h, NULL, &err));
    xg_world_unlock();
    assert_int_equal(wakes, 1);
    assert_false(w.parked);
}

static int saves, forgets, commits;
static void p_save(void *obj) { saves++; }
static void p_forget(const xg_class_desc *cls, const char *ref) { forgets++; }
static bool p_commit(xg_err *err) { commits++; return true; }

static void test_persist_flush(void **state)
{
    static const struct xg_persist_ops ops = {p_save, p_forget, p_commit};
    xg_err err = XG_ERR_INIT;
    xg_store_set_persist(&ops);
    assert_true(xg_store_flush(&err));
    saves = forgets = commits = 0;
    xapi_vm *a = add_vm("a");
    xapi_vm_set_name_label(a, "b");       /* same object: one save */
    xapi_host *h = xapi_host_new();       /* host is not persistent */
    assert_true(xg_store_add(h, NULL, &err));
    assert_true(xg_store_flush(&err));
    assert_int_equal(saves, 1);
    assert_int_equal(commits, 1);
    xg_store_remove(a);
    assert_true(xg_store_flush(&err));
    assert_int_equal(forgets, 1);
    assert_true(xg_store_flush(&err));    /* nothing dirty: no commit */
    assert_int_equal(commits, 2);
    xg_store_set_persist(NULL);
}

static void test_map_set_ops(void **state)
{
    xg_err err = XG_ERR_INIT;
    xapi_vm *a = add_vm("a");
    const xg_field_desc *oc = &xapi_class_vm.fields[XAPI_VM_F_OTHER_CONFIG];
    const xg_field_desc *tags = &xapi_class_vm.fields[XAPI_VM_F_TAGS];
    char *k = "k", *k2 = "k2", *v = "v";
    assert_false(xg_store_map_add(a, oc, &k, &v, &err));
    assert_string_equal(err.code, "MAP_DUPLICATE_KEY");
    assert_string_equal(err.param[0], "VM");
    assert_string_equal(err.param[1], "other_config");
    assert_string_equal(err.param[2], a->obj.ref.s);
    assert_string_equal(err.param[3], "k");
    xg_err_clear(&err);
    assert_true(xg_store_map_add(a, oc, &k2, &v, &err));
    xg_store_map_remove(a, oc, &k);
    xg_store_map_remove(a, oc, &k);       /* absent: no-op */
    assert_int_equal(a->other_config.n, 1);
    xg_store_set_add(a, tags, &v);
    xg_store_set_add(a, tags, &v);
    assert_int_equal(a->tags.n, 1);
    xg_store_set_remove(a, tags, &v);
    xg_store_set_remove(a, tags, &v);
    assert_int_equal(a->tags.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_and_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_lookups_and_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_coalescing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persist_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_set_ops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
